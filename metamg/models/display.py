"""How results show themselves in Python and Jupyter: a one-line repr, a compact HTML table
(``_repr_html_``) and a pandas DataFrame (``to_frame``).

Formatting only, no statistics. It lives in the lowest layer that holds results (models), so
that every result class, down to PoolResult, can use it. Every string a user typed (study
labels, subgroup levels, column names, paths) is HTML-escaped here, in one place.
"""

from __future__ import annotations

import html
import math
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

MISSING = "–"  # an en dash for a value that does not exist (None, NaN)


def num(x: float | None, digits: int = 4) -> str:
    """A number in ``digits`` significant digits; the en dash for None and NaN."""
    if x is None:
        return MISSING
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    x = float(x)
    if math.isnan(x):
        return MISSING
    return f"{x:.{digits}g}"


def level_text(level: float) -> str:
    """A confidence level as readers see it: 0.95 -> '95%', 0.995 -> '99.5%' (never rounded)."""
    return f"{level * 100:.6g}%"


def pct(x: float | None) -> str:
    """A percentage with one decimal (I², weights)."""
    return MISSING if x is None or (isinstance(x, float) and math.isnan(x)) else f"{float(x):.1f}%"


def interval(low: float | None, high: float | None, digits: int = 4) -> str:
    return f"[{num(low, digits)}, {num(high, digits)}]"


def p_value(p: float | None) -> str:
    if p is None or (isinstance(p, float) and math.isnan(p)):
        return MISSING
    return "< 0.0001" if p < 0.0001 else f"{p:.4f}" if p < 0.001 else f"{p:.3f}"


def p_is(p: float | None) -> str:
    """The p-value with its relation: "p = 0.012" or "p < 0.0001"."""
    v = p_value(p)
    return f"p {v}" if v.startswith("<") else f"p = {v}"


def one_line(text: object) -> str:
    """``text`` on one line: line breaks, tabs and other unprintable characters escaped, so a
    repr stays one line whatever a label holds."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


def html_table(
    header: Sequence[object],
    rows: Iterable[Sequence[object]],
    caption: str = "",
    notes: Iterable[object] = (),
) -> str:
    """A compact HTML table; every cell, header, caption and note is escaped."""
    esc = html.escape
    out = ['<div class="metamg">']
    out.append("<table>")
    if caption:
        out.append(f'<caption style="text-align: left; font-weight: bold">{esc(str(caption))}</caption>')
    out.append("<thead><tr>" + "".join(f"<th>{esc(str(h))}</th>" for h in header) + "</tr></thead>")
    out.append("<tbody>")
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{esc(str(c))}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    for note in notes:
        out.append(f'<p style="margin: 0.2em 0; font-size: smaller">{esc(str(note))}</p>')
    out.append("</div>")
    return "\n".join(out)


def details(summary: str, body_html: str) -> str:
    """A collapsed section (``body_html`` must already be escaped)."""
    return f"<details><summary>{html.escape(summary)}</summary>\n{body_html}\n</details>"


def frame(records: Iterable[dict[str, Any]], columns: Sequence[str] | None = None) -> pd.DataFrame:
    """A pandas DataFrame of ``records`` (dicts); pandas is imported only here, when asked for."""
    import pandas as pd

    table: pd.DataFrame = pd.DataFrame.from_records(
        list(records), columns=None if columns is None else list(columns)
    )
    return table
