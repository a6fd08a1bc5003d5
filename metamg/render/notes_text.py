"""The rules an analysis used and the warnings it raised, in words: the one place that turns a
``metamg.notes.Note`` (a rule identifier and its facts) into a sentence, for the text report,
the markdown reports and the command line's JSON (which carries the words beside the facts).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from metamg.effects.escalc import name_list
from metamg.models.mantel_haenszel import WHOLE_TABLE_PATTERNS
from metamg.models.tau2 import ESTIMATOR_NAMES
from metamg.notes import Note

Facts = Mapping[str, Any]

CI_WORDS = {
    "wald": "CI: Wald (z)",
    "hk": "CI: Hartung-Knapp-Sidik-Jonkman, t with k-1 df",
    "hk-adhoc": "CI: Hartung-Knapp-Sidik-Jonkman with the ad hoc variance correction (never "
    "narrower than Wald), t with k-1 df",
}
CONTINUITY_WHERE = {
    "only0": "to every cell of studies with a zero cell",
    "all": "to every cell of every study",
    "if0all": "to every cell of every study, because some study has a zero cell",
}


def _studies(n: int) -> str:
    return "study" if n == 1 else "studies"


def _continuity(f: Facts) -> str:
    if f["to"] == "none" or f["add"] == 0:
        return "zero cells: no continuity correction"
    dz = "double-zero studies dropped" if f["drop00"] else "double-zero studies kept"
    return f"zero cells: {f['add']:g} added {CONTINUITY_WHERE[f['to']]}; {dz}"


def _multi_arm_split(f: Facts) -> str:
    n = len(f["arms"])
    shared = "size and events" if f["data_type"] == "binary" else "size"
    return (
        f"{f['trial']}: its {n} arms ({'; '.join(f['arms'])}) share one control group, whose "
        f"{shared} were divided equally among the {n} comparisons (Cochrane Handbook 23.3.4)"
    )


def _multi_arm_combined(f: Facts) -> str:
    return (
        f"{f['trial']}: {len(f['arms'])} intervention arms ({'; '.join(f['arms'])}) combined into "
        "one group against their shared control group, so that it is counted once (Cochrane "
        "Handbook 23.3.4; formulas of Table 6.5.a)"
    )


_REVMAN5_METHODS = {"MH": "Mantel-Haenszel", "IV": "inverse variance", "PETO": "Peto"}

WORDS: dict[str, Callable[[Facts], str]] = {
    # rules: the model and its intervals
    "measure": lambda f: f"measure: {f['label']} ({f['measure']}), analysed on the {f['scale']} scale",
    "model.common_effect": lambda f: "common-effect (inverse-variance) model",
    "model.random_effects": lambda f: (
        f"random-effects model, tau² by {ESTIMATOR_NAMES[f['method']]} ({f['method']})"
    ),
    "model.mantel_haenszel": lambda f: (
        "common-effect Mantel-Haenszel model on the raw counts (no continuity correction)"
    ),
    "model.peto": lambda f: "common-effect Peto one-step odds ratio",
    "model.revman5": lambda f: (
        f"RevMan 5's {_REVMAN5_METHODS[f['method']]} method, "
        + (
            "random effects (DerSimonian-Laird tau² from the method's Chi²)"
            if f["random"]
            else "fixed effect"
        )
        + (
            "; raw counts; "
            if f["method"] == "PETO"
            else "; 0.5 added to every cell of a table with a zero cell (also inside Mantel-Haenszel); "
        )
        + ("double-zero tables kept (RD 0)" if f["measure"] == "RD" else "double-zero tables not estimable")
        + "; Chi² about the method's own pooled estimate"
    ),
    "effects.revman5_smd": lambda f: (
        "SMD as RevMan 5: Hedges' g with J = 1 - 3/(4N - 9) and variance N/(n1·n2) + g²/(2(N - 3.94))"
    ),
    "ci": lambda f: CI_WORDS[f["ci_method"]],
    "i2.from_q": lambda f: "I² from Q: 100·max(0, (Q - df)/Q)",
    "i2.from_tau2": lambda f: "I² = 100·tau²/(tau² + typical within-study variance), as metafor",
    "q.per_study_effects": lambda f: "Q and I² from the per-study effects, double-zero studies left out of Q",
    "q.peto": lambda f: "Q and I² from the per-study Peto log odds ratios, double-zero studies left out",
    "tau2_ci.q_profile": lambda f: "tau² and I² confidence intervals by the Q-profile method",
    "pi.predict": lambda f: (
        f"prediction interval: estimate ± {'z' if f['distribution'] == 'z' else 't(k-1)'}"
        "·sqrt(se² + tau²) (metafor's predict)"
    ),
    "pi.hts": lambda f: "prediction interval: t with k-2 df (Higgins, Thompson & Spiegelhalter 2009)",
    "pi.hts_too_few": lambda f: "prediction interval: not computed (t with k-2 df needs 3 studies)",
    # rules: which rows, prepared how
    "continuity": _continuity,
    "effects.converted": lambda f: (
        "effects reported with a confidence interval or p-value: converted as metafor's "
        "conv.wald (SE from the interval's width at its stated level)"
    ),
    "multi_arm": lambda f: (
        "multi-arm trials: "
        + (
            "intervention arms combined into one group"
            if f["how"] == "combine"
            else "shared control group split equally"
        )
        + " (Cochrane Handbook 23.3.4)"
    ),
    "multi_arm.split": _multi_arm_split,
    "multi_arm.combined": _multi_arm_combined,
    "selection.exclude_status": lambda f: "evidence status excluded: " + ", ".join(f["statuses"]),
    "selection.low_risk_only": lambda f: "only studies at low overall risk of bias (RoB 2)",
    # warnings
    "ci.needs_two_studies": lambda f: (
        f"{f['ci_method']} needs at least 2 studies; the z-based (Wald) interval is used"
    ),
    "ci.hk_common_effect": lambda f: "the Hartung-Knapp adjustment is meant for random-effects models",
    "ci.hk_zero_width": lambda f: (
        "the studies agree exactly (Q = 0), so the Hartung-Knapp interval has zero width; the ad "
        "hoc correction (--ci hk-adhoc) or a Wald interval avoids this"
    ),
    "ci.hk_narrower_than_wald": lambda f: (
        f"the Hartung-Knapp variance factor is {f['hk_scale']:.2f}, below 1, so this interval is "
        "narrower than the Wald interval of the same model: it may overstate the precision (Roever, "
        'Knapp & Friede 2015); the ad hoc corrected interval (metafor\'s test="adhoc", --ci '
        "hk-adhoc) is shown beside it"
    ),
    "ci.not_applicable": lambda f: (
        f"{f['method']} uses a Wald (z) interval; --ci {f['ci_method']} does not apply"
    ),
    "tau2_ci.empty": lambda f: (
        "the Q-profile interval for tau² is empty (Q is below its lower chi-square quantile); "
        "reported as [0, 0]"
    ),
    "mh.exact_estimate": lambda f: (
        f"{WHOLE_TABLE_PATTERNS[f['pattern']]}: the estimate is exactly {f['estimate']:g} with "
        "standard error 0, so there is no test statistic or p-value (metafor: z and p are NaN)"
    ),
    "mh.tarone_no_df": lambda f: (
        "Tarone's test of homogeneous odds ratios needs at least 2 tables with both outcomes; "
        "here it has 0 degrees of freedom and no p-value"
    ),
    "columns.other_data_type": lambda f: (
        f"{f['source']}: {', '.join(f['columns'])}: numbers of another data type, not used by "
        f"{f['measure']} ({f['data_type']} data)"
    ),
    "continuity.applied": lambda f: (
        f"continuity correction: {f['add']:g} added to every cell of {len(f['studies'])} "
        f"{_studies(len(f['studies']))} ({name_list(f['studies'])})"
    ),
    "double_zero.kept": lambda f: (
        f"double-zero {_studies(len(f['studies']))} kept in the analysis "
        f"({name_list(f['studies'])}); --drop00 leaves them out"
    ),
    "smd.implausible": lambda f: (
        f"{f['source']}:{f['line']}: SMD of {f['smd']:.2f} is implausibly large; check that "
        "standard deviations were not entered as standard errors"
    ),
    "effect.off_centre": lambda f: (
        f"{f['source']}:{f['line']}: {f['study']}: the effect is not halfway between its "
        f"confidence limits on the {f['scale']} scale; check the numbers (the variance is taken "
        "from the interval's width)"
    ),
    # studies set aside
    "excluded.curator": lambda f: f["reason"],
    "excluded.no_numbers": lambda f: "no numbers given",
    "excluded.double_zero": lambda f: "double zero (no events in either group), dropped",
    "excluded.evidence_status": lambda f: f"evidence status '{f['status']}' excluded from this analysis",
    "excluded.not_low_risk": lambda f: (
        f"risk of bias {f['risk_of_bias'] or 'not assessed'}: left out of the low-risk-only analysis"
    ),
    # small-study tests
    "small_study.too_few": lambda f: (
        f"only {f['k']} studies: tests for funnel asymmetry have too little power to distinguish "
        f"chance from real asymmetry with fewer than {f['min_k']} (Cochrane Handbook 13.3.5.4)"
    ),
    "egger.too_few": lambda f: f"the mixed-effects Egger test needs at least {f['min_k']} studies",
    "egger.exact_line": lambda f: (
        "the line through the effects and their standard errors fits every study exactly "
        "(residual variance 0), so its slope has no test"
    ),
    "egger.two_studies": lambda f: (
        "with 2 studies the line fits both exactly: no residual degrees of freedom"
    ),
    # the appraisal
    "answer.small_study_effects": lambda f: (
        "small-study effects were detected (Egger's test) and the common-effect and "
        "random-effects models disagree: the random-effects estimate leans on the small "
        "studies, so the common-effect estimate is the one to judge by (Cochrane Handbook "
        "13.3.5.6)"
    ),
    "not_run.too_many_studies": lambda f: (
        f"{f['k']:,} studies, more than the {f['max_k']:,} for which a report refits the model "
        "once per study; `metamg sensitivity` runs it on request"
    ),
    "not_run.error": lambda f: f["why"],
    "begg.undefined": lambda f: f"Kendall's tau is undefined: every study has the same {f['same']}",
    "bayes.no_prior": lambda f: f["why"],
    # the Bayesian model: worded in render/bayes_text.py, loaded only when one is worded
    "bayes.tau_prior": lambda f: _bayes_words("bayes.tau_prior", f),
    "bayes.mu_prior": lambda f: _bayes_words("bayes.mu_prior", f),
    "bayes.moments_undefined": lambda f: _bayes_words("bayes.moments_undefined", f),
    "bayes.tau_posterior_is_prior": lambda f: _bayes_words("bayes.tau_posterior_is_prior", f),
    "bayes.multimodal": lambda f: _bayes_words("bayes.multimodal", f),
}


def _bayes_words(rule: str, f: Facts) -> str:
    from metamg.render.bayes_text import BAYES_WORDS

    return BAYES_WORDS[rule](f)


ANALYSIS_NAMES = {
    "small_study_tests": "small-study tests",
    "leave_one_out": "leave-one-out",
    "influence": "influence diagnostics",
    "cumulative": "cumulative meta-analysis",
}


def not_run_text(n: Note) -> tuple[str, str]:
    """An analysis the appraisal did not run (a ``not_run.*`` note): what, and why."""
    what = n["analysis"]
    name = f"meta-regression on {', '.join(n['mods'])}" if what == "meta_regression" else ANALYSIS_NAMES[what]
    return name, note_text(n)


def note_text(n: Note) -> str:
    """One rule or warning in words."""
    return WORDS[n.rule](n.facts)


def notes_text(notes: Iterable[Note]) -> list[str]:
    return [note_text(n) for n in notes]


def with_words(data: Any) -> Any:
    """``data`` (a to_dict() tree) with a "text" beside every rule or warning that has words,
    for the command line's JSON: facts for programs, the sentence for people."""
    if isinstance(data, dict):
        out = {k: with_words(v) for k, v in data.items()}
        if isinstance(out.get("rule"), str) and out["rule"] in WORDS:
            facts = {k: v for k, v in out.items() if k != "rule"}
            out["text"] = WORDS[out["rule"]](facts)
        return out
    if isinstance(data, list):
        return [with_words(v) for v in data]
    return data
