"""Hostile CSVs: every problem reported as FILE:LINE: column: message, exit status 2, no traceback."""

import os

import pytest

from tests.conftest import run_cli


def write(tmp_path, text, name="s.csv", mode="w"):
    p = tmp_path / name
    if mode == "wb":
        p.write_bytes(text)
    else:
        p.write_text(text, encoding="utf-8")
    return p


def problems(path, *options):
    code, out, err = run_cli("pool", path, *options)
    assert code == 2, (out, err)
    assert "Traceback" not in err and out == ""
    return err.strip().splitlines()


BIN = "study,events_treatment,n_treatment,events_control,n_control\n"


@pytest.mark.parametrize(
    "row,column,message",
    [
        ("A,-1,10,2,10", "events_treatment", "must not be negative (-1)"),
        ("A,11,10,2,10", "events_treatment", "more events than participants"),
        ("A,1,0,2,10", "n_treatment", "must be greater than 0 (0)"),
        ("A,1,10,2,-3", "n_control", "must be greater than 0 (-3)"),
        ("A,1.5,10,2,10", "events_treatment", "must be a whole number (1.5)"),
        ("A,x,10,2,10", "events_treatment", "not a number (x)"),
        ("A,inf,10,2,10", "events_treatment", "not a finite number (inf)"),
        ("A,nan,10,2,10", "events_treatment", "not a finite number (nan)"),
        ("A,1,10,,10", "events_control", "missing value"),
    ],
)
def test_binary_value_errors(tmp_path, row, column, message):
    lines = problems(write(tmp_path, BIN + row + "\n"))
    assert len(lines) == 1
    assert lines[0].startswith(f"{tmp_path / 's.csv'}:2: {column}: ")
    assert message in lines[0]


def test_continuous_sd_must_be_positive(tmp_path):
    csv = (
        "study,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control\n"
        "A,1,0,10,2,1,10\nB,1,1,10,2,-1,10\n"
    )
    lines = problems(write(tmp_path, csv))
    assert [line.split(": ", 2)[:2] for line in lines] == [
        [f"{tmp_path / 's.csv'}:2", "sd_treatment"],
        [f"{tmp_path / 's.csv'}:3", "sd_control"],
    ]


@pytest.mark.parametrize("vi", ["0", "-0.1"])
def test_vi_must_be_positive(tmp_path, vi):
    lines = problems(write(tmp_path, f"study,yi,vi\nA,0.1,{vi}\nB,0.2,0.1\n"))
    assert lines == [f"{tmp_path / 's.csv'}:2: vi: must be greater than 0 ({vi})"]


@pytest.mark.parametrize("ri", ["1", "-1", "1.2"])
def test_correlation_must_lie_inside_minus_one_one(tmp_path, ri):
    lines = problems(write(tmp_path, f"study,ri,ni\nA,{ri},50\nB,0.2,40\n"))
    assert lines == [f"{tmp_path / 's.csv'}:2: ri: correlation must lie strictly between -1 and 1 ({ri})"]


def test_missing_required_columns(tmp_path):
    lines = problems(write(tmp_path, "study,events_treatment,n_treatment\nA,1,10\n"))
    assert lines == [
        f"{tmp_path / 's.csv'}:1: events_control: required column missing for binary data",
        f"{tmp_path / 's.csv'}:1: n_control: required column missing for binary data",
    ]


def test_missing_study_column(tmp_path):
    lines = problems(write(tmp_path, "yi,vi\n0.1,0.2\n"))
    assert lines == [f"{tmp_path / 's.csv'}:1: study: required column missing (one unique label per study)"]


def test_duplicate_labels(tmp_path):
    lines = problems(write(tmp_path, "study,yi,vi\nA,0.1,0.1\nB,0.2,0.1\nA,0.3,0.1\n"))
    assert lines == [f"{tmp_path / 's.csv'}:4: study: duplicate study label (first on line 2) (A)"]


def test_ragged_rows_and_other_problems_in_one_run(tmp_path):
    lines = problems(write(tmp_path, "study,yi,vi\nA,0.1,0.1,9\nB,x,0.1\nC,0.2\n"))
    p = tmp_path / "s.csv"
    assert lines == [
        f"{p}:2: row has 4 fields but the header has 3",
        f"{p}:3: yi: not a number (x)",
        f"{p}:4: row has 2 fields but the header has 3",
    ]


def test_empty_file(tmp_path):
    assert problems(write(tmp_path, "")) == [f"{tmp_path / 's.csv'}: is empty"]
    assert problems(write(tmp_path, "\n \n", name="b.csv")) == [f"{tmp_path / 'b.csv'}: is empty"]


def test_header_only(tmp_path):
    assert problems(write(tmp_path, "study,yi,vi\n")) == [
        f"{tmp_path / 's.csv'}: has a header but no study rows"
    ]


def test_binary_file(tmp_path):
    lines = problems(write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00", mode="wb"))
    assert lines == [f"{tmp_path / 's.csv'}: is not a text file (it contains NUL bytes)"]


def test_non_utf8_file(tmp_path):
    lines = problems(write(tmp_path, "study,yi,vi\nMüller,0.1,0.1\n".encode("latin-1"), mode="wb"))
    assert lines == [
        f"{tmp_path / 's.csv'}:2: is not UTF-8 text (byte 0xfc); it looks like Windows-1252 "
        "(Latin-1), which metamg does not guess; save it as 'CSV UTF-8' (a spreadsheet's "
        "plain 'CSV' is Windows-1252)"
    ]


def test_directory_and_missing_path(tmp_path):
    assert problems(tmp_path) == [f"{tmp_path}: is a directory, not a CSV file"]
    assert problems(tmp_path / "nope.csv") == [f"{tmp_path / 'nope.csv'}: no such file"]


def test_measure_that_does_not_fit_the_data(tmp_path):
    lines = problems(write(tmp_path, BIN + "A,1,10,2,10\n"), "--measure", "SMD")
    assert len(lines) == 1 and "needs continuous data" in lines[0] and "holds binary data" in lines[0]
    lines = problems(
        write(tmp_path, BIN + "A,1,10,2,10\n", name="t.csv"), "--method", "PETO", "--measure", "RR"
    )
    assert lines == [f"{tmp_path / 't.csv'}: method PETO works with measure OR or HR, not RR"]


def test_rom_needs_positive_means(tmp_path):
    csv = (
        "study,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control\n"
        "A,-1,1,10,2,1,10\nB,1,1,10,2,1,10\n"
    )
    lines = problems(write(tmp_path, csv), "--measure", "ROM")
    assert lines == [f"{tmp_path / 's.csv'}:2: mean_treatment: ROM needs positive means (-1)"]


def test_smd_needs_more_than_three_participants(tmp_path):
    # found by test_accepted_values_give_finite_effects_or_a_clear_error: with 3 participants the
    # small-sample correction needs Γ(0), and pooling stopped with an internal error
    csv = (
        "study,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control\n"
        "A,0,1,1,0,1,2\nB,1,1,10,0,1,10\n"
    )
    lines = problems(write(tmp_path, csv), "--measure", "SMD")
    assert lines == [f"{tmp_path / 's.csv'}:2: n_control: SMD needs more than 3 participants in total (2)"]


def test_every_problem_in_one_run(tmp_path):
    csv = BIN + "A,-1,10,2,10\nB,1,10,x,10\nA,1,10,2,10\n"
    lines = problems(write(tmp_path, csv))
    assert len(lines) == 3


def test_input_file_is_never_modified(tmp_path):
    p = write(tmp_path, BIN + "A,0,10,2,10\nB,3,12,4,11\n")
    before = (p.read_bytes(), os.stat(p).st_mtime_ns)
    code, _, _ = run_cli("pool", p, "--format", "json")
    assert code == 0
    assert (p.read_bytes(), os.stat(p).st_mtime_ns) == before


def test_all_blank_row_is_not_estimable(tmp_path):
    p = write(tmp_path, BIN + "A,1,10,2,10\nB,,,,\nC,3,12,4,11\n")
    code, out, err = run_cli("pool", p, "--format", "json")
    assert code == 0
    import json

    d = json.loads(out)
    assert d["k"] == 2
    assert d["excluded"] == [
        {"study": "B", "line": 3, "reason": {"rule": "excluded.no_numbers", "text": "no numbers given"}}
    ]
    code, out, _ = run_cli("pool", p)
    assert "Not estimable (not pooled):\n  B (line 3): no numbers given" in out


def test_header_aliases_case_bom_and_quotes(tmp_path):
    text = '\ufeff Study ,AI, N1I ,ci,n2i,notes\n"Smith, 2001",4,50,9,50,"a, b"\nJones 2003,6,40,8,41,\n'
    p = write(tmp_path, text)
    code, out, err = run_cli("pool", p, "--format", "json", "--measure", "OR", "--method", "FE")
    assert code == 0, err
    import json

    assert [s["study"] for s in json.loads(out)["studies"]] == ["Smith, 2001", "Jones 2003"]


def test_smd_warns_when_sds_look_like_standard_errors(tmp_path):
    csv = (
        "study,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control\n"
        "A,10,0.5,40,7,0.6,40\nB,9,4,30,8,4.2,31\n"
    )
    # study A: sp = sqrt((39·0.5² + 39·0.6²)/78) = 0.5523, d = 3/0.5523 = 5.432, J(78) = 0.9904
    code, out, err = run_cli("pool", write(tmp_path, csv), "--measure", "SMD", "--format", "json")
    assert code == 0
    assert "s.csv:2: SMD of 5.38 is implausibly large" in err
    assert "s.csv:3" not in err
