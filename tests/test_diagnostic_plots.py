"""Baujat, GOSH, bubble and trim-and-fill funnel plots: numbers drawn, stable files, errors."""

import numpy as np
import pytest

import metamg
from metamg.analyses.influence import baujat_points
from metamg.models import fit
from tests.conftest import CASES_DIR, load_case, run_cli


def test_baujat_coordinates_by_hand():
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="RR")
    points = baujat_points(a)
    es = a.effects
    full = fit(es.yi, es.vi, method="FE", ci_method="wald")
    # contributions add up to Cochran's Q
    assert sum(p.contribution for p in points) == pytest.approx(full.q, rel=1e-12)
    i = es.studies.index("TPT Madras 1980")
    keep = np.arange(es.k) != i
    without = fit(es.yi[keep], es.vi[keep], method="FE", ci_method="wald")
    assert points[i].influence == pytest.approx((full.estimate - without.estimate) ** 2 / without.se**2)
    assert max(points, key=lambda p: p.influence).study == "TPT Madras 1980"


def test_trim_and_fill_funnel_shows_the_filled_studies():
    from metamg.analyses.bias import small_study_tests
    from metamg.render.funnel import funnel_layout

    a = metamg.pool(CASES_DIR / "egger2001.csv", measure="OR", method="REML", ci_method="wald")
    tf = small_study_tests(a).trimfill
    layout = funnel_layout(a, trimfill=tf)
    expected = load_case("egger2001")["extras"]["OR"]["trimfill"]
    assert len(layout.filled_x) == expected["k0"] == 7
    assert sorted(layout.filled_x) == pytest.approx(sorted(np.exp([f["yi"] for f in expected["filled"]])))
    assert layout.adjusted == pytest.approx(np.exp(expected["estimate"]), rel=1e-6)
    assert layout.se_max >= max(layout.filled_se)


@pytest.mark.slow
@pytest.mark.parametrize(
    "args",
    [
        ("sensitivity", CASES_DIR / "bcg.csv", "--baujat", "{out}"),
        ("sensitivity", CASES_DIR / "bcg.csv", "--gosh-plot", "{out}"),
        ("regress", CASES_DIR / "bcg.csv", "--mods", "ablat", "--plot", "{out}"),
        ("funnel", CASES_DIR / "egger2001.csv", "--measure", "OR", "--trimfill", "-o", "{out}"),
    ],
)
def test_plots_are_written_and_byte_stable(tmp_path, args):
    outputs = []
    for name in ("a.png", "b.png"):
        target = tmp_path / name
        code, _, err = run_cli(*[str(target) if a == "{out}" else a for a in args])
        assert code == 0, err
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1] and len(outputs[0]) > 20_000


def test_bubble_plot_needs_one_continuous_moderator(tmp_path):
    code, _, err = run_cli("regress", CASES_DIR / "bcg.csv", "--mods", "alloc", "--plot", tmp_path / "x.png")
    assert code == 2 and "exactly one continuous moderator" in err
    assert not (tmp_path / "x.png").exists()
