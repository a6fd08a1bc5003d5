"""hypothesis throws hostile study sets at the CLI in every form a spreadsheet saves: semicolons,
tabs, decimal commas, BOMs, UTF-16, subnormal and huge numbers, two data types in one row,
labels differing only in case or spacing. The CLI answers 0 or 2 (check: 0 or 1), never with
an internal error or a traceback, and every error line names the file; and a table saved in
any of those forms pools exactly as its comma/UTF-8 form does."""

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli
from tests.spreadsheet import VARIANTS, number_text, table_bytes
from tests.test_hostile_csv import CELLS, COLUMNS

HOSTILE_NUMBERS = [
    "1e-320",
    "4.9e-324",
    "2.2250738585072014e-308",
    "1e308",
    "-1e308",
    "1e200",
    "1e-200",
    "1e400",
    "1e-400",
    "1e12",
    "1000000000001",
    "0,5",
    "1,5",
    "12,25",
    "1,234",
    "1.234",
    "1.234,5",
    "1,234.5",
    "1_000",
    "\u0661",
    "+.5",
    "5.",
    "-0",
    "1e21",
    "1e-21",
    "1e-41",
]
LABELS = st.sampled_from(
    [
        "A",
        "a",
        " A ",
        "A  ",
        "Smith 2001",
        "smith  2001",
        "SMITH 2001",
        "B;1",
        'q"uote',
        "tab\there",
        "line\nbreak",
        "\u00e9t\u00e9",
        "\u0130x",
        "ix",
    ]
)
HOSTILE_COLUMNS = COLUMNS + [
    "mean_treatment",
    "sd_treatment",
    "mean_control",
    "sd_control",
    "events_control",
    "n_control",
    "doi",
    "pmid",
    "source",
    "where_found",
]
ENCODINGS = ["utf-8", "utf-8-sig", "utf-16", "utf-16be-bom", "utf-32"]


def encode(text: str, encoding: str) -> bytes:
    if encoding == "utf-16be-bom":
        return b"\xfe\xff" + text.encode("utf-16-be", errors="surrogatepass")
    return text.encode(encoding, errors="surrogatepass")


@st.composite
def hostile_file(draw):
    header = draw(st.lists(st.sampled_from(HOSTILE_COLUMNS), min_size=0, max_size=9))
    cell = st.one_of(CELLS, st.sampled_from(HOSTILE_NUMBERS), LABELS)
    rows = draw(st.lists(st.lists(cell, min_size=0, max_size=len(header) + 1), max_size=6))
    sep = draw(st.sampled_from([",", ";", "\t"]))
    end = draw(st.sampled_from(["\n", "\r\n"]))
    text = end.join([sep.join(header)] + [sep.join(r) for r in rows]) + draw(st.sampled_from(["", end]))
    return encode(text, draw(st.sampled_from(ENCODINGS)))


def assert_clean_answer(code, out, err, path, codes):
    assert code in codes, err
    assert "Traceback" not in err and "internal error" not in err, err
    if code != 0:
        assert err.strip() and out.strip() in ("", "0 of 1 study set OK"), (out, err)
        for line in err.strip().splitlines():
            assert line.startswith(str(path.with_suffix(""))), line  # the CSV or its .toml


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=hostile_file(),
    measure=st.sampled_from([None, "OR", "RR", "MD", "SMD", "ROM", "GEN", "ZCOR"]),
    method=st.sampled_from([None, "FE", "DL", "REML", "SJ", "MH"]),
    command=st.sampled_from(["pool", "pool", "check"]),
    toml=st.sampled_from([None, 'measure = "OR"\n', 'measure = "MD"\noutcome = ""\n', "\ufeffmeasure = 3\n"]),
)
def test_hostile_spreadsheet_exports_get_a_clean_answer(tmp_path, data, measure, method, command, toml):
    p = tmp_path / "h.csv"
    p.write_bytes(data)
    if toml is not None:
        p.with_suffix(".toml").write_text(toml, encoding="utf-8")
    if command == "check":
        code, out, err = run_cli("check", p)
        assert_clean_answer(code, out, err, p, (0, 1))
        return
    args = ["pool", p, "--format", "json"]
    args += ["--measure", measure] if measure else []
    args += ["--method", method] if method else []
    code, out, err = run_cli(*args)
    assert_clean_answer(code, out, err, p, (0, 2))


# -- one table, every form ------------------------------------------------------------------

_GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}")  # refused in semicolon/tab files
TEXT = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=8)


def plain(numbers):
    """Numbers a spreadsheet writes without a thousands-group look-alike (1.234 is refused)."""
    return numbers.filter(lambda v: not _GROUPED.fullmatch(number_text(v)))


COUNT = st.integers(0, 60)
FLOAT = st.one_of(
    st.integers(-50, 50),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda v: round(v, 4)),
    st.floats(1e-8, 1e-2),
)
POSITIVE = st.one_of(
    st.integers(1, 20), st.floats(1e-4, 50).map(lambda v: round(v, 5)), st.floats(1e-9, 1e-3)
)


@st.composite
def study_table(draw):
    """(header, rows): a binary, continuous or generic table with labels and a notes column,
    maybe with blank, bad or hostile cells."""
    kind = draw(st.sampled_from(["binary", "continuous", "generic"]))
    k = draw(st.integers(1, 6))
    labels = draw(st.lists(st.one_of(LABELS, TEXT), min_size=k, max_size=k))
    rows = []
    for label in labels:
        if kind == "binary":
            n1, n2 = draw(st.integers(1, 60)), draw(st.integers(1, 60))
            nums = [draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2]
        elif kind == "continuous":
            nums = [
                draw(plain(FLOAT)),
                draw(plain(POSITIVE)),
                draw(st.integers(2, 80)),
                draw(plain(FLOAT)),
                draw(plain(POSITIVE)),
                draw(st.integers(2, 80)),
            ]
        else:
            nums = [draw(plain(FLOAT)), draw(plain(POSITIVE))]
        if draw(st.integers(0, 9)) == 0:  # now and then a blank or a hostile cell
            nums[draw(st.integers(0, len(nums) - 1))] = draw(
                st.sampled_from(["", "x", "-1", "1e-320", "1e308"])
            )
        rows.append([label, *nums, draw(TEXT)])
    header = {
        "binary": ["study", "events_treatment", "n_treatment", "events_control", "n_control"],
        "continuous": [
            "study",
            "mean_treatment",
            "sd_treatment",
            "n_treatment",
            "mean_control",
            "sd_control",
            "n_control",
        ],
        "generic": ["study", "yi", "vi"],
    }[kind] + ["notes"]
    return header, rows


def answer(path, measure):
    code, out, err = run_cli("pool", path, "--format", "json", *(["--measure", measure] if measure else []))
    assert "Traceback" not in err and "internal error" not in err, err
    result = json.loads(out.replace(str(path), "FILE")) if code == 0 else None  # warnings name it
    return code, result, err.replace(str(path), "FILE")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=study_table(), measure=st.sampled_from([None, "OR", "RD", "SMD", "ROM", "GEN"]))
def test_every_spreadsheet_form_of_a_table_pools_as_its_comma_utf8_form(tmp_path, table, measure):
    header, rows = table
    comma = tmp_path / "comma.csv"
    comma.write_bytes(table_bytes(header, rows, "comma"))
    expected = answer(comma, measure)
    for variant in VARIANTS:
        path = tmp_path / f"{variant.replace(' ', '_').replace(',', '')}.csv"
        path.write_bytes(table_bytes(header, rows, variant))
        assert answer(path, measure) == expected, variant
