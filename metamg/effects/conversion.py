"""Reported effects with a confidence interval or p-value, turned into (yi, vi).

This is metafor's ``conv.wald`` (Viechtbauer, metafor documentation, "Convert Wald-Type
Confidence Intervals and Tests to Sampling Variances"; Cochrane Handbook 6.3.1 and 6.5.2.3):
on the analysis scale (log for ratios) a Wald interval is estimate ± z·SE, so

    SE = (upper − lower) / (2 · z_{(1+level)/2})        from the interval, at its own level
    SE = |estimate| / z_{1−p/2}                          from a two-sided p-value

and an estimate left blank is the midpoint of the interval. The interval is used when both
are given, as conv.wald does.
"""

from __future__ import annotations

from dataclasses import dataclass
from statistics import NormalDist
from typing import TYPE_CHECKING

import numpy as np

from metamg.effects.measures import Measure

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from metamg.effects.measures import Column

OFF_CENTRE = 0.10  # estimate further than this share of the CI width from its midpoint: warn
_Z = NormalDist()


@dataclass(frozen=True)
class Converted:
    """Effects on the analysis scale, and what could not be converted or looked wrong."""

    yi: Column
    vi: Column
    invalid: tuple[tuple[int, str, str], ...]  # (row index, column key, message)
    off_centre: tuple[int, ...]  # rows whose estimate is not mid-interval


def to_analysis_scale(measure: Measure, x: ArrayLike) -> Column:
    """The transformation conv.wald's ``transf`` applies: log for ratios, logit, Fisher's z."""
    x = np.asarray(x, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure.scale == "log":
            return np.where(x > 0, np.log(np.where(x > 0, x, 1.0)), np.nan)
        if measure.scale == "logit":
            inside = (x > 0) & (x < 1)
            safe = np.where(inside, x, 0.5)
            return np.where(inside, np.log(safe / (1 - safe)), np.nan)
        if measure.scale == "z":
            inside = np.abs(x) < 1
            return np.where(inside, np.arctanh(np.where(inside, x, 0.0)), np.nan)
    return x


def z_for_level(level_percent: ArrayLike) -> Column:
    """Two-sided normal quantile of a confidence level given in percent (95) or as a fraction."""
    lv = np.asarray(level_percent, dtype=float)
    lv = np.where(lv >= 1, lv / 100, lv)
    return np.array([_Z.inv_cdf(0.5 + v / 2) for v in np.ravel(lv)]).reshape(lv.shape)


def convert_wald(
    measure: Measure, effect: Column, ci_low: Column, ci_high: Column, ci_level: Column, pval: Column
) -> Converted:
    """conv.wald for arrays of reported values on the measure's natural scale (NaN = blank).

    ``ci_level`` blank means 95%. Rows whose numbers do not exist on the analysis scale (a ratio
    of 0 or below, a proportion outside (0, 1)) or give no SE are listed in ``invalid``.
    """
    est = to_analysis_scale(measure, effect)
    lo, hi = to_analysis_scale(measure, ci_low), to_analysis_scale(measure, ci_high)
    level = np.where(np.isnan(ci_level), 95.0, ci_level)
    invalid = []
    for key, given, moved in (("effect", effect, est), ("ci_low", ci_low, lo), ("ci_high", ci_high, hi)):
        for i in np.flatnonzero(~np.isnan(given) & np.isnan(moved)):
            invalid.append((int(i), key, f"not a valid {measure.name} (its {measure.scale} is undefined)"))
    has_ci = ~np.isnan(lo) & ~np.isnan(hi)
    yi = np.where(np.isnan(est) & has_ci, (lo + hi) / 2, est)
    with np.errstate(divide="ignore", invalid="ignore"):
        se_ci = (hi - lo) / (2 * z_for_level(level))
        p = np.asarray(pval, dtype=float)
        se_p = np.abs(yi) / np.array([_Z.inv_cdf(1 - v / 2) if 0 < v < 1 else np.nan for v in p])
    se = np.where(has_ci, se_ci, se_p)
    vi = se**2
    bad_bits = [i for i, _, _ in invalid]
    for i in np.flatnonzero(~has_ci & ~np.isnan(p) & (yi == 0)):
        if i not in bad_bits:
            invalid.append((int(i), "effect", "the null effect with a p-value gives no standard error"))
    with np.errstate(invalid="ignore"):
        off = has_ci & ~np.isnan(est) & (np.abs((lo + hi) / 2 - est) > OFF_CENTRE * (hi - lo))
    return Converted(yi, vi, tuple(invalid), tuple(int(i) for i in np.flatnonzero(off)))
