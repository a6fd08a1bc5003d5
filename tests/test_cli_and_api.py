"""The pool command's formats, options and profiles, and the same from Python."""

import csv
import dataclasses
import io
import json
import math

import numpy as np
import pytest

import metamg
from tests.conftest import CASES_DIR, load_case, run_cli

BCG = CASES_DIR / "bcg.csv"


def expected(case, measure, method, ci):
    return next(
        a["expected"]
        for a in load_case(case)["analyses"]
        if (a["measure"], a["method"], a["ci_method"]) == (measure, method, ci)
    )


def test_default_profile_is_cochrane_reml_hksj():
    code, out, _ = run_cli("pool", BCG, "--measure", "RR", "--format", "json")
    d = json.loads(out)
    e = expected("bcg", "RR", "REML", "hk")
    assert (d["method"], d["ci_method"], d["profile"]) == ("REML", "hk", "cochrane")
    assert d["ci_low"] == pytest.approx(e["ci_low"], rel=1e-9)
    assert d["pi_high"] == pytest.approx(e["pi_high"], rel=1e-9)


@pytest.mark.parametrize("profile,method,ci", [("metafor", "REML", "wald"), ("revman5", "DL", "wald")])
def test_profiles(profile, method, ci):
    _, out, _ = run_cli("pool", BCG, "--measure", "OR", "--profile", profile, "--format", "json")
    d = json.loads(out)
    assert (d["method"], d["ci_method"]) == (method, ci)
    assert d["estimate"] == pytest.approx(expected("bcg", "OR", method, ci)["estimate"], rel=1e-9)


def test_revman5_common_effect_for_binary_is_mantel_haenszel():
    _, out, _ = run_cli(
        "pool", BCG, "--measure", "OR", "--profile", "revman5", "--method", "FE", "--format", "json"
    )
    d = json.loads(out)
    assert d["method"] == "MH"
    assert d["estimate"] == pytest.approx(load_case("bcg")["extras"]["mh"]["OR"]["estimate"], rel=1e-9)


def test_text_output_names_every_rule():
    code, out, _ = run_cli("pool", BCG)
    assert code == 0
    e = expected("bcg", "RR", "REML", "hk")
    assert (
        f"Pooled RR: {math.exp(e['estimate']):.2f} (95% CI {math.exp(e['ci_low']):.2f} to "
        f"{math.exp(e['ci_high']):.2f})" in out
    )
    assert f"tau² = {e['tau2']:.4f}" in out and f"I² = {e['I2']:.1f}%" in out
    for rule in (
        "restricted maximum likelihood",
        "Hartung-Knapp-Sidik-Jonkman",
        "Q-profile",
        "prediction interval",
        "I² = 100·tau²/(tau² + typical",
        "zero cells: 0.5 added",
    ):
        assert rule in out
    assert "I² from Q = " in out


def test_csv_output_is_the_study_table():
    _, out, _ = run_cli("pool", BCG, "--measure", "RR", "--method", "REML", "--ci", "wald", "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    e = expected("bcg", "RR", "REML", "wald")["studies"]
    assert [r["study"] for r in rows] == [s["study"] for s in e]
    for r, s in zip(rows, e, strict=True):
        assert float(r["yi"]) == pytest.approx(s["yi"], rel=1e-12)
        assert float(r["weight_percent"]) == pytest.approx(s["weight"], rel=1e-9)
        assert float(r["effect"]) == pytest.approx(math.exp(s["yi"]), rel=1e-12)


def test_output_file_is_written_whole(tmp_path):
    target = tmp_path / "out" / "bcg.json"
    code, out, _ = run_cli("pool", BCG, "--format", "json", "-o", target)
    assert code == 0 and out == ""
    assert json.loads(target.read_text())["k"] == 13
    assert [p.name for p in target.parent.iterdir()] == ["bcg.json"]  # no temp file left behind


def test_hk_adhoc_is_never_narrower_than_wald():
    # edge_homog: Q far below its df, so the HK scale factor is < 1 and plain HK is narrower
    case = CASES_DIR / "edge_homog.csv"
    widths = {}
    for ci in ("wald", "hk", "hk-adhoc"):
        _, out, _ = run_cli(
            "pool", case, "--measure", "OR", "--method", "REML", "--ci", ci, "--format", "json"
        )
        d = json.loads(out)
        widths[ci] = d["ci_high"] - d["ci_low"]
    assert widths["hk"] < widths["wald"] < widths["hk-adhoc"]
    e = expected("edge_homog", "OR", "REML", "wald")
    from metamg.models.distributions import norm_ppf, t_ppf

    assert widths["hk-adhoc"] == pytest.approx(2 * e["se"] * t_ppf(0.975, 5), rel=1e-9)
    assert widths["wald"] == pytest.approx(2 * e["se"] * norm_ppf(0.975), rel=1e-9)


def test_hts_prediction_interval_uses_t_with_k_minus_2_df():
    _, out, _ = run_cli(
        "pool", BCG, "--measure", "RR", "--method", "REML", "--ci", "wald", "--pi", "hts", "--format", "json"
    )
    d = json.loads(out)
    e = expected("bcg", "RR", "REML", "wald")
    from metamg.models.distributions import t_ppf

    half = t_ppf(0.975, 11) * math.sqrt(e["se"] ** 2 + e["tau2"])
    assert d["pi_high"] == pytest.approx(e["estimate"] + half, rel=1e-12)
    assert d["pi_df"] == 11


def test_level_90():
    _, out, _ = run_cli(
        "pool", BCG, "--measure", "RR", "--method", "DL", "--ci", "wald", "--level", "0.9", "--format", "json"
    )
    d = json.loads(out)
    e = expected("bcg", "RR", "DL", "wald")
    assert d["ci_high"] == pytest.approx(e["estimate"] + 1.6448536269514722 * e["se"], rel=1e-12)


def test_drop00_leaves_double_zero_studies_out():
    case = CASES_DIR / "edge_zero.csv"
    _, kept, _ = run_cli("pool", case, "--measure", "OR", "--format", "json")
    _, dropped, _ = run_cli("pool", case, "--measure", "OR", "--drop00", "--format", "json")
    kept, dropped = json.loads(kept), json.loads(dropped)
    assert kept["k"] == 8 and dropped["k"] == 7
    assert dropped["excluded"][0]["study"] == "Sparse 3"
    (kept_warning,) = (w for w in kept["warnings"] if w["rule"] == "double_zero.kept")
    assert kept_warning["studies"] == ["Sparse 3"] and "--drop00 leaves them out" in kept_warning["text"]


def test_continuity_correction_options_change_the_effects():
    case = CASES_DIR / "edge_zero.csv"
    _, out, _ = run_cli("pool", case, "--measure", "OR", "--cc", "0.25", "--cc-to", "all", "--format", "json")
    first = json.loads(out)["studies"][0]  # Sparse 1: 0/35 vs 8/74, 0.25 added to every cell
    assert first["yi"] == pytest.approx(math.log(0.25 * 66.25 / (35.25 * 8.25)), rel=1e-12)


def test_python_api_reads_a_dataframe_and_matches_the_cli():
    import pandas as pd

    frame = pd.read_csv(BCG)
    a = metamg.pool(frame, measure="OR", method="PM", ci_method="hk")
    e = expected("bcg", "OR", "PM", "hk")
    for key in ("estimate", "se", "ci_low", "tau2", "I2", "Q_p", "pi_low", "tau2_ci_high"):
        assert a.to_dict()[key] == pytest.approx(e[key], rel=1e-6)
    assert a.result.tau2 == pytest.approx(e["tau2"], rel=1e-6)
    assert str(a).startswith(f"OR {math.exp(e['estimate']):.3g} (95% CI ")
    assert "Pooled OR" in metamg.pool_text(a)
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.result.tau2 = 0  # frozen


def test_python_api_fit_on_arrays():
    e = expected("hackshaw1998", "GEN", "EB", "wald")
    yi = np.array([s["yi"] for s in e["studies"]])
    vi = np.array([s["vi"] for s in e["studies"]])
    r = metamg.fit(yi, vi, method="EB", ci_method="wald")
    assert r.tau2 == pytest.approx(e["tau2"], rel=1e-6)
    assert r.i2 == pytest.approx(e["I2"], rel=1e-6)
    assert "EB (wald), k=37" in str(r)


def test_read_studies_and_effects_from_python():
    table = metamg.read_studies(CASES_DIR / "pritz1997.csv")
    assert table.data_type == "proportion"
    es = metamg.compute_effects(table, "PLO")
    assert es.corrected == ("Tanabe et al.", "Hadeishi et al.")


def test_input_errors_from_python_carry_problems(tmp_path):
    p = tmp_path / "bad.csv"
    p.write_text("study,yi,vi\nA,1,-1\n")
    with pytest.raises(metamg.InputError) as info:
        metamg.pool(p)
    assert [str(x) for x in info.value.problems] == [f"{p}:2: vi: must be greater than 0 (-1)"]


def test_k1_does_not_fail_with_random_effects_and_hk():
    _, out, _ = run_cli("pool", CASES_DIR / "edge_k1.csv", "--measure", "OR", "--format", "json")
    d = json.loads(out)
    e = expected("edge_k1", "OR", "FE", "wald")
    assert d["k"] == 1 and d["tau2"] == 0 and d["ci_method"] == "wald"
    assert d["ci_low"] == pytest.approx(e["ci_low"], rel=1e-12)
    assert {"rule": "ci.needs_two_studies", "ci_method": "hk"} in [
        {k: v for k, v in w.items() if k != "text"} for w in d["warnings"]
    ]
    assert any("needs at least 2 studies" in w["text"] for w in d["warnings"])


def test_raw_correlation_by_hand(tmp_path):
    p = tmp_path / "r.csv"
    p.write_text("study,ri,ni\nA,0.3,53\nB,-0.1,101\n")
    _, out, _ = run_cli("pool", p, "--measure", "COR", "--method", "FE", "--ci", "wald", "--format", "json")
    d = json.loads(out)
    va, vb = (1 - 0.09) ** 2 / 52, (1 - 0.01) ** 2 / 100  # (1 - r²)²/(n - 1)
    assert [s["vi"] for s in d["studies"]] == pytest.approx([va, vb], rel=1e-14)
    est = (0.3 / va - 0.1 / vb) / (1 / va + 1 / vb)
    assert d["estimate"] == pytest.approx(est, rel=1e-14)
    assert d["natural"]["estimate"] == pytest.approx(est, rel=1e-14)  # COR is its own scale


def test_standard_errors_in_place_of_variances(tmp_path):
    e = expected("hackshaw1998", "GEN", "REML", "hk")
    with_vi, with_sei = tmp_path / "vi.csv", tmp_path / "sei.csv"
    with_vi.write_text(
        "study,yi,vi\n" + "".join(f"{s['study']},{s['yi']!r},{s['vi']!r}\n" for s in e["studies"])
    )
    with_sei.write_text(
        "study,yi,sei\n" + "".join(f"{s['study']},{s['yi']!r},{math.sqrt(s['vi'])!r}\n" for s in e["studies"])
    )
    a = json.loads(run_cli("pool", with_vi, "--method", "REML", "--ci", "hk", "--format", "json")[1])
    b = json.loads(run_cli("pool", with_sei, "--method", "REML", "--ci", "hk", "--format", "json")[1])
    assert b["measure"] == "GEN"
    assert b["estimate"] == pytest.approx(e["estimate"], rel=1e-9)
    assert b["tau2"] == pytest.approx(a["tau2"], rel=1e-9)


def test_fisher_z_back_transforms_to_a_correlation():
    _, out, _ = run_cli("pool", CASES_DIR / "molloy2014.csv", "--format", "json")
    d = json.loads(out)
    assert d["measure"] == "ZCOR" and d["scale"] == "z"
    assert d["natural"]["estimate"] == pytest.approx(math.tanh(d["estimate"]), rel=1e-14)


@pytest.mark.parametrize(
    "vi,studies,message",
    [
        ([0.1, 0.2], (), "3 effects but 2 variances"),
        ([0.1, 0.2, 0.3], ("a",), "3 effects but 1 study labels"),
    ],
)
def test_fit_refuses_arrays_of_different_lengths(vi, studies, message):
    with pytest.raises(ValueError, match=message):
        metamg.fit([0.1, 0.2, 0.3], vi, studies=studies)
