"""Journal-club reports: one markdown file per study set with its figures, and an index.

Everything shown is computed once by ``metamg.analyses.appraisal.appraise``; this module lays
the sections out and writes the files. Text users typed goes through ``render.markdown``.
Reports hold no wall-clock time, so an unchanged input gives a byte-identical report.
"""
from __future__ import annotations

import json
import os
import platform
from dataclasses import dataclass, replace

import numpy as np

from metamg.analyses.appraisal import UNVERIFIED_STATUSES, Appraisal, appraise
from metamg.errors import InputError, Problem
from metamg.io.atomic import ensure_directory, write_atomic
from metamg.io.metadata import metadata_path, unfilled
from metamg.io.rob import has_rob
from metamg.vocabulary import VERIFIED_STATUSES as VERIFIED
from metamg.render.evidence import (CLAIM_RULES, answer_lines, claims_section, low_risk_section,
                                    not_pooled_section, quality_section, story)
from metamg.render.findings import certainty_section, findings_row, findings_table, index_findings
from metamg.render.grade_text import NNT_LABELS, RULES_TEXT
from metamg.render.forest import MAX_FOREST_STUDIES, data_columns, write_forest
from metamg.render.funnel import write_funnel
from metamg.render.markdown import md_paragraphs, md_text, md_url, table_row
from metamg.render.numbers import (effect_digits, fmt_ci, fmt_fixed, fmt_num, fmt_p, fmt_pvalue,
                                   level_label, studies)
from metamg.render.text import model_words, qm_text

FUNNEL_MIN_K = 10
MAX_TABLE_STUDIES = 500   # beyond this, the per-study table goes to NAME-studies.csv
PROVENANCE = ("evidence_status", "source", "doi", "pmid", "where_found", "notes")
# Cochrane Handbook (version 6.5, 2024) section 10.10.2: overlapping bands
I2_BANDS = ((0, 40, "might not be important"), (30, 60, "may represent moderate heterogeneity"),
            (50, 90, "may represent substantial heterogeneity"),
            (75, 100, "represents considerable heterogeneity"))
RESERVED_NAMES = ("index",)  # a study set of this name would overwrite the index


@dataclass(frozen=True)
class ReportSummary:
    name: str
    title: str
    question: str
    k: int
    effect: str       # "OR 0.46 (95% CI 0.31 to 0.69)", or why nothing was pooled
    i2: float | None
    hints: tuple[str, ...]
    path: str
    claims: tuple = ()  # ClaimCheck
    findings: object = None  # Findings: the summary-of-findings row
    appraisal: Appraisal | None = None


def i2_meaning(i2: float) -> str:
    bands = [f"{text} ({lo}% to {hi}%)" for lo, hi, text in I2_BANDS if lo <= i2 <= hi]
    return "; ".join(bands)


def software_line() -> str:
    import matplotlib

    import metamg
    return (f"metamg {metamg.__version__}; numpy {np.__version__}; "
            f"matplotlib {matplotlib.__version__}; Python {platform.python_version()}")


def report_name(csv_path) -> str:
    """The study set's name (its CSV's stem), refused when it would collide with the index."""
    name = os.path.splitext(os.path.basename(os.fspath(csv_path)))[0]
    if name.lower() in RESERVED_NAMES:
        raise InputError([Problem(os.fspath(csv_path), f"a study set cannot be named '{name}': its "
                                  f"report would overwrite the reports' {name}.md; rename the file")])
    return name


def write_report(csv_path, outdir, exclude_status=(), **options) -> ReportSummary:
    """Appraise the study set at ``csv_path`` and write NAME.md with its figures into ``outdir``.

    ``options`` are ``appraise``'s (measure, method, ci, level, ...), overriding the metadata;
    ``exclude_status`` leaves out studies by evidence status, as ``--exclude-status`` does."""
    report_name(csv_path)
    ap = appraise(csv_path, exclude_status=exclude_status, **options)
    return render_report(ap, csv_path, outdir)


def render_report(ap: Appraisal, csv_path, outdir) -> ReportSummary:
    """Write the report of an appraisal (figures first, then NAME.md) and return its index row."""
    name = ap.meta.name
    ensure_directory(outdir)
    figures, figure_notes = {}, {}
    a = ap.analysis
    if a is not None:
        if a.result.k <= MAX_FOREST_STUDIES:
            figures["forest"] = f"{name}-forest.png"
            write_forest(a, os.path.join(outdir, figures["forest"]), ap.meta, subgroups=ap.subgroups,
                         answer=ap.answer if ap.answer is not a else None)
        else:
            figure_notes["forest"] = (f"Not drawn: {a.result.k:,} studies cannot be shown legibly in one "
                                      f"forest plot (at most {MAX_FOREST_STUDIES:,}); the per-study "
                                      "numbers are in the table of studies.")
        if a.result.k >= FUNNEL_MIN_K:
            figures["funnel"] = f"{name}-funnel.png"
            write_funnel(a, os.path.join(outdir, figures["funnel"]), ap.meta.title,
                         ap.bias.trimfill if ap.bias else None)
        if has_rob(a.effects.extra) and a.result.k <= MAX_FOREST_STUDIES:
            from metamg.render.robplot import analysis_rob_layout, write_rob_plots
            figures["rob_traffic"], figures["rob_summary"] = f"{name}-rob-traffic.png", f"{name}-rob-summary.png"
            write_rob_plots(analysis_rob_layout(a, f"{ap.meta.title}: risk of bias (RoB 2)"),
                            os.path.join(outdir, figures["rob_traffic"]),
                            os.path.join(outdir, figures["rob_summary"]))
    studies_csv = None
    if a is not None and a.result.k > MAX_TABLE_STUDIES:
        from metamg.render.text import studies_csv as csv_text
        studies_csv = f"{name}-studies.csv"
        write_atomic(os.path.join(outdir, studies_csv), csv_text(a))
    text, summary = _markdown(ap, csv_path, outdir, figures, figure_notes, studies_csv)
    path = os.path.join(outdir, f"{name}.md")
    write_atomic(path, text)
    return replace(summary, path=path)


INDEX_STATE = "index.json"   # each set's index rows, so that reporting one set keeps the others


def write_index(summaries, outdir) -> str:
    """reports/index.md: the rows of ``summaries`` merged with those of every other set reported
    into ``outdir`` before (kept in index.json), dropping sets whose report is gone."""
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
        entries[s.name] = _index_entry(s)
    entries = {n: e for n, e in entries.items()
               if os.path.exists(os.path.join(outdir, e.get("report", "")))}
    ordered = [entries[n] for n in sorted(entries)]
    write_atomic(state_path, json.dumps({"format": "metamg-index-1", "sets": ordered}, indent=1,
                                        ensure_ascii=False) + "\n")
    lines = ["# Journal-club reports", "",
             "One line per study set: the question, how many studies were pooled, the pooled effect "
             "with its confidence interval, I², and what should make a reader careful.", "",
             "| study set | question | k | pooled effect | I² | be careful about |",
             "|---|---|---|---|---|---|"]
    lines += [e["row"] for e in ordered]
    levels = {e.get("level", 0.95) for e in ordered}
    lines += index_findings([e["findings"] for e in ordered if e.get("findings")],
                            levels.pop() if len(levels) == 1 else None)
    claims = [row for e in ordered for row in e.get("claims", [])]
    if claims:
        lines += ["", "## Claims checked", "",
                  "Every claim recorded in a study set's metadata, with its verdict (see each report "
                  "for the reasons).", "",
                  "| claim | claimed in | study set | verdict |", "|---|---|---|---|"] + claims
    path = os.path.join(outdir, "index.md")
    write_atomic(path, "\n".join(lines) + "\n")
    return path


def _index_entry(s: ReportSummary) -> dict:
    """The rendered index rows of one study set."""
    report = os.path.basename(s.path)
    link = f"[{md_text(s.title)}]({md_url(report)})"
    hints = "; ".join(md_text(h) for h in s.hints) or "nothing flagged"
    i2 = "" if s.i2 is None else f"{s.i2:.0f}%"
    row = table_row([link, md_text(s.question), str(s.k), md_text(s.effect), i2, hints])
    claims = []
    for c in s.claims:
        verdict = c.verdict + ("" if c.robust else " (not robust: " + "; ".join(
            f"{v} with the {an}" for an, v in c.disagreeing) + ")")
        claims.append(table_row([md_text(c.claim.text), md_text(c.claim.made_in), link,
                                 f"**{md_text(verdict)}**"]))
    level = s.findings.level if s.findings is not None else 0.95
    return {"name": s.name, "report": report, "row": row, "level": level,
            "findings": findings_row(s.findings, report) if s.findings is not None else None,
            "claims": claims}


def _robust_section(ap: Appraisal, funnel_file, digits) -> list[str]:
    analysis, tests = ap.analysis, ap.bias
    nat = analysis.natural
    name = analysis.measure.natural_name
    r = analysis.result
    lvl = level_label(r.level)

    def effect(res):
        return f"{fmt_fixed(nat(res.estimate), digits)} ({fmt_ci(nat(res.ci_low), nat(res.ci_high), digits)})"

    out = ["", "## Is it robust?", "",
           f"Each analysis below names its model. The main analysis uses the {model_words(r)}; "
           f"intervals are {lvl} throughout."]
    groups = ap.subgroups
    if groups is not None:
        out += ["", f"### Subgroups by {md_text(groups.column)} ({model_words(r)})", "",
                table_row([md_text(groups.column), "k", f"{name} ({lvl} CI)", "I²"]), "|---|---|---|---|"]
        out += [table_row([md_text(g.level), str(g.analysis.result.k), effect(g.analysis.result),
                           f"{g.analysis.result.i2:.0f}%"]) for g in groups.subgroups]
        if groups.between is not None:
            b = groups.between
            out += ["", f"Test for subgroup differences (Q on the subgroup estimates, as RevMan): "
                        f"Q = {b.q:.2f}, df = {b.q_df}, {fmt_p(b.q_p)}."]
        if groups.moderator_test is not None:
            t = groups.moderator_test
            out.append(f"Moderator test (one model with a dummy per subgroup, as metafor's "
                       f"rma(mods = ~ factor({md_text(groups.column)}))): {qm_text(t)}.")
    loo = ap.leave1out
    if loo:
        ests = [nat(x.analysis.result.estimate) for x in loo]
        lo, hi = min(ests), max(ests)
        out += ["", f"### Leaving out one study at a time ({model_words(r)})", "",
                f"The pooled {name} stays between {fmt_fixed(lo, digits)} and {fmt_fixed(hi, digits)} "
                f"whichever single study is left out.", ""]
        out += _refit_table(loo, "Study left out", name, lvl, effect)
    cum = ap.cumulative
    if cum is not None:
        order = cum.order.replace(" (ties keep data order)", ", ties in data order")
        which = model_words(cum.rows[-1].analysis.result)
        if ap.answer is not analysis:
            which += ": the model the verdicts use"
        out += ["", f"### Cumulative meta-analysis, studies added by {order} ({which})", "",
                "How the pooled result would have looked as each study was published.", ""]
        out += _refit_table(cum.rows, "Study added", name, lvl, effect)
    infl = ap.influence
    if infl:
        flagged = [x for x in infl if x.influential]
        out += ["", f"### Influential studies ({model_words(r)})", ""]
        if flagged:
            out.append("Flagged by metafor's criteria (DFFITS, Cook's distance, hat value or DFBETAS): "
                       + "; ".join(f"{md_text(x.study)} (Cook's distance {x.cook_d:.2f}, weight "
                                   f"{x.weight:.1f}%)" for x in flagged) + ".")
        else:
            top = max(infl, key=lambda x: x.cook_d)
            out.append(f"No study is flagged by metafor's criteria; the largest Cook's distance is "
                       f"{top.cook_d:.2f} ({md_text(top.study)}).")
    for what, why in ap.not_run:
        out += ["", f"*{what.capitalize()}: not run ({md_text(why)}).*"]
    if tests is not None:
        out += ["", "### Small-study effects", ""]
        if tests.caution:
            out += [f"*Caution: {tests.caution}.*", ""]
        if tests.egger is not None and tests.egger.statistic is not None:
            e = tests.egger
            stat = "z" if e.df is None else f"t({e.df})"
            out.append(f"- Egger's regression test ({_egger_model(r)} meta-regression on the standard "
                       f"error with the analysis's model, as metafor's regtest): {stat} = {e.statistic:.2f}, "
                       f"{fmt_p(e.p)}; effect expected in an infinitely large study "
                       f"{fmt_fixed(nat(e.limit_estimate), digits)} "
                       f"({lvl} CI {fmt_ci(nat(e.limit_ci_low), nat(e.limit_ci_high), digits)}).")
        lm = tests.egger_lm
        if lm.statistic is not None:
            out.append(f"- Egger's test, classical weighted regression (common-effect weights, t test): "
                       f"t({lm.df}) = {lm.statistic:.2f}, {fmt_p(lm.p)}.")
        if tests.egger is not None and tests.egger.statistic is None and tests.egger.note:
            out.append(f"- Egger's regression test: not computable ({tests.egger.note}).")
        if tests.begg.note:
            out.append(f"- Begg and Mazumdar's rank correlation: not computable ({tests.begg.note}).")
        else:
            out.append(f"- Begg and Mazumdar's rank correlation: tau = {tests.begg.tau:.3f}, {fmt_p(tests.begg.p)}.")
        tf = tests.trimfill
        if tf is not None:
            adj = tf.result
            out.append(f"- Trim and fill ({model_words(adj)}): {studies(tf.k0)} "
                       f"imputed on the {tf.side}; adjusted {name} {effect(adj)}"
                       + (" (filled studies shown in the funnel plot)." if funnel_file and tf.k0 else "."))
        out.append(f"- Rosenthal's fail-safe N: {studies(tests.fsn.fsnum).replace(' ', ' null ', 1)}.")
    return out


def _refit_table(refits, first, name, lvl, effect) -> list[str]:
    rows = [table_row([first, f"{name} ({lvl} CI)", "I²", "p"]), "|---|---|---|---|"]
    return rows + [table_row([md_text(x.study), effect(x.analysis.result), f"{x.analysis.result.i2:.0f}%",
                              fmt_pvalue(x.analysis.result.p)]) for x in refits]


def _egger_model(r) -> str:
    return "common-effect" if r.method in ("FE", "MH", "PETO") else "mixed-effects"


def _markdown(ap: Appraisal, csv_path, outdir, figures, figure_notes, studies_csv):
    meta, table, effects, analysis = ap.meta, ap.table, ap.effects, ap.analysis
    m = effects.measure
    digits = effect_digits(m)
    question = _question(meta)
    out = [f"# {md_text(meta.title)}", ""]
    out += [f"**Question.** {md_text(question)}", ""]
    shown = ("measure", "profile", "subgroup", "benefit")
    used = [f"{k} = {_default_value(meta, m, k)}" for k in meta.defaults if k in shown]
    if used:
        out += [("*No metadata file; defaults used: " if not os.path.exists(metadata_path(csv_path))
                 else "*Defaults used (not set in the metadata): ") + "; ".join(used) + ".*", ""]
    for paragraph in md_paragraphs(meta.notes):
        out += [paragraph, ""]
    k = effects.k
    by_status = [e for e in effects.excluded if e.reason.startswith("evidence status")]
    if by_status:
        left_out = sorted({e.reason.split("'")[1] for e in by_status})
        out += [f"*This report leaves out {studies(len(by_status))} "
                f"by evidence status ({md_text(', '.join(left_out))}), as asked (--exclude-status).*", ""]
    out += ["## What the evidence says", ""]
    if analysis is None:
        out += [f"**Nothing could be pooled.** None of the {len(table.studies)} candidate studies in "
                "this set gives the numbers an analysis of this question needs"
                + (" with the evidence statuses kept" if by_status else "") + "; the reasons are "
                "listed below. The honest answer for a journal club is that this question has not "
                "been answered by the evidence that could be found.", ""]
    else:
        out += answer_lines(ap) + story(ap) + [""]
    if ap.findings is not None:
        out += findings_table(ap.findings) + certainty_section(ap.findings)
    out += claims_section(ap.claims)

    # -- the data --
    statuses = effects.extra.get("evidence_status")
    out += ["## The studies", ""]
    if "inclusion" not in unfilled(meta):
        paragraphs = md_paragraphs(meta.inclusion)
        out += [f"**Which studies are pooled, and why.** {paragraphs[0]}", ""] + [
            x for p in paragraphs[1:] for x in (p, "")]
    out.append(f"{studies(k)} pooled"
               + (f"; {studies(len(effects.excluded)).replace(' ', ' candidate ', 1)} "
                  "not pooled (listed below)." if effects.excluded else "."))
    if statuses is not None and k:
        unverified = [s for s, st in zip(effects.studies, statuses)
                      if not all(x.strip() in VERIFIED for x in st.split(";"))]
        if unverified:
            out.append(f"**{len(unverified)} of the {k} pooled studies have numbers not verified "
                       f"against the full text or abstract** (evidence status other than "
                       f"full-text/abstract)" + (": " + ", ".join(md_text(u) for u in unverified)
                                                 if len(unverified) <= MAX_TABLE_STUDIES else "") + ".")
    out.append("")
    for note in effects.notes:
        out.append(f"- {md_text(note)}.")
    if effects.converted:
        out.append(f"- Given as an effect with its confidence interval (converted as metafor's "
                   f"conv.wald does): {', '.join(md_text(c) for c in effects.converted)}.")
    if effects.notes or effects.converted:
        out.append("")
    if analysis is not None:
        out += _study_table(analysis, digits, studies_csv)
    out += not_pooled_section(table, ap.reported_not_pooled, ap.options.level)
    warnings = analysis.warnings if analysis is not None else effects.warnings
    if warnings:
        out += ["", "Warnings:", ""] + [f"- {md_text(w)}" for w in warnings]

    if analysis is not None:
        out += _result_sections(ap, figures, figure_notes, digits)
        if ap.verified is not None and ap.verified.differs:
            out += quality_section(analysis, ap.verified.analysis, m, UNVERIFIED_STATUSES)
        if ap.low_risk is not None and ap.low_risk.differs:
            out += low_risk_section(analysis, ap.low_risk.analysis, m)
        out += _robust_section(ap, figures.get("funnel"), digits)

    # -- methods --
    out += ["", "## Methods", "", _methods(ap, bool(ap.claims)), "", RULES_TEXT, ""]
    out += ["## Reproducibility", ""]
    for f, digest in _inputs(ap, csv_path):
        out.append(f"- `{_code(_display(f))}` SHA-256 `{digest}`")
    out.append(f"- Software: {software_line()}")
    out.append(f"- Re-create: `{_code(_recreate(ap, csv_path, outdir))}`")
    summary_effect, i2 = _summary_effect(ap, digits)
    hints = _hints(ap, statuses)
    summary = ReportSummary(meta.name, meta.title, question, k, summary_effect, i2, hints, "",
                            ap.claims, ap.findings, ap)
    return "\n".join(out) + "\n", summary


def _inputs(ap: Appraisal, csv_path):
    """The files analysed with the SHA-256 of the bytes actually read."""
    out = [(csv_path, ap.table.sha256)] if ap.table.sha256 else []
    if ap.meta.sha256:
        out.append((metadata_path(csv_path), ap.meta.sha256))
    return out


def _code(text: str) -> str:
    """Text inside a code span: a backtick would end it early."""
    return text.replace("`", "'")


def _recreate(ap: Appraisal, csv_path, outdir) -> str:
    o = ap.options
    cmd = f"metamg report {_display(csv_path)} -o {_display(outdir)}"
    if o.level != 0.95:
        cmd += f" --level {o.level:g}"
    if o.exclude_status:
        cmd += f" --exclude-status {','.join(o.exclude_status)}"
    return cmd


def _summary_effect(ap: Appraisal, digits):
    """The index's pooled effect: the answer's, saying which model when it is not the main one."""
    if ap.analysis is None:
        return "nothing could be pooled", None
    a = ap.answer
    r = a.result
    value = (f"{fmt_num(a.natural(r.estimate), digits)} ({level_label(r.level)} CI "
             f"{fmt_ci(a.natural(r.ci_low), a.natural(r.ci_high), digits)})")
    text = f"{a.measure.name} {value}"
    if a is not ap.analysis:
        text += " (common-effect model: small-study effects)"
    return text, ap.analysis.result.i2


def _result_sections(ap: Appraisal, figures, figure_notes, digits) -> list[str]:
    analysis, meta = ap.analysis, ap.meta
    m, r = analysis.measure, analysis.result
    nat = analysis.natural
    lvl = level_label(r.level)
    out = ["", "## Main result", ""]
    rows = []
    for a in ([analysis] if ap.answer is analysis else [analysis, ap.answer]):
        res = a.result
        value = f"{fmt_num(nat(res.estimate), digits)} ({lvl} CI {fmt_ci(nat(res.ci_low), nat(res.ci_high), digits)})"
        if a is analysis:
            out += [_plain_words(a, meta, value)
                    + ("" if ap.answer is analysis else
                       " The verdicts use the common-effect estimate below instead (see \"What the "
                       "evidence says\")."), ""]
        which = "" if ap.answer is analysis else (
            f" ({'main analysis' if a is analysis else 'used for the verdicts'}; {model_words(res)})")
        test = f"{'z' if res.df is None else f't({res.df:g})'} = {res.statistic:.2f}, {fmt_p(res.p)}"
        rows += [("Pooled effect" + which, value), ("Test of no effect" + which, test)]
    if r.is_random and r.pi_low is not None and np.isfinite(r.pi_low):
        rows.append((f"Prediction interval ({lvl})", fmt_ci(nat(r.pi_low), nat(r.pi_high), digits)))
    if m.scale != "identity":
        rows.append((f"On the {m.scale} scale", f"{r.estimate:.4f} (SE {r.se:.4f}), CI "
                                                 f"{r.ci_low:.4f} to {r.ci_high:.4f}"))
    ab = ap.findings.absolute  # of the answer's analysis, as the summary of findings
    if ab is not None:
        which = "" if ap.answer is analysis else " (the verdicts' model)"
        rows.append(("Assumed control-group risk" if meta.grade.control_risk is not None else
                     "Median control-group risk", f"{ab.control_risk * 1000:.0f} per 1,000"))
        rows.append((f"Difference with the intervention{which}",
                     f"{_signed(ab.per_1000)} per 1,000 ({lvl} CI {_signed(ab.per_1000_low)} to "
                     f"{_signed(ab.per_1000_high)})"))
        rows.append((NNT_LABELS.get(ab.nnt_kind, "NNT/NNH") + which, f"{ab.nnt}" if ab.nnt else
                     "not given: the CI includes no effect"))
    out += ["| | |", "|---|---|"] + [table_row([a, b]) for a, b in rows]

    out += ["", "## Heterogeneity", ""]
    if r.k < 2:
        out.append("- Not assessable with one study.")
    elif r.is_random:
        tau_ci = (f" ({lvl} CI {fmt_num(r.tau2_ci_low, 4)} to {fmt_num(r.tau2_ci_high, 4)})"
                  if r.tau2_ci_low is not None else "")
        i2_ci = (f" ({lvl} CI {r.i2_ci_low:.0f}% to {r.i2_ci_high:.0f}%)" if r.i2_ci_low is not None else "")
        out.append(f"- tau² = {fmt_num(r.tau2, 4)}{tau_ci}; tau = {fmt_num(r.tau, 4)}")
        out.append(f"- I² = {r.i2:.0f}%{i2_ci}: {i2_meaning(r.i2)}. (From Q alone, I² = {r.i2_q:.0f}%.)")
    else:
        out.append(f"- I² = {r.i2:.0f}%: {i2_meaning(r.i2)}.")
    if r.k >= 2:
        out.append(f"- Q = {r.q:.2f} on {r.q_df} df, {fmt_p(r.q_p)}")
    if r.k >= 2 and r.is_random and r.pi_low is not None and np.isfinite(r.pi_low):
        plo, phi = nat(r.pi_low), nat(r.pi_high)
        null = 1.0 if m.scale == "log" else 0.0
        crosses = plo < null < phi
        out.append(f"- Prediction interval ({lvl}) {fmt_ci(plo, phi, digits)}: the true effect in a new "
                   f"study like these is expected in this range"
                   + (", which includes no effect: a new study could well find none, or the opposite."
                      if crosses else ", which excludes no effect."))

    out += ["", "## Forest plot", ""]
    if figures.get("forest"):
        out += [f"![Forest plot of {md_text(meta.title)}]({md_url(figures['forest'])})", ""]
        if ap.answer is not analysis:
            out += ["Both pooled estimates are drawn: the random-effects diamond of the main analysis "
                    "and the common-effect diamond the verdicts use (see \"What the evidence says\").", ""]
    else:
        out += [figure_notes.get("forest", "Not drawn."), ""]
    if figures.get("rob_traffic"):
        out += ["## Risk of bias (RoB 2)", "",
                "Judgements per study and domain as recorded in the study set (blank = not assessed), "
                "and each domain's share of the analysis weight.", "",
                f"![Risk-of-bias traffic-light plot]({md_url(figures['rob_traffic'])})", "",
                f"![Risk-of-bias summary weighted by the analysis]({md_url(figures['rob_summary'])})", ""]
    out += ["## Funnel plot", ""]
    if figures.get("funnel"):
        out += [f"![Contour-enhanced funnel plot]({md_url(figures['funnel'])})", "",
                "Shaded regions: where a study would be statistically significant against no "
                "effect (p < 0.10, 0.05, 0.01). Gaps in the white region on one side suggest "
                "missing small studies."]
    else:
        out += [f"Not drawn: {studies(r.k)}, and a funnel plot needs at least "
                f"{FUNNEL_MIN_K} to say anything about small-study effects (Cochrane Handbook 13.3.5.4)."]
    return out


def _display(path) -> str:
    rel = os.path.relpath(os.fspath(path))
    return rel if not rel.startswith("..") else os.fspath(path)


def _question(meta) -> str:
    """The PICO question as the metadata states it; blank keys and template placeholders are
    left out rather than shown as if they were the question."""
    missing = unfilled(meta)
    parts = [("Population", "population"), ("intervention", "intervention"),
             ("comparator", "comparator"), ("outcome", "outcome")]
    given = [f"{label}: {getattr(meta, key)}" for label, key in parts if key not in missing]
    return "; ".join(given) + "." if given else "not stated in the metadata."


def _signed(x: float) -> str:
    return f"{x:+.0f}".replace("-", "−") if abs(x) >= 0.5 else "0"


def _default_value(meta, measure, key) -> str:
    return {"measure": measure.name, "profile": meta.profile,
            "subgroup": "none", "benefit": "lower values favour the intervention"}[key]


def _plain_words(analysis, meta, value) -> str:
    r, m = analysis.result, analysis.measure
    null_in = r.ci_low < 0 < r.ci_high
    words = (f"Across {studies(r.k)}, the pooled {m.label} was {value}." if r.k > 1 else
             f"In the one pooled study, the {m.label} was {value}.")
    if null_in:
        words += " The confidence interval includes no effect: these studies do not show a difference."
    else:
        lower = r.estimate < 0
        good = lower == (meta.benefit == "lower")
        words += (" The confidence interval excludes no effect, in the direction "
                  + ("favouring the intervention." if good else "favouring the comparator."))
    return words


def _study_table(analysis, digits, studies_csv=None):
    """Raw data, effect, weight and provenance per study; a provenance column whose value is
    the same for every study is said once above the table instead of in every row."""
    es = analysis.effects
    if studies_csv:
        return [f"The {es.k:,} studies' effects and weights are in [{md_text(studies_csv)}]"
                f"({md_url(studies_csv)}) (more than {MAX_TABLE_STUDIES} rows: too many for a table "
                "here).", ""]
    nat = analysis.natural
    lvl = level_label(analysis.result.level)
    prov = [c for c in PROVENANCE if c in es.extra]
    common = [c for c in prov if len(set(es.extra[c])) == 1 and es.extra[c] and es.extra[c][0].strip()]
    varying = [c for c in prov if c not in common and any(v.strip() for v in es.extra[c])]
    lines = [f"- All studies, {c.replace('_', ' ')}: {md_text(es.extra[c][0])}" for c in common]
    if lines:
        lines.append("")
    heads, cells_of = data_columns(analysis)
    head = (["Study"] + [h.replace("\n", " ") for h in heads] + [f"{analysis.measure.name} ({lvl} CI)",
            "Weight"] + [c.replace("_", " ") for c in varying])
    lines += [table_row(head), "|" + "---|" * len(head)]
    for i, row in enumerate(analysis.rows):
        cells = ([md_text(row.study)] + [md_text(c) for c in cells_of(row.study)]
                 + [f"{fmt_num(nat(row.yi), digits)} ({fmt_ci(nat(row.ci_low), nat(row.ci_high), digits)})",
                    "" if row.weight is None else f"{row.weight:.1f}%"])
        cells += [md_text(es.extra[c][i]) for c in varying]
        lines.append(table_row(cells))
    return lines


def _methods(ap: Appraisal, with_claims=False) -> str:
    analysis, measure = ap.analysis, ap.effects.measure
    if analysis is None:
        text = (f"Measure: {measure.label} ({measure.name}). No study could be pooled, so no model "
                "was fitted.")
        return text + ("\n\n" + CLAIM_RULES if with_claims else "")
    r = analysis.result
    refs = ["Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw 2010;36(3)",
            "Higgins JPT, Thomas J, et al. (eds). Cochrane Handbook for Systematic Reviews of "
            "Interventions, version 6.5, 2024, chapter 10"]
    if r.is_random:
        refs += ["Viechtbauer W. Confidence intervals for the amount of heterogeneity in "
                 "meta-analysis. Stat Med 2007;26:37-52 (Q-profile)"]
        if r.ci_method != "wald":
            refs += ["Hartung J, Knapp G. Stat Med 2001;20:3875-89; Sidik K, Jonkman JN. Stat Med "
                     "2002;21:3153-59 (HKSJ)"]
        refs += ["Higgins JPT, Thompson SG, Spiegelhalter DJ. J R Stat Soc A 2009;172:137-59 "
                 "(prediction intervals)"]
    rules = "; ".join(md_text(x) for x in analysis.rules)
    text = (f"Effect sizes and pooling follow metafor's conventions (method profile "
            f"'{analysis.profile}'). Rules used: {rules}. Every confidence interval in this report "
            f"is a {level_label(r.level)} interval.")
    if ap.answer is not analysis:
        text += (f" The headline, summary of findings, absolute effects and claim verdicts use the "
                 f"{model_words(ap.answer.result)}: {ap.answer_reason}.")
    if with_claims:
        text += "\n\n" + CLAIM_RULES
    return text + "\n\nReferences:\n\n" + "\n".join(f"- {x}" for x in refs)


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
    if ap.small_study_effects:
        hints.append(f"funnel asymmetry (Egger {fmt_p(ap.bias.egger.p)})")
    if r.i2 >= 50:
        hints.append(f"I² {r.i2:.0f}%")
    if r.is_random and r.pi_low is not None and np.isfinite(r.pi_low) and r.pi_low < 0 < r.pi_high \
            and not r.ci_low < 0 < r.ci_high:
        hints.append("prediction interval includes no effect")
    if statuses is not None:
        n = sum(1 for s in statuses if not all(x.strip() in VERIFIED for x in s.split(";")))
        if n:
            hints.append(f"{n} of {r.k} studies not verified against full text or abstract")
    if analysis.excluded:
        hints.append(f"{len(analysis.excluded)} candidate studies not pooled")
    return tuple(hints)
