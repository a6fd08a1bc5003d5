"""Trim and fill (Duval & Tweedie 2000, Biometrics 56:455-463) with the L0 estimator, as
metafor's trimfill(): the side of the missing studies comes from the sign of the slope of yi on
their standard errors (negative slope: studies missing on the right), the data are flipped so
that the missing side is the left, the k0 most extreme studies are trimmed until the L0 estimate
of k0 stops changing, and their mirror images around the trimmed estimate are filled in."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metamg.analyses.bias import model_effects
from metamg.errors import InputError, Problem
from metamg.models import PoolResult, fit
from metamg.models.display import frame, html_table, interval, level_text, num, one_line, p_is
from metamg.models.metaregression import intercept_and, meta_regression
from metamg.models.results import _num
from metamg.models.tau2 import TAU2_ESTIMATORS
from metamg.models.weights import weighted_mean
from metamg.vocabulary import COMMON_EFFECT

MAX_ITER = 100


@dataclass(frozen=True)
class TrimFill:
    k0: int
    side: str  # where the missing studies are: "left" or "right"
    filled_yi: tuple[float, ...]
    filled_vi: tuple[float, ...]
    result: PoolResult  # the model refitted with the filled studies

    def to_dict(self) -> dict:
        r = self.result
        return {
            "k0": self.k0,
            "side": self.side,
            "k_total": r.k,
            "estimate": _num(r.estimate),
            "se": _num(r.se),
            "ci_low": _num(r.ci_low),
            "ci_high": _num(r.ci_high),
            "statistic": _num(r.statistic),
            "p": _num(r.p),
            "tau2": _num(r.tau2),
            "filled": [{"yi": y, "vi": v} for y, v in zip(self.filled_yi, self.filled_vi, strict=True)],
        }

    def __repr__(self) -> str:
        r = self.result
        filled = f"{self.k0} filled on the {self.side}" if self.k0 else "no study filled"
        return one_line(
            f"TrimFill({filled}; estimate {num(r.estimate)} ({level_text(r.level)} CI {num(r.ci_low)} "
            f"to {num(r.ci_high)}), k={r.k}, analysis scale)"
        )

    def _repr_html_(self) -> str:
        r = self.result
        return html_table(
            ("filled", "side", "k", "estimate", f"{level_text(r.level)} CI", "p", "tau²"),
            [
                (
                    num(self.k0),
                    self.side,
                    num(r.k),
                    num(r.estimate),
                    interval(r.ci_low, r.ci_high),
                    p_is(r.p),
                    num(r.tau2),
                )
            ],
            "Trim and fill (analysis scale)",
            [
                f"filled study: yi = {num(y)}, vi = {num(v)}"
                for y, v in zip(self.filled_yi, self.filled_vi, strict=True)
            ],
        )

    def to_frame(self):
        """One row: the adjusted analysis (to_dict() without the filled studies)."""
        return frame([{k: v for k, v in self.to_dict().items() if k != "filled"}])


def trim_and_fill(
    yi,
    vi,
    method: str = "REML",
    level: float = 0.95,
    source: str = "",
    ci_method: str = "wald",
    pi: str = "default",
    base: PoolResult | None = None,
) -> TrimFill:
    """Trim and fill with the model ``method`` (FE or a tau² estimator): the side from the slope
    of the Egger-type regression fitted with that same method, as metafor; the filled data are
    refitted with the analysis's CI rule ``ci_method`` (and prediction-interval rule ``pi``), and with
    no study filled the analysis's own result ``base`` is returned unchanged, when given.

    metafor 3.8's trimfill() refits the filled data with its default z test unless ``test`` is
    passed on (tests/reference/DISAGREEMENTS.md); metamg uses the analysis's own rule, which is
    metafor's trimfill(res, test=res$test)."""
    yi, vi = np.asarray(yi, float), np.asarray(vi, float)
    k = len(yi)
    try:
        slope = (
            meta_regression(yi, vi, intercept_and(np.sqrt(vi)), ["intrcpt", "sei"], method=method)
            .coefficient("sei")
            .estimate
        )
    except ValueError:
        raise InputError(
            [
                Problem(
                    source or "trim and fill",
                    f"trim and fill needs more studies to choose the side ({k} given)",
                )
            ]
        ) from None
    side = "right" if slope < 0 else "left"
    y = -yi if side == "right" else yi.copy()
    order = np.argsort(y, kind="stable")
    y, v = y[order], vi[order]
    k0, previous, beta = 0, -1, 0.0
    for _ in range(MAX_ITER):
        if k0 == previous:
            break
        previous = k0
        if k - k0 < 1:
            raise InputError(
                [
                    Problem(
                        source or "trim and fill",
                        "trim and fill stopped: the L0 estimator trimmed every study",
                    )
                ]
            )
        beta = _estimate(y[: k - k0], v[: k - k0], method)
        centred = y - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)  # ties: first
        s_r = float(np.sum(ranks[centred > 0]))
        k0 = max(0, int(round((4 * s_r - k * (k + 1)) / (2 * k - 1))))
    if k0 == 0 and base is not None:
        return TrimFill(0, side, (), (), base)
    filled_y = 2 * beta - y[k - k0 :] if k0 else np.empty(0)
    filled_v = v[k - k0 :] if k0 else np.empty(0)
    if side == "right":
        filled_y = -filled_y
    result = fit(
        np.concatenate([yi, filled_y]),
        np.concatenate([vi, filled_v]),
        method=method,
        ci_method=ci_method,
        level=level,
        pi=pi,
        tau2_ci=False,
    )
    return TrimFill(k0, side, tuple(float(x) for x in filled_y), tuple(float(x) for x in filled_v), result)


def _estimate(yi: np.ndarray, vi: np.ndarray, method: str) -> float:
    """The pooled estimate ``fit(yi, vi, method).estimate`` gives (the same tau² and weights),
    without the rest of a fit (test, Q, I², intervals, notes): the L0 iterations need only it."""
    method = method.upper()
    if method in COMMON_EFFECT:
        method = "FE"
    if method != "FE" and method not in TAU2_ESTIMATORS:
        raise ValueError(f"unknown method {method!r}")
    tau2 = 0.0 if method == "FE" or len(yi) == 1 else TAU2_ESTIMATORS[method](yi, vi)
    return weighted_mean(yi, 1.0 / (vi + tau2))[0]


def trim_and_fill_for(analysis) -> TrimFill:
    """Trim and fill on an analysis's effects with its model and CI rule. Mantel-Haenszel and
    Peto analyses have no inverse-variance form: the effects their models keep (model_effects,
    as the other small-study tests) are trimmed and filled with the common-effect model and Wald
    intervals (metafor's trimfill() takes rma.uni models only)."""
    r, es = analysis.result, analysis.effects
    if r.model == "inverse-variance":
        return trim_and_fill(
            es.yi, es.vi, r.method, r.level, es.source, ci_method=r.ci_method, pi=analysis.options.pi, base=r
        )
    yi, vi = model_effects(analysis)
    return trim_and_fill(yi, vi, "FE", r.level, es.source)
