"""Effect sizes from study tables (metafor's escalc conventions)."""
from metamg.effects.escalc import Continuity, EffectSizes, compute_effects, resolve_measure
from metamg.effects.measures import DEFAULT_MEASURE, MEASURES, Measure

__all__ = ["Continuity", "EffectSizes", "compute_effects", "resolve_measure",
           "DEFAULT_MEASURE", "MEASURES", "Measure"]
