"""Permutation p-values agree with metafor's permutest within Monte-Carlo error and are
reproducible with a seed (values and method: tests/reference/permutest/README.md)."""

import json
import math
from pathlib import Path

import pytest

import metamg
from metamg.analyses.regression import permutation_test
from tests.conftest import CASES_DIR, run_cli

REF = json.loads((Path(__file__).parent / "reference" / "permutest" / "permutest.json").read_text())
N = 2000


@pytest.mark.slow
@pytest.mark.reference
@pytest.mark.parametrize(
    "key,case,measure,mod,ci",
    [
        ("bcg_RR_ablat_z", "bcg", "RR", "ablat", "wald"),
        ("bcg_RR_ablat_knha", "bcg", "RR", "ablat", "hk"),
        ("molloy2014_ZCOR_meanage_z", "molloy2014", "ZCOR", "meanage", "wald"),
    ],
)
def test_permutation_p_values_agree_with_metafor(key, case, measure, mod, ci):
    a = metamg.pool(CASES_DIR / f"{case}.csv", measure=measure, method="REML", ci_method="wald")
    ours = permutation_test(a, [mod], ci, N, seed=7)
    ref = REF[key]
    for p, q in zip(list(ours.p) + [ours.qm_p], list(ref["pval"]) + [ref["QMp"]], strict=True):
        se = math.sqrt(p * (1 - p) / N + q * (1 - q) / ref["iter"])
        assert abs(p - q) < 4 * se, (p, q)


@pytest.mark.slow
def test_permutations_are_reproducible_with_a_seed():
    args = ("regress", CASES_DIR / "bcg.csv", "--mods", "ablat", "--permutations", "200", "--format", "json")
    first = json.loads(run_cli(*args, "--seed", "11")[1])
    again = json.loads(run_cli(*args, "--seed", "11")[1])
    other = json.loads(run_cli(*args, "--seed", "12")[1])
    assert first["coefficients"][0]["p_perm"] == again["coefficients"][0]["p_perm"]
    assert first["QM_p_perm"] == again["QM_p_perm"] and first["permutations"] == 200
    assert first["coefficients"][0]["p_perm"] != other["coefficients"][0]["p_perm"]
    assert 1 / 201 <= first["QM_p_perm"] <= 1
