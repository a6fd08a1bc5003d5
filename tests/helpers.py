"""Shared test helpers: the reference cases (read once per session) and the in-process CLI.

``tests/conftest.py`` re-exports these names, so ``from tests.conftest import load_case`` keeps
working; new tests import from here.
"""

from __future__ import annotations

import json
import os
from functools import cache
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from metamg.cli import main

TESTS_DIR = Path(__file__).parent
REFERENCE_DIR = TESTS_DIR / "reference"
CASES_DIR = REFERENCE_DIR / "cases"
METAFOR_EXTRA_DIR = REFERENCE_DIR / "metafor_extra"


@cache
def load_json(path: Path | str) -> Any:
    """A JSON file, parsed once per session. The object is shared between tests: treat it as
    read-only (``copy.deepcopy`` it before changing anything, as test_reference_pool does)."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def load_case(case_id: str) -> dict:
    """The metafor reference values of one case (tests/reference/cases/CASE.json); shared, read-only."""
    return load_json(CASES_DIR / f"{case_id}.json")


@cache
def _case_ids() -> tuple[str, ...]:
    return tuple(sorted(p.stem for p in CASES_DIR.glob("*.json")))


def case_ids() -> list[str]:
    """Every reference case, sorted."""
    return list(_case_ids())


def run_cli(*args) -> tuple[int, str, str]:
    """Run the CLI in-process; returns (exit_code, stdout, stderr).

    With METAMG_DEBUG set (every test, unless marked ``without_debug``: see conftest.py) an
    internal error propagates from the command, and is raised here with its own traceback
    instead of being hidden in the CliRunner's result."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    exc = result.exception
    if exc is not None and not isinstance(exc, SystemExit) and os.environ.get("METAMG_DEBUG"):
        raise exc
    return result.exit_code, result.stdout, result.stderr
