"""Normal, t and chi-square tails and quantiles.

Temporary scipy.special backing; to be replaced by a fast-importing implementation.
"""
from __future__ import annotations

import math
from statistics import NormalDist

_STD_NORMAL = NormalDist()


def norm_sf(x: float) -> float:
    return 0.5 * math.erfc(x / math.sqrt(2))


def norm_ppf(p: float) -> float:
    return _STD_NORMAL.inv_cdf(p)


def t_sf(x: float, df: float) -> float:
    from scipy import special
    return float(special.stdtr(df, -x))


def t_ppf(p: float, df: float) -> float:
    from scipy import special
    return float(special.stdtrit(df, p))


def chi2_sf(x: float, df: float) -> float:
    from scipy import special
    return float(special.chdtrc(df, x))


def chi2_ppf(p: float, df: float) -> float:
    from scipy import special
    return float(special.chdtri(df, 1 - p))
