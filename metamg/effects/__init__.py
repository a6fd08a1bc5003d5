"""Effect sizes from study tables (metafor's escalc conventions)."""

from metamg.effects.conversion import convert_wald
from metamg.effects.escalc import Continuity, EffectSizes, compute_effects, resolve_measure
from metamg.effects.measures import DEFAULT_MEASURE, MEASURES, Measure
from metamg.effects.multiarm import combine_arms, combine_groups

__all__ = [
    "Continuity",
    "EffectSizes",
    "compute_effects",
    "resolve_measure",
    "DEFAULT_MEASURE",
    "MEASURES",
    "Measure",
    "convert_wald",
    "combine_arms",
    "combine_groups",
]
