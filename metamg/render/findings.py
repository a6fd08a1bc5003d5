"""Markdown for the certainty of evidence (GRADE) and the summary-of-findings table."""

from __future__ import annotations

from metamg.render.grade_text import (
    CONTROL_RISK_SOURCES,
    DOMAIN_NAMES,
    THRESHOLD_SOURCES,
    reasons_text,
    statement_text,
)
from metamg.render.markdown import md_text, md_url, table_row
from metamg.render.numbers import fmt_ci, fmt_fixed, level_label, studies

SYMBOLS = {"high": "⊕⊕⊕⊕", "moderate": "⊕⊕⊕◯", "low": "⊕⊕◯◯", "very low": "⊕◯◯◯"}


def sof_head(level: float | None = 0.95) -> str:
    """The table head; ``level`` None when rows come from reports at different levels."""
    lvl = level_label(level) if level is not None else "each report's"
    return table_row(
        [
            "Outcome",
            "Participants (studies)",
            f"Relative effect ({lvl} CI)",
            "Risk with control",
            f"Risk with intervention ({lvl} CI)",
            f"Difference ({lvl} CI)",
            "Certainty (suggested)",
            "What happens",
        ]
    )


def certainty_label(level: str | None) -> str:
    return f"{SYMBOLS[level]} {level[0].upper()}{level[1:]}" if level else "no evidence"


def findings_row(f, study_set: str = "") -> str:
    """One summary-of-findings table row (``study_set`` links the outcome to its report)."""
    outcome = f"[{md_text(f.outcome)}]({md_url(study_set)})" if study_set else md_text(f.outcome)
    n = (
        "—"
        if f.studies == 0
        else "not given"
        if f.participants is None
        else f"{f.participants:,}"
        + (f" (+{studies(f.participants_missing)} not giving numbers)" if f.participants_missing else "")
    )
    people = f"{n} ({studies(f.studies)})"
    relative = (
        f"{f.measure} {fmt_fixed(f.relative[0])} ({fmt_ci(f.relative[1], f.relative[2])})"
        if f.relative
        else "—"
    )
    ab = f.absolute
    if ab is not None:
        control = f"{ab.control_risk * 1000:.0f} per 1,000"
        treated = f"{ab.risk_with:.0f} per 1,000 ({ab.risk_with_low:.0f} to {ab.risk_with_high:.0f})"
        difference = (
            f"{_more_fewer(ab.per_1000)} per 1,000 ({_more_fewer(ab.per_1000_low)} to "
            f"{_more_fewer(ab.per_1000_high)})"
        )
    else:
        control = treated = "—"
        difference = (
            f"{f.measure} {_higher_lower(f.difference[0])} ({_higher_lower(f.difference[1])} "
            f"to {_higher_lower(f.difference[2])})"
            if f.difference
            else "—"
        )
    if f.studies == 0:
        relative = difference = "no study could be pooled"
    level = f.certainty.level if f.certainty else None
    return table_row(
        [
            outcome,
            people,
            relative,
            control,
            treated,
            difference,
            certainty_label(level),
            md_text(statement_text(f.statement)),
        ]
    )


def findings_table(findings, title: str = "Summary of findings") -> list[str]:
    f = findings
    lines = [f"## {title}", ""]
    lines += [sof_head(f.level), "|" + "---|" * 8, findings_row(f)]
    notes = []
    if f.absolute is not None:
        notes.append(
            f"Risk with control: {CONTROL_RISK_SOURCES[f.absolute.control_risk_source]}; "
            "risk with the intervention and the difference follow from the pooled relative effect "
            "(Cochrane Handbook 14.1.5.1)."
        )
    if f.difference is not None:
        notes.append(f"Difference on the scale of the measure ({f.measure}), intervention minus control.")
    if f.certainty is not None:
        notes.append(
            "Certainty is a suggestion computed from the data (next section) and needs human judgement."
        )
    return lines + ([""] + [f"- {n}" for n in notes] if notes else []) + [""]


def certainty_section(findings) -> list[str]:
    c = findings.certainty
    if c is None:
        return []
    out = [
        "## How sure can we be? (GRADE, suggested)",
        "",
        f"**Certainty of the evidence: {certainty_label(c.level)}** — a *suggestion* computed from "
        f"the data, which needs human judgement. It starts {c.start} ({c.design} studies) and drops "
        f"one level per serious concern, two per very serious one.",
        "",
        "| Domain | Rating used | Reason | Suggested from the data |",
        "|---|---|---|---|",
    ]
    for d in c.domains:
        used = f"**{d.rating}**" + (" (the user's judgement)" if d.overridden else "")
        if not d.assessable and not d.overridden:
            used += " (not assessable)"
        suggested = (
            "— (a judgement the data cannot make)"
            if d.domain == "indirectness" and d.overridden
            else f"{d.suggested}: {reasons_text(d.suggested_reasons)}"
            if d.overridden
            else "same"
        )
        out.append(
            table_row([DOMAIN_NAMES[d.domain], used, md_text(reasons_text(d.reasons)), md_text(suggested)])
        )
    if c.thresholds:
        out += [
            "",
            f"Decision thresholds: {fmt_fixed(c.thresholds[0])} and {fmt_fixed(c.thresholds[1])} "
            f"({THRESHOLD_SOURCES[c.threshold_source]}).",
        ]
    else:
        out += ["", f"Decision thresholds: none ({THRESHOLD_SOURCES[c.threshold_source]})."]
    overrides = [d for d in c.domains if d.overridden]
    if overrides:
        out += [
            "",
            "Overridden in the metadata ([grade]): "
            + "; ".join(
                f"{DOMAIN_NAMES[d.domain].lower()} rated {d.rating} (suggested {d.suggested})"
                for d in overrides
            )
            + ".",
        ]
    return out + [""]


def index_findings(rows, level: float | None = 0.95) -> list[str]:
    """The summary-of-findings table of every study set (rows from ``findings_row``), for
    reports/index.md."""
    if not rows:
        return []
    return [
        "",
        "## Summary of findings",
        "",
        "One row per study set; certainty is GRADE's, suggested from the data (see each report "
        "for the reasons and any override).",
        "",
        sof_head(level),
        "|" + "---|" * 8,
    ] + list(rows)


def _more_fewer(x: float) -> str:
    n = round(abs(x))
    return "no difference" if n == 0 else f"{n} {'more' if x > 0 else 'fewer'}"


def _higher_lower(x: float) -> str:
    return f"{fmt_fixed(abs(x))} {'higher' if x > 0 else 'lower'}" if round(x, 2) != 0 else "0.00"
