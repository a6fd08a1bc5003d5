"""Between-study variance (tau²) estimators for the random-effects and mixed-effects models,
one function each.

Each takes the effect sizes ``yi``, sampling variances ``vi`` (NumPy arrays) and optionally the
design matrix ``X`` (k x p, first column the intercept; None = intercept only, k >= 2) and
returns tau² >= 0. Formulas as metafor's ``rma.uni`` computes them (Viechtbauer 2005, J Educ
Behav Stat 30:261-293; with moderators, Raudenbush 2009, in The Handbook of Research Synthesis
and Meta-Analysis, ch. 16), in terms of P = W - WX(X'WX)⁻¹X'W (see ``projection``): with X a
column of ones they are the familiar intercept-only formulas, named per estimator.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import numpy as np

from metamg.models.projection import (
    InterceptFit,
    WeightedFit,
    n_coefficients,
    ols_residual_terms,
    weighted_fit,
)
from metamg.models.roots import decreasing_root, nonnegative_root
from metamg.models.weights import tau2_scale

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


class Tau2Estimator(Protocol):
    """What every estimator is: ``(yi, vi, X=None) -> tau²``."""

    def __call__(
        self, yi: NDArray[np.float64], vi: NDArray[np.float64], X: ArrayLike | None = None
    ) -> float: ...


def _design(X: ArrayLike | None) -> NDArray[np.float64] | None:
    return None if X is None else np.asarray(X, dtype=float)


def dersimonian_laird(yi: NDArray[np.float64], vi: NDArray[np.float64], X: ArrayLike | None = None) -> float:
    """DL: (QE - (k-p)) / tr(P₀), P₀ at tau² = 0, truncated at 0; intercept only,
    (Q - (k-1)) / (Σw - Σw²/Σw) (DerSimonian & Laird 1986, eq. 2; with moderators Raudenbush 2009)."""
    X = _design(X)
    return _dl_from(weighted_fit(yi, vi, X, 0.0), len(yi), n_coefficients(X))


def _dl_from(f0: WeightedFit, k: int, p: int) -> float:
    """DerSimonian-Laird from the fit at tau² = 0."""
    return max(0.0, (f0.rss() - (k - p)) / f0.trace_p())


def hedges(yi: NDArray[np.float64], vi: NDArray[np.float64], X: ArrayLike | None = None) -> float:
    """HE: unweighted method of moments, (RSS_OLS - tr((I - H)V)) / (k-p), truncated at 0;
    intercept only, Σ(y - ȳ)²/(k-1) - mean(v) (Hedges 1983; Hedges & Olkin 1985, ch. 9;
    with moderators Raudenbush 2009)."""
    X = _design(X)
    k, p = len(yi), n_coefficients(X)
    rss, tr_pv = ols_residual_terms(yi, vi, X)
    return max(0.0, (rss - tr_pv) / (k - p))


def hunter_schmidt(yi: NDArray[np.float64], vi: NDArray[np.float64], X: ArrayLike | None = None) -> float:
    """HS: (QE - k) / Σw, w = 1/v, truncated at 0 (Hunter & Schmidt 2004; Viechtbauer 2005,
    eq. 9; metafor keeps k, not k-p, with moderators)."""
    X = _design(X)
    k = len(yi)
    return max(0.0, (weighted_fit(yi, vi, X, 0.0).rss() - k) / float(np.sum(1.0 / vi)))


def sidik_jonkman(yi: NDArray[np.float64], vi: NDArray[np.float64], X: ArrayLike | None = None) -> float:
    """SJ: one reweighting step from tau²₀ = Σ(y - ȳ)²/k: tau²₀ · y'P(tau²₀)y / (k-p)
    (Sidik & Jonkman 2005, J R Stat Soc C 54:367-384, eq. 4; metafor starts from the
    variance of y about its mean also with moderators)."""
    X = _design(X)
    k, p = len(yi), n_coefficients(X)
    tau0 = float(np.sum((yi - yi.mean()) ** 2)) / k
    if tau0 == 0:
        return 0.0
    return tau0 * weighted_fit(yi, vi, X, tau0).rss() / (k - p)


# The iterative estimators: an estimating equation in tau² given as its value and its slope at a
# weighted fit (with k and p), each decreasing in tau²; solved by ``_solve``.
Equation = Callable[[WeightedFit, int, int], float]


def _pm_value(f: WeightedFit, k: int, p: int) -> float:
    return f.rss() - (k - p)


def _pm_slope(f: WeightedFit, k: int, p: int) -> float:
    return -f.yppy()


def _ml_value(f: WeightedFit, k: int, p: int) -> float:
    return f.yppy() - float(f.w.sum())


def _ml_slope(f: WeightedFit, k: int, p: int) -> float:
    return -2 * f.ypppy() + float((f.w**2).sum())


def _reml_value(f: WeightedFit, k: int, p: int) -> float:
    return f.yppy() - f.trace_p()


def _reml_slope(f: WeightedFit, k: int, p: int) -> float:
    return -2 * f.ypppy() + f.trace_pp()


EQUATIONS: dict[str, tuple[Equation, Equation]] = {
    "PM": (_pm_value, _pm_slope),
    "EB": (_pm_value, _pm_slope),
    "ML": (_ml_value, _ml_slope),
    "REML": (_reml_value, _reml_slope),
}


def paule_mandel(yi: NDArray[np.float64], vi: NDArray[np.float64], X: ArrayLike | None = None) -> float:
    """PM: the tau² at which the generalized Q, y'P(tau²)y, equals its expectation k-p
    (Paule & Mandel 1982; DerSimonian & Kacker 2007, eq. 8)."""
    return _solve("PM", yi, vi, _design(X))


def empirical_bayes(yi: NDArray[np.float64], vi: NDArray[np.float64], X: ArrayLike | None = None) -> float:
    """EB: Morris's (1983) empirical Bayes estimator, the fixed point of
    tau² ← tau² + (k/(k-p)·y'P(tau²)y - k)/Σw (Berkey et al. 1995, eq. 7). Its fixed point is
    y'P(tau²)y = k-p, the Paule-Mandel equation, so both share one solver (Viechtbauer 2005)."""
    return paule_mandel(yi, vi, X)


def maximum_likelihood(yi: NDArray[np.float64], vi: NDArray[np.float64], X: ArrayLike | None = None) -> float:
    """ML: root of the log-likelihood score ½[y'PPy - Σw], derivative -y'PPPy + ½Σw²
    (Hardy & Thompson 1996, eq. 3; Viechtbauer 2005, eq. 11)."""
    return _solve("ML", yi, vi, _design(X))


def restricted_maximum_likelihood(
    yi: NDArray[np.float64], vi: NDArray[np.float64], X: ArrayLike | None = None
) -> float:
    """REML: root of the restricted score ½[y'PPy - tr(P)], derivative -y'PPPy + ½tr(PP)
    (Harville 1977; Viechtbauer 2005, eq. 12)."""
    return _solve("REML", yi, vi, _design(X))


def _solve(
    method: str,
    yi: NDArray[np.float64],
    vi: NDArray[np.float64],
    X: NDArray[np.float64] | None,
    null: WeightedFit | None = None,
) -> float:
    """The root in tau² >= 0 of ``method``'s equation (``roots.nonnegative_root``): 0 when the
    equation is <= 0 at tau² = 0, else Newton's method from the DerSimonian-Laird value (or,
    when that is 0, from ``tau2_scale``). The fit at tau² = 0 (``null``, when the caller has it)
    serves both the DerSimonian-Laird start and the test at 0."""
    value, slope = EQUATIONS[method]
    k, p = len(yi), n_coefficients(X)
    f0 = weighted_fit(yi, vi, X, 0.0) if null is None else null
    start = _dl_from(f0, k, p)

    def fdf(t: float) -> tuple[float, float]:
        f = weighted_fit(yi, vi, X, t)
        return value(f, k, p), slope(f, k, p)

    if start <= 0:
        start = tau2_scale(yi, vi)
    at_zero = value(f0, k, p)
    root = nonnegative_root(fdf, start, x0=start, at_zero=at_zero)
    if root == 0.0 and method in LIKELIHOODS:
        return _interior_maximum(method, yi, vi, X, f0, fdf)
    return root


# The (restricted) log-likelihood of the random-effects model up to a constant: ML and REML
# maximise it; their score can have two roots, a local maximum inside beyond a local minimum
LIKELIHOODS: dict[str, Callable[[WeightedFit], float]] = {
    "ML": lambda f: -0.5 * (float(np.log(1.0 / f.w).sum()) + f.rss()),
    "REML": lambda f: -0.5 * (float(np.log(1.0 / f.w).sum()) - float(np.linalg.slogdet(f.A)[1]) + f.rss()),
}
PROBES = 7  # points between the Hedges estimate and 1/64 of it where an interior maximum is sought


def _interior_maximum(
    method: str,
    yi: NDArray[np.float64],
    vi: NDArray[np.float64],
    X: NDArray[np.float64] | None,
    f0: WeightedFit,
    fdf: Callable[[float], tuple[float, float]],
) -> float:
    """ML or REML when the score is <= 0 at tau² = 0: 0, unless the score turns positive again
    between 0 and the Hedges estimate, where metafor's Fisher scoring starts (rma's default
    tau2.init): then the likelihood has an interior local maximum there too, and the higher of
    the two is returned. (Two studies of very different precision: Viechtbauer 2005 notes that
    the likelihood need not be unimodal.)"""
    he = hedges(yi, vi, X)
    probes = [he / 2.0**j for j in range(PROBES)] if he > 0 else []
    above = next((t for t in probes if fdf(t)[0] > 0), None)
    if above is None:
        return 0.0
    inside = decreasing_root(fdf, above, math.inf, x0=2 * above)
    loglik = LIKELIHOODS[method]
    return inside if loglik(weighted_fit(yi, vi, X, inside)) > loglik(f0) else 0.0


def tau2_given_null(
    method: str, yi: NDArray[np.float64], vi: NDArray[np.float64], null: InterceptFit
) -> float:
    """``TAU2_ESTIMATORS[method](yi, vi)`` (intercept only), reusing the caller's fit at tau² = 0
    (``projection.InterceptFit(yi, vi, 0.0)``), which the pooled fit also needs for Cochran's Q and
    the typical variance: the same number, with fewer passes over the studies."""
    if method == "DL":
        return _dl_from(null, len(yi), 1)
    if method in EQUATIONS:
        return _solve(method, yi, vi, None, null)
    return TAU2_ESTIMATORS[method](yi, vi)


TAU2_ESTIMATORS: dict[str, Tau2Estimator] = {
    "DL": dersimonian_laird,
    "HE": hedges,
    "HS": hunter_schmidt,
    "SJ": sidik_jonkman,
    "PM": paule_mandel,
    "EB": empirical_bayes,
    "ML": maximum_likelihood,
    "REML": restricted_maximum_likelihood,
}

ESTIMATOR_NAMES = {
    "DL": "DerSimonian-Laird",
    "HE": "Hedges",
    "HS": "Hunter-Schmidt",
    "SJ": "Sidik-Jonkman",
    "PM": "Paule-Mandel",
    "EB": "empirical Bayes",
    "ML": "maximum likelihood",
    "REML": "restricted maximum likelihood",
}
