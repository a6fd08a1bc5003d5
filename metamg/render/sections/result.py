"""The main result in words and numbers (with the absolute effect per 1,000 and the NNT for
binary outcomes), and the heterogeneity with the Cochrane Handbook's I² bands."""

from __future__ import annotations

from metamg.render.grade_text import NNT_LABELS
from metamg.render.intervals import PREDICTION_WITHHELD, adhoc_caveat, prediction_shown, prediction_withheld
from metamg.render.markdown import table_row
from metamg.render.numbers import effect_digits, fmt_ci, fmt_num, fmt_p, level_label, studies
from metamg.render.sections import ReportContext
from metamg.render.text import model_words

# Cochrane Handbook (version 6.5, 2024) section 10.10.2: overlapping bands
I2_BANDS = (
    (0, 40, "might not be important"),
    (30, 60, "may represent moderate heterogeneity"),
    (50, 90, "may represent substantial heterogeneity"),
    (75, 100, "represents considerable heterogeneity"),
)


def i2_meaning(i2: float) -> str:
    bands = [f"{text} ({lo}% to {hi}%)" for lo, hi, text in I2_BANDS if lo <= i2 <= hi]
    return "; ".join(bands)


def section(ap, ctx: ReportContext) -> list[str]:
    """The main result in words and numbers, and the heterogeneity."""
    if ap.analysis is None:
        return []
    analysis, meta = ap.analysis, ap.meta
    digits = effect_digits(analysis.measure)
    m, r = analysis.measure, analysis.result
    nat = analysis.natural
    lvl = level_label(r.level)
    out = ["", "## Main result", ""]
    rows = []
    for a in [analysis] if ap.answer is analysis else [analysis, ap.answer]:
        res = a.result
        ci = fmt_ci(nat(res.ci_low), nat(res.ci_high), digits)
        value = f"{fmt_num(nat(res.estimate), digits)} ({lvl} CI {ci})"
        if a is analysis:
            out += [
                _plain_words(a, meta, value)
                + (
                    ""
                    if ap.answer is analysis
                    else ' The verdicts use the common-effect estimate below instead (see "What the '
                    'evidence says").'
                ),
                "",
            ]
        which = (
            ""
            if ap.answer is analysis
            else (f" ({'main analysis' if a is analysis else 'used for the verdicts'}; {model_words(res)})")
        )
        test = f"{'z' if res.df is None else f't({res.df:g})'} = {res.statistic:.2f}, {fmt_p(res.p)}"
        rows += [("Pooled effect" + which, value), ("Test of no effect" + which, test)]
        if res.hk_narrowed:
            adhoc = fmt_ci(nat(res.ci_adhoc_low), nat(res.ci_adhoc_high), digits)
            rows.append((f"Ad hoc corrected CI{which}", f"{lvl} CI {adhoc} ({adhoc_caveat(res)})"))
    narrowed = (
        " (built on the narrowed HKSJ standard error: as overconfident as the CI; see the ad hoc "
        "corrected CI)"
        if r.hk_narrowed
        else ""
    )
    if prediction_shown(r):
        rows.append(
            (f"Prediction interval ({lvl})", fmt_ci(nat(r.pi_low), nat(r.pi_high), digits) + narrowed)
        )
    elif prediction_withheld(r):
        rows.append((f"Prediction interval ({lvl})", PREDICTION_WITHHELD))
    if m.scale != "identity":
        rows.append(
            (
                f"On the {m.scale} scale",
                f"{r.estimate:.4f} (SE {r.se:.4f}), CI {r.ci_low:.4f} to {r.ci_high:.4f}",
            )
        )
    ab = ap.findings.absolute  # of the answer's analysis, as the summary of findings
    if ab is not None:
        which = "" if ap.answer is analysis else " (the verdicts' model)"
        rows.append(
            (
                "Assumed control-group risk"
                if meta.grade.control_risk is not None
                else "Median control-group risk",
                f"{ab.control_risk * 1000:.0f} per 1,000",
            )
        )
        rows.append(
            (
                f"Difference with the intervention{which}",
                f"{_signed(ab.per_1000)} per 1,000 ({lvl} CI {_signed(ab.per_1000_low)} to "
                f"{_signed(ab.per_1000_high)})",
            )
        )
        rows.append(
            (
                NNT_LABELS.get(ab.nnt_kind, "NNT/NNH") + which,
                f"{ab.nnt}" if ab.nnt else "not given: the CI includes no effect",
            )
        )
    out += ["| | |", "|---|---|"] + [table_row([a, b]) for a, b in rows]

    out += ["", "## Heterogeneity", ""]
    if r.k < 2:
        out.append("- Not assessable with one study.")
    elif r.is_random:
        tau_ci = (
            f" ({lvl} CI {fmt_num(r.tau2_ci_low, 4)} to {fmt_num(r.tau2_ci_high, 4)})"
            if r.tau2_ci_low is not None
            else ""
        )
        i2_ci = f" ({lvl} CI {r.i2_ci_low:.0f}% to {r.i2_ci_high:.0f}%)" if r.i2_ci_low is not None else ""
        out.append(f"- tau² = {fmt_num(r.tau2, 4)}{tau_ci}; tau = {fmt_num(r.tau, 4)}")
        out.append(f"- I² = {r.i2:.0f}%{i2_ci}: {i2_meaning(r.i2)}. (From Q alone, I² = {r.i2_q:.0f}%.)")
    else:
        out.append(f"- I² = {r.i2:.0f}%: {i2_meaning(r.i2)}.")
    if r.k >= 2:
        out.append(f"- Q = {r.q:.2f} on {r.q_df} df, {fmt_p(r.q_p)}")
    if prediction_withheld(r):
        out.append(f"- Prediction interval: {PREDICTION_WITHHELD}.")
    if prediction_shown(r):
        plo, phi = nat(r.pi_low), nat(r.pi_high)
        null = 1.0 if m.scale == "log" else 0.0
        crosses = plo < null < phi
        out.append(
            f"- Prediction interval ({lvl}) {fmt_ci(plo, phi, digits)}: the true effect in a new "
            f"study like these is expected in this range"
            + (
                ", which includes no effect: a new study could well find none, or the opposite."
                if crosses
                else ", which excludes no effect."
            )
            + (
                " It is built on the narrowed HKSJ standard error, so it shares that interval's "
                "overconfidence."
                if r.hk_narrowed
                else ""
            )
        )

    return out


def _plain_words(analysis, meta, value) -> str:
    r, m = analysis.result, analysis.measure
    null_in = r.ci_low < 0 < r.ci_high
    words = (
        f"Across {studies(r.k)}, the pooled {m.label} was {value}."
        if r.k > 1
        else f"In the one pooled study, the {m.label} was {value}."
    )
    if null_in:
        words += " The confidence interval includes no effect: these studies do not show a difference."
    else:
        lower = r.estimate < 0
        good = lower == (meta.benefit == "lower")
        words += " The confidence interval excludes no effect, in the direction " + (
            "favouring the intervention." if good else "favouring the comparator."
        )
    return words


def _signed(x: float) -> str:
    return f"{x:+.0f}".replace("-", "−") if abs(x) >= 0.5 else "0"
