"""Methods (every rule the numbers used, with references) and reproducibility (the inputs'
SHA-256, the software, the command that re-creates the report)."""

from __future__ import annotations

import os
import platform

from metamg.io.metadata import metadata_path
from metamg.render.evidence import CLAIM_RULES
from metamg.render.grade_text import RULES_TEXT
from metamg.render.markdown import md_text
from metamg.render.notes_text import note_text, notes_text
from metamg.render.numbers import level_label
from metamg.render.sections import ReportContext
from metamg.render.text import model_words


def section(ap, ctx: ReportContext) -> list[str]:
    out = ["", "## Methods", "", methods_text(ap, bool(ap.claims)), "", RULES_TEXT, ""]
    out += ["## Reproducibility", ""]
    for f, digest in _inputs(ap, ctx.csv_path):
        out.append(f"- `{_code(_display(f))}` SHA-256 `{digest}`")
    out.append(f"- Software: {software_line()}")
    out.append(f"- Re-create: `{_code(_recreate(ap, ctx.csv_path, ctx.outdir))}`")
    return out


def software_line() -> str:
    import matplotlib
    import numpy as np

    import metamg

    return (
        f"metamg {metamg.__version__}; numpy {np.__version__}; "
        f"matplotlib {matplotlib.__version__}; Python {platform.python_version()}"
    )


def methods_text(ap, with_claims=False) -> str:
    analysis, measure = ap.analysis, ap.effects.measure
    if analysis is None:
        text = f"Measure: {measure.label} ({measure.name}). No study could be pooled, so no model was fitted."
        return text + ("\n\n" + CLAIM_RULES if with_claims else "")
    r = analysis.result
    refs = [
        "Viechtbauer W. Conducting meta-analyses in R with the metafor package. J Stat Softw 2010;36(3)",
        "Higgins JPT, Thomas J, et al. (eds). Cochrane Handbook for Systematic Reviews of "
        "Interventions, version 6.5, 2024, chapter 10",
    ]
    if r.is_random:
        refs += [
            "Viechtbauer W. Confidence intervals for the amount of heterogeneity in "
            "meta-analysis. Stat Med 2007;26:37-52 (Q-profile)"
        ]
        if r.ci_method != "wald":
            refs += [
                "Hartung J, Knapp G. Stat Med 2001;20:3875-89; Sidik K, Jonkman JN. Stat Med "
                "2002;21:3153-59 (HKSJ)"
            ]
        refs += [
            "Higgins JPT, Thompson SG, Spiegelhalter DJ. J R Stat Soc A 2009;172:137-59 "
            "(prediction intervals)"
        ]
    rules = "; ".join(md_text(x) for x in notes_text(analysis.rules))
    text = (
        f"Effect sizes and pooling follow metafor's conventions (method profile "
        f"'{analysis.profile}'). Rules used: {rules}. Every confidence interval in this report "
        f"is a {level_label(r.level)} interval."
    )
    if ap.answer is not analysis:
        text += (
            f" The headline, summary of findings, absolute effects and claim verdicts use the "
            f"{model_words(ap.answer.result)}: {note_text(ap.answer_reason)}."
        )
    if with_claims:
        text += "\n\n" + CLAIM_RULES
    return text + "\n\nReferences:\n\n" + "\n".join(f"- {x}" for x in refs)


def _inputs(ap, csv_path):
    """The files analysed with the SHA-256 of the bytes actually read."""
    out = [(csv_path, ap.table.sha256)] if ap.table.sha256 else []
    if ap.meta.sha256:
        out.append((metadata_path(csv_path), ap.meta.sha256))
    return out


def _code(text: str) -> str:
    """Text inside a code span: a backtick would end it early."""
    return text.replace("`", "'")


def _recreate(ap, csv_path, outdir) -> str:
    o = ap.options
    cmd = f"metamg report {_display(csv_path)} -o {_display(outdir)}"
    if o.level != 0.95:
        cmd += f" --level {o.level:g}"
    if o.exclude_status:
        cmd += f" --exclude-status {','.join(o.exclude_status)}"
    return cmd


def _display(path) -> str:
    rel = os.path.relpath(os.fspath(path))
    return rel if not rel.startswith("..") else os.fspath(path)
