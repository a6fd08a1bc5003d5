"""Q-profile confidence interval for tau² (Viechtbauer 2007, Stat Med 26:37-52, eq. 11).

The bounds are the tau² values at which the generalized Q meets the upper and lower
chi-square(k-1) quantiles; the same interval whichever estimator gave tau².
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from metamg.models.distributions import chi2_ppf
from metamg.models.roots import nonnegative_root
from metamg.models.weights import generalized_q, tau2_scale

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class Tau2Interval:
    low: float
    high: float
    empty: bool  # Q(0) is below the lower quantile: no tau² fits, reported as [0, 0]


def q_profile(yi: NDArray[np.float64], vi: NDArray[np.float64], level: float = 0.95) -> Tau2Interval:
    k = len(yi)
    if k < 2:
        return Tau2Interval(float("nan"), float("nan"), False)
    alpha = 1 - level
    q_upper = chi2_ppf(1 - alpha / 2, k - 1)
    q_lower = chi2_ppf(alpha / 2, k - 1)
    q0 = generalized_q(yi, vi, 0.0)[0]
    scale = tau2_scale(yi, vi)

    def solve(target: float) -> float:
        def fdf(t: float) -> tuple[float, float]:
            q, dq = generalized_q(yi, vi, t)
            return q - target, dq

        return nonnegative_root(fdf, scale)

    return Tau2Interval(solve(q_upper), solve(q_lower), q0 < q_lower)
