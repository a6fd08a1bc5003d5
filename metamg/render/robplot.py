"""Risk-of-bias figures in robvis's style: the traffic-light plot and the weighted summary bars.

McGuinness LA, Higgins JPT. Risk-of-bias VISualization (robvis): an R package and Shiny web app
for visualizing risk-of-bias assessments. Res Syn Meth 2021;12:55-61. Colours are robvis's; each
dot also carries a symbol so that the figure reads in greyscale and for colour-blind readers.
``rob_layout`` computes what is shown (tested); the draw functions only draw it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

from metamg.io import rob
from metamg.render.figures import TITLE_CHARS, new_figure, plain_text, shorten

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


def draw_level_key(fig, x_in, y_in, W, H, size=60.0) -> None:
    """The colour key in one line at (x_in, y_in) inches from the figure's bottom left."""
    ax = fig.add_axes((0, 0, 1, 1), facecolor="none")
    ax.set_axis_off()
    ax.set_xlim(0, W)
    ax.set_ylim(0, H)
    x = x_in
    for level in LEVELS:
        draw_dot(ax, x, y_in, level, size)
        ax.text(x + 0.12, y_in, LEVEL_NAMES[level], va="center", fontsize=8)
        x += 0.12 + 0.075 * len(LEVEL_NAMES[level]) + 0.3


@plain_text
def draw_traffic_light(layout: RobLayout):
    n, m = len(layout.studies), len(layout.columns)
    label_w = 0.2 + 0.075 * max([len(s) for s in layout.studies] + [10])
    cell = 0.42
    legend = legend_lines(layout.columns)
    W = max(label_w + cell * m + 0.4, 6.2)
    top_in, bottom_in = 0.75, 0.45 + 0.17 * len(legend) + 0.35
    H = top_in + cell * n + bottom_in
    fig = new_figure((W, H))
    ax = fig.add_axes((label_w / W, bottom_in / H, cell * m / W, cell * n / H))
    ax.set_xlim(-0.5, m - 0.5)
    ax.set_ylim(n - 0.5, -0.5)
    for i, judged in enumerate(layout.judgements):
        for j, level in enumerate(judged):
            draw_dot(ax, j, i, level, 260.0)
    ax.set_xticks(range(m))
    ax.set_xticklabels([header(c) for c in layout.columns], fontsize=9, fontweight="bold")
    ax.xaxis.tick_top()
    ax.set_yticks(range(n))
    ax.set_yticklabels(layout.studies, fontsize=9)
    ax.tick_params(length=0)
    for x in np.arange(-0.5, m, 1.0):
        ax.axvline(x, color="0.85", linewidth=0.6)
    for y in np.arange(-0.5, n, 1.0):
        ax.axhline(y, color="0.85", linewidth=0.6)
    for side in ax.spines.values():
        side.set_color("0.6")
    fig.text(
        0.15 / W,
        1 - 0.12 / H,
        layout.title or "Risk of bias (RoB 2)",
        fontsize=10.5,
        fontweight="bold",
        va="top",
    )
    for k, line in enumerate(legend):
        fig.text(0.15 / W, (bottom_in - 0.3 - 0.17 * k) / H, line, fontsize=7.5, va="center")
    draw_level_key(fig, 0.25, 0.22, W, H)
    return fig


@plain_text
def draw_summary(layout: RobLayout):
    rows = domain_names(layout.columns)
    m = len(layout.columns)
    label_w = 0.2 + 0.068 * max(len(r) for r in rows)
    W, bar_w = label_w + 4.2, 3.9
    H = 0.75 + 0.34 * m + 0.8
    fig = new_figure((W, H))
    ax = fig.add_axes((label_w / W, 0.8 / H, bar_w / W, 0.34 * m / H))
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
    ax.set_yticklabels(rows, fontsize=8.5)
    ax.set_xticks([0, 25, 50, 75, 100])
    ax.set_xticklabels(["0%", "25%", "50%", "75%", "100%"], fontsize=8)
    ax.tick_params(axis="y", length=0)
    what = "share of the analysis weight" if layout.weighted else "share of studies"
    fig.text(
        0.15 / W,
        1 - 0.12 / H,
        (layout.title or "Risk of bias (RoB 2)") + f": {what}",
        fontsize=10.5,
        fontweight="bold",
        va="top",
    )
    draw_level_key(fig, label_w, 0.22, W, H)
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


def draw_rob_plots(layout: RobLayout) -> RobFigures:
    """Both risk-of-bias figures of ``layout``."""
    return RobFigures(draw_traffic_light(layout), draw_summary(layout))


def write_rob_plots(layout: RobLayout, traffic_path, summary_path) -> tuple[str, str]:
    """The traffic-light plot and the summary bar plot, each written atomically (.png or .svg)."""
    from metamg.render.figures import save_figure

    save_figure(draw_traffic_light(layout), traffic_path)
    save_figure(draw_summary(layout), summary_path)
    return traffic_path, summary_path
