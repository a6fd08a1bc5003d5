"""Where every number came from: the provenance columns of a shipped study CSV and their rules.

A curated set says, per row, the citation (``source``), its identifiers (``doi``, ``pmid``),
the page the numbers were read on (``where_found``), how far they were verified
(``evidence_status``) and anything a reader must know (``notes``). Derived numbers name the
fields and the arithmetic in ``derived_fields``.
"""

from __future__ import annotations

import re

from metamg.errors import Problem
from metamg.io.schema import DERIVED_COLUMN, REASON_COLUMN, TRIAL_COLUMN, StudyTable
from metamg.vocabulary import EVIDENCE_STATUSES, PROVENANCE_COLUMNS, STATUS_COLUMN

_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_PMID = re.compile(r"^[1-9]\d{0,8}$")


def provenance_problems(table: StudyTable) -> list[Problem]:
    """Every missing or malformed provenance cell of ``table``, one Problem each, row by row."""
    src, col, lines = table.source, table.extra, table.lines
    out = [
        Problem(src, "provenance column missing", line=1, column=c)
        for c in PROVENANCE_COLUMNS
        if c not in col
    ]
    blank = ("",) * len(lines)
    status = [s.strip() for s in col.get(STATUS_COLUMN, blank)]
    found: list[tuple[int, Problem]] = []  # (row, problem), column by column

    def each(name, rule):
        if name in col:
            for i, cell in enumerate(col[name]):
                problem = rule(cell.strip(), i)
                if problem:
                    found.append(
                        (
                            i,
                            Problem(
                                src,
                                problem[0],
                                line=lines[i],
                                column=name,
                                value=problem[1] if len(problem) > 1 else None,
                            ),
                        )
                    )

    each(
        STATUS_COLUMN,
        lambda s, i: (
            ("evidence status missing; one of " + ", ".join(EVIDENCE_STATUSES),)
            if not s
            else ("unknown evidence status; one of " + ", ".join(EVIDENCE_STATUSES), s)
            if s not in EVIDENCE_STATUSES
            else None
        ),
    )
    each("source", lambda s, i: None if s else ("citation missing: say where the study was published",))
    each(
        "where_found",
        lambda s, i: (
            None
            if s or status[i] == "unverified-claim"
            else ("say where the numbers were read (page or document)",)
        ),
    )
    each("doi", lambda s, i: ("not a DOI (expected 10.NNNN/...)", s) if s and not _DOI.match(s) else None)
    each("pmid", lambda s, i: ("not a PubMed ID (digits only)", s) if s and not _PMID.match(s) else None)
    derived = [c.strip() for c in col.get(DERIVED_COLUMN, blank)]
    for i, s in enumerate(status):
        if s == "derived" and not derived[i]:
            found.append(
                (
                    i,
                    Problem(
                        src,
                        f"derived numbers must say how they were derived (column {DERIVED_COLUMN})",
                        line=lines[i],
                        column=DERIVED_COLUMN,
                    ),
                )
            )
    found.sort(key=lambda p: p[0])
    return out + [p for _, p in found]


def duplicate_problems(table: StudyTable, trial_column: str = TRIAL_COLUMN) -> list[Problem]:
    """Pooled rows that are the same study twice: the same DOI or PMID, unless they are arms of
    one multi-arm trial. (The same label up to case and spacing is refused when the table is
    read: ``metamg.io.schema.label_key``.)"""
    src, out = table.source, []
    keep = table.estimable
    trials = table.extra.get(trial_column)
    for c in ("doi", "pmid"):
        column = table.extra.get(c)
        if column is None:
            continue
        seen: dict[str, int] = {}
        for i, cell in enumerate(column):
            value = cell.strip().lower()
            if not value or not keep[i]:
                continue
            j = seen.setdefault(value, i)
            if j == i:
                continue
            trial = trials[j].strip() if trials is not None else ""
            if trial and trials is not None and trial == trials[i].strip():
                continue
            out.append(
                Problem(
                    src,
                    f"same {c} as the pooled study on line {table.lines[j]} "
                    f"({table.studies[j]}): pooling both would count it twice; mark "
                    f"one with {REASON_COLUMN}, or name both arms in '{trial_column}'",
                    line=table.lines[i],
                    column=c,
                    value=table.studies[i],
                )
            )
    return out
