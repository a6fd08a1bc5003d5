"""Pooling models: inverse-variance (common and random effects), Mantel-Haenszel and Peto."""

from metamg.models.inverse_variance import fit
from metamg.models.mantel_haenszel import mantel_haenszel, peto
from metamg.models.profiles import DEFAULT_PROFILE, PROFILES
from metamg.models.qprofile import q_profile
from metamg.models.results import PoolResult
from metamg.models.tau2 import TAU2_ESTIMATORS
from metamg.vocabulary import CI_METHODS, COMMON_EFFECT, PI_RULES

__all__ = [
    "CI_METHODS",
    "COMMON_EFFECT",
    "PI_RULES",
    "fit",
    "mantel_haenszel",
    "peto",
    "DEFAULT_PROFILE",
    "PROFILES",
    "q_profile",
    "PoolResult",
    "TAU2_ESTIMATORS",
]
