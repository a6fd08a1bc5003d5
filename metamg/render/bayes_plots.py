"""The Bayesian meta-analysis's figures: the posterior of tau and of mu with their priors, and
the forest plot of shrinkage estimates. ``metamg.analyses.bayes`` computes what they show
(``posterior_curves``, ``shrinkage_forest``); this module only draws it (matplotlib Figure, no
pyplot)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from metamg.effects.measures import MEASURES
from metamg.render.bayes_text import PRIOR_NAMES
from metamg.render.figures import (
    ASCENT,
    FAVOURS_CHARS,
    RATIO_TICKS,
    TITLE_CHARS,
    FigureSize,
    axis_caption,
    axis_label,
    axis_texts,
    below_axis,
    effect_axis,
    favours_labels,
    figure_size,
    fit_lines,
    fixed_ticks,
    line_height,
    linear_limits,
    linear_ticks,
    lines_in,
    new_figure,
    null_fraction,
    plain_text,
    ratio_limits,
    ratio_ticks,
    shorten,
    text_width,
    title_block,
    titled_figure,
    wrap_lines,
)
from metamg.render.numbers import effect_digits, fmt_fixed, fmt_num

POSTERIOR_COLOR = "#1f4e79"
PRIOR_COLOR = "#b03a2e"
SHRUNK_COLOR = "#2e7d32"
PREDICTIVE_COLOR = "#b03a2e"

# -- the posterior plot -----------------------------------------------------------------------

POSTERIOR_SIZE = (10.0, 5.2)  # inches (auto): two panels side by side
POSTERIOR_PAGE_HEIGHT = 7.4  # page: the panels one above the other


def _scale_name(measure: str) -> str:
    """The analysis scale in words: "log odds ratio", "mean difference", ..."""
    m = MEASURES.get(measure)
    if m is None:
        return measure
    if m.scale == "log":
        return f"log {m.label}"
    if m.scale == "logit":
        return f"logit of the {m.label}"
    return m.label


def _prior_words(facts) -> str:
    return PRIOR_NAMES[facts["type"]](facts)


@plain_text
def draw_posterior(curves, size: str | FigureSize | None = None):
    """The marginal posterior densities of tau and mu (a PosteriorCurves) side by side (one
    above the other at ``page`` size), each with its prior (a note where the prior is
    improper), the median and the 95% equal-tailed interval marked; for ratio measures mu's
    natural scale on a second axis above. It takes no ``ax``: it is two panels."""
    spec = figure_size(size)
    m = MEASURES.get(curves.measure)
    ratio = m is not None and m.scale == "log"
    scale = _scale_name(curves.measure)
    title = shorten(f"Posterior of tau and mu: {curves.title}", TITLE_CHARS)
    subtitle = (
        f"Bayesian random-effects meta-analysis, {curves.k} {'study' if curves.k == 1 else 'studies'}, "
        f"{scale} scale; shaded: the 95% equal-tailed credible interval.",
        f"Priors: tau ~ {_prior_words(curves.tau_prior_note.facts)}; "
        f"mu ~ {_prior_words(curves.mu_prior_note.facts)}.",
    )
    fig, below_title = titled_figure(spec, title, subtitle, POSTERIOR_SIZE, POSTERIOR_PAGE_HEIGHT)
    stacked = spec.name == "page"
    left_ax, right_ax = fig.subplots(2, 1) if stacked else fig.subplots(1, 2)
    f = spec.font
    # about the height of a panel, in inches: what is left under the title, less the axis
    # labels (and the ratio axis above mu's panel)
    labels = (2.6 if ratio else 1.6) * line_height(f) + 0.2
    panel_h = (below_title - (2 * labels if stacked else labels)) / (2 if stacked else 1)
    _density_panel(
        left_ax,
        curves.tau,
        f"tau (between-study SD, {scale} scale)",
        _prior_words(curves.tau_prior_note.facts),
        "prior: improper, no density to draw",
        f,
        panel_h,
    )
    _density_panel(
        right_ax,
        curves.mu,
        f"mu (mean effect, {scale})",
        _prior_words(curves.mu_prior_note.facts),
        "prior: flat (improper), no density to draw",
        f,
        panel_h,
    )
    left_ax.set_ylabel("density", fontsize=f)
    if spec.name == "page":
        right_ax.set_ylabel("density", fontsize=f)
    if ratio:
        assert m is not None
        _natural_axis(right_ax, curves.mu.xlim, f"{m.label} ({m.name}) = exp(mu)", f)
    return fig


def _density_panel(
    ax, curve, xlabel: str, prior_name: str, improper: str, font: float = 9.0, panel_h: float = 3.4
) -> None:
    """One density panel; ``panel_h`` (about the panel's height, inches) leaves the legend, at
    the top right, room above the curves."""
    k = max(1.0, font / 9.0)  # lines grow with the type (slides)
    lo, hi = curve.xlim
    x, f = curve.x, curve.posterior
    shown = [v for t, v in zip(x, f, strict=True) if lo <= t <= hi]
    peak = max(shown)
    if curve.prior is not None:
        peak = max(peak, max(v for t, v in zip(x, curve.prior, strict=True) if lo <= t <= hi))
    ax.plot(x, f, color=POSTERIOR_COLOR, linewidth=1.8 * k, zorder=3, label="posterior")
    inside = [(t, v) for t, v in zip(x, f, strict=True) if curve.q025 <= t <= curve.q975]
    ax.fill_between(
        [t for t, _ in inside],
        [v for _, v in inside],
        color=POSTERIOR_COLOR,
        alpha=0.18,
        linewidth=0,
        zorder=2,
        label=f"95% credible interval: {fmt_num(curve.q025)} to {fmt_num(curve.q975)}",
    )
    at_median = next(v for t, v in zip(x, f, strict=True) if t == curve.median)
    ax.vlines(
        curve.median,
        0,
        at_median,
        colors=POSTERIOR_COLOR,
        linestyles="--",
        linewidth=1.2 * k,
        zorder=4,
        label=f"median: {fmt_num(curve.median)}",
    )
    for end in (curve.q025, curve.q975):
        height = next(v for t, v in zip(x, f, strict=True) if t == end)
        ax.vlines(end, 0, height, colors=POSTERIOR_COLOR, linewidth=0.8 * k, zorder=4)
    if curve.prior is not None:
        ax.plot(
            x,
            curve.prior,
            color=PRIOR_COLOR,
            linewidth=1.3 * k,
            linestyle=(0, (4, 2)),
            zorder=3,
            label=f"prior: {prior_name}",
        )
    ax.set_xlim(lo, hi)
    if curve.prior is None:  # say so in the legend, beside what is drawn
        ax.plot([], [], color="none", label=improper)
    legend_h = 4 * 1.45 * line_height(font - 1.5) + 0.1  # four entries
    ax.set_ylim(0, peak * max(1.45, 1.1 / max(0.3, 1 - legend_h / panel_h)))
    ax.set_xlabel(xlabel, fontsize=font)
    ax.tick_params(labelsize=font - 1)
    ax.tick_params(axis="x", pad=0.5 * font)  # clear of the y axis's 0 at the corner
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper right", fontsize=font - 1.5, frameon=False, handlelength=2.2)


def _natural_axis(ax, xlim, label: str, font: float = 9.0) -> None:
    """A second x axis above, in ratios (exp of the analysis scale) at readable ticks."""
    import numpy as np

    def log(x):
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.log(x)

    sec = ax.secondary_xaxis("top", functions=(np.exp, log))
    low, high = math.exp(xlim[0]), math.exp(xlim[1])
    ticks = ratio_ticks(low, high)
    if len(ticks) < 3:  # a narrow range: finer steps (0.3, 0.5, 0.7)
        finer = sorted({m * 10.0**e for e in range(-4, 5) for m in (1, 1.5, 2, 3, 5, 7)} | set(RATIO_TICKS))
        ticks = [t for t in finer if low <= t <= high]
    fixed_ticks(sec.xaxis, ticks, font - 1)
    sec.set_xlabel(label, fontsize=font)
    ax.spines["top"].set_visible(True)


# -- the forest plot of shrinkage estimates ---------------------------------------------------

ROW_EM = 2.3  # one study, in ems: the observed and the shrinkage estimate one above the other
PLOT_EM = 25.0  # auto: the plot panel (3.1 in at 9 pt)
GAP_EM = 1.3
OFFSET = 0.17  # rows: observed above, shrinkage below the row's centre
MIN_PLOT_SHARE = {"page": 0.28, "slide": 0.35}  # of a fixed width, before the type shrinks
MIN_LABEL_CHARS = 16
LEGEND = (
    "observed effect, 95% CI",
    "shrinkage estimate: posterior median, 95% CrI",
    "predictive 95% interval of a new study's effect",
)


@dataclass(frozen=True)
class _ForestFrame:
    """Where the Bayesian forest plot's parts go at one font, in inches."""

    W: float
    H: float
    font: float
    margin: float
    left: float  # the table's left edge (a fixed width centres it)
    title: tuple[str, ...]
    title_font: float
    legend_cols: int
    label_w: float
    plot_w: float
    obs_w: float
    post_w: float
    notes: tuple[str, ...]
    row_h: float
    top: float  # from the figure's top to the first row's top
    bottom: float  # from the figure's bottom to the panel
    fits: bool
    favours: tuple[str, str]
    caption: str


def _forest_frame(
    spec: FigureSize, f: float, title: str, labels, observed, posterior, heads, notes, units, axis
):
    """The frame at font ``f``; ``axis`` is (favours labels, caption, the null's fraction
    across the axis), wrapped here to the room they get."""
    em = f / 72.0
    gap = GAP_EM * em
    margin = 0.12 * max(1.0, f / 9.0)
    label_w = max(text_width(t, f, bold=i >= len(labels) - 2) for i, t in enumerate([*labels])) + gap
    label_w = max(label_w, text_width("Study", f, True) + gap)
    obs_w = max([text_width(t, f) for t in observed] + [text_width(heads[0], f, True)]) + gap
    post_w = max([text_width(t, f, True) for t in posterior] + [text_width(heads[1], f, True)]) + gap
    others = label_w + obs_w + post_w + gap
    legend_w = sum(text_width(t, f - 1) + 4.2 * f / 72.0 for t in LEGEND)
    fits = True
    left = margin
    if spec.width is None:
        plot_w = PLOT_EM * em
        W = 2 * margin + others + plot_w
        W = max(W, 2 * margin + legend_w / 3 + 4.2 * em)  # at least the legend's widest entry
    else:
        W = spec.width
        plot_w = min(W - 2 * margin - others, 0.5 * W)
        left += (W - 2 * margin - others - plot_w) / 2
        if plot_w < MIN_PLOT_SHARE[spec.name] * W:
            fits = False
            plot_w = MIN_PLOT_SHARE[spec.name] * W
            W = 2 * margin + others + plot_w
    legend_cols = 3 if legend_w <= W - 2 * margin else 1
    wrapped = tuple(line for n in notes for line in wrap_lines(n, W - 2 * margin, f - 1, italic=True))
    lines, title_font = fit_lines(title, W - 2 * margin, min(spec.title_font, 1.35 * f), f)
    row_h = ROW_EM * em
    top = margin + len(lines) * line_height(title_font) + 0.3 * line_height(f)
    top += (1 if legend_cols == 3 else 3) * line_height(f - 1) * 1.3 + 0.4 * line_height(f)
    top += line_height(f) * 1.2  # the column headers
    favours, caption, fraction = axis
    plot_x = left + label_w
    favours, caption = axis_texts(
        favours, caption, f, plot_x + fraction * plot_w, (plot_x, plot_x + plot_w), (margin, W - margin)
    )
    below = below_axis(f, max(lines_in(t) for t in favours), lines_in(caption))
    bottom = below + len(wrapped) * line_height(f - 1) + 0.1
    H = top + units * row_h + bottom
    if spec.height is not None:
        if spec.height + 1e-9 < H:
            fits = False
        else:
            spare = spec.height - H
            top += spare / 2
            bottom += spare / 2
            H = spec.height
    return _ForestFrame(
        W,
        H,
        f,
        margin,
        left,
        lines,
        title_font,
        legend_cols,
        label_w,
        plot_w,
        obs_w,
        post_w,
        wrapped,
        row_h,
        top,
        bottom,
        fits,
        favours,
        caption,
    )


@plain_text
def draw_bayes_forest(forest, size: str | FigureSize | None = None):
    """The Bayesian forest plot of a ShrinkageForest: per study the observed effect with its 95%
    CI and the shrinkage estimate (posterior median, 95% credible interval) beneath it, then
    the pooled mu and a new study's effect theta_new, on the natural scale (a log axis for
    ratios), with their numbers; at ``size`` (a fixed size takes the largest type, down to its
    minimum, at which the columns and rows fit). It takes no ``ax``: it is a table around one
    panel."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon
    from matplotlib.transforms import blended_transform_factory

    spec = figure_size(size)
    m = MEASURES.get(forest.measure)
    digits = effect_digits(m) if m is not None else 2
    name = m.natural_name if m is not None else forest.measure

    def triple(t) -> str:
        est, lo, hi = t
        return f"{fmt_fixed(est, digits)} [{fmt_fixed(lo, digits)}, {fmt_fixed(hi, digits)}]"

    names = {
        "mu": "mu (mean effect)",
        "theta_new": "theta_new (a new study)",
    }

    def labels_at(chars: int) -> list[str]:
        return [shorten(e.label, chars) if e.kind == "study" else names[e.kind] for e in forest.entries]

    observed = [triple(e.observed) if e.observed is not None else "" for e in forest.entries]
    posterior = [triple(e.posterior) for e in forest.entries]
    heads = (f"Observed {name} [95% CI]", f"Posterior {name} [95% CrI]")
    notes = (
        f"Bayesian random effects, {forest.k} {'study' if forest.k == 1 else 'studies'}; "
        f"tau (between-study SD, {_scale_name(forest.measure)} scale): {fmt_num(forest.tau[0])} "
        f"[95% CrI {fmt_num(forest.tau[1])}, {fmt_num(forest.tau[2])}]",
        f"Priors: tau ~ {_prior_words(forest.tau_prior_note.facts)}; "
        f"mu ~ {_prior_words(forest.mu_prior_note.facts)}",
    )
    # rows: studies 0..k-1, a gap, mu, theta_new
    ys = []
    y = 0.0
    for e in forest.entries:
        if e.kind == "mu":
            y += 0.4
        ys.append(y)
        y += 1
    top_u, bottom_u = -0.6, ys[-1] + 0.6
    title = shorten(f"Shrinkage estimates: {forest.title}", TITLE_CHARS)

    values = [v for e in forest.entries for t in (e.observed, e.posterior) if t is not None for v in t]
    if forest.log_scale:
        xlim = ratio_limits(values)
        ticks = ratio_ticks(*xlim)
        null = 1.0
    else:
        xlim = linear_limits(values)
        ticks = linear_ticks(*xlim)
        xlim = (min(xlim[0], ticks[0]), max(xlim[1], ticks[-1]))
        null = 0.0
    left, right = forest.favours
    caption = (axis_label(m) if m is not None else forest.measure) + (
        " (log scale)" if forest.log_scale else ""
    )
    axis = (
        (shorten(left, FAVOURS_CHARS), shorten(right, FAVOURS_CHARS)),
        caption,
        null_fraction(null, xlim, forest.log_scale),
    )

    def frame(f, chars):
        return _forest_frame(
            spec, f, title, labels_at(chars), observed, posterior, heads, notes, bottom_u - top_u, axis
        )

    # a fixed size: the largest type that fits, then shorter labels at the smallest type
    fonts = [spec.font - 0.5 * i for i in range(int(round((spec.font - spec.min_font) / 0.5)) + 1)]
    tries = [(f, spec.label_chars) for f in fonts]
    tries += [(fonts[-1], c) for c in range(spec.label_chars - 4, MIN_LABEL_CHARS - 1, -4)]
    fr, chars = next(((frame(*t), t[1]) for t in tries if frame(*t).fits), (frame(*tries[-1]), tries[-1][1]))
    labels = labels_at(chars)
    W, H, f = fr.W, fr.H, fr.font
    k = max(1.0, f / 9.0)  # markers and lines grow with the type (slides)
    fig = new_figure((W, H))
    x0 = fr.left
    plot_x = x0 + fr.label_w
    rows_h = fr.row_h * (bottom_u - top_u)
    ax = fig.add_axes((plot_x / W, fr.bottom / H, fr.plot_w / W, rows_h / H))
    ax.set_ylim(bottom_u, top_u)

    effect_axis(ax, forest.log_scale, xlim, ticks, f - 0.5)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    trans = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    font = dict(fontsize=f, va="center", transform=trans, clip_on=False)
    title_block(fig, fr.title, fr.title_font, fr.margin, fr.margin, W, H)
    gap = GAP_EM * f / 72.0
    obs_right = plot_x + fr.plot_w + gap + fr.obs_w - gap
    post_right = obs_right + fr.post_w
    head = dict(fontsize=f, va="bottom", fontweight="bold", transform=fig.dpi_scale_trans, clip_on=False)
    header_y = H - fr.top + 0.2 * line_height(f)
    ax.text(x0, header_y, "Study", **head)
    ax.text(obs_right, header_y, heads[0], ha="right", **head)
    ax.text(post_right, header_y, heads[1], ha="right", **head)
    ax.vlines(null, top_u, bottom_u, colors="0.45", linewidth=0.8 * k, zorder=1)

    lo_lim, hi_lim = xlim
    obs_lines: list[list[tuple[float, float]]] = []
    shrunk_lines: list[list[tuple[float, float]]] = []
    for e, y, label, obs_text, post_text in zip(forest.entries, ys, labels, observed, posterior, strict=True):
        ax.text(x0, y, label, fontweight="bold" if e.kind == "mu" else "normal", **font)
        ax.text(obs_right, y, obs_text, ha="right", **font)
        ax.text(
            post_right,
            y,
            post_text,
            ha="right",
            color=SHRUNK_COLOR if e.kind == "study" else "black",
            fontweight="bold" if e.kind == "mu" else "normal",
            **font,
        )
        if e.kind == "study":
            assert e.observed is not None
            _interval(ax, obs_lines, e.observed, y - OFFSET, xlim, "black", k)
            _interval(ax, shrunk_lines, e.posterior, y + OFFSET, xlim, SHRUNK_COLOR, k)
            if lo_lim <= e.observed[0] <= hi_lim:
                ax.plot(
                    [e.observed[0]],
                    [y - OFFSET],
                    marker="s",
                    color=POSTERIOR_COLOR,
                    markersize=5 * k,
                    zorder=4,
                )
            if lo_lim <= e.posterior[0] <= hi_lim:
                ax.plot(
                    [e.posterior[0]],
                    [y + OFFSET],
                    marker="o",
                    color=SHRUNK_COLOR,
                    markersize=4.5 * k,
                    zorder=4,
                )
        elif e.kind == "mu":
            est, lo, hi = e.posterior
            lo, hi = max(lo, lo_lim), min(hi, hi_lim)
            h = 0.32
            ax.add_patch(
                Polygon(
                    [(lo, y), (est, y - h), (hi, y), (est, y + h)],
                    closed=True,
                    facecolor=POSTERIOR_COLOR,
                    edgecolor="black",
                    linewidth=0.6 * k,
                    zorder=4,
                )
            )
        else:
            est, lo, hi = e.posterior
            clipped = (lo < lo_lim, hi > hi_lim)
            lo, hi = max(lo, lo_lim), min(hi, hi_lim)
            ax.plot(
                [lo, hi], [y, y], color=PREDICTIVE_COLOR, linewidth=2.2 * k, zorder=3, solid_capstyle="butt"
            )
            if lo_lim <= est <= hi_lim:
                ax.plot(
                    [est], [y], marker="|", color="black", markersize=9 * k, markeredgewidth=1.4 * k, zorder=4
                )
            for c, xe, mark in ((clipped[0], lo_lim, "<"), (clipped[1], hi_lim, ">")):
                if c:
                    ax.plot([xe], [y], marker=mark, color=PREDICTIVE_COLOR, markersize=4 * k, clip_on=False)
    ax.add_collection(LineCollection(obs_lines, colors="black", linewidths=0.9 * k, zorder=2), autolim=False)
    ax.add_collection(
        LineCollection(shrunk_lines, colors=SHRUNK_COLOR, linewidths=1.3 * k, zorder=2), autolim=False
    )

    favours_labels(ax, null, fr.favours[0], fr.favours[1], font=f)
    axis_caption(ax, fr.caption, font=f, favours_lines=max(lines_in(t) for t in fr.favours))
    handles = [
        Line2D(
            [], [], color="black", marker="s", markerfacecolor=POSTERIOR_COLOR, markeredgewidth=0, lw=0.9 * k
        ),
        Line2D([], [], color=SHRUNK_COLOR, marker="o", lw=1.3 * k),
        Line2D([], [], color=PREDICTIVE_COLOR, lw=2.2 * k),
    ]
    legend_top = fr.margin + len(fr.title) * line_height(fr.title_font) + 0.3 * line_height(f)
    fig.legend(
        handles,
        list(LEGEND),
        loc="upper left",
        bbox_to_anchor=(fr.margin / W, 1 - legend_top / H),
        ncols=fr.legend_cols,
        fontsize=f - 1,
        frameon=False,
        handlelength=2.0,
        borderaxespad=0,
        borderpad=0,
    )
    for i, line in enumerate(fr.notes):
        below = below_axis(f, max(lines_in(t) for t in fr.favours), lines_in(fr.caption))
        y_in = fr.bottom - below - 0.05 - i * line_height(f - 1)
        y_in -= ASCENT * (f - 1) / 72.0  # by its baseline (see figures.ASCENT)
        fig.text(fr.margin / W, y_in / H, line, fontsize=f - 1, va="baseline", style="italic", color="0.2")
    return fig


def _interval(ax, lines, t, y, xlim, color, k: float = 1.0) -> None:
    """One horizontal interval line (into ``lines``), clipped to the axis with an arrow head."""
    _, lo, hi = t
    lo_lim, hi_lim = xlim
    lines.append([(max(lo, lo_lim), y), (min(hi, hi_lim), y)])
    if lo < lo_lim:
        ax.plot([lo_lim], [y], marker="<", color=color, markersize=4 * k, zorder=3, clip_on=False)
    if hi > hi_lim:
        ax.plot([hi_lim], [y], marker=">", color=color, markersize=4 * k, zorder=3, clip_on=False)
