"""About the study set: the defaults used, the set's own notes, and what was left out on request
(the title and the question open the report, in "At a glance")."""

from __future__ import annotations

import os

from metamg.io.metadata import metadata_path, unfilled
from metamg.render.markdown import md_paragraphs, md_text
from metamg.render.numbers import studies
from metamg.render.sections import ReportContext

SHOWN_DEFAULTS = ("measure", "profile", "subgroup", "benefit")


def section(ap, ctx: ReportContext) -> list[str]:
    meta, effects = ap.meta, ap.effects
    out = ["## About this study set", ""]  # the title and the question open "At a glance"
    used = [f"{k} = {_default_value(meta, effects.measure, k)}" for k in meta.defaults if k in SHOWN_DEFAULTS]
    if used:
        out += [
            (
                "*No metadata file; defaults used: "
                if not os.path.exists(metadata_path(ctx.csv_path))
                else "*Defaults used (not set in the metadata): "
            )
            + "; ".join(used)
            + ".*",
            "",
        ]
    for paragraph in md_paragraphs(meta.notes):
        out += [paragraph, ""]
    by_status = excluded_by_status(ap)
    if by_status:
        out += [
            f"*This report leaves out {studies(len(by_status))} by evidence status "
            f"({md_text(', '.join(ap.options.exclude_status))}), as asked (--exclude-status).*",
            "",
        ]
    return out if len(out) > 2 else []


def excluded_by_status(ap) -> list:
    """The candidate studies the --exclude-status option set aside."""
    return [e for e in ap.effects.excluded if e.reason.rule == "excluded.evidence_status"]


def question_text(meta) -> str:
    """The PICO question as the metadata states it; blank keys and template placeholders are
    left out rather than shown as if they were the question."""
    missing = unfilled(meta)
    parts = [
        ("Population", "population"),
        ("intervention", "intervention"),
        ("comparator", "comparator"),
        ("outcome", "outcome"),
    ]
    given = [f"{label}: {getattr(meta, key)}" for label, key in parts if key not in missing]
    return "; ".join(given) + "." if given else "not stated in the metadata."


def _default_value(meta, measure, key) -> str:
    return {
        "measure": measure.name,
        "profile": meta.profile,
        "subgroup": "none",
        "benefit": "lower values favour the intervention",
    }[key]
