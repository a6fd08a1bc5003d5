"""Influence diagnostics against metafor 3.8-1 under every tau² method and every CI rule (Wald,
Knapp-Hartung, ad hoc Knapp-Hartung), and rstudent of Mantel-Haenszel and Peto models.
Values: tests/reference/metafor_extra/influence.R -> influence.json. Ported checks from
metafor's tests/testthat/test_misc_residuals.r and test_misc_influence.r."""

import json
from pathlib import Path

import pytest

import metamg
from metamg.analyses.influence import influence
from metamg.analyses.sensitivity import leave_one_out
from tests.conftest import CASES_DIR
from tests.test_reference_pool import compare

pytestmark = pytest.mark.reference

REF = json.loads(
    (Path(__file__).parent / "reference" / "metafor_extra" / "influence.json").read_text(encoding="utf-8")
)


def by_study(rows):
    return {r["study"]: r for r in rows}


@pytest.mark.parametrize(
    "ref", REF["influence"], ids=lambda r: f"{r['case']}-{r['measure']}-{r['method']}-{r['ci_method']}"
)
def test_influence_matches_metafor(ref):
    a = metamg.pool(
        CASES_DIR / f"{ref['case']}.csv",
        measure=ref["measure"],
        method=ref["method"],
        ci_method=ref["ci_method"],
    )
    actual = [x.to_dict() for x in influence(a)]
    assert [r["study"] for r in actual] == [r["study"] for r in ref["rows"]]
    compare(ref["rows"], actual)


def test_every_method_and_ci_rule_is_covered():
    seen = {(r["method"], r["ci_method"]) for r in REF["influence"]}
    assert seen == {
        (m, c)
        for m in ("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")
        for c in ("wald", "hk", "hk-adhoc")
    }


def test_knapp_hartung_scales_the_residuals():
    """The issue's example: dat.bcg log RR, REML with Knapp-Hartung, study 4 (Hart & Sutherland)."""
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR", method="REML", ci_method="hk")
    assert influence(a)[3].rstudent == pytest.approx(-1.4088, abs=5e-5)


@pytest.mark.parametrize("ref", REF["mh_peto"], ids=lambda r: f"{r['case']}-{r['method']}-{r['measure']}")
def test_mh_and_peto_rstudent_match_metafor(ref):
    a = metamg.pool(CASES_DIR / f"{ref['case']}.csv", measure=ref["measure"], method=ref["method"])
    assert a.result.estimate == pytest.approx(ref["estimate"], rel=1e-10)
    rows = influence(a)
    # studies without an effect (double zeros) have no row, as metafor's rstudent (na.omit)
    assert [x.study for x in rows] == [r["study"] for r in ref["rstudent"]]
    compare(
        [{"study": r["study"], "rstudent": r["rstudent"]} for r in ref["rstudent"]],
        [{"study": x.study, "rstudent": x.rstudent} for x in rows],
    )


@pytest.mark.parametrize("ref", REF["mh_peto"], ids=lambda r: f"{r['case']}-{r['method']}-{r['measure']}")
def test_mh_and_peto_deletion_diagnostics_follow_metafor_leave1out(ref):
    """metafor has no influence() for rma.mh/rma.peto; metamg's other columns are influence.rma.uni's
    definitions with the model's own variance, so they follow from leave1out()'s estimate and se."""
    a = metamg.pool(CASES_DIR / f"{ref['case']}.csv", measure=ref["measure"], method=ref["method"])
    l1o = by_study(ref["leave1out"])
    est, se = ref["estimate"], ref["se"]
    for x in influence(a):
        d = l1o[x.study]
        assert x.cook_d == pytest.approx((est - d["estimate"]) ** 2 / se**2, rel=1e-8, abs=1e-12)
        assert x.cov_r == pytest.approx(d["se"] ** 2 / se**2, rel=1e-8)
        assert x.dfbetas == pytest.approx((est - d["estimate"]) / se, rel=1e-8, abs=1e-12)
        assert x.dffits == x.dfbetas and x.tau2_del == 0
        assert x.QE_del == pytest.approx(d["Q"], rel=1e-8, abs=1e-10)


# -- ported from metafor tests/testthat/test_misc_residuals.r (dat.bcg, studies 1-6) ------------

BCG6 = [
    dict(
        zip(
            ("study", "year", "events_treatment", "n_treatment", "events_control", "n_control"),
            row,
            strict=True,
        )
    )
    for row in (
        ("Aronson 1948", 1948, 4, 123, 11, 139),
        ("Ferguson & Simes 1949", 1949, 6, 306, 29, 303),
        ("Rosenthal et al 1960", 1960, 3, 231, 11, 220),
        ("Hart & Sutherland 1977", 1977, 62, 13598, 248, 12867),
        ("Frimodt-Moller et al 1973", 1973, 33, 5069, 47, 5808),
        ("Stein & Aronson 1953", 1953, 180, 1541, 372, 1451),
    )
]


def bcg6(**kw):
    import pandas as pd

    return metamg.pool(pd.DataFrame(BCG6), **kw)


def test_testthat_residuals_rma():
    a = bcg6(measure="RR", method="REML", ci_method="wald")
    assert [x.rstudent for x in influence(a)] == pytest.approx(
        [0.1426, -0.9957, -0.4591, -1.1949, 2.0949, 0.4330], abs=5e-5
    )


def test_testthat_residuals_rma_mh():
    a = bcg6(measure="RR", method="MH")
    assert [x.rstudent for x in influence(a)] == pytest.approx(
        [0.1076, -1.4668, -0.6219, -4.2413, 3.3947, 2.7908], abs=5e-5
    )


def test_testthat_residuals_rma_peto():
    a = bcg6(measure="OR", method="PETO")
    assert [x.rstudent for x in influence(a)] == pytest.approx(
        [0.2705, -1.1700, -0.4173, -2.8891, 3.6614, 1.1391], abs=5e-5
    )


@pytest.mark.parametrize("ci", ["wald", "hk"])
def test_testthat_rstudent_is_the_mean_shift_outlier_model(ci):
    """test_misc_residuals.r: study 1's deleted residual and its SE are the coefficient and SE of a
    dummy for study 1 in a meta-regression, under z and Knapp-Hartung tests alike."""
    import numpy as np

    from metamg.models.metaregression import intercept_and, meta_regression

    a = bcg6(measure="RR", method="REML", ci_method=ci)
    es = a.effects
    d = leave_one_out(a)[0].analysis.result
    x = influence(a)[0]
    dummy = meta_regression(
        es.yi, es.vi, intercept_and(np.eye(6)[0]), ["intrcpt", "trial1"], method="REML", ci_method=ci
    ).coefficient("trial1")
    resid = es.yi[0] - d.estimate
    assert dummy.estimate == pytest.approx(resid, rel=1e-6)
    assert dummy.se == pytest.approx(resid / x.rstudent, rel=1e-6)


def test_testthat_influence_rma_bcg_first_study():
    """test_misc_influence.r: influence(rma(yi, vi)) on dat.bcg log RR, first study."""
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR", method="REML", ci_method="wald")
    x = influence(a)[0]
    expected = dict(
        rstudent=-0.218142474344442,
        dffits=-0.0407075604868486,
        cook_d=0.00171654236729195,
        cov_r=1.11644891104804,
        tau2_del=0.336156745300306,
        QE_del=151.582572747109,
        hat=0.0505948307931551,
        weight=5.05948307931551,
        dfbetas=-0.0402659025974144,
    )
    for key, value in expected.items():
        assert getattr(x, key) == pytest.approx(value, rel=1e-4), key
    assert not x.influential


def test_testthat_leave1out_mh_and_peto_bcg_first_study():
    """test_misc_influence.r: leave1out() of rma.mh (RR) and rma.peto on dat.bcg, first row."""
    mh = leave_one_out(metamg.pool(CASES_DIR / "bcg.csv", measure="RR", method="MH"))[0].analysis.result
    assert (mh.estimate, mh.se, mh.q, mh.i2) == pytest.approx(
        (-0.451379469928476, 0.0394350331703394, 151.915260738878, 92.7591211399706), rel=1e-6
    )
    pe = leave_one_out(metamg.pool(CASES_DIR / "bcg.csv", measure="OR", method="PETO"))[0].analysis.result
    assert (pe.estimate, pe.se, pe.q, pe.i2) == pytest.approx(
        (-0.472177269248539, 0.0407784291562603, 167.200450619361, 93.4210703623987), rel=1e-6
    )
