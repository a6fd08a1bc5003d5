"""The main analysis beside the ones restricted to verified numbers and to low risk of bias,
when they differ."""

from __future__ import annotations

from metamg.analyses.appraisal import UNVERIFIED_STATUSES
from metamg.render.evidence import low_risk_section, quality_section
from metamg.render.sections import ReportContext


def section(ap, ctx: ReportContext) -> list[str]:
    if ap.analysis is None:
        return []
    out = []
    m = ap.analysis.measure
    if ap.verified is not None and ap.verified.differs:
        out += quality_section(ap.analysis, ap.verified.analysis, m, UNVERIFIED_STATUSES)
    if ap.low_risk is not None and ap.low_risk.differs:
        out += low_risk_section(ap.analysis, ap.low_risk.analysis, m)
    return out
