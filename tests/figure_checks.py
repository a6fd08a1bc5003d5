"""Checks on drawn figures: every text inside the canvas, texts apart from each other."""

from __future__ import annotations


def _axes_texts(ax):
    texts = list(ax.texts) + [ax.title, ax._left_title, ax._right_title]
    if ax.axison:
        for axis in (ax.xaxis, ax.yaxis):
            texts.append(axis.label)
            lo, hi = sorted(axis.get_view_interval())
            locs = axis.get_majorticklocs()
            labels = axis.get_majorticklabels()
            texts += [t for loc, t in zip(locs, labels, strict=False) if lo - 1e-9 <= loc <= hi + 1e-9]
    legend = ax.get_legend()
    if legend is not None:
        texts += [*legend.get_texts(), legend.get_title()]
    for child in ax.child_axes:
        texts += _axes_texts(child)
    return texts


def drawn_texts(fig):
    """Every visible, non-empty text the figure draws (titles, labels, tick labels in view,
    legends) with its box in pixels, after a draw (which runs the layout engine)."""
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    texts = list(fig.texts)
    for ax in fig.axes:
        texts += _axes_texts(ax)
    for legend in fig.legends:
        texts += [*legend.get_texts(), legend.get_title()]
    return [(t, t.get_window_extent(renderer)) for t in texts if t.get_visible() and t.get_text().strip()]


def outside(fig, tolerance: float = 1.0) -> list[str]:
    """The texts that reach beyond the figure's edges by more than ``tolerance`` pixels: what
    a reader would see cut off."""
    W, H = fig.bbox.width, fig.bbox.height
    return [
        f"{t.get_text()!r} at {b.x0:.0f},{b.y0:.0f}-{b.x1:.0f},{b.y1:.0f} of {W:.0f}x{H:.0f}"
        for t, b in drawn_texts(fig)
        if b.x0 < -tolerance or b.y0 < -tolerance or b.x1 > W + tolerance or b.y1 > H + tolerance
    ]


def overlapping(fig, ignore=("+", "−", "×")) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes overlap (the symbols on risk-of-bias dots aside)."""
    texts = [(t.get_text(), b) for t, b in drawn_texts(fig) if t.get_text() not in ignore]
    pairs = []
    for i, (a, box_a) in enumerate(texts):
        for b, box_b in texts[i + 1 :]:
            if (
                box_a.x0 < box_b.x1 - 0.5
                and box_b.x0 < box_a.x1 - 0.5
                and box_a.y0 < box_b.y1 - 0.5
                and box_b.y0 < box_a.y1 - 0.5
            ):
                pairs.append((a, b))
    return pairs
