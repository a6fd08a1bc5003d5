"""Report sections about the evidence itself: the story the numbers tell, the claims checked,
the studies that could not be pooled, and the analysis restricted to verified numbers."""

from __future__ import annotations

import numpy as np

from metamg.analyses.appraisal import SMALL_STUDY_P, excludes_null
from metamg.analyses.few_studies import FEW_STUDIES
from metamg.effects.measures import MEASURES
from metamg.render.claims_text import reason_text
from metamg.render.markdown import md_text, table_row
from metamg.render.notes_text import note_text
from metamg.render.numbers import (
    effect_digits,
    fmt_ci,
    fmt_fixed,
    fmt_p,
    fmt_percent,
    fmt_probability,
    level_label,
    studies,
)


def effect_text(analysis_or_result, measure, level=None) -> str:
    """'0.46 (95% CI 0.31 to 0.69)' for a PoolAnalysis or PoolResult, on the natural scale."""
    r = getattr(analysis_or_result, "result", analysis_or_result)
    nat, d = measure.to_natural, effect_digits(measure)
    return (
        f"{fmt_fixed(float(nat(r.estimate)), d)} ({level_label(level or r.level)} CI "
        f"{fmt_ci(float(nat(r.ci_low)), float(nat(r.ci_high)), d)})"
    )


def answer_lines(ap) -> list[str]:
    """When the verdicts use the other model, say so first, with both estimates and why."""
    if ap.answer is ap.analysis:
        return []
    m = ap.analysis.measure
    name = m.natural_name
    return [
        f"**The answer used here: the common-effect model, {name} {effect_text(ap.answer, m)}.** "
        f"The verdicts, the summary of findings and the absolute effects use it, not the "
        f"random-effects estimate of the main analysis ({name} {effect_text(ap.analysis, m)}), "
        f"because {note_text(ap.answer_reason)}. The forest plot shows both.",
        "",
    ]


def story(ap) -> list[str]:
    """What the numbers say, in words: the two models, the cumulative analysis, small-study
    effects. Every number comes from the appraisal's analyses, each named with its model."""
    analysis, other, measure = ap.analysis, ap.other, ap.analysis.measure
    r = analysis.result
    name = measure.natural_name
    if r.k < 2:
        return [
            f"Only one study could be pooled, so the result is that study's own: {name} "
            f"{effect_text(analysis, measure)}. One study cannot show whether its result "
            "would hold in other settings."
        ]
    main_model = "random-effects" if r.is_random else "common-effect"
    other_model = "common-effect" if r.is_random else "random-effects"
    out = [
        f"- **{main_model.capitalize()} model** (the main analysis): {name} "
        f"{effect_text(analysis, measure)}, {fmt_p(r.p)}."
    ]
    if other is not None:
        o = other.result
        out.append(
            f"- **{other_model.capitalize()} model**: {name} {effect_text(other, measure)}, {fmt_p(o.p)}."
        )
        fe = other if r.is_random else analysis
        re = analysis if r.is_random else other
        big = int(np.argmax(fe.result.weights))
        big_name = md_text(fe.effects.studies[big])
        if ap.models_disagree:
            re_w = re.result.weights[big]
            out.append(
                f"- The two models disagree. The common-effect model weights each study by its "
                f"precision, so the largest trial, {big_name}, carries "
                f"{fmt_percent(fe.result.weights[big])} of the weight; the random-effects model "
                f"gives it {fmt_percent(re_w)} and lets the smaller trials count for much more."
            )
            row = analysis.rows[big]
            d = effect_digits(measure)
            own = (
                f"{fmt_fixed(float(measure.to_natural(row.yi)), d)} ({level_label(r.level)} CI "
                f"{fmt_ci(float(measure.to_natural(row.ci_low)), float(measure.to_natural(row.ci_high)), d)})"
            )
            out.append(f"- On its own, {big_name} found {name} {own}.")
        elif re.result.hk_narrowed:  # an interval narrowed below Wald's is no "agreement"
            rr, d = re.result, effect_digits(measure)
            adhoc = fmt_ci(
                float(measure.to_natural(rr.ci_adhoc_low)), float(measure.to_natural(rr.ci_adhoc_high)), d
            )
            out.append(
                f"- The two estimates are close, but that is not agreement: the random-effects "
                f"interval is narrower than the Wald interval of its own model (Knapp-Hartung "
                f"factor {rr.hk_scale:.2f}, below 1), so it overstates the precision; corrected "
                f'(metafor\'s test="adhoc") it is {level_label(rr.level)} CI {adhoc}. The largest '
                f"study, {big_name}, carries {fmt_percent(fe.result.weights[big])} of the "
                "common-effect weight."
            )
        else:
            out.append(
                f"- The two models agree; the largest study, {big_name}, carries "
                f"{fmt_percent(fe.result.weights[big])} of the common-effect weight."
            )
    cum = ap.cumulative
    if cum is not None and len(cum.rows) >= 3:
        shifts = [
            abs(cum.rows[i].result.estimate - cum.rows[i - 1].result.estimate)
            for i in range(1, len(cum.rows))
        ]
        j = int(np.argmax(shifts)) + 1
        first_sig = next((x for x in cum.rows if x.result.k > 1 and excludes_null(x.result)), None)
        model = "random-effects" if cum.rows[-1].result.is_random else "common-effect"
        text = (
            f"- **Cumulative meta-analysis** ({model} model, studies added by {cum.order.split(' (')[0]}): "
        )
        if first_sig is not None:
            text += (
                f"the pooled result first excluded no effect once {md_text(first_sig.study)} was "
                f"added ({name} {effect_text(first_sig.result, measure)}). "
            )
        before, after = cum.rows[j - 1], cum.rows[j]
        text += (
            f"The largest single change came with {md_text(after.study)}: from {name} "
            f"{effect_text(before.result, measure)} to {effect_text(after.result, measure)}."
        )
        out.append(text)
    tests = ap.bias
    if tests is not None and tests.egger is not None and tests.egger.p is not None:
        e = tests.egger
        d = effect_digits(measure)
        asym = e.p < SMALL_STUDY_P
        text = f"- **Funnel plot asymmetry**: Egger's test {fmt_p(e.p)}" + (
            " — smaller studies report larger effects than bigger ones. "
            if asym
            else " — no clear sign that smaller studies report different effects. "
        )
        text += (
            f"The regression's estimate for a study of infinite size is {name} "
            f"{fmt_fixed(float(measure.to_natural(e.limit_estimate)), d)}"
        )
        tf = tests.trimfill
        if tf is not None and tf.k0:
            text += (
                f"; trim and fill adds {studies(tf.k0).replace(' ', ' missing ', 1)} and "
                f"gives {effect_text(tf.result, measure)}"
            )
        out.append(text + ".")
        if tests.caution:
            out.append(f"- *Caution: {note_text(tests.caution)}.*")
        if ap.models_disagree and asym:
            out += [
                "",
                "**Reading it together.** The benefit in the random-effects average rests on "
                "the small trials, which disagree with the largest one, and the funnel plot "
                "shows the pattern small-study effects (such as publication bias) leave. When "
                "small trials and a large, precise trial disagree like this, the large trial "
                "is the better guide: the pooled random-effects estimate should not be taken "
                "at face value.",
            ]
    return out


def claims_section(checks, few=None) -> list[str]:
    """The claims with their verdicts; with few studies (``few``: analyses.few_studies), each
    claim that implies an effect size also quotes its probability under the Bayesian analysis."""
    if not checks:
        return []
    probability = {cp.claim_id: cp for cp in (few.claims if few is not None else ())}
    out = [
        "",
        "## Claims checked",
        "",
        "Each claim is set beside the pooled evidence of this report. Verdicts come from a fixed "
        "vocabulary (supported, contradicted, not testable with the available evidence, no "
        "traceable source); the rules are in the Methods section.",
        "",
    ]
    for c in checks:
        cl = c.claim
        flag = "" if c.robust else " (not robust: see below)"
        out += [
            f"### “{md_text(cl.text)}”",
            "",
            f"- **Verdict: {c.verdict}**{flag}",
            f"- Claimed in: {md_text(cl.made_in)}",
            f"- Primary source: {md_text(cl.primary_source) if cl.primary_source_found else 'none found'}",
        ]
        if cl.implies:
            out.append(f"- What it implies here: {md_text(cl.implies)}")
        out.append("- Why:")
        out += [f"    - {md_text(reason_text(r))}" for r in c.reasons]
        cp = probability.get(cl.id)
        if cp is not None:
            out.append(
                f"- {'With few studies' if few.k < FEW_STUDIES else 'Bayesian analysis'} (see that "
                "section): the probability that the effect is at least "
                f"as large as claimed is {fmt_probability(cp.p_mu)} for the mean effect and "
                f"{fmt_probability(cp.p_new)} for a new study, under the priors stated there."
            )
        out.append("")
    return out


CLAIM_RULES = (
    "Claim verdicts: 'no traceable source' when no primary source for the claim was "
    "found (what the data would say is still given); 'contradicted' when the CI lies "
    "wholly on the other side of no effect, or when the claimed effect lies beyond the "
    "CI (the data rule out an effect that large); 'supported' when the CI excludes no "
    "effect on the claimed side and contains the claimed effect (or shows a larger "
    "one); otherwise, and when nothing could be pooled, 'not testable with the "
    "available evidence'. The verdict uses the main analysis, except that when "
    "small-study effects are detected (Egger's test p < 0.10 with at least 10 studies) "
    "and the common-effect and random-effects models disagree, it uses the "
    "common-effect estimate, which does not lean on the small studies (Cochrane "
    "Handbook 13.3.5.6). The same rules are applied to the other model, trim and fill "
    "and the verified-only analysis; a verdict that changes is reported as not robust."
)


def not_pooled_section(table, reported=(), level: float = 0.95) -> list[str]:
    """The candidate studies left out, each with its reason and evidence status, and the results
    that were reported but not pooled (``reported``: ReportedResult, at the report's ``level``)."""
    if not table.not_estimable:
        return []
    status = table.extra.get("evidence_status")
    index = {line: i for i, line in enumerate(table.lines)}
    out = [
        "",
        f"### Not pooled ({studies(len(table.not_estimable)).replace(' ', ' candidate ', 1)})",
        "",
        "Kept in the study set so that the gaps are visible: each with the reason it could not be pooled.",
        "",
        "| Study | Line | Evidence status | Reason |",
        "|---|---|---|---|",
    ]
    for e in table.not_estimable:
        i = index.get(e.line)
        st = status[i].strip() if status is not None and i is not None else ""
        out.append(table_row([md_text(e.study), str(e.line), md_text(st), md_text(note_text(e.reason))]))
    if reported:
        lvl = level_label(level)
        out += [
            "",
            f"Results reported with a confidence interval but not pooled here "
            f"(converted to a {lvl} CI as metafor's conv.wald does, so they can be compared):",
            "",
            f"| Study | Measure | As reported | As {lvl} CI |",
            "|---|---|---|---|",
        ]
        out += [_reported_row(r) for r in reported]
    return out


def _reported_row(r) -> str:
    shown = (
        f"{r.effect:g} " if r.effect is not None else ""
    ) + f"({r.stated_level:g}% CI {r.ci_low:g} to {r.ci_high:g})"
    if r.converted is None:
        return table_row(
            [md_text(r.study), md_text(r.measure or "?"), shown, "not converted (measure unknown)"]
        )
    d = effect_digits(MEASURES[r.measure])
    est, lo, hi = r.converted
    return table_row([md_text(r.study), r.measure, shown, f"{fmt_fixed(est, d)} ({fmt_ci(lo, hi, d)})"])


def quality_section(analysis, verified, measure, excluded_statuses) -> list[str]:
    """The main analysis beside the one restricted to numbers checked against a full text or
    abstract, when the two differ."""
    left = ", ".join(excluded_statuses)
    return _restricted_section(
        "Sensitivity to evidence quality",
        analysis,
        verified,
        measure,
        "Full-text or abstract numbers only",
        f"Restricted to numbers verified against a full text or abstract (leaving out {left}), "
        "**no study is left to pool**: every pooled number here comes from secondary sources or was "
        "derived. Treat the main result accordingly.",
    )


def low_risk_section(analysis, low_risk, measure) -> list[str]:
    """The main analysis beside the one restricted to studies at low overall risk of bias."""
    return _restricted_section(
        "Sensitivity to risk of bias",
        analysis,
        low_risk,
        measure,
        "Low overall risk of bias (RoB 2) only",
        "Restricted to studies at low overall risk of bias (RoB 2), **no study is left to pool**: "
        "every pooled study has some concerns, is at high risk, or was not assessed.",
    )


def _restricted_section(heading, analysis, restricted, measure, label, nothing_left) -> list[str]:
    out = ["", f"## {heading}", ""]
    if restricted is None:
        return out + [nothing_left]
    name = measure.natural_name
    return out + [
        f"| Analysis | k | {name} ({level_label(analysis.result.level)} CI) |",
        "|---|---|---|",
        f"| All pooled studies | {analysis.result.k} | {effect_text(analysis, measure)} |",
        f"| {label} | {restricted.result.k} | {effect_text(restricted, measure)} |",
    ]
