"""``metamg check``: everything that can be wrong with a curated study set, found in one pass.

Schema and values (as pooling would see them), provenance columns, the same study pooled twice,
metadata, and claims that refer to studies or columns the set does not have.
"""
from __future__ import annotations

import os

import numpy as np

from metamg.analyses.pool import prepare_table
from metamg.effects import compute_effects
from metamg.effects.conversion import to_analysis_scale
from metamg.effects.measures import MEASURES
from metamg.errors import InputError, Problem
from metamg.io.metadata import metadata_path, read_metadata
from metamg.io.provenance import duplicate_problems, provenance_problems
from metamg.io.schema import TRIAL_COLUMN, read_studies


def check_study_set(csv_path) -> tuple[Problem, ...]:
    """Every problem of the study set at ``csv_path`` (empty when it is fit to ship)."""
    problems: list[Problem] = []
    meta_file = metadata_path(csv_path)
    meta = None
    try:
        meta = read_metadata(csv_path)
    except InputError as exc:
        problems += exc.problems
    if not os.path.exists(meta_file):
        problems.append(Problem(meta_file, "metadata file missing: a shipped set needs its question, "
                                "measure and claims"))
    measure = meta.measure if meta else None
    try:
        forced = MEASURES[measure].data_type if measure else None
        table = read_studies(csv_path, forced)
    except InputError as exc:
        return tuple(problems + list(exc.problems))
    problems += provenance_problems(table)
    problems += duplicate_problems(table)
    try:
        compute_effects(prepare_table(table, measure), measure)
    except InputError as exc:
        problems += exc.problems
    if meta is not None:
        problems += _metadata_refs(meta, table, meta_file)
    return tuple(sorted(problems, key=lambda p: (p.file, p.line or 0)))


def _metadata_refs(meta, table, meta_file) -> list[Problem]:
    out = []
    if meta.subgroup and meta.subgroup not in table.extra:
        out.append(Problem(meta_file, f"names a column that {os.path.basename(table.source)} does not have",
                           column="subgroup", value=meta.subgroup))
    known = set(table.studies) | {t.strip() for t in table.extra.get(TRIAL_COLUMN, ()) if t.strip()}
    measure = MEASURES.get(meta.measure or "")
    for n, claim in enumerate(meta.claims, 1):
        for label in claim.studies:
            if label not in known:
                out.append(Problem(meta_file, f"claim {claim.id!r} refers to a study that "
                                   f"{os.path.basename(table.source)} does not have",
                                   line=claim.line, column=f"claims[{n}].studies", value=label))
        if claim.implied_effect is not None:
            if measure is None:
                out.append(Problem(meta_file, "an implied effect needs the set's measure (key measure)",
                                   line=claim.line, column=f"claims[{n}].implied_effect"))
            elif not np.isfinite(to_analysis_scale(measure, np.array([claim.implied_effect]))[0]):
                out.append(Problem(meta_file, f"not a possible {measure.name}", line=claim.line,
                                   column=f"claims[{n}].implied_effect", value=f"{claim.implied_effect:g}"))
    return out
