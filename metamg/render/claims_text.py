"""Claim verdicts in words: the analyses behind them, the rules that gave them and each reason,
from the rule identifiers and facts ``analyses.claims`` returns."""

from __future__ import annotations

# Evidence.source -> how the reasons name that analysis
SOURCES = {
    "main": "main analysis",
    "common_effect": "common-effect model",
    "random_effects": "random-effects model",
    "common_effect_small_study": "common-effect model, used because small-study effects were detected "
    "and the two models disagree",
    "random_effects_main": "random-effects model (main analysis)",
    "trim_and_fill": "trim-and-fill adjusted analysis",
    "verified_only": "full-text/abstract-only analysis",
}
# evidence_verdict's rule -> why, in words
RULES = {
    "opposite_side": "the confidence interval lies wholly on the other side of no effect",
    "direction_supported": "the confidence interval excludes no effect, on the claimed side",
    "direction_imprecise": "the confidence interval includes no effect: the data are too imprecise "
    "to confirm or rule out the claimed direction",
    "beyond_ci": "the claimed effect lies beyond the confidence interval: the data rule out an effect "
    "as large as claimed",
    "contains_claim": "the confidence interval excludes no effect and contains the claimed effect",
    "at_least_claim": "the confidence interval excludes no effect and shows an effect at least as large "
    "as claimed",
    "includes_both": "the confidence interval includes both no effect and the claimed effect: the data "
    "cannot tell them apart",
}


def source_text(source: str) -> str:
    return SOURCES[source]


def reason_text(r) -> str:
    """One ``analyses.claims.ClaimReason`` in words."""
    f = r.facts
    if r.kind == "no_source":
        return f"no primary source for this claim could be found (claimed in: {f['made_in']})"
    if r.kind == "nothing_pooled":
        return "no study in this set could be pooled for this outcome"
    if r.kind == "evidence":
        return f"{SOURCES[f['source']]} (k = {f['k']}): {RULES[f['rule']]}"
    if r.kind == "not_robust":
        return (
            f"not robust: with the {SOURCES[f['source']]} (k = {f['k']}) the verdict would be "
            f"'{f['verdict']}', because {RULES[f['rule']]}"
        )
    if r.kind == "taken_at_word":
        return f"taken at its word, the pooled data here would make it '{f['verdict']}'"
    return f["text"]  # note: the claim's own words from the metadata


def disagreeing_text(check) -> str:
    """'supported with the random-effects model (main analysis); ...'"""
    return "; ".join(f"{verdict} with the {SOURCES[source]}" for source, verdict in check.disagreeing)
