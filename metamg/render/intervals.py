"""Which intervals a reader is shown, and with what caveat: one rule for the text, the reports
and the forest plot.

- A prediction interval from fewer than 3 studies is not shown as informative: metafor's t with
  k - 1 = 1 degree of freedom (or no df at all for the Higgins et al. rule) makes it span almost
  any effect, which says only that two studies cannot estimate the spread of true effects.
- When the Hartung-Knapp factor is below 1 the HKSJ interval is narrower than the Wald interval
  of the same model (Roever, Knapp & Friede 2015, BMC Med Res Methodol 15:99; Cochrane Handbook
  6.5, chapter 10): the ad hoc corrected interval (metafor's test="adhoc") is shown beside it.
"""

from __future__ import annotations

import math

MIN_K_PREDICTION = 3


def prediction_shown(r) -> bool:
    """A random-effects result whose prediction interval is shown as informative."""
    return bool(r.is_random and r.k >= MIN_K_PREDICTION and r.pi_low is not None and math.isfinite(r.pi_low))


def prediction_withheld(r) -> bool:
    """A random-effects result whose prediction interval is not shown: too few studies."""
    return bool(r.is_random and 1 < r.k < MIN_K_PREDICTION)


PREDICTION_WITHHELD = (
    "not informative with fewer than 3 studies (two studies cannot estimate how much true "
    "effects vary; its t distribution with 1 degree of freedom spans almost any effect)"
)


def adhoc_caveat(r) -> str:
    """Why the ad hoc corrected interval is shown beside the HKSJ one."""
    return (
        f"Knapp-Hartung factor {r.hk_scale:.2f} < 1: the HKSJ interval is narrower than the Wald "
        'interval of the same model; corrected as metafor\'s test="adhoc"'
    )
