"""With few studies: the Bayesian result beside the frequentist one, the probability that the
intervention helps, and each claim's probability under the stated prior (analyses.few_studies)."""

from __future__ import annotations

from metamg.analyses.few_studies import FEW_STUDIES
from metamg.render.intervals import prediction_shown
from metamg.render.markdown import md_text, md_url, table_row
from metamg.render.notes_text import note_text
from metamg.render.numbers import effect_digits, fmt_ci, fmt_num, fmt_probability, studies
from metamg.render.sections import ReportContext
from metamg.render.text import model_words


def section(ap, ctx: ReportContext) -> list[str]:
    few = ap.few
    if few is None or ap.analysis is None:
        return []
    a = ap.analysis
    r = a.result
    if r.k >= FEW_STUDIES:  # asked for in the metadata
        return [
            "",
            "## Bayesian analysis",
            "",
            f"The metadata asks for a Bayesian random-effects analysis beside the frequentist one "
            f"(its [bayes] table); with {studies(r.k)} it is a check of how much the result "
            "depends on how the spread of true effects (tau) is handled.",
            "",
            *_bayes_lines(few, ap, ctx),
        ]
    out = ["", "## With few studies", ""]
    why_wide = (
        " With two studies the random-effects interval uses a t distribution with 1 degree of "
        "freedom, whose 97.5% point is 12.7 instead of 1.96: the interval is that wide because "
        "two studies cannot say how much true effects vary, not because the studies disagree."
        if r.k == 2 and r.ci_method != "wald"
        else ""
    )
    out.append(
        f"With {studies(r.k)}, the spread of true effects between studies (tau) cannot be "
        "estimated from the data, and the frequentist intervals depend on how it is handled."
        + why_wide
        + " A Bayesian random-effects analysis states that assumption as a prior instead and "
        "answers directly how probable an effect of a given size is."
    )
    out.append("")
    return out + _bayes_lines(few, ap, ctx)


def _bayes_lines(few, ap, ctx: ReportContext) -> list[str]:
    """The priors, the frequentist and Bayesian results side by side, the posterior figure and
    the probabilities (or why there is no Bayesian analysis)."""
    a = ap.analysis
    r, m = a.result, a.measure
    nat, d = a.natural, effect_digits(m)
    b = few.bayes
    if b is None:
        return [f"No Bayesian analysis here: {md_text(note_text(few.why_not))}."]
    out: list[str] = []
    f = b.fit
    priors = f"{note_text(b.tau_prior_note)}; {note_text(b.mu_prior_note)}"
    out.append(
        f"{md_text(priors[:1].upper() + priors[1:])}. Intervals are 95% credible intervals (2.5% "
        "and 97.5% posterior quantiles)."
        + (
            f" Why these priors (the metadata): {md_text(ap.meta.bayes.reason)}"
            if ap.meta.bayes.reason
            else ""
        )
    )
    out += ["", f"| | Frequentist ({model_words(r)}) | Bayesian (posterior median) |", "|---|---|---|"]
    lvl = f"{r.level:.0%}"

    def post(s) -> str:
        return f"{fmt_num(nat(s.median), d)} ({fmt_ci(nat(s.q025), nat(s.q975), d)})"

    out.append(
        table_row(
            [
                f"Pooled {m.natural_name}",
                f"{fmt_num(nat(r.estimate), d)} ({lvl} CI {fmt_ci(nat(r.ci_low), nat(r.ci_high), d)})",
                post(f.mu),
            ]
        )
    )
    freq_pi = f"{fmt_ci(nat(r.pi_low), nat(r.pi_high), d)}" if prediction_shown(r) else "not informative"
    out.append(table_row(["A new study's true effect", freq_pi, post(f.theta_new)]))
    if r.k < 2:
        tau = "not estimable from one study"
    else:
        tau = fmt_num(r.tau, 3) if r.tau is not None else "0 (common-effect model)"
    out.append(
        table_row(
            [
                "tau (spread of true effects)",
                tau,
                f"{fmt_num(f.tau.median, 3)} ({fmt_ci(f.tau.q025, f.tau.q975, 3)})",
            ]
        )
    )
    if "bayes" in ctx.figures:
        out += [
            "",
            f"![Posterior of tau and mu with their priors]({md_url(ctx.figures['bayes'])})",
        ]
    helps = "below" if ap.meta.benefit == "lower" else "above"
    null = "1" if m.scale == "log" else "0"
    out += [
        "",
        f"- Probability that the intervention helps at all ({m.natural_name} {helps} {null}), "
        f"under these priors: {fmt_probability(few.p_benefit)}.",
    ]
    claims = {c.id: c for c in ap.meta.claims}
    for cp in few.claims:
        claim = claims[cp.claim_id]
        bound = "at most" if cp.side < 0 else "at least"
        out.append(
            f'- Claim "{md_text(claim.text)}" ({m.natural_name} {bound} '
            f"{fmt_num(nat(cp.threshold), d)}): probability {fmt_probability(cp.p_mu)} for the mean effect, "
            f"{fmt_probability(cp.p_new)} for the effect in a new study like these."
        )
    return out
