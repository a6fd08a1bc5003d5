"""Is it robust? Subgroups, leave-one-out, cumulative meta-analysis, influence and small-study
effects, each table naming its model."""

from __future__ import annotations

from metamg.render.markdown import md_text, table_row
from metamg.render.notes_text import not_run_text, note_text
from metamg.render.numbers import effect_digits, fmt_ci, fmt_fixed, fmt_p, fmt_pvalue, level_label, studies
from metamg.render.sections import ReportContext
from metamg.render.text import model_words, qm_text


def section(ap, ctx: ReportContext) -> list[str]:
    if ap.analysis is None:
        return []
    analysis, tests = ap.analysis, ap.bias
    digits = effect_digits(analysis.measure)
    funnel_file = ctx.figures.get("funnel")
    nat = analysis.natural
    name = analysis.measure.natural_name
    r = analysis.result
    lvl = level_label(r.level)

    def effect(res):
        return f"{fmt_fixed(nat(res.estimate), digits)} ({fmt_ci(nat(res.ci_low), nat(res.ci_high), digits)})"

    out = [
        "",
        "## Is it robust?",
        "",
        f"Each analysis below names its model. The main analysis uses the {model_words(r)}; "
        f"intervals are {lvl} throughout.",
    ]
    groups = ap.subgroups
    if groups is not None:
        out += [
            "",
            f"### Subgroups by {md_text(groups.column)} ({model_words(r)})",
            "",
            table_row([md_text(groups.column), "k", f"{name} ({lvl} CI)", "I²"]),
            "|---|---|---|---|",
        ]
        out += [
            table_row(
                [
                    md_text(g.level),
                    str(g.analysis.result.k),
                    effect(g.analysis.result),
                    f"{g.analysis.result.i2:.0f}%",
                ]
            )
            for g in groups.subgroups
        ]
        if groups.between is not None:
            b = groups.between
            out += [
                "",
                f"Test for subgroup differences (Q on the subgroup estimates, as RevMan): "
                f"Q = {b.q:.2f}, df = {b.q_df}, {fmt_p(b.q_p)}.",
            ]
        if groups.moderator_test is not None:
            t = groups.moderator_test
            out.append(
                f"Moderator test (one model with a dummy per subgroup, as metafor's "
                f"rma(mods = ~ factor({md_text(groups.column)}))): {qm_text(t)}."
            )
    loo = ap.leave1out
    if loo:
        ests = [nat(x.result.estimate) for x in loo]
        lo, hi = min(ests), max(ests)
        out += [
            "",
            f"### Leaving out one study at a time ({model_words(r)})",
            "",
            f"The pooled {name} stays between {fmt_fixed(lo, digits)} and {fmt_fixed(hi, digits)} "
            f"whichever single study is left out.",
            "",
        ]
        out += _refit_table(loo, "Study left out", name, lvl, effect)
    cum = ap.cumulative
    if cum is not None:
        order = cum.order.replace(" (ties keep data order)", ", ties in data order")
        which = model_words(cum.rows[-1].result)
        if ap.answer is not analysis:
            which += ": the model the verdicts use"
        out += [
            "",
            f"### Cumulative meta-analysis, studies added by {order} ({which})",
            "",
            "How the pooled result would have looked as each study was published.",
            "",
        ]
        out += _refit_table(cum.rows, "Study added", name, lvl, effect)
    infl = ap.influence
    if infl:
        flagged = [x for x in infl if x.influential]
        out += ["", f"### Influential studies ({model_words(r)})", ""]
        if flagged:
            out.append(
                "Flagged by metafor's criteria (DFFITS, Cook's distance, hat value or DFBETAS): "
                + "; ".join(
                    f"{md_text(x.study)} (Cook's distance {x.cook_d:.2f}, weight {x.weight:.1f}%)"
                    for x in flagged
                )
                + "."
            )
        else:
            top = max(infl, key=lambda x: x.cook_d)
            out.append(
                f"No study is flagged by metafor's criteria; the largest Cook's distance is "
                f"{top.cook_d:.2f} ({md_text(top.study)})."
            )
    for what, why in map(not_run_text, ap.not_run):
        out += ["", f"*{md_text(what[0].upper() + what[1:])}: not run ({md_text(why)}).*"]
    if tests is not None:
        out += ["", "### Small-study effects", ""]
        if tests.caution:
            out += [f"*Caution: {note_text(tests.caution)}.*", ""]
        if tests.egger is not None and tests.egger.statistic is not None:
            e = tests.egger
            stat = "z" if e.df is None else f"t({e.df})"
            out.append(
                f"- Egger's regression test ({_egger_model(r)} meta-regression on the standard "
                f"error with the analysis's model, as metafor's regtest): {stat} = {e.statistic:.2f}, "
                f"{fmt_p(e.p)}; effect expected in an infinitely large study "
                f"{fmt_fixed(nat(e.limit_estimate), digits)} "
                f"({lvl} CI {fmt_ci(nat(e.limit_ci_low), nat(e.limit_ci_high), digits)})."
            )
        lm = tests.egger_lm
        if lm.statistic is not None:
            out.append(
                f"- Egger's test, classical weighted regression (common-effect weights, t test): "
                f"t({lm.df}) = {lm.statistic:.2f}, {fmt_p(lm.p)}."
            )
        if tests.egger is not None and tests.egger.statistic is None and tests.egger.note:
            out.append(f"- Egger's regression test: not computable ({note_text(tests.egger.note)}).")
        if tests.begg.note:
            out.append(
                f"- Begg and Mazumdar's rank correlation: not computable ({note_text(tests.begg.note)})."
            )
        else:
            out.append(
                f"- Begg and Mazumdar's rank correlation: tau = {tests.begg.tau:.3f}, {fmt_p(tests.begg.p)}."
            )
        tf = tests.trimfill
        if tf is not None:
            adj = tf.result
            out.append(
                f"- Trim and fill ({model_words(adj)}): {studies(tf.k0)} "
                f"imputed on the {tf.side}; adjusted {name} {effect(adj)}"
                + (" (filled studies shown in the funnel plot)." if funnel_file and tf.k0 else ".")
            )
        out.append(f"- Rosenthal's fail-safe N: {studies(tests.fsn.fsnum).replace(' ', ' null ', 1)}.")
    return out


def _refit_table(refits, first, name, lvl, effect) -> list[str]:
    rows = [table_row([first, f"{name} ({lvl} CI)", "I²", "p"]), "|---|---|---|---|"]
    return rows + [
        table_row(
            [
                md_text(x.study),
                effect(x.result),
                f"{x.result.i2:.0f}%",
                fmt_pvalue(x.result.p),
            ]
        )
        for x in refits
    ]


def _egger_model(r) -> str:
    return "common-effect" if r.method in ("FE", "MH", "PETO") else "mixed-effects"
