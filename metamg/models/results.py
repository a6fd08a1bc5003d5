"""The result of pooling: a frozen, self-describing object with a JSON-ready to_dict()."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, SupportsFloat

import numpy as np

from metamg.models.display import frame, html_table, interval, level_text, num, one_line, p_is, p_value, pct
from metamg.notes import Note

if TYPE_CHECKING:
    import pandas as pd
    from numpy.typing import NDArray


def _num(x: SupportsFloat | None) -> float | None:
    """JSON-safe number: None for missing, NaN or infinite values."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


@dataclass(frozen=True)
class PoolResult:
    """A pooled estimate on the analysis scale (log for OR/RR/ROM, logit for PLO, z for ZCOR).

    ``i2``/``h2`` are as metafor reports them: from tau² for random-effects models, from Q for
    the common-effect, Mantel-Haenszel and Peto models; ``i2_q`` is always the Q-based I².
    """

    model: str  # "inverse-variance", "mantel-haenszel" or "peto"
    method: str  # FE, DL, REML, ..., MH, PETO
    ci_method: str  # wald, hk, hk-adhoc
    level: float
    k: int
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p: float
    df: float | None  # t degrees of freedom, None for z
    q: float
    q_df: int
    q_p: float
    i2: float
    h2: float
    i2_q: float
    tau2: float | None = None
    tau: float | None = None
    tau2_ci_low: float | None = None
    tau2_ci_high: float | None = None
    i2_ci_low: float | None = None
    i2_ci_high: float | None = None
    pi_low: float | None = None
    pi_high: float | None = None
    pi_df: float | None = None
    studies: tuple[str, ...] = ()
    yi: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    vi: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))
    weights: NDArray[np.float64] = field(default_factory=lambda: np.empty(0))  # percent
    cmh: float | None = None
    cmh_p: float | None = None
    tarone: float | None = None
    tarone_p: float | None = None
    warnings: tuple[Note, ...] = ()  # what a reader must know (metamg.render.notes_text words them)
    rules: tuple[Note, ...] = ()  # every rule the numbers used
    hk_scale: float = 1.0  # Knapp-Hartung factor on se² (1 for Wald, MH and Peto)
    # the ad hoc corrected interval (metafor's test="adhoc"), when the Hartung-Knapp factor
    # is below 1 and so the HKSJ interval is narrower than the Wald interval of the same model
    ci_adhoc_low: float | None = None
    ci_adhoc_high: float | None = None

    @property
    def hk_narrowed(self) -> bool:
        """The HKSJ interval is narrower than the Wald interval of the same model."""
        return self.ci_adhoc_low is not None

    @property
    def is_random(self) -> bool:
        return self.model == "inverse-variance" and self.method != "FE"

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "k": self.k,
            "estimate": _num(self.estimate),
            "se": _num(self.se),
            "ci_low": _num(self.ci_low),
            "ci_high": _num(self.ci_high),
            "ci_adhoc_low": _num(self.ci_adhoc_low),
            "ci_adhoc_high": _num(self.ci_adhoc_high),
            "statistic": _num(self.statistic),
            "p": _num(self.p),
        }
        if self.model == "inverse-variance":
            d.update(
                {
                    "pi_low": _num(self.pi_low),
                    "pi_high": _num(self.pi_high),
                    "tau2": _num(self.tau2),
                    "tau": _num(self.tau),
                    "tau2_ci_low": _num(self.tau2_ci_low),
                    "tau2_ci_high": _num(self.tau2_ci_high),
                    "I2": _num(self.i2),
                    "I2_ci_low": _num(self.i2_ci_low),
                    "I2_ci_high": _num(self.i2_ci_high),
                    "H2": _num(self.h2),
                }
            )
        else:
            d.update({"I2": _num(self.i2), "H2": _num(self.h2)})
        d.update({"Q": _num(self.q), "Q_df": self.q_df, "Q_p": _num(self.q_p)})
        if self.cmh is not None:
            d.update(
                {
                    "cmh": _num(self.cmh),
                    "cmh_p": _num(self.cmh_p),
                    "tarone": _num(self.tarone),
                    "tarone_p": _num(self.tarone_p),
                }
            )
        d.update(
            {
                "model": self.model,
                "method": self.method,
                "ci_method": self.ci_method,
                "level": self.level,
                "df": _num(self.df),
                "pi_df": _num(self.pi_df),
                "I2_from_Q": _num(self.i2_q),
            }
        )
        if len(self.studies):
            # not strict: fit(studies=...) does not check that it has k labels, and fewer labels
            # than effects list only the labelled studies here (as before the zip was flagged)
            d["studies"] = [
                {"study": s, "yi": _num(y), "vi": _num(v), "weight": _num(w)}
                for s, y, v, w in zip(self.studies, self.yi, self.vi, self.weights, strict=True)
            ]
        d["rules"] = [r.to_dict() for r in self.rules]
        d["warnings"] = [w.to_dict() for w in self.warnings]
        return d

    def __str__(self) -> str:
        ci = f"{level_text(self.level)} CI {self.ci_low:.4g} to {self.ci_high:.4g}"
        text = f"{self.method} ({self.ci_method}), k={self.k}: {self.estimate:.4g} ({ci}), p={self.p:.3g}"
        if self.tau2 is not None:
            text += f"; tau²={self.tau2:.4g}, I²={self.i2:.1f}%"
        else:
            text += f"; I²={self.i2:.1f}%"
        return text + f"; Q={self.q:.3f} on {self.q_df} df (p={self.q_p:.3g})"

    def __repr__(self) -> str:
        """One line (the dataclass default would print every study's arrays)."""
        return f"PoolResult({one_line(self)})"

    def _summary(self) -> dict[str, object]:
        """The pooled numbers without the per-study arrays, rules and warnings."""
        return {k: v for k, v in self.to_dict().items() if k not in ("studies", "rules", "warnings")}

    def _repr_html_(self) -> str:
        test = "z" if self.df is None else f"t({self.df:g})"
        row = (
            self.method,
            self.ci_method,
            num(self.k),
            num(self.estimate),
            interval(self.ci_low, self.ci_high),
            f"{test} = {num(self.statistic)}",
            p_value(self.p),
            num(self.tau2),
            pct(self.i2),
            f"{num(self.q)} ({self.q_df} df), {p_is(self.q_p)}",
        )
        header = (
            "method",
            "CI",
            "k",
            "estimate",
            f"{level_text(self.level)} CI",
            "test",
            "p",
            "tau²",
            "I²",
            "Q",
        )
        return html_table(header, [row], "Pooled result (analysis scale)", map(str, self.warnings))

    def to_frame(self) -> pd.DataFrame:
        """One row: the pooled numbers of to_dict() (analysis scale), without the studies."""
        return frame([self._summary()])
