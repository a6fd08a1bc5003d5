"""Every list of names in metamg.vocabulary is the list its implementation knows, and the CLI,
the metadata and the templates offer exactly those names."""

import ast
from pathlib import Path

import click

from metamg import vocabulary as V
from metamg.cli import main
from metamg.effects.escalc import CC_TO
from metamg.effects.measures import DEFAULT_MEASURE, MEASURES
from metamg.effects.multiarm import HOW
from metamg.io import metadata
from metamg.io.schema import DATA_TYPES
from metamg.io.templates import DATA_COLUMNS
from metamg.models.profiles import PROFILES
from metamg.models.tau2 import TAU2_ESTIMATORS

VOCABULARY = Path(V.__file__)


def test_vocabulary_imports_nothing():
    tree = ast.parse(VOCABULARY.read_text(encoding="utf-8"))
    imports = [n for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))]
    assert [i.module for i in imports] == ["__future__"]


def test_each_list_is_what_its_registry_implements():
    assert set(V.MEASURES) == set(MEASURES)
    assert set(V.DATA_TYPES) == set(DATA_TYPES) == set(DEFAULT_MEASURE)
    assert {m.data_type for m in MEASURES.values()} == set(V.DATA_TYPES)
    assert set(V.TAU2_ESTIMATORS) == set(TAU2_ESTIMATORS)
    assert set(V.PROFILES) == set(PROFILES) and V.DEFAULT_PROFILE in PROFILES
    assert {p.method for p in PROFILES.values()} <= set(V.METHODS)
    assert {p.ci_method for p in PROFILES.values()} <= set(V.CI_METHODS)
    assert set(V.CONTINUITY_RULES) == set(CC_TO)
    assert set(V.MULTI_ARM_RULES) == set(HOW)
    assert set(V.TEMPLATE_TYPES) == set(DATA_COLUMNS)
    assert set(V.VERIFIED_STATUSES) <= set(V.EVIDENCE_STATUSES)


def test_every_method_pools():
    import metamg
    from tests.conftest import CASES_DIR

    for method in V.METHODS:
        measure = "OR" if method in V.TABLE_METHODS else "RR"
        a = metamg.pool(CASES_DIR / "bcg.csv", measure=measure, method=method, ci_method="wald")
        expected = "FE" if method in V.COMMON_EFFECT else "DL" if method == "MH-DL" else method
        assert a.result.method == expected, method


def _choices(command, option):
    cmd = main.commands[command]
    param = next(p for p in cmd.params if option in getattr(p, "opts", ()))
    assert isinstance(param.type, click.Choice)
    return tuple(param.type.choices)


def test_the_cli_offers_the_vocabulary():
    assert _choices("pool", "--measure") == V.MEASURES
    assert _choices("pool", "--method") == V.METHODS
    assert _choices("pool", "--ci") == V.CI_METHODS
    assert _choices("pool", "--pi") == V.PI_RULES
    assert _choices("pool", "--profile") == V.PROFILES
    assert _choices("pool", "--cc-to") == V.CONTINUITY_RULES
    assert _choices("pool", "--multi-arm") == V.MULTI_ARM_RULES
    assert _choices("new", "--type") == V.TEMPLATE_TYPES
    assert _choices("report", "--measure") == V.MEASURES  # every pooling command has them


def test_the_metadata_accepts_the_vocabulary():
    assert metadata.MEASURE_NAMES == V.MEASURES and metadata.PROFILE_NAMES == V.PROFILES
    assert metadata.GRADE_DOMAINS == V.GRADE_DOMAINS and metadata.GRADE_RATINGS == V.GRADE_RATINGS
    assert metadata.DESIGNS == V.DESIGNS and metadata.DIRECTIONS == V.CLAIM_DIRECTIONS
