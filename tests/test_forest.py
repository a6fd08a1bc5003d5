"""Forest plots: the numbers the picture is drawn from, and byte-identical files."""

import math
from pathlib import Path

import pytest

import metamg
from metamg.analyses.subgroups import pool_subgroups
from metamg.render.forest import MAX_BOX_PT2, ForestRow, draw_forest, forest_layout, forest_rows
from tests.conftest import CASES_DIR, load_case, run_cli


def expected(case, measure, method, ci):
    return next(
        a["expected"]
        for a in load_case(case)["analyses"]
        if (a["measure"], a["method"], a["ci_method"]) == (measure, method, ci)
    )


@pytest.fixture(scope="module")
def bcg_layout():
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR", method="REML", ci_method="hk")
    return forest_layout(a, ("favours vaccine", "favours control"), "BCG")


def test_study_rows_are_the_pooled_numbers(bcg_layout):
    e = expected("bcg", "RR", "REML", "hk")
    studies = [r for r in bcg_layout.rows if r.kind == "study"]
    assert [r.label for r in studies] == [s["study"] for s in e["studies"]]
    heaviest = max(e["studies"], key=lambda s: s["weight"])
    for row, s in zip(studies, e["studies"], strict=True):
        assert row.estimate == pytest.approx(math.exp(s["yi"]), rel=1e-12)
        half = 1.959963984540054 * math.sqrt(s["vi"])
        assert row.ci_low == pytest.approx(math.exp(s["yi"] - half), rel=1e-9)
        assert row.weight_text == f"{s['weight']:.1f}%"
        # box area proportional to weight
        assert row.box_area == pytest.approx(MAX_BOX_PT2 * s["weight"] / heaviest["weight"], rel=1e-9)
    assert studies[0].cells == ("4/123", "11/139")
    assert studies[0].effect_text == "0.41 [0.13, 1.26]"


def test_diamond_and_prediction_interval(bcg_layout):
    e = expected("bcg", "RR", "REML", "hk")
    overall = next(r for r in bcg_layout.rows if r.kind == "overall")
    assert (overall.estimate, overall.ci_low, overall.ci_high) == pytest.approx(
        (math.exp(e["estimate"]), math.exp(e["ci_low"]), math.exp(e["ci_high"])), rel=1e-9
    )
    pi = next(r for r in bcg_layout.rows if r.kind == "prediction")
    assert (pi.ci_low, pi.ci_high) == pytest.approx((math.exp(e["pi_low"]), math.exp(e["pi_high"])), rel=1e-9)
    notes = [r.label for r in bcg_layout.rows if r.kind == "note"]
    assert (
        notes[0] == f"Heterogeneity: tau² = {e['tau2']:.4f}; I² = {e['I2']:.0f}%; "
        f"Q = {e['Q']:.2f}, df = 12 (p < 0.0001)"
    )
    assert notes[1] == "Test for overall effect: t(12) = -3.95 (p = 0.002)"


def test_ratio_axis_has_plain_ticks_around_one(bcg_layout):
    assert bcg_layout.log_scale and bcg_layout.null == 1.0
    assert bcg_layout.xtick_labels == ("0.05", "0.1", "0.2", "0.5", "1", "2", "5", "10", "20")
    assert bcg_layout.xlim == pytest.approx((0.05, 20))
    assert bcg_layout.favours == ("favours vaccine", "favours control")


def test_wide_data_uses_powers_of_ten():
    layout = forest_layout(metamg.pool(CASES_DIR / "egger2001.csv", measure="OR"))
    assert layout.xtick_labels == ("0.01", "0.1", "1", "10", "100")
    # Abraham 1987 (0.06 to 15.8) stays inside, no arrows needed
    assert not any(r.clipped_low or r.clipped_high for r in layout.rows)


def test_clipped_confidence_intervals_get_arrows(tmp_path):
    p = tmp_path / "s.csv"
    # Tiny: 10/10 vs 0/10 gives OR = 10.5²/0.5² = 441, beyond the axis cap of 100
    p.write_text("study,ai,n1i,ci,n2i\nBig,40,200,60,200\nTiny,10,10,0,10\n")
    layout = forest_layout(metamg.pool(p, measure="OR"))
    assert layout.xlim == pytest.approx((0.01, 100))
    tiny = layout.row("Tiny")
    assert tiny.estimate == pytest.approx(441)
    assert tiny.clipped_high and not tiny.clipped_low
    assert not layout.row("Big").clipped_high


def test_linear_axis_for_mean_differences():
    layout = forest_layout(metamg.pool(CASES_DIR / "normand1999.csv", measure="MD"))
    assert not layout.log_scale
    assert layout.xtick_labels == ("-150", "-100", "-50", "0", "50", "100")
    assert layout.row("Edinburgh").cells == ("55 (47) 155", "75 (64) 156")


def test_subgroup_headers_subtotals_and_test():
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR", method="REML", ci_method="wald")
    layout = forest_layout(a, subgroups=pool_subgroups(a, "alloc"))
    ref = load_case("bcg")["extras"]["RR"]["subgroups"]
    headers = [r.label for r in layout.rows if r.kind == "header"]
    assert headers == ["alloc: random", "alloc: alternate", "alloc: systematic"]
    subtotals = [r for r in layout.rows if r.kind == "subtotal"]
    for row, level in zip(subtotals, ("random", "alternate", "systematic"), strict=True):
        e = next(lev for lev in ref["levels"] if lev["level"] == level)
        assert row.label == f"Subtotal (k = {e['k']})"
        assert row.estimate == pytest.approx(math.exp(e["estimate"]), rel=1e-6)
    b = ref["test_between_fixed"]
    assert (
        layout.rows[-1].label == f"Test for subgroup differences: Q = {b['Q']:.2f}, df = 2 (p = {b['p']:.3f})"
    )


def test_not_estimable_rows_are_counted_not_drawn_unless_asked(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("study,yi,vi,exclusion_reason\nA,0.1,0.04,\nB,,,\nC,0.3,0.09,\nD,0.2,0.05,crossover\n")
    a = metamg.pool(p)
    layout = forest_layout(a)
    assert [r.label for r in layout.rows if r.kind in ("study", "not-estimable")] == ["A", "C"]
    assert layout.rows[-1] == ForestRow(
        "note",
        layout.rows[-1].y,
        "Not shown: 1 candidate study with no estimable effect and 1 excluded by the curator",
    )
    assert forest_rows(a) == 2 and forest_rows(a, show_excluded=True) == 4
    shown = forest_layout(a, show_excluded=True)
    assert [r.label for r in shown.rows if r.kind == "not-estimable"] == ["B", "D"]
    row = shown.row("B")
    assert row.box_area is None and row.effect_text == "not estimable" and row.cells == ("", "")
    assert not any(r.label.startswith("Not shown") for r in shown.rows)
    assert shown.height > layout.height


def test_figure_grows_with_the_number_of_studies():
    three = forest_layout(metamg.pool(CASES_DIR / "edge_k2.csv", measure="OR"))
    many = forest_layout(metamg.pool(CASES_DIR / "curtis1998.csv", measure="ROM"))
    assert 2.5 < three.height < 4.5
    assert many.height > 102 * 0.2
    assert draw_forest(three).get_size_inches()[1] == pytest.approx(three.height)


@pytest.mark.slow
@pytest.mark.parametrize("suffix", ["png", "svg"])
def test_identical_input_gives_identical_bytes(tmp_path, suffix):
    a, b = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
    for target in (a, b):
        code, out, err = run_cli("forest", CASES_DIR / "bcg.csv", "--by", "alloc", "-o", target)
        assert code == 0, err
    assert a.read_bytes() == b.read_bytes()
    assert a.stat().st_size > 10_000


def test_forest_cli_errors(tmp_path):
    code, _, err = run_cli("forest", CASES_DIR / "bcg.csv", "--by", "nope", "-o", tmp_path / "x.png")
    assert code == 2 and "no column 'nope'" in err
    code, _, err = run_cli("forest", tmp_path / "missing.csv", "-o", tmp_path / "x.png")
    assert code == 2 and "no such file" in err


# -- issue 15: what is drawn, sizes, layouts ------------------------------------------------

MI = Path(__file__).resolve().parents[1] / "studies" / "iv_magnesium_mi_mortality.csv"


def test_one_study_has_no_heterogeneity_line_or_prediction_interval():
    layout = forest_layout(metamg.pool(CASES_DIR / "edge_k1.csv", measure="OR"))
    assert [r.kind for r in layout.rows] == ["study", "overall", "note"]
    assert layout.rows[1].label == "Single study (nothing pooled)"
    assert layout.rows[2].label.startswith("Test for overall effect: z = ")


def test_several_studies_keep_heterogeneity_and_prediction_interval(bcg_layout):
    kinds = [r.kind for r in bcg_layout.rows]
    assert kinds.count("prediction") == 1
    assert any(r.label.startswith("Heterogeneity: tau²") for r in bcg_layout.rows)


def test_the_verdict_models_diamond_is_drawn_beside_the_main_one():
    a = metamg.pool(MI)
    answer, other = metamg.api._second_diamond(a)
    assert other is None  # small-study effects: the common-effect model is the verdicts' answer
    layout = metamg.api.study_set_forest_layout(a, a.meta, None, answer)
    overall = [r for r in layout.rows if r.kind == "overall"]
    assert [r.label.replace("\n", " ") for r in overall] == [
        "Random effects (REML, HKSJ CI) (main analysis)",
        "Common effect (inverse variance) (used for the verdicts)",
    ]
    assert [r.second for r in overall] == [False, True]
    assert overall[1].estimate == pytest.approx(1.01, abs=0.005)


def test_disagreeing_models_draw_both_diamonds_and_agreeing_ones_one(tmp_path):
    p = tmp_path / "two.csv"  # two studies: the random-effects CI includes 1, the common one not
    p.write_text("study,yi,vi\nA,-1.0,0.01\nB,1.0,0.04\n")
    a = metamg.pool(p)
    answer, other = metamg.api._second_diamond(a)
    assert answer is None and other is not None and other.result.method == "FE"
    layout = forest_layout(a, other=other)
    overall = [r for r in layout.rows if r.kind == "overall"]
    assert [r.label for r in overall] == [
        "Random effects (REML, HKSJ CI) (main analysis)",
        "Common effect (inverse variance)",
    ]
    notes = [r.label for r in layout.rows if r.kind == "note"]
    assert notes[1].startswith("Test for overall effect (main analysis): t(1)")
    assert notes[2].startswith("Test for overall effect (common effect): z")
    assert len(metamg.forest(a).axes[0].patches) == 2  # two diamonds
    homog = metamg.pool(CASES_DIR / "edge_homog.csv", measure="OR")
    assert metamg.api._second_diamond(homog) == (None, None)
    assert [r.kind for r in forest_layout(homog).rows].count("overall") == 1


def test_minimal_important_difference_is_shaded_from_the_metadata(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text((CASES_DIR / "bcg.csv").read_text())
    (tmp_path / "m.toml").write_text('measure = "RR"\n[grade]\nmid = 0.8\n')
    a = metamg.pool(p)
    layout = metamg.api.study_set_forest_layout(a, a.meta)
    assert layout.mid_band == pytest.approx((0.8, 1.2))  # GRADE's thresholds (analyses.grade)
    assert (
        layout.rows[-1].label
        == "Shaded: effects smaller than the minimal important difference (0.80 to 1.20)"
    )
    fig = draw_forest(layout)
    (band,) = [c for c in fig.axes[0].collections if c.get_label() == "minimal important difference"]
    xs = band.get_paths()[0].vertices[:, 0]
    assert (xs.min(), xs.max()) == pytest.approx((0.8, 1.2))
    plain = metamg.api.study_set_forest_layout(a, a.meta, mid_band=False)
    assert plain.mid_band is None and not any(r.label.startswith("Shaded") for r in plain.rows)
    assert metamg.api.study_set_forest_layout(metamg.pool(CASES_DIR / "bcg.csv"), None).mid_band is None


@pytest.mark.parametrize(
    "size,width,height",
    [("slide", 13.333, 7.5), ("page", 6.3, None), ("auto", None, None)],
)
def test_sizes_in_inches(size, width, height):
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR")
    layout = forest_layout(a, title="BCG vaccine against tuberculosis", size=size)
    fig = draw_forest(layout)
    assert tuple(fig.get_size_inches()) == pytest.approx((layout.width, layout.height))
    if width is not None:
        assert layout.width == pytest.approx(width)
    if height is not None:
        assert layout.height == pytest.approx(height)
    assert layout.size == size
    if size == "auto":  # the content's size: its columns side by side, its rows one under another
        assert layout.font == 9 and 1.5 < layout.aspect < 1.9
        assert layout.width == pytest.approx(2 * layout.margin + sum(layout.column_widths))
        units = max(r.y for r in layout.rows) + 1
        assert layout.height == pytest.approx(layout.top + units * layout.row_height + layout.bottom)
    if size == "page":  # BCG's labels, counts and effects leave the plot too little room at 7 pt
        assert layout.font == 8 and layout.dropped == ("raw data",) and layout.columns == ()
    if size == "slide":  # 13 studies: the largest type at which the rows fit 7.5 in
        assert 11 <= layout.font <= 18


def test_a_page_keeps_the_raw_data_where_7_pt_type_leaves_the_plot_room():
    layout = forest_layout(metamg.pool(MI), size="page")
    assert layout.width == pytest.approx(6.3) and layout.font == 7 and layout.dropped == ()
    assert layout.columns == ("Treatment\nevents/total", "Control\nevents/total")


def test_a_slide_of_one_study_uses_large_type():
    layout = forest_layout(metamg.pool(CASES_DIR / "edge_k1.csv", measure="OR"), size="slide")
    assert layout.font >= 16 and layout.height == pytest.approx(7.5)


def test_layouts_name_their_columns(bcg_layout):
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR", method="REML", ci_method="hk")
    assert bcg_layout.column_kinds == ("label", "data", "data", "plot", "effect", "weight")
    compact = forest_layout(a, layout="compact")
    assert compact.column_kinds == ("label", "effect", "plot", "weight")
    assert compact.columns == () and all(r.cells == () for r in compact.rows)
    assert [r.effect_text for r in compact.rows] == [r.effect_text for r in bcg_layout.rows]
    assert compact.width < bcg_layout.width
    with pytest.raises(ValueError, match="cochrane, compact"):
        forest_layout(a, layout="revman")


def _crowded(tmp_path, k=12):
    """Continuous data with long labels and all five RoB domains: more columns than a slide holds."""
    lines = ["study,m1i,sd1i,n1i,m2i,sd2i,n2i,rob_d1,rob_d2,rob_d3,rob_d4,rob_d5,rob_overall"]
    for i in range(k):
        lines.append(
            f"Investigator{i} et al. 20{i:02d} (a long descriptive label),{10.12345 + i},2.5432,"
            f"{100 + i},11.5,2.4,{99 + i},low,some concerns,low,high,low,high"
        )
    p = tmp_path / "crowded.csv"
    p.write_text("\n".join(lines) + "\n")
    return metamg.pool(p, measure="MD")


def test_a_slide_drops_columns_in_the_documented_order(tmp_path):
    a = _crowded(tmp_path)
    full = forest_layout(a)
    assert full.dropped == () and len(full.rob_columns) == 6 and full.columns
    slide = forest_layout(a, size="slide")
    assert slide.width == pytest.approx(13.333) and slide.height == pytest.approx(7.5)
    assert slide.dropped[0] == "risk-of-bias domains"
    assert set(slide.dropped) <= {"risk-of-bias domains", "raw data", "risk of bias"}
    if "raw data" in slide.dropped:
        assert slide.columns == () and all(r.cells == () for r in slide.rows)
    if "risk of bias" not in slide.dropped:
        assert slide.rob_columns == ("rob_overall",)
        assert slide.rob_legend == ("RoB: overall risk of bias (RoB 2)",)
        assert all(len(r.rob) == 1 for r in slide.rows if r.kind == "study")
    assert max(len(r.label) for r in slide.rows if r.kind == "study") <= 32


def test_long_study_labels_end_in_an_ellipsis_at_each_size(tmp_path):
    a = _crowded(tmp_path, 3)
    for size, chars in (("auto", 45), ("page", 32), ("slide", 32)):
        label = next(r.label for r in forest_layout(a, size=size).rows if r.kind == "study")
        assert len(label) <= chars and label.endswith("…") and label.startswith("Investigator0 et al.")
