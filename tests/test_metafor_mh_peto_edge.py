"""Mantel-Haenszel and Peto on degenerate tables against metafor 3.8-1: metafor's number where it
gives one, otherwise an InputError that says why (never a numpy warning, never a bare NaN
estimate). Values: tests/reference/metafor_extra/mh_peto_edge.R -> mh_peto_edge.json, extending
metafor's tests/testthat/test_misc_handling_of_edge_cases_due_to_zeros.r."""

import json
import math
from pathlib import Path

import pandas as pd
import pytest

import metamg
from metamg.models import mantel_haenszel, peto
from metamg.models.mantel_haenszel import WHOLE_TABLE_PATTERNS, Undefined
from metamg.render.notes_text import note_text
from tests.conftest import run_cli
from tests.test_reference_pool import compare

pytestmark = pytest.mark.reference

REF = json.loads(
    (Path(__file__).parent / "reference" / "metafor_extra" / "mh_peto_edge.json").read_text(encoding="utf-8")
)
KEYS = ("estimate", "se", "ci_low", "ci_high", "statistic", "p", "Q", "Q_p", "I2", "H2")


def run(ref):
    t = ref["tables"]
    args = [t[k] if isinstance(t[k], list) else [t[k]] for k in ("ai", "n1i", "ci", "n2i")]
    if ref["method"] == "PETO":
        return peto(*args)
    return mantel_haenszel(*args, measure=ref["measure"])


@pytest.mark.filterwarnings("error")  # a numpy RuntimeWarning fails the test
@pytest.mark.parametrize("ref", REF["fits"], ids=lambda r: f"{r['set']}-{r['method']}-{r['measure']}")
def test_degenerate_tables_match_metafor_or_say_why(ref):
    if ref["set"] == "empty_group":  # refused on purpose: tests/reference/DISAGREEMENTS.md
        with pytest.raises(Undefined, match="needs participants in both groups"):
            run(ref)
        return
    if "error" in ref:  # metafor stops: "Peto's method cannot be used"
        with pytest.raises(Undefined, match="Peto's method cannot be used"):
            run(ref)
        return
    if ref["estimate_is_na"]:  # metafor returns NA: metamg says why
        with pytest.raises(Undefined, match=r"(odds|risk) ratio is (0|infinite|undefined)") as exc:
            run(ref)
        assert "metafor gives NA" in str(exc.value)
        return
    r = run(ref)
    actual = r.to_dict()
    assert (r.k, r.q_df) == (ref["k"], max(ref["k_yi"] - 1, 0))
    compare({k: ref[k] for k in KEYS if ref[k] is not None}, actual)
    if ref["statistic"] is None:  # se = 0: metafor's z and p are NaN; metamg says why
        assert r.se == 0 and math.isnan(r.statistic) and math.isnan(r.p)
        (w,) = (w for w in r.warnings if w.rule == "mh.exact_estimate")
        assert w["estimate"] == r.estimate and w["pattern"] in WHOLE_TABLE_PATTERNS
        assert "standard error 0" in note_text(w)


def test_every_participant_had_the_event_gives_log_rr_zero_through_pool():
    """The issue's example: MH RR when every participant in every study had the event."""
    df = pd.DataFrame(
        {
            "study": ["A", "B", "C"],
            "events_treatment": [10, 15, 20],
            "n_treatment": [10, 15, 20],
            "events_control": [10, 10, 30],
            "n_control": [10, 10, 30],
        }
    )
    r = metamg.pool(df, measure="RR", method="MH").result
    assert (r.estimate, r.se, r.ci_low, r.ci_high) == (0.0, 0.0, 0.0, 0.0)
    assert (r.q, r.q_p, r.i2, r.h2) == (0.0, 1.0, 0.0, 1.0)


def test_tarone_with_one_informative_table_is_zero_without_p():
    ref = next(
        f for f in REF["fits"] if (f["set"], f["method"], f["measure"]) == ("double_zeros_mixed", "MH", "OR")
    )
    r = run(ref)
    assert r.tarone == ref["tarone"] == 0 and math.isnan(r.tarone_p)
    assert [w.rule for w in r.warnings] == ["mh.tarone_no_df"]


# -- ported from tests/testthat/test_misc_handling_of_edge_cases_due_to_zeros.r ------------------


@pytest.mark.parametrize("events_all", [False, True])
def test_testthat_outcome_never_or_always_occurring(events_all):
    """Outcome 1 never occurring (or outcome 2 never occurring): rma.peto stops; rma.mh gives NA for
    OR, NA (never) or 0 (always) for RR, and 0 for RD."""
    n1, n2 = [10, 15, 20, 25], [10, 10, 30, 20]
    a, c = (n1, n2) if events_all else ([0] * 4, [0] * 4)
    with pytest.raises(Undefined):
        peto(a, n1, c, n2)
    with pytest.raises(Undefined):
        mantel_haenszel(a, n1, c, n2, measure="OR")
    if events_all:
        assert mantel_haenszel(a, n1, c, n2, measure="RR").estimate == 0
    else:
        with pytest.raises(Undefined):
            mantel_haenszel(a, n1, c, n2, measure="RR")
    assert mantel_haenszel(a, n1, c, n2, measure="RD").estimate == 0


@pytest.mark.parametrize(
    "method,measure,why",
    [
        ("PETO", "OR", "Peto's method cannot be used"),
        ("MH", "OR", "odds ratio is"),
        ("MH", "RR", "risk ratio is"),
    ],
)
def test_the_file_is_named_where_the_counts_leave_the_estimate_undefined(tmp_path, method, measure, why):
    """The models say why; the pooling step, which knows the file, names it (exit status 2)."""
    p = tmp_path / "edge.csv"
    p.write_text("study,events_treatment,n_treatment,events_control,n_control\nA,0,10,0,12\nB,0,15,0,9\n")
    code, out, err = run_cli("pool", p, "--method", method, "--measure", measure)
    assert code == 2 and err.startswith(f"{p}: ") and why in err and "Traceback" not in err
