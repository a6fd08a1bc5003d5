import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from metamg.cli import main

CASES_DIR = Path(__file__).parent / "reference" / "cases"


def load_case(case_id):
    return json.loads((CASES_DIR / f"{case_id}.json").read_text(encoding="utf-8"))


def case_ids():
    return sorted(p.stem for p in CASES_DIR.glob("*.json"))


def run_cli(*args):
    """Run the CLI in-process; returns (exit_code, stdout, stderr)."""
    result = CliRunner().invoke(main, [str(a) for a in args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def cli():
    return run_cli
