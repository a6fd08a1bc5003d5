"""The study-CSV schema: which columns mean what, which data type a file holds, and value checks.

Canonical keys follow metafor's argument names (ai, n1i, ci, n2i, m1i, ...); the friendly names
(events_treatment, ...) and metafor's own names are both accepted as column headers.

Rules for the cells, besides each data type's own (counts whole and >= 0, SDs > 0, ...):

* **Numbers** are written in ASCII digits with an optional sign, decimal separator and
  exponent (``-1.5e-3``). Words (inf, nan), digit groups (``1_000``, ``1 000``) and other
  scripts' digits are refused. Every number must lie in its column's range
  (``metamg.io.bounds``).
* **Decimal commas.** In a comma-separated file the decimal separator is the point, and a
  comma inside a number is an error. In a semicolon- or tab-separated file (a spreadsheet
  export) it is decided once for the whole file, from the numeric cells metamg reads: a
  comma when some number has a decimal comma and none has a decimal point, else the point.
  A file writing decimals both ways is refused at each decimal comma, naming a cell with a
  point. Thousands separators are never read: a number holding both a point and a comma
  (``1.234,5``, ``1,234.5``) is refused, and so, in a semicolon- or tab-separated file, is a
  number of the form ``1,234`` or ``1.234`` (one to three digits, not 0, then a separator and
  exactly three digits), which reads as a fraction in one locale and a thousand in another.
  Read this way, a semicolon/tab/decimal-comma file gives exactly the table its comma/point
  version gives.
* **One data type per row.** A row with numbers in the columns of two data types (e.g.
  events and means) is an error naming both column groups, unless the data type was chosen
  (a measure in the metadata or on the command line): the other columns are then listed in
  ``StudyTable.ignored`` and ``compute_effects`` warns that they are not used.
* **Study labels** are unique ignoring case and runs of spaces (``label_key``): "ISIS-4 1995"
  and "isis-4  1995" are the same study, to ``pool`` as to ``check``.
"""

from __future__ import annotations

import contextlib
import difflib
import math
import os
import re
from dataclasses import dataclass, field, replace
from functools import cached_property
from types import MappingProxyType

import numpy as np

from metamg.errors import InputError, Problem
from metamg.io import rob
from metamg.io.bounds import COMMON_RANGE, bound_problem
from metamg.io.csvfile import RawTable, raw_from_dataframe, read_raw_csv
from metamg.notes import Note, note
from metamg.vocabulary import PROVENANCE_COLUMNS

# header (lower-cased, stripped) -> canonical key
ALIASES = MappingProxyType(
    {
        "events_treatment": "ai",
        "ai": "ai",
        "n_treatment": "n1i",
        "n1i": "n1i",
        "events_control": "ci",
        "ci": "ci",
        "n_control": "n2i",
        "n2i": "n2i",
        "mean_treatment": "m1i",
        "m1i": "m1i",
        "sd_treatment": "sd1i",
        "sd1i": "sd1i",
        "mean_control": "m2i",
        "m2i": "m2i",
        "sd_control": "sd2i",
        "sd2i": "sd2i",
        "yi": "yi",
        "vi": "vi",
        "sei": "sei",
        "ri": "ri",
        "ni": "ni",
        "events": "xi",
        "xi": "xi",
        "n": "ni",
        # a reported effect with its confidence interval or p-value (metafor's conv.wald)
        "effect": "effect",
        "effect_estimate": "effect",
        "ci_low": "ci_low",
        "ci_lower": "ci_low",
        "ci.lb": "ci_low",
        "ci_high": "ci_high",
        "ci_upper": "ci_high",
        "ci.ub": "ci_high",
        "ci_level": "ci_level",
        "p_value": "pval",
        "pval": "pval",
        # O - E and variance (individual participant data, log-rank style): Peto's log hazard ratio
        "o_e": "oe",
        "oe": "oe",
        "var": "voe",
        "var_oe": "voe",
    }
)

# Reported-effect columns: a row may give these instead of the raw data of its data type.
REPORTED = ("effect", "ci_low", "ci_high", "ci_level", "pval")
# A non-blank value here keeps a candidate study in the set but out of the analysis.
REASON_COLUMN = "exclusion_reason"
# Rows naming the same trial here are arms of one multi-arm trial sharing a control group.
TRIAL_COLUMN = "trial"
# Where every number came from (rules in metamg.io.provenance).
DERIVED_COLUMN = "derived_fields"
# Every column name metamg gives a meaning to; an unknown header close to one of them is a typo.
KNOWN_COLUMNS = frozenset(ALIASES) | {
    "study",
    REASON_COLUMN,
    TRIAL_COLUMN,
    DERIVED_COLUMN,
    *PROVENANCE_COLUMNS,
    *rob.COLUMNS,
}
TYPO_CUTOFF = 0.8  # difflib ratio above which an unknown header is taken for a misspelling
HINT_CUTOFF = 0.5  # looser: only offered when a required column is missing anyway

# canonical key -> the name we use when a column is missing
FRIENDLY = MappingProxyType(
    {
        "ai": "events_treatment",
        "n1i": "n_treatment",
        "ci": "events_control",
        "n2i": "n_control",
        "m1i": "mean_treatment",
        "sd1i": "sd_treatment",
        "m2i": "mean_control",
        "sd2i": "sd_control",
        "yi": "yi",
        "vi": "vi",
        "sei": "sei",
        "ri": "ri",
        "ni": "ni",
        "xi": "events",
        "effect": "effect",
        "ci_low": "ci_low",
        "ci_high": "ci_high",
        "ci_level": "ci_level",
        "pval": "p_value",
        "oe": "o_e",
        "voe": "var",
    }
)


@dataclass(frozen=True)
class DataType:
    name: str
    required: tuple[str, ...]
    counts: tuple[str, ...] = ()  # whole numbers >= 0
    sizes: tuple[str, ...] = ()  # whole numbers > 0
    positive: tuple[str, ...] = ()  # real numbers > 0
    events_within: tuple[tuple[str, str], ...] = ()  # (events, size) pairs


DATA_TYPES = MappingProxyType(
    {
        "binary": DataType(
            "binary",
            ("ai", "n1i", "ci", "n2i"),
            counts=("ai", "ci"),
            sizes=("n1i", "n2i"),
            events_within=(("ai", "n1i"), ("ci", "n2i")),
        ),
        "continuous": DataType(
            "continuous",
            ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"),
            sizes=("n1i", "n2i"),
            positive=("sd1i", "sd2i"),
        ),
        "generic": DataType("generic", ("yi", "vi"), positive=("vi", "sei")),
        "correlation": DataType("correlation", ("ri", "ni"), sizes=("ni",)),
        # observed minus expected events and its (hypergeometric / log-rank) variance V
        "oe": DataType("oe", ("oe", "voe"), positive=("voe",)),
        "proportion": DataType(
            "proportion", ("xi", "ni"), counts=("xi",), sizes=("ni",), events_within=(("xi", "ni"),)
        ),
    }
)

# When a file fits several types (and no measure says which), the first listed wins:
# precomputed yi makes GEN the default, as the schema promises.
INFERENCE_ORDER = ("generic", "continuous", "binary", "correlation", "proportion", "oe")


@dataclass(frozen=True)
class NotEstimable:
    study: str
    line: int
    reason: Note  # excluded.curator carries the exclusion_reason as the curator wrote it


@dataclass(frozen=True)
class StudyTable:
    """Validated studies of one data type.

    ``values`` holds one float array per canonical column (NaN where a cell is blank);
    ``extra`` carries every other column untouched, as strings. ``forms`` says per row how
    its effect is given: "raw" (the data type's columns), "reported" (effect with CI or
    p-value), or "none" (not estimable). ``notes`` records how rows were prepared
    (e.g. multi-arm trials combined). ``sha256`` identifies the bytes the table was read from
    (a pipe cannot be read twice, so this is the only record of what was analysed).
    """

    source: str
    data_type: str
    studies: tuple[str, ...]
    lines: tuple[int, ...]
    values: MappingProxyType
    columns: MappingProxyType  # canonical key -> header as written in the file
    extra: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))
    not_estimable: tuple[NotEstimable, ...] = ()
    forms: tuple[str, ...] = ()
    notes: tuple[Note, ...] = ()  # how rows were prepared (metamg.notes rules)
    sha256: str = ""  # of the file's bytes as read; "" for a DataFrame
    ignored: tuple[str, ...] = ()  # columns of another data type holding numbers, not used

    @cached_property
    def estimable(self) -> np.ndarray:
        """Per row, whether it is pooled (read-only; computed once per table)."""
        blocked = {n.study for n in self.not_estimable}
        keep = np.array([s not in blocked for s in self.studies], dtype=bool)
        keep.setflags(write=False)
        return keep

    def column_name(self, key: str) -> str:
        return self.columns.get(key, FRIENDLY.get(key, key))


def read_studies(source, data_type: str | None = None) -> StudyTable:
    """Read and validate a study table from a CSV path or a pandas DataFrame.

    ``data_type`` forces one of DATA_TYPES (a measure's data type); otherwise it is inferred.
    Raises InputError listing every problem found, and TypeError when ``source`` is neither
    a path (str or os.PathLike) nor a DataFrame.
    """
    if hasattr(source, "columns") and hasattr(source, "itertuples"):
        raw = raw_from_dataframe(source)
    elif isinstance(source, (str, os.PathLike)):
        raw = read_raw_csv(source, KNOWN_COLUMNS)
    else:
        raise TypeError(
            f"expected the path of a study CSV (str or os.PathLike) or a pandas "
            f"DataFrame, not {type(source).__name__}"
        )
    return validate(raw, data_type)


def label_key(label: str) -> str:
    """What makes two study labels the same study: case and runs of spaces do not count."""
    return " ".join(label.casefold().split())


def own_columns(data_type: str) -> tuple[str, ...]:
    """The columns only ``data_type`` uses (group sizes are shared by binary and continuous)."""
    shared = set().union(*(d.required for n, d in DATA_TYPES.items() if n != data_type))
    own = tuple(k for k in DATA_TYPES[data_type].required if k not in shared)
    return own + ("sei",) if data_type == "generic" else own


def validate(raw: RawTable, data_type: str | None = None) -> StudyTable:
    """The study table in ``raw``, or InputError with every problem found (rules in the module
    docstring). Column-wise where it can be, so that large tables take linear time."""
    src = raw.source
    keys, names, extra_cols, problems = _header(raw)
    if "study" not in keys:
        problems.append(
            Problem(src, "required column missing (one unique label per study)", line=1, column="study")
        )
    typos = _typo_problems(src, raw.header, extra_cols)
    problems += typos
    dtype, type_problems = _choose_type(src, keys, data_type)
    unflagged = [c for c in extra_cols if c not in {p.column for p in typos}]
    problems += [_with_hint(p, unflagged) for p in type_problems]
    if problems:  # without usable columns, row checks would only repeat the same complaint
        raise InputError(problems)
    problems += raw.problems

    needed = list(dtype.required)
    if dtype.name == "generic" and "vi" not in keys:
        needed = ["yi", "sei"]
    avail = [k for k in needed if k in keys]
    reported = [k for k in REPORTED if k in keys]
    others = {n: [k for k in own_columns(n) if k in keys] for n in INFERENCE_ORDER if n != dtype.name}
    others = {n: cols for n, cols in others.items() if cols}
    by_column = tuple(zip(*(row.cells for row in raw.rows), strict=True)) or ((),) * len(raw.header)
    number = _number_reader(raw, keys, names, avail + reported)
    columns, errors = {}, {}
    for k in avail + reported:
        columns[k], errors[k] = _parse_column(by_column[keys[k]], k, number, raw.delimiter != ",")
    for k in needed:
        columns.setdefault(k, np.full(len(raw.rows), np.nan))
    value_problems, bad_values = _value_problems(src, raw.rows, dtype, columns, names)
    problems += value_problems
    plain = _plain_rows(
        len(raw.rows),
        needed,
        avail,
        reported,
        columns,
        errors,
        bad_values,
        [by_column[keys[k]] for cols in others.values() for k in cols],
    )

    ignored: dict[str, None] = {}
    reason_col = extra_cols.get(REASON_COLUMN)
    sid = keys["study"]
    studies, lines, forms, not_estimable = [], [], [], []
    first_line: dict[str, tuple[int, str]] = {}
    for r, row in enumerate(raw.rows):
        label = row.cells[sid].strip()
        problems += _label_problems(src, row.line, label, first_line, names["study"])
        studies.append(label)
        lines.append(row.line)
        reason = row.cells[reason_col].strip() if reason_col is not None else ""
        if plain[r]:
            form, row_problems = "raw", []
        else:
            parsed = {
                k: errors[k].get(r) or (None if columns[k][r] != columns[k][r] else float(columns[k][r]))
                for k in avail + reported
            }
            problems += [
                Problem(src, v, line=row.line, column=names[k], value=row.cells[keys[k]].strip())
                for k, v in parsed.items()
                if isinstance(v, str)
            ]
            nums = {k: v for k, v in parsed.items() if isinstance(v, float)}
            raw_nums = {k: v for k, v in nums.items() if k in avail}
            mixed = _mixed_problem(src, row, dtype, keys, names, avail, others, data_type, ignored)
            problems += [mixed] if mixed else []
            form, row_problems = _row_form(src, row.line, needed, raw_nums, nums, parsed, names)
        if reason:
            forms.append("none")
            not_estimable.append(NotEstimable(label, row.line, note("excluded.curator", reason=reason)))
            continue
        problems += row_problems
        forms.append(form)
        if form == "none":
            not_estimable.append(NotEstimable(label, row.line, note("excluded.no_numbers")))
    if not raw.rows and not raw.problems:
        problems.append(Problem(src, "has a header but no study rows"))
    rob_cells = {c: by_column[extra_cols[c]] for c in rob.COLUMNS if c in extra_cols}
    rob_cells, rob_problems = rob.judgement_problems(src, lines, rob_cells)
    problems += rob_problems
    if problems:
        raise InputError(sorted(problems, key=lambda p: p.line or 0))

    if dtype.name == "generic" and "vi" not in keys:
        columns["vi"] = columns.pop("sei") ** 2
        names["vi"] = names["sei"]
    for arr in columns.values():
        arr.setflags(write=False)
    extra = {name: rob_cells.get(name, by_column[i]) for name, i in extra_cols.items()}
    return StudyTable(
        source=src,
        data_type=dtype.name,
        studies=tuple(studies),
        lines=tuple(lines),
        values=MappingProxyType(columns),
        columns=MappingProxyType(dict(names)),
        extra=MappingProxyType(extra),
        not_estimable=tuple(not_estimable),
        forms=tuple(forms),
        sha256=raw.sha256,
        ignored=tuple(ignored),
    )


def _parse_column(cells, key, number, spreadsheet) -> tuple[np.ndarray, dict[int, str]]:
    """(the numbers of one column, NaN where blank or wrong; row index -> what is wrong).

    A column of plain numbers, the usual case, is recognised by its characters and converted
    at once; only values outside every bound's common range (and zeros, which may be
    underflows) are then looked at one by one with ``number``, as every cell of other columns."""
    texts = [c.strip() for c in cells]
    joined = "\n".join(texts)
    values = None
    # float() reads text of these characters exactly when _POINT matches it
    if set(joined) <= _PLAIN_CHARS and not (spreadsheet and _GROUPED_LINE.search(joined)):
        with contextlib.suppress(ValueError):
            values = np.array([t or "nan" for t in texts], dtype=float)
    if values is None:
        values, errors = np.full(len(texts), np.nan), {}
        for i, text in enumerate(texts):
            v = number(text, key)
            if isinstance(v, str):
                errors[i] = v
            elif v is not None:
                values[i] = v
        return values, errors
    size = np.abs(values)
    low, high = COMMON_RANGE
    errors = {}
    for j in np.flatnonzero(~((size >= low) & (size <= high)) & ~np.isnan(values)):
        v = number(texts[j], key)
        if isinstance(v, str):
            errors[int(j)], values[j] = v, np.nan
    return values, errors


def _plain_rows(n, needed, avail, reported, columns, errors, bad_values, other_cells) -> np.ndarray:
    """Rows with every number of their data type valid and nothing else (no reported effect,
    no other data type's numbers): their form is "raw", with nothing more to check."""
    if len(avail) < len(needed):
        return np.zeros(n, dtype=bool)
    plain = ~bad_values
    for k in avail:
        plain &= ~np.isnan(columns[k])
    for k in reported:
        plain &= np.isnan(columns[k])
    for k in avail + reported:
        if errors[k]:
            plain[list(errors[k])] = False
    for cells in other_cells:
        plain &= np.array([not c.strip() for c in cells], dtype=bool)
    return plain


def _header(raw: RawTable):
    """(canonical key -> column index, canonical key -> header as written, other columns ->
    index, problems) of the header line."""
    src, problems = raw.source, []
    keys: dict[str, int] = {}
    names: dict[str, str] = {}
    extra_cols: dict[str, int] = {}
    seen: dict[str, str] = {}
    for i, name in enumerate(raw.header):
        norm = name.strip().lower()
        if not norm:
            problems.append(Problem(src, f"column {i + 1} has no name", line=1))
            continue
        canon = "study" if norm == "study" else ALIASES.get(norm)
        if norm in rob.COLUMNS:
            name = norm  # judgements are looked up by their lower-case names
        ident = canon or norm
        if ident in seen:
            problems.append(
                Problem(
                    src, f"duplicate column (same meaning as {seen[ident]!r})", line=1, column=name.strip()
                )
            )
            continue
        seen[ident] = name.strip()
        if canon:
            keys[canon] = i
            names[canon] = name.strip()
        else:
            extra_cols[name.strip()] = i
    return keys, names, extra_cols, problems


def _label_problems(src, line, label, first_line, column) -> list[Problem]:
    """A missing label, or one that repeats an earlier label up to case and spacing."""
    if not label:
        return [Problem(src, "missing study label", line=line, column=column)]
    key = label_key(label)
    if key in first_line:
        first, spelt = first_line[key]
        same = "" if spelt == label else f" as {spelt!r}; labels are compared ignoring case and spacing"
        return [
            Problem(
                src,
                f"duplicate study label (first on line {first}{same})",
                line=line,
                column=column,
                value=label,
            )
        ]
    first_line[key] = (line, label)
    return []


def _mixed_problem(src, row, dtype, keys, names, avail, others, forced, ignored) -> Problem | None:
    """A row holding numbers of another data type besides (or instead of) its own: an error
    naming both column groups, or, when the data type was chosen, columns noted as ignored."""
    for other, cols in others.items():
        given = [k for k in cols if row.cells[keys[k]].strip()]
        if not given:
            continue
        if forced is not None:
            ignored.update((names[k], None) for k in given)
            continue
        mine = ", ".join(names[k] for k in avail if k not in DATA_TYPES[other].required)
        theirs = ", ".join(names[k] for k in given)
        both = any(row.cells[keys[k]].strip() for k in own_columns(dtype.name) if k in keys)
        lead = (
            f"this row gives both {dtype.name} numbers ({mine}) and {other} numbers ({theirs})"
            if both
            else f"this row gives {other} numbers ({theirs}) in a file read as {dtype.name} data ({mine})"
        )
        return Problem(
            src,
            f"{lead}; keep one data type, or choose it with the measure (key "
            "measure in the metadata, or --measure)",
            line=row.line,
            column=names[given[0]],
        )
    return None


def _typo_problems(src, header, extra_cols) -> list[Problem]:
    """Unknown headers that look like a misspelt column metamg knows (which is then missing)."""
    present = {h.strip().lower() for h in header}
    absent = sorted(KNOWN_COLUMNS - present)
    out = []
    for name in extra_cols:
        if name.lower() in KNOWN_COLUMNS:
            continue
        match = difflib.get_close_matches(name.lower(), absent, n=1, cutoff=TYPO_CUTOFF)
        if match:
            out.append(
                Problem(
                    src,
                    f"unknown column; did you mean '{match[0]}'? (if it is a column "
                    "of your own, give it a name further from metamg's)",
                    line=1,
                    column=name,
                )
            )
    return out


def _with_hint(problem: Problem, unknown) -> Problem:
    """A missing-column problem with the closest unknown header offered as the likely typo."""
    if not problem.column or "missing" not in problem.message:
        return problem
    names = {ALIASES.get(problem.column, problem.column)} | {
        a for a, c in ALIASES.items() if c == ALIASES.get(problem.column)
    }

    def likeness(candidate):
        return max(difflib.SequenceMatcher(None, candidate.lower(), n).ratio() for n in names)

    best = max(unknown, key=likeness, default=None)
    if best is not None and likeness(best) >= HINT_CUTOFF:
        return replace(problem, message=f"{problem.message}; did you mean '{best}'?")
    return problem


def _row_form(src, line, needed, raw_nums, nums, parsed, names):
    """How a row gives its effect ("raw", "reported" or "none"), and what is wrong with it."""
    has = set(nums) | {k for k, v in parsed.items() if isinstance(v, str)}  # errors said already
    raw_complete = set(needed) <= has
    interval = {"ci_low", "ci_high"} <= has
    reported_complete = interval or ("effect" in has and "pval" in has)
    reported_any = bool(has & {"effect", "ci_low", "ci_high", "pval"})
    if raw_complete and reported_any:
        return "raw", [
            Problem(
                src,
                "both raw data and a reported effect are given; keep one, or "
                "say in exclusion_reason why the study is not pooled",
                line,
                names.get("effect") or names.get("ci_low") or names.get("pval"),
            )
        ]
    if raw_complete:
        return "raw", []
    if reported_complete:
        return "reported", _reported_problems(src, line, nums, names)
    if not has:
        return "none", []
    if reported_any:
        missing = (
            ("ci_low" if "ci_low" not in has else "ci_high") if has & {"ci_low", "ci_high"} else "ci_low"
        )
        return "none", [
            Problem(
                src,
                "missing value: a reported effect needs both confidence limits "
                "(ci_low, ci_high) or a p_value",
                line,
                names.get(missing, FRIENDLY[missing]),
            )
        ]
    return "none", [
        Problem(src, "missing value (other numbers of this study are given)", line, names.get(k, FRIENDLY[k]))
        for k in needed
        if k not in has
    ]


def _reported_problems(src, line, nums, names):
    out = []
    lo, hi, est = nums.get("ci_low"), nums.get("ci_high"), nums.get("effect")
    if lo is not None and hi is not None:
        if lo >= hi:
            out.append(
                Problem(
                    src,
                    f"lower confidence limit must be below the upper ({_fmt(hi)})",
                    line,
                    names["ci_low"],
                    _fmt(lo),
                )
            )
        elif est is not None and not lo <= est <= hi:
            out.append(
                Problem(
                    src,
                    f"effect lies outside its confidence interval ({_fmt(lo)} to {_fmt(hi)})",
                    line,
                    names["effect"],
                    _fmt(est),
                )
            )
    level = nums.get("ci_level")
    if level is not None and not (50 <= level < 100 or 0.5 <= level < 1):
        out.append(
            Problem(
                src,
                "must be a confidence level in percent, e.g. 95 (or 0.95)",
                line,
                names["ci_level"],
                _fmt(level),
            )
        )
    p = nums.get("pval")
    if p is not None and lo is None and not 0 < p < 1:
        out.append(
            Problem(
                src,
                "must lie strictly between 0 and 1 to give a standard error",
                line,
                names["pval"],
                _fmt(p),
            )
        )
    return out


def _choose_type(src, keys, forced):
    def complete(dt):
        req = set(dt.required)
        if dt.name == "generic":
            return "yi" in keys and ("vi" in keys or "sei" in keys)
        return req <= keys.keys()

    reported = "effect" in keys or {"ci_low", "ci_high"} <= keys.keys()
    if forced is not None:
        dt = DATA_TYPES[forced]
        if complete(dt) or reported:
            return dt, []
        held = [n for n in INFERENCE_ORDER if complete(DATA_TYPES[n])]
        if held:
            return dt, [
                Problem(
                    src,
                    f"the chosen measure needs {dt.name} data "
                    f"({_column_list(dt)}), but this file holds {held[0]} data",
                    line=1,
                )
            ]
        return dt, [
            Problem(src, f"required column missing for {dt.name} data", line=1, column=FRIENDLY[k])
            for k in _missing(dt, keys)
        ]
    for name in INFERENCE_ORDER:
        if complete(DATA_TYPES[name]):
            return DATA_TYPES[name], []
    if reported:
        return None, [
            Problem(
                src,
                "effects given with their confidence interval need a measure "
                "(e.g. RR, MD): set measure in the metadata or use --measure",
                line=1,
            )
        ]
    # Nothing complete: blame the type the file came closest to.
    best = max(INFERENCE_ORDER, key=lambda n: len(set(DATA_TYPES[n].required) & keys.keys()))
    if not set(DATA_TYPES[best].required) & keys.keys():
        expected = "; ".join(f"{n}: {_column_list(DATA_TYPES[n])}" for n in INFERENCE_ORDER)
        return None, [Problem(src, f"no effect-size columns found (expected one of: {expected})", line=1)]
    dt = DATA_TYPES[best]
    return dt, [
        Problem(src, f"required column missing for {dt.name} data", line=1, column=FRIENDLY[k])
        for k in _missing(dt, keys)
    ]


def _column_list(dt: DataType) -> str:
    if dt.name == "generic":
        return "yi, vi (or yi, sei)"
    if dt.name == "proportion":
        return "events, n"
    return ", ".join(FRIENDLY[k] for k in dt.required)


def _missing(dt, keys):
    if dt.name == "generic":
        return [k for k in ("yi",) if k not in keys] + ([] if {"vi", "sei"} & keys.keys() else ["vi"])
    return [k for k in dt.required if k not in keys]


# Numbers as metamg reads them (rules in the module docstring): ASCII digits only, because
# float() also takes "1_000" and other scripts' digits.
_POINT = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_COMMA = re.compile(r"[+-]?(?:[0-9]+,[0-9]+|,[0-9]+)(?:[eE][+-]?[0-9]+)?")
_GROUPED = re.compile(r"[+-]?[1-9][0-9]{0,2}[.,][0-9]{3}")  # 1,234 / 1.234: fraction or thousand?
_NONFINITE = re.compile(r"[+-]?(?:inf(?:inity)?|nan)", re.IGNORECASE)
_PLAIN_CHARS = frozenset("0123456789+-.eE\n")
_GROUPED_LINE = re.compile(rf"^{_GROUPED.pattern}$", re.MULTILINE)


def _number_reader(raw: RawTable, keys, names, cols):
    """``parse(text, key)``: the float in a cell of column ``key``, None for a blank cell, or
    what is wrong with it. The decimal separator is decided here, once for the file."""
    spreadsheet = raw.delimiter != ","
    point = comma = None  # the first cell writing a decimal point / comma, as (line, column, text)
    if spreadsheet:
        for row in raw.rows:
            for k in cols:
                t = row.cells[keys[k]].strip()
                if _GROUPED.fullmatch(t):
                    continue  # refused either way: it must not decide the file
                if point is None and "." in t and _POINT.fullmatch(t):
                    point = (row.line, names[k], t)
                elif comma is None and "," in t and _COMMA.fullmatch(t):
                    comma = (row.line, names[k], t)
            if point and comma:
                break
    # parse() is only given cells of ``cols``, so a cell it finds with a decimal comma has set
    # ``comma`` here: the comma is the file's separator exactly when ``point`` is None

    def parse(text: str, key: str):
        s = text.strip()
        if not s:
            return None
        if spreadsheet and _GROUPED.fullmatch(s):
            sep = "comma" if "," in s else "point"
            return (
                f"ambiguous: a fraction with a decimal {sep}, or a thousand and more with a "
                f"thousands separator? Write {re.sub('[.,]', '', s)} for the whole number, "
                f"or {s}0 for the fraction"
            )
        if _POINT.fullmatch(s):
            value = float(s)
        elif _NONFINITE.fullmatch(s):
            return "not a finite number"
        elif "." in s and "," in s:
            last = max(s.rfind("."), s.rfind(","))
            plain = re.sub("[.,]", "", s[:last]) + s[last:]
            return f"not a number: thousands separators are not read (write {plain})"
        elif "," in s and _COMMA.fullmatch(s):
            if not spreadsheet:
                return (
                    "not a number: a comma-separated file writes decimals with a point "
                    "(1.5), and no thousands separators"
                )
            if point is not None:
                return (
                    f"a decimal comma, but this file also writes decimal points (line "
                    f"{point[0]}, {point[1]}: {point[2]}); use one decimal separator throughout"
                )
            value = float(s.replace(",", "."))
        else:
            return "not a number"
        if value == 0 and re.search("[1-9]", s.lower().split("e")[0]):
            return "too small to compute with (it underflows to 0)"
        problem = bound_problem(key, value)
        if problem is None and not math.isfinite(value):
            problem = "too large to compute with"
        return problem or value

    return parse


def _value_problems(src, rows, dt: DataType, columns, names) -> tuple[list[Problem], np.ndarray]:
    """The data type's rules for its own numbers (counts whole and >= 0, sizes > 0, ...),
    column by column: (problems, per row whether it has one). NaN (blank) breaks no rule."""
    out: list[tuple[int, Problem]] = []
    bad = np.zeros(len(rows), dtype=bool)

    def flag(mask, key, message):
        for i in np.flatnonzero(mask):
            bad[i] = True
            out.append((int(i), Problem(src, message, rows[i].line, names[key], _fmt(columns[key][i]))))

    with np.errstate(invalid="ignore"):
        for k in dt.counts:
            if k in names:
                v = columns[k]
                flag(v < 0, k, "must not be negative")
                flag((v >= 0) & (v != np.floor(v)), k, "must be a whole number")
        for k in dt.sizes:
            if k in names:
                v = columns[k]
                flag(v <= 0, k, "must be greater than 0")
                flag((v > 0) & (v != np.floor(v)), k, "must be a whole number")
        for k in dt.positive:
            if k in names and k in columns:
                flag(columns[k] <= 0, k, "must be greater than 0")
        for ev, size in dt.events_within:
            if ev in names and size in names:
                e, s = columns[ev], columns[size]
                for i in np.flatnonzero((e > s) & (s > 0)):
                    bad[i] = True
                    out.append(
                        (
                            int(i),
                            Problem(
                                src,
                                f"more events than participants ({names[size]} = {_fmt(s[i])})",
                                rows[i].line,
                                names[ev],
                                _fmt(e[i]),
                            ),
                        )
                    )
        if "ri" in names and "ri" in columns and dt.name == "correlation":
            flag(
                ~((columns["ri"] > -1) & (columns["ri"] < 1)) & ~np.isnan(columns["ri"]),
                "ri",
                "correlation must lie strictly between -1 and 1",
            )
    rank = {name: i for i, name in enumerate(names.values())}  # header order
    out.sort(key=lambda p: (p[0], rank.get(p[1].column, 0)))  # as the file reads
    return [p for _, p in out], bad


def _fmt(v: float) -> str:
    v = float(v)  # not numpy's repr, np.float64(3.0)
    return str(int(v)) if v == int(v) and abs(v) < 1e15 else repr(v)


def set_aside(table: StudyTable, rows, reason) -> StudyTable:
    """``table`` with the rows at ``rows`` marked not estimable, each with ``reason(i)``."""
    if not rows:
        return table
    out = [NotEstimable(table.studies[i], table.lines[i], reason(i)) for i in rows]
    forms = list(table.forms) if table.forms else ["raw"] * len(table.studies)
    for i in rows:
        forms[i] = "none"
    return replace(table, not_estimable=table.not_estimable + tuple(out), forms=tuple(forms))
