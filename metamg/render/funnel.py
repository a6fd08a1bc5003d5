"""Contour-enhanced funnel plots (Peters et al. 2008, J Clin Epidemiol 61:991-996).

Effect against standard error (inverted axis), pseudo confidence limits around the pooled effect at
the analysis's level (as metafor's funnel), and
shading where a study would be significant at p < 0.10, 0.05 and 0.01 against the null.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from metamg.analyses.bias import model_effect_rows, model_effects
from metamg.models.distributions import norm_ppf
from metamg.render.figures import (
    TITLE_CHARS,
    FigureSize,
    axis_label,
    effect_axis,
    figure_size,
    linear_limits,
    linear_ticks,
    panel_for,
    plain_text,
    ratio_limits,
    ratio_ticks,
    shorten,
    tick_label,
)
from metamg.render.numbers import level_label

if TYPE_CHECKING:
    from matplotlib.artist import Artist

CONTOURS = (0.10, 0.05, 0.01)
SHADES = ("0.88", "0.74", "0.58")  # lighter to darker: p < 0.10, < 0.05, < 0.01


@dataclass(frozen=True)
class FunnelLayout:
    title: str
    measure: str
    studies: tuple[str, ...]
    x: tuple[float, ...]  # natural scale
    se: tuple[float, ...]
    pooled: float  # natural scale
    null: float
    se_max: float
    funnel_low: float  # pseudo confidence limits at se_max, natural scale
    funnel_high: float
    contour_z: tuple[float, ...]  # two-sided critical values for CONTOURS
    log_scale: bool
    xlim: tuple[float, float]
    xticks: tuple[float, ...]
    xtick_labels: tuple[str, ...]
    filled_x: tuple[float, ...] = ()  # trim-and-fill studies, natural scale
    filled_se: tuple[float, ...] = ()
    adjusted: float | None = None  # trim-and-fill estimate, natural scale
    level: float = 0.95  # of the pseudo confidence limits


def funnel_layout(analysis, title: str = "", trimfill=None) -> FunnelLayout:
    m, r = analysis.measure, analysis.result
    nat = analysis.natural
    # the effects the model works with (Peto's (O-E)/V, ...), as trim and fill and the tests use
    yi, vi = model_effects(analysis)
    names = tuple(
        s for s, keep in zip(analysis.effects.studies, model_effect_rows(analysis), strict=True) if keep
    )
    se = np.sqrt(vi)
    se_max = float(se.max()) * 1.08
    z_level = norm_ppf(1 - (1 - r.level) / 2)  # the pseudo limits at the analysis's level
    log_scale = m.scale == "log"
    zs = tuple(norm_ppf(1 - a / 2) for a in CONTOURS)
    filled_x = tuple(float(v) for v in m.to_natural(np.array(trimfill.filled_yi))) if trimfill else ()
    filled_se = tuple(float(np.sqrt(v)) for v in trimfill.filled_vi) if trimfill else ()
    if filled_se:
        se_max = max(se_max, 1.08 * max(filled_se))
    lows = (
        [float(v) for v in m.to_natural(yi)]
        + list(filled_x)
        + [nat(r.estimate - z_level * se_max), nat(-zs[-1] * se_max)]
    )
    highs = [nat(r.estimate + z_level * se_max), nat(zs[-1] * se_max)]
    if log_scale:
        xlim = ratio_limits(lows + highs)
        ticks = ratio_ticks(*xlim)
    else:
        xlim = linear_limits(lows + highs)
        ticks = linear_ticks(*xlim)
        xlim = (min(xlim[0], ticks[0]), max(xlim[1], ticks[-1]))
    return FunnelLayout(
        title=shorten(title or analysis.source, TITLE_CHARS),
        measure=axis_label(m),
        studies=names,
        x=tuple(float(v) for v in m.to_natural(yi)),
        se=tuple(float(s) for s in se),
        pooled=nat(r.estimate),
        null=1.0 if log_scale else 0.0,
        se_max=se_max,
        funnel_low=nat(r.estimate - z_level * se_max),
        funnel_high=nat(r.estimate + z_level * se_max),
        contour_z=zs,
        log_scale=log_scale,
        xlim=xlim,
        xticks=tuple(ticks),
        xtick_labels=tuple(tick_label(t) for t in ticks),
        filled_x=filled_x,
        filled_se=filled_se,
        adjusted=nat(trimfill.result.estimate) if trimfill else None,
        level=r.level,
    )


@plain_text
def draw_funnel(layout: FunnelLayout, ax=None, size: str | FigureSize | None = None):
    """The funnel plot on a figure of its own at ``size`` (legend to the right of the axes),
    or on the caller's ``ax``; returns the figure."""
    from matplotlib.patches import Patch

    own = ax is None
    spec = figure_size(size)
    f = spec.font if own else 8.5
    fig, ax = panel_for(ax, spec, layout.title, aspect=1.5)
    k = max(1.0, f / 9.0)  # markers and lines grow with the type (slides)
    to_nat = np.exp if layout.log_scale else (lambda v: v)
    centre = 0.0  # the null on the analysis scale
    grid = np.linspace(0, layout.se_max, 200)
    # shading runs to just past the axis, on the analysis scale (no overflow in exp)
    lim = np.log(layout.xlim) if layout.log_scale else np.asarray(layout.xlim, dtype=float)
    edge = 2 * float(np.max(np.abs(lim - centre))) + 1.0
    inner = [np.minimum(z * grid, edge) for z in layout.contour_z]
    outer = inner[1:] + [np.full_like(grid, edge)]  # the p < 0.01 band runs to the edge
    for shade, z_in, z_out in zip(SHADES, inner, outer, strict=True):
        ax.fill_betweenx(
            grid, to_nat(centre + z_in), to_nat(centre + z_out), color=shade, linewidth=0, zorder=0
        )
        ax.fill_betweenx(
            grid, to_nat(centre - z_out), to_nat(centre - z_in), color=shade, linewidth=0, zorder=0
        )
    ax.axvline(layout.null, color="0.3", linewidth=0.8 * k, zorder=1)
    ax.plot(
        [layout.funnel_low, layout.pooled, layout.funnel_high],
        [layout.se_max, 0, layout.se_max],
        color="black",
        linestyle="--",
        linewidth=0.9 * k,
        zorder=2,
    )
    ax.axvline(layout.pooled, color="#1f4e79", linewidth=1.0 * k, zorder=2)
    # one Line2D of markers: as a scatter, but quick for hundreds of thousands of studies
    ax.plot(
        layout.x,
        layout.se,
        linestyle="none",
        marker="o",
        markersize=28**0.5 * k,
        markerfacecolor="white",
        markeredgecolor="black",
        markeredgewidth=0.9 * k,
        zorder=3,
    )
    if layout.filled_x:
        ax.scatter(
            layout.filled_x,
            layout.filled_se,
            s=28 * k * k,
            color="#b03a2e",
            edgecolors="black",
            linewidths=0.6 * k,
            zorder=3,
        )
        ax.axvline(layout.adjusted, color="#b03a2e", linewidth=1.0 * k, linestyle=":", zorder=2)
    effect_axis(ax, layout.log_scale, layout.xlim, layout.xticks, f - 0.5)
    ax.set_ylim(layout.se_max, 0)
    ax.set_ylabel("Standard error", fontsize=f)
    ax.set_xlabel(layout.measure + (" (log scale)" if layout.log_scale else ""), fontsize=f)
    ax.tick_params(axis="y", labelsize=f - 0.5)
    handles: list[Artist] = [Patch(facecolor="white", edgecolor="0.5", label="p ≥ 0.10")]
    labels = ("0.05 ≤ p < 0.10", "0.01 ≤ p < 0.05", "p < 0.01")
    handles += [Patch(facecolor=c, label=lab) for c, lab in zip(SHADES, labels, strict=True)]
    from matplotlib.lines import Line2D

    if layout.filled_x:
        handles += [
            Line2D(
                [],
                [],
                marker="o",
                color="white",
                markerfacecolor="#b03a2e",
                markeredgecolor="black",
                markersize=28**0.5 * k,  # as drawn
                label=f"filled by trim and fill ({len(layout.filled_x)})",
            ),
            Line2D([], [], color="#b03a2e", linestyle=":", label="adjusted estimate"),
        ]
    handles += [
        Line2D([], [], color="black", linestyle="--", label=f"pseudo {level_label(layout.level)} limits"),
        Line2D([], [], color="#1f4e79", label="pooled estimate"),
        Line2D([], [], color="0.3", label="no effect"),
    ]
    if own:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.02, 1.0),
            fontsize=f - 1,
            frameon=False,
            title="significance vs no effect",
            title_fontsize=f - 1,
        )
    else:  # the caller's axes may have neighbours to the right: keep the legend inside
        ax.legend(
            handles=handles,
            loc="lower right",
            fontsize=6.5,
            framealpha=0.9,
            title="significance vs no effect",
            title_fontsize=6.5,
        )
    return fig


def write_funnel(
    analysis, path, title: str = "", trimfill=None, *, size: str | FigureSize | None = None
) -> FunnelLayout:
    """The funnel plot of ``analysis`` at ``size``, written to PATH (.png, .svg or .pdf)."""
    from metamg.render.figures import save_figure

    layout = funnel_layout(analysis, title, trimfill)
    save_figure(draw_funnel(layout, size=size), path)
    return layout
