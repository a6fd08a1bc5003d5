"""The revman5 profile reproduces RevMan 5's stored results, quirks included.

RevMan's stored totals are read from the real files in ``../shared/revman/files`` (beside the
checkout; those tests are marked ``revman_shared`` and skip when the folder is absent) with a
few lines of ElementTree; the self-contained cases below carry their numbers in the test.

Tolerances: RevMan stores Java doubles (full precision), so the effect, CI, tau², Chi², df,
I², |Z| and the row effects and weights are compared at 1e-12 relative (1e-12 absolute near 0);
the worst difference seen is 5.5e-15, the order of summation. Two stored numbers are not that precise: ``P_CHI2`` (RevMan's chi-square tail is
off by up to about 5e-3 relative; 1.43552e-13 stored where the exact tail is 1.42765e-13 in
CD000023 1.4; it is computed as 1 - CDF, so below about 2e-15 it is noise, even negative:
-1.55e-15 stored for an exact 9.3e-25 in CD008625 1.1) and ``P_Z`` (about 1e-8 relative): they
are compared at 6e-3 relative (or 5e-15 absolute) and 1e-6 relative.
With one estimable row (df 0) RevMan's I² and P(Chi²) depend on whether rounding left Chi² at
0 or at 1e-31 (CD008625 7.5 stores I² = 100%, P = 0): they are not compared there.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import metamg
from metamg.effects.measures import MEASURES
from metamg.models import fit, mantel_haenszel, peto
from metamg.models.mantel_haenszel import Undefined
from metamg.models.revman5 import pool_tables

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "revman" / "files"
shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared RevMan files are not here ({SHARED} is absent)"
)

REL = 1e-12
P_Z_REL = 1e-6
P_CHI2_REL, P_CHI2_ABS = 6e-3, 5e-15


def _outcomes(name: str, tag: str = "DICH_OUTCOME"):
    """(analysis id "c.o", outcome element) of every outcome of that type, in file order."""
    root = ET.parse(SHARED / name).getroot()
    for cmp in root.iter("COMPARISON"):
        for out in cmp.iter(tag):
            yield f"{cmp.get('NO')}.{out.get('NO')}", out


def _f(el, key: str) -> float:
    return float(el.get(key))


def _close(got: float, want: float, rel: float = REL, abs_: float = 1e-12) -> bool:
    return math.isclose(got, want, rel_tol=rel, abs_tol=abs_)


def _dich_cases(name: str):
    for aid, out in _outcomes(name):
        if out.get("ESTIMABLE") == "NO" or out.get("TOTALS") != "YES":
            continue  # no stored overall total (TOTALS SUB/NO: the attributes are not a result)
        rows = list(out.iter("DICH_DATA"))
        if rows:
            yield pytest.param(name, aid, id=f"{name.split('.')[0]}-{aid}")


def _measure(out) -> tuple[str, str]:
    m = out.get("EFFECT_MEASURE")
    return ("OR", "PETO") if m == "PETO_OR" else (m, out.get("METHOD"))


def _find(name: str, aid: str):
    return next(out for i, out in _outcomes(name) if i == aid)


def stored_totals_mismatches(name: str, aid: str, subgroup: str | None = None) -> list[str]:
    """Every stored total of one DICH analysis (or one of its subgroups) that metamg does not
    reproduce, with the row effects and weights (empty: all match)."""
    out = _find(name, aid)
    measure, method = _measure(out)
    where = out if subgroup is None else next(s for s in out.iter("DICH_SUBGROUP") if s.get("NO") == subgroup)
    rows = list(where.iter("DICH_DATA"))
    r = pool_tables(
        *([_f(x, k) for x in rows] for k in ("EVENTS_1", "TOTAL_1", "EVENTS_2", "TOTAL_2")),
        measure=measure,
        method=method,
        random=out.get("RANDOM") == "YES",
    )
    nat = (lambda x: x) if measure == "RD" else math.exp
    got = {
        "EFFECT_SIZE": nat(r.estimate),
        "CI_START": nat(r.ci_low),
        "CI_END": nat(r.ci_high),
        "TAU2": r.tau2 or 0.0,
        "CHI2": r.q,
        "DF": r.q_df,
        "I2": r.i2,
        "Z": abs(r.statistic) if math.isfinite(r.statistic) else 0.0,
        "P_Z": r.p if math.isfinite(r.p) else 1.0,
        "P_CHI2": r.q_p,
    }
    bad = []
    for key, value in got.items():
        want = _f(where, key)
        if key in ("I2", "P_CHI2") and r.q_df == 0:
            continue
        if key == "P_CHI2":
            ok = _close(value, want, P_CHI2_REL, P_CHI2_ABS)
        elif key == "P_Z":
            ok = _close(value, want, P_Z_REL, 1e-15)
        else:
            ok = _close(value, want)
        if not ok:
            bad.append(f"{key}: metamg {value!r}, RevMan {want!r}")
    # per-row effects and weights of the estimable rows
    used = [x for x in rows if x.get("ESTIMABLE") != "NO"]
    assert len(used) == r.k, (len(used), r.k)
    for x, yi, w in zip(used, r.yi, r.weights, strict=True):
        if not _close(nat(yi), _f(x, "EFFECT_SIZE")):
            bad.append(f"row {x.get('STUDY_ID')} effect: metamg {nat(yi)!r}, RevMan {x.get('EFFECT_SIZE')}")
        if subgroup is None and not _close(w, _f(x, "WEIGHT")):  # stored: the weight in the total
            bad.append(f"row {x.get('STUDY_ID')} weight: metamg {w!r}, RevMan {x.get('WEIGHT')}")
    return bad


BINARY = ("EVENTS_1", "TOTAL_1", "EVENTS_2", "TOTAL_2")
BINARY_COLUMNS = ("events_treatment", "n_treatment", "events_control", "n_control")

DICH_FILES = (
    "antibiotics-for-sore-throat.rm5",
    "CD009865StatsDataOnly.rm5",
    "CD008625StatsDataOnly.rm5",
    "CD008521StatsDataOnly.rm5",
    "Fleiss1993.rm5",
)


@pytest.mark.revman_shared
@shared
@pytest.mark.parametrize(
    "name,aid", [p for f in DICH_FILES for p in (_dich_cases(f) if SHARED.is_dir() else ())]
)
def test_every_stored_dich_total(name, aid):
    assert stored_totals_mismatches(name, aid) == []


def _subgroup_cases(name: str):
    for aid, out in _outcomes(name):
        if out.get("SUBGROUPS") != "YES":
            continue
        for sub in out.iter("DICH_SUBGROUP"):
            if sub.get("ESTIMABLE") != "NO" and list(sub.iter("DICH_DATA")):
                yield pytest.param(name, aid, sub.get("NO"), id=f"{name.split('.')[0]}-{aid}.{sub.get('NO')}")


@pytest.mark.revman_shared
@shared
@pytest.mark.parametrize(
    "name,aid,no", [p for f in DICH_FILES for p in (_subgroup_cases(f) if SHARED.is_dir() else ())]
)
def test_every_stored_dich_subgroup_total(name, aid, no):
    assert stored_totals_mismatches(name, aid, no) == []


# -- self-contained cases: four trials with zero cells, written out here --------------------------
# RevMan-style values from the formulas of Deeks & Higgins (2010), computed independently of
# metamg (a separate NumPy implementation that reproduces every stored DICH total of the shared
# files, see test_every_stored_dich_total), typed in at full precision.
TABLES = ([0, 2, 12, 1], [10, 20, 30, 25], [3, 10, 6, 0], [10, 20, 30, 25])  # a, n1, c, n2

EXPECTED = {  # (measure, method, random): log-scale estimate, CI, tau², Chi², I², |z|, p
    ("RR", "MH", False): (
        -0.2231435513142097, -0.8113789755597839, 0.36509187293136447, 0.0,
        10.508478175130728, 71.45162268024905, 0.7435004862536669, 0.45717872723857633,
    ),
    ("RR", "MH", True): (
        -0.4201153952315055, -2.0575179806787096, 1.2172871902156985, 1.782553839984995,
        10.508478175130728, 71.45162268024905, 0.502876355102171, 0.6150512061378133,
    ),
    ("OR", "MH", False): (
        -0.2793477921566327, -1.0137827235511498, 0.4550871392378845, 0.0,
        11.769602860181761, 74.51060978319475, 0.7454868884683716, 0.45597743454820805,
    ),
    ("OR", "MH", True): (
        -0.5523620090913602, -2.605537156260913, 1.5008131380781928, 3.041282193968374,
        11.769602860181761, 74.51060978319475, 0.5272855780178841, 0.5979952878593763,
    ),
    ("RR", "IV", True): (
        -0.4171267193104259, -2.019924663918407, 1.1856712252975554, 1.6776542807777348,
        10.066619964051293, 70.19853723778944, 0.5100788590278256, 0.6099962155520515,
    ),
    ("OR", "PETO", False): (
        -0.31855814893954215, -1.1007755135984318, 0.46365921571934765, 0.0,
        13.953920116686744, 78.50066522587828, 0.7981956513782096, 0.4247569605830318,
    ),
}  # fmt: skip


@pytest.mark.parametrize("key", list(EXPECTED), ids=lambda k: "-".join(map(str, k)))
def test_revman_quirks_on_four_trials(key):
    measure, method, random = key
    r = pool_tables(*TABLES, measure=measure, method=method, random=random)
    got = (r.estimate, r.ci_low, r.ci_high, r.tau2 or 0.0, r.q, r.i2, abs(r.statistic), r.p)
    assert got == pytest.approx(EXPECTED[key], rel=1e-12, abs=1e-15)
    assert r.q_df == 3 and r.k == 4


def test_mantel_haenszel_adds_half_inside_the_estimate_unlike_metafor():
    """The first table has a zero cell: RevMan's M-H uses it with 0.5 added (rma.mh does not)."""
    rm = pool_tables(*TABLES, measure="RR", method="MH")
    mf = mantel_haenszel(*TABLES, measure="RR")
    assert rm.estimate == pytest.approx(EXPECTED[("RR", "MH", False)][0], rel=1e-12)
    assert abs(rm.estimate - mf.estimate) > 0.01


def test_mh_random_effects_take_tau2_from_the_mh_chi2():
    """M-H random: DL tau² from the M-H-based Chi² (1.7826), not the inverse-variance Q (1.6777)."""
    mh = pool_tables(*TABLES, measure="RR", method="MH", random=True)
    iv = pool_tables(*TABLES, measure="RR", method="IV", random=True)
    assert iv.tau2 == pytest.approx(fit(mh.yi, mh.vi, method="DL", ci_method="wald").tau2, rel=1e-12)
    assert mh.tau2 > iv.tau2 and mh.q > iv.q


def test_peto_is_metafors_rma_peto():
    rm = pool_tables(*TABLES, measure="OR", method="PETO")
    mf = peto(*TABLES)
    assert (rm.estimate, rm.se, rm.q) == pytest.approx((mf.estimate, mf.se, mf.q), rel=1e-12)


def test_risk_difference_keeps_double_zero_tables_and_corrects_only_the_variance():
    """RD: a double-zero table is estimable (RD 0) and adds variance: RevMan's M-H variance takes
    its terms from the 0.5-corrected tables (CD008625 1.3: nine double-zero trials, RD 0 with CI
    ±0.0470; checked in test_every_stored_dich_total)."""
    r = pool_tables([0, 0, 3], [17, 10, 18], [0, 0, 3], [18, 12, 15], measure="RD", method="MH")
    assert r.k == 3 and list(r.yi[:2]) == [0.0, 0.0]
    assert (r.estimate, r.ci_low, r.ci_high, r.q) == pytest.approx(
        (-0.012186629526462394, -0.12687959933969878, 0.102506340286774, 0.09833095121354544), rel=1e-12
    )


def test_one_estimable_table_is_that_tables_result():
    r = pool_tables([0, 3], [29, 30], [0, 11], [27, 27], measure="RR", method="MH")  # CD008625 12.4-like
    y, v = MEASURES["RR"].compute(np.array([3.0]), np.array([30.0]), np.array([11.0]), np.array([27.0]))
    assert r.k == 1 and r.estimate == pytest.approx(y[0]) and r.se**2 == pytest.approx(v[0])
    assert (r.q_df, r.i2, r.q_p) == (0, 0.0, 1.0)


# -- the profile through pool() -------------------------------------------------------------------
def _frame(a, n1, c, n2):
    return pd.DataFrame(
        {
            "study": [f"S{i}" for i in range(len(a))],
            "events_treatment": a,
            "n_treatment": n1,
            "events_control": c,
            "n_control": n2,
        }
    )


@pytest.mark.parametrize(
    "method,key",
    [
        ("MH", ("RR", "MH", False)),
        ("FE", ("RR", "MH", False)),  # the profile's common-effect model for binary data
        ("MH-DL", ("RR", "MH", True)),
        ("DL", ("RR", "IV", True)),
    ],
)
def test_pool_with_the_revman5_profile(method, key):
    a = metamg.pool(_frame(*TABLES), measure="RR", method=method, profile="revman5")
    assert (a.result.estimate, a.result.q) == pytest.approx((EXPECTED[key][0], EXPECTED[key][4]), rel=1e-12)
    assert len(a.rows) == 4 and sum(row.weight for row in a.rows) == pytest.approx(100)
    assert a.result.rules[0].rule == "model.revman5"


def test_pool_peto_and_iv_common_effect_with_the_revman5_profile():
    a = metamg.pool(_frame(*TABLES), method="PETO", profile="revman5")
    assert a.result.estimate == pytest.approx(EXPECTED[("OR", "PETO", False)][0], rel=1e-12)
    iv = metamg.pool(_frame(*TABLES), measure="OR", method="IV", profile="revman5")
    assert iv.result.method == "FE" and iv.result.model == "inverse-variance"


def test_revman5_drops_double_zero_studies_for_ratios_not_for_rd():
    rows = ([0, 2, 12], [10, 20, 30], [0, 10, 6], [10, 20, 30])
    rr = metamg.pool(_frame(*rows), measure="RR", method="MH", profile="revman5")
    rd = metamg.pool(_frame(*rows), measure="RD", method="MH", profile="revman5")
    assert rr.result.k == 2 and [e.study for e in rr.excluded] == ["S0"]
    assert rd.result.k == 3 and rd.rows[0].yi == 0.0


def test_the_other_profiles_keep_metafors_mantel_haenszel():
    a = metamg.pool(_frame(*TABLES), measure="RR", method="MH", profile="metafor")
    assert a.result.estimate == pytest.approx(mantel_haenszel(*TABLES, measure="RR").estimate, rel=1e-14)


@pytest.mark.revman_shared
@shared
def test_pool_reproduces_a_stored_mh_random_total_through_a_study_table():
    """CD000023 1.4 (20 rows, zero cells, M-H random): pool() with profile revman5 and MH-DL."""
    out = _find("antibiotics-for-sore-throat.rm5", "1.4")
    rows = list(out.iter("DICH_DATA"))
    cells = [[_f(r, k) for r in rows] for k in ("EVENTS_1", "TOTAL_1", "EVENTS_2", "TOTAL_2")]
    a = metamg.pool(_frame(*cells), measure="RR", method="MH-DL", profile="revman5")
    r = a.result
    assert math.exp(r.estimate) == pytest.approx(_f(out, "EFFECT_SIZE"), rel=REL)
    assert math.exp(r.ci_low) == pytest.approx(_f(out, "CI_START"), rel=REL)
    assert r.tau2 == pytest.approx(_f(out, "TAU2"), rel=REL)
    assert r.q == pytest.approx(_f(out, "CHI2"), rel=REL)
    assert r.q_p == pytest.approx(_f(out, "P_CHI2"), rel=P_CHI2_REL)  # stored 1.43552e-13, exact 1.42765e-13


# -- O - E and variance (individual participant data): Peto's log hazard ratio ---------------------
OE = pd.DataFrame({"study": ["A", "B", "C"], "o_e": [-3.2, -1.1, 2.0], "var": [10.5, 4.2, 6.1]})


@pytest.mark.parametrize("method", ["PETO", "FE"])
def test_o_minus_e_and_variance_give_petos_hazard_ratio(method):
    """log HR = Σ(O-E)/ΣV, SE = 1/√ΣV, Chi² = Σ(O-E)²/V - (Σ(O-E))²/ΣV (Yusuf et al. 1985)."""
    a = metamg.pool(OE, measure="HR", method=method, profile="revman5")
    r = a.result
    assert a.measure.name == "HR" and a.measure.scale == "log" and a.effects.measure.data_type == "oe"
    assert r.estimate == pytest.approx(-2.3 / 20.8, rel=1e-14)
    assert r.se == pytest.approx(1 / math.sqrt(20.8), rel=1e-14)
    assert r.q == pytest.approx(3.2**2 / 10.5 + 1.1**2 / 4.2 + 2**2 / 6.1 - 2.3**2 / 20.8, rel=1e-12)
    assert [row.yi for row in a.rows] == pytest.approx([-3.2 / 10.5, -1.1 / 4.2, 2 / 6.1], rel=1e-14)
    assert [row.weight for row in a.rows] == pytest.approx([1050 / 20.8, 420 / 20.8, 610 / 20.8], rel=1e-12)


def test_hr_is_the_default_measure_of_o_minus_e_data_and_random_effects_are_dl():
    a = metamg.pool(OE, profile="revman5")
    assert a.measure.name == "HR" and a.result.method == "DL"
    assert a.result.tau2 == pytest.approx(fit(a.effects.yi, a.effects.vi, method="DL").tau2, rel=1e-14)


def _peto_cases(name: str):
    for aid, out in _outcomes(name):
        if out.get("METHOD") == "PETO" and out.get("TOTALS") == "YES" and out.get("ESTIMABLE") != "NO":
            yield pytest.param(name, aid, id=f"{name.split('.')[0]}-{aid}")


@pytest.mark.revman_shared
@shared
@pytest.mark.parametrize(
    "name,aid", list(_peto_cases("CD009865StatsDataOnly.rm5")) if SHARED.is_dir() else []
)
def test_o_minus_e_rows_give_back_revmans_peto_totals(name, aid):
    """RevMan stores each Peto row's O_E and VAR: pooled as O-E and variance data (HR, Peto)
    they give back the stored Peto OR totals, a check of the O-E path on real numbers."""
    out = _find(name, aid)
    rows = [r for r in out.iter("DICH_DATA") if r.get("ESTIMABLE") != "NO"]
    frame = pd.DataFrame(
        {
            "study": [r.get("STUDY_ID") for r in rows],
            "o_e": [_f(r, "O_E") for r in rows],
            "var": [_f(r, "VAR") for r in rows],
        }
    )
    r = metamg.pool(frame, measure="HR", method="PETO", profile="revman5").result
    assert math.exp(r.estimate) == pytest.approx(_f(out, "EFFECT_SIZE"), rel=REL)
    assert (math.exp(r.ci_low), math.exp(r.ci_high)) == pytest.approx(
        (_f(out, "CI_START"), _f(out, "CI_END")), rel=REL
    )
    assert r.q == pytest.approx(_f(out, "CHI2"), rel=REL, abs=1e-12)
    assert abs(r.statistic) == pytest.approx(_f(out, "Z"), rel=REL, abs=1e-12)


# -- continuous and generic inverse-variance outcomes: inverse variance, DL, RevMan's SMD -----------
CONT = ("MEAN_1", "SD_1", "TOTAL_1", "MEAN_2", "SD_2", "TOTAL_2")
CONT_COLUMNS = ("mean_treatment", "sd_treatment", "n_treatment", "mean_control", "sd_control", "n_control")


def _iv_cases(name: str, tag: str):
    for aid, out in _outcomes(name, tag):
        if out.get("TOTALS") == "YES" and out.get("ESTIMABLE") != "NO" and out.get("CHI2"):
            yield pytest.param(name, aid, tag, id=f"{name.split('.')[0]}-{aid}")


def iv_totals_mismatches(name: str, aid: str, tag: str) -> list[str]:
    """The stored totals of a CONT or IV outcome that pool(profile="revman5") does not give back."""
    out = _find(name, aid) if tag == "DICH_OUTCOME" else next(o for i, o in _outcomes(name, tag) if i == aid)
    data = "CONT_DATA" if tag == "CONT_OUTCOME" else "IV_DATA"
    rows = [r for r in out.iter(data) if r.get("ESTIMABLE") != "NO"]
    labels = [f"{r.get('STUDY_ID')}#{i}" for i, r in enumerate(rows)]
    if tag == "CONT_OUTCOME":
        measure = out.get("EFFECT_MEASURE")
        frame = pd.DataFrame(
            {"study": labels} | {c: [_f(r, k) for r in rows] for c, k in zip(CONT_COLUMNS, CONT, strict=True)}
        )
        log = False
    else:
        measure, log = "GEN", out.get("LOG_DATA") == "YES"
        frame = pd.DataFrame(
            {"study": labels, "yi": [_f(r, "ESTIMATE") for r in rows], "sei": [_f(r, "SE") for r in rows]}
        )
    method = "DL" if out.get("RANDOM") == "YES" else "FE"
    a = metamg.pool(frame, measure=measure, method=method, profile="revman5")
    r = a.result
    nat = math.exp if log else (lambda x: x)
    got = {
        "EFFECT_SIZE": nat(r.estimate),
        "CI_START": nat(r.ci_low),
        "CI_END": nat(r.ci_high),
        "TAU2": r.tau2,
        "CHI2": r.q,
        "DF": r.q_df,
        "I2": r.i2_q,
        "Z": abs(r.statistic),
        "P_Z": r.p,
        "P_CHI2": r.q_p,
    }
    bad = []
    for key, value in got.items():
        want = _f(out, key)
        if key in ("I2", "P_CHI2") and r.q_df == 0:
            continue
        rel, abs_ = {"P_CHI2": (P_CHI2_REL, P_CHI2_ABS), "P_Z": (P_Z_REL, 1e-15)}.get(key, (REL, 1e-12))
        if not _close(value, want, rel, abs_):
            bad.append(f"{key}: metamg {value!r}, RevMan {want!r}")
    for x, row in zip(rows, a.rows, strict=True):
        if not _close(nat(row.yi), _f(x, "EFFECT_SIZE")) or not _close(row.weight, _f(x, "WEIGHT")):
            bad.append(
                f"row {row.study}: metamg {nat(row.yi)!r} {row.weight!r}, RevMan {x.get('EFFECT_SIZE')} {x.get('WEIGHT')}"
            )
    return bad


IV_FILES = (
    ("CD009865StatsDataOnly.rm5", "CONT_OUTCOME"),
    ("CD008625StatsDataOnly.rm5", "CONT_OUTCOME"),
    ("CD008625StatsDataOnly.rm5", "IV_OUTCOME"),
)


@pytest.mark.revman_shared
@shared
@pytest.mark.parametrize(
    "name,aid,tag", [p for f, t in IV_FILES for p in (_iv_cases(f, t) if SHARED.is_dir() else ())]
)
def test_every_stored_continuous_and_generic_total(name, aid, tag):
    assert iv_totals_mismatches(name, aid, tag) == []


def test_effects_computed_with_other_rules_lose_revmans_non_estimable_tables():
    """EffectSizes computed with metafor's rule (double zeros kept), as the report passes them,
    pooled with revman5: the double-zero study is listed as excluded, rows and weights align."""
    from metamg.analyses.pool import prepare_table
    from metamg.effects import compute_effects

    rows = ([0, 2, 12], [10, 20, 30], [0, 10, 6], [10, 20, 30])
    es = compute_effects(prepare_table(_frame(*rows), "RR"), "RR")
    assert es.k == 3
    a = metamg.pool(es, method="MH", profile="revman5")
    assert a.result.k == 2 and [row.study for row in a.rows] == ["S1", "S2"]
    assert [e.study for e in a.excluded] == ["S0"] and a.effects.continuity.drop00
    assert "double_zero.kept" not in [w.rule for w in a.warnings]


@pytest.mark.reference
def test_four_trials_against_metafor_pieces():
    """The same four trials built from metafor 3.8 (tests/reference/revman5/four_trials.R: rma.mh
    on the 0.5-corrected counts, DL tau² from its QE, rma with that tau², rma.peto)."""
    import json

    ref = json.loads((Path(__file__).parent / "reference" / "revman5" / "four_trials.json").read_text())
    for key, want in ref.items():
        measure, method, model = key.split("_")
        r = pool_tables(*TABLES, measure=measure, method=method, random=model == "random")
        got = {"estimate": r.estimate, "se": r.se, "Q": r.q, "tau2": r.tau2}
        for name, value in want.items():
            assert got[name] == pytest.approx(value, rel=1e-12), (key, name)


def test_revman5_smd_is_revmans_hedges_g():
    """J = 1 - 3/(4N - 9), variance N/(n1 n2) + g²/(2(N - 3.94)) (Deeks & Higgins 2010)."""
    frame = pd.DataFrame(
        dict(
            zip(
                ("study",) + CONT_COLUMNS,
                (["A", "B"], [10.0, 12.0], [2.0, 3.0], [8, 15], [9.0, 10.0], [2.5, 3.5], [7, 14]),
                strict=True,
            )
        )
    )
    a = metamg.pool(frame, measure="SMD", method="FE", profile="revman5")
    sp = math.sqrt((7 * 4 + 6 * 6.25) / 13)
    g = (1 - 3 / (4 * 15 - 9)) * 1 / sp
    assert a.rows[0].yi == pytest.approx(g, rel=1e-14)
    assert a.rows[0].vi == pytest.approx(15 / 56 + g * g / (2 * (15 - 3.94)), rel=1e-14)
    assert "effects.revman5_smd" in [n.rule for n in a.rules]
    other = metamg.pool(frame, measure="SMD", method="FE", profile="metafor")
    assert (
        abs(other.rows[0].yi - g) > 1e-5 and abs(other.rows[0].vi - a.rows[0].vi) > 1e-3
    )  # exact J, 1/n1 + 1/n2


# -- the test for subgroup differences -----------------------------------------------------------
REVMAN5_METHOD = {("MH", False): "MH", ("MH", True): "MH-DL", ("IV", False): "IV", ("IV", True): "DL"}
REVMAN5_METHOD[("PETO", False)] = "PETO"


def _subgroup_test_cases(name: str):
    for aid, out in _outcomes(name):
        if out.get("SUBGROUPS") == "YES" and out.get("SUBGROUP_TEST") == "YES":
            yield pytest.param(name, aid, id=f"{name.split('.')[0]}-{aid}")


@pytest.mark.revman_shared
@shared
@pytest.mark.parametrize(
    "name,aid", [p for f in DICH_FILES for p in (_subgroup_test_cases(f) if SHARED.is_dir() else ())]
)
def test_the_stored_test_for_subgroup_differences(name, aid):
    """metamg.subgroups on a revman5 analysis gives RevMan's Q, P and I² between subgroups
    (Q across the subgroups' own estimates and SEs; the stored P is RevMan's imprecise chi-square tail)."""
    out = _find(name, aid)
    records = [
        {
            "study": f"{sub.get('NO')}-{i}",
            **{col: _f(r, key) for col, key in zip(BINARY_COLUMNS, BINARY, strict=True)},
            "subgroup": sub.get("NO"),
        }
        for sub in out.iter("DICH_SUBGROUP")
        for i, r in enumerate(sub.iter("DICH_DATA"))
    ]
    measure, method = _measure(out)
    a = metamg.pool(
        pd.DataFrame(records),
        measure=measure,
        method=REVMAN5_METHOD[(method, out.get("RANDOM") == "YES")],
        profile="revman5",
    )
    between = metamg.subgroups(a, by="subgroup").between
    if between is None:  # fewer than two estimable subgroups
        assert _f(out, "Q") == 0.0
        return
    assert between.q == pytest.approx(_f(out, "Q"), rel=REL, abs=1e-12)
    assert between.i2_q == pytest.approx(_f(out, "I2_Q"), rel=REL, abs=1e-12)
    assert between.q_p == pytest.approx(_f(out, "P_Q"), rel=P_CHI2_REL)


@pytest.mark.revman_shared
@shared
def test_an_analysis_revman_could_not_estimate_is_not_estimable_here():
    """CD000023 2.4 (ESTIMABLE="NO": three trials, each without events in both arms)."""
    out = _find("antibiotics-for-sore-throat.rm5", "2.4")
    assert out.get("ESTIMABLE") == "NO"
    rows = list(out.iter("DICH_DATA"))
    with pytest.raises(Undefined, match="no table is estimable"):
        pool_tables(*([_f(r, k) for r in rows] for k in BINARY), measure="RR", method="MH", random=True)
