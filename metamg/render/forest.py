"""Forest plots drawn with matplotlib, in the Cochrane/metafor layout.

``forest_layout`` computes everything the picture shows (rows, texts, box areas, diamonds,
axis limits and tick labels) as plain data, which the tests check; ``draw_forest`` only draws it.
Box areas are proportional to the study's weight (relative to the heaviest study; at least
2 pt² so that a box is always visible).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from metamg.io import rob
from metamg.io.rob import has_rob
from metamg.render.figures import (
    TITLE_CHARS,
    axis_caption,
    axis_label,
    effect_axis,
    favours_labels,
    linear_limits,
    linear_ticks,
    new_figure,
    plain_text,
    ratio_limits,
    ratio_ticks,
    shorten,
    tick_label,
)
from metamg.render.intervals import prediction_shown
from metamg.render.numbers import effect_digits, fmt_fixed, fmt_num, fmt_p, level_label
from metamg.render.robplot import draw_dot, draw_level_key, header, legend_lines, shown_columns

ROW_IN = 0.22  # height of one row, inches
CHAR_IN = 0.072  # average width of a character at 8.5 pt, inches
PLOT_IN = 3.0  # width of the plot panel, inches
MAX_BOX_PT2 = 180.0  # marker area of the heaviest study
MIN_BOX_PT2 = 2.0
ROB_COL_IN = 0.24  # width of one risk-of-bias column
LEGEND_LINE_IN = 0.16
# One row per study: beyond this a forest plot is too tall to read (and to hold in memory at
# print resolution); reports and `metamg forest` say so instead of drawing it.
MAX_FOREST_STUDIES = 150


def forest_rows(analysis) -> int:
    """The study rows a forest plot of ``analysis`` draws: pooled and not-estimable studies."""
    return int(analysis.result.k) + len(analysis.excluded)


@dataclass(frozen=True)
class ForestRow:
    kind: str  # header | study | not-estimable | subtotal | overall | prediction | note | blank
    y: float
    label: str = ""
    cells: tuple[str, ...] = ()
    effect_text: str = ""
    weight_text: str = ""
    estimate: float | None = None  # natural scale
    ci_low: float | None = None
    ci_high: float | None = None
    box_area: float | None = None  # pt²
    clipped_low: bool = False
    clipped_high: bool = False
    rob: tuple[str, ...] = ()  # RoB 2 judgements per rob column ('' = not assessed)


@dataclass(frozen=True)
class ForestLayout:
    title: str
    measure: str
    columns: tuple[str, ...]
    rows: tuple[ForestRow, ...]
    log_scale: bool
    null: float
    xlim: tuple[float, float]
    xticks: tuple[float, ...]
    xtick_labels: tuple[str, ...]
    favours: tuple[str, str]
    effect_header: str = ""
    level: float = 0.95
    column_widths: tuple[float, ...] = field(default=())  # label, data..., plot, effect, weight, rob...
    width: float = 0.0
    height: float = 0.0
    rob_columns: tuple[str, ...] = ()  # CSV names of the risk-of-bias columns shown
    rob_legend: tuple[str, ...] = ()

    def row(self, label: str, kind: str | None = None) -> ForestRow:
        return next(r for r in self.rows if r.label == label and (kind is None or r.kind == kind))


def forest_layout(
    analysis, favours=("favours treatment", "favours control"), title: str = "", subgroups=None, answer=None
) -> ForestLayout:
    """Everything a forest plot of ``analysis`` (and optional SubgroupAnalysis) shows. ``answer``
    is a second pooled analysis of the same studies drawn as its own diamond: the model the
    verdicts use when it is not the main one."""
    m, r = analysis.measure, analysis.result
    nat = analysis.natural
    digits = effect_digits(m)
    columns, cells_of = data_columns(analysis)
    weights = {row.study: row.weight for row in analysis.rows}
    wmax = max([w for w in weights.values() if w is not None] or [1.0])
    log_scale = m.scale == "log"
    null = 1.0 if log_scale else 0.0

    study_rows = {row.study: row for row in analysis.rows}
    rob_columns, rob_of = _rob_columns(analysis.effects)
    bounds = [nat(v) for row in analysis.rows for v in (row.ci_low, row.ci_high)]
    bounds += [nat(v) for v in (r.ci_low, r.ci_high, r.pi_low, r.pi_high)]
    if answer is not None:
        bounds += [nat(answer.result.ci_low), nat(answer.result.ci_high)]
    for g in subgroups.subgroups if subgroups is not None else ():
        bounds += [nat(g.analysis.result.ci_low), nat(g.analysis.result.ci_high)]
    if log_scale:
        xlim = ratio_limits(bounds)
        ticks = ratio_ticks(*xlim)
    else:
        xlim = linear_limits(bounds, null)
        ticks = linear_ticks(*xlim)
        xlim = (min(xlim[0], ticks[0]), max(xlim[1], ticks[-1]))

    def effect_text(est, lo, hi):
        return f"{fmt_fixed(est, digits)} [{fmt_fixed(lo, digits)}, {fmt_fixed(hi, digits)}]"

    def study_row(name, y):
        s = study_rows[name]
        est, lo, hi = nat(s.yi), nat(s.ci_low), nat(s.ci_high)
        w = weights[name]
        area = None if w is None else max(MIN_BOX_PT2, MAX_BOX_PT2 * w / wmax)
        return ForestRow(
            "study",
            y,
            shorten(name),
            cells_of(name),
            effect_text(est, lo, hi),
            "" if w is None else f"{w:.1f}%",
            est,
            lo,
            hi,
            area,
            lo < xlim[0],
            hi > xlim[1],
            rob_of(name),
        )

    def pooled_rows(a, y, label, kind, weight_text):
        res = a.result
        out = [
            ForestRow(
                kind,
                y,
                label,
                (),
                effect_text(nat(res.estimate), nat(res.ci_low), nat(res.ci_high)),
                weight_text,
                nat(res.estimate),
                nat(res.ci_low),
                nat(res.ci_high),
            )
        ]
        return out

    rows: list[ForestRow] = []
    y = 0.0
    if subgroups is None:
        for name in analysis.effects.studies:
            rows.append(study_row(name, y))
            y += 1
    else:
        for g in subgroups.subgroups:
            rows.append(ForestRow("header", y, shorten(f"{subgroups.column}: {g.level}")))
            y += 1
            for name in g.analysis.effects.studies:
                rows.append(study_row(name, y))
                y += 1
            share = sum(weights[n] or 0 for n in g.analysis.effects.studies)
            rows += pooled_rows(
                g.analysis, y, f"Subtotal (k = {g.analysis.result.k})", "subtotal", f"{share:.1f}%"
            )
            y += 1
            rows.append(ForestRow("note", y, _heterogeneity_text(g.analysis.result)))
            y += 1.5
    for e in analysis.excluded:
        rows.append(ForestRow("not-estimable", y, shorten(e.study), ("",) * len(columns), "not estimable"))
        y += 1
    y += 0.5
    rows += pooled_rows(
        analysis, y, _model_label(r) + (" (main analysis)" if answer is not None else ""), "overall", "100.0%"
    )
    y += 1
    if prediction_shown(r):
        lo, hi = nat(r.pi_low), nat(r.pi_high)
        rows.append(
            ForestRow(
                "prediction",
                y,
                "Prediction interval",
                (),
                f"[{fmt_fixed(lo, digits)}, {fmt_fixed(hi, digits)}]",
                "",
                None,
                lo,
                hi,
                None,
                lo < xlim[0],
                hi > xlim[1],
            )
        )
        y += 1
    if answer is not None:
        rows += pooled_rows(
            answer, y, _model_label(answer.result) + " (used for the verdicts)", "overall", ""
        )
        y += 1
    y += 0.3
    rows.append(ForestRow("note", y, _heterogeneity_text(r)))
    y += 1
    test = "z" if r.df is None else f"t({r.df:g})"
    rows.append(
        ForestRow(
            "note",
            y,
            f"Test for overall effect{' (main analysis)' if answer else ''}: "
            f"{test} = {r.statistic:.2f} ({fmt_p(r.p)})",
        )
    )
    y += 1
    if answer is not None:
        a = answer.result
        test = "z" if a.df is None else f"t({a.df:g})"
        rows.append(
            ForestRow(
                "note",
                y,
                f"Test for overall effect (used for the verdicts): {test} = {a.statistic:.2f} ({fmt_p(a.p)})",
            )
        )
        y += 1
    if subgroups is not None and subgroups.between is not None:
        b = subgroups.between
        rows.append(
            ForestRow(
                "note", y, f"Test for subgroup differences: Q = {b.q:.2f}, df = {b.q_df} ({fmt_p(b.q_p)})"
            )
        )

    label_w = CHAR_IN * max([len(row.label) for row in rows if row.kind not in ("note",)] + [12]) + 0.25
    data_ws = tuple(
        CHAR_IN * max([len(c) for c in _column_texts(rows, i)] + [len(h) for h in columns[i].split("\n")])
        + 0.3
        for i in range(len(columns))
    )
    effect_w = CHAR_IN * max([len(row.effect_text) for row in rows] + [10]) + 0.3
    weight_w = 0.75
    widths = (label_w,) + data_ws + (PLOT_IN, effect_w, weight_w) + (ROB_COL_IN,) * len(rob_columns)
    legend = legend_lines(rob_columns, compact=True) if rob_columns else ()
    height = 0.85 + ROW_IN * (y + 1) + 0.75 + _legend_height(legend)
    return ForestLayout(
        title=shorten(title or analysis.source, TITLE_CHARS),
        measure=axis_label(m),
        columns=columns,
        rows=tuple(rows),
        log_scale=log_scale,
        null=null,
        xlim=xlim,
        xticks=tuple(ticks),
        xtick_labels=tuple(tick_label(t) for t in ticks),
        favours=tuple(favours),
        effect_header=m.natural_name,
        level=r.level,
        column_widths=widths,
        width=sum(widths) + 0.4 + (0.1 if rob_columns else 0),
        height=height,
        rob_columns=rob_columns,
        rob_legend=legend,
    )


def _rob_columns(effects):
    """The RoB columns to show (none when nothing is judged) and each study's judgements."""
    if not has_rob(effects.extra):
        return (), lambda name: ()
    columns = shown_columns(effects.extra)
    index = {s: i for i, s in enumerate(effects.studies)}
    return columns, lambda name: tuple(rob.judgement(effects.extra, c, index[name]) for c in columns)


def _legend_height(legend) -> float:
    return LEGEND_LINE_IN * (len(legend) + 2) + 0.1 if legend else 0.0


def _model_label(r) -> str:
    if r.k == 1:
        return "Single study (nothing pooled)"
    if r.model == "mantel-haenszel":
        return "Common effect (Mantel-Haenszel)"
    if r.model == "peto":
        return "Common effect (Peto)"
    if r.method == "FE":
        return "Common effect (inverse variance)"
    ci = {"wald": "Wald CI", "hk": "HKSJ CI", "hk-adhoc": "HKSJ ad hoc CI"}[r.ci_method]
    return f"Random effects ({r.method}, {ci})"


def _heterogeneity_text(r) -> str:
    q = f"Q = {r.q:.2f}, df = {r.q_df} ({fmt_p(r.q_p)})"
    if r.tau2 is not None and r.is_random:
        return f"Heterogeneity: tau² = {fmt_num(r.tau2, 4)}; I² = {r.i2:.0f}%; {q}"
    return f"Heterogeneity: I² = {r.i2:.0f}%; {q}"


def data_columns(analysis):
    """Header and per-study cells of the raw data: events/total, mean (SD) n, r and n, or yi and SE."""
    d, es = analysis.effects.data, analysis.effects
    index = {s: i for i, s in enumerate(es.studies)}
    kind = analysis.measure.data_type

    def num(x):  # combined arms can carry long decimals (0.616667): four places are plenty
        return f"{round(x, 4):g}"

    cols: tuple[str, ...]
    if kind == "binary":
        cols = ("Treatment\nevents/total", "Control\nevents/total")

        def cells(s):
            i = index[s]
            return (f"{int(d['ai'][i])}/{int(d['n1i'][i])}", f"{int(d['ci'][i])}/{int(d['n2i'][i])}")
    elif kind == "continuous":
        cols = ("Treatment\nmean (SD) n", "Control\nmean (SD) n")

        def cells(s):
            i = index[s]
            return (
                f"{num(d['m1i'][i])} ({num(d['sd1i'][i])}) {int(d['n1i'][i])}",
                f"{num(d['m2i'][i])} ({num(d['sd2i'][i])}) {int(d['n2i'][i])}",
            )
    elif kind == "correlation":
        cols = ("r", "n")

        def cells(s):
            i = index[s]
            return (f"{d['ri'][i]:.3f}", f"{int(d['ni'][i])}")
    elif kind == "proportion":
        cols = ("events/total",)

        def cells(s):
            i = index[s]
            return (f"{int(d['xi'][i])}/{int(d['ni'][i])}",)
    else:
        cols = ("estimate", "SE")

        def cells(s):
            i = index[s]
            return (f"{es.yi[i]:.3f}", f"{math.sqrt(es.vi[i]):.3f}")

    if not es.converted:
        return cols, cells
    converted = set(es.converted)

    def cells_or_reported(s):
        # a study given as effect + CI has no raw data to show
        return ("as reported",) + ("",) * (len(cols) - 1) if s in converted else cells(s)

    return cols, cells_or_reported


def _column_texts(rows, i):
    return [row.cells[i] for row in rows if len(row.cells) > i]


@plain_text
def draw_forest(layout: ForestLayout):
    """A matplotlib Figure of the layout (no pyplot, so no global state). It takes no ``ax``:
    the plot is a multi-column table (labels, data, effects, weights, risk of bias) around one
    panel, laid out in inches from its rows, so it needs a figure of its own."""
    from matplotlib import rcParams
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Polygon
    from matplotlib.transforms import blended_transform_factory

    W, H = layout.width, layout.height
    fig = new_figure((W, H))
    widths = layout.column_widths
    x0 = 0.2
    starts = [x0]
    for w in widths[:-1]:
        starts.append(starts[-1] + w)
    nd = len(layout.columns)
    label_x, data_x, data_w = starts[0], starts[1 : 1 + nd], widths[1 : 1 + nd]
    plot_x, effect_x, weight_x = starts[1 + nd], starts[2 + nd], starts[3 + nd]
    effect_w, weight_w = widths[2 + nd], widths[3 + nd]
    rob_x = [x + ROB_COL_IN / 2 + 0.05 for x in starts[4 + nd :]]
    bottom_in = 0.75 + _legend_height(layout.rob_legend)

    ys = [row.y for row in layout.rows]
    top, bottom = -0.5, max(ys) + 0.5
    rows_h = ROW_IN * (bottom - top)
    ax = fig.add_axes((plot_x / W, bottom_in / H, PLOT_IN / W, rows_h / H))
    ax.set_ylim(bottom, top)
    effect_axis(ax, layout.log_scale, layout.xlim, layout.xticks, 8)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    trans = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    font = dict(fontsize=8.5, va="center", transform=trans, clip_on=False)

    header_y = top - 1.0
    fig.text(x0 / W, 1 - 0.25 / H, layout.title, fontsize=11, fontweight="bold", va="top")
    ax.text(label_x, header_y, "Study", fontweight="bold", **font)
    for x, w, head in zip(data_x, data_w, layout.columns, strict=True):
        ax.text(x + w / 2, header_y, head, ha="center", fontweight="bold", **font)
    ax.text(
        effect_x + effect_w / 2,
        header_y,
        f"{layout.effect_header} [{level_label(layout.level)} CI]",
        ha="center",
        fontweight="bold",
        **font,
    )
    ax.text(weight_x + weight_w / 2, header_y, "Weight", ha="center", fontweight="bold", **font)
    for x, column in zip(rob_x, layout.rob_columns, strict=True):
        ax.text(x, header_y, header(column, compact=True), ha="center", fontweight="bold", **font)
    if layout.rob_columns:
        ax.text(
            (rob_x[0] + rob_x[-1]) / 2, header_y - 1.0, "Risk of bias", ha="center", fontweight="bold", **font
        )

    last_plot_row = max((r.y for r in layout.rows if r.kind in ("overall", "prediction")), default=bottom)
    ax.vlines(layout.null, top, last_plot_row + 0.5, colors="0.45", linewidth=0.8, zorder=1)
    lo_lim, hi_lim = layout.xlim
    # every study's CI line and box are drawn as one collection each (one artist per study
    # took a third of the time spent building the figure)
    study_lines: list[list[tuple[float, float]]] = []
    boxes: list[tuple[float, float, float | None]] = []
    for row in layout.rows:
        bold = row.kind in ("header", "subtotal", "overall")
        size = 8 if row.kind == "note" else 8.5
        ax.text(
            label_x,
            row.y,
            row.label,
            fontweight="bold" if bold else "normal",
            **{**font, "fontsize": size},
            style="italic" if row.kind == "note" else "normal",
        )
        for x, w, cell in zip(data_x, data_w, row.cells, strict=bool(row.cells)):  # none on pooled rows
            ax.text(x + w / 2, row.y, cell, ha="center", **font)
        if row.effect_text:
            ax.text(
                effect_x + effect_w - 0.15,
                row.y,
                row.effect_text,
                ha="right",
                fontweight="bold" if bold else "normal",
                **font,
            )
        if row.weight_text:
            ax.text(weight_x + weight_w - 0.1, row.y, row.weight_text, ha="right", **font)
        for x, judgement in zip(rob_x, row.rob, strict=bool(row.rob)):  # none on pooled rows
            draw_dot(ax, x, row.y, judgement, 70.0, transform=trans)
        if row.kind == "study":  # rows of the kinds drawn below carry their numbers (forest_layout)
            assert row.estimate is not None and row.ci_low is not None and row.ci_high is not None
            lo, hi = max(row.ci_low, lo_lim), min(row.ci_high, hi_lim)
            study_lines.append([(lo, row.y), (hi, row.y)])
            if row.clipped_low:
                ax.plot([lo_lim], [row.y], marker="<", color="black", markersize=4, zorder=3, clip_on=False)
            if row.clipped_high:
                ax.plot([hi_lim], [row.y], marker=">", color="black", markersize=4, zorder=3, clip_on=False)
            if lo_lim <= row.estimate <= hi_lim:
                boxes.append((row.estimate, row.y, row.box_area))
        elif row.kind in ("subtotal", "overall"):
            assert row.estimate is not None and row.ci_low is not None and row.ci_high is not None
            h = 0.34
            color = "#1f4e79" if row.kind == "overall" else "#5b86b0"
            ax.add_patch(
                Polygon(
                    [
                        (row.ci_low, row.y),
                        (row.estimate, row.y - h),
                        (row.ci_high, row.y),
                        (row.estimate, row.y + h),
                    ],
                    closed=True,
                    facecolor=color,
                    edgecolor="black",
                    linewidth=0.6,
                    zorder=4,
                )
            )
        elif row.kind == "prediction":
            assert row.ci_low is not None and row.ci_high is not None
            lo, hi = max(row.ci_low, lo_lim), min(row.ci_high, hi_lim)
            ax.plot([lo, hi], [row.y, row.y], color="#b03a2e", linewidth=2.2, zorder=3, solid_capstyle="butt")
            for clipped, x, mark in ((row.clipped_low, lo_lim, "<"), (row.clipped_high, hi_lim, ">")):
                if clipped:
                    ax.plot([x], [row.y], marker=mark, color="#b03a2e", markersize=4, clip_on=False)

    if study_lines:
        ax.add_collection(
            LineCollection(study_lines, colors="black", linewidths=0.9, zorder=2, capstyle="butt"),
            autolim=False,
        )
    if boxes:
        default_area = rcParams["lines.markersize"] ** 2  # scatter's size when a study has no weight
        ax.scatter(
            [b[0] for b in boxes],
            [b[1] for b in boxes],
            s=[default_area if b[2] is None else b[2] for b in boxes],
            marker="s",
            color="#1f4e79",
            zorder=4,
            linewidths=0,
        )

    favours_labels(ax, layout.null, *layout.favours)
    if layout.rob_legend:
        legend_top = bottom_in - 0.75  # inches above the figure's bottom edge
        draw_level_key(fig, x0 + 0.05, legend_top - 0.1, W, H, 40.0)
        for k, line in enumerate(layout.rob_legend):
            fig.text(x0 / W, (legend_top - LEGEND_LINE_IN * (k + 1.6)) / H, line, fontsize=7.5, va="center")
    axis_caption(ax, layout.measure + (" (log scale)" if layout.log_scale else ""))
    return fig


def study_set_forest_layout(analysis, meta=None, subgroups=None, answer=None) -> ForestLayout:
    """The layout of ``analysis``'s forest plot with the study set's title and "favours" labels
    from its metadata ``meta`` (grouped as the computed ``subgroups``, with the ``answer``
    analysis's diamond beside the main one)."""
    favours = meta.favours if meta is not None else ("favours treatment", "favours control")
    title = meta.title if meta is not None else ""
    return forest_layout(analysis, tuple(shorten(f) for f in favours), title, subgroups, answer)


def write_forest(analysis, path, meta=None, subgroups=None, answer=None) -> ForestLayout:
    """Forest plot of ``analysis`` (as study_set_forest_layout) written to PATH (.png, .svg or .pdf)."""
    from metamg.render.figures import save_figure

    layout = study_set_forest_layout(analysis, meta, subgroups, answer)
    save_figure(draw_forest(layout), path)
    return layout
