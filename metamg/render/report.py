"""Journal-club reports: one markdown file per study set with its figures, and an index.

Reports hold no wall-clock time, so an unchanged input gives a byte-identical report.
"""
from __future__ import annotations

import hashlib
import os
import platform
from dataclasses import dataclass, replace

import numpy as np

from metamg.analyses.findings import absolute_effect, summarise_findings
from metamg.analyses.pool import pool, prepare_table, read_table
from metamg.effects import compute_effects
from metamg.io.atomic import write_atomic
from metamg.io.metadata import metadata_path, read_metadata
from metamg.io.rob import has_rob
from metamg.io.schema import STATUS_COLUMN
from metamg.io.statuses import EVIDENCE_STATUSES
from metamg.io.statuses import VERIFIED_STATUSES as VERIFIED
from metamg.render.forest import data_columns, write_forest
from metamg.render.funnel import write_funnel
from metamg.analyses.grade import RULES_TEXT
from metamg.render.evidence import (CLAIM_RULES, claims_section, low_risk_section, models_disagree,
                                    not_pooled_section, quality_section, story)
from metamg.render.findings import certainty_section, findings_table, index_findings
from metamg.render.numbers import effect_digits, fmt_ci, fmt_fixed, fmt_num, fmt_p

FUNNEL_MIN_K = 10
SMALL_STUDY_P = 0.10  # Egger's test threshold for small-study effects (Egger et al. 1997)
PROVENANCE = ("evidence_status", "source", "doi", "pmid", "where_found", "notes")
# Cochrane Handbook (version 6.5, 2024) section 10.10.2: overlapping bands
I2_BANDS = ((0, 40, "might not be important"), (30, 60, "may represent moderate heterogeneity"),
            (50, 90, "may represent substantial heterogeneity"),
            (75, 100, "represents considerable heterogeneity"))


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


def i2_meaning(i2: float) -> str:
    bands = [f"{text} ({lo}% to {hi}%)" for lo, hi, text in I2_BANDS if lo <= i2 <= hi]
    return "; ".join(bands)


def sha256(path) -> str:
    with open(path, "rb") as fh:
        return hashlib.sha256(fh.read()).hexdigest()


def software_line() -> str:
    import matplotlib
    import scipy

    import metamg
    return (f"metamg {metamg.__version__}; numpy {np.__version__}; scipy {scipy.__version__}; "
            f"matplotlib {matplotlib.__version__}; Python {platform.python_version()}")


def write_report(csv_path, outdir, exclude_status=()) -> ReportSummary:
    """Pool the study set at ``csv_path`` and write NAME.md with its figures into ``outdir``.

    ``exclude_status`` leaves out studies by evidence status, as ``--exclude-status`` does."""
    meta = read_metadata(csv_path)
    exclude_status = tuple(exclude_status)
    raw = read_table(csv_path, meta.measure)  # read once; the verified-only analysis reuses it
    table = prepare_table(raw, meta.measure, exclude_status=exclude_status)
    effects = compute_effects(table, meta.measure)
    analysis = (pool(effects, measure=meta.measure, profile=meta.profile, exclude_status=exclude_status)
                if effects.k else None)
    name = meta.name
    os.makedirs(outdir, exist_ok=True)
    figures = {}
    robust, other = {}, None
    if analysis is not None:
        figures["forest"] = f"{name}-forest.png"
        write_forest(analysis, os.path.join(outdir, figures["forest"]), meta, by=meta.subgroup)
        robust = _robustness(analysis, meta)
        other = _other_model(analysis)
        if other is not None and analysis.result.is_random and analysis.result.k >= 3:
            from metamg.analyses.sensitivity import cumulative
            robust["cumulative_fe"] = cumulative(other)
        if analysis.result.k >= FUNNEL_MIN_K:
            figures["funnel"] = f"{name}-funnel.png"
            write_funnel(analysis, os.path.join(outdir, figures["funnel"]), meta.title,
                         robust["bias"].trimfill if robust["bias"] else None)
    verified = _verified_only(raw, meta, effects, exclude_status)
    low_risk = _low_risk_only(raw, meta, effects, exclude_status)
    if analysis is not None and has_rob(analysis.effects.extra):
        from metamg.render.robplot import analysis_rob_layout, write_rob_plots
        figures["rob_traffic"], figures["rob_summary"] = f"{name}-rob-traffic.png", f"{name}-rob-summary.png"
        write_rob_plots(analysis_rob_layout(analysis, f"{meta.title}: risk of bias (RoB 2)"),
                        os.path.join(outdir, figures["rob_traffic"]),
                        os.path.join(outdir, figures["rob_summary"]))
    findings = summarise_findings(analysis, meta, robust.get("bias"), robust.get("subgroups"),
                                  other.result if other is not None else None)
    checks = _check_claims(meta, effects.measure, analysis, other, robust, verified)
    text, summary = _markdown(csv_path, meta, table, effects, analysis, other, verified, checks,
                              figures, outdir, robust, low_risk, findings)
    path = os.path.join(outdir, f"{name}.md")
    write_atomic(path, text)
    return replace(summary, path=path)


def _small_study_effects(tests) -> bool:
    return (tests is not None and tests.egger is not None and tests.caution is None
            and tests.egger.p < SMALL_STUDY_P)


def _other_model(analysis):
    """The common-effect fit beside a random-effects main analysis (or the reverse)."""
    if analysis.result.k < 2:
        return None
    o = analysis.options
    if analysis.result.is_random:
        return pool(analysis.effects, measure=o.measure, method="FE", ci="wald", level=o.level,
                    profile=o.profile, continuity=o.continuity)
    return pool(analysis.effects, measure=o.measure, method="REML", level=o.level, profile=o.profile,
                continuity=o.continuity)


UNVERIFIED = tuple(s for s in EVIDENCE_STATUSES if s not in VERIFIED)


@dataclass(frozen=True)
class Restricted:
    """The main analysis restricted to some of its studies (verified numbers, low risk of bias)."""

    analysis: object   # PoolAnalysis, or None when nothing is left to pool
    differs: bool      # False when the restriction leaves every pooled study in


def _restricted(raw, meta, effects, exclude_status=(), low_risk_only=False) -> Restricted:
    table = prepare_table(raw, meta.measure, exclude_status=exclude_status, low_risk_only=low_risk_only)
    es = compute_effects(table, meta.measure)
    if es.studies == effects.studies:
        return Restricted(None, False)
    return Restricted(pool(es, measure=meta.measure, profile=meta.profile, exclude_status=exclude_status,
                             low_risk_only=low_risk_only) if es.k else None, True)


def _verified_only(raw, meta, effects, exclude_status) -> Restricted | None:
    """None when the set has no evidence_status column."""
    if STATUS_COLUMN not in raw.extra:
        return None
    return _restricted(raw, meta, effects, tuple(dict.fromkeys(exclude_status + UNVERIFIED)))


def _low_risk_only(raw, meta, effects, exclude_status) -> Restricted | None:
    """None when no risk of bias is recorded."""
    if not effects.k or not has_rob(raw.extra):
        return None
    return _restricted(raw, meta, effects, exclude_status, low_risk_only=True)


def _check_claims(meta, measure, analysis, other, robust, verified):
    from metamg.analyses.claims import Evidence, check_claim

    def ev(label, res):
        return None if res is None else Evidence(label, res.estimate, res.ci_low, res.ci_high, res.k)

    main = ev("main analysis", analysis.result) if analysis is not None else None
    sens = []
    tests = robust.get("bias")
    if other is not None:
        other_label = ("common-effect" if analysis.result.is_random else "random-effects") + " model"
        if analysis.result.is_random and _small_study_effects(tests) \
                and models_disagree(analysis.result, other.result):
            # Cochrane Handbook 13.3.5.6: with small-study effects, the random-effects estimate
            # leans on the small studies; judge the claim on the common-effect estimate.
            sens.append(ev("random-effects model (main analysis)", analysis.result))
            main = ev("common-effect model, used because small-study effects were detected and "
                      "the two models disagree", other.result)
        else:
            sens.append(ev(other_label, other.result))
    if tests is not None and tests.trimfill is not None and tests.trimfill.k0:
        sens.append(ev("trim-and-fill adjusted analysis", tests.trimfill.result))
    if verified is not None and verified.differs and verified.analysis is not None:
        sens.append(ev("full-text/abstract-only analysis", verified.analysis.result))
    return tuple(check_claim(c, measure, meta.benefit, main, tuple(sens)) for c in meta.claims)


def write_index(summaries, outdir) -> str:
    lines = ["# Journal-club reports", "",
             "One line per study set: the question, how many studies were pooled, the pooled "
             "effect with its 95% CI, I², and what should make a reader careful.", "",
             "| study set | question | k | pooled effect | I² | be careful about |",
             "|---|---|---|---|---|---|"]
    for s in summaries:
        hints = "; ".join(s.hints) or "nothing flagged"
        i2 = "" if s.i2 is None else f"{s.i2:.0f}%"
        lines.append(f"| [{s.title}]({os.path.basename(s.path)}) | {s.question} | {s.k} | "
                     f"{s.effect} | {i2} | {hints} |")
    lines += index_findings(summaries)
    checks = [(s, c) for s in summaries for c in s.claims]
    if checks:
        lines += ["", "## Claims checked", "",
                  "Every claim recorded in a study set's metadata, with its verdict (see each report "
                  "for the reasons).", "",
                  "| claim | claimed in | study set | verdict |", "|---|---|---|---|"]
        for s, c in checks:
            verdict = c.verdict + ("" if c.robust else " (not robust: " + "; ".join(
                f"{v} with the {a}" for a, v in c.disagreeing) + ")")
            lines.append(f"| {c.claim.text} | {c.claim.made_in} | [{s.title}]({os.path.basename(s.path)}) "
                         f"| **{verdict}** |")
    path = os.path.join(outdir, "index.md")
    write_atomic(path, "\n".join(lines) + "\n")
    return path


def _robustness(analysis, meta) -> dict:
    """Everything the "Is it robust?" section reports, computed with the main analysis's options."""
    from metamg.analyses.bias import small_study_tests
    from metamg.analyses.influence import influence
    from metamg.analyses.sensitivity import cumulative, leave_one_out
    from metamg.analyses.subgroups import pool_subgroups

    k = analysis.result.k
    loo = leave_one_out(analysis) if k >= 3 else ()
    return {
        "subgroups": pool_subgroups(analysis, meta.subgroup) if meta.subgroup else None,
        "leave1out": loo,
        "cumulative": cumulative(analysis) if k >= 2 else None,
        "influence": influence(analysis, loo) if k >= 3 else (),
        "bias": small_study_tests(analysis) if k >= 3 else None,
    }


def _robust_section(analysis, robust, funnel_file, digits) -> list[str]:
    from metamg.render.numbers import fmt_pvalue

    nat = analysis.natural
    name = analysis.measure.natural_name
    r = analysis.result

    def effect(res):
        return f"{fmt_fixed(nat(res.estimate), digits)} ({fmt_ci(nat(res.ci_low), nat(res.ci_high), digits)})"

    out = ["", "## Is it robust?", ""]
    out.append(f"Every analysis below uses the main analysis's model ({r.method}, CI {r.ci_method}).")
    groups = robust["subgroups"]
    if groups is not None:
        out += ["", f"### Subgroups by {groups.column}", "",
                f"| {groups.column} | k | {name} (95% CI) | I² |", "|---|---|---|---|"]
        out += [f"| {g.level} | {g.analysis.result.k} | {effect(g.analysis.result)} | "
                f"{g.analysis.result.i2:.0f}% |" for g in groups.subgroups]
        if groups.between is not None:
            b = groups.between
            out += ["", f"Test for subgroup differences (Q on the subgroup estimates, as RevMan): "
                        f"Q = {b.q:.2f}, df = {b.q_df}, {fmt_p(b.q_p)}."]
        if groups.moderator_test is not None:
            t = groups.moderator_test
            out.append(f"Mixed-effects moderator test (one tau² shared by the subgroups, as metafor): "
                       f"QM = {t.qm:.2f}, df = {t.qm_df}, {fmt_p(t.qm_p)}.")
    loo = robust["leave1out"]
    if loo:
        ests = [nat(x.analysis.result.estimate) for x in loo]
        lo, hi = min(ests), max(ests)
        out += ["", "### Leaving out one study at a time", "",
                f"The pooled {name} stays between {fmt_fixed(lo, digits)} and {fmt_fixed(hi, digits)} "
                f"whichever single study is left out.", "",
                f"| Study left out | {name} (95% CI) | I² | p |", "|---|---|---|---|"]
        out += [f"| {x.study} | {effect(x.analysis.result)} | {x.analysis.result.i2:.0f}% | "
                f"{fmt_pvalue(x.analysis.result.p)} |" for x in loo]
    cum = robust["cumulative"]
    if cum is not None:
        order = cum.order.replace(" (ties keep data order)", ", ties in data order")
        out += ["", f"### Cumulative meta-analysis, studies added by {order}", "",
                "How the pooled result would have looked as each study was published.", "",
                f"| Study added | {name} (95% CI) | I² | p |", "|---|---|---|---|"]
        out += [f"| {x.study} | {effect(x.analysis.result)} | {x.analysis.result.i2:.0f}% | "
                f"{fmt_pvalue(x.analysis.result.p)} |" for x in cum.rows]
    infl = robust["influence"]
    if infl:
        flagged = [x for x in infl if x.influential]
        out += ["", "### Influential studies", ""]
        if flagged:
            out.append("Flagged by metafor's criteria (DFFITS, Cook's distance, hat value or DFBETAS): "
                       + "; ".join(f"{x.study} (Cook's distance {x.cook_d:.2f}, weight {x.weight:.1f}%)"
                                   for x in flagged) + ".")
        else:
            top = max(infl, key=lambda x: x.cook_d)
            out.append(f"No study is flagged by metafor's criteria; the largest Cook's distance is "
                       f"{top.cook_d:.2f} ({top.study}).")
    tests = robust["bias"]
    if tests is not None:
        out += ["", "### Small-study effects", ""]
        if tests.caution:
            out += [f"*Caution: {tests.caution}.*", ""]
        if tests.egger is not None:
            e = tests.egger
            out.append(f"- Egger's regression test (mixed-effects, metafor's default): z = {e.statistic:.2f}, "
                       f"{fmt_p(e.p)}; effect expected in an infinitely large study "
                       f"{fmt_fixed(nat(e.limit_estimate), digits)} "
                       f"({fmt_ci(nat(e.limit_ci_low), nat(e.limit_ci_high), digits)}).")
        lm = tests.egger_lm
        if lm.statistic is not None:
            out.append(f"- Egger's test, classical weighted regression: t({lm.df}) = {lm.statistic:.2f}, "
                       f"{fmt_p(lm.p)}.")
        out.append(f"- Begg and Mazumdar's rank correlation: tau = {tests.begg.tau:.3f}, {fmt_p(tests.begg.p)}.")
        tf = tests.trimfill
        if tf is not None:
            adj = tf.result
            out.append(f"- Trim and fill: {tf.k0} stud{'y' if tf.k0 == 1 else 'ies'} imputed on the "
                       f"{tf.side}; adjusted {name} {effect(adj)}"
                       + (" (filled studies shown in the funnel plot)." if funnel_file and tf.k0 else "."))
        out.append(f"- Rosenthal's fail-safe N: {tests.fsn.fsnum} null studies.")
    return out


def _markdown(csv_path, meta, table, effects, analysis, other, verified, checks, figures, outdir,
              robust, low_risk=None, findings=None):
    m = effects.measure
    digits = effect_digits(m)
    question = _question(meta)
    out = [f"# {meta.title}", ""]
    out += [f"**Question.** {question}", ""]
    shown = ("measure", "profile", "subgroup", "benefit")
    used = [f"{k} = {_default_value(meta, m, k)}" for k in meta.defaults if k in shown]
    if used:
        out += [("*No metadata file; defaults used: " if not os.path.exists(metadata_path(csv_path))
                 else "*Defaults used (not set in the metadata): ") + "; ".join(used) + ".*", ""]
    if meta.notes:
        out += [meta.notes.strip(), ""]
    k = effects.k
    by_status = [e for e in effects.excluded if e.reason.startswith("evidence status")]
    if by_status:
        left_out = sorted({e.reason.split("'")[1] for e in by_status})
        out += [f"*This report leaves out {len(by_status)} stud{'y' if len(by_status) == 1 else 'ies'} "
                f"by evidence status ({', '.join(left_out)}), as asked (--exclude-status).*", ""]
    if analysis is None:
        out += ["## What the evidence says", "",
                f"**Nothing could be pooled.** None of the {len(table.studies)} candidate studies in "
                "this set gives the numbers an analysis of this question needs"
                + (" with the evidence statuses kept" if by_status else "") + "; the reasons are "
                "listed below. The honest answer for a journal club is that this question has not "
                "been answered by the evidence that could be found.", ""]
    else:
        out += ["## What the evidence says", ""] + story(analysis, other, robust, m) + [""]
    if findings is not None:
        out += findings_table(findings) + certainty_section(findings)
    out += claims_section(checks)

    # -- the data --
    statuses = effects.extra.get("evidence_status")
    out += ["## The studies", ""]
    if meta.inclusion:
        out += [f"**Which studies are pooled, and why.** {meta.inclusion.strip()}", ""]
    out.append(f"{k} stud{'y' if k == 1 else 'ies'} pooled"
               + (f"; {len(effects.excluded)} candidate stud{'y' if len(effects.excluded) == 1 else 'ies'} "
                  "not pooled (listed below)." if effects.excluded else "."))
    if statuses is not None and k:
        unverified = [s for s, st in zip(effects.studies, statuses)
                      if not all(x.strip() in VERIFIED for x in st.split(";"))]
        if unverified:
            out.append(f"**{len(unverified)} of the {k} pooled studies have numbers not verified "
                       f"against the full text or abstract** (evidence status other than "
                       f"full-text/abstract): {', '.join(unverified)}.")
    out.append("")
    for note in effects.notes:
        out.append(f"- {note}.")
    if effects.converted:
        out.append(f"- Given as an effect with its confidence interval (converted as metafor's "
                   f"conv.wald does): {', '.join(effects.converted)}.")
    if effects.notes or effects.converted:
        out.append("")
    if analysis is not None:
        out += _study_table(analysis, digits)
    out += not_pooled_section(table, m)
    warnings = analysis.warnings if analysis is not None else effects.warnings
    if warnings:
        out += ["", "Warnings:", ""] + [f"- {w}" for w in warnings]

    if analysis is not None:
        out += _result_sections(analysis, meta, figures, digits)
        if verified is not None and verified.differs:
            out += quality_section(analysis, verified.analysis, m, UNVERIFIED)
        if low_risk is not None and low_risk.differs:
            out += low_risk_section(analysis, low_risk.analysis, m)
        out += _robust_section(analysis, robust, figures.get("funnel"), digits)

    # -- methods --
    out += ["", "## Methods", "", _methods(analysis, m, bool(checks)), "", RULES_TEXT, ""]
    out += ["## Reproducibility", ""]
    files = [csv_path] + ([metadata_path(csv_path)] if os.path.exists(metadata_path(csv_path)) else [])
    for f in files:
        out.append(f"- `{_display(f)}` SHA-256 `{sha256(f)}`")
    out.append(f"- Software: {software_line()}")
    out.append(f"- Re-create: `metamg report {_display(csv_path)} -o {_display(outdir)}`")
    if analysis is not None:
        r = analysis.result
        lvl = f"{r.level * 100:g}%"
        value = f"{fmt_num(analysis.natural(r.estimate), digits)} ({lvl} CI " \
                f"{fmt_ci(analysis.natural(r.ci_low), analysis.natural(r.ci_high), digits)})"
        effect, i2 = f"{m.name} {value}", r.i2
    else:
        effect, i2 = "nothing could be pooled", None
    hints = _hints(analysis, effects, statuses, other, robust)
    summary = ReportSummary(meta.name, meta.title, question, k, effect, i2, hints, "", checks, findings)
    return "\n".join(out) + "\n", summary


def _result_sections(analysis, meta, figures, digits) -> list[str]:
    m, r = analysis.measure, analysis.result
    nat = analysis.natural
    lvl = f"{r.level * 100:g}%"
    est, lo, hi = nat(r.estimate), nat(r.ci_low), nat(r.ci_high)
    value = f"{fmt_num(est, digits)} ({lvl} CI {fmt_ci(lo, hi, digits)})"
    out = ["", "## Main result", ""]
    out += [_plain_words(analysis, meta, value), ""]
    rows = [("Pooled effect", value),
            ("Test of no effect", f"{'z' if r.df is None else f't({r.df:g})'} = {r.statistic:.2f}, {fmt_p(r.p)}")]
    if r.is_random and r.pi_low is not None and np.isfinite(r.pi_low):
        rows.append(("Prediction interval", fmt_ci(nat(r.pi_low), nat(r.pi_high), digits)))
    if m.scale != "identity":
        rows.append((f"On the {m.scale} scale", f"{r.estimate:.4f} (SE {r.se:.4f}), CI "
                                                 f"{r.ci_low:.4f} to {r.ci_high:.4f}"))
    ab = absolute_effect(analysis, meta.benefit, meta.grade)
    if ab is not None:
        rows.append(("Assumed control-group risk" if meta.grade.control_risk is not None else
                     "Median control-group risk", f"{ab.control_risk * 1000:.0f} per 1,000"))
        rows.append(("Difference with the intervention",
                     f"{_signed(ab.per_1000)} per 1,000 ({lvl} CI {_signed(ab.per_1000_low)} to "
                     f"{_signed(ab.per_1000_high)})"))
        rows.append((ab.nnt_kind or "NNT/NNH", f"{ab.nnt}" if ab.nnt else
                     "not given: the CI includes no effect"))
    out += ["| | |", "|---|---|"] + [f"| {a} | {b} |" for a, b in rows]

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
        out.append(f"- Prediction interval {fmt_ci(plo, phi, digits)}: the true effect in a new "
                   f"study like these is expected in this range"
                   + (", which includes no effect: a new study could well find none, or the opposite."
                      if crosses else ", which excludes no effect."))

    out += ["", "## Forest plot", "", f"![Forest plot of {meta.title}]({figures['forest']})", ""]
    if figures.get("rob_traffic"):
        out += ["## Risk of bias (RoB 2)", "",
                "Judgements per study and domain as recorded in the study set (blank = not assessed), "
                "and each domain's share of the analysis weight.", "",
                f"![Risk-of-bias traffic-light plot]({figures['rob_traffic']})", "",
                f"![Risk-of-bias summary weighted by the analysis]({figures['rob_summary']})", ""]
    out += ["## Funnel plot", ""]
    if figures.get("funnel"):
        out += [f"![Contour-enhanced funnel plot]({figures['funnel']})", "",
                "Shaded regions: where a study would be statistically significant against no "
                "effect (p < 0.10, 0.05, 0.01). Gaps in the white region on one side suggest "
                "missing small studies."]
    else:
        out += [f"Not drawn: {r.k} stud{'y' if r.k == 1 else 'ies'}, and a funnel plot needs at least "
                f"{FUNNEL_MIN_K} to say anything about small-study effects (Cochrane Handbook 13.3.5.4)."]
    return out


def _display(path) -> str:
    rel = os.path.relpath(os.fspath(path))
    return rel if not rel.startswith("..") else os.fspath(path)


def _question(meta) -> str:
    parts = [("Population", meta.population), ("intervention", meta.intervention),
             ("comparator", meta.comparator), ("outcome", meta.outcome)]
    given = [f"{k}: {v}" for k, v in parts if v]
    return "; ".join(given) + "." if given else "not stated in the metadata."


def _signed(x: float) -> str:
    return f"{x:+.0f}".replace("-", "−") if abs(x) >= 0.5 else "0"


def _default_value(meta, measure, key) -> str:
    return {"measure": measure.name, "profile": meta.profile,
            "subgroup": "none", "benefit": "lower values favour the intervention"}[key]


def _plain_words(analysis, meta, value) -> str:
    r, m = analysis.result, analysis.measure
    null_in = r.ci_low < 0 < r.ci_high
    words = (f"Across {r.k} studies, the pooled {m.label} was {value}." if r.k > 1 else
             f"In the one pooled study, the {m.label} was {value}.")
    if null_in:
        words += " The confidence interval includes no effect: these studies do not show a difference."
    else:
        lower = r.estimate < 0
        good = lower == (meta.benefit == "lower")
        words += (" The confidence interval excludes no effect, in the direction "
                  + ("favouring the intervention." if good else "favouring the comparator."))
    return words


def _study_table(analysis, digits):
    """Raw data, effect, weight and provenance per study; a provenance column whose value is
    the same for every study is said once above the table instead of in every row."""
    es = analysis.effects
    nat = analysis.natural
    prov = [c for c in PROVENANCE if c in es.extra]
    common = [c for c in prov if len(set(es.extra[c])) == 1 and es.extra[c] and es.extra[c][0].strip()]
    varying = [c for c in prov if c not in common and any(v.strip() for v in es.extra[c])]
    lines = [f"- All studies, {c.replace('_', ' ')}: {es.extra[c][0]}" for c in common]
    if lines:
        lines.append("")
    heads, cells_of = data_columns(analysis)
    head = (["Study"] + [h.replace("\n", " ") for h in heads] + [f"{analysis.measure.name} (95% CI)",
            "Weight"] + [c.replace("_", " ") for c in varying])
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for i, row in enumerate(analysis.rows):
        cells = ([row.study] + list(cells_of(row.study))
                 + [f"{fmt_num(nat(row.yi), digits)} ({fmt_ci(nat(row.ci_low), nat(row.ci_high), digits)})",
                    "" if row.weight is None else f"{row.weight:.1f}%"])
        cells += [es.extra[c][i].replace("|", "/") for c in varying]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def _methods(analysis, measure, with_claims=False) -> str:
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
    rules = "; ".join(analysis.rules)
    text = (f"Effect sizes and pooling follow metafor's conventions (method profile "
            f"'{analysis.profile}'). Rules used: {rules}.")
    if with_claims:
        text += "\n\n" + CLAIM_RULES
    return text + "\n\nReferences:\n\n" + "\n".join(f"- {x}" for x in refs)


def _hints(analysis, effects, statuses, other=None, robust=None) -> tuple[str, ...]:
    if analysis is None:
        return (f"{len(effects.excluded)} candidate studies, none poolable",)
    r = analysis.result
    hints = []
    if r.k < FUNNEL_MIN_K:
        hints.append(f"only {r.k} stud{'y' if r.k == 1 else 'ies'}: small-study effects cannot be assessed")
    if other is not None and models_disagree(r, other.result):
        hints.append("common-effect and random-effects models disagree")
    if robust and _small_study_effects(robust.get("bias")):
        hints.append(f"funnel asymmetry (Egger {fmt_p(robust['bias'].egger.p)})")
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
