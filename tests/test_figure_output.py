"""Figures for a projector and for print (issue 15): the sizes, nothing cut off, SVG and PDF
that keep their text, and the same bytes for the same input."""

import math
import re
import shutil
from pathlib import Path

import pytest

import metamg
from metamg import vocabulary as V
from metamg.cli import main
from metamg.render import figures
from metamg.render.figures import SIZES, figure_bytes, fit_lines, shorten_to_width, text_width
from metamg.render.forest import draw_forest, forest_layout
from tests.conftest import CASES_DIR, run_cli
from tests.figure_checks import outside, overlapping

ROOT = Path(__file__).resolve().parents[1]
MI = ROOT / "studies" / "iv_magnesium_mi_mortality.csv"
HOSTILE = "Smith & Wesson <b>2001</b> costs $10 vs $20"
LONG_TITLE = (
    "Intravenous magnesium sulphate for the prevention of death after suspected acute myocardial "
    "infarction in adults: randomised trials"
)


def _choices(command, option):
    import click

    param = next(p for p in main.commands[command].params if option in getattr(p, "opts", ()))
    assert isinstance(param.type, click.Choice)
    return tuple(param.type.choices)


def test_the_vocabulary_is_what_the_figures_implement():
    assert tuple(SIZES) == V.FIGURE_SIZES and V.DEFAULT_FIGURE_SIZE in SIZES
    for command in ("forest", "funnel", "rob", "bayes"):
        assert _choices(command, "--size") == V.FIGURE_SIZES
    assert _choices("forest", "--layout") == V.FOREST_LAYOUTS
    assert SIZES["slide"].width / SIZES["slide"].height == pytest.approx(16 / 9, rel=1e-3)
    assert SIZES["page"].width == pytest.approx(6.3)  # A4 (210 mm) less 2 x 25 mm margins
    with pytest.raises(ValueError, match="auto, slide, page"):
        figures.figure_size("poster")


def test_titles_wrap_then_shrink_then_end_in_an_ellipsis():
    lines, font = fit_lines("Oral magnesium and anxiety", 6.0, 12, 9)
    assert lines == ("Oral magnesium and anxiety",) and font == 12
    lines, font = fit_lines(LONG_TITLE, 6.0, 12, 9)
    assert len(lines) == 2 and " ".join(lines) == LONG_TITLE and 9 <= font <= 12
    assert all(text_width(line, font, bold=True) <= 6.0 for line in lines)
    lines, font = fit_lines(LONG_TITLE * 3, 6.0, 12, 9)
    assert len(lines) == 2 and font == 9 and lines[-1].endswith("…")
    assert all(text_width(line, 9, bold=True) <= 6.0 for line in lines)
    short = shorten_to_width("Ceremuzynski 1989 (a long trial name)", 1.0, 9)
    assert short.endswith("…") and text_width(short, 9) <= 1.0


@pytest.fixture(scope="module")
def long_set(tmp_path_factory):
    """The MI trials with a long title, long favours labels, a hostile study label and
    risk-of-bias judgements in every domain."""
    import csv

    d = tmp_path_factory.mktemp("long")
    with open(MI, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))  # notes may hold commas and line breaks
    head = rows[0] + ["rob_d1", "rob_d2", "rob_d3", "rob_d4", "rob_d5", "rob_overall"]
    levels = ("low", "some concerns", "high")
    body = [row + [levels[(i + j) % 3] for j in range(5)] + ["high"] for i, row in enumerate(rows[1:])]
    study = head.index("study")
    first = next(r for r in body if r[study] == "Morton 1984")
    first[study] = HOSTILE
    with open(d / "s.csv", "w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([head, *body])
    (d / "s.toml").write_text(
        f'title = "{LONG_TITLE}"\nmeasure = "OR"\n'
        'label_left = "favours intravenous magnesium sulphate"\n'
        'label_right = "favours placebo or no infusion"\n[grade]\nmid = 0.8\n',
        encoding="utf-8",
    )
    return metamg.pool(d / "s.csv")


@pytest.mark.slow
@pytest.mark.parametrize("size", V.FIGURE_SIZES)
def test_nothing_is_cut_off_and_no_text_overlaps_another(long_set, size):
    a = long_set
    r = metamg.bayes(a)
    traffic, summary = metamg.rob_plots(a, size=size)
    drawn = {
        "forest": metamg.forest(a, size=size),
        "forest compact": metamg.forest(a, size=size, layout="compact", show_excluded=True),
        "funnel": metamg.funnel(a, trimfill=True, size=size),
        "traffic light": traffic,
        "summary": summary,
        "posterior": metamg.bayes_plot(r, size=size),
        "shrinkage forest": metamg.bayes_forest(r, size=size),
        "baujat": metamg.baujat(a, size=size),
        "bubble": metamg.bubble(a, "year", size=size),
    }
    spec = SIZES[size]
    for name, fig in drawn.items():
        assert outside(fig) == [], name
        if name not in ("funnel", "posterior", "baujat"):  # (legends, labels over the data)
            assert overlapping(fig) == [], name
        w, h = fig.get_size_inches()
        if spec.width is not None:
            assert w == pytest.approx(spec.width), name
        if spec.height is not None and name == "shrinkage forest" and size == "slide":
            # 17 trials are 34 rows: below the smallest slide type the figure grows taller
            assert h > spec.height, name
        elif spec.height is not None:
            assert h == pytest.approx(spec.height), name


def test_the_risk_of_bias_titles_are_whole(long_set):
    """They were cut off at the figure's edge ("...: risk of bias (RoB")."""
    traffic, summary = metamg.rob_plots(long_set)
    for fig, end in ((traffic, "risk of bias (RoB 2)"), (summary, "share of the analysis weight")):
        title = " ".join(t.get_text() for t in fig.texts if t.get_fontweight() == "bold")
        assert title.startswith("Intravenous magnesium sulphate") and title.endswith(end)
        assert outside(fig) == []


def test_figure_sizes_of_the_one_panel_plots(long_set):
    for size, expected in (("auto", (7.0, 4.8)), ("slide", (13.333, 7.5)), ("page", (6.3, 4.2))):
        fig = metamg.funnel(long_set, size=size)
        assert tuple(fig.get_size_inches()) == pytest.approx(expected)
    r = metamg.bayes(long_set)
    assert tuple(metamg.bayes_plot(r).get_size_inches()) == pytest.approx((10.0, 5.2))
    assert tuple(metamg.bayes_plot(r, size="page").get_size_inches()) == pytest.approx((6.3, 7.4))


def test_svg_keeps_text_as_escaped_text_in_a_font_stack(long_set):
    svg = figure_bytes(metamg.forest(long_set), "svg").decode("utf-8")
    assert svg.count("<text") > 100
    texts = re.findall(r"<text[^>]*>([^<]*)</text>", svg)
    assert "Smith &amp; Wesson &lt;b&gt;2001&lt;/b&gt; costs $10 vs $20" in texts
    r = long_set.result  # the pooled line, as the set computes it
    pooled = f"{math.exp(r.estimate):.2f} [{math.exp(r.ci_low):.2f}, {math.exp(r.ci_high):.2f}]"
    assert "Rasmussen 1986" in texts and pooled in " ".join(texts)
    assert "font-family: 'DejaVu Sans', 'Arial', 'Helvetica', sans-serif" in svg
    assert "<b>" not in svg  # the label stays text, never markup
    assert "<dc:date>" not in svg and 'width="' in svg
    # labels side by side share their baseline (by their tops, a descender moved one up)
    favours = re.findall(r'<text[^>]* y="([0-9.]+)"[^>]*>favours [^<]*</text>', svg)
    assert len(favours) == 2 and favours[0] == favours[1]


def test_pdf_embeds_truetype_text_without_a_date(long_set):
    pdf = figure_bytes(metamg.forest(long_set, size="page"), "pdf")
    assert pdf.startswith(b"%PDF") and b"/FontFile2" in pdf and b"/Subtype /Type3" not in pdf
    assert b"CreationDate" not in pdf and b"/Producer" not in pdf


@pytest.mark.slow
@pytest.mark.parametrize("fmt", V.FIGURE_FORMATS)
@pytest.mark.parametrize("size", V.FIGURE_SIZES)
def test_identical_input_gives_identical_bytes(long_set, fmt, size):
    def forest():
        return figure_bytes(metamg.forest(long_set, size=size), fmt, 60 if fmt == "png" else 300)

    def rob():
        return figure_bytes(metamg.rob_plots(long_set, size=size).traffic, fmt, 60 if fmt == "png" else 300)

    assert forest() == forest() and rob() == rob()


def test_the_forest_command_takes_size_layout_and_what_to_show(tmp_path):
    csv = tmp_path / "mg.csv"
    shutil.copy(ROOT / "studies" / "magnesium_migraine.csv", csv)
    shutil.copy(ROOT / "studies" / "magnesium_migraine.toml", tmp_path / "mg.toml")
    out = tmp_path / "f.svg"
    code, stdout, err = run_cli("forest", csv, "--size", "slide", "--layout", "compact", "-o", out)
    assert code == 0, err and stdout.strip() == str(out)
    svg = out.read_text(encoding="utf-8")
    assert 'width="959.976pt" height="540pt"' in svg  # 13.333 x 7.5 in
    assert "Pfaffenrath 1996" in svg and "Peikert 1996" not in svg
    assert "Not shown: 11 candidate studies excluded by the curator" in svg
    code, _, err = run_cli("forest", csv, "--show-excluded", "-o", out)
    assert code == 0, err
    svg = out.read_text(encoding="utf-8")
    assert "Peikert 1996" in svg and svg.count("not estimable") == 11
    assert "Heterogeneity" not in svg  # one study
    pdf = tmp_path / "f.pdf"
    code, _, err = run_cli("forest", csv, "--size", "page", "-o", pdf)
    assert code == 0, err
    assert b"/MediaBox [ 0 0 453.6 " in pdf.read_bytes()  # 6.3 in wide
    code, _, err = run_cli("forest", csv, "--size", "poster", "-o", out)
    assert code == 2 and "'poster' is not one of 'auto', 'slide', 'page'" in err


def test_the_forest_command_shades_the_mid_unless_told_not_to(tmp_path, long_set):
    src = Path(long_set.source)
    code, _, err = run_cli("forest", src, "-o", tmp_path / "a.svg")
    assert code == 0, err
    assert "Shaded: effects smaller than the minimal important difference" in (tmp_path / "a.svg").read_text()
    code, _, err = run_cli("forest", src, "--no-mid-band", "-o", tmp_path / "b.svg")
    assert code == 0, err
    assert "Shaded" not in (tmp_path / "b.svg").read_text()


def test_the_other_figure_commands_take_a_size(tmp_path, long_set):
    src = Path(long_set.source)
    code, _, err = run_cli("funnel", src, "--size", "page", "-o", tmp_path / "f.svg")
    assert code == 0, err and 'width="453.6pt"' in (tmp_path / "f.svg").read_text()
    code, out, err = run_cli("rob", src, "--size", "slide", "-o", tmp_path / "r.svg")
    assert code == 0, err
    for path in out.split():
        assert 'width="959.976pt" height="540pt"' in Path(path).read_text()
    plot, forest = tmp_path / "p.svg", tmp_path / "q.svg"
    code, _, err = run_cli("bayes", src, "--size", "page", "--plot", plot, "--forest", forest)
    assert code == 0, err
    assert 'width="453.6pt"' in plot.read_text() and 'width="453.6pt"' in forest.read_text()


def test_forest_layouts_at_every_size_draw_what_the_layout_says():
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR")
    for size in V.FIGURE_SIZES:
        for layout in V.FOREST_LAYOUTS:
            lay = forest_layout(a, title="BCG", size=size, layout=layout)
            fig = draw_forest(lay)
            drawn = {t.get_text() for t in fig.axes[0].texts}
            for row in lay.rows:
                assert row.label in drawn
                assert set(row.cells) <= drawn | {""}
            assert ("Treatment\nevents/total" in drawn) == ("Treatment\nevents/total" in lay.columns)


def test_a_slide_too_small_for_the_rows_grows_taller_and_says_so(tmp_path):
    code, out, err = run_cli(
        "forest",
        CASES_DIR / "curtis1998.csv",
        "--measure",
        "ROM",
        "--size",
        "slide",
        "-o",
        tmp_path / "c.svg",
    )
    assert code == 0, err
    assert "warning: the rows do not fit a 16:9 slide at 9 pt; the figure is 13.33 x " in err
    layout = forest_layout(metamg.pool(CASES_DIR / "curtis1998.csv", measure="ROM"), size="slide")
    assert layout.width == pytest.approx(13.333) and layout.height > 20 and layout.font == 9
    code, _, err = run_cli("forest", MI, "--size", "slide", "-o", tmp_path / "m.svg")
    assert code == 0 and "warning" not in err
