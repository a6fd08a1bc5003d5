"""The Bayesian meta-analysis in words: the priors, why a value is missing, and the text that
``metamg bayes`` prints. ``render.notes_text`` reaches the words of the ``bayes.*`` notes
here, on first use, so that ``metamg pool`` never loads this module."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from metamg.models.display import interval, num

if TYPE_CHECKING:
    from metamg.analyses.bayes import BayesAnalysis
    from metamg.models.bayes import Summary

Facts = Mapping[str, Any]

PRIOR_NAMES = {
    "halfnormal": lambda f: f"half-normal(scale {f['scale']:g})",
    "halfcauchy": lambda f: f"half-Cauchy(scale {f['scale']:g})",
    "uniform": lambda f: f"uniform({f['lower']:g}, {f['upper']:g})",
    "lognormal": lambda f: (
        f"log-normal: log(tau²) ~ normal(mean {f['location']:g}, sd {f['scale']:g}) "
        "(Turner et al. 2015's form)"
    ),
    "logt": lambda f: (
        f"log-t: log(tau²) ~ t with 5 df (location {f['location']:g}, scale {f['scale']:g}) "
        "(Rhodes et al. 2015's form)"
    ),
    "jeffreys": lambda f: "Jeffreys' prior (improper; Tibshirani's non-informative prior)",
    "improper_uniform": lambda f: "improper uniform (p(tau) ∝ 1)",
    "flat": lambda f: "flat (improper uniform, p(mu) = 1)",
    "normal": lambda f: f"normal(mean {f['mean']:g}, sd {f['sd']:g})",
}
PARAMETER_NAMES = {"tau": "tau", "mu": "mu", "theta_new": "theta_new (a new study's effect)"}


def _tau_prior(f: Facts) -> str:
    text = f"prior for tau: {PRIOR_NAMES[f['type']](f)}"
    if f.get("default"):
        text += f", the default for {f['measure']} (Röver et al. 2021, Res Synth Methods 12:448-474)"
    return text


def _mu_prior(f: Facts) -> str:
    return f"prior for mu: {PRIOR_NAMES[f['type']](f)}" + (" (the default)" if f.get("default") else "")


def _moments(f: Facts) -> str:
    what = " and ".join(f["moments"])
    name = PARAMETER_NAMES.get(f["parameter"], f["parameter"])
    one = len(f["moments"]) == 1
    return (
        f"{name}: the {what} {'does' if one else 'do'} not exist (the posterior of tau falls off "
        f"as tau^-{f['tail']:g}, too slowly), so {'it is' if one else 'they are'} not given"
    )


BAYES_WORDS: dict[str, Callable[[Facts], str]] = {
    "bayes.tau_prior": _tau_prior,
    "bayes.mu_prior": _mu_prior,
    "bayes.moments_undefined": _moments,
    "bayes.tau_posterior_is_prior": lambda f: (
        f"tau: with one study and a flat prior for mu the data say nothing about tau, so its posterior "
        f"is the prior ({f['prior']}): it has no unique mode or shortest interval"
    ),
    "bayes.multimodal": lambda f: (
        f"{PARAMETER_NAMES.get(f['parameter'], f['parameter'])}: the density has {f['maxima']} local "
        "maxima; the mode is the global maximum, and a shortest interval may be two intervals"
    ),
}

METHOD = (
    "normal-normal hierarchical model; posterior by numerical integration over tau (Röver 2020, "
    "J Stat Softw 93(6)); intervals: equal-tailed (2.5% and 97.5% quantiles) and shortest "
    "(the 95% highest-density interval)"
)


def uisd_text(value: float) -> str:
    return (
        f"unit-information SD: {num(value)} (analysis scale; sqrt(sum n / sum 1/v), Röver et al. 2021 "
        "eq. 6): the spread of one participant's outcome, a yardstick for the scale of a prior for tau"
    )


def _row(name: str, s: Summary, width: int) -> str:
    return (
        f"{name:<{width}}  {num(s.mode):>9}  {num(s.median):>9}  {num(s.mean):>9}  {num(s.sd):>9}  "
        f"{interval(s.q025, s.q975):>20}  {interval(s.shortest95_low, s.shortest95_high):>20}"
    )


def bayes_text(result: BayesAnalysis) -> str:
    """What ``metamg bayes`` prints."""
    f = result.fit
    names = ["tau", "mu", "theta_new", *result.studies]
    width = max(len(n) for n in names)
    header = (
        f"{'':<{width}}  {'mode':>9}  {'median':>9}  {'mean':>9}  {'sd':>9}  "
        f"{'95% equal-tailed':>20}  {'95% shortest':>20}"
    )
    lines = [
        f"Bayesian random-effects meta-analysis of {result.source}: {result.measure}, k = {f.k} "
        "(analysis scale)",
        _tau_prior(result.tau_prior_note.facts),
        _mu_prior(result.mu_prior_note.facts),
        f"method: {METHOD}",
        "",
        header,
        _row("tau", f.tau, width),
        _row("mu", f.mu, width),
        _row("theta_new", f.theta_new, width),
        "",
        "shrinkage estimates (each study's true effect):",
        *(_row(s, row, width) for s, row in zip(result.studies, f.shrinkage, strict=True)),
    ]
    if result.uisd is not None:
        lines += ["", uisd_text(result.uisd)]
    if result.probabilities:
        lines += ["", "probabilities:"]
        for p in result.probabilities:
            sign = ">" if p.parameter == "tau" else "<"
            lines.append(f"  P({p.parameter} {sign} {p.threshold:g}) = {num(p.p, 6)}")
    lml = f.log_marginal_likelihood
    lines += [
        "",
        "log marginal likelihood: "
        + (num(lml, 8) if lml is not None else "not defined (improper prior for tau)"),
    ]
    if f.notes:
        lines += ["", "notes:"] + [f"  {BAYES_WORDS[n.rule](n.facts)}" for n in f.notes]
    return "\n".join(lines) + "\n"
