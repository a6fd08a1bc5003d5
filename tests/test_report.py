"""metamg report: numbers are pool's, output is stable, failures are contained."""

import json
import math
import os
import re
import shutil
from pathlib import Path

import pytest

import metamg
from metamg.analyses.findings import absolute_effect
from metamg.render.sections.methods import software_line
from metamg.render.sections.result import i2_meaning
from tests.conftest import CASES_DIR, run_cli

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def in_repo(monkeypatch):
    monkeypatch.chdir(ROOT)


@pytest.mark.slow
def test_report_numbers_are_the_pool_numbers(tmp_path, in_repo):
    csv = "studies/iv_magnesium_mi_mortality.csv"
    code, out, err = run_cli("report", csv, "-o", tmp_path)
    assert code == 0, err
    text = (tmp_path / "iv_magnesium_mi_mortality.md").read_text()
    _, js, _ = run_cli("pool", csv, "--measure", "OR", "--format", "json")
    d = json.loads(js)
    e = math.exp
    main = "(main analysis; random-effects model, REML, CI hk)"
    assert (
        f"| Pooled effect {main} | {e(d['estimate']):.2f} (95% CI {e(d['ci_low']):.2f} to {e(d['ci_high']):.2f}) |"
        in text
    )
    assert (
        f"| Prediction interval (95%) | {e(d['pi_low']):.2f} to {e(d['pi_high']):.2f} (built on the narrowed"
        in text
    )
    assert f"tau² = {d['tau2']:.4f} (95% CI {d['tau2_ci_low']:.4f} to {d['tau2_ci_high']:.4f})" in text
    assert f"I² = {d['I2']:.0f}% (95% CI {d['I2_ci_low']:.0f}% to {d['I2_ci_high']:.0f}%)" in text
    assert f"Q = {d['Q']:.2f} on {d['Q_df']} df" in text
    for s in d["studies"]:
        assert f"| {s['study']} |" in text and f"| {s['weight']:.1f}% |" in text
    # small-study effects and two models that disagree: the index and the verdicts use the
    # common-effect model, and the report shows it beside the main analysis
    _, js, _ = run_cli("pool", csv, "--method", "FE", "--ci", "wald", "--format", "json")
    fe = json.loads(js)
    verdicts = "(used for the verdicts; common-effect model, inverse variance, CI wald)"
    assert (
        f"| Pooled effect {verdicts} | {e(fe['estimate']):.2f} (95% CI {e(fe['ci_low']):.2f} to "
        f"{e(fe['ci_high']):.2f}) |" in text
    )
    index = (tmp_path / "index.md").read_text()
    assert (
        f"OR {e(fe['estimate']):.2f} (95% CI {e(fe['ci_low']):.2f} to {e(fe['ci_high']):.2f}) "
        "(common-effect model: small-study effects)" in index
    )


def test_absolute_effect_by_hand():
    a = metamg.pool(CASES_DIR / "egger2001.csv", measure="OR")
    ab = absolute_effect(a)
    risks = sorted(c / n for c, n in zip(a.effects.data["ci"], a.effects.data["n2i"], strict=True))
    p0 = (risks[7] + risks[8]) / 2  # median of 16
    odds = math.exp(a.result.estimate) * p0 / (1 - p0)
    assert ab.control_risk == pytest.approx(p0)
    assert ab.per_1000 == pytest.approx(1000 * (odds / (1 + odds) - p0))
    assert ab.nnt == math.ceil(1000 / abs(ab.per_1000)) and ab.nnt_kind == "benefit"
    rr = absolute_effect(metamg.pool(CASES_DIR / "edge_k2.csv", measure="RR"))
    assert rr.nnt is None  # the CI includes no effect


def test_i2_bands_overlap_as_in_the_handbook():
    assert (
        i2_meaning(35)
        == "might not be important (0% to 40%); may represent moderate heterogeneity (30% to 60%)"
    )
    assert i2_meaning(80).endswith("represents considerable heterogeneity (75% to 100%)")


@pytest.mark.slow
def test_identical_input_gives_identical_report(tmp_path, in_repo):
    first = {}
    for _ in range(2):
        assert run_cli("report", "studies/iv_magnesium_mi_mortality.csv", "-o", tmp_path)[0] == 0
        now = {n: (tmp_path / n).read_bytes() for n in os.listdir(tmp_path)}
        first = first or now
    assert now == first and len(now) == 7  # report and index (.md, .html), index.json, forest, funnel
    assert not [n for n in now if n.startswith(".metamg-")]


def _without_software(text: str) -> str:
    """A report without its "- Software:" line (library versions differ between machines)."""
    return re.sub(r"^- Software: .*$", "", text, flags=re.MULTILINE)


@pytest.mark.slow
def test_committed_reports_are_up_to_date(tmp_path, in_repo):
    """Regenerate every shipped report; fails when reports/ is stale (run `metamg report`)."""
    code, out, err = run_cli("report", "-o", tmp_path)
    assert code == 0, err
    committed = ROOT / "reports"
    fresh_names = sorted(os.listdir(tmp_path))
    assert sorted(os.listdir(committed)) == fresh_names
    same_renderer = f"- Software: {software_line()}" in (committed / "index.md").read_text() or all(
        f"- Software: {software_line()}" in (committed / n).read_text()
        for n in fresh_names
        if n.endswith(".md") and n != "index.md"
    )
    for name in fresh_names:
        old, new = (committed / name).read_bytes(), (tmp_path / name).read_bytes()
        if name.endswith(".md"):
            old_t, new_t = old.decode(), new.decode().replace(f"-o {tmp_path}", "-o reports")
            assert _without_software(old_t) == _without_software(new_t), (
                f"reports/{name} is stale: run `metamg report`"
            )
        elif name.endswith(".html"):  # its figures are embedded: comparable with the same libraries
            old_h, new_h = old.decode(), new.decode().replace(f"-o {tmp_path}", "-o reports")
            if same_renderer:
                assert old_h == new_h, f"reports/{name} is stale: run `metamg report`"
            else:
                text = re.compile(r"<li>Software: .*?</li>|data:image/png;base64,[A-Za-z0-9+/=]*")
                assert text.sub("", old_h) == text.sub("", new_h), (
                    f"reports/{name} is stale: run `metamg report`"
                )
        elif same_renderer:  # figure bytes are comparable only with the same library versions
            assert old == new, f"reports/{name} is stale: run `metamg report`"


@pytest.mark.slow
def test_a_failing_set_does_not_stop_the_others(tmp_path):
    good = tmp_path / "good.csv"
    shutil.copy(CASES_DIR / "bcg.csv", good)
    bad = tmp_path / "bad.csv"
    bad.write_text("study,yi,vi\nA,x,0.1\n")
    code, out, err = run_cli("report", bad, good, "-o", tmp_path / "out")
    assert code == 2
    assert f"{bad}:2: yi: not a number (x)" in err
    assert (tmp_path / "out" / "good.md").exists() and not (tmp_path / "out" / "bad.md").exists()
    assert "good.md" in (tmp_path / "out" / "index.md").read_text()


def test_small_sets_omit_the_funnel_with_the_reason(tmp_path):
    csv = tmp_path / "two.csv"
    shutil.copy(CASES_DIR / "edge_k2.csv", csv)
    code, _, err = run_cli("report", csv, "-o", tmp_path / "out")
    assert code == 0, err
    text = (tmp_path / "out" / "two.md").read_text()
    assert "Not drawn: 2 studies, and a funnel plot needs at least 10" in text
    assert (
        "*No metadata file; defaults used: benefit = lower values favour the intervention; "
        "measure = RR; profile = cochrane; subgroup = none.*" in text
    )
    assert not (tmp_path / "out" / "two-funnel.png").exists()


@pytest.mark.parametrize(
    "toml,line,message",
    [
        ('title = "x"\nmeasure = "XYZ"\n', 2, "measure: unknown measure; choose one of"),
        ('title = "x"\ncolour = "red"\n', 2, "colour: unknown key"),
        ('title = "x\n', 1, "is not valid TOML"),
        ('benefit = "up"\n', 1, "benefit: must be 'lower' or 'higher'"),
    ],
)
def test_malformed_metadata_gets_a_clear_error(tmp_path, toml, line, message):
    shutil.copy(CASES_DIR / "bcg.csv", tmp_path / "s.csv")
    (tmp_path / "s.toml").write_text(toml)
    code, out, err = run_cli("report", tmp_path / "s.csv", "-o", tmp_path / "out")
    assert code == 2
    assert err.startswith(f"{tmp_path / 's.toml'}:{line}: ") and message in err


@pytest.mark.slow
def test_robustness_section_uses_the_same_numbers(tmp_path, in_repo):
    csv = "studies/iv_magnesium_mi_mortality.csv"
    assert run_cli("report", csv, "-o", tmp_path)[0] == 0
    text = (tmp_path / "iv_magnesium_mi_mortality.md").read_text()
    robust = text.split("## Is it robust?")[1].split("## Methods")[0]
    sens = json.loads(run_cli("sensitivity", csv, "--measure", "OR", "--format", "json")[1])
    ests = [math.exp(r["estimate"]) for r in sens["leave1out"]]
    assert f"stays between {min(ests):.2f} and {max(ests):.2f}" in robust
    assert robust.count("\n| ") == 2 * (17 + 1)  # leave-one-out and cumulative tables
    bias = json.loads(run_cli("bias", csv, "--measure", "OR", "--format", "json")[1])
    tf = bias["trimfill"]
    assert (
        f"): {tf['k0']} studies imputed on the {tf['side']}; adjusted OR "
        f"{math.exp(tf['estimate']):.2f}" in robust
    )
    egger = bias["egger"]
    stat = "z" if egger["df"] is None else f"t({egger['df']})"  # the model's own test, as regtest
    assert f"{stat} = {egger['statistic']:.2f}" in robust


@pytest.mark.slow
def test_metadata_subgroup_adds_the_subgroup_table(tmp_path):
    shutil.copy(CASES_DIR / "bcg.csv", tmp_path / "bcg.csv")
    (tmp_path / "bcg.toml").write_text('title = "BCG"\nsubgroup = "alloc"\nmeasure = "RR"\n')
    code, _, err = run_cli("report", tmp_path / "bcg.csv", "-o", tmp_path / "out")
    assert code == 0, err
    text = (tmp_path / "out" / "bcg.md").read_text()
    assert "### Subgroups by alloc" in text
    assert "| random | 7 |" in text and "| alternate | 2 |" in text
    assert "Test for subgroup differences (Q on the subgroup estimates, as RevMan)" in text
    assert (
        "Moderator test (one model with a dummy per subgroup, as metafor's rma(mods = ~ factor(alloc))): F(2, 10) = "
        in text
    )
