"""RevMan 5's pooling of 2x2 tables, quirks included (the ``revman5`` profile).

Sources: Deeks JJ, Higgins JPT. Statistical algorithms in Review Manager 5 (2010), the RevMan 5
statistical methods document; Greenland & Robins (1985, Biometrics 41:55-68) for the
Mantel-Haenszel risk ratio and risk difference; Robins, Breslow & Greenland (1986) for the
odds ratio; Yusuf et al. (1985) for Peto; DerSimonian & Laird (1986). Each rule was checked
against the totals stored in real RevMan 5 files (tests/test_revman5_profile.py):

* **Estimable rows.** A table with no events (or only events) in both arms is not estimable
  for OR, RR and Peto; for RD it is (RD = 0).
* **Zero cells.** 0.5 is added to every cell of a table with a zero cell, for the table's own
  effect and, unlike metafor's ``rma.mh``, also inside the Mantel-Haenszel OR and RR. The MH
  risk difference takes its estimate and weights from the raw counts and only the variance
  terms from the corrected table. Peto uses the raw counts.
* **One estimable table**: the pooled result is that table's own effect and variance.
* **Heterogeneity.** Chi² = Σ(yᵢ - ŷ)²/vᵢ about the pooled estimate of the method (the MH
  estimate for M-H, Peto's for Peto), df = estimable tables - 1, I² = max(0, (Q - df)/Q).
* **Random effects** (any method): DerSimonian-Laird tau² from that Chi², then inverse-variance
  pooling with weights 1/(vᵢ + tau²); so "M-H, random" is DL with the MH-based Q.
* **SMD** (continuous data): Hedges' g with RevMan's approximate correction and variance
  (``standardized_mean_difference``); MD and generic inverse-variance data pool as metafor's
  ``rma(method="FE"/"DL")``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING

import numpy as np

from metamg.effects.measures import MEASURES
from metamg.models.distributions import norm_ppf, norm_sf
from metamg.models.heterogeneity import q_summary
from metamg.models.mantel_haenszel import (
    Undefined,
    _peto_terms,
    _Tables,
    mh_log_odds_ratio,
    mh_log_risk_ratio,
)
from metamg.models.results import PoolResult
from metamg.notes import note

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

REVMAN5_METHODS = ("MH", "IV", "PETO")  # RevMan's "statistical method" of a dichotomous outcome


def standardized_mean_difference(
    m1i: NDArray[np.float64],
    sd1i: NDArray[np.float64],
    n1i: NDArray[np.float64],
    m2i: NDArray[np.float64],
    sd2i: NDArray[np.float64],
    n2i: NDArray[np.float64],
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """RevMan 5's Hedges' g: the approximate correction J = 1 - 3/(4N - 9) on (m1 - m2)/s_pooled
    and the variance N/(n1·n2) + g²/(2(N - 3.94)) (Deeks & Higgins 2010; metafor's default uses
    the exact J and 1/n1 + 1/n2 + g²/(2N))."""
    n = n1i + n2i
    sdp = np.sqrt(((n1i - 1) * sd1i**2 + (n2i - 1) * sd2i**2) / (n - 2))
    g = (1 - 3 / (4 * n - 9)) * (m1i - m2i) / sdp
    return g, n / (n1i * n2i) + g**2 / (2 * (n - 3.94))


def estimable(t: _Tables, measure: str, method: str) -> NDArray[np.bool_]:
    """RevMan 5's estimable tables: double-zero tables (no events, or only events, in both arms)
    are not estimable for OR, RR and Peto, and are for RD (RevMan 5 statistical methods)."""
    double_zero = ((t.a == 0) & (t.c == 0)) | ((t.b == 0) & (t.d == 0))
    if measure == "RD" and method != "PETO":
        return np.ones(len(t.a), dtype=bool)
    keep: NDArray[np.bool_] = ~double_zero
    return keep


def estimable_tables(
    ai: ArrayLike, n1i: ArrayLike, ci: ArrayLike, n2i: ArrayLike, measure: str, method: str
) -> NDArray[np.bool_]:
    """``estimable`` for the four columns of 2x2 tables."""
    return estimable(_Tables(ai, n1i, ci, n2i), measure, method)


def corrected(t: _Tables) -> _Tables:
    """0.5 added to every cell of each table with a zero cell (RevMan 5 statistical methods:
    "where zero cells cause problems ... 0.5 is added to all cells")."""
    zero = (t.a == 0) | (t.b == 0) | (t.c == 0) | (t.d == 0)
    add = np.where(zero, 0.5, 0.0)
    return _Tables(t.a + add, t.n1 + 2 * add, t.c + add, t.n2 + 2 * add)


def mh_risk_difference(raw: _Tables, cc: _Tables) -> tuple[float, float]:
    """RD_MH = Σ(a·n2 - c·n1)/N / Σn1·n2/N on the raw counts, with the Greenland & Robins (1985)
    variance Σ(a·b·n2³ + c·d·n1³)/(n1·n2·N²) / (Σn1·n2/N)², whose terms RevMan 5 takes from the
    corrected tables and whose denominator from the raw ones (so double-zero tables add
    variance)."""
    w = raw.n1 * raw.n2 / raw.n
    est = float(((raw.a * raw.n2 - raw.c * raw.n1) / raw.n).sum() / w.sum())
    terms = (cc.a * cc.b * cc.n2**3 + cc.c * cc.d * cc.n1**3) / (cc.n1 * cc.n2 * cc.n**2)
    return est, float(terms.sum() / w.sum() ** 2)


def study_effects(
    raw: _Tables, cc: _Tables, measure: str, method: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Each table's effect and variance as RevMan 5 shows them: Peto's (O-E)/V and 1/V from the
    raw counts, otherwise escalc's formulas (Woolf, Katz, binomial) on the corrected tables,
    except the risk difference itself, which comes from the raw counts (only its variance from
    the corrected table: a double-zero table has RD 0)."""
    if method == "PETO":
        o_e, v = _peto_terms(raw)
        return o_e / v, 1 / v
    yi, vi = MEASURES[measure].compute(cc.a, cc.n1, cc.c, cc.n2)
    if measure == "RD":
        yi = raw.a / raw.n1 - raw.c / raw.n2
    return np.asarray(yi, float), np.asarray(vi, float)


def common_effect(
    raw: _Tables, cc: _Tables, yi: NDArray[np.float64], vi: NDArray[np.float64], measure: str, method: str
) -> tuple[float, float]:
    """The fixed-effect estimate and its variance: Mantel-Haenszel on the corrected tables (OR,
    RR; RD as mh_risk_difference), Peto's Σ(O-E)/ΣV, or inverse variance; with one table, that
    table's own effect and variance, as RevMan 5 reports it."""
    if len(yi) == 1 and method != "PETO":
        return float(yi[0]), float(vi[0])
    if method == "MH":
        if measure == "OR":
            return mh_log_odds_ratio(cc)
        if measure == "RR":
            return mh_log_risk_ratio(cc)
        return mh_risk_difference(raw, cc)
    w = 1 / vi
    return float((w * yi).sum() / w.sum()), float(1 / w.sum())


def heterogeneity(yi: NDArray[np.float64], vi: NDArray[np.float64], estimate: float) -> tuple[float, int]:
    """RevMan 5's Chi²: Σ(yᵢ - estimate)²/vᵢ about the method's own pooled estimate (for M-H the
    M-H estimate, with inverse-variance weights; Deeks & Higgins 2010), on k - 1 df."""
    return float(((yi - estimate) ** 2 / vi).sum()), len(yi) - 1


def dl_tau2_from_q(q: float, df: int, vi: NDArray[np.float64]) -> float:
    """DerSimonian & Laird (1986): tau² = max(0, (Q - df)/(Σw - Σw²/Σw)), w = 1/v, from whatever
    Q the method gives (RevMan 5: the M-H-based Q for M-H random effects)."""
    if df < 1:
        return 0.0
    w = 1 / vi
    return max(0.0, float((q - df) / (w.sum() - (w * w).sum() / w.sum())))


def pool_tables(
    ai: ArrayLike,
    n1i: ArrayLike,
    ci: ArrayLike,
    n2i: ArrayLike,
    measure: str = "RR",
    method: str = "MH",
    random: bool = False,
    level: float = 0.95,
    studies: Iterable[str] = (),
) -> PoolResult:
    """Pool 2x2 tables as RevMan 5 does (``method`` MH, IV or PETO; ``random`` for its
    DerSimonian-Laird random effects). Non-estimable tables are left out (``studies`` lists the
    tables used); raises Undefined when none is estimable."""
    method = method.upper()
    if method not in REVMAN5_METHODS:
        raise ValueError(f"RevMan 5 pools 2x2 tables by {', '.join(REVMAN5_METHODS)}, not {method!r}")
    if method == "PETO" and measure != "OR":
        raise ValueError("Peto's method gives an odds ratio")
    if measure not in ("OR", "RR", "RD"):
        raise ValueError(f"RevMan 5 pools 2x2 tables as OR, RR or RD, not {measure!r}")
    t = _Tables(ai, n1i, ci, n2i)
    names = tuple(studies) or tuple(f"table {i + 1}" for i in range(len(t.a)))
    keep = estimable(t, measure, method) & (t.n1 > 0) & (t.n2 > 0)
    if not keep.any():
        raise Undefined(
            "no table is estimable (RevMan 5: every table has no events, or only events, in both arms)"
        )
    raw = _Tables(t.a[keep], t.n1[keep], t.c[keep], t.n2[keep])
    cc = corrected(raw)
    yi, vi = study_effects(raw, cc, measure, method)
    est, var = common_effect(raw, cc, yi, vi, measure, method)
    q, df = heterogeneity(yi, vi, est)
    q_p, i2, h2 = q_summary(q, df)
    tau2 = dl_tau2_from_q(q, df, vi) if random else 0.0
    if random:
        w = 1 / (vi + tau2)
        est, var = float((w * yi).sum() / w.sum()), float(1 / w.sum())
        weights = 100 * w / w.sum()
    else:
        weights = _fixed_weights(raw, cc, vi, measure, method)
    se = math.sqrt(var)
    crit = norm_ppf(1 - (1 - level) / 2)
    stat = est / se if se > 0 else float("nan")
    p = 2 * norm_sf(abs(stat)) if se > 0 else float("nan")
    model = (
        "inverse-variance" if random or method == "IV" else {"MH": "mantel-haenszel", "PETO": "peto"}[method]
    )
    fit_method = "DL" if random else {"MH": "MH", "IV": "FE", "PETO": "PETO"}[method]
    rules = (
        note("model.revman5", method=method, random=random, measure=measure),
        note("ci", ci_method="wald"),
        note("i2.from_q"),
    )
    extra: dict[str, float] = {}
    if random:
        half = crit * math.sqrt(var + tau2)
        extra = {"tau2": tau2, "tau": math.sqrt(tau2), "pi_low": est - half, "pi_high": est + half}
    elif model == "inverse-variance":
        extra = {"tau2": 0.0, "tau": 0.0, "pi_low": est - crit * se, "pi_high": est + crit * se}
    return PoolResult(
        model=model,
        method=fit_method,
        ci_method="wald",
        level=level,
        k=len(yi),
        estimate=est,
        se=se,
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        statistic=stat,
        p=p,
        df=None,
        q=q,
        q_df=df,
        q_p=q_p,
        i2=i2,
        h2=h2,
        i2_q=i2,
        studies=tuple(s for s, k in zip(names, keep, strict=True) if k),
        yi=yi,
        vi=vi,
        weights=weights,
        rules=rules,
        tau2=extra.get("tau2"),
        tau=extra.get("tau"),
        pi_low=extra.get("pi_low"),
        pi_high=extra.get("pi_high"),
    )


def _fixed_weights(
    raw: _Tables, cc: _Tables, vi: NDArray[np.float64], measure: str, method: str
) -> NDArray[np.float64]:
    """Row weights (percent) of a fixed-effect analysis: the Mantel-Haenszel weights b·c/N (OR)
    and c·n1/N (RR) of the corrected tables and n1·n2/N (RD) of the raw ones, Peto's V, or 1/v."""
    if method == "MH" and len(vi) > 1:
        w = {"OR": cc.b * cc.c / cc.n, "RR": cc.c * cc.n1 / cc.n, "RD": raw.n1 * raw.n2 / raw.n}[measure]
    elif method == "PETO":
        w = _peto_terms(raw)[1]
    else:
        w = 1 / vi
    share: NDArray[np.float64] = 100 * w / w.sum()
    return share
