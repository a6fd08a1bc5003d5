"""Number formatting shared by text output, tables and reports."""

from __future__ import annotations

import math

import numpy as np

from metamg.models.display import level_text


def fmt_pvalue(p: float | None) -> str:
    """A p-value for a table column: '< 0.0001', '0.0004', '0.012'."""
    if p is None or not math.isfinite(p):
        return "n/a"
    if p < 0.0001:
        return "< 0.0001"
    return f"{p:.4f}" if p < 0.001 else f"{p:.3f}"


def fmt_p(p: float | None) -> str:
    """A p-value in a sentence: 'p < 0.0001', 'p = 0.012'."""
    text = fmt_pvalue(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def fmt_num(x: float | None, digits: int = 2) -> str:
    """Fixed decimals for ordinary magnitudes, significant digits for tiny or huge ones."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if x != 0 and abs(x) < 10**-digits:  # tiny tau²: two significant digits, never 1e-05
        return np.format_float_positional(x, precision=2, unique=False, fractional=False, trim="-")
    if abs(x) >= 1e6:
        return f"{x:.{digits + 1}g}"
    return f"{x:.{digits}f}"


def fmt_fixed(x: float | None, digits: int = 2) -> str:
    """Effect sizes: always the same number of decimals, so columns line up ("-0.00", "0.19")."""
    if x is None or not math.isfinite(x):
        return "n/a"
    return f"{x:.{digits}f}"


def fmt_ci(low, high, digits: int = 2) -> str:
    return f"{fmt_fixed(low, digits)} to {fmt_fixed(high, digits)}"


def effect_digits(measure) -> int:
    """Decimals for effects in figures, reports and tables: 3 where effects are small fractions
    (risk differences, proportions, correlations), otherwise 2."""
    return 3 if measure.name in ("RD", "PR", "COR") else 2


def level_label(level: float) -> str:
    """A confidence level as readers see it: 0.95 -> '95%', 0.9 -> '90%', 0.995 -> '99.5%'."""
    return level_text(level)


def studies(n: int) -> str:
    """'1 study', '16 studies', '200,000 studies'."""
    return f"{n:,} stud{'y' if n == 1 else 'ies'}"


def fmt_percent(x: float) -> str:
    """A share in percent: whole numbers, but two significant digits below 1% (never '0%' for
    a share that is not zero)."""
    return f"{x:.2g}%" if 0 < x < 1 else f"{x:.0f}%"


def fmt_probability(p: float) -> str:
    """A probability in percent: whole numbers, one decimal within 1% of 0 or 1, and never a
    flat 0% or 100% for what is only nearly certain."""
    if p < 0.001:
        return "<0.1%" if p > 0 else "0%"
    if p > 0.999:
        return ">99.9%" if p < 1 else "100%"
    if p < 0.01 or p > 0.99:
        return f"{100 * p:.1f}%"
    return f"{100 * p:.0f}%"
