import os

import pytest
from hypothesis import settings

# Re-exported: the test modules import these from tests.conftest (new ones use tests.helpers).
from tests.helpers import CASES_DIR, case_ids, load_case, run_cli

# CI replays the same examples on every run (METAMG_HYPOTHESIS=ci in .ci/run), so that a red CI
# means a change broke something; local runs draw new examples and keep exploring.
settings.register_profile("ci", derandomize=True, print_blob=True)
settings.load_profile(os.environ.get("METAMG_HYPOTHESIS", "default"))

__all__ = ["CASES_DIR", "case_ids", "load_case", "run_cli"]


def pytest_collection_modifyitems(items):
    """Every hypothesis property test is ``slow`` (each runs many examples): ``-m "not slow"``
    leaves them out. Other slow tests carry the marker themselves."""
    for item in items:
        if getattr(getattr(item, "obj", None), "is_hypothesis_test", False):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(autouse=True)
def _internal_errors_show_their_traceback(request, monkeypatch):
    """METAMG_DEBUG=1 for every test (and the subprocesses it starts), so that a bug of ours
    surfaces as a traceback rather than the one-line "internal error" message users get.
    Tests of that message are marked ``without_debug``."""
    if request.node.get_closest_marker("without_debug"):
        monkeypatch.delenv("METAMG_DEBUG", raising=False)
    else:
        monkeypatch.setenv("METAMG_DEBUG", "1")


@pytest.fixture
def cli():
    return run_cli
