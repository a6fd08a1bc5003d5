"""The Bayesian meta-analysis's figures: the posterior plot of tau and mu with their priors, and
the forest plot of shrinkage estimates. The curves are checked against the model (they are
densities: they integrate to 1, their medians are the fit's), the figures for stable bytes,
literal user text and no pyplot state, and `metamg bayes --plot/--forest` for its files."""

import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

import metamg
from metamg.analyses.bayes import posterior_curves, shrinkage_forest
from metamg.models import bayes as model
from metamg.render.figures import LABEL_CHARS, figure_bytes
from tests.conftest import CASES_DIR, run_cli
from tests.test_bayes_reference import BAYES_DIR

ROOT = Path(__file__).resolve().parents[1]
MI = ROOT / "studies" / "iv_magnesium_mi_mortality.csv"
CRINS_RCT = BAYES_DIR / "crins2014_rct.csv"
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "svg": b"<?xml", "pdf": b"%PDF"}


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before == []


def _texts(fig):
    """Every Text metamg put on the figure: its own, the axes', legends' and axis labels."""
    out = list(fig.texts) + [t for lg in fig.legends for t in lg.get_texts()]
    for ax in fig.axes + [c for a in fig.axes for c in a.child_axes]:
        out += list(ax.texts) + [ax.xaxis.label, ax.yaxis.label]
        if ax.get_legend() is not None:
            out += list(ax.get_legend().get_texts())
    return out


def _cdf(x, f):
    x, f = np.asarray(x), np.asarray(f)
    return np.concatenate(([0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(x))))


PRIORS = [
    (MI, None, None),
    (MI, "halfcauchy:0.5", "normal:0,2"),
    (CRINS_RCT, None, None),
    (CRINS_RCT, "uniform:0,2", "normal:0,4"),
    (CRINS_RCT, "halfcauchy:1", None),
    (MI, "jeffreys", None),
]


@pytest.mark.parametrize(("path", "tau_prior", "mu_prior"), PRIORS)
def test_the_curves_are_the_posterior_densities(path, tau_prior, mu_prior):
    r = metamg.bayes(metamg.pool(path, measure="OR"), tau_prior, mu_prior)
    c = posterior_curves(r)
    for curve, summary in ((c.tau, r.fit.tau), (c.mu, r.fit.mu)):
        x, f = np.array(curve.x), np.array(curve.posterior)
        assert np.all(np.diff(x) > 0) and np.all(f >= 0) and len(x) == len(f) > 600
        cdf = _cdf(x, f)
        assert abs(cdf[-1] - 1) < 1e-3, (curve.parameter, cdf[-1])
        # the median of the drawn curve is the fit's, to a thousandth of the interval's width
        width = summary.q975 - summary.q025
        assert abs(np.interp(0.5, cdf, x) - summary.median) < 1e-3 * width
        assert abs(np.interp(0.025, cdf, x) - summary.q025) < 2e-3 * width
        assert abs(np.interp(0.975, cdf, x) - summary.q975) < 2e-3 * width
        assert (curve.median, curve.q025, curve.q975) == (summary.median, summary.q025, summary.q975)
        assert {curve.median, curve.q025, curve.q975} <= set(curve.x)  # the marks lie on the curve
        lo, hi = curve.xlim
        assert lo <= summary.q025 < summary.q975 < hi
    # each point is the model's density there
    post = r.fit.posterior
    i = c.tau.x.index(r.fit.tau.median)
    assert c.tau.posterior[i] == pytest.approx(
        float(post.tau_pdf(np.array([r.fit.tau.median]))[0]), rel=1e-12
    )
    j = len(c.mu.x) // 2
    w = post.weights
    direct = float(
        np.sum(w * np.exp(-0.5 * (c.mu.x[j] - post.m) ** 2 / post.s2) / np.sqrt(2 * np.pi * post.s2))
    )
    assert c.mu.posterior[j] == pytest.approx(direct, rel=1e-9)


def test_the_priors_drawn_are_the_stated_ones():
    a = metamg.pool(CRINS_RCT, measure="OR")
    c = posterior_curves(metamg.bayes(a, "halfnormal:0.5", "normal:-1,2"))
    t = np.array(c.tau.x)
    assert np.allclose(
        c.tau.prior, 2 / (0.5 * math.sqrt(2 * math.pi)) * np.exp(-0.5 * (t / 0.5) ** 2), rtol=1e-12
    )
    m = np.array(c.mu.x)
    assert np.allclose(
        c.mu.prior, np.exp(-0.5 * ((m + 1) / 2) ** 2) / (2 * math.sqrt(2 * math.pi)), rtol=1e-12
    )
    # with 2 studies and a half-normal(0.5) prior the posterior of tau stays close to the prior
    assert c.tau.posterior[0] == pytest.approx(c.tau.prior[0], rel=0.05)
    # improper priors have no density: none is drawn
    c = posterior_curves(metamg.bayes(metamg.pool(MI, measure="OR"), "improper_uniform", "flat"))
    assert c.tau.prior is None and c.mu.prior is None
    u = posterior_curves(metamg.bayes(a, "uniform:0.1,2"))
    assert u.tau.x[0] == 0.1 and max(u.tau.x) <= 2 and np.allclose(u.tau.prior, 1 / 1.9, rtol=1e-14)


def test_model_densities_are_vectorised_and_zero_outside_the_support():
    a = metamg.pool(CRINS_RCT, measure="OR")
    post = metamg.bayes(a, "uniform:0.1,2").fit.posterior
    f = model.tau_density(post, [0.0, 0.05, 0.5, 2.5])
    assert f[0] == f[1] == f[3] == 0.0 and f[2] > 0
    assert model.tau_prior_density(model.jeffreys(), [1.0]) is None
    assert model.mu_prior_density(model.flat(), [1.0]) is None
    q = model.mu_quantiles(post, [0.025, 0.5, 0.975])
    fit = metamg.bayes(a, "uniform:0.1,2").fit
    assert np.allclose(q, [fit.mu.q025, fit.mu.median, fit.mu.q975], rtol=1e-10)


def test_the_forest_rows_are_the_fit_on_the_natural_scale():
    a = metamg.pool(MI, measure="OR")
    r = metamg.bayes(a)
    f = shrinkage_forest(r)
    assert f.log_scale and f.measure == "OR" and f.title == a.meta.title and f.favours == a.meta.favours
    studies = [e for e in f.entries if e.kind == "study"]
    assert [e.label for e in studies] == list(r.studies) and f.k == 17
    for e, yi, vi, s in zip(studies, a.effects.yi, a.effects.vi, r.fit.shrinkage, strict=True):
        se = math.sqrt(vi)
        assert e.observed == pytest.approx(
            (math.exp(yi), math.exp(yi - 1.959964 * se), math.exp(yi + 1.959964 * se))
        )
        assert e.posterior == pytest.approx(
            (math.exp(s.median), math.exp(s.q025), math.exp(s.q975)), rel=1e-12
        )
    mu, new = f.entries[-2:]
    assert (mu.kind, new.kind) == ("mu", "theta_new") and mu.observed is None is new.observed
    assert mu.posterior == pytest.approx(
        tuple(math.exp(v) for v in (r.fit.mu.median, r.fit.mu.q025, r.fit.mu.q975))
    )
    t = r.fit.theta_new
    assert new.posterior == pytest.approx(tuple(math.exp(v) for v in (t.median, t.q025, t.q975)))
    assert f.tau == (r.fit.tau.median, r.fit.tau.q025, r.fit.tau.q975)
    # MI: borrowing strength narrows every study's interval (on the log scale), but ISIS-4's
    # (58,050 patients), whose own variance is tiny beside tau's uncertainty: 0.006% wider
    for e in studies:
        if e.label == "ISIS-4 1995":
            continue
        assert math.log(e.posterior[2] / e.posterior[1]) < math.log(e.observed[2] / e.observed[1])


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
def test_the_figures_are_byte_stable(fmt):
    r = metamg.bayes(metamg.pool(CRINS_RCT, measure="OR"), mu_prior="normal:0,4")
    for draw in (metamg.bayes_plot, metamg.bayes_forest):
        one, two = figure_bytes(draw(r), fmt, 60), figure_bytes(draw(r), fmt, 60)
        assert one.startswith(MAGIC[fmt]) and one == two


def test_the_posterior_plot_shows_both_panels_and_the_ratio_axis():
    r = metamg.bayes(metamg.pool(MI, measure="OR"))
    fig = metamg.bayes_plot(r)
    assert isinstance(fig, metamg.Figure)
    tau_ax, mu_ax = fig.axes[:2]
    assert tau_ax.get_xlabel().startswith("tau (between-study SD, log odds ratio scale")
    assert mu_ax.get_xlabel() == "mu (mean effect, log odds ratio)"
    top = mu_ax.child_axes[0]  # the natural scale above mu's panel
    assert top.get_xlabel() == "odds ratio (OR) = exp(mu)"
    ticks = [float(t.get_text()) for t in top.get_xticklabels()]
    lo, hi = (math.exp(v) for v in mu_ax.get_xlim())
    assert len(ticks) >= 3 and all(lo <= t <= hi for t in ticks)
    legend = [t.get_text() for t in mu_ax.get_legend().get_texts()]
    assert f"median: {r.fit.mu.median:.2f}" in legend
    assert "prior: flat (improper), no density to draw" in legend
    tau_legend = [t.get_text() for t in tau_ax.get_legend().get_texts()]
    assert "prior: half-normal(scale 0.5)" in tau_legend
    texts = " ".join(t.get_text() for t in fig.texts)
    assert "tau ~ half-normal(scale 0.5)" in texts and "17 studies" in texts


def test_a_difference_measure_has_no_ratio_axis():
    a = metamg.pool(CASES_DIR / "normand1999.csv", measure="MD")
    r = metamg.bayes(a, "halfnormal:10")
    fig = metamg.bayes_plot(r)
    assert fig.axes[1].child_axes == [] and fig.axes[1].get_xlabel() == "mu (mean effect, mean difference)"
    forest = metamg.bayes_forest(r)
    ax = forest.axes[0]
    assert ax.get_xscale() == "linear" and ax.get_xlim()[0] < 0 < ax.get_xlim()[1]


def test_user_text_is_drawn_literally_and_shortened(tmp_path):
    long = "A" * 30 + " randomised trial of magnesium in a very long descriptive label 2020"
    csv = tmp_path / "t.csv"
    csv.write_text(
        "study,events_treatment,n_treatment,events_control,n_control\n"
        f'"Cost $10 vs $20 <b>x</b>",4,40,9,41\n"{long}",3,50,8,52\n"Plain $\\alpha$ 2001",10,90,12,88\n'
    )
    (tmp_path / "t.toml").write_text('title = "Price $5 and $6: a $title$"\nintervention = "mag $x$"\n')
    r = metamg.bayes(metamg.pool(csv, measure="OR"))
    for fig in (metamg.bayes_plot(r), metamg.bayes_forest(r)):
        texts = _texts(fig)
        dollars = [t for t in texts if "$" in t.get_text()]
        assert dollars and all(not t.get_parse_math() for t in dollars)
        drawn = {t.get_text() for t in texts}
        assert any(t.endswith("Price $5 and $6: a $title$") for t in drawn)
        figure_bytes(fig, "png", 40)  # draws: mathtext would raise on "$\alpha$ ... $"
    forest = metamg.bayes_forest(r)
    drawn = {t.get_text() for t in _texts(forest)}
    assert "Cost $10 vs $20 <b>x</b>" in drawn and "Plain $\\alpha$ 2001" in drawn
    shown = next(t for t in drawn if t.startswith("A" * 30))
    assert len(shown) == LABEL_CHARS and shown.endswith("…") and long.startswith(shown[:-1])
    assert "favours mag $x$" in drawn


def test_the_command_writes_both_figures(tmp_path):
    plot, forest = tmp_path / "post.svg", tmp_path / "forest.pdf"
    code, out, err = run_cli("bayes", CRINS_RCT, "--measure", "OR", "--plot", plot, "--forest", forest)
    assert code == 0, err
    assert "Bayesian random-effects meta-analysis" in out
    assert plot.read_bytes().startswith(MAGIC["svg"]) and forest.read_bytes().startswith(MAGIC["pdf"])
    r = metamg.bayes(metamg.pool(CRINS_RCT, measure="OR"))
    assert plot.read_bytes() == figure_bytes(metamg.bayes_plot(r), "svg")
    png = tmp_path / "f.png"
    code, out, err = run_cli("bayes", CRINS_RCT, "--measure", "OR", "--forest", png, "--format", "json")
    assert code == 0, err and out.startswith("{")
    assert png.read_bytes().startswith(MAGIC["png"])


@pytest.mark.parametrize("option", ["--plot", "--forest"])
def test_the_command_refuses_a_bad_suffix_before_any_work(tmp_path, option):
    bad = tmp_path / "x.jpg"
    code, out, err = run_cli("bayes", CRINS_RCT, "--measure", "OR", option, bad)
    assert code == 2 and ".png, .svg, .pdf, not .jpg" in err and option in err
    assert not bad.exists()
