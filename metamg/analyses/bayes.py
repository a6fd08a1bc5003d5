"""Bayesian random-effects meta-analysis of a pooled analysis (``metamg bayes``).

The normal-normal hierarchical model of ``metamg.models.bayes`` on the analysis's
inverse-variance effects (yi, vi on the analysis scale: log for ratios), with a stated prior for
tau (default by measure: Röver et al. 2021) and for mu (default flat), and the probabilities a
reader asks for: P(mu < c), P(theta_new < c) for each threshold c, P(tau > x) for each x.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
    )


def _finite(x: object, what: str) -> float:
    try:
        value = float(x)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise ValueError(f"{what} {one_line(x)!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{what} must be a finite number; got {value}")
    return value
