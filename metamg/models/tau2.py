"""Between-study variance (tau²) estimators for the random-effects model, one function each.

Each takes the effect sizes ``yi`` and sampling variances ``vi`` (NumPy arrays, k >= 2) and
returns tau² >= 0. Formulas as documented for metafor's ``rma.uni`` (Viechtbauer 2005,
J Educ Behav Stat 30:261-293, and the references named per estimator).
"""
from __future__ import annotations

import numpy as np

from metamg.models.roots import nonnegative_root
from metamg.models.weights import (cochran_q, dl_denominator, generalized_q, tau2_scale,
                                   weighted_mean)


def dersimonian_laird(yi, vi) -> float:
    """DL: (Q - (k-1)) / (Σw - Σw²/Σw), truncated at 0 (DerSimonian & Laird 1986, eq. 2)."""
    return max(0.0, (cochran_q(yi, vi) - (len(yi) - 1)) / dl_denominator(vi))


def hedges(yi, vi) -> float:
    """HE: unweighted method of moments, Σ(y - ȳ)²/(k-1) - mean(v), truncated at 0
    (Hedges 1983; Hedges & Olkin 1985, ch. 9)."""
    return max(0.0, float(np.sum((yi - yi.mean()) ** 2)) / (len(yi) - 1) - float(vi.mean()))


def hunter_schmidt(yi, vi) -> float:
    """HS: (Q - k) / Σw, truncated at 0 (Hunter & Schmidt 2004; Viechtbauer 2005, eq. 9)."""
    return max(0.0, (cochran_q(yi, vi) - len(yi)) / float(np.sum(1.0 / vi)))


def sidik_jonkman(yi, vi) -> float:
    """SJ: one reweighting step from tau²₀ = Σ(y - ȳ)²/k: tau²₀ · Q(tau²₀)/(k-1)
    (Sidik & Jonkman 2005, J R Stat Soc C 54:367-384, eq. 4)."""
    tau0 = float(np.sum((yi - yi.mean()) ** 2)) / len(yi)
    if tau0 == 0:
        return 0.0
    return tau0 * generalized_q(yi, vi, tau0)[0] / (len(yi) - 1)


def paule_mandel(yi, vi) -> float:
    """PM: the tau² at which the generalized Q equals its expectation k-1
    (Paule & Mandel 1982; DerSimonian & Kacker 2007, eq. 8)."""
    k = len(yi)

    def fdf(t):
        q, dq = generalized_q(yi, vi, t)
        return q - (k - 1), dq

    return _decreasing_root_from_zero(fdf, yi, vi)


def empirical_bayes(yi, vi) -> float:
    """EB: Morris's (1983) empirical Bayes estimator, the fixed point of
    tau² ← tau² + (k/(k-1)·Q(tau²) - k)/Σw (Berkey et al. 1995, eq. 7). Its fixed point is
    Q(tau²) = k-1, the Paule-Mandel equation, so both share one solver (Viechtbauer 2005)."""
    return paule_mandel(yi, vi)


def maximum_likelihood(yi, vi) -> float:
    """ML: root of the log-likelihood score ½[Σw²r² - Σw] (Hardy & Thompson 1996, eq. 3)."""

    def fdf(t):
        w = 1.0 / (vi + t)
        mu, sw = weighted_mean(yi, w)
        r = yi - mu
        w2 = w * w
        s = w2 @ (r * r) - sw
        ds = -2 * (w2 * w) @ (r * r) + 2 * (w2 @ r) ** 2 / sw + w2.sum()
        return float(s), float(ds)

    return _decreasing_root_from_zero(fdf, yi, vi)


def restricted_maximum_likelihood(yi, vi) -> float:
    """REML: root of the restricted score ½[Σw²r² - Σw + Σw²/Σw]
    (Harville 1977; Viechtbauer 2005, eq. 12)."""

    def fdf(t):
        w = 1.0 / (vi + t)
        mu, sw = weighted_mean(yi, w)
        r = yi - mu
        w2 = w * w
        sw2, sw3 = w2.sum(), (w2 * w).sum()
        s = w2 @ (r * r) - sw + sw2 / sw
        ds = (-2 * (w2 * w) @ (r * r) + 2 * (w2 @ r) ** 2 / sw + sw2
              - 2 * sw3 / sw + (sw2 / sw) ** 2)
        return float(s), float(ds)

    return _decreasing_root_from_zero(fdf, yi, vi)


def _decreasing_root_from_zero(fdf, yi, vi) -> float:
    scale = tau2_scale(yi, vi)
    return nonnegative_root(fdf, scale, x0=dersimonian_laird(yi, vi))


TAU2_ESTIMATORS = {
    "DL": dersimonian_laird,
    "HE": hedges,
    "HS": hunter_schmidt,
    "SJ": sidik_jonkman,
    "PM": paule_mandel,
    "EB": empirical_bayes,
    "ML": maximum_likelihood,
    "REML": restricted_maximum_likelihood,
}

ESTIMATOR_NAMES = {
    "DL": "DerSimonian-Laird", "HE": "Hedges", "HS": "Hunter-Schmidt", "SJ": "Sidik-Jonkman",
    "PM": "Paule-Mandel", "EB": "empirical Bayes", "ML": "maximum likelihood",
    "REML": "restricted maximum likelihood",
}
