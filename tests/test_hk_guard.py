"""The Hartung-Knapp guard: when the Knapp-Hartung factor is below 1 the HKSJ interval is
narrower than the Wald interval of the same model; every output says so and shows the ad hoc
corrected interval (metafor's test = "adhoc") beside it. Values: metafor 3.8-1,
tests/reference/metafor_extra/hk_guard.R -> hk_guard.json (every tau² method on the reference
sets and on their first 2, 3 and 4 studies)."""

import json

import pytest

import metamg
from metamg.models.inverse_variance import HK_FACTOR_ROUNDING
from metamg.render.notes_text import note_text
from tests.helpers import METAFOR_EXTRA_DIR

ROWS = json.loads((METAFOR_EXTRA_DIR / "hk_guard.json").read_text(encoding="utf-8"))["rows"]


def close(a, b, rtol=1e-6, atol=1e-10):
    return a == pytest.approx(b, rel=rtol, abs=atol)


@pytest.mark.reference
@pytest.mark.parametrize("row", ROWS, ids=lambda r: f"{r['case']}-k{r['k']}-{r['method']}")
def test_the_adhoc_interval_is_shown_exactly_when_knha_is_narrower_than_wald(row):
    hk = metamg.fit(row["yi"], row["vi"], method=row["method"], ci_method="hk")
    adhoc = metamg.fit(row["yi"], row["vi"], method=row["method"], ci_method="hk-adhoc")
    assert close(hk.hk_scale, row["kh_factor"])
    assert close(hk.ci_low, row["knha"]["ci_low"]) and close(hk.ci_high, row["knha"]["ci_high"])
    assert close(adhoc.ci_low, row["adhoc"]["ci_low"]) and close(adhoc.ci_high, row["adhoc"]["ci_high"])
    narrowed = [w for w in hk.warnings if w.rule == "ci.hk_narrower_than_wald"]
    if row["kh_factor"] < 1 - HK_FACTOR_ROUNDING:  # 1 up to rounding is 1 (PM, EB by construction)
        assert hk.hk_narrowed and close(hk.ci_adhoc_low, row["adhoc"]["ci_low"])
        assert close(hk.ci_adhoc_high, row["adhoc"]["ci_high"])
        if hk.hk_scale > 0:  # a zero factor has the zero-width warning instead
            assert len(narrowed) == 1 and close(narrowed[0]["hk_scale"], row["kh_factor"])
            assert "narrower than the Wald interval" in note_text(narrowed[0])
    else:
        assert not hk.hk_narrowed and hk.ci_adhoc_low is None and not narrowed
    assert adhoc.ci_adhoc_low is None and not adhoc.hk_narrowed  # the corrected interval itself


def test_the_json_carries_the_adhoc_interval():
    row = next(r for r in ROWS if r["kh_factor"] < 0.9 and r["method"] == "REML")
    d = metamg.fit(row["yi"], row["vi"], method="REML", ci_method="hk").to_dict()
    assert close(d["ci_adhoc_low"], row["adhoc"]["ci_low"]) and close(
        d["ci_adhoc_high"], row["adhoc"]["ci_high"]
    )
    wald = metamg.fit(row["yi"], row["vi"], method="REML", ci_method="wald").to_dict()
    assert wald["ci_adhoc_low"] is None and wald["ci_adhoc_high"] is None


def _agreeing_set(tmp_path, k=3):
    """Trials agreeing more closely than their variances suggest: the Knapp-Hartung factor < 1."""
    rows = [("Alpha 2001", 0.30, 0.02), ("Beta 2004", 0.32, 0.03), ("Gamma 2009", 0.29, 0.05)][:k]
    path = tmp_path / "agreeing.csv"
    path.write_text("study,yi,vi\n" + "".join(f"{s},{y},{v}\n" for s, y, v in rows), encoding="utf-8")
    return path


def test_text_and_report_show_the_adhoc_interval_and_never_call_it_agreement(tmp_path):
    from tests.conftest import run_cli

    path = _agreeing_set(tmp_path)
    a = metamg.pool(path, method="REML", ci_method="hk")
    r = a.result
    assert r.hk_narrowed and r.hk_scale < 1
    code, out, _ = run_cli("pool", path, "--method", "REML", "--ci", "hk")
    adhoc = f"{r.ci_adhoc_low:.2f} to {r.ci_adhoc_high:.2f}"
    assert code == 0 and f"ad hoc corrected 95% CI {adhoc}" in out
    code, _, err = run_cli("report", path, "-o", tmp_path / "out", "--method", "REML", "--ci", "hk")
    text = (tmp_path / "out" / "agreeing.md").read_text(encoding="utf-8")
    assert code == 0, err
    assert f"| Ad hoc corrected CI | 95% CI {adhoc} (Knapp-Hartung factor {r.hk_scale:.2f} < 1" in text
    assert "The two models agree" not in text and "that is not agreement" in text


def test_two_studies_show_no_prediction_interval_as_informative(tmp_path):
    from tests.conftest import run_cli

    path = _agreeing_set(tmp_path, k=2)
    a = metamg.pool(path, method="REML", ci_method="hk")
    assert a.result.k == 2 and a.result.pi_low is not None  # computed, as metafor's predict()
    code, out, _ = run_cli("pool", path, "--method", "REML", "--ci", "hk")
    assert "Prediction interval (95%): not informative with fewer than 3 studies" in out
    run_cli("report", path, "-o", tmp_path / "out", "--method", "REML", "--ci", "hk")
    text = (tmp_path / "out" / "agreeing.md").read_text(encoding="utf-8")
    assert "| Prediction interval (95%) | not informative with fewer than 3 studies" in text
    assert "- Prediction interval: not informative with fewer than 3 studies" in text
    assert "the true effect in a new study like these is expected" not in text


def test_one_study_shows_no_undefined_heterogeneity_intervals(tmp_path):
    from tests.conftest import run_cli

    path = _agreeing_set(tmp_path, k=1)
    code, out, _ = run_cli("pool", path, "--method", "REML", "--ci", "hk")
    assert code == 0 and "Heterogeneity: tau² = 0.0000, tau = 0.0000" in out
    assert "nan" not in out and "n/a" not in out
