"""Turn a CSV file (or a DataFrame) into header + rows of strings, remembering line numbers.

Nothing is interpreted here except the file's bytes: encoding, quoting, field counts.
"""
from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass

from metamg.errors import InputError, Problem


@dataclass(frozen=True)
class RawRow:
    line: int  # physical line where the record starts (1 = header)
    cells: tuple[str, ...]


@dataclass(frozen=True)
class RawTable:
    source: str
    header: tuple[str, ...]
    rows: tuple[RawRow, ...]
    problems: tuple[Problem, ...] = ()  # rows set aside (wrong field count), reported with the rest


def read_raw_csv(path) -> RawTable:
    """Read PATH as UTF-8 (BOM allowed) comma-separated text, or raise InputError."""
    name = os.fspath(path)
    if os.path.isdir(name):
        raise InputError([Problem(name, "is a directory, not a CSV file")])
    try:
        with open(name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        raise InputError([Problem(name, "no such file")]) from None
    except OSError as exc:
        raise InputError([Problem(name, f"cannot be read: {exc.strerror or exc}")]) from None
    return parse_csv_bytes(data, name)


def parse_csv_bytes(data: bytes, source: str) -> RawTable:
    if b"\x00" in data:
        raise InputError([Problem(source, "is not a text file (it contains NUL bytes)")])
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(
            source, f"is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
                    "save it as CSV UTF-8")]) from None
    if not text.strip():
        raise InputError([Problem(source, "is empty")])

    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    records: list[RawRow] = []
    last_line = 0
    try:
        for cells in reader:
            start = last_line + 1
            last_line = reader.line_num
            if not cells or all(not c.strip() for c in cells):
                continue  # blank lines carry no study
            records.append(RawRow(start, tuple(cells)))
    except csv.Error as exc:
        raise InputError([Problem(source, f"is not valid CSV: {exc}", line=reader.line_num)]) from None

    if not records:
        raise InputError([Problem(source, "is empty")])
    header, body = records[0], records[1:]
    problems = tuple(
        Problem(source, f"row has {len(row.cells)} fields but the header has {len(header.cells)}",
                line=row.line)
        for row in body if len(row.cells) != len(header.cells))
    rows = tuple(row for row in body if len(row.cells) == len(header.cells))
    return RawTable(source, header.cells, rows, problems)


def raw_from_dataframe(frame, source: str = "<DataFrame>") -> RawTable:
    """Present a pandas DataFrame as if it had been read from a CSV (header on line 1)."""
    header = tuple(str(c) for c in frame.columns)
    rows = []
    for i, values in enumerate(frame.itertuples(index=False, name=None)):
        rows.append(RawRow(i + 2, tuple(_cell_text(v) for v in values)))
    return RawTable(source, header, tuple(rows))


def _cell_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return "" if value != value else repr(value)
    try:
        import pandas as pd  # only reached when the caller already uses pandas
        if pd.isna(value):
            return ""
    except (TypeError, ValueError, ImportError):
        pass
    return str(value)
