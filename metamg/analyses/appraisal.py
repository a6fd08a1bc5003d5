"""One appraisal of a study set, computed once: every number a report, the index and the figures
show, each from the analysis it says it comes from.

``appraise`` reads the set (CSV and metadata), resolves the settings (what the caller gives,
then the metadata, then the profile's defaults: see ``pool``), pools the studies and runs every
analysis derived from the main one with the same settings: the other model, subgroups,
leave-one-out, cumulative meta-analysis, influence, small-study tests with trim and fill, the
analyses restricted to verified numbers and to low risk of bias, GRADE, the summary of findings
and the claim verdicts. ``render`` only turns the result into words and pictures.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from metamg.analyses.bias import SmallStudyTests, small_study_tests
from metamg.analyses.claims import ClaimCheck, Evidence, check_claim
from metamg.analyses.few_studies import FEW_STUDIES, FewStudies, few_studies
from metamg.analyses.findings import Findings, summarise_findings
from metamg.analyses.influence import Influence, influence
from metamg.analyses.pool import (
    PoolAnalysis,
    PoolOptions,
    PoolOverrides,
    pool,
    prepare_table,
    read_table,
    resolve_options,
)
from metamg.analyses.published import PublishedComparison, compare_published
from metamg.analyses.regression import Design, regress
from metamg.analyses.reported import ReportedResult, reported_not_pooled
from metamg.analyses.sensitivity import Cumulative, Refit, cumulative, leave_one_out
from metamg.analyses.subgroups import SubgroupAnalysis, pool_subgroups
from metamg.effects import EffectSizes, compute_effects
from metamg.errors import InputError
from metamg.io.metadata import RegressionSpec, StudySetMeta, read_metadata
from metamg.io.rob import has_rob
from metamg.io.schema import StudyTable
from metamg.models.display import frame, html_table, interval, level_text, num, one_line, p_value, pct
from metamg.models.metaregression import MetaRegression
from metamg.models.results import PoolResult
from metamg.notes import Note, note
from metamg.vocabulary import EVIDENCE_STATUSES, STATUS_COLUMN, VERIFIED_STATUSES

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11

SMALL_STUDY_P = 0.10  # Egger's test threshold for small-study effects (Egger et al. 1997)
STRONG_SHIFT_LOG = 0.22314355131420976  # log(1.25): estimates further apart count as a disagreement
MIN_K_REFITS = 3  # leave-one-out, influence and small-study tests need at least 3 studies
# Leave-one-out, influence and cumulative analyses refit the model once per study; beyond this
# many studies that is minutes of work for tables nobody can read, so the appraisal leaves them
# out and says so (``metamg sensitivity`` still runs them on request).
MAX_K_REFITS = 1000
UNVERIFIED_STATUSES = tuple(s for s in EVIDENCE_STATUSES if s not in VERIFIED_STATUSES)


def excludes_null(r) -> bool:
    return not r.ci_low <= 0 <= r.ci_high


def models_disagree(a, b) -> bool:
    """Different conclusions (one CI excludes no effect, the other not), or estimates more than
    25% apart on the ratio scale (0.223 on the analysis scale)."""
    return excludes_null(a) != excludes_null(b) or (
        a.k > 1 and abs(a.estimate - b.estimate) > STRONG_SHIFT_LOG
    )


@dataclass(frozen=True)
class Restricted:
    """The main analysis restricted to some of its studies (verified numbers, low risk of bias)."""

    analysis: PoolAnalysis | None  # None when nothing is left to pool
    differs: bool  # False when the restriction leaves every pooled study in


@dataclass(frozen=True)
class Regression:
    """A meta-regression the metadata names (``[[regressions]]``), fitted with the main
    analysis's estimator and test."""

    spec: RegressionSpec
    fit: MetaRegression
    design: Design

    @property
    def bubble(self) -> bool:
        """One continuous moderator: the bubble plot can show it."""
        return len(self.fit.coefficients) == 2 and not self.design.reference_levels


@dataclass(frozen=True)
class Appraisal:
    """Everything known about one study set, computed once.

    ``answer`` is the analysis the headline, the summary of findings and the claim verdicts
    use: the main analysis, except when small-study effects are detected and the common-effect
    and random-effects models disagree, where it is the common-effect model
    (``answer_reason`` says why; Cochrane Handbook 13.3.5.6)."""

    source: str
    meta: StudySetMeta
    options: PoolOptions  # as resolved for the main analysis
    table: StudyTable  # the candidate studies as analysed (statuses set aside, arms combined)
    effects: EffectSizes
    analysis: PoolAnalysis | None  # the main analysis; None when nothing could be pooled
    other: PoolAnalysis | None  # the other model (common effect beside random effects, or the reverse)
    answer: PoolAnalysis | None
    answer_reason: Note | None  # why ``answer`` is not the main analysis
    subgroups: SubgroupAnalysis | None = None
    leave1out: tuple[Refit, ...] = ()
    cumulative: Cumulative | None = None  # with the answer's model
    influence: tuple[Influence, ...] = ()
    bias: SmallStudyTests | None = None
    verified: Restricted | None = None  # None: no evidence_status column
    low_risk: Restricted | None = None  # None: no risk of bias recorded
    findings: Findings | None = None
    claims: tuple[ClaimCheck, ...] = ()
    reported_not_pooled: tuple[ReportedResult, ...] = ()  # results given as reported, not pooled
    regressions: tuple[Regression, ...] = ()  # those the metadata names, in its order
    not_run: tuple[Note, ...] = field(default=())  # analyses not run, each with why (rule not_run.*)
    few: FewStudies | None = None  # the Bayesian view: below FEW_STUDIES studies, or asked for in [bayes]
    published: PublishedComparison | None = None  # an imported review's own result beside ours

    @property
    def name(self) -> str:
        return self.meta.name

    @property
    def k(self) -> int:
        return self.effects.k

    @property
    def small_study_effects(self) -> bool:
        return _small_study_effects(self.bias)

    @property
    def models_disagree(self) -> bool:
        return (
            self.analysis is not None  # (there is no other model without a main one)
            and self.other is not None
            and models_disagree(self.analysis.result, self.other.result)
        )

    def to_dict(self) -> dict:
        d = {
            "study_set": self.name,
            "source": self.source,
            "options": {
                "measure": self.effects.measure.name,
                "method": self.options.method,
                "ci_method": self.options.ci_method,
                "level": self.options.level,
                "pi": self.options.pi,
                "profile": self.options.profile,
            },
            "k": self.k,
        }
        for key in ("analysis", "other", "answer"):
            a = getattr(self, key)
            d[key] = a.to_dict() if a is not None else None
        d["answer_reason"] = self.answer_reason.to_dict() if self.answer_reason else None
        d["findings"] = self.findings.to_dict() if self.findings else None
        d["claims"] = [c.to_dict() for c in self.claims]
        d["not_run"] = [n.to_dict() for n in self.not_run]
        return d

    def __repr__(self) -> str:
        a = self.answer
        return one_line(
            f"Appraisal({self.name!r}, k={self.k}, "
            + (f"answer={a}" if a is not None else "nothing pooled")
            + ")"
        )

    def _analyses(self) -> list[tuple[str, PoolAnalysis]]:
        """Every pooled analysis of the set, named: main, other model, restricted ones."""
        named = [("main analysis", self.analysis), ("other model", self.other)]
        if self.answer is not None and self.answer is not self.analysis:
            named.append(("used for the verdicts", self.answer))
        for label, r in (("verified numbers only", self.verified), ("low risk of bias only", self.low_risk)):
            if r is not None and r.differs:
                named.append((label, r.analysis))
        return [(label, a) for label, a in named if a is not None]

    def _repr_html_(self) -> str:
        rows = []
        for label, a in self._analyses():
            r, nat = a.result, a.natural
            rows.append(
                (
                    label,
                    f"{r.method}/{r.ci_method}",
                    num(r.k),
                    num(nat(r.estimate), 3),
                    interval(nat(r.ci_low), nat(r.ci_high), 3),
                    p_value(r.p),
                    pct(r.i2),
                )
            )
        notes = [str(self.answer_reason)] if self.answer_reason else []
        if self.findings is not None and self.findings.certainty is not None:
            notes.append(f"certainty (GRADE, suggested): {self.findings.certainty.level}")
        notes += [str(n) for n in self.not_run]
        measure = self.effects.measure.name
        caption = f"Appraisal of {self.name}" + (f": {self.meta.title}" if self.meta.title else "")
        return html_table(
            ("analysis", "model", "k", measure, f"{level_text(self.options.level)} CI", "p", "I²"),
            rows,
            caption,
            notes,
        )

    def to_frame(self):
        """One row per pooled analysis (main, other model, the one used for the verdicts when it
        differs, verified numbers only, low risk of bias only): model, k, the estimate and CI on
        the analysis and natural scales, p, tau² and I²."""
        records = []
        for label, a in self._analyses():
            r, nat = a.result, a.natural
            records.append(
                {
                    "analysis": label,
                    "method": r.method,
                    "ci_method": r.ci_method,
                    "k": r.k,
                    "estimate": r.estimate,
                    "ci_low": r.ci_low,
                    "ci_high": r.ci_high,
                    "effect": nat(r.estimate),
                    "effect_ci_low": nat(r.ci_low),
                    "effect_ci_high": nat(r.ci_high),
                    "p": r.p,
                    "tau2": r.tau2,
                    "I2": r.i2,
                }
            )
        return frame(records)


def appraise(
    data,
    options: PoolOptions | str | None = None,
    *,
    meta: StudySetMeta | None = None,
    **overrides: Unpack[PoolOverrides],
) -> Appraisal:
    """Appraise the study set at the CSV path ``data`` (or a DataFrame, described by ``meta``).

    ``options`` and the keyword arguments are ``pool``'s and override the metadata; every
    derived analysis reuses the main analysis's settings."""
    o = resolve_options(options, overrides, "appraise")
    if meta is None:
        meta = read_metadata(data) if isinstance(data, (str, os.PathLike)) else StudySetMeta(name="studies")
    o = replace(
        o,
        measure=o.measure or meta.measure,
        exclude_status=tuple(o.exclude_status),
        level=o.level / 100 if o.level > 1 else o.level,  # metafor's level=95, as pool() reads it
    )
    raw = read_table(data, o.measure)  # read once; the restricted analyses reuse it
    table = prepare_table(raw, o.measure, o.multi_arm, o.exclude_status, o.low_risk_only)
    effects = compute_effects(table, o.measure, o.continuity)
    level = o.level
    base: dict[str, Any] = dict(  # the Appraisal fields known before pooling
        source=raw.source,
        meta=meta,
        table=table,
        effects=effects,
        reported_not_pooled=reported_not_pooled(table, effects.measure, level),
    )
    if not effects.k:
        claims = tuple(check_claim(c, effects.measure, meta.benefit, None) for c in meta.claims)
        return Appraisal(
            **base,
            options=o,
            analysis=None,
            other=None,
            answer=None,
            answer_reason=None,
            findings=summarise_findings(None, meta),
            claims=claims,
        )

    analysis = pool(effects, o, meta=meta)
    k = analysis.result.k
    other = _other_model(analysis)
    subgroups = pool_subgroups(analysis, meta.subgroup) if meta.subgroup else None
    bias, bias_not_run = _small_study_tests(analysis) if k >= MIN_K_REFITS else (None, None)
    answer, answer_reason = verdict_model(analysis, other, bias)
    not_run = [note("not_run.error", analysis="small_study_tests", why=bias_not_run)] if bias_not_run else []
    loo, infl, cum = (), (), None
    if k > MAX_K_REFITS:
        not_run += [
            note("not_run.too_many_studies", analysis=name, k=k, max_k=MAX_K_REFITS)
            for name in ("leave_one_out", "influence", "cumulative")
        ]
    else:
        loo = leave_one_out(analysis) if k >= MIN_K_REFITS else ()
        infl = influence(analysis, loo) if k >= MIN_K_REFITS else ()
        cum = cumulative(answer) if k >= 2 else None
    regressions = []
    for spec in meta.regressions:
        fitted = _regression(analysis, spec)
        if isinstance(fitted, str):
            not_run.append(note("not_run.error", analysis="meta_regression", mods=spec.mods, why=fitted))
        else:
            regressions.append(fitted)
    verified = _verified_only(raw, analysis)
    low_risk = _low_risk_only(raw, analysis)
    few = few_studies(analysis, meta) if k < FEW_STUDIES or meta.bayes.requested else None
    random_fit = analysis.result if analysis.result.is_random else (other.result if other else None)
    findings = summarise_findings(answer, meta, bias, subgroups, random_fit)
    claims = _check_claims(meta, analysis, other, answer, bias, verified)
    return Appraisal(
        **base,
        options=analysis.options,
        analysis=analysis,
        other=other,
        answer=answer,
        answer_reason=answer_reason,
        subgroups=subgroups,
        leave1out=loo,
        cumulative=cum,
        influence=infl,
        bias=bias,
        verified=verified,
        low_risk=low_risk,
        findings=findings,
        claims=claims,
        not_run=tuple(not_run),
        regressions=tuple(regressions),
        few=few,
        published=compare_published(meta.published, analysis),
    )


def verdict_model(
    analysis: PoolAnalysis, other: PoolAnalysis | None = None, tests: SmallStudyTests | None = None
) -> tuple[PoolAnalysis, Note | None]:
    """The analysis a reader should judge by, and why when it is not the main one: the
    common-effect model when the main analysis is random effects, small-study effects are
    detected and the two models disagree (Cochrane Handbook 13.3.5.6). ``other`` and ``tests``
    are computed when not given."""
    if not analysis.result.is_random or analysis.result.k < MIN_K_REFITS:
        return analysis, None
    other = other if other is not None else _other_model(analysis)
    if other is None or not models_disagree(analysis.result, other.result):
        return analysis, None
    tests = tests if tests is not None else _small_study_tests(analysis)[0]
    if not _small_study_effects(tests):
        return analysis, None
    return other, note("answer.small_study_effects", egger_p=tests.egger.p if tests and tests.egger else None)


def _regression(analysis: PoolAnalysis, spec: RegressionSpec) -> Regression | str:
    """The meta-regression ``spec`` asks for, with the analysis's estimator (common effect for
    Mantel-Haenszel and Peto) and test, or why it cannot be fitted on these studies."""
    try:
        fit, design = regress(analysis, spec.mods)
    except InputError as exc:
        return "; ".join(p.message for p in exc.problems)
    return Regression(spec, fit, design)


def _small_study_tests(analysis) -> tuple[SmallStudyTests | None, str | None]:
    """The small-study tests, or why the data cannot have them (all variances equal; too few
    effects left in a Mantel-Haenszel or Peto model)."""
    try:
        return small_study_tests(analysis), None
    except InputError as exc:
        return None, "; ".join(p.message for p in exc.problems)


def _small_study_effects(tests: SmallStudyTests | None) -> bool:
    """Egger's test with at least 10 studies gives p < 0.10."""
    return (
        tests is not None
        and tests.egger is not None
        and tests.caution is None
        and tests.egger.p is not None
        and tests.egger.p < SMALL_STUDY_P
    )


def _other_model(analysis: PoolAnalysis) -> PoolAnalysis | None:
    """The common-effect fit beside a random-effects main analysis (or REML beside a
    common-effect one), with every other setting of the main analysis."""
    if analysis.result.k < 2:
        return None
    if analysis.result.is_random:
        return analysis.with_options(method="FE", ci_method="wald")
    return analysis.with_options(method="REML", ci_method=None)


def _restricted(raw, analysis: PoolAnalysis, exclude_status, low_risk_only=False) -> Restricted:
    o = analysis.options
    table = prepare_table(raw, o.measure, o.multi_arm, exclude_status, low_risk_only)
    es = compute_effects(table, o.measure, o.continuity)
    if es.studies == analysis.effects.studies:
        return Restricted(None, False)
    return Restricted(
        analysis.with_options(es, exclude_status=exclude_status, low_risk_only=low_risk_only)
        if es.k
        else None,
        True,
    )


def _verified_only(raw, analysis: PoolAnalysis) -> Restricted | None:
    """Only numbers verified against a full text or abstract; None without an evidence_status column."""
    if STATUS_COLUMN not in raw.extra:
        return None
    statuses = tuple(dict.fromkeys(analysis.options.exclude_status + UNVERIFIED_STATUSES))
    return _restricted(raw, analysis, statuses, analysis.options.low_risk_only)


def _low_risk_only(raw, analysis: PoolAnalysis) -> Restricted | None:
    """Only studies at low overall risk of bias; None when no risk of bias is recorded."""
    if not has_rob(raw.extra):
        return None
    return _restricted(raw, analysis, analysis.options.exclude_status, low_risk_only=True)


def _evidence(source: str, res: PoolResult) -> Evidence:
    return Evidence(source, res.estimate, res.ci_low, res.ci_high, res.k)


def _check_claims(meta, analysis, other, answer, tests, verified):
    """Each claim judged on the answer's analysis; every other analysis is a sensitivity check."""
    sens = []
    if answer is analysis:
        main = _evidence("main", analysis.result)
        if other is not None:
            sens.append(
                _evidence("common_effect" if analysis.result.is_random else "random_effects", other.result)
            )
    else:
        main = _evidence("common_effect_small_study", answer.result)
        sens.append(_evidence("random_effects_main", analysis.result))
    if tests is not None and tests.trimfill is not None and tests.trimfill.k0:
        sens.append(_evidence("trim_and_fill", tests.trimfill.result))
    if verified is not None and verified.differs and verified.analysis is not None:
        sens.append(_evidence("verified_only", verified.analysis.result))
    return tuple(check_claim(c, analysis.measure, meta.benefit, main, tuple(sens)) for c in meta.claims)
