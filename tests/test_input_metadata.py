"""Metadata files: every problem at its exact line, BOMs, unfilled templates, the file's hash."""

import hashlib
import shutil
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metamg.analyses.check import check_study_set
from metamg.errors import InputError
from metamg.io.metadata import key_lines, read_metadata, unfilled
from metamg.io.templates import new_study_set
from tests.conftest import run_cli

STUDIES = Path(__file__).resolve().parents[1] / "studies"
BIN = "study,events_treatment,n_treatment,events_control,n_control\nA,1,10,2,10\nB,3,12,4,11\n"
FILLED = """title = "t"
population = "adults"
intervention = "magnesium"
comparator = "placebo"
outcome = "death"
inclusion = "all trials"
"""


def meta_problems(tmp_path, toml, data=None):
    (tmp_path / "s.csv").write_text(BIN)
    p = tmp_path / "s.toml"
    if data is not None:
        p.write_bytes(data)
    else:
        p.write_text(toml)
    with pytest.raises(InputError) as err:
        read_metadata(tmp_path / "s.csv")
    return [str(x).replace(f"{p}", "s.toml") for x in err.value.problems]


def test_a_key_in_grade_is_not_taken_for_the_top_level_key(tmp_path):
    toml = (
        'title = "t"\n\nmeasure = "OR"\n\n[grade]\noutcome = "death"\nintervention = 3\n\n\nbenefit = "up"\n'
    )
    # benefit after [grade] belongs to [grade]: an unknown [grade] key, at its own line
    lines = meta_problems(tmp_path, toml)
    assert lines[0] == "s.toml:7: grade.intervention: must be a string (3)"
    assert lines[1].startswith("s.toml:10: grade.benefit: unknown [grade] key; known keys:")


def test_lines_are_exact_not_the_blank_line_before(tmp_path):
    toml = '\n\ntitle = "t"\n\n\nmeasure = "XYZ"\n'
    assert meta_problems(tmp_path, toml) == [
        "s.toml:6: measure: unknown measure; choose one of OR, RR, RD, MD, SMD, ROM, ZCOR, COR, PLO, "
        "PR, GEN, HR (XYZ)"
    ]


def test_every_problem_names_its_line(tmp_path):
    toml = (
        FILLED + 'colour = "red"\nnotes = 5\n[grade]\nmid = inf\ndesign = "rct"\n'
        '[grade.indirectness]\nrating = "serious"\nreasn = "typo"\n'
        '[[claims]]\nid = "a"\ntext = "t"\nmade_in = "m"\nprimary_source_found = "no"\nsauce = "x"\n'
        '[[claims]]\nid = "a"\ntext = "t"\nmade_in = "m"\nprimary_source_found = false\n'
        'implied_effect = nan\nimplies = "x"\n'
    )
    lines = meta_problems(tmp_path, toml)
    got = [(line.split(":")[1], line.split(": ")[1]) for line in lines]
    assert got == [
        ("7", "colour"),
        ("8", "notes"),
        ("10", "grade.mid"),
        ("11", "grade.design"),
        ("12", "grade.indirectness"),
        ("14", "grade.indirectness.reasn"),
        ("19", "claims[1].primary_source_found"),
        ("20", "claims[1].sauce"),
        ("22", "claims[2].id"),
        ("26", "claims[2].implied_effect"),
    ]
    assert "s.toml:22: claims[2].id: duplicate claim id (first on line 16) (a)" in lines
    assert any(
        line.startswith(
            "s.toml:14: grade.indirectness.reasn: unknown [grade.indirectness] key (did you mean 'reason'?)"
        )
        for line in lines
    )


@pytest.mark.parametrize(
    "toml,line,message",
    [
        ('title = "t"\nnotes = "never closed\nmeasure = "OR"\n', 2, "is not valid TOML: Illegal character"),
        (
            'title = "t"\ninclusion = """\nopen\n\nmeasure = "OR"\n',
            2,
            "is not valid TOML: Unterminated string (it opens here and is never closed)",
        ),
        (
            'title = "t"\nstudies = [\n"a",\n',
            2,
            "is not valid TOML: Invalid value (it opens here and is never closed)",
        ),
        ('title = "t"\n\nmeasure = \n', 3, "is not valid TOML: Invalid value (column 11)"),
        ('title = "t"\ntitle = "u"\n', 2, "is not valid TOML: Cannot overwrite a value (column 12)"),
    ],
)
def test_syntax_errors_at_their_line(tmp_path, toml, line, message):
    (problem,) = meta_problems(tmp_path, toml)
    assert problem.startswith(f"s.toml:{line}: {message}")


def test_encodings(tmp_path):
    (tmp_path / "s.csv").write_text(BIN)
    (tmp_path / "s.toml").write_bytes(FILLED.encode("utf-8-sig"))
    meta = read_metadata(tmp_path / "s.csv")
    assert meta.population == "adults"
    assert meta.sha256 == hashlib.sha256(FILLED.encode("utf-8-sig")).hexdigest()
    assert meta_problems(tmp_path, None, 'title = "M\u00fcller"\n'.encode("cp1252")) == [
        "s.toml:1: is not UTF-8 text (byte 0xfc); it looks like Windows-1252 (Latin-1), which metamg "
        "does not guess; save it as UTF-8"
    ]


def test_no_metadata_file_means_no_hash(tmp_path):
    (tmp_path / "s.csv").write_text(BIN)
    meta = read_metadata(tmp_path / "s.csv")
    assert meta.sha256 is None and unfilled(meta) == (
        "population",
        "intervention",
        "comparator",
        "outcome",
        "inclusion",
    )


def test_an_unfilled_template_does_not_pass_check(tmp_path):
    csv, toml = new_study_set("s", "binary", tmp_path)
    with open(csv, "a") as fh:
        fh.write("A,2001,5,50,10,50,low,low,low,low,low,,,Src,,,p. 3,abstract,,\n")
    assert unfilled(read_metadata(csv)) == (
        "population",
        "intervention",
        "comparator",
        "outcome",
        "inclusion",
    )
    text = Path(toml).read_text().splitlines()
    at = {
        key: next(i for i, line in enumerate(text, 1) if line.startswith(f"{key} ="))
        for key in ("population", "intervention", "comparator", "outcome", "inclusion")
    }
    assert [str(p) for p in check_study_set(csv)] == [
        f"{toml}:{at['population']}: population: not filled in: say who was studied",
        f"{toml}:{at['intervention']}: intervention: not filled in: say what was given",
        f"{toml}:{at['comparator']}: comparator: not filled in: say what it was compared with",
        f"{toml}:{at['outcome']}: outcome: not filled in: say what was measured, and how",
        f"{toml}:{at['inclusion']}: inclusion: not filled in: say which studies are pooled, and why "
        "the others are not",
    ]
    filled = Path(toml).read_text()
    for key, value in (
        ("population", "adults"),
        ("intervention", "magnesium"),
        ("comparator", "placebo"),
        ("outcome", "death"),
        ("inclusion", "all"),
    ):
        filled = filled.replace(f'{key} = ""', f'{key} = "{value}"', 1)
    Path(toml).write_text(filled)
    assert check_study_set(csv) == ()


def test_the_old_templates_placeholder_counts_as_unfilled(tmp_path):
    (tmp_path / "s.csv").write_text(BIN)
    (tmp_path / "s.toml").write_text(
        FILLED.replace(
            'inclusion = "all trials"',
            'inclusion = """\nWhich '
            "studies are pooled, and why the others are not (give those a reason "
            'in exclusion_reason).\n"""',
        )
    )
    assert unfilled(read_metadata(tmp_path / "s.csv")) == ("inclusion",)


def test_shipped_sets_are_filled_in():
    for csv in sorted(STUDIES.glob("*.csv")):
        assert unfilled(read_metadata(csv)) == (), csv.name


def test_check_reports_metadata_problems_at_their_line(tmp_path):
    for ext in (".csv", ".toml"):
        shutil.copy(STUDIES / f"magnesium_migraine{ext}", tmp_path / f"m{ext}")
    toml = tmp_path / "m.toml"
    text = toml.read_text().splitlines()
    n = next(i for i, line in enumerate(text) if line.startswith("outcome = "))
    text[n] = 'outcome = ""'
    text.insert(n + 1, 'subgroup = "route"')
    toml.write_text("\n".join(text) + "\n")
    code, out, err = run_cli("check", tmp_path / "m.csv")
    assert code == 1
    assert err.splitlines() == [
        f"{toml}:{n + 1}: outcome: not filled in: say what was measured, and how",
        f"{toml}:{n + 2}: subgroup: names a column that m.csv does not have (route)",
    ]


def test_key_lines_follow_tables_strings_and_arrays():
    text = (
        'a = 1\n\n[grade]\noutcome = "x"  # outcome = "no"\n[grade.indirectness]\nrating = "s"\n'
        'reason = """\nb = 3\n"""\n[[claims]]\nid = "a"\nstudies = [\n  "c = 1",\n]\n[[claims]]\n'
        "id = 'b'\n\"x.y\".z = 2\n"
    )
    lines, opened = key_lines(text)
    assert opened is None
    assert lines == {
        ("a",): 1,
        ("grade",): 3,
        ("grade", "outcome"): 4,
        ("grade", "indirectness"): 5,
        ("grade", "indirectness", "rating"): 6,
        ("grade", "indirectness", "reason"): 7,
        ("claims",): 10,
        ("claims", 0): 10,
        ("claims", 0, "id"): 11,
        ("claims", 0, "studies"): 12,
        ("claims", 1): 15,
        ("claims", 1, "id"): 16,
        ("claims", 1, "x.y"): 17,
        ("claims", 1, "x.y", "z"): 17,
    }


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    lines=st.lists(
        st.one_of(
            st.sampled_from(
                [
                    'title = "t"',
                    "[grade]",
                    "[[claims]]",
                    'id = "a"',
                    "mid = -1",
                    'outcome = ""',
                    "[grade.indirectness]",
                    'rating = "x"',
                    'inclusion = """',
                    '"""',
                    "studies = [",
                    "]",
                    'measure = "OR"',
                    "x = ",
                    "= 1",
                    "[",
                    "'",
                    '"',
                    "a.b.c = 1",
                    "primary_source_found = 1",
                    "implied_effect = inf",
                    "\ufeff",
                    "\x00",
                ]
            ),
            st.text(max_size=12),
        ),
        max_size=12,
    )
)
def test_any_metadata_gets_an_answer_with_lines(tmp_path, lines):
    (tmp_path / "s.csv").write_text(BIN)
    (tmp_path / "s.toml").write_text("\n".join(lines), encoding="utf-8", errors="surrogatepass")
    code, out, err = run_cli("check", tmp_path / "s.csv")
    assert code in (0, 1) and "Traceback" not in err and "internal error" not in err, err
    for line in err.strip().splitlines():
        assert line.startswith(str(tmp_path / "s.")), line
