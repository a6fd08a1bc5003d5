"""Risk-of-bias figures in robvis's style: the traffic-light plot and the weighted summary bars.

McGuinness LA, Higgins JPT. Risk-of-bias VISualization (robvis): an R package and Shiny web app
for visualizing risk-of-bias assessments. Res Syn Meth 2021;12:55-61. Colours are robvis's; each
dot also carries a symbol so that the figure reads in greyscale and for colour-blind readers.
``rob_layout`` computes what is shown (tested); the draw functions only draw it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from metamg.io import rob
from metamg.render.figures import (
    TITLE_CHARS,
    FigureSize,
    figure_size,
    fit_lines,
    line_height,
    new_figure,
    plain_text,
    shorten,
    text_width,
    title_block,
)

COLOURS = {"low": "#02C100", "some concerns": "#E2DF07", "high": "#BF0000", "": "#D9D9D9"}
SYMBOLS = {"low": "+", "some concerns": "−", "high": "×", "": ""}
LEVELS = ("low", "some concerns", "high", "")  # "" = not assessed
LEVEL_NAMES = {"low": "Low", "some concerns": "Some concerns", "high": "High", "": "Not assessed"}


def domain_names(columns) -> tuple[str, ...]:
    names = {c: text for c, _, text in rob.DOMAINS} | {rob.OVERALL: "Overall risk of bias"}
    return tuple(names[c] for c in columns)


def header(column: str, compact: bool = False) -> str:
    """A column's header: D1..D5 and Overall ("O" where space is short, as in the forest plot)."""
    return "O" if compact and column == rob.OVERALL else rob.SHORT[column]


def legend_lines(columns, compact: bool = False) -> tuple[str, ...]:
    """Which domain each column header stands for, in the order shown."""
    return tuple(
        f"{header(c, compact)}: {name}" for c, name in zip(columns, domain_names(columns), strict=True)
    )


def shown_columns(extra) -> tuple[str, ...]:
    """The domains recorded in the file, then the overall judgement."""
    return tuple(c for c, _, _ in rob.DOMAINS if c in extra) + (rob.OVERALL,)


@dataclass(frozen=True)
class RobLayout:
    """Judgements per study and column, and each column's share of weight (or of studies) per level."""

    title: str
    studies: tuple[str, ...]
    columns: tuple[str, ...]  # CSV column names
    judgements: tuple[tuple[str, ...], ...]  # per study, per column ('' = not assessed)
    weighted: bool
    shares: tuple[tuple[float, ...], ...]  # per column, percent per LEVELS

    def to_dict(self) -> dict:
        return {
            "studies": list(self.studies),
            "columns": list(self.columns),
            "judgements": [dict(zip(self.columns, j, strict=True)) for j in self.judgements],
            "weighted": self.weighted,
            "shares": {
                c: dict(zip([LEVEL_NAMES[x] for x in LEVELS], s, strict=True))
                for c, s in zip(self.columns, self.shares, strict=True)
            },
        }


def rob_layout(studies, extra, weights=None, title: str = "") -> RobLayout:
    """Judgements of ``studies`` (columns ``extra``); summary shares weighted by ``weights``
    (percent, as the pooled analysis gave them) or, without weights, by study count."""
    columns = shown_columns(extra)
    n = len(studies)
    judged = tuple(tuple(rob.judgement(extra, c, i) for c in columns) for i in range(n))
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float)
    total = w.sum()
    shares = tuple(
        tuple(
            float(100 * w[[j[ci] == lev for j in judged]].sum() / total) if total else 0.0 for lev in LEVELS
        )
        for ci in range(len(columns))
    )
    return RobLayout(
        shorten(title, TITLE_CHARS),
        tuple(shorten(s) for s in studies),
        columns,
        judged,
        weights is not None,
        shares,
    )


def draw_dot(ax, x, y, judgement, size=90.0, transform=None) -> None:
    """One judgement as a coloured circle with its symbol."""
    kw = {} if transform is None else {"transform": transform}
    ax.scatter(
        [x],
        [y],
        s=size,
        color=COLOURS[judgement],
        edgecolors="0.25",
        linewidths=0.5,
        zorder=5,
        clip_on=False,
        **kw,
    )
    if SYMBOLS[judgement]:
        ax.text(
            x,
            y,
            SYMBOLS[judgement],
            ha="center",
            va="center",
            fontsize=size**0.5 * 0.62,
            fontweight="bold",
            color="black",
            zorder=6,
            clip_on=False,
            **kw,
        )


def _key_steps(font: float, size: float):
    """Each level's dot offset and its name's offset from the key's start, in inches."""
    em, dot = font / 72.0, math.sqrt(size) / 72.0
    x, steps = dot / 2, []
    for level in LEVELS:
        steps.append((level, x, x + dot / 2 + 0.4 * em))
        x += dot / 2 + 0.4 * em + text_width(LEVEL_NAMES[level], font) + 1.6 * em + dot / 2
    return steps, x - 1.6 * em - dot / 2


def level_key_width(font: float = 8.0, size: float = 60.0) -> float:
    """The inches the colour key takes in one line."""
    return _key_steps(font, size)[1]


def draw_level_key(fig, x_in, y_in, W, H, size=60.0, font: float = 8.0) -> None:
    """The colour key in one line at (x_in, y_in) inches from the figure's bottom left."""
    ax = fig.add_axes((0, 0, 1, 1), facecolor="none")
    ax.set_axis_off()
    ax.set_xlim(0, W)
    ax.set_ylim(0, H)
    for level, dot_x, name_x in _key_steps(font, size)[0]:
        draw_dot(ax, x_in + dot_x, y_in, level, size)
        ax.text(x_in + name_x, y_in, LEVEL_NAMES[level], va="center", fontsize=font)


CELL_EM = 2.8  # a traffic-light cell is this many ems square (0.35 in at 9 pt)
BAR_EM = 2.4  # a summary bar's row is this many ems high
SLIDE_LEGEND_BESIDE = True  # on a slide the domain legend stands right of the grid


@dataclass(frozen=True)
class _Block:
    """A RoB figure's frame at one font: the figure's size, the title's lines and font, and
    the inches each part takes (from the left edge, and from the top edge down)."""

    W: float
    H: float
    font: float
    title: tuple[str, ...]
    title_font: float
    left: float  # the body's left edge
    margin: float  # the title's left edge and top
    body_top: float  # the column headers' top (traffic light) or the bars' top (summary)


def _fonts(spec: FigureSize) -> list[float]:
    return [spec.font - 0.5 * i for i in range(int(round((spec.font - spec.min_font) / 0.5)) + 1)]


def _traffic_parts(layout: RobLayout, f: float, beside: bool):
    """Inches taken by the traffic light's parts at font ``f``: label column, grid, legend."""
    em = f / 72.0
    cell = CELL_EM * em  # the rows' height; columns are as wide as their headers need
    cell_w = max([cell] + [text_width(header(c), f, True) + 0.8 * em for c in layout.columns])
    label_w = max([text_width(s, f) for s in layout.studies] + [text_width("Study", f, True)]) + 0.8 * em
    grid_w, grid_h = cell_w * len(layout.columns), cell * len(layout.studies)
    legend = legend_lines(layout.columns)
    key_dot = 60.0 * (f / 9.0) ** 2
    legend_w = max([text_width(t, f - 1) for t in legend] + [level_key_width(f - 1, key_dot)])
    legend_h = line_height(f - 1) * len(legend) + 1.6 * line_height(f)
    header_h = line_height(f) + 0.4 * em
    body_w = label_w + grid_w + (1.5 * em + legend_w if beside else 0.0)
    body_h = header_h + max(grid_h, legend_h if beside else 0.0) + (0.0 if beside else 0.6 * em + legend_h)
    return label_w, (cell_w, cell), legend, key_dot, legend_w, body_w, body_h, header_h


def _frame(spec: FigureSize, title: str, f: float, body_w: float, body_h: float, min_w: float) -> _Block:
    """The figure around a body of ``body_w`` x ``body_h`` inches at font ``f``: ``auto`` fits
    it (at least ``min_w`` wide), a fixed size centres it horizontally."""
    margin = 0.15 * max(1.0, f / 9.0)
    W = spec.width or max(body_w + 2 * margin, min_w)
    left = margin if spec.width is None else max(margin, (W - body_w) / 2)
    lines, title_font = fit_lines(title, W - 2 * margin, min(spec.title_font, 1.3 * f), f)
    body_top = margin + len(lines) * line_height(title_font) + 0.6 * line_height(f)
    H = spec.height or body_top + body_h + margin
    if spec.height is not None:  # centre the body below the title
        body_top += max(0.0, (spec.height - body_top - body_h - margin) / 2)
    return _Block(W, H, f, lines, title_font, left, margin, body_top)  # (margin: the title's)


def _fitting(spec: FigureSize, parts):
    """The largest font whose body fits the fixed size (``parts(f)`` gives its width and
    height), else the smallest."""
    fonts = _fonts(spec)
    for f in fonts:
        w, h = parts(f)
        if (spec.width is None or w <= spec.width - 0.3 * max(1.0, f / 9.0)) and (
            spec.height is None or h <= spec.height - 1.2 * line_height(spec.title_font)
        ):
            return f
    return fonts[-1]


@plain_text
def draw_traffic_light(layout: RobLayout, size: str | FigureSize | None = None):
    """The traffic-light plot: one row per study, one dot per domain and the overall judgement,
    the domains' names and the colour key; at ``size`` (a slide puts the names beside the grid)."""
    spec = figure_size(size)
    beside = spec.height is not None and SLIDE_LEGEND_BESIDE
    f = spec.font
    if spec.width is not None:
        f = _fitting(spec, lambda g: _traffic_parts(layout, g, beside)[5:7])
    label_w, (cell_w, cell), legend, key_dot, legend_w, body_w, body_h, header_h = _traffic_parts(
        layout, f, beside
    )
    title = layout.title or "Risk of bias (RoB 2)"
    block = _frame(spec, title, f, body_w, body_h, min_w=5.0)
    W, H = block.W, block.H
    fig = new_figure((W, H))
    title_block(fig, block.title, block.title_font, block.margin, block.margin, W, H)
    n, m = len(layout.studies), len(layout.columns)
    grid_top = block.body_top + header_h
    ax = fig.add_axes(
        ((block.left + label_w) / W, 1 - (grid_top + cell * n) / H, cell_w * m / W, cell * n / H)
    )
    ax.set_xlim(-0.5, m - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    dot = 260.0 * (f / 9.0) ** 2 * (CELL_EM / 3.36) ** 2
    for i, judged in enumerate(layout.judgements):
        for j, level in enumerate(judged):
            draw_dot(ax, j, i, level, dot)
    ax.set_xticks(range(m))
    ax.set_xticklabels([header(c) for c in layout.columns], fontsize=f, fontweight="bold")
    ax.xaxis.tick_top()
    ax.set_yticks(range(n))
    ax.set_yticklabels(layout.studies, fontsize=f)
    ax.tick_params(length=0, pad=0.3 * f)
    for x in np.arange(-0.5, m, 1.0):
        ax.axvline(x, color="0.85", linewidth=0.6)
    for y in np.arange(-0.5, n, 1.0):
        ax.axhline(y, color="0.85", linewidth=0.6)
    for side in ax.spines.values():
        side.set_color("0.6")
    if beside:
        x0, y0 = block.left + label_w + cell_w * m + 1.5 * f / 72.0, grid_top
    else:
        x0, y0 = block.left, grid_top + cell * n + 0.6 * f / 72.0
    for k, line in enumerate(legend):
        fig.text(x0 / W, 1 - (y0 + line_height(f - 1) * (k + 0.5)) / H, line, fontsize=f - 1, va="center")
    key_y = y0 + line_height(f - 1) * len(legend) + 0.8 * line_height(f)
    draw_level_key(fig, x0 + math.sqrt(key_dot) / 144.0, H - key_y, W, H, key_dot, f - 1)
    return fig


@plain_text
def draw_summary(layout: RobLayout, size: str | FigureSize | None = None):
    """The summary bars: per domain, the share of the weight (or of the studies) at each level,
    with the colour key; at ``size``."""
    spec = figure_size(size)
    rows = domain_names(layout.columns)
    m = len(layout.columns)
    what = "share of the analysis weight" if layout.weighted else "share of studies"
    title = (layout.title or "Risk of bias (RoB 2)") + f": {what}"

    def parts(f):
        em = f / 72.0
        label_w = max(text_width(r, f) for r in rows) + 0.8 * em
        bar_w = max(30 * em, level_key_width(f - 1, 60.0 * (f / 9.0) ** 2) - label_w, 3.0)
        return label_w, bar_w, label_w + bar_w + 1.5 * em, BAR_EM * em * m + 3.4 * line_height(f)

    f = _fitting(spec, lambda g: parts(g)[2:]) if spec.width is not None else spec.font
    label_w, bar_w, body_w, body_h = parts(f)
    if spec.width is not None:  # the bars take the width there is
        bar_w = max(bar_w, min(2.2 * bar_w, spec.width - 2 * 0.15 * max(1.0, f / 9.0) - label_w - 0.2))
        body_w = label_w + bar_w + 1.5 * f / 72.0
    block = _frame(spec, title, f, body_w, body_h, min_w=5.0)
    W, H = block.W, block.H
    fig = new_figure((W, H))
    title_block(fig, block.title, block.title_font, block.margin, block.margin, W, H)
    bars_h = BAR_EM * f / 72.0 * m
    ax = fig.add_axes(((block.left + label_w) / W, 1 - (block.body_top + bars_h) / H, bar_w / W, bars_h / H))
    for i, shares in enumerate(layout.shares):
        left = 0.0
        for level, share in zip(LEVELS, shares, strict=True):
            if share > 0:
                ax.barh(
                    i, share, left=left, color=COLOURS[level], edgecolor="0.25", linewidth=0.5, height=0.7
                )
            left += share
    ax.set_ylim(m - 0.5, -0.5)
    ax.set_xlim(0, 100)
    ax.set_yticks(range(m))
    ax.set_yticklabels(rows, fontsize=f)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xticklabels(["0%", "25%", "50%", "75%", "100%"], fontsize=f - 0.5)
    ax.tick_params(axis="y", length=0)
    key_dot = 60.0 * (f / 9.0) ** 2
    key_y = block.body_top + bars_h + 2.6 * line_height(f)
    draw_level_key(fig, block.left + math.sqrt(key_dot) / 144.0, H - key_y, W, H, key_dot, f - 1)
    return fig


def analysis_rob_layout(analysis, title: str = "", weighted: bool = True) -> RobLayout:
    """The judgements of the pooled studies, summary shares weighted as the analysis weighs them."""
    from metamg.errors import InputError, Problem

    es = analysis.effects
    if not rob.has_rob(es.extra):
        raise InputError(
            [
                Problem(
                    es.source,
                    "no risk-of-bias judgements to plot: add RoB 2 columns "
                    "(" + ", ".join(rob.COLUMNS) + ") with low, some concerns or high",
                    line=1,
                )
            ]
        )
    weights = [row.weight or 0.0 for row in analysis.rows] if weighted else None
    return rob_layout(es.studies, es.extra, weights, title)


class RobFigures(NamedTuple):
    """The traffic-light and summary figures of one layout; a notebook shows both, one above
    the other (a plain tuple would show as text)."""

    traffic: Any  # metamg.render.notebook.Figure
    summary: Any

    def _repr_html_(self) -> str:
        import base64

        return "\n".join(
            f'<img alt="{alt}" src="data:image/png;base64,'
            f'{base64.b64encode(fig._repr_png_()).decode("ascii")}"/><br/>'
            for alt, fig in (
                ("risk-of-bias traffic-light plot", self.traffic),
                ("risk-of-bias summary plot", self.summary),
            )
        )


def draw_rob_plots(layout: RobLayout, size: str | FigureSize | None = None) -> RobFigures:
    """Both risk-of-bias figures of ``layout`` at ``size``."""
    return RobFigures(draw_traffic_light(layout, size), draw_summary(layout, size))


def write_rob_plots(
    layout: RobLayout, traffic_path, summary_path, *, size: str | FigureSize | None = None
) -> tuple[str, str]:
    """The traffic-light plot and the summary bar plot at ``size``, each written atomically
    (.png, .svg or .pdf)."""
    from metamg.render.figures import save_figure

    save_figure(draw_traffic_light(layout, size), traffic_path)
    save_figure(draw_summary(layout, size), summary_path)
    return traffic_path, summary_path
