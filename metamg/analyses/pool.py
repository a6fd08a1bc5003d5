"""One call from a study table to a pooled result: what ``metamg pool`` runs."""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypedDict

import numpy as np

from metamg.analyses.selection import exclude_by_status, keep_low_risk
from metamg.effects import Continuity, EffectSizes, combine_arms, compute_effects, resolve_measure
from metamg.effects.escalc import name_list
from metamg.effects.measures import MEASURES, Measure
from metamg.errors import InputError, Problem
from metamg.io.metadata import StudySetMeta, read_metadata
from metamg.io.schema import NotEstimable, StudyTable, read_studies
from metamg.models import DEFAULT_PROFILE, PROFILES, fit, mantel_haenszel, peto
from metamg.models.display import (
    MISSING,
    details,
    frame,
    html_table,
    interval,
    level_text,
    num,
    one_line,
    p_is,
    p_value,
    pct,
)
from metamg.models.distributions import norm_ppf
from metamg.models.mantel_haenszel import Undefined
from metamg.models.results import PoolResult, _num
from metamg.models.revman5 import estimable_tables, pool_tables
from metamg.models.revman5 import standardized_mean_difference as revman5_smd
from metamg.notes import Note, note
from metamg.vocabulary import METHODS

if TYPE_CHECKING:
    from typing_extensions import Unpack  # typing.Unpack from Python 3.11


@dataclass(frozen=True)
class StudyRow:
    """One study's effect on the analysis scale with its own CI and weight in the pooled result."""

    study: str
    yi: float
    vi: float
    ci_low: float
    ci_high: float
    weight: float | None  # percent


@dataclass(frozen=True)
class PoolOptions:
    """How a pool is asked for: ``pool(data, options)``; an analysis keeps the options it was
    run with (``analysis.options``, resolved), and its subgroup and sensitivity analyses reuse
    them. None means "from the metadata, else the profile"."""

    measure: str | None = None
    method: str | None = None
    ci_method: str | None = None
    level: float = 0.95
    pi: str = "default"
    profile: str | None = None
    continuity: Continuity = Continuity()
    multi_arm: str = "combine"
    exclude_status: tuple[str, ...] = ()
    low_risk_only: bool = False


class PoolOverrides(TypedDict, total=False):
    """``pool``'s keyword arguments: any field of PoolOptions, overriding ``options``."""

    measure: str | None
    method: str | None
    ci_method: str | None
    level: float
    pi: str
    profile: str | None
    continuity: Continuity
    multi_arm: str
    exclude_status: tuple[str, ...] | list[str]
    low_risk_only: bool


OPTION_NAMES = tuple(f.name for f in fields(PoolOptions))


def resolve_options(
    options: PoolOptions | str | None, overrides: Mapping[str, Any], caller: str
) -> PoolOptions:
    """``options`` (default: none set) with ``overrides`` applied; a string is taken as the
    measure, as in ``pool(path, "OR")``. An unknown keyword is a TypeError naming the closest
    option, as Python names a misspelt argument."""
    if isinstance(options, str):
        options = PoolOptions(measure=options)
    unknown = [k for k in overrides if k not in OPTION_NAMES]
    if unknown:
        close = difflib.get_close_matches(unknown[0], OPTION_NAMES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else "; the options are " + ", ".join(OPTION_NAMES)
        raise TypeError(f"{caller}() got an unexpected keyword argument {unknown[0]!r}{hint}")
    return replace(options or PoolOptions(), **overrides)


@dataclass(frozen=True)
class PoolAnalysis:
    """Everything ``pool`` produced: effects, the fitted model, the studies left out and why."""

    source: str
    measure: Measure
    profile: str
    effects: EffectSizes
    result: PoolResult
    excluded: tuple[NotEstimable, ...]
    warnings: tuple[Note, ...]
    options: PoolOptions = PoolOptions()
    meta: StudySetMeta | None = None  # the study set's metadata, when pooled from its CSV path

    @cached_property
    def rows(self) -> tuple[StudyRow, ...]:
        z = norm_ppf(1 - (1 - self.result.level) / 2)
        yi, vi = self.effects.yi, self.effects.vi
        half = z * np.sqrt(vi)
        w = (
            np.asarray(self.result.weights, dtype=float)
            if len(self.result.weights)
            else np.full(self.effects.k, np.nan)
        )
        weights = [x if np.isfinite(x) else None for x in w.tolist()]
        return tuple(
            map(
                StudyRow,
                self.effects.studies,
                yi.tolist(),
                vi.tolist(),
                (yi - half).tolist(),
                (yi + half).tolist(),
                weights,
            )
        )

    def refit(self, indices) -> PoolAnalysis:
        """The same analysis (method, CI, level, ...) on the studies at ``indices`` only."""
        return self.with_options(self.effects.subset(indices))

    def with_options(self, effects: EffectSizes | None = None, **changes) -> PoolAnalysis:
        """This analysis's options with ``changes`` (e.g. method="FE"), on ``effects`` (default:
        the same effects): the one way every derived analysis is run, so it keeps the level,
        continuity rule, profile and metadata of the analysis it derives from."""
        return pool(self.effects if effects is None else effects, self.options, meta=self.meta, **changes)

    def natural(self, x: float | None) -> float | None:
        return None if x is None else _num(self.measure.to_natural(x))

    @property
    def rules(self) -> tuple[Note, ...]:
        """Every rule the analysis used: the measure, the model's rules, the zero-cell rule and
        how rows were selected and prepared (metamg.render.notes_text words them)."""
        o, cc = self.options, self.effects.continuity
        extra: tuple[Note, ...] = ()
        if self.effects.converted:
            extra += (note("effects.converted"),)
        if self.effects.notes:
            extra += (note("multi_arm", how=o.multi_arm),)
        if o.exclude_status:
            extra += (note("selection.exclude_status", statuses=o.exclude_status),)
        if o.low_risk_only:
            extra += (note("selection.low_risk_only"),)
        return (
            (note("measure", measure=self.measure.name, label=self.measure.label, scale=self.measure.scale),)
            + self.result.rules
            + (note("continuity", add=cc.add, to=cc.to, drop00=cc.drop00),)
            + extra
        )

    def to_dict(self) -> dict:
        r = self.result
        d = r.to_dict()
        d["studies"] = [
            {
                "study": row.study,
                "yi": _num(row.yi),
                "vi": _num(row.vi),
                "weight": _num(row.weight),
                "ci_low": _num(row.ci_low),
                "ci_high": _num(row.ci_high),
            }
            for row in self.rows
        ]
        d.update(
            {
                "source": self.source,
                "measure": self.measure.name,
                "scale": self.measure.scale,
                "profile": self.profile,
                "natural": {
                    key: self.natural(getattr(r, key))
                    for key in (
                        "estimate",
                        "ci_low",
                        "ci_high",
                        "ci_adhoc_low",
                        "ci_adhoc_high",
                        "pi_low",
                        "pi_high",
                    )
                },
                "excluded": [
                    {"study": e.study, "line": e.line, "reason": e.reason.to_dict()} for e in self.excluded
                ],
                "rules": [x.to_dict() for x in self.rules],
                "warnings": [x.to_dict() for x in self.warnings],
            }
        )
        return d

    def __str__(self) -> str:
        """One line; metamg.render.text.pool_text(analysis) gives the full text report."""
        r, m = self.result, self.measure
        est, lo, hi = (self.natural(x) for x in (r.estimate, r.ci_low, r.ci_high))
        return (
            f"{m.name} {est:.3g} ({level_text(r.level)} CI {lo:.3g} to {hi:.3g}), k={r.k}, "
            f"{r.method}/{r.ci_method}, I²={r.i2:.1f}% ({self.source})"
        )

    def __repr__(self) -> str:
        """One line (the dataclass default would print every effect and option)."""
        r, m = self.result, self.measure
        est, lo, hi = (num(self.natural(x), 3) for x in (r.estimate, r.ci_low, r.ci_high))
        return one_line(
            f"PoolAnalysis({m.name} {est} ({level_text(r.level)} CI {lo} to {hi}), k={r.k}, "
            f"{r.method}/{r.ci_method}, I²={num(r.i2, 3)}%, source={self.source!r})"
        )

    def _repr_html_(self) -> str:
        """The pooled effect on the natural scale, then the studies (collapsed) and warnings."""
        r, m = self.result, self.measure
        nat = self.natural
        lvl = level_text(r.level)
        test = "z" if r.df is None else f"t({r.df:g})"
        pi = interval(nat(r.pi_low), nat(r.pi_high), 3) if r.is_random and r.k > 1 else MISSING
        summary = html_table(
            ("k", m.name, f"{lvl} CI", f"{lvl} PI", "test", "p", "tau²", "I²", "Q"),
            [
                (
                    num(r.k),
                    num(nat(r.estimate), 3),
                    interval(nat(r.ci_low), nat(r.ci_high), 3),
                    pi,
                    f"{test} = {num(r.statistic, 3)}",
                    p_value(r.p),
                    num(r.tau2, 3),
                    pct(r.i2),
                    f"{num(r.q, 4)} on {r.q_df} df, {p_is(r.q_p)}",
                )
            ],
            f"{m.label} ({m.name}), {r.method} with {r.ci_method} CI: {self.source}",
            [f"warning: {w}" for w in self.warnings],
        )
        studies = html_table(
            ("study", m.name, f"{lvl} CI", "weight"),
            [
                (
                    row.study,
                    num(nat(row.yi), 3),
                    interval(nat(row.ci_low), nat(row.ci_high), 3),
                    pct(row.weight),
                )
                for row in self.rows
            ],
            notes=[f"not estimable: {e.study} ({_reason_shown(e.reason)})" for e in self.excluded],
        )
        return summary + "\n" + details(f"{len(self.rows)} studies", studies)

    def to_frame(self):
        """One row per study: effect and CI on the analysis scale (yi, vi, ci_low, ci_high), on
        the natural scale when it differs (effect, effect_ci_low, effect_ci_high), and the
        weight in percent, as ``metamg pool --format csv``."""
        records = []
        for s in self.to_dict()["studies"]:
            d = {key: s[key] for key in ("study", "yi", "vi", "ci_low", "ci_high")}
            if self.measure.scale != "identity":
                d.update(
                    effect=self.natural(s["yi"]),
                    effect_ci_low=self.natural(s["ci_low"]),
                    effect_ci_high=self.natural(s["ci_high"]),
                )
            records.append(d | {"weight_percent": s["weight"]})
        return frame(records)


def study_set_metadata(data) -> StudySetMeta | None:
    """The metadata (NAME.toml) of a study set given by its CSV path; None for data in memory."""
    return read_metadata(data) if isinstance(data, (str, os.PathLike)) else None


def pool(
    data,
    options: PoolOptions | str | None = None,
    *,
    meta: StudySetMeta | None = None,
    **overrides: Unpack[PoolOverrides],
) -> PoolAnalysis:
    """Pool a study CSV path, pandas DataFrame, StudyTable or EffectSizes.

    ``options`` (a PoolOptions, e.g. another analysis's ``.options``; or a measure name) and
    the keyword arguments, which override it: measure, method (FE, DL, REML, ..., MH, PETO),
    ci_method (wald, hk, hk-adhoc), level, pi, profile, continuity, multi_arm, exclude_status,
    low_risk_only. Settings are resolved in one order, for every command and this function
    alike: what is given here, then the study set's metadata (``meta``, read from NAME.toml
    next to a CSV path when not given: its measure and profile), then the profile's defaults
    (cochrane: REML with HKSJ; metafor: REML with Wald; revman5: DL with Wald, Mantel-Haenszel
    as the binary common-effect model), then metamg's (cochrane; RR for binary data, MD
    continuous, ...).
    """
    o = resolve_options(options, overrides, "pool")
    measure, method, ci_method, level, pi, profile = (
        o.measure,
        o.method,
        o.ci_method,
        o.level,
        o.pi,
        o.profile,
    )
    continuity, multi_arm, low_risk_only = o.continuity, o.multi_arm, o.low_risk_only
    exclude_status = o.exclude_status
    if meta is None:
        meta = study_set_metadata(data)
    if meta is not None:
        measure = measure or meta.measure
        profile = profile or meta.profile
    profile = profile or DEFAULT_PROFILE
    if profile not in PROFILES:
        raise InputError(
            [Problem("profile", f"unknown profile {profile!r}; choose one of " + ", ".join(PROFILES))]
        )
    prof = PROFILES[profile]
    method = (method or prof.method).upper()
    if method not in METHODS:
        raise InputError(
            [Problem("method", f"unknown method {method!r}; choose one of " + ", ".join(METHODS))]
        )
    if level > 1:
        level = level / 100  # metafor writes level=95
    if not 0 < level < 1:
        raise InputError([Problem("level", f"must lie between 0 and 1 (or 0 and 100), got {level!r}")])

    exclude_status = tuple(exclude_status)
    revman = profile == "revman5" or method == "MH-DL"
    effects = _effects(data, measure, method, continuity, multi_arm, exclude_status, low_risk_only, revman)
    if (
        method in ("FE", "EE", "CE")
        and effects.measure.data_type == "binary"
        and prof.binary_common_effect == "MH"
        and effects.measure.name in ("OR", "RR", "RD")
        and not effects.converted
    ):  # MH needs every study's 2x2 table
        method = "MH"
    revman_smd = profile == "revman5" and effects.measure.name == "SMD" and not effects.converted
    if revman_smd:
        d = effects.data  # RevMan 5's Hedges' g (approximate J, its variance)
        g, v = revman5_smd(*(d[k] for k in ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")))
        effects = replace(effects, yi=g, vi=v)
    if revman and _revman5_tables(effects, method, ci_method, continuity):
        effects = _revman5_estimable(effects, method)
        result = _fit_revman5(effects, method, level)
        if ci_method not in (None, "wald"):  # RevMan 5 has only the Wald interval
            result = _with_warning(result, note("ci.not_applicable", method=method, ci_method=ci_method))
        effects = replace(effects, yi=result.yi, vi=result.vi)  # RevMan's own row effects
    else:
        result = _fit(effects, method, ci_method, prof.ci_method, level, pi)
    if revman_smd:
        result = replace(result, rules=result.rules + (note("effects.revman5_smd"),))
    warnings = effects.warnings + result.warnings
    options = PoolOptions(
        effects.measure.name,
        method,
        ci_method,
        level,
        pi,
        profile,
        continuity,
        multi_arm,
        exclude_status,
        low_risk_only,
    )
    return PoolAnalysis(
        effects.source, effects.measure, profile, effects, result, effects.excluded, warnings, options, meta
    )


def _effects(
    data, measure, method, continuity, multi_arm, exclude_status, low_risk_only, revman=False
) -> EffectSizes:
    if isinstance(data, EffectSizes):
        return data
    if method == "PETO" and measure is None:  # O-E and variance data need measure HR
        measure = "OR"
    table = prepare_table(data, measure, multi_arm, exclude_status, low_risk_only)
    if revman and continuity == Continuity() and table.data_type == "binary":
        # RevMan 5: a double-zero table is not estimable for OR, RR and Peto (it is for RD)
        name = resolve_measure(table.data_type, measure, table.source).name
        continuity = Continuity(drop00=name != "RD" or method == "PETO")
    return compute_effects(table, measure, continuity)


# what each method means for 2x2 tables under the revman5 profile: RevMan's statistical
# method and whether the model is random effects
_REVMAN5 = {
    "MH": ("MH", False),
    "MH-DL": ("MH", True),
    "PETO": ("PETO", False),
    "FE": ("IV", False),
    "EE": ("IV", False),
    "CE": ("IV", False),
    "IV": ("IV", False),
    "DL": ("IV", True),
}


def _revman5_tables(es: EffectSizes, method: str, ci_method: str | None, continuity: Continuity) -> bool:
    """Whether the revman5 rules pool these effects: 2x2 tables of every study (none converted
    from an effect and CI) for OR, RR or RD, a method RevMan 5 has, the Wald interval and
    RevMan's zero-cell rule (not one the user chose)."""
    if method == "MH-DL" and (es.measure.name not in ("OR", "RR", "RD") or es.converted):
        allowed = "OR, RR or RD" if es.measure.name not in ("OR", "RR", "RD") else "every study's 2x2 table"
        raise InputError([Problem(es.source, f"method MH-DL needs {allowed}")])
    return (
        es.measure.data_type == "binary"
        and es.measure.name in ("OR", "RR", "RD")
        and not es.converted
        and method in _REVMAN5
        and (ci_method in (None, "wald") or method in ("MH-DL", "MH", "PETO"))
        and continuity == Continuity()
        and es.k > 0
    )


def _revman5_estimable(es: EffectSizes, method: str) -> EffectSizes:
    """The effects without the tables RevMan 5 does not estimate (double zeros for OR, RR and
    Peto), listed as excluded, when they were computed with other rules (e.g. passed in as
    EffectSizes computed with the default continuity rule)."""
    d = es.data
    keep = estimable_tables(d["ai"], d["n1i"], d["ci"], d["n2i"], es.measure.name, _REVMAN5[method][0])
    if keep.all():
        return es
    out = es.subset(np.flatnonzero(keep))
    dropped = tuple(
        NotEstimable(es.studies[i], es.lines[i], note("excluded.double_zero")) for i in np.flatnonzero(~keep)
    )
    return replace(
        out,
        excluded=es.excluded + dropped,
        continuity=replace(es.continuity, drop00=True),
        warnings=tuple(w for w in es.warnings if w.rule != "double_zero.kept"),
    )


def _fit_revman5(es: EffectSizes, method: str, level: float) -> PoolResult:
    how, random = _REVMAN5[method]
    if how == "PETO" and es.measure.name != "OR":
        raise InputError([Problem(es.source, f"method PETO works with measure OR, not {es.measure.name}")])
    d = es.data
    try:
        return pool_tables(
            d["ai"], d["n1i"], d["ci"], d["n2i"], es.measure.name, how, random, level, es.studies
        )
    except Undefined as exc:
        raise InputError([Problem(es.source, str(exc))]) from None


def read_table(data, measure=None) -> StudyTable:
    """A CSV path or DataFrame read and validated as the data type ``measure`` needs (a
    StudyTable is returned as it is)."""
    if isinstance(data, StudyTable):
        return data
    forced = MEASURES[measure.upper()].data_type if measure and measure.upper() in MEASURES else None
    return read_studies(data, forced)


def prepare_table(
    data, measure=None, multi_arm="combine", exclude_status=(), low_risk_only=False
) -> StudyTable:
    """Read (if need be) and validate the studies, set aside excluded evidence statuses (and,
    if asked, studies not at low risk of bias), and make multi-arm trials into single
    comparisons: the table escalc then works on."""
    data = read_table(data, measure)
    resolve_measure(data.data_type, measure, data.source)  # unknown names fail before the data check
    table = exclude_by_status(data, exclude_status)
    return combine_arms(keep_low_risk(table) if low_risk_only else table, multi_arm)


def _fit(es: EffectSizes, method, ci_method, default_ci, level, pi) -> PoolResult:
    if es.k == 0:
        raise InputError([Problem(es.source, "no estimable studies to pool")])
    if method == "MH-DL":
        raise InputError(
            [
                Problem(
                    es.source,
                    "method MH-DL is RevMan 5's and uses its zero-cell rule: leave the continuity "
                    "correction (--cc, --cc-to, --drop00) at its default",
                )
            ]
        )
    if method == "PETO" and es.measure.name == "HR":
        # Peto's log HR from O-E and V: Σ(O-E)/ΣV with variance 1/ΣV and Q = Σ(O-E)²/V - (Σ(O-E))²/ΣV,
        # which is the inverse-variance common effect of (O-E)/V with variance 1/V (Yusuf et al. 1985)
        return fit(es.yi, es.vi, method="FE", ci_method="wald", level=level, pi=pi, studies=es.studies)
    if method in ("MH", "PETO"):
        allowed = ("OR", "RR", "RD") if method == "MH" else ("OR", "HR")
        if es.measure.name not in allowed:
            raise InputError(
                [
                    Problem(
                        es.source,
                        f"method {method} works with measure {' or '.join(allowed)}, not {es.measure.name}",
                    )
                ]
            )
        if es.converted:
            raise InputError(
                [
                    Problem(
                        es.source,
                        f"method {method} needs every study's 2x2 table; "
                        f"{name_list(es.converted)} give only an effect and its CI "
                        "(use an inverse-variance method, e.g. FE)",
                    )
                ]
            )
        ci_note = None
        if ci_method not in (None, "wald"):  # only when the user asked for another interval
            ci_note = note("ci.not_applicable", method=method, ci_method=ci_method)
        d = es.data
        args = (d["ai"], d["n1i"], d["ci"], d["n2i"])
        try:
            res = (
                mantel_haenszel(*args, measure=es.measure.name, level=level, studies=es.studies)
                if method == "MH"
                else peto(*args, level=level, studies=es.studies)
            )
        except Undefined as exc:  # the counts leave the estimate undefined: the user's to know why
            raise InputError([Problem(es.source, str(exc))]) from None
        if ci_note:
            res = _with_warning(res, ci_note)
        return res
    return fit(
        es.yi, es.vi, method=method, ci_method=ci_method or default_ci, level=level, pi=pi, studies=es.studies
    )


def _with_warning(res: PoolResult, warning: Note) -> PoolResult:
    return replace(res, warnings=res.warnings + (warning,))


def _reason_shown(reason: Note) -> str:
    """Why a study is not pooled, in a table of results: the curator's own words, else the
    rule's identifier (metamg.render.notes_text words it)."""
    return str(reason["reason"]) if reason.rule == "excluded.curator" else str(reason)
