"""Our pure-Python distribution functions against scipy.special where scipy is accurate, and
against 40-digit mpmath values (computed once, constants below) in the far tails, where
scipy's chdtri and stdtrit are off by about 1e-8 relative."""

import numpy as np
import pytest
from scipy import special

from metamg.models import distributions as d

DFS = [1, 2, 3, 4.5, 7, 12, 15, 30, 101, 1000, 99_999]


def rel(df):
    """lgamma terms of size ~df cancel in the prefactors: accuracy ~2e-15·df (1e-12 for df <= 500)."""
    return max(1e-12, 2e-15 * df)


ORDINARY_P = (0.001, 0.005, 0.025, 0.05, 0.3, 0.5, 0.8, 0.95, 0.975, 0.995, 0.999)


@pytest.mark.parametrize("df", DFS)
def test_chi2_quantiles(df):
    for p in ORDINARY_P:
        assert d.chi2_ppf(p, df) == pytest.approx(special.chdtri(df, 1 - p), rel=rel(df))


@pytest.mark.parametrize("df", DFS)
def test_chi2_tails(df):
    for x in np.concatenate([[1e-6, 0.1, 1], df * np.array([0.2, 0.5, 0.9, 1, 1.1, 2, 5])]):
        assert d.chi2_sf(x, df) == pytest.approx(special.chdtrc(df, x), rel=10 * rel(df), abs=1e-300)
        assert d.chi2_cdf(x, df) == pytest.approx(special.chdtr(df, x), rel=10 * rel(df), abs=1e-300)


@pytest.mark.parametrize("df", DFS)
def test_t_quantiles(df):
    for p in ORDINARY_P:
        assert d.t_ppf(p, df) == pytest.approx(special.stdtrit(df, p), rel=rel(df), abs=1e-14)


@pytest.mark.parametrize("df", DFS)
def test_t_tails(df):
    for t in (-40, -3.5, -1.96, -0.1, 0, 0.3, 1, 2.2, 6, 60):
        assert d.t_sf(t, df) == pytest.approx(special.stdtr(df, -t), rel=10 * rel(df), abs=1e-300)


# mpmath 1.3.0, mp.dps = 40: findroot of gammainc(df/2, 0, x/2, regularized=True) = p, and
# betainc(df/2, 1/2, 0, df/(df+t²), regularized=True)/2 at the t given.
FAR_TAIL_CHI2 = [(30, 1e-10, 3.0430403795533462), (1000, 1e-10, 741.26807171935294)]
FAR_TAIL_T_SF = [
    (7, 40, 7.9510899924251852e-10),
    (101, 40, 4.7682865679636612e-64),
    (1, 1e6, 3.1830988618368457e-7),
]


@pytest.mark.parametrize("df,p,x", FAR_TAIL_CHI2)
def test_chi2_far_tail_quantile(df, p, x):
    assert d.chi2_ppf(p, df) == pytest.approx(x, rel=1e-13)


@pytest.mark.parametrize("df,t,tail", FAR_TAIL_T_SF)
def test_t_far_tail(df, t, tail):
    assert d.t_sf(t, df) == pytest.approx(tail, rel=1e-12)


@pytest.mark.parametrize("df", [1, 7, 101, 99_999])
def test_t_far_tail_quantile_inverts_the_tail(df):
    t = d.t_ppf(1e-8, df)
    assert d.t_sf(-t, df) == pytest.approx(1e-8, rel=rel(df))


def test_chi2_far_tail_keeps_relative_precision():
    # bcg RD Mantel-Haenszel: Q = 386.8 on 12 df, p about 2e-75 (metafor's value)
    assert d.chi2_sf(386.7759418365598, 12) == pytest.approx(2.3820625650550986e-75, rel=1e-12)


@pytest.mark.parametrize("x", [-38, -8.5, -1.96, 0, 0.5, 3, 37])
def test_normal(x):
    assert d.norm_sf(x) == pytest.approx(special.ndtr(-x), rel=1e-13, abs=1e-300)
    p = special.ndtr(x)
    if 0 < p < 1:
        assert d.norm_ppf(p) == pytest.approx(x, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("df1,df2", [(1, 1), (1, 11), (2, 9), (3, 50), (7, 1000)])
def test_f_tail(df1, df2):
    for x in (0.01, 0.5, 1, 3.45, 12.6, 200):
        assert d.f_sf(x, df1, df2) == pytest.approx(special.fdtrc(df1, df2, x), rel=1e-11, abs=1e-300)
