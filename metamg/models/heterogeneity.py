"""Q-based heterogeneity shared by the common-effect, Mantel-Haenszel and Peto models."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from metamg.models.distributions import chi2_sf

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


def q_summary(q: float, df: int) -> tuple[float, float, float]:
    """p, I² and H² of a Q statistic on df degrees of freedom
    (Higgins & Thompson 2002: I² = 100·max(0, (Q - df)/Q), H² = Q/df); p = 1, I² = 0, H² = 1 at df 0."""
    if df <= 0:
        return 1.0, 0.0, 1.0
    i2 = 100 * max(0.0, (q - df) / q) if q > 0 else 0.0
    return chi2_sf(q, df), i2, q / df


def q_around(yi: ArrayLike, vi: ArrayLike, estimate: float) -> tuple[float, int, float, float, float]:
    """Q = Σ(y - estimate)²/v about a given pooled estimate, with df, p, I² and H²."""
    yi, vi = np.asarray(yi, dtype=float), np.asarray(vi, dtype=float)
    q = float(np.sum((yi - estimate) ** 2 / vi))
    df = max(len(yi) - 1, 0)
    return (q, df) + q_summary(q, df)
