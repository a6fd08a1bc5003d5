"""Certainty of evidence (GRADE): a suggested rating of the five domains, computed from the data.

A suggestion that needs human judgement, never a verdict: the ``[grade]`` table of the metadata
overrides any domain with a reason, and indirectness is only ever the user's judgement. Sources:
Guyatt GH et al., GRADE guidelines 4-8, J Clin Epidemiol 2011;64:407-415 (risk of bias),
1294-1302 (inconsistency), 1303-1310 (indirectness), 1283-1293 (imprecision, with the rough
guide RR 0.75/1.25 and the optimal information size), 1277-1282 (publication bias); Cochrane
Handbook version 6.5, chapter 14 (certainty starts high for randomised trials, low otherwise,
and drops one level per serious concern).

Rules applied (each domain's reason states the numbers it used):

- Risk of bias: share of the analysis weight from studies by overall RoB 2 judgement. Very
  serious when high-risk studies carry >= 50%; serious when high-risk or not-assessed studies
  carry >= 25%, or when studies not at low risk carry >= 50%.
- Inconsistency (k >= 2): serious when I² >= 50% and the random-effects prediction interval
  crosses no effect or a decision threshold (very serious when also I² >= 75% and it crosses no
  effect); serious when a test for subgroup differences gives p < 0.10 (unexplained unless the
  user says otherwise).
- Imprecision: very serious when the CI includes both an important benefit and an important harm
  (beyond the thresholds); serious when it includes no effect or crosses a threshold; binary
  outcomes are also serious when the participants are fewer than the optimal information size
  (alpha 0.05, power 0.80, the assumed control risk and the threshold's relative reduction).
- Publication bias: with k >= 10, serious ("strongly suspected") when Egger's test gives
  p < 0.10; with fewer studies not assessable, and not downgraded.
- Indirectness: the user's judgement from the metadata; when absent, not downgraded and said so.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metamg.io.metadata import GradeSettings
from metamg.io.rob import overall_judgements
from metamg.models.display import html_table, one_line
from metamg.models.distributions import norm_ppf
from metamg.notes import Note, note
from metamg.vocabulary import GRADE_LEVELS, GRADE_RATINGS

LEVELS = GRADE_LEVELS
DEFAULT_RATIO_MID = 0.75  # GRADE 6: "an RR of under 0.75 or over 1.25 as a rough guide"
ROB_HIGH_VERY_SERIOUS, ROB_CONCERN_SERIOUS, ROB_NOT_LOW_SERIOUS = 50.0, 25.0, 50.0
I2_SERIOUS, I2_VERY_SERIOUS = 50.0, 75.0
SUBGROUP_P = 0.10
BIAS_MIN_K, BIAS_P = 10, 0.10
OIS_ALPHA, OIS_POWER = 0.05, 0.80


# One reason for a rating: which rule applied (``rule``, e.g. "imprecision.includes_null") and
# the numbers it used (``facts``: natural-scale values, percentages, counts, p-values);
# render.grade_text words it, tests assert the rule and the facts.
Reason = Note
_reason = note


@dataclass(frozen=True)
class DomainRating:
    """One GRADE domain: the rating used and why, and what the data alone suggested. An
    override from the metadata has the single reason ``override`` with the user's ``text``."""

    domain: str
    rating: str  # not serious | serious | very serious
    reasons: tuple[Reason, ...]
    suggested: str
    suggested_reasons: tuple[Reason, ...]
    overridden: bool = False
    assessable: bool = True

    @property
    def downgrade(self) -> int:
        return GRADE_RATINGS.index(self.rating)

    @property
    def rules(self) -> tuple[str, ...]:
        return tuple(r.rule for r in self.reasons)

    def reason(self, rule: str) -> Reason:
        """The reason given by ``rule`` (KeyError when that rule did not apply)."""
        found = next((r for r in self.reasons if r.rule == rule), None)
        if found is None:
            raise KeyError(f"{self.domain}: no reason {rule!r}; the reasons are {self.rules}")
        return found

    def to_dict(self) -> dict:
        return {
            "domain": self.domain,
            "rating": self.rating,
            "downgrade": self.downgrade,
            "reasons": [r.to_dict() for r in self.reasons],
            "suggested": self.suggested,
            "suggested_reasons": [r.to_dict() for r in self.suggested_reasons],
            "overridden": self.overridden,
            "assessable": self.assessable,
        }


@dataclass(frozen=True)
class Certainty:
    """The certainty of the evidence for one outcome, with every domain's rating."""

    design: str
    start: str
    level: str
    domains: tuple[DomainRating, ...]
    thresholds: tuple[float, float] | None  # decision thresholds, natural scale
    threshold_source: str  # THRESHOLD_SOURCES: where the thresholds came from

    def domain(self, name: str) -> DomainRating:
        return next(d for d in self.domains if d.domain == name)

    def to_dict(self) -> dict:
        return {
            "design": self.design,
            "start": self.start,
            "level": self.level,
            "thresholds": list(self.thresholds) if self.thresholds else None,
            "threshold_source": self.threshold_source,
            "suggestion": True,
            "domains": [d.to_dict() for d in self.domains],
        }

    def __str__(self) -> str:
        lines = [f"Certainty (GRADE, suggested): {self.level} (starts {self.start}: {self.design} studies)"]
        lines += [
            f"  {d.domain}: {d.rating}{' (override)' if d.overridden else ''} [{', '.join(d.rules)}]"
            for d in self.domains
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        concerns = "; ".join(f"{d.rating} {d.domain}" for d in self.domains if d.downgrade)
        return one_line(
            f"Certainty({self.level}, suggested: starts {self.start} ({self.design}); "
            + (concerns or "no serious concern")
            + ")"
        )

    def _repr_html_(self) -> str:
        """Each domain's rating and the rules that gave it (metamg.render.grade_text words them)."""
        rows = [
            (
                d.domain,
                d.rating + (" (override)" if d.overridden else ""),
                d.suggested,
                "; ".join(str(r) for r in d.reasons),
            )
            for d in self.domains
        ]
        return html_table(
            ("domain", "rating", "suggested by the data", "reasons"),
            rows,
            f"Certainty (GRADE, suggested): {self.level}, starting {self.start} ({self.design} studies)",
        )

    def to_frame(self):
        """One row per domain: rating, downgrade, suggested rating, overridden, assessable and
        the rules that applied."""
        from metamg.models.display import frame

        return frame(
            [
                {
                    "domain": d.domain,
                    "rating": d.rating,
                    "downgrade": d.downgrade,
                    "suggested": d.suggested,
                    "overridden": d.overridden,
                    "assessable": d.assessable,
                    "rules": ", ".join(d.rules),
                }
                for d in self.domains
            ]
        )


# Where the decision thresholds came from (Certainty.threshold_source)
THRESHOLD_SOURCES = ("metadata", "rough_guide", "none", "unusable_ratio")


def decision_thresholds(measure, mid: float | None):
    """(lower, upper) decision thresholds on the analysis scale, their natural-scale values and
    where they came from (THRESHOLD_SOURCES); None when there is no minimal important
    difference to use."""
    if mid is None:
        if measure.name not in ("RR", "OR"):
            return None, None, "none"
        mid, source = DEFAULT_RATIO_MID, "rough_guide"
    else:
        source = "metadata"
    if measure.scale == "log":
        r = min(mid, 2 - mid) if 0 < mid < 2 and mid != 1 else None
        if r is None:
            return None, None, "unusable_ratio"
        return (math.log(r), math.log(2 - r)), (r, 2 - r), source
    return (-mid, mid), (-mid, mid), source


def participants(effects) -> tuple[int | None, int]:
    """Participants in the pooled studies, and how many studies do not give their numbers."""
    n = effects.sizes
    if n is None:
        return None, effects.k
    missing = int(np.isnan(n).sum())
    return (int(np.nansum(n)) if missing < effects.k else None), missing


CONTROL_RISK_SOURCES = ("metadata", "median", "none")


def control_risk(effects, settings: GradeSettings) -> tuple[float | None, str]:
    """The assumed control-group risk and where it came from (CONTROL_RISK_SOURCES): the
    metadata's, else the median of the pooled studies'; None when no study gives control events."""
    if settings.control_risk is not None:
        return settings.control_risk, "metadata"
    d = effects.data
    if "ci" not in d:
        return None, "none"
    risks = np.asarray(d["ci"], float) / np.asarray(d["n2i"], float)
    if np.isnan(risks).all():
        return None, "none"
    return float(np.nanmedian(risks)), "median"


def treated_risk(measure_name: str, p0: float, effect: float) -> float:
    """The intervention-group risk implied by ``effect`` (analysis scale) at control risk p0
    (Cochrane Handbook 14.1.5.1: RR multiplies the risk, OR the odds, RD adds)."""
    if measure_name == "RR":
        return min(1.0, math.exp(effect) * p0)
    if measure_name == "OR":
        if p0 >= 1:
            return 1.0
        odds = math.exp(effect) * p0 / (1 - p0)
        return odds / (1 + odds)
    return min(1.0, max(0.0, p0 + effect))


def optimal_information_size(p0: float, p1: float, alpha: float = OIS_ALPHA, power: float = OIS_POWER) -> int:
    """Total participants of one trial powered to detect p0 against p1 (two groups of equal
    size; the normal-approximation formula of GRADE 6's OIS)."""
    z = norm_ppf(1 - alpha / 2) + norm_ppf(power)
    per_group = z * z * (p0 * (1 - p0) + p1 * (1 - p1)) / (p0 - p1) ** 2
    return 2 * math.ceil(per_group)


def rate_risk_of_bias(analysis) -> DomainRating:
    es = analysis.effects
    w = _weights(analysis)
    overall = np.asarray(overall_judgements(es.extra, es.k), dtype=object)
    share = {lev: float(w[overall == lev].sum()) for lev in ("low", "some concerns", "high", "")}
    shares = _reason(
        "rob.weight_shares",
        high=share["high"],
        some_concerns=share["some concerns"],
        low=share["low"],
        not_assessed=share[""],
    )
    if share[""] >= 99.95:
        return _rated("risk_of_bias", "serious", _reason("rob.not_assessed"))
    if share["high"] >= ROB_HIGH_VERY_SERIOUS:
        return _rated("risk_of_bias", "very serious", shares)
    if (
        share["high"] + share[""] >= ROB_CONCERN_SERIOUS
        or share["high"] + share[""] + share["some concerns"] >= ROB_NOT_LOW_SERIOUS
    ):
        return _rated("risk_of_bias", "serious", shares)
    return _rated("risk_of_bias", "not serious", shares)


def rate_inconsistency(analysis, random_fit, thresholds, subgroups=None) -> DomainRating:
    r = analysis.result
    if r.k < 2:
        return _rated("inconsistency", "not serious", _reason("inconsistency.one_study"), assessable=False)
    i2 = r.i2
    lo, hi = random_fit.pi_low, random_fit.pi_high
    has_pi = lo is not None and hi is not None and np.isfinite(lo) and np.isfinite(hi)
    crosses_null = has_pi and lo < 0 < hi
    crosses_threshold = has_pi and thresholds is not None and any(lo < t < hi for t in thresholds)
    rating, includes = "not serious", None
    if i2 >= I2_SERIOUS and (crosses_null or crosses_threshold):
        rating = "very serious" if i2 >= I2_VERY_SERIOUS and crosses_null else "serious"
        includes = "no effect" if crosses_null else "a decision threshold"
    why = [
        _reason("inconsistency.i2", i2=i2),
        _reason(
            "inconsistency.prediction_interval",
            low=analysis.natural(lo),
            high=analysis.natural(hi),
            includes=includes,
        )
        if has_pi
        else _reason("inconsistency.no_prediction_interval"),
    ]
    if i2 >= I2_SERIOUS and includes is None:
        why.append(_reason("inconsistency.size_not_direction"))
    between = getattr(subgroups, "between", None)
    if between is not None and between.q_p < SUBGROUP_P:
        rating = max(rating, "serious", key=GRADE_RATINGS.index)
        why.append(_reason("inconsistency.subgroups_differ", column=subgroups.column, p=between.q_p))
    return _rated("inconsistency", rating, *why)


def rate_imprecision(analysis, thresholds, settings: GradeSettings) -> DomainRating:
    r = analysis.result
    lo, hi = r.ci_low, r.ci_high
    ci = dict(ci_low=analysis.natural(lo), ci_high=analysis.natural(hi))
    if thresholds is not None:
        tl, th = thresholds
        ci.update(threshold_low=analysis.natural(tl), threshold_high=analysis.natural(th))
        if lo < tl and hi > th:
            rating, rule = "very serious", "imprecision.benefit_and_harm"
        elif tl <= lo and hi <= th:
            rating, rule = "not serious", "imprecision.between_thresholds"
        elif lo < 0 < hi:
            rating, rule = "serious", "imprecision.null_and_beyond_threshold"
        elif lo < tl < hi or lo < th < hi:
            rating, rule = "serious", "imprecision.crosses_threshold"
        else:
            rating, rule = "not serious", "imprecision.beyond_threshold"
    elif lo < 0 < hi:
        rating, rule = "serious", "imprecision.includes_null"
    else:
        rating, rule = "not serious", "imprecision.excludes_null"
    why = [_reason(rule, **ci)]
    n, missing = participants(analysis.effects)
    m = analysis.measure
    if m.data_type == "binary" and m.name in ("RR", "OR", "RD") and n is not None:
        p0, _ = control_risk(analysis.effects, settings)
        p1 = _ois_alternative(m.name, p0, thresholds)
        if p0 is not None and p1 is not None and 0 < p0 < 1 and p1 != p0:
            ois = optimal_information_size(p0, p1)
            facts = dict(
                participants=n,
                ois=ois,
                control_risk=p0,
                alternative_risk=p1,
                alpha=OIS_ALPHA,
                power=OIS_POWER,
            )
            if n < ois:
                rating = max(rating, "serious", key=GRADE_RATINGS.index)
                why.append(_reason("imprecision.below_ois", **facts))
            else:
                why.append(_reason("imprecision.meets_ois", **facts))
    return _rated("imprecision", rating, *why)


def rate_publication_bias(analysis, tests=None) -> DomainRating:
    k = analysis.result.k
    if k < BIAS_MIN_K:
        return _rated(
            "publication_bias",
            "not serious",
            _reason("publication_bias.too_few_studies", k=k, min_k=BIAS_MIN_K),
            assessable=False,
        )
    if tests is None:
        from metamg.analyses.bias import small_study_tests

        tests = small_study_tests(analysis)
    if tests.caution or tests.egger is None or tests.egger.p is None:
        return _rated(
            "publication_bias",
            "not serious",
            _reason("publication_bias.not_assessable", caution=tests.caution),
            assessable=False,
        )
    p = tests.egger.p
    if p < BIAS_P:
        return _rated("publication_bias", "serious", _reason("publication_bias.suspected", egger_p=p))
    return _rated("publication_bias", "not serious", _reason("publication_bias.undetected", egger_p=p))


def rate_indirectness() -> DomainRating:
    return _rated("indirectness", "not serious", _reason("indirectness.not_judged"))


def grade_certainty(
    analysis, settings: GradeSettings = GradeSettings(), tests=None, subgroups=None, random_fit=None
) -> Certainty:
    """Suggested GRADE certainty for the outcome of ``analysis`` (a PoolAnalysis).

    ``tests`` (SmallStudyTests), ``subgroups`` (SubgroupAnalysis) and, for a common-effect
    analysis, ``random_fit`` (the REML PoolResult giving the prediction interval) are reused
    when given."""
    thresholds, natural, source = decision_thresholds(analysis.measure, settings.mid)
    if analysis.result.is_random or analysis.result.k < 2:
        random_fit = analysis.result
    elif random_fit is None:
        random_fit = _random(analysis)
    suggested = (
        rate_risk_of_bias(analysis),
        rate_inconsistency(analysis, random_fit, thresholds, subgroups),
        rate_indirectness(),
        rate_imprecision(analysis, thresholds, settings),
        rate_publication_bias(analysis, tests),
    )
    domains = tuple(_apply_override(d, settings.judgement(d.domain)) for d in suggested)
    start = 3 if settings.design == "randomised" else 1
    level = LEVELS[max(0, start - sum(d.downgrade for d in domains))]
    return Certainty(settings.design, LEVELS[start], level, domains, natural, source)


def _apply_override(d: DomainRating, judgement) -> DomainRating:
    if judgement is None:
        return d
    return DomainRating(
        d.domain,
        judgement.rating,
        (_reason("override", text=judgement.reason),),
        d.suggested,
        d.suggested_reasons,
        overridden=True,
        assessable=d.assessable,
    )


def _rated(domain, rating, *reasons: Reason, assessable=True) -> DomainRating:
    return DomainRating(domain, rating, reasons, rating, reasons, False, assessable)


def _random(analysis):
    """The REML fit beside a common-effect analysis, for its prediction interval."""
    return analysis.with_options(method="REML", ci_method=None).result


def _weights(analysis) -> np.ndarray:
    """The analysis's weights in percent; inverse-variance weights where the model has none."""
    w = np.asarray(analysis.result.weights, dtype=float)
    if len(w) != analysis.effects.k or not np.isfinite(w).all():
        inv = 1 / np.asarray(analysis.effects.vi)
        return 100 * inv / inv.sum()
    return w


def _ois_alternative(measure_name, p0, thresholds):
    if p0 is None:
        return None
    if thresholds is None:  # RD without a MID: GRADE's 25% relative reduction
        return p0 * DEFAULT_RATIO_MID
    return treated_risk(measure_name, p0, thresholds[0])
