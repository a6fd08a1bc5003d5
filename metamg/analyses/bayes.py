"""Bayesian random-effects meta-analysis of a pooled analysis (``metamg bayes``).

The normal-normal hierarchical model of ``metamg.models.bayes`` on the analysis's
inverse-variance effects (yi, vi on the analysis scale: log for ratios), with a stated prior for
tau (default by measure: Röver et al. 2021) and for mu (default flat), and the probabilities a
reader asks for: P(mu < c), P(theta_new < c) for each threshold c, P(tau > x) for each x.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from metamg.effects.measures import MEASURES
from metamg.errors import InputError, Problem
from metamg.models import bayes as model
from metamg.models.display import frame, html_table, interval, num, one_line
from metamg.notes import Note, note

if TYPE_CHECKING:
    import pandas as pd

    from metamg.analyses.pool import PoolAnalysis

SUMMARY_FIELDS = model.SUMMARY_FIELDS


@dataclass(frozen=True)
class Probability:
    """P(parameter < threshold) for mu and theta_new, P(tau > threshold) for tau."""

    parameter: str  # "mu", "theta_new" or "tau"
    threshold: float
    p: float

    def to_dict(self) -> dict[str, object]:
        key = "p_above" if self.parameter == "tau" else "p_below"
        return {"parameter": self.parameter, "threshold": self.threshold, key: self.p}


@dataclass(frozen=True)
class BayesAnalysis:
    """The posterior summaries of a Bayesian random-effects meta-analysis, with the priors
    used (``tau_prior_note``, ``mu_prior_note``: what, and whether it was the default)."""

    source: str
    measure: str
    studies: tuple[str, ...]
    fit: model.BayesFit
    probabilities: tuple[Probability, ...]
    tau_prior_note: Note
    mu_prior_note: Note
    title: str = ""  # the study set's title (figures)
    favours: tuple[str, str] = ("favours treatment", "favours control")  # below the forest's axis
    uisd: float | None = None  # unit-information SD (analysis scale), when every study gives its size

    @property
    def k(self) -> int:
        return self.fit.k

    @property
    def notes(self) -> tuple[Note, ...]:
        """Why a value is missing (moments that do not exist, a mode that is not unique)."""
        return self.fit.notes

    def to_dict(self) -> dict[str, Any]:
        f = self.fit
        return {
            "k": f.k,
            "measure": self.measure,
            "tau_prior": self.tau_prior_note.to_dict(),
            "mu_prior": self.mu_prior_note.to_dict(),
            "log_marginal_likelihood": f.log_marginal_likelihood,
            "tau": f.tau.to_dict(),
            "mu": f.mu.to_dict(),
            "theta_new": f.theta_new.to_dict(),
            "shrinkage": [
                {"study": s, **row.to_dict()} for s, row in zip(self.studies, f.shrinkage, strict=True)
            ],
            "probabilities": [p.to_dict() for p in self.probabilities],
            "notes": [n.to_dict() for n in f.notes],
            "uisd": self.uisd,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per distribution: tau, mu, theta_new, then each study's shrinkage estimate."""
        f = self.fit
        rows = [("tau", f.tau), ("mu", f.mu), ("theta_new", f.theta_new)]
        rows += list(zip(self.studies, f.shrinkage, strict=True))
        return frame(
            ({"parameter": name, **s.to_dict()} for name, s in rows), columns=("parameter", *SUMMARY_FIELDS)
        )

    def __repr__(self) -> str:
        f = self.fit
        return one_line(
            f"<BayesAnalysis {self.measure} k={f.k}: mu {num(f.mu.median)} "
            f"95% CrI {interval(f.mu.q025, f.mu.q975)}, tau {num(f.tau.median)}; "
            f"tau ~ {f.tau_prior.spec}, mu ~ {f.mu_prior.spec}>"
        )

    def _repr_html_(self) -> str:
        f = self.fit
        rows = [
            (
                name,
                num(s.median),
                num(s.mean),
                num(s.sd),
                interval(s.q025, s.q975),
                interval(s.shortest95_low, s.shortest95_high),
            )
            for name, s in [("tau", f.tau), ("mu", f.mu), ("theta_new", f.theta_new)]
            + list(zip(self.studies, f.shrinkage, strict=True))
        ]
        probs = [
            f"P({p.parameter} {'>' if p.parameter == 'tau' else '<'} {p.threshold:g}) = {num(p.p)}"
            for p in self.probabilities
        ]
        return html_table(
            ("", "median", "mean", "sd", "95% equal-tailed", "95% shortest"),
            rows,
            caption=f"Bayesian random-effects meta-analysis, {self.measure}, k = {f.k} "
            f"(tau ~ {f.tau_prior.spec}, mu ~ {f.mu_prior.spec})",
            notes=probs,
        )


def tau_prior_for(measure: str, tau_prior: model.TauPrior | str | None) -> tuple[model.TauPrior, bool]:
    """The prior for tau and whether it is the measure's default."""
    if tau_prior is None:
        return model.default_tau_prior(measure), True
    if isinstance(tau_prior, str):
        return model.parse_tau_prior(tau_prior), False
    return tau_prior, False


def mu_prior_for(mu_prior: model.MuPrior | str | None) -> tuple[model.MuPrior, bool]:
    if mu_prior is None:
        return model.flat(), True
    if isinstance(mu_prior, str):
        return model.parse_mu_prior(mu_prior), False
    return mu_prior, False


def bayes(
    analysis: PoolAnalysis,
    tau_prior: model.TauPrior | str | None = None,
    mu_prior: model.MuPrior | str | None = None,
    thresholds: tuple[float, ...] | list[float] = (),
    tau_thresholds: tuple[float, ...] | list[float] = (),
) -> BayesAnalysis:
    """Bayesian random-effects meta-analysis of the pooled ``analysis``'s effects (yi, vi on the
    analysis scale). ``tau_prior``/``mu_prior``: a prior or its spec ("halfnormal:0.5",
    "normal:0,4"); by default half-normal(0.5) on log ratios (Röver et al. 2021; other measures
    need one stated) and a flat prior for mu."""
    es = analysis.effects
    measure = analysis.measure.name
    try:
        tp, tau_default = tau_prior_for(measure, tau_prior)
        mp, mu_default = mu_prior_for(mu_prior)
        cs = [_finite(c, "threshold") for c in thresholds]
        xs = [_finite(x, "tau threshold") for x in tau_thresholds]
        fit = model.fit_bayes(es.yi, es.vi, tp, mp)
    except ValueError as exc:
        raise InputError([Problem(analysis.source, str(exc))]) from None
    post = fit.posterior
    probs = [Probability("mu", c, model.p_mu_below(post, c)) for c in cs]
    probs += [Probability("theta_new", c, model.p_theta_new_below(post, c)) for c in cs]
    probs += [Probability("tau", x, model.p_tau_above(post, x)) for x in xs]
    return BayesAnalysis(
        source=analysis.source,
        measure=measure,
        studies=tuple(es.studies),
        fit=fit,
        probabilities=tuple(probs),
        tau_prior_note=note(
            "bayes.tau_prior", **tp.to_dict(), spec=tp.spec, default=tau_default, measure=measure
        ),
        mu_prior_note=note("bayes.mu_prior", **mp.to_dict(), spec=mp.spec, default=mu_default),
        title=_title(analysis),
        favours=analysis.meta.favours
        if analysis.meta is not None
        else ("favours treatment", "favours control"),
        uisd=unit_information_sd(es),
    )


def unit_information_sd(effects) -> float | None:
    """Röver et al. 2021's unit-information SD of the studies (``model.uisd``), or None when a
    study does not give its number of participants."""
    n = effects.sizes
    if n is None or not np.all(np.isfinite(n) & (n > 0)):
        return None
    return model.uisd(n, effects.vi)


def _title(analysis: PoolAnalysis) -> str:
    if analysis.meta is not None and analysis.meta.title:
        return analysis.meta.title
    return os.path.splitext(os.path.basename(analysis.source))[0]


def _finite(x: object, what: str) -> float:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} {one_line(x)!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{what} must be a finite number; got {value}")
    return value


# -- what the figures draw --------------------------------------------------------------------

CURVE_POINTS = 600  # grid points across the part of a density the plot shows
TAIL_POINTS = 80  # beyond it on each side, out to where 1e-4 of the mass is left
_Z975 = 1.959963984540054


@dataclass(frozen=True)
class DensityCurve:
    """One marginal posterior density on a grid of points (analysis scale), with its prior
    there (None: an improper prior, which has no density) and the summaries the plot marks.
    The grid reaches the 0.005% quantiles (tau: from the prior's lower bound), so the
    density integrates to 1 on it to about 1e-4; ``xlim`` is the part a plot shows."""

    parameter: str  # "tau" or "mu"
    x: tuple[float, ...]
    posterior: tuple[float, ...]
    prior: tuple[float, ...] | None
    median: float
    q025: float
    q975: float
    xlim: tuple[float, float]


@dataclass(frozen=True)
class PosteriorCurves:
    """The posterior densities of tau and mu of a BayesAnalysis, for the posterior plot."""

    title: str
    measure: str  # its name, e.g. "OR"
    k: int
    tau: DensityCurve
    mu: DensityCurve
    tau_prior_note: Note
    mu_prior_note: Note


def posterior_curves(result: BayesAnalysis) -> PosteriorCurves:
    """The marginal posterior densities of tau and of mu, each with its prior, on grids that
    cover all but about 1e-4 of the posterior mass."""
    fit, post = result.fit, result.fit.posterior
    tail = 5e-5
    # tau: from the prior's lower bound to its 99.995% quantile, densest where the plot looks
    lower, upper = post.lower, post.upper
    shown_high = min(post.tau_quantile(0.995) * 1.08, upper)
    far = post.tau_quantile(1 - tail)
    tau_x = np.linspace(lower, shown_high, CURVE_POINTS)
    if far > shown_high:
        tau_x = np.concatenate((tau_x, np.geomspace(shown_high, far, TAIL_POINTS)))
    tau = _curve(
        "tau",
        tau_x,
        fit.tau,
        (lower, shown_high),
        lambda x: model.tau_density(post, x),
        lambda x: model.tau_prior_density(fit.tau_prior, x),
    )
    # mu: its 0.25% to 99.75% quantiles shown, the grid out to the 0.005% ones
    q_far_lo, q_lo, q_hi, q_far_hi = (
        float(q) for q in model.mu_quantiles(post, [tail, 0.0025, 0.9975, 1 - tail])
    )
    pad = 0.04 * (q_hi - q_lo)
    lo_shown, hi_shown = q_lo - pad, q_hi + pad
    mu_x = np.linspace(lo_shown, hi_shown, CURVE_POINTS)
    if q_far_lo < lo_shown:
        mu_x = np.concatenate((lo_shown - np.geomspace(pad * 1e-3, lo_shown - q_far_lo, TAIL_POINTS), mu_x))
    if q_far_hi > hi_shown:
        mu_x = np.concatenate((mu_x, hi_shown + np.geomspace(pad * 1e-3, q_far_hi - hi_shown, TAIL_POINTS)))
    mu = _curve(
        "mu",
        mu_x,
        fit.mu,
        (lo_shown, hi_shown),
        lambda x: model.mu_density(post, x),
        lambda x: model.mu_prior_density(fit.mu_prior, x),
    )
    return PosteriorCurves(
        result.title, result.measure, fit.k, tau, mu, result.tau_prior_note, result.mu_prior_note
    )


@dataclass(frozen=True)
class ForestEntry:
    """One row of the Bayesian forest plot, on the natural scale (ratios as ratios): the
    observed effect with its 95% CI (None on the pooled rows) and the posterior median with its
    95% equal-tailed credible interval."""

    label: str
    kind: str  # "study", "mu" or "theta_new"
    observed: tuple[float, float, float] | None
    posterior: tuple[float, float, float]


@dataclass(frozen=True)
class ShrinkageForest:
    """What the Bayesian forest plot shows: each study's observed effect and its shrinkage
    estimate, then the pooled mu and a new study's effect theta_new."""

    title: str
    measure: str
    log_scale: bool
    favours: tuple[str, str]
    entries: tuple[ForestEntry, ...]
    tau: tuple[float, float, float]  # posterior median and 95% equal-tailed interval of tau
    tau_prior_note: Note
    mu_prior_note: Note
    k: int


def shrinkage_forest(result: BayesAnalysis) -> ShrinkageForest:
    """The rows of the Bayesian forest plot of ``result`` (natural scale)."""
    fit, post = result.fit, result.fit.posterior
    m = MEASURES.get(result.measure)
    nat = m.to_natural if m is not None else np.asarray

    def three(a: float, b: float, c: float) -> tuple[float, float, float]:
        x, y, z = (float(v) for v in nat(np.array([a, b, c], dtype=float)))
        return x, y, z

    entries = []
    for name, yi, vi, s in zip(result.studies, post.y, post.v, fit.shrinkage, strict=True):
        se = math.sqrt(float(vi))
        entries.append(
            ForestEntry(
                name,
                "study",
                three(float(yi), float(yi) - _Z975 * se, float(yi) + _Z975 * se),
                three(s.median, s.q025, s.q975),
            )
        )
    entries.append(ForestEntry("mu", "mu", None, three(fit.mu.median, fit.mu.q025, fit.mu.q975)))
    t = fit.theta_new
    entries.append(ForestEntry("theta_new", "theta_new", None, three(t.median, t.q025, t.q975)))
    return ShrinkageForest(
        title=result.title,
        measure=result.measure,
        log_scale=m is not None and m.scale == "log",
        favours=result.favours,
        entries=tuple(entries),
        tau=(fit.tau.median, fit.tau.q025, fit.tau.q975),
        tau_prior_note=result.tau_prior_note,
        mu_prior_note=result.mu_prior_note,
        k=fit.k,
    )


def _curve(
    name: str, grid: Any, summary: model.Summary, shown: tuple[float, float], density, prior
) -> DensityCurve:
    """The curve of ``name`` on ``grid`` with the summary's median and 95% ends added to it:
    the posterior ``density`` and the ``prior``'s (None when improper) at those points."""
    x = _with(grid, (summary.median, summary.q025, summary.q975))
    return DensityCurve(
        name,
        _floats(x),
        _floats(density(x)),
        _optional(prior(x)),
        summary.median,
        summary.q025,
        summary.q975,
        shown,
    )


def _with(x: Any, points: tuple[float, ...]) -> Any:
    """The grid with these points in it (the marks fall on the curve exactly), sorted."""
    return np.unique(np.concatenate((np.asarray(x, dtype=float), np.asarray(points, dtype=float))))


def _floats(x: Any) -> tuple[float, ...]:
    return tuple(float(v) for v in x)


def _optional(x: Any) -> tuple[float, ...] | None:
    return None if x is None else _floats(x)
