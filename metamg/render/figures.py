"""What every figure shares: its size, effect axes with readable ticks, user text drawn as plain
text, titles that fit, and byte-stable files.

Text users typed (titles, study labels) is data: it is never parsed as matplotlib mathtext (two
dollar signs would otherwise start a formula, or crash the plot), line breaks become spaces, and
labels too long for a figure are shortened with an ellipsis (tables keep the full text).

Sizes (``SIZES``, named in ``metamg.vocabulary.FIGURE_SIZES``): ``auto`` sizes a figure to its
content at 9 pt; ``slide`` is a 16:9 slide (13.33 x 7.5 in, PowerPoint's widescreen) with the
largest type the content allows (up to 18 pt, at least 10 pt where it can); ``page`` is the text
width of an A4 page with 25 mm margins (6.3 in, which also fits US Letter's 6.5 in) at 8 pt, as
journals print figures. Layouts measure their texts (``text_width``) rather than guess, and wrap
or shrink titles (``fit_lines``) so that nothing is cut off at the figure's edge.

SVG keeps text as ``<text>`` elements (editable in slide software), in a font stack that
degrades well (``FONT_STACK``); PDF embeds TrueType fonts, so its text stays text too.
"""

from __future__ import annotations

import functools
import io
import math
import os
import re
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from metamg.io.atomic import write_atomic
from metamg.vocabulary import DEFAULT_FIGURE_SIZE, FIGURE_FORMATS, FIGURE_SIZES

# 1-2-5 steps: ratio ticks readers know (0.1, 0.2, 0.5, 1, 2, 5, 10)
RATIO_TICKS = tuple(m * 10.0**e for e in range(-4, 5) for m in (1, 2, 5))
PRINT_DPI = 300
# zlib level for PNGs: lossless at every level; 3 encodes a 300-dpi forest plot in about a third
# of the time of Pillow's default 6, for files about 15% larger (the same pixels)
PNG_COMPRESSION = 3
SCREEN_DPI = 100  # what a notebook shows: the figure at its size in inches on a screen
LABEL_CHARS = 45  # study labels and other cells in figures (auto size; slide and page: 32)
FAVOURS_CHARS = 80  # "favours ..." labels (then wrapped to the room beside the line of no effect)
TITLE_CHARS = 160  # figure titles (then wrapped to two lines at most, see fit_lines)
_SPACES = re.compile(r"\s+")
# The first font is matplotlib's own (always there, so PNGs look the same everywhere); an SVG
# opened where it is missing falls back to Arial, Helvetica or the viewer's sans-serif.
FONT_STACK = ("DejaVu Sans", "Arial", "Helvetica")
LINE_SPACING = 1.25  # a line of text is this many times its font size high
# A line's baseline lies this many font sizes below its top (DejaVu Sans's ascent). Lines are
# placed by their baselines, so that labels side by side line up in SVG too (matplotlib aligns
# an SVG text's top by that text's own descent: "favours magnesium" sat higher than "favours
# control").
ASCENT = 0.76
# Hinting draws text wider than its outline's advance, most at low resolution: up to 7.7% at a
# notebook's 100 dpi, 2.4% at 300 dpi (measured with DejaVu Sans from 6.5 to 18 pt)
TEXT_SLACK = 1.08


@dataclass(frozen=True)
class FigureSize:
    """How large a figure is and how large its type: ``width`` and ``height`` in inches (None:
    from the content), the body text's ``font`` in points (the largest a slide uses), the
    ``min_font`` it may shrink to where the content would not fit otherwise, the title's font,
    and the longest study label, in characters, before it is shortened with an ellipsis."""

    name: str
    width: float | None
    height: float | None
    font: float
    min_font: float
    title_font: float
    label_chars: int

    def scale(self, base: float = 9.0) -> float:
        """The body font relative to ``auto``'s (for margins, markers and line widths)."""
        return self.font / base


SIZES = {
    "auto": FigureSize("auto", None, None, font=9.0, min_font=9.0, title_font=12.0, label_chars=LABEL_CHARS),
    "slide": FigureSize("slide", 13.333, 7.5, font=18.0, min_font=9.0, title_font=24.0, label_chars=32),
    "page": FigureSize("page", 6.3, None, font=8.0, min_font=6.5, title_font=10.0, label_chars=32),
}
assert tuple(SIZES) == FIGURE_SIZES


def figure_size(size: str | FigureSize | None) -> FigureSize:
    """The FigureSize named ``size`` (``auto`` when None)."""
    if isinstance(size, FigureSize):
        return size
    name = DEFAULT_FIGURE_SIZE if size is None else str(size).lower()
    if name not in SIZES:
        raise ValueError(f"figure size {size!r}: choose {', '.join(FIGURE_SIZES)}")
    return SIZES[name]


def shorten(text, limit: int = LABEL_CHARS) -> str:
    """One line of at most ``limit`` characters, ending in an ellipsis when cut."""
    one_line = _SPACES.sub(" ", str(text)).strip()
    return one_line if len(one_line) <= limit else one_line[: limit - 1].rstrip() + "…"


def style() -> Any:  # (an rc dict: matplotlib types its keys as literals)
    """The rc settings every figure is drawn with: mathtext off, so every Text shows its string
    exactly as given ('Cost $10 vs $20' keeps both dollar signs), and the sans-serif font stack."""
    return {
        "text.parse_math": False,
        "font.family": "sans-serif",
        "font.sans-serif": list(FONT_STACK),
    }


def plain_text(draw):
    """Run a draw function in ``style()``: user text is never mathtext, fonts are FONT_STACK."""

    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(style()):
            return draw(*args, **kwargs)

    return wrapper


@functools.lru_cache(maxsize=65536)
def _width_at_10pt(line: str, weight: str, italic: bool) -> float:
    """The advance width of one line at 10 pt, in points (unhinted: it scales with the size)."""
    import matplotlib
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    prop = FontProperties(
        family=["sans-serif"], size=10.0, weight=weight, style="italic" if italic else "normal"
    )
    with matplotlib.rc_context(style()):
        width, _, _ = text_to_path.get_text_width_height_descent(line, prop, ismath=False)
    return float(width)


def text_width(text: str, size: float, bold: bool = False, italic: bool = False) -> float:
    """How wide ``text`` is drawn at ``size`` points, in inches (its widest line; with
    TEXT_SLACK for hinting)."""
    weight = "bold" if bold else "normal"
    lines = str(text).split("\n")
    return max(_width_at_10pt(line, weight, italic) for line in lines) * size / 10.0 / 72.0 * TEXT_SLACK


def line_height(size: float) -> float:
    """The height of one line of text at ``size`` points, in inches."""
    return size * LINE_SPACING / 72.0


def wrap_lines(text: str, width: float, size: float, bold: bool = False, italic: bool = False) -> list[str]:
    """``text`` on lines no wider than ``width`` inches at ``size`` points, broken between words
    (a word wider than the line is shortened with an ellipsis)."""
    words = _SPACES.sub(" ", str(text)).strip().split(" ")
    lines: list[str] = []
    for word in words:
        if lines and text_width(f"{lines[-1]} {word}", size, bold, italic) <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return [shorten_to_width(line, width, size, bold, italic) for line in lines] or [""]


def shorten_to_width(text: str, width: float, size: float, bold: bool = False, italic: bool = False) -> str:
    """``text`` shortened with an ellipsis until it is no wider than ``width`` inches."""
    if text_width(text, size, bold, italic) <= width:
        return text
    lo, hi = 0, len(text)  # the longest prefix that fits with its ellipsis
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if text_width(text[:mid].rstrip() + "…", size, bold, italic) <= width:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def fit_lines(
    text: str, width: float, size: float, min_size: float, max_lines: int = 2, bold: bool = True
) -> tuple[tuple[str, ...], float]:
    """A title in at most ``max_lines`` lines no wider than ``width`` inches: wrapped at
    ``size`` points, else at a smaller size down to ``min_size`` (half-point steps), else
    wrapped at ``min_size`` with its last line shortened with an ellipsis. Returns the lines
    and the font size."""
    text = _SPACES.sub(" ", str(text)).strip()
    if not text:
        return (), size
    font = size
    while True:
        lines = wrap_lines(text, width, font, bold)
        if len(lines) <= max_lines and not any(line.endswith("…") for line in lines):
            return tuple(lines), font
        if font - 0.5 < min_size:
            break
        font -= 0.5
    lines = wrap_lines(text, width, min_size, bold)
    if len(lines) > max_lines:
        kept = lines[: max_lines - 1]
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*kept, shorten_to_width(rest.rstrip("…") + " …", width, min_size, bold)]
        lines[-1] = lines[-1] if lines[-1].endswith("…") else lines[-1] + "…"
    return tuple(lines), min_size


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


def title_block(fig, lines, font: float, x_in: float, top_in: float, W: float, H: float) -> float:
    """Draw title ``lines`` (bold, at ``font``) from ``top_in`` inches below the figure's top
    edge, ``x_in`` from its left; returns the inches they take."""
    for i, line in enumerate(lines):
        fig.text(
            x_in / W,
            1 - (top_in + i * line_height(font) + ASCENT * font / 72.0) / H,
            line,
            fontsize=font,
            fontweight="bold",
            va="baseline",
        )
    return len(lines) * line_height(font)


def titled_figure(
    size: FigureSize,
    title: str,
    subtitle=(),
    auto: tuple[float, float] = (7.0, 4.8),
    page_height: float = 4.2,
):
    """A figure of ``size`` (``auto``: ``auto`` inches; ``page``: 6.3 in wide, ``page_height``
    high; ``slide``: 16:9) with its title (bold) and ``subtitle`` lines (grey) wrapped to the
    width at the top left, and the rest laid out by matplotlib's constrained layout, so that
    tick labels, axis labels and legends placed outside the axes are never cut off. Add the
    axes with ``fig.add_subplot()`` or ``fig.subplots()``. Returns the figure and the inches
    left to them below the title."""
    from matplotlib.layout_engine import ConstrainedLayoutEngine

    W = size.width or auto[0]
    H = size.height or (page_height if size.width else auto[1])
    margin = 0.12 * max(1.0, size.scale())
    lines, font = fit_lines(title, W - 2 * margin, size.title_font, size.font)
    fig = new_figure((W, H))
    used = margin + title_block(fig, lines, font, margin, margin, W, H)
    small = size.font - 0.5
    for line in (wrapped for text in subtitle for wrapped in wrap_lines(text, W - 2 * margin, small)):
        fig.text(
            margin / W,
            1 - (used + 0.1 * line_height(small) + ASCENT * small / 72.0) / H,
            line,
            fontsize=small,
            va="baseline",
            color="0.25",
        )
        used += line_height(small)
    used += 0.05 * size.scale()
    rect = (0.0, 0.0, 1.0, 1 - used / H)
    fig.set_layout_engine(ConstrainedLayoutEngine(rect=rect, h_pad=margin / 2, w_pad=margin / 2))
    return fig, H - used


def panel_for(ax, size: FigureSize, title: str, aspect: float = 1.45):
    """The figure and axes a one-panel plot draws on: a new figure of ``size`` (``page``:
    ``aspect`` wide to 1 high) with its title (``titled_figure``), or the caller's ``ax``
    (titled above it) and the figure holding it."""
    if ax is not None:
        ax.set_title(shorten(title, TITLE_CHARS), loc="left", fontsize=10, fontweight="bold")
        return ax.figure, ax
    W = size.width or 7.0
    fig, _ = titled_figure(size, title, page_height=W / aspect)
    return fig, fig.add_subplot()


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
    settings: Any = {
        "svg.hashsalt": "metamg",  # fixed ids (clip paths, ...), not random ones
        "svg.fonttype": "none",  # text stays <text>, editable, in FONT_STACK
        "pdf.fonttype": 42,  # TrueType: the PDF's text stays text
        "pdf.compression": 6,
    }
    with matplotlib.rc_context({**style(), **settings}), warnings.catch_warnings():
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


def tick_space(font: float) -> float:
    """Points below an axis taken by its ticks and tick labels at ``font``."""
    return 3.5 + 3.5 + font * LINE_SPACING


def _lines_below(ax, x, dx: float, text: str, top: float, font: float, ha: str, **style) -> None:
    """Lines of ``text`` under an axis, the first one's top ``top`` points below it, each
    placed by its baseline (see ASCENT); ``x`` in data coordinates when ``data=True``."""
    xcoords = "data" if style.pop("data", False) else "axes fraction"
    for i, line in enumerate(text.split("\n")):
        ax.annotate(
            line,
            xy=(x, 0),
            xycoords=(xcoords, "axes fraction"),
            xytext=(dx, -top - ASCENT * font - i * font * LINE_SPACING),
            textcoords="offset points",
            ha=ha,
            va="baseline",
            fontsize=font,
            **style,
        )


def favours_labels(ax, null: float, left: str, right: str, font: float = 8.5) -> None:
    """The "favours ..." labels under an effect axis, either side of the line of no effect
    (each may be on several lines: ``axis_texts`` wraps them to the room they have)."""
    for text, dx, ha in ((left, -0.7 * font, "right"), (right, 0.7 * font, "left")):
        _lines_below(ax, null, dx, text, tick_space(font), font, ha, data=True)


def axis_caption(ax, text: str, font: float = 8.5, favours_lines: int = 1) -> None:
    """What the effect axis measures, centred below the favours labels (``favours_lines``
    lines high)."""
    top = tick_space(font) + favours_lines * font * LINE_SPACING + 1.5
    _lines_below(ax, 0.5, 0, text, top, font - 0.5, "center", color="0.3")


def axis_texts(
    favours: tuple[str, str], caption: str, font: float, null_x: float, plot: tuple[float, float], edges
) -> tuple[tuple[str, str], str]:
    """The favours labels and the axis caption wrapped to the room they have between the
    figure's ``edges`` (inches from its left): the labels either side of the null at
    ``null_x``, the caption centred under the ``plot`` panel (its left and right, inches)."""
    low, high = edges
    pad = 0.7 * font / 72.0
    room_left = max(null_x - pad - low, 0.8)
    room_right = max(high - null_x - pad, 0.8)
    left = "\n".join(wrap_lines(favours[0], room_left, font))
    right = "\n".join(wrap_lines(favours[1], room_right, font))
    centre = (plot[0] + plot[1]) / 2
    room = max(2 * min(centre - low, high - centre), 1.0)
    return (left, right), "\n".join(wrap_lines(caption, room, font - 0.5))


def lines_in(text: str) -> int:
    return text.count("\n") + 1


def null_fraction(null: float, xlim, log_scale: bool) -> float:
    """Where the line of no effect lies across an effect axis, from 0 (left) to 1 (right)."""
    f = math.log if log_scale else (lambda v: v)
    return (f(null) - f(xlim[0])) / (f(xlim[1]) - f(xlim[0]))


def below_axis(font: float, favours_lines: int = 1, caption_lines: int = 1) -> float:
    """Inches an effect axis needs beneath it for its ticks, favours labels and caption."""
    lines = favours_lines * font * LINE_SPACING + caption_lines * (font - 0.5) * LINE_SPACING
    return (tick_space(font) + lines + 1.5) / 72.0 + 0.1
