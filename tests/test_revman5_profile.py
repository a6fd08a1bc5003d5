"""The revman5 profile reproduces RevMan 5's stored results, quirks included.

RevMan's stored totals are read from the real files in ``../shared/revman/files`` (beside the
checkout; those tests are marked ``revman_shared`` and skip when the folder is absent) with a
few lines of ElementTree; the self-contained cases below carry their numbers in the test.

Tolerances: RevMan stores Java doubles (full precision), so the effect, CI, tau², Chi², df,
I², |Z| and the row effects and weights match to 1e-9 relative (what is left is the order of
summation). Two stored numbers are not that precise: ``P_CHI2`` (RevMan's chi-square tail is
off by up to about 5e-3 relative; 1.43552e-13 stored where the exact tail is 1.42765e-13 in
CD000023 1.4, and about 1e-16 absolute where the exact value is smaller) and ``P_Z`` (about
1e-8 relative): they are compared at 6e-3 relative (or 1e-15 absolute) and 1e-6 relative.
With one estimable row (df 0) RevMan's I² and P(Chi²) depend on whether rounding left Chi² at
0 or at 1e-31 (CD008625 7.5 stores I² = 100%, P = 0): they are not compared there.
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from metamg.models.revman5 import pool_tables

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "revman" / "files"
shared = pytest.mark.skipif(
    not SHARED.is_dir(), reason=f"the shared RevMan files are not here ({SHARED} is absent)"
)

REL = 1e-9
P_Z_REL = 1e-6
P_CHI2_REL, P_CHI2_ABS = 6e-3, 1e-15


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


def _pooled(out, rows, measure: str, method: str, random: bool):
    cells = [[_f(r, k) for r in rows] for k in ("EVENTS_1", "TOTAL_1", "EVENTS_2", "TOTAL_2")]
    return pool_tables(*cells, measure=measure, method=method, random=random)


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


def stored_totals_mismatches(name: str, aid: str) -> list[str]:
    """Every stored total of one DICH analysis that metamg does not reproduce (empty: all match)."""
    out = _find(name, aid)
    measure, method = _measure(out)
    rows = list(out.iter("DICH_DATA"))
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
        want = _f(out, key)
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
        if not _close(w, _f(x, "WEIGHT")):
            bad.append(f"row {x.get('STUDY_ID')} weight: metamg {w!r}, RevMan {x.get('WEIGHT')}")
    return bad


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
