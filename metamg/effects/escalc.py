"""From a validated StudyTable to per-study effect sizes (yi, vi), escalc-style.

Zero cells follow metafor's defaults: ``add`` (1/2) is added to every cell of a study with a
zero cell (``to="only0"``), double-zero studies are kept unless ``drop00``; for proportions
the same applies when events = 0 or events = n.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from operator import itemgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, SupportsIndex, TypeVar

import numpy as np

from metamg.effects.conversion import convert_wald
from metamg.effects.measures import DEFAULT_MEASURE, MEASURES, Measure
from metamg.errors import InputError, Problem
from metamg.io.bounds import EFFECT_MAX, EFFECT_VARIANCE_RANGE, EFFECT_VARIANCE_SPREAD, effect_problem
from metamg.io.schema import NotEstimable, StudyTable
from metamg.notes import Note, note
from metamg.vocabulary import CONTINUITY_RULES

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from metamg.effects.measures import Column

    Mask = NDArray[np.bool_]  # one flag per study
    Rows = NDArray[np.intp]  # row indices into a StudyTable

_T = TypeVar("_T")

CC_TO = CONTINUITY_RULES
SMD_WARN = 3.0  # |g| above this is rare in trials and typical of SEs typed in as SDs


@dataclass(frozen=True)
class Continuity:
    """The zero-cell rule applied: what was added, to which studies, and double zeros."""

    add: float = 0.5
    to: str = "only0"
    drop00: bool = False


@dataclass(frozen=True)
class EffectSizes:
    """Effect sizes of the estimable studies, plus everything that was set aside and why."""

    source: str
    measure: Measure
    studies: tuple[str, ...]
    lines: tuple[int, ...]
    yi: Column
    vi: Column
    data: MappingProxyType[str, Column]  # canonical input columns of the included studies
    extra: MappingProxyType[str, tuple[str, ...]]  # other CSV columns of the included studies
    excluded: tuple[NotEstimable, ...]
    corrected: tuple[str, ...]  # studies that received the continuity correction
    double_zero: tuple[str, ...]
    continuity: Continuity
    warnings: tuple[Note, ...]
    converted: tuple[str, ...] = ()  # studies given as effect + CI or p-value (conv.wald)
    notes: tuple[Note, ...] = ()  # how rows were prepared, e.g. multi-arm trials combined

    @property
    def k(self) -> int:
        return len(self.studies)

    @property
    def sizes(self) -> Column | None:
        """Each study's participants (both arms; NaN where not given), or None when the data
        type has no sample sizes (effects given with their standard errors)."""
        d = self.data
        if "n1i" in d and "n2i" in d:
            both: Column = np.asarray(d["n1i"], float) + np.asarray(d["n2i"], float)
            return both
        if "ni" in d:
            one: Column = np.asarray(d["ni"], float)
            return one
        return None

    def subset(self, indices: ArrayLike) -> EffectSizes:
        """The same effects for the studies at ``indices`` only (subgroups, leave-one-out)."""
        idx = np.asarray(indices, dtype=int)
        keep = set(idx.tolist())

        def kept(
            names: Iterable[str],
        ) -> tuple[str, ...]:  # in file order, as compute_effects lists them; sets keep it linear
            names = set(names)
            return tuple(s for i, s in enumerate(self.studies) if i in keep and s in names)

        return replace(
            self,
            studies=_take(self.studies, idx),
            lines=_take(self.lines, idx),
            yi=self.yi[idx],
            vi=self.vi[idx],
            data=MappingProxyType({k: v[idx] for k, v in self.data.items()}),
            extra=MappingProxyType({c: _take(v, idx) for c, v in self.extra.items()}),
            corrected=kept(self.corrected),
            converted=kept(self.converted),
            double_zero=kept(self.double_zero),
        )


def _take(values: tuple[_T, ...], idx: Iterable[SupportsIndex]) -> tuple[_T, ...]:
    """``values`` at indices ``idx``, as a tuple (the whole tuple when ``idx`` is every index)."""
    idx = [int(i) for i in idx]
    if len(idx) == len(values) and idx == list(range(len(values))):
        return tuple(values)
    if len(idx) < 2:
        return tuple(values[i] for i in idx)
    picked: tuple[_T, ...] = itemgetter(*idx)(values)  # typeshed: itemgetter(...)(x) is Any
    return picked


NAMES_SHOWN = 20  # a warning names at most this many studies, then counts the rest


def name_list(names: Iterable[str], limit: int = NAMES_SHOWN) -> str:
    """'A, B, C' or, for long lists, 'A, B, ... and 869 more'."""
    names = list(names)
    if len(names) <= limit:
        return ", ".join(names)
    return ", ".join(names[:limit]) + f" and {len(names) - limit:,} more"


def resolve_measure(table_type: str, measure: str | None, source: str = "") -> Measure:
    name = (measure or DEFAULT_MEASURE[table_type]).upper()
    if name not in MEASURES:
        raise InputError(
            [Problem(source or "measure", f"unknown measure {name!r}; choose one of " + ", ".join(MEASURES))]
        )
    return MEASURES[name]


def binary_zero_cells(ai: Column, n1i: Column, ci: Column, n2i: Column) -> tuple[Mask, Mask]:
    """Masks of 2x2 tables with any zero cell, and with no events (or only events) in both arms."""
    bi, di = n1i - ai, n2i - ci
    zero = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    return zero, ((ai == 0) & (ci == 0)) | ((bi == 0) & (di == 0))


def zero_cells(table: StudyTable, rows: Rows) -> tuple[Mask, Mask]:
    """Masks (any zero cell, double zero) of the studies at indices ``rows``."""
    v = table.values
    if table.data_type == "binary":
        return binary_zero_cells(v["ai"][rows], v["n1i"][rows], v["ci"][rows], v["n2i"][rows])
    if table.data_type == "proportion":
        x, n = v["xi"][rows], v["ni"][rows]
        return (x == 0) | (x == n), np.zeros(len(x), dtype=bool)
    return np.zeros(len(rows), dtype=bool), np.zeros(len(rows), dtype=bool)


def compute_effects(
    table: StudyTable, measure: str | None = None, continuity: Continuity = Continuity()
) -> EffectSizes:
    """escalc: one (yi, vi) per estimable study of ``table`` for ``measure``."""
    m = resolve_measure(table.data_type, measure, table.source)
    if m.data_type != table.data_type:
        raise InputError(
            [
                Problem(
                    table.source,
                    f"measure {m.name} needs {m.data_type} data, but the file holds {table.data_type} data",
                )
            ]
        )
    if continuity.to not in CC_TO:
        raise InputError(
            [
                Problem(
                    table.source,
                    f"unknown continuity rule {continuity.to!r}; choose one of {', '.join(CC_TO)}",
                )
            ]
        )
    keep = table.estimable
    excluded = list(table.not_estimable)
    reported = keep & (np.array(table.forms) == "reported") if table.forms else np.zeros_like(keep)
    keep = keep & ~reported
    zero, dz = zero_cells(table, np.flatnonzero(keep))
    idx = np.flatnonzero(keep)
    double_zero = tuple(table.studies[i] for i in idx[dz])
    if continuity.drop00 and dz.any():
        for i in idx[dz]:
            excluded.append(NotEstimable(table.studies[i], table.lines[i], note("excluded.double_zero")))
        idx, zero = idx[~dz], zero[~dz]

    cols = {k: table.values[k][idx] for k in m.args}
    add = continuity_added(zero, continuity)
    if add.any():
        for k in _cells_for(table.data_type):
            cols[k] = cols[k] + add * (2 if k in ("n1i", "n2i", "ni") else 1)
    problems = _measure_problems(table, m, cols, idx)
    if problems:
        raise InputError(problems)
    with np.errstate(divide="ignore", invalid="ignore"):
        yi, vi = m.compute(*(cols[k] for k in m.args))
    raw_idx = idx
    idx, yi, vi, converted, off_centre = _with_reported(table, m, idx, yi, vi, np.flatnonzero(reported))
    bad = ~np.isfinite(yi) | ~np.isfinite(vi) | (vi <= 0)
    if bad.any():
        raise InputError(
            [
                Problem(
                    table.source,
                    f"{m.name} cannot be computed for this study "
                    "(zero variance or a zero cell without continuity correction)",
                    line=table.lines[i],
                    column=table.column_name("study"),
                    value=table.studies[i],
                )
                for i in idx[bad]
            ]
        )
    extreme = _extreme_effects(table, m, idx, yi, vi) or _spread_problems(table, idx, vi)
    if extreme:
        raise InputError(extreme)
    corrected = tuple(table.studies[i] for i in raw_idx[add > 0])
    warnings = _warnings(table, m, continuity, corrected, double_zero, yi, idx) + tuple(
        note(
            "effect.off_centre",
            source=table.source,
            line=table.lines[i],
            study=table.studies[i],
            scale=m.scale,
        )
        for i in off_centre
    )
    for arr in (yi, vi):
        arr.setflags(write=False)
    return EffectSizes(
        source=table.source,
        measure=m,
        studies=_take(table.studies, idx),
        lines=_take(table.lines, idx),
        yi=yi,
        vi=vi,
        data=MappingProxyType({k: table.values[k][idx] for k in table.values}),
        extra=MappingProxyType({c: _take(v, idx) for c, v in table.extra.items()}),
        excluded=tuple(excluded),
        corrected=corrected,
        double_zero=double_zero,
        continuity=continuity,
        warnings=warnings,
        converted=converted,
        notes=table.notes,
    )


def _with_reported(
    table: StudyTable, m: Measure, idx: Rows, yi: Column, vi: Column, rep: Rows
) -> tuple[Rows, Column, Column, tuple[str, ...], tuple[int, ...]]:
    """Merge the rows given as effect + CI (or p-value), converted as conv.wald does, into the
    raw-data effects, in file order."""
    if not len(rep):
        return idx, yi, vi, (), ()
    v = table.values
    blank = np.full(len(rep), np.nan)
    col = {k: (v[k][rep] if k in v else blank) for k in ("effect", "ci_low", "ci_high", "ci_level", "pval")}
    conv = convert_wald(m, col["effect"], col["ci_low"], col["ci_high"], col["ci_level"], col["pval"])
    if conv.invalid:
        raise InputError(
            [
                Problem(
                    table.source,
                    message,
                    line=table.lines[rep[j]],
                    column=table.column_name(key),
                    value=f"{v[key][rep[j]]:g}",
                )
                for j, key, message in conv.invalid
            ]
        )
    order = np.argsort(np.concatenate([idx, rep]), kind="stable")
    merged = np.concatenate([idx, rep])[order]
    return (
        merged,
        np.concatenate([yi, conv.yi])[order],
        np.concatenate([vi, conv.vi])[order],
        tuple(table.studies[i] for i in rep),
        tuple(int(rep[j]) for j in conv.off_centre),
    )


def _cells_for(data_type: str) -> tuple[str, ...]:
    return {"binary": ("ai", "n1i", "ci", "n2i"), "proportion": ("xi", "ni")}.get(data_type, ())


def continuity_added(zero: Mask, cc: Continuity) -> Column:
    """What ``cc`` adds to each cell of each study, given which studies have a zero cell."""
    if cc.to == "none" or cc.add == 0:
        return np.zeros(len(zero))
    if cc.to == "all" or (cc.to == "if0all" and zero.any()):
        return np.full(len(zero), float(cc.add))
    if cc.to == "only0":
        return np.where(zero, float(cc.add), 0.0)
    return np.zeros(len(zero))


def _measure_problems(table: StudyTable, m: Measure, cols: dict[str, Column], idx: Rows) -> list[Problem]:
    src, out = table.source, []

    def flag(mask: Mask, key: str, message: str) -> None:
        for j in np.flatnonzero(mask):
            i = idx[j]
            value = table.values[key][i]
            out.append(
                Problem(src, message, line=table.lines[i], column=table.column_name(key), value=f"{value:g}")
            )

    if m.name == "ROM":
        flag(cols["m1i"] <= 0, "m1i", "ROM needs positive means")
        flag(cols["m2i"] <= 0, "m2i", "ROM needs positive means")
    if m.name == "SMD":
        # Hedges' correction c(m), m = n1 + n2 - 2, is Γ(0)-undefined at m = 1 (metafor: NA)
        flag(cols["n1i"] + cols["n2i"] <= 3, "n2i", "SMD needs more than 3 participants in total")
    if m.name == "ZCOR":
        flag(cols["ni"] <= 3, "ni", "ZCOR needs a sample size above 3")
    if m.name == "COR":
        flag(cols["ni"] <= 1, "ni", "COR needs a sample size above 1")
    return out


def _extreme_effects(table: StudyTable, m: Measure, idx: Rows, yi: Column, vi: Column) -> list[Problem]:
    """Effects too large or too precise for the models' floating point (metamg.io.bounds)."""
    outside = (np.abs(yi) > EFFECT_MAX) | (vi < EFFECT_VARIANCE_RANGE[0]) | (vi > EFFECT_VARIANCE_RANGE[1])
    return [
        Problem(
            table.source,
            f"{m.name} for this study: {effect_problem(float(yi[j]), float(vi[j]))}; "
            "check the numbers and their units",
            line=table.lines[i],
            column=table.column_name("study"),
            value=table.studies[i],
        )
        for j, i in zip(np.flatnonzero(outside), idx[outside], strict=True)
    ]


def _spread_problems(table: StudyTable, idx: Rows, vi: Column) -> list[Problem]:
    """Variances so unequal that pooling would lose the least precise studies to rounding
    (metamg.io.bounds): named at the most precise study, against the least precise."""
    if len(vi) < 2 or vi.max() <= EFFECT_VARIANCE_SPREAD * vi.min():
        return []
    lo, hi = int(np.argmin(vi)), int(np.argmax(vi))
    return [
        Problem(
            table.source,
            f"this study's variance ({vi[lo]:.3g}) is {vi[hi] / vi[lo]:.3g} "
            f"times smaller than that of {table.studies[idx[hi]]} (line {table.lines[idx[hi]]}, "
            f"{vi[hi]:.3g}); variances more than {EFFECT_VARIANCE_SPREAD:g} apart cannot be "
            "pooled without losing the less precise studies to rounding: check the numbers "
            "and their units",
            line=table.lines[idx[lo]],
            column=table.column_name("study"),
            value=table.studies[idx[lo]],
        )
    ]


def _warnings(
    table: StudyTable,
    m: Measure,
    cc: Continuity,
    corrected: tuple[str, ...],
    double_zero: tuple[str, ...],
    yi: Column,
    idx: Rows,
) -> tuple[Note, ...]:
    out = []
    if table.ignored:
        out.append(
            note(
                "columns.other_data_type",
                source=table.source,
                columns=table.ignored,
                measure=m.name,
                data_type=m.data_type,
            )
        )
    if corrected:
        out.append(note("continuity.applied", add=cc.add, studies=corrected))
    if double_zero and not cc.drop00:
        out.append(note("double_zero.kept", studies=double_zero))
    if m.name == "SMD":
        big = np.flatnonzero(np.abs(yi) > SMD_WARN)
        for j in big:
            out.append(
                note("smd.implausible", source=table.source, line=table.lines[idx[j]], smd=float(yi[j]))
            )
    return tuple(out)
