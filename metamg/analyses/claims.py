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

from dataclasses import dataclass

import numpy as np

from metamg.effects.conversion import to_analysis_scale
from metamg.io.metadata import Claim

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
NOT_TESTABLE = "not testable with the available evidence"
NO_SOURCE = "no traceable source"
VERDICTS = (SUPPORTED, CONTRADICTED, NOT_TESTABLE, NO_SOURCE)


@dataclass(frozen=True)
class Evidence:
    """A pooled result on the analysis scale, as the claim check sees it."""

    label: str  # "main analysis", "common-effect model", ...
    estimate: float
    ci_low: float
    ci_high: float
    k: int


@dataclass(frozen=True)
class ClaimCheck:
    claim: Claim
    verdict: str
    reasons: tuple[str, ...]
    evidence_verdict: str | None  # what the data alone say (None: nothing pooled)
    disagreeing: tuple[tuple[str, str], ...]  # (sensitivity analysis, its verdict)

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
            "reasons": list(self.reasons),
            "not_robust_to": [{"analysis": a, "verdict": v} for a, v in self.disagreeing],
        }

    def __str__(self) -> str:
        return f"{self.claim.id}: {self.verdict} - {self.claim.text}"


def claimed_side(claim: Claim, benefit: str) -> int:
    """-1 if the claim expects effects below no effect on the analysis scale, +1 if above."""
    lower_is_claimed = (benefit == "lower") == (claim.direction == "benefit")
    return -1 if lower_is_claimed else 1


def evidence_verdict(theta: float | None, side: int, ev: Evidence) -> tuple[str, str]:
    """Rules 3 to 5 for one pooled result: (verdict, the reason in words)."""
    lo, hi = -side * ev.ci_low, -side * ev.ci_high  # flipped so that the claimed side is negative
    lo, hi = min(lo, hi), max(lo, hi)
    if lo > 0:
        return CONTRADICTED, "the confidence interval lies wholly on the other side of no effect"
    excludes_null = hi < 0
    if theta is None:
        if excludes_null:
            return SUPPORTED, "the confidence interval excludes no effect, on the claimed side"
        return NOT_TESTABLE, (
            "the confidence interval includes no effect: the data are too imprecise "
            "to confirm or rule out the claimed direction"
        )
    t = -side * theta
    if t < lo:
        return CONTRADICTED, (
            "the claimed effect lies beyond the confidence interval: the data rule "
            "out an effect as large as claimed"
        )
    if excludes_null:
        return SUPPORTED, (
            "the confidence interval excludes no effect and "
            + ("contains the claimed effect" if t <= hi else "shows an effect at least as large as claimed")
        )
    return NOT_TESTABLE, (
        "the confidence interval includes both no effect and the claimed effect: "
        "the data cannot tell them apart"
    )


def check_claim(
    claim: Claim, measure, benefit: str, main: Evidence | None, sensitivity: tuple[Evidence, ...] = ()
) -> ClaimCheck:
    """The verdict on ``claim`` given the main pooled result (None when nothing could be pooled)
    and the sensitivity analyses, in ``measure`` (an effects.Measure)."""
    theta = None
    if claim.implied_effect is not None:
        moved = float(to_analysis_scale(measure, np.array([claim.implied_effect]))[0])
        theta = moved if np.isfinite(moved) else None
    side = claimed_side(claim, benefit)
    reasons: list[str] = []
    ev_verdict, disagreeing = None, []
    if main is None or main.k == 0:
        reasons.append("no study in this set could be pooled for this outcome")
    else:
        ev_verdict, why = evidence_verdict(theta, side, main)
        reasons.append(f"{main.label} (k = {main.k}): {why}")
        for ev in sensitivity:
            if ev is None or ev.k == 0:
                continue
            v, why_other = evidence_verdict(theta, side, ev)
            if v != ev_verdict:
                disagreeing.append((ev.label, v))
                reasons.append(
                    f"not robust: with the {ev.label} (k = {ev.k}) the verdict would be "
                    f"'{v}', because {why_other}"
                )
    if not claim.primary_source_found:
        verdict = NO_SOURCE
        reasons.insert(0, f"no primary source for this claim could be found (claimed in: {claim.made_in})")
        if ev_verdict is not None:
            reasons.append(f"taken at its word, the pooled data here would make it '{ev_verdict}'")
    else:
        verdict = ev_verdict or NOT_TESTABLE
    if claim.notes:
        reasons.append(claim.notes)
    return ClaimCheck(claim, verdict, tuple(reasons), ev_verdict, tuple(disagreeing))
