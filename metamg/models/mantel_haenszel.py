"""Mantel-Haenszel and Peto pooling of 2x2 tables, as metafor's rma.mh and rma.peto.

The pooled estimate uses the raw counts of every table (no continuity correction); Q, I² and
H² use escalc's per-study effects with double-zero tables dropped (drop00=TRUE).
"""
from __future__ import annotations

import math

import numpy as np

from metamg.effects.escalc import Continuity, binary_zero_cells, continuity_added
from metamg.effects.measures import MEASURES
from metamg.models.distributions import chi2_sf, norm_ppf, norm_sf
from metamg.models.heterogeneity import q_around
from metamg.models.results import PoolResult


class _Tables:
    def __init__(self, ai, n1i, ci, n2i):
        self.a, self.n1 = np.asarray(ai, float), np.asarray(n1i, float)
        self.c, self.n2 = np.asarray(ci, float), np.asarray(n2i, float)
        self.b, self.d = self.n1 - self.a, self.n2 - self.c
        self.n = self.n1 + self.n2


def mh_log_odds_ratio(t: _Tables) -> tuple[float, float]:
    """log OR_MH = log(Σad/N / Σbc/N) with the Robins-Breslow-Greenland (1986) variance."""
    r, s = t.a * t.d / t.n, t.b * t.c / t.n
    p, q = (t.a + t.d) / t.n, (t.b + t.c) / t.n
    sr, ss = r.sum(), s.sum()
    var = ((p * r).sum() / (2 * sr ** 2) + (p * s + q * r).sum() / (2 * sr * ss)
           + (q * s).sum() / (2 * ss ** 2))
    return math.log(sr / ss), var


def mh_log_risk_ratio(t: _Tables) -> tuple[float, float]:
    """log RR_MH = log(Σa·n2/N / Σc·n1/N) with the Greenland & Robins (1985) variance."""
    r, s = t.a * t.n2 / t.n, t.c * t.n1 / t.n
    num = ((t.n1 * t.n2 * (t.a + t.c) - t.a * t.c * t.n) / t.n ** 2).sum()
    return math.log(r.sum() / s.sum()), num / (r.sum() * s.sum())


def mh_risk_difference(t: _Tables) -> tuple[float, float]:
    """RD_MH = Σ(a·n2 - c·n1)/N / Σn1·n2/N with the Sato, Greenland & Robins (1989) variance."""
    w = t.n1 * t.n2 / t.n
    rd = ((t.a * t.n2 - t.c * t.n1) / t.n).sum() / w.sum()
    p = (t.n1 ** 2 * t.c - t.n2 ** 2 * t.a + t.n1 * t.n2 * (t.n2 - t.n1) / 2) / t.n ** 2
    q = (t.a * (t.n2 - t.c) + t.c * (t.n1 - t.a)) / (2 * t.n)
    return rd, (rd * p.sum() + q.sum()) / w.sum() ** 2


def cmh_test(t: _Tables) -> tuple[float, float]:
    """Cochran-Mantel-Haenszel chi-square (1 df) with continuity correction (Mantel & Haenszel 1959)."""
    m1, m0 = t.a + t.c, t.b + t.d
    keep = t.n > 1
    e = (t.n1 * m1 / t.n)[keep]
    v = (t.n1 * t.n2 * m1 * m0 / (t.n ** 2 * (t.n - 1)))[keep]
    x = (abs(t.a[keep].sum() - e.sum()) - 0.5) ** 2 / v.sum()
    return x, chi2_sf(x, 1)


def tarone_test(t: _Tables, log_or: float) -> tuple[float, float]:
    """Breslow-Day test of homogeneous odds ratios with Tarone's (1985) correction, k-1 df."""
    psi = math.exp(log_or)
    m1 = t.a + t.c
    informative = (m1 > 0) & (m1 < t.n)
    n1, n2, m1, a = t.n1[informative], t.n2[informative], m1[informative], t.a[informative]
    # expected a under psi: root of (psi-1)A² - (psi(n1+m1) + n2 - m1)A + psi·n1·m1 = 0 in range
    lo, hi = np.maximum(0, m1 - n2), np.minimum(n1, m1)
    if psi == 1:
        ea = n1 * m1 / (n1 + n2)
    else:
        qa = psi - 1
        qb = -(psi * (n1 + m1) + n2 - m1)
        qc = psi * n1 * m1
        disc = np.sqrt(qb * qb - 4 * qa * qc)
        r1, r2 = (-qb - disc) / (2 * qa), (-qb + disc) / (2 * qa)
        ea = np.where((r1 >= lo - 1e-9) & (r1 <= hi + 1e-9), r1, r2)
    var = 1 / (1 / ea + 1 / (n1 - ea) + 1 / (m1 - ea) + 1 / (n2 - m1 + ea))
    x = float(((a - ea) ** 2 / var).sum() - (a.sum() - ea.sum()) ** 2 / var.sum())
    df = int(informative.sum()) - 1
    return x, (chi2_sf(x, df) if df > 0 else float("nan"))


def peto_log_odds_ratio(t: _Tables) -> tuple[float, float]:
    """Peto's one-step log OR: Σ(O-E)/ΣV with variance 1/ΣV (Yusuf et al. 1985)."""
    o_e, v = _peto_terms(t)
    return o_e.sum() / v.sum(), 1 / v.sum()


def _peto_terms(t: _Tables):
    m1, m0 = t.a + t.c, t.b + t.d
    with np.errstate(divide="ignore", invalid="ignore"):
        v = np.where(t.n > 1, t.n1 * t.n2 * m1 * m0 / (t.n ** 2 * (t.n - 1)), 0.0)
    return t.a - t.n1 * m1 / t.n, v


MH_MEASURES = {"OR": mh_log_odds_ratio, "RR": mh_log_risk_ratio, "RD": mh_risk_difference}


def study_weights(t: _Tables, method: str) -> np.ndarray:
    """Each table's share (percent) of the pooled numerator's weight: b·c/N (OR), c·n1/N (RR),
    n1·n2/N (RD) for Mantel-Haenszel, the hypergeometric variance V for Peto."""
    w = {"OR": t.b * t.c / t.n, "RR": t.c * t.n1 / t.n, "RD": t.n1 * t.n2 / t.n,
         "PETO": _peto_terms(t)[1]}[method]
    return 100 * w / w.sum()


def _heterogeneity_effects(t: _Tables, measure: str):
    """escalc effects for Q with double zeros dropped (rma.mh/rma.peto's drop00=TRUE): NaN there."""
    zero, double_zero = binary_zero_cells(t.a, t.n1, t.c, t.n2)
    keep = ~double_zero
    a, n1, c, n2 = t.a[keep], t.n1[keep], t.c[keep], t.n2[keep]
    yi, vi = np.full(len(t.a), np.nan), np.full(len(t.a), np.nan)
    if measure == "PETO":
        o_e, v = _peto_terms(_Tables(a, n1, c, n2))
        yi[keep], vi[keep] = o_e / v, 1 / v
        return yi, vi
    add = continuity_added(zero[keep], Continuity())  # escalc's defaults, as rma.mh/rma.peto
    yi[keep], vi[keep] = MEASURES[measure].compute(a + add, n1 + 2 * add, c + add, n2 + 2 * add)
    return yi, vi


def _result(method, measure, est, var, t, level, yi_q, vi_q, studies, extra, rules):
    weights = study_weights(t, measure if method == "MH" else "PETO")
    se = math.sqrt(var)
    crit = norm_ppf(1 - (1 - level) / 2)
    used = ~np.isnan(yi_q)  # double-zero tables have no effect for Q
    q, q_df, q_p, i2, h2 = q_around(yi_q[used], vi_q[used], est)
    stat = est / se
    return PoolResult(
        model="mantel-haenszel" if method == "MH" else "peto", method=method, ci_method="wald",
        level=level, k=len(t.a), estimate=est, se=se, ci_low=est - crit * se,
        ci_high=est + crit * se, statistic=stat, p=2 * norm_sf(abs(stat)), df=None,
        q=q, q_df=q_df, q_p=q_p, i2=i2, h2=h2, i2_q=i2, studies=tuple(studies),
        yi=np.asarray(yi_q), vi=np.asarray(vi_q), weights=weights,
        rules=tuple(rules), **extra)


def mantel_haenszel(ai, n1i, ci, n2i, measure: str = "OR", level: float = 0.95, studies=()):
    """Mantel-Haenszel common-effect pooling of 2x2 tables (measure OR, RR or RD)."""
    t = _Tables(ai, n1i, ci, n2i)
    est, var = MH_MEASURES[measure](t)
    extra = {}
    if measure == "OR":
        cmh, cmh_p = cmh_test(t)
        tarone, tarone_p = tarone_test(t, est)
        extra = dict(cmh=cmh, cmh_p=cmh_p, tarone=tarone, tarone_p=tarone_p)
    yi, vi = _heterogeneity_effects(t, measure)
    rules = ["common-effect Mantel-Haenszel model on the raw counts (no continuity correction)",
             "CI: Wald (z)",
             "Q and I² from the per-study effects, double-zero studies left out of Q"]
    return _result("MH", measure, est, var, t, level, yi, vi, studies, extra, rules)


def peto(ai, n1i, ci, n2i, level: float = 0.95, studies=()):
    """Peto's one-step odds ratio (common effect)."""
    t = _Tables(ai, n1i, ci, n2i)
    est, var = peto_log_odds_ratio(t)
    yi, vi = _heterogeneity_effects(t, "PETO")
    rules = ["common-effect Peto one-step odds ratio", "CI: Wald (z)",
             "Q and I² from the per-study Peto log odds ratios, double-zero studies left out"]
    return _result("PETO", "OR", est, var, t, level, yi, vi, studies, {}, rules)
