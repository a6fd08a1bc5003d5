"""Risk of bias (RoB 2 columns): validation, the overall judgement, typo hints, forest columns and plots."""

import pytest

from metamg.io import rob
from metamg.io.schema import read_studies
from tests.conftest import run_cli

HEAD = "study,events_treatment,n_treatment,events_control,n_control"


def write(tmp_path, text, name="s.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def problems(path):
    code, out, err = run_cli("pool", path)
    assert code == 2, (out, err)
    assert "Traceback" not in err
    return err.strip().splitlines()


@pytest.mark.parametrize(
    "cell,expected",
    [
        ("low", "low"),
        ("Low", "low"),
        (" HIGH ", "high"),
        ("some concerns", "some concerns"),
        ("Some_Concerns", "some concerns"),
        ("some-concerns", "some concerns"),
        ("", ""),
        ("unclear", None),
        ("medium", None),
        ("lo", None),
    ],
)
def test_normalise(cell, expected):
    assert rob.normalise(cell) == expected


def test_judgements_are_read_normalised_and_header_case_is_ignored(tmp_path):
    p = write(tmp_path, HEAD + ",ROB_D1,Rob_Overall\nA,1,10,2,10,Low,Some concerns\nB,2,10,2,10,,\n")
    t = read_studies(p)
    assert t.extra["rob_d1"] == ("low", "")
    assert t.extra["rob_overall"] == ("some concerns", "")


def test_bad_judgements_are_one_line_each(tmp_path):
    p = write(
        tmp_path,
        HEAD + ",rob_d1,rob_d2,rob_overall\nA,1,10,2,10,unclear,low,low\nB,2,10,2,10,low,maybe,high\n",
    )
    lines = problems(p)
    assert lines == [
        f"{p}:2: rob_d1: 'unclear' is RoB 1's judgement; RoB 2 uses low, some concerns or high "
        "(blank = not assessed) (unclear)",
        f"{p}:3: rob_d2: not a RoB 2 judgement; use low, some concerns or high (blank = not assessed) (maybe)",
    ]


def test_overall_cannot_be_milder_than_the_worst_domain(tmp_path):
    p = write(tmp_path, HEAD + ",rob_d1,rob_d4,rob_overall\nA,1,10,2,10,low,high,some concerns\n")
    assert problems(p) == [
        f"{p}:2: rob_overall: the overall judgement cannot be less severe than the "
        "worst domain (high; RoB 2's algorithm) (some concerns)"
    ]


def test_overall_used_is_given_or_the_worst_of_five_judged_domains():
    extra = {
        "rob_d1": ("low", "low", "low", "low; high"),
        "rob_d2": ("low",) * 4,
        "rob_d3": ("some concerns", "low", "", "low"),
        "rob_d4": ("low",) * 4,
        "rob_d5": ("low",) * 4,
        "rob_overall": ("", "high", "", ""),
    }
    assert rob.overall_judgements(extra, 4) == ("some concerns", "high", "", "high")
    assert rob.judgement(extra, "rob_d1", 3) == "high"  # arms of a combined trial: the worst
    assert rob.judgement(extra, "rob_overall", 0) == "some concerns"
    assert rob.has_rob(extra) and not rob.has_rob({"rob_d1": ("", " ")})


@pytest.mark.parametrize(
    "header,typo,meant",
    [
        ("study,events_treatmnt,n_treatment,events_control,n_control", "events_treatmnt", "events_treatment"),
        (HEAD + ",rob_overal", "rob_overal", "rob_overall"),
        (HEAD + ",evidence status", "evidence status", "evidence_status"),
        (HEAD + ",exclusion_reasons", "exclusion_reasons", "exclusion_reason"),
    ],
)
def test_misspelt_columns_get_a_did_you_mean_hint(tmp_path, header, typo, meant):
    p = write(tmp_path, header + "\nA,1,10,2,10" + ",x" * (header.count(",") - 4) + "\n")
    lines = problems(p)
    assert (
        f"{p}:1: {typo}: unknown column; did you mean '{meant}'? (if it is a column of your own, "
        "give it a name further from metamg's)" in lines
    )


def test_missing_column_names_a_looser_lookalike(tmp_path):
    p = write(tmp_path, "study,events_treatment,n_treat_group,events_control,n_control\nA,1,10,2,10\n")
    assert problems(p) == [
        f"{p}:1: n_treatment: required column missing for binary data; did you mean 'n_treat_group'?"
    ]


def test_own_columns_far_from_metamg_names_are_kept(tmp_path):
    p = write(tmp_path, HEAD + ",dose_mg,design,outcome_scale\nA,1,10,2,10,300,RCT,deaths\n")
    assert read_studies(p).extra["dose_mg"] == ("300",)


DEMO = (
    HEAD + ",rob_d1,rob_d2,rob_d3,rob_d4,rob_d5,rob_overall\n"
    "Alpha,12,100,20,100,low,low,low,low,low,\n"
    "Beta,30,250,41,248,low,some concerns,low,low,low,some concerns\n"
    "Gamma,5,40,9,41,high,low,low,some concerns,low,high\n"
    "Delta,60,500,66,502,,,,,,\n"
)


def test_forest_shows_judgements_in_columns_right_of_the_weights(tmp_path):
    import metamg
    from metamg.render.forest import forest_layout

    a = metamg.pool(write(tmp_path, DEMO))
    layout = forest_layout(a)
    assert layout.rob_columns == rob.COLUMNS
    rows = {r.label: r.rob for r in layout.rows if r.kind == "study"}
    assert rows["Alpha"] == ("low",) * 6  # overall taken from five low domains
    assert rows["Gamma"] == ("high", "low", "low", "some concerns", "low", "high")
    assert rows["Delta"] == ("",) * 6
    assert layout.rob_legend[0] == "D1: Bias arising from the randomisation process"
    assert layout.rob_legend[-1] == "O: Overall risk of bias"
    assert len(layout.column_widths) == 1 + 2 + 3 + 6


def test_forest_without_judgements_has_no_rob_columns(tmp_path):
    import metamg
    from metamg.render.forest import forest_layout

    layout = forest_layout(
        metamg.pool(write(tmp_path, DEMO.replace("high", "").replace("some concerns", "").replace("low", "")))
    )
    assert layout.rob_columns == () and layout.rob_legend == ()


def test_summary_shares_are_the_analysis_weights(tmp_path):
    import metamg
    from metamg.render.robplot import analysis_rob_layout

    a = metamg.pool(write(tmp_path, DEMO))
    w = {row.study: row.weight for row in a.rows}
    layout = analysis_rob_layout(a)
    overall = dict(zip(("low", "some", "high", "na"), layout.shares[-1], strict=True))
    assert overall["low"] == pytest.approx(w["Alpha"], rel=1e-12)
    assert overall["some"] == pytest.approx(w["Beta"], rel=1e-12)
    assert overall["high"] == pytest.approx(w["Gamma"], rel=1e-12)
    assert overall["na"] == pytest.approx(w["Delta"], rel=1e-12)
    d1 = layout.shares[0]
    assert d1 == pytest.approx((w["Alpha"] + w["Beta"], 0, w["Gamma"], w["Delta"]), rel=1e-12)
    counted = analysis_rob_layout(a, weighted=False)
    assert counted.shares[-1] == pytest.approx((25, 25, 25, 25)) and not counted.weighted


@pytest.mark.slow
def test_rob_command_writes_both_plots(tmp_path):
    p = write(tmp_path, DEMO)
    code, out, err = run_cli("rob", p, "-o", tmp_path / "x")
    assert code == 0, err
    assert out.split() == [str(tmp_path / "x-rob-traffic.png"), str(tmp_path / "x-rob-summary.png")]
    assert (tmp_path / "x-rob-traffic.png").read_bytes()[:4] == b"\x89PNG"
    code, out, err = run_cli("rob", p, "-o", tmp_path / "y.svg")
    assert code == 0 and (tmp_path / "y-rob-summary.svg").exists()


def test_rob_command_without_judgements_is_a_clear_error(tmp_path):
    p = write(tmp_path, HEAD + "\nA,1,10,2,10\nB,2,10,3,10\n")
    code, out, err = run_cli("rob", p)
    assert code == 2 and err.startswith(f"{p}:1: no risk-of-bias judgements to plot")


@pytest.mark.slow
def test_report_shows_rob_plots_and_the_low_risk_analysis(tmp_path):
    import metamg
    from metamg.api import write_report

    p = write(tmp_path, DEMO, name="demo.csv")
    (tmp_path / "demo.toml").write_text('title = "Demo"\nmeasure = "RR"\n')
    summary = write_report(p, tmp_path / "out")
    text = (tmp_path / "out" / "demo.md").read_text()
    assert "![Risk-of-bias traffic-light plot](demo-rob-traffic.png)" in text
    assert (tmp_path / "out" / "demo-rob-summary.png").exists()
    low = metamg.pool(p, measure="RR", low_risk_only=True)
    assert low.effects.studies == ("Alpha",)
    from metamg.render.evidence import effect_text

    assert "## Sensitivity to risk of bias" in text
    assert f"| Low overall risk of bias (RoB 2) only | 1 | {effect_text(low, low.measure)} |" in text
    rob_domain = summary.findings.certainty.domain("risk_of_bias")
    assert rob_domain.rating == "serious"  # Gamma high + Delta not assessed carry >= 25%


def test_low_risk_only_from_the_command_line(tmp_path):
    code, out, err = run_cli("pool", write(tmp_path, DEMO), "--low-risk-only", "--format", "json")
    import json

    d = json.loads(out)
    assert [s["study"] for s in d["studies"]] == ["Alpha"]
    assert {
        "rule": "selection.low_risk_only",
        "text": "only studies at low overall risk of bias (RoB 2)",
    } in d["rules"]
    assert {e["study"] for e in d["excluded"]} == {"Beta", "Gamma", "Delta"}
