"""For a set imported from a Cochrane review: the review's own result beside metamg's
re-analysis, and in words whether the conclusion changes (analyses.published)."""

from __future__ import annotations

from metamg.render.numbers import effect_digits, fmt_ci, fmt_num
from metamg.render.sections import ReportContext
from metamg.render.text import model_words

REVMAN_MODELS = {"random": "random-effects", "fixed": "common-effect"}
REVMAN_METHODS = {"MH": "Mantel-Haenszel", "IV": "inverse variance", "PETO": "Peto"}


def section(ap, ctx: ReportContext) -> list[str]:
    c = ap.published
    if c is None:
        return []
    d = effect_digits(ap.analysis.measure)

    def line(values) -> str:
        est, lo, hi = values
        return f"{c.measure} {fmt_num(est, d)} (95% CI {fmt_ci(lo, hi, d)})"

    profile = ap.analysis.profile
    revman = f"{REVMAN_MODELS.get(c.model, c.model)} model, {REVMAN_METHODS.get(c.method, c.method)}"
    out = [
        "## Published in the review, and re-analysed",
        "",
        f"- **Published in the review** (RevMan, {revman}): {line(c.published)}.",
        f"- **Re-analysed by metamg** ({profile} profile: {model_words(ap.analysis.result)}): "
        f"{line(c.reanalysed)}.",
    ]
    null = fmt_num(c.null, 0)
    if c.conclusion_changes and c.published_excludes_null:
        out.append(
            f"- **The conclusion changes:** the review's interval excluded no effect ({c.measure} {null}); "
            "the re-analysed interval includes it, so the review's finding of an effect does not "
            "survive current methods."
        )
    elif c.conclusion_changes:
        out.append(
            f"- **The conclusion changes:** the review's interval included no effect ({c.measure} {null}); "
            "the re-analysed interval excludes it."
        )
    else:
        both = "exclude" if c.reanalysed_excludes_null else "include"
        out.append(f"- The conclusion does not change: both intervals {both} no effect ({c.measure} {null}).")
    if c.prediction is not None and c.prediction_includes_null and c.reanalysed_excludes_null:
        out.append(
            f"- The prediction interval ({fmt_ci(c.prediction[0], c.prediction[1], d)}) includes no "
            "effect: in a new setting like these the effect may be absent, which the review's "
            "pooled interval does not show."
        )
    return out + [""]
