"""The sections of a journal-club report, one module each, in reading order. Each takes the
appraisal (everything computed) and the report's context (where it is written, which figures
were drawn) and returns markdown lines; a section with nothing to show returns none."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ReportContext:
    """Where a report is written and what was drawn for it."""

    csv_path: str
    outdir: str
    figures: dict = field(default_factory=dict)  # kind -> file name, for the figures drawn
    figure_notes: dict = field(default_factory=dict)  # kind -> why a figure was not drawn
    studies_csv: str | None = None  # the per-study table, when too long for markdown
