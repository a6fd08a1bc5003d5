"""Results a study set records as reported (an effect with its confidence interval) for studies
it does not pool: review-level results, other outcomes. They are re-expressed at the analysis's
confidence level, as metafor's conv.wald does, so that a reader can set them beside the pooled
result."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metamg.effects.conversion import convert_wald, z_for_level
from metamg.effects.measures import MEASURES

DEFAULT_STATED_LEVEL = 95.0  # a blank ci_level means a 95% interval


@dataclass(frozen=True)
class ReportedResult:
    """One not-pooled study's result as reported, and on the natural scale at ``level``."""

    study: str
    line: int
    measure: str  # the row's effect_measure, else the set's; "" when unknown
    effect: float | None
    ci_low: float
    ci_high: float
    stated_level: float  # percent, as reported
    converted: tuple[float, float, float] | None  # estimate and CI at ``level``; None: measure unknown
    level: float


def reported_not_pooled(table, measure, level: float = 0.95) -> tuple[ReportedResult, ...]:
    """Every not-estimable study of ``table`` that gives an effect's confidence interval."""
    v = table.values
    if "effect" not in v or "ci_low" not in v:
        return ()
    index = {line: i for i, line in enumerate(table.lines)}
    row_measures = table.extra.get("effect_measure")
    z = float(z_for_level(level))
    out = []
    for e in table.not_estimable:
        i = index[e.line]
        eff, lo, hi = v["effect"][i], v["ci_low"][i], v["ci_high"][i]
        if np.isnan(lo) or np.isnan(hi):
            continue
        code = (row_measures[i].strip().upper() if row_measures is not None else "") or (
            measure.name if measure else ""
        )
        stated = (
            v["ci_level"][i] if "ci_level" in v and not np.isnan(v["ci_level"][i]) else DEFAULT_STATED_LEVEL
        )
        m = MEASURES.get(code)
        converted: tuple[float, float, float] | None = None
        if m is not None:
            conv = convert_wald(
                m, np.array([eff]), np.array([lo]), np.array([hi]), np.array([stated]), np.array([np.nan])
            )
            y, se = float(conv.yi[0]), math.sqrt(conv.vi[0])
            nat = m.to_natural
            converted = (float(nat(y)), float(nat(y - z * se)), float(nat(y + z * se)))
        out.append(
            ReportedResult(
                e.study,
                e.line,
                m.name if m else code,
                None if np.isnan(eff) else float(eff),
                float(lo),
                float(hi),
                float(stated),
                converted,
                level,
            )
        )
    return tuple(out)
