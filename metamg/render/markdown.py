"""Text that users typed (labels, titles, notes, provenance, claims) placed into markdown as data.

Every user string goes through one of these functions, so that it renders as the literal text
and never as markup: no HTML, no link or image, no emphasis, no heading or list, and a table
keeps its column count whatever a label holds (CommonMark 0.31 section 2.4, backslash escapes;
GFM tables section 4.10, ``\\|`` inside a cell). Readers of the raw .md see few backslashes:
only characters that could start markup are escaped.
"""

from __future__ import annotations

import re
from urllib.parse import quote

# Inline markup: code spans, emphasis/strong, links and images, strikethrough (GFM), hard breaks.
_INLINE = re.compile(r"([\\`*_\[\]~|])")
# An entity or character reference would be decoded ("&lt;" shows as "<"): keep it literal.
_ENTITY = re.compile(r"&(?=#?[A-Za-z0-9]+;)")
# Raw HTML and autolinks start with "<" and a letter, "/", "!" or "?" (CommonMark 6.5, 6.6).
_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
# Block markup that only counts at the start of a line: headings, quotes, lists, thematic breaks,
# setext underlines, ordered lists ("1." or "1)").
_LINE_START = re.compile(r"^(\s*)([#>+=-]|\d+(?=[.)]))")
_SPACES = re.compile(r"\s+")
# A heading's closing sequence: "#"s at the end of the line would be dropped from "## Trial #"
_CLOSING_HASHES = re.compile(r"#(?=#*$)")


def md_text(value) -> str:
    """One line of user text, inline: newlines and tabs become single spaces."""
    text = _SPACES.sub(" ", str(value)).strip()
    text = _INLINE.sub(r"\\\1", text)
    text = _ENTITY.sub("&amp;", text)
    text = _CLOSING_HASHES.sub(r"\\#", text)
    return _TAG_START.sub(r"\\<", text)


def md_line(value) -> str:
    """User text that may start a line (a paragraph, a list item's own text)."""
    return _LINE_START.sub(
        lambda m: (
            m.group(1) + "\\" + m.group(2) if not m.group(2).isdigit() else m.group(1) + m.group(2) + "\\"
        ),
        md_text(value),
        count=1,
    )


def md_paragraphs(value) -> list[str]:
    """User prose (notes, inclusion criteria): blank lines separate paragraphs, each escaped."""
    paragraphs = re.split(r"\n\s*\n", str(value).strip())
    return [md_line(p) for p in paragraphs if p.strip()]


def md_url(path: str) -> str:
    """A relative link target (a file name), percent-encoded so that spaces, brackets and
    parentheses cannot end the link early."""
    return quote(path, safe="/.-_~")


def table_row(cells) -> str:
    """A GFM table row from cells that are already markdown (escape user text with md_text)."""
    return "| " + " | ".join(cells) + " |"
