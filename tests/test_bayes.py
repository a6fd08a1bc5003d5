"""The Bayesian model beyond the reference corpus: probabilities against direct numerical
integration (scipy), invariants, the vectorised normal CDF, the command line and its errors."""

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

import metamg
from metamg.models import bayes as model
from metamg.models.normal_array import norm_cdf, norm_cdf_sf
from tests.helpers import run_cli
from tests.test_bayes_reference import BAYES_DIR, load

CRINS = BAYES_DIR / "crins2014.csv"


def test_the_normal_cdf_is_math_erfc_to_1e_14():
    x = np.linspace(-8.4, 8.4, 20001)
    lo, up = norm_cdf_sf(x)
    want_lo = np.array([0.5 * math.erfc(-t / math.sqrt(2)) for t in x])
    want_up = np.array([0.5 * math.erfc(t / math.sqrt(2)) for t in x])
    assert np.max(np.abs(lo / want_lo - 1)) < 1e-14 and np.max(np.abs(up / want_up - 1)) < 1e-14
    assert np.array_equal(norm_cdf(x), lo)


@pytest.mark.parametrize(
    ("case", "tp", "mp"),
    [
        ("crins2014", model.halfnormal(0.5), model.flat()),
        ("bcg_k2", model.halfcauchy(0.5), model.normal(0, 4)),
        ("rubin1981", model.improper_uniform(), model.flat()),
        ("li2007_pre1992", model.lognormal(-2.56, 1.74), model.flat()),
        ("bcg", model.logt(-3.44, 2.59), model.normal(0, 4)),
    ],
)
def test_probabilities_agree_with_direct_integration(case, tp, mp):
    _, _, y, v = load(case)
    fit = model.fit_bayes(y, v, tp, mp)
    post = fit.posterior

    def joint(mu, tau):  # p(y | mu, tau) p(mu) p(tau), unnormalised
        lp = stats.norm.logpdf(y, mu, np.sqrt(v + tau**2)).sum() + float(
            tp.log_density(np.array([tau]), v)[0]
        )
        if mp.type == "normal":
            lp += stats.norm.logpdf(mu, mp.mean, mp.sd)
        return math.exp(lp - post.log_norm)

    opts = {"epsabs": 0, "epsrel": 1e-11, "limit": 200}
    c = float(fit.mu.median) + 0.3 * float(fit.mu.q975 - fit.mu.q025)
    # P(mu < c): a double integral over tau and mu
    total = integrate.quad(
        lambda t: integrate.quad(lambda m: joint(m, t), -np.inf, np.inf, **opts)[0], 0, np.inf, **opts
    )[0]
    below = integrate.quad(
        lambda t: integrate.quad(lambda m: joint(m, t), -np.inf, c, **opts)[0], 0, np.inf, **opts
    )[0]
    assert math.isclose(total, 1.0, rel_tol=1e-7)
    assert math.isclose(model.p_mu_below(post, c), below / total, rel_tol=1e-7)
    # P(tau > x) from the marginal posterior of tau
    x = float(fit.tau.median)
    above = integrate.quad(lambda t: float(post.tau_pdf(np.array([t]))[0]), x, np.inf, **opts)[0]
    assert math.isclose(model.p_tau_above(post, x), above, rel_tol=1e-8)
    # P(theta_new < c): theta_new | mu, tau ~ N(mu, tau²)
    pred = integrate.quad(
        lambda t: integrate.quad(lambda m: joint(m, t) * stats.norm.cdf(c, m, t), -np.inf, np.inf, **opts)[0],
        0,
        np.inf,
        **opts,
    )[0]
    assert math.isclose(model.p_theta_new_below(post, c), pred / total, rel_tol=1e-7)


studies = st.lists(st.tuples(st.floats(-3, 3), st.floats(0.01, 2.0)), min_size=2, max_size=8)


@settings(deadline=None, max_examples=30)
@given(studies, st.floats(-5, 5), st.permutations(range(8)))
def test_shift_and_order_invariance(rows, c, perm):
    y = np.array([r[0] for r in rows])
    v = np.array([r[1] for r in rows])
    tp = model.halfnormal(0.5)
    base = model.fit_bayes(y, v, tp)
    shifted = model.fit_bayes(y + c, v, tp)
    order = [i for i in perm if i < len(y)]
    permuted = model.fit_bayes(y[order], v[order], tp)
    width = base.mu.q975 - base.mu.q025
    for key in ("median", "q025", "q05", "q95", "q975", "mode", "shortest95_low", "shortest95_high"):
        for part in ("mu", "theta_new"):
            b = getattr(getattr(base, part), key)
            assert abs(getattr(getattr(shifted, part), key) - (b + c)) <= 1e-8 * (abs(b) + abs(c) + width)
            assert abs(getattr(getattr(permuted, part), key) - b) <= 1e-8 * (abs(b) + width)
        t_base, t_shifted = getattr(base.tau, key), getattr(shifted.tau, key)
        if t_base is None:  # a multimodal posterior of tau has no shortest interval (bayes.multimodal)
            assert t_shifted is None
            continue
        assert abs(t_shifted - t_base) <= 1e-8 * (base.tau.q975 + 1e-300)
    for i, j in enumerate(order):
        assert abs(permuted.shrinkage[i].median - base.shrinkage[j].median) <= 1e-8 * (1 + width)


@settings(deadline=None, max_examples=30)
@given(studies, st.lists(st.floats(-4, 4), min_size=2, max_size=6))
def test_probabilities_are_probabilities_and_monotone(rows, cs):
    y = np.array([r[0] for r in rows])
    v = np.array([r[1] for r in rows])
    post = model.fit_bayes(y, v, model.halfcauchy(0.5), model.normal(0, 4)).posterior
    cs = sorted(cs)
    for f in (model.p_mu_below, model.p_theta_new_below):
        ps = [f(post, c) for c in cs]
        assert all(0 <= p <= 1 for p in ps) and all(
            a <= b + 1e-15 for a, b in zip(ps[:-1], ps[1:], strict=True)
        )
    taus = [model.p_tau_above(post, abs(c)) for c in sorted(cs, key=abs)]
    assert all(0 <= p <= 1 for p in taus) and all(
        a >= b - 1e-15 for a, b in zip(taus[:-1], taus[1:], strict=True)
    )


def test_default_priors_follow_the_measure():
    assert model.default_tau_prior("OR") == model.halfnormal(0.5)
    assert model.default_tau_prior("RR") == model.halfnormal(0.5)
    with pytest.raises(ValueError, match="no default prior for tau on the MD scale"):
        model.default_tau_prior("MD")


def test_prior_specs_parse_and_round_trip():
    for spec in (
        "halfnormal:0.5",
        "halfcauchy:25",
        "uniform:0,4",
        "lognormal:-2.56,1.74",
        "logt:-3.44,2.59",
        "jeffreys",
        "improper_uniform",
    ):
        assert model.parse_tau_prior(spec).spec == spec
    for spec in ("flat", "normal:0,4"):
        assert model.parse_mu_prior(spec).spec == spec
    from metamg import vocabulary as V

    assert set(V.TAU_PRIORS) == set(model.TAU_PRIOR_TYPES) and set(V.MU_PRIORS) == set(model.MU_PRIOR_TYPES)


def test_the_api_result_and_its_json():
    a = metamg.pool(CRINS, measure="OR")
    r = metamg.bayes(a, thresholds=[0, -1], tau_thresholds=[0.5])
    d = r.to_dict()
    assert list(d)[:10] == [
        "k",
        "measure",
        "tau_prior",
        "mu_prior",
        "log_marginal_likelihood",
        "tau",
        "mu",
        "theta_new",
        "shrinkage",
        "probabilities",
    ]
    assert (
        d["tau_prior"]["type"] == "halfnormal"
        and d["tau_prior"]["scale"] == 0.5
        and d["tau_prior"]["default"]
    )
    assert list(d["tau"]) == list(model.SUMMARY_FIELDS)
    assert d["shrinkage"][0]["study"] == "Heffron 2003"
    assert d["probabilities"][0] == {"parameter": "mu", "threshold": 0.0, "p_below": r.probabilities[0].p}
    assert [p["parameter"] for p in d["probabilities"]] == ["mu", "mu", "theta_new", "theta_new", "tau"]
    assert "p_above" in d["probabilities"][-1]
    assert math.isclose(d["probabilities"][0]["p_below"], 0.9999444931111636, rel_tol=1e-9)
    assert "\n" not in repr(r) and "halfnormal:0.5" in repr(r)
    assert "<table>" in r._repr_html_()
    assert list(r.to_frame()["parameter"][:3]) == ["tau", "mu", "theta_new"]

    code, out, err = run_cli(
        "bayes",
        CRINS,
        "--measure",
        "OR",
        "--threshold",
        "0",
        "--threshold",
        "-1",
        "--tau-threshold",
        "0.5",
        "--format",
        "json",
    )
    assert code == 0, err
    got = json.loads(out)

    def strip(x):
        if isinstance(x, dict):
            return {k: strip(v) for k, v in x.items() if k != "text"}
        return [strip(v) for v in x] if isinstance(x, list) else x

    assert strip(got) == json.loads(json.dumps(d))
    assert got["tau_prior"]["text"].startswith("prior for tau: half-normal(scale 0.5)")


def test_the_text_states_the_priors():
    code, out, err = run_cli(
        "bayes", CRINS, "--measure", "OR", "--tau-prior", "halfcauchy:1", "--mu-prior", "normal:0,4"
    )
    assert code == 0, err
    assert "prior for tau: half-Cauchy(scale 1)" in out and "prior for mu: normal(mean 0, sd 4)" in out


@pytest.mark.parametrize(
    "args",
    [
        ("--tau-prior", "halfnormal:-1"),
        ("--tau-prior", "halfnormal"),
        ("--tau-prior", "halfnormal:abc"),
        ("--tau-prior", "uniform:4,0"),
        ("--tau-prior", "uniform:0,inf"),
        ("--tau-prior", "lognormal:1,-2"),
        ("--tau-prior", "logt:1"),
        ("--tau-prior", "gamma:1,2"),
        ("--tau-prior", "jeffreys:1"),
        ("--tau-prior", "halfcauchy:nan"),
        ("--tau-prior", "half\nnormal:1"),
        ("--mu-prior", "normal:0"),
        ("--mu-prior", "normal:0,0"),
        ("--mu-prior", "cauchy:0,1"),
        ("--mu-prior", "flat:1"),
    ],
)
def test_hostile_prior_specs_are_one_line_errors(args):
    code, out, err = run_cli("bayes", CRINS, "--measure", "OR", *args)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "crins2014.csv" in lines[0], err


def test_no_default_prior_on_an_unbounded_scale_is_one_line():
    code, out, err = run_cli("bayes", BAYES_DIR / "rubin1981.csv")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "no default prior for tau" in err


def test_an_improper_posterior_is_one_line():
    code, _, err = run_cli("bayes", BAYES_DIR / "edge_k1.csv", "--tau-prior", "jeffreys")
    assert code == 2 and len(err.strip().splitlines()) == 1 and "improper" in err


@pytest.mark.parametrize(
    ("prior", "tau2_law"),
    [
        (model.lognormal(-2.56, 1.74), stats.lognorm(s=1.74, scale=math.exp(-2.56))),
        (model.logt(-3.44, 2.59), None),
    ],
)
def test_empirical_priors_are_laws_of_tau_squared(prior, tau2_law):
    """Turner's and Rhodes' priors are stated for tau²: p(tau) = 2 tau f(tau²)."""
    tau = np.array([0.01, 0.1, 0.3, 1.0, 3.0])
    if tau2_law is not None:
        want = 2 * tau * tau2_law.pdf(tau**2)
    else:  # log(tau²) ~ t5(location, scale)
        x = tau**2
        want = 2 * tau * stats.t.pdf((np.log(x) + 3.44) / 2.59, df=5) / (2.59 * x)
    got = np.exp(prior.log_density(tau, np.array([0.1])))
    assert np.allclose(got, want, rtol=1e-12, atol=0)
    # on u = log tau, where the log-t's heavy tails are a t density's
    total = integrate.quad(
        lambda u: math.exp(prior.log_density(np.array([math.exp(u)]), np.array([0.1]))[0] + u),
        -700,
        700,
        points=[-10, -3, 0, 3],
        limit=400,
    )[0]
    assert math.isclose(total, 1.0, rel_tol=1e-8)
    h = 1e-6
    for t in (0.05, 0.5, 2.0):
        lp = lambda u: float(prior.log_density(np.array([u]), np.array([0.1]))[0])  # noqa: E731
        numeric = (lp(t + h) - lp(t - h)) / (2 * h)
        assert math.isclose(
            float(prior.dlog_density(np.array([t]), np.array([0.1]))[0]), numeric, rel_tol=1e-6
        )


def test_the_log_t_tail_keeps_the_mean_of_two_studies():
    """p(tau) ~ tau^-1 (log tau)^-6: with two studies and a flat mu the posterior tail is
    tau^-2 (log tau)^-6, so tau has a mean (the integral converges) but no sd."""
    fit = model.fit_bayes([0.1, 0.5], [0.04, 0.09], model.logt(-3.44, 2.59))
    assert fit.tau.mean is not None and fit.tau.sd is None
    assert [n.facts["moments"] for n in fit.notes if n.rule == "bayes.moments_undefined"][0] == ("sd",)
    hn = model.fit_bayes([0.1, 0.5], [0.04, 0.09], model.halfcauchy(0.5))
    assert hn.tau.mean is not None and hn.tau.sd is None  # tail tau^-3: the same verdict
    one = model.fit_bayes([0.1], [0.04], model.logt(-3.44, 2.59))  # proper prior: proper posterior
    assert one.tau.mean is None and one.tau.median > 0


def test_the_unit_information_sd():
    """Two arms of n with SD s: v = 2 s²/n = 4 s²/N, so the UISD is 2 s (Röver et al. 2021, eq. 6)."""
    n_arm = np.array([20.0, 50.0, 35.0])
    s = 3.0
    assert math.isclose(model.uisd(2 * n_arm, 2 * s**2 / n_arm), 2 * s, rel_tol=1e-14)
    a = metamg.pool(CRINS, measure="OR")
    r = metamg.bayes(a)
    es = a.effects
    n = np.asarray(es.data["n1i"], float) + np.asarray(es.data["n2i"], float)
    assert math.isclose(r.uisd, math.sqrt(n.sum() / np.sum(1 / es.vi)), rel_tol=1e-14)
    assert r.to_dict()["uisd"] == r.uisd
    with pytest.raises(ValueError, match="positive sample size"):
        model.uisd([10, 0], [0.1, 0.2])
