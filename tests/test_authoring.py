"""Authoring study sets: ``metamg new``, ``metamg list``, and the README's walkthrough, step by step."""

import json
import re
from pathlib import Path

import pytest

from metamg.io.metadata import read_metadata
from metamg.io.schema import read_studies
from metamg.io.templates import template_header
from tests.conftest import run_cli

README = Path(__file__).parent.parent / "README.md"


def walkthrough():
    text = README.read_text(encoding="utf-8")
    section = text.split("## Adding a study set, from scratch", 1)[1].split("\n## ", 1)[0]
    blocks = dict(re.findall(r"```(\w+)\n(.*?)```", section, flags=re.DOTALL)[i] for i in range(4))
    return section, blocks


@pytest.mark.slow
def test_the_readme_walkthrough_works_as_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    section, blocks = walkthrough()
    assert ".venv/bin/metamg new mg_mi_three --type binary" in section
    code, out, err = run_cli("new", "mg_mi_three", "--type", "binary")
    assert code == 0 and out.split() == ["studies/mg_mi_three.csv", "studies/mg_mi_three.toml"]
    with open("studies/mg_mi_three.csv", "a", encoding="utf-8") as fh:  # the spreadsheet step
        fh.write(blocks["csv"])
    toml = Path("studies/mg_mi_three.toml").read_text()
    for line in blocks["toml"].strip().splitlines():  # fill in the first lines
        key = line.split("=")[0].strip()
        toml = re.sub(rf"^{key} = .*$", lambda _, line=line: line, toml, count=1, flags=re.MULTILINE)
    Path("studies/mg_mi_three.toml").write_text(toml)

    code, out, err = run_cli("check", "studies/mg_mi_three.csv")
    assert (code, out.strip(), err) == (0, "1 of 1 study set OK", "")
    code, out, err = run_cli("report", "studies/mg_mi_three.csv")
    assert code == 0, err
    report = Path("reports/mg_mi_three.md").read_text()
    assert report.startswith("# IV magnesium after myocardial infarction: three early trials")
    assert "| death (deaths / randomised) | 746 (3 studies) | RR 0.38 (0.25 to 0.55) |" in report
    assert Path("reports/mg_mi_three-forest.png").exists()
    code, out, err = run_cli("list", "--format", "json")
    (info,) = json.loads(out)
    assert (info["data_type"], info["measure"], info["estimable"], info["total"], info["check_passes"]) == (
        "binary",
        "RR",
        3,
        3,
        True,
    )


@pytest.mark.parametrize(
    "data_type,columns",
    [
        ("binary", ("events_treatment", "n_treatment", "events_control", "n_control")),
        (
            "continuous",
            ("mean_treatment", "sd_treatment", "n_treatment", "mean_control", "sd_control", "n_control"),
        ),
        ("effect", ("effect", "ci_low", "ci_high", "ci_level", "n_treatment", "n_control")),
        ("generic", ("yi", "sei")),
    ],
)
def test_new_writes_header_and_metadata_that_metamg_reads(tmp_path, data_type, columns):
    args = ["new", "s", "--type", data_type, "--dir", tmp_path] + (
        ["--measure", "OR"] if data_type == "effect" else []
    )
    code, out, err = run_cli(*args)
    assert code == 0, err
    header = (tmp_path / "s.csv").read_text().strip().split(",")
    assert tuple(header) == template_header(data_type)
    assert tuple(header[2 : 2 + len(columns)]) == columns
    assert {"rob_d1", "rob_overall", "source", "evidence_status", "exclusion_reason"} <= set(header)
    meta = read_metadata(tmp_path / "s.csv")
    assert meta.measure == {"binary": "RR", "continuous": "MD", "effect": "OR", "generic": "GEN"}[data_type]
    assert meta.grade.design == "randomised"


def test_new_effect_set_accepts_reported_rows(tmp_path):
    run_cli("new", "s", "--type", "effect", "--measure", "RR", "--dir", tmp_path)
    p = tmp_path / "s.csv"
    with open(p, "a") as fh:
        fh.write("A,2001,0.8,0.6,1.05,95,100,100" + "," * 14 + "\n")
    t = read_studies(p, "binary")
    assert t.forms == ("reported",)


def test_new_never_overwrites(tmp_path):
    (tmp_path / "s.toml").write_text("title = 'mine'\n")
    code, out, err = run_cli("new", "s", "--type", "binary", "--dir", tmp_path)
    assert (
        code == 2
        and err.strip()
        == f"{tmp_path / 's.toml'}: already exists; not overwritten (choose another name or delete it first)"
    )
    assert not (tmp_path / "s.csv").exists() and (tmp_path / "s.toml").read_text() == "title = 'mine'\n"


@pytest.mark.parametrize(
    "args,message",
    [
        (["../x", "--type", "binary"], "a study-set name uses letters"),
        (["x", "--type", "effect"], "an effect table needs the measure"),
    ],
)
def test_new_refuses_bad_requests(tmp_path, args, message):
    code, out, err = run_cli("new", *args, "--dir", tmp_path)
    assert code == 2 and message in err and "Traceback" not in err


def test_list_reports_broken_sets(tmp_path):
    (tmp_path / "bad.csv").write_text(
        "study,events_treatment,n_treatment,events_control,n_control\nA,5,3,1,10\n"
    )
    code, out, err = run_cli("list", tmp_path / "bad.csv")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0].split() == ["study", "set", "title", "data", "measure", "k", "check"]
    # no metadata file, and more events than participants: unreadable, two problems
    assert lines[1].split() == ["bad", "bad", "?", "?", "0/0", "2", "problems"]


def test_list_shows_the_shipped_sets(monkeypatch):
    monkeypatch.chdir(README.parent)
    code, out, err = run_cli("list", "--format", "json")
    infos = {i["name"]: i for i in json.loads(out)}
    mi = infos["iv_magnesium_mi_mortality"]
    assert (mi["data_type"], mi["measure"], mi["estimable"], mi["total"], mi["check_passes"]) == (
        "binary",
        "OR",
        17,
        19,
        True,
    )
    assert infos["magnesium_fibromyalgia"]["estimable"] == 0
    assert all(i["check_passes"] for i in infos.values())


def test_everything_new_is_reachable_from_import_metamg(tmp_path):
    import metamg

    csv_path, toml_path = metamg.new_study_set("nb", "binary", tmp_path)
    toml = Path(toml_path).read_text()
    for key in ("population", "intervention", "comparator", "outcome", "inclusion"):  # the question
        toml = re.sub(rf'^{key} = ""', f'{key} = "the {key}"', toml, count=1, flags=re.MULTILINE)
    Path(toml_path).write_text(toml)
    with open(csv_path, "a") as fh:
        fh.write(
            "A,2001,5,50,10,50,low,low,low,low,low,,,Src,,,p. 3,abstract,,\n"
            "B,2002,6,60,12,60,,,,,,high,,Src,,,p. 4,abstract,,\n"
        )
    info = metamg.describe_study_set(csv_path)
    assert (info.estimable, info.total, info.check_passes) == (2, 2, True)
    a = metamg.pool(csv_path)
    meta = metamg.read_metadata(csv_path)
    f = metamg.summarise_findings(a, meta)
    assert f.certainty == metamg.grade_certainty(a, meta.grade)
    layout = metamg.analysis_rob_layout(a)
    assert layout.judgements == (("low",) * 6, ("",) * 5 + ("high",))
