"""How the magnesium study sets were made from ../shared (run once by a curator; not by CI).

Every number is copied from the evidence CSVs unchanged; this script only renames columns,
maps the evidence folder's confidence/source type to metamg's evidence_status, gives repeated
labels a distinguishing suffix, names the arms of multi-arm trials, and records for every
candidate study why it is or is not pooled (the DECISIONS below). Re-running it must reproduce
the committed CSVs byte for byte:  python studies/curation/from_evidence.py ../shared/evidence

Three sources:

* ``../shared/evidence/*.csv``: the first seven topic sets (DECISIONS);
* ``../shared/evidence/more/*.csv``: the rows found later (its README.md), which extend two of
  those sets (MORE_ROWS) and make the new ones (NEW_SETS), one set per comparison and outcome;
* ``../shared/reference/cases/egger2001.csv`` (R metadat 1.2-0, dat.egger2001) with MAGIC 2002
  from ``more/mi_mortality.csv``: the myocardial infarction set (``mi_set``).

The audit of the shipped numbers (``more/AUDIT.md``) found none wrong; what it asked to be
recorded is applied on top of the evidence rows by CORRECTIONS, each saying where it comes from.
"""

import csv
import io
import os
import re
import sys
from dataclasses import dataclass, field

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.dirname(HERE)

RAW = {
    "binary": ["events_treatment", "n_treatment", "events_control", "n_control"],
    "continuous": [
        "mean_treatment",
        "sd_treatment",
        "n_treatment",
        "mean_control",
        "sd_control",
        "n_control",
    ],
}
MEASURE_CODES = {
    "mean difference": "MD",
    "weighted mean difference": "MD",
    "relative risk": "RR",
    "risk difference": "RD",
    "risk difference (Mg minus control)": "RD",
    "OR": "OR",
    "adjusted mean difference vs placebo": "MD",
    "net difference in change, points": "MD",
    "effect size (standardised)": "SMD",
    "difference in change (Mg+B6 minus Mg), points": "MD",
    # names used in ../shared/evidence/more
    "risk ratio": "RR",
    "odds ratio": "OR",
    "odds ratio (random effects)": "OR",
    "standardised mean difference": "SMD",
}

REVIEW = "review-level result: not pooled with trials (a review's estimate already contains them)"

# topic -> (file name, data type, {(label, occurrence): reason or None to pool}, {label: arm names})
DECISIONS = {
    "anxiety": (
        "magnesium_anxiety",
        "continuous",
        {
            ("Boyle 2017", 0): "systematic review without a pooled estimate (vote count only); " + REVIEW,
            (
                "Caillard (year not shown in source; Boyle 2017 ref 60)",
                0,
            ): "magnesium given with vitamin B6 (its own effect cannot be separated); per-arm n not "
            "reported (N = 93 in total); HAM-A, not GAD-7",
            (
                "Bourgeois (year not shown in source; Boyle 2017 ref 74)",
                0,
            ): "active comparator (lorazepam), no placebo arm; no numbers reported",
            (
                "Scharbach (year not shown in source; Boyle 2017 ref 75)",
                0,
            ): "active comparator (lorazepam), no placebo arm; no outcome numbers reported",
            (
                "Rouillon (year not shown in source; Boyle 2017 ref 59)",
                0,
            ): "active comparator (buspirone), no placebo arm; no outcome numbers reported",
            ("Hanus 2004", 0): "herbal extracts + magnesium (magnesium's effect cannot be separated); "
            "placebo change and SDs not retrieved (abstract cut off)",
            ("De Souza 2000", 0): "premenstrual symptoms on an ordinal diary; no effect numbers reported",
            (
                "Facchinetti 1991 (PMS trial; Boyle 2017 ref 88)",
                0,
            ): "compares cycles within one group (magnesium after placebo), not randomised arms; "
            "arm sizes not given",
            ("Walker (year not shown in source; Boyle 2017 ref 89)", 0): "no numbers reported",
            ("Pouteau 2018", 0): "both arms take magnesium: estimates the added effect of vitamin B6, "
            "not magnesium against placebo",
            ("Pouteau 2018", 1): "both arms take magnesium; within-arm percentages only",
            ("Noah 2021", 0): "post-hoc analysis of Pouteau 2018 (magnesium + B6 vs magnesium); "
            "numbers not retrieved",
            ("Noah 2022", 0): "multi-ingredient product (magnesium cannot be separated); standardised "
            "effect on DASS-42 stress, not GAD-7",
            ("Tarleton 2017", 0): None,
            ("Saba 2022", 0): "HADS, not GAD-7; means and SDs not reported in the source table",
            ("Kovacevic 2017", 0): "uncontrolled cohort (no comparison group)",
            ("Gendle 2015", 0): "no numbers retrieved (null result reported, p = 0.69)",
            ("Carroll 2000", 0): "multivitamin (magnesium cannot be separated); no numbers retrieved",
            ("Rawji 2024", 0): "systematic review without a meta-analysis; " + REVIEW,
        },
        {},
    ),
    "migraine": (
        "magnesium_migraine",
        "binary",
        {
            ("Peikert 1996", 0): "attack frequency given only as % reduction without SDs; responder "
            "counts not in the abstract",
            ("Pfaffenrath 1996", 0): None,
            ("Taubert 1994", 0): "no numbers in the abstract",
            ("Koseoglu 2008", 0): "results given as post/pre ratios without group summaries",
            ("Facchinetti 1991 (menstrual migraine)", 0): "no numbers recorded (secondary sources "
            "disagree on N and p-values)",
            ("Wang 2003", 0): "results cut off in every stored copy of the abstract",
            ("Mahdavi 2009", 0): "responder counts not given (p-values only); comparator is routine "
            "treatment and randomisation is not described",
            ("Karimi 2019 (as cited)", 0): "active comparator (valproate), no placebo",
            ("Chiu 2016", 0): "pooled OR without a confidence interval in the abstract; " + REVIEW,
            ("Chiu 2016", 1): "acute intravenous treatment, not prophylaxis; " + REVIEW,
            ("von Luckner 2018", 0): "systematic review without a pooled estimate; " + REVIEW,
            ("Choi 2014", 0): "acute intravenous treatment, not prophylaxis; " + REVIEW,
        },
        {},
    ),
    "dysmenorrhoea": (
        "magnesium_dysmenorrhoea",
        "binary",
        {
            ("Pattanittum 2016 (Cochrane CD002124.pub2)", 0): "this review does not assess magnesium",
            (
                "Proctor 2001 (Cochrane CD002124, earlier version)",
                0,
            ): "magnesium results not retrieved (abstract cut off); " + REVIEW,
            ("Seifert 1989", 0): "placebo group's responders not given (21/25 on magnesium, from a "
            "health-website summary)",
            ("Fontana-Klaiber 1990", 0): "no numbers reported",
            (
                "Parma Mg pidolate series (author not shown in source; possibly Benassi 1992)",
                0,
            ): "uncontrolled before-after series",
            ("Charandabi 2017", 0): "calcium + magnesium combination (magnesium cannot be separated); "
            "mean difference in pain, not a responder outcome",
            ("Nezamivand-chegini 2022", 0): "numbers not retrieved (abstract cut off before them)",
            (
                "Cureus 2022 PD trial (first author not captured)",
                0,
            ): "active comparator (oral contraceptive), no placebo",
        },
        {},
    ),
    "fibromyalgia": (
        "magnesium_fibromyalgia",
        "continuous",
        {
            ("Bagis 2013", 0): "no placebo arm (comparisons with amitriptyline); no numbers in the abstract",
            ("Russell 1995", 0): "results not retrieved; magnesium with malic acid",
            ("Macian 2022", 0): "numbers given for stress, not pain; arm sizes not retrieved",
            ("Engen 2015", 0): "uncontrolled feasibility study (transdermal magnesium)",
        },
        {},
    ),
    "neuropathic_pain": (
        "magnesium_neuropathic_pain",
        "continuous",
        {
            ("Yousef 2013", 0): "placebo SD at 6 months not retrieved (placebo means come from a "
            "news-digest summary)",
            ("Pickering 2011", 0): "no numbers in the abstract (no difference from placebo stated)",
            ("Brill 2002", 0): "acute infusion crossover; no numbers in the abstract",
            ("Kim 2015", 0): "active comparator (ketamine), no placebo; responder counts from a blog",
            (
                "Fischer (CRPS-1 IV Mg RCT; year not shown in retrieved record)",
                0,
            ): "no numbers in the record (no difference from placebo stated)",
            ("Collins 2009", 0): "effectively uncontrolled (placebo patients not analysed)",
            ("Bayram 2021", 0): "acute low back pain with open-label drug comparators, not chronic or "
            "neuropathic pain",
            ("Park 2020", 0): "systematic review without a pooled estimate; " + REVIEW,
            ("USUHS technical report 1999 (DTIC AD1012239)", 0): "results not in the retrieved abstract",
        },
        {},
    ),
    "perioperative_pain": (
        "magnesium_perioperative_opioids",
        "continuous",
        {
            ("Albrecht 2013", 0): "pooled result of 25 trials that overlap with the trials here; " + REVIEW,
            ("Albrecht 2013", 1): "pain at rest, a different outcome; " + REVIEW,
            ("Albrecht 2013", 2): "pain on movement, a different outcome; " + REVIEW,
            ("De Oliveira 2013", 0): "pain at rest, a different outcome; " + REVIEW,
            ("De Oliveira 2013", 1): "pain at rest, a different outcome; " + REVIEW,
            ("De Oliveira 2013", 2): "pain on movement, a different outcome; " + REVIEW,
            ("De Oliveira 2013", 3): "pooled result of 20 trials that overlap with the trials here; "
            + REVIEW,
            ("Lysakowski 2007", 0): "shivering, a different outcome; " + REVIEW,
            ("Choi 2021", 0): "umbrella review; numbers not retrieved; " + REVIEW,
            ("Seyhan 2006", 0): None,
            ("Seyhan 2006", 1): None,
            ("Seyhan 2006", 2): None,
            ("Koinig 1998", 0): "per-arm n not stated (46 in total)",
            ("Tramer 1996", 0): "opioid consumption numbers not in the abstract",
            ("Ryu 2008", 0): "opioid consumption numbers not in the abstract",
            ("Taheri 2015", 0): "pethidine consumption numbers not in the stored abstract",
            ("Olgun 2012", 0): "postoperative morphine result cut off in the stored excerpt",
            ("Shariat Moharari 2014", 0): "results not in the retrieved excerpt",
        },
        {"Seyhan 2006": ["40 mg/kg bolus", "bolus + 10 mg/kg/h", "bolus + 20 mg/kg/h"]},
    ),
    "tolerability": (
        "magnesium_tolerability",
        "binary",
        {
            ("Peikert 1996", 0): "placebo adverse-event rate not given in the abstract",
            ("Pfaffenrath 1996", 0): "adverse-event figures cut off in every stored copy",
            ("Pouteau 2018", 0): "both arms take magnesium; per-arm denominators not given",
            ("Supakatisant 2015", 0): "no side-effect counts published (only 'not significantly different')",
            ("Schutten 2022", 0): "adverse events not split by arm; compares salts (no glycinate arm)",
            (
                "Dickinson 2006 (Cochrane, hypertension; as tabulated in Adv Nutr 2023 Table 3)",
                0,
            ): "pooled result of 12 trials; " + REVIEW,
            ("Baker 2009 (as tabulated in Adv Nutr 2023 Table 3)", 0): "no counts reported",
            ("Choi 2014", 0): "intravenous magnesium for acute migraine; " + REVIEW,
            ("Tarleton 2017", 0): "single-arm adherence figure (83% by pill count), no comparison",
            ("Macian 2022", 0): "secondary summary only (about 30% in both arms, no counts)",
            ("De Souza 2000", 0): "adverse events were not asked for",
            ("Collins 2009", 0): "intravenous, uncontrolled pilot",
        },
        {},
    ),
}

REVIEW_OF = "review-level result of {}: not pooled with trials (a review's estimate already contains them)"
PER_ARM_N = "per-arm n not stated ({}): poolable once the group sizes are read in the full text"

# Rows of ../shared/evidence/more that extend a set made from DECISIONS:
# topic -> (file in more/, {(label, occurrence): reason or None to pool})
MORE_ROWS = {
    "perioperative_pain": (
        "perioperative_pain",
        {
            ("Anesth Pain Med (Seoul) 2022 trial (Mashhad; first author not captured)", 0): None,
            ("Acta Anaesthesiol Scand 2009;53:1088 trial (first author not captured)", 0): PER_ARM_N.format(
                "60 in total, 'divided into two groups'"
            ),
            (
                "Laparoscopic cholecystectomy tramadol trial (doi 10.1111/j.1399-6576.2008.01816.x)",
                0,
            ): PER_ARM_N.format("83 in total"),
            ("Benevides 2021", 0): PER_ARM_N.format(
                "86 in total; Table 1 of the PMC full text should give them"
            ),
            ("Radical prostatectomy tramadol trial (Eur J Anaesthesiol 2006;23:1055)", 0): "no SDs (means "
            "226 vs 446 mg only)",
            ("Ng 2020 meta-analysis (51 trials)", 0): REVIEW_OF.format("51 trials"),
            ("Peng 2018 systematic review (11 orthopaedic RCTs)", 0): "shivering, a different outcome; "
            + REVIEW,
        },
    ),
}


@dataclass(frozen=True)
class Correction:
    """What the audit (or the later evidence) asks to record on a shipped row: ``row`` replaces
    evidence fields before conversion (so a derivation also sets the status), ``cells`` replaces
    output cells, ``append`` adds a sentence to output cells."""

    row: dict = field(default_factory=dict)
    cells: dict = field(default_factory=dict)
    append: dict = field(default_factory=dict)


AUDIT = "../shared/evidence/more/AUDIT.md"
# (evidence file, label, occurrence) -> Correction
CORRECTIONS = {
    ("perioperative_pain", "Albrecht 2013", 1): Correction(
        row={
            "derived_fields": "effect_estimate sign (restored from the abstract's 'reduced by 4.2 (95% CI "
            "-6.3 to -2.1)', as for the morphine row)"
        },
        append={
            "notes": f"Sign of the estimate restored from 'reduced by', as for the morphine row ({AUDIT}, "
            "discrepancy 3)."
        },
    ),
    ("perioperative_pain", "Albrecht 2013", 2): Correction(
        row={
            "derived_fields": "effect_estimate sign (restored from the abstract's wording of a reduction, "
            "as for the morphine and pain-at-rest rows)"
        },
        append={
            "notes": f"Sign of the estimate restored from the abstract's wording of a reduction, as for "
            f"the morphine row ({AUDIT}, discrepancy 3)."
        },
    ),
    ("anxiety", "Facchinetti 1991 (PMS trial; Boyle 2017 ref 88)", 0): Correction(
        append={
            "where_found": "https://moh-it.pure.elsevier.com/en/publications/oral-magnesium-successfully-"
            "relieves-premenstrual-mood-changes (primary abstract: 32 randomised)",
            "notes": "Two sizes recorded: Boyle 2017 Table 2 gives N = 28, the primary abstract says 32 "
            f"women were randomised ({AUDIT}, discrepancy 4); neither is used (the row is not pooled).",
        },
    ),
    ("tolerability", "Supakatisant 2015", 0): Correction(
        append={
            "notes": "The abstract's efficacy percentages (86.0% vs 60.5%; 69.8% vs 48.8%) reproduce only "
            "with 43 per arm, the numbers randomised, not with the 41 and 39 analysed given here "
            f"({AUDIT}, discrepancy 5)."
        },
    ),
    ("dysmenorrhoea", "Cureus 2022 PD trial (first author not captured)", 0): Correction(
        row={"doi": "10.7759/cureus.32028", "pmid": "36600872"},
        cells={
            "study": "Gök 2022",
            "source": "Gök S, Gök B. Investigation of Laboratory and Clinical Features of Primary "
            "Dysmenorrhea: Comparison of Magnesium and Oral Contraceptives in Treatment. Cureus "
            "2022;14(11):e32028 (prospective case-controlled study with random allocation to 2 treatments)",
        },
        append={
            "where_found": "https://cdn.suppr.wilddata.cn/browses/detail/pubmed/36600872 (authors, PMID)",
            "notes": "Authors identified later as Gök S and Gök B (PMID 36600872; "
            f"../shared/evidence/more/dysmenorrhoea.csv and {AUDIT}, line 35); the label was "
            "'Cureus 2022 PD trial (first author not captured)'.",
        },
    ),
    ("more/postoperative_af", "Kaplan 2003", 0): Correction(
        row={
            "derived_fields": "events_control (the stored excerpt stops after '... in 16 patients': that "
            "these 16 are the saline group is inferred from the sentence, not read)"
        },
    ),
}

# Evidence rows of more/ that belong to no set, and why.
NOT_CURATED = {
    ("preeclampsia_eclampsia", "Duley 2010 Cochrane CD002960.pub2 (vs lytic cocktail, 3 trials)", 0): (
        "magnesium against lytic cocktail: no trial-level row for this comparison, so no set (named in "
        "the notes of the two treatment sets)"
    ),
}

CROWTHER = (
    "Crowther CA, Middleton PF, Voysey M, et al. Assessing the neuroprotective benefits for babies "
    "of antenatal magnesium sulphate: an individual participant data meta-analysis. PLoS Med "
    "2017;14(10):e1002398, Table {table} (trial: {trial})"
)
FETAL_TRIALS = {
    "ACTOMgSO4 (Crowther 2003)": "ACTOMgSO4, JAMA 2003;290:2669",
    "PREMAG (Marret)": "PREMAG, Marret 2006",
    "MAGNET (Mittendorf 2002)": "MAGNET, Mittendorf 2002",
    "MAGPIE (Magpie Trial children follow-up)": "Magpie Trial children's follow-up, 2007",
    "BEAM (Rouse 2008)": "BEAM, NEJM 2008;359:895",
}


@dataclass(frozen=True)
class NewSet:
    """A set made from ../shared/evidence/more: ``rows`` are (file, label, occurrence, reason or
    None to pool), in the set's order; ``trials`` names the trial of each arm of a multi-arm
    trial (label -> trial); ``columns`` adds columns of the curator's (column -> {label: value});
    ``sources`` replaces the citation built from the notes (label -> citation)."""

    dtype: str
    rows: tuple
    trials: dict = field(default_factory=dict)
    columns: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)


def _fetal(occurrence: int, table: int, outcome: str) -> NewSet:
    pooled = tuple(("fetal_neuroprotection", label, occurrence, None) for label in FETAL_TRIALS)
    review = (
        "fetal_neuroprotection",
        "Crowther 2017 IPD meta-analysis (5 trials, pooled)",
        occurrence,
        f"the paper's own pooled {outcome} result of the five trials above; " + REVIEW,
    )
    sources = {label: CROWTHER.format(table=table, trial=trial) for label, trial in FETAL_TRIALS.items()}
    sources[review[1]] = CROWTHER.format(table=table, trial="all five, pooled").replace(
        "(trial: all five, pooled)", "(pooled result)"
    )
    return NewSet("binary", pooled + (review,), sources=sources)


ASTHMA = "acute_asthma"
ECLAMPSIA = "preeclampsia_eclampsia"
CRAMPS = "leg_cramps"
POAF = "postoperative_af"
DISCHARGE = (
    "discharge home from the emergency department, not admission: a different outcome (turning it "
    "into admissions by subtraction would assume that every child not discharged was admitted)"
)

NEW_SETS = {
    "antenatal_magnesium_cerebral_palsy": NewSet(
        "binary",
        _fetal(0, 6, "cerebral palsy").rows
        + (
            (
                "fetal_neuroprotection",
                "Conde-Agudelo 2009 meta-analysis (6 trials)",
                0,
                "six trials, overlapping with the five above; " + REVIEW,
            ),
        ),
        sources=_fetal(0, 6, "cerebral palsy").sources,
    ),
    "antenatal_magnesium_paediatric_death": _fetal(1, 5, "paediatric death"),
    "magnesium_eclampsia_prevention": NewSet(
        "binary",
        (
            (ECLAMPSIA, "Magpie Trial 2002", 0, None),
            (ECLAMPSIA, "Coetzee 1998", 0, None),
            (
                ECLAMPSIA,
                "Magpie Trial 2002 (side effects)",
                0,
                "side effects, a different outcome (the harms of the same trial)",
            ),
            (
                ECLAMPSIA,
                "Magpie Trial 2002 (maternal death)",
                0,
                "maternal death, a different outcome (relative risk only)",
            ),
            (
                ECLAMPSIA,
                "Magpie Trial 2002 (death of the baby)",
                0,
                "death of the baby, a different outcome (denominators not in the abstract)",
            ),
            (
                ECLAMPSIA,
                "Magpie Trial follow-up of women 2007",
                0,
                "death or serious morbidity at 2-3 years, a different outcome, in the 71% of the "
                "selected women who were traced",
            ),
            (
                ECLAMPSIA,
                "Duley 2010 Cochrane CD000025.pub2 (6 trials)",
                0,
                "six trials, two of them the trials above; " + REVIEW,
            ),
        ),
    ),
    "magnesium_eclampsia_vs_diazepam": NewSet(
        "binary",
        (
            (ECLAMPSIA, "Collaborative Eclampsia Trial 1995 (vs diazepam)", 0, None),
            (
                ECLAMPSIA,
                "Duley 2010 Cochrane CD000127.pub2 (vs diazepam, 7 trials)",
                0,
                "seven trials, this one among them; " + REVIEW,
            ),
        ),
    ),
    "magnesium_eclampsia_vs_phenytoin": NewSet(
        "binary", ((ECLAMPSIA, "Collaborative Eclampsia Trial 1995 (vs phenytoin)", 0, None),)
    ),
    "magnesium_acute_asthma": NewSet(
        "binary",
        (
            (ASTHMA, "Skobeloff 1989", 0, None),
            (ASTHMA, "Green 1992", 0, None),
            (ASTHMA, "3Mg trial 2013 (IV arm)", 0, None),
            (ASTHMA, "3Mg trial 2013 (nebulised arm)", 0, None),
            (ASTHMA, "Scarfone 2000", 0, None),
            (ASTHMA, "Schuh 2020 (MagNUM PA)", 0, None),
            (ASTHMA, "Ciarallo 1996", 0, DISCHARGE),
            (ASTHMA, "Ciarallo 2000", 0, DISCHARGE),
        ),
        trials={
            "3Mg trial 2013 (IV arm)": "3Mg trial 2013",
            "3Mg trial 2013 (nebulised arm)": "3Mg trial 2013",
        },
        columns={
            "age_group": {
                "Skobeloff 1989": "adults",
                "Green 1992": "adults",
                "3Mg trial 2013 (IV arm)": "adults",
                "3Mg trial 2013 (nebulised arm)": "adults",
                "Scarfone 2000": "children",
                "Schuh 2020 (MagNUM PA)": "children",
                "Ciarallo 1996": "children",
                "Ciarallo 2000": "children",
            },
            "route": {
                "Skobeloff 1989": "intravenous",
                "Green 1992": "intravenous",
                "3Mg trial 2013 (IV arm)": "intravenous",
                "3Mg trial 2013 (nebulised arm)": "nebulised",
                "Scarfone 2000": "intravenous",
                "Schuh 2020 (MagNUM PA)": "nebulised",
                "Ciarallo 1996": "intravenous",
                "Ciarallo 2000": "intravenous",
            },
            # RoB 2 domain 1 only where the evidence states the allocation: by day, not random
            "rob_d1": {"Green 1992": "high"},
            "rob_overall": {"Green 1992": "high"},
        },
        sources={
            "3Mg trial 2013 (IV arm)": "Goodacre S, et al. Intravenous or nebulised magnesium sulphate "
            "versus standard therapy for severe acute asthma (3Mg trial): a double-blind, randomised "
            "controlled trial. Lancet Respir Med 2013;1:293-300",
            "3Mg trial 2013 (nebulised arm)": "Goodacre S, et al. Intravenous or nebulised magnesium "
            "sulphate versus standard therapy for severe acute asthma (3Mg trial): a double-blind, "
            "randomised controlled trial. Lancet Respir Med 2013;1:293-300",
        },
    ),
    "magnesium_postoperative_af": NewSet(
        "binary",
        (
            (
                POAF,
                "Zangrillo 2005",
                0,
                "comparator in doubt: a 2004 abstract reports the same counts (16/80 vs 18/80, p = 0.9) "
                "for 10 g against 2.5 g of magnesium, i.e. magnesium in both arms; not pooled until the "
                "full text confirms a saline arm",
            ),
            (POAF, "Kaplan 2003", 0, None),
            (POAF, "Bakhsh 2009", 0, None),
            (POAF, "Gu 2012 meta-analysis (7 double-blind trials)", 0, REVIEW_OF.format("7 trials")),
            (POAF, "Miller 2005 meta-analysis (20 trials)", 0, REVIEW_OF.format("20 trials")),
            (POAF, "Chaudhary 2019 meta-analysis (20 RCTs)", 0, REVIEW_OF.format("20 trials")),
        ),
        columns={
            # RoB 2 domain 1 only where the evidence states the allocation: alternate, not random
            "rob_d1": {"Bakhsh 2009": "high"},
            "rob_overall": {"Bakhsh 2009": "high"},
        },
    ),
    "magnesium_leg_cramps": NewSet(
        "continuous",
        (
            (CRAMPS, "Roguin Maor 2017", 0, None),
            (
                CRAMPS,
                "Barna 2021 (MOMH)",
                0,
                "SDs and per-arm numbers not retrieved (mean change -3.4 vs -2.6)",
            ),
            (
                CRAMPS,
                "Garrison Cochrane CD009402 summary of findings (4 trials)",
                0,
                "four trials (review version not confirmed); " + REVIEW,
            ),
        ),
        sources={
            "Garrison Cochrane CD009402 summary of findings (4 trials)": "Garrison SR, et al. Magnesium "
            "for skeletal muscle cramps. Cochrane Database Syst Rev, CD009402 (summary of findings "
            "table; 2012 or 2020 version not confirmed)"
        },
    ),
    "magnesium_leg_cramps_pregnancy": NewSet(
        "binary",
        (
            (CRAMPS, "Supakatisant 2015 (frequency)", 0, None),
            (
                CRAMPS,
                "Supakatisant 2015 (intensity)",
                0,
                "cramp intensity, a second outcome of the same women (pooling both would count them twice)",
            ),
            (
                CRAMPS,
                "Nygaard 2008",
                0,
                "cramp counts without per-arm numbers (45 enrolled, 38 completed), not responders",
            ),
        ),
    ),
    "magnesium_depression": NewSet(
        "continuous",
        (
            ("depression", "Rajizadeh 2017", 0, None),
            (
                "depression",
                "Tarleton 2017 (depression outcome)",
                0,
                "open-label comparison with no treatment, given only as a PHQ-9 mean difference: without "
                "its SDs it cannot be put on this set's standardised scale",
            ),
            (
                "depression",
                "Moabedi 2023 meta-analysis (7 RCTs)",
                0,
                "seven trials (per-trial table not retrieved); " + REVIEW,
            ),
        ),
    ),
}

# Citations where the one built from the notes (citation()) would be empty or carry more than the
# citation: label -> source, for rows of more/.
SOURCES = {
    "Magpie Trial 2002 (side effects)": "Magpie Trial 2002. Lancet 2002;359:1877-90 (randomised "
    "placebo-controlled trial)",
    "Magpie Trial 2002 (maternal death)": "Magpie Trial 2002. Lancet 2002;359:1877-90 (randomised "
    "placebo-controlled trial)",
    "Magpie Trial 2002 (death of the baby)": "Magpie Trial 2002. Lancet 2002;359:1877-90 (randomised "
    "placebo-controlled trial)",
    "Magpie Trial follow-up of women 2007": "Magpie Trial Follow-Up Study Collaborative Group. BJOG 2007 "
    "(follow-up of randomised trial at 2-3 years)",
    "Collaborative Eclampsia Trial 1995 (vs phenytoin)": "Collaborative Eclampsia Trial 1995. Lancet "
    "1995;345:1455-63 (international multicentre randomised trial)",
    "Duley 2010 Cochrane CD000025.pub2 (6 trials)": "Duley 2010. Cochrane Database Syst Rev 2010, "
    "CD000025.pub2 (Cochrane systematic review)",
    "Duley 2010 Cochrane CD000127.pub2 (vs diazepam, 7 trials)": "Duley 2010. Cochrane Database Syst "
    "Rev 2010, CD000127.pub2 (Cochrane systematic review)",
    "Supakatisant 2015 (frequency)": "Supakatisant 2015. Matern Child Nutr 2015;11:139-45 (randomised "
    "double-blind placebo-controlled trial)",
    "Supakatisant 2015 (intensity)": "Supakatisant 2015. Matern Child Nutr 2015;11:139-45 (randomised "
    "double-blind placebo-controlled trial)",
    "Tarleton 2017 (depression outcome)": "Tarleton 2017. Role of magnesium supplementation in the "
    "treatment of depression: a randomized clinical trial. PLoS One 2017 (open-label randomised "
    "crossover trial)",
    "Moabedi 2023 meta-analysis (7 RCTs)": "Moabedi 2023. Front Psychiatry 2023;14:1333261 (systematic "
    "review and meta-analysis)",
    "Gu 2012 meta-analysis (7 double-blind trials)": "Gu 2012. Trials 2012;13:41 (meta-analysis)",
    "Chaudhary 2019 meta-analysis (20 RCTs)": "Chaudhary 2019. J Atr Fibrillation 2019 (meta-analysis)",
    "Ng 2020 meta-analysis (51 trials)": "Ng 2020. Eur J Anaesthesiol 2020;37:212-23 (systematic review "
    "and meta-analysis with trial sequential analysis)",
    "Peng 2018 systematic review (11 orthopaedic RCTs)": "Peng 2018. Medicine 2018;97:e13583 (systematic "
    "review)",
    "Li 2007 Cochrane CD002755.pub2": "Li 2007. Cochrane Database Syst Rev 2007, CD002755.pub2 (Cochrane "
    "systematic review)",
}

SECONDARY = ("blog", "secondary summary", "news", "review table", "web page", "secondary", "advocacy")


def evidence_status(row) -> str:
    if row["derived_fields"].strip():
        return "derived"
    st = row["source_type"].lower()
    if "primary abstract + secondary summary" in st or "thesis chapter" in st:
        return "secondary-source"
    if any(w in st for w in SECONDARY) and "advocacy" not in st:
        return "secondary-source"
    return "abstract"


def citation(row) -> str:
    m = re.match(r"^([^.]*?\b(19|20)\d\d\b[^.]*?)\.(\s|$)", row["notes"])
    cite = m.group(1).strip() if m and (";" in m.group(1) or ":" in m.group(1)) else ""
    return row["study_label"] + (f". {cite}" if cite else "") + f" ({row['design']})"


def header(dtype: str, extra=()) -> list:
    return (
        [
            "study",
            "year",
            "trial",
            "design",
            "population",
            "intervention",
            "salt",
            "dose",
            "duration",
            "comparator",
            "outcome",
            "scale",
        ]
        + RAW[dtype]
        + list(extra)
        + [
            "effect",
            "ci_low",
            "ci_high",
            "ci_level",
            "effect_measure",
            "reported_p",
            "exclusion_reason",
            "source",
            "doi",
            "pmid",
            "where_found",
            "evidence_status",
            "evidence_confidence",
            "source_type",
            "derived_fields",
            "notes",
        ]
    )


def read_rows(path: str) -> list:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def cells_of(r, dtype: str, reason, study: str, trial: str, explain: bool) -> dict:
    """The output cells of evidence row ``r``. With ``explain`` (the rows curated since the
    first sets), a pooled row's own reported effect moves to the notes (a row gives raw data or
    an effect, not both) and a derivation is spelled out in the notes, which the report shows."""
    level = re.match(r"^\s*(\d+(\.\d+)?)", r["ci_level"])
    measure = MEASURE_CODES.get(r["effect_measure"].strip(), "")
    numeric_effect = re.fullmatch(r"-?\d+(\.\d+)?", r["effect_estimate"].strip())
    extra_note = ""
    if r["effect_estimate"].strip() and not numeric_effect:
        extra_note = f" Reported estimates: {r['effect_estimate']}."
    if r["ci_level"].strip() and level and level.group(0).strip() != r["ci_level"].strip():
        extra_note += f" CI level as recorded: '{r['ci_level']}'."
    effect = bool(numeric_effect)
    if explain and reason is None and numeric_effect and all(r[c].strip() for c in RAW[dtype]):
        lvl = level.group(1) if level else "95"
        extra_note += (
            f" Reported in the source: {r['effect_measure']} {r['effect_estimate']} ({lvl}% CI "
            f"{r['ci_lower']} to {r['ci_upper']})."
        )
        effect = False
    if explain and r["derived_fields"].strip():
        extra_note += f" Derived, not read: {r['derived_fields']}."
    cells = {
        "study": study,
        "year": r["year"],
        "trial": trial,
        "design": r["design"],
        "population": r["population"],
        "intervention": r["intervention"],
        "salt": r["salt"],
        "dose": r["dose"],
        "duration": r["duration"],
        "comparator": r["comparator"],
        "outcome": r["outcome"],
        "scale": r["scale"],
        "effect": r["effect_estimate"] if effect else "",
        "ci_low": r["ci_lower"] if effect or not numeric_effect else "",
        "ci_high": r["ci_upper"] if effect or not numeric_effect else "",
        "ci_level": level.group(1) if level and effect and (r["ci_lower"] or r["ci_upper"]) else "",
        "effect_measure": measure if effect and r["effect_estimate"].strip() else "",
        "reported_p": r["p_value"],
        "exclusion_reason": reason or "",
        "source": citation(r),
        "doi": r["doi"],
        "pmid": r["pmid"],
        "where_found": r["where_found"],
        "evidence_status": evidence_status(r),
        "evidence_confidence": r["confidence"],
        "source_type": r["source_type"],
        "derived_fields": r["derived_fields"],
        "notes": (r["notes"] + extra_note).strip(),
    }
    if not effect and not numeric_effect:  # as the first sets: limits kept, level only with an estimate
        cells["ci_level"] = level.group(1) if level and (r["ci_lower"] or r["ci_upper"]) else ""
        cells["effect_measure"] = measure if r["effect_estimate"].strip() else ""
    for col in RAW[dtype]:
        cells[col] = r[col]
    others = [
        f"{c} = {r[c]}"
        for c in dict.fromkeys(RAW["binary"] + RAW["continuous"])
        if c not in RAW[dtype] and r[c].strip()
    ]
    if others:
        cells["notes"] += (
            " Numbers of another data type recorded in the evidence file: " + ", ".join(others) + "."
        )
    return cells


def corrected(key, r: dict, cells: dict | None = None):
    """Row ``r`` (cells None) or its ``cells`` with the CORRECTIONS for ``key`` applied."""
    fix = CORRECTIONS.get(key)
    if fix is None:
        return r if cells is None else cells
    if cells is None:
        return {**r, **fix.row}
    cells = {**cells, **fix.cells}
    for col, text in fix.append.items():
        cells[col] = f"{cells[col]} ; {text}" if col == "where_found" else f"{cells[col]} {text}".strip()
    return cells


def write_table(name: str, head: list, rows: list) -> str:
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(head)
    for cells in rows:
        w.writerow([cells.get(h, "") for h in head])
    path = os.path.join(OUT, f"{name}.csv")
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(out.getvalue())
    return path


def convert(topic: str, src_dir: str) -> str:
    """One of the first seven sets (DECISIONS), with the rows MORE_ROWS adds from more/."""
    name, dtype, decisions, arms = DECISIONS[topic]
    rows = read_rows(os.path.join(src_dir, f"{topic}.csv"))
    seen: dict[str, int] = {}
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["study_label"]] = counts.get(r["study_label"], 0) + 1
    table = []
    for r in rows:
        label = r["study_label"]
        n = seen.get(label, 0)
        seen[label] = n + 1
        if (label, n) not in decisions:
            raise SystemExit(f"{topic}: no decision for {label!r} #{n}")
        reason = decisions[(label, n)]
        trial, study = "", label
        if label in arms:
            trial, study = label, f"{label} ({arms[label][n]})"
        elif counts[label] > 1:
            study = f"{label} ({r['outcome']})"
        key = (topic, label, n)
        cells = cells_of(corrected(key, r), dtype, reason, study, trial, explain=False)
        table.append(corrected(key, r, cells))
    if topic in MORE_ROWS:
        more, extra = MORE_ROWS[topic]
        for (label, n), reason in _pick(src_dir, more, extra).items():
            r = _pick.rows[(more, label, n)]
            cells = cells_of(r, dtype, reason, label, "", explain=True)
            cells["source"] = SOURCES.get(label, cells["source"])
            table.append(cells)
    return write_table(name, header(dtype), table)


def _pick(src_dir: str, topic: str, decisions: dict) -> dict:
    """``decisions`` in file order, each checked to name a row of more/TOPIC.csv; the rows are
    kept in ``_pick.rows`` by (topic, label, occurrence)."""
    seen: dict[str, int] = {}
    for r in read_rows(os.path.join(src_dir, "more", f"{topic}.csv")):
        n = seen.get(r["study_label"], 0)
        seen[r["study_label"]] = n + 1
        _pick.rows[(topic, r["study_label"], n)] = r
    missing = [k for k in decisions if (topic, *k) not in _pick.rows]
    if missing:
        raise SystemExit(f"more/{topic}: no such rows {missing}")
    return decisions


_pick.rows = {}  # type: ignore[attr-defined]


def new_set(name: str, src_dir: str) -> str:
    spec = NEW_SETS[name]
    picked = []
    for topic, label, n, reason in spec.rows:
        _pick(src_dir, topic, {(label, n): reason})
        picked.append((topic, label, n, reason, _pick.rows[(topic, label, n)]))
    counts: dict[str, int] = {}
    for p in picked:
        counts[p[1]] = counts.get(p[1], 0) + 1
    table = []
    for topic, label, n, reason, r in picked:
        key = (f"more/{topic}", label, n)
        study = f"{label} ({r['outcome']})" if counts[label] > 1 else label
        cells = cells_of(
            corrected(key, r), spec.dtype, reason, study, spec.trials.get(label, ""), explain=True
        )
        cells["source"] = spec.sources.get(label, SOURCES.get(label, cells["source"]))
        for col, values in spec.columns.items():
            cells[col] = values.get(label, "")
        table.append(corrected(key, r, cells))
    return write_table(name, header(spec.dtype, spec.columns), table)


def check_coverage(src_dir: str) -> None:
    """Every row of the more/ files a set draws on is in a set or in NOT_CURATED."""
    used = {(t, label, n) for spec in NEW_SETS.values() for t, label, n, _ in spec.rows}
    used |= {(more, *k) for more, decisions in MORE_ROWS.values() for k in decisions}
    topics = {t for t, _, _ in used} | {"mi_mortality"}
    used |= {("mi_mortality", label, 0) for label in MI_MORE}
    for topic in sorted(topics):
        seen: dict[str, int] = {}
        for r in read_rows(os.path.join(src_dir, "more", f"{topic}.csv")):
            n = seen.get(r["study_label"], 0)
            seen[r["study_label"]] = n + 1
            key = (topic, r["study_label"], n)
            if key not in used and key not in NOT_CURATED:
                raise SystemExit(f"more/{topic}: {r['study_label']!r} #{n} is in no set")


# -- intravenous magnesium after myocardial infarction ---------------------------------------

EGGER_SOURCE = (
    "Egger M, Davey Smith G, Altman DG (eds). Systematic Reviews in Health Care: Meta-analysis in "
    "Context. 2nd ed. London: BMJ Books; 2001 (IV magnesium in acute MI, as tabulated there)"
)
EGGER_WHERE = (
    "R package metadat 1.2-0, dataset dat.egger2001 (copied via ../shared/reference/cases/egger2001.csv)"
)
EGGER_NOTE = (
    "deaths / randomised, as tabulated in the secondary source; primary trial report not checked; "
    "DOI and PMID not recorded there"
)
# The same trials in R metadat 1.2-0's dat.li2007 (Li et al., Cochrane 2007), read with R for
# this curation; the disagreements are those of more/AUDIT.md (discrepancy 2) and a few more.
# Egger label -> (Li label, ai, n1i, ci, n2i); None: not in dat.li2007.
LI2007 = {
    "Morton 1984": ("Morton 1984", 1, 40, 2, 36),
    "Rasmussen 1986": ("Rasmussen 1986", 4, 56, 14, 74),
    "Smith 1986": ("Smith 1986", 2, 92, 7, 93),
    "Abraham 1987": ("Abraham 1987", 1, 48, 1, 46),
    "Feldstedt 1988": ("Feldstedt 1991", 10, 150, 8, 148),
    "Shechter 1989": ("Shechter 1990", 1, 50, 9, 53),
    "Ceremuzynski 1989": ("Ceremuzynski 1989", 1, 25, 3, 23),
    "Bertschat 1989": None,
    "Singh 1990": ("Singh 1990", 6, 81, 11, 81),
    "Pereira 1990": None,
    "Shechter 1991": ("Shechter 1991", 2, 21, 4, 25),
    "Golf 1991": None,
    "Thogersen 1991": ("Thogersen 1995", 4, 130, 8, 122),
    "LIMIT-2 1992": ("Woods 1992", 90, 1150, 118, 1150),
    "Shechter 1995": ("Shechter 1995", 4, 96, 17, 98),
    "ISIS-4 1995": ("ISIS-4 1995", 2216, 29011, 2103, 29039),
}
MI_NOTES = {
    "LIMIT-2 1992": "The abstract (PMID 1351547) gives mortality 7.8% vs 10.3%: 90/1159 is 7.8% but "
    "118/1157 is 10.2%, not 10.3% (no stored abstract prints the counts); dat.li2007's 118/1150 is "
    "10.3%, consistent with its denominators being the 99.3% whose 28-day status was known, and "
    f"Egger's the 2,316 randomised ({AUDIT}, discrepancy 1).",
    "ISIS-4 1995": "The stored ISIS-4 abstracts stop before the magnesium result, so these counts "
    "could not be re-found in a primary source: they are the Egger 2001 table's (dat.li2007 has the "
    "same); a CMAJ summary's 6% (SD 3%) increase in the odds agrees with OR 1.06 "
    f"({AUDIT}, line 11).",
}
# more/mi_mortality.csv rows: label -> reason (None: pooled)
MI_MORE = {
    "MAGIC 2002": None,
    "Yavelov 1995": "not in Egger 2001's table, which this set follows, nor in dat.li2007; in-hospital "
    "deaths derived from rounded percentages in an index record of the abstract: poolable once the "
    "paper is read",
    "Li 2007 Cochrane CD002755.pub2": "22 trials by random effects, the trials here among them (its "
    "fixed-effect OR is 0.99, 0.94 to 1.04); " + REVIEW,
}
MI_HEAD = [
    "study",
    "year",
    "events_treatment",
    "n_treatment",
    "events_control",
    "n_control",
    "effect",
    "ci_low",
    "ci_high",
    "ci_level",
    "effect_measure",
    "reported_p",
    "exclusion_reason",
    "source",
    "doi",
    "pmid",
    "where_found",
    "evidence_status",
    "evidence_confidence",
    "source_type",
    "derived_fields",
    "notes",
]


def _li_note(label: str, ai: str, n1: str, ci: str, n2: str) -> str:
    li = LI2007[label]
    if li is None:
        return "Not in dat.li2007."
    li_label, *li_counts = li
    if [int(x) for x in (ai, n1, ci, n2)] == li_counts:
        return "dat.li2007 gives the same counts" + ("." if li_label == label else f", as '{li_label}'.")
    a, b, c, d = li_counts
    return (
        f"dat.li2007 (metadat 1.2-0) gives {li_label}: {a}/{b} vs {c}/{d}; the Egger 2001 numbers are "
        "used here (see the set's notes)."
    )


def mi_set(src_dir: str) -> str:
    egger = read_rows(os.path.join(src_dir, "..", "reference", "cases", "egger2001.csv"))
    table = []
    for r in egger:
        label = r["study"]
        counts = [r[c] for c in RAW["binary"]]
        table.append(
            {
                "study": label,
                "year": r["year"],
                **dict(zip(RAW["binary"], counts, strict=True)),
                "source": EGGER_SOURCE,
                "where_found": EGGER_WHERE,
                "evidence_status": "secondary-source",
                "evidence_confidence": "verbatim-from-table",
                "source_type": "dataset of a published meta-analysis (R metadat)",
                "notes": " ".join(
                    x for x in (EGGER_NOTE + ".", MI_NOTES.get(label, ""), _li_note(label, *counts)) if x
                ),
            }
        )
    _pick(src_dir, "mi_mortality", {(label, 0): reason for label, reason in MI_MORE.items()})
    for label, reason in MI_MORE.items():
        r = _pick.rows[("mi_mortality", label, 0)]
        cells = cells_of(r, "binary", reason, label, "", explain=True)
        cells["source"] = SOURCES.get(label, cells["source"])
        table.append(cells)
    return write_table("iv_magnesium_mi_mortality", MI_HEAD, table)


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(OUT, "..", "..", "shared", "evidence")
    for topic in DECISIONS:
        print(convert(topic, src))
    print(mi_set(src))
    for name in NEW_SETS:
        print(new_set(name, src))
    check_coverage(src)
