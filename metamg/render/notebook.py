"""The matplotlib Figure every metamg plot is drawn on: it shows itself in Jupyter.

A plain ``matplotlib.figure.Figure`` made without pyplot shows in a notebook as the text
``<Figure size 700x500 with 1 Axes>`` unless the user ran ``%matplotlib inline`` and pyplot
registered its formatter; this subclass gives IPython a PNG itself, at screen resolution. The
figure carries its own Agg canvas, so drawing it touches no pyplot state (no figure manager,
nothing left for ``plt.show()``). Imported only when a figure is drawn, as matplotlib is slow
to import.
"""

from __future__ import annotations

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure as _MatplotlibFigure

from metamg.render.figures import SCREEN_DPI, figure_bytes


class Figure(_MatplotlibFigure):
    """A matplotlib Figure with an Agg canvas that IPython displays as a PNG."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        FigureCanvasAgg(self)

    def _repr_png_(self) -> bytes:
        return figure_bytes(self, "png", SCREEN_DPI)
