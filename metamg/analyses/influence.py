"""Outlier and influence diagnostics for the pooled model (metafor's influence.rma.uni;
Viechtbauer & Cheung 2010, Res Synth Methods 1:112-125), from leave-one-out refits."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from metamg.analyses.pool import PoolAnalysis
from metamg.analyses.sensitivity import leave_one_out
from metamg.models.distributions import chi2_cdf


@dataclass(frozen=True)
class Influence:
    study: str
    rstudent: float   # externally standardized residual
    dffits: float
    cook_d: float
    cov_r: float
    tau2_del: float
    QE_del: float
    hat: float        # proportion
    weight: float     # percent
    dfbetas: float
    influential: bool

    def to_dict(self) -> dict:
        return asdict(self)


def influence(analysis: PoolAnalysis, loo=None) -> tuple[Influence, ...]:
    """Per study: how far it lies from the model fitted without it, and how much deleting it moves
    the pooled estimate (DFFITS, Cook's distance, DFBETAS), its precision (covariance ratio) and
    the heterogeneity (tau² and QE after deletion). A study is flagged as influential, as in
    metafor, when |DFFITS| > 3·sqrt(p/(k-p)), Cook's distance exceeds the median of chi²(p), the
    hat value exceeds 3p/k, or |DFBETAS| > 1 (p = 1 coefficient here). DFBETAS divides the change
    in the estimate by its standard error from all k studies weighted with tau² after deletion,
    as metafor does. ``loo``: the analysis's leave_one_out() refits, when the caller has them."""
    r = analysis.result
    es = analysis.effects
    k, p = es.k, 1
    out = []
    for i, refit in enumerate(loo if loo is not None else leave_one_out(analysis)):
        d = refit.analysis.result
        hat = r.weights[i] / 100
        tau2_del = d.tau2 if d.tau2 is not None else 0.0
        resid = float(es.yi[i] - d.estimate)
        rstudent = resid / math.sqrt(es.vi[i] + tau2_del + d.se ** 2)
        change = r.estimate - d.estimate
        dffits = change / math.sqrt(hat * (tau2_del + es.vi[i]))
        cook = change ** 2 / r.se ** 2
        # standardized by the variance of the full-data estimate at the deleted tau²
        dfbetas = change / math.sqrt(1 / float(np.sum(1 / (es.vi + tau2_del))))
        flagged = (abs(dffits) > 3 * math.sqrt(p / (k - p)) or chi2_cdf(cook, p) > 0.5
                   or hat > 3 * p / k or abs(dfbetas) > 1)
        out.append(Influence(es.studies[i], rstudent, dffits, cook, d.se ** 2 / r.se ** 2,
                             tau2_del, d.q, hat, float(r.weights[i]), dfbetas, bool(flagged)))
    return tuple(out)
