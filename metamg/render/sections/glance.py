"""At a glance: the title and what a journal club takes in first, in about fifteen lines: the
question (PICO), the answer in one sentence (GRADE's wording), the summary-of-findings row, the
certainty with the domains that lowered it, each claim's verdict in a word, and the forest plot.
It is the handout: the HTML and Word reports print it alone on page 1."""

from __future__ import annotations

from metamg.render.figures import shorten
from metamg.render.findings import certainty_label, findings_row, sof_head
from metamg.render.grade_text import DOMAIN_NAMES, statement_text
from metamg.render.markdown import md_text, md_url
from metamg.render.sections import ReportContext
from metamg.render.sections.question import question_text

HEADING = "## At a glance"
CLAIM_CHARS = 90  # a claim's text in the glance; the claims section quotes it in full


def section(ap, ctx: ReportContext) -> list[str]:
    meta = ap.meta
    out = [f"# {md_text(meta.title)}", "", HEADING, "", f"**Question.** {md_text(question_text(meta))}", ""]
    f = ap.findings
    if f is not None:
        out += [f"**Answer.** {md_text(statement_text(f.statement))}", ""]
        out += [sof_head(f.level), "|" + "---|" * 8, findings_row(f), ""]
        if f.certainty is not None:
            level = certainty_label(f.certainty.level)
            out += [f"**Certainty (GRADE, suggested):** {level}; {_lowered(f.certainty)}", ""]
    elif ap.analysis is None:
        out += [
            f"**Answer.** Nothing could be pooled: none of the {len(ap.table.studies)} candidate studies "
            "gives the numbers this question needs (the reasons are listed below).",
            "",
        ]
    if ap.claims:
        out += ["**Claims checked.**", ""]
        out += [f"- {_quote(c.claim.text)}: **{c.verdict}**" for c in ap.claims]
        out.append("")
    if ctx.figures.get("forest"):
        out += [f"![Forest plot of {md_text(meta.title)}]({md_url(ctx.figures['forest'])})", ""]
    return out


def _lowered(certainty) -> str:
    down = [d for d in certainty.domains if d.rating in ("serious", "very serious")]
    if not down:
        return "no domain lowered it."
    return "lowered for " + ", ".join(f"{DOMAIN_NAMES[d.domain].lower()} ({d.rating})" for d in down) + "."


def _quote(text: str) -> str:
    return f"“{md_text(shorten(text, CLAIM_CHARS))}”"
