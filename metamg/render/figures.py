"""What every figure shares: effect axes with readable ticks, user text drawn as plain text, and
byte-stable files.

Text users typed (titles, study labels) is data: it is never parsed as matplotlib mathtext (two
dollar signs would otherwise start a formula, or crash the plot), line breaks become spaces, and
labels too long for a figure are shortened with an ellipsis (tables keep the full text).
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import warnings

import numpy as np

from metamg.io.atomic import write_atomic
from metamg.vocabulary import FIGURE_FORMATS

# 1-2-5 steps: ratio ticks readers know (0.1, 0.2, 0.5, 1, 2, 5, 10)
RATIO_TICKS = tuple(m * 10.0**e for e in range(-4, 5) for m in (1, 2, 5))
PRINT_DPI = 300
# zlib level for PNGs: lossless at every level; 3 encodes a 300-dpi forest plot in about a third
# of the time of Pillow's default 6, for files about 15% larger (the same pixels)
PNG_COMPRESSION = 3
SCREEN_DPI = 100  # what a notebook shows: the figure at its size in inches on a screen
LABEL_CHARS = 60  # study labels and other cells in figures
TITLE_CHARS = 110  # figure titles
_SPACES = re.compile(r"\s+")


def shorten(text, limit: int = LABEL_CHARS) -> str:
    """One line of at most ``limit`` characters, ending in an ellipsis when cut."""
    one_line = _SPACES.sub(" ", str(text)).strip()
    return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"


def plain_text(draw):
    """Run a draw function with mathtext parsing off, so every Text it creates shows its string
    exactly as given ('Cost $10 vs $20' keeps both dollar signs)."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context({"text.parse_math": False}):
            return draw(*args, **kwargs)

    return wrapper


def ratio_ticks(low: float, high: float) -> list[float]:
    ticks = [t for t in RATIO_TICKS if low * (1 - 1e-9) <= t <= high * (1 + 1e-9)]
    if len(ticks) > 9:  # wide axes: powers of ten only
        ticks = [t for t in ticks if math.isclose(math.log10(t), round(math.log10(t)))]
    return ticks


def ratio_limits(values, cap: float = 100.0) -> tuple[float, float]:
    """Symmetric limits around 1 on the log axis, on a 1-2-5 tick, at most 1/cap to cap."""
    vals = [v for v in values if v is not None and np.isfinite(v) and v > 0]
    span = max([abs(math.log10(v)) for v in vals] + [math.log10(2)])
    span = min(span, math.log10(cap))
    high = next(t for t in RATIO_TICKS if math.log10(t) >= span - 1e-12)
    return 1 / high, high


def linear_limits(values, null: float = 0.0) -> tuple[float, float]:
    vals = [v for v in values if v is not None and np.isfinite(v)] + [null]
    lo, hi = min(vals), max(vals)
    pad = 0.05 * (hi - lo or 1.0)
    return lo - pad, hi + pad


def linear_ticks(lo, hi) -> list[float]:
    """About five ticks on 1-2-2.5-5 steps covering [lo, hi]."""
    span = hi - lo
    raw = span / 5
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    start = math.floor(lo / step) * step
    ticks = []
    t = start
    while t <= hi + step * 1e-9:
        ticks.append(round(t, 12))
        t += step
    if ticks[-1] < hi:
        ticks.append(round(t, 12))
    return ticks


def axis_label(m) -> str:
    """Axis title naming what is drawn: back-transformed values say so."""
    if m.scale in ("z", "logit"):
        return f"{m.natural_name} (back-transformed from the {m.scale} scale; {m.name})"
    return f"{m.label} ({m.name})"


def tick_label(value: float) -> str:
    """Plain decimal, never scientific notation: 0.01, 0.2, 1, 50, 1000."""
    if value == 0:
        return "0"
    text = f"{value:.6f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def fixed_ticks(axis, ticks, fontsize: float | None = None) -> None:
    """Exactly these ticks, labelled in plain decimals, no minor ticks (an x or y Axis)."""
    from matplotlib.ticker import FixedLocator, NullLocator

    axis.set_major_locator(FixedLocator(ticks))
    axis.set_minor_locator(NullLocator())
    axis.set_ticklabels([tick_label(t) for t in ticks], fontsize=fontsize)


def effect_axis(ax, log_scale: bool, xlim, ticks, fontsize: float) -> None:
    """The x axis of forest and funnel plots: log for ratios, fixed readable ticks."""
    if log_scale:
        ax.set_xscale("log")
    ax.set_xlim(*xlim)
    fixed_ticks(ax.xaxis, ticks, fontsize)


def figure_format(path) -> str:
    """The file format a figure path asks for by its suffix (png when it has none)."""
    return os.path.splitext(os.fspath(path))[1].lower().lstrip(".") or "png"


def new_figure(size):
    """A blank figure of ``size`` inches that shows itself in Jupyter (metamg.render.notebook)."""
    from metamg.render.notebook import Figure

    return Figure(figsize=size)


def panel(ax, size, rect):
    """The figure and axes a one-panel plot draws on: a new figure of ``size`` inches with axes at
    ``rect`` (figure fractions), or the caller's ``ax`` and the figure holding it."""
    if ax is not None:
        return ax.figure, ax
    fig = new_figure(size)
    return fig, fig.add_axes(rect)


def plot_title(fig, ax, text: str, own_figure: bool) -> None:
    """The plot's title: at the top left of a figure of its own; above the caller's axes (which
    may share the figure with other panels) otherwise."""
    if own_figure:
        fig.text(0.02, 0.96, text, fontsize=11, fontweight="bold", va="top")
    else:
        ax.set_title(text, loc="left", fontsize=10, fontweight="bold")


def save_figure(fig, path) -> bytes:
    """PNG at print resolution, SVG or PDF, chosen by the suffix; identical input gives
    identical bytes. Glyphs missing from the font (emoji) are drawn as boxes without a warning."""
    fmt = figure_format(path)
    if fmt not in FIGURE_FORMATS:
        raise ValueError(f"figures are written as {', '.join('.' + f for f in FIGURE_FORMATS)}, not .{fmt}")
    data = figure_bytes(fig, fmt)
    write_atomic(path, data)
    return data


def figure_bytes(fig, fmt: str = "png", dpi: int = PRINT_DPI) -> bytes:
    """The figure as PNG (at ``dpi``), SVG or PDF bytes, identical for identical input."""
    import matplotlib

    buf = io.BytesIO()
    with (
        matplotlib.rc_context({"svg.hashsalt": "metamg", "svg.fonttype": "path", "pdf.compression": 6}),
        warnings.catch_warnings(),
    ):
        warnings.filterwarnings("ignore", message=r"Glyph \d+ .*missing from")
        warnings.filterwarnings("ignore", message=r"Matplotlib currently does not support")
        if fmt == "png":
            fig.savefig(
                buf,
                format="png",
                dpi=dpi,
                metadata={"Software": None},
                pil_kwargs={"compress_level": PNG_COMPRESSION},
            )
        elif fmt == "svg":
            fig.savefig(buf, format="svg", metadata={"Date": None, "Creator": None})
        else:
            fig.savefig(buf, format="pdf", metadata={"CreationDate": None, "Creator": None, "Producer": None})
    return buf.getvalue()


def favours_labels(ax, null: float, left: str, right: str) -> None:
    """The "favours ..." labels under an effect axis, either side of the line of no effect."""
    for text, dx, ha in ((left, -6, "right"), (right, 6, "left")):
        ax.annotate(
            text,
            xy=(null, 0),
            xycoords=("data", "axes fraction"),
            xytext=(dx, -20),
            textcoords="offset points",
            ha=ha,
            va="top",
            fontsize=8.5,
        )


def axis_caption(ax, text: str) -> None:
    """What the effect axis measures, centred below the favours labels."""
    ax.annotate(
        text,
        xy=(0.5, 0),
        xycoords="axes fraction",
        xytext=(0, -34),
        textcoords="offset points",
        ha="center",
        va="top",
        fontsize=8,
        color="0.3",
    )
