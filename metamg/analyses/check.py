"""``metamg check``: everything that can be wrong with a curated study set, found in one pass.

Schema and values (as pooling would see them), provenance columns, the same study pooled twice,
metadata (including the question's keys left blank or as the template wrote them), and claims
that refer to studies or columns the set does not have. Every step is linear in the number of
rows, and the CSV is read once (it may be a pipe).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import numpy as np

from metamg.analyses.few_studies import stated_priors
from metamg.analyses.pool import prepare_table
from metamg.effects import EffectSizes, compute_effects
from metamg.effects.conversion import to_analysis_scale
from metamg.effects.measures import MEASURES
from metamg.errors import InputError, Problem
from metamg.io.metadata import QUESTION, StudySetMeta, metadata_path, read_metadata, unfilled
from metamg.io.provenance import duplicate_problems, provenance_problems
from metamg.io.schema import TRIAL_COLUMN, StudyTable, read_studies


@dataclass(frozen=True)
class Inspection:
    """What checking a study set found, with what it read on the way (None where it could not)."""

    problems: tuple[Problem, ...]
    meta: StudySetMeta | None
    table: StudyTable | None  # the study table as read and validated
    effects: EffectSizes | None  # the effects pooling would use


def check_study_set(csv_path) -> tuple[Problem, ...]:
    """Every problem of the study set at ``csv_path`` (empty when it is fit to ship)."""
    return inspect_study_set(csv_path).problems


def inspect_study_set(csv_path) -> Inspection:
    """Check the study set at ``csv_path``, keeping its metadata, table and effects."""
    problems: list[Problem] = []
    meta_file = metadata_path(csv_path)
    meta = table = effects = None
    try:
        meta = read_metadata(csv_path)
    except InputError as exc:
        problems += exc.problems
    if not os.path.lexists(meta_file):
        problems.append(
            Problem(meta_file, "metadata file missing: a shipped set needs its question, measure and claims")
        )
    elif meta is not None:
        problems += [
            Problem(meta_file, f"not filled in: say {QUESTION[key]}", line=meta.line_of(key), column=key)
            for key in unfilled(meta)
        ]
    measure = meta.measure if meta else None
    try:
        forced = MEASURES[measure].data_type if measure else None
        table = read_studies(csv_path, forced)
    except InputError as exc:
        return Inspection(_in_order(problems + list(exc.problems)), meta, None, None)
    problems += provenance_problems(table)
    problems += duplicate_problems(table)
    try:
        effects = compute_effects(prepare_table(table, measure), measure)
    except InputError as exc:
        problems += exc.problems
    if meta is not None:
        problems += _metadata_refs(meta, table, meta_file)
        try:
            stated_priors(meta, meta_file)
        except InputError as exc:
            problems += exc.problems
    return Inspection(_in_order(problems), meta, table, effects)


def _in_order(problems) -> tuple[Problem, ...]:
    return tuple(sorted(problems, key=lambda p: (p.file, p.line or 0)))


def _metadata_refs(meta, table, meta_file) -> list[Problem]:
    out = []
    if meta.subgroup and meta.subgroup not in table.extra:
        out.append(
            Problem(
                meta_file,
                f"names a column that {os.path.basename(table.source)} does not have",
                line=meta.line_of("subgroup"),
                column="subgroup",
                value=meta.subgroup,
            )
        )
    columns = {c.strip().lower() for c in table.extra}
    for n, spec in enumerate(meta.regressions, 1):
        for mod in spec.mods:
            if mod.strip().lower() not in columns:
                out.append(
                    Problem(
                        meta_file,
                        f"names a moderator column that {os.path.basename(table.source)} does not have",
                        line=spec.line,
                        column=f"regressions[{n}].mods",
                        value=mod,
                    )
                )
    known = set(table.studies) | {t.strip() for t in table.extra.get(TRIAL_COLUMN, ()) if t.strip()}
    measure = MEASURES.get(meta.measure or "")
    for n, claim in enumerate(meta.claims, 1):
        for label in claim.studies:
            if label not in known:
                out.append(
                    Problem(
                        meta_file,
                        f"claim {claim.id!r} refers to a study that "
                        f"{os.path.basename(table.source)} does not have",
                        line=claim.line,
                        column=f"claims[{n}].studies",
                        value=label,
                    )
                )
        if claim.implied_effect is not None:
            if measure is None:
                out.append(
                    Problem(
                        meta_file,
                        "an implied effect needs the set's measure (key measure)",
                        line=claim.line,
                        column=f"claims[{n}].implied_effect",
                    )
                )
            elif not np.isfinite(to_analysis_scale(measure, np.array([claim.implied_effect]))[0]):
                out.append(
                    Problem(
                        meta_file,
                        f"not a possible {measure.name}",
                        line=claim.line,
                        column=f"claims[{n}].implied_effect",
                        value=f"{claim.implied_effect:g}",
                    )
                )
    return out
