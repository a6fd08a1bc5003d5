"""Inverse-variance quantities shared by the estimators, the Q-profile and the pooled fit.

All for the intercept-only model; every function is O(k) and vectorised.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


def weighted_mean(yi: NDArray[np.float64], w: NDArray[np.float64]) -> tuple[float, float]:
    """Σwy/Σw and Σw."""
    sw = w.sum()
    return float(w @ yi / sw), float(sw)


def generalized_q(yi: NDArray[np.float64], vi: NDArray[np.float64], tau2: float) -> tuple[float, float]:
    """Q(tau²) = Σ w(y - μ̂)² with w = 1/(v + tau²), and its derivative -Σ w²(y - μ̂)²
    (μ̂ minimises Q, so its own derivative drops out)."""
    w = 1.0 / (vi + tau2)
    mu, _ = weighted_mean(yi, w)
    wr2 = w * (yi - mu) ** 2
    return float(wr2.sum()), float(-(w @ wr2))


def generalized_q_many(
    yi: NDArray[np.float64], vi: NDArray[np.float64], tau2: NDArray[np.float64]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """``generalized_q`` at several values of tau² in one pass over the studies (memory: one
    row of k per value)."""
    w = 1.0 / (vi[None, :] + np.asarray(tau2, dtype=float)[:, None])
    mu = (w @ yi) / w.sum(axis=1)
    wr2 = w * (yi[None, :] - mu[:, None]) ** 2
    q: NDArray[np.float64] = wr2.sum(axis=1)
    dq: NDArray[np.float64] = -np.einsum("ij,ij->i", w, wr2)
    return q, dq


def cochran_q(yi: NDArray[np.float64], vi: NDArray[np.float64]) -> float:
    """Cochran's Q: the generalized Q at tau² = 0."""
    return generalized_q(yi, vi, 0.0)[0]


def spread_of_weights(w: ArrayLike) -> float:
    """Σw - Σw²/Σw (the trace of P for the intercept-only model: DerSimonian and Laird's
    denominator and the typical variance's), computed as Σ wᵢ(S - wᵢ)/S with S = Σw, where
    S - wᵢ of the heaviest study is the sum of the other weights: subtracting a weight close to
    S from S would lose as many digits as the weights span (10¹⁴ apart: two left)."""
    w = np.asarray(w, dtype=float)
    total = float(w.sum())
    rest = total - w
    heaviest = int(np.argmax(w))
    rest[heaviest] = float(w[:heaviest].sum()) + float(w[heaviest + 1 :].sum())  # no copy of w
    return float(w @ rest) / total


def typical_variance(vi: NDArray[np.float64]) -> float:
    """The 'typical' within-study variance (k-1)/(Σw - Σw²/Σw), w = 1/v
    (Higgins & Thompson 2002, eq. 9), which turns tau² into I² and H² as metafor does."""
    denom = spread_of_weights(1.0 / np.asarray(vi, dtype=float))
    return (len(vi) - 1) / denom if denom > 0 else 0.0


def tau2_scale(yi: NDArray[np.float64], vi: NDArray[np.float64]) -> float:
    """A tau² of the data's own order of magnitude, from which root brackets are widened."""
    return max(float(np.var(yi)), float(np.mean(vi)))


# metafor treats a Knapp-Hartung residual sum of squares at or below machine epsilon as 0
RSS_ZERO = float(np.finfo(float).eps)


def knapp_hartung_scale(rss: float, df: int, ci_method: str) -> float:
    """The factor s² = Σw(y - ŷ)²/df that Hartung & Knapp (2001) and Sidik & Jonkman (2002)
    put on the variance of the estimate (ci_method "hk", metafor's test="knha"), 0 when the weighted
    residuals vanish as in metafor; under the ad hoc correction ("hk-adhoc", test="adhoc";
    Knapp & Hartung 2003) at least 1; 1 for Wald ("wald")."""
    if ci_method == "wald":
        return 1.0
    s2 = 0.0 if rss <= RSS_ZERO else rss / df
    return max(1.0, s2) if ci_method == "hk-adhoc" else s2
