"""Meta-regressions named in the metadata ([[regressions]]) appear in the report with metafor's
numbers and the bubble plot."""

import json
import shutil

import pytest

from metamg.analyses.appraisal import appraise
from tests.conftest import CASES_DIR, load_case, run_cli

TOML = """title = "BCG vaccine and tuberculosis"
measure = "RR"
profile = "metafor"

[[regressions]]
mods = ["ablat"]
why = "Trials further from the equator found larger effects (Colditz 1994)."

[[regressions]]
mods = ["alloc"]
"""


@pytest.fixture
def bcg(tmp_path):
    shutil.copy(CASES_DIR / "bcg.csv", tmp_path / "bcg.csv")
    (tmp_path / "bcg.toml").write_text(TOML)
    return tmp_path / "bcg.csv"


def test_named_regressions_match_metafor(bcg):
    ap = appraise(bcg)
    expected = next(
        m["wald"] for m in load_case("bcg")["extras"]["RR"]["metareg"] if m["formula"] == "~ ablat"
    )
    fit = ap.regressions[0].fit
    for ours, theirs in zip(fit.coefficients, expected["coefficients"], strict=True):
        assert ours.estimate == pytest.approx(theirs["estimate"], rel=1e-6)
        assert ours.se == pytest.approx(theirs["se"], rel=1e-6)
    assert fit.qm == pytest.approx(expected["QM"], rel=1e-6) and fit.tau2 == pytest.approx(
        expected["tau2"], rel=1e-6
    )
    assert ap.regressions[0].bubble and not ap.regressions[1].bubble  # alloc is a factor


def test_the_report_shows_them_with_the_bubble_plot(bcg, tmp_path):
    code, out, err = run_cli("report", bcg, "-o", tmp_path / "out")
    assert code == 0, err
    text = (tmp_path / "out" / "bcg.md").read_text()
    section = text.split("## Meta-regression")[1].split("## Methods")[0]
    expected = next(
        m["wald"] for m in load_case("bcg")["extras"]["RR"]["metareg"] if m["formula"] == "~ ablat"
    )
    slope = expected["coefficients"][1]
    assert f"| ablat | {slope['estimate']:.4f} | {slope['ci_low']:.4f} to {slope['ci_high']:.4f} |" in section
    assert f"Test of moderators: QM(1) = {expected['QM']:.2f}" in section
    assert "Trials further from the equator" in section
    assert "alloc: reference level alternate." in section
    assert "![Bubble plot of the meta-regression on ablat](bcg-regression-1.png)" in section
    assert (tmp_path / "out" / "bcg-regression-1.png").read_bytes().startswith(b"\x89PNG")
    assert not (tmp_path / "out" / "bcg-regression-2.png").exists()


def test_check_names_a_moderator_the_set_does_not_have(bcg):
    bcg.with_suffix(".toml").write_text(TOML.replace('"alloc"', '"latitude"'))
    code, out, err = run_cli("check", bcg)
    assert code == 1
    assert "regressions[2].mods: names a moderator column that bcg.csv does not have (latitude)" in err + out


def test_a_regression_that_cannot_be_fitted_is_listed_as_not_run(bcg, tmp_path):
    bcg.with_suffix(".toml").write_text(TOML.replace('"alloc"', '"latitude"'))
    code, out, err = run_cli("report", bcg, "-o", tmp_path / "out")
    assert code == 0, err
    text = (tmp_path / "out" / "bcg.md").read_text()
    assert "*Meta-regression on latitude: not run (no column 'latitude' for meta-regression" in text


def test_metadata_regressions_are_validated_at_their_line(tmp_path):
    shutil.copy(CASES_DIR / "bcg.csv", tmp_path / "b.csv")
    (tmp_path / "b.toml").write_text('title = "x"\n\n[[regressions]]\nmods = "ablat"\n')
    code, out, err = run_cli("pool", tmp_path / "b.csv")
    assert code == 2 and f"{tmp_path / 'b.toml'}:4: regressions[1].mods: must be a list" in err
    data = json.loads(run_cli("pool", CASES_DIR / "bcg.csv", "--format", "json")[1])
    assert data["k"] == 13
