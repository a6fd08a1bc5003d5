"""examples/bcg_for_metafor_users.ipynb runs in a fresh Jupyter kernel (no %matplotlib inline),
shows metafor's numbers and draws its figures as PNG images."""

import math
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import CASES_DIR, load_case

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "bcg_for_metafor_users.ipynb"
NUMBER = re.compile(r"[-+]?\d+\.\d+(?:e[-+]?\d+)?")


@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    """The notebook run from an empty folder, finding bcg.csv through METAMG_BCG_CSV."""
    import os

    folder = tmp_path_factory.mktemp("notebook")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    old = os.environ.get("METAMG_BCG_CSV")
    os.environ["METAMG_BCG_CSV"] = str(CASES_DIR / "bcg.csv")  # the kernel inherits it
    try:
        NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
        ).execute()
    finally:
        if old is None:
            del os.environ["METAMG_BCG_CSV"]
        else:
            os.environ["METAMG_BCG_CSV"] = old
    return nb


def tagged(nb, tag):
    return [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]


def result(cell, mime="text/plain") -> str:
    """What the cell's last expression showed, as ``mime``."""
    shown = [o for o in cell.outputs if o.output_type == "execute_result"]
    assert shown, cell.source
    return shown[0]["data"][mime]


def number(cell) -> float:
    return float(NUMBER.search(result(cell)).group())


def test_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None, cell.source


def test_markdown_shows_the_metafor_call_beside_each_step():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    for call in (
        'rma(yi, vi, data=dat, test="knha")',
        "forest(res",
        "mods = ~ factor(alloc)",
        "mods = ~ ablat",
        "regplot(reg",
        "leave1out(res",
        "trimfill(res",
        "funnel(taf",
    ):
        assert call in text, call


@pytest.mark.slow
def test_runs_without_errors(executed):
    errors = [
        o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"
    ]
    assert not errors, errors[0]["evalue"] if errors else ""


@pytest.mark.slow
@pytest.mark.reference
def test_pooled_rr_is_metafors(executed):
    expected = next(
        a["expected"]
        for a in load_case("bcg")["analyses"]
        if (a["measure"], a["method"], a["ci_method"]) == ("RR", "REML", "hk")
    )
    [cell] = tagged(executed, "pooled-rr")
    assert number(cell) == pytest.approx(math.exp(expected["estimate"]), rel=1e-9)


@pytest.mark.slow
@pytest.mark.reference
def test_ablat_slope_is_metafors_knha(executed):
    ref = next(m["hk"] for m in load_case("bcg")["extras"]["RR"]["metareg"] if m["formula"] == "~ ablat")
    slope = next(c for c in ref["coefficients"] if c["name"] == "ablat")
    [cell] = tagged(executed, "ablat-slope")
    assert number(cell) == pytest.approx(slope["estimate"], rel=1e-6)


@pytest.mark.slow
@pytest.mark.reference
def test_trim_and_fill_fills_metafors_study(executed):
    ref = load_case("bcg")["extras"]["RR"]["trimfill"]
    [cell] = tagged(executed, "trimfill")
    assert f"{ref['k0']} filled on the {ref['side']}" in result(cell)


@pytest.mark.slow
def test_leave_one_out_table_has_a_row_per_trial(executed):
    [cell] = tagged(executed, "leave1out-frame")
    table = result(cell, "text/html")
    studies = [s["study"] for s in load_case("bcg")["analyses"][0]["expected"]["studies"]]
    assert table.count("<tr") == len(studies) + 1
    assert all(s.replace("&", "&amp;") in table for s in studies)


@pytest.mark.slow
def test_grade_cell_shows_a_certainty(executed):
    [cell] = tagged(executed, "grade")
    assert "Certainty (GRADE, suggested)" in result(cell, "text/html")
    [level] = tagged(executed, "grade-level")
    assert result(level).strip("'\"") in ("high", "moderate", "low", "very low")


@pytest.mark.slow
def test_figure_cells_show_png_images(executed):
    cells = tagged(executed, "figure")
    assert len(cells) == 5
    for cell in cells:
        data = next(o["data"] for o in cell.outputs if o.output_type == "execute_result")
        assert "image/png" in data, cell.source
        assert data["text/plain"].startswith("<Figure")
