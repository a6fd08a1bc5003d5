"""Root finding shared by every iterative estimator and the Q-profile interval.

All our estimating equations are functions of tau² >= 0 that are positive left of the root
and negative right of it, with cheap exact derivatives: a Newton step kept inside a shrinking
bracket (Press et al., Numerical Recipes, 3rd ed., section 9.4, "rtsafe") converges
quadratically and can never leave [0, inf).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

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


# A Newton step this small (relative) is the last one taken: near a simple root the error after it
# is of the order of the step squared, far below the spacing of floats, while a sum over many
# studies carries rounding noise of about 1e-14 relative, on which Newton would otherwise wander
# (bisecting until the bracket closes: five extra passes over a million studies).
STEP_RTOL = 1e-12


def _newton_converged(nxt: float, x: float) -> bool:
    return math.isfinite(nxt) and abs(nxt - x) <= STEP_RTOL * max(abs(nxt), 1e-300)


def _spacing_converged(nxt: float, x: float) -> bool:
    return math.isfinite(nxt) and abs(nxt - x) <= 4 * EPS * max(abs(nxt), 1e-300)


def decreasing_root(
    fdf: DerivativeFunction,
    lo: float,
    hi: float,
    x0: float | None = None,
    maxiter: int = 2000,
) -> float:
    """Root of a function that is > 0 at lo and < 0 at hi; ``fdf(x)`` returns (f, f').
    ``hi`` may be infinite when ``x0`` is given: a step that would leave [lo, inf) then goes to
    four times x, until a point with f < 0 closes the bracket."""
    if math.isinf(hi) and (x0 is None or not lo < x0):
        raise ValueError("an unbounded bracket needs a start inside it")
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
        if _newton_converged(nxt, x):
            # before the bracket test: a step below the spacing of floats lands on x itself,
            # which is a bound of the bracket now, and bisecting from there wastes ~30 steps
            return nxt
        if not lo < nxt < hi:  # Newton would leave the bracket: bisect instead (or widen it)
            if math.isfinite(hi):
                nxt = 0.5 * (lo + hi)
            elif x > 1e300:
                raise NoRootError("no sign change below 1e300")
            else:
                nxt = 4 * max(x, lo)
        if _spacing_converged(nxt, x) or hi - lo <= 4 * EPS * max(abs(hi), 1e-300) < math.inf:
            return nxt
        x = nxt
    return x


def root_near(fdf: DerivativeFunction, start: float, lo: float = 0.0) -> float:
    """Root in (lo, inf) of a decreasing function, by Newton's method from ``start``, a close
    approximation: its first step stays inside the bracket that start's sign closes on one side,
    [lo, start] or [start, inf), so a good start is never thrown away for a bisection."""
    f, df = fdf(start)
    if f == 0:
        return start
    step = f / df if df != 0 and math.isfinite(df) else math.inf
    nxt = start - step
    if _newton_converged(nxt, start):
        return nxt
    if f < 0:
        return decreasing_root(fdf, lo, start, x0=nxt)  # a start outside: bisected
    return decreasing_root(fdf, start, math.inf, x0=nxt if start < nxt < math.inf else 4 * start)


def nonnegative_root(
    fdf: DerivativeFunction, scale: float, x0: float | None = None, at_zero: float | None = None
) -> float:
    """Root in tau² >= 0 of an equation that decreases in tau²: 0 when it is already <= 0 at 0
    (the truncation every estimator and the Q-profile share; ``at_zero``, the equation's value
    at 0 when the caller has it), else Newton's from ``x0`` (a positive start; else ``scale``,
    a tau² of the data's order) in [0, inf), the bracket closed by the first point where the
    equation is negative, so that a good start costs no bracketing passes."""
    if (fdf(0.0)[0] if at_zero is None else at_zero) <= 0:
        return 0.0
    start = x0 if x0 is not None and x0 > 0 and math.isfinite(x0) else max(scale, 1e-300)
    return decreasing_root(fdf, 0.0, math.inf, x0=start)


# many equations at once: (x, idx) -> (f, f') of the equations numbered idx at x
ArrayDerivativeFunction = Callable[
    ["NDArray[np.float64]", "NDArray[np.intp]"], tuple["NDArray[np.float64]", "NDArray[np.float64]"]
]


def decreasing_roots(
    fdf: ArrayDerivativeFunction,
    x0: NDArray[np.float64],
    lo: NDArray[np.float64],
    hi: NDArray[np.float64],
    maxiter: int = 100,
    step_rtol: float = 4 * EPS,
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """``decreasing_root`` for many equations at once, each iterated until its own test holds
    (the same safeguarded Newton step and convergence tests). ``f > 0`` at ``lo``, ``f < 0`` at
    ``hi``; an infinite ``hi`` is widened fourfold until a sign change, as ``bracket_above``.
    A Newton step below ``step_rtol`` relative is the last one taken (``STEP_RTOL``, as the
    scalar solver: for sums whose rounding noise Newton would otherwise wander on).
    Returns the roots and which equations converged within ``maxiter`` steps (the others are
    for the scalar solver)."""
    x, lo, hi = (np.array(a, dtype=float) for a in (x0, lo, hi))
    out = x.copy()
    live = np.ones(len(x), dtype=bool)
    for _ in range(maxiter):
        idx = np.flatnonzero(live)
        if not len(idx):
            break
        xl, lol, hil = x[idx], lo[idx], hi[idx]
        f, df = fdf(xl, idx)
        lol = np.where(f > 0, xl, lol)
        hil = np.where(f > 0, hil, xl)
        with np.errstate(divide="ignore", invalid="ignore"):
            nxt = xl - np.where((df != 0) & np.isfinite(df), f / df, np.inf)
        tol = max(step_rtol, 4 * EPS) * np.maximum(np.abs(nxt), 1e-300)
        newton = np.isfinite(nxt) & (np.abs(nxt - xl) <= tol)  # before the bracket test, as above
        outside = ~newton & ~((lol < nxt) & (nxt < hil))
        nxt = np.where(outside, np.where(np.isinf(hil), 4 * xl, 0.5 * (lol + hil)), nxt)
        tight = np.isfinite(hil) & (hil - lol <= 4 * EPS * np.maximum(np.abs(hil), 1e-300))
        small = np.isfinite(nxt) & (np.abs(nxt - xl) <= 4 * EPS * np.maximum(np.abs(nxt), 1e-300))
        finished = (f == 0) | newton | small | tight
        out[idx] = np.where(f == 0, xl, nxt)
        live[idx[finished]] = False
        x[idx], lo[idx], hi[idx] = nxt, lol, hil
    return out, ~live
