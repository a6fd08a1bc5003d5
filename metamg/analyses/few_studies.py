"""With few studies: the Bayesian random-effects result beside the frequentist one, and the
probability, under the stated prior, that the effect is at least as large as each claim says.

With fewer than ``FEW_STUDIES`` pooled studies tau² cannot be estimated and the frequentist
intervals swing between absurdly wide (HKSJ with k = 2) and too narrow; a Bayesian analysis with
a weakly informative prior on tau (Röver et al. 2021) answers directly how probable an effect of
a given size is. Computed for the appraisal; ``render.sections.few`` shows it.
"""

from __future__ import annotations

from dataclasses import dataclass

from metamg.analyses.bayes import BayesAnalysis, PosteriorCurves, bayes, posterior_curves
from metamg.analyses.claims import claimed_side, implied_threshold
from metamg.analyses.pool import PoolAnalysis
from metamg.errors import InputError, Problem
from metamg.io.metadata import StudySetMeta, metadata_path
from metamg.models import bayes as model
from metamg.notes import Note, note

FEW_STUDIES = 5  # below this many pooled studies a report adds the Bayesian analysis


@dataclass(frozen=True)
class ClaimProbability:
    """P(the effect is at least as large as a claim says), for the mean effect (mu) and for a
    new study's true effect (theta_new), on the analysis scale's threshold."""

    claim_id: str
    threshold: float  # the claim's implied effect on the analysis scale (log for ratios)
    side: int  # -1: the claim is below the threshold (lower is claimed), +1 above
    p_mu: float
    p_new: float


@dataclass(frozen=True)
class FewStudies:
    """The Bayesian analysis of a set with few studies (None with ``why_not`` when no prior can
    be chosen for its measure), the probability of benefit, and each claim's probability."""

    k: int
    bayes: BayesAnalysis | None
    why_not: Note | None = None
    p_benefit: float | None = None  # P(mu on the side of no effect that favours the intervention)
    claims: tuple[ClaimProbability, ...] = ()
    curves: PosteriorCurves | None = None  # the posterior of tau and mu, for the report's figure


def few_studies(analysis: PoolAnalysis, meta: StudySetMeta) -> FewStudies:
    """The Bayesian analysis of ``analysis`` with the default priors for its measure (half-normal
    0.5 on tau for log ratios, flat on mu), the probability that the intervention helps at all,
    and, for each claim that implies an effect size, the probability that the effect is at
    least that large in the claimed direction."""
    k = analysis.result.k
    tau_prior, mu_prior = stated_priors(meta, metadata_path(analysis.source))
    try:
        result = bayes(analysis, tau_prior, mu_prior)
    except InputError as exc:
        why = "; ".join(p.message for p in exc.problems)
        return FewStudies(k, None, note("bayes.no_prior", measure=analysis.measure.name, why=why))
    post = result.fit.posterior
    benefit_side = -1 if meta.benefit == "lower" else 1
    p_benefit = _beyond(model.p_mu_below(post, 0.0), benefit_side)
    claims = []
    for claim in meta.claims:
        threshold = implied_threshold(claim, analysis.measure)
        if threshold is None:
            continue
        side = claimed_side(claim, meta.benefit)
        claims.append(
            ClaimProbability(
                claim.id,
                threshold,
                side,
                _beyond(model.p_mu_below(post, threshold), side),
                _beyond(model.p_theta_new_below(post, threshold), side),
            )
        )
    return FewStudies(k, result, None, p_benefit, tuple(claims), posterior_curves(result))


def stated_priors(meta: StudySetMeta, meta_file: str) -> tuple[model.TauPrior | None, model.MuPrior | None]:
    """The priors the metadata's [bayes] table states (None: the measure's default), or an
    InputError naming the metadata file and the table's line for a spec that cannot be read."""
    problems: list[Problem] = []

    def read(key: str, spec: str | None, parse):
        if spec is None:
            return None
        try:
            return parse(spec)
        except ValueError as exc:
            line = meta.line_of("bayes")
            problems.append(Problem(meta_file, str(exc), line=line, column=f"bayes.{key}", value=spec))
            return None

    tau = read("tau_prior", meta.bayes.tau_prior, model.parse_tau_prior)
    mu = read("mu_prior", meta.bayes.mu_prior, model.parse_mu_prior)
    if problems:
        raise InputError(problems)
    return tau, mu


def _beyond(p_below: float, side: int) -> float:
    """P(below) when the claimed side is below (-1), else P(above)."""
    return p_below if side < 0 else 1.0 - p_below
