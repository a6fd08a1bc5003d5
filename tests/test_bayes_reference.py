"""Every value of every analysis of the Bayesian reference corpus (tests/reference/bayes, a copy
of ../shared/reference/bayes: exact integrals, good to about 1e-12), computed from each CSV's
yi and vi, at rtol 1e-9 on the corpus's own scales (compare_bayes.py: locations against
max(|e|, q975 - q025), the log marginal likelihood against max(1, |e|), the rest against |e|)."""

import csv
import json
import math
from pathlib import Path

import numpy as np
import pytest

from metamg.models import bayes as model

pytestmark = pytest.mark.reference

BAYES_DIR = Path(__file__).parent / "reference" / "bayes"
CASES = sorted(p.stem for p in BAYES_DIR.glob("*.json"))
RTOL = 1e-9
LOCATION = {"mode", "median", "mean", "q025", "q05", "q95", "q975", "shortest95_low", "shortest95_high"}


def load(case):
    d = json.loads((BAYES_DIR / f"{case}.json").read_text(encoding="utf-8"))
    with open(BAYES_DIR / f"{case}.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    y = np.array([float(r["yi"]) for r in rows])
    v = np.array([float(r["vi"]) for r in rows])
    return d, [r["study"] for r in rows], y, v


def tau_prior(d):
    t = d["type"]
    if t == "halfnormal":
        return model.halfnormal(d["scale"])
    if t == "halfcauchy":
        return model.halfcauchy(d["scale"])
    if t == "uniform":
        return model.uniform(d["lower"], d["upper"])
    return model.jeffreys() if t == "jeffreys" else model.improper_uniform()


def mu_prior(d):
    return model.flat() if d["type"] == "flat" else model.normal(d["mean"], d["sd"])


ANALYSES = [(case, a["id"]) for case in CASES for a in load(case)[0]["analyses"]]


def test_every_case_and_analysis_is_collected():
    assert len(CASES) == 8
    assert len(ANALYSES) == 79  # 7 cases x 10 priors, less edge_k1's improper one, + rubin1981's 10


def close(expected, got, scale, path):
    assert got is not None, f"{path}: expected {expected}, got None"
    assert abs(got - expected) <= RTOL * scale, f"{path}: expected {expected!r}, got {got!r}"


def check_summary(path, expected, got):
    for key in model.SUMMARY_FIELDS:
        e = expected[key]
        g = getattr(got, key)
        if e is None:
            assert g is None, f"{path}.{key}: the reference has no value (null), metamg gives {g}"
            continue
        scale = max(abs(e), expected["q975"] - expected["q025"]) if key in LOCATION else abs(e)
        close(e, g, scale, f"{path}.{key}")


@pytest.mark.parametrize(("case", "analysis_id"), ANALYSES, ids=[f"{c}-{a}" for c, a in ANALYSES])
def test_every_value_matches_the_exact_integrals(case, analysis_id):
    d, studies, y, v = load(case)
    a = next(x for x in d["analyses"] if x["id"] == analysis_id)
    fit = model.fit_bayes(y, v, tau_prior(a["tau_prior"]), mu_prior(a["mu_prior"]))
    e = a["expected"]
    check_summary("tau", e["tau"], fit.tau)
    check_summary("mu", e["mu"], fit.mu)
    check_summary("theta_new", e["theta_new"], fit.theta_new)
    assert [s["study"] for s in e["shrinkage"]] == studies
    for s, got in zip(e["shrinkage"], fit.shrinkage, strict=True):
        check_summary(f"shrinkage[{s['study']}]", s, got)
    lml = e["log_marginal_likelihood"]
    if lml is None:
        assert fit.log_marginal_likelihood is None
    else:
        close(lml, fit.log_marginal_likelihood, max(1.0, abs(lml)), "log_marginal_likelihood")
    post = fit.posterior
    for item in e["tau"]["p_gt"]:
        close(item["p"], model.p_tau_above(post, item["x"]), item["p"], f"tau.p_gt[{item['x']}]")
    close(e["mu"]["p_lt_0"], model.p_mu_below(post, 0.0), e["mu"]["p_lt_0"], "mu.p_lt_0")
    close(
        e["theta_new"]["p_lt_0"],
        model.p_theta_new_below(post, 0.0),
        e["theta_new"]["p_lt_0"],
        "theta_new.p_lt_0",
    )
    # a value is missing exactly where the reference's notes say why
    assert bool(fit.notes) == bool(a["notes"]), (a["notes"], fit.notes)


@pytest.mark.parametrize("case", [c for c in CASES if load(c)[0]["skipped"]])
def test_an_improper_posterior_is_refused(case):
    d, _, y, v = load(case)
    for s in d["skipped"]:
        with pytest.raises(ValueError, match="improper"):
            model.fit_bayes(y, v, tau_prior(s["tau_prior"]), mu_prior(s["mu_prior"]))


def test_the_notes_name_what_is_missing():
    d, _, y, v = load("bcg_k2")
    fit = model.fit_bayes(y, v, model.jeffreys(), model.flat())
    assert [(n.rule, n["parameter"], n["moments"]) for n in fit.notes] == [
        ("bayes.moments_undefined", "tau", ("mean", "sd")),
        ("bayes.moments_undefined", "mu", ("mean", "sd")),
        ("bayes.moments_undefined", "theta_new", ("mean", "sd")),
    ]
    d, _, y, v = load("edge_k1")
    fit = model.fit_bayes(y, v, model.uniform(0, 4), model.flat())
    assert [n.rule for n in fit.notes] == ["bayes.tau_posterior_is_prior"]
    assert fit.tau.mode is None and fit.tau.shortest95_low is None and math.isclose(fit.tau.median, 2.0)
