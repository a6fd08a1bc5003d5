"""The normal, t and chi-square tails and t quantiles of ``distributions``, for whole arrays.

The same algorithms (Press et al., Numerical Recipes, 3rd ed., sections 6.2 and 6.4: the
series and Lentz's continued fractions for the incomplete gamma and beta functions, the t
quantile by safeguarded Newton), run on every element at once: each element is iterated until
its own convergence test holds, so the values are the scalar functions' to rounding, at numpy's
speed for the thousands of refits of a leave-one-out or cumulative meta-analysis.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from metamg.models.distributions import cornish_fisher, norm_sf
from metamg.models.roots import STEP_RTOL, decreasing_roots

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    Array = NDArray[np.float64]

_TINY = 1e-300
_MAXIT = 100_000


def _lgamma(a: Array) -> Array:
    """math.lgamma of each element, called once per distinct value (the df of many fits repeat)."""
    values, inverse = np.unique(a, return_inverse=True)
    out: Array = np.array([math.lgamma(x) for x in values.tolist()], dtype=float)[inverse.ravel()]
    return out


def norm_sf_array(x: ArrayLike) -> Array:
    """P(Z > x), element by element (math.erfc has no numpy counterpart)."""
    return np.array([norm_sf(v) for v in np.asarray(x, dtype=float).ravel().tolist()], dtype=float)


def _floor(d: Array) -> Array:
    """d with the elements of magnitude at most _TINY (or NaN) replaced by _TINY (Lentz's
    guard against a zero denominator; d itself where none is)."""
    size = np.abs(d)
    if size.min(initial=math.inf) > _TINY:
        return d
    return np.where(size > _TINY, d, _TINY)


def _gamma_q(a: Array, x: Array) -> Array:
    """Regularized upper incomplete gamma Q(a, x): the series for P where x < a + 1, the
    continued fraction for Q elsewhere (``distributions._gamma_pq``)."""
    out = np.ones_like(x)
    pos = x > 0
    front = np.zeros_like(x)
    front[pos] = np.exp(a[pos] * np.log(x[pos]) - x[pos] - _lgamma(a[pos]))
    series = pos & (x < a + 1)
    if series.any():
        aa, xx = a[series], x[series]
        term = 1.0 / aa
        total = term.copy()
        ap = aa.copy()
        live = np.ones(len(aa), dtype=bool)
        for _ in range(_MAXIT):
            ap = ap + live  # frozen elements stop changing
            term = np.where(live, term * xx / ap, term)
            total = np.where(live, total + term, total)
            live &= ~(np.abs(term) < np.abs(total) * 1e-17)
            if not live.any():
                break
        out[series] = 1.0 - total * front[series]
    cf = pos & ~series
    if cf.any():
        aa, xx = a[cf], x[cf]
        b = xx + 1 - aa
        c = np.full_like(xx, 1 / _TINY)
        d = 1 / b
        h = d.copy()
        live = np.ones(len(aa), dtype=bool)
        for i in range(1, _MAXIT):
            an = -i * (i - aa)
            b = b + 2
            d = 1 / _floor(an * d + b)
            c = _floor(b + an / c)
            delta = d * c
            h = np.where(live, h * delta, h)
            live &= ~(np.abs(delta - 1) < 1e-16)
            if not live.any():
                break
        out[cf] = front[cf] * h
    return out


def chi2_sf_array(x: ArrayLike, df: ArrayLike) -> Array:
    """P(X > x) for X ~ chi-square(df), element by element (``distributions.chi2_sf``)."""
    x, df = np.broadcast_arrays(np.asarray(x, dtype=float), np.asarray(df, dtype=float))
    return _gamma_q(df.ravel() / 2, x.ravel() / 2)


def _betacf(a: Array, b: Array, x: Array) -> Array:
    """The continued fraction of the incomplete beta function (``distributions._betacf``), each
    element iterated until its own test holds; the converged elements are dropped from the
    arrays once they are a quarter of them."""
    qab, qap, qam = a + b, a + 1, a - 1
    c = np.ones_like(x)
    d = 1 / _floor(1 - qab * x / qap)
    h = d.copy()
    out: Array = h.copy()
    at = np.arange(len(x))  # where each element still in the arrays belongs in out
    finished = np.zeros(len(x), dtype=bool)
    for m in range(1, _MAXIT):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1 / _floor(1 + aa * d)
        c = _floor(1 + aa / c)
        h = h * d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1 / _floor(1 + aa * d)
        c = _floor(1 + aa / c)
        delta = d * c
        h = h * delta
        new = (np.abs(delta - 1) < 1e-16) & ~finished
        if new.any():
            out[at[new]] = h[new]
            finished |= new
            n = int(finished.sum())
            if n == len(at):
                return out
            if 4 * n >= len(at):
                keep = ~finished
                at = at[keep]
                a, b, x, qab, qap, qam, c, d, h = (v[keep] for v in (a, b, x, qab, qap, qam, c, d, h))
                finished = np.zeros(len(at), dtype=bool)
    out[at[~finished]] = h[~finished]
    return out


def _log_beta_norm(a: Array, b: Array) -> Array:
    """log Γ(a + b) - log Γ(a) - log Γ(b), the log of 1/B(a, b)."""
    out: Array = _lgamma(a + b) - _lgamma(a) - _lgamma(b)
    return out


def _beta_lower(a: Array, b: Array, x: Array, y: Array, log_norm: Array | None = None) -> Array:
    """I_x(a, b) given x and y = 1 - x, the smaller tail computed directly
    (``distributions._beta_pair``); ``log_norm``: ``_log_beta_norm(a, b)`` when the caller has it."""
    out = np.where(x <= 0, 0.0, 1.0)
    inside = (x > 0) & (y > 0)
    if not inside.any():
        return out
    a, b, x, y = a[inside], b[inside], x[inside], y[inside]
    norm = _log_beta_norm(a, b) if log_norm is None else log_norm[inside]
    front = np.exp(norm + a * np.log(x) + b * np.log(y))
    direct = x < (a + 1) / (a + b + 2)
    val = np.empty_like(x)
    if direct.any():
        val[direct] = front[direct] * _betacf(a[direct], b[direct], x[direct]) / a[direct]
    flip = ~direct
    if flip.any():
        val[flip] = 1.0 - front[flip] * _betacf(b[flip], a[flip], y[flip]) / b[flip]
    out[inside] = val
    return out


def t_sf_array(t: ArrayLike, df: ArrayLike, log_norm: Array | None = None) -> Array:
    """P(T > t) for T ~ t(df), element by element (``distributions.t_sf``); ``log_norm``:
    ``_log_beta_norm(df/2, 1/2)``, when the caller has it for these df."""
    t, df = np.broadcast_arrays(np.asarray(t, dtype=float), np.asarray(df, dtype=float))
    t, df = t.ravel(), df.ravel()
    t2 = t * t
    with np.errstate(invalid="ignore"):  # t = ±inf: x = 0 and y = NaN, the tail 0 as in t_sf
        a, b = df / 2, np.full_like(df, 0.5)
        tail = 0.5 * _beta_lower(a, b, df / (df + t2), t2 / (df + t2), log_norm)
    return np.where(t >= 0, tail, 1.0 - tail)


def _t_pdf(t: Array, df: Array, lg: Array | None = None) -> Array:
    """The t density; ``lg``: log Γ((df + 1)/2) - log Γ(df/2), when the caller has it."""
    lg = _lgamma((df + 1) / 2) - _lgamma(df / 2) if lg is None else lg
    return np.exp(lg - 0.5 * np.log(df * math.pi) - (df + 1) / 2 * np.log1p(t * t / df))


def _t_start(q: float, df: Array) -> Array:
    """A start for Newton close to the upper q-quantile: exact for 1 and 2 df, else the
    Cornish-Fisher expansion about the normal quantile z to the fifth power of 1/df
    (``distributions.cornish_fisher``), within 1e-12 of the quantile from about 150 df at the
    95% level, where Newton's first step is then the last."""
    z, g1, g2, g3, g4, g5 = cornish_fisher(q)
    u = 1 / df
    start = z + u * (g1 + u * (g2 + u * (g3 + u * (g4 + u * g5))))
    start = np.where(df == 1, math.tan(math.pi * (0.5 - q)), start)
    start = np.where(df == 2, (1 - 2 * q) / math.sqrt(2 * q * (1 - q)), start)
    return np.maximum(start, 1e-3)


def t_ppf_array(p: float, df: ArrayLike) -> Array:
    """t with P(T <= t) = p for T ~ t(df), for an array of df (``distributions.t_ppf``): the
    same safeguarded Newton iteration, on every element at once."""
    df = np.asarray(df, dtype=float).ravel()
    if not 0 < p < 1:
        return np.full_like(df, -math.inf if p <= 0 else math.inf)
    if p == 0.5:
        return np.zeros_like(df)
    q = p if p < 0.5 else 1 - p

    norm = _log_beta_norm(df / 2, np.full_like(df, 0.5))  # the same for every Newton step
    lg = _lgamma((df + 1) / 2) - _lgamma(df / 2)

    def fdf(t: Array, idx: NDArray[np.intp]) -> tuple[Array, Array]:
        return t_sf_array(t, df[idx], norm[idx]) - q, -_t_pdf(t, df[idx], lg[idx])

    start, lo, hi = _t_start(q, df), np.zeros_like(df), np.full_like(df, math.inf)
    root, ok = decreasing_roots(fdf, start, lo, hi, 2000, STEP_RTOL)
    return -root if p < 0.5 else root
