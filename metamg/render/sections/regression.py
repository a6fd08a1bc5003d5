"""The meta-regressions the metadata names: coefficients, the test of moderators, the residual
heterogeneity, and the bubble plot for one continuous moderator."""

from __future__ import annotations

from metamg.render.markdown import md_paragraphs, md_text, md_url, table_row
from metamg.render.numbers import fmt_num, fmt_pvalue, level_label
from metamg.render.sections import ReportContext
from metamg.render.text import model_words, qm_text


def bubble_file(name: str, index: int) -> str:
    """The file name of a set's ``index``-th (1-based) meta-regression bubble plot."""
    return f"{name}-regression-{index}.png"


def section(ap, ctx: ReportContext) -> list[str]:
    if ap.analysis is None or not ap.regressions:
        return []
    r = ap.analysis.result
    m = ap.analysis.measure
    out = [
        "",
        "## Meta-regression",
        "",
        f"Each moderator named in the metadata, with the main analysis's model ({model_words(r)}); "
        f"coefficients on the {m.scale} scale of the {m.label}, intervals {level_label(r.level)}.",
    ]
    for n, reg in enumerate(ap.regressions, 1):
        fit, design = reg.fit, reg.design
        out += ["", f"### {md_text(', '.join(reg.spec.mods))}", ""]
        for paragraph in md_paragraphs(reg.spec.why):
            out += [paragraph, ""]
        for column, ref in design.reference_levels.items():
            out += [f"{md_text(column)}: reference level {md_text(ref)}.", ""]
        if design.dropped:
            out += [
                f"Left out for a missing moderator value: {', '.join(md_text(d) for d in design.dropped)}.",
                "",
            ]
        stat = "z" if fit.df is None else f"t({fit.df})"
        out += [
            table_row(["Coefficient", "Estimate", f"{level_label(r.level)} CI", stat, "p"]),
            "|---|---|---|---|---|",
        ]
        out += [
            table_row(
                [
                    md_text(c.name),
                    f"{c.estimate:.4f}",
                    f"{c.ci_low:.4f} to {c.ci_high:.4f}",
                    f"{c.statistic:.2f}",
                    fmt_pvalue(c.p),
                ]
            )
            for c in fit.coefficients
        ]
        r2 = (
            ""
            if fit.r2 is None
            else (
                f"; R² {fit.r2:.0f}%"
                + (" (adjusted, weighted least squares)" if fit.method == "FE" else " of tau² explained")
            )
        )
        out += [
            "",
            f"Test of moderators: {qm_text(fit)}. Residual heterogeneity: tau² = "
            f"{fmt_num(fit.tau2, 4)}, I² = {fit.i2:.0f}%; QE({fit.qe_df}) = {fit.qe:.2f}{r2}.",
        ]
        figure = ctx.figures.get(f"regression-{n}")
        if figure:
            out += [
                "",
                f"![Bubble plot of the meta-regression on {md_text(fit.coefficients[1].name)}]"
                f"({md_url(figure)})",
            ]
    return out
