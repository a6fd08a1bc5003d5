"""GRADE in words: the sentences for every rule ``analyses.grade`` applies, for the summary of
findings' plain-language statements (GRADE guidelines 26) and for where thresholds and control
risks came from. ``analyses`` returns rules and numbers; this is the one place that words them.
"""

from __future__ import annotations

from metamg.render.notes_text import note_text
from metamg.render.numbers import fmt_p, studies

DOMAIN_NAMES = {
    "risk_of_bias": "Risk of bias",
    "inconsistency": "Inconsistency",
    "indirectness": "Indirectness",
    "imprecision": "Imprecision",
    "publication_bias": "Publication bias",
}

RULES_TEXT = (
    "Certainty of evidence (GRADE), suggested by metamg's rules and open to the reader's judgement: "
    "it starts high for randomised trials (low for observational studies) and drops one level per "
    "serious and two per very serious concern. Risk of bias: share of the analysis weight from "
    "studies at high risk (very serious at 50% or more) or at high risk or not assessed (serious at "
    "25% or more; also serious when studies not at low risk carry 50% or more). Inconsistency: "
    "serious when I² is 50% or more and the prediction interval includes no effect or a decision "
    "threshold (very serious at I² of 75% or more with no effect included), or when subgroups "
    "differ (p < 0.10). Imprecision: very serious when the CI includes both an important "
    "benefit and an important harm, serious when it includes no effect or crosses a decision "
    "threshold, or, for binary outcomes, when the participants are fewer than the optimal "
    "information size (alpha 0.05, power 0.80, at the assumed control risk and the threshold's "
    "relative reduction). Decision thresholds: the metadata's minimal important difference, else "
    "RR or OR 0.75 and 1.25 (GRADE's rough guide). Publication bias: with at least 10 studies, "
    "serious when Egger's test gives p < 0.10; otherwise not assessable. Indirectness: only the "
    "user's judgement from the metadata. Any domain can be overridden in the metadata with a "
    "reason. Plain-language statements use GRADE's standard wording (GRADE guidelines 26)."
)

THRESHOLD_SOURCES = {
    "metadata": "the minimal important difference in the metadata",
    "rough_guide": (
        "GRADE's rough guide of 0.75 or 1.25, as the metadata sets no minimal important difference"
    ),
    "none": "no minimal important difference in the metadata: only no effect is used",
    "unusable_ratio": "the metadata's mid is not a usable ratio (it must lie between 0 and 2, not 1)",
}
CONTROL_RISK_SOURCES = {
    "metadata": "assumed risk from the metadata",
    "median": "median control-group risk of the pooled studies",
    "none": "no control-group events given",
}
NNT_LABELS = {"benefit": "NNT (benefit)", "harm": "NNH (harm)"}


def nat(x: float | None) -> str:
    """A natural-scale value inside a reason: two decimals, none from 100 up."""
    if x is None:
        return "n/a"
    return f"{x:.2f}" if abs(x) < 100 else f"{x:.0f}"


def _ci(f) -> str:
    return f"CI {nat(f['ci_low'])} to {nat(f['ci_high'])}"


def _thresholds(f) -> str:
    return f"{nat(f['threshold_low'])} and {nat(f['threshold_high'])}"


# rule -> its sentence from the reason's facts
_WORDS = {
    "override": lambda f: f["text"],
    "rob.not_assessed": lambda f: (
        "no study's risk of bias was assessed (no RoB 2 judgements in the study set)"
    ),
    "rob.weight_shares": lambda f: (
        f"weight from studies at high risk {f['high']:.0f}%, some concerns "
        f"{f['some_concerns']:.0f}%, low risk {f['low']:.0f}%, not assessed "
        f"{f['not_assessed']:.0f}%"
    ),
    "inconsistency.one_study": lambda f: "one study: inconsistency cannot be assessed",
    "inconsistency.i2": lambda f: f"I² = {f['i2']:.0f}%",
    "inconsistency.prediction_interval": lambda f: (
        f"prediction interval {nat(f['low'])} to {nat(f['high'])}"
        + (f", which includes {f['includes']}" if f["includes"] else "")
    ),
    "inconsistency.no_prediction_interval": lambda f: "no prediction interval",
    "inconsistency.size_not_direction": lambda f: "the studies differ in size of effect but not in direction",
    "inconsistency.subgroups_differ": lambda f: (
        f"subgroups by {f['column']} differ ({fmt_p(f['p'])}), unexplained unless the metadata says why"
    ),
    "indirectness.not_judged": lambda f: (
        "not judged: the metadata has no [grade.indirectness]; whether "
        "the studies' population, intervention, comparator and outcome "
        "match the question is for the reader to judge"
    ),
    "imprecision.benefit_and_harm": lambda f: (
        f"{_ci(f)} includes both an important benefit and an important harm (beyond {_thresholds(f)})"
    ),
    "imprecision.between_thresholds": lambda f: (
        f"{_ci(f)} lies between the thresholds {_thresholds(f)}: any effect is small"
    ),
    "imprecision.null_and_beyond_threshold": lambda f: (
        f"{_ci(f)} includes no effect and effects beyond a threshold ({_thresholds(f)})"
    ),
    "imprecision.crosses_threshold": lambda f: (
        f"{_ci(f)} includes both an important effect and one too "
        f"small to matter (thresholds {_thresholds(f)})"
    ),
    "imprecision.beyond_threshold": lambda f: (
        f"{_ci(f)} excludes no effect and lies beyond a threshold ({_thresholds(f)})"
    ),
    "imprecision.includes_null": lambda f: f"{_ci(f)} includes no effect",
    "imprecision.excludes_null": lambda f: f"{_ci(f)} excludes no effect",
    "imprecision.below_ois": lambda f: (
        f"{f['participants']:,} participants, fewer than the optimal "
        f"information size of {f['ois']:,} (control risk "
        f"{f['control_risk']:.3f} against {f['alternative_risk']:.3f}, "
        f"alpha {f['alpha']:g}, power {f['power']:g})"
    ),
    "imprecision.meets_ois": lambda f: (
        f"{f['participants']:,} participants meet the optimal information size of {f['ois']:,}"
    ),
    "publication_bias.too_few_studies": lambda f: (
        f"not assessable: {studies(f['k'])}, and small-study tests need at least {f['min_k']}"
    ),
    "publication_bias.not_assessable": lambda f: (
        f"not assessable: {note_text(f['caution']) if f['caution'] else 'no Egger test'}"
    ),
    "publication_bias.suspected": lambda f: (
        f"strongly suspected: Egger's test {fmt_p(f['egger_p'])} (small studies show larger effects)"
    ),
    "publication_bias.undetected": lambda f: f"undetected: Egger's test {fmt_p(f['egger_p'])}",
}
RULES = tuple(_WORDS)


def reason_text(reason) -> str:
    """One reason (an ``analyses.grade.Reason``) in words."""
    return _WORDS[reason.rule](reason.facts)


def reasons_text(reasons) -> str:
    """A domain's reasons, in words, one after the other."""
    return "; ".join(reason_text(r) for r in reasons)


_STATEMENTS = {  # kind -> certainty -> wording (GRADE guidelines 26, Table 2)
    "important": {
        "high": "{i} {verb}s {o}",
        "moderate": "{i} probably {verb}s {o}",
        "low": "{i} may {verb} {o}",
    },
    "small": {
        "high": "{i} {verb}s {o} slightly",
        "moderate": "{i} probably {verb}s {o} slightly",
        "low": "{i} may {verb} {o} slightly",
    },
    "no_difference": {
        "high": "{i} makes little or no difference to {o}",
        "moderate": "{i} probably makes little or no difference to {o}",
        "low": "{i} may make little or no difference to {o}",
    },
}


def statement_text(s) -> str:
    """An ``analyses.findings.Statement`` as GRADE's plain-language sentence."""
    if s.kind == "not_pooled":
        return (
            f"No study gives numbers that could be pooled: the effect of {s.intervention} on "
            f"{s.outcome} is not known from this evidence."
        )
    if s.kind == "very_uncertain":
        text = f"The evidence is very uncertain about the effect of {s.intervention} on {s.outcome}"
    else:
        text = _STATEMENTS[s.kind][s.certainty].format(i=s.intervention, o=s.outcome, verb=s.direction)
    return text[0].upper() + text[1:] + "."
