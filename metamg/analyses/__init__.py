"""Analyses built on the models: pooling (more to come: subgroups, regression, sensitivity, bias)."""

from metamg.analyses.pool import PoolAnalysis, StudyRow, pool

__all__ = ["PoolAnalysis", "StudyRow", "pool"]
