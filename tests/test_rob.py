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


@pytest.mark.parametrize("cell,expected", [
    ("low", "low"), ("Low", "low"), (" HIGH ", "high"), ("some concerns", "some concerns"),
    ("Some_Concerns", "some concerns"), ("some-concerns", "some concerns"), ("", ""),
    ("unclear", None), ("medium", None), ("lo", None),
])
def test_normalise(cell, expected):
    assert rob.normalise(cell) == expected


def test_judgements_are_read_normalised_and_header_case_is_ignored(tmp_path):
    p = write(tmp_path, HEAD + ",ROB_D1,Rob_Overall\nA,1,10,2,10,Low,Some concerns\nB,2,10,2,10,,\n")
    t = read_studies(p)
    assert t.extra["rob_d1"] == ("low", "")
    assert t.extra["rob_overall"] == ("some concerns", "")


def test_bad_judgements_are_one_line_each(tmp_path):
    p = write(tmp_path, HEAD + ",rob_d1,rob_d2,rob_overall\n"
                              "A,1,10,2,10,unclear,low,low\nB,2,10,2,10,low,maybe,high\n")
    lines = problems(p)
    assert lines == [
        f"{p}:2: rob_d1: 'unclear' is RoB 1's judgement; RoB 2 uses low, some concerns or high "
        "(blank = not assessed) (unclear)",
        f"{p}:3: rob_d2: not a RoB 2 judgement; use low, some concerns or high (blank = not assessed) (maybe)",
    ]


def test_overall_cannot_be_milder_than_the_worst_domain(tmp_path):
    p = write(tmp_path, HEAD + ",rob_d1,rob_d4,rob_overall\nA,1,10,2,10,low,high,some concerns\n")
    assert problems(p) == [f"{p}:2: rob_overall: the overall judgement cannot be less severe than the "
                           "worst domain (high; RoB 2's algorithm) (some concerns)"]


def test_overall_used_is_given_or_the_worst_of_five_judged_domains():
    extra = {"rob_d1": ("low", "low", "low", "low; high"), "rob_d2": ("low",) * 4,
             "rob_d3": ("some concerns", "low", "", "low"), "rob_d4": ("low",) * 4,
             "rob_d5": ("low",) * 4, "rob_overall": ("", "high", "", "")}
    assert rob.overall_judgements(extra, 4) == ("some concerns", "high", "", "high")
    assert rob.judgement(extra, "rob_d1", 3) == "high"   # arms of a combined trial: the worst
    assert rob.judgement(extra, "rob_overall", 0) == "some concerns"
    assert rob.has_rob(extra) and not rob.has_rob({"rob_d1": ("", " ")})


@pytest.mark.parametrize("header,typo,meant", [
    ("study,events_treatmnt,n_treatment,events_control,n_control", "events_treatmnt", "events_treatment"),
    (HEAD + ",rob_overal", "rob_overal", "rob_overall"),
    (HEAD + ",evidence status", "evidence status", "evidence_status"),
    (HEAD + ",exclusion_reasons", "exclusion_reasons", "exclusion_reason"),
])
def test_misspelt_columns_get_a_did_you_mean_hint(tmp_path, header, typo, meant):
    p = write(tmp_path, header + "\nA,1,10,2,10" + ",x" * (header.count(",") - 4) + "\n")
    lines = problems(p)
    assert f"{p}:1: {typo}: unknown column; did you mean '{meant}'? (if it is a column of your own, " \
           "give it a name further from metamg's)" in lines


def test_missing_column_names_a_looser_lookalike(tmp_path):
    p = write(tmp_path, "study,events_treatment,n_treat_group,events_control,n_control\nA,1,10,2,10\n")
    assert problems(p) == [f"{p}:1: n_treatment: required column missing for binary data; "
                           "did you mean 'n_treat_group'?"]


def test_own_columns_far_from_metamg_names_are_kept(tmp_path):
    p = write(tmp_path, HEAD + ",dose_mg,design,outcome_scale\nA,1,10,2,10,300,RCT,deaths\n")
    assert read_studies(p).extra["dose_mg"] == ("300",)
