"""Journal-club reports: one markdown file per study set with its figures, and an index.

Everything shown is computed once by ``metamg.analyses.appraisal.appraise``; the sections are
laid out in reading order from ``render/sections/`` (one module each), and this module draws
the figures, writes the files and keeps the index. Text users typed goes through
``render.markdown``. Reports hold no wall-clock time, so an unchanged input gives a
byte-identical report.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from metamg.analyses.appraisal import Appraisal
from metamg.errors import InputError, Problem
from metamg.io.atomic import ensure_directory, write_atomic
from metamg.io.rob import has_rob
from metamg.render.claims_text import disagreeing_text
from metamg.render.findings import certainty_label, findings_row, index_findings
from metamg.render.forest import MAX_FOREST_STUDIES, forest_rows, write_forest
from metamg.render.funnel import write_funnel
from metamg.render.grade_text import statement_text
from metamg.render.intervals import prediction_shown
from metamg.render.markdown import md_text, md_url, table_row
from metamg.render.numbers import effect_digits, fmt_ci, fmt_num, fmt_p, level_label, studies
from metamg.render.sections import ReportContext
from metamg.render.sections import answer as answer_section
from metamg.render.sections import few as few_section
from metamg.render.sections import figures as figures_section
from metamg.render.sections import glance as glance_section
from metamg.render.sections import methods as methods_section
from metamg.render.sections import published as published_section
from metamg.render.sections import question as question_section
from metamg.render.sections import regression as regression_section
from metamg.render.sections import restricted as restricted_section
from metamg.render.sections import result as result_section
from metamg.render.sections import robust as robust_section
from metamg.render.sections import studies as studies_section
from metamg.render.sections.figures import FUNNEL_MIN_K
from metamg.render.sections.question import question_text
from metamg.render.sections.studies import MAX_TABLE_STUDIES
from metamg.vocabulary import DEFAULT_REPORT_FORMATS, REPORT_FORMATS
from metamg.vocabulary import VERIFIED_STATUSES as VERIFIED

if TYPE_CHECKING:
    from metamg.analyses.claims import ClaimCheck
    from metamg.analyses.findings import Findings

# The report, in reading order: each module's section(appraisal, context) gives its lines.
SECTIONS = (
    glance_section,
    question_section,
    answer_section,
    published_section,
    studies_section,
    result_section,
    few_section,
    figures_section,
    restricted_section,
    robust_section,
    regression_section,
    methods_section,
)
RESERVED_NAMES = ("index",)  # a study set of this name would overwrite the index


@dataclass(frozen=True)
class ReportSummary:
    name: str
    title: str
    question: str
    k: int
    effect: str  # "OR 0.46 (95% CI 0.31 to 0.69)", or why nothing was pooled
    i2: float | None
    hints: tuple[str, ...]
    path: str
    claims: tuple[ClaimCheck, ...] = ()
    findings: Findings | None = None  # the summary-of-findings row
    appraisal: Appraisal | None = None


def report_name(csv_path) -> str:
    """The study set's name (its CSV's stem), refused when it would collide with the index."""
    name = os.path.splitext(os.path.basename(os.fspath(csv_path)))[0]
    if name.lower() in RESERVED_NAMES:
        raise InputError(
            [
                Problem(
                    os.fspath(csv_path),
                    f"a study set cannot be named '{name}': its "
                    f"report would overwrite the reports' {name}.md; rename the file",
                )
            ]
        )
    return name


def render_report(ap: Appraisal, csv_path, outdir, formats=DEFAULT_REPORT_FORMATS) -> ReportSummary:
    """Write the report of an appraisal (figures first, then NAME.md and NAME.html, .docx, .pdf
    as ``formats`` asks) and return its index row."""
    name = ap.meta.name
    ensure_directory(outdir)
    figures, figure_notes = {}, {}
    a = ap.analysis
    if a is not None:
        if forest_rows(a) <= MAX_FOREST_STUDIES:
            figures["forest"] = f"{name}-forest.png"
            write_forest(
                a,
                os.path.join(outdir, figures["forest"]),
                ap.meta,
                subgroups=ap.subgroups,
                answer=ap.answer if ap.answer is not a else None,
                other=ap.other if ap.models_disagree and ap.answer is a else None,
            )
        else:
            figure_notes["forest"] = (
                f"Not drawn: {forest_rows(a):,} studies cannot be shown legibly in one "
                f"forest plot (at most {MAX_FOREST_STUDIES:,}); the per-study "
                "numbers are in the table of studies."
            )
        if a.result.k >= FUNNEL_MIN_K:
            figures["funnel"] = f"{name}-funnel.png"
            write_funnel(
                a,
                os.path.join(outdir, figures["funnel"]),
                ap.meta.title,
                ap.bias.trimfill if ap.bias else None,
            )
        if has_rob(a.effects.extra) and a.result.k <= MAX_FOREST_STUDIES:
            from metamg.render.robplot import analysis_rob_layout, write_rob_plots

            figures["rob_traffic"], figures["rob_summary"] = (
                f"{name}-rob-traffic.png",
                f"{name}-rob-summary.png",
            )
            write_rob_plots(
                analysis_rob_layout(a, f"{ap.meta.title}: risk of bias (RoB 2)"),
                os.path.join(outdir, figures["rob_traffic"]),
                os.path.join(outdir, figures["rob_summary"]),
            )
    if ap.few is not None and ap.few.curves is not None:
        from metamg.render.bayes_plots import draw_posterior
        from metamg.render.figures import save_figure

        figures["bayes"] = f"{name}-bayes.png"
        save_figure(draw_posterior(ap.few.curves), os.path.join(outdir, figures["bayes"]))
    for n, reg in enumerate(ap.regressions, 1):
        if reg.bubble:
            from metamg.render import diagnostics

            figures[f"regression-{n}"] = regression_section.bubble_file(name, n)
            diagnostics.write(
                diagnostics.draw_bubble(a, reg.fit, reg.design, ap.meta.title),
                os.path.join(outdir, figures[f"regression-{n}"]),
            )
    studies_csv = None
    if a is not None and a.result.k > MAX_TABLE_STUDIES:
        from metamg.render.text import studies_csv as csv_text

        studies_csv = f"{name}-studies.csv"
        write_atomic(os.path.join(outdir, studies_csv), csv_text(a))
    ctx = ReportContext(os.fspath(csv_path), os.fspath(outdir), figures, figure_notes, studies_csv)
    parts = ["\n".join(s.section(ap, ctx)) for s in SECTIONS]
    text = "\n".join(p for p in parts if p) + "\n"
    summary = _summary(ap)
    path = os.path.join(outdir, f"{name}.md")
    write_atomic(path, text)
    write_formats(outdir, name, ap.meta.title, text, parts[0], "\n".join(p for p in parts[1:] if p), formats)
    return replace(summary, path=path)


def write_formats(outdir, name, title, markdown, glance_md, details_md, formats) -> None:
    """NAME.html, NAME.pdf (the HTML printed) and NAME.docx, from the Markdown just written."""
    unknown = [f for f in formats if f not in REPORT_FORMATS]
    if unknown:
        raise ValueError(f"unknown report format {unknown[0]!r}; choose from {', '.join(REPORT_FORMATS)}")
    if "html" in formats or "pdf" in formats:
        from metamg.render.html import html_page

        page = html_page(title, glance_md, details_md, outdir)
        if "html" in formats:
            write_atomic(os.path.join(outdir, f"{name}.html"), page)
        if "pdf" in formats:
            from metamg.render.pdf import write_pdf

            write_pdf(page, outdir, os.path.join(outdir, f"{name}.pdf"))
    if "docx" in formats:
        from metamg.render.docx import write_docx

        write_docx(markdown, outdir, os.path.join(outdir, f"{name}.docx"))


INDEX_STATE = "index.json"  # each set's index rows, so that reporting one set keeps the others


def write_index(summaries, outdir, formats=DEFAULT_REPORT_FORMATS) -> str:
    """reports/index.md: the rows of ``summaries`` (ReportSummary, or their ``index_entry``)
    merged with those of every other set reported into ``outdir`` before (kept in
    index.json), dropping sets whose report is gone."""
    state_path = os.path.join(outdir, INDEX_STATE)
    entries = {}
    try:
        with open(state_path, encoding="utf-8") as fh:
            stored = json.load(fh)
        if isinstance(stored, dict) and stored.get("format") == "metamg-index-1":
            entries = {e["name"]: e for e in stored.get("sets", []) if isinstance(e, dict) and "name" in e}
    except (OSError, ValueError, KeyError, TypeError):
        entries = {}  # no state yet, or a damaged one: the index is rebuilt from this run
    for s in summaries:
        entry = s if isinstance(s, dict) else index_entry(s)
        entries[entry["name"]] = entry
    entries = {n: e for n, e in entries.items() if os.path.exists(os.path.join(outdir, e.get("report", "")))}
    ordered = [entries[n] for n in sorted(entries)]
    write_atomic(
        state_path,
        json.dumps({"format": "metamg-index-1", "sets": ordered}, indent=1, ensure_ascii=False) + "\n",
    )
    glance = [
        "# Journal-club reports",
        "",
        "## At a glance",
        "",
        "Each study set's answer in GRADE's words, the certainty of the evidence, and the verdicts "
        "on the claims it checks.",
        "",
        "| study set | answer | certainty | claims |",
        "|---|---|---|---|",
    ] + [e["glance"] for e in ordered if e.get("glance")]
    lines = [
        "## The study sets",
        "",
        "One line per study set: the question, how many studies were pooled, the pooled effect "
        "with its confidence interval, I², and what should make a reader careful.",
        "",
        "| study set | question | k | pooled effect | I² | be careful about |",
        "|---|---|---|---|---|---|",
    ]
    lines += [e["row"] for e in ordered]
    levels = {e.get("level", 0.95) for e in ordered}
    lines += index_findings(
        [e["findings"] for e in ordered if e.get("findings")], levels.pop() if len(levels) == 1 else None
    )
    claims = [row for e in ordered for row in e.get("claims", [])]
    if claims:
        lines += [
            "",
            "## Claims checked",
            "",
            "Every claim recorded in a study set's metadata, with its verdict (see each report "
            "for the reasons).",
            "",
            "| claim | claimed in | study set | verdict |",
            "|---|---|---|---|",
        ] + claims
    path = os.path.join(outdir, "index.md")
    glance_md, details_md = "\n".join(glance) + "\n", "\n".join(lines) + "\n"
    write_atomic(path, glance_md + "\n" + details_md)
    write_formats(
        outdir,
        "index",
        "Journal-club reports",
        glance_md + "\n" + details_md,
        glance_md,
        details_md,
        [f for f in formats if f in ("html", "pdf")],
    )
    return path


def index_entry(s: ReportSummary) -> dict:
    """The rendered index rows of one study set (plain JSON: what index.json keeps)."""
    report = os.path.basename(s.path)
    link = f"[{md_text(s.title)}]({md_url(report)})"
    hints = "; ".join(md_text(h) for h in s.hints) or "nothing flagged"
    i2 = "" if s.i2 is None else f"{s.i2:.0f}%"
    row = table_row([link, md_text(s.question), str(s.k), md_text(s.effect), i2, hints])
    claims = []
    for c in s.claims:
        verdict = c.verdict + ("" if c.robust else " (not robust: " + disagreeing_text(c) + ")")
        claims.append(
            table_row([md_text(c.claim.text), md_text(c.claim.made_in), link, f"**{md_text(verdict)}**"])
        )
    level = s.findings.level if s.findings is not None else 0.95
    return {
        "name": s.name,
        "report": report,
        "glance": _glance_row(s, link),
        "row": row,
        "level": level,
        "findings": findings_row(s.findings, report) if s.findings is not None else None,
        "claims": claims,
    }


def _glance_row(s: ReportSummary, link: str) -> str:
    """The set's line of the index's "At a glance": answer, certainty, claim verdicts."""
    f = s.findings
    answer = statement_text(f.statement) if f is not None else "nothing could be pooled"
    level = certainty_label(f.certainty.level) if f is not None and f.certainty is not None else "—"
    counts: dict[str, int] = {}
    for c in s.claims:
        counts[c.verdict] = counts.get(c.verdict, 0) + 1
    verdicts = "; ".join(f"{n} {v}" for v, n in counts.items()) or "none recorded"
    return table_row([link, md_text(answer), level, md_text(verdicts)])


def _summary(ap: Appraisal) -> ReportSummary:
    """The set's row of the index."""
    effect, i2 = _summary_effect(ap, effect_digits(ap.effects.measure))
    return ReportSummary(
        ap.meta.name,
        ap.meta.title,
        question_text(ap.meta),
        ap.effects.k,
        effect,
        i2,
        _hints(ap, ap.effects.extra.get("evidence_status")),
        "",
        ap.claims,
        ap.findings,
        ap,
    )


def _summary_effect(ap: Appraisal, digits):
    """The index's pooled effect: the answer's, saying which model when it is not the main one."""
    a = ap.answer
    if ap.analysis is None or a is None:  # (an analysis always has an answer)
        return "nothing could be pooled", None
    r = a.result
    value = (
        f"{fmt_num(a.natural(r.estimate), digits)} ({level_label(r.level)} CI "
        f"{fmt_ci(a.natural(r.ci_low), a.natural(r.ci_high), digits)})"
    )
    text = f"{a.measure.name} {value}"
    if a is not ap.analysis:
        text += " (common-effect model: small-study effects)"
    return text, ap.analysis.result.i2


def _hints(ap: Appraisal, statuses) -> tuple[str, ...]:
    analysis, effects = ap.analysis, ap.effects
    if analysis is None:
        return (f"{len(effects.excluded)} candidate studies, none poolable",)
    r = analysis.result
    hints = []
    if r.k < FUNNEL_MIN_K:
        hints.append(f"only {studies(r.k)}: small-study effects cannot be assessed")
    if ap.models_disagree:
        hints.append("common-effect and random-effects models disagree")
    if ap.small_study_effects and ap.bias is not None and ap.bias.egger is not None:
        hints.append(f"funnel asymmetry (Egger {fmt_p(ap.bias.egger.p)})")
    if r.i2 >= 50:
        hints.append(f"I² {r.i2:.0f}%")
    pi = (r.pi_low, r.pi_high) if prediction_shown(r) else None
    if (
        pi is not None
        and pi[0] is not None
        and pi[1] is not None
        and pi[0] < 0 < pi[1]
        and not r.ci_low < 0 < r.ci_high
    ):
        hints.append("prediction interval includes no effect")
    if statuses is not None:
        n = sum(1 for s in statuses if not all(x.strip() in VERIFIED for x in s.split(";")))
        if n:
            hints.append(f"{n} of {r.k} studies not verified against full text or abstract")
    if analysis.excluded:
        hints.append(f"{len(analysis.excluded)} candidate studies not pooled")
    return tuple(hints)
