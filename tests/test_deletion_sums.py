"""The pieces the vectorised deletion fits rest on, at sizes tests/test_deletion.py does not reach:
the array t and chi-square functions against the scalar ones for every df up to 1,000 (the
cumulative fits' t quantiles), tr(P) of every fit from running sums against
``weights.spread_of_weights``, and the fits of a few hundred studies, one of them outweighing
the rest or all far from 0, against the looped ``fit``."""

from __future__ import annotations

import math

import numpy as np
import pytest

from metamg.models.array_distributions import chi2_sf_array, t_ppf_array, t_sf_array
from metamg.models.deletion import _Sets, _shared_trace_p
from metamg.models.distributions import chi2_sf, t_ppf, t_sf
from metamg.models.weights import spread_of_weights
from tests.test_deletion import check

DF = np.concatenate([np.arange(1.0, 1001.0), [1.5, 2.5, 37.3, 149.5, 2500.0]])


@pytest.mark.parametrize("p", [0.975, 0.95, 0.9, 0.995, 0.9995, 0.025, 0.6])
def test_t_quantiles_for_many_df_are_the_scalar_ones(p):
    got = t_ppf_array(p, DF)
    want = np.array([t_ppf(p, d) for d in DF.tolist()])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=0)
    # far beyond: both solve a tail whose continued fraction carries rounding noise of ~1e-12
    huge = np.array([1e4, 1e5])
    np.testing.assert_allclose(t_ppf_array(p, huge), [t_ppf(p, d) for d in huge.tolist()], rtol=5e-11)
    assert t_ppf_array(0.975, [1.0])[0] == pytest.approx(12.706204736174698, rel=1e-13)
    assert t_ppf_array(0.975, [999.0])[0] == pytest.approx(1.9623414611334487, rel=1e-13)


def test_t_and_chi_square_tails_for_many_df_are_the_scalar_ones():
    rng = np.random.default_rng(5)
    df = np.repeat(DF, 3)
    t = np.concatenate([rng.normal(0, 3, len(df) - 3), [0.0, math.inf, -math.inf]])
    got = t_sf_array(t, df)
    want = np.array([t_sf(x, d) for x, d in zip(t.tolist(), df.tolist(), strict=True)])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300)
    q = df * rng.uniform(0.2, 2.0, len(df))
    got = chi2_sf_array(q, df)
    want = np.array([chi2_sf(x, d) for x, d in zip(q.tolist(), df.tolist(), strict=True)])
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-300)
    assert t_sf_array([1.96], [1e5])[0] == pytest.approx(0.02499928159715084, rel=1e-9)  # scipy


@pytest.mark.parametrize("kind", ["leave_one_out", "prefix"])
def test_trace_p_from_running_sums_is_the_spread_of_weights(kind):
    """Σw - Σw²/Σw of every fit to the last bits, with weights 10¹⁰ and 10¹⁴ apart (where
    Σw - Σw²/Σw computed as written keeps no digit) and ties in the heaviest weight."""
    rng = np.random.default_rng(11)
    cases = [1 / rng.uniform(1e-3, 2, 40), np.array([3.0, 1.0, 3.0, 2.0, 3.0]), np.array([2.0, 5.0])]
    for heavy in (1e10, 1e14):
        for at in (0, 17, 39):
            w = 1 / rng.uniform(1e-3, 2, 40)
            w[at] = heavy
            cases.append(w)
    for w in cases:
        sets = _Sets(len(w), kind)
        got = _shared_trace_p(sets, w)
        want = np.array([spread_of_weights(w[sets.indices(i)]) for i in range(len(w))])
        np.testing.assert_allclose(got, want, rtol=4e-15, atol=0)
    assert _shared_trace_p(_Sets(2, "prefix"), np.array([2.0, 5.0])).tolist() == [0.0, 20 / 7]


@pytest.mark.slow
@pytest.mark.parametrize("method", ["DL", "HS", "SJ", "PM", "ML", "REML"])
def test_hundreds_of_studies_match_the_looped_fit(method):
    """k = 150: the sums about a centre, where they suffice, and term by term where one study
    carries almost all the weight (tau² near 0) or every effect is far from 0."""
    rng = np.random.default_rng(7)
    vi = 4 / rng.integers(20, 400, 150)
    yi = rng.normal(0.3, np.sqrt(vi + 0.05))
    heavy = vi.copy()
    heavy[60] = 1e-9
    homogeneous = rng.normal(0.3, np.sqrt(vi))
    for y, v in ((yi, vi), (yi, heavy), (yi + 100.0, vi), (homogeneous, heavy)):
        assert check(y, v, method, "hk") == 2 * 150 * 20
