"""Cochrane reviews in: RevMan 5 ``.rm5`` files and RevMan Web data packages, read as analyses.

Three containers are read (the formats are described in ``../shared/revman/FORMAT.md``):

* a RevMan 5 ``.rm5`` file (XML; a full review or a Library "StatsDataOnly" download). The
  text is decoded by its XML declaration; C1 control characters (U+0080-U+009F) in the result
  are Windows-1252 punctuation written into an "ISO-8859-1" file, and are read as such. A
  UTF-8 file holding bytes that are not UTF-8 has them read as Windows-1252 too (with a
  warning). The document is parsed whole, never line by line;
* a data package zip (the Cochrane Library's ``CDnnnnnn-dataPackage.zip``, or a RevMan Web
  export whose ``...-data.zip`` is nested inside it), and
* its unzipped folder.

An analysis is addressed as "comparison.outcome" by the ``NO`` attributes (``1.4``), or the
package's ``Analysis group`` and ``Analysis number``. Data rows keep the file's order, their
study labels and years as the review gives them, and their footnotes; RevMan's stored
per-row and pooled results are kept beside the inputs, on the display scale (ratios as ratios),
``Z`` unsigned as stored. Missing values: RevMan 5 writes ``""`` or ``0.0``, data packages of
version 1 write zeros and version 2 leaves cells empty; each is read as missing (None) by the
analysis's data type, not by the value alone. Overall results RevMan did not show (``TOTALS``
other than ``YES``, ``Overall estimates`` false) are None.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import os
import re
import xml.etree.ElementTree as ET
import zipfile
from dataclasses import dataclass, field
from typing import Any

from metamg.errors import InputError, Problem
from metamg.io.csvfile import read_input
from metamg.vocabulary import REVMAN_RESULTS

TYPES = ("DICH", "CONT", "IV", "OE")
# What each data type's rows hold, in the JSON contract's order (names as in the contract).
INPUTS = {
    "DICH": ("events_1", "total_1", "events_2", "total_2"),
    "CONT": ("mean_1", "sd_1", "total_1", "mean_2", "sd_2", "total_2"),
    "IV": ("estimate", "se", "total_1", "total_2"),
    "OE": ("o_e", "var", "total_1", "total_2"),
}
RESULTS = REVMAN_RESULTS
SUBGROUP_TEST = ("chi2", "df", "p", "i2")
# Effect measures as RevMan 5 codes them; data packages spell them out.
MEASURE_CODES = {
    "odds ratio": "OR",
    "risk ratio": "RR",
    "risk difference": "RD",
    "peto odds ratio": "PETO_OR",
    "mean difference": "MD",
    "std. mean difference": "SMD",
    "standardized mean difference": "SMD",
    "standardised mean difference": "SMD",
}
RATIO_CODES = ("OR", "RR", "PETO_OR")
MAX_MEMBER = 512 * 1024 * 1024  # a zip member larger than this (uncompressed) is refused
Number = int | float


@dataclass(frozen=True)
class RevManRow:
    """One data row of an analysis: a study's numbers as the file has them, and RevMan's."""

    study: str
    year: int | str | None
    subgroup: str | None
    subgroup_no: int | None
    estimable: bool
    footnote: str
    values: tuple[tuple[str, Number | None], ...]  # INPUTS[type] -> value (None: missing)
    revman_effect: float | None = None
    revman_ci_lower: float | None = None
    revman_ci_upper: float | None = None
    revman_weight: float | None = None
    study_id: str = ""  # the rm5 STUDY_ID ("" in data packages)

    def value(self, key: str) -> Number | None:
        return dict(self.values).get(key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "study": self.study,
            "year": self.year,
            "subgroup": self.subgroup,
            "subgroup_no": self.subgroup_no,
            "estimable": self.estimable,
            "footnote": self.footnote,
            **dict(self.values),
            "revman_effect": self.revman_effect,
            "revman_ci_lower": self.revman_ci_lower,
            "revman_ci_upper": self.revman_ci_upper,
            "revman_weight": self.revman_weight,
        }


@dataclass(frozen=True)
class RevManSubgroup:
    no: int
    name: str
    results: tuple[tuple[str, Number | None], ...]  # RESULTS -> stored value

    def to_dict(self) -> dict[str, Any]:
        return {"no": self.no, "name": self.name, **dict(self.results)}


@dataclass(frozen=True)
class RevManAnalysis:
    """One analysis (comparison.outcome) with its settings, rows and RevMan's stored results."""

    id: str
    comparison: str
    name: str
    type: str  # DICH, CONT, IV, OE
    effect_measure: str  # OR, RR, RD, PETO_OR, MD, SMD, or the stored text (IV, OE)
    effect_measure_label: str  # as the file writes it
    method: str  # MH, IV, PETO
    model: str  # fixed, random
    log_data: bool  # effects are pooled on the log scale (ratios)
    totals: bool  # RevMan shows an overall result
    subgroup_test_shown: bool
    ci_level: float  # percent
    rows: tuple[RevManRow, ...]
    subgroups: tuple[RevManSubgroup, ...]
    revman: tuple[tuple[str, Number | None], ...]
    subgroup_test: tuple[tuple[str, Number | None], ...] | None
    units: str = ""
    group_label_1: str = ""
    group_label_2: str = ""
    graph_label_1: str = ""
    graph_label_2: str = ""
    swap_events: bool = False
    heterogeneity_estimator: str = "DL"
    ci_method: str = "Wald"

    @property
    def counts(self) -> dict[str, int]:
        studies = {r.study_id or r.study for r in self.rows}
        return {
            "n_rows": len(self.rows),
            "n_studies": len(studies),
            "n_estimable": sum(r.estimable for r in self.rows),
            "n_subgroups": len({r.subgroup_no for r in self.rows if r.subgroup_no is not None})
            or len(self.subgroups),
        }

    def summary(self) -> dict[str, Any]:
        """The ``--list`` entry."""
        return {
            "id": self.id,
            "comparison": self.comparison,
            "name": self.name,
            "type": self.type,
            "effect_measure": self.effect_measure,
            "method": self.method,
            "model": self.model,
            **self.counts,
        }

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "comparison": self.comparison,
            "name": self.name,
            "type": self.type,
            "effect_measure": self.effect_measure,
            "effect_measure_label": self.effect_measure_label,
            "method": self.method,
            "model": self.model,
            "log_data": self.log_data,
            "ci_level": self.ci_level,
            "heterogeneity_estimator": self.heterogeneity_estimator,
            "ci_method": self.ci_method,
            "totals": self.totals,
            "swap_events": self.swap_events,
            "group_labels": [self.group_label_1, self.group_label_2],
            "graph_labels": [self.graph_label_1, self.graph_label_2],
            "units": self.units,
            "counts": self.counts,
            "studies": [r.to_dict() for r in self.rows],
            "revman": dict(self.revman),
            "revman_subgroups": [s.to_dict() for s in self.subgroups],
            "revman_subgroup_test": dict(self.subgroup_test) if self.subgroup_test is not None else None,
        }


@dataclass(frozen=True)
class RevManReview:
    """What an import read: the review's identity and every analysis, in the file's order."""

    path: str
    format: str  # "rm5", "data package v1", "data package v2"
    review_id: str  # CD number when known (CD009865), else the file's name
    title: str
    doi: str
    citation: str  # the Library's "When citing this record quote ..." text, if any
    file_name: str
    sha256: str  # of the file's bytes (of a folder: its files' relative paths and bytes, sorted)
    analyses: tuple[RevManAnalysis, ...]
    revman_version: str = ""
    warnings: tuple[str, ...] = field(default=())

    def analysis(self, analysis_id: str) -> RevManAnalysis:
        wanted = _normal_id(analysis_id)
        for a in self.analyses:
            if a.id == wanted:
                return a
        known = ", ".join(a.id for a in self.analyses[:30]) + (", ..." if len(self.analyses) > 30 else "")
        raise InputError(
            [Problem(self.path, f"no analysis {analysis_id!r}; the analyses are {known or 'none'}")]
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "review": self.describe(),
            "analyses": [a.summary() for a in self.analyses],
        }

    def describe(self) -> dict[str, Any]:
        return {
            "review_id": self.review_id,
            "title": self.title,
            "doi": self.doi,
            "citation": self.citation,
            "format": self.format,
            "revman_version": self.revman_version,
            "file": self.file_name,
            "sha256": self.sha256,
            "warnings": list(self.warnings),
        }


def _normal_id(text: str) -> str:
    """'1.04' and ' 1.4 ' address analysis 1.4."""
    parts = text.strip().split(".")
    if len(parts) == 2 and all(p.strip().isdigit() for p in parts):
        return f"{int(parts[0])}.{int(parts[1])}"
    return text.strip()


# -- reading --------------------------------------------------------------------------------


def read_revman(path) -> RevManReview:
    """The review at ``path``: an .rm5 file, a data-package zip, or its unzipped folder.

    Raises InputError (one problem, naming the file and what is missing or wrong) for anything
    else."""
    name = os.fsdecode(os.fspath(path))
    if os.path.isdir(name):
        return _read_package_folder(name)
    name, data = read_input(name, "RevMan file")
    sha = hashlib.sha256(data).hexdigest()
    if data[:4] in (b"PK\x03\x04", b"PK\x05\x06"):
        return _read_package_zip(name, data, sha)
    head = data[:512].lstrip(b"\xef\xbb\xbf \t\r\n")
    if head.startswith(b"<"):
        return _read_rm5(name, data, sha)
    raise InputError(
        [
            Problem(
                name,
                "not a RevMan file: expected a RevMan 5 .rm5 file (XML), a Cochrane data package "
                "(.zip of CSV files) or its unzipped folder",
            )
        ]
    )


# -- RevMan 5 (.rm5) ------------------------------------------------------------------------

_DECLARED = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_DECLARATION = re.compile(r"^\s*<\?xml[^>]*\?>")
_C1 = re.compile("[\x80-\x9f]")
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")
_OUTCOMES = {"DICH_OUTCOME": "DICH", "CONT_OUTCOME": "CONT", "IV_OUTCOME": "IV", "IPD_OUTCOME": "OE"}
_PREFIX = {"DICH": "DICH", "CONT": "CONT", "IV": "IV", "OE": "IPD"}
_CITE = re.compile(r"\s*\[Data only\. When citing this record quote\s*(.*?)\.?\]\s*$", re.DOTALL)
_CD = re.compile(r"CD\d{6}")


def _cp1252(raw: bytes) -> str:
    """Windows-1252, with the five bytes it leaves undefined read as ISO-8859-1."""
    return "".join(bytes([b]).decode("cp1252", errors="replace") if b not in (0x81, 0x8D, 0x8F, 0x90, 0x9D)
                   else chr(b) for b in raw)  # fmt: skip


def decode_xml(data: bytes, source: str) -> tuple[str, list[str]]:
    """(the text of an XML document, warnings): decoded by its declaration (UTF-8 without one,
    or with a BOM), C1 controls read as Windows-1252 punctuation."""
    warnings: list[str] = []
    if data.startswith(b"\xef\xbb\xbf"):
        declared = "utf-8"
        data = data[3:]
    else:
        m = _DECLARED.match(data[:512])
        declared = m.group(1).decode("ascii").lower() if m else "utf-8"
    if declared in ("utf8", "utf-8"):
        text = data.decode("utf-8", errors="surrogateescape")
        if _ESCAPED_BYTES.search(text):
            warnings.append("bytes that are not UTF-8 were read as Windows-1252")
            text = _ESCAPED_BYTES.sub(lambda m: _cp1252(bytes(ord(c) - 0xDC00 for c in m.group())), text)
    else:
        try:
            text = data.decode(declared)
        except LookupError:
            raise InputError(
                [Problem(source, f"declares an encoding Python does not know ({declared})")]
            ) from None
        except UnicodeDecodeError as exc:
            raise InputError(
                [Problem(source, f"is not valid {declared} text (byte offset {exc.start})")]
            ) from None
    if _C1.search(text):
        warnings.append("C1 control characters were read as Windows-1252 punctuation")
        text = _C1.sub(lambda m: _cp1252(bytes([ord(m.group())])), text)
    return _DECLARATION.sub("", text, count=1), warnings


def _read_rm5(source: str, data: bytes, sha: str) -> RevManReview:
    text, warnings = decode_xml(data, source)
    try:
        root = ET.fromstring(text)
    except ET.ParseError as exc:
        line, column = exc.position
        reason = str(exc).split(":")[0]
        message = (
            "not a complete RevMan 5 file: the XML ends early (truncated?)"
            if reason in ("no element found", "unclosed token") and line >= text.count("\n")
            else f"not a RevMan 5 file: the XML is not well-formed ({reason}, column {column + 1})"
        )
        raise InputError([Problem(source, message, line=line)]) from None
    if root.tag != "COCHRANE_REVIEW":
        raise InputError(
            [
                Problem(
                    source,
                    f"not a RevMan 5 file: its root element is <{_tag(root.tag)}>, not <COCHRANE_REVIEW>",
                )
            ]
        )
    data_section = root.find("ANALYSES_AND_DATA")
    if data_section is None:
        raise InputError([Problem(source, "holds no analyses: the review has no ANALYSES_AND_DATA element")])
    studies: dict[str, tuple[str, str]] = {}
    refs = root.find("STUDIES_AND_REFERENCES")
    for st in (refs if refs is not None else root).iter("STUDY"):
        sid = st.get("ID")
        if sid:
            studies[sid] = (st.get("NAME") or "", st.get("YEAR") or "")
    title_el = root.find("COVER_SHEET/TITLE")
    title = _text(title_el) if title_el is not None else ""
    citation = ""
    m = _CITE.search(title)
    if m:
        citation = m.group(1).strip().strip("\"'\u201c\u201d")
        title = title[: m.start()].strip()
    doi = (root.get("DOI") or "").strip()
    analyses = []
    for comparison in data_section.iter("COMPARISON"):
        cname = _child_text(comparison, "NAME")
        cno = comparison.get("NO", "")
        for outcome in comparison:
            dtype = _OUTCOMES.get(outcome.tag)
            if dtype:
                analyses.append(_rm5_analysis(source, outcome, dtype, cno, cname, studies))
    base = os.path.basename(source)
    return RevManReview(
        path=source,
        format="rm5",
        review_id=_review_id(doi, base),
        title=title,
        doi=doi,
        citation=citation,
        file_name=base,
        sha256=sha,
        analyses=tuple(analyses),
        revman_version=(root.get("REVMAN_SUB_VERSION") or root.get("REVMAN_VERSION") or "").strip(),
        warnings=tuple(warnings),
    )


def _tag(tag: str) -> str:
    return tag.rsplit("}", 1)[-1][:60]


def _text(el) -> str:
    """All the text of an element (markup children such as INS or SUB included), on one line."""
    return re.sub(r"[ \t\r\n]+", " ", "".join(el.itertext())).strip()


def _child_text(el, tag: str) -> str:
    child = el.find(tag)
    return _text(child) if child is not None else ""


def _review_id(doi: str, file_name: str) -> str:
    for text in (doi, file_name):
        m = _CD.search(text)
        if m:
            return m.group()
    stem = re.sub(r"(\.zip|\.rm5)$", "", file_name, flags=re.IGNORECASE)
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", stem).strip("._-") or "review"


def _number(text: str | None) -> Number | None:
    """A number as RevMan writes it (Java's Double.toString, or an integer); None when blank.
    Whole numbers written without a point are ints."""
    if text is None:
        return None
    s = text.strip().rstrip("%")
    if not s or s.upper() in ("#N/A", "NA", "N/A", "NAN"):
        return None
    if re.fullmatch(r"[+-]?\d+", s):
        return int(s)
    try:
        value = float(s)
    except ValueError:
        return None
    return value if value == value and abs(value) != float("inf") else None


def _yes(text: str | None) -> bool:
    return (text or "").strip().upper() in ("YES", "TRUE")


def _rm5_results(el, dtype: str, shown: bool) -> dict[str, Number | None]:
    """The stored results of an outcome or subgroup element (None where not shown or blank)."""
    estimable = el.get("ESTIMABLE", "YES").upper() != "NO"
    out: dict[str, Number | None] = {}
    names = {
        "effect": "EFFECT_SIZE",
        "ci_lower": "CI_START",
        "ci_upper": "CI_END",
        "tau2": "TAU2",
        "chi2": "CHI2",
        "df": "DF",
        "p_chi2": "P_CHI2",
        "i2": "I2",
        "z": "Z",
        "p_z": "P_Z",
    }
    for key, attr in names.items():
        out[key] = _number(el.get(attr)) if shown and estimable else None
    if out["effect"] is None:  # nothing pooled: no test either
        for key in ("tau2", "chi2", "p_chi2", "i2", "z", "p_z"):
            out[key] = None
    for key, attr in (
        ("events_1", "EVENTS_1"),
        ("total_1", "TOTAL_1"),
        ("events_2", "EVENTS_2"),
        ("total_2", "TOTAL_2"),
        ("weight", "WEIGHT"),
        ("studies", "STUDIES"),
    ):
        out[key] = _number(el.get(attr)) if not (key.startswith("events") and dtype != "DICH") else None
    return out


def _rm5_analysis(source, outcome, dtype, cno, cname, studies) -> RevManAnalysis:
    prefix = _PREFIX[dtype]
    ono = outcome.get("NO", "")
    aid = f"{cno}.{ono}"
    if dtype in ("DICH", "CONT"):
        label = (outcome.get("EFFECT_MEASURE") or "").strip()
    else:
        label = _child_text(outcome, "EFFECT_MEASURE")
    code = label.upper() if dtype in ("DICH", "CONT") else MEASURE_CODES.get(label.lower(), label)
    method = (outcome.get("METHOD") or ("PETO" if dtype == "OE" else "IV")).strip().upper()
    if dtype == "DICH" and code == "PETO_OR":
        method = "PETO"
    log_data = (
        code in RATIO_CODES
        if dtype == "DICH"
        else dtype == "OE" or (dtype == "IV" and _yes(outcome.get("LOG_DATA")))
    )
    totals = (outcome.get("TOTALS") or "YES").strip().upper() == "YES"
    rows: list[RevManRow] = []
    subgroups: list[RevManSubgroup] = []
    for child in outcome:
        if child.tag == f"{prefix}_DATA":
            rows.append(_rm5_row(child, dtype, None, None, studies))
        elif child.tag == f"{prefix}_SUBGROUP":
            no = _number(child.get("NO"))
            sno = int(no) if no is not None else len(subgroups) + 1
            sname = _child_text(child, "NAME") or f"Subgroup {sno}"
            subgroups.append(
                RevManSubgroup(
                    sno,
                    sname,
                    tuple(_rm5_results(child, dtype, _yes(outcome.get("SUBGROUPS", "YES"))).items()),
                )
            )
            for row in child:
                if row.tag == f"{prefix}_DATA":
                    rows.append(_rm5_row(row, dtype, sname, sno, studies))
    test = None
    if subgroups and _yes(outcome.get("SUBGROUP_TEST")):
        chi2 = _number(outcome.get("Q"))
        estimable = sum(1 for s in subgroups if dict(s.results)["effect"] is not None)
        test = (
            ("chi2", chi2),
            ("df", max(estimable - 1, 0)),
            ("p", _clamp(_number(outcome.get("P_Q")))),
            ("i2", _number(outcome.get("I2_Q"))),
        )
    ci = _number(outcome.get("CI_TOTAL")) or 95
    return RevManAnalysis(
        id=aid,
        comparison=cname,
        name=_child_text(outcome, "NAME"),
        type=dtype,
        effect_measure=code,
        effect_measure_label=label,
        method=method,
        model="random" if _yes(outcome.get("RANDOM")) else "fixed",
        log_data=log_data,
        totals=totals,
        subgroup_test_shown=_yes(outcome.get("SUBGROUP_TEST")),
        ci_level=float(ci),
        rows=tuple(rows),
        subgroups=tuple(subgroups),
        revman=tuple(_rm5_results(outcome, dtype, totals).items()),
        subgroup_test=test,
        units=(outcome.get("UNITS") or "").strip(),
        group_label_1=_child_text(outcome, "GROUP_LABEL_1"),
        group_label_2=_child_text(outcome, "GROUP_LABEL_2"),
        graph_label_1=_child_text(outcome, "GRAPH_LABEL_1"),
        graph_label_2=_child_text(outcome, "GRAPH_LABEL_2"),
        swap_events=_yes(outcome.get("SWAP_EVENTS")),
    )


_RM5_INPUTS = {
    "DICH": (
        ("events_1", "EVENTS_1"),
        ("total_1", "TOTAL_1"),
        ("events_2", "EVENTS_2"),
        ("total_2", "TOTAL_2"),
    ),
    "CONT": (
        ("mean_1", "MEAN_1"),
        ("sd_1", "SD_1"),
        ("total_1", "TOTAL_1"),
        ("mean_2", "MEAN_2"),
        ("sd_2", "SD_2"),
        ("total_2", "TOTAL_2"),
    ),
    "IV": (("estimate", "ESTIMATE"), ("se", "SE"), ("total_1", "TOTAL_1"), ("total_2", "TOTAL_2")),
    "OE": (("o_e", "O_E"), ("var", "VAR"), ("total_1", "TOTAL_1"), ("total_2", "TOTAL_2")),
}


def _rm5_row(el, dtype, subgroup, subgroup_no, studies) -> RevManRow:
    sid = el.get("STUDY_ID", "")
    name, year = studies.get(sid, ("", ""))
    if not name:  # not in the study list: the ID, its _xHHHH_ escapes decoded
        name = re.sub(r"_x([0-9A-Fa-f]{4})_", lambda m: chr(int(m.group(1), 16)), sid)
        name = name[4:] if name.startswith("STD-") else name
    estimable = (el.get("ESTIMABLE") or "YES").upper() != "NO"
    notes = [_text(f) for f in el.iter("FOOTNOTE")]

    def result(attr):
        return _float(_number(el.get(attr))) if estimable else None

    return RevManRow(
        study=name.strip(),
        year=_year(year),
        subgroup=subgroup,
        subgroup_no=subgroup_no,
        estimable=estimable,
        footnote=" ".join(n for n in notes if n),
        values=tuple((key, _number(el.get(attr))) for key, attr in _RM5_INPUTS[dtype]),
        revman_effect=result("EFFECT_SIZE"),
        revman_ci_lower=result("CI_START"),
        revman_ci_upper=result("CI_END"),
        revman_weight=result("WEIGHT"),
        study_id=sid,
    )


def _float(v: Number | None) -> float | None:
    return None if v is None else float(v)


def _clamp(p: Number | None) -> float | None:
    return None if p is None else min(1.0, max(0.0, float(p)))


def _year(text: str | None) -> int | str | None:
    s = (text or "").strip()
    if not s:
        return None
    return int(s) if s.isdigit() else s


# -- data packages --------------------------------------------------------------------------

_OVERALL = "overall-estimates-and-settings.csv"
_ROWS = "data-rows.csv"
_SUBGROUPS = "subgroup-estimates.csv"
_DATA_TYPES = {
    "dichotomous": "DICH",
    "continuous": "CONT",
    "contrast level": "IV",
    "generic inverse variance": "IV",
    "o-e and variance": "OE",
}


def _read_package_zip(source: str, data: bytes, sha: str) -> RevManReview:
    files, version = _zip_members(source, data, depth=0)
    return _read_package(source, files, sha, version)


def _zip_members(source: str, data: bytes, depth: int) -> tuple[dict[str, bytes], str]:
    """The package's CSVs (file kind -> bytes) in the zip ``data``, looking inside a nested
    ``...-data.zip`` (version 1 exports) when the zip's own root has none."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not i.is_dir()]
        found: dict[str, bytes] = {}
        for kind in (_OVERALL, _ROWS, _SUBGROUPS, "parameters.csv"):
            match = [i for i in infos if os.path.basename(i.filename).lower().endswith(kind)]
            if match:
                found[kind] = _member(source, zf, match[0])
        if _OVERALL not in found and _ROWS not in found and depth == 0:
            nested = [i for i in infos if i.filename.lower().endswith(".zip")]
            for info in nested:
                inner, _ = _zip_members(source, _member(source, zf, info), depth + 1)
                if inner:
                    return inner, "nested"
        if depth == 0:
            _require(source, found, f"this zip holds {len(infos)} file{'s' if len(infos) != 1 else ''}")
        return found, ""
    except zipfile.BadZipFile as exc:
        raise InputError([Problem(source, f"not a readable zip file ({exc})")]) from None
    except (RuntimeError, NotImplementedError, OSError, EOFError) as exc:
        raise InputError([Problem(source, f"cannot read the zip file ({exc})")]) from None


def _member(source: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> bytes:
    if info.file_size > MAX_MEMBER:
        raise InputError([Problem(source, f"{info.filename}: too large to read ({info.file_size} bytes)")])
    return zf.read(info)


def _require(source: str, found: dict[str, bytes], holds: str) -> None:
    if "parameters.csv" in found:
        raise InputError(
            [
                Problem(
                    source,
                    "a diagnostic test accuracy data package (it has parameters.csv): metamg "
                    "imports intervention reviews only",
                )
            ]
        )
    missing = [k for k in (_OVERALL, _ROWS) if k not in found]
    if missing:
        names = " and ".join(f"...-{k}" for k in missing)
        raise InputError(
            [
                Problem(
                    source,
                    f"not a Cochrane data package: {names} missing (the analysis-data CSVs); {holds}",
                )
            ]
        )


def _read_package_folder(folder: str) -> RevManReview:
    found: dict[str, bytes] = {}
    digest = hashlib.sha256()
    paths = []
    for root, dirs, names in os.walk(folder):
        dirs.sort()
        depth = os.path.relpath(root, folder).count(os.sep)
        if depth > 4:
            dirs[:] = []
        for n in sorted(names):
            paths.append(os.path.join(root, n))
    version = ""
    for path in sorted(paths, key=lambda p: os.path.relpath(p, folder)):
        low = os.path.basename(path).lower()
        kind = next((k for k in (_OVERALL, _ROWS, _SUBGROUPS, "parameters.csv") if low.endswith(k)), None)
        if kind and kind not in found:
            _, found[kind] = read_input(path, "CSV file")
        elif low.endswith("-data.zip") and _OVERALL not in found and not version:
            _, inner = read_input(path, "zip file")
            nested, _ = _zip_members(path, inner, depth=1)
            if nested:
                for k, v in nested.items():
                    found.setdefault(k, v)
                version = "nested"
    for path in sorted(paths, key=lambda p: os.path.relpath(p, folder)):
        rel = os.path.relpath(path, folder).replace(os.sep, "/")
        digest.update(rel.encode("utf-8"))
        try:
            with open(path, "rb") as fh:
                digest.update(fh.read())
        except OSError:
            pass
    _require(folder, found, f"this folder holds {len(paths)} file{'s' if len(paths) != 1 else ''}")
    return _read_package(folder.rstrip("/" + os.sep) or folder, found, digest.hexdigest(), version)


def _csv_records(source: str, kind: str, data: bytes) -> tuple[list[str], list[tuple[int, dict[str, str]]]]:
    """(normalised header, [(line, {normalised column: cell})]) of one package CSV."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = _cp1252(data)
    where = f"{source}: ...-{kind}"
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [_column(h) for h in next(reader)]
    except StopIteration:
        raise InputError([Problem(where, "is empty (no header)")]) from None
    except csv.Error as exc:
        raise InputError([Problem(where, f"is not readable CSV ({exc})")]) from None
    records = []
    try:
        for cells in reader:
            if not any(c.strip() for c in cells):
                continue
            cells = cells + [""] * (len(header) - len(cells))
            records.append((reader.line_num, dict(zip(header, cells, strict=False))))
    except csv.Error as exc:
        raise InputError([Problem(where, f"is not readable CSV ({exc})", line=reader.line_num)]) from None
    return header, records


def _column(name: str) -> str:
    return " ".join(name.replace("\ufeff", "").replace("²", "2").lower().split())


def _need(source: str, kind: str, header: list[str], columns: tuple[str, ...]) -> None:
    missing = [c for c in columns if c not in header]
    if missing:
        raise InputError(
            [
                Problem(
                    f"{source}: ...-{kind}",
                    "not a Cochrane data package file: column"
                    + ("s " if len(missing) > 1 else " ")
                    + ", ".join(repr(c) for c in missing)
                    + " missing",
                )
            ]
        )


def _analysis_key(source, kind, line, rec) -> tuple[int, int]:
    g, n = _number(rec.get("analysis group")), _number(rec.get("analysis number"))
    if not isinstance(g, int) or not isinstance(n, int):
        raise InputError(
            [
                Problem(
                    f"{source}: ...-{kind}",
                    "Analysis group and Analysis number must be whole numbers",
                    line=line,
                    value=f"{rec.get('analysis group', '')}.{rec.get('analysis number', '')}",
                )
            ]
        )
    return g, n


def _cell(rec: dict[str, str], key: str) -> str:
    return html.unescape(rec.get(key, "") or "").replace("\u00a0", " ").strip()


def _read_package(source: str, files: dict[str, bytes], sha: str, container: str) -> RevManReview:
    oh, overall = _csv_records(source, _OVERALL, files[_OVERALL])
    rh, rows = _csv_records(source, _ROWS, files[_ROWS])
    _need(source, _OVERALL, oh, ("analysis group", "analysis number", "analysis name", "data type"))
    _need(source, _ROWS, rh, ("analysis group", "analysis number", "study"))
    sh, subs = _csv_records(source, _SUBGROUPS, files[_SUBGROUPS]) if _SUBGROUPS in files else ([], [])
    v2 = "ci/pi level" in oh or "subgroup number" in rh
    by_analysis: dict[tuple[int, int], list[tuple[int, dict[str, str]]]] = {}
    for line, rec in rows:
        by_analysis.setdefault(_analysis_key(source, _ROWS, line, rec), []).append((line, rec))
    subs_by: dict[tuple[int, int], list[dict[str, str]]] = {}
    for line, rec in subs:
        subs_by.setdefault(_analysis_key(source, _SUBGROUPS, line, rec), []).append(rec)
    analyses = []
    for line, rec in overall:
        key = _analysis_key(source, _OVERALL, line, rec)
        analyses.append(
            _package_analysis(source, line, key, rec, by_analysis.get(key, []), subs_by.get(key, []), v2)
        )
    base = os.path.basename(source.rstrip("/" + os.sep))
    return RevManReview(
        path=source,
        format="data package v2" if v2 else "data package v1",
        review_id=_review_id("", base),
        title="",
        doi="",
        citation="",
        file_name=base,
        sha256=sha,
        analyses=tuple(analyses),
        warnings=("read from the nested ...-data.zip",) if container == "nested" else (),
    )


def _package_results(rec: dict[str, str], dtype: str, v2: bool, shown: bool) -> dict[str, Number | None]:
    out: dict[str, Number | None] = {
        "effect": _number(rec.get("mean")),
        "ci_lower": _number(rec.get("ci start")),
        "ci_upper": _number(rec.get("ci end")),
        "tau2": _number(rec.get("heterogeneity tau2")),
        "chi2": _number(rec.get("heterogeneity chi2")),
        "df": _number(rec.get("heterogeneity df")),
        "p_chi2": _clamp(_number(rec.get("heterogeneity p"))),
        "i2": _number(rec.get("heterogeneity i2")),
        "z": _number(rec.get("effect z")),
        "p_z": _clamp(_number(rec.get("effect p"))),
    }
    lo, hi = out["ci_lower"], out["ci_upper"]
    if not shown or out["effect"] is None or lo is None or hi is None or lo == hi:  # v1: zeros
        for k in ("effect", "ci_lower", "ci_upper", "tau2", "chi2", "p_chi2", "i2", "z", "p_z"):
            out[k] = None
    if out["df"] == 0 and out["chi2"] is not None:  # one row: no test (v2 writes noise, 9.6e-32)
        out["chi2"], out["p_chi2"] = 0.0, None
    events = dtype == "DICH"
    out.update(
        {
            "events_1": _number(rec.get("experimental cases")) if events else None,
            "total_1": _number(rec.get("experimental n")),
            "events_2": _number(rec.get("control cases")) if events else None,
            "total_2": _number(rec.get("control n")),
            "weight": _number(rec.get("weight")),
            "studies": None,
        }
    )
    return out


def _true(text: str | None) -> bool:
    return (text or "").strip().lower() in ("true", "yes")


def _package_analysis(source, line, key, rec, rows, subs, v2) -> RevManAnalysis:
    dtype_label = _cell(rec, "data type")
    dtype = _DATA_TYPES.get(dtype_label.lower(), "")
    aid = f"{key[0]}.{key[1]}"
    if not dtype:
        raise InputError(
            [
                Problem(
                    f"{source}: ...-{_OVERALL}",
                    f"analysis {aid}: unknown data type {dtype_label!r} (expected Dichotomous, "
                    "Continuous, Contrast level or O-E and variance)",
                    line=line,
                )
            ]
        )
    label = _cell(rec, "effect measure")
    code = MEASURE_CODES.get(label.lower(), label)
    method = _cell(rec, "statistical method").upper() or "IV"
    if method in ("EXP_O_E_VAR", "O-E") or code == "PETO_OR":
        method = "PETO"
    log_data = _true(rec.get("log-scale data")) if "log-scale data" in rec else code in RATIO_CODES
    if dtype == "OE":
        log_data = True
    totals = _true(rec.get("overall estimates")) if "overall estimates" in rec else True
    level = _number(rec.get("ci/pi level") or rec.get("estimate ci")) or 95
    sub_numbers: dict[str, int] = {}
    for s in subs:
        no = _number(s.get("subgroup number"))
        if isinstance(no, int):
            sub_numbers.setdefault(_cell(s, "subgroup"), no)
    out_rows = []
    for _line, r in rows:
        sub = _cell(r, "subgroup") or None
        sno = _number(r.get("subgroup number")) if sub is not None else None
        if sub is not None and not isinstance(sno, int):
            sno = sub_numbers.get(sub) or sub_numbers.setdefault(sub, len(sub_numbers) + 1)
        out_rows.append(_package_row(r, dtype, sub, sno if isinstance(sno, int) else None, v2))
    subgroups: list[RevManSubgroup] = []
    shown = _true(rec.get("subgroup estimates")) if "subgroup estimates" in rec else True
    for s in subs:
        name = _cell(s, "subgroup")
        no = _number(s.get("subgroup number"))
        subgroups.append(
            RevManSubgroup(
                no if isinstance(no, int) else sub_numbers.get(name, len(subgroups) + 1),
                name,
                tuple(_package_results(s, dtype, v2, shown).items()),
            )
        )
    test = None
    if subgroups and _true(rec.get("test for subgroup differences")):
        chi2 = _number(rec.get("subgroup chi2"))
        if chi2 is not None:
            test = (
                ("chi2", chi2),
                ("df", _number(rec.get("subgroup df"))),
                ("p", _clamp(_number(rec.get("subgroup p")))),
                ("i2", _number(rec.get("subgroup i2"))),
            )
    model = _cell(rec, "analysis model").lower()
    return RevManAnalysis(
        id=aid,
        comparison=_cell(rec, "analysis group name"),
        name=_cell(rec, "analysis name"),
        type=dtype,
        effect_measure=code,
        effect_measure_label=label,
        method=method,
        model="random" if model.startswith("random") else "fixed",
        log_data=log_data,
        totals=totals,
        subgroup_test_shown=_true(rec.get("test for subgroup differences")),
        ci_level=float(level),
        rows=tuple(out_rows),
        subgroups=tuple(subgroups),
        revman=tuple(_package_results(rec, dtype, v2, totals).items()),
        subgroup_test=test,
        units=_cell(rec, "unit of effect measure"),
        group_label_1=_cell(rec, "experimental group label"),
        group_label_2=_cell(rec, "control group label"),
        graph_label_1=_cell(rec, "graph label (left)"),
        graph_label_2=_cell(rec, "graph label (right)"),
        swap_events=_true(rec.get("swap event and non-event")),
        heterogeneity_estimator=(_cell(rec, "heterogeneity estimator") or "DL").replace("#N/A", "DL"),
        ci_method=_cell(rec, "ci method") or "Wald",
    )


def _package_row(r: dict[str, str], dtype: str, sub, sno, v2: bool) -> RevManRow:
    def n(col):
        return _number(r.get(col))

    if dtype == "DICH":
        values = {
            "events_1": n("experimental cases"),
            "total_1": n("experimental n"),
            "events_2": n("control cases"),
            "total_2": n("control n"),
        }
    elif dtype == "CONT":
        values = {
            "mean_1": n("experimental mean"),
            "sd_1": n("experimental sd"),
            "total_1": n("experimental n"),
            "mean_2": n("control mean"),
            "sd_2": n("control sd"),
            "total_2": n("control n"),
        }
        if not v2 and all(values[k] in (0, None) for k in ("mean_1", "sd_1", "mean_2", "sd_2")):
            values.update(mean_1=None, sd_1=None, mean_2=None, sd_2=None)  # v1 zeros: missing
    elif dtype == "IV":
        values = {
            "estimate": n("giv mean"),
            "se": n("giv se"),
            "total_1": n("experimental n"),
            "total_2": n("control n"),
        }
        if not v2 and values["se"] in (0, None):
            values.update(estimate=None, se=None)
    else:
        values = {
            "o_e": n("o-e"),
            "var": n("variance"),
            "total_1": n("experimental n"),
            "total_2": n("control n"),
        }
        if not v2 and values["var"] in (0, None):
            values.update(o_e=None, var=None)
    if not v2:
        for k in ("total_1", "total_2"):
            if dtype in ("IV", "OE") and values[k] == 0:
                values[k] = None
    effect, lo, hi, weight = n("mean"), n("ci start"), n("ci end"), n("weight")
    computed = effect is not None and lo is not None and hi is not None and lo != hi
    # v2 leaves a row's results empty when RevMan could not estimate it; v1 writes zeros both
    # then and when RevMan computed nothing (Fleiss 1.2): the inputs decide
    estimable = computed or (not v2 and _inputs_usable(dtype, values))
    return RevManRow(
        study=_cell(r, "study"),
        year=_year(_cell(r, "study year")),
        subgroup=sub,
        subgroup_no=sno,
        estimable=estimable,
        footnote=_cell(r, "footnotes"),
        values=tuple(values.items()),
        revman_effect=_float(effect) if computed else None,
        revman_ci_lower=_float(lo) if computed else None,
        revman_ci_upper=_float(hi) if computed else None,
        revman_weight=_float(weight) if computed else None,
    )


def _inputs_usable(dtype: str, v: dict[str, Number | None]) -> bool:
    """Whether a row's inputs give an effect (when RevMan stored none to say so)."""

    def pos(*keys):
        return all(v.get(k) is not None and v[k] > 0 for k in keys)  # type: ignore[operator]

    if dtype == "DICH":
        return pos("total_1", "total_2") and bool(v["events_1"] or v["events_2"])
    if dtype == "CONT":
        return pos("sd_1", "sd_2", "total_1", "total_2") and v["mean_1"] is not None
    if dtype == "IV":
        return v["estimate"] is not None and pos("se")
    return v["o_e"] is not None and pos("var")
