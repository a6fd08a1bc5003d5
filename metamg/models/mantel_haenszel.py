"""Mantel-Haenszel and Peto pooling of 2x2 tables, as metafor's rma.mh and rma.peto.

The pooled estimate uses the raw counts of every table (no continuity correction). The
per-study effects the models keep (for Q, I², H² and residuals) are escalc's with its defaults
(1/2 added to tables with a zero cell) but with double-zero tables dropped (drop00=TRUE).

Degenerate data (every table without events, or with events only, in a group or overall) leave
some estimators undefined, where metafor returns NA or stops: metamg then raises ``Undefined``
(a ValueError) saying why, which the caller that knows the file turns into an InputError;
where metafor returns a number (log RR = 0 when everyone had the event, RD = 0 when no one or
everyone did, each with standard error 0) metamg returns the same number.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from metamg.effects.escalc import Continuity, binary_zero_cells, continuity_added
from metamg.effects.measures import MEASURES
from metamg.models.distributions import chi2_sf, norm_ppf, norm_sf
from metamg.models.heterogeneity import q_around, q_summary
from metamg.models.results import PoolResult
from metamg.notes import Note, note

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

# Q, its df, p, I² and H²
Heterogeneity = tuple[float, int, float, float, float]


class OddsRatioTests(TypedDict, total=False):
    """The tests Mantel-Haenszel adds for the odds ratio (PoolResult's fields of those names)."""

    cmh: float
    cmh_p: float
    tarone: float
    tarone_p: float


class _Tables:
    def __init__(self, ai: ArrayLike, n1i: ArrayLike, ci: ArrayLike, n2i: ArrayLike) -> None:
        self.a, self.n1 = np.asarray(ai, float), np.asarray(n1i, float)
        self.c, self.n2 = np.asarray(ci, float), np.asarray(n2i, float)
        self.b, self.d = self.n1 - self.a, self.n2 - self.c
        self.n = self.n1 + self.n2


class Undefined(ValueError):
    """A pooled estimate that the counts leave undefined (metafor: NA or an error), or tables
    the method cannot take; the message says why, in the user's terms."""


# The whole-table patterns that leave an estimator degenerate (Note facts "pattern")
WHOLE_TABLE_PATTERNS = {
    "no_events": "no participant in any study had the event",
    "all_events": "every participant in every study had the event",
    "all_or_nothing": "in every study either no participant or every participant had the event",
}


def _pattern_id(t: _Tables) -> str | None:
    """Which whole-table pattern (WHOLE_TABLE_PATTERNS) the counts show, if any."""
    events, non_events = t.a + t.c, t.b + t.d
    if not events.any():
        return "no_events"
    if not non_events.any():
        return "all_events"
    if np.all((events == 0) | (non_events == 0)):
        return "all_or_nothing"
    return None


def _pattern(t: _Tables, otherwise: str = "") -> str:
    """Which all-or-nothing pattern of the counts makes an estimator degenerate, in the words
    of the Undefined error that reports it."""
    whole = _pattern_id(t)
    if whole is not None:
        return WHOLE_TABLE_PATTERNS[whole]
    parts = [
        f"{'no' if none else 'every'} participant in the {group} group of "
        f"{'any' if none else 'every'} study had the event"
        for group, none, every in (
            ("treatment", t.a.sum() == 0, t.b.sum() == 0),
            ("control", t.c.sum() == 0, t.d.sum() == 0),
        )
        if none or every
    ]
    return " and ".join(parts) or otherwise


def _log_ratio(num: float, den: float, what: str, t: _Tables) -> float:
    if num > 0 and den > 0:
        return math.log(num / den)
    value = "undefined (0/0)" if num == 0 and den == 0 else ("0" if num == 0 else "infinite")
    why = _pattern(t, "no study has an event in one group together with a non-event in the other")
    raise Undefined(
        f"the Mantel-Haenszel {what} is {value}: {why} (metafor gives NA); "
        "the risk difference, or an inverse-variance method with its continuity "
        "correction, still gives an estimate"
    )


def mh_log_odds_ratio(t: _Tables) -> tuple[float, float]:
    """log OR_MH = log(Σad/N / Σbc/N) with the Robins-Breslow-Greenland (1986) variance."""
    r, s = t.a * t.d / t.n, t.b * t.c / t.n
    p, q = (t.a + t.d) / t.n, (t.b + t.c) / t.n
    sr, ss = r.sum(), s.sum()
    est = _log_ratio(sr, ss, "odds ratio", t)
    var = (p * r).sum() / (2 * sr**2) + (p * s + q * r).sum() / (2 * sr * ss) + (q * s).sum() / (2 * ss**2)
    return est, var


def mh_log_risk_ratio(t: _Tables) -> tuple[float, float]:
    """log RR_MH = log(Σa·n2/N / Σc·n1/N) with the Greenland & Robins (1985) variance; when every
    participant had the event both sums are Σn1·n2/N, so log RR = 0 with variance 0 (as metafor)."""
    r, s = (t.a * t.n2 / t.n).sum(), (t.c * t.n1 / t.n).sum()
    est = _log_ratio(r, s, "risk ratio", t)
    num = ((t.n1 * t.n2 * (t.a + t.c) - t.a * t.c * t.n) / t.n**2).sum()
    return est, max(0.0, num / (r * s))  # all-events tables make num 0 up to rounding


def mh_risk_difference(t: _Tables) -> tuple[float, float]:
    """RD_MH = Σ(a·n2 - c·n1)/N / Σn1·n2/N with the Sato, Greenland & Robins (1989) variance;
    0 with variance 0 when every table has no events or only events (as metafor)."""
    w = t.n1 * t.n2 / t.n
    rd = ((t.a * t.n2 - t.c * t.n1) / t.n).sum() / w.sum()
    p = (t.n1**2 * t.c - t.n2**2 * t.a + t.n1 * t.n2 * (t.n2 - t.n1) / 2) / t.n**2
    q = (t.a * (t.n2 - t.c) + t.c * (t.n1 - t.a)) / (2 * t.n)
    return rd, max(0.0, (rd * p.sum() + q.sum()) / w.sum() ** 2)


def cmh_test(t: _Tables) -> tuple[float, float]:
    """Cochran-Mantel-Haenszel chi-square (1 df) with continuity correction (Mantel & Haenszel 1959)."""
    m1, m0 = t.a + t.c, t.b + t.d
    keep = t.n > 1
    e = (t.n1 * m1 / t.n)[keep]
    v = (t.n1 * t.n2 * m1 * m0 / (t.n**2 * (t.n - 1)))[keep]
    x = (abs(t.a[keep].sum() - e.sum()) - 0.5) ** 2 / v.sum()
    return x, chi2_sf(x, 1)


def tarone_test(t: _Tables, log_or: float) -> tuple[float, float]:
    """Breslow-Day test of homogeneous odds ratios with Tarone's (1985) correction, on the tables
    with events and non-events (k' of them), k'-1 df; with k' = 1 the statistic is 0 and has no
    p-value (metafor: NA)."""
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
    x = max(0.0, float(((a - ea) ** 2 / var).sum() - (a.sum() - ea.sum()) ** 2 / var.sum()))
    df = int(informative.sum()) - 1
    return x, (chi2_sf(x, df) if df > 0 else float("nan"))


def peto_log_odds_ratio(t: _Tables) -> tuple[float, float]:
    """Peto's one-step log OR: Σ(O-E)/ΣV with variance 1/ΣV (Yusuf et al. 1985). ΣV = 0 when
    one outcome never occurs, where metafor stops: "Peto's method cannot be used"."""
    o_e, v = _peto_terms(t)
    sv = v.sum()
    if sv == 0:
        raise Undefined(
            f"Peto's method cannot be used: {_pattern(t)}, so no table carries "
            "information on the odds ratio (metafor stops with the same reason)"
        )
    return o_e.sum() / sv, 1 / sv


def _peto_terms(t: _Tables) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """O - E and the hypergeometric variance V of each table (V = 0 for tables of one outcome)."""
    m1, m0 = t.a + t.c, t.b + t.d
    with np.errstate(divide="ignore", invalid="ignore"):  # N = 1 tables: V is 0, not 0/0
        v = np.where(t.n > 1, t.n1 * t.n2 * m1 * m0 / (t.n**2 * (t.n - 1)), 0.0)
    return t.a - t.n1 * m1 / t.n, v


def peto_heterogeneity(t: _Tables, k_yi: int) -> Heterogeneity:
    """Q = Σ(O-E)²/V - (Σ(O-E))²/ΣV over the tables with V > 0 (Yusuf et al. 1985), from the raw
    counts as rma.peto, on k_yi - 1 df (k_yi: tables with a Peto effect); p, I², H²."""
    o_e, v = _peto_terms(t)
    pos = v > 0
    q = max(0.0, float((o_e[pos] ** 2 / v[pos]).sum() - o_e[pos].sum() ** 2 / v[pos].sum()))
    df = max(k_yi - 1, 0) if pos.sum() > 1 else 0
    return (q, df) + q_summary(q, df)


MH_MEASURES: dict[str, Callable[[_Tables], tuple[float, float]]] = {
    "OR": mh_log_odds_ratio,
    "RR": mh_log_risk_ratio,
    "RD": mh_risk_difference,
}


def study_weights(t: _Tables, method: str) -> NDArray[np.float64]:
    """Each table's share (percent) of the pooled numerator's weight: b·c/N (OR), c·n1/N (RR),
    n1·n2/N (RD) for Mantel-Haenszel, the hypergeometric variance V for Peto."""
    by_method = {
        "OR": t.b * t.c / t.n,
        "RR": t.c * t.n1 / t.n,
        "RD": t.n1 * t.n2 / t.n,
        "PETO": _peto_terms(t)[1],
    }
    w = by_method[method]
    share: NDArray[np.float64] = 100 * w / w.sum()
    return share


def study_effects(t: _Tables, measure: str) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Per-study effects as rma.mh/rma.peto keep them: escalc with 1/2 added to every cell of a
    table with a zero cell, double-zero tables dropped (NaN); "PETO" gives Peto's (O-E)/V and
    1/V of the corrected table (escalc's measure "PETO")."""
    zero, double_zero = binary_zero_cells(t.a, t.n1, t.c, t.n2)
    keep = ~double_zero
    add = continuity_added(zero[keep], Continuity())
    a, n1 = t.a[keep] + add, t.n1[keep] + 2 * add
    c, n2 = t.c[keep] + add, t.n2[keep] + 2 * add
    yi, vi = np.full(len(t.a), np.nan), np.full(len(t.a), np.nan)
    if measure == "PETO":
        o_e, v = _peto_terms(_Tables(a, n1, c, n2))
        yi[keep], vi[keep] = o_e / v, 1 / v
    else:
        yi[keep], vi[keep] = MEASURES[measure].compute(a, n1, c, n2)
    return yi, vi


def _check_tables(t: _Tables, what: str) -> None:
    empty = np.flatnonzero((t.n1 <= 0) | (t.n2 <= 0))
    if len(empty):
        raise Undefined(
            f"{what} needs participants in both groups of every table; "
            + ", ".join(f"table {i + 1}" for i in empty)
            + " has a group with none"
        )


def _result(
    method: str,
    measure: str,
    est: float,
    var: float,
    t: _Tables,
    level: float,
    yi: NDArray[np.float64],
    vi: NDArray[np.float64],
    het: Heterogeneity,
    studies: Iterable[str],
    extra: OddsRatioTests,
    rules: list[Note],
) -> PoolResult:
    weights = study_weights(t, measure if method == "MH" else "PETO")
    se = math.sqrt(var)
    crit = norm_ppf(1 - (1 - level) / 2)
    q, q_df, q_p, i2, h2 = het
    warnings: list[Note] = []
    if se > 0:
        stat = est / se
        p = 2 * norm_sf(abs(stat))
    else:  # every table is all-or-nothing: the estimate is exact and 0/0 has no test (as metafor)
        stat = p = float("nan")
        warnings.append(note("mh.exact_estimate", pattern=_pattern_id(t), estimate=est))
    if "tarone_p" in extra and math.isnan(extra["tarone_p"]):
        warnings.append(note("mh.tarone_no_df"))
    return PoolResult(
        model="mantel-haenszel" if method == "MH" else "peto",
        method=method,
        ci_method="wald",
        level=level,
        k=len(t.a),
        estimate=est,
        se=se,
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        statistic=stat,
        p=p,
        df=None,
        q=q,
        q_df=q_df,
        q_p=q_p,
        i2=i2,
        h2=h2,
        i2_q=i2,
        studies=tuple(studies),
        yi=np.asarray(yi),
        vi=np.asarray(vi),
        weights=weights,
        warnings=tuple(warnings),
        rules=tuple(rules),
        **extra,
    )


def mantel_haenszel(
    ai: ArrayLike,
    n1i: ArrayLike,
    ci: ArrayLike,
    n2i: ArrayLike,
    measure: str = "OR",
    level: float = 0.95,
    studies: Iterable[str] = (),
) -> PoolResult:
    """Mantel-Haenszel common-effect pooling of 2x2 tables (measure OR, RR or RD); raises
    Undefined when the counts leave the estimate undefined."""
    t = _Tables(ai, n1i, ci, n2i)
    _check_tables(t, "the Mantel-Haenszel method")
    est, var = MH_MEASURES[measure](t)
    extra: OddsRatioTests = {}
    if measure == "OR":
        cmh, cmh_p = cmh_test(t)
        tarone, tarone_p = tarone_test(t, est)
        extra = {"cmh": cmh, "cmh_p": cmh_p, "tarone": tarone, "tarone_p": tarone_p}
    yi, vi = study_effects(t, measure)
    used = ~np.isnan(yi)  # double-zero tables have no effect for Q
    # one effect alone carries no heterogeneity: metafor sets Q = 0 (not its distance to the MH estimate)
    het = q_around(yi[used], vi[used], est) if used.sum() > 1 else (0.0, 0) + q_summary(0.0, 0)
    rules = [note("model.mantel_haenszel"), note("ci", ci_method="wald"), note("q.per_study_effects")]
    return _result("MH", measure, est, var, t, level, yi, vi, het, studies, extra, rules)


def peto(
    ai: ArrayLike,
    n1i: ArrayLike,
    ci: ArrayLike,
    n2i: ArrayLike,
    level: float = 0.95,
    studies: Iterable[str] = (),
) -> PoolResult:
    """Peto's one-step odds ratio (common effect); raises Undefined as mantel_haenszel()."""
    t = _Tables(ai, n1i, ci, n2i)
    _check_tables(t, "Peto's method")
    est, var = peto_log_odds_ratio(t)
    yi, vi = study_effects(t, "PETO")
    het = peto_heterogeneity(t, int((~np.isnan(yi)).sum()))
    rules = [note("model.peto"), note("ci", ci_method="wald"), note("q.peto")]
    return _result("PETO", "OR", est, var, t, level, yi, vi, het, studies, {}, rules)
