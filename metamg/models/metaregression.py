"""Mixed-effects meta-regression: yi = Xβ + u + e, u ~ N(0, tau²), e ~ N(0, vi).

tau² by any of metafor's estimators with moderators (``tau2``: FE, DL, HE, HS, SJ, ML, REML, EB,
PM), everything in O(k·p²) without k x k matrices (``projection``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from metamg.models.display import frame, html_table, interval, level_text, num, one_line, p_is, p_value, pct
from metamg.models.distributions import chi2_sf, f_sf, norm_ppf, norm_sf, t_ppf, t_sf
from metamg.models.heterogeneity import q_summary
from metamg.models.projection import BatchedFit, WeightedFit
from metamg.models.roots import decreasing_roots
from metamg.models.tau2 import TAU2_ESTIMATORS
from metamg.models.weights import RSS_ZERO, knapp_hartung_scale, tau2_scale
from metamg.vocabulary import CI_METHODS as REGRESSION_TESTS
from metamg.vocabulary import COMMON_EFFECT, REGRESSION_METHODS

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class Coefficient:
    name: str
    estimate: float
    se: float
    statistic: float
    p: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class MetaRegression:
    method: str
    ci_method: str
    k: int
    coefficients: tuple[Coefficient, ...]
    qm: float
    qm_df: int
    qm_df2: int | None  # denominator df of the F test under hk
    qm_p: float
    tau2: float
    i2: float
    h2: float
    r2: float | None  # percent of heterogeneity explained; None for an exact fit (k = p)
    qe: float
    qe_df: int
    qe_p: float
    hk_scale: float = 1.0  # the Knapp-Hartung variance factor (1 for Wald tests); 0 for an
    # exact fit, where the t tests and QM are undefined (±inf/NaN)
    vcov: tuple[tuple[float, ...], ...] = ()  # covariance of the coefficients, as the tests use it
    level: float = 0.95
    df: int | None = None  # of the coefficients' t tests; None for z tests

    def coefficient(self, name: str) -> Coefficient:
        return next(c for c in self.coefficients if c.name == name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "k": self.k,
            "coefficients": [c.__dict__.copy() for c in self.coefficients],
            "QM": self.qm,
            "QM_df": self.qm_df,
            "QM_df2": self.qm_df2,
            "QM_p": self.qm_p,
            "tau2": self.tau2,
            "I2": self.i2,
            "H2": self.h2,
            "R2": self.r2,
            "QE": self.qe,
            "QE_df": self.qe_df,
            "QE_p": self.qe_p,
            "method": self.method,
            "ci_method": self.ci_method,
        }

    def __str__(self) -> str:
        coefs = ", ".join(f"{c.name} {c.estimate:.4g} (p={c.p:.3g})" for c in self.coefficients)
        return (
            f"meta-regression ({self.method}, {self.ci_method}), k={self.k}: {coefs}; "
            f"QM={self.qm:.3f} (p={self.qm_p:.3g}); tau²={self.tau2:.4g}"
        )

    def __repr__(self) -> str:
        """One line (the dataclass default would print the covariance matrix)."""
        return one_line(f"MetaRegression({self})")

    def _tests(self) -> list[str]:
        qm = (
            f"QM = {num(self.qm)} on {self.qm_df} df"
            if self.qm_df2 is None
            else f"F({self.qm_df}, {self.qm_df2}) = {num(self.qm)}"
        )
        return [
            f"test of moderators: {qm}, {p_is(self.qm_p)}",
            f"residual heterogeneity: QE = {num(self.qe)} on {self.qe_df} df, {p_is(self.qe_p)}; "
            f"tau² = {num(self.tau2)}, I² = {pct(self.i2)}, R² = {pct(self.r2)}",
        ]

    def _repr_html_(self) -> str:
        test = "z" if self.df is None else f"t({self.df})"
        rows = [
            (
                c.name,
                num(c.estimate),
                num(c.se),
                num(c.statistic),
                p_value(c.p),
                interval(c.ci_low, c.ci_high),
            )
            for c in self.coefficients
        ]
        return html_table(
            ("coefficient", "estimate", "se", test, "p", f"{level_text(self.level)} CI"),
            rows,
            f"Meta-regression ({self.method}, {self.ci_method}), k = {self.k}",
            self._tests(),
        )

    def to_frame(self) -> pd.DataFrame:
        """One row per coefficient (analysis scale), as to_dict()'s coefficients."""
        return frame(self.to_dict()["coefficients"])


def regression_method(method: str) -> str:
    """The canonical name of a meta-regression method; ValueError for one metafor's rma() does
    not fit with moderators (or metamg does not implement)."""
    m = method.upper()
    if m in COMMON_EFFECT:
        return "FE"
    if m not in REGRESSION_METHODS:
        raise ValueError(
            f"method {method!r} has no meta-regression form; choose one of " + ", ".join(REGRESSION_METHODS)
        )
    return m


def meta_regression(
    yi: ArrayLike,
    vi: ArrayLike,
    X: ArrayLike,
    names: Sequence[str],
    method: str = "REML",
    ci_method: str = "wald",
    level: float = 0.95,
) -> MetaRegression:
    """Fit yi on the columns of X (the first must be the intercept), as metafor's
    rma(yi, vi, mods=X[, -1], method=method, test=...).

    ci_method "wald": z tests and an omnibus chi-square QM; "hk": Knapp & Hartung (2003) t(k-p) tests
    and an F(m, k-p) omnibus test, the variance factor not truncated (metafor's test="knha");
    "hk-adhoc": the same with the factor truncated below at 1 (test="adhoc").
    QE tests residual heterogeneity (common-effect weights). I² and H²: from tau² and the
    typical variance (k-p)/tr(P₀) for random-effects methods, from QE for FE
    (Higgins & Thompson 2002). R²: the proportional reduction of tau² against the
    intercept-only model fitted with the same method (Raudenbush 2009), 0 when that tau² is 0;
    for FE, the adjusted R² of the weighted least-squares regression, as metafor.
    """
    yi, vi, X = np.asarray(yi, float), np.asarray(vi, float), np.asarray(X, float)
    method = regression_method(method)
    if ci_method not in REGRESSION_TESTS:
        raise ValueError(f"unknown test {ci_method!r}; choose one of {', '.join(REGRESSION_TESTS)}")
    k, p = X.shape
    if k < p or (k == p and method != "FE"):  # FE with k = p is an exact fit; tau² needs more
        raise ValueError(f"{p} coefficients cannot be estimated from {k} studies")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError("the moderators are collinear (a column is a combination of others)")
    tau2 = 0.0 if method == "FE" else TAU2_ESTIMATORS[method](yi, vi, X)
    fit = WeightedFit(yi, vi, X, tau2)
    df = k - p
    t_tests = ci_method != "wald" and df > 0
    scale = knapp_hartung_scale(fit.rss(), df, ci_method) if t_tests else 1.0
    vcov = scale * fit.A
    crit = t_ppf(1 - (1 - level) / 2, df) if t_tests else norm_ppf(1 - (1 - level) / 2)
    se = np.sqrt(np.diag(vcov))
    coefs = []
    for name, b, s in zip(names, fit.beta, se, strict=True):
        stat, pval = _test(float(b), float(s), df if t_tests else None)
        coefs.append(
            Coefficient(name, float(b), float(s), stat, pval, float(b - crit * s), float(b + crit * s))
        )
    m = p - 1
    qm_df2 = df if t_tests else None
    if m == 0:
        qm, qm_p = 0.0, 1.0
    elif scale == 0:  # Var(β̂) = 0: no omnibus test (metafor's QM is NA)
        qm = qm_p = float("nan")
    else:
        bm = fit.beta[1:]
        qm = float(bm @ np.linalg.solve(vcov[1:, 1:], bm))
        if t_tests:
            qm, qm_p = qm / m, f_sf(qm / m, m, df)
        else:
            qm_p = chi2_sf(qm, m)
    common = WeightedFit(yi, vi, X, 0.0)
    qe = max(0.0, common.rss())
    qe_p, i2_q, h2_q = q_summary(qe, df)
    if method == "FE":
        i2, h2 = i2_q, h2_q
        r2 = _fe_r2(yi, vi, qe, k, p)
    else:
        vt = df / common.trace_p() if df > 0 else 0.0
        i2 = 100 * tau2 / (tau2 + vt) if tau2 > 0 else 0.0
        h2 = (tau2 + vt) / vt if vt > 0 else 1.0
        tau2_0 = TAU2_ESTIMATORS[method](yi, vi)
        r2 = 0.0 if tau2_0 == 0 else max(0.0, 100 * (tau2_0 - tau2) / tau2_0)
    return MetaRegression(
        method=method,
        ci_method=ci_method,
        k=k,
        coefficients=tuple(coefs),
        qm=qm,
        qm_df=m,
        qm_df2=qm_df2,
        qm_p=qm_p,
        tau2=tau2,
        i2=i2,
        h2=h2,
        r2=r2,
        qe=qe,
        qe_df=df,
        qe_p=qe_p,
        hk_scale=scale,
        vcov=tuple(tuple(float(x) for x in row) for row in vcov),
        level=level,
        df=df if t_tests else None,
    )


def _test(b: float, se: float, df: int | None) -> tuple[float, float]:
    """z (df None) or t statistic and two-sided p; a zero se (Knapp-Hartung scale 0) gives
    ±inf and p = 0 as R's b/0 does, or NaN for 0/0."""
    if se > 0:
        stat = b / se
        return stat, 2 * (norm_sf(abs(stat)) if df is None else t_sf(abs(stat), df))
    if b == 0:
        return float("nan"), float("nan")
    return float(np.copysign(np.inf, b)), 0.0


def _fe_r2(yi: NDArray[np.float64], vi: NDArray[np.float64], qe: float, k: int, p: int) -> float | None:
    """Adjusted R² (percent, truncated at 0) of the weighted least-squares regression with
    weights 1/v: 1 - (QE/TSS)(k-1)/(k-p), TSS = Σw(y - ȳ_w)², as R's summary(lm(...,
    weights))$adj.r.squared that metafor reports for FE models; 0 when all yi are equal,
    None for an exact fit (k = p: no residual degrees of freedom)."""
    if np.all(yi == yi[0]):
        return 0.0
    if k == p:
        return None
    w = 1.0 / vi
    tss = float(w @ (yi - float(w @ yi) / w.sum()) ** 2)
    return max(0.0, 100 * (1 - (qe / tss) * (k - 1) / (k - p)))


def intercept_and(*columns: NDArray[np.float64]) -> NDArray[np.float64]:
    k = len(columns[0])
    return np.column_stack([np.ones(k), *columns])


# -- many permutations of the moderators at once -------------------------------------------------

_BLOCK = 1 << 18  # design elements (fits x studies x coefficients) per block of permutations


def permuted_statistics(
    yi: ArrayLike,
    vi: ArrayLike,
    X: ArrayLike,
    permutations: ArrayLike,
    method: str = "REML",
    ci_method: str = "wald",
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The coefficients' test statistics (n x p) and the omnibus QM (n) of ``meta_regression``
    refitted with the rows of X reordered by each row of ``permutations`` (n x k), as metafor's
    permutest() refits: the same tau² estimator, test and formulas, for all permutations at once
    (one weighted least-squares problem per block of permutations, the iterative estimators
    solved as one vectorised Newton problem). What the test does not need (p-values, intervals,
    QE, I², R²) is not computed, and the checks of the observed fit (enough studies, columns not
    collinear) hold for every permutation of its rows. A NaN row is a fit that does not exist."""
    yi, vi, X = np.asarray(yi, float), np.asarray(vi, float), np.asarray(X, float)
    perms = np.asarray(permutations, dtype=np.intp).reshape(-1, len(yi))
    method = regression_method(method)
    k, p = X.shape
    stats = np.empty((len(perms), p))
    qm = np.empty(len(perms))
    step = max(1, _BLOCK // max(k * p, 1))
    for start in range(0, len(perms), step):
        rows = slice(start, start + step)
        Xb = X[perms[rows]]
        try:
            stats[rows], qm[rows] = _batch_statistics(yi, vi, Xb, method, ci_method)
        except np.linalg.LinAlgError:  # a singular fit in the block: each on its own
            for i, Xi in enumerate(Xb, start):
                try:
                    r = meta_regression(yi, vi, Xi, [str(j) for j in range(p)], method, ci_method)
                except ValueError:
                    stats[i], qm[i] = np.nan, np.nan
                    continue
                stats[i], qm[i] = [c.statistic for c in r.coefficients], r.qm
    return stats, qm


def _batch_statistics(
    yi: NDArray[np.float64], vi: NDArray[np.float64], X: NDArray[np.float64], method: str, ci_method: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    n, k, p = X.shape
    tau2 = _batch_tau2(yi, vi, X, method)
    fit = BatchedFit(yi, vi, X, tau2)
    df = k - p
    t_tests = ci_method != "wald" and df > 0
    scale = np.ones(n)
    if t_tests:  # knapp_hartung_scale, per fit
        rss = fit.rss()
        scale = np.where(rss <= RSS_ZERO, 0.0, rss / df)
        if ci_method == "hk-adhoc":
            scale = np.maximum(1.0, scale)
    b = fit.beta
    se = np.sqrt(scale[:, None] * np.diagonal(fit.A, axis1=1, axis2=2))
    with np.errstate(divide="ignore", invalid="ignore"):  # as _test: ±inf, or NaN for 0/0
        stats = np.where(
            se > 0, b / np.where(se > 0, se, 1.0), np.where(b == 0, np.nan, np.copysign(np.inf, b))
        )
        m = p - 1
        if m == 0:
            return stats, np.zeros(n)
        bm = b[:, 1:]
        qm = np.einsum("nm,nm->n", bm, np.linalg.solve(fit.A[:, 1:, 1:], bm[:, :, None])[:, :, 0])
        qm = np.where(scale == 0, np.nan, qm / np.where(scale == 0, 1.0, scale))
    return stats, qm / m if t_tests else qm


def _batch_tau2(
    yi: NDArray[np.float64], vi: NDArray[np.float64], X: NDArray[np.float64], method: str
) -> NDArray[np.float64]:
    """tau² of each design in X (n x k x p) by ``method``, as ``TAU2_ESTIMATORS[method]``."""
    n, k, p = X.shape
    if method == "FE":
        return np.zeros(n)
    if method == "HE":
        xtx_inv = np.linalg.inv(np.einsum("nkp,nkq->npq", X, X))
        beta = np.einsum("npq,nq->np", xtx_inv, np.einsum("nkp,k->np", X, yi))
        resid = yi[None, :] - np.einsum("nkp,np->nk", X, beta)
        hat = np.einsum("nkp,npq,nkq->nk", X, xtx_inv, X)
        rss = np.einsum("nk,nk->n", resid, resid)
        out: NDArray[np.float64] = np.maximum(0.0, (rss - (1.0 - hat) @ vi) / (k - p))
        return out
    if method == "SJ":
        tau0 = float(np.sum((yi - yi.mean()) ** 2)) / k
        if tau0 == 0:
            return np.zeros(n)
        out = tau0 * BatchedFit(yi, vi, X, np.full(n, tau0)).rss() / (k - p)
        return out
    f0 = BatchedFit(yi, vi, X, np.zeros(n))
    if method == "HS":
        out = np.maximum(0.0, (f0.rss() - k) / float(np.sum(1.0 / vi)))
        return out
    dl: NDArray[np.float64] = np.maximum(0.0, (f0.rss() - (k - p)) / f0.trace_p())
    if method == "DL":
        return dl
    equation = _BATCH_EQUATIONS[method]
    tau2 = np.zeros(n)
    live = np.flatnonzero(equation(f0, k, p)[0] > 0)  # elsewhere the root is truncated at 0
    if not len(live):
        return tau2
    Xl = X[live]
    start = np.where(dl[live] > 0, dl[live], tau2_scale(yi, vi))

    def fdf(t: NDArray[np.float64], idx: NDArray[np.intp]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        return equation(BatchedFit(yi, vi, Xl[idx], t), k, p)

    roots, ok = decreasing_roots(fdf, start, np.zeros(len(live)), np.full(len(live), np.inf))
    tau2[live] = roots
    for i in np.flatnonzero(~ok):  # not converged: the scalar solver
        tau2[live[i]] = TAU2_ESTIMATORS[method](yi, vi, Xl[i])
    return tau2


BatchEquation = Callable[[BatchedFit, int, int], tuple["NDArray[np.float64]", "NDArray[np.float64]"]]


def _batch_pm(f: BatchedFit, k: int, p: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return f.rss() - (k - p), -f.yppy()


def _batch_ml(f: BatchedFit, k: int, p: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return f.yppy() - f.w.sum(axis=1), -2 * f.ypppy() + (f.w**2).sum(axis=1)


def _batch_reml(f: BatchedFit, k: int, p: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    return f.yppy() - f.trace_p(), -2 * f.ypppy() + f.trace_pp()


_BATCH_EQUATIONS: dict[str, BatchEquation] = {
    "PM": _batch_pm,
    "EB": _batch_pm,
    "ML": _batch_ml,
    "REML": _batch_reml,
}
