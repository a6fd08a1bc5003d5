"""Claim verdict rules, ``metamg check``, ``--exclude-status`` and the shipped study sets."""

import math
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from metamg.analyses.claims import CONTRADICTED, NO_SOURCE, NOT_TESTABLE, SUPPORTED, Evidence, check_claim
from metamg.cli import main
from metamg.effects import MEASURES
from metamg.io.metadata import Claim, read_metadata
from metamg.render.claims_text import reason_text

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "studies"
OR = MEASURES["OR"]


def claim(effect=None, found=True, direction="benefit"):
    return Claim(
        id="c",
        text="magnesium works",
        made_in="an article",
        primary_source_found=found,
        primary_source="a trial" if found else "",
        direction=direction,
        implied_effect=effect,
        implies="stated" if effect is not None else "",
    )


def ev(low, high, est=None):
    """Evidence from an OR confidence interval on the natural scale."""
    lo, hi = math.log(low), math.log(high)
    return Evidence("main", math.log(est) if est else (lo + hi) / 2, lo, hi, 5)


@pytest.mark.parametrize(
    "implied,ci,verdict",
    [
        (0.45, (0.31, 0.69), SUPPORTED),  # claimed OR inside a CI that excludes 1
        (0.80, (0.31, 0.69), SUPPORTED),  # data show more benefit than claimed
        (0.45, (0.96, 1.08), CONTRADICTED),  # claimed OR beyond a CI around 1
        (0.45, (0.60, 0.90), CONTRADICTED),  # benefit shown, but rules out one as large as claimed
        (0.45, (0.40, 1.20), NOT_TESTABLE),  # CI holds both no effect and the claim
        (0.45, (1.10, 1.50), CONTRADICTED),  # CI wholly on the harmful side
        (None, (0.31, 0.69), SUPPORTED),  # direction only, CI excludes 1 on the claimed side
        (None, (0.50, 1.40), NOT_TESTABLE),  # direction only, imprecise
        (None, (1.10, 1.50), CONTRADICTED),  # direction only, wrong side
    ],
)
def test_verdict_rules(implied, ci, verdict):
    assert check_claim(claim(implied), OR, "lower", ev(*ci)).verdict == verdict


def test_benefit_higher_flips_the_claimed_side():
    # more responders favours magnesium: an RR above 1 supports, below 1 contradicts
    rr = MEASURES["RR"]
    assert check_claim(claim(), rr, "higher", ev(1.2, 1.8)).verdict == SUPPORTED
    assert check_claim(claim(), rr, "higher", ev(0.5, 0.9)).verdict == CONTRADICTED
    assert check_claim(claim(direction="harm"), rr, "higher", ev(0.5, 0.9)).verdict == SUPPORTED


def test_no_traceable_source_wins_but_says_what_the_data_would_say():
    c = check_claim(claim(0.45, found=False), OR, "lower", ev(0.31, 0.69))
    assert c.verdict == NO_SOURCE
    assert c.evidence_verdict == SUPPORTED
    assert [r.kind for r in c.reasons] == ["no_source", "evidence", "taken_at_word"]
    assert c.reasons[-1]["verdict"] == SUPPORTED
    assert reason_text(c.reasons[-1]) == "taken at its word, the pooled data here would make it 'supported'"


def test_nothing_pooled_is_not_testable():
    c = check_claim(claim(0.45), OR, "lower", None)
    assert c.verdict == NOT_TESTABLE and c.reasons[0].kind == "nothing_pooled"
    assert reason_text(c.reasons[0]) == "no study in this set could be pooled for this outcome"


def test_a_sensitivity_analysis_that_disagrees_is_named():
    fe = Evidence("common_effect", 0.01, -0.04, 0.07, 16)
    c = check_claim(claim(0.45), OR, "lower", ev(0.31, 0.69), (fe,))
    assert c.verdict == SUPPORTED and not c.robust
    assert c.disagreeing == (("common_effect", CONTRADICTED),)
    not_robust = c.reasons[-1]
    assert (not_robust.kind, not_robust["rule"], not_robust["k"]) == ("not_robust", "beyond_ci", 16)
    assert reason_text(not_robust).startswith("not robust: with the common-effect model (k = 16) the verdict")


# -- the shipped sets -------------------------------------------------------------------

SEED_CLAIMS = {
    "magnesium_anxiety": {"glycinate-anxiety-37": NO_SOURCE, "dose-200-400": NO_SOURCE},
    "magnesium_tolerability": {"glycinate-adherence-82-54": NO_SOURCE, "glycinate-fewer-gi": NO_SOURCE},
    "magnesium_migraine": {"migraine-helps": NOT_TESTABLE},
    "magnesium_dysmenorrhoea": {"dysmenorrhoea-helps": NOT_TESTABLE},
    "magnesium_fibromyalgia": {"fibromyalgia-helps": NOT_TESTABLE},
    "magnesium_neuropathic_pain": {"neuropathic-helps": NOT_TESTABLE, "magnesium-pea": NO_SOURCE},
    "iv_magnesium_mi_mortality": {"teo-1991-55": CONTRADICTED, "limit2-24": CONTRADICTED},
    "antenatal_magnesium_cerebral_palsy": {
        "twins-trust-32": SUPPORTED,
        "anz-guideline-neuroprotection": SUPPORTED,
        "conde-agudelo-2009": SUPPORTED,
    },
    "antenatal_magnesium_paediatric_death": {"mittendorf-1998-excess-deaths": NOT_TESTABLE},
    "magnesium_eclampsia_prevention": {"magpie-halves": NOT_TESTABLE, "who-2011-prevention": NOT_TESTABLE},
    "magnesium_eclampsia_vs_diazepam": {"cet-diazepam-52": SUPPORTED, "who-2011-treatment": SUPPORTED},
    "magnesium_eclampsia_vs_phenytoin": {"cet-phenytoin-67": SUPPORTED, "who-2011-treatment": SUPPORTED},
    "magnesium_acute_asthma": {"er-recover-faster": NOT_TESTABLE, "kew-2014-admissions": NOT_TESTABLE},
    "magnesium_postoperative_af": {"gu-2012": NOT_TESTABLE, "miller-2005": NOT_TESTABLE},
    "magnesium_leg_cramps": {"relieves-cramps": NOT_TESTABLE},
    "magnesium_leg_cramps_pregnancy": {"relieves-cramps": SUPPORTED},
    "magnesium_depression": {"daily-mail-two-weeks": SUPPORTED, "moabedi-2023": SUPPORTED},
}


@pytest.fixture(scope="module")
def shipped_reports(tmp_path_factory):
    from metamg.api import write_report

    out = tmp_path_factory.mktemp("reports")
    return {p.stem: write_report(p, out) for p in sorted(STUDIES.glob("*.csv"))}


@pytest.mark.slow
def test_every_seed_claim_has_its_verdict(shipped_reports):
    for name, expected in SEED_CLAIMS.items():
        got = {c.claim.id: c.verdict for c in shipped_reports[name].claims}
        assert got == expected, name


@pytest.mark.slow
def test_mi_verdict_uses_the_common_effect_model_because_of_small_study_effects(shipped_reports):
    teo = next(c for c in shipped_reports["iv_magnesium_mi_mortality"].claims if c.claim.id == "teo-1991-55")
    assert (teo.reasons[0]["source"], teo.reasons[0]["rule"]) == ("common_effect_small_study", "beyond_ci")
    assert "small-study effects were detected" in reason_text(teo.reasons[0])
    assert ("random_effects_main", SUPPORTED) in teo.disagreeing


@pytest.mark.slow
def test_mi_report_tells_the_isis4_story(shipped_reports):
    text = Path(shipped_reports["iv_magnesium_mi_mortality"].path).read_text()
    story = text.split("## What the evidence says")[1].split("## Claims checked")[0]
    assert "OR 0.51 (95% CI 0.35 to 0.75)" in story  # random effects
    assert "Common-effect model**: OR 1.01 (95% CI 0.96 to 1.07)" in story
    assert "ISIS-4 1995, carries 78% of the weight" in story  # beside MAGIC 2002's 3,113 + 3,100
    assert "The largest single change came with ISIS-4 1995: from OR 0.57" in story
    # regtest() with the main model's Knapp-Hartung test on the 17 trials: t(15) = -5.98,
    # p = 2.54e-05 (metafor 3.8-1)
    assert "Egger's test p < 0.0001" in story and "the large trial is the better guide" in story


@pytest.mark.slow
def test_topic_reports_list_every_not_pooled_study_with_its_reason(shipped_reports):
    from metamg.io.schema import read_studies
    from metamg.render.notes_text import note_text

    for name, summary in shipped_reports.items():
        if name == "iv_magnesium_mi_mortality":
            continue
        text = Path(summary.path).read_text()
        meta = read_metadata(STUDIES / f"{name}.csv")
        table = read_studies(STUDIES / f"{name}.csv", MEASURES[meta.measure].data_type)
        for e in table.not_estimable:
            assert f"| {e.study} | {e.line} |" in text and note_text(e.reason) in text, (name, e.study)


@pytest.mark.slow
def test_perioperative_set_combines_seyhan_and_converts_the_99_percent_cis(shipped_reports):
    text = Path(shipped_reports["magnesium_perioperative_opioids"].path).read_text()
    assert "Seyhan 2006: 3 intervention arms" in text and "counted once" in text
    # -10.52 with 99% CI -13.5 to -7.54: SE = 5.96 / (2 × 2.5758) = 1.1569; 95% CI ± 2.2676
    assert (
        "| De Oliveira 2013 (postoperative opioid consumption) | MD | -10.52 (99% CI -13.5 to -7.54) "
        "| -10.52 (-12.79 to -8.25) |" in text
    )


@pytest.mark.slow
def test_index_lists_every_claim_with_its_verdict(shipped_reports):
    from metamg.api import write_index

    out = Path(list(shipped_reports.values())[0].path).parent
    text = Path(write_index(list(shipped_reports.values()), out)).read_text()
    rows = [line for line in text.splitlines() if line.startswith("| ") and "**" in line]
    assert len(rows) == sum(len(v) for v in SEED_CLAIMS.values())
    assert any(
        "Magnesium glycinate reduced self-reported anxiety" in r and "**no traceable source**" in r
        for r in rows
    )


# -- metamg check ----------------------------------------------------------------------


def run(*args):
    r = CliRunner().invoke(main, [str(a) for a in args])
    return r.exit_code, r.output


def test_check_passes_on_the_shipped_sets():
    code, out = run("check", *sorted(STUDIES.glob("*.csv")))
    assert code == 0, out
    assert "18 of 18 study sets OK" in out


def _copy(tmp_path, name="magnesium_perioperative_opioids"):
    for ext in (".csv", ".toml"):
        shutil.copy(STUDIES / f"{name}{ext}", tmp_path / f"{name}{ext}")
    return tmp_path / f"{name}.csv", tmp_path / f"{name}.toml"


def test_check_names_file_line_and_problem_on_a_broken_set(tmp_path):
    csv, toml = _copy(tmp_path)
    lines = csv.read_text().splitlines()
    lines[11] = lines[11].replace(",derived,", ",made-up,")  # Seyhan arm 1, line 12
    lines[13] = lines[13].replace(",9661575,", ",PMID9661575,")  # Koinig 1998, line 14
    csv.write_text("\n".join(lines) + "\n")
    toml.write_text(
        toml.read_text() + '\n[[claims]]\nid = "x"\ntext = "t"\nmade_in = "m"\n'
        'primary_source_found = false\nstudies = ["Nobody 2020"]\n'
    )
    code, out = run("check", csv)
    assert code == 1
    assert f"{csv}:12: evidence_status: unknown evidence status" in out
    assert f"{csv}:14: pmid: not a PubMed ID (digits only) (PMID9661575)" in out
    assert (
        "claim 'x' refers to a study that magnesium_perioperative_opioids.csv does not have (Nobody 2020)"
        in out
    )
    assert "0 of 1 study set OK" in out


def test_check_finds_the_same_study_pooled_twice(tmp_path):
    csv, _ = _copy(tmp_path, "iv_magnesium_mi_mortality")
    lines = csv.read_text().splitlines()
    assert lines[16].startswith("ISIS-4 1995,") and len(lines) == 20  # header, 17 pooled, 2 not
    csv.write_text("\n".join(lines + ["isis-4  1995" + lines[16][len("ISIS-4 1995") :]]) + "\n")
    code, out = run("check", csv)
    assert code == 1
    assert (
        f"{csv}:21: study: duplicate study label (first on line 17 as 'ISIS-4 1995'; labels are "
        "compared ignoring case and spacing) (isis-4  1995)" in out
    )
    code, out = run("pool", csv)  # the same study to pool as to check
    assert code == 2 and "duplicate study label (first on line 17" in out


def test_check_finds_the_same_doi_pooled_twice_unless_arms_of_one_trial(tmp_path):
    csv = tmp_path / "s.csv"
    head = "study,trial,events_treatment,n_treatment,events_control,n_control,doi\n"
    csv.write_text(
        head + "A,,1,10,2,10,10.1000/x\nB,,3,10,4,10,10.1000/X\nC,T,1,10,2,10,10.1234/t\n"
        "D,T,2,10,2,10,10.1234/t\n"
    )
    code, out = run("check", csv)
    assert (
        f"{csv}:3: doi: same doi as the pooled study on line 2 (A): pooling both would count it "
        "twice; mark one with exclusion_reason, or name both arms in 'trial' (B)" in out
    )
    assert f"{csv}:4" not in out and f"{csv}:5" not in out


def test_exclude_status_leaves_those_studies_out(tmp_path):
    code, out = run(
        "pool",
        STUDIES / "iv_magnesium_mi_mortality.csv",
        "--exclude-status",
        "secondary-source",
    )
    # the 16 trials of the Egger 2001 table are secondary-source: MAGIC 2002 (abstract) is left
    assert code == 0 and "Studies pooled: k = 1 (18 not estimable" in out
    assert "ISIS-4 1995 (line 17): evidence status 'secondary-source' excluded" in out
    code, out = run(
        "pool", STUDIES / "iv_magnesium_mi_mortality.csv", "--exclude-status", "secondary-source,abstract"
    )
    assert code == 2 and "no estimable studies to pool" in out
    code, out = run(
        "pool",
        STUDIES / "magnesium_perioperative_opioids.csv",
        "--measure",
        "SMD",
        "--exclude-status",
        "derived,secondary-source",
    )
    assert code == 2
    code, out = run(
        "pool", STUDIES / "magnesium_anxiety.csv", "--measure", "MD", "--exclude-status", "derived"
    )
    assert code == 0 and "k = 1" in out
    code, out = run("pool", STUDIES / "magnesium_anxiety.csv", "--exclude-status", "rumour")
    assert code == 2 and "unknown status rumour" in out


def test_every_verdict_rule_and_evidence_source_has_its_words():
    from metamg.analyses.claims import EVIDENCE_SOURCES, VERDICT_RULES
    from metamg.render.claims_text import RULES, SOURCES

    assert set(RULES) == set(VERDICT_RULES) and set(SOURCES) == set(EVIDENCE_SOURCES)
