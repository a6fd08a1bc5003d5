"""Q-profile confidence interval for tau² (Viechtbauer 2007, Stat Med 26:37-52, eq. 11).

The bounds are the tau² values at which the generalized Q meets the upper and lower
chi-square(k-1) quantiles; the same interval whichever estimator gave tau².
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from metamg.models.distributions import chi2_ppf
from metamg.models.roots import decreasing_roots, nonnegative_root
from metamg.models.weights import generalized_q, generalized_q_many, tau2_scale

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class Tau2Interval:
    low: float
    high: float
    empty: bool  # Q(0) is below the lower quantile: no tau² fits, reported as [0, 0]


def q_profile(
    yi: NDArray[np.float64],
    vi: NDArray[np.float64],
    level: float = 0.95,
    at_zero: tuple[float, float] | None = None,
    near: tuple[float, float, float] | None = None,
) -> Tau2Interval:
    """Both bounds solved together, as one Newton problem over two values of tau²: each pass
    over the k studies evaluates Q at both. The equation solved is 1/target - 1/Q(tau²), which
    has Q's root and is almost linear in tau² (exactly so for equal variances, where
    Q = Σ(y - ȳ)²/(v + tau²)), so that a first Newton step lands near the root and two or three
    more settle it. That first step is taken from tau² = 0, or from ``near`` = (tau², Q(tau²),
    Q'(tau²)) at the estimate when the caller has them (the pooled fit does: Q at the estimate
    is its Knapp-Hartung sum), which is closer to both bounds when k is large. ``at_zero`` is
    (Q(0), Q'(0)) when the caller has it (Cochran's Q). A bound whose target Q(0) does not
    exceed is 0, as ``nonnegative_root`` truncates."""
    k = len(yi)
    if k < 2:
        return Tau2Interval(float("nan"), float("nan"), False)
    alpha = 1 - level
    q_upper = chi2_ppf(1 - alpha / 2, k - 1)
    q_lower = chi2_ppf(alpha / 2, k - 1)
    q0, dq0 = generalized_q(yi, vi, 0.0) if at_zero is None else at_zero
    targets = np.array([q_upper, q_lower])
    bounds = np.zeros(2)
    rows = np.flatnonzero(q0 > targets)
    if len(rows):
        goal = targets[rows]
        x0 = _newton_start(goal, 0.0, q0, dq0)
        if near is not None and near[0] > 0:
            from_near = _newton_start(goal, *near)
            x0 = np.where(np.isfinite(from_near) & (from_near > 0), from_near, x0)
        usable = np.isfinite(x0) & (x0 > 0)
        if not usable.all():
            x0 = np.where(usable, x0, tau2_scale(yi, vi))

        def fdf(
            t: NDArray[np.float64], idx: NDArray[np.intp]
        ) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
            q, dq = generalized_q_many(yi, vi, t)
            return 1 / goal[idx] - 1 / q, dq / (q * q)

        roots, ok = decreasing_roots(fdf, x0, np.zeros(len(rows)), np.full(len(rows), np.inf))
        bounds[rows] = roots
        for i, r in enumerate(rows.tolist()):
            if not ok[i]:
                bounds[r] = _solve(yi, vi, float(targets[r]))
    return Tau2Interval(float(bounds[0]), float(bounds[1]), q0 < q_lower)


def _newton_start(goal: NDArray[np.float64], t: float, q: float, dq: float) -> NDArray[np.float64]:
    """Newton's step on 1/goal - 1/Q from tau² = t, where Q = q and Q' = dq (NaN or inf where
    it does not exist)."""
    q_, dq_ = np.float64(q), np.float64(dq)  # numpy division: 0 gives inf or NaN, not an error
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        x: NDArray[np.float64] = t + (1 / goal - 1 / q_) * q_ * q_ / -dq_
    return x


def _solve(yi: NDArray[np.float64], vi: NDArray[np.float64], target: float) -> float:
    """One bound by the scalar solver (where the joint iteration did not converge)."""

    def fdf(t: float) -> tuple[float, float]:
        q, dq = generalized_q(yi, vi, t)
        return q - target, dq

    return nonnegative_root(fdf, tau2_scale(yi, vi))
