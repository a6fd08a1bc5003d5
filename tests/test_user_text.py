"""Text users typed is data in every output: markdown, CSV, figures and the terminal."""

import csv
import io
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

import metamg
from metamg.render.figures import LABEL_CHARS, shorten
from metamg.render.forest import draw_forest, forest_layout
from metamg.render.markdown import md_line, md_text
from metamg.render.safe import FORMULA_START, csv_text_cell, one_line
from tests.conftest import run_cli

MD = MarkdownIt("commonmark").enable("table").enable("strikethrough")
FRAGMENTS = [
    "<img src=x onerror=alert(1)>",
    "<script>",
    "</td>",
    "<!--",
    "[link](http://evil.example)",
    "![img](http://evil.example/x.png)",
    "**bold**",
    "_em_",
    "`code`",
    "|",
    "||",
    "\\",
    "#",
    "# ",
    "- ",
    "1. ",
    "> ",
    "=",
    "=1+1",
    "+1",
    "-1",
    "@SUM(A1)",
    "\t",
    "\r",
    "\n",
    "\n\n",
    "$",
    "$x$",
    "$$",
    "Cost $10 vs $20",
    "&lt;",
    "&amp;",
    "&#60;",
    "~~",
    "***",
    "---",
    "שלום",
    "\u202eevil",
    "😀",
    "é",
    "mg/kg",
    "a",
    "B",
    "7",
    " ",
    "'",
    '"',
    ";",
    ",",
]
HOSTILE = st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=6).map("".join)


def _toml_string(text: str) -> str:
    return json.dumps(
        text, ensure_ascii=False
    )  # a JSON string is a valid TOML basic string (no DEL in FRAGMENTS)


def _write_set(tmp_path, labels, title, notes, claim):
    rows = [(lab, 12 + 3 * i, 100, 20 + i, 100) for i, lab in enumerate(labels)]
    buf = io.StringIO()
    w = csv.writer(buf)  # "\r\n" rows, as spreadsheets write: a cell holding either is quoted
    w.writerow(["study", "events_treatment", "n_treatment", "events_control", "n_control", "dose"])
    for r, dose in zip(rows, ("low", "high", "low", "high"), strict=True):
        w.writerow(list(r) + [dose])
    path = tmp_path / "hostile.csv"
    path.write_text(buf.getvalue(), encoding="utf-8", newline="")
    (tmp_path / "hostile.toml").write_text(
        f"title = {_toml_string(title)}\nnotes = {_toml_string(notes)}\n"
        f'intervention = {_toml_string(title)}\nmeasure = "RR"\nsubgroup = "dose"\n'
        f'[[claims]]\nid = "c1"\ntext = {_toml_string(claim)}\nmade_in = {_toml_string(notes)}\n'
        "primary_source_found = false\n",
        encoding="utf-8",
    )
    return path


def _tokens(tokens):
    for t in tokens:
        yield t
        yield from _tokens(t.children or [])


def _check_markdown(text, allowed_files):
    """No live markup from user text: no HTML, links and images only to our own files, and
    every table row has the header's number of cells. Returns the tables' cell texts."""
    tokens = list(_tokens(MD.parse(text)))
    assert not [t for t in tokens if t.type in ("html_inline", "html_block")]
    for t in tokens:
        if t.type == "image":
            assert t.attrs["src"] in allowed_files
        if t.type == "link_open":
            assert t.attrs["href"] in allowed_files
    tables, cells, row, header_n = [], None, None, None
    for t in tokens:
        if t.type == "table_open":
            cells, header_n = [], None
        elif t.type == "tr_open":
            row = []
        elif t.type == "inline" and row is not None:
            row.append(t.content)
        elif t.type == "tr_close":
            header_n = header_n if header_n is not None else len(row)
            assert len(row) == header_n
            cells.append(row)
            row = None
        elif t.type == "table_close":
            tables.append(cells)
    return tables


def _rendered(inline_markdown: str) -> str:
    """The plain text a reader sees for an inline markdown string."""
    html = MD.renderInline(inline_markdown)
    import html as htmllib

    return htmllib.unescape(re.sub(r"<[^>]+>", "", html))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(labels=st.lists(HOSTILE, min_size=4, max_size=4), title=HOSTILE, notes=HOSTILE, claim=HOSTILE)
def test_hostile_text_stays_data_in_every_output(tmp_path_factory, labels, title, notes, claim):
    tmp_path = tmp_path_factory.mktemp("hostile")
    labels = [f"{lab} {i}" for i, lab in enumerate(labels)]  # unique whatever was drawn
    title, claim, notes = (
        f"{title} t",
        f"{claim} c",
        f"{notes} n",
    )  # never blank (a blank claim is rightly an error)
    path = _write_set(tmp_path, labels, title, notes, claim)
    out = tmp_path / "out"
    code, _, err = run_cli("report", path, "-o", out)
    assert code == 0, err
    files = {p.name for p in out.iterdir()}
    report = (out / "hostile.md").read_text(encoding="utf-8")
    tables = _check_markdown(report, files)
    study_table = next(t for t in tables if t[0][0] == "Study")
    assert [_rendered(r[0]) for r in study_table[1:]] == [one_line(x) for x in labels]
    index = (out / "index.md").read_text(encoding="utf-8")
    index_tables = _check_markdown(index, files)
    assert _rendered(index_tables[0][1][0]) == one_line(title)
    # HTML: every label is a table cell's text, and the page holds no element but ours
    page = (out / "hostile.html").read_text(encoding="utf-8")
    import html as htmllib

    cells = [htmllib.unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td>(.*?)</td>", page, re.S)]
    assert all(one_line(x) in cells for x in labels)
    tags = set(re.findall(r"<([a-zA-Z][a-zA-Z0-9]*)", page))
    assert tags <= {
        "html",
        "head",
        "meta",
        "title",
        "style",
        "body",
        "main",
        "section",
        "h1",
        "h2",
        "h3",
        "h4",
        "p",
        "strong",
        "em",
        "ul",
        "ol",
        "li",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
        "img",
        "a",
        "code",
        "br",
        "hr",
        "!DOCTYPE",
    } - {"script"}
    # CSV: no cell a spreadsheet would run, numbers unchanged
    code, text, err = run_cli("pool", path, "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(text)))
    for row in rows[1:]:
        assert not row[0].startswith(FORMULA_START)
        assert [float(x) for x in row[1:]]
    # terminal: one row per study, no control characters
    code, text, err = run_cli("pool", path)
    assert code == 0, err
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)
    # figures: the labels drawn are the labels, shortened, never mathtext
    a = metamg.pool(path)
    layout = forest_layout(a, title=title)
    fig = draw_forest(layout)
    drawn = {t.get_text() for t in fig.findobj(lambda o: hasattr(o, "get_text"))}
    assert {shorten(x) for x in labels} <= drawn
    assert all(not t.get_parse_math() for t in fig.texts + fig.axes[0].texts)
    fig.savefig(io.BytesIO(), format="png", dpi=30)


def test_dollar_signs_are_drawn_as_typed(tmp_path):
    csv_path = tmp_path / "d.csv"
    csv_path.write_text("study,yi,vi\nCost $10 vs $20,0.1,0.04\n$x^2$ trial,0.3,0.05\n$$,0.2,0.02\n")
    code, out, err = run_cli("forest", csv_path, "-o", tmp_path / "d.png")
    assert code == 0, err
    layout = forest_layout(metamg.pool(csv_path))
    fig = draw_forest(layout)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert "Cost $10 vs $20" in texts and "$x^2$ trial" in texts and "$$" in texts


def test_long_labels_are_shortened_in_figures_and_kept_in_tables(tmp_path):
    long = "A" * 30 + " randomised trial of magnesium in a very long descriptive label 2020"
    csv_path = tmp_path / "l.csv"
    csv_path.write_text(f"study,yi,vi\n{long},0.1,0.04\nShort 2021,0.3,0.05\n")
    layout = forest_layout(metamg.pool(csv_path))
    shown = layout.rows[0].label
    assert len(shown) == LABEL_CHARS and shown.endswith("…") and long.startswith(shown[:-1])
    assert run_cli("report", csv_path, "-o", tmp_path / "out")[0] == 0
    assert f"| {long} |" in (tmp_path / "out" / "l.md").read_text()


@pytest.mark.parametrize(
    "text,expected",
    [
        ("<b>x</b>", "\\<b>x\\</b>"),
        ("p < 0.05", "p < 0.05"),
        ("a|b", "a\\|b"),
        ("[a](b)", "\\[a\\](b)"),
        ("*a*", "\\*a\\*"),
        ("x\ny", "x y"),
        ("&amp;", "&amp;amp;"),
        ("R&D", "R&D"),
    ],
)
def test_md_text(text, expected):
    assert md_text(text) == expected


@pytest.mark.parametrize(
    "text,expected",
    [("# h", "\\# h"), ("- item", "\\- item"), ("12. x", "12\\. x"), ("-0.5", "\\-0.5"), ("ok", "ok")],
)
def test_md_line_escapes_block_markup_at_the_start(text, expected):
    assert md_line(text) == expected


@pytest.mark.parametrize(
    "cell,expected",
    [
        ("=1+1", "'=1+1"),
        ("+44", "'+44"),
        ("-x", "'-x"),
        ("@A1", "'@A1"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Smith 2001", "Smith 2001"),
    ],
)
def test_csv_cells_cannot_become_formulas(cell, expected):
    assert csv_text_cell(cell) == expected


def test_csv_output_neutralises_formula_labels_but_not_numbers(tmp_path):
    p = tmp_path / "f.csv"
    p.write_text('study,yi,vi\n"=HYPERLINK(""http://x"")",-0.5,0.04\n@SUM,-0.25,0.05\n')
    code, out, err = run_cli("pool", p, "--format", "csv")
    assert code == 0, err
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[1][0] == '\'=HYPERLINK("http://x")' and rows[2][0] == "'@SUM"
    assert float(rows[1][1]) == -0.5 and float(rows[2][1]) == -0.25


def test_a_title_ending_in_a_hash_keeps_it_in_the_heading():
    """'## Trial #' would lose its '#' as a heading's closing sequence (CommonMark 4.2)."""
    from metamg.render.markdown import md_text

    html = MarkdownIt("commonmark").render("# " + md_text("Magnesium trial #") + "\n")
    assert html == "<h1>Magnesium trial #</h1>\n"
    assert md_text("a # b") == "a # b"  # only a closing sequence is escaped
