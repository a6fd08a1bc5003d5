"""``metamg new``: an empty study set (CSV header + commented metadata) ready to fill in.

The header holds the data columns of the chosen type, the RoB 2 columns, ``exclusion_reason``
and the provenance columns that ``metamg check`` asks of every row.
"""

from __future__ import annotations

import os
import re

from metamg.errors import InputError, Problem
from metamg.io import rob
from metamg.io.atomic import write_atomic
from metamg.io.schema import DERIVED_COLUMN, REASON_COLUMN
from metamg.vocabulary import PROVENANCE_COLUMNS

DATA_COLUMNS = {
    "binary": ("events_treatment", "n_treatment", "events_control", "n_control"),
    "continuous": (
        "mean_treatment",
        "sd_treatment",
        "n_treatment",
        "mean_control",
        "sd_control",
        "n_control",
    ),
    # an effect as reported, with its CI; group sizes let the summary count participants
    "effect": ("effect", "ci_low", "ci_high", "ci_level", "n_treatment", "n_control"),
    "generic": ("yi", "sei"),
}
DEFAULT_MEASURE = {"binary": "RR", "continuous": "MD", "generic": "GEN"}
TYPES = tuple(DATA_COLUMNS)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")


def template_header(data_type: str) -> tuple[str, ...]:
    status, notes = PROVENANCE_COLUMNS[-2:]
    return (
        ("study", "year")
        + DATA_COLUMNS[data_type]
        + rob.COLUMNS
        + (REASON_COLUMN,)
        + PROVENANCE_COLUMNS[:-2]
        + (status, DERIVED_COLUMN, notes)
    )


def template_metadata(name: str, data_type: str, measure: str) -> str:
    effect_note = (
        "\n# Effects are given as reported (effect, ci_low, ci_high, ci_level) on the scale of\n"
        "# `measure`: ratios as ratios (e.g. RR 0.75), differences as differences.\n"
        if data_type == "effect"
        else ""
    )
    return f'''# Study-set metadata for {name}.csv: the question, how to analyse it, and GRADE judgements.
# Lines starting with # are comments. Fill in the strings; delete what you do not need.
title = "{name.replace("_", " ").capitalize()}"
# The question: `metamg check` asks for population, intervention, comparator, outcome, inclusion.
population = ""      # who, e.g. "adults with migraine"
intervention = ""    # e.g. "oral magnesium, 400 mg daily"
comparator = ""      # e.g. "placebo"
outcome = ""         # what was measured, and how, e.g. "responders / randomised"
measure = "{measure}"      # OR, RR, RD (binary); MD, SMD, ROM (continuous); GEN (yi/sei)
benefit = "lower"    # "lower" if lower values favour the intervention (deaths), else "higher"
label_left = ""      # forest-plot labels, e.g. "favours magnesium"; blank = from benefit
label_right = ""
profile = "cochrane" # cochrane (REML + HKSJ), metafor (REML + Wald), revman5 (DL + Wald)
inclusion = ""       # which studies are pooled, and why the others are not (give those a reason
                     # in exclusion_reason)
notes = ""
{effect_note}
# GRADE: what the data cannot say. metamg suggests the five domains from the data; a domain
# given here (rating = "not serious", "serious" or "very serious", with its reason) overrides it.
[grade]
design = "randomised"   # or "observational": certainty then starts low
outcome = ""            # short name for the summary-of-findings table, e.g. "death"
intervention = ""       # short name for the plain-language statement, e.g. "magnesium"
# mid = 0.75            # smallest effect that matters (ratio < 1, or a positive difference)
# control_risk = 0.10   # assumed control-group risk (binary); default: median of the studies

# [grade.indirectness]
# rating = "not serious"
# reason = "the trials studied the population, intervention and outcome of the question"

# With fewer than 5 pooled studies the report adds a Bayesian analysis. Ratio measures (OR, RR,
# ROM) have default priors; for MD and SMD state the prior for tau (the spread of true effects,
# on the measure's scale) and why:
# [bayes]
# tau_prior = "halfnormal:SCALE"   # also halfcauchy:SCALE, uniform:LOWER,UPPER, jeffreys,
#                                  # lognormal:MEAN,SD or logt:LOCATION,SCALE (of log tau²)
# mu_prior = "flat"                # or normal:MEAN,SD
# reason = "why this scale fits the outcome"

# A claim to check against the pooled evidence (copy the block for each claim):
# [[claims]]
# id = "short-id"
# text = "Magnesium cuts X by 37%"
# made_in = "where you read it"
# primary_source_found = false
'''


def new_study_set(name: str, data_type: str, directory="studies", measure: str | None = None):
    """Write ``directory/NAME.csv`` (header only) and ``directory/NAME.toml``; never overwrites.

    Returns the two paths written."""
    problems = []
    if not _NAME.match(name):
        problems.append(
            Problem(
                name,
                "a study-set name uses letters, digits, '_', '-' or '.', and starts with a letter or digit",
            )
        )
    if data_type not in DATA_COLUMNS:
        problems.append(Problem(name, f"unknown type {data_type!r}; choose one of " + ", ".join(TYPES)))
    measure = (measure or DEFAULT_MEASURE.get(data_type, "")).upper()
    if data_type == "effect" and not measure:
        problems.append(
            Problem(
                name, "an effect table needs the measure its effects are on (--measure, e.g. RR, OR or MD)"
            )
        )
    if problems:
        raise InputError(problems)
    csv_path = os.path.join(os.fspath(directory), f"{name}.csv")
    toml_path = os.path.join(os.fspath(directory), f"{name}.toml")
    existing = [p for p in (csv_path, toml_path) if os.path.exists(p)]
    if existing:
        raise InputError(
            [
                Problem(p, "already exists; not overwritten (choose another name or delete it first)")
                for p in existing
            ]
        )
    write_atomic(csv_path, ",".join(template_header(data_type)) + "\n")
    write_atomic(toml_path, template_metadata(name, data_type, measure))
    return csv_path, toml_path
