"""Every analysis of every reference case (tests/reference/cases, copied from ../shared/reference)
through ``metamg.pool(...).to_dict()`` (what ``metamg pool --format json`` prints; tests/test_api.py
checks that the two agree), compared value by value at rtol 1e-6, atol 1e-8.

Adding a case is copying its CSV and JSON into tests/reference/cases.
"""

import copy
import json

import numpy as np
import pytest

import metamg
from tests.conftest import CASES_DIR, case_ids, load_case
from tests.reference.compare import Comparer

pytestmark = pytest.mark.reference

RTOL, ATOL = 1e-6, 1e-8


def analyses():
    for case in case_ids():
        for a in load_case(case)["analyses"]:
            yield pytest.param(case, a, id=f"{case}-{a['measure']}-{a['method']}-{a['ci_method']}")


def binary_extras():
    for case in case_ids():
        extras = load_case(case).get("extras", {})
        for measure, expected in extras.get("mh", {}).items():
            yield pytest.param(case, "MH", measure, expected, id=f"{case}-MH-{measure}")
        if "peto" in extras:
            yield pytest.param(case, "PETO", "OR", extras["peto"], id=f"{case}-PETO")


def pool_json(case, **options):
    """The pooled analysis as its JSON, through the library (round-tripped as the CLI writes it)."""
    return json.loads(json.dumps(metamg.pool(CASES_DIR / f"{case}.csv", **options).to_dict()))


def compare(expected, actual):
    cmp_ = Comparer(RTOL, ATOL, strict_strings=False)
    cmp_.compare(expected, actual, "")
    assert cmp_.total > 0
    assert cmp_.matched == cmp_.total, "\n".join(cmp_.lines)
    return cmp_.total


# metafor's Fisher scoring stops a hair above the boundary when the ML tau² is exactly 0;
# see tests/reference/DISAGREEMENTS.md. tau is then checked by test_edge_k2_ml_tau_is_zero.
KNOWN = {("edge_k2", "ML"): ("tau",)}


@pytest.mark.parametrize("case,analysis", list(analyses()))
def test_pool_matches_metafor(case, analysis):
    expected = analysis.get("expected") or analysis["retry"]["expected"]
    expected = copy.deepcopy(expected)
    for key in KNOWN.get((case, analysis["method"]), ()):
        expected.pop(key)
    actual = pool_json(
        case, measure=analysis["measure"], method=analysis["method"], ci_method=analysis["ci_method"]
    )
    compare(expected, actual)


@pytest.mark.parametrize("case,method,measure,expected", list(binary_extras()))
def test_mh_and_peto_match_metafor(case, method, measure, expected):
    actual = pool_json(case, measure=measure, method=method)
    compare(expected, actual)


@pytest.mark.parametrize("measure", ["OR", "RR", "RD"])
def test_edge_k2_ml_tau_is_zero(measure):
    """The ML log-likelihood's slope at tau²=0 is negative, so its maximum is the boundary."""
    from metamg import compute_effects, read_studies
    from metamg.models.tau2 import maximum_likelihood

    es = compute_effects(read_studies(CASES_DIR / "edge_k2.csv"), measure)
    w = 1 / es.vi
    mu = np.sum(w * es.yi) / np.sum(w)
    assert np.sum(w**2 * (es.yi - mu) ** 2) - np.sum(w) < 0
    assert maximum_likelihood(es.yi, es.vi) == 0.0
    expected = next(
        a["expected"]
        for a in load_case("edge_k2")["analyses"]
        if a["measure"] == measure and a["method"] == "ML"
    )
    assert expected["tau2"] < 1e-12  # metafor stopped within its threshold of the same answer
    actual = pool_json("edge_k2", measure=measure, method="ML", ci_method="wald")
    assert actual["tau"] == 0.0 and actual["I2"] == 0.0


def test_every_reference_analysis_is_collected():
    total = sum(len(load_case(c)["analyses"]) for c in case_ids())
    assert len(list(analyses())) == total >= 420


def test_identical_studies_under_hksj_match_metafor(tmp_path):
    """Q = 0 makes the Hartung-Knapp scale 0. metafor 3.8-1, rma(yi, vi, test="knha") on
    escalc("RR", ai=c(12,12), n1i=c(60,60), ci=c(30,30), n2i=c(60,60)) gives b = -0.9162907,
    se = 0, ci.lb = ci.ub = b, zval = -Inf, pval = 0 (no error)."""
    import math

    import metamg

    p = tmp_path / "same.csv"
    p.write_text(
        "study,events_treatment,n_treatment,events_control,n_control\nA,12,60,30,60\nB,12,60,30,60\n"
    )
    r = metamg.pool(p, measure="RR", method="REML", ci_method="hk").result
    assert r.estimate == pytest.approx(math.log(0.4), rel=1e-12)
    assert (r.se, r.ci_low, r.ci_high) == (0.0, r.estimate, r.estimate)
    assert r.statistic == -math.inf and r.p == 0.0
    assert [w.rule for w in r.warnings] == ["ci.hk_zero_width", "tau2_ci.empty"]
