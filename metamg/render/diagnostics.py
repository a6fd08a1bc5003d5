"""Diagnostic plots: Baujat, GOSH and bubble plots (matplotlib Figure, no pyplot)."""

from __future__ import annotations

import numpy as np

from metamg.render.figures import (
    FigureSize,
    axis_label,
    figure_size,
    fixed_ticks,
    panel_for,
    plain_text,
    ratio_ticks,
    save_figure,
    shorten,
)

ASPECT = 1.4  # a plot with a figure of its own: 7 x 4.8 in (auto), 6.3 x 4.5 in (page), or a slide


def _frame(ax, size, title):
    """The figure and axes, the body font, and the scale of markers (1 at auto's type)."""
    spec = figure_size(size)
    fig, ax_ = panel_for(ax, spec, title, ASPECT)
    font = spec.font if ax is None else 9.0
    return fig, ax_, font, max(1.0, font / 9.0)


@plain_text
def draw_baujat(points, title: str, ax=None, size: str | FigureSize | None = None):
    """The Baujat plot on a figure of its own at ``size``, or on the caller's ``ax``; returns
    the figure."""
    fig, ax, font, k = _frame(ax, size, f"Baujat plot: {title}")
    x = [p.contribution for p in points]
    y = [p.influence for p in points]
    ax.scatter(x, y, s=22 * k * k, color="#1f4e79", zorder=3)
    # label the studies that stand out on either axis; stagger labels that share a level
    top = 4
    by_x = sorted(points, key=lambda p: -p.contribution)[:top]
    by_y = sorted(points, key=lambda p: -p.influence)[:top]
    labelled = sorted({p.study: p for p in by_x + by_y}.values(), key=lambda p: p.contribution)
    right_edge = max(x) * 0.75
    for n, p in enumerate(labelled):
        left = p.contribution > right_edge  # near the right edge: label to the left
        ax.annotate(
            shorten(p.study),
            (p.contribution, p.influence),
            xytext=(-4 if left else 4, 4 + 1.1 * (font - 1) * (n % 3)),
            textcoords="offset points",
            fontsize=font - 1.5,
            ha="right" if left else "left",
            arrowprops=dict(arrowstyle="-", color="0.6", linewidth=0.5),
        )
    ax.set_xlabel("Contribution to overall heterogeneity (squared Pearson residual)", fontsize=font)
    ax.set_ylabel("Influence on the pooled result", fontsize=font)
    ax.tick_params(labelsize=font - 0.5)
    ax.grid(color="0.9", zorder=0)
    return fig


@plain_text
def draw_gosh(subsets, analysis, title: str, ax=None, size: str | FigureSize | None = None):
    """The GOSH plot of ``subsets`` (a Gosh result of ``analysis``'s studies) on a figure of its
    own at ``size``, or on the caller's ``ax``; returns the figure."""
    how = "all" if subsets.exhaustive else "a random sample of"
    fig, ax, font, k = _frame(ax, size, f"GOSH plot: {title} ({how} {subsets.n_subsets:,} subsets)")
    x = analysis.measure.to_natural(subsets.estimate)
    ax.scatter(
        x,
        subsets.I2,
        s=2 * k * k,
        color="#1f4e79",
        alpha=min(0.6, max(0.02, 2000 / len(x))),
        linewidths=0,
        rasterized=True,
    )
    if analysis.measure.scale == "log":
        ax.set_xscale("log")
        _ratio_axis(ax.xaxis, ax.get_xlim())
    ax.set_xlabel(axis_label(analysis.measure) + " of the subset (common-effect model)", fontsize=font)
    ax.set_ylabel("I² of the subset (%)", fontsize=font)
    ax.tick_params(labelsize=font - 0.5)
    ax.set_ylim(-2, 102)
    return fig


@plain_text
def draw_bubble(analysis, fit_result, design, title: str, ax=None, size: str | FigureSize | None = None):
    """Effect against one continuous moderator: bubbles with area ∝ weight in the model,
    the regression line and its confidence band; on a figure of its own at ``size``, or on the
    caller's ``ax``. Returns the figure."""
    from metamg.models.distributions import norm_ppf, t_ppf

    es = analysis.effects
    name = fit_result.coefficients[1].name
    xs = design.X[:, 1]
    yi, vi = es.yi[design.rows], es.vi[design.rows]
    w = 1 / (vi + fit_result.tau2)
    fig, ax, font, k = _frame(ax, size, f"Meta-regression on {name}: {title}")
    nat = analysis.measure.to_natural
    ax.scatter(
        xs,
        nat(yi),
        s=600 * k * k * w / w.max(),
        facecolor="#9db9d5",
        edgecolor="#1f4e79",
        linewidths=0.8,
        zorder=3,
    )
    grid = np.linspace(xs.min(), xs.max(), 100)
    b0, b1 = fit_result.coefficients[0].estimate, fit_result.coefficients[1].estimate
    (v00, v01), (_, v11) = fit_result.vcov
    pred = b0 + b1 * grid
    se = np.sqrt(v00 + grid**2 * v11 + 2 * grid * v01)
    tail = 1 - (1 - fit_result.level) / 2  # the band at the analysis's confidence level
    crit = norm_ppf(tail) if fit_result.df is None else t_ppf(tail, fit_result.df)
    ax.plot(grid, nat(pred), color="#1f4e79", linewidth=1.4 * k, zorder=4)
    ax.fill_between(
        grid, nat(pred - crit * se), nat(pred + crit * se), color="#1f4e79", alpha=0.12, linewidth=0, zorder=2
    )
    if analysis.measure.scale == "log":
        ax.set_yscale("log")
        _ratio_axis(ax.yaxis, ax.get_ylim())
    ax.axhline(1.0 if analysis.measure.scale == "log" else 0.0, color="0.5", linewidth=0.8)
    ax.set_xlabel(shorten(name), fontsize=font)
    ax.set_ylabel(axis_label(analysis.measure), fontsize=font)
    ax.tick_params(labelsize=font - 0.5)
    return fig


def _ratio_axis(axis, limits) -> None:
    """1-2-5 ratio ticks in plain decimals on a log axis, as in the forest plot."""
    fixed_ticks(axis, ratio_ticks(*limits))


def write(fig, path) -> None:
    save_figure(fig, path)
