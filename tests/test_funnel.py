"""Funnel plots: the numbers drawn, and the CLI."""

import math

import numpy as np
import pytest

import metamg
from metamg.render.funnel import funnel_layout
from tests.conftest import CASES_DIR, load_case, run_cli


def test_points_limits_and_contours():
    a = metamg.pool(CASES_DIR / "egger2001.csv", measure="OR", method="REML", ci_method="wald")
    layout = funnel_layout(a)
    e = next(
        x["expected"]
        for x in load_case("egger2001")["analyses"]
        if (x["measure"], x["method"], x["ci_method"]) == ("OR", "REML", "wald")
    )
    assert layout.x == pytest.approx([math.exp(s["yi"]) for s in e["studies"]], rel=1e-12)
    assert layout.se == pytest.approx([math.sqrt(s["vi"]) for s in e["studies"]], rel=1e-12)
    assert layout.pooled == pytest.approx(math.exp(e["estimate"]), rel=1e-9)
    se_max = layout.se_max
    assert se_max == pytest.approx(1.08 * max(layout.se))
    assert layout.funnel_low == pytest.approx(math.exp(e["estimate"] - 1.959963984540054 * se_max))
    assert layout.contour_z == pytest.approx((1.6448536269514722, 1.959963984540054, 2.5758293035489004))
    assert layout.log_scale and layout.null == 1.0
    assert layout.xtick_labels == ("0.01", "0.1", "1", "10", "100")


@pytest.mark.slow
def test_funnel_cli_writes_identical_files(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for target in (a, b):
        code, out, err = run_cli("funnel", CASES_DIR / "hackshaw1998.csv", "-o", target)
        assert code == 0, err
        assert "Warning" not in err
    assert a.read_bytes() == b.read_bytes()


def test_linear_funnel():
    layout = funnel_layout(metamg.pool(CASES_DIR / "normand1999.csv", measure="SMD"))
    assert not layout.log_scale and layout.null == 0.0
    assert layout.xlim[0] <= min(layout.x) and layout.xlim[1] >= max(layout.x)
    assert np.all(np.diff(layout.xticks) > 0)


def test_p_below_001_shading_reaches_the_axis_edge_at_every_se():
    from metamg.render.funnel import draw_funnel

    layout = funnel_layout(metamg.pool(CASES_DIR / "egger2001.csv", measure="OR"))
    ax = draw_funnel(layout).axes[0]
    darkest = ax.collections[4:6]  # the p < 0.01 fills, right and left of the null
    for poly, beyond in zip(
        darkest, (lambda x: x >= layout.xlim[1], lambda x: x <= layout.xlim[0]), strict=True
    ):
        verts = poly.get_paths()[0].vertices
        top = verts[np.isclose(verts[:, 1], 0)]
        assert any(beyond(x) for x in top[:, 0])  # at se = 0 it already spans to the edge
