"""How the topic study sets were made from ../shared/evidence (run once by a curator; not by CI).

Every number is copied from the evidence CSVs unchanged; this script only renames columns,
maps the evidence folder's confidence/source type to metamg's evidence_status, gives repeated
labels a distinguishing suffix, names the arms of multi-arm trials, and records for every
candidate study why it is or is not pooled (the DECISIONS below). Re-running it must reproduce
the committed CSVs byte for byte:  python studies/curation/from_evidence.py ../shared/evidence
"""

import csv
import io
import os
import re
import sys

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


def convert(topic: str, src_dir: str) -> str:
    name, dtype, decisions, arms = DECISIONS[topic]
    with open(os.path.join(src_dir, f"{topic}.csv"), newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    seen: dict[str, int] = {}
    header = (
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
    counts = {}
    for r in rows:
        counts[r["study_label"]] = counts.get(r["study_label"], 0) + 1
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(header)
    for r in rows:
        label = r["study_label"]
        n = seen.get(label, 0)
        seen[label] = n + 1
        if (label, n) not in decisions:
            raise SystemExit(f"{topic}: no decision for {label!r} #{n}")
        reason = decisions[(label, n)]
        trial = ""
        study = label
        if label in arms:
            trial, study = label, f"{label} ({arms[label][n]})"
        elif counts[label] > 1:
            study = f"{label} ({r['outcome']})"
        level = re.match(r"^\s*(\d+(\.\d+)?)", r["ci_level"])
        measure = MEASURE_CODES.get(r["effect_measure"].strip(), "")
        numeric_effect = re.fullmatch(r"-?\d+(\.\d+)?", r["effect_estimate"].strip())
        extra_note = ""
        if r["effect_estimate"].strip() and not numeric_effect:
            extra_note = f" Reported estimates: {r['effect_estimate']}."
        if r["ci_level"].strip() and level and level.group(0).strip() != r["ci_level"].strip():
            extra_note += f" CI level as recorded: '{r['ci_level']}'."
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
            "effect": r["effect_estimate"] if numeric_effect else "",
            "ci_low": r["ci_lower"],
            "ci_high": r["ci_upper"],
            "ci_level": level.group(1) if level and (r["ci_lower"] or r["ci_upper"]) else "",
            "effect_measure": measure if r["effect_estimate"].strip() else "",
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
        w.writerow([cells[h] for h in header])
    path = os.path.join(OUT, f"{name}.csv")
    with open(path, "w", encoding="utf-8", newline="") as fh:
        fh.write(out.getvalue())
    return path


if __name__ == "__main__":
    src = sys.argv[1] if len(sys.argv) > 1 else os.path.join(OUT, "..", "..", "shared", "evidence")
    for topic in DECISIONS:
        print(convert(topic, src))
