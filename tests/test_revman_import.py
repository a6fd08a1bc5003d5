"""metamg import: RevMan 5 .rm5 files and Cochrane data packages in (issue 17, the importer).

Own small files in tests/revman/ (written by tests/revman/make_files.py from FORMAT.md: every
data type, subgroups, footnotes, each encoding, a version 1 zip and a version 2 folder), and,
marked ``revman_shared``, the real files of ../shared/revman/files (skipped where absent).
"""

from __future__ import annotations

import csv
import json
import math
import shutil
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metamg
from metamg.errors import InputError
from metamg.io.metadata import read_metadata
from metamg.io.revman import read_revman
from tests.helpers import run_cli

HERE = Path(__file__).parent / "revman"
RM5_VARIANTS = [
    "mini_utf8.rm5",
    "mini_utf8_bom_crlf.rm5",
    "mini_latin1_cp1252.rm5",
    "mini_one_line.rm5",
    "mini_utf8_stray_cp1252.rm5",
]
V1 = HERE / "MiniV1.zip"
V2 = HERE / "CD999002-dataPackage"
SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "revman" / "files"
needs_shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the real RevMan files are not here ({SHARED} is absent: a plain clone)"
)


def rm5(name="mini_utf8.rm5"):
    return read_revman(HERE / name)


def one_line_error(args, *needles):
    code, out, err = run_cli(*args)
    assert code == 2, (code, out, err)
    assert "Traceback" not in err and "internal error" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


# -- .rm5: encodings, structure, every data type ------------------------------------------------


def _rows(review):
    return [(a.id, a.name.replace("<=", "\u2264"), [r.to_dict() for r in a.rows]) for a in review.analyses]


@pytest.mark.parametrize("name", RM5_VARIANTS[1:])
def test_every_encoding_and_layout_reads_the_same_analyses(name):
    assert _rows(rm5(name)) == _rows(rm5())


def test_c1_and_stray_bytes_are_read_as_windows_1252_with_a_warning():
    latin = rm5("mini_latin1_cp1252.rm5")
    assert latin.title == "Mini review for metamg \u201cquoted\u201d"
    assert latin.analyses[0].name == "Death at 1 year \u2013 all causes"
    assert latin.warnings == ("C1 control characters were read as Windows-1252 punctuation",)
    stray = rm5("mini_utf8_stray_cp1252.rm5")
    assert stray.title == "Mini review for metamg \u201cstray\u201d"
    assert stray.warnings == ("bytes that are not UTF-8 were read as Windows-1252",)
    assert rm5().warnings == () and rm5("mini_utf8_bom_crlf.rm5").warnings == ()


def test_review_identity_and_analysis_addresses():
    r = rm5()
    assert (r.review_id, r.doi, r.format, r.revman_version) == (
        "CD999001",
        "10.1002/14651858.CD999001.pub2",
        "rm5",
        "5.3.5",
    )
    assert [a.id for a in r.analyses] == ["1.1", "1.2", "2.1", "2.2", "2.5"]  # NO attributes, with a gap
    assert [a.type for a in r.analyses] == ["DICH", "CONT", "IV", "OE", "CONT"]
    assert r.analyses[2].comparison == "Drug versus usual care"  # markup children's text kept
    assert r.analysis(" 2.05 ").id == "2.5"
    with pytest.raises(InputError, match=r"no analysis '9.9'; the analyses are 1.1, 1.2, 2.1, 2.2, 2.5"):
        r.analysis("9.9")


def test_dichotomous_rows_labels_footnotes_and_stored_totals():
    a = rm5().analysis("1.1")
    assert (a.effect_measure, a.method, a.model, a.log_data, a.totals) == ("OR", "MH", "fixed", True, True)
    assert [r.study for r in a.rows] == [
        "Alpha-1 1990",
        "Beta 1995",
        "Gamma\u00a0Trial 2001",
        "D\u00e9lta 2003",
    ]
    assert [r.year for r in a.rows] == [1990, 1994, 2001, 2003]  # YEAR, not the year in the name
    assert [r.estimable for r in a.rows] == [True, True, False, True]
    assert a.rows[1].footnote == "Deaths at 11 months; data from the authors"
    d = a.rows[0].to_dict()
    assert {k: d[k] for k in ("events_1", "total_1", "events_2", "total_2")} == {
        "events_1": 10,
        "total_1": 100,
        "events_2": 15,
        "total_2": 100,
    }
    assert (d["revman_effect"], d["revman_ci_lower"], d["revman_ci_upper"], d["revman_weight"]) == (
        0.7,
        0.4,
        1.2,
        33.0,
    )
    assert a.rows[2].to_dict()["revman_effect"] is None  # not estimable: 0.0 means nothing
    rv = dict(a.revman)
    assert (rv["effect"], rv["ci_lower"], rv["ci_upper"], rv["chi2"], rv["df"], rv["z"]) == (
        0.7,
        0.5,
        0.95,
        1.5,
        2,
        2.3,
    )
    assert (rv["events_1"], rv["total_1"], rv["studies"]) == (30, 400, 4)
    assert a.counts == {"n_rows": 4, "n_studies": 4, "n_estimable": 3, "n_subgroups": 0}


def test_continuous_subgroups_and_the_subgroup_test():
    a = rm5().analysis("1.2")
    assert a.counts == {"n_rows": 4, "n_studies": 3, "n_estimable": 4, "n_subgroups": 2}
    assert a.name == "Body weight \u2264 12 months" and a.units == "kg"
    assert [(r.subgroup, r.subgroup_no) for r in a.rows] == [
        ("Short term", 1),
        ("Short term", 1),
        ("Long term", 2),
        ("Long term", 2),
    ]
    assert [s.name for s in a.subgroups] == ["Short term", "Long term"]
    assert dict(a.subgroup_test) == {"chi2": 1.1428, "df": 1, "p": 0.29, "i2": 12.5}
    assert a.rows[1].footnote == "Change from baseline; SD imputed"
    assert a.rows[0].to_dict()["sd_1"] == 6.4


def test_totals_not_shown_and_results_never_computed():
    a = rm5().analysis("2.5")
    assert not a.totals and dict(a.revman)["effect"] is None
    first, second = a.rows
    assert first.estimable and first.revman_effect is None  # RevMan stored "" (nothing computed)
    assert not second.estimable


@pytest.mark.parametrize(
    "aid, kind, measure, method, log",
    [("2.1", "IV", "Hazard Ratio", "IV", True), ("2.2", "OE", "PETO_OR", "PETO", True)],
)
def test_generic_and_o_minus_e_outcomes(aid, kind, measure, method, log):
    a = rm5().analysis(aid)
    assert (a.type, a.effect_measure, a.method, a.log_data) == (kind, measure, method, log)
    keys = ("estimate", "se") if kind == "IV" else ("o_e", "var")
    assert all(set(keys) <= set(r.to_dict()) for r in a.rows)


@pytest.mark.parametrize("aid", ["1.2", "2.1", "2.2"])
def test_the_revman5_reanalysis_gives_back_the_stored_inverse_variance_totals(aid):
    review = rm5()
    imported = metamg.import_revman(HERE / "mini_utf8.rm5", aid)
    rv, b = dict(imported.analysis.revman), imported.revman5
    assert b is not None and b["profile"] == "revman5"
    est, lo, hi = (
        (b["exp_estimate"], b["exp_ci_lower"], b["exp_ci_upper"])
        if review.analysis(aid).log_data
        else (b["estimate"], b["ci_lower"], b["ci_upper"])
    )
    for mine, theirs in ((est, rv["effect"]), (lo, rv["ci_lower"]), (hi, rv["ci_upper"])):
        assert mine == pytest.approx(theirs, rel=1e-12)
    assert b["q"] == pytest.approx(rv["chi2"], rel=1e-12)
    assert b["tau2"] == pytest.approx(rv["tau2"], abs=1e-14)
    assert abs(b["z"]) == pytest.approx(rv["z"], rel=1e-12)  # RevMan's Z is unsigned
    assert b["q_df"] == rv["df"]


# -- data packages ------------------------------------------------------------------------------


def test_version_1_zip_nested_data_zip_and_zeros_for_missing():
    r = read_revman(V1)
    assert (r.format, r.review_id, r.warnings) == (
        "data package v1",
        "MiniV1",
        ("read from the nested ...-data.zip",),
    )
    dich, cont = r.analyses
    assert (dich.type, dich.effect_measure, dich.method, dich.model) == ("DICH", "RR", "MH", "fixed")
    assert [r_.estimable for r_ in dich.rows] == [True, True, False]  # 0/100 vs 0/100: zeros, not a result
    assert dich.rows[0].footnote == "Deaths, all causes"
    assert [(x.subgroup, x.subgroup_no) for x in dich.rows] == [
        ("Adults", 1),
        ("Children", 2),
        ("Children", 2),
    ]
    assert dict(dich.revman)["p_z"] == 0.117449 and dict(dich.revman)["tau2"] is None
    assert dict(dich.subgroup_test) == {"chi2": 0.25, "df": 1, "p": 0.617075, "i2": 0}
    # the continuous analysis: RevMan computed nothing (zeros everywhere), the inputs are there
    assert dict(cont.revman)["effect"] is None and dict(cont.revman)["chi2"] is None
    assert all(x.estimable and x.revman_effect is None for x in cont.rows)
    d = cont.rows[0].to_dict()
    assert (d["mean_1"], d["sd_1"], d["total_1"], d["mean_2"], d["sd_2"], d["total_2"]) == (
        5.0,
        4.7,
        25,
        6.5,
        3.8,
        25,
    )
    assert "events_1" not in d  # 'Experimental cases' = 0 of a continuous row is not a number of it


def test_version_2_folder_empty_cells_entities_and_o_minus_e():
    r = read_revman(V2)
    assert (r.format, r.review_id) == ("data package v2", "CD999002")
    hr, oe, dich = r.analyses
    assert hr.comparison == "Drug versus placebo" and hr.name == "Survival, overall"
    assert (hr.type, hr.effect_measure, hr.log_data, hr.model) == ("IV", "Hazard Ratio", True, "random")
    assert hr.rows[1].footnote == "Median follow-up 5 years; participants \u2265 65"
    assert hr.rows[0].year == 1990 and oe.rows[0].year is None
    assert (oe.type, oe.method, oe.effect_measure) == ("OE", "PETO", "PETO_OR")
    assert oe.rows[0].to_dict()["o_e"] == -4.2 and oe.rows[0].to_dict()["var"] == 10.5
    assert [x.estimable for x in dich.rows] == [True, False, True]  # Cocco 2005: empty results
    assert dich.counts == {"n_rows": 3, "n_studies": 2, "n_estimable": 2, "n_subgroups": 2}
    high = dict(dich.subgroups[1].results)
    assert high["chi2"] == 0.0 and high["p_chi2"] is None  # df 0: no test (9.57e-32 is noise)
    for aid in ("1.1", "1.2"):
        b = metamg.reanalyse_revman(r, r.analysis(aid)).revman5
        rv = dict(r.analysis(aid).revman)
        assert b["exp_estimate"] == pytest.approx(rv["effect"], rel=1e-12)
        assert b["exp_ci_upper"] == pytest.approx(rv["ci_upper"], rel=1e-12)


def test_a_zipped_version_2_package_reads_as_its_folder(tmp_path):
    z = tmp_path / "CD999002-dataPackage.zip"
    with zipfile.ZipFile(z, "w") as out:
        for f in sorted(V2.rglob("*.csv")):
            out.write(f, f.relative_to(V2).as_posix())
    zipped, folder = read_revman(z), read_revman(V2)
    assert [a.to_dict() for a in zipped.analyses] == [a.to_dict() for a in folder.analyses]


# -- the command line ---------------------------------------------------------------------------

LIST_KEYS = [
    "id",
    "comparison",
    "name",
    "type",
    "effect_measure",
    "method",
    "model",
    "n_rows",
    "n_studies",
    "n_estimable",
    "n_subgroups",
]


@pytest.mark.parametrize("path", [HERE / "mini_utf8.rm5", V1, V2])
def test_list_json_contract(path):
    code, out, err = run_cli("import", path, "--list", "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    assert list(d) == ["analyses"]
    assert all(list(a) == LIST_KEYS for a in d["analyses"])
    assert all(a["type"] in ("DICH", "CONT", "IV", "OE") for a in d["analyses"])


def test_analysis_json_contract():
    code, out, err = run_cli("import", HERE / "mini_utf8.rm5", "--analysis", "1.2", "--format", "json")
    assert code == 0, err
    d = json.loads(out)
    for key in ("id", "type", "effect_measure", "method", "model", "counts", "studies", "revman"):
        assert key in d
    assert set(d["counts"]) == {"n_rows", "n_studies", "n_estimable", "n_subgroups"}
    study = d["studies"][0]
    for key in ("study", "year", "subgroup", "estimable", "footnote", "mean_1", "sd_1", "total_1", "mean_2"):
        assert key in study
    for key in ("revman_effect", "revman_ci_lower", "revman_ci_upper", "revman_weight"):
        assert key in study
    assert set(d["revman"]) >= {
        "effect",
        "ci_lower",
        "ci_upper",
        "tau2",
        "chi2",
        "df",
        "p_chi2",
        "i2",
        "z",
        "p_z",
    }
    assert set(d["revman"]) >= {"events_1", "total_1", "events_2", "total_2", "weight"}
    assert [s["no"] for s in d["revman_subgroups"]] == [1, 2] and "effect" in d["revman_subgroups"][0]
    assert set(d["revman_subgroup_test"]) == {"chi2", "df", "p", "i2"}
    block = d["reanalysis"]["revman5"]
    assert set(block) >= {
        "estimate",
        "se",
        "ci_lower",
        "ci_upper",
        "z",
        "p",
        "q",
        "q_df",
        "q_p",
        "i2",
        "tau2",
        "k",
    }
    assert "exp_estimate" not in block  # MD: not a ratio
    code, out, _ = run_cli("import", HERE / "mini_utf8.rm5", "--analysis", "2.1", "--format", "json")
    assert {"exp_estimate", "exp_ci_lower", "exp_ci_upper"} <= set(json.loads(out)["reanalysis"]["revman5"])


def test_json_without_output_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli("import", HERE / "mini_utf8.rm5", "--format", "json")
    assert code == 0 and len(json.loads(out)["analyses"]) == 5
    assert not (tmp_path / "studies").exists()


def _read_csv(path):
    with open(path, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_import_writes_checked_study_sets_and_never_overwrites(tmp_path):
    out = tmp_path / "sets"
    code, stdout, err = run_cli("import", HERE / "mini_latin1_cp1252.rm5", "-o", out)
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted(
        f"CD999001-{i}.{ext}" for i in ("1.1", "1.2", "2.1", "2.2", "2.5") for ext in ("csv", "toml")
    )
    code, _, err = run_cli("check", *sorted(out.glob("*.csv")))
    assert code == 0, err
    rows = _read_csv(out / "CD999001-1.2.csv")
    assert [r["study"] for r in rows] == [
        "Alpha-1 1990",
        "Beta 1995",
        "Gamma\u00a0Trial 2001",
        "Alpha-1 1990 (subgroup 2)",
    ]
    assert [r["revman_study"] for r in rows][-1] == "Alpha-1 1990"
    assert [r["subgroup"] for r in rows] == ["Short term", "Short term", "Long term", "Long term"]
    assert {r["evidence_status"] for r in rows} == {"secondary-source"}
    assert "CD999001" in rows[0]["source"] and "analysis 1.2" in rows[0]["source"]
    assert "SHA-256" in rows[0]["where_found"] and "mini_latin1_cp1252.rm5" in rows[0]["where_found"]
    assert rows[1]["notes"].endswith("Footnote in the review: Change from baseline; SD imputed")
    dich = _read_csv(out / "CD999001-1.1.csv")
    assert dich[2]["exclusion_reason"].startswith("not estimable in the review")
    oe = _read_csv(out / "CD999001-2.2.csv")
    assert float(oe[0]["yi"]) == pytest.approx(-4.2 / 10.5) and float(oe[0]["sei"]) == pytest.approx(
        1 / math.sqrt(10.5)
    )
    assert (oe[0]["o_e"], oe[0]["var"]) == ("-4.2", "10.5") and "o_e / var" in oe[0]["derived_fields"]
    smd = _read_csv(out / "CD999001-2.5.csv")
    assert smd[1]["sd_treatment"] == "" and "sd_treatment 0" in smd[1]["notes"]  # 0.0 = missing
    meta = read_metadata(out / "CD999001-1.2.csv")
    assert (meta.measure, meta.subgroup, meta.benefit) == ("MD", "subgroup", "lower")
    assert meta.published is not None and meta.published.get("analysis") == "1.2"
    assert meta.published.get("effect") == pytest.approx(dict(rm5().analysis("1.2").revman)["effect"])
    assert len(meta.published.subgroups) == 2 and dict(meta.published.subgroup_test)["df"] == 1
    # a second import refuses, naming every set that exists, and writes nothing
    before = (out / "CD999001-1.1.csv").read_bytes()
    code, _, err = run_cli("import", HERE / "mini_latin1_cp1252.rm5", "-o", out)
    assert code == 2 and len(err.strip().splitlines()) == 10 and "use --force" in err
    code, _, err = run_cli(
        "import", HERE / "mini_latin1_cp1252.rm5", "-o", out, "--analysis", "1.1", "--force"
    )
    assert code == 0, err
    assert (out / "CD999001-1.1.csv").read_bytes() == before


def test_text_output_sets_published_beside_reanalysed(tmp_path):
    code, out, err = run_cli("import", V2, "--analysis", "1.1", "-o", tmp_path)
    assert code == 0, err
    assert "Published in the review (RevMan): Hazard Ratio" in out
    assert "Re-analysed by metamg (revman5 profile, DL)" in out
    code, out, _ = run_cli("import", V1, "--list")
    assert code == 0 and "1.2  CONT  SMD" in out


def test_every_own_file_writes_sets_that_pass_check(tmp_path):
    for n, path in enumerate([*(HERE / name for name in RM5_VARIANTS), V1, V2]):
        code, _, err = run_cli("import", path, "-o", tmp_path / str(n))
        assert code == 0, err
        code, _, err = run_cli("check", *sorted((tmp_path / str(n)).glob("*.csv")))
        assert code == 0, (path, err)


def test_published_table_is_validated(tmp_path):
    (tmp_path / "s.csv").write_text("study,yi,sei\nA,1,1\n", encoding="utf-8")
    (tmp_path / "s.toml").write_text(
        '[published]\nanalysis = "1.1"\neffect = "big"\nbogus = 1\n[[published.subgroups]]\nno = 1\neffect = true\n',
        encoding="utf-8",
    )
    with pytest.raises(InputError) as exc:
        read_metadata(tmp_path / "s.csv")
    text = str(exc.value)
    assert "published.effect: must be a finite number" in text
    assert "published.bogus: unknown key" in text
    assert "published.subgroups.0.effect: must be a finite number" in text
    assert "s.toml:4: published.bogus" in text  # each problem at its key's line
    (tmp_path / "s.toml").write_text('[published]\nanalysis = "1.1"\neffect = 0.5\n', encoding="utf-8")
    assert read_metadata(tmp_path / "s.csv").published.get("effect") == 0.5


# -- hostile input: one line, exit 2 ------------------------------------------------------------


def test_truncated_xml(tmp_path):
    data = (HERE / "mini_utf8.rm5").read_bytes()
    p = tmp_path / "cut.rm5"
    p.write_bytes(data[: len(data) // 2])
    one_line_error(["import", p, "--list"], str(p), "not a complete RevMan 5 file", "ends early")


def test_malformed_and_foreign_xml(tmp_path):
    p = tmp_path / "bad.rm5"
    p.write_bytes(b'<?xml version="1.0"?>\n<COCHRANE_REVIEW><A></B></COCHRANE_REVIEW>\n')
    one_line_error(["import", p], "not well-formed")
    p.write_bytes(b"<html><body>hello</body></html>")
    one_line_error(["import", p], "root element is <html>, not <COCHRANE_REVIEW>")
    p.write_bytes(b"<COCHRANE_REVIEW/>")
    one_line_error(["import", p], "no ANALYSES_AND_DATA")


@pytest.mark.parametrize(
    "content, needle",
    [
        (bytes(range(256)) * 4, "not a RevMan file"),
        (b"", "not a RevMan file"),
        (b"PK\x03\x04garbage", "not a readable zip"),
    ],
)
def test_binary_garbage(tmp_path, content, needle):
    p = tmp_path / "x.rm5"
    p.write_bytes(content)
    one_line_error(["import", p, "--list"], needle)


def test_zips_and_folders_without_the_csvs(tmp_path):
    empty = tmp_path / "empty.zip"
    with zipfile.ZipFile(empty, "w"):
        pass
    one_line_error(
        ["import", empty], "overall-estimates-and-settings.csv and ...-data-rows.csv missing", "holds 0 files"
    )
    half = tmp_path / "half.zip"
    with zipfile.ZipFile(half, "w") as z:
        z.writestr("X-analysis-data/X-overall-estimates-and-settings.csv", "Analysis group\n")
    one_line_error(["import", half], "...-data-rows.csv missing")
    folder = tmp_path / "folder"
    folder.mkdir()
    (folder / "readme.txt").write_text("x")
    one_line_error(["import", folder], "not a Cochrane data package")
    broken = tmp_path / "broken"
    shutil.copytree(V2, broken)
    overall = next(broken.rglob("*overall-estimates-and-settings.csv"))
    overall.write_text("Analysis group,Analysis number\n1,1\n", encoding="utf-8")
    one_line_error(["import", broken], "'analysis name', 'data type' missing")


def test_unknown_data_type_names_the_file_and_line(tmp_path):
    broken = tmp_path / "CD1-dataPackage"
    shutil.copytree(V2, broken)
    overall = next(broken.rglob("*overall-estimates-and-settings.csv"))
    overall.write_text(
        overall.read_text(encoding="utf-8").replace("Contrast level", "Survival curves"), encoding="utf-8"
    )
    one_line_error(["import", broken, "--list"], "overall-estimates-and-settings.csv:2:", "'Survival curves'")


@settings(max_examples=150, deadline=None)
@given(
    name=st.sampled_from([*RM5_VARIANTS, "MiniV1.zip"]),
    cut=st.floats(0, 1),
    flips=st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255)), max_size=3),
)
def test_damaged_files_answer_0_or_2_never_a_traceback(tmp_path_factory, name, cut, flips):
    data = bytearray((HERE / name).read_bytes())
    for at, byte in flips:
        data[int(at * (len(data) - 1))] = byte
    data = data[: max(1, int(cut * len(data)))] if cut < 1 else data
    p = tmp_path_factory.mktemp("damaged") / name
    p.write_bytes(bytes(data))
    code, out, err = run_cli("import", p, "--list", "--format", "json")
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in (0, 2), err
    if code == 2:
        assert len(err.strip().splitlines()) == 1 and err.startswith(str(p)), err


def test_missing_file_and_unknown_analysis(tmp_path):
    one_line_error(["import", tmp_path / "nope.rm5"], "no such file")
    one_line_error(
        ["import", HERE / "mini_utf8.rm5", "--analysis", "7.7", "--format", "json"], "no analysis '7.7'"
    )


# -- the real files (../shared/revman/files) ----------------------------------------------------


@needs_shared
@pytest.mark.revman_shared
def test_shared_celecoxib_review():
    r = read_revman(SHARED / "CD009865StatsDataOnly.rm5")
    assert (r.review_id, r.title, r.citation) == (
        "CD009865",
        "Celecoxib for osteoarthritis",
        "Cochrane Database of Systematic Reviews 2017, Issue 5",
    )
    assert len(r.analyses) == 66
    assert sum(a.effect_measure == "PETO_OR" for a in r.analyses) == 24
    a = r.analysis("1.4")
    assert a.counts == {"n_rows": 28, "n_studies": 28, "n_estimable": 26, "n_subgroups": 0}
    assert dict(a.revman)["effect"] == 0.9491594847627857
    b = metamg.reanalyse_revman(r, a).revman5
    assert b["exp_estimate"] == pytest.approx(0.9491594847627857, rel=1e-12)  # Peto = metafor's rma.peto


@needs_shared
@pytest.mark.revman_shared
def test_shared_files_pitfalls():
    cholera = read_revman(SHARED / "CD008625StatsDataOnly.rm5")
    assert len(cholera.analyses) == 74
    assert sum(a.type == "IV" and a.log_data for a in cholera.analyses) == 22
    assert sum(bool(r.footnote) for a in cholera.analyses for r in a.rows) == 136
    alam = next(r for a in cholera.analyses for r in a.rows if r.study == "Alam 1990 BGD")
    assert alam.year == 1987
    rota = read_revman(SHARED / "CD008521StatsDataOnly.rm5")
    assert [a.id for a in rota.analyses] == ["1.1", "1.36", "1.37"]
    assert not any("_x00" in r.study for a in rota.analyses for r in a.rows)  # labels, not escaped IDs
    throat = read_revman(SHARED / "antibiotics-for-sore-throat.rm5")
    assert throat.analysis("1.4").counts["n_rows"] == 20 and throat.analysis("1.4").counts["n_studies"] == 15
    rv = dict(throat.analysis("4.1").revman)
    assert (rv["studies"], rv["df"]) == (16, 6)
    fleiss_rm5, fleiss_zip = read_revman(SHARED / "Fleiss1993.rm5"), read_revman(SHARED / "Fleiss1993.zip")
    assert fleiss_zip.format == "data package v1"
    for a, b in zip(fleiss_rm5.analyses, fleiss_zip.analyses, strict=True):
        assert [r.study for r in a.rows] == sorted(r.study for r in b.rows) or len(a.rows) == len(b.rows)
    assert dict(fleiss_zip.analysis("1.1").revman)["p_z"] == 0.00101  # v1: six decimals
    assert dict(fleiss_zip.analysis("1.2").revman)["effect"] is None  # v1 zeros: nothing computed
    hyper = read_revman(SHARED / "CD007654-SUP-06-dataPackage")
    assert (hyper.format, len(hyper.analyses)) == ("data package v2", 21)
    cocco = next(r for r in hyper.analysis("1.1").rows if r.study == "Cocco 2005")
    assert not cocco.estimable
    assert len(read_revman(SHARED / "CD013776-SUP-06-dataPackage.zip").analyses) == 16


@needs_shared
@pytest.mark.revman_shared
def test_every_shared_analysis_lists_imports_checks_and_repools(tmp_path):
    start = time.perf_counter()
    total = 0
    for n, path in enumerate(sorted(SHARED.iterdir())):
        code, out, err = run_cli("import", path, "--list", "--format", "json")
        assert code == 0, err
        listed = json.loads(out)["analyses"]
        code, _, err = run_cli("import", path, "-o", tmp_path / str(n))
        assert code == 0, err
        assert len(list((tmp_path / str(n)).glob("*.csv"))) == len(listed)
        review = read_revman(path)
        for a in review.analyses:
            total += 1
            imported = metamg.reanalyse_revman(review, a)
            rv = dict(a.revman)
            if rv["effect"] is None:
                continue
            assert imported.revman5 is not None, (path.name, a.id, imported.note)
            # every method, M-H (zero cells inside M-H, M-H-based tau²) and RevMan's SMD included
            b = imported.revman5
            est = b["exp_estimate"] if a.log_data else b["estimate"]
            rounded = round(rv["effect"], 6) == rv["effect"]  # version 1 packages keep 6 decimals
            tol = 5e-7 if rounded else 1e-12
            assert est == pytest.approx(rv["effect"], rel=1e-9, abs=tol), (path.name, a.id)
    assert total == 205
    assert time.perf_counter() - start < 60


@needs_shared
@pytest.mark.revman_shared
def test_every_shared_set_passes_check(tmp_path):
    for n, path in enumerate(sorted(SHARED.iterdir())):
        code, _, err = run_cli("import", path, "-o", tmp_path / str(n))
        assert code == 0, err
        code, _, err = run_cli("check", *sorted((tmp_path / str(n)).glob("*.csv")))
        assert code == 0, (path.name, err)


def test_api_returns_frozen_dataclasses_with_to_dict(tmp_path):
    review = metamg.import_revman(HERE / "mini_utf8.rm5")
    assert json.loads(json.dumps(review.to_dict()))["review"]["review_id"] == "CD999001"
    imported = metamg.import_revman(HERE / "mini_utf8.rm5", "1.1")
    with pytest.raises(AttributeError):
        imported.note = "x"  # type: ignore[misc]
    assert json.loads(json.dumps(imported.to_dict()))["id"] == "1.1"
    written = metamg.write_revman_sets(review, "2.1", directory=tmp_path)
    assert [(i, Path(c).name, Path(t).name) for i, c, t in written] == [
        ("2.1", "CD999001-2.1.csv", "CD999001-2.1.toml")
    ]


def test_an_imported_report_sets_the_review_beside_the_reanalysis(tmp_path):
    """The report of an imported analysis quotes RevMan's stored result and metamg's own, and
    says in words whether the conclusion changes (issue 17)."""
    from metamg.analyses.published import compare_published
    from metamg.io.metadata import Published

    path = tmp_path / "set.csv"
    path.write_text(
        "study,events_treatment,n_treatment,events_control,n_control\n"
        "A,10,100,20,100\nB,15,120,25,118\nC,8,90,12,95\n",
        encoding="utf-8",
    )
    a = metamg.pool(path, measure="RR")
    stored = Published(
        settings=(("effect", 0.5), ("ci_lower", 0.3), ("ci_upper", 0.8), ("method", "MH"), ("model", "fixed"))
    )
    c = compare_published(stored, a)
    assert c.published == (0.5, 0.3, 0.8) and c.published_excludes_null
    assert c.reanalysed[0] == pytest.approx(math.exp(a.result.estimate))
    assert c.reanalysed_excludes_null == (not a.result.ci_low <= 0 <= a.result.ci_high)
    assert c.conclusion_changes == (c.published_excludes_null != c.reanalysed_excludes_null)
    assert compare_published(Published(settings=(("method", "MH"),)), a) is None  # no stored totals
    assert compare_published(None, a) is None
    (tmp_path / "set.toml").write_text(
        'measure = "RR"\n[published]\neffect = 0.5\nci_lower = 0.3\nci_upper = 0.8\nmethod = "MH"\n'
        'model = "fixed"\n',
        encoding="utf-8",
    )
    code, _, err = run_cli("report", path, "-o", tmp_path / "out")
    text = (tmp_path / "out" / "set.md").read_text(encoding="utf-8")
    assert code == 0, err
    assert (
        "- **Published in the review** (RevMan, common-effect model, Mantel-Haenszel): RR 0.50 (95% CI 0.30 to 0.80)."
        in text
    )
    assert "- **Re-analysed by metamg** (cochrane profile:" in text
    words = "**The conclusion changes:**" if c.conclusion_changes else "The conclusion does not change"
    assert words in text
