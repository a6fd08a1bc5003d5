"""The Bayesian meta-analysis's figures: the posterior of tau and of mu with their priors, and
the forest plot of shrinkage estimates. ``metamg.analyses.bayes`` computes what they show
(``posterior_curves``, ``shrinkage_forest``); this module only draws it (matplotlib Figure, no
pyplot)."""

from __future__ import annotations

import math

from metamg.effects.measures import MEASURES
from metamg.render.bayes_text import PRIOR_NAMES
from metamg.render.figures import (
    RATIO_TICKS,
    TITLE_CHARS,
    axis_caption,
    axis_label,
    effect_axis,
    favours_labels,
    fixed_ticks,
    linear_limits,
    linear_ticks,
    new_figure,
    plain_text,
    ratio_limits,
    ratio_ticks,
    shorten,
)
from metamg.render.numbers import effect_digits, fmt_fixed, fmt_num

POSTERIOR_COLOR = "#1f4e79"
PRIOR_COLOR = "#b03a2e"
SHRUNK_COLOR = "#2e7d32"
PREDICTIVE_COLOR = "#b03a2e"

# -- the posterior plot -----------------------------------------------------------------------

POSTERIOR_SIZE = (11.0, 4.6)  # inches: two panels side by side


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
def draw_posterior(curves):
    """The marginal posterior densities of tau and mu (a PosteriorCurves) side by side, each
    with its prior (a note where the prior is improper), the median and the 95% equal-tailed
    interval marked; for ratio measures mu's natural scale on a second axis above. It takes
    no ``ax``: it is two panels."""
    fig = new_figure(POSTERIOR_SIZE)
    m = MEASURES.get(curves.measure)
    ratio = m is not None and m.scale == "log"
    scale = _scale_name(curves.measure)
    top = 0.66 if ratio else 0.76
    left_ax = fig.add_axes((0.065, 0.14, 0.41, top - 0.14))
    right_ax = fig.add_axes((0.565, 0.14, 0.41, top - 0.14))
    title = shorten(f"Posterior of tau and mu: {curves.title}", TITLE_CHARS)
    fig.text(0.015, 0.965, title, fontsize=11, fontweight="bold", va="top")
    subtitle = (
        f"Bayesian random-effects meta-analysis, {curves.k} {'study' if curves.k == 1 else 'studies'}, "
        f"{scale} scale; shaded: the 95% equal-tailed credible interval.",
        f"Priors: tau ~ {_prior_words(curves.tau_prior_note.facts)}; "
        f"mu ~ {_prior_words(curves.mu_prior_note.facts)}.",
    )
    for i, line in enumerate(subtitle):
        fig.text(
            0.015, 0.90 - 0.045 * i, shorten(line, TITLE_CHARS + 40), fontsize=8.5, va="top", color="0.25"
        )
    _density_panel(
        left_ax,
        curves.tau,
        f"tau (between-study SD, {scale} scale)",
        _prior_words(curves.tau_prior_note.facts),
        "prior: improper, no density to draw",
    )
    _density_panel(
        right_ax,
        curves.mu,
        f"mu (mean effect, {scale})",
        _prior_words(curves.mu_prior_note.facts),
        "prior: flat (improper), no density to draw",
    )
    left_ax.set_ylabel("density", fontsize=9)
    if ratio:
        assert m is not None
        _natural_axis(right_ax, curves.mu.xlim, f"{m.label} ({m.name}) = exp(mu)")
    return fig


def _density_panel(ax, curve, xlabel: str, prior_name: str, improper: str) -> None:
    lo, hi = curve.xlim
    x, f = curve.x, curve.posterior
    shown = [v for t, v in zip(x, f, strict=True) if lo <= t <= hi]
    peak = max(shown)
    if curve.prior is not None:
        peak = max(peak, max(v for t, v in zip(x, curve.prior, strict=True) if lo <= t <= hi))
    ax.plot(x, f, color=POSTERIOR_COLOR, linewidth=1.8, zorder=3, label="posterior")
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
        linewidth=1.2,
        zorder=4,
        label=f"median: {fmt_num(curve.median)}",
    )
    for end in (curve.q025, curve.q975):
        height = next(v for t, v in zip(x, f, strict=True) if t == end)
        ax.vlines(end, 0, height, colors=POSTERIOR_COLOR, linewidth=0.8, zorder=4)
    if curve.prior is not None:
        ax.plot(
            x,
            curve.prior,
            color=PRIOR_COLOR,
            linewidth=1.3,
            linestyle=(0, (4, 2)),
            zorder=3,
            label=f"prior: {prior_name}",
        )
    ax.set_xlim(lo, hi)
    if curve.prior is None:  # say so in the legend, beside what is drawn
        ax.plot([], [], color="none", label=improper)
    ax.set_ylim(0, 1.45 * peak)
    ax.set_xlabel(xlabel, fontsize=9)
    ax.tick_params(labelsize=8)
    for side in ("right", "top"):
        ax.spines[side].set_visible(False)
    ax.legend(loc="upper right", fontsize=7.5, frameon=False, handlelength=2.2)


def _natural_axis(ax, xlim, label: str) -> None:
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
    fixed_ticks(sec.xaxis, ticks, 8)
    sec.set_xlabel(label, fontsize=9)
    ax.spines["top"].set_visible(True)


# -- the forest plot of shrinkage estimates ---------------------------------------------------

ROW_IN = 0.30  # one study: the observed and the shrinkage estimate one above the other
CHAR_IN = 0.072  # average width of a character at 8.5 pt
PLOT_IN = 3.2
OFFSET = 0.17  # rows: observed above, shrinkage below the row's centre


@plain_text
def draw_bayes_forest(forest):
    """The Bayesian forest plot of a ShrinkageForest: per study the observed effect with its 95%
    CI and the shrinkage estimate (posterior median, 95% credible interval) beneath it, then
    the pooled mu and a new study's effect theta_new, on the natural scale (a log axis for
    ratios), with their numbers. It takes no ``ax``: it is a table around one panel."""
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import Polygon
    from matplotlib.transforms import blended_transform_factory

    m = MEASURES.get(forest.measure)
    digits = effect_digits(m) if m is not None else 2
    name = m.natural_name if m is not None else forest.measure

    def triple(t) -> str:
        est, lo, hi = t
        return f"{fmt_fixed(est, digits)} [{fmt_fixed(lo, digits)}, {fmt_fixed(hi, digits)}]"

    names = {
        "mu": "Mean effect mu (posterior)",
        "theta_new": "New study theta_new (predictive)",
    }
    labels = [shorten(e.label) if e.kind == "study" else names[e.kind] for e in forest.entries]
    observed = [triple(e.observed) if e.observed is not None else "" for e in forest.entries]
    posterior = [triple(e.posterior) for e in forest.entries]
    head_obs, head_post = f"Observed {name} [95% CI]", f"Posterior {name} [95% CrI]"
    label_w = CHAR_IN * max(len(t) for t in [*labels, "Study"]) + 0.3
    obs_w = CHAR_IN * max(len(t) for t in [*observed, head_obs]) + 0.35
    post_w = CHAR_IN * max(len(t) for t in [*posterior, head_post]) + 0.35
    notes = [
        f"Bayesian random effects, {forest.k} {'study' if forest.k == 1 else 'studies'}; "
        f"tau (between-study SD, {_scale_name(forest.measure)} scale): {fmt_num(forest.tau[0])} "
        f"[95% CrI {fmt_num(forest.tau[1])}, {fmt_num(forest.tau[2])}]",
        f"Priors: tau ~ {_prior_words(forest.tau_prior_note.facts)}; "
        f"mu ~ {_prior_words(forest.mu_prior_note.facts)}",
    ]
    # rows: studies 0..k-1, a gap, mu, theta_new
    ys = []
    y = 0.0
    for e in forest.entries:
        if e.kind == "mu":
            y += 0.4
        ys.append(y)
        y += 1
    top, bottom = -0.6, ys[-1] + 0.6
    x0 = 0.2
    W = x0 + label_w + PLOT_IN + obs_w + post_w + 0.2
    W = max(W, x0 + CHAR_IN * 0.95 * max(len(n) for n in notes) + 0.3)
    notes_in = 0.22 * len(notes) + 0.15
    bottom_in = 0.85 + notes_in
    rows_h = ROW_IN * (bottom - top)
    H = 1.0 + rows_h + bottom_in
    fig = new_figure((W, H))
    plot_x = x0 + label_w
    ax = fig.add_axes((plot_x / W, bottom_in / H, PLOT_IN / W, rows_h / H))
    ax.set_ylim(bottom, top)

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
    effect_axis(ax, forest.log_scale, xlim, ticks, 8)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    trans = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    font = dict(fontsize=8.5, va="center", transform=trans, clip_on=False)
    title = shorten(f"Shrinkage estimates: {forest.title}", TITLE_CHARS)
    fig.text(x0 / W, 1 - 0.2 / H, title, fontsize=11, fontweight="bold", va="top")
    header_y = top - 0.75
    obs_right = plot_x + PLOT_IN + obs_w - 0.1
    post_right = obs_right + post_w
    ax.text(x0, header_y, "Study", fontweight="bold", **font)
    ax.text(obs_right, header_y, head_obs, ha="right", fontweight="bold", **font)
    ax.text(post_right, header_y, head_post, ha="right", fontweight="bold", **font)
    ax.vlines(null, top, bottom, colors="0.45", linewidth=0.8, zorder=1)

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
            _interval(ax, obs_lines, e.observed, y - OFFSET, xlim, "black")
            _interval(ax, shrunk_lines, e.posterior, y + OFFSET, xlim, SHRUNK_COLOR)
            if lo_lim <= e.observed[0] <= hi_lim:
                ax.plot(
                    [e.observed[0]], [y - OFFSET], marker="s", color=POSTERIOR_COLOR, markersize=5, zorder=4
                )
            if lo_lim <= e.posterior[0] <= hi_lim:
                ax.plot(
                    [e.posterior[0]], [y + OFFSET], marker="o", color=SHRUNK_COLOR, markersize=4.5, zorder=4
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
                    linewidth=0.6,
                    zorder=4,
                )
            )
        else:
            est, lo, hi = e.posterior
            clipped = (lo < lo_lim, hi > hi_lim)
            lo, hi = max(lo, lo_lim), min(hi, hi_lim)
            ax.plot([lo, hi], [y, y], color=PREDICTIVE_COLOR, linewidth=2.2, zorder=3, solid_capstyle="butt")
            if lo_lim <= est <= hi_lim:
                ax.plot([est], [y], marker="|", color="black", markersize=9, markeredgewidth=1.4, zorder=4)
            for c, xe, mark in ((clipped[0], lo_lim, "<"), (clipped[1], hi_lim, ">")):
                if c:
                    ax.plot([xe], [y], marker=mark, color=PREDICTIVE_COLOR, markersize=4, clip_on=False)
    ax.add_collection(LineCollection(obs_lines, colors="black", linewidths=0.9, zorder=2), autolim=False)
    ax.add_collection(
        LineCollection(shrunk_lines, colors=SHRUNK_COLOR, linewidths=1.3, zorder=2), autolim=False
    )

    left, right = forest.favours
    favours_labels(ax, null, shorten(left), shorten(right))
    axis_caption(
        ax,
        (axis_label(m) if m is not None else forest.measure) + (" (log scale)" if forest.log_scale else ""),
    )
    handles = [
        Line2D([], [], color="black", marker="s", markerfacecolor=POSTERIOR_COLOR, markeredgewidth=0, lw=0.9),
        Line2D([], [], color=SHRUNK_COLOR, marker="o", lw=1.3),
        Line2D([], [], color=PREDICTIVE_COLOR, lw=2.2),
    ]
    fig.legend(
        handles,
        [
            "observed effect, 95% CI",
            "shrinkage estimate: posterior median, 95% CrI",
            "predictive 95% interval of a new study's effect",
        ],
        loc="upper left",
        bbox_to_anchor=(x0 / W, 1 - 0.45 / H),
        ncols=3,
        fontsize=8,
        frameon=False,
        handlelength=2.0,
        borderaxespad=0,
    )
    for i, line in enumerate(notes):
        fig.text(
            x0 / W, (notes_in - 0.22 * i - 0.1) / H, line, fontsize=8, va="top", style="italic", color="0.2"
        )
    return fig


def _interval(ax, lines, t, y, xlim, color) -> None:
    """One horizontal interval line (into ``lines``), clipped to the axis with an arrow head."""
    _, lo, hi = t
    lo_lim, hi_lim = xlim
    lines.append([(max(lo, lo_lim), y), (min(hi, hi_lim), y)])
    if lo < lo_lim:
        ax.plot([lo_lim], [y], marker="<", color=color, markersize=4, zorder=3, clip_on=False)
    if hi > hi_lim:
        ax.plot([hi_lim], [y], marker=">", color=color, markersize=4, zorder=3, clip_on=False)
