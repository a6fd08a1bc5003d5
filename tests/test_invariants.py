"""Invariants of the inverse-variance models, for random (yi, vi) and every method: the common-effect
model (FE) and each tau² estimator (DL, HE, HS, SJ, ML, REML, EB, PM).

- The order of the studies does not matter.
- tau² >= 0, and the CI contains the estimate.
- Location: adding c to every yi adds c to the estimate and its CI and leaves tau², Q and I² alone.
- Scale: multiplying yi by s and vi by s² multiplies tau² by s² and the estimate and CI by s,
  and leaves Q and I² alone. All eight estimators are equivariant: each is a function of
  w·(y - ŷ)², w = 1/(v + tau²), and of sums of w, which scale exactly so. With s a power of two
  every floating-point step scales exactly too, and so do the results, bit for bit.
- The Q-profile interval for tau² brackets the Paule-Mandel estimate (and EB, the same
  estimator): see test_the_mean_of_chi_square_lies_between_its_quantiles.
- The prediction interval contains the CI for random-effects models.

Data: k from 2 to 30, yi up to 1000 in size (ties and equal values included), vi from 1e-3 to
1e3. Rounding grows with the spread of the variances: Σw - Σw²/Σw (DerSimonian-Laird's
denominator, tr(P)) loses about log10(max vi / min vi) digits, so with variances 1e6 apart the
tolerance below (1e-9 relative to the data's scale) still leaves room.
"""

import math

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import metamg
from metamg.models import TAU2_ESTIMATORS
from metamg.models.distributions import chi2_cdf, chi2_ppf
from metamg.models.weights import generalized_q

METHODS = ("FE", *TAU2_ESTIMATORS)  # FE, DL, HE, HS, SJ, PM, EB, ML, REML
RANDOM = tuple(TAU2_ESTIMATORS)
CI_METHODS = ("wald", "hk", "hk-adhoc")
LEVELS = (0.5, 0.8, 0.9, 0.95, 0.99)
RTOL = 1e-9

# 50 examples per method, so each invariant sees 400 to 450 data sets (about 3 s a test)
SETTINGS = settings(max_examples=50, deadline=None)

effect = st.one_of(
    st.floats(-10, 10, allow_subnormal=False), st.floats(-1000, 1000), st.sampled_from([0.0, 1.0, -1.0, 0.5])
)
variance = st.one_of(st.floats(1e-3, 1e3), st.sampled_from([0.01, 0.1, 1.0]))


@st.composite
def studies(draw, min_k=2):
    k = draw(st.integers(min_k, 30))
    yi = np.array(draw(st.lists(effect, min_size=k, max_size=k)))
    vi = np.array(draw(st.lists(variance, min_size=k, max_size=k)))
    return yi, vi


def spread(yi, vi) -> float:
    """The data's own tau² scale: differences in tau² below RTOL of it are rounding."""
    return max(float(np.var(yi)), float(np.mean(vi)))


def location(yi, vi) -> float:
    """The data's own location scale, for estimates and interval limits."""
    return max(float(np.abs(yi).max()), math.sqrt(float(vi.max())))


def close(a, b, scale, rtol=RTOL) -> bool:
    return abs(a - b) <= rtol * max(abs(a), abs(b), scale)


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(data=studies(), order=st.randoms(use_true_random=False), ci=st.sampled_from(CI_METHODS))
def test_the_order_of_the_studies_does_not_matter(method, data, order, ci):
    yi, vi = data
    perm = list(range(len(yi)))
    order.shuffle(perm)
    a = metamg.fit(yi, vi, method=method, ci_method=ci)
    b = metamg.fit(yi[perm], vi[perm], method=method, ci_method=ci)
    loc, tau = location(yi, vi), spread(yi, vi)
    for field in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        assert close(getattr(a, field), getattr(b, field), loc), field
    for field in ("tau2", "tau2_ci_low", "tau2_ci_high"):
        if getattr(a, field) is not None:
            assert close(getattr(a, field), getattr(b, field), tau), field
    assert close(a.q, b.q, len(yi), 1e-8) and close(a.i2, b.i2, 100, 1e-8)


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(data=studies(), ci=st.sampled_from(CI_METHODS), level=st.sampled_from(LEVELS))
def test_tau2_is_never_negative_and_the_ci_contains_the_estimate(method, data, ci, level):
    r = metamg.fit(*data, method=method, ci_method=ci, level=level)
    assert r.tau2 >= 0 and r.tau >= 0
    assert r.ci_low <= r.estimate <= r.ci_high
    if method != "FE":
        assert 0 <= r.tau2_ci_low <= r.tau2_ci_high
        assert 0 <= r.i2 <= 100


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(data=studies(), c=st.floats(-100, 100), ci=st.sampled_from(CI_METHODS))
def test_shifting_every_effect_shifts_the_estimate_and_leaves_heterogeneity_alone(method, data, c, ci):
    yi, vi = data
    a = metamg.fit(yi, vi, method=method, ci_method=ci, tau2_ci=False)
    b = metamg.fit(yi + c, vi, method=method, ci_method=ci, tau2_ci=False)
    loc = location(yi, vi) + abs(c)
    for field in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        assert close(getattr(b, field), getattr(a, field) + c, loc), field
    # yi + c is itself rounded (by up to ulp(|yi| + |c|)), which the heterogeneity statistics see
    assert close(b.tau2, a.tau2, spread(yi, vi), 1e-7)
    assert close(b.q, a.q, len(yi), 1e-7) and close(b.i2, a.i2, 100, 1e-7)


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(data=studies(), s=st.floats(0.01, 100), ci=st.sampled_from(CI_METHODS))
def test_scaling_the_effects_scales_tau2_by_the_square(method, data, s, ci):
    yi, vi = data
    a = metamg.fit(yi, vi, method=method, ci_method=ci, tau2_ci=False)
    b = metamg.fit(yi * s, vi * s * s, method=method, ci_method=ci, tau2_ci=False)
    assert close(b.tau2, a.tau2 * s * s, spread(yi, vi) * s * s)
    for field in ("estimate", "ci_low", "ci_high", "pi_low", "pi_high"):
        assert close(getattr(b, field), getattr(a, field) * s, location(yi, vi) * s), field
    assert close(b.q, a.q, len(yi), 1e-8) and close(b.i2, a.i2, 100, 1e-8)


@pytest.mark.parametrize("method", METHODS)
@SETTINGS
@given(data=studies(), j=st.integers(-30, 30))
def test_scaling_by_a_power_of_two_is_exact(method, data, j):
    yi, vi = data
    # exact only while no intermediate is subnormal (y near 2e-308 halves into lost bits)
    assume(np.all((yi == 0) | (np.abs(yi) > 1e-290)))
    s = 2.0**j
    a = metamg.fit(yi, vi, method=method)
    b = metamg.fit(yi * s, vi * s * s, method=method)
    assert b.tau2 == a.tau2 * s * s
    assert (b.estimate, b.ci_low, b.ci_high) == (a.estimate * s, a.ci_low * s, a.ci_high * s)
    assert (b.q, b.i2) == (a.q, a.i2)
    if method != "FE":
        assert (b.tau2_ci_low, b.tau2_ci_high) == (a.tau2_ci_low * s * s, a.tau2_ci_high * s * s)


@pytest.mark.parametrize("df", range(1, 30))
def test_the_mean_of_chi_square_lies_between_its_quantiles(df):
    """Paule-Mandel solves Q(tau²) = k-1, the mean of chi-square(k-1); the Q-profile bounds solve
    Q(tau²) = its (1 ± level)/2 quantiles, and Q decreases in tau². So the PM estimate lies inside
    the Q-profile interval exactly when k-1 lies between those quantiles. P(chi²(df) <= df) falls
    from 0.683 (df = 1) towards 1/2, so it does for every level above 0.37 (0.683 = (1 + 0.366)/2)."""
    from scipy import stats

    p = chi2_cdf(df, df)
    assert 0.5 < p <= 0.6827
    assert p == pytest.approx(stats.chi2.cdf(df, df), rel=1e-12)
    for level in LEVELS:
        alpha = 1 - level
        assert chi2_ppf(alpha / 2, df) < df < chi2_ppf(1 - alpha / 2, df)


@pytest.mark.parametrize("method", ["PM", "EB"])
@SETTINGS
@given(data=studies(), level=st.sampled_from(LEVELS))
def test_the_q_profile_interval_brackets_the_paule_mandel_estimate(method, data, level):
    yi, vi = data
    r = metamg.fit(yi, vi, method=method, level=level)
    slack = RTOL * spread(yi, vi)
    assert r.tau2_ci_low - slack <= r.tau2 <= r.tau2_ci_high + slack
    k, alpha = len(yi), 1 - level
    if generalized_q(yi, vi, 0.0)[0] < chi2_ppf(alpha / 2, k - 1):  # no tau² fits: reported as [0, 0]
        assert (r.tau2_ci_low, r.tau2_ci_high, r.tau2) == (0.0, 0.0, 0.0)
        assert "tau2_ci.empty" in [w.rule for w in r.warnings]


def test_an_empty_q_profile_interval_is_zero_to_zero():
    """Studies agreeing more closely than chance allows: Q(0) below the lower quantile."""
    yi, vi = np.array([0.10, 0.11, 0.10, 0.09, 0.10]), np.full(5, 0.04)
    assert generalized_q(yi, vi, 0.0)[0] < chi2_ppf(0.025, 4)
    for method in RANDOM:  # the same interval whichever estimator gave tau²
        r = metamg.fit(yi, vi, method=method)
        assert (r.tau2_ci_low, r.tau2_ci_high) == (0.0, 0.0)
        assert "tau2_ci.empty" in [w.rule for w in r.warnings]
        assert r.hk_narrowed  # studies agreeing this closely make the HKSJ interval the narrower
    # every estimator but Sidik-Jonkman (tau²₀·y'P(tau²₀)y/(k-1), positive unless all yi are
    # equal) truncates at 0 here
    assert {m: metamg.fit(yi, vi, method=m).tau2 == 0 for m in RANDOM} == {m: m != "SJ" for m in RANDOM}


@pytest.mark.parametrize("method", RANDOM)
@SETTINGS
@given(
    data=studies(),
    ci=st.sampled_from(CI_METHODS),
    pi=st.sampled_from(["default", "hts"]),
    level=st.sampled_from(LEVELS),
)
def test_the_prediction_interval_contains_the_ci(method, data, ci, pi, level):
    yi, vi = data
    r = metamg.fit(yi, vi, method=method, ci_method=ci, pi=pi, level=level, tau2_ci=False)
    if pi == "hts" and len(yi) < 3:
        assert math.isnan(r.pi_low) and math.isnan(r.pi_high)
        return
    assert r.pi_low <= r.ci_low <= r.estimate <= r.ci_high <= r.pi_high


@SETTINGS
@given(data=studies(), ci=st.sampled_from(CI_METHODS))
def test_the_common_effect_prediction_interval_is_the_ci(data, ci):
    r = metamg.fit(*data, method="FE", ci_method=ci, tau2_ci=False)
    assert (r.pi_low, r.pi_high) == (r.ci_low, r.ci_high)
