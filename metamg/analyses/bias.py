"""Small-study effects: Egger's regression test (classical form), Begg and Mazumdar's rank
correlation, and Rosenthal's fail-safe N, as metafor's regtest(model="lm"), ranktest and fsn."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from metamg.models import fit
from metamg.models.display import MISSING, frame, html_table, interval, num, one_line, p_is, p_value
from metamg.models.distributions import norm_ppf, norm_sf
from metamg.models.metaregression import intercept_and, meta_regression
from metamg.notes import Note, note

if TYPE_CHECKING:
    import pandas as pd

    from metamg.analyses.trimfill import TrimFill


@dataclass(frozen=True)
class EggerTest:
    statistic: float | None  # z (df None) or t
    p: float | None
    df: int | None
    limit_estimate: float
    limit_ci_low: float | None
    limit_ci_high: float | None
    note: Note | None = None  # why statistic and p are None, when they are

    def to_dict(self) -> dict:
        d = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "note"}
        if self.note is not None:
            d["note"] = self.note.to_dict()
        return d


@dataclass(frozen=True)
class RankTest:
    tau: float
    p: float
    exact: bool  # False when ties force the normal approximation
    note: Note | None = None  # why tau and p are undefined (NaN), when they are

    def to_dict(self) -> dict:
        d = {"tau": _finite(self.tau), "p": _finite(self.p), "exact": self.exact}
        if self.note is not None:
            d["note"] = self.note.to_dict()
        return d


def _shown(n: Note | None) -> str | None:
    """A note's identifier and facts, for the tables of results (render words it)."""
    return str(n) if n is not None else None


def _finite(x):
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class FailSafeN:
    fsnum: int
    alpha: float
    p: float

    def to_dict(self) -> dict:
        return asdict(self)


EXACT_LINE = note("egger.exact_line")  # residual variance 0: the slope has no test
EGGER_MIN_K = 3  # the mixed-effects test needs a residual degree of freedom and tau²
EGGER_TOO_FEW = note("egger.too_few", min_k=EGGER_MIN_K)


def egger_lm(yi, vi, level: float = 0.95) -> EggerTest:
    """Classical Egger test: weighted least squares of yi on their standard errors with weights
    1/vi; the slope's t test (k-2 df) tests funnel asymmetry and the intercept is the effect
    at se = 0 (Egger et al. 1997, BMJ 315:629; Sterne & Egger 2005). That regression is the
    common-effect meta-regression with the Knapp-Hartung residual scaling (R's lm with weights)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    df = len(yi) - 2
    reg = meta_regression(
        yi,
        vi,
        intercept_and(np.sqrt(vi)),
        ["intrcpt", "sei"],
        method="FE",
        ci_method="hk" if df > 0 else "wald",
        level=level,
    )
    limit = reg.coefficient("intrcpt")
    if df <= 0:  # an exact fit: the line exists, its tests do not
        return EggerTest(
            None,
            None,
            df,
            limit.estimate,
            None,
            None,
            note("egger.two_studies"),
        )
    if reg.hk_scale == 0:
        return EggerTest(None, None, df, limit.estimate, limit.ci_low, limit.ci_high, EXACT_LINE)
    slope = reg.coefficient("sei")
    return EggerTest(slope.statistic, slope.p, df, limit.estimate, limit.ci_low, limit.ci_high)


def egger_rma(yi, vi, level: float = 0.95, method: str = "REML", ci_method: str = "wald") -> EggerTest:
    """metafor's default Egger test, regtest(res): a meta-regression of yi on their standard
    errors fitted with the analysis's own model, tau² by ``method`` (FE or any estimator) and
    tests by ``ci_method`` (wald: z; hk, hk-adhoc: Knapp-Hartung t with k-2 df), as regtest() refits
    with the model's method and test; the slope's test tests asymmetry, and the intercept is the
    limit estimate as se -> 0 (Egger et al. 1997; Sterne & Egger 2005)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    reg = meta_regression(
        yi,
        vi,
        intercept_and(np.sqrt(vi)),
        ["intrcpt", "sei"],
        method=method,
        ci_method=ci_method,
        level=level,
    )
    slope, limit = reg.coefficient("sei"), reg.coefficient("intrcpt")
    if reg.hk_scale == 0:  # metafor: z and p NaN
        return EggerTest(None, None, reg.qm_df2, limit.estimate, limit.ci_low, limit.ci_high, EXACT_LINE)
    return EggerTest(slope.statistic, slope.p, reg.qm_df2, limit.estimate, limit.ci_low, limit.ci_high)


# R's exact distribution of Kendall's statistic (cor.test, which metafor 3.8's ranktest calls
# with exact=TRUE) counts permutations in doubles and overflows from n = 171 (n! > 1.8e308):
# there metafor's p is NaN, and metamg uses the normal approximation R uses by default.
EXACT_MAX_K = 170


def rank_test(yi, vi) -> RankTest:
    """Begg & Mazumdar (1994): Kendall's tau-b between the standardized deviates
    (yi - θ_FE)/sqrt(vi - 1/Σw) and vi, as metafor's ranktest. p-value: exact (the distribution
    of Kendall's statistic) when there are no ties and k <= 170, as R's cor.test(exact=TRUE);
    otherwise the normal approximation with the tie-corrected variance of S that R's cor.test
    uses (Kendall 1970, Rank Correlation Methods). O(k log k) time, O(k) memory. tau and
    p are NaN, with a note, when every effect or every variance is the same (metafor then
    ranks rounding noise: tests/reference/DISAGREEMENTS.md)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    fe = fit(yi, vi, method="FE", ci_method="wald", tau2_ci=False)
    w = 1 / vi
    ystar = (yi - fe.estimate) / np.sqrt(vi - 1 / w.sum())
    n = len(yi)
    if np.all(yi == yi[0]) or np.all(vi == vi[0]):  # the deviates would be rounding noise
        same = "effect" if np.all(yi == yi[0]) else "sampling variance"
        return RankTest(math.nan, math.nan, False, note("begg.undefined", same=same))
    tau, s, ties_x, ties_y = _kendall_tau_b(ystar, vi)
    if not ties_x and not ties_y and n <= EXACT_MAX_K:
        q = round((tau + 1) * n * (n - 1) / 4)
        cdf = _kendall_cdf(n)
        p = (1 - cdf[q - 1]) if q > n * (n - 1) / 4 else cdf[q]
        return RankTest(tau, min(1.0, 2 * float(p)), True)
    var_s = _kendall_variance(n, ties_x, ties_y)
    z = s / math.sqrt(var_s)
    return RankTest(tau, min(1.0, 2 * norm_sf(abs(z))), False)


def fail_safe_n(yi, vi, alpha: float = 0.05) -> FailSafeN:
    """Rosenthal's (1979) fail-safe N: how many null studies would bring the Stouffer sum of
    z = yi/sqrt(vi) to one-sided significance at ``alpha``."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = len(yi)
    z_avg = abs(float(np.sum(yi / np.sqrt(vi)))) / math.sqrt(k)
    z_alpha = norm_ppf(1 - alpha)
    fsn = max(0.0, k * (z_avg / z_alpha) ** 2 - k)
    return FailSafeN(int(math.ceil(fsn - 1e-9)), alpha, norm_sf(z_avg))


def _kendall_tau_b(x, y):
    """tau-b, the S statistic (concordant minus discordant pairs), and the tie-group sizes of x
    and y, by Knight's (1966, J Am Stat Assoc 61:436-439) algorithm: sort by (x, y), count the
    discordant pairs as the inversions of y in that order, and correct for ties:
    S = n0 - n1 - n2 + n3 - 2·discordant, tau-b = S / sqrt((n0 - n1)(n0 - n2))."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    n = len(x)
    order = np.lexsort((y, x))
    xs, ys = x[order], y[order]
    tx, ty = _tie_groups(x), _tie_groups(y)
    n0 = n * (n - 1) / 2
    n1 = sum(t * (t - 1) / 2 for t in tx)
    n2 = sum(t * (t - 1) / 2 for t in ty)
    joint = _run_lengths((xs[1:] == xs[:-1]) & (ys[1:] == ys[:-1]))
    n3 = sum(t * (t - 1) / 2 for t in joint)
    _, ranks = np.unique(ys, return_inverse=True)
    s = n0 - n1 - n2 + n3 - 2 * _inversions(ranks)
    return s / math.sqrt((n0 - n1) * (n0 - n2)), s, tx, ty


def _inversions(r) -> int:
    """Pairs i < j with r[i] > r[j] (equal values are not inversions), by a bottom-up merge
    sort: at width w, each element of a right block counts the elements of its left block
    above it (a binary search, blocks kept apart by an offset), then the pair is merged."""
    a = np.asarray(r, dtype=np.int64)
    n = len(a)
    idx = np.arange(n)
    total, w = 0, 1
    while w < n:
        pair = idx // (2 * w)
        right = (idx % (2 * w)) >= w
        key = pair * n + a  # every pair's values lie in its own range [pair·n, pair·n + n)
        left_keys = key[~right]  # sorted: each left block is, and the offsets increase
        below_or_equal = np.searchsorted(left_keys, key[right], side="right")
        left_end = np.searchsorted(left_keys, (pair[right] + 1) * n, side="left")
        total += int((left_end - below_or_equal).sum())
        a = np.sort(key) - pair * n  # sorting the keys merges every pair in place
        w *= 2
    return total


def _run_lengths(same_as_previous) -> list[int]:
    """Lengths (> 1) of the runs of equal neighbours, given which elements equal the one before."""
    if not len(same_as_previous):
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], same_as_previous.astype(np.int8), [0]])))
    return [int(t) + 1 for t in edges[1::2] - edges[::2]]


def _tie_groups(v):
    _, counts = np.unique(v, return_counts=True)
    return [int(c) for c in counts if c > 1]


def _kendall_variance(n, tx, ty):
    tx, ty = np.array(tx or [0], float), np.array(ty or [0], float)
    v0 = n * (n - 1) * (2 * n + 5)
    vt = np.sum(tx * (tx - 1) * (2 * tx + 5))
    vu = np.sum(ty * (ty - 1) * (2 * ty + 5))
    v1 = np.sum(tx * (tx - 1)) * np.sum(ty * (ty - 1))
    v2 = np.sum(tx * (tx - 1) * (tx - 2)) * np.sum(ty * (ty - 1) * (ty - 2))
    return float((v0 - vt - vu) / 18 + v1 / (2 * n * (n - 1)) + v2 / (9 * n * (n - 1) * (n - 2)))


def _kendall_cdf(n: int) -> np.ndarray:
    """P(T <= q), q = 0..n(n-1)/2, for the number T of concordant pairs of a random
    permutation: the Mahonian distribution, built one element at a time."""
    counts = np.array([1.0])
    for m in range(2, n + 1):
        # adding the m-th element adds 0..m-1 inversions
        new = np.zeros(len(counts) + m - 1)
        csum = np.concatenate([[0.0], np.cumsum(counts)])
        idx = np.arange(len(new))
        hi = np.minimum(idx, len(counts) - 1) + 1
        lo = np.maximum(idx - (m - 1), 0)
        new = csum[hi] - csum[lo]
        counts = new / new.sum()  # keep as probabilities: no overflow for large n
    return np.cumsum(counts)


SMALL_K = 10


@dataclass(frozen=True)
class SmallStudyTests:
    egger: EggerTest | None  # None when there are too few studies (k <= 2)
    egger_lm: EggerTest
    begg: RankTest
    fsn: FailSafeN
    trimfill: TrimFill | None  # None with the reason in trimfill_error
    trimfill_error: str | None
    caution: Note | None  # why the tests say little (too few studies)

    def to_dict(self) -> dict:
        egger = self.egger.to_dict() if self.egger else {"error": EGGER_TOO_FEW.to_dict()}
        trimfill = self.trimfill.to_dict() if self.trimfill else {"error": self.trimfill_error}
        return {
            "egger": egger,
            "egger_lm": self.egger_lm.to_dict(),
            "begg": self.begg.to_dict(),
            "trimfill": trimfill,
            "fsn": self.fsn.to_dict(),
            "caution": self.caution.to_dict() if self.caution else None,
        }

    def _records(self) -> list[dict[str, Any]]:
        """One record per test, on the analysis scale: statistic, df, p, an estimate with its CI
        where the test has one (Egger's limit estimate, trim and fill's adjusted estimate), and
        why a value is missing."""

        def egger(name: str, e: EggerTest | None) -> dict[str, Any]:
            if e is None:
                return {"test": name, "note": str(EGGER_TOO_FEW)}
            return {
                "test": name,
                "statistic": e.statistic,
                "df": e.df,
                "p": e.p,
                "estimate": e.limit_estimate,
                "ci_low": e.limit_ci_low,
                "ci_high": e.limit_ci_high,
                "note": _shown(e.note),
            }

        b, f = self.begg, self.fsn
        records = [
            egger("Egger (mixed-effects, regtest)", self.egger),
            egger("Egger (classical, lm)", self.egger_lm),
            {
                "test": "Begg (rank correlation)",
                "statistic": b.tau,
                "p": b.p,
                "note": _shown(b.note),
            },
            {"test": "fail-safe N (Rosenthal)", "statistic": f.fsnum, "p": f.p},
        ]
        if self.trimfill is not None:
            t = self.trimfill
            records.append(
                {
                    "test": "trim and fill",
                    "statistic": t.k0,
                    "p": t.result.p,
                    "estimate": t.result.estimate,
                    "ci_low": t.result.ci_low,
                    "ci_high": t.result.ci_high,
                    "note": f"{t.k0} filled on the {t.side}; adjusted estimate with k = {t.result.k}",
                }
            )
        else:
            records.append({"test": "trim and fill", "note": self.trimfill_error})
        return records

    def __repr__(self) -> str:
        e, b = self.egger or self.egger_lm, self.begg
        egger = (
            f"Egger {'t' if e.df is not None else 'z'}={num(e.statistic, 3)}, {p_is(e.p)}"
            if e.p is not None
            else f"Egger: {e.note}"
        )
        tf = (
            f"trim and fill k0={self.trimfill.k0}"
            if self.trimfill is not None
            else f"trim and fill: {self.trimfill_error}"
        )
        return one_line(
            f"SmallStudyTests({egger}; Begg tau={num(b.tau, 3)}, {p_is(b.p)}; {tf}; "
            f"fail-safe N={self.fsn.fsnum}" + (f"; caution: {self.caution}" if self.caution else "") + ")"
        )

    def _repr_html_(self) -> str:
        rows = [
            (
                d["test"],
                num(d.get("statistic")),
                num(d.get("df")),
                p_value(d.get("p")),
                num(d.get("estimate")) if "estimate" in d else MISSING,
                interval(d.get("ci_low"), d.get("ci_high")) if "ci_low" in d else MISSING,
                d.get("note") or "",
            )
            for d in self._records()
        ]
        return html_table(
            ("test", "statistic", "df", "p", "estimate", "CI", "note"),
            rows,
            "Small-study effects (analysis scale)",
            [str(self.caution)] if self.caution else [],
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per test (Egger's two forms, Begg, fail-safe N, trim and fill): statistic
        (Kendall's tau for Begg, the number of studies for fail-safe N and trim and fill), df,
        p, an estimate with its CI where the test has one, and a note."""
        return frame(
            self._records(), columns=("test", "statistic", "df", "p", "estimate", "ci_low", "ci_high", "note")
        )


def model_effects(analysis) -> tuple[np.ndarray, np.ndarray]:
    """The per-study effects the analysis's model works with, which metafor's regtest() and
    ranktest() take from the model object: the escalc effects for inverse-variance models; for
    Mantel-Haenszel and Peto models the effects those models keep for Q (escalc with double
    zeros dropped; Peto's (O-E)/V), double zeros left out."""
    r, es = analysis.result, analysis.effects
    if r.model == "inverse-variance":
        return es.yi, es.vi
    keep = model_effect_rows(analysis)
    return r.yi[keep], r.vi[keep]


def model_effect_rows(analysis) -> np.ndarray:
    """Which of the analysis's studies have an effect in its model (all but the double zeros
    of a Mantel-Haenszel or Peto model), as a boolean mask."""
    r = analysis.result
    if r.model == "inverse-variance":
        return np.ones(analysis.effects.k, dtype=bool)
    return np.isfinite(r.yi)


def small_study_tests(analysis) -> SmallStudyTests:
    """Egger (both forms), Begg, trim and fill and fail-safe N on the effects of the analysis's
    model (model_effects). Egger's mixed-effects test and trim and fill use the analysis's model
    (its tau² estimator and CI rule); Mantel-Haenszel and Peto models are common-effect models
    with Wald tests, as metafor's regtest() treats them (their method is "FE")."""
    from metamg.analyses.trimfill import trim_and_fill_for
    from metamg.errors import InputError, Problem

    es = analysis.effects
    yi, vi = model_effects(analysis)
    k = len(yi)
    if k >= 2 and np.all(vi == vi[0]):
        raise InputError(
            [
                Problem(
                    es.source,
                    "small-study tests need studies of different precision: "
                    "every study has the same sampling variance, so the funnel plot has "
                    "no asymmetry to test (metafor's regtest stops: the model matrix is "
                    "not of full rank)",
                )
            ]
        )
    if k < 2:
        why = (
            ""
            if k == es.k
            else (
                f" ({es.k - k} double-zero stud{'y has' if es.k - k == 1 else 'ies have'} no effect in"
                f" the {'Peto' if analysis.result.method == 'PETO' else 'Mantel-Haenszel'} model)"
            )
        )
        raise InputError([Problem(es.source, f"small-study tests need at least 2 studies, not {k}{why}")])
    caution = None
    if k < SMALL_K:
        caution = note("small_study.too_few", k=k, min_k=SMALL_K)
    r = analysis.result
    level = r.level
    iv = r.model == "inverse-variance"
    egger = (
        egger_rma(yi, vi, level, r.method if iv else "FE", r.ci_method if iv else "wald")
        if k >= EGGER_MIN_K
        else None
    )
    trimfill, trimfill_error = None, None
    try:
        trimfill = trim_and_fill_for(analysis)
    except InputError as exc:
        trimfill_error = "; ".join(p.message for p in exc.problems)
    return SmallStudyTests(
        egger,
        egger_lm(yi, vi, level),
        rank_test(yi, vi),
        fail_safe_n(yi, vi),
        trimfill,
        trimfill_error,
        caution,
    )
