"""leave_one_out, cumulative and influence from the vectorised fits (models.deletion) give what
pooling each subset on its own gives: the refits' rows, their full analyses (built on demand),
and every influence diagnostic."""

from __future__ import annotations

import math

import pytest

import metamg
from metamg.analyses.influence import influence
from metamg.analyses.sensitivity import Refit, cumulative, leave_one_out
from tests.helpers import CASES_DIR

CASES = [
    ("bcg", "RR", "REML", "hk"),
    ("bcg", "OR", "DL", "wald"),
    ("bcg", "RR", "FE", "wald"),
    ("hackshaw1998", None, "PM", "hk-adhoc"),
    ("normand1999", "MD", "SJ", "hk"),
    ("edge_k2", "OR", "ML", "hk"),
    ("edge_homog", "OR", "HE", "hk"),
    ("pritz1997", "PLO", "EB", "wald"),
]


def analysis(case, measure, method, ci):
    return metamg.pool(CASES_DIR / f"{case}.csv", measure=measure, method=method, ci_method=ci)


def same(a, b):
    if a is None or b is None:
        return a is b
    if isinstance(a, float) and (math.isnan(a) or math.isinf(a)):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, (int, float)) and not isinstance(a, bool):
        return a == pytest.approx(b, rel=1e-9, abs=1e-12)
    return a == b


@pytest.mark.parametrize("case,measure,method,ci", CASES)
def test_refit_rows_are_the_pooled_subsets(case, measure, method, ci):
    a = analysis(case, measure, method, ci)
    for refits in (leave_one_out(a), cumulative(a).rows):
        assert all(r.fits is not None for r in refits)
        for r in refits:
            row = r.to_dict()
            pooled = Refit(r.study, r.analysis)  # the full analysis, built on demand
            assert "analysis" in r.__dict__
            assert r.analysis.result.k == r.number("k")
            for key, value in pooled.to_dict().items():
                assert same(row[key], value), (r.study, key, row[key], value)
            assert r.table_row() == pooled.table_row()
            full, light = r.analysis.result, r.result  # the numbers read like the PoolResult's
            for name in ("k", "estimate", "se", "ci_low", "ci_high", "p", "tau2", "i2", "q", "pi_low"):
                assert same(getattr(light, name), getattr(full, name)), (r.study, name)
            assert (light.method, light.ci_method, light.is_random) == (
                full.method,
                full.ci_method,
                full.is_random,
            )


def test_a_report_reads_the_refits_without_pooling_each_subset_again(tmp_path):
    from metamg.render.report import render_report

    path = CASES_DIR.parents[2] / "studies" / "iv_magnesium_mi_mortality.csv"
    ap = metamg.appraise(path)
    render_report(ap, path, tmp_path)
    assert len(ap.leave1out) == 17 and len(ap.cumulative.rows) == 17
    assert not any("analysis" in r.__dict__ for r in (*ap.leave1out, *ap.cumulative.rows))


@pytest.mark.parametrize("case,measure,method,ci", CASES)
def test_tables_and_reprs_match_the_pooled_subsets(case, measure, method, ci):
    a = analysis(case, measure, method, ci)
    loo, cum = leave_one_out(a), cumulative(a)
    pooled_loo = type(loo)(Refit(r.study, r.analysis) for r in loo)
    assert repr(loo) == repr(pooled_loo)
    assert loo._repr_html_() == pooled_loo._repr_html_()
    pooled_cum = type(cum)(cum.order, tuple(Refit(r.study, r.analysis) for r in cum.rows))
    assert repr(cum) == repr(pooled_cum)
    assert cum._repr_html_() == pooled_cum._repr_html_()
    assert loo.to_frame().shape == (a.effects.k, 12)


@pytest.mark.parametrize("case,measure,method,ci", CASES)
def test_influence_matches_the_refit_loop(case, measure, method, ci):
    a = analysis(case, measure, method, ci)
    fast = influence(a)
    looped = influence(a, tuple(Refit(r.study, r.analysis) for r in leave_one_out(a)))
    assert len(fast) == len(looped) == a.effects.k
    for x, y in zip(fast, looped, strict=True):
        for key, value in y.to_dict().items():
            assert same(x.to_dict()[key], value), (x.study, key, x.to_dict()[key], value)


def test_mantel_haenszel_refits_one_at_a_time():
    a = metamg.pool(CASES_DIR / "bcg.csv", measure="OR", method="MH")
    loo = leave_one_out(a)
    assert loo.fits is None and all(r.given is not None for r in loo)
    assert len(influence(a, loo)) == a.effects.k
