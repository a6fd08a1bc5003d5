"""The faster arithmetic of issue 13 against the slower paths it replaces.

``fit`` computes the fit at tau² = 0 once (Cochran's Q, the typical variance, the iterative
estimators' start and test at 0, the Q-profile's first step) and starts the Q-profile from the
estimate; the root finder stops on a Newton step below 1e-12 relative and grows an open bracket
instead of bracketing first. Each number is held here to what the separate functions (and a
plain bisection, which shares nothing with Newton's method) give, at rtol 1e-10."""

from __future__ import annotations

import math

import numpy as np
import pytest

import metamg
from metamg.models.distributions import chi2_ppf
from metamg.models.inverse_variance import fit
from metamg.models.metaregression import intercept_and, meta_regression, permuted_statistics
from metamg.models.projection import weighted_fit
from metamg.models.qprofile import q_profile
from metamg.models.roots import decreasing_root, nonnegative_root, root_near
from metamg.models.tau2 import TAU2_ESTIMATORS
from metamg.models.weights import cochran_q, generalized_q, typical_variance
from tests.helpers import CASES_DIR

RTOL = 1e-10


def data(k: int, seed: int, spread: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    vi = 4 / rng.integers(20, 401, k) * 10.0 ** rng.uniform(-spread, spread, k)
    return rng.normal(0.3, np.sqrt(vi + 0.05)), vi


DATA = {
    "k2": data(2, 1),
    "k3": data(3, 2),
    "k50": data(50, 3),
    "k5000": data(5000, 4),
    "weights 1e12 apart": data(40, 5, spread=6),
    "homogeneous": (np.full(6, 0.2), np.linspace(0.01, 0.2, 6)),
}


def bisect(f, lo: float, hi: float) -> float:
    """Root of a decreasing f in [lo, hi] by bisection to the spacing of floats."""
    while hi - lo > 2e-16 * hi:
        mid = 0.5 * (lo + hi)
        if mid in (lo, hi):
            break
        lo, hi = (mid, hi) if f(mid) > 0 else (lo, mid)
    return 0.5 * (lo + hi)


def bisected_root(f, scale: float) -> float:
    """The truncated root in tau² >= 0, as every estimator and the Q-profile define it."""
    if f(0.0) <= 0:
        return 0.0
    hi = scale
    while f(hi) > 0:
        hi *= 4
    return bisect(f, 0.0, hi)


EQUATIONS = {
    "REML": lambda f, k: f.yppy() - f.trace_p(),
    "ML": lambda f, k: f.yppy() - float(f.w.sum()),
    "PM": lambda f, k: f.rss() - (k - 1),
    "EB": lambda f, k: f.rss() - (k - 1),
}


def close(a: float, b: float, rtol: float = RTOL, atol: float = 1e-14) -> bool:
    return abs(a - b) <= rtol * abs(b) + atol


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("method", sorted(EQUATIONS))
def test_iterative_tau2_is_the_bisected_root(name, method):
    yi, vi = DATA[name]
    k = len(yi)
    expected = bisected_root(lambda t: EQUATIONS[method](weighted_fit(yi, vi, None, t), k), 1.0)
    got = TAU2_ESTIMATORS[method](yi, vi)
    assert close(got, expected, rtol=1e-9, atol=1e-15 * float(np.mean(vi))), (got, expected)
    assert fit(yi, vi, method, "hk", tau2_ci=False).tau2 == got


@pytest.mark.parametrize("name", sorted(DATA))
@pytest.mark.parametrize("method", ["FE", *TAU2_ESTIMATORS])
@pytest.mark.parametrize("ci_method", ["wald", "hk"])
def test_fit_equals_its_pieces_computed_separately(name, method, ci_method):
    """Q, I² (through the typical variance), tau² and the Q-profile CI of fit() equal the
    separate functions', which recompute everything from the data."""
    yi, vi = DATA[name]
    r = fit(yi, vi, method, ci_method)
    assert r.q == cochran_q(yi, vi)  # the same operations on the same numbers
    if method == "FE":
        return
    assert r.tau2 == TAU2_ESTIMATORS[method](yi, vi)
    vt = typical_variance(vi)
    assert r.i2 == (100 * r.tau2 / (r.tau2 + vt) if r.tau2 > 0 else 0.0)
    iv = q_profile(yi, vi, r.level)  # from tau² = 0, without the fit's hints
    assert close(r.tau2_ci_low, iv.low) and close(r.tau2_ci_high, iv.high)
    for bound, quantile in ((r.tau2_ci_low, 0.975), (r.tau2_ci_high, 0.025)):
        target = chi2_ppf(quantile, len(yi) - 1)
        expected = bisected_root(lambda t, target=target: generalized_q(yi, vi, t)[0] - target, 1.0)
        assert close(bound, expected, rtol=1e-9, atol=1e-15), (bound, expected)


def test_the_q_profile_start_from_the_estimate_gives_the_same_interval():
    yi, vi = DATA["k5000"]
    tau2 = TAU2_ESTIMATORS["REML"](yi, vi)
    w = 1 / (vi + tau2)
    est = float(w @ yi / w.sum())
    r2 = (yi - est) ** 2
    hinted = q_profile(yi, vi, 0.9, at_zero=generalized_q(yi, vi, 0.0), near=(tau2, w @ r2, -(w * w) @ r2))
    plain = q_profile(yi, vi, 0.9)
    assert close(hinted.low, plain.low) and close(hinted.high, plain.high)
    assert hinted.empty is plain.empty is False


@pytest.mark.slow
def test_a_large_fit_matches_the_bisected_roots():
    """A smaller version of the benchmark's million studies (memory: a few rows of k)."""
    yi, vi = data(200_000, 6)
    r = fit(yi, vi, "REML", "hk")
    expected = bisected_root(lambda t: EQUATIONS["REML"](weighted_fit(yi, vi, None, t), len(yi)), 1.0)
    assert close(r.tau2, expected, rtol=1e-9)
    target = chi2_ppf(0.975, len(yi) - 1)
    assert close(r.tau2_ci_low, bisected_root(lambda t: generalized_q(yi, vi, t)[0] - target, 1.0), 1e-9)


def test_decreasing_root_with_an_open_bracket():
    def fdf(x):
        return 3.0 - math.log1p(x), -1 / (1 + x)

    root = math.expm1(3.0)
    assert decreasing_root(fdf, 0.0, math.inf, x0=0.5) == pytest.approx(root, rel=1e-14)
    assert nonnegative_root(fdf, 1.0) == pytest.approx(root, rel=1e-14)
    assert nonnegative_root(fdf, 1.0, x0=1e6) == pytest.approx(root, rel=1e-14)
    assert root_near(fdf, 19.0) == pytest.approx(root, rel=1e-14)
    assert root_near(fdf, 21.0) == pytest.approx(root, rel=1e-14)
    assert nonnegative_root(lambda x: (-1.0 - x, -1.0), 1.0) == 0.0
    with pytest.raises(ValueError):
        decreasing_root(fdf, 0.0, math.inf)


def test_a_wrong_slope_widens_the_open_bracket():
    """Newton's step is useless (the slope has the wrong sign): the bracket grows fourfold."""

    def fdf(x):
        return 100.0 - x, 1.0

    assert decreasing_root(fdf, 0.0, math.inf, x0=1.0) == pytest.approx(100.0, rel=1e-14)


# -- trim and fill: the L0 iterations with the estimate alone -----------------------------------


@pytest.mark.parametrize("name", ["k50", "k5000", "weights 1e12 apart", "homogeneous", "bcg", "skewed"])
@pytest.mark.parametrize("method", ["FE", "DL", "REML", "PM", "ML", "SJ", "ee", "reml"])
def test_trim_and_fill_iterations_equal_the_full_fits(monkeypatch, name, method):
    """The L0 iterations refit with ``_estimate``; the full ``fit(...).estimate`` they replace
    gives the same k0, side, filled studies and adjusted result, bit for bit."""
    from metamg.analyses import trimfill

    if name == "bcg":
        a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR")
        yi, vi = a.effects.yi, a.effects.vi
    elif name == "skewed":  # small studies with large effects: studies to fill
        vi = np.linspace(0.01, 0.5, 40)
        yi = 0.2 + 2 * np.sqrt(vi) * np.abs(np.random.default_rng(7).normal(size=40))
    else:
        yi, vi = DATA[name]
    fast = trimfill.trim_and_fill(yi, vi, method, ci_method="hk")
    monkeypatch.setattr(
        trimfill,
        "_estimate",
        lambda y, v, m: fit(y, v, method=m, ci_method="wald", tau2_ci=False).estimate,
    )
    slow = trimfill.trim_and_fill(yi, vi, method, ci_method="hk")
    assert fast.to_dict() == slow.to_dict()
    if name == "skewed":
        assert fast.k0 > 0


# -- permutation tests: all permutations as one batched problem ----------------------------------


def designs():
    rng = np.random.default_rng(11)
    yi, vi = data(30, 12)
    x = rng.normal(size=30)
    g = rng.integers(0, 3, 30)
    yield "continuous", yi, vi, intercept_and(x)
    yield "categorical", yi, vi, intercept_and((g == 1).astype(float), (g == 2).astype(float))
    yield "two moderators", yi, vi, intercept_and(x, (g == 2).astype(float))
    yield "k = p + 1", yi[:4], vi[:4], intercept_and(x[:4], (g[:4] == 2).astype(float))
    # little spread: tau² = 0 for most permutations (the truncation); identical effects would
    # make every fit exact (Knapp-Hartung scale 0), which regress() refuses before permuting
    yield (
        "homogeneous",
        0.1 + 0.01 * rng.normal(size=8),
        np.linspace(0.01, 0.1, 8),
        intercept_and(np.arange(8.0)),
    )
    yield "intercept only", yi, vi, np.ones((30, 1))


DESIGNS = {name: (yi, vi, X) for name, yi, vi, X in designs()}


def looped(yi, vi, X, perms, method, ci_method):
    """The refits one at a time, as permutation_test did before: meta_regression per permutation."""
    stats, qm = [], []
    names = [f"b{j}" for j in range(X.shape[1])]
    for perm in perms:
        try:
            r = meta_regression(yi, vi, X[perm], names, method=method, ci_method=ci_method)
        except ValueError:
            stats.append([np.nan] * X.shape[1])
            qm.append(np.nan)
            continue
        stats.append([c.statistic for c in r.coefficients])
        qm.append(r.qm)
    return np.array(stats), np.array(qm)


def same(a, b, rtol=1e-9) -> bool:
    a, b = np.asarray(a, float), np.asarray(b, float)
    both_nan = np.isnan(a) & np.isnan(b)
    equal = a == b  # infinities
    with np.errstate(invalid="ignore"):
        near = np.abs(a - b) <= rtol * np.abs(b) + 1e-12
    return bool(np.all(both_nan | equal | near))


@pytest.mark.parametrize("name", sorted(DESIGNS))
@pytest.mark.parametrize("method", ["FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM"])
@pytest.mark.parametrize("ci_method", ["wald", "hk", "hk-adhoc"])
def test_batched_permutation_statistics_equal_the_refits(name, method, ci_method):
    yi, vi, X = DESIGNS[name]
    if name == "k = p + 1" and method != "FE":
        X = X[:, :2]  # tau² needs k > p
    rng = np.random.default_rng(5)
    perms = np.array([rng.permutation(len(yi)) for _ in range(40)])
    perms[0] = np.arange(len(yi))  # the observed order itself
    stats, qm = permuted_statistics(yi, vi, X, perms, method, ci_method)
    ref_stats, ref_qm = looped(yi, vi, X, perms, method, ci_method)
    assert same(stats, ref_stats), (stats[:3], ref_stats[:3])
    assert same(qm, ref_qm), (qm[:3], ref_qm[:3])


@pytest.mark.parametrize(
    "case,measure,mod,method,ci",
    [
        ("bcg", "RR", "ablat", "REML", "hk"),
        ("bcg", "RR", "ablat", "DL", "wald"),
        ("bcg", "RR", "alloc", "PM", "hk-adhoc"),
        ("molloy2014", "ZCOR", "meanage", "FE", "wald"),
        ("molloy2014", "ZCOR", "meanage", "ML", "hk"),
    ],
)
def test_permutation_p_values_for_a_seed_are_the_refits(monkeypatch, case, measure, mod, method, ci):
    """The same draws in the same order, counted as before: the same p-values, exactly."""
    from metamg.analyses import regression

    a = metamg.pool(CASES_DIR / f"{case}.csv", measure=measure)
    fast = regression.permutation_test(a, [mod], ci, 300, seed=9, method=method)
    monkeypatch.setattr(regression, "permuted_statistics", looped)
    slow = regression.permutation_test(a, [mod], ci, 300, seed=9, method=method)
    assert fast.to_dict() == slow.to_dict()
    assert fast.p[1] < 1


def test_permutations_in_blocks_equal_one_block(monkeypatch):
    from metamg.models import metaregression

    yi, vi, X = DESIGNS["two moderators"]
    rng = np.random.default_rng(2)
    perms = np.array([rng.permutation(len(yi)) for _ in range(25)])
    whole = permuted_statistics(yi, vi, X, perms, "REML", "hk")
    monkeypatch.setattr(metaregression, "_BLOCK", 7 * len(yi) * X.shape[1])  # blocks of 7
    blocks = permuted_statistics(yi, vi, X, perms, "REML", "hk")
    assert np.array_equal(whole[0], blocks[0]) and np.array_equal(whole[1], blocks[1])
    assert permuted_statistics(yi, vi, X, np.empty((0, len(yi)), dtype=int))[0].shape == (0, 3)


def test_q_profile_started_where_q_is_zero_does_not_divide_by_zero():
    """Found by hypothesis: identical effects of 3e13 with variances 1 and 3e-6 leave Q = 0 at the
    estimate (the Q-profile's Newton start) while rounding makes Q(0) a little above the lower
    chi-square quantile."""
    r = metamg.fit([-3.278121e13, -3.278121e13], [1.0, 0.000003], method="DL")
    assert (r.tau2_ci_low, r.tau2_ci_high) == (0.0, 0.0) and r.estimate == -3.278121e13
