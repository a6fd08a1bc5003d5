"""Where every number came from: the provenance columns of a shipped study CSV and their rules.

A curated set says, per row, the citation (``source``), its identifiers (``doi``, ``pmid``),
the page the numbers were read on (``where_found``), how far they were verified
(``evidence_status``) and anything a reader must know (``notes``). Derived numbers name the
fields and the arithmetic in ``derived_fields``.
"""
from __future__ import annotations

import re

from metamg.errors import Problem
from metamg.io.schema import (DERIVED_COLUMN, PROVENANCE_COLUMNS, REASON_COLUMN, STATUS_COLUMN,
                              TRIAL_COLUMN, StudyTable)
from metamg.io.statuses import EVIDENCE_STATUSES

_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_PMID = re.compile(r"^[1-9]\d{0,8}$")


def provenance_problems(table: StudyTable) -> list[Problem]:
    """Every missing or malformed provenance cell of ``table``, one Problem each."""
    src, out = table.source, []
    missing = [c for c in PROVENANCE_COLUMNS if c not in table.extra]
    for c in missing:
        out.append(Problem(src, "provenance column missing", line=1, column=c))
    col = table.extra
    for i, line in enumerate(table.lines):
        def cell(name):
            return col[name][i].strip() if name in col else ""

        status = cell(STATUS_COLUMN)
        if STATUS_COLUMN in col:
            if not status:
                out.append(Problem(src, "evidence status missing; one of " + ", ".join(EVIDENCE_STATUSES),
                                   line=line, column=STATUS_COLUMN))
            elif status not in EVIDENCE_STATUSES:
                out.append(Problem(src, "unknown evidence status; one of " + ", ".join(EVIDENCE_STATUSES),
                                   line=line, column=STATUS_COLUMN, value=status))
        if "source" in col and not cell("source"):
            out.append(Problem(src, "citation missing: say where the study was published",
                               line=line, column="source"))
        if "where_found" in col and not cell("where_found") and status != "unverified-claim":
            out.append(Problem(src, "say where the numbers were read (page or document)",
                               line=line, column="where_found"))
        doi, pmid = cell("doi"), cell("pmid")
        if doi and not _DOI.match(doi):
            out.append(Problem(src, "not a DOI (expected 10.NNNN/...)", line=line, column="doi", value=doi))
        if pmid and not _PMID.match(pmid):
            out.append(Problem(src, "not a PubMed ID (digits only)", line=line, column="pmid", value=pmid))
        if status == "derived" and not cell(DERIVED_COLUMN):
            out.append(Problem(src, f"derived numbers must say how they were derived "
                               f"(column {DERIVED_COLUMN})", line=line, column=DERIVED_COLUMN))
    return out


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
            if trial and trial == trials[i].strip():
                continue
            out.append(Problem(src, f"same {c} as the pooled study on line {table.lines[j]} "
                               f"({table.studies[j]}): pooling both would count it twice; mark "
                               f"one with {REASON_COLUMN}, or name both arms in '{trial_column}'",
                               line=table.lines[i], column=c, value=table.studies[i]))
    return out
