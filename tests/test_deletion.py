"""The vectorised leave-one-out and cumulative fits (metamg.models.deletion) against the looped
``fit`` they replace: every number of every fit, for every method and CI rule, on the reference
data sets and on generated data (rtol 1e-9)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metamg
from metamg.models.deletion import cumulative_fits, leave_one_out_fits
from metamg.models.inverse_variance import fit
from metamg.models.tau2 import TAU2_ESTIMATORS
from metamg.vocabulary import CI_METHODS
from tests.helpers import CASES_DIR, case_ids, load_case

METHODS = ("FE", *TAU2_ESTIMATORS)

KEYS = (
    "k",
    "tau2",
    "tau",
    "estimate",
    "se",
    "statistic",
    "p",
    "ci_low",
    "ci_high",
    "df",
    "hk_scale",
    "q",
    "q_df",
    "q_p",
    "i2",
    "h2",
    "i2_q",
    "pi_low",
    "pi_high",
    "pi_df",
)
RTOL = 1e-9


def kept(kind: str, k: int, i: int) -> list[int]:
    return [j for j in range(k) if j != i] if kind == "leave_one_out" else list(range(i + 1))


def close(a, b, atol: float) -> bool:
    if b is None or a is None:
        return a is None and b is None
    if math.isnan(b) or math.isinf(b):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return abs(a - b) <= RTOL * abs(b) + atol


def check(yi, vi, method, ci_method, level=0.95, pi="default"):
    """Every fit's numbers equal fit()'s; returns how many were compared."""
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    scale = float(np.mean(vi))
    compared = 0
    for kind, fits in (
        ("leave_one_out", leave_one_out_fits if len(yi) > 1 else None),
        ("prefix", cumulative_fits),
    ):
        if fits is None:
            continue
        got = fits(yi, vi, method, ci_method, level, pi)
        assert len(got) == (len(yi) if kind == "prefix" else len(yi))
        for i in range(len(got)):
            idx = kept(kind, len(yi), i)
            want = fit(yi[idx], vi[idx], method, ci_method, level, pi, tau2_ci=False)
            row = got.row(i)
            assert row["ci_method"] == want.ci_method
            assert row["method"] == want.method
            for key in KEYS:
                expected = getattr(want, key)
                # tau² (and what follows from it) is a root: absolute noise of its own scale
                atol = 1e-12 * scale if key in ("tau2", "tau", "i2", "h2") else 1e-13
                if key == "tau":
                    atol = 1e-6 * math.sqrt(scale)  # sqrt of a tau² that is ~0 up to noise
                assert close(row[key], expected, atol), (kind, i, key, row[key], expected)
                compared += 1
    return compared


def reference_effects():
    for case in case_ids():
        c = load_case(case)
        for measure in c["measures"]:
            es = metamg.compute_effects(metamg.read_studies(CASES_DIR / f"{case}.csv"), measure)
            if es.k:
                yield pytest.param(es.yi, es.vi, id=f"{case}-{measure}")


REFERENCE = list(reference_effects())


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("yi,vi", REFERENCE)
def test_reference_cases_match_looped_fit(yi, vi, method):
    for ci in CI_METHODS:
        assert check(yi, vi, method, ci) > 0


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ci", CI_METHODS)
def test_other_levels_and_the_hts_prediction_interval(method, ci):
    rng = np.random.default_rng(3)
    vi = 4 / rng.integers(20, 400, 15)
    yi = rng.normal(0.2, np.sqrt(vi + 0.04))
    check(yi, vi, method, ci, level=0.9, pi="hts")
    check(yi, vi, method, ci, level=0.99)


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("ci", CI_METHODS)
def test_identical_studies_and_two_studies(method, ci):
    """Q = 0 (the Hartung-Knapp scale 0: infinite statistic), and single-study refits."""
    check([0.5, 0.5, 0.5, 0.5], [0.1, 0.2, 0.1, 0.3], method, ci)
    check([0.5, 0.5, 0.5, 0.9], [0.1, 0.2, 0.1, 0.3], method, ci)
    check([0.0, 0.0, 0.0], [0.1, 0.1, 0.1], method, ci)
    check([0.2, 1.4], [0.05, 0.08], method, ci)
    check([0.7], [0.05], method, ci)


@pytest.mark.parametrize("method", METHODS)
def test_one_study_outweighs_the_rest(method):
    """Weights 10¹⁰ apart: the spread of weights keeps its digits, as fit()'s does."""
    yi = np.array([0.3, 0.1, 0.5, -0.2, 0.4, 0.31])
    vi = np.array([1e-10, 0.1, 0.2, 0.3, 0.1, 0.05])
    for ci in CI_METHODS:
        check(yi, vi, method, ci)


def test_leave_one_out_needs_two_studies():
    with pytest.raises(ValueError):
        leave_one_out_fits([1.0], [0.1], "REML", "wald")


effects = st.floats(-3, 3, allow_nan=False, allow_infinity=False)
variances = st.floats(1e-3, 2, allow_nan=False, allow_infinity=False)


@settings(max_examples=100, deadline=None)
@given(
    data=st.lists(st.tuples(effects, variances), min_size=2, max_size=25),
    method=st.sampled_from(METHODS),
    ci=st.sampled_from(CI_METHODS),
    level=st.sampled_from((0.8, 0.95, 0.99)),
    pi=st.sampled_from(("default", "hts")),
)
def test_generated_data_match_looped_fit(data, method, ci, level, pi):
    yi, vi = (np.array(x) for x in zip(*data, strict=True))
    check(yi, vi, method, ci, level, pi)


@settings(max_examples=50, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.sampled_from((-0.5, 0.0, 0.5)), st.sampled_from((0.01, 0.1))), min_size=2, max_size=12
    ),
    method=st.sampled_from(METHODS),
    ci=st.sampled_from(CI_METHODS),
)
def test_generated_ties_match_looped_fit(data, method, ci):
    """Repeated values: exact agreement (Q = 0) and ties in the heaviest weight."""
    yi, vi = (np.array(x) for x in zip(*data, strict=True))
    check(yi, vi, method, ci)
