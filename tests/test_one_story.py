"""One study set, one story: every command resolves its settings the same way, one confidence
level runs through every output, and every number says which analysis it comes from."""

import json
import math
import shutil
from pathlib import Path

import pytest

import metamg
from metamg.analyses.appraisal import appraise
from metamg.render.forest import forest_layout
from metamg.render.funnel import funnel_layout
from tests.conftest import CASES_DIR, load_case, run_cli

ROOT = Path(__file__).resolve().parents[1]
MI = ROOT / "studies" / "iv_magnesium_mi_mortality.csv"


# metafor 3.8-1 on the 17 pooled trials of the MI set (dat.egger2001's 16 and MAGIC 2002):
# rma(yi, vi, method="REML", test="knha") with tight controls, and rma(yi, vi, method="FE")
MI_REML_HK = -0.66752703335016716
MI_FE = 0.01283137941129899


@pytest.mark.parametrize("command", ["pool", "sensitivity", "bias", "regress"])
def test_every_command_takes_the_measure_from_the_metadata(command, tmp_path):
    shutil.copy(CASES_DIR / "bcg.csv", tmp_path / "bcg.csv")
    (tmp_path / "bcg.toml").write_text('title = "BCG"\nmeasure = "OR"\nprofile = "metafor"\n')
    args = {"pool": [], "sensitivity": [], "bias": [], "regress": ["--mods", "ablat"]}[command]
    code, out, err = run_cli(command, tmp_path / "bcg.csv", *args, "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    ref = load_case("bcg")
    if command == "pool":
        e = next(
            a["expected"]
            for a in ref["analyses"]
            if (a["measure"], a["method"], a["ci_method"]) == ("OR", "REML", "wald")
        )
        assert (d["measure"], d["method"], d["ci_method"]) == ("OR", "REML", "wald")
        assert d["estimate"] == pytest.approx(e["estimate"], rel=1e-9)
    elif command == "sensitivity":
        expected = ref["extras"]["OR"]["leave1out"]
        assert [r["estimate"] for r in d["leave1out"]] == pytest.approx(
            [r["estimate"] for r in expected], rel=1e-6
        )
    elif command == "bias":
        assert d["egger"]["statistic"] == pytest.approx(ref["extras"]["OR"]["egger"]["statistic"], rel=1e-6)
    else:
        wald = next(m["wald"] for m in ref["extras"]["OR"]["metareg"] if m["formula"] == "~ ablat")
        assert d["coefficients"][1]["estimate"] == pytest.approx(
            wald["coefficients"][1]["estimate"], rel=1e-6
        )


def test_pool_of_the_mi_set_says_what_the_report_says():
    code, out, err = run_cli("pool", MI, "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert d["measure"] == "OR" and d["estimate"] == pytest.approx(MI_REML_HK, rel=1e-9)
    assert metamg.pool(MI).measure.name == "OR"  # the Python API too
    assert metamg.pool(MI, measure="RR").measure.name == "RR"  # explicit beats metadata


def test_explicit_options_beat_the_metadata(tmp_path):
    shutil.copy(CASES_DIR / "bcg.csv", tmp_path / "bcg.csv")
    (tmp_path / "bcg.toml").write_text('title = "BCG"\nmeasure = "OR"\nprofile = "revman5"\n')
    d = json.loads(
        run_cli("pool", tmp_path / "bcg.csv", "--measure", "RR", "--profile", "metafor", "--format", "json")[
            1
        ]
    )
    assert (d["measure"], d["method"], d["ci_method"], d["profile"]) == ("RR", "REML", "wald", "metafor")


def test_option_help_says_where_defaults_come_from():
    _, out, _ = run_cli("pool", "--help")
    text = " ".join(out.split())
    assert "Default: the study set's metadata, else RR for binary data" in text
    assert "Default: the profile's" in text


# -- one confidence level -------------------------------------------------------------------


@pytest.mark.slow
def test_level_runs_through_text_json_figures_and_report(tmp_path):
    csv = tmp_path / "bcg.csv"
    shutil.copy(CASES_DIR / "bcg.csv", csv)
    code, out, err = run_cli("pool", csv, "--level", "0.9")
    assert code == 0, err
    assert "90% CI" in out and "Prediction interval (90%)" in out and "95%" not in out
    d = json.loads(run_cli("pool", csv, "--level", "0.9", "--format", "json")[1])
    e = next(
        a["expected"]
        for a in load_case("bcg")["analyses"]
        if (a["measure"], a["method"], a["ci_method"]) == ("RR", "REML", "hk")
    )
    from metamg.models.distributions import t_ppf

    assert d["level"] == 0.9
    assert d["ci_low"] == pytest.approx(e["estimate"] - t_ppf(0.95, 12) * e["se"], rel=1e-9)
    a = metamg.pool(csv, level=0.9)
    assert "[90% CI]" in f"{forest_layout(a).effect_header} [90% CI]"
    assert forest_layout(a).level == 0.9 and funnel_layout(a).level == 0.9
    code, out, err = run_cli("report", csv, "-o", tmp_path / "out", "--level", "0.9")
    assert code == 0, err
    text = (tmp_path / "out" / "bcg.md").read_text()
    assert "95%" not in text and "90% CI" in text
    assert "--level 0.9" in text  # the re-create command reproduces it
    for name in ("sensitivity", "bias"):
        code, out, err = run_cli(name, csv, "--level", "0.9")
        assert code == 0 and "95%" not in out and "90% CI" in out, (name, out)


def test_forest_header_shows_the_level(tmp_path):
    from metamg.render.forest import draw_forest

    fig = draw_forest(forest_layout(metamg.pool(CASES_DIR / "bcg.csv", level=0.8)))
    assert "RR [80% CI]" in [t.get_text() for t in fig.axes[0].texts]


@pytest.mark.parametrize("level", ["0", "1", "95", "-0.5", "1.5"])
def test_level_outside_0_1_is_a_usage_error(level):
    code, out, err = run_cli("pool", CASES_DIR / "bcg.csv", "--level", level)
    assert code == 2 and "--level" in err and out == ""


# -- every number from the analysis it names --------------------------------------------------


@pytest.fixture(scope="module")
def mi():
    return appraise(MI)


def test_mi_answer_is_the_common_effect_model(mi):
    assert mi.answer is mi.other and mi.answer.result.method == "FE"
    assert mi.answer.result.estimate == pytest.approx(MI_FE, rel=1e-9)
    assert mi.answer_reason.rule == "answer.small_study_effects"
    assert (
        mi.answer_reason["egger_p"] == pytest.approx(mi.bias.egger.p) and mi.answer_reason["egger_p"] < 0.10
    )
    f = mi.findings  # the summary of findings uses it too
    assert f.relative[0] == pytest.approx(math.exp(MI_FE), rel=1e-9)
    assert mi.cumulative.rows[-1].analysis.result.method == "FE"


@pytest.mark.slow
def test_mi_report_shows_both_models_and_says_which_the_verdicts_use(tmp_path):
    assert run_cli("report", MI, "-o", tmp_path)[0] == 0
    text = (tmp_path / "iv_magnesium_mi_mortality.md").read_text()
    story = text.split("## What the evidence says")[1].split("## Summary of findings")[0]
    assert story.lstrip().startswith(
        "**The answer used here: the common-effect model, OR 1.01 (95% CI 0.96 to 1.07).**"
    )
    assert "| death | 68,820 (17 studies) | OR 1.01 (0.96 to 1.07) |" in text
    robust = text.split("## Is it robust?")[1]
    cum = robust.split("### Cumulative meta-analysis")[1].split("###")[0]
    assert "(common-effect model, inverse variance, CI wald: the model the verdicts use)" in cum
    assert "| ISIS-4 1995 | 1.01 (0.96 to 1.08) |" in cum  # the bullet's largest step is the table's
    assert cum.rstrip().endswith("| MAGIC 2002 | 1.01 (0.96 to 1.07) | 66% | 0.647 |")  # past 2002
    assert "(common-effect model, studies added by year)" in story
    layout = forest_layout(appraise(MI).analysis, answer=appraise(MI).answer)
    overall = [r for r in layout.rows if r.kind == "overall"]
    assert [r.label for r in overall] == [
        "Random effects (REML, HKSJ CI) (main analysis)",
        "Common effect (inverse variance) (used for the verdicts)",
    ]


@pytest.mark.slow
def test_cumulative_table_and_bullet_share_the_model_when_the_models_agree(tmp_path):
    csv = tmp_path / "bcg.csv"
    shutil.copy(CASES_DIR / "bcg.csv", csv)
    assert run_cli("report", csv, "-o", tmp_path / "out")[0] == 0
    text = (tmp_path / "out" / "bcg.md").read_text()
    assert "**Cumulative meta-analysis** (random-effects model" in text
    assert (
        "### Cumulative meta-analysis, studies added by year, ties in data order "
        "(random-effects model, REML, CI hk)" in text
    )


def test_bias_with_fe_is_labelled_the_common_effect_model():
    code, out, err = run_cli("bias", CASES_DIR / "egger2001.csv", "--measure", "OR", "--method", "FE")
    assert code == 0, err
    assert "Egger's regression test (common-effect model, " in out
    assert "mixed-effects" not in out


# -- the index keeps every set ------------------------------------------------------------------


@pytest.mark.slow
def test_reporting_one_set_keeps_the_other_rows_of_the_index(tmp_path):
    for name in ("bcg", "egger2001"):
        shutil.copy(CASES_DIR / f"{name}.csv", tmp_path / f"{name}.csv")
    out = tmp_path / "reports"
    assert run_cli("report", tmp_path / "bcg.csv", tmp_path / "egger2001.csv", "-o", out)[0] == 0
    before = (out / "index.md").read_text()
    assert run_cli("report", tmp_path / "egger2001.csv", "-o", out, "--measure", "OR")[0] == 0
    after = (out / "index.md").read_text()
    assert "[bcg](bcg.md)" in after and "[egger2001](egger2001.md)" in after
    assert after.count("](egger2001.md)") == before.count("](egger2001.md)")
    sets = after.split("## The study sets")[1]  # the row with the pooled effect, after "At a glance"
    assert (
        "| [egger2001](egger2001.md) |" in sets and " OR " in sets.split("egger2001.md) |")[1].split("\n")[0]
    )
    (out / "bcg.md").unlink()  # a report removed by hand leaves the index at the next run
    assert run_cli("report", tmp_path / "egger2001.csv", "-o", out)[0] == 0
    assert "bcg.md" not in (out / "index.md").read_text()


def test_a_set_named_index_is_refused(tmp_path):
    shutil.copy(CASES_DIR / "bcg.csv", tmp_path / "index.csv")
    code, out, err = run_cli("report", tmp_path / "index.csv", "-o", tmp_path / "out")
    assert code == 2 and "cannot be named 'index'" in err


# -- metamg new ---------------------------------------------------------------------------------


def test_new_with_a_csv_name_creates_that_file(tmp_path):
    code, out, err = run_cli("new", "t1.csv", "--type", "binary", "--dir", tmp_path)
    assert code == 0, err
    assert (tmp_path / "t1.csv").exists() and (tmp_path / "t1.toml").exists()
    assert not (tmp_path / "t1.csv.csv").exists()


def test_an_unfilled_template_is_not_printed_as_the_question(tmp_path):
    assert run_cli("new", "t1", "--type", "generic", "--dir", tmp_path)[0] == 0
    csv = tmp_path / "t1.csv"
    header = csv.read_text().strip().split(",")
    rows = [dict(study="A 2001", yi="0.1", sei="0.2"), dict(study="B 2002", yi="0.3", sei="0.25")]
    csv.write_text(
        ",".join(header) + "\n" + "".join(",".join(r.get(h, "") for h in header) + "\n" for r in rows)
    )
    code, out, err = run_cli("report", csv, "-o", tmp_path / "out")
    assert code == 0, err
    text = (tmp_path / "out" / "t1.md").read_text()
    assert "**Question.** not stated in the metadata." in text
    assert "Which studies are pooled, and why the others are not (give those" not in text
    assert run_cli("check", csv)[0] == 1  # and check says what is missing
