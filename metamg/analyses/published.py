"""An imported review's own result beside metamg's re-analysis: what the review published (its
``[published]`` table, RevMan's stored totals) and whether the conclusion changes with current
methods: the confidence interval now including or excluding no effect, a prediction interval
that includes it."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from metamg.analyses.pool import PoolAnalysis
from metamg.io.metadata import Published


@dataclass(frozen=True)
class PublishedComparison:
    """The review's stored result and the re-analysis, both on the natural scale (ratios as
    ratios), with the null each is judged against."""

    measure: str
    method: str  # RevMan's: MH, IV, PETO
    model: str  # RevMan's: fixed or random
    published: tuple[float, float, float]  # effect, CI lower, CI upper as stored
    reanalysed: tuple[float, float, float]
    null: float
    published_excludes_null: bool
    reanalysed_excludes_null: bool
    prediction: tuple[float, float] | None  # the re-analysis's prediction interval, when given

    @property
    def conclusion_changes(self) -> bool:
        return self.published_excludes_null != self.reanalysed_excludes_null

    @property
    def prediction_includes_null(self) -> bool:
        return self.prediction is not None and self.prediction[0] < self.null < self.prediction[1]

    def to_dict(self) -> dict:
        return {
            **asdict(self),
            "conclusion_changes": self.conclusion_changes,
            "prediction_includes_null": self.prediction_includes_null,
        }

    def __repr__(self) -> str:
        return (
            f"<PublishedComparison {self.measure}: published {self.published[0]:.4g}, "
            f"re-analysed {self.reanalysed[0]:.4g}, conclusion changes: {self.conclusion_changes}>"
        )


def compare_published(
    published: Published | None, analysis: PoolAnalysis | None
) -> PublishedComparison | None:
    """None unless the set was imported with RevMan's stored totals and something was pooled."""
    if published is None or analysis is None:
        return None
    stored = [published.get(key) for key in ("effect", "ci_lower", "ci_upper")]
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in stored):
        return None
    r, nat = analysis.result, analysis.natural
    ratio = analysis.measure.scale == "log"
    null = 1.0 if ratio else 0.0
    effect, low, high = (float(v) for v in stored)
    again = (nat(r.estimate), nat(r.ci_low), nat(r.ci_high))
    if any(v is None for v in again):
        return None
    est, lo, hi = (float(v) for v in again if v is not None)
    pi = None
    if r.k >= 3 and r.pi_low is not None and r.pi_high is not None:
        p_lo, p_hi = nat(r.pi_low), nat(r.pi_high)
        if p_lo is not None and p_hi is not None:
            pi = (float(p_lo), float(p_hi))
    return PublishedComparison(
        measure=analysis.measure.name,
        method=str(published.get("method", "")),
        model=str(published.get("model", "")),
        published=(effect, low, high),
        reanalysed=(est, lo, hi),
        null=null,
        published_excludes_null=not (low <= null <= high),
        reanalysed_excludes_null=not (lo <= null <= hi),
        prediction=pi,
    )
