"""With few studies: the report's Bayesian section and the claims' probabilities
(analyses.few_studies, render.sections.few)."""

import math

import pytest

import metamg
from metamg.analyses.few_studies import FEW_STUDIES
from tests.conftest import run_cli

MI_ROWS = """study,events_treatment,n_treatment,events_control,n_control
Morton 1984,1,40,2,36
Rasmussen 1986,9,135,23,135
Smith 1986,2,200,7,200
"""  # the first three trials of studies/iv_magnesium_mi_mortality.csv (dat.egger2001)

META = """title = "Three MI trials"
measure = "OR"
benefit = "lower"

[[claims]]
id = "half"
text = "Magnesium halves the odds of death"
made_in = "a test"
primary_source_found = true
primary_source = "a test source"
implied_effect = 0.5
implies = "halving the odds is an odds ratio of 0.5"
"""


@pytest.fixture
def three_trials(tmp_path):
    path = tmp_path / "three.csv"
    path.write_text(MI_ROWS, encoding="utf-8")
    (tmp_path / "three.toml").write_text(META, encoding="utf-8")
    return path


def test_the_appraisal_of_few_studies_carries_the_bayesian_analysis(three_trials):
    ap = metamg.appraise(three_trials)
    few = ap.few
    assert ap.analysis.result.k == 3 < FEW_STUDIES and few.bayes is not None and few.why_not is None
    direct = metamg.bayes(ap.analysis, thresholds=[0.0, math.log(0.5)])
    p_below = {(p.parameter, p.threshold): p.p for p in direct.probabilities}
    assert few.p_benefit == pytest.approx(p_below[("mu", 0.0)], rel=1e-12)
    (claim,) = few.claims
    assert claim.claim_id == "half" and claim.side == -1
    assert claim.threshold == pytest.approx(math.log(0.5), rel=1e-12)
    assert claim.p_mu == pytest.approx(p_below[("mu", math.log(0.5))], rel=1e-12)
    assert claim.p_new == pytest.approx(p_below[("theta_new", math.log(0.5))], rel=1e-12)
    assert 0 < claim.p_mu < few.p_benefit < 1


def test_the_report_shows_the_few_study_section_and_the_claim_probability(three_trials, tmp_path):
    code, _, err = run_cli("report", three_trials, "-o", tmp_path / "out")
    assert code == 0, err
    text = (tmp_path / "out" / "three.md").read_text(encoding="utf-8")
    section = text.split("## With few studies")[1].split("\n## ")[0]
    ap = metamg.appraise(three_trials)
    b = ap.few.bayes.fit
    median = math.exp(b.mu.median)
    assert "| Pooled OR | " in section and f"| {median:.2f} (" in section
    assert "Prior for tau: half-normal(scale 0.5), the default for OR" in section
    assert "Probability that the intervention helps at all (OR below 1)" in section
    assert 'Claim "Magnesium halves the odds of death" (OR at most 0.50): probability' in section
    assert "![Posterior of tau and mu with their priors](three-bayes.png)" in section
    assert (tmp_path / "out" / "three-bayes.png").read_bytes().startswith(b"\x89PNG")
    claims = text.split("## Claims checked")[1]
    assert "the probability that the effect is at least as large as claimed is" in claims


def test_a_measure_without_a_default_prior_says_so(tmp_path):
    path = tmp_path / "md.csv"
    path.write_text("study,yi,vi\nA,-1.0,0.4\nB,-0.5,0.3\n", encoding="utf-8")
    (tmp_path / "md.toml").write_text('measure = "MD"\n', encoding="utf-8")
    path.write_text(
        "study,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control\n"
        "A,5.0,2.0,30,6.0,2.1,31\nB,4.5,1.9,40,5.2,2.2,38\n",
        encoding="utf-8",
    )
    ap = metamg.appraise(path)
    assert ap.few.bayes is None and ap.few.why_not.rule == "bayes.no_prior"
    code, _, _ = run_cli("report", path, "-o", tmp_path / "out")
    text = (tmp_path / "out" / "md.md").read_text(encoding="utf-8")
    assert code == 0 and "No Bayesian analysis here: no default prior for tau on the MD scale" in text


def test_enough_studies_have_no_few_study_section():
    from tests.helpers import CASES_DIR

    ap = metamg.appraise(CASES_DIR / "bcg.csv", measure="RR")
    assert ap.analysis.result.k >= FEW_STUDIES and ap.few is None


def test_the_metadata_can_state_the_priors_with_a_reason(tmp_path):
    path = tmp_path / "md.csv"
    path.write_text(
        "study,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control\n"
        "A,5.0,2.0,30,6.0,2.1,31\nB,4.5,1.9,40,5.2,2.2,38\n",
        encoding="utf-8",
    )
    (tmp_path / "md.toml").write_text(
        'measure = "MD"\n\n[bayes]\ntau_prior = "halfnormal:1"\nmu_prior = "normal:0,10"\n'
        'reason = "a spread of true effects of a point or two on this scale is plausible; <b>"\n',
        encoding="utf-8",
    )
    ap = metamg.appraise(path)
    b = ap.few.bayes
    assert b is not None and b.fit.tau_prior.spec == "halfnormal:1" and b.fit.mu_prior.spec == "normal:0,10"
    assert b.tau_prior_note["default"] is False
    direct = metamg.bayes(ap.analysis, "halfnormal:1", "normal:0,10")
    assert b.fit.mu.median == direct.fit.mu.median
    code, _, err = run_cli("report", path, "-o", tmp_path / "out")
    text = (tmp_path / "out" / "md.md").read_text(encoding="utf-8")
    assert code == 0, err
    assert "Why these priors (the metadata): a spread of true effects" in text
    assert "plausible; \\<b>" in text  # user text is escaped


@pytest.mark.parametrize(
    "table,message",
    [
        ('[bayes]\ntau_prior = "halfnormal:-1"\nreason = "x"\n', "md.toml:3: bayes.tau_prior"),
        ('[bayes]\ntau_prior = "halfnormal:1"\n', "md.toml:3: bayes.reason: a stated prior needs its reason"),
        (
            '[bayes]\ntau = "halfnormal:1"\nreason = "x"\n',
            "md.toml:4: bayes.tau: unknown key; known keys: mu_prior, reason, tau_prior",
        ),
        ("[bayes]\ntau_prior = 1\nreason = 'x'\n", "bayes.tau_prior: must be a non-empty string"),
    ],
)
def test_a_bad_bayes_table_is_one_line_naming_the_file(tmp_path, table, message):
    path = tmp_path / "md.csv"
    path.write_text("study,yi,vi\nA,0.1,0.04\nB,0.2,0.05\n", encoding="utf-8")
    (tmp_path / "md.toml").write_text('measure = "GEN"\n\n' + table, encoding="utf-8")
    for command in ("check", "report"):
        code, _, err = run_cli(command, path, *(["-o", str(tmp_path / "out")] if command == "report" else []))
        assert code in (1, 2) and message in err and "Traceback" not in err, (command, err)


def test_one_study_has_no_frequentist_tau_in_the_few_study_table(tmp_path):
    """With one study tau is not estimated at all: the table must not print REML's 0."""
    path = tmp_path / "one.csv"
    path.write_text(
        "study,events_treatment,n_treatment,events_control,n_control\nA,10,50,18,50\n", encoding="utf-8"
    )
    (tmp_path / "one.toml").write_text('measure = "RR"\n', encoding="utf-8")
    code, _, err = run_cli("report", path, "-o", tmp_path / "out")
    text = (tmp_path / "out" / "one.md").read_text(encoding="utf-8")
    assert code == 0, err
    row = next(line for line in text.splitlines() if line.startswith("| tau (spread of true effects)"))
    assert "not estimable from one study" in row and "0.000" not in row


def test_a_stated_prior_asks_for_the_bayesian_analysis_with_many_studies(tmp_path):
    """[bayes] in the metadata is the 'on request' of the issue: the section appears at k >= 5."""
    from tests.helpers import CASES_DIR

    rows = (CASES_DIR / "bcg.csv").read_text(encoding="utf-8")
    path = tmp_path / "bcg.csv"
    path.write_text(rows, encoding="utf-8")
    (tmp_path / "bcg.toml").write_text(
        'measure = "RR"\n\n[bayes]\ntau_prior = "halfnormal:1"\nreason = "a wider prior than the default"\n',
        encoding="utf-8",
    )
    ap = metamg.appraise(path)
    assert ap.analysis.result.k >= FEW_STUDIES and ap.few is not None
    assert ap.few.bayes.fit.tau_prior.spec == "halfnormal:1"
    code, _, err = run_cli("report", path, "-o", tmp_path / "out")
    text = (tmp_path / "out" / "bcg.md").read_text(encoding="utf-8")
    assert code == 0, err
    assert "## Bayesian analysis" in text and "## With few studies" not in text
    assert "Why these priors (the metadata): a wider prior than the default" in text
    assert (tmp_path / "out" / "bcg-bayes.png").exists()
