"""The studies: which are pooled and why, their data, effects, weights and provenance, the
candidates not pooled with their reasons, and the warnings."""

from __future__ import annotations

from metamg.io.metadata import unfilled
from metamg.render.evidence import not_pooled_section
from metamg.render.forest import data_columns
from metamg.render.markdown import md_paragraphs, md_text, md_url, table_row
from metamg.render.notes_text import notes_text
from metamg.render.numbers import effect_digits, fmt_ci, fmt_num, level_label, studies
from metamg.render.sections import ReportContext
from metamg.vocabulary import PROVENANCE_COLUMNS, STATUS_COLUMN, VERIFIED_STATUSES

# the provenance columns shown, the evidence status first
PROVENANCE = (STATUS_COLUMN,) + tuple(c for c in PROVENANCE_COLUMNS if c != STATUS_COLUMN)
MAX_TABLE_STUDIES = 500  # beyond this, the per-study table goes to NAME-studies.csv


def section(ap, ctx: ReportContext) -> list[str]:
    meta, table, effects, analysis = ap.meta, ap.table, ap.effects, ap.analysis
    k = effects.k
    statuses = effects.extra.get("evidence_status")
    out = ["## The studies", ""]
    if "inclusion" not in unfilled(meta):
        paragraphs = md_paragraphs(meta.inclusion)
        out += [f"**Which studies are pooled, and why.** {paragraphs[0]}", ""] + [
            x for p in paragraphs[1:] for x in (p, "")
        ]
    out.append(
        f"{studies(k)} pooled"
        + (
            f"; {studies(len(effects.excluded)).replace(' ', ' candidate ', 1)} not pooled (listed below)."
            if effects.excluded
            else "."
        )
    )
    if statuses is not None and k:
        unverified = [
            s
            for s, st in zip(effects.studies, statuses, strict=True)
            if not all(x.strip() in VERIFIED_STATUSES for x in st.split(";"))
        ]
        if unverified:
            out.append(
                f"**{len(unverified)} of the {k} pooled studies have numbers not verified "
                f"against the full text or abstract** (evidence status other than "
                f"full-text/abstract)"
                + (
                    ": " + ", ".join(md_text(u) for u in unverified)
                    if len(unverified) <= MAX_TABLE_STUDIES
                    else ""
                )
                + "."
            )
    out.append("")
    for note in notes_text(effects.notes):
        out.append(f"- {md_text(note)}.")
    if effects.converted:
        out.append(
            f"- Given as an effect with its confidence interval (converted as metafor's "
            f"conv.wald does): {', '.join(md_text(c) for c in effects.converted)}."
        )
    if effects.notes or effects.converted:
        out.append("")
    if analysis is not None:
        out += study_table(analysis, effect_digits(effects.measure), ctx.studies_csv)
    out += not_pooled_section(table, ap.reported_not_pooled, ap.options.level)
    warnings = analysis.warnings if analysis is not None else effects.warnings
    if warnings:
        out += ["", "Warnings:", ""] + [f"- {md_text(w)}" for w in notes_text(warnings)]
    return out


def study_table(analysis, digits, studies_csv=None):
    """Raw data, effect, weight and provenance per study; a provenance column whose value is
    the same for every study is said once above the table instead of in every row."""
    es = analysis.effects
    if studies_csv:
        return [
            f"The {es.k:,} studies' effects and weights are in [{md_text(studies_csv)}]"
            f"({md_url(studies_csv)}) (more than {MAX_TABLE_STUDIES} rows: too many for a table "
            "here).",
            "",
        ]
    nat = analysis.natural
    lvl = level_label(analysis.result.level)
    prov = [c for c in PROVENANCE if c in es.extra]
    common = [c for c in prov if len(set(es.extra[c])) == 1 and es.extra[c] and es.extra[c][0].strip()]
    varying = [c for c in prov if c not in common and any(v.strip() for v in es.extra[c])]
    lines = [f"- All studies, {c.replace('_', ' ')}: {md_text(es.extra[c][0])}" for c in common]
    if lines:
        lines.append("")
    heads, cells_of = data_columns(analysis)
    head = (
        ["Study"]
        + [h.replace("\n", " ") for h in heads]
        + [f"{analysis.measure.name} ({lvl} CI)", "Weight"]
        + [c.replace("_", " ") for c in varying]
    )
    lines += [table_row(head), "|" + "---|" * len(head)]
    for i, row in enumerate(analysis.rows):
        cells = (
            [md_text(row.study)]
            + [md_text(c) for c in cells_of(row.study)]
            + [
                f"{fmt_num(nat(row.yi), digits)} ({fmt_ci(nat(row.ci_low), nat(row.ci_high), digits)})",
                "" if row.weight is None else f"{row.weight:.1f}%",
            ]
        )
        cells += [md_text(es.extra[c][i]) for c in varying]
        lines.append(table_row(cells))
    return lines
