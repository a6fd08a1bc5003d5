"""Plain-text rendering of a pooled analysis, for the terminal."""

from __future__ import annotations

import csv
import io
import math

import numpy as np

from metamg.render.intervals import PREDICTION_WITHHELD, adhoc_caveat, prediction_shown, prediction_withheld
from metamg.render.notes_text import note_text, notes_text
from metamg.render.numbers import fmt_ci, fmt_num, fmt_p, fmt_pvalue, level_label
from metamg.render.safe import csv_text_cell, one_line


def _terminal_digits(measure) -> int:
    """The terminal shows risk differences and proportions to 4 decimals."""
    return 4 if measure.name in ("RD", "PR") else 2


def pool_text(a) -> str:
    """What a careful reader wants to see after ``metamg pool``."""
    r, m = a.result, a.measure
    lvl = level_label(r.level)
    nat = m.scale != "identity"
    digits = _terminal_digits(m)
    out = [
        f"metamg pool: {a.source}",
        f"Measure: {m.label} ({m.name})" + (f", analysed on the {m.scale} scale" if nat else ""),
        f"Profile: {a.profile}; model: {model_words(r)}",
        "",
        f"Studies pooled: k = {r.k}"
        + (f" ({len(a.excluded)} not estimable, listed below)" if a.excluded else ""),
    ]
    test = "z" if r.df is None else f"t({r.df:g})"
    out.append(
        f"Pooled {m.name}: {fmt_num(a.natural(r.estimate), digits)} "
        f"({lvl} CI {fmt_ci(a.natural(r.ci_low), a.natural(r.ci_high), digits)}); "
        f"{test} = {r.statistic:.2f}, {fmt_p(r.p)}"
    )
    if r.hk_narrowed:
        adhoc = fmt_ci(a.natural(r.ci_adhoc_low), a.natural(r.ci_adhoc_high), digits)
        out.append(f"  ad hoc corrected {lvl} CI {adhoc} ({adhoc_caveat(r)})")
    if nat:
        out.append(
            f"  {m.scale} scale: {r.estimate:.4f} (SE {r.se:.4f}), CI {r.ci_low:.4f} to {r.ci_high:.4f}"
        )
    if r.is_random:
        if prediction_withheld(r):
            out.append(f"Prediction interval ({lvl}): {PREDICTION_WITHHELD}")
        elif prediction_shown(r):
            out.append(
                f"Prediction interval ({lvl}): "
                f"{fmt_ci(a.natural(r.pi_low), a.natural(r.pi_high), digits)}"
                "  (where the true effect of a new, similar study is expected to lie)"
            )
        tau_ci = ""
        if r.tau2_ci_low is not None and math.isfinite(r.tau2_ci_low):  # none from one study
            tau_ci = f" ({lvl} CI {fmt_num(r.tau2_ci_low, 4)} to {fmt_num(r.tau2_ci_high, 4)})"
        out.append(f"Heterogeneity: tau² = {fmt_num(r.tau2, 4)}{tau_ci}, tau = {fmt_num(r.tau, 4)}")
        i2_ci = ""
        if r.i2_ci_low is not None and math.isfinite(r.i2_ci_low):
            i2_ci = f" ({lvl} CI {r.i2_ci_low:.1f}% to {r.i2_ci_high:.1f}%)"
        out.append(f"  I² = {r.i2:.1f}%{i2_ci} [from tau²]; I² from Q = {r.i2_q:.1f}%; H² = {r.h2:.2f}")
    else:
        out.append(f"Heterogeneity: I² = {r.i2:.1f}% [from Q]; H² = {r.h2:.2f}")
    out.append(f"  Q = {r.q:.2f} on {r.q_df} df, {fmt_p(r.q_p)}")
    if r.cmh is not None:
        out.append(
            f"  CMH test = {r.cmh:.2f}, {fmt_p(r.cmh_p)}; Tarone's test for homogeneous "
            f"odds ratios = {fmt_num(r.tarone)}, {fmt_p(r.tarone_p)}"
        )
    out += ["", _study_table(a, digits, lvl)]
    if a.excluded:
        out += ["", "Not estimable (not pooled):"]
        out += [f"  {one_line(e.study)} (line {e.line}): {one_line(note_text(e.reason))}" for e in a.excluded]
    if a.warnings:
        out += ["", "Warnings:"] + [f"  {one_line(w)}" for w in notes_text(a.warnings)]
    out += ["", "Methods:"] + [f"  {rule}" for rule in notes_text(a.rules)]
    return "\n".join(out) + "\n"


def model_words(r) -> str:
    """The model of a result in a few words: 'random-effects model, REML, CI hk'."""
    if r.model == "mantel-haenszel":
        return "common-effect model, Mantel-Haenszel"
    if r.model == "peto":
        return "common-effect model, Peto"
    if r.method == "FE":
        return f"common-effect model, inverse variance, CI {r.ci_method}"
    return f"random-effects model, {r.method}, CI {r.ci_method}"


def _study_table(a, digits, lvl) -> str:
    rows = a.rows
    labels = [one_line(s.study) for s in rows]
    width = max([len("Study")] + [len(x) for x in labels])
    head = f"{'Study':<{width}}  {a.measure.name:>9}  {lvl + ' CI':^20}  {'Weight':>7}"
    lines = [head, "-" * len(head)]
    for s, label in zip(rows, labels, strict=True):
        w = "" if s.weight is None else f"{s.weight:6.1f}%"
        lines.append(
            f"{label:<{width}}  {fmt_num(a.natural(s.yi), digits):>9}  "
            f"{fmt_num(a.natural(s.ci_low), digits):>8} to {fmt_num(a.natural(s.ci_high), digits):<8}  "
            f"{w:>7}"
        )
    return "\n".join(lines)


def studies_csv(a) -> str:
    """The per-study table as CSV: analysis scale, natural scale and weight (labels are kept
    from being read as spreadsheet formulas; numbers are written in full, as repr gives them)."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")  # RFC 4180; a label holding \r or \n is quoted
    nat = a.measure.scale != "identity"
    header = ["study", "yi", "vi", "ci_low", "ci_high"]
    if nat:
        header += ["effect", "effect_ci_low", "effect_ci_high"]
    w.writerow(header + ["weight_percent"])
    rows = a.rows
    columns = [[csv_text_cell(s.study) for s in rows]]
    values = [[s.yi for s in rows], [s.vi for s in rows], [s.ci_low for s in rows], [s.ci_high for s in rows]]
    if nat:
        values += [
            a.measure.to_natural(np.array(v, dtype=float)).tolist() for v in (values[0], values[2], values[3])
        ]
    columns += [[repr(x) for x in v] for v in values]
    columns.append(["" if s.weight is None else repr(s.weight) for s in rows])
    w.writerows(zip(*columns, strict=True))
    return buf.getvalue()


def subgroups_text(groups) -> str:
    """Per-level results and both tests for subgroup differences."""
    a = groups.overall
    nat, m = a.natural, a.measure
    digits = _terminal_digits(m)
    out = [f"Subgroups by {one_line(groups.column)}:"]
    width = max(len(one_line(g.level)) for g in groups.subgroups)
    for g in groups.subgroups:
        r = g.analysis.result
        out.append(
            f"  {one_line(g.level):<{width}}  k = {r.k:<3} {m.natural_name} "
            f"{fmt_num(nat(r.estimate), digits)} ({fmt_ci(nat(r.ci_low), nat(r.ci_high), digits)}), "
            f"I² = {r.i2:.0f}%"
        )
    if groups.between is not None:
        b = groups.between
        out.append(
            f"Test for subgroup differences (RevMan, Q on the subgroup estimates): "
            f"Q = {b.q:.2f}, df = {b.q_df}, {fmt_p(b.q_p)}"
        )
    if groups.moderator_test is not None:
        t = groups.moderator_test
        out.append(
            f"Moderator test (one model with a dummy per subgroup, as metafor): {qm_text(t)}; "
            f"residual tau² = {fmt_num(t.tau2, 4)}; "
            f"QE = {t.qe:.2f}, {fmt_p(t.qe_p)}"
        )
    return "\n".join(out) + "\n"


def qm_text(fit) -> str:
    """The omnibus test of a meta-regression's moderators: 'QM(2) = 4.10, p = 0.129' (z tests)
    or 'F(2, 10) = 2.05, p = 0.180' (Knapp-Hartung)."""
    if fit.qm_df2 is not None:
        return f"F({fit.qm_df}, {fit.qm_df2}) = {fit.qm:.2f}, {fmt_p(fit.qm_p)}"
    return f"QM({fit.qm_df}) = {fit.qm:.2f}, {fmt_p(fit.qm_p)}"


def regression_text(analysis, fit, design, perm=None) -> str:
    """The coefficient table and the model tests of a meta-regression."""
    knha = fit.ci_method in ("hk", "hk-adhoc")
    test = "t" if knha else "z"
    out = [
        f"metamg regress: {analysis.source}",
        (
            "Common-effect meta-regression"
            if fit.method == "FE"
            else f"Mixed-effects meta-regression, tau² by {fit.method}"
        )
        + (
            ", Knapp-Hartung t/F tests"
            + (" (ad hoc: never narrower than Wald)" if fit.ci_method == "hk-adhoc" else "")
            if knha
            else ", Wald z tests"
        )
        + "; "
        f"k = {fit.k}; coefficients on the {analysis.measure.scale} scale of {analysis.measure.name}",
        "",
    ]
    for col, ref in design.reference_levels.items():
        out.append(f"{one_line(col)}: reference level {one_line(repr(ref))}")
    if design.dropped:
        out.append(
            f"Left out for a missing moderator value: {', '.join(one_line(d) for d in design.dropped)}"
        )
    names = [one_line(c.name) for c in fit.coefficients]
    width = max(len(n) for n in names)
    extra = f"  {'p (perm.)':>9}" if perm else ""
    out.append(
        f"{'':<{width}}  {'estimate':>10}  {'se':>9}  {test:>7}  {'p':>9}{extra}  "
        f"{level_label(analysis.result.level)} CI"
    )
    for i, (c, name) in enumerate(zip(fit.coefficients, names, strict=True)):
        pp = f"  {fmt_pvalue(perm.p[i]):>9}" if perm else ""
        out.append(
            f"{name:<{width}}  {c.estimate:10.4f}  {c.se:9.4f}  {c.statistic:7.2f}  "
            f"{fmt_pvalue(c.p):>9}{pp}  {c.ci_low:.4f} to {c.ci_high:.4f}"
        )
    perm_text = (
        f" (permutation p = {fmt_pvalue(perm.qm_p)} from {perm.permutations} shuffles, seed {perm.seed})"
        if perm
        else ""
    )
    out += [
        "",
        f"Test of moderators: {qm_text(fit)}{perm_text}",
        f"Residual heterogeneity: tau² = {fmt_num(fit.tau2, 4)}, I² = {fit.i2:.1f}%, "
        f"H² = {fit.h2:.2f}; QE({fit.qe_df}) = {fit.qe:.2f}, {fmt_p(fit.qe_p)}",
        ("R² (weighted least squares, adjusted): " if fit.method == "FE" else "R² (tau² explained): ")
        + ("n/a (the moderators fit the studies exactly)" if fit.r2 is None else f"{fit.r2:.1f}%"),
    ]
    return "\n".join(out) + "\n"
