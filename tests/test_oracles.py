"""Independent oracles: other people's code computing what metamg computes.

- statsmodels' StratifiedTable for the Mantel-Haenszel odds ratio: the pooled log OR, its
  Robins-Breslow-Greenland standard error and Wald CI, the Cochran-Mantel-Haenszel test
  (``test_null_odds(correction=True)``: with the continuity correction, as metafor's and
  metamg's ``cmh``), the Breslow-Day test with Tarone's adjustment (``test_equal_odds(adjust=True)``,
  metamg's ``tarone``) and the pooled risk ratio, on every binary reference case. metafor (and
  metamg) leave tables without both outcomes out of the Breslow-Day test, and its df is one less
  than the number of tables left, so statsmodels gets those tables only; such tables add nothing
  to the Mantel-Haenszel sums, so the pooled OR is the same either way. statsmodels' p-values are
  ``1 - cdf``, exact only to about 1e-16 absolute, so they are compared absolutely.
- statsmodels' WLS for meta-regression: at a given tau², the coefficients are the weighted least
  squares ones with weights 1/(vi + tau²) (tau² = 0: the common-effect model), and the
  Knapp-Hartung standard errors, t tests, CIs and F test are WLS's, whose residual variance
  Σw(y - Xb)²/(k - p) is the Knapp-Hartung factor; the Wald standard errors are those of
  (X'WX)⁻¹ (WLS's ``normalized_cov_params``). On the reference designs and on random ones.
- scipy.stats for the pure-Python t, chi-square, F and normal functions, at random degrees of
  freedom and probabilities (tests/test_distributions.py checks fixed grids and the far tails).

Agreement is to rounding: the tolerances below are a few hundred ulps, except where a design is
ill-conditioned (bcg's ``year`` column: X'WX has a condition number of 1e11 to 1e12), where metamg's
(X'WX)⁻¹ and statsmodels' pseudo-inverse differ by about 1e-10.
"""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.regression.linear_model import WLS
from statsmodels.stats.contingency_tables import StratifiedTable

import metamg
from metamg.models import distributions as d
from metamg.models.metaregression import REGRESSION_METHODS, meta_regression
from tests.helpers import CASES_DIR, case_ids, load_case

BINARY = [c for c in case_ids() if load_case(c)["data_type"] == "binary"]
RTOL = 1e-12


def tables(case):
    frame = pd.read_csv(CASES_DIR / f"{case}.csv")
    cols = ("events_treatment", "n_treatment", "events_control", "n_control")
    a, n1, c, n2 = (frame[col].to_numpy(float) for col in cols)
    return (a, n1, c, n2), [
        np.array([[ai, n1i - ai], [ci, n2i - ci]]) for ai, n1i, ci, n2i in zip(a, n1, c, n2, strict=True)
    ]


def test_every_binary_case_is_checked():
    assert BINARY == [
        "bcg",
        "collins1985a",
        "edge_homog",
        "edge_k1",
        "edge_k2",
        "edge_zero",
        "egger2001",
        "nielweise2007",
    ]


@pytest.mark.parametrize("case", BINARY)
@pytest.mark.parametrize("level", [0.95, 0.9])
def test_mantel_haenszel_odds_ratio_matches_statsmodels(case, level):
    counts, strata = tables(case)
    ours = metamg.mantel_haenszel(*counts, measure="OR", level=level)
    theirs = StratifiedTable(strata)
    assert ours.estimate == pytest.approx(theirs.logodds_pooled, rel=RTOL)
    assert ours.se == pytest.approx(theirs.logodds_pooled_se, rel=RTOL)
    low, high = theirs.logodds_pooled_confint(alpha=1 - level)
    assert (ours.ci_low, ours.ci_high) == pytest.approx((low, high), rel=1e-11)


@pytest.mark.parametrize("case", BINARY)
def test_cochran_mantel_haenszel_test_matches_statsmodels(case):
    counts, strata = tables(case)
    ours = metamg.mantel_haenszel(*counts, measure="OR")
    theirs = StratifiedTable(strata).test_null_odds(correction=True)
    assert ours.cmh == pytest.approx(theirs.statistic, rel=1e-11)
    assert ours.cmh_p == pytest.approx(theirs.pvalue, rel=1e-9, abs=1e-15)
    assert ours.cmh_p == pytest.approx(stats.chi2.sf(ours.cmh, 1), rel=1e-11)


@pytest.mark.parametrize("case", BINARY)
def test_tarone_test_is_statsmodels_adjusted_breslow_day(case):
    counts, strata = tables(case)
    ours = metamg.mantel_haenszel(*counts, measure="OR")
    a, n1, c, n2 = counts
    both_outcomes = (a + c > 0) & (a + c < n1 + n2)
    if both_outcomes.sum() < 2:  # edge_k1: one table, no test (metafor: NA)
        assert math.isnan(ours.tarone_p)
        return
    theirs = StratifiedTable([t for t, keep in zip(strata, both_outcomes, strict=True) if keep])
    tarone = theirs.test_equal_odds(adjust=True)
    assert ours.tarone == pytest.approx(tarone.statistic, rel=1e-11)
    assert ours.tarone_p == pytest.approx(tarone.pvalue, rel=1e-9, abs=1e-15)
    # Tarone's correction subtracts a non-negative term from the unadjusted Breslow-Day statistic
    assert theirs.test_equal_odds(adjust=False).statistic >= ours.tarone


@pytest.mark.parametrize("case", BINARY)
def test_mantel_haenszel_risk_ratio_matches_statsmodels(case):
    counts, strata = tables(case)
    ours = metamg.mantel_haenszel(*counts, measure="RR")
    assert ours.estimate == pytest.approx(
        math.log(StratifiedTable(strata).riskratio_pooled), rel=RTOL, abs=1e-15
    )


def reference_designs():
    for case in case_ids():
        for measure, extras in load_case(case).get("extras", {}).items():
            for model in extras.get("metareg", []) if isinstance(extras, dict) else []:
                mods = [t.strip() for t in model["formula"].lstrip("~ ").split("+")]
                yield pytest.param(case, measure, mods, id=f"{case}-{measure}-{'+'.join(mods)}")


def reference_data(case, measure, mods):
    """yi and vi as metafor's escalc gave them (from the reference JSON), moderators from the CSV."""
    frame = pd.read_csv(CASES_DIR / f"{case}.csv")
    fe = next(
        a
        for a in load_case(case)["analyses"]
        if (a["measure"], a["method"], a["ci_method"]) == (measure, "FE", "wald")
    )
    studies = fe["expected"]["studies"]
    assert [s["study"] for s in studies] == list(frame["study"])
    yi, vi = (np.array([s[key] for s in studies]) for key in ("yi", "vi"))
    return yi, vi, np.column_stack([np.ones(len(yi))] + [frame[m].to_numpy(float) for m in mods])


def assert_is_wls(yi, vi, X, method, rtol):
    names = ["intrcpt"] + [f"x{j}" for j in range(1, X.shape[1])]
    hk = meta_regression(yi, vi, X, names, method=method, ci_method="hk")
    wald = meta_regression(yi, vi, X, names, method=method, ci_method="wald")
    assert wald.tau2 == hk.tau2
    wls = WLS(yi, X, weights=1 / (vi + hk.tau2)).fit()
    ci = wls.conf_int(alpha=1 - hk.level)
    for j, coef in enumerate(hk.coefficients):
        assert coef.estimate == pytest.approx(wls.params[j], rel=rtol, abs=1e-14)
        assert coef.se == pytest.approx(wls.bse[j], rel=rtol)
        assert coef.statistic == pytest.approx(wls.tvalues[j], rel=rtol, abs=1e-12)
        assert coef.p == pytest.approx(wls.pvalues[j], rel=rtol, abs=1e-15)
        assert (coef.ci_low, coef.ci_high) == pytest.approx(tuple(ci[j]), rel=rtol, abs=1e-14)
        assert wald.coefficients[j].se == pytest.approx(math.sqrt(wls.normalized_cov_params[j, j]), rel=rtol)
    if X.shape[1] > 1:
        assert hk.qm == pytest.approx(wls.fvalue, rel=rtol)
        assert hk.qm_p == pytest.approx(wls.f_pvalue, rel=rtol, abs=1e-15)
    if method == "FE":
        assert hk.qe == pytest.approx(wls.ssr, rel=rtol)


@pytest.mark.parametrize("method", REGRESSION_METHODS)
@pytest.mark.parametrize("case,measure,mods", list(reference_designs()))
def test_meta_regression_is_weighted_least_squares(case, measure, mods, method):
    yi, vi, X = reference_data(case, measure, mods)
    assert_is_wls(yi, vi, X, method, rtol=1e-9)


@settings(max_examples=100, deadline=None)
@given(
    k=st.integers(4, 30),
    p=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
    method=st.sampled_from(REGRESSION_METHODS),
)
def test_meta_regression_on_random_designs_is_weighted_least_squares(k, p, seed, method):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(k), rng.normal(size=(k, p - 1))])
    yi = X @ rng.normal(size=p) + rng.normal(0, rng.uniform(0.1, 2), k)
    vi = rng.uniform(0.01, 1, k)
    assert_is_wls(yi, vi, X, method, rtol=1e-10)


@settings(max_examples=100, deadline=None)
@given(
    k=st.integers(2, 30), seed=st.integers(0, 2**32 - 1), method=st.sampled_from(("FE", "DL", "REML", "PM"))
)
def test_pooled_knapp_hartung_fit_is_weighted_least_squares_on_a_constant(k, seed, method):
    rng = np.random.default_rng(seed)
    yi, vi = rng.normal(0, 1, k), rng.uniform(0.01, 1, k)
    r = metamg.fit(yi, vi, method=method, ci_method="hk", tau2_ci=False)
    wls = WLS(yi, np.ones((k, 1)), weights=1 / (vi + r.tau2)).fit()
    assert r.estimate == pytest.approx(wls.params[0], rel=1e-12, abs=1e-15)
    assert r.se == pytest.approx(wls.bse[0], rel=1e-11)
    assert (r.ci_low, r.ci_high) == pytest.approx(tuple(wls.conf_int(0.05)[0]), rel=1e-11, abs=1e-14)


def rel(df):
    """As tests/test_distributions.py, where lgamma terms of size ~df cancel in the prefactors:
    1e-12, or about 2e-15·df above 500 df (t_ppf at 6,737 df is 1.4e-11 = 2.08e-15·df from the
    40-digit value, scipy 1e-16): twice that here, as the draws go beyond the fixed grid."""
    return max(1e-12, 4e-15 * df)


degrees = st.one_of(st.integers(1, 60).map(float), st.floats(1, 1e4))
probability = st.one_of(st.floats(1e-6, 0.5), st.floats(0.5, 1 - 1e-6))


@settings(max_examples=300, deadline=None)
@given(df=degrees, q=probability)
def test_chi_square_matches_scipy(df, q):
    x = stats.chi2.ppf(q, df)
    assert d.chi2_ppf(q, df) == pytest.approx(x, rel=rel(df))
    assert d.chi2_sf(x, df) == pytest.approx(stats.chi2.sf(x, df), rel=10 * rel(df))
    assert d.chi2_cdf(x, df) == pytest.approx(stats.chi2.cdf(x, df), rel=10 * rel(df))


@settings(max_examples=300, deadline=None)
@given(df=degrees, q=probability)
def test_t_matches_scipy(df, q):
    t = stats.t.ppf(q, df)
    # scipy's t.ppf near the median is good to about 1e-13 absolute, not 1e-14: at df = 4,
    # q = 0.4993509281380692 mpmath (40 digits) gives -0.001730859378780660682, metamg
    # -0.0017308593787806826 and scipy -0.0017308593789257469
    assert d.t_ppf(q, df) == pytest.approx(t, rel=rel(df), abs=1e-12)
    assert d.t_sf(-d.t_ppf(q, df), df) == pytest.approx(q, rel=10 * rel(df))  # round trip
    assert d.t_sf(t, df) == pytest.approx(stats.t.sf(t, df), rel=10 * rel(df))


@settings(max_examples=300, deadline=None)
@given(df1=degrees, df2=degrees, q=probability)
def test_f_matches_scipy(df1, df2, q):
    x = stats.f.ppf(q, df1, df2)
    tol = 10 * rel(max(df1, df2))
    sf, cdf = stats.f.sf(x, df1, df2), stats.f.cdf(x, df1, df2)
    if sf <= 0.5:  # each side compared where scipy is accurate: on its smaller tail
        assert d.f_sf(x, df1, df2) == pytest.approx(sf, rel=tol)
    else:  # F(1, 1) at q = 1.3e-6: scipy's sf is 2e-11 off 1 - q, its cdf is not
        assert 1 - d.f_sf(x, df1, df2) == pytest.approx(cdf, rel=tol, abs=1e-15)


@settings(max_examples=300, deadline=None)
@given(z=st.floats(-37, 37), q=probability)
def test_normal_matches_scipy(z, q):
    # erfc(z/√2) turns the rounding of z/√2 into a relative error of about z²·eps, in both
    # (at z = 24, 5e-14 each, on either side of the 40-digit value)
    assert d.norm_sf(z) == pytest.approx(stats.norm.sf(z), rel=max(1e-13, 4e-16 * z * z), abs=1e-300)
    assert d.norm_ppf(q) == pytest.approx(stats.norm.ppf(q), rel=1e-13, abs=1e-15)


def test_dl_denominator_is_exact_when_one_weight_dominates():
    """Σw - Σw²/Σw loses the digits the weights span when computed by subtraction; metamg sums
    the other weights for the heaviest study instead. Exact rational arithmetic as the oracle
    (weights 10¹⁴ apart: the subtraction gave tau² 1.2% low, metafor 2.6% low)."""
    from fractions import Fraction

    import numpy as np

    import metamg

    yi = np.array([0.0, 81012.176, -177178.49])
    vi = np.array([1e-7, 12934371.7, 12933736.2])
    w = [1 / Fraction(v) for v in vi]
    y = [Fraction(x) for x in yi]
    total = sum(w)
    mu = sum(a * b for a, b in zip(w, y, strict=True)) / total
    q = sum(a * (b - mu) ** 2 for a, b in zip(w, y, strict=True))
    exact = float((q - 2) / (total - sum(a * a for a in w) / total))
    assert metamg.fit(yi, vi, method="DL", ci_method="wald").tau2 == pytest.approx(exact, rel=1e-12)
