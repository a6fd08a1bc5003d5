"""Many fits of the intercept-only inverse-variance model at once: without each study in turn
(leave-one-out, metafor's leave1out) and on the first 1, 2, ..., k studies (cumulative, cumul).

Each fit gives the numbers ``inverse_variance.fit(yi[kept], vi[kept], method, ci_method, level,
pi, tau2_ci=False)`` gives, for the common-effect model and every tau² estimator, but all fits
are computed together with numpy instead of one ``fit`` call each:

- the weighted sums of every fit at its own tau² come from one (fits x studies) matrix of
  weights W = 1/(v + tau²), the studies a fit leaves out set to 0, and its powers W², W³ (only
  as many as the estimator needs: the fits' final sums need W alone), each times the columns
  (1, d, d²) with d = y - c about a centre c near the fits' estimates (``_evaluate``): Σw,
  Σw(y - μ)² = Σwd² - (Σwd)²/Σw, Σw²(y - μ)², ... Formed in blocks of rows, so that memory
  stays near 16 MB whatever k is; prefix fits in blocks over the studies they can keep. A fit
  whose sum would lose digits to the subtraction (below 1/``AMPLIFICATION`` of its terms: the
  estimate far from c, or one weight carrying almost all of Σw) is summed again term by term,
  residuals about its own estimate as ``fit`` forms them (``_exact``);
- at tau² = 0 (and with equal weights) the weights are the same for every fit, so the sums are
  running sums, O(k) for all fits together, with no subtraction for leave-one-out (the sum
  before i plus the sum after i); tr(P) as ``weights.spread_of_weights`` forms it
  (``_shared_trace_p``); the moment estimators (DL, HE, HS, SJ) are closed forms of these (SJ
  then one evaluation at its starting value);
- the iterative estimators (PM/EB, ML, REML) solve their estimating equations for all fits as
  one vectorised safeguarded Newton problem (``roots.decreasing_roots``), started from the
  full-data tau² (leave-one-out) or the fit's DerSimonian-Laird value (cumulative), truncated
  at 0 exactly as ``roots.nonnegative_root`` does (tau² = 0 where the equation is already <= 0
  at 0). A fit whose iteration does not converge is solved by the scalar estimator, so every
  value is the scalar path's to rounding.

``tests/test_deletion.py`` holds every number to the looped ``fit`` (rtol 1e-9) on the
reference data sets and on generated data, for every method and CI rule.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING, Any

import numpy as np

from metamg.models.array_distributions import chi2_sf_array, norm_sf_array, t_ppf_array, t_sf_array
from metamg.models.distributions import norm_ppf, t_ppf
from metamg.models.roots import STEP_RTOL, decreasing_roots
from metamg.models.tau2 import LIKELIHOODS, PROBES, TAU2_ESTIMATORS
from metamg.models.weights import RSS_ZERO, spread_of_weights

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    Array = NDArray[np.float64]

BLOCK = 1 << 20  # matrix elements per block of fits (8 MB of float64)


# -- which studies each fit keeps ----------------------------------------------------------------


class _Sets:
    """The study sets of the fits: ``leave_one_out`` (fit i keeps every study but i) or
    ``prefix`` (fit n keeps studies 0..n)."""

    def __init__(self, k: int, kind: str) -> None:
        self.k, self.kind = k, kind
        self.sizes: Array = (
            np.full(k, k - 1, dtype=float) if kind == "leave_one_out" else np.arange(1, k + 1, dtype=float)
        )

    def columns(self, rows: NDArray[np.intp]) -> int:
        """How many leading studies the fits ``rows`` (ascending) can keep."""
        return self.k if self.kind == "leave_one_out" else int(rows[-1]) + 1

    def drop_left_out(self, w: Array, rows: NDArray[np.intp]) -> None:
        """Set to 0, in place, the weights ``w`` (fits ``rows`` x leading studies) of the studies
        each fit leaves out."""
        if self.kind == "leave_one_out":
            w[np.arange(len(rows)), rows] = 0.0
        else:
            np.putmask(w, np.arange(w.shape[1])[None, :] > rows[:, None], 0.0)

    def mask(self, rows: NDArray[np.intp]) -> NDArray[np.bool_]:
        cols = np.arange(self.columns(rows))
        if self.kind == "leave_one_out":
            m: NDArray[np.bool_] = cols[None, :] != rows[:, None]
        else:
            m = cols[None, :] <= rows[:, None]
        return m

    def indices(self, row: int) -> NDArray[np.intp]:
        cols = np.arange(self.k)
        kept: NDArray[np.intp] = cols[cols != row] if self.kind == "leave_one_out" else cols[: row + 1]
        return kept

    def total(self, a: Array) -> Array:
        """Σ a over each fit's studies (for each column of a 2-d ``a``): running sums, with no
        subtraction for leave-one-out (the sum before i plus the sum after i)."""
        before = np.cumsum(a, axis=0)
        if self.kind == "prefix":
            return before
        after = np.cumsum(a[::-1], axis=0)[::-1]
        out: Array = np.empty_like(before)
        out[0], out[-1] = after[1], before[-2]
        np.add(before[:-2], after[2:], out=out[1:-1])
        return out

    def blocks(self, rows: NDArray[np.intp]) -> Iterator[NDArray[np.intp]]:
        """``rows`` in blocks of about BLOCK weights; prefix fits in blocks of an eighth of the
        fits (at least 64), each over the studies its last fit keeps, so that most of the
        upper triangle of left-out studies is never formed."""
        step = max(1, BLOCK // max(self.k, 1))
        if self.kind == "prefix":
            step = min(step, max(64, -(-len(rows) // 8)))
        for start in range(0, len(rows), step):
            yield rows[start : start + step]


# -- the weighted sums of every fit at its own tau² ------------------------------------------------

# The sums are formed about a centre c near the fits' estimates (d = y - c): Σw(y - μ)² is
# Σwd² - (Σwd)²/Σw, and so on. Rounding then costs each sum about k·eps of the size of its
# terms (Σwd², ...), so where a sum is below 1/AMPLIFICATION of its terms (the fit's estimate
# far from c, one weight carrying almost all of Σw) the fit is summed again term by term
# (``_exact``): every number keeps at least 12 digits, as the looped ``fit``'s.
AMPLIFICATION = 64.0


@dataclass
class _Sums:
    """P-matrix quantities of each fit at its tau² (``projection.InterceptFit``'s, per fit);
    NaN where not asked for (``order``: 1 for sw, mu, rss; 2 adds yppy, sw2, trace_p; 3 adds
    ypppy, sw3)."""

    sw: Array  # Σw
    mu: Array  # Σwy/Σw
    rss: Array  # Σw(y - μ)² = y'Py
    yppy: Array  # Σw²(y - μ)²
    ypppy: Array  # Σw³(y - μ)² - (Σw²(y - μ))²/Σw
    sw2: Array  # Σw²
    sw3: Array  # Σw³
    trace_p: Array  # Σw - Σw²/Σw, as weights.spread_of_weights

    def trace_pp(self) -> Array:
        """tr(PP) = Σw² - 2Σw³/Σw + (Σw²/Σw)²."""
        out: Array = self.sw2 - 2 * self.sw3 / self.sw + (self.sw2 / self.sw) ** 2
        return out

    def put(self, at: NDArray[np.intp], other: _Sums) -> None:
        for f in fields(self):
            getattr(self, f.name)[at] = getattr(other, f.name)


def _centred(
    c: float | Array, power_sums: list[Array], order: int, trace_p: Array | None = None
) -> tuple[_Sums, NDArray[np.bool_]]:
    """The sums of each fit from its power sums about c: ``power_sums[p-1]`` holds Σwᵖ, Σwᵖd,
    Σwᵖd² (d = y - c) in its three columns, for p = 1..order; and which fits lost digits.
    ``trace_p``: tr(P) of each fit, when the caller has it to full precision."""
    (sw, a1, a2), n = power_sums[0].T, len(power_sums[0])
    e = a1 / sw
    nan = np.full(n, math.nan)
    out = _Sums(sw, c + e, a2 - e * a1, nan, nan.copy(), nan.copy(), nan.copy(), nan.copy())
    bad = ~(a2 <= AMPLIFICATION * out.rss)
    if order >= 2:
        sw2, b1, b2 = power_sums[1].T
        out.sw2 = sw2
        out.yppy = b2 - 2 * e * b1 + e * e * sw2
        bad |= ~(b2 + 2 * np.abs(e * b1) + e * e * sw2 <= AMPLIFICATION * out.yppy)
        if trace_p is None:
            out.trace_p = sw - sw2 / sw
            bad |= ~(sw <= AMPLIFICATION * out.trace_p)  # one weight carries almost all of Σw
        else:
            out.trace_p = trace_p
    if order >= 3:
        sw3, c1, c2 = power_sums[2].T
        out.sw3 = sw3
        out.ypppy = c2 - 2 * e * c1 + e * e * sw3 - (b1 - e * sw2) ** 2 / sw
    return out, bad


def _evaluate(
    yi: Array, vi: Array, sets: _Sets, tau2: Array, rows: NDArray[np.intp] | None = None, order: int = 3
) -> _Sums:
    """The sums of the fits ``rows`` (default all), fit r at tau² = ``tau2[r]``: for each block
    of fits one matrix of weights W (fits x studies, 0 for the studies a fit leaves out) and
    its products with (1, d, d²) for W, W², ... up to ``order``."""
    rows = np.arange(len(sets.sizes)) if rows is None else rows
    nan = np.full(len(rows), math.nan)
    out = _Sums(*(nan.copy() for _ in fields(_Sums)))
    pos = 0
    for block in sets.blocks(rows):
        n, cols = len(block), sets.columns(block)
        y = yi[:cols]
        wc = 1.0 / (vi[:cols] + float(np.median(tau2[block])))
        c = float(wc @ y / wc.sum())  # a centre near every fit's estimate
        d = y - c
        m = np.stack((np.ones(cols), d, d * d), axis=1)
        w = np.add.outer(tau2[block], vi[:cols])
        np.reciprocal(w, out=w)
        sets.drop_left_out(w, block)
        power_sums = [w @ m]
        if order >= 2:
            wp = w * w
            power_sums.append(wp @ m)
            if order >= 3:
                wp *= w
                power_sums.append(wp @ m)
        part, bad = _centred(c, power_sums, order)
        out.put(np.arange(pos, pos + n), part)
        if bad.any():
            out.put(pos + np.flatnonzero(bad), _exact(yi, vi, sets, tau2, block[bad]))
        pos += n
    return out


def _fixed(yi: Array, vi: Array, sets: _Sets, tau2: float, centre: float) -> _Sums:
    """The sums of every fit at one tau² for all (w = 1/(v + tau2)): running sums, O(k)."""
    w = 1.0 / (vi + tau2)
    d = yi - centre
    wd = w * d
    w2 = w * w
    cols = (w, wd, wd * d, w2, w2 * d, w2 * d * d)
    totals = sets.total(np.stack(cols, axis=1))
    out, bad = _centred(centre, [totals[:, :3], totals[:, 3:]], 2, _shared_trace_p(sets, w))
    if bad.any():
        rows = np.flatnonzero(bad)
        out.put(rows, _exact(yi, vi, sets, np.full(sets.k, tau2), rows))
    return out


def _shared_trace_p(sets: _Sets, w: Array) -> Array:
    """tr(P) = Σw - Σw²/Σw of every fit for weights w that all fits share, in O(k) and to full
    precision as ``weights.spread_of_weights``: Σⱼ wⱼ(S - wⱼ)/S with S - w of the fit's
    heaviest study h summed from the others (o = S - w_h), that is (o(S + w_h) - Σⱼ≠h wⱼ²)/S,
    where the subtraction loses at most one bit (Σⱼ≠h wⱼ² <= w_h·o)."""
    k = len(w)
    if sets.kind == "leave_one_out":
        g = int(np.argmax(w))
        light = w.copy()
        light[g] = 0.0
        heavy = np.full(k, w[g])
        others, squares = sets.total(np.stack((light, light * light), axis=1)).T
    else:
        ahead = w[1:] > np.maximum.accumulate(w)[:-1]
        records = np.flatnonzero(np.concatenate(([True], ahead)))  # where the heaviest changes
        h = records[np.searchsorted(records, np.arange(k), side="right") - 1]
        light = w.copy()
        light[records] = 0.0
        running = np.cumsum(np.stack((light, light * light), axis=1), axis=0)
        before = np.zeros((k, 2))  # Σ over the studies before each: no subtraction
        np.cumsum(np.stack((w[:-1], w[:-1] ** 2), axis=1), axis=0, out=before[1:])
        # before h (every weight), then from h to the fit's last study (none heavier than h):
        # the running sums' difference is of weights below o, so o keeps its digits
        others, squares = (before[h] + (running - running[h])).T
        heavy = w[h]
    total = others + heavy
    out: Array = (others * (total + heavy) - squares) / total
    if sets.kind == "leave_one_out":
        out[g] = spread_of_weights(w[sets.indices(g)])  # the fit without the heaviest study
    return out


def _exact(yi: Array, vi: Array, sets: _Sets, tau2: Array, rows: NDArray[np.intp]) -> _Sums:
    """The sums of the fits ``rows`` term by term: residuals about each fit's own estimate, as
    ``fit`` forms them, and tr(P) as ``weights.spread_of_weights`` (the heaviest study's S - w
    summed from the other weights)."""
    out = {f.name: np.empty(len(rows)) for f in fields(_Sums)}
    pos = 0
    for block in sets.blocks(rows):
        n, cols = len(block), sets.columns(block)
        y = yi[:cols]
        w = 1.0 / (vi[None, :cols] + tau2[block][:, None])
        w[~sets.mask(block)] = 0.0
        sw = w.sum(axis=1)
        mu = (w @ y) / sw
        resid = y[None, :] - mu[:, None]
        py = w * resid
        wpy = w * py
        w2 = w * w
        heavy = np.argmax(w, axis=1)
        r = np.arange(n)
        w_heavy = w[r, heavy]
        w[r, heavy] = 0.0
        others = w.sum(axis=1)
        w[r, heavy] = w_heavy
        rest = sw[:, None] - w
        rest[r, heavy] = others
        part = slice(pos, pos + n)
        out["sw"][part] = sw
        out["mu"][part] = mu
        out["rss"][part] = np.einsum("ij,ij->i", py, resid)
        out["yppy"][part] = np.einsum("ij,ij->i", py, py)
        out["ypppy"][part] = np.einsum("ij,ij->i", wpy, py) - wpy.sum(axis=1) ** 2 / sw
        out["sw2"][part] = w2.sum(axis=1)
        out["sw3"][part] = np.einsum("ij,ij->i", w2, w)
        out["trace_p"][part] = np.einsum("ij,ij->i", w, rest) / sw
        pos += n
    return _Sums(**out)


# -- tau² of every fit -----------------------------------------------------------------------------


@dataclass
class _Problem:
    yi: Array
    vi: Array
    sets: _Sets
    start: Array | None  # where Newton starts (None: each fit's DerSimonian-Laird value)
    _at0: _Sums | None = None
    _unweighted: _Sums | None = None

    @property
    def m(self) -> Array:
        return self.sets.sizes

    def at(self, tau2: Array, rows: NDArray[np.intp] | None = None, order: int = 3) -> _Sums:
        return _evaluate(self.yi, self.vi, self.sets, tau2, rows, order)

    @property
    def at0(self) -> _Sums:
        """Every fit at tau² = 0 (Cochran's Q, the DerSimonian-Laird sums)."""
        if self._at0 is None:
            w = 1.0 / self.vi
            self._at0 = _fixed(self.yi, self.vi, self.sets, 0.0, float(w @ self.yi / w.sum()))
        return self._at0

    @property
    def unweighted(self) -> _Sums:
        """Every fit with equal weights: rss is Σ(y - ȳ)² (Hedges, Sidik-Jonkman)."""
        if self._unweighted is None:
            ones = np.zeros_like(self.vi)  # w = 1/(0 + 1)
            self._unweighted = _fixed(self.yi, ones, self.sets, 1.0, float(np.mean(self.yi)))
        return self._unweighted


def _safe(num: Array, den: Array) -> Array:
    with np.errstate(divide="ignore", invalid="ignore"):
        out: Array = np.where(den != 0, num / np.where(den != 0, den, 1.0), 0.0)
    return out


def _dersimonian_laird(pr: _Problem) -> Array:
    """DL: (Q - (k-1)) / (Σw - Σw²/Σw), w = 1/v, truncated at 0 (DerSimonian & Laird 1986,
    eq. 2; ``tau2.dersimonian_laird``)."""
    return np.maximum(0.0, _safe(pr.at0.rss - (pr.m - 1), pr.at0.trace_p))


def _hedges(pr: _Problem) -> Array:
    """HE: Σ(y - ȳ)²/(k-1) - mean(v), truncated at 0 (Hedges 1983; ``tau2.hedges``: the
    unweighted residual sum of squares less Σv(1 - 1/k), over k-1)."""
    m = pr.m
    tr_pv = pr.sets.total(pr.vi) * (1 - 1 / m)
    return np.maximum(0.0, _safe(pr.unweighted.rss - tr_pv, m - 1))


def _hunter_schmidt(pr: _Problem) -> Array:
    """HS: (Q - k)/Σw, w = 1/v, truncated at 0 (Hunter & Schmidt 2004; Viechtbauer 2005,
    eq. 9; ``tau2.hunter_schmidt``)."""
    return np.maximum(0.0, (pr.at0.rss - pr.m) / pr.sets.total(1.0 / pr.vi))


def _sidik_jonkman(pr: _Problem) -> Array:
    """SJ: tau²₀·Q(tau²₀)/(k-1) from tau²₀ = Σ(y - ȳ)²/k, 0 when tau²₀ = 0 (Sidik & Jonkman
    2005, eq. 4; ``tau2.sidik_jonkman``)."""
    tau0 = pr.unweighted.rss / pr.m
    out = np.zeros(len(tau0))
    rows = np.flatnonzero(tau0 != 0)
    if len(rows):
        out[rows] = tau0[rows] * pr.at(tau0, rows, 1).rss / (pr.m[rows] - 1)
    return out


# estimating equations, each decreasing in tau²: fits' sums and sizes -> (f, f')
Equation = Callable[[_Sums, "Array"], tuple["Array", "Array"]]


def _paule_mandel_equation(s: _Sums, m: Array) -> tuple[Array, Array]:
    """PM (and EB): Q(tau²) - (k-1), derivative -Σw²(y - μ)² (Paule & Mandel 1982;
    ``tau2.paule_mandel``)."""
    return s.rss - (m - 1), -s.yppy


def _ml_equation(s: _Sums, m: Array) -> tuple[Array, Array]:
    """ML: y'PPy - Σw, derivative -2y'PPPy + Σw² (Hardy & Thompson 1996, eq. 3;
    ``tau2.maximum_likelihood``)."""
    return s.yppy - s.sw, -2 * s.ypppy + s.sw2


def _reml_equation(s: _Sums, m: Array) -> tuple[Array, Array]:
    """REML: y'PPy - tr(P), derivative -2y'PPPy + tr(PP) (Harville 1977; Viechtbauer 2005,
    eq. 12; ``tau2.restricted_maximum_likelihood``)."""
    return s.yppy - s.trace_p, -2 * s.ypppy + s.trace_pp()


def _iterative(equation: Equation, method: str, order: int) -> Callable[[_Problem], Array]:
    def estimate(pr: _Problem) -> Array:
        """Root of ``equation`` in tau² >= 0 for every fit, as ``roots.nonnegative_root``: 0
        where the equation is <= 0 at 0 (and for a single study, as ``fit``), else the
        vectorised Newton iteration, with the scalar estimator for fits it leaves unsolved."""
        m = pr.m
        out = np.zeros(len(m))
        f0, _ = equation(pr.at0, m)
        if method in LIKELIHOODS:
            _interior_maxima(pr, equation, method, np.flatnonzero((f0 <= 0) & (m > 1)), out)
        rows = np.flatnonzero((f0 > 0) & (m > 1))
        if not len(rows):
            return out
        start = _dersimonian_laird(pr) if pr.start is None else pr.start
        scale = np.maximum(pr.unweighted.rss / m, pr.sets.total(pr.vi) / m)  # weights.tau2_scale
        x0 = np.where(start[rows] > 0, start[rows], scale[rows])

        def fdf(t: Array, idx: NDArray[np.intp]) -> tuple[Array, Array]:
            return equation(pr.at(_spread(t, rows[idx], len(m)), rows[idx], order), m[rows[idx]])

        lo, hi = np.zeros(len(rows)), np.full(len(rows), math.inf)
        root, ok = decreasing_roots(fdf, x0, lo, hi, 100, STEP_RTOL)
        out[rows] = root
        for r in rows[~ok]:  # the scalar solver for what the vectorised one did not settle
            kept = pr.sets.indices(int(r))
            out[r] = TAU2_ESTIMATORS[method](pr.yi[kept], pr.vi[kept])
        return out

    return estimate


def _interior_maxima(
    pr: _Problem, equation: Equation, method: str, zero: NDArray[np.intp], out: Array
) -> None:
    """ML and REML fits whose score is <= 0 at tau² = 0: the scalar estimator (into ``out``)
    for those whose score turns positive again at one of ``tau2._interior_maximum``'s probes
    below the Hedges estimate, where the likelihood may peak inside; the others stay at 0."""
    he = _hedges(pr)
    zero = zero[he[zero] > 0]
    positive = np.zeros(len(zero), dtype=bool)
    for j in range(PROBES):
        if not len(zero):
            break
        t = _spread(he[zero] / 2.0**j, zero, len(pr.m))
        f, _ = equation(pr.at(t, zero), pr.m[zero])
        positive |= f > 0
    for r in zero[positive]:
        kept = pr.sets.indices(int(r))
        out[r] = TAU2_ESTIMATORS[method](pr.yi[kept], pr.vi[kept])


def _spread(values: Array, rows: NDArray[np.intp], n: int) -> Array:
    """``values`` at positions ``rows`` of an array of length n (the rest unused)."""
    full = np.zeros(n)
    full[rows] = values
    return full


ESTIMATORS: dict[str, Callable[[_Problem], Array]] = {
    "DL": _dersimonian_laird,
    "HE": _hedges,
    "HS": _hunter_schmidt,
    "SJ": _sidik_jonkman,
    "PM": _iterative(_paule_mandel_equation, "PM", 2),
    "EB": _iterative(_paule_mandel_equation, "EB", 2),
    "ML": _iterative(_ml_equation, "ML", 3),
    "REML": _iterative(_reml_equation, "REML", 3),
}


# -- the fits ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FitNumbers:
    """The numbers of one of the fits, named as ``PoolResult``'s fields, for code that reads a
    refit's result without pooling its subset again (no per-study arrays, no rules)."""

    method: str
    level: float
    ci_method: str
    k: int
    tau2: float
    tau: float
    estimate: float
    se: float
    statistic: float
    p: float
    ci_low: float
    ci_high: float
    df: float | None
    hk_scale: float
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    i2_q: float
    pi_low: float
    pi_high: float
    pi_df: float | None
    model: str = "inverse-variance"

    @property
    def is_random(self) -> bool:
        return self.method != "FE"


@dataclass(frozen=True)
class SubsetFits:
    """One entry per fit, each as ``inverse_variance.fit`` computes it (``df`` and ``pi_df`` NaN
    for z; ``ci_method`` per fit, Wald for a single study)."""

    method: str
    level: float
    k: NDArray[np.int_]
    ci_method: tuple[str, ...]
    tau2: Array
    estimate: Array
    se: Array
    statistic: Array
    p: Array
    ci_low: Array
    ci_high: Array
    df: Array
    hk_scale: Array
    q: Array
    q_df: NDArray[np.int_]
    q_p: Array
    i2: Array
    h2: Array
    i2_q: Array
    pi_low: Array
    pi_high: Array
    pi_df: Array
    weight_sum: Array  # Σw at the fit's tau², over the studies it keeps

    def __len__(self) -> int:
        return len(self.k)

    def row(self, i: int) -> dict[str, Any]:
        """Fit i's numbers, named as ``PoolResult``'s fields (Python scalars; None for z df)."""
        d: dict[str, Any] = {"method": self.method, "level": self.level, "ci_method": self.ci_method[i]}
        for f in fields(self):
            if f.name in d or f.name == "weight_sum":
                continue
            v = getattr(self, f.name)[i].item()
            d[f.name] = None if f.name in ("df", "pi_df") and math.isnan(v) else v
        d["tau"] = math.sqrt(d["tau2"])
        return d

    def result(self, i: int) -> FitNumbers:
        """Fit i's numbers as one object that reads like a PoolResult."""
        return FitNumbers(**self.row(i))


def leave_one_out_fits(
    yi: ArrayLike, vi: ArrayLike, method: str, ci_method: str, level: float = 0.95, pi: str = "default"
) -> SubsetFits:
    """The model fitted without each study in turn (fit i leaves out study i; k >= 2)."""
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if len(yi) < 2:
        raise ValueError("leave-one-out needs at least 2 studies")
    method = _method(method)
    start = None
    if method in ("PM", "EB", "ML", "REML"):
        start = np.full(len(yi), TAU2_ESTIMATORS[method](yi, vi))
    return _fits(_Problem(yi, vi, _Sets(len(yi), "leave_one_out"), start), method, ci_method, level, pi)


def cumulative_fits(
    yi: ArrayLike, vi: ArrayLike, method: str, ci_method: str, level: float = 0.95, pi: str = "default"
) -> SubsetFits:
    """The model fitted on the first 1, 2, ..., k studies (in the order given)."""
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    if len(yi) < 1:
        raise ValueError("no studies")
    return _fits(_Problem(yi, vi, _Sets(len(yi), "prefix"), None), _method(method), ci_method, level, pi)


def _method(method: str) -> str:
    method = method.upper()
    method = "FE" if method in ("FE", "EE", "CE") else method
    if method != "FE" and method not in ESTIMATORS:
        raise ValueError(f"unknown method {method!r}")
    return method


def _quantiles(p: float, df: Array) -> Array:
    """t quantiles for each df (NaN where df is NaN): the scalar function for few distinct df."""
    out = np.full(len(df), math.nan)
    finite = ~np.isnan(df)
    values = np.unique(df[finite])
    if len(values) <= 8:
        for v in values.tolist():
            out[df == v] = t_ppf(p, v)
    elif len(values):
        uq = t_ppf_array(p, values)
        out[finite] = uq[np.searchsorted(values, df[finite])]
    return out


def _fits(pr: _Problem, method: str, ci_method: str, level: float, pi: str) -> SubsetFits:
    m = pr.m
    n = len(m)
    fe = method == "FE"
    tau2 = np.zeros(n) if fe else ESTIMATORS[method](pr)
    tau2 = np.where(m > 1, tau2, 0.0)
    s = pr.at0 if fe or not tau2.any() else pr.at(tau2, order=1)
    est = s.mu
    se = np.sqrt(1.0 / s.sw)

    t_based = np.full(n, ci_method != "wald") & (m > 1)
    ci_used = tuple(ci_method if t else "wald" for t in t_based.tolist())
    df = np.where(t_based, m - 1, math.nan)
    # the Knapp-Hartung factor of each fit (weights.knapp_hartung_scale): 1 under Wald
    with np.errstate(divide="ignore", invalid="ignore"):
        s2 = np.where(s.rss <= RSS_ZERO, 0.0, s.rss / (m - 1))
    if ci_method == "hk-adhoc":
        s2 = np.maximum(1.0, s2)
    s2 = np.where(t_based, s2, 1.0)
    se = se * np.sqrt(s2)
    half_p = 1 - (1 - level) / 2
    crit = np.where(t_based, _quantiles(half_p, df), norm_ppf(half_p))

    with np.errstate(divide="ignore", invalid="ignore"):
        stat = est / se
    p = np.empty(n)
    z_rows = ~t_based
    p[z_rows] = 2 * norm_sf_array(np.abs(stat[z_rows]))
    p[t_based] = 2 * t_sf_array(np.abs(stat[t_based]), df[t_based])
    zero = se == 0  # studies agreeing exactly under Hartung-Knapp: R's est/0
    stat = np.where(zero, np.where(est != 0, np.copysign(math.inf, est), math.nan), stat)
    p = np.where(zero, np.where(est != 0, 0.0, math.nan), p)

    q = pr.at0.rss
    q_df = m - 1
    q_p = np.ones(n)
    has_df = q_df > 0
    q_p[has_df] = chi2_sf_array(q[has_df], q_df[has_df])
    i2_q = np.where(has_df & (q > 0), 100 * np.maximum(0.0, _safe(q - q_df, q)), 0.0)
    h2_q = np.where(has_df, _safe(q, q_df), 1.0)

    if fe:
        i2, h2 = i2_q, h2_q
        pi_low, pi_high, pi_df = est - crit * se, est + crit * se, df
    else:
        vt = np.where(m > 1, _safe(m - 1, pr.at0.trace_p), 0.0)
        i2 = np.where(tau2 > 0, 100 * _safe(tau2, tau2 + vt), 0.0)
        h2 = np.where(vt > 0, _safe(tau2 + vt, vt), 1.0)
        half = np.sqrt(se * se + tau2)
        if pi == "hts":
            pi_df = np.where(m >= 3, m - 2, math.nan)
            pi_crit = _quantiles(half_p, pi_df)
        else:
            pi_df, pi_crit = df, crit
        pi_low, pi_high = est - pi_crit * half, est + pi_crit * half

    return SubsetFits(
        method=method,
        level=level,
        k=m.astype(int),
        ci_method=ci_used,
        tau2=tau2,
        estimate=est,
        se=se,
        statistic=stat,
        p=p,
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        df=df,
        hk_scale=s2,
        q=q,
        q_df=q_df.astype(int),
        q_p=q_p,
        i2=i2,
        h2=h2,
        i2_q=i2_q,
        pi_low=pi_low,
        pi_high=pi_high,
        pi_df=pi_df,
        weight_sum=s.sw,
    )
