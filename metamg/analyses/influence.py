"""Outlier and influence diagnostics for the pooled model (metafor's influence.rma.uni;
Viechtbauer & Cheung 2010, Res Synth Methods 1:112-125), from leave-one-out refits."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from metamg.analyses.pool import PoolAnalysis
from metamg.analyses.sensitivity import leave_one_out
from metamg.models.deletion import SubsetFits
from metamg.models.display import frame, html_table, num, one_line, pct
from metamg.models.distributions import chi2_cdf, chi2_ppf
from metamg.models.results import _num

# metafor sets residuals below 100 machine epsilons to exactly 0 (rounding noise, not a residual)
RESID_ZERO = 100 * np.finfo(float).eps


@dataclass(frozen=True)
class Influence:
    study: str
    rstudent: float  # externally standardized residual
    dffits: float
    cook_d: float
    cov_r: float
    tau2_del: float
    QE_del: float
    hat: float  # proportion
    weight: float  # percent
    dfbetas: float
    influential: bool

    def to_dict(self) -> dict:
        """JSON-ready: undefined values (0/0 when a Knapp-Hartung factor is 0) become None."""
        return {k: _num(v) if isinstance(v, float) else v for k, v in asdict(self).items()}


COLUMNS = (
    "study",
    "rstudent",
    "dffits",
    "cook_d",
    "cov_r",
    "tau2_del",
    "QE_del",
    "hat",
    "weight",
    "dfbetas",
    "influential",
)


class InfluenceTable(tuple):
    """The influence diagnostics, one Influence per study (a tuple, as before), shown as a table."""

    @property
    def influential(self) -> tuple[str, ...]:
        """The studies flagged by any of metafor's cut-offs."""
        return tuple(row.study for row in self if row.influential)

    def to_dict(self) -> dict:
        return {"rows": [row.to_dict() for row in self]}

    def __repr__(self) -> str:
        flagged = self.influential
        names = ", ".join(repr(s) for s in flagged[:5])
        if len(flagged) > 5:
            names += f" and {len(flagged) - 5} more"
        return one_line(
            f"InfluenceTable({len(self)} studies, {len(flagged)} influential"
            + (f": {names})" if flagged else ")")
        )

    def _repr_html_(self) -> str:
        rows = [
            (
                r.study,
                num(r.rstudent, 3),
                num(r.dffits, 3),
                num(r.cook_d, 3),
                num(r.cov_r, 3),
                num(r.tau2_del, 3),
                num(r.QE_del, 4),
                num(r.hat, 3),
                pct(r.weight),
                num(r.dfbetas, 3),
                "*" if r.influential else "",
            )
            for r in self
        ]
        return html_table(
            COLUMNS,
            rows,
            "Influence diagnostics (metafor's influence.rma.uni)",
            ["* influential by metafor's cut-offs"] if self.influential else [],
        )

    def to_frame(self):
        """One row per study: to_dict()'s diagnostics (undefined values as NaN)."""
        return frame(self.to_dict()["rows"], columns=COLUMNS)


def influence(analysis: PoolAnalysis, loo=None) -> InfluenceTable:
    """Per study: how far it lies from the model fitted without it, and how much deleting it moves
    the pooled estimate (DFFITS, Cook's distance, DFBETAS), its precision (covariance ratio) and
    the heterogeneity (tau² and QE after deletion). ``loo``: the analysis's leave_one_out()
    refits, when the caller has them; each refit uses the analysis's own method and CI rule.

    Inverse-variance models, as metafor's influence.rma.uni (p = 1 coefficient): with s²₍₋ᵢ₎ the
    Knapp-Hartung factor of the refit without study i (1 under Wald; at least 1 under the ad hoc
    correction),
      rstudent = (yᵢ - θ̂₍₋ᵢ₎) / sqrt(s²₍₋ᵢ₎(vᵢ + tau²₍₋ᵢ₎) + Var(θ̂₍₋ᵢ₎)),
      DFFITS   = (θ̂ - θ̂₍₋ᵢ₎) / sqrt(s²₍₋ᵢ₎·hᵢ·(vᵢ + tau²₍₋ᵢ₎)),
      DFBETAS  = (θ̂ - θ̂₍₋ᵢ₎) / sqrt(s²₍₋ᵢ₎ / Σⱼ 1/(vⱼ + tau²₍₋ᵢ₎)),   (all k studies)
      Cook's D = (θ̂ - θ̂₍₋ᵢ₎)² / Var(θ̂),  COVRATIO = Var(θ̂₍₋ᵢ₎) / Var(θ̂),
    the variances being the models' own (Knapp-Hartung scaled when the CI is). A study is
    flagged, as in metafor, when |DFFITS| > 3·sqrt(p/(k-p)), Cook's distance exceeds the median
    of chi²(p), the hat value exceeds 3p/k, or |DFBETAS| > 1.

    Mantel-Haenszel and Peto models: metafor has only rstudent (rstudent.rma.mh/.peto), from the
    per-study effects those models use for Q (escalc's, or Peto's (O-E)/V, double-zero tables
    left out): (yᵢ - θ̂₍₋ᵢ₎)/sqrt(vᵢ + Var(θ̂₍₋ᵢ₎)). The other columns follow influence.rma.uni's
    definitions with the model's own variance, tau² = 0 and s² = 1 (so DFFITS = DFBETAS =
    (θ̂ - θ̂₍₋ᵢ₎)/SE(θ̂)); the hat value is the study's share of the weight. Double-zero tables
    have no effect and no row, as in metafor.
    """
    r = analysis.result
    if r.model == "inverse-variance":
        if loo is None and analysis.effects.k > 1:
            loo = leave_one_out(analysis)
        fits = getattr(loo, "fits", None)  # a plain tuple of refits is read one refit at a time
        if fits is not None:
            return _inverse_variance_influence(analysis, fits)
        yi, vi = analysis.effects.yi, analysis.effects.vi
    else:
        yi, vi = r.yi, r.vi
    studies = analysis.effects.studies
    k, p = len(studies), 1
    out = []
    for i, refit in enumerate(loo if loo is not None else leave_one_out(analysis)):
        if not np.isfinite(yi[i]):
            continue
        d = refit.analysis.result
        hat = r.weights[i] / 100
        tau2_del = d.tau2 if d.tau2 is not None else 0.0
        s2_del = d.hk_scale
        resid = float(yi[i] - d.estimate)
        if abs(resid) < RESID_ZERO:
            resid = 0.0
        rstudent = _ratio(resid, math.sqrt(s2_del * (vi[i] + tau2_del) + d.se**2))
        change = r.estimate - d.estimate
        if r.model == "inverse-variance":
            var_fitted = s2_del * hat * (tau2_del + vi[i])
            var_full_at_del = s2_del / float(np.sum(1 / (analysis.effects.vi + tau2_del)))
        else:
            var_fitted = var_full_at_del = r.se**2
        dffits = _ratio(change, math.sqrt(var_fitted))
        dfbetas = _ratio(change, math.sqrt(var_full_at_del))
        cook = _ratio(change**2, r.se**2)
        flagged = (
            abs(dffits) > 3 * math.sqrt(p / (k - p))
            or chi2_cdf(cook, p) > 0.5
            or hat > 3 * p / k
            or abs(dfbetas) > 1
        )
        out.append(
            Influence(
                studies[i],
                rstudent,
                dffits,
                cook,
                _ratio(d.se**2, r.se**2),
                tau2_del,
                d.q,
                hat,
                float(r.weights[i]),
                dfbetas,
                bool(flagged),
            )
        )
    return InfluenceTable(out)


def _inverse_variance_influence(analysis: PoolAnalysis, fits: SubsetFits) -> InfluenceTable:
    """influence() for an inverse-variance model from its leave-one-out fits, all studies at
    once (the same formulas, with the same conventions for zero denominators)."""
    r = analysis.result
    yi, vi = analysis.effects.yi, analysis.effects.vi
    k, p = len(yi), 1
    hat = np.asarray(r.weights, dtype=float) / 100
    tau2_del, s2_del, est_del, se_del = fits.tau2, fits.hk_scale, fits.estimate, fits.se
    resid = yi - est_del
    resid = np.where(np.abs(resid) < RESID_ZERO, 0.0, resid)
    rstudent = _ratios(resid, np.sqrt(s2_del * (vi + tau2_del) + se_del**2))
    change = r.estimate - est_del
    dffits = _ratios(change, np.sqrt(s2_del * hat * (tau2_del + vi)))
    # Σ over all k studies at tau²₍₋ᵢ₎: the refit's own Σw plus study i's weight
    dfbetas = _ratios(change, np.sqrt(s2_del / (fits.weight_sum + 1.0 / (vi + tau2_del))))
    cook = _ratios(change**2, np.full(k, r.se**2))
    cov_r = _ratios(se_del**2, np.full(k, r.se**2))
    median = chi2_ppf(0.5, p)  # chi2_cdf(cook, p) > 0.5, asked of the scalar function near the median
    near = ~(np.abs(cook - median) > 1e-9 * median) | ~np.isfinite(cook)
    above_median = cook > median
    above_median[near] = [chi2_cdf(c, p) > 0.5 for c in cook[near].tolist()]
    flagged = (
        (np.abs(dffits) > 3 * math.sqrt(p / (k - p)))
        | above_median
        | (hat > 3 * p / k)
        | (np.abs(dfbetas) > 1)
    )
    weight = np.asarray(r.weights, dtype=float)
    return InfluenceTable(
        map(
            Influence,
            analysis.effects.studies,
            rstudent.tolist(),
            dffits.tolist(),
            cook.tolist(),
            cov_r.tolist(),
            tau2_del.tolist(),
            fits.q.tolist(),
            hat.tolist(),
            weight.tolist(),
            dfbetas.tolist(),
            flagged.tolist(),
        )
    )


def _ratios(num, den):
    """``_ratio`` element by element."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    zero = den == 0
    out[zero] = np.where(num[zero] != 0, np.copysign(np.inf, num[zero]), np.nan)
    return out


def _ratio(num: float, den: float) -> float:
    """num/den with R's conventions for a zero denominator (a zero Knapp-Hartung factor or
    standard error): ±inf, or NaN for 0/0."""
    if den != 0:
        return num / den
    return math.copysign(math.inf, num) if num != 0 else math.nan


@dataclass(frozen=True)
class BaujatPoint:
    study: str
    contribution: float  # to Cochran's Q: (yi - θ)² / vi
    influence: float  # on the pooled result: (θ - θ₍₋ᵢ₎)² / var(θ₍₋ᵢ₎)


def baujat_points(analysis: PoolAnalysis) -> tuple[BaujatPoint, ...]:
    """Baujat et al. (2002, Stat Med 21:2641-52), on the common-effect model as metafor's baujat:
    each study's contribution to heterogeneity against its influence on the pooled estimate.
    The common-effect fit without study i is closed-form (θ₍₋ᵢ₎ = (Σwy - wᵢyᵢ)/(Σw - wᵢ),
    var = 1/(Σw - wᵢ), w = 1/v), so all k deletions take O(k)."""
    es = analysis.effects
    yi, vi = np.asarray(es.yi, float), np.asarray(es.vi, float)
    w = 1 / vi
    sw, swy = w.sum(), w @ yi
    theta = swy / sw
    rest = sw - w
    with np.errstate(divide="ignore", invalid="ignore"):  # one study: nothing left when deleted
        theta_del = (swy - w * yi) / rest
        influence_ = (theta - theta_del) ** 2 * rest
    contribution = (yi - theta) ** 2 / vi
    return tuple(
        BaujatPoint(s, float(c), float(i))
        for s, c, i in zip(es.studies, contribution, influence_, strict=True)
    )
