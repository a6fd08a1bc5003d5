"""Effect-size measures as metafor's ``escalc`` defines them (Viechtbauer 2010, J Stat Softw 36(3)).

Each function takes the validated columns (NumPy arrays) and returns (yi, vi).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from types import MappingProxyType
from typing import TYPE_CHECKING, cast

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    Column = NDArray[np.float64]  # one value per study
    Effects = tuple[Column, Column]  # (yi, vi)


def log_odds_ratio(ai: Column, n1i: Column, ci: Column, n2i: Column) -> Effects:
    """log OR and its large-sample variance 1/a + 1/b + 1/c + 1/d (Woolf 1955)."""
    bi, di = n1i - ai, n2i - ci
    return np.log(ai * di / (bi * ci)), 1 / ai + 1 / bi + 1 / ci + 1 / di


def log_risk_ratio(ai: Column, n1i: Column, ci: Column, n2i: Column) -> Effects:
    """log RR with variance 1/a - 1/n1 + 1/c - 1/n2 (Katz et al. 1978)."""
    return np.log((ai / n1i) / (ci / n2i)), 1 / ai - 1 / n1i + 1 / ci - 1 / n2i


def risk_difference(ai: Column, n1i: Column, ci: Column, n2i: Column) -> Effects:
    """Risk difference with the unpooled binomial variance p1(1-p1)/n1 + p2(1-p2)/n2."""
    p1, p2 = ai / n1i, ci / n2i
    return p1 - p2, p1 * (1 - p1) / n1i + p2 * (1 - p2) / n2i


def mean_difference(
    m1i: Column, sd1i: Column, n1i: Column, m2i: Column, sd2i: Column, n2i: Column
) -> Effects:
    """Raw mean difference with the unequal-variances variance sd1²/n1 + sd2²/n2 (escalc vtype="LS")."""
    return m1i - m2i, sd1i**2 / n1i + sd2i**2 / n2i


def hedges_correction(m: ArrayLike) -> Column:
    """Exact small-sample correction c(m) = Γ(m/2) / (√(m/2) Γ((m-1)/2)) (Hedges 1981, eq. 6e)."""
    m = np.asarray(m, dtype=float)
    lg = np.frompyfunc(math.lgamma, 1, 1)
    # numpy types a frompyfunc ufunc's result as a scalar or Any; on an array it is an object array
    log_ratio = cast("NDArray[np.object_]", lg(m / 2) - lg((m - 1) / 2))
    c: Column = np.exp(log_ratio.astype(float) - 0.5 * np.log(m / 2))
    return c


def standardized_mean_difference(
    m1i: Column, sd1i: Column, n1i: Column, m2i: Column, sd2i: Column, n2i: Column
) -> Effects:
    """Hedges' g with the exact bias correction and the large-sample variance
    1/n1 + 1/n2 + g²/(2(n1+n2)) (Hedges 1981; escalc measure="SMD", vtype="LS")."""
    m = n1i + n2i - 2
    sdp = np.sqrt(((n1i - 1) * sd1i**2 + (n2i - 1) * sd2i**2) / m)
    g = hedges_correction(m) * (m1i - m2i) / sdp
    return g, 1 / n1i + 1 / n2i + g**2 / (2 * (n1i + n2i))


def log_ratio_of_means(
    m1i: Column, sd1i: Column, n1i: Column, m2i: Column, sd2i: Column, n2i: Column
) -> Effects:
    """log response ratio with the delta-method variance sd1²/(n1 m1²) + sd2²/(n2 m2²)
    (Hedges, Gurevitch & Curtis 1999, eq. 9)."""
    return np.log(m1i / m2i), sd1i**2 / (n1i * m1i**2) + sd2i**2 / (n2i * m2i**2)


def fisher_z(ri: Column, ni: Column) -> Effects:
    """Fisher's r-to-z transformation with variance 1/(n-3) (Fisher 1921)."""
    return np.arctanh(ri), 1 / (ni - 3)


def raw_correlation(ri: Column, ni: Column) -> Effects:
    """Raw correlation with the large-sample variance (1-r²)²/(n-1) (escalc measure="COR")."""
    return ri.copy(), (1 - ri**2) ** 2 / (ni - 1)


def logit_proportion(xi: Column, ni: Column) -> Effects:
    """Logit of a proportion with variance 1/x + 1/(n-x)."""
    return np.log(xi / (ni - xi)), 1 / xi + 1 / (ni - xi)


def raw_proportion(xi: Column, ni: Column) -> Effects:
    """Raw proportion with the binomial variance p(1-p)/n."""
    p = xi / ni
    return p, p * (1 - p) / ni


def peto_log_hazard_ratio(oe: Column, voe: Column) -> Effects:
    """log HR = (O - E)/V with variance 1/V from a study's observed minus expected events and
    their log-rank variance V (Peto's method; Yusuf et al. 1985, Prog Cardiovasc Dis 27:335-371;
    Deeks & Higgins 2010, RevMan 5's "O-E and variance" data)."""
    return oe / voe, 1 / voe


def generic(yi: Column, vi: Column) -> Effects:
    """Precomputed effects: yi and vi as given (escalc measure="GEN")."""
    return yi.copy(), vi.copy()


@dataclass(frozen=True)
class Measure:
    name: str
    data_type: str
    scale: str  # analysis scale: "log", "logit", "z" or "identity"
    label: str
    compute: Callable[..., Effects]  # the columns named in args, in that order -> (yi, vi)
    args: tuple[str, ...]
    shown_as: str = ""  # what readers see after back-transformation, when not the name itself

    @property
    def natural_name(self) -> str:
        return self.shown_as or self.name

    @property
    def is_ratio(self) -> bool:
        return self.scale == "log"

    def to_natural(self, x: ArrayLike) -> Column:
        """Back-transform from the analysis scale to the scale readers think in. A log ratio
        beyond about ±709 is a ratio of 0 or infinity, said so without a numpy warning."""
        a: Column = np.asarray(x, dtype=float)
        if self.scale == "log":
            with np.errstate(over="ignore"):
                return np.exp(a)
        if self.scale == "logit":
            with np.errstate(over="ignore"):
                return 1 / (1 + np.exp(-a))
        if self.scale == "z":
            return np.tanh(a)
        return a


_BIN = ("ai", "n1i", "ci", "n2i")
_CONT = ("m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i")
MEASURES = MappingProxyType(
    {
        m.name: m
        for m in (
            Measure("OR", "binary", "log", "odds ratio", log_odds_ratio, _BIN),
            Measure("RR", "binary", "log", "risk ratio", log_risk_ratio, _BIN),
            Measure("RD", "binary", "identity", "risk difference", risk_difference, _BIN),
            Measure("MD", "continuous", "identity", "mean difference", mean_difference, _CONT),
            Measure(
                "SMD",
                "continuous",
                "identity",
                "standardised mean difference (Hedges' g)",
                standardized_mean_difference,
                _CONT,
            ),
            Measure("ROM", "continuous", "log", "ratio of means", log_ratio_of_means, _CONT),
            Measure("ZCOR", "correlation", "z", "correlation (Fisher's z)", fisher_z, ("ri", "ni"), "r"),
            Measure("COR", "correlation", "identity", "correlation", raw_correlation, ("ri", "ni")),
            Measure(
                "PLO",
                "proportion",
                "logit",
                "proportion (logit)",
                logit_proportion,
                ("xi", "ni"),
                "proportion",
            ),
            Measure("PR", "proportion", "identity", "proportion", raw_proportion, ("xi", "ni")),
            Measure("GEN", "generic", "identity", "effect as given", generic, ("yi", "vi")),
            Measure(
                "HR",
                "oe",
                "log",
                "hazard ratio (Peto, from O-E and variance)",
                peto_log_hazard_ratio,
                ("oe", "voe"),
            ),
        )
    }
)

# Used when no measure is named: RevMan's defaults for binary and continuous data.
DEFAULT_MEASURE = MappingProxyType(
    {
        "binary": "RR",
        "continuous": "MD",
        "correlation": "ZCOR",
        "proportion": "PLO",
        "generic": "GEN",
        "oe": "HR",
    }
)
