"""What the evidence says (the answer, the story the analyses tell), the summary of findings
with the certainty of the evidence, and the claims checked."""

from __future__ import annotations

from metamg.render.evidence import answer_lines, claims_section, story
from metamg.render.findings import certainty_section, findings_table
from metamg.render.sections import ReportContext
from metamg.render.sections.question import excluded_by_status


def section(ap, ctx: ReportContext) -> list[str]:
    out = ["## What the evidence says", ""]
    if ap.analysis is None:
        out += [
            f"**Nothing could be pooled.** None of the {len(ap.table.studies)} candidate studies in "
            "this set gives the numbers an analysis of this question needs"
            + (" with the evidence statuses kept" if excluded_by_status(ap) else "")
            + "; the reasons "
            "are listed below. The honest answer for a journal club is that this question has not "
            "been answered by the evidence that could be found.",
            "",
        ]
    else:
        out += answer_lines(ap) + story(ap) + [""]
    if ap.findings is not None:
        out += findings_table(ap.findings) + certainty_section(ap.findings)
    return out + claims_section(ap.claims, ap.few)
