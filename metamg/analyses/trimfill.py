"""Trim and fill (Duval & Tweedie 2000, Biometrics 56:455-463) with the L0 estimator, as
metafor's trimfill(): the side of the missing studies comes from the sign of the slope of yi on
their standard errors (negative slope: studies missing on the right), the data are flipped so
that the missing side is the left, the k0 most extreme studies are trimmed until the L0 estimate
of k0 stops changing, and their mirror images around the trimmed estimate are filled in."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metamg.errors import InputError, Problem
from metamg.models import PoolResult, fit
from metamg.models.metaregression import intercept_and, meta_regression

MAX_ITER = 100


@dataclass(frozen=True)
class TrimFill:
    k0: int
    side: str            # where the missing studies are: "left" or "right"
    filled_yi: tuple[float, ...]
    filled_vi: tuple[float, ...]
    result: PoolResult   # the model refitted with the filled studies

    def to_dict(self) -> dict:
        r = self.result
        return {"k0": self.k0, "side": self.side, "k_total": r.k, "estimate": r.estimate,
                "se": r.se, "ci_low": r.ci_low, "ci_high": r.ci_high, "statistic": r.statistic,
                "p": r.p, "tau2": r.tau2,
                "filled": [{"yi": y, "vi": v} for y, v in zip(self.filled_yi, self.filled_vi)]}


def trim_and_fill(yi, vi, method: str = "REML", level: float = 0.95, source: str = "") -> TrimFill:
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = len(yi)
    try:  # side from the Egger-type regression, as metafor (REML stands in for other estimators)
        slope = meta_regression(yi, vi, intercept_and(np.sqrt(vi)), ["intrcpt", "sei"],
                                method="FE" if method == "FE" else "REML").coefficient("sei").estimate
    except ValueError:
        raise InputError([Problem(source or "trim and fill",
                                  f"trim and fill needs more studies to choose the side ({k} given)")]) from None
    side = "right" if slope < 0 else "left"
    y = -yi if side == "right" else yi.copy()
    order = np.argsort(y, kind="stable")
    y, v = y[order], vi[order]
    k0, previous, beta = 0, -1, 0.0
    for _ in range(MAX_ITER):
        if k0 == previous:
            break
        previous = k0
        if k - k0 < 1:
            raise InputError([Problem(source or "trim and fill",
                                      "trim and fill stopped: the L0 estimator trimmed every study")])
        beta = fit(y[:k - k0], v[:k - k0], method=method, ci="wald", tau2_ci=False).estimate
        centred = y - beta
        ranks = np.empty(k)
        ranks[np.lexsort((np.arange(k), np.abs(centred)))] = np.arange(1, k + 1)  # ties: first
        s_r = float(np.sum(ranks[centred > 0]))
        k0 = max(0, int(round((4 * s_r - k * (k + 1)) / (2 * k - 1))))
    filled_y = 2 * beta - y[k - k0:] if k0 else np.empty(0)
    filled_v = v[k - k0:] if k0 else np.empty(0)
    if side == "right":
        filled_y = -filled_y
    result = fit(np.concatenate([yi, filled_y]), np.concatenate([vi, filled_v]), method=method,
                 ci="wald", level=level, tau2_ci=False)
    return TrimFill(k0, side, tuple(float(x) for x in filled_y), tuple(float(x) for x in filled_v),
                    result)


def trim_and_fill_for(analysis) -> TrimFill:
    """Trim and fill on an analysis's effects with its model: the common-effect model for FE,
    Mantel-Haenszel and Peto analyses, otherwise the analysis's tau² estimator."""
    r, es = analysis.result, analysis.effects
    method = "FE" if r.method in ("FE", "MH", "PETO") else r.method
    return trim_and_fill(es.yi, es.vi, method, r.level, es.source)
