"""Word reports (metamg.render.docx): the markdown of a report read back from the .docx."""

import io
import os
import re
import shutil
import subprocess
import time
import zipfile
from pathlib import Path

import pytest
from docx import Document
from docx.shared import Cm

from metamg.errors import InputError
from metamg.render import docx as docx_writer
from metamg.render.docx import write_docx
from metamg.render.markdown import md_line, md_text, table_row
from tests.test_user_text import FRAGMENTS

REPORTS = Path(__file__).resolve().parents[1] / "reports"
IV = REPORTS / "iv_magnesium_mi_mortality.md"
W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DELIMITER_ROW = re.compile(r"^\|(\s*:?-+:?\s*\|)+\s*$")
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)]+)\)")


def _docx(markdown: str, tmp_path: Path, base_dir: Path = REPORTS, name: str = "r.docx"):
    path = write_docx(markdown, str(base_dir), str(tmp_path / name))
    assert path == str(tmp_path / name)
    return Document(path)


def _text_paragraphs(doc):
    return [p for p in doc.paragraphs if p.text]


@pytest.fixture(scope="module")
def iv(tmp_path_factory):
    markdown = IV.read_text(encoding="utf-8")
    return markdown, _docx(markdown, tmp_path_factory.mktemp("iv"))


def test_headings_keep_their_text_and_level(iv):
    markdown, doc = iv
    expected = [
        (line.lstrip("#").strip(), f"Heading {len(line) - len(line.lstrip('#'))}")
        for line in markdown.splitlines()
        if re.match(r"#{1,6} ", line)
    ]
    got = [(p.text, p.style.name) for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert got == expected
    assert got[0] == ("Intravenous magnesium and mortality after acute myocardial infarction", "Heading 1")
    assert ("Summary of findings", "Heading 2") in got
    assert ("Leaving out one study at a time (random-effects model, REML, CI hk)", "Heading 3") in got
    assert (
        doc.core_properties.title == "Intravenous magnesium and mortality after acute myocardial infarction"
    )
    # the handout ends before the next section: a new page
    assert [p.text for p in doc.paragraphs if p.paragraph_format.page_break_before] == [
        "About this study set"
    ]


def test_every_pipe_table_is_a_word_table(iv):
    markdown, doc = iv
    assert len(doc.tables) == sum(bool(DELIMITER_ROW.match(line)) for line in markdown.splitlines()) == 10
    sof = doc.tables[0]  # in the handout, and again under "Summary of findings"
    assert [c.text for c in doc.tables[1].rows[1].cells] == [c.text for c in sof.rows[1].cells]
    assert sof.style.name == "Table Grid"
    header = [c.text for c in sof.rows[0].cells]
    assert header[:3] == ["Outcome", "Participants (studies)", "Relative effect (95% CI)"]
    assert all(run.bold for c in sof.rows[0].cells for run in c.paragraphs[0].runs)
    assert [c.text for c in sof.rows[1].cells][:3] == [
        "death",
        "68,820 (17 studies)",
        "OR 1.01 (0.96 to 1.07)",
    ]
    assert not any(run.bold for run in sof.rows[1].cells[0].paragraphs[0].runs)
    # the header row repeats on each page; GRADE's table keeps the bold of **serious**
    assert sof.rows[0]._tr.trPr.find(f"{W}tblHeader") is not None
    grade = doc.tables[2]
    assert [c.text for c in grade.rows[1].cells][:2] == ["Risk of bias", "serious"]
    assert [r.bold for r in grade.rows[1].cells[1].paragraphs[0].runs] == [True]
    # "| | |": a table of labels and values has no empty header row
    result = next(t for t in doc.tables if t.rows[0].cells[0].text.startswith("Pooled effect (main analysis"))
    assert result.rows[0].cells[1].text == "0.51 (95% CI 0.35 to 0.75)"
    assert len(result.rows) == 10  # the ten rows under "| | |"


def test_tables_fit_the_page_and_wide_ones_are_smaller_and_landscape(iv):
    _, doc = iv
    for section in doc.sections:
        size = sorted([section.page_width, section.page_height])  # stored in twips
        assert abs(size[0] - Cm(21.0)) < Cm(0.01) and abs(size[1] - Cm(29.7)) < Cm(0.01)
        assert abs(section.left_margin - Cm(2.0)) < Cm(0.01) and section.right_margin == section.left_margin
    # the section with the studies table (ten columns, provenance text) is set in landscape
    assert [s.page_width > s.page_height for s in doc.sections] == [False, True, False]
    landscape_tables = []
    section = 0  # a section ends with a paragraph holding its w:sectPr
    for element in doc.element.body:
        if element.tag == f"{W}tbl":
            landscape_tables.append(section == 1)
        elif element.find(f"{W}pPr/{W}sectPr") is not None:
            section += 1
    assert landscape_tables == [False, False, False, True, True, True, False, False, False, False]
    for table, landscape in zip(doc.tables, landscape_tables, strict=True):
        widths = [c.width for c in table.columns]
        assert abs(sum(widths) - Cm(29.7 - 4 if landscape else 21.0 - 4)) < Cm(0.05)
        assert table._tbl.tblPr.find(f"{W}tblW").get(f"{W}type") == "pct"
    studies = next(t for t in doc.tables if len(t.columns) == 10)
    assert studies.rows[0].cells[0].paragraphs[0].style.name == "Table Text Small"  # 8 pt
    assert studies.rows[1].cells[0].text == "Morton 1984"
    # numbers are not starved by long prose: the OR column is at least 10 characters at 8 pt wide
    assert studies.columns[3].width > Cm(10 * 8 * 0.5 / 72 * 2.54)
    grade = doc.tables[2]
    assert grade.rows[0].cells[0].paragraphs[0].style.name == "Table Text"  # 9 pt, four columns


def test_images_are_embedded_at_most_16_cm_wide(iv):
    markdown, doc = iv
    refs = IMAGE.findall(markdown)
    assert len(refs) == 2 and all((REPORTS / r).exists() for r in refs)
    shapes = doc.inline_shapes
    assert len(shapes) == len(refs)
    for shape in shapes:
        assert shape.width <= Cm(16)
    # the forest plot (25 x 17.5 cm at its resolution) in the handout: 10 cm tall, so that page 1
    # holds the handout; the funnel plot (18 x 12 cm) in the body: 16 cm wide
    forest, funnel = shapes
    assert abs(forest.height - Cm(10)) < Cm(0.01)
    assert abs(forest.height / forest.width - 2067 / 2938) < 0.001  # the PNG's aspect
    assert funnel.width == Cm(16) and abs(funnel.height / funnel.width - 1440 / 2100) < 0.001
    descr = forest._inline.docPr.get("descr")
    assert descr == "Forest plot of Intravenous magnesium and mortality after acute myocardial infarction"


def test_bold_and_italic_runs(iv):
    _, doc = iv
    p = next(p for p in doc.paragraphs if p.text.startswith("Certainty of the evidence"))
    assert (p.runs[0].text, p.runs[0].bold) == ("Certainty of the evidence: ⊕◯◯◯ Very low", True)
    assert not p.runs[1].bold
    assert [r.text for r in p.runs if r.italic] == ["suggestion"]
    defaults = next(p for p in doc.paragraphs if p.text.startswith("Defaults used"))
    assert all(r.italic for r in defaults.runs)


def test_missing_images_leave_their_alt_text_in_italics(tmp_path):
    markdown = "# T\n\n![Forest plot of T](nowhere.png)\n\n![](gone.png)\n\n![svg](iv_magnesium_mi_mortality-forest.svg)\n"
    doc = _docx(markdown, tmp_path)
    texts = _text_paragraphs(doc)
    assert [(p.text, [r.italic for r in p.runs]) for p in texts[1:]] == [
        ("Forest plot of T", [True]),
        ("(figure not found)", [True]),
    ]
    assert len(doc.inline_shapes) == 1  # an SVG is shown by the PNG beside it


def test_nested_lists_links_and_code(tmp_path):
    markdown = (
        "- first **bold**\n    - nested `code`\n        - deeper\n- second\n\n"
        "1. one\n2. two\n\n"
        "See [the index](index.md) and [metafor](https://www.metafor-project.org/).\n"
    )
    doc = _docx(markdown, tmp_path)
    got = [(p.style.name, p.text) for p in _text_paragraphs(doc)]
    assert got[:6] == [
        ("List Bullet", "first bold"),
        ("List Bullet 2", "nested code"),
        ("List Bullet 3", "deeper"),
        ("List Bullet", "second"),
        ("List", "1. one"),
        ("List", "2. two"),
    ]
    code = next(r for r in doc.paragraphs[1].runs if r.text == "code")
    assert code.font.name == "Consolas"
    links = doc.paragraphs[-1]._p.findall(f"{W}hyperlink")
    rels = doc.part.rels
    targets = [
        (rels[h.get(f"{{{h.nsmap['r']}}}id")].target_ref, "".join(t.text for t in h.iter(f"{W}t")))
        for h in links
    ]
    assert targets == [("index.md", "the index"), ("https://www.metafor-project.org/", "metafor")]
    assert doc.paragraphs[-1].text == "See the index and metafor."


@pytest.mark.parametrize("fragment", [*FRAGMENTS, "".join(FRAGMENTS)], ids=repr)
def test_user_text_comes_out_literal(tmp_path, fragment):
    """What metamg escapes for markdown comes out as the characters typed (whitespace runs as
    one space): no emphasis, link, heading, list, HTML, entity or field; "=1+1" stays text.
    (Not in a heading: "## #" is an empty heading, whose closing "#" md_text leaves alone.)"""
    literal = " ".join(fragment.split())
    if not literal:
        return
    markdown = "\n\n".join(
        [
            "## Label",
            md_line(fragment),
            table_row(["Label", "Value"]) + "\n|---|---|\n" + table_row([md_text(fragment), "x"]),
        ]
    )
    doc = _docx(markdown, tmp_path)
    assert [(p.style.name, p.text) for p in _text_paragraphs(doc)] == [
        ("Heading 2", "Label"),
        ("Normal", literal),
    ]
    assert doc.tables[0].rows[1].cells[0].text == literal
    xml = zipfile.ZipFile(tmp_path / "r.docx").read("word/document.xml").decode()
    assert "fldSimple" not in xml and "instrText" not in xml and "hyperlink" not in xml


def test_escapes_and_characters_xml_cannot_hold(tmp_path):
    markdown = "\\<b>x\\</b> \\*not em\\* a\\_b \\[x\\](y) &amp; \\&lt;\n\n=1+1\n\nbell\x07 here\n"
    doc = _docx(markdown, tmp_path)
    assert [p.text for p in _text_paragraphs(doc)] == [
        "<b>x</b> *not em* a_b [x](y) & &lt;",
        "=1+1",
        "bell\ufffd here",
    ]
    assert not any(r.italic or r.bold for p in doc.paragraphs for r in p.runs)


GLANCE = (
    "# Title\n\n## At a glance\n\n**Answer.** It may work.\n\n"
    "![Funnel plot](iv_magnesium_mi_mortality-funnel.png)\n\n## Next\n\nMore.\n\n## Last\n\nEnd.\n"
)


def _breaks_before(doc):
    return [p.text for p in doc.paragraphs if p.paragraph_format.page_break_before]


def test_the_handout_ends_with_a_page_break(tmp_path):
    doc = _docx(GLANCE, tmp_path)
    assert _breaks_before(doc) == ["Next"]
    # page 1 keeps room for the text: the handout's figure is at most 10 cm tall (16 cm wide,
    # the funnel plot would be 11 cm tall)
    assert abs(doc.inline_shapes[0].height - Cm(10)) < Cm(0.01)
    assert abs(doc.inline_shapes[0].width - Cm(10) * 2100 / 1440) < Cm(0.01)
    no_glance = _docx(GLANCE.replace("At a glance", "Summary"), tmp_path, name="s.docx")
    assert _breaks_before(no_glance) == []
    assert no_glance.inline_shapes[0].width == Cm(16)  # elsewhere a figure may be 20 cm tall
    xml = zipfile.ZipFile(tmp_path / "s.docx").read("word/document.xml").decode()
    assert 'w:type="page"' not in xml and "pageBreakBefore" not in xml
    last = _docx("# T\n\n## At a glance\n\nAll there is.\n", tmp_path, name="l.docx")
    assert _breaks_before(last) == []


def test_identical_input_gives_identical_bytes(tmp_path, monkeypatch):
    markdown = IV.read_text(encoding="utf-8")
    with monkeypatch.context() as m:  # python-docx's zip writer stamps the time of writing
        m.setattr(time, "time", lambda: 1_000_000_000.0)
        write_docx(markdown, str(REPORTS), str(tmp_path / "a.docx"))
        m.setattr(time, "time", lambda: 1_700_000_000.0)
        write_docx(markdown, str(REPORTS), str(tmp_path / "b.docx"))
    a, b = (tmp_path / "a.docx").read_bytes(), (tmp_path / "b.docx").read_bytes()
    assert a == b
    with zipfile.ZipFile(io.BytesIO(a)) as z:
        names = z.namelist()
        assert names[0] == "[Content_Types].xml" and "word/document.xml" in names
        assert {i.date_time for i in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_DEFLATED}
    core = Document(io.BytesIO(a)).core_properties
    assert (core.author, core.created.year, core.modified.year, core.last_printed.year) == (
        "metamg",
        2000,
        2000,
        2000,
    )


def test_written_atomically(tmp_path, monkeypatch):
    markdown = "# T\n\nText.\n"
    # a file where the directory should be: an InputError naming the path, nothing written
    (tmp_path / "f").write_text("a file")
    with pytest.raises(InputError, match="cannot be written"):
        write_docx(markdown, str(REPORTS), str(tmp_path / "f" / "r.docx"))
    assert sorted(os.listdir(tmp_path)) == ["f"]
    # the rename fails: the earlier file is whole, and no temporary file is left
    target = tmp_path / "r.docx"
    target.write_bytes(b"earlier")
    with monkeypatch.context() as m:
        m.setattr(os, "replace", lambda *a: (_ for _ in ()).throw(OSError(28, "No space left on device")))
        with pytest.raises(InputError, match="No space left on device"):
            write_docx(markdown, str(REPORTS), str(target))
    assert target.read_bytes() == b"earlier" and sorted(os.listdir(tmp_path)) == ["f", "r.docx"]
    # the document fails to build: nothing is touched
    with monkeypatch.context() as m:
        m.setattr(docx_writer, "_fixed_zip", lambda data: 1 / 0)
        with pytest.raises(ZeroDivisionError):
            write_docx(markdown, str(REPORTS), str(target))
    assert target.read_bytes() == b"earlier" and sorted(os.listdir(tmp_path)) == ["f", "r.docx"]
    # a missing directory is created, as for every other output
    assert (
        Document(write_docx(markdown, str(REPORTS), str(tmp_path / "new" / "r.docx"))).paragraphs[0].text
        == "T"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", sorted(REPORTS.glob("*.md")), ids=lambda p: p.name)
def test_every_shipped_report(tmp_path, path):
    markdown = path.read_text(encoding="utf-8")
    doc = _docx(markdown, tmp_path)
    lines = markdown.splitlines()
    assert len(doc.tables) == sum(bool(DELIMITER_ROW.match(line)) for line in lines)
    assert len(doc.inline_shapes) == sum((REPORTS / r).exists() for r in IMAGE.findall(markdown))
    assert sum(p.style.name.startswith("Heading") for p in doc.paragraphs) == sum(
        bool(re.match(r"#{1,6} ", line)) for line in lines
    )
    for table in doc.tables:
        assert all(c.width is not None and c.width > 0 for c in table.columns)


@pytest.mark.slow
@pytest.mark.skipif(
    not (shutil.which("soffice") and shutil.which("pdftotext")), reason="needs LibreOffice and poppler-utils"
)
def test_page_one_is_the_handout_when_printed(tmp_path):
    """LibreOffice prints the handout alone on page 1 and the rest from page 2 on."""
    body = "\n\n".join(f"Paragraph {i} of the details." for i in range(60))
    write_docx(GLANCE.replace("More.", body), str(REPORTS), str(tmp_path / "r.docx"))
    subprocess.run(
        ["soffice", f"-env:UserInstallation={(tmp_path / 'lo').as_uri()}", "--headless", "--convert-to", "pdf",
         "--outdir", str(tmp_path), str(tmp_path / "r.docx")],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip

    def page(n):
        args = ["pdftotext", "-f", str(n), "-l", str(n), str(tmp_path / "r.pdf"), "-"]
        return subprocess.run(args, check=True, capture_output=True, text=True).stdout.split()

    one, two = page(1), page(2)
    assert one[:4] == ["Title", "At", "a", "glance"] and one[-3:] == ["It", "may", "work."]
    assert two[:4] == ["Next", "Paragraph", "0", "of"]
