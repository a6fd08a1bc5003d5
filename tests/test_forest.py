"""Forest plots: the numbers the picture is drawn from, and byte-identical files."""

import math

import pytest

import metamg
from metamg.analyses.subgroups import pool_subgroups
from metamg.render.forest import MAX_BOX_PT2, draw_forest, forest_layout
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


def test_not_estimable_rows_have_no_box(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text("study,yi,vi\nA,0.1,0.04\nB,,\nC,0.3,0.09\n")
    layout = forest_layout(metamg.pool(p))
    row = layout.row("B")
    assert row.kind == "not-estimable" and row.box_area is None and row.effect_text == "not estimable"


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
