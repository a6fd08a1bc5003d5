"""Text tables for the sensitivity and small-study analyses."""

from __future__ import annotations

from metamg.render.notes_text import note_text
from metamg.render.numbers import effect_digits, fmt_fixed, fmt_num, fmt_p, fmt_pvalue, level_label, studies
from metamg.render.safe import one_line


def refit_table(analysis, refits, first_column: str) -> list[str]:
    nat = analysis.natural
    m = analysis.measure
    digits = effect_digits(m)
    width = max([len(first_column)] + [len(one_line(r.study)) for r in refits])
    ci = f"{level_label(analysis.result.level)} CI"
    head = f"{first_column:<{width}}  {m.natural_name:>8}  {ci:^17}  {'tau²':>8}  {'I²':>5}  {'p':>10}"
    lines = [head, "-" * len(head)]
    for r in refits:
        res = r.result
        tau2 = "" if res.tau2 is None else fmt_num(res.tau2, 4)
        lines.append(
            f"{one_line(r.study):<{width}}  {fmt_fixed(nat(res.estimate), digits):>8}  "
            f"{fmt_fixed(nat(res.ci_low), digits):>7} to {fmt_fixed(nat(res.ci_high), digits):<7}  "
            f"{tau2:>8}  {res.i2:4.0f}%  {fmt_pvalue(res.p):>10}"
        )
    return lines


def influence_table(rows) -> list[str]:
    width = max([len("Study")] + [len(one_line(x.study)) for x in rows])
    head = (
        f"{'Study':<{width}}  {'rstudent':>8}  {'dffits':>7}  {'cook_d':>7}  {'cov_r':>6}  "
        f"{'tau2_del':>9}  {'QE_del':>8}  {'hat':>5}  {'dfbetas':>7}  influential"
    )
    lines = [head, "-" * len(head)]
    for x in rows:
        lines.append(
            f"{one_line(x.study):<{width}}  {x.rstudent:8.2f}  {x.dffits:7.2f}  {x.cook_d:7.2f}  "
            f"{x.cov_r:6.2f}  {fmt_num(x.tau2_del, 4):>9}  {x.QE_del:8.2f}  {x.hat:5.2f}  "
            f"{x.dfbetas:7.2f}  {'yes' if x.influential else ''}"
        )
    return lines


def sensitivity_text(analysis, loo, cum, infl=(), subsets_fit=None) -> str:
    r = analysis.result
    out = [
        f"metamg sensitivity: {analysis.source}",
        f"Model for every refit: {r.method}, CI {r.ci_method} (as the main analysis)",
        "",
        "Leave one out (the result without each study):",
    ]
    out += refit_table(analysis, loo, "Study left out")
    out += ["", f"Cumulative meta-analysis, studies added in {cum.order}:"]
    out += refit_table(analysis, cum.rows, "Study added")
    if infl:
        flagged = [x.study for x in infl if x.influential]
        out += ["", "Influence diagnostics (Viechtbauer & Cheung 2010; flagged as metafor does):"]
        out += influence_table(infl)
        out.append("Influential: " + (", ".join(one_line(f) for f in flagged) if flagged else "none"))
    if subsets_fit is not None:
        g = subsets_fit.summary()
        nat = analysis.natural
        how = "all" if g["exhaustive"] else "a random sample of"
        out += [
            "",
            f"GOSH (common-effect model on {how} {g['n_subsets']:,} subsets of the {subsets_fit.k} studies):",
            f"  estimate ranges {fmt_fixed(nat(g['estimate']['min']))} to "
            f"{fmt_fixed(nat(g['estimate']['max']))} (mean on the analysis scale "
            f"{g['estimate']['mean']:.4f}); I² ranges {g['I2']['min']:.0f}% to {g['I2']['max']:.0f}%",
        ]
    return "\n".join(out) + "\n"


def bias_text(analysis, tests) -> str:
    egger, egger_lm, begg, fsn, caution = (tests.egger, tests.egger_lm, tests.begg, tests.fsn, tests.caution)
    r = analysis.result
    lvl = level_label(r.level)
    common = r.method in ("FE", "MH", "PETO")
    model = "common-effect model" if common else f"mixed-effects model, tau² by {r.method}"
    out = [
        f"metamg bias: {analysis.source}",
        f"Model: {'the common-effect model' if common else f'random effects, tau² by {r.method}'} "
        f"(as the analysis); intervals are {lvl}",
        "",
    ]
    if caution:
        out += [f"Caution: {note_text(caution)}", ""]
    nat = analysis.natural

    def limit(e):
        return (
            f"limit estimate (se → 0) {fmt_fixed(nat(e.limit_estimate))} ({lvl} CI "
            f"{fmt_fixed(nat(e.limit_ci_low))} to {fmt_fixed(nat(e.limit_ci_high))})"
        )

    if egger is None:
        out.append(f"Egger's regression test ({model}, metafor's default): needs at least 3 studies")
    elif egger.statistic is None:
        out.append(
            f"Egger's regression test ({model}, metafor's default): not computable"
            + (f" ({note_text(egger.note)})" if egger.note else "")
        )
    else:
        test = "z test" if egger.df is None else "Knapp-Hartung t test"
        stat = "z" if egger.df is None else f"t({egger.df})"
        out.append(
            f"Egger's regression test ({model}, {test}, metafor's default): {stat} = "
            f"{egger.statistic:.2f}, {fmt_p(egger.p)}; {limit(egger)}"
        )
    if egger_lm.statistic is None:
        out.append(
            "Egger's regression test (classical, weighted least squares): not computable ("
            + (
                note_text(egger_lm.note)
                if egger_lm.note
                else f"{studies(r.k)}: no residual degrees of freedom"
            )
            + ")"
        )
    else:
        out.append(
            f"Egger's regression test (classical, weighted least squares): t({egger_lm.df}) = "
            f"{egger_lm.statistic:.2f}, {fmt_p(egger_lm.p)}; {limit(egger_lm)}"
        )
    if begg.note:
        out.append(f"Begg and Mazumdar's rank correlation: not computable ({note_text(begg.note)})")
    else:
        kind = "exact" if begg.exact else "normal approximation"
        out.append(
            f"Begg and Mazumdar's rank correlation: Kendall's tau = {begg.tau:.3f}, {fmt_p(begg.p)} ({kind})"
        )
    tf = tests.trimfill
    if tf is None:
        out.append(f"Trim and fill: {tests.trimfill_error}")
    else:
        t = tf.result
        filled = (
            f"{studies(tf.k0)} filled on the {tf.side}"
            if tf.k0
            else f"no studies filled (side examined: {tf.side})"
        )
        out.append(
            f"Trim and fill (L0, {model}): {filled}; adjusted {analysis.measure.natural_name} "
            f"{fmt_fixed(nat(t.estimate))} ({lvl} CI {fmt_fixed(nat(t.ci_low))} to "
            f"{fmt_fixed(nat(t.ci_high))}), k = {t.k}"
        )
    out.append(
        f"Rosenthal's fail-safe N: {studies(fsn.fsnum).replace(' ', ' null ', 1)} would be needed "
        f"to make the combined result non-significant at one-sided alpha {fsn.alpha:g} ({fmt_p(fsn.p)})"
    )
    return "\n".join(out) + "\n"
