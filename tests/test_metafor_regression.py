"""Meta-regression, Egger's regression test and trim and fill against metafor 3.8-1 with every
tau² method (FE, DL, HE, HS, SJ, ML, REML, EB, PM) and every CI rule (wald, hk, hk-adhoc), and
Begg's rank test up to 200,000 studies. Values: tests/reference/metafor_extra/regression.R ->
regression.json."""

import json
import math
import tracemalloc
from pathlib import Path

import numpy as np
import pytest

import metamg
from metamg.analyses.bias import _kendall_tau_b, rank_test, small_study_tests
from metamg.analyses.regression import regress
from metamg.analyses.trimfill import trim_and_fill_for
from metamg.errors import InputError
from metamg.notes import note
from tests.conftest import CASES_DIR
from tests.test_reference_pool import compare

pytestmark = pytest.mark.reference

REF = json.loads(
    (Path(__file__).parent / "reference" / "metafor_extra" / "regression.json").read_text(encoding="utf-8")
)
METHODS = ("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")


def analysis(ref):
    return metamg.pool(
        CASES_DIR / f"{ref['case']}.csv",
        measure=ref["measure"],
        method=ref["method"],
        ci_method=ref["ci_method"],
    )


def mods(ref):
    m = ref.get("mods", [])
    return [m] if isinstance(m, str) else m  # jsonlite writes a one-element vector as a string


def ident(r):
    return f"{r['case']}-{r['measure']}-{'+'.join(mods(r))}-{r['method']}-{r['ci_method']}"


@pytest.mark.parametrize("ref", REF["metareg"], ids=ident)
def test_meta_regression_matches_metafor(ref):
    fit, _ = regress(analysis(ref), mods(ref), ci_method=ref["ci_method"], method=ref["method"])
    assert fit.method == ref["method"]
    compare(ref["expected"], fit.to_dict())


def test_meta_regression_defaults_to_the_analysis_method():
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR", method="DL", ci_method="wald")
    ref = next(
        r
        for r in REF["metareg"]
        if (r["case"], r["measure"], mods(r), r["method"], r["ci_method"])
        == ("bcg", "RR", ["ablat"], "DL", "wald")
    )
    fit, _ = regress(a, ["ablat"])
    assert fit.method == "DL" and fit.tau2 == pytest.approx(ref["expected"]["tau2"], rel=1e-6)


@pytest.mark.parametrize("method", ["MH", "PETO", "GENQ", "DLIT"])
def test_meta_regression_refuses_other_methods(method):
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="OR", method="REML", ci_method="wald")
    with pytest.raises(InputError, match="has no meta-regression form") as exc:
        regress(a, ["ablat"], method=method)
    assert exc.value.problems[0].file.endswith("bcg.csv")


def test_every_method_and_ci_rule_is_covered():
    for key in ("metareg", "egger", "trimfill"):
        assert {(r["method"], r["ci_method"]) for r in REF[key]} == {
            (m, c) for m in METHODS for c in ("wald", "hk", "hk-adhoc")
        }


@pytest.mark.parametrize("ref", REF["egger"], ids=ident)
def test_egger_regression_test_uses_the_analysis_model_as_regtest(ref):
    compare(ref["expected"], small_study_tests(analysis(ref)).egger.to_dict())


@pytest.mark.parametrize("ref", REF["trimfill"], ids=ident)
def test_trim_and_fill_uses_the_analysis_model_and_ci(ref):
    a = analysis(ref)
    tf = trim_and_fill_for(a)
    expected = ref["expected"]
    assert (tf.k0, tf.side) == (expected["k0"], expected["side"])
    compare({k: v for k, v in expected.items() if k != "filled" or v}, tf.to_dict())
    if tf.k0 == 0:  # nothing filled: the analysis itself, as metafor returns the model unchanged
        assert tf.result is a.result
    assert tf.result.ci_method == a.result.ci_method


def test_metafor_default_trimfill_refits_with_z_whatever_the_model_test():
    """The evidence for tests/reference/DISAGREEMENTS.md: with studies filled, metafor 3.8-1's
    trimfill() reports a z-based refit even for a Knapp-Hartung model; with none filled it
    returns the model itself (its own test)."""
    for ref in REF["trimfill"]:
        default = ref["metafor_default"]
        if default["k0"] > 0:
            assert default["test"] == "z"
        else:
            assert default["test"] == ref["expected"]["test"]


# -- Begg's rank test ----------------------------------------------------------------------------


@pytest.mark.parametrize("ref", REF["ranktest"], ids=lambda r: f"k{r['k']}")
def test_rank_test_matches_metafor_and_uses_exact_p_where_r_can(ref):
    r = rank_test(np.array(ref["yi"]), np.array(ref["vi"]))
    assert r.tau == pytest.approx(ref["tau"], rel=1e-10)
    assert r.exact == (not ref["ties"] and ref["k"] <= 170)
    if ref["p"] is None:  # k >= 171 without ties: R's exact distribution overflows to NaN
        assert ref["k"] > 170 and r.p == pytest.approx(ref["p_normal"], rel=1e-8)
    else:
        assert r.p == pytest.approx(ref["p"], rel=1e-8)


def test_kendall_s_is_the_pairwise_definition():
    """S = Σ_{i<j} sign(x_i - x_j)·sign(y_i - y_j), with and without ties."""
    rng = np.random.default_rng(3)
    for trial in range(200):
        n = int(rng.integers(2, 50))
        x = rng.integers(0, 6, n).astype(float) if trial % 2 else rng.normal(size=n)
        y = rng.integers(0, 6, n).astype(float) if trial % 3 else rng.normal(size=n)
        if len(set(x)) < 2 or len(set(y)) < 2:
            continue
        i, j = np.triu_indices(n, 1)
        assert _kendall_tau_b(x, y)[1] == np.sum(np.sign(x[i] - x[j]) * np.sign(y[i] - y[j]))


@pytest.mark.slow
def test_rank_test_on_200000_studies_is_linear_in_memory():
    """Issue 11 §6: the k x k sign matrices needed 320 GB at k = 200,000."""
    from scipy.stats import kendalltau

    rng = np.random.default_rng(7)
    k = 200_000
    vi = np.round(rng.uniform(0.01, 0.5, k), 3)
    yi = rng.normal(0.1 * np.sqrt(vi), np.sqrt(vi + 0.02))
    tracemalloc.start()
    r = rank_test(yi, vi)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 200e6
    w = 1 / vi
    ystar = (yi - np.sum(w * yi) / w.sum()) / np.sqrt(vi - 1 / w.sum())
    assert r.tau == pytest.approx(kendalltau(ystar, vi)[0], rel=1e-9)
    assert not r.exact and 0 <= r.p <= 1 and math.isfinite(r.p)


@pytest.mark.parametrize("ref", REF["mh_bias"], ids=lambda r: f"{r['case']}-{r['method']}-{r['measure']}")
def test_small_study_tests_of_mh_and_peto_use_the_model_effects_as_metafor(ref):
    """regtest()/ranktest() on rma.mh/rma.peto objects take the model's yi (escalc with drop00,
    Peto's (O-E)/V) and its method "FE"; fsn() on those yi."""
    assert ref["model_method"] == "FE"
    a = metamg.pool(CASES_DIR / f"{ref['case']}.csv", measure=ref["measure"], method=ref["method"])
    compare(ref["expected"], small_study_tests(a).to_dict())


def test_degenerate_small_study_inputs(tmp_path):
    """tests/reference/DISAGREEMENTS.md, "Identical effects or identical variances"."""
    same_vi = tmp_path / "same_vi.csv"
    same_vi.write_text("study,yi,vi\nA,0.1,0.04\nB,0.3,0.04\nC,-0.2,0.04\nD,0.5,0.04\n")
    with pytest.raises(InputError, match="same sampling variance"):
        small_study_tests(metamg.pool(same_vi))
    same_yi = tmp_path / "same_yi.csv"
    same_yi.write_text("study,yi,vi\nA,0.2,0.04\nB,0.2,0.05\nC,0.2,0.06\nD,0.2,0.09\n")
    t = small_study_tests(metamg.pool(same_yi, method="REML", ci_method="hk"))
    assert t.begg.tau != t.begg.tau and t.begg.note == note("begg.undefined", same="effect")
    assert t.egger.statistic is None and t.egger.note == note("egger.exact_line")
    assert t.egger_lm.statistic is None and t.egger_lm.note == note("egger.exact_line")
    d = t.to_dict()
    assert d["begg"]["tau"] is None and d["egger"]["p"] is None


def test_exact_fit_under_knapp_hartung_is_refused_by_regress(tmp_path):
    path = tmp_path / "line.csv"
    path.write_text("study,yi,vi,x\nA,0.1,0.04,1\nB,0.2,0.05,2\nC,0.3,0.06,3\nD,0.4,0.09,4\n")
    a = metamg.pool(path, method="FE", ci_method="hk")
    with pytest.raises(InputError, match="fit every study exactly"):
        regress(a, ["x"], ci_method="hk", method="FE")
    fit, _ = regress(a, ["x"], ci_method="wald", method="FE")
    assert fit.coefficient("x").estimate == pytest.approx(0.1, rel=1e-9)
