"""The numbers metamg accepts: one range per kind of column, and one for the effects computed.

A value outside these ranges is a typing or unit error in a study table (no trial has 10¹³
participants or a standard deviation of 10⁻³⁰⁰), and left in it would overflow or underflow
floating point in the effect-size formulas and the models (a variance of 1e-320 has no
reciprocal; n·SD² of 1e308·1e200 is infinite), giving NaN instead of an answer. So they are
rejected, with the file, line and column.

Per column kind (the columns of each kind are listed in ``KIND``):

==========  ===============================================  ==================================
kind        accepted                                          columns
==========  ===============================================  ==================================
count       whole numbers from 0 to 10¹² (sizes above 0)      events, group and sample sizes
real        0, or a magnitude from 10⁻²⁰ to 10²⁰               means, yi, effect, CI limits, r
scale       from 10⁻²⁰ to 10²⁰                                  SDs, standard errors
variance    from 10⁻⁴⁰ to 10⁴⁰ (the squares of the scales)     vi
p-value     from 10⁻³⁰⁰ to below 1                             p_value
==========  ===============================================  ==================================

Computed effects (escalc's yi and vi on the analysis scale, after conversions) must satisfy
|yi| ≤ 10³⁰ and 10⁻⁶⁰ ≤ vi ≤ 10⁶⁰: the inputs above can still combine into effects beyond
that (an SMD of a mean difference of 10²⁰ over an SD of 10⁻²⁰), and the models square and
cube weights (1/vi) and residuals, which then must stay far from 10³⁰⁸ for a million studies.
And the studies pooled together must have variances within a factor of 10¹⁴ of each other:
beyond about 10¹⁶, Σw − Σw²/Σw (the heterogeneity estimators' denominator) is lost to
rounding and comes out 0. (A factor of 10¹⁴ in variance is 10⁷ in standard error: a trial of
ten people beside one of a hundred million.)
Subnormal numbers (below 2.2·10⁻³⁰⁸, where floating point loses precision) lie outside every
range, as do infinities and NaN.
"""

from __future__ import annotations

from types import MappingProxyType

COUNT_MAX = 1e12
REAL_RANGE = (1e-20, 1e20)  # magnitude of a nonzero real number
SCALE_RANGE = (1e-20, 1e20)
VARIANCE_RANGE = (1e-40, 1e40)
P_MIN = 1e-300
EFFECT_MAX = 1e30  # |yi| of a computed effect
EFFECT_VARIANCE_RANGE = (1e-60, 1e60)
EFFECT_VARIANCE_SPREAD = 1e14  # largest / smallest vi of the studies pooled together

# Inside every kind's range: a value here needs no further look (most values of any table).
COMMON_RANGE = (
    max(REAL_RANGE[0], SCALE_RANGE[0], VARIANCE_RANGE[0], P_MIN),
    min(COUNT_MAX, REAL_RANGE[1], SCALE_RANGE[1], VARIANCE_RANGE[1]),
)

KIND = MappingProxyType(
    {
        "ai": "count",
        "ci": "count",
        "xi": "count",
        "n1i": "count",
        "n2i": "count",
        "ni": "count",
        "m1i": "real",
        "m2i": "real",
        "yi": "real",
        "effect": "real",
        "ci_low": "real",
        "ci_high": "real",
        "ri": "real",
        "sd1i": "scale",
        "sd2i": "scale",
        "sei": "scale",
        "vi": "variance",
        "pval": "p-value",
    }
)


def bound_problem(key: str, value: float) -> str | None:
    """What is wrong with ``value`` in canonical column ``key``, or None (also for columns
    without a bound, e.g. ci_level).

    Signs and zeros are the schema's rules (a size must be above 0, an SD positive); this
    only says when a number is too large or too small in magnitude to compute with."""
    size = abs(value)
    if COMMON_RANGE[0] <= size <= COMMON_RANGE[1] or value == 0:
        return None
    kind = KIND.get(key)
    if kind == "count":
        return f"must be at most {COUNT_MAX:g}" if value > COUNT_MAX else None
    if kind in ("scale", "variance") and value <= 0:
        return None  # the schema says it must be positive
    if kind in ("real", "scale", "variance"):
        low, high = {"real": REAL_RANGE, "scale": SCALE_RANGE, "variance": VARIANCE_RANGE}[kind]
        if size > high:
            return f"too large to compute with (at most {high:g} in size)"
        if 0 < size < low:
            floor = f"0, or at least {low:g} in size" if kind == "real" else f"at least {low:g}"
            return f"too small to compute with ({floor})"
        return None
    if kind == "p-value" and 0 < value < P_MIN:
        return f"too small to compute with (at least {P_MIN:g})"
    return None


def effect_problem(yi: float, vi: float) -> str | None:
    """Why a computed effect (yi, vi) cannot be pooled safely, or None."""
    low, high = EFFECT_VARIANCE_RANGE
    if not abs(yi) <= EFFECT_MAX:
        return f"its effect ({yi:.3g}) is too large to pool (at most {EFFECT_MAX:g} in size)"
    if not low <= vi <= high:
        return f"its effect's variance ({vi:.3g}) is outside what can be pooled ({low:g} to {high:g})"
    return None
