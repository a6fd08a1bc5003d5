"""The forest plot, the risk-of-bias plots and the funnel plot (or why one was not drawn)."""

from __future__ import annotations

from metamg.render.markdown import md_url
from metamg.render.numbers import studies
from metamg.render.sections import ReportContext

FUNNEL_MIN_K = 10  # Cochrane Handbook 13.3.5.4


def section(ap, ctx: ReportContext) -> list[str]:
    if ap.analysis is None:
        return []
    analysis, r = ap.analysis, ap.analysis.result
    out = [""]
    if ctx.figures.get("forest"):  # drawn in "At a glance"
        if ap.answer is not analysis or ap.models_disagree:
            out += [
                "## Forest plot",
                "",
                "Both pooled estimates are drawn in the forest plot (at a glance, above): the "
                "diamond of the main analysis and that of the other model"
                + (
                    ', which the verdicts use (see "What the evidence says").'
                    if ap.answer is not analysis
                    else ", because the two models disagree."
                ),
                "",
            ]
    else:
        out += ["## Forest plot", "", ctx.figure_notes.get("forest", "Not drawn."), ""]
    if ctx.figures.get("rob_traffic"):
        out += [
            "## Risk of bias (RoB 2)",
            "",
            "Judgements per study and domain as recorded in the study set (blank = not assessed), "
            "and each domain's share of the analysis weight.",
            "",
            f"![Risk-of-bias traffic-light plot]({md_url(ctx.figures['rob_traffic'])})",
            "",
            f"![Risk-of-bias summary weighted by the analysis]({md_url(ctx.figures['rob_summary'])})",
            "",
        ]
    out += ["## Funnel plot", ""]
    if ctx.figures.get("funnel"):
        out += [
            f"![Contour-enhanced funnel plot]({md_url(ctx.figures['funnel'])})",
            "",
            "Shaded regions: where a study would be statistically significant against no "
            "effect (p < 0.10, 0.05, 0.01). Gaps in the white region on one side suggest "
            "missing small studies.",
        ]
    else:
        out += [
            f"Not drawn: {studies(r.k)}, and a funnel plot needs at least "
            f"{FUNNEL_MIN_K} to say anything about small-study effects (Cochrane Handbook 13.3.5.4)."
        ]
    return out
