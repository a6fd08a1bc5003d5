"""Reports as Word documents: the markdown that ``metamg report`` writes, turned into a .docx.

The markdown is parsed with markdown-it-py (CommonMark with GFM tables, raw HTML off, as the
HTML report reads it) and its token stream is laid out with python-docx: headings as Word's
Heading 1-6, paragraphs as runs (bold, italic, monospace code), bullet lists as List Bullet and
List Bullet 2-3 when nested, pipe tables as real Word tables, figures embedded and links as
hyperlinks. Backslash escapes and entities come out as the characters they stand for, and every
string is a text run: nothing in user text becomes a field, a formula or markup.

The page is A4 with 2 cm margins, Calibri 10.5 pt. The section under ``## At a glance`` is the
handout: the heading after it starts a new page, and its figures are kept short enough to leave
page 1 to it. Tables have a bold header row, repeated on each page they run onto, and column
widths shared out by content: short columns (numbers, names) on one line where they can be,
the rest in proportion to their text. Tables are in 9 pt, 8 pt from six columns on; a section
holding a table that cannot fit the portrait page even so (the studies table with its
provenance columns) is set in landscape. Figures are at most 16 cm wide, keeping their aspect;
a figure that cannot be read is replaced by its alt text in italics.

The file is deterministic (identical markdown and figures give identical bytes: fixed document
dates, and the zip re-written with fixed member times) and written atomically.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import re
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from metamg.io.atomic import write_atomic

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.table import Table
    from docx.text.paragraph import Paragraph
    from docx.text.run import Run
    from markdown_it.token import Token

PAGE_LONG_CM, PAGE_SHORT_CM = 29.7, 21.0  # A4
MARGIN_CM = 2.0
PORTRAIT_TEXT_CM = PAGE_SHORT_CM - 2 * MARGIN_CM  # 17 cm
LANDSCAPE_TEXT_CM = PAGE_LONG_CM - 2 * MARGIN_CM  # 25.7 cm
IMAGE_MAX_WIDTH_CM = 16.0
IMAGE_MAX_HEIGHT_CM = 20.0
LANDSCAPE_IMAGE_MAX_HEIGHT_CM = 15.0
# A figure in the handout (page 1) leaves room for the question, the answer and the findings.
GLANCE_IMAGE_MAX_HEIGHT_CM = 10.0
GLANCE_HEADING = "at a glance"

FONT = "Calibri"
FONT_PT = 10.5
MONO_FONT = "Consolas"
TABLE_PT = 9.0
WIDE_TABLE_PT = 8.0
WIDE_TABLE_COLUMNS = 6  # this many columns or more: the smaller type
COLUMN_MIN_CHARS = 10  # the narrowest a column of longer text is made
WORD_CHARS = 15  # longer words (URLs, DOIs) may break inside
CELL_MARGIN_TWIPS = 57  # 0.1 cm either side of a cell's text
HEADER_FILL = "E7E6E6"
ROW_KEPT_CM = 8.0  # a row estimated shorter than this is kept on one page

# Byte-identical output: the document's dates, and every zip member's time (the zip format's
# earliest, 1980-01-01; python-docx stamps the time of writing).
FIXED_DATE = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
AUTHOR = "metamg"

# Characters XML 1.0 cannot hold (C0 controls but tab, newline, carriage return; lone
# surrogates; U+FFFE and U+FFFF): shown as the replacement character rather than failing.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_ALIGN = re.compile(r"text-align:\s*(left|center|right)")
_WORD = re.compile(r"\S+")


def write_docx(markdown: str, base_dir: str, path: str) -> str:
    """Write the report given as Markdown (as metamg writes it) to ``path`` as a Word document;
    images are read relative to ``base_dir``. The document is built in memory, then written
    with ``metamg.io.atomic.write_atomic``: a temporary file beside ``path``, renamed over it,
    so that a failure leaves any earlier file whole and no partial one; a missing directory is
    created as for every other output, and a path that cannot be written raises an
    ``InputError`` naming it. Returns ``path``."""
    data = render_docx(markdown, base_dir)
    write_atomic(path, data)
    return os.fspath(path)


def render_docx(markdown: str, base_dir: str) -> bytes:
    """The bytes of the .docx that ``write_docx`` writes."""
    from docx import Document
    from markdown_it import MarkdownIt

    tokens = MarkdownIt("commonmark", {"html": False}).enable("table").parse(markdown)
    doc = Document()
    _Writer(doc, os.fspath(base_dir)).render(tokens)
    raw = io.BytesIO()
    doc.save(raw)
    return _fixed_zip(raw.getvalue())


def _fixed_zip(data: bytes) -> bytes:
    """The same zip, member for member in the same order, with fixed times and attributes."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for member in src.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 0  # as Word writes it; the default depends on the platform
            info.external_attr = 0
            dst.writestr(info, src.read(member), compresslevel=6)
    return out.getvalue()


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def _plain(children: list[Token] | None) -> str:
    """The text of inline tokens as a reader sees it (for widths, titles and alt texts)."""
    parts = []
    for tok in children or []:
        if tok.type in ("text", "code_inline", "html_inline"):
            parts.append(tok.content)
        elif tok.type in ("softbreak", "hardbreak"):
            parts.append(" ")
        elif tok.type == "image":
            parts.append(_plain(tok.children))
    return "".join(parts)


# -- tables: what the markdown holds, and how wide each column is ------------------------------


@dataclass
class _Cell:
    align: str | None
    inline: Token


@dataclass
class _TableData:
    rows: list[list[_Cell]]
    header: bool  # the first row is a header row
    ncols: int

    @property
    def texts(self) -> list[list[str]]:
        return [[_plain(c.inline.children) for c in row] for row in self.rows]


def _parse_table(tokens: list[Token]) -> _TableData:
    """The rows of a table's tokens (``table_open`` to ``table_close``). A header row with no
    text ("| | |", a two-column list of labels and values) is dropped."""
    rows: list[list[_Cell]] = []
    header = False
    for i, tok in enumerate(tokens):
        if tok.type == "tr_open":
            rows.append([])
        elif tok.type in ("th_open", "td_open"):
            header = header or tok.type == "th_open"
            match = _ALIGN.search(str(tok.attrs.get("style") or ""))
            rows[-1].append(_Cell(match.group(1) if match else None, tokens[i + 1]))
    rows = [row for row in rows if row]
    if header and len(rows) > 1 and not any(_plain(c.inline.children).strip() for c in rows[0]):
        rows, header = rows[1:], False
    return _TableData(rows, header and bool(rows), max((len(r) for r in rows), default=0))


def _char_cm(size_pt: float) -> float:
    """The width of an average character of the body font at ``size_pt``, in cm (Calibri's
    characters, digits and spaces average a little less than half an em)."""
    return size_pt * 0.5 / 72 * 2.54


_PAD_CM = 2 * CELL_MARGIN_TWIPS / 567 + 0.05  # the cell margins and a border


def _column_chars(data: _TableData) -> tuple[list[float], list[float]]:
    """Each column's natural width (its widest body cell, or the longest word of its header,
    which may wrap) and its longest word (at most WORD_CHARS), in characters; a bold header's
    characters count a tenth wider. One character more than counted, as slack for wide
    characters ("%", "W") and the renderer's rounding."""
    natural = [1.0] * data.ncols
    word = [1.0] * data.ncols
    for r, row in enumerate(data.texts):
        bold = 1.1 if data.header and r == 0 else 1.0
        for c, text in enumerate(row):
            longest = max((len(w) for w in _WORD.findall(text)), default=0) * bold
            natural[c] = max(natural[c], (longest if bold > 1 else len(text)) + 1)
            word[c] = max(word[c], min(longest, WORD_CHARS) + 1)
    return natural, word


def _fit_columns(data: _TableData, size: float, total: float) -> list[float] | None:
    """Column widths in cm that share ``total`` out, or None when the table cannot fit it at
    ``size``. A table whose cells all fit on one line is widened to ``total`` in proportion to
    its columns. Otherwise every column starts at COLUMN_MIN_CHARS or its longest word (or all
    of its text, if shorter), and the rest is given out a slice at a time to the column where it
    shortens the table most, so that long prose does not squeeze a column of numbers onto three
    lines, nor a nearly empty column take the room of a full one."""
    char = _char_cm(size)
    natural_chars, word_chars = _column_chars(data)
    natural = [n * char + _PAD_CM for n in natural_chars]
    widths = [
        min(n, max(w, COLUMN_MIN_CHARS)) * char + _PAD_CM
        for n, w in zip(natural_chars, word_chars, strict=True)
    ]
    if sum(widths) > total:
        return None
    if sum(natural) <= total:
        return [w * total / sum(natural) for w in natural]
    rows = [
        [len(text) * char * (1.1 if data.header and r == 0 else 1.0) for text in row]
        for r, row in enumerate(data.texts)
    ]

    def height(cols: list[float]) -> float:
        """The table's height in lines (a row's is its tallest cell's, a cell's text spread over
        its width), and a quarter of each cell's own lines: a cell that wraps costs a little even
        beside a taller one."""
        lines = [[max(1.0, n / (w - _PAD_CM)) for n, w in zip(row, cols, strict=False)] for row in rows]
        return sum(max(row) + 0.25 * sum(row) for row in lines)

    step = max((total - sum(widths)) / 60, 0.05)
    while total - sum(widths) > 1e-9:
        inc = min(step, total - sum(widths))
        now, best, gain = height(widths), -1, 1e-9
        for c in range(data.ncols):
            if widths[c] < natural[c]:
                trial = widths[:c] + [min(widths[c] + inc, natural[c])] + widths[c + 1 :]
                if now - height(trial) > gain:
                    best, gain = c, now - height(trial)
        if best < 0:
            break  # no single column shortens the table any more
        widths[best] = min(widths[best] + inc, natural[best])
    short = [n - w for n, w in zip(natural, widths, strict=True)]
    spare = total - sum(widths)
    return [w + spare * s / sum(short) for w, s in zip(widths, short, strict=True)]


def _squeezed_columns(data: _TableData, size: float, total: float) -> list[float]:
    """Widths for a table too wide for ``total`` however it is shared: each column its longest
    word, scaled down together (words break inside)."""
    char = _char_cm(size)
    _, word_chars = _column_chars(data)
    widths = [w * char + _PAD_CM for w in word_chars]
    return [w * total / sum(widths) for w in widths]


def _table_size(data: _TableData) -> float:
    return WIDE_TABLE_PT if data.ncols >= WIDE_TABLE_COLUMNS else TABLE_PT


def _needs_landscape(data: _TableData) -> bool:
    """A table that cannot fit the portrait text width at the smaller type, but can fit landscape."""
    if _fit_columns(data, _table_size(data), PORTRAIT_TEXT_CM) is not None:
        return False
    return _fit_columns(data, WIDE_TABLE_PT, PORTRAIT_TEXT_CM) is None


def _table_layout(data: _TableData, total: float) -> tuple[float, list[float]]:
    """The type size and the column widths in cm of a table in a text ``total`` cm wide."""
    for size in dict.fromkeys((_table_size(data), WIDE_TABLE_PT)):
        widths = _fit_columns(data, size, total)
        if widths is not None:
            return size, widths
    return WIDE_TABLE_PT, _squeezed_columns(data, WIDE_TABLE_PT, total)


def _table_end(tokens: list[Token], start: int) -> int:
    return next(j for j in range(start, len(tokens)) if tokens[j].type == "table_close")


# -- the writer ---------------------------------------------------------------------------------


@dataclass
class _List:
    ordered: bool
    number: int = 0


class _Writer:
    def __init__(self, doc: DocxDocument, base_dir: str):
        self.doc = doc
        self.base_dir = base_dir
        self.lists: list[_List] = []
        self.item_started = False  # the current list item already has its first paragraph
        self.quote = 0
        self.section = 0  # headings of level 1 and 2 seen so far
        self.landscape_sections: set[int] = set()
        self.landscape = False
        self.in_glance = False
        self.glance_seen = False
        self.title: str | None = None
        self._setup()

    # -- the page, the styles and the document's properties ------------------------------

    def _setup(self) -> None:
        from docx.enum.style import WD_STYLE_TYPE
        from docx.shared import Cm, Pt, RGBColor

        for section in self.doc.sections:
            section.page_width, section.page_height = Cm(PAGE_SHORT_CM), Cm(PAGE_LONG_CM)
            section.left_margin = section.right_margin = Cm(MARGIN_CM)
            section.top_margin = section.bottom_margin = Cm(MARGIN_CM)
            section.header_distance = section.footer_distance = Cm(1.0)
        styles = self.doc.styles
        normal = styles["Normal"]
        normal.font.name = FONT
        normal.font.size = Pt(FONT_PT)
        normal.paragraph_format.space_after = Pt(5)
        normal.paragraph_format.line_spacing = 1.1
        for level in range(1, 7):
            heading = styles[f"Heading {level}"]
            heading.font.name = FONT
            heading.font.color.rgb = RGBColor(0x1F, 0x3A, 0x5F)
        for name, size in (("Heading 1", 16), ("Heading 2", 13), ("Heading 3", 11.5)):
            styles[name].font.size = Pt(size)
        for name, size in (("Table Text", TABLE_PT), ("Table Text Small", WIDE_TABLE_PT)):
            style = styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
            style.base_style = normal
            style.font.size = Pt(size)
            style.paragraph_format.space_after = Pt(0)
            style.paragraph_format.line_spacing = 1.0
        link = styles.add_style("Hyperlink", WD_STYLE_TYPE.CHARACTER)
        link.font.color.rgb = RGBColor(0x05, 0x63, 0xC1)
        link.font.underline = True

    def _properties(self) -> None:
        core = self.doc.core_properties
        core.author = core.last_modified_by = AUTHOR
        core.created = core.modified = core.last_printed = FIXED_DATE
        core.revision = 1
        core.title = _xml_text(self.title or "")
        core.comments = ""

    # -- blocks ---------------------------------------------------------------------------

    def render(self, tokens: list[Token]) -> None:
        self.landscape_sections = _landscape_sections(tokens)
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            kind = tok.type
            if kind == "heading_open":
                self._heading(int(tok.tag[1:]), tokens[i + 1])
                i += 3
                continue
            if kind == "paragraph_open":
                self._paragraph(tokens[i + 1])
                i += 3
                continue
            if kind == "table_open":
                end = _table_end(tokens, i)
                self._table(_parse_table(tokens[i : end + 1]))
                i = end + 1
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                start = int(tok.attrs.get("start", 1) or 1) if kind == "ordered_list_open" else 1
                self.lists.append(_List(kind == "ordered_list_open", start - 1))
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
            elif kind == "list_item_open":
                self.lists[-1].number += 1
                self.item_started = False
            elif kind == "blockquote_open":
                self.quote += 1
            elif kind == "blockquote_close":
                self.quote -= 1
            elif kind in ("fence", "code_block"):
                self._code(tok.content)
            elif kind == "hr":
                self._rule()
            elif kind == "html_block":  # not produced with html off; kept as text if it were
                self._text_paragraph(tok.content.strip())
            i += 1
        self._properties()

    def _heading(self, level: int, inline: Token) -> None:
        text = _plain(inline.children).strip()
        if level == 1 and self.title is None:
            self.title = text
        new_page = False
        if level <= 2:
            self.section += 1
            landscape = self.section in self.landscape_sections
            if landscape != self.landscape:
                self._orientation(landscape)
                new_page = True
        paragraph = self.doc.add_paragraph(style=f"Heading {min(level, 6)}")
        if level <= 2 and self.in_glance:
            # The handout ends here: what follows starts on page 2. A page break before the
            # heading, not a break character, which would leave an empty line on either page.
            if not new_page:
                paragraph.paragraph_format.page_break_before = True
            self.in_glance = False
        if level == 2 and not self.glance_seen and text.casefold() == GLANCE_HEADING:
            self.in_glance = self.glance_seen = True
        self._inline(paragraph, inline.children)

    def _orientation(self, landscape: bool) -> None:
        """A new section, on a new page, in landscape or back in portrait."""
        from docx.enum.section import WD_ORIENT, WD_SECTION
        from docx.shared import Cm

        section = self.doc.add_section(WD_SECTION.NEW_PAGE)
        section.orientation = WD_ORIENT.LANDSCAPE if landscape else WD_ORIENT.PORTRAIT
        long, short = Cm(PAGE_LONG_CM), Cm(PAGE_SHORT_CM)
        section.page_width, section.page_height = (long, short) if landscape else (short, long)
        self.landscape = landscape

    def _paragraph_style(self) -> str | None:
        if self.lists:
            depth = min(len(self.lists), 3)
            suffix = "" if depth == 1 else f" {depth}"
            if self.item_started:
                return f"List Continue{suffix}"
            return f"List{suffix}" if self.lists[-1].ordered else f"List Bullet{suffix}"
        if self.quote:
            return "Quote"
        return None

    def _paragraph(self, inline: Token) -> None:
        paragraph = self.doc.add_paragraph(style=self._paragraph_style())
        if self.lists and not self.item_started and self.lists[-1].ordered:
            paragraph.add_run(f"{self.lists[-1].number}. ")
        if self.lists:
            self.item_started = True
        children = inline.children or []
        if any(c.type == "image" for c in children) and all(
            c.type == "image" or not c.content.strip() for c in children
        ):
            from docx.enum.text import WD_ALIGN_PARAGRAPH

            paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER  # a figure on its own line
        self._inline(paragraph, children)

    def _text_paragraph(self, text: str) -> None:
        if text:
            self.doc.add_paragraph(style=self._paragraph_style()).add_run(_xml_text(text))

    def _code(self, text: str) -> None:
        from docx.shared import Pt

        paragraph = self.doc.add_paragraph(style=self._paragraph_style())
        lines = text.rstrip("\n").split("\n")
        for n, line in enumerate(lines):
            run = paragraph.add_run(_xml_text(line))
            run.font.name = MONO_FONT
            run.font.size = Pt(9)
            if n < len(lines) - 1:
                run.add_break()

    def _rule(self) -> None:
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn

        paragraph = self.doc.add_paragraph()
        border = OxmlElement("w:pBdr")
        bottom = OxmlElement("w:bottom")
        for key, value in (("w:val", "single"), ("w:sz", "6"), ("w:space", "1"), ("w:color", "auto")):
            bottom.set(qn(key), value)
        border.append(bottom)
        paragraph._p.get_or_add_pPr().append(border)

    # -- inline text ------------------------------------------------------------------------

    def _inline(
        self, paragraph: Paragraph, children: list[Token] | None, bold: bool = False, size: float = FONT_PT
    ) -> None:
        """Runs for inline tokens in ``paragraph``, whose type is ``size`` pt (the monospace
        font of code, wider, a point smaller)."""
        from docx.opc.constants import RELATIONSHIP_TYPE
        from docx.oxml import OxmlElement
        from docx.oxml.ns import qn
        from docx.shared import Pt

        strong = emph = strike = 0
        link: Any = None  # the w:hyperlink element that runs go into, inside a link

        def place(run: Run) -> Run:
            if link is not None:
                link.append(run._r)  # moved from the end of the paragraph into the link
            return run

        for tok in children or []:
            kind = tok.type
            if kind in ("text", "html_inline", "code_inline", "softbreak"):
                text = " " if kind == "softbreak" else tok.content
                if not text:
                    continue
                run = place(paragraph.add_run(_xml_text(text)))
                if bold or strong:
                    run.bold = True
                if emph:
                    run.italic = True
                if strike:
                    run.font.strike = True
                if kind == "code_inline":
                    run.font.name = MONO_FONT
                    run.font.size = Pt(size - 1)
                if link is not None:
                    run.style = self.doc.styles["Hyperlink"]
            elif kind == "hardbreak":
                place(paragraph.add_run()).add_break()
            elif kind == "strong_open":
                strong += 1
            elif kind == "strong_close":
                strong -= 1
            elif kind == "em_open":
                emph += 1
            elif kind == "em_close":
                emph -= 1
            elif kind == "s_open":
                strike += 1
            elif kind == "s_close":
                strike -= 1
            elif kind == "link_open":
                href = str(tok.attrs.get("href") or "")
                r_id = paragraph.part.relate_to(href, RELATIONSHIP_TYPE.HYPERLINK, is_external=True)
                link = OxmlElement("w:hyperlink")
                link.set(qn("r:id"), r_id)
                paragraph._p.append(link)
            elif kind == "link_close":
                link = None
            elif kind == "image":
                place(self._image(paragraph, tok))

    # -- figures ----------------------------------------------------------------------------

    def _image_files(self, src: str) -> list[str]:
        """The files an image reference may name, relative to the base directory: the file
        itself and, for an SVG (which Word shows only with a PNG fallback), the PNG beside it.
        None for a URL: a report is read without the network."""
        parts = urlsplit(src)
        if not src or parts.scheme or parts.netloc:
            return []
        path = os.path.join(self.base_dir, unquote(parts.path))
        stem, ext = os.path.splitext(path)
        return [path, stem + ".png"] if ext.lower() == ".svg" else [path]

    def _image(self, paragraph: Paragraph, tok: Token) -> Run:
        from docx.image.exceptions import UnrecognizedImageError
        from docx.image.image import Image
        from docx.shared import Cm, Emu

        alt = _plain(tok.children).strip()
        for candidate in self._image_files(str(tok.attrs.get("src") or "")):
            try:
                with open(candidate, "rb") as fh:
                    data = fh.read()
                image = Image.from_blob(data)
            except (OSError, UnrecognizedImageError, ValueError):
                continue
            if self.in_glance:
                max_h = GLANCE_IMAGE_MAX_HEIGHT_CM
            else:
                max_h = LANDSCAPE_IMAGE_MAX_HEIGHT_CM if self.landscape else IMAGE_MAX_HEIGHT_CM
            width, height = int(image.width), int(image.height)  # EMU at the image's own resolution
            if not (width and height):
                continue
            scale = min(1.0, Cm(IMAGE_MAX_WIDTH_CM) / width, Cm(max_h) / height)
            run = paragraph.add_run()
            shape = run.add_picture(
                io.BytesIO(data), width=Emu(round(width * scale)), height=Emu(round(height * scale))
            )
            shape._inline.docPr.set("descr", _xml_text(alt))  # Word's alt text, for screen readers
            return run
        run = paragraph.add_run(_xml_text(alt or "(figure not found)"))
        run.italic = True
        return run

    # -- tables -----------------------------------------------------------------------------

    def _table(self, data: _TableData) -> None:
        from docx.oxml.ns import qn

        if not data.rows:
            return
        size, widths = _table_layout(data, LANDSCAPE_TEXT_CM if self.landscape else PORTRAIT_TEXT_CM)
        body = self.doc.element.body
        last = body[-2] if len(body) > 1 else None  # the block before the final w:sectPr
        if (
            last is not None
            and last.tag == qn("w:p")
            and last.find(qn("w:pPr") + "/" + qn("w:sectPr")) is None
        ):
            # the paragraph that introduces a table stays on its page (a heading already does)
            last.get_or_add_pPr().get_or_add_keepNext()
        table = self.doc.add_table(rows=len(data.rows), cols=data.ncols)
        table.style = self.doc.styles["Table Grid"]
        table.autofit = True
        _set_widths(table, widths)
        style = self.doc.styles["Table Text" if size == TABLE_PT else "Table Text Small"]
        texts = data.texts
        for r, (row, docx_row) in enumerate(zip(data.rows, table.rows, strict=True)):
            is_header = data.header and r == 0
            if is_header:
                _row_property(docx_row, "w:tblHeader")
            if _row_height_cm(texts[r], widths, size) <= ROW_KEPT_CM:
                _row_property(docx_row, "w:cantSplit")  # a row is not split across two pages
            for c, docx_cell in enumerate(docx_row.cells):
                paragraph = docx_cell.paragraphs[0]
                paragraph.style = style
                if is_header:
                    _shade(docx_cell, HEADER_FILL)
                if c >= len(row):
                    continue
                if row[c].align:
                    from docx.enum.text import WD_ALIGN_PARAGRAPH

                    paragraph.alignment = {
                        "left": WD_ALIGN_PARAGRAPH.LEFT,
                        "center": WD_ALIGN_PARAGRAPH.CENTER,
                        "right": WD_ALIGN_PARAGRAPH.RIGHT,
                    }[str(row[c].align)]
                self._inline(paragraph, row[c].inline.children, bold=is_header, size=size)
        # A paragraph after each table: space before what follows, and two tables in a row stay two.
        self.doc.add_paragraph(style="Table Text")


def _landscape_sections(tokens: list[Token]) -> set[int]:
    """The sections (counted by headings of level 1 and 2, as ``_Writer.section``) set in
    landscape: those holding a table too wide for the portrait page. Never the text before the
    first heading nor the handout."""
    sections: set[int] = set()
    section = 0
    glance = False
    for i, tok in enumerate(tokens):
        if tok.type == "heading_open" and int(tok.tag[1:]) <= 2:
            section += 1
            glance = tok.tag == "h2" and _plain(tokens[i + 1].children).strip().casefold() == GLANCE_HEADING
        elif (
            tok.type == "table_open"
            and section
            and not glance
            and _needs_landscape(_parse_table(tokens[i : _table_end(tokens, i) + 1]))
        ):
            sections.add(section)
    return sections


def _set_widths(table: Table, widths_cm: list[float]) -> None:
    """Preferred widths: the table the whole text width (Word's "autofit to window"), each
    column and cell its share (LibreOffice lays the columns out from these); narrow cell
    margins."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Cm

    tbl_pr = table._tbl.tblPr
    tbl_w = tbl_pr.find(qn("w:tblW"))
    if tbl_w is None:
        tbl_w = OxmlElement("w:tblW")
        tbl_pr.insert_element_before(tbl_w, "w:jc", "w:tblInd", "w:tblBorders", "w:tblLayout", "w:tblLook")
    tbl_w.set(qn("w:type"), "pct")
    tbl_w.set(qn("w:w"), "5000")
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(CELL_MARGIN_TWIPS))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    tbl_pr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
    for column, width in zip(table.columns, widths_cm, strict=True):
        column.width = Cm(width)
        for cell in column.cells:
            cell.width = Cm(width)


def _row_property(row, tag: str) -> None:
    """``w:cantSplit`` (the row kept on one page) or ``w:tblHeader`` (the row repeated at the top
    of each page the table runs onto), in the order the schema gives them."""
    from docx.oxml import OxmlElement

    tr_pr = row._tr.get_or_add_trPr()
    element = OxmlElement(tag)
    if tag == "w:cantSplit":
        tr_pr.insert_element_before(
            element, "w:trHeight", "w:tblHeader", "w:tblCellSpacing", "w:jc", "w:hidden"
        )
    else:
        tr_pr.insert_element_before(element, "w:tblCellSpacing", "w:jc", "w:hidden")


def _row_height_cm(texts: list[str], widths: list[float], size: float) -> float:
    """About how tall a row is: its tallest cell's lines of text at ``size`` pt."""
    char = _char_cm(size)
    lines = max(
        (len(t) * char / max(w - _PAD_CM, char) for t, w in zip(texts, widths, strict=False)), default=1.0
    )
    return (int(lines) + 1) * size * 1.2 / 72 * 2.54


def _shade(cell, fill: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    shading = OxmlElement("w:shd")
    shading.set(qn("w:val"), "clear")
    shading.set(qn("w:color"), "auto")
    shading.set(qn("w:fill"), fill)
    cell._tc.get_or_add_tcPr().append(shading)
