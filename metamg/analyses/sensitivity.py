"""Is the result robust? Leave-one-out and cumulative meta-analysis (metafor's leave1out, cumul).

Each refit uses the options of the analysis it starts from (method, CI, level, ...).
"""

from __future__ import annotations

from dataclasses import dataclass

from metamg.analyses.pool import PoolAnalysis
from metamg.models.display import frame, html_table, interval, num, one_line, p_value, pct

ROW_KEYS = ("estimate", "se", "statistic", "p", "ci_low", "ci_high", "tau2", "I2", "H2", "Q", "Q_p")


@dataclass(frozen=True)
class Refit:
    """One refit: the study left out (leave-one-out) or added at this step (cumulative)."""

    study: str
    analysis: PoolAnalysis

    def to_dict(self) -> dict:
        d = self.analysis.result.to_dict()
        return {"study": self.study, **{k: d.get(k) for k in ROW_KEYS}}

    def __repr__(self) -> str:
        return one_line(f"Refit({self.study!r}: {self.analysis!r})")

    def _repr_html_(self) -> str:
        return html_table(_refit_header((self,), "study"), [self.table_row()], "One refit")

    def table_row(self) -> tuple[str, ...]:
        """The refit as a row of text cells: study, effect and CI (natural scale), p, tau², I²."""
        a = self.analysis
        r, nat = a.result, a.natural
        return (
            self.study,
            num(r.k),
            num(nat(r.estimate), 3),
            interval(nat(r.ci_low), nat(r.ci_high), 3),
            p_value(r.p),
            num(r.tau2, 3),
            pct(r.i2),
        )


def _refit_header(refits, first: str) -> tuple[str, ...]:
    r = refits[0].analysis if refits else None
    effect = r.measure.name if r else "estimate"
    return (first, "k", effect, f"{r.result.level:.0%} CI" if r else "CI", "p", "tau²", "I²")


def _estimate_range(refits) -> str:
    """The natural-scale estimates of ``refits``, lowest to highest."""
    if not refits:
        return "no refits"
    a = refits[0].analysis
    est = [a.natural(x.analysis.result.estimate) for x in refits]
    est = [e for e in est if e is not None]
    return f"{a.measure.name} {num(min(est), 3)} to {num(max(est), 3)}" if est else "no estimates"


class LeaveOneOut(tuple):
    """The refits without each study in turn (a tuple of Refit, as before), shown as a table."""

    def to_dict(self) -> dict:
        return {"rows": [r.to_dict() for r in self]}

    def __repr__(self) -> str:
        return one_line(f"LeaveOneOut({len(self)} refits: {_estimate_range(self)} without one study)")

    def _repr_html_(self) -> str:
        return html_table(
            _refit_header(self, "left out"),
            [r.table_row() for r in self],
            "Leave-one-out: the pooled result without each study",
        )

    def to_frame(self):
        """One row per study left out: to_dict()'s numbers (analysis scale)."""
        return frame(self.to_dict()["rows"], columns=("study",) + ROW_KEYS)


@dataclass(frozen=True)
class Cumulative:
    order: str
    rows: tuple[Refit, ...]

    def to_dict(self) -> dict:
        return {"order": self.order, "rows": [r.to_dict() for r in self.rows]}

    def __repr__(self) -> str:
        if not self.rows:
            return "Cumulative(no studies)"
        a, last = self.rows[0].analysis, self.rows[-1].analysis
        first_est, last_est = (num(x.natural(x.result.estimate), 3) for x in (a, last))
        return one_line(
            f"Cumulative(by {self.order}, {len(self.rows)} steps: {a.measure.name} "
            f"{first_est} after the first study, {last_est} after all)"
        )

    def _repr_html_(self) -> str:
        return html_table(
            _refit_header(self.rows, "study added"),
            [r.table_row() for r in self.rows],
            f"Cumulative meta-analysis, studies added by {self.order}",
        )

    def to_frame(self):
        """One row per step, named by the study added: to_dict()'s numbers (analysis scale)."""
        return frame(self.to_dict()["rows"], columns=("study",) + ROW_KEYS)


def leave_one_out(analysis: PoolAnalysis) -> LeaveOneOut:
    """The pooled result without each study in turn."""
    k = analysis.effects.k
    return LeaveOneOut(
        Refit(s, analysis.refit([j for j in range(k) if j != i]))
        for i, s in enumerate(analysis.effects.studies)
    )


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
    rows = tuple(Refit(es.studies[i], analysis.refit(order[: n + 1])) for n, i in enumerate(order))
    return Cumulative(label, rows)
