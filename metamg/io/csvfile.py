"""Turn a CSV file (or a DataFrame) into header + rows of strings, remembering line numbers.

Nothing is interpreted here except the file's bytes: encoding, delimiter, quoting, field counts.

Files metamg reads:

* **What can be read.** A regular file, or a pipe (``metamg pool <(cat s.csv)``): it is read
  once, and ``RawTable.sha256`` is the SHA-256 of exactly the bytes read. A directory, a
  device or a socket is refused, as are paths that cannot be read (with the reason).
* **Encodings** (``ENCODINGS``): UTF-8, with or without a byte-order mark (BOM), and UTF-16 or
  UTF-32 with their BOM (what spreadsheets save as "Unicode text"). Anything else is refused,
  never guessed: a file that is not UTF-8 is named with the first bad byte's line and, when it
  decodes as Windows-1252, the advice that it looks like a spreadsheet's plain "CSV" export; a
  UTF-16 file without its BOM is named as such.
* **Delimiters** (``DELIMITERS``): comma, semicolon or tab, chosen from the header line alone:
  the one that splits it into the most column names metamg knows (``known``). When two
  delimiters split the header into different sets of equally many known names, the file is
  refused, naming both. Without any known name, the delimiter giving the most fields wins
  (comma on a tie). Decimal commas are the schema's business (``metamg.io.schema``), which
  needs to know the delimiter: it is kept on ``RawTable.delimiter``.
* **Quoting**: standard CSV quoting; a quoted field that is never closed is reported at the
  line where its quote opens.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import numbers
import os
import stat
from dataclasses import dataclass
from types import MappingProxyType
from typing import NamedTuple

from metamg.errors import InputError, Problem

DELIMITERS = MappingProxyType({",": "comma", ";": "semicolon", "\t": "tab"})
# byte-order mark -> (codec of the rest, name); UTF-32 first: its LE mark starts like UTF-16's
ENCODINGS = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "UTF-32LE"),
    (codecs.BOM_UTF32_BE, "utf-32-be", "UTF-32BE"),
    (codecs.BOM_UTF8, "utf-8", "UTF-8 with BOM"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "UTF-16LE"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "UTF-16BE"),
)
SAVE_AS = "save it as 'CSV UTF-8' (a spreadsheet's plain 'CSV' is Windows-1252)"


class RawRow(NamedTuple):  # a named tuple: a dataclass costs a second per million rows
    line: int  # physical line where the record starts (1 = header)
    cells: tuple[str, ...]


@dataclass(frozen=True)
class RawTable:
    source: str
    header: tuple[str, ...]
    rows: tuple[RawRow, ...]
    problems: tuple[Problem, ...] = ()  # rows set aside (wrong field count), reported with the rest
    delimiter: str = ","
    encoding: str = "UTF-8"
    sha256: str = ""  # of the bytes read; "" for data given in memory


def read_raw_csv(path, known=frozenset()) -> RawTable:
    """Read the CSV file at PATH (rules in the module docstring), or raise InputError.

    ``known`` holds the lower-case column names that pick the delimiter."""
    name, data = read_input(path, "CSV file")
    return parse_csv_bytes(data, name, known)


def read_input(path, what: str) -> tuple[str, bytes]:
    """(path as text, every byte of the regular file or pipe at ``path``); InputError otherwise.

    ``what`` names the expected file in messages ("CSV file", "metadata file")."""
    name = os.fsdecode(os.fspath(path))
    try:
        kind = _kind(os.stat(name).st_mode)
    except FileNotFoundError:
        raise InputError([Problem(name, "no such file")]) from None
    except PermissionError:
        raise InputError(
            [Problem(name, "permission denied: a directory on the path cannot be searched")]
        ) from None
    except OSError as exc:
        raise InputError([Problem(name, f"cannot be read: {exc.strerror or exc}")]) from None
    if kind is not None:
        raise InputError([Problem(name, f"is {kind}, not a {what}")])
    try:
        with open(name, "rb") as fh:
            # checked again on the open file: the path may have changed since stat
            kind = _kind(os.fstat(fh.fileno()).st_mode)
            if kind is not None:
                raise InputError([Problem(name, f"is {kind}, not a {what}")])
            return name, fh.read()
    except FileNotFoundError:
        raise InputError([Problem(name, "no such file")]) from None
    except PermissionError:
        raise InputError([Problem(name, "permission denied: cannot read it")]) from None
    except OSError as exc:
        raise InputError([Problem(name, f"cannot be read: {exc.strerror or exc}")]) from None


def _kind(mode: int) -> str | None:
    """None for what can be read (a regular file or a pipe), else what the path is instead."""
    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode):
        return None
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def parse_csv_bytes(data: bytes, source: str, known=frozenset()) -> RawTable:
    """Decode, pick the delimiter and split ``data`` into records (rules in the module docstring)."""
    digest = hashlib.sha256(data).hexdigest()
    text, encoding = decode_text(data, source)
    if "\x00" in text:
        raise InputError([Problem(source, "is not a text file (it contains NUL bytes)")])
    if not text.strip():
        raise InputError([Problem(source, "is empty")])
    delimiter = sniff_delimiter(text, source, known)
    header, body = _records(text, source, delimiter)
    width = len(header.cells)
    rows = tuple(row for row in body if len(row.cells) == width)
    problems = (
        ()
        if len(rows) == len(body)
        else tuple(
            Problem(source, f"row has {len(row.cells)} fields but the header has {width}", line=row.line)
            for row in body
            if len(row.cells) != width
        )
    )
    return RawTable(source, header.cells, rows, problems, delimiter, encoding, digest)


def decode_text(data: bytes, source: str, advice: str = SAVE_AS) -> tuple[str, str]:
    """(text, encoding name) of ``data``: a BOM's encoding, else UTF-8; never a guess.

    ``advice`` ends every message (how to save the file so that metamg can read it)."""
    for bom, codec, label in ENCODINGS:
        if data.startswith(bom):
            try:
                return data[len(bom) :].decode(codec), label
            except UnicodeDecodeError as exc:
                raise InputError(
                    [
                        Problem(
                            source,
                            f"starts with a {label} byte-order mark but is not "
                            f"valid {label} text (offset {exc.start + len(bom)}); "
                            f"{advice}",
                        )
                    ]
                ) from None
    unmarked = _unmarked_utf16(data)
    if unmarked:
        raise InputError(
            [
                Problem(
                    source,
                    f"looks like {unmarked} text without a byte-order mark, "
                    f"which metamg does not guess; {advice}",
                )
            ]
        )
    if b"\x00" in data:
        raise InputError([Problem(source, "is not a text file (it contains NUL bytes)")])
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        looks = ""
        try:
            data.decode("cp1252")
            looks = "; it looks like Windows-1252 (Latin-1), which metamg does not guess"
        except UnicodeDecodeError:
            pass
        raise InputError(
            [Problem(source, f"is not UTF-8 text (byte 0x{data[exc.start]:02x}){looks}; {advice}", line=line)]
        ) from None


def _unmarked_utf16(data: bytes) -> str | None:
    """'UTF-16LE'/'UTF-16BE' when every other byte of the start is NUL (ASCII text in UTF-16)."""
    head = data[:400]
    if len(head) < 4 or len(head) % 2:
        return None
    even, odd = head[0::2], head[1::2]
    if not odd.strip(b"\x00") and even.strip(b"\x00"):
        return "UTF-16LE"
    if not even.strip(b"\x00") and odd.strip(b"\x00"):
        return "UTF-16BE"
    return None


def sniff_delimiter(text: str, source: str, known=frozenset()) -> str:
    """The delimiter of the header line (rule in the module docstring)."""
    records = {d: _first_record(text, d) for d in DELIMITERS}
    splits = {d: cells for d, cells in records.items() if cells is not None}
    if not splits:
        return ","  # the header itself is malformed: parsing reports where

    def score(d):
        return sum(c.strip().lower() in known for c in splits[d]), len(splits[d])

    best = max(score(d) for d in splits)
    if best[0] == 0:
        best = max(splits, key=lambda d: (len(splits[d]), d == ","))
        return best
    tied = [d for d in splits if score(d)[0] == best[0]]
    distinct = {splits[d] for d in tied}
    if len(distinct) > 1:
        names = " and ".join(f"{DELIMITERS[d]} ({d!r})" for d in tied)
        raise InputError(
            [
                Problem(
                    source,
                    f"the header splits into metamg's column names at {names} alike; use one delimiter",
                    line=1,
                )
            ]
        )
    return next(d for d in DELIMITERS if d in tied)


def _first_record(text: str, delimiter: str) -> tuple[str, ...] | None:
    """The first non-blank record split at ``delimiter``; None if it is not valid CSV."""
    cut = text.find("\n", 1 << 16)
    if 0 < cut < len(text) - 1:  # the header is near the top: no need to copy a large file
        found = _first_of(text[: cut + 1], delimiter)
        if found is not None:
            return found
    return _first_of(text, delimiter)


def _first_of(text: str, delimiter: str) -> tuple[str, ...] | None:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        for cells in reader:
            if cells and any(c.strip() for c in cells):
                return tuple(cells)
    except csv.Error:
        return None
    return None


def _records(text: str, source: str, delimiter: str) -> tuple[RawRow, list[RawRow]]:
    """(header, body rows) of ``text``, each with the line it starts on; blank lines skipped."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    records: list[RawRow] = []
    last_line = 0
    start = 1
    try:
        for cells in reader:
            start = last_line + 1
            last_line = reader.line_num
            if not cells or not (cells[0].strip() or any(c.strip() for c in cells)):
                continue  # blank lines carry no study
            records.append(RawRow(start, tuple(cells)))
    except csv.Error as exc:
        start = last_line + 1
        opened = _unclosed_quote(text, start, delimiter)
        if opened is not None:
            raise InputError(
                [
                    Problem(
                        source,
                        'a quoted field opens here and is never closed (a missing closing ")',
                        line=opened,
                    )
                ]
            ) from None
        raise InputError(
            [Problem(source, f"is not valid CSV: {_csv_message(exc, delimiter)}", line=reader.line_num)]
        ) from None
    if not records:
        raise InputError([Problem(source, "is empty")])
    return records[0], records[1:]


def _csv_message(exc: csv.Error, delimiter: str) -> str:
    text = str(exc)
    if "expected after" in text:
        return (
            f"text follows a closing quote; a quoted field must end at a {DELIMITERS[delimiter]}, "
            'and a quote inside it is written ""'
        )
    return text


def _unclosed_quote(text: str, first_line: int, delimiter: str) -> int | None:
    """The line where a quoted field opens that is still open at the end of ``text``, reading
    records from ``first_line`` on as csv does (a quote opens a field only at its start)."""
    in_quotes, field_start, quote_seen, opened = False, True, False, None
    for n, line in enumerate(io.StringIO(text, newline=""), 1):
        if n < first_line:
            continue
        for ch in line:
            if in_quotes:
                if quote_seen:
                    quote_seen = False
                    if ch == '"':
                        continue  # "" is a quote inside the field
                    in_quotes = False  # the field closed at the previous quote
                elif ch == '"':
                    quote_seen = True
                    continue
                else:
                    continue
            if ch == '"' and field_start:
                in_quotes, opened = True, n
            field_start = ch in (delimiter, "\r", "\n")
    return opened if in_quotes and not quote_seen else None


def raw_from_dataframe(frame, source: str = "<DataFrame>") -> RawTable:
    """Present a pandas DataFrame as if it had been read from a CSV (header on line 1)."""
    header = tuple(str(c) for c in frame.columns)
    rows = []
    for i, values in enumerate(frame.itertuples(index=False, name=None)):
        rows.append(RawRow(i + 2, tuple(_cell_text(v) for v in values)))
    return RawTable(source, header, tuple(rows), encoding="")


def _cell_text(value) -> str:
    """A DataFrame cell as a CSV would hold it: blank for missing values (None, NaN, pd.NA,
    NaT), whole numbers without '.0' (3, not 3.0 or np.float64(3.0)), other numbers by the
    shortest text that reads back as the same float."""
    if value is None or isinstance(value, str):
        return value or ""
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return str(int(value))
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        v = float(value)
        if v != v:
            return ""
        return str(int(v)) if v.is_integer() and abs(v) < 1e16 else repr(v)
    try:
        import pandas as pd  # only reached when the caller already uses pandas

        if pd.isna(value):
            return ""
    except (TypeError, ValueError, ImportError):
        pass
    return str(value)
