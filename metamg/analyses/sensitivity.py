"""Is the result robust? Leave-one-out and cumulative meta-analysis (metafor's leave1out, cumul).

Each refit uses the options of the analysis it starts from (method, CI, level, ...).
"""
from __future__ import annotations

from dataclasses import dataclass

from metamg.analyses.pool import PoolAnalysis

ROW_KEYS = ("estimate", "se", "statistic", "p", "ci_low", "ci_high", "tau2", "I2", "H2", "Q", "Q_p")


@dataclass(frozen=True)
class Refit:
    """One refit: the study left out (leave-one-out) or added at this step (cumulative)."""

    study: str
    analysis: PoolAnalysis

    def to_dict(self) -> dict:
        d = self.analysis.result.to_dict()
        return {"study": self.study, **{k: d.get(k) for k in ROW_KEYS}}


@dataclass(frozen=True)
class Cumulative:
    order: str
    rows: tuple[Refit, ...]

    def to_dict(self) -> dict:
        return {"order": self.order, "rows": [r.to_dict() for r in self.rows]}


def leave_one_out(analysis: PoolAnalysis) -> tuple[Refit, ...]:
    """The pooled result without each study in turn."""
    k = analysis.effects.k
    return tuple(Refit(s, analysis.refit([j for j in range(k) if j != i]))
                 for i, s in enumerate(analysis.effects.studies))


def cumulative(analysis: PoolAnalysis) -> Cumulative:
    """Studies added one at a time, by the ``year`` column when there is one (ties keep the
    data order, as R's order()), else in data order."""
    es = analysis.effects
    years = {c.lower(): c for c in es.extra}.get("year")
    order = list(range(es.k))
    label = "data order"
    if years is not None:
        values = es.extra[years]
        try:
            keys = [float(v) for v in values]
        except ValueError:
            keys = None
        if keys is not None:
            order.sort(key=lambda i: keys[i])  # stable: ties keep data order
            label = "year (ties keep data order)"
    rows = tuple(Refit(es.studies[i], analysis.refit(order[:n + 1])) for n, i in enumerate(order))
    return Cumulative(label, rows)
