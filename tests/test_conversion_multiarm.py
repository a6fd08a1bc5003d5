"""Effects given as estimate + CI (or p-value), and multi-arm trials with a shared control.

Reference values: tests/reference/conv_wald/*.json, made by the R scripts beside them (R's
qnorm for conv.wald's formulas, since metafor 3.8-1 lacks conv.wald; metafor's rma and escalc).
"""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from metamg import pool
from metamg.effects import MEASURES, combine_arms, combine_groups, compute_effects, convert_wald
from metamg.errors import InputError
from metamg.io.schema import read_studies
from metamg.notes import note
from metamg.render.notes_text import note_text

REF = Path(__file__).parent / "reference" / "conv_wald"
CONV = json.loads((REF / "values.json").read_text())
ARMS = json.loads((REF / "multiarm.json").read_text())


def _nan(x):
    return np.nan if x is None else x


@pytest.mark.reference
@pytest.mark.parametrize("row", CONV["rows"], ids=lambda r: r["study"])
def test_conversion_matches_conv_wald_by_hand(row):
    got = convert_wald(
        MEASURES[row["measure"]],
        *(np.array([_nan(row[k])]) for k in ("effect", "ci_low", "ci_high", "ci_level", "p_value")),
    )
    assert got.yi[0] == pytest.approx(row["yi"], rel=1e-12)
    assert got.vi[0] == pytest.approx(row["vi"], rel=1e-12)
    assert not got.invalid


def test_99_percent_interval_is_wider_than_95_for_the_same_se():
    # De Oliveira 2013 reports 99% CIs: read as 95% the variance would be 1.73 times too big
    m = MEASURES["MD"]
    at99 = convert_wald(
        m, np.array([-10.52]), np.array([-13.5]), np.array([-7.54]), np.array([99.0]), np.array([np.nan])
    )
    at95 = convert_wald(
        m, np.array([-10.52]), np.array([-13.5]), np.array([-7.54]), np.array([np.nan]), np.array([np.nan])
    )
    assert at95.vi[0] / at99.vi[0] == pytest.approx((2.5758293035489 / 1.9599639845401) ** 2, rel=1e-12)


def _mixed_csv(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(
        "study,events_treatment,n_treatment,events_control,n_control,effect,ci_low,ci_high,"
        "ci_level,p_value\n"
        "Raw,10,100,20,100,,,,,\n"
        "Lysakowski 2007,,,,,0.38,0.17,0.88,95,\n"
        "p-value only,,,,,0.70,,,,0.04\n"
        "midpoint,,,,,,0.30,0.90,,\n"
    )
    return path


@pytest.mark.reference
def test_reported_rows_mix_with_raw_rows_and_pool_as_metafor(tmp_path):
    ref = CONV["mixed_rr"]
    fe = pool(_mixed_csv(tmp_path), measure="RR", method="FE", ci_method="wald")
    np.testing.assert_allclose(fe.effects.yi, ref["yi"], rtol=1e-12)
    np.testing.assert_allclose(fe.effects.vi, ref["vi"], rtol=1e-12)
    assert fe.result.method == "FE"  # not Mantel-Haenszel: three studies have no 2x2 table
    assert fe.result.estimate == pytest.approx(ref["fe_estimate"], rel=1e-10)
    assert fe.result.se == pytest.approx(ref["fe_se"], rel=1e-10)
    re = pool(_mixed_csv(tmp_path), measure="RR", method="REML", ci_method="hk")
    assert re.result.estimate == pytest.approx(ref["reml_estimate"], rel=1e-6)
    assert re.result.se == pytest.approx(ref["reml_se"], rel=1e-6)
    assert re.result.tau2 == pytest.approx(ref["reml_tau2"], rel=1e-5)
    assert re.effects.converted == ("Lysakowski 2007", "p-value only", "midpoint")


def test_mantel_haenszel_refuses_rows_without_a_2x2_table(tmp_path):
    with pytest.raises(InputError, match="needs every study's 2x2 table"):
        pool(_mixed_csv(tmp_path), measure="RR", method="MH")


@pytest.mark.parametrize(
    "cells,column,message",
    [
        ("0.5,0.9,0.3,,", "ci_low", "must be below the upper"),
        ("1.5,0.3,0.9,,", "effect", "outside its confidence interval"),
        ("0.5,0.3,0.9,120,", "ci_level", "confidence level in percent"),
        ("0.5,,,,1.5", "p_value", "strictly between 0 and 1"),
        ("0.5,0.3,,,", "ci_high", "needs both confidence limits"),
    ],
)
def test_bad_reported_values_are_named(tmp_path, cells, column, message):
    path = tmp_path / "bad.csv"
    path.write_text("study,effect,ci_low,ci_high,ci_level,p_value\nA," + cells + "\n")
    with pytest.raises(InputError) as exc:
        read_studies(path, "binary")
    text = str(exc.value)
    assert f"bad.csv:2: {column}: " in text and message in text


def test_ratio_of_zero_cannot_be_converted(tmp_path):
    path = tmp_path / "zero.csv"
    path.write_text("study,effect,ci_low,ci_high\nA,0.5,0,0.9\nB,0.5,0.2,0.9\n")
    with pytest.raises(InputError, match=r"zero.csv:2: ci_low: not a valid RR"):
        compute_effects(read_studies(path, "binary"), "RR")


def test_effect_columns_without_a_measure_are_refused(tmp_path):
    path = tmp_path / "nomeasure.csv"
    path.write_text("study,effect,ci_low,ci_high\nA,0.5,0.2,0.9\n")
    with pytest.raises(InputError, match="need a measure"):
        read_studies(path)


def test_exclusion_reason_keeps_a_row_out_with_its_reason(tmp_path):
    path = tmp_path / "ex.csv"
    path.write_text(
        "study,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control,"
        "exclusion_reason\n"
        "A,1,1,10,2,1,10,\n"
        "B,1,,,2,,,placebo SD not reported\n"
        "C,1,1,10,2,1,10,active comparator\n"
    )
    a = pool(path, measure="MD")
    assert a.effects.studies == ("A",)
    assert [(e.study, e.reason) for e in a.excluded] == [
        ("B", note("excluded.curator", reason="placebo SD not reported")),
        ("C", note("excluded.curator", reason="active comparator")),
    ]


# -- multi-arm trials ---------------------------------------------------------------------


@pytest.mark.reference
def test_combine_groups_is_the_handbook_formula_worked_by_hand():
    # Seyhan 2006, PCA morphine (mg/kg) in three magnesium arms of 20:
    # N = 60, M = (0.73 + 0.59 + 0.53) / 3 = 0.61667;
    # SD² = [19·(0.17² + 0.23² + 0.21²) + 20·((0.11333)² + (−0.02667)² + (−0.08667)²)] / 59
    #     = (2.3921 + 0.42133) / 59 = 0.047685, SD = 0.21837
    n, m, sd = combine_groups([20, 20, 20], [0.73, 0.59, 0.53], [0.17, 0.23, 0.21])
    assert (n, m) == (60, pytest.approx(0.6166666666666667, rel=1e-15))
    within = 19 * (0.17**2 + 0.23**2 + 0.21**2)
    between = 20 * sum((x - 0.61666666666666667) ** 2 for x in (0.73, 0.59, 0.53))
    assert sd == pytest.approx(math.sqrt((within + between) / 59), rel=1e-13)
    assert sd == pytest.approx(ARMS["sd"], rel=1e-13)
    assert sd == pytest.approx(0.21837, abs=5e-6)


def _seyhan(tmp_path, control_n="20"):
    path = tmp_path / "seyhan.csv"
    path.write_text(
        "study,trial,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control\n"
        "Seyhan 2006 (bolus),Seyhan 2006,0.73,0.17,20,0.88,0.14,20\n"
        "Seyhan 2006 (bolus + 10 mg/kg/h),Seyhan 2006,0.59,0.23,20,0.88,0.14,20\n"
        f"Seyhan 2006 (bolus + 20 mg/kg/h),Seyhan 2006,0.53,0.21,20,0.88,0.14,{control_n}\n"
        "Other,,1.0,0.2,15,1.2,0.25,15\n"
    )
    return path


@pytest.mark.reference
def test_arms_sharing_a_control_become_one_comparison(tmp_path):
    a = pool(_seyhan(tmp_path), measure="SMD")
    assert a.effects.studies == ("Seyhan 2006", "Other")
    assert a.effects.yi[0] == pytest.approx(ARMS["smd_yi"], rel=1e-10)
    assert a.effects.vi[0] == pytest.approx(ARMS["smd_vi"], rel=1e-10)
    md = pool(_seyhan(tmp_path), measure="MD")
    assert md.effects.yi[0] == pytest.approx(ARMS["md_yi"], rel=1e-12)
    assert md.effects.vi[0] == pytest.approx(ARMS["md_vi"], rel=1e-12)
    (combined,) = a.effects.notes
    assert combined.rule == "multi_arm.combined" and len(combined["arms"]) == 3
    assert "3 intervention arms" in note_text(combined) and "counted once" in note_text(combined)
    assert note("multi_arm", how="combine") in a.rules


def test_split_divides_the_shared_control_among_the_comparisons(tmp_path):
    table = combine_arms(read_studies(_seyhan(tmp_path)), "split")
    assert table.studies[:3] == (
        "Seyhan 2006 (bolus)",
        "Seyhan 2006 (bolus + 10 mg/kg/h)",
        "Seyhan 2006 (bolus + 20 mg/kg/h)",
    )
    np.testing.assert_allclose(table.values["n2i"], [20 / 3, 20 / 3, 20 / 3, 15])
    a = pool(_seyhan(tmp_path), measure="MD", multi_arm="split")
    assert a.effects.k == 4


def test_arms_with_different_controls_are_an_error(tmp_path):
    with pytest.raises(InputError) as exc:
        pool(_seyhan(tmp_path, control_n="25"), measure="MD")
    assert "seyhan.csv:4: n_control: arms of trial 'Seyhan 2006' must share one control group" in str(
        exc.value
    )
