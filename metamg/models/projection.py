"""Weighted least squares at a given tau², for y = Xβ + u + e with u ~ N(0, tau²), e ~ N(0, v).

Every tau² estimator, the meta-regression and the pooled fit need the same few quantities of
P = W - WX(X'WX)⁻¹X'W (W = diag(1/(v + tau²))): y'Py, y'PPy, y'PPPy, tr(P), tr(PP). They are
formed through products of P with vectors and p x p matrices only, so the cost is O(k·p²) in
time and O(k·p) in memory: no k x k matrix is ever built (Viechtbauer 2005, J Educ Behav Stat
30:261-293, section 3, writes the estimators in terms of P; Raudenbush 2009, ch. 16 in The
Handbook of Research Synthesis, gives the moderator forms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from metamg.models.weights import spread_of_weights

if TYPE_CHECKING:
    from numpy.typing import NDArray


class WeightedFit:
    """β̂ = (X'WX)⁻¹X'Wy and the P-matrix quantities at one value of tau²."""

    def __init__(
        self, yi: NDArray[np.float64], vi: NDArray[np.float64], X: NDArray[np.float64], tau2: float
    ) -> None:
        self.X = X
        self.w = w = 1.0 / (vi + tau2)
        self.xtw: NDArray[np.float64] = X.T * w  # (numpy's stubs type X.T * w as Any)
        self._a: NDArray[np.float64] = np.linalg.inv(self.xtw @ X)  # (X'WX)⁻¹, the variance of β̂
        self._beta: NDArray[np.float64] = self._a @ (self.xtw @ yi)
        self.resid = yi - X @ self._beta
        self.py = w * self.resid  # Py: P annihilates X, so Py = W(y - Xβ̂)
        self._trace_p: float | None = None

    # read-only properties, so that InterceptFit can compute them only when asked
    @property
    def beta(self) -> NDArray[np.float64]:
        """β̂ = (X'WX)⁻¹X'Wy."""
        return self._beta

    @property
    def A(self) -> NDArray[np.float64]:
        """(X'WX)⁻¹, the variance of β̂."""
        return self._a

    def p_times(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        w = self.w
        pv: NDArray[np.float64] = w * v - w * (self.X @ (self.A @ (self.X.T @ (w * v))))
        return pv

    def rss(self) -> float:
        """y'Py = Σw(y - Xβ̂)², the generalized Q at this tau² (QE at tau² = 0)."""
        return float(self.py @ self.resid)

    def yppy(self) -> float:
        return float(self.py @ self.py)

    def ypppy(self) -> float:
        return float(self.py @ self.p_times(self.py))

    def _b(self, power: int) -> NDArray[np.float64]:
        b: NDArray[np.float64] = (self.X.T * self.w**power) @ self.X
        return b

    def trace_p(self) -> float:
        """tr(P) = Σw - tr((X'WX)⁻¹X'W²X), computed once per fit."""
        if self._trace_p is None:
            self._trace_p = self._compute_trace_p()
        return self._trace_p

    def _compute_trace_p(self) -> float:
        return float(self.w.sum() - np.trace(self.A @ self._b(2)))

    def trace_pp(self) -> float:
        """tr(PP) = Σw² - 2·tr(A·X'W³X) + tr(A·X'W²X·A·X'W²X), A = (X'WX)⁻¹."""
        ab = self.A @ self._b(2)
        return float((self.w**2).sum() - 2 * np.trace(self.A @ self._b(3)) + np.trace(ab @ ab))


class InterceptFit(WeightedFit):
    """The same quantities for the intercept-only model (X a column of ones), written as sums:
    β̂ = Σwy/Σw, tr(P) = Σw - Σw²/Σw, tr(PP) = Σw² - 2Σw³/Σw + (Σw²/Σw)². Two to three times
    faster than the matrix forms, which matters for the many refits of the sensitivity analyses."""

    def __init__(self, yi: NDArray[np.float64], vi: NDArray[np.float64], tau2: float) -> None:
        self.w = w = 1.0 / (vi + tau2)
        self.sw = sw = float(w.sum())
        self.mu = float(w @ yi) / sw
        self.resid = yi - self.mu
        self.py = w * self.resid
        self._trace_p = None

    @property
    def beta(self) -> NDArray[np.float64]:
        return np.array([self.mu])

    @property
    def A(self) -> NDArray[np.float64]:
        return np.array([[1.0 / self.sw]])

    def p_times(self, v: NDArray[np.float64]) -> NDArray[np.float64]:
        return self.w * v - self.w * (float(self.w @ v) / self.sw)

    def ypppy(self) -> float:
        wu = self.w * self.py
        return float(wu @ self.py) - float(wu.sum()) ** 2 / self.sw

    def _compute_trace_p(self) -> float:
        return spread_of_weights(self.w)

    def trace_pp(self) -> float:
        w2 = self.w * self.w
        s2 = float(w2.sum())
        return s2 - 2 * float(w2 @ self.w) / self.sw + (s2 / self.sw) ** 2


def weighted_fit(
    yi: NDArray[np.float64], vi: NDArray[np.float64], X: NDArray[np.float64] | None, tau2: float
) -> WeightedFit:
    """The fit at tau² for design X (None: intercept only)."""
    return InterceptFit(yi, vi, tau2) if X is None else WeightedFit(yi, vi, X, tau2)


def n_coefficients(X: NDArray[np.float64] | None) -> int:
    return 1 if X is None else X.shape[1]


def ols_residual_terms(
    yi: NDArray[np.float64], vi: NDArray[np.float64], X: NDArray[np.float64] | None
) -> tuple[float, float]:
    """Unweighted least squares: the residual sum of squares y'(I - H)y and tr((I - H)V),
    H = X(X'X)⁻¹X' (its diagonal only; 1/k for the intercept only), for the Hedges estimator."""
    if X is None:
        resid = yi - yi.mean()
        return float(resid @ resid), float(vi.sum()) * (1 - 1 / len(yi))
    xtx_inv = np.linalg.inv(X.T @ X)
    beta = xtx_inv @ (X.T @ yi)
    resid = yi - X @ beta
    hat = np.einsum("ij,jk,ik->i", X, xtx_inv, X)
    return float(resid @ resid), float(vi @ (1.0 - hat))


class BatchedFit:
    """``WeightedFit`` for many designs at once: fit b has design ``X[b]`` (n x k x p) and its
    own tau² ``tau2[b]``, over the same effects ``yi`` and variances ``vi`` (the permutations
    of a meta-regression's moderators). Every quantity is an array over the fits, computed with
    the same formulas as ``WeightedFit``; memory n·k·p, so callers pass blocks of fits."""

    def __init__(
        self,
        yi: NDArray[np.float64],
        vi: NDArray[np.float64],
        X: NDArray[np.float64],
        tau2: NDArray[np.float64],
    ) -> None:
        self.X = X
        self.w = w = 1.0 / (vi[None, :] + tau2[:, None])
        self.xw: NDArray[np.float64] = X * w[:, :, None]
        self.A: NDArray[np.float64] = np.linalg.inv(np.einsum("nkp,nkq->npq", self.xw, X))
        self.beta: NDArray[np.float64] = np.einsum("npq,nq->np", self.A, np.einsum("nkp,k->np", self.xw, yi))
        self.resid: NDArray[np.float64] = yi[None, :] - np.einsum("nkp,np->nk", X, self.beta)
        self.py: NDArray[np.float64] = w * self.resid

    def rss(self) -> NDArray[np.float64]:
        out: NDArray[np.float64] = np.einsum("nk,nk->n", self.py, self.resid)
        return out

    def yppy(self) -> NDArray[np.float64]:
        out: NDArray[np.float64] = np.einsum("nk,nk->n", self.py, self.py)
        return out

    def ypppy(self) -> NDArray[np.float64]:
        w, py = self.w, self.py
        z = np.einsum("npq,nq->np", self.A, np.einsum("nkp,nk->np", self.xw, py))
        ppy = w * py - w * np.einsum("nkp,np->nk", self.X, z)
        out: NDArray[np.float64] = np.einsum("nk,nk->n", py, ppy)
        return out

    def _ab(self, power: int) -> NDArray[np.float64]:
        """A·X'W^power·X for each fit."""
        b = np.einsum("nkp,nkq->npq", self.X * (self.w ** (power - 1))[:, :, None], self.xw)
        out: NDArray[np.float64] = self.A @ b
        return out

    def trace_p(self) -> NDArray[np.float64]:
        out: NDArray[np.float64] = self.w.sum(axis=1) - np.trace(self._ab(2), axis1=1, axis2=2)
        return out

    def trace_pp(self) -> NDArray[np.float64]:
        ab = self._ab(2)
        out: NDArray[np.float64] = (
            (self.w**2).sum(axis=1)
            - 2 * np.trace(self._ab(3), axis1=1, axis2=2)
            + np.einsum("npq,nqp->n", ab, ab)
        )
        return out
