"""Mixed-effects meta-regression: yi = Xβ + u + e, u ~ N(0, tau²), e ~ N(0, vi).

tau² by REML (Viechtbauer 2005, eq. 14 with moderators; Raudenbush 2009), solved by the shared
bracketed Newton with the exact derivative. Everything is computed in O(k·p²) without k×k
matrices, using P = W - WX(X'WX)⁻¹X'W only through traces and products with vectors.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metamg.models.distributions import chi2_sf, f_sf, norm_ppf, norm_sf, t_ppf, t_sf
from metamg.models.roots import nonnegative_root
from metamg.models.tau2 import restricted_maximum_likelihood
from metamg.models.weights import tau2_scale


@dataclass(frozen=True)
class Coefficient:
    name: str
    estimate: float
    se: float
    statistic: float
    p: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class MetaRegression:
    method: str
    ci_method: str
    k: int
    coefficients: tuple[Coefficient, ...]
    qm: float
    qm_df: int
    qm_df2: int | None      # denominator df of the F test under hk
    qm_p: float
    tau2: float
    i2: float
    h2: float
    r2: float | None        # percent of tau² explained, None when the intercept-only tau² is 0
    qe: float
    qe_df: int
    qe_p: float

    def coefficient(self, name: str) -> Coefficient:
        return next(c for c in self.coefficients if c.name == name)

    def to_dict(self) -> dict:
        return {
            "k": self.k, "coefficients": [c.__dict__.copy() for c in self.coefficients],
            "QM": self.qm, "QM_df": self.qm_df, "QM_df2": self.qm_df2, "QM_p": self.qm_p,
            "tau2": self.tau2, "I2": self.i2, "H2": self.h2, "R2": self.r2,
            "QE": self.qe, "QE_df": self.qe_df, "QE_p": self.qe_p,
            "method": self.method, "ci_method": self.ci_method,
        }

    def __str__(self) -> str:
        coefs = ", ".join(f"{c.name} {c.estimate:.4g} (p={c.p:.3g})" for c in self.coefficients)
        return (f"meta-regression ({self.method}, {self.ci_method}), k={self.k}: {coefs}; "
                f"QM={self.qm:.3f} (p={self.qm_p:.3g}); tau²={self.tau2:.4g}")


class _Weighted:
    """β̂ and the P-matrix quantities at one value of tau²."""

    def __init__(self, yi, vi, X, tau2):
        self.w = w = 1.0 / (vi + tau2)
        self.xtw = X.T * w
        self.A = np.linalg.inv(self.xtw @ X)
        self.beta = self.A @ (self.xtw @ yi)
        self.resid = yi - X @ self.beta
        self.X = X

    def p_times(self, v):
        w = self.w
        return w * v - w * (self.X @ (self.A @ (self.X.T @ (w * v))))

    def trace_p(self):
        b = (self.X.T * self.w ** 2) @ self.X
        return float(self.w.sum() - np.trace(self.A @ b)), b

    def reml_score(self):
        """(y'PPy - tr P, its derivative -2y'PPPy + tr PP), both halved away."""
        w, A, X = self.w, self.A, self.X
        py = w * self.resid
        tr_p, b = self.trace_p()
        ab = A @ b
        tr_pp = float((w ** 2).sum() - 2 * np.trace(A @ ((X.T * w ** 3) @ X)) + np.trace(ab @ ab))
        return float(py @ py) - tr_p, -2 * float(py @ self.p_times(py)) + tr_pp


def reml_tau2(yi, vi, X) -> float:
    """REML tau² of the mixed-effects model (k > p required)."""
    scale = tau2_scale(yi, vi)
    return nonnegative_root(lambda t: _Weighted(yi, vi, X, t).reml_score(), scale)


def meta_regression(yi, vi, X, names, method: str = "REML", ci: str = "wald",
                    level: float = 0.95) -> MetaRegression:
    """Fit yi on the columns of X (the first must be the intercept).

    ci "wald": z tests and an omnibus chi-square QM; "hk": Knapp & Hartung (2003) t(k-p) tests
    and an F(m, k-p) omnibus test, the variance factor not truncated (metafor's test="knha").
    QE tests residual heterogeneity (common-effect weights); I² and H² use the typical
    variance (k-p)/tr(P₀); R² is the proportional reduction of tau² against the intercept-only
    model (Raudenbush 2009).
    """
    yi, vi, X = np.asarray(yi, float), np.asarray(vi, float), np.asarray(X, float)
    k, p = X.shape
    if k < p or (k == p and method != "FE"):  # FE with k = p is an exact fit; tau² needs more
        raise ValueError(f"{p} coefficients cannot be estimated from {k} studies")
    if np.linalg.matrix_rank(X) < p:
        raise ValueError("the moderators are collinear (a column is a combination of others)")
    tau2 = 0.0 if method == "FE" else reml_tau2(yi, vi, X)
    fit = _Weighted(yi, vi, X, tau2)
    df = k - p
    vcov = fit.A
    if ci == "hk" and df > 0:
        s2 = float(fit.w @ fit.resid ** 2) / df
        vcov = s2 * vcov
        crit = t_ppf(1 - (1 - level) / 2, df)
    else:
        crit = norm_ppf(1 - (1 - level) / 2)
    se = np.sqrt(np.diag(vcov))
    coefs = []
    for name, b, s in zip(names, fit.beta, se):
        stat = b / s
        pval = 2 * (t_sf(abs(stat), df) if ci == "hk" else norm_sf(abs(stat)))
        coefs.append(Coefficient(name, float(b), float(s), float(stat), float(pval),
                                 float(b - crit * s), float(b + crit * s)))
    m = p - 1
    if m > 0:
        bm = fit.beta[1:]
        qm = float(bm @ np.linalg.solve(vcov[1:, 1:], bm))
        if ci == "hk":
            qm, qm_p, qm_df2 = qm / m, f_sf(qm / m, m, df), df
        else:
            qm_p, qm_df2 = chi2_sf(qm, m), None
    else:
        qm, qm_p, qm_df2 = 0.0, 1.0, (df if ci == "hk" else None)
    common = _Weighted(yi, vi, X, 0.0)
    qe = float(common.w @ common.resid ** 2)
    tr_p0, _ = common.trace_p()
    vt = df / tr_p0 if df > 0 else 0.0
    r2 = None
    if method != "FE":
        tau2_0 = restricted_maximum_likelihood(yi, vi)
        if tau2_0 > 0:
            r2 = max(0.0, 100 * (tau2_0 - tau2) / tau2_0)
    return MetaRegression(
        method=method, ci_method=ci, k=k, coefficients=tuple(coefs), qm=qm, qm_df=m,
        qm_df2=qm_df2, qm_p=qm_p, tau2=tau2,
        i2=100 * tau2 / (tau2 + vt) if tau2 > 0 else 0.0, h2=(tau2 + vt) / vt if vt > 0 else 1.0,
        r2=r2, qe=qe, qe_df=df, qe_p=chi2_sf(qe, df) if df > 0 else 1.0)



def intercept_and(*columns) -> np.ndarray:
    k = len(columns[0])
    return np.column_stack([np.ones(k), *columns])
