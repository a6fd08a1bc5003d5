"""Multi-arm trials with one shared control group, made into a single comparison.

Rows whose ``trial`` column holds the same name are arms of one trial compared with the same
control group. Pooling them as independent comparisons would count the control participants
more than once (Cochrane Handbook 23.3.4). By default the intervention arms are combined into
one group with the Handbook's formulas for combining groups (Table 6.5.a, section 6.5.2.10):

    N = N1 + N2,   M = (N1·M1 + N2·M2) / N,
    SD = sqrt(((N1−1)·SD1² + (N2−1)·SD2² + N1·N2/N · (M1² + M2² − 2·M1·M2)) / (N − 1)),

applied arm by arm for more than two; events and sizes of binary arms add up. The alternative
the Handbook also allows, ``split``, keeps each comparison and divides the shared control
group's size (and events) equally among them.
"""

from __future__ import annotations

from dataclasses import replace
from types import MappingProxyType
from typing import TYPE_CHECKING

import numpy as np

from metamg.errors import InputError, Problem
from metamg.io.schema import TRIAL_COLUMN, StudyTable, label_key
from metamg.notes import note
from metamg.vocabulary import MULTI_ARM_RULES

if TYPE_CHECKING:
    from metamg.effects.measures import Column

HOW = MULTI_ARM_RULES
_CONTROL = {"binary": ("ci", "n2i"), "continuous": ("m2i", "sd2i", "n2i")}
_SHARED_SIZES = {"binary": ("ci", "n2i"), "continuous": ("n2i",)}


def combine_groups(n: Column, mean: Column, sd: Column) -> tuple[float, float, float]:
    """Size, mean and SD of the union of groups (Cochrane Handbook Table 6.5.a), applied pairwise."""
    n_all, m_all, sd_all = float(n[0]), float(mean[0]), float(sd[0])
    for n2, m2, sd2 in zip(n[1:], mean[1:], sd[1:], strict=True):
        total = n_all + n2
        var = (
            (n_all - 1) * sd_all**2
            + (n2 - 1) * sd2**2
            + n_all * n2 / total * (m_all**2 + m2**2 - 2 * m_all * m2)
        ) / (total - 1)
        m_all = (n_all * m_all + n2 * m2) / total
        n_all, sd_all = total, float(np.sqrt(var))
    return n_all, m_all, sd_all


def trial_groups(table: StudyTable) -> dict[str, list[int]]:
    """Trial name -> row indices of its estimable arms, for trials with more than one arm."""
    names = table.extra.get(TRIAL_COLUMN)
    if names is None:
        return {}
    keep = table.estimable
    groups: dict[str, list[int]] = {}
    for i, name in enumerate(names):
        if name.strip() and keep[i]:
            groups.setdefault(name.strip(), []).append(i)
    return {k: v for k, v in groups.items() if len(v) > 1}


def combine_arms(table: StudyTable, how: str = "combine") -> StudyTable:
    """``table`` with every multi-arm trial made into one comparison (``combine``) or into
    comparisons that share out the control group (``split``)."""
    if how not in HOW:
        raise InputError(
            [Problem(table.source, f"unknown multi-arm rule {how!r}; choose one of " + ", ".join(HOW))]
        )
    groups = trial_groups(table)
    if not groups:
        return table
    _check(table, groups)
    values = {k: v.copy() for k, v in table.values.items()}
    drop: set[int] = set()
    notes = list(table.notes)
    studies = list(table.studies)
    extra = {c: list(v) for c, v in table.extra.items()}
    for trial, rows in groups.items():
        arms = tuple(table.studies[i] for i in rows)
        first = rows[0]
        if how == "split":
            for k in _SHARED_SIZES[table.data_type]:
                values[k][rows] = values[k][rows] / len(rows)
            notes.append(note("multi_arm.split", trial=trial, arms=arms, data_type=table.data_type))
            continue
        if table.data_type == "binary":
            values["ai"][first] = values["ai"][rows].sum()
            values["n1i"][first] = values["n1i"][rows].sum()
        else:
            n, m, sd = combine_groups(values["n1i"][rows], values["m1i"][rows], values["sd1i"][rows])
            values["n1i"][first], values["m1i"][first], values["sd1i"][first] = n, m, sd
        drop.update(rows[1:])
        studies[first] = trial
        for col in extra.values():
            col[first] = "; ".join(dict.fromkeys(col[i].strip() for i in rows if col[i].strip()))
        notes.append(note("multi_arm.combined", trial=trial, arms=arms))
    keep = [i for i in range(len(table.studies)) if i not in drop]
    for arr in values.values():
        arr.setflags(write=False)
    idx = np.array(keep, dtype=int)
    return replace(
        table,
        studies=tuple(studies[i] for i in keep),
        lines=tuple(table.lines[i] for i in keep),
        values=MappingProxyType({k: v[idx] for k, v in values.items()}),
        extra=MappingProxyType({c: tuple(v[i] for i in keep) for c, v in extra.items()}),
        forms=tuple(table.forms[i] for i in keep) if table.forms else (),
        notes=tuple(notes),
    )


def _check(table: StudyTable, groups: dict[str, list[int]]) -> None:
    src, problems = table.source, []
    if table.data_type not in _CONTROL:
        raise InputError(
            [
                Problem(
                    src,
                    f"multi-arm trials (column {TRIAL_COLUMN!r}) can be combined "
                    f"for binary or continuous data, not {table.data_type} data",
                    line=1,
                    column=TRIAL_COLUMN,
                )
            ]
        )
    labelled: dict[str, set[int]] = {}  # label (up to case and spacing) -> rows carrying it, built once
    for j, s in enumerate(table.studies):
        labelled.setdefault(label_key(s), set()).add(j)
    for trial, rows in groups.items():
        first = rows[0]
        if labelled.get(label_key(trial), set()) - set(rows):
            problems.append(
                Problem(
                    src,
                    "trial name is also the label of another study",
                    line=table.lines[first],
                    column=TRIAL_COLUMN,
                    value=trial,
                )
            )
        for i in rows:
            if table.forms and table.forms[i] != "raw":
                problems.append(
                    Problem(
                        src,
                        "an arm of a multi-arm trial needs its raw data, not a reported effect",
                        line=table.lines[i],
                        column=TRIAL_COLUMN,
                        value=trial,
                    )
                )
                continue
            for k in _CONTROL[table.data_type]:
                if table.values[k][i] != table.values[k][first]:
                    problems.append(
                        Problem(
                            src,
                            f"arms of trial {trial!r} must share one control group, but this "
                            f"differs from line {table.lines[first]} "
                            f"({table.values[k][first]:g})",
                            line=table.lines[i],
                            column=table.column_name(k),
                            value=f"{table.values[k][i]:g}",
                        )
                    )
    if problems:
        raise InputError(problems)
