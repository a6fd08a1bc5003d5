"""The shipped study sets: made reproducibly from the evidence, every number traceable, different
comparators and outcomes kept apart, and the figures the source papers report reproduced."""

import csv
import importlib.util
import math
from pathlib import Path

import pytest

import metamg
from metamg.analyses.appraisal import appraise
from metamg.errors import InputError
from metamg.io.metadata import read_metadata
from metamg.render.evidence import story
from tests.helpers import CASES_DIR

ROOT = Path(__file__).resolve().parents[1]
STUDIES = ROOT / "studies"
EVIDENCE = ROOT.parent / "shared" / "evidence"
CURATION = STUDIES / "curation" / "from_evidence.py"
SETS = sorted(p.stem for p in STUDIES.glob("*.csv"))
# the sets made from ../shared/evidence/more (issue 16), and the two it extended
NEW = (
    "antenatal_magnesium_cerebral_palsy",
    "antenatal_magnesium_paediatric_death",
    "magnesium_acute_asthma",
    "magnesium_depression",
    "magnesium_eclampsia_prevention",
    "magnesium_eclampsia_vs_diazepam",
    "magnesium_eclampsia_vs_phenytoin",
    "magnesium_leg_cramps",
    "magnesium_leg_cramps_pregnancy",
    "magnesium_postoperative_af",
)
EXTENDED = ("iv_magnesium_mi_mortality", "magnesium_perioperative_opioids")


def rows(name: str) -> list[dict]:
    with open(STUDIES / f"{name}.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def by_study(name: str) -> dict[str, dict]:
    return {r["study"]: r for r in rows(name)}


def natural(analysis) -> tuple[float, float, float]:
    r = analysis.result
    return tuple(float(analysis.natural(x)) for x in (r.estimate, r.ci_low, r.ci_high))


# -- made from the evidence, reproducibly -----------------------------------------------------


@pytest.mark.skipif(not EVIDENCE.is_dir(), reason="../shared/evidence is not here")
def test_the_curation_script_reproduces_every_committed_set(tmp_path):
    spec = importlib.util.spec_from_file_location("from_evidence", CURATION)
    cur = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cur)
    cur.OUT = str(tmp_path)  # write beside the test, not over studies/
    written = [cur.convert(t, str(EVIDENCE)) for t in cur.DECISIONS]
    written.append(cur.mi_set(str(EVIDENCE)))
    written += [cur.new_set(name, str(EVIDENCE)) for name in cur.NEW_SETS]
    cur.check_coverage(str(EVIDENCE))  # every row of the more/ files used is in a set
    assert sorted(Path(p).stem for p in written) == SETS
    for p in written:
        assert Path(p).read_bytes() == (STUDIES / Path(p).name).read_bytes(), Path(p).name


def test_every_row_says_where_its_numbers_come_from():
    for name in SETS:
        for r in rows(name):
            where = (name, r["study"])
            assert r["source"].strip() and r["where_found"].strip(), where
            assert r["evidence_status"] in ("full-text", "abstract", "secondary-source", "derived"), where
            assert "\n" not in r.get("exclusion_reason", ""), where  # one line each
            if r["evidence_status"] == "derived":
                assert r["derived_fields"].strip(), where
            if name in NEW + EXTENDED:
                assert r["evidence_confidence"].strip() and "derived_fields" in r, where
                if r["derived_fields"].strip() and name in NEW:  # the report shows notes, not this column
                    assert "Derived, not read: " in r["notes"], where


def test_no_number_was_estimated_beyond_the_evidence_files():
    """Every count and mean of the new sets is the evidence file's, cell for cell."""
    if not EVIDENCE.is_dir():
        pytest.skip("../shared/evidence is not here")
    numbers = ("events_treatment", "n_treatment", "events_control", "n_control")
    numbers += ("mean_treatment", "sd_treatment", "mean_control", "sd_control")
    found: dict[str, list[tuple]] = {}
    for path in (EVIDENCE / "more").glob("*.csv"):
        with open(path, newline="", encoding="utf-8") as fh:
            for e in csv.DictReader(fh):
                found.setdefault(e["study_label"], []).append(tuple(e[c] for c in numbers))
    for name in NEW:
        for r in rows(name):
            label = r["trial"] and r["study"] or r["study"]
            given = tuple(r.get(c, "") for c in numbers)
            candidates = found.get(label) or found.get(label.rsplit(" (", 1)[0], [])
            assert any(
                all(g == "" or g == e for g, e in zip(given, cand, strict=True)) for cand in candidates
            ), (name, r["study"])


def test_the_readme_lists_every_shipped_set():
    readme = (ROOT / "README.md").read_text()
    table = readme.split("### The shipped study sets")[1].split("\n\n")[1]
    assert sorted(line.split("`")[1] for line in table.splitlines()[2:]) == SETS


def test_at_least_four_sets_pool_three_studies_or_more():
    def k_of(name):
        try:
            return metamg.pool(STUDIES / f"{name}.csv").result.k
        except InputError:  # nothing could be pooled
            return 0

    k = {name: k_of(name) for name in SETS}
    big = sorted(n for n, v in k.items() if v >= 3)
    assert big == [
        "antenatal_magnesium_cerebral_palsy",
        "antenatal_magnesium_paediatric_death",
        "iv_magnesium_mi_mortality",
        "magnesium_acute_asthma",
    ]
    assert (k["iv_magnesium_mi_mortality"], k["magnesium_acute_asthma"]) == (17, 5)


# -- the figures of the source papers ---------------------------------------------------------


def test_cerebral_palsy_common_effect_pool_is_crowther_2017s_figure():
    path = STUDIES / "antenatal_magnesium_cerebral_palsy.csv"
    fe = metamg.pool(path, method="FE", ci_method="wald")
    # Crowther 2017, Table 6: RR 0.68 (0.54 to 0.87); metafor 3.8-1, rma(method="FE") on these
    # five rows: 0.6822 (0.5367 to 0.8671)
    assert [round(x, 2) for x in natural(fe)] == [0.68, 0.54, 0.87]
    assert natural(fe) == pytest.approx((0.6822, 0.5367, 0.8671), abs=5e-5)
    ap = appraise(path)  # the report shows it, named with its model
    assert "- **Common-effect model**: RR 0.68 (95% CI 0.54 to 0.87), p = 0.002." in story(ap)
    notes = read_metadata(path).notes
    assert "inverse-variance common-effect pool" in notes and "RR 0.68 (95% CI 0.54 to" in notes


def test_paediatric_death_is_a_separate_set_with_crowther_2017s_figure():
    path = STUDIES / "antenatal_magnesium_paediatric_death.csv"
    fe = metamg.pool(path, method="FE", ci_method="wald")
    assert [round(x, 2) for x in natural(fe)] == [1.03, 0.91, 1.17]  # Crowther 2017, Table 5
    cp = rows("antenatal_magnesium_cerebral_palsy")
    death = rows("antenatal_magnesium_paediatric_death")
    assert all("cerebral palsy" in r["outcome"] for r in cp if not r["exclusion_reason"])
    assert all("death" in r["outcome"] for r in death if not r["exclusion_reason"])


def test_eclampsia_prevention_two_trials_common_effect():
    fe = metamg.pool(STUDIES / "magnesium_eclampsia_prevention.csv", method="FE", ci_method="wald")
    assert fe.result.k == 2 and [round(x, 2) for x in natural(fe)] == [0.40, 0.28, 0.57]
    inclusion = read_metadata(STUDIES / "magnesium_eclampsia_prevention.csv").inclusion
    assert "two of the six trials" in inclusion


# -- like with like ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name,comparator",
    [
        ("magnesium_eclampsia_prevention", "placebo"),
        ("magnesium_eclampsia_vs_diazepam", "diazepam"),
        ("magnesium_eclampsia_vs_phenytoin", "phenytoin"),
    ],
)
def test_each_comparator_is_its_own_analysis(name, comparator):
    pooled = [r for r in rows(name) if not r["exclusion_reason"]]
    assert pooled and all(comparator in r["comparator"] for r in pooled)
    others = {"placebo", "diazepam", "phenytoin"} - {comparator}
    assert not any(o in r["comparator"] for r in pooled for o in others)


def test_the_3mg_trial_is_one_comparison_by_the_combine_rule():
    a = metamg.pool(STUDIES / "magnesium_acute_asthma.csv")
    assert a.result.k == 5 and "3Mg trial 2013" in a.effects.studies
    i = a.effects.studies.index("3Mg trial 2013")
    d = a.effects.data
    assert (d["ai"][i], d["n1i"][i], d["ci"][i], d["n2i"][i]) == (285 + 261, 394 + 332, 281, 358)
    assert [n.rule for n in a.effects.notes] == ["multi_arm.combined"]
    assert "`combine`" in read_metadata(STUDIES / "magnesium_acute_asthma.csv").inclusion
    # the discharge outcome is not pooled with admissions
    reasons = {r["study"]: r["exclusion_reason"] for r in rows("magnesium_acute_asthma")}
    assert reasons["Ciarallo 1996"].startswith("discharge home") and reasons["Ciarallo 2000"]


# -- the extended sets and the audit's corrections --------------------------------------------


def test_mi_set_is_egger_2001_and_magic_2002():
    mi = rows("iv_magnesium_mi_mortality")
    counts = ("events_treatment", "n_treatment", "events_control", "n_control")
    with open(CASES_DIR / "egger2001.csv", newline="", encoding="utf-8") as fh:
        egger = list(csv.DictReader(fh))
    assert [(r["study"], *(r[c] for c in counts)) for r in mi[:16]] == [
        (e["study"], *(e[c] for c in counts)) for e in egger
    ]
    magic = mi[16]
    assert (magic["study"], magic["year"], *(magic[c] for c in counts)) == (
        "MAGIC 2002",
        "2002",
        "475",
        "3113",
        "472",
        "3100",
    )
    a = metamg.pool(STUDIES / "iv_magnesium_mi_mortality.csv")
    assert a.result.k == 17 and a.effects.studies[-1] == "MAGIC 2002"
    ap = appraise(STUDIES / "iv_magnesium_mi_mortality.csv")
    assert ap.cumulative.rows[-1].study == "MAGIC 2002"  # the cumulative analysis ends past 2002


@pytest.mark.parametrize(
    "trial,li",
    [
        ("Rasmussen 1986", "4/56 vs 14/74"),
        ("Smith 1986", "2/92 vs 7/93"),
        ("Singh 1990", "6/81 vs 11/81"),
        ("Shechter 1991", "2/21 vs 4/25"),
        ("Shechter 1995", "4/96 vs 17/98"),
        ("LIMIT-2 1992", "90/1150 vs 118/1150"),
    ],
)
def test_mi_records_where_dat_li2007_disagrees_and_which_is_used(trial, li):
    row = by_study("iv_magnesium_mi_mortality")[trial]
    assert "dat.li2007 (metadat 1.2-0) gives" in row["notes"] and li in row["notes"]
    assert "the Egger 2001 numbers are used here" in row["notes"]
    notes = read_metadata(STUDIES / "iv_magnesium_mi_mortality.csv").notes
    assert li in notes and "The Egger 2001 numbers are used" in notes


def test_audit_corrections_are_recorded():
    periop = by_study("magnesium_perioperative_opioids")
    for s in ("Albrecht 2013 (pain at rest at 24 h)", "Albrecht 2013 (pain on movement at 24 h)"):
        assert periop[s]["derived_fields"].startswith("effect_estimate sign") and (
            periop[s]["evidence_status"] == "derived"
        )
    facchinetti = by_study("magnesium_anxiety")["Facchinetti 1991 (PMS trial; Boyle 2017 ref 88)"]
    assert "N = 28" in facchinetti["notes"] and "32 women were randomised" in facchinetti["notes"]
    supakatisant = by_study("magnesium_tolerability")["Supakatisant 2015"]
    assert "only with 43 per arm" in supakatisant["notes"]
    mi = by_study("iv_magnesium_mi_mortality")
    assert "118/1157 is 10.2%, not 10.3%" in mi["LIMIT-2 1992"]["notes"]
    isis = mi["ISIS-4 1995"]
    assert (
        isis["evidence_status"] == "secondary-source" and "stop before the magnesium result" in isis["notes"]
    )
    gok = by_study("magnesium_dysmenorrhoea")["Gök 2022"]
    assert (gok["pmid"], gok["doi"]) == ("36600872", "10.7759/cureus.32028")
    assert gok["source"].startswith("Gök S, Gök B.")


def test_perioperative_set_adds_one_trial_and_names_three_waiting_for_group_sizes():
    a = metamg.pool(STUDIES / "magnesium_perioperative_opioids.csv")
    assert a.effects.studies == (
        "Seyhan 2006",
        "Anesth Pain Med (Seoul) 2022 trial (Mashhad; first author not captured)",
    )
    waiting = [
        r["study"]
        for r in rows("magnesium_perioperative_opioids")
        if "poolable once" in r["exclusion_reason"]
    ]
    assert len(waiting) == 3
    inclusion = read_metadata(STUDIES / "magnesium_perioperative_opioids.csv").inclusion
    assert "Three more trials" in inclusion and "Benevides 2021" in inclusion


def test_depression_set_says_its_group_sizes_come_from_a_secondary_page():
    r = by_study("magnesium_depression")["Rajizadeh 2017"]
    assert r["evidence_status"] == "secondary-source" and "clinician's summary page" in r["notes"]
    assert metamg.pool(STUDIES / "magnesium_depression.csv").measure.name == "SMD"


# -- caveats show in the reports and in GRADE ---------------------------------------------------


@pytest.mark.slow
def test_caveats_show_in_the_reports_and_grade_reflects_them(tmp_path):
    from metamg.api import write_report

    af = Path(write_report(STUDIES / "magnesium_postoperative_af.csv", tmp_path).path).read_text()
    assert "**2 of the 2 pooled studies have numbers not verified" in af
    assert "Alternate (quasi-random) allocation; not blinded." in af
    assert "Derived, not read: events\\_treatment, events\\_control (9% and 23% of 110" in af
    assert "Derived, not read: events\\_control (the stored excerpt stops after" in af
    assert "| Zangrillo 2005 | 2 | abstract | comparator in doubt:" in af
    assert "| Risk of bias | **very serious** (the user's judgement) |" in af
    assert "Certainty of the evidence: ⊕◯◯◯ Very low" in af
    cramps = Path(write_report(STUDIES / "magnesium_leg_cramps_pregnancy.csv", tmp_path).path).read_text()
    assert "Derived, not read: events\\_treatment, events\\_control (86.0% x 43 = 37.0" in cramps
    assert "**no study is left to pool**" in cramps  # verified numbers only
    assert "| Risk of bias | **serious** (the user's judgement) | the counts were derived" in cramps
    cp = Path(write_report(STUDIES / "antenatal_magnesium_cerebral_palsy.csv", tmp_path).path).read_text()
    assert "- **Common-effect model**: RR 0.68 (95% CI 0.54 to 0.87), p = 0.002." in cp


def test_every_new_claim_is_traceable():
    for name in NEW:
        meta = read_metadata(STUDIES / f"{name}.csv")
        assert meta.claims, name
        for c in meta.claims:
            assert c.made_in and (c.primary_source or not c.primary_source_found), (name, c.id)
            if c.implied_effect is not None:
                assert c.implies and math.isfinite(c.implied_effect), (name, c.id)
        assert meta.grade.judgement("indirectness") is not None, name
