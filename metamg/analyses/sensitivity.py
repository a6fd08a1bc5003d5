"""Is the result robust? Leave-one-out and cumulative meta-analysis (metafor's leave1out, cumul).

Each refit uses the options of the analysis it starts from (method, CI, level, ...). For
inverse-variance models all refits are computed together (``models.deletion``: the numbers
``fit`` gives each subset, at numpy's speed); a refit's full ``PoolAnalysis`` (with its
Q-profile interval, rules and warnings) is built only when someone asks for ``Refit.analysis``.
Mantel-Haenszel and Peto models refit one subset at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from metamg.analyses.pool import PoolAnalysis
from metamg.models.deletion import FitNumbers, SubsetFits, cumulative_fits, leave_one_out_fits
from metamg.models.display import frame, html_table, interval, num, one_line, p_value, pct
from metamg.models.profiles import PROFILES
from metamg.models.results import PoolResult, _num

ROW_KEYS = ("estimate", "se", "statistic", "p", "ci_low", "ci_high", "tau2", "I2", "H2", "Q", "Q_p")
# ROW_KEYS as SubsetFits names them (PoolResult's field names)
_FIELDS = dict(
    zip(
        ROW_KEYS,
        ("estimate", "se", "statistic", "p", "ci_low", "ci_high", "tau2", "i2", "h2", "q", "q_p"),
        strict=True,
    )
)


@dataclass(frozen=True)
class Refit:
    """One refit: the study left out (leave-one-out) or added at this step (cumulative).

    ``Refit(study, analysis)`` wraps a finished analysis; leave_one_out and cumulative make
    refits that hold their numbers (``fits``, entry ``position``) and the analysis they derive
    from, and build ``analysis`` (the subset pooled as ``pool`` would) on first use."""

    study: str
    given: PoolAnalysis | None = field(default=None, repr=False)
    source: PoolAnalysis | None = field(default=None, repr=False, compare=False)
    fits: SubsetFits | None = field(default=None, repr=False, compare=False)
    position: int = 0
    # cumulative: the order studies are added in (one tuple shared by every step; the refit keeps
    # its first position + 1); None for leave-one-out (the refit keeps all but position)
    order: tuple[int, ...] | None = field(default=None, repr=False, compare=False)

    @cached_property
    def analysis(self) -> PoolAnalysis:
        if self.given is not None:
            return self.given
        assert self.source is not None
        k = self.source.effects.k
        indices = (
            [j for j in range(k) if j != self.position]
            if self.order is None
            else list(self.order[: self.position + 1])
        )
        return self.source.refit(indices)

    @property
    def _parent(self) -> PoolAnalysis:
        """The analysis whose measure and level the refit shares (no refit needed)."""
        parent = self.given if self.given is not None else self.source
        assert parent is not None
        return parent

    @cached_property
    def result(self) -> PoolResult | FitNumbers:
        """The refit's pooled numbers (PoolResult's field names), without pooling the subset
        again when leave_one_out or cumulative computed them together."""
        if self.fits is not None:
            return self.fits.result(self.position)
        return self.analysis.result

    def number(self, name: str):
        """A number of the refit by PoolResult's field name (estimate, ci_low, tau2, i2, k, ...)."""
        if self.fits is not None:
            return getattr(self.fits, name)[self.position].item()
        return getattr(self.analysis.result, name)

    def to_dict(self) -> dict:
        if self.fits is not None:
            return {"study": self.study, **{k: _num(self.number(f)) for k, f in _FIELDS.items()}}
        d = self.analysis.result.to_dict()
        return {"study": self.study, **{k: d.get(k) for k in ROW_KEYS}}

    def __repr__(self) -> str:
        return one_line(f"Refit({self.study!r}: {self.analysis!r})")

    def _repr_html_(self) -> str:
        return html_table(_refit_header((self,), "study"), [self.table_row()], "One refit")

    def table_row(self) -> tuple[str, ...]:
        """The refit as a row of text cells: study, effect and CI (natural scale), p, tau², I²."""
        nat, n = self._parent.natural, self.number
        return (
            self.study,
            num(n("k")),
            num(nat(n("estimate")), 3),
            interval(nat(n("ci_low")), nat(n("ci_high")), 3),
            p_value(n("p")),
            num(n("tau2"), 3),
            pct(n("i2")),
        )


def _refit_header(refits, first: str) -> tuple[str, ...]:
    r = refits[0]._parent if refits else None
    effect = r.measure.name if r else "estimate"
    return (first, "k", effect, f"{r.result.level:.0%} CI" if r else "CI", "p", "tau²", "I²")


def _estimate_range(refits) -> str:
    """The natural-scale estimates of ``refits``, lowest to highest."""
    if not refits:
        return "no refits"
    a = refits[0]._parent
    est = [a.natural(x.number("estimate")) for x in refits]
    est = [e for e in est if e is not None]
    return f"{a.measure.name} {num(min(est), 3)} to {num(max(est), 3)}" if est else "no estimates"


class LeaveOneOut(tuple):
    """The refits without each study in turn (a tuple of Refit, as before), shown as a table.
    ``fits``: all refits' numbers as arrays (None when each was pooled on its own)."""

    fits: SubsetFits | None = None

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
        a = self.rows[0]._parent
        first_est, last_est = (num(a.natural(x.number("estimate")), 3) for x in (self.rows[0], self.rows[-1]))
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
    es = analysis.effects
    fits = _subset_fits(analysis, leave_one_out_fits, es.yi, es.vi) if es.k > 1 else None
    if fits is None:
        out = LeaveOneOut(
            Refit(s, analysis.refit([j for j in range(es.k) if j != i])) for i, s in enumerate(es.studies)
        )
    else:
        out = LeaveOneOut(Refit(s, None, analysis, fits, i) for i, s in enumerate(es.studies))
    out.fits = fits
    return out


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
    fits = _subset_fits(analysis, cumulative_fits, es.yi[order], es.vi[order])
    if fits is None:
        rows = tuple(Refit(es.studies[i], analysis.refit(order[: n + 1])) for n, i in enumerate(order))
    else:
        shared = tuple(order)
        rows = tuple(Refit(es.studies[i], None, analysis, fits, n, shared) for n, i in enumerate(order))
    return Cumulative(label, rows)


def _subset_fits(analysis: PoolAnalysis, fits, yi, vi) -> SubsetFits | None:
    """All refits at once for an inverse-variance analysis; None where they need pool itself
    (Mantel-Haenszel and Peto, and a common-effect binary analysis under a profile whose
    common-effect model is Mantel-Haenszel: a subset without converted studies would be MH)."""
    r, o = analysis.result, analysis.options
    if r.model != "inverse-variance" or o.method == "MH-DL":  # MH-DL: tau² from the MH Chi²
        return None
    prof = PROFILES[analysis.profile]
    if r.method == "FE" and analysis.measure.data_type == "binary" and prof.binary_common_effect == "MH":
        return None
    return fits(yi, vi, r.method, o.ci_method or prof.ci_method, r.level, o.pi)
