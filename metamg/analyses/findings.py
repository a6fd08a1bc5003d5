"""Summary of findings (GRADE / Cochrane Handbook chapter 14): one row per outcome with the
relative and absolute effects, the certainty and a plain-language statement.

Absolute effects of binary outcomes are risks per 1,000 at the assumed control-group risk
(Handbook 14.1.5.1); statements use GRADE's standard wording (Santesso N et al., GRADE
guidelines 26, J Clin Epidemiol 2020;119:126-135; Cochrane's plain-language-summary phrasing).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

from metamg.analyses.grade import (
    Certainty,
    control_risk,
    decision_thresholds,
    grade_certainty,
    participants,
    treated_risk,
)
from metamg.io.metadata import GradeSettings
from metamg.models.display import html_table, interval, num, one_line


@dataclass(frozen=True)
class AbsoluteEffect:
    """Binary outcomes: risks per 1,000 at the assumed control-group risk."""

    control_risk: float
    control_risk_source: str  # grade.CONTROL_RISK_SOURCES
    per_1000: float  # difference, intervention minus control
    per_1000_low: float
    per_1000_high: float
    risk_with: float  # intervention-group risk per 1,000
    risk_with_low: float
    risk_with_high: float
    nnt: int | None  # when the CI excludes no effect
    nnt_kind: str = ""  # "benefit" (number needed to treat) or "harm" (to harm)


def absolute_effect(
    analysis, benefit: str = "lower", settings: GradeSettings = GradeSettings()
) -> AbsoluteEffect | None:
    """The pooled effect as risks per 1,000 (binary outcomes; None otherwise or without a
    control risk)."""
    m, r = analysis.measure, analysis.result
    if m.data_type != "binary" or m.name not in ("RR", "OR", "RD"):
        return None
    p0, source = control_risk(analysis.effects, settings)
    if p0 is None:
        return None
    risks = [1000 * treated_risk(m.name, p0, x) for x in (r.estimate, r.ci_low, r.ci_high)]
    diffs = [x - 1000 * p0 for x in risks]
    lo, hi = min(diffs[1:]), max(diffs[1:])
    nnt, kind = None, ""
    if (lo > 0 or hi < 0) and diffs[0] != 0:
        nnt = math.ceil(1000 / abs(diffs[0]))
        good = (diffs[0] < 0) == (benefit == "lower")
        kind = "benefit" if good else "harm"
    return AbsoluteEffect(p0, source, diffs[0], lo, hi, risks[0], min(risks[1:]), max(risks[1:]), nnt, kind)


STATEMENT_KINDS = ("important", "small", "no_difference", "very_uncertain", "not_pooled")


@dataclass(frozen=True)
class Statement:
    """GRADE's informative statement as data (GRADE guidelines 26, Table 2): which kind of
    statement the certainty and the effect call for, and the words it needs; ``render`` words it
    ("Magnesium probably reduces death slightly.")."""

    kind: str  # STATEMENT_KINDS
    certainty: str | None  # the GRADE level; None when nothing was pooled
    direction: str | None  # "reduce" or "increase"; None for no difference
    intervention: str
    outcome: str

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class Findings:
    """One row of a summary-of-findings table."""

    outcome: str
    studies: int
    participants: int | None
    participants_missing: int  # pooled studies that do not give their numbers
    measure: str
    relative: tuple[float, float, float] | None  # ratio measures, natural scale
    difference: tuple[float, float, float] | None  # difference measures, natural scale
    absolute: AbsoluteEffect | None
    level: float
    certainty: Certainty | None
    statement: Statement

    def to_dict(self) -> dict:
        d = asdict(self)
        d["certainty"] = self.certainty.to_dict() if self.certainty else None
        d["statement"] = self.statement.to_dict()
        return d

    def __str__(self) -> str:
        effect = self.relative or self.difference
        text = (
            f"{self.outcome}: {self.studies} studies, {self.participants} participants; "
            + (f"{self.measure} {effect[0]:.2f} ({effect[1]:.2f} to {effect[2]:.2f}); " if effect else "")
            + (f"certainty {self.certainty.level} (suggested); " if self.certainty else "")
        )
        return text + f"statement: {self.statement.kind}"

    def __repr__(self) -> str:
        return one_line(f"Findings({self})")

    def _effect(self) -> tuple[str, str]:
        effect = self.relative or self.difference
        if effect is None:
            return "–", "–"
        return num(effect[0], 3), interval(effect[1], effect[2], 3)

    def _repr_html_(self) -> str:
        est, ci = self._effect()
        a = self.absolute
        per_1000 = (
            f"{num(a.per_1000, 3)} per 1,000 {interval(a.per_1000_low, a.per_1000_high, 3)}"
            if a is not None
            else "–"
        )
        return html_table(
            (
                "outcome",
                "studies",
                "participants",
                self.measure,
                f"{self.level:.0%} CI",
                "absolute effect",
                "certainty",
                "statement",
            ),
            [
                (
                    self.outcome,
                    num(self.studies),
                    num(self.participants),
                    est,
                    ci,
                    per_1000,
                    self.certainty.level if self.certainty else "–",
                    self.statement.kind,
                )
            ],
            "Summary of findings",
        )

    def to_frame(self):
        """One row: the outcome, its effect (natural scale), absolute effect, certainty and kind of
        statement."""
        from metamg.models.display import frame

        effect = self.relative or self.difference or (None, None, None)
        a = self.absolute
        return frame(
            [
                {
                    "outcome": self.outcome,
                    "studies": self.studies,
                    "participants": self.participants,
                    "measure": self.measure,
                    "effect": effect[0],
                    "ci_low": effect[1],
                    "ci_high": effect[2],
                    "level": self.level,
                    "per_1000": a.per_1000 if a else None,
                    "per_1000_low": a.per_1000_low if a else None,
                    "per_1000_high": a.per_1000_high if a else None,
                    "nnt": a.nnt if a else None,
                    "certainty": self.certainty.level if self.certainty else None,
                    "statement": self.statement.kind,
                }
            ]
        )


def plain_statement(
    level: str, estimate: float, ci_low: float, ci_high: float, thresholds, intervention: str, outcome: str
) -> Statement:
    """GRADE's informative statement for an effect (analysis scale) at a certainty ``level``.

    Important: the point estimate is at or beyond a decision threshold (or, without thresholds,
    the CI excludes no effect). Small: inside the thresholds with a CI that excludes no effect.
    Little or no difference: otherwise. At very low certainty, only that the evidence is very
    uncertain."""
    direction = "reduce" if estimate < 0 else "increase"
    if level == "very low":
        return Statement("very_uncertain", level, None, intervention, outcome)
    excludes_null = ci_low > 0 or ci_high < 0
    if thresholds is not None:
        important = estimate <= thresholds[0] or estimate >= thresholds[1]
        kind = "important" if important else "small" if excludes_null else "no_difference"
    else:
        kind = "important" if excludes_null else "no_difference"
    return Statement(kind, level, None if kind == "no_difference" else direction, intervention, outcome)


def summarise_findings(analysis, meta, tests=None, subgroups=None, random_fit=None) -> Findings:
    """The summary-of-findings row of a study set (``analysis`` None when nothing was pooled);
    the optional arguments are reused as grade_certainty describes."""
    g = meta.grade
    outcome = g.outcome or meta.outcome or "the outcome"
    intervention = g.intervention or meta.intervention or "the intervention"
    if analysis is None:
        return Findings(
            outcome,
            0,
            None,
            0,
            meta.measure or "",
            None,
            None,
            None,
            0.95,
            None,
            Statement("not_pooled", None, None, intervention, outcome),
        )
    m, r = analysis.measure, analysis.result
    certainty = grade_certainty(analysis, g, tests, subgroups, random_fit)
    effect = tuple(analysis.natural(x) for x in (r.estimate, r.ci_low, r.ci_high))
    n, missing = participants(analysis.effects)
    thresholds = decision_thresholds(m, g.mid)[0]
    statement = plain_statement(
        certainty.level, r.estimate, r.ci_low, r.ci_high, thresholds, intervention, outcome
    )
    ratio = m.scale == "log"
    return Findings(
        outcome,
        r.k,
        n,
        missing,
        m.name,
        effect if ratio else None,
        None if ratio else effect,
        absolute_effect(analysis, meta.benefit, g),
        r.level,
        certainty,
        statement,
    )
