"""An imported RevMan analysis as a metamg study set: ``<review id>-<analysis id>.csv`` + ``.toml``.

The CSV holds one row per RevMan data row, in the review's order:

* the data columns of the analysis's data type: events and totals (dichotomous), means, SDs
  and totals (continuous), ``yi``/``sei`` as entered (generic inverse variance; natural logs
  when the review pooled ratios), and for O-E and variance data ``o_e`` and ``var`` as the
  review gives them with ``yi = o_e / var`` and ``sei = 1 / sqrt(var)`` (Peto's log hazard
  ratio, named in ``derived_fields``); pooling yi/sei by inverse variance gives Peto's pooled
  estimate exactly;
* ``subgroup`` (the review's subgroup name, when the analysis has subgroups);
* ``exclusion_reason`` for the rows RevMan could not estimate (double-zero rows, missing data);
* ``revman_study`` (the label as the review writes it: a study in two subgroups, or twice in one,
  gets a distinct ``study`` label) and RevMan's own row result ``revman_effect``,
  ``revman_ci_low``, ``revman_ci_high`` (display scale) and ``revman_weight`` (percent);
* the provenance columns: the review and analysis (``source``), the file and its SHA-256
  (``where_found``), ``evidence_status`` = secondary-source (the numbers are the review's data,
  not read in the primary papers), the row's footnote in ``notes``.

Numbers metamg cannot take (an SD of 0, a total of 0, written by RevMan for missing data) are
left blank and named in ``notes``. The TOML holds the question (comparison and outcome), the
measure and a ``[published]`` table with RevMan's settings and stored results.
"""

from __future__ import annotations

import json
import math
import os

from metamg.errors import InputError, Problem
from metamg.io.atomic import write_atomic
from metamg.io.csvfile import RawRow, RawTable
from metamg.io.revman import RESULTS, RevManAnalysis, RevManReview, RevManRow
from metamg.io.schema import StudyTable, label_key, validate

STATUS = "secondary-source"
DATA_COLUMNS = {
    "DICH": ("events_treatment", "n_treatment", "events_control", "n_control"),
    "CONT": ("mean_treatment", "sd_treatment", "n_treatment", "mean_control", "sd_control", "n_control"),
    "IV": ("yi", "sei", "n_treatment", "n_control"),
    "OE": ("yi", "sei", "o_e", "var", "n_treatment", "n_control"),
}
# the row's values (revman.INPUTS names) behind each column
SOURCE_OF = {
    "events_treatment": "events_1",
    "n_treatment": "total_1",
    "events_control": "events_2",
    "n_control": "total_2",
    "mean_treatment": "mean_1",
    "sd_treatment": "sd_1",
    "mean_control": "mean_2",
    "sd_control": "sd_2",
    "o_e": "o_e",
    "var": "var",
}
TAIL = (
    "exclusion_reason",
    "revman_study",
    "revman_effect",
    "revman_ci_low",
    "revman_ci_high",
    "revman_weight",
    "source",
    "doi",
    "pmid",
    "where_found",
    "evidence_status",
    "derived_fields",
    "notes",
)


def set_name(review: RevManReview, analysis: RevManAnalysis) -> str:
    return f"{review.review_id}-{analysis.id}"


def metamg_measure(analysis: RevManAnalysis) -> str:
    """The metamg measure the analysis's rows are pooled with."""
    if analysis.type == "DICH":
        return {"PETO_OR": "OR"}.get(analysis.effect_measure, analysis.effect_measure)
    if analysis.type == "CONT":
        return analysis.effect_measure if analysis.effect_measure in ("MD", "SMD") else "MD"
    return "GEN"


def pool_settings(analysis: RevManAnalysis) -> dict:
    """``metamg.pool`` keyword arguments that redo RevMan 5's analysis (profile revman5) and
    the review's confidence level. Dichotomous data: PETO; MH (M-H, fixed) or MH-DL (M-H,
    random: DL tau² from the M-H Chi²); IV (inverse variance, fixed) or DL (random). Other data:
    FE or DL."""
    measure = metamg_measure(analysis)
    level = analysis.ci_level / 100 if analysis.ci_level > 1 else analysis.ci_level
    out: dict = {"measure": measure, "profile": "revman5", "level": level}
    random = analysis.model == "random"
    if analysis.type == "DICH" and analysis.method == "PETO":
        out["method"] = "PETO"
    elif analysis.type == "DICH" and analysis.method == "MH":
        out["method"] = "MH-DL" if random else "MH"
    elif analysis.type == "DICH" and analysis.method == "IV":
        out["method"] = "DL" if random else "IV"
    else:
        out["method"] = "DL" if random else "FE"
    return out


def _cell(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    v = float(v)
    if not math.isfinite(v):
        return ""
    return str(int(v)) if v.is_integer() and abs(v) < 1e15 else repr(v)


def _labels(rows: tuple[RevManRow, ...]) -> list[str]:
    """A distinct study label per row: the review's, then, for a study met again (another
    subgroup, or a second comparison of a multi-arm trial), with its subgroup or a number."""
    seen: set[str] = set()
    out = []
    for r in rows:
        base = r.study or r.study_id or "unnamed study"
        label = base
        if label_key(label) in seen and r.subgroup_no is not None:
            label = f"{base} (subgroup {r.subgroup_no})"
        n = 2
        while label_key(label) in seen:
            label = f"{base} [{n}]"
            n += 1
        seen.add(label_key(label))
        out.append(label)
    return out


def _checked(column: str, value, row: RevManRow) -> tuple[object, str]:
    """(the value, or None when metamg cannot take it; what was wrong, for the notes)."""
    if value is None:
        return None, ""
    whole = float(value).is_integer()
    if column in ("n_treatment", "n_control") and not (value > 0 and whole):
        return None, f"{column} {_cell(value)}"
    if column in ("events_treatment", "events_control"):
        total = row.value("total_1" if column == "events_treatment" else "total_2")
        if not (value >= 0 and whole) or (total is not None and value > total):
            return None, f"{column} {_cell(value)}"
    if column in ("sd_treatment", "sd_control", "var", "sei") and not value > 0:
        return None, f"{column} {_cell(value)}"
    return value, ""


def study_rows(review: RevManReview, analysis: RevManAnalysis) -> tuple[tuple[str, ...], list[list[str]]]:
    """(header, rows as CSV cells) of the analysis's study set."""
    data_cols = DATA_COLUMNS[analysis.type]
    subgrouped = any(r.subgroup for r in analysis.rows)
    header = ("study", "year") + data_cols + (("subgroup",) if subgrouped else ()) + TAIL
    title = review.title or f"Cochrane review {review.review_id}"
    ident = review.review_id + (f", doi:{review.doi}" if review.doi else "")
    cited = f"; {review.citation}" if review.citation else ""
    source = f"{title} ({ident}{cited}), analysis {analysis.id}: {analysis.comparison} / {analysis.name}"
    found = f"{review.file_name} (SHA-256 {review.sha256}), analysis {analysis.id}"
    out = []
    for i, (row, label) in enumerate(zip(analysis.rows, _labels(analysis.rows), strict=True), 1):
        values: dict[str, object] = {}
        unusable, derived = [], []
        for col in data_cols:
            if col in ("yi", "sei"):
                continue
            v = row.value(SOURCE_OF[col])
            if analysis.swap_events and col.startswith("events_"):
                total = row.value("total_1" if col == "events_treatment" else "total_2")
                if v is not None and total is not None:
                    v = total - v
                    derived.append(f"{col} = total - events (the review analysed non-events)")
            values[col], bad = _checked(col, v, row)
            unusable += [bad] if bad else []
        if analysis.type == "IV":
            values["yi"] = row.value("estimate")
            values["sei"], bad = _checked("sei", row.value("se"), row)
            unusable += [bad] if bad else []
        elif analysis.type == "OE":
            oe, var = row.value("o_e"), values.get("var")
            if oe is not None and var is not None:
                values["yi"], values["sei"] = oe / float(var), 1 / math.sqrt(float(var))  # type: ignore[operator, arg-type]
                derived.append("yi = o_e / var, sei = 1 / sqrt(var) (Peto log hazard ratio)")
        reason = ""
        if not row.estimable:
            reason = "not estimable in the review (RevMan pooled nothing from this row)"
        elif unusable:
            reason = "numbers missing or not usable in the review's data"
        notes = "Numbers from the review's data (RevMan), not checked in the primary report."
        if unusable:
            notes += " Left blank: the review gives " + ", ".join(unusable) + "."
        if row.footnote:
            notes += f" Footnote in the review: {row.footnote}"
        cells = {
            "study": label,
            "year": _cell(row.year) if not isinstance(row.year, str) else row.year,
            **{c: _cell(values.get(c)) for c in data_cols},
            "subgroup": row.subgroup or "",
            "exclusion_reason": reason,
            "revman_study": row.study,
            "revman_effect": _cell(row.revman_effect),
            "revman_ci_low": _cell(row.revman_ci_lower),
            "revman_ci_high": _cell(row.revman_ci_upper),
            "revman_weight": _cell(row.revman_weight),
            "source": source,
            "doi": "",
            "pmid": "",
            "where_found": f"{found}, data row {i}",
            "evidence_status": STATUS,
            "derived_fields": "; ".join(derived),
            "notes": notes,
        }
        out.append([cells[h] for h in header])
    return header, out


def study_table(review: RevManReview, analysis: RevManAnalysis) -> StudyTable:
    """The study set as ``metamg.pool`` reads it (the same cells the CSV gets)."""
    header, rows = study_rows(review, analysis)
    raw = RawTable(
        f"{set_name(review, analysis)}.csv",
        header,
        tuple(RawRow(i + 2, tuple(r)) for i, r in enumerate(rows)),
        encoding="",
    )
    forced = {"DICH": "binary", "CONT": "continuous"}.get(analysis.type, "generic")
    return validate(raw, forced)


def _csv_text(header, rows) -> str:
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue()


def _toml_str(s: str) -> str:
    return json.dumps(s, ensure_ascii=False).replace("\x7f", "\\u007f")


def _toml_value(v) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return repr(v) if math.isfinite(v) else None
    return _toml_str(str(v))


def _benefit(a: RevManAnalysis) -> str:
    """'lower' unless the left graph label names the control group (or control/placebo) and
    not the experimental group."""
    left = a.graph_label_1.lower()
    g1, g2 = a.group_label_1.lower(), a.group_label_2.lower()
    names_control = (g2 and g2 in left) or any(w in left for w in ("control", "placebo"))
    names_experimental = bool(g1) and g1 in left
    return "higher" if names_control and not names_experimental else "lower"


def published_settings(review: RevManReview, analysis: RevManAnalysis) -> dict:
    """The [published] table's scalar keys (None values are left out when written)."""
    return {
        "review": review.title,
        "review_id": review.review_id,
        "doi": review.doi,
        "citation": review.citation,
        "file": review.file_name,
        "sha256": review.sha256,
        "format": review.format,
        "revman_version": review.revman_version,
        "analysis": analysis.id,
        "comparison": analysis.comparison,
        "outcome": analysis.name,
        "data_type": analysis.type,
        "effect_measure": analysis.effect_measure,
        "effect_measure_label": analysis.effect_measure_label,
        "method": analysis.method,
        "model": analysis.model,
        "log_data": analysis.log_data,
        "ci_level": analysis.ci_level,
        "heterogeneity_estimator": analysis.heterogeneity_estimator,
        "ci_method": analysis.ci_method,
        "totals": analysis.totals,
        "swap_events": analysis.swap_events,
        **analysis.counts,
        **dict(analysis.revman),
    }


def set_metadata(review: RevManReview, analysis: RevManAnalysis) -> str:
    """The TOML text of the analysis's study set."""
    a = analysis
    c = a.counts
    title = review.title or f"Cochrane review {review.review_id}"
    outcome = a.name + (f" ({a.units})" if a.units else "")
    scale = ""
    if a.type in ("IV", "OE"):
        scale = (
            f" yi and sei are on the {'log ' if a.log_data else ''}scale of the review's "
            f"{a.effect_measure_label or 'effect'}"
            + (" (natural logs: exp(yi) is the ratio)" if a.log_data else "")
            + "."
        )
    dropped = c["n_rows"] - c["n_estimable"]
    top = {
        "title": f"{a.name} ({a.comparison}): {review.review_id} analysis {a.id}",
        "population": f"the participants of the studies in the Cochrane review '{title}' (see the review)",
        "intervention": a.group_label_1 or a.comparison,
        "comparator": a.group_label_2 or "the review's control group",
        "outcome": outcome,
        "measure": metamg_measure(a),
        "benefit": _benefit(a),
        "label_left": a.graph_label_1 if a.graph_label_1 and a.graph_label_2 else None,
        "label_right": a.graph_label_2 if a.graph_label_1 and a.graph_label_2 else None,
        "subgroup": "subgroup" if any(r.subgroup for r in a.rows) else None,
        "inclusion": (
            f"Every data row of analysis {a.id} of the review ({c['n_rows']} rows from "
            f"{c['n_studies']} studies), as the review pooled them"
            + (
                f"; the {dropped} row{'s' if dropped != 1 else ''} RevMan could not estimate "
                "keep an exclusion_reason"
                if dropped
                else ""
            )
            + "."
        ),
        "notes": (
            f"Imported by metamg import from {review.file_name} (SHA-256 {review.sha256}), "
            f"analysis {a.id}. The numbers are the review's data, not read in the primary "
            f"papers. RevMan pooled with {a.method} ({a.model} effect, {a.effect_measure_label}); "
            "its settings and stored results are in [published]." + scale
        ),
    }
    lines = [f"# Study set imported from a Cochrane review: {review.file_name}, analysis {a.id}."]
    lines += [f"{k} = {_toml_value(v)}" for k, v in top.items() if v is not None and v != ""]
    lines += [
        "",
        "# RevMan's settings and stored results (display scale, Z unsigned as stored)",
        "[published]",
    ]
    for k, v in published_settings(review, a).items():
        text = _toml_value(v)
        if text is not None and v != "":
            lines.append(f"{k} = {text}")
    if a.subgroup_test is not None:
        lines += ["", "[published.subgroup_test]"]
        lines += [f"{k} = {_toml_value(v)}" for k, v in a.subgroup_test if _toml_value(v) is not None]
    for s in a.subgroups:
        lines += ["", "[[published.subgroups]]", f"no = {s.no}", f"name = {_toml_str(s.name)}"]
        lines += [
            f"{k} = {_toml_value(v)}" for k, v in s.results if k in RESULTS and _toml_value(v) is not None
        ]
    return "\n".join(lines) + "\n"


def write_sets(
    review: RevManReview, analyses, directory="studies", force: bool = False
) -> list[tuple[str, str, str]]:
    """Write each analysis's study set (CSV + TOML) into ``directory``; [(analysis id, csv, toml)].

    Nothing is written when a target exists and ``force`` is false: InputError names each."""
    directory = os.fspath(directory)
    targets = []
    for a in analyses:
        base = os.path.join(directory, set_name(review, a))
        targets.append((a, base + ".csv", base + ".toml"))
    if not force:
        existing = [p for _, c, t in targets for p in (c, t) if os.path.lexists(p)]
        if existing:
            raise InputError(
                [Problem(p, "already exists; not overwritten (use --force to replace it)") for p in existing]
            )
    written = []
    for a, csv_path, toml_path in targets:
        header, rows = study_rows(review, a)
        write_atomic(csv_path, _csv_text(header, rows))
        write_atomic(toml_path, set_metadata(review, a))
        written.append((a.id, csv_path, toml_path))
    return written
