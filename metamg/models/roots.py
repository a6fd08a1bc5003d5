"""Root finding shared by every iterative estimator and the Q-profile interval.

All our estimating equations are functions of tau² >= 0 that are positive left of the root
and negative right of it, with cheap exact derivatives: a Newton step kept inside a shrinking
bracket (Press et al., Numerical Recipes, 3rd ed., section 9.4, "rtsafe") converges
quadratically and can never leave [0, inf).
"""

from __future__ import annotations

import math
from collections.abc import Callable

EPS = 2.220446049250313e-16


# an estimating equation with its derivative: x -> (f(x), f'(x))
DerivativeFunction = Callable[[float], tuple[float, float]]


class NoRootError(ArithmeticError):
    pass


def bracket_above(f: Callable[[float], float], start: float, limit: float = 1e300) -> float:
    """Smallest hi in start, 4*start, 16*start, ... with f(hi) < 0."""
    hi = max(start, 1e-300)
    while f(hi) >= 0:
        hi *= 4
        if hi > limit:
            raise NoRootError(f"no sign change below {limit:g}")
    return hi


def decreasing_root(
    fdf: DerivativeFunction,
    lo: float,
    hi: float,
    x0: float | None = None,
    maxiter: int = 2000,
) -> float:
    """Root of a function that is > 0 at lo and < 0 at hi; ``fdf(x)`` returns (f, f')."""
    x = 0.5 * (lo + hi) if x0 is None or not lo < x0 < hi else x0
    for _ in range(maxiter):
        f, df = fdf(x)
        if f == 0:
            return x
        if f > 0:
            lo = x
        else:
            hi = x
        step = f / df if df != 0 and math.isfinite(df) else math.inf
        nxt = x - step
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)  # Newton would leave the bracket: bisect instead
        if abs(nxt - x) <= 4 * EPS * max(abs(nxt), 1e-300) or hi - lo <= 4 * EPS * max(abs(hi), 1e-300):
            return nxt
        x = nxt
    return x


def nonnegative_root(fdf: DerivativeFunction, scale: float, x0: float | None = None) -> float:
    """Root in tau² >= 0 of an equation that decreases in tau²: 0 when it is already <= 0 at 0
    (the truncation every estimator and the Q-profile share), else bracketed from ``scale``."""
    if fdf(0.0)[0] <= 0:
        return 0.0
    hi = bracket_above(lambda t: fdf(t)[0], scale)
    return decreasing_root(fdf, 0.0, hi, x0=x0)
