"""Which studies an analysis keeps: the sensitivity analyses that set some of them aside
(``--exclude-status``, ``--low-risk-only``). Each returns the table with the studies set aside
marked not estimable, with the reason, so that reports list them."""

from __future__ import annotations

from metamg.errors import InputError, Problem
from metamg.io import rob
from metamg.io.schema import StudyTable, set_aside
from metamg.notes import note
from metamg.vocabulary import STATUS_COLUMN


def exclude_by_status(table: StudyTable, statuses) -> StudyTable:
    """``table`` with the estimable rows whose evidence_status is in ``statuses`` set aside
    as not estimable (the sensitivity analysis ``--exclude-status`` asks for)."""
    statuses = {s.strip() for s in statuses if s.strip()}
    column = table.extra.get(STATUS_COLUMN)
    if not statuses:
        return table
    if column is None:
        raise InputError(
            [
                Problem(
                    table.source,
                    f"--exclude-status needs an {STATUS_COLUMN} column",
                    line=1,
                    column=STATUS_COLUMN,
                )
            ]
        )
    keep = table.estimable
    rows = [i for i in range(len(table.studies)) if keep[i] and column[i].strip() in statuses]
    return set_aside(table, rows, lambda i: note("excluded.evidence_status", status=column[i].strip()))


def keep_low_risk(table: StudyTable) -> StudyTable:
    """``table`` with every estimable study not at low overall risk of bias (RoB 2; blank = not
    assessed) set aside: the sensitivity analysis restricted to low-risk studies."""
    overall = rob.overall_judgements(table.extra, len(table.studies))
    keep = table.estimable
    rows = [i for i in range(len(table.studies)) if keep[i] and overall[i] != "low"]
    return set_aside(
        table,
        rows,
        lambda i: note("excluded.not_low_risk", risk_of_bias=overall[i] or None),
    )
