"""Claims checked against the pooled evidence, with a verdict from a small fixed vocabulary.

The rules (applied on the analysis scale, e.g. log OR; "the claimed side" is the side of no
effect that the claim's direction and the set's ``benefit`` point to):

1. No primary source was found for the claim: **no traceable source**, whatever the data say
   (what the data would say is given as a reason).
2. No study could be pooled, or the claim implies no effect size and the data cannot be
   compared with it: **not testable with the available evidence**.
3. The confidence interval lies wholly on the other side of no effect: **contradicted**.
4. A claim with an implied effect size:
   - the CI excludes no effect, on the claimed side: **supported** if the claimed effect lies in
     the CI or between it and no effect (the data show at least as much), **contradicted** if
     it lies beyond the CI (the data rule out an effect that large);
   - the CI includes no effect: **contradicted** if the claimed effect lies beyond the CI,
     otherwise **not testable** (the data fit both no effect and the claim).
5. A claim of direction only: **supported** if the CI excludes no effect on the claimed side,
   otherwise **not testable** (too imprecise to confirm or rule out a benefit).

The verdict comes from the main analysis. Each sensitivity analysis passed in (the other
model, small-study adjustment, verified evidence only) is judged by the same rules, and any
that disagrees is named in the reasons, so that a verdict that is not robust says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np

from metamg.effects.conversion import to_analysis_scale
from metamg.io.metadata import Claim

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_TESTABLE = "not testable with the available evidence"
NO_SOURCE = "no traceable source"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_TESTABLE, NO_SOURCE)


# Which analysis a piece of evidence comes from (Evidence.source); render words them.
EVIDENCE_SOURCES = (
    "main",  # the main analysis
    "common_effect",  # the common-effect model beside a random-effects main analysis
    "random_effects",  # the random-effects model beside a common-effect main analysis
    "common_effect_small_study",  # common effect, judged by because of small-study effects
    "random_effects_main",  # the random-effects main analysis, then a sensitivity check
    "trim_and_fill",  # the trim-and-fill adjusted analysis
    "verified_only",  # full-text/abstract numbers only
)
# Why a pooled result gives its verdict (evidence_verdict's rule).
VERDICT_RULES = (
    "opposite_side",
    "direction_supported",
    "direction_imprecise",
    "beyond_ci",
    "contains_claim",
    "at_least_claim",
    "includes_both",
)


@dataclass(frozen=True)
class Evidence:
    """A pooled result on the analysis scale, as the claim check sees it."""

    source: str  # EVIDENCE_SOURCES
    estimate: float
    ci_low: float
    ci_high: float
    k: int


@dataclass(frozen=True)
class ClaimReason:
    """One reason behind a verdict, as data: ``kind`` says which (no_source, nothing_pooled,
    evidence, not_robust, taken_at_word, note) and ``facts`` what it rests on (the evidence's
    source and k, the verdict rule, the verdict it would give, the claim's own text)."""

    kind: str
    facts: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def __getitem__(self, key):
        return self.facts[key]

    def to_dict(self) -> dict:
        return {"kind": self.kind, **dict(self.facts)}


def _because(kind: str, **facts) -> ClaimReason:
    return ClaimReason(kind, MappingProxyType(facts))


@dataclass(frozen=True)
class ClaimCheck:
    claim: Claim
    verdict: str
    reasons: tuple[ClaimReason, ...]
    evidence_verdict: str | None  # what the data alone say (None: nothing pooled)
    disagreeing: tuple[tuple[str, str], ...]  # (EVIDENCE_SOURCES of a sensitivity analysis, its verdict)

    @property
    def robust(self) -> bool:
        return not self.disagreeing

    def to_dict(self) -> dict:
        c = self.claim
        return {
            "id": c.id,
            "claim": c.text,
            "made_in": c.made_in,
            "primary_source_found": c.primary_source_found,
            "primary_source": c.primary_source,
            "implied_effect": c.implied_effect,
            "implies": c.implies,
            "verdict": self.verdict,
            "evidence_verdict": self.evidence_verdict,
            "reasons": [r.to_dict() for r in self.reasons],
            "not_robust_to": [{"analysis": a, "verdict": v} for a, v in self.disagreeing],
        }

    def __str__(self) -> str:
        return f"{self.claim.id}: {self.verdict} - {self.claim.text}"


def implied_threshold(claim: Claim, measure) -> float | None:
    """The effect ``claim`` implies, on ``measure``'s analysis scale (log for ratios); None when
    it implies none or one the scale cannot hold (a ratio of 0)."""
    if claim.implied_effect is None:
        return None
    moved = float(to_analysis_scale(measure, np.array([claim.implied_effect]))[0])
    return moved if np.isfinite(moved) else None


def claimed_side(claim: Claim, benefit: str) -> int:
    """-1 if the claim expects effects below no effect on the analysis scale, +1 if above."""
    lower_is_claimed = (benefit == "lower") == (claim.direction == "benefit")
    return -1 if lower_is_claimed else 1


def evidence_verdict(theta: float | None, side: int, ev: Evidence) -> tuple[str, str]:
    """Rules 3 to 5 for one pooled result: (verdict, the VERDICT_RULES rule that gave it)."""
    lo, hi = -side * ev.ci_low, -side * ev.ci_high  # flipped so that the claimed side is negative
    lo, hi = min(lo, hi), max(lo, hi)
    if lo > 0:
        return CONTRADICTED, "opposite_side"
    excludes_null = hi < 0
    if theta is None:
        return (SUPPORTED, "direction_supported") if excludes_null else (NOT_TESTABLE, "direction_imprecise")
    t = -side * theta
    if t < lo:
        return CONTRADICTED, "beyond_ci"
    if excludes_null:
        return SUPPORTED, "contains_claim" if t <= hi else "at_least_claim"
    return NOT_TESTABLE, "includes_both"


def check_claim(
    claim: Claim, measure, benefit: str, main: Evidence | None, sensitivity: tuple[Evidence, ...] = ()
) -> ClaimCheck:
    """The verdict on ``claim`` given the main pooled result (None when nothing could be pooled)
    and the sensitivity analyses, in ``measure`` (an effects.Measure)."""
    theta = implied_threshold(claim, measure)
    side = claimed_side(claim, benefit)
    reasons: list[ClaimReason] = []
    ev_verdict, disagreeing = None, []
    if main is None or main.k == 0:
        reasons.append(_because("nothing_pooled"))
    else:
        ev_verdict, rule = evidence_verdict(theta, side, main)
        reasons.append(_because("evidence", source=main.source, k=main.k, rule=rule))
        for ev in sensitivity:
            if ev is None or ev.k == 0:
                continue
            v, rule_other = evidence_verdict(theta, side, ev)
            if v != ev_verdict:
                disagreeing.append((ev.source, v))
                reasons.append(_because("not_robust", source=ev.source, k=ev.k, verdict=v, rule=rule_other))
    if not claim.primary_source_found:
        verdict = NO_SOURCE
        reasons.insert(0, _because("no_source", made_in=claim.made_in))
        if ev_verdict is not None:
            reasons.append(_because("taken_at_word", verdict=ev_verdict))
    else:
        verdict = ev_verdict or NOT_TESTABLE
    if claim.notes:
        reasons.append(_because("note", text=claim.notes))
    return ClaimCheck(claim, verdict, tuple(reasons), ev_verdict, tuple(disagreeing))
