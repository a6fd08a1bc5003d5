"""Spreadsheet exports and odd paths: delimiters, encodings, decimal commas, quotes, pipes,
directories, devices, sockets, permissions, and the SHA-256 of what was read."""

import hashlib
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from metamg.errors import InputError
from metamg.io import csvfile
from metamg.io.schema import read_studies
from tests.conftest import run_cli
from tests.spreadsheet import VARIANTS, table_bytes

BIN = "study,events_treatment,n_treatment,events_control,n_control\nA,1,10,2,10\nB,3,12,4,11\n"


def pool_json(path, *options):
    code, out, err = run_cli("pool", path, "--format", "json", *options)
    assert code == 0, err
    d = json.loads(out)
    d.pop("source")
    return d


def problems(path, *options):
    code, out, err = run_cli("pool", path, *options)
    assert code == 2 and out == "" and "Traceback" not in err, (code, out, err)
    return err.strip().splitlines()


GEN_HEADER = ("study", "yi", "vi", "notes")
GEN_ROWS = [("A", 0.15, 0.02, "first, of two"), ("B", -0.3, 0.5, "p. 3"), ("C", 2, 1e-3, "")]
BIN_HEADER = ("study", "events_treatment", "n_treatment", "events_control", "n_control")
BIN_ROWS = [("A", 1, 10, 2, 10), ("B", 3, 12, 4, 11)]


@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "comma"])
def test_spreadsheet_exports_give_the_same_table_as_the_comma_utf8_file(tmp_path, variant):
    (tmp_path / "c.csv").write_bytes(table_bytes(GEN_HEADER, GEN_ROWS))
    (tmp_path / "v.csv").write_bytes(table_bytes(GEN_HEADER, GEN_ROWS, variant))
    assert pool_json(tmp_path / "v.csv") == pool_json(tmp_path / "c.csv")
    a, b = read_studies(tmp_path / "c.csv"), read_studies(tmp_path / "v.csv")
    assert b.studies == a.studies and b.extra == a.extra and b.forms == a.forms
    assert {k: list(v) for k, v in b.values.items()} == {k: list(v) for k, v in a.values.items()}
    assert list(b.values["yi"]) == [0.15, -0.3, 2.0] and b.extra["notes"] == ("first, of two", "p. 3", "")


@pytest.mark.parametrize("variant", ["semicolon", "tab", "utf-16", "utf-16be semicolon"])
def test_binary_exports_pool_like_the_comma_file(tmp_path, variant):
    (tmp_path / "c.csv").write_bytes(table_bytes(BIN_HEADER, BIN_ROWS))
    (tmp_path / "v.csv").write_bytes(table_bytes(BIN_HEADER, BIN_ROWS, variant))
    assert pool_json(tmp_path / "v.csv", "--measure", "OR") == pool_json(
        tmp_path / "c.csv", "--measure", "OR"
    )


def test_the_delimiter_is_chosen_from_the_header_not_the_cells(tmp_path):
    # semicolons inside the cells of a comma file, and commas inside those of a semicolon file
    p = tmp_path / "s.csv"
    p.write_text("study,yi,vi,notes\nA;1,0.1,0.2,a;b;c\n")
    t = read_studies(p)
    assert t.studies == ("A;1",) and t.extra["notes"] == ("a;b;c",)
    p.write_text("study;yi;vi;notes\nA,1;0,1;0,2;a, b, c\n")
    t = read_studies(p)
    assert t.studies == ("A,1",) and list(t.values["yi"]) == [0.1] and t.extra["notes"] == ("a, b, c",)


def test_a_header_that_splits_two_ways_is_refused_naming_both_delimiters(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("study;yi,vi\nA;1,2\n")
    assert problems(p) == [
        f"{p}:1: the header splits into metamg's column names at comma (',') and "
        "semicolon (';') alike; use one delimiter"
    ]


@pytest.mark.parametrize(
    "cells,message",
    [
        # a comma file: the comma is never a decimal separator
        (
            'A,"1,5",0.2',
            "yi: not a number: a comma-separated file writes decimals with a point (1.5), "
            "and no thousands separators (1,5)",
        ),
        (
            'A,"1,234",0.2',
            "yi: not a number: a comma-separated file writes decimals with a point (1.5), "
            "and no thousands separators (1,234)",
        ),
        ('A,"1,234.5",0.2', "yi: not a number: thousands separators are not read (write 1234.5) (1,234.5)"),
        ("A,1_000,0.2", "yi: not a number (1_000)"),  # float() would read 1000
        ("A,\u0661\u0662,0.2", "yi: not a number (\u0661\u0662)"),  # float() would read 12
        ("A,1 000,0.2", "yi: not a number (1 000)"),
        ("A,Infinity,0.2", "yi: not a finite number (Infinity)"),
    ],
)
def test_numbers_float_would_misread_are_refused(tmp_path, cells, message):
    p = tmp_path / "s.csv"
    p.write_text("study,yi,vi\n" + cells + "\nB,0.1,0.1\n")
    assert problems(p) == [f"{p}:2: {message}"]


@pytest.mark.parametrize(
    "cell,message",
    [
        (
            "1,234",
            "ambiguous: a fraction with a decimal comma, or a thousand and more with a thousands "
            "separator? Write 1234 for the whole number, or 1,2340 for the fraction (1,234)",
        ),
        (
            "1.234",
            "ambiguous: a fraction with a decimal point, or a thousand and more with a thousands "
            "separator? Write 1234 for the whole number, or 1.2340 for the fraction (1.234)",
        ),
        ("1.234,5", "not a number: thousands separators are not read (write 1234,5) (1.234,5)"),
        ("1,234.5", "not a number: thousands separators are not read (write 1234.5) (1,234.5)"),
    ],
)
def test_thousands_separators_never_become_a_number_in_a_semicolon_file(tmp_path, cell, message):
    p = tmp_path / "s.csv"
    p.write_text(f"study;yi;vi\nA;{cell};0,2\nB;0,1;0,1\n")
    assert problems(p) == [f"{p}:2: yi: {message}"]


def test_unambiguous_decimal_commas_are_read(tmp_path):
    p = tmp_path / "s.csv"
    # 0,125 cannot be a thousands group (leading 0), 12,5 has one decimal, 1,2345 four
    p.write_text("study;yi;vi\nA;0,125;0,02\nB;12,5;1,2345\nC;-3;2e-1\nD;1,5e-3;4\n")
    t = read_studies(p)
    assert list(t.values["yi"]) == [0.125, 12.5, -3.0, 0.0015]
    assert list(t.values["vi"]) == [0.02, 1.2345, 0.2, 4.0]


def test_a_file_mixing_decimal_commas_and_points_is_refused_at_each_comma(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("study;yi;vi\nA;0,15;0.02\nB;-0,3;0,5\nC;1;2\n")
    assert problems(p) == [
        f"{p}:2: yi: a decimal comma, but this file also writes decimal points (line 2, vi: 0.02); use "
        "one decimal separator throughout (0,15)",
        f"{p}:3: yi: a decimal comma, but this file also writes decimal points (line 2, vi: 0.02); use "
        "one decimal separator throughout (-0,3)",
        f"{p}:3: vi: a decimal comma, but this file also writes decimal points (line 2, vi: 0.02); use "
        "one decimal separator throughout (0,5)",
    ]


def test_decimal_commas_are_decided_from_the_numeric_columns_only(tmp_path):
    # the points in a DOI, a page and a version number are not decimals
    p = tmp_path / "s.csv"
    p.write_text("study;yi;vi;doi;where_found\nA;0,5;0,1;10.1000/x.1;p. 3.2\nB;0,25;0,2;10.1000/y;v1.2\n")
    t = read_studies(p)
    assert list(t.values["yi"]) == [0.5, 0.25] and t.extra["doi"] == ("10.1000/x.1", "10.1000/y")


@pytest.mark.parametrize(
    "data,message",
    [
        (
            "study,yi,vi\nM\u00fcller,0.1,0.1\n".encode("cp1252"),
            ":2: is not UTF-8 text (byte 0xfc); it looks like Windows-1252 (Latin-1), which metamg does not "
            "guess; save it as 'CSV UTF-8' (a spreadsheet's plain 'CSV' is Windows-1252)",
        ),
        (
            "study,yi,vi\nA,0.1,0.1\n".encode("utf-16-le"),
            ": looks like UTF-16LE text without a byte-order mark, which metamg does not guess; save it as "
            "'CSV UTF-8' (a spreadsheet's plain 'CSV' is Windows-1252)",
        ),
        (
            "study,yi,vi\nA,0.1,0.1\n".encode("utf-16-be"),
            ": looks like UTF-16BE text without a byte-order mark, which metamg does not guess; save it as "
            "'CSV UTF-8' (a spreadsheet's plain 'CSV' is Windows-1252)",
        ),
        (
            b"\xff\xfe" + b"s\x00\x00\xd8",  # a UTF-16 BOM, then a lone surrogate
            ": starts with a UTF-16LE byte-order mark but is not valid UTF-16LE text (offset 4); save it as "
            "'CSV UTF-8' (a spreadsheet's plain 'CSV' is Windows-1252)",
        ),
    ],
)
def test_encodings_that_are_not_guessed_are_named(tmp_path, data, message):
    p = tmp_path / "s.csv"
    p.write_bytes(data)
    assert problems(p) == [f"{p}{message}"]


def test_unterminated_quote_is_reported_where_it_opens(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(
        'study,yi,vi,notes\nA,0.1,0.2,"fine, quoted\nacross lines"\nB,0.2,0.3,"never closed\n'
        "C,0.3,0.4,x\nD,0.4,0.5,y\n"
    )
    assert problems(p) == [f'{p}:4: a quoted field opens here and is never closed (a missing closing ")']
    p.write_text('study;yi;vi\n"A;0,1;0,2\n')
    assert problems(p) == [f'{p}:2: a quoted field opens here and is never closed (a missing closing ")']


def test_text_after_a_closing_quote_is_named(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text('study,yi,vi\n"A" x,0.1,0.2\n')
    assert problems(p) == [
        f"{p}:2: is not valid CSV: text follows a closing quote; a quoted field must "
        'end at a comma, and a quote inside it is written ""'
    ]


# -- paths that are not regular files ------------------------------------------------------


def test_directory_device_and_socket_are_refused(tmp_path):
    assert problems(tmp_path) == [f"{tmp_path}: is a directory, not a CSV file"]
    assert problems("/dev/null") == ["/dev/null: is a device, not a CSV file"]
    sock = tmp_path / "s.sock"
    server = socket.socket(socket.AF_UNIX)
    try:
        server.bind(str(sock))
        assert problems(sock) == [f"{sock}: is a socket, not a CSV file"]
    finally:
        server.close()


def test_a_directory_where_the_metadata_file_should_be(tmp_path):
    (tmp_path / "s.csv").write_text(BIN)
    (tmp_path / "s.toml").mkdir()
    assert problems(tmp_path / "s.csv") == [f"{tmp_path / 's.toml'}: is a directory, not a metadata file"]


def test_permission_denied_names_the_path(tmp_path, monkeypatch):
    p = tmp_path / "s.csv"
    p.write_text(BIN)

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(csvfile, "open", denied, raising=False)  # root may read anything
    assert problems(p) == [f"{p}: permission denied: cannot read it"]


def test_a_pipe_is_read_once_and_its_hash_kept(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    data = table_bytes(GEN_HEADER, GEN_ROWS, "utf-16")
    writer = threading.Thread(target=lambda: fifo.write_bytes(data))
    writer.start()
    table = read_studies(fifo)
    writer.join()
    assert table.studies == ("A", "B", "C") and table.sha256 == hashlib.sha256(data).hexdigest()


def test_process_substitution_is_read(tmp_path):
    if not shutil.which("bash"):
        pytest.skip("needs bash")
    csv = tmp_path / "s.csv"
    csv.write_text(BIN)
    metamg = Path(sys.executable).with_name("metamg")
    out = subprocess.run(
        ["bash", "-c", f"'{metamg}' pool <(cat '{csv}') --format json"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["k"] == 2 and json.loads(out.stdout)["source"].startswith("/dev/fd/")


def test_sha256_is_of_the_bytes_read(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes(BIN.encode("utf-8-sig"))
    assert read_studies(p).sha256 == hashlib.sha256(p.read_bytes()).hexdigest()
    import pandas as pd

    assert read_studies(pd.read_csv(p)).sha256 == ""


def test_reading_never_modifies_the_input(tmp_path):
    p = tmp_path / "s.csv"
    p.write_bytes(table_bytes(GEN_HEADER, GEN_ROWS, "utf-16 tab, decimal commas"))
    before = (p.read_bytes(), os.stat(p).st_mtime_ns)
    for command in (["pool", p], ["check", p], ["list", p]):
        run_cli(*command)
    assert (p.read_bytes(), os.stat(p).st_mtime_ns) == before


def test_input_error_not_type_error_for_a_missing_file():
    with pytest.raises(InputError):
        read_studies("no/such/file.csv")
