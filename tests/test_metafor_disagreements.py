"""metamg's side of the deliberate differences in tests/reference/DISAGREEMENTS.md that the other
test_metafor_* files do not already cover."""

import io
import json
from pathlib import Path

import pandas as pd
import pytest

import metamg
from metamg.errors import InputError

pytestmark = pytest.mark.reference

REF = json.loads(
    (Path(__file__).parent / "reference" / "metafor_extra" / "blank_row.json").read_text(encoding="utf-8")
)


def test_partly_blank_row_is_refused_where_metafor_drops_it(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_text(REF["csv"])
    with pytest.raises(InputError) as exc:
        metamg.pool(path, measure="RR", method="REML", ci_method="wald")
    problem = exc.value.problems[0]
    assert (problem.line, problem.column) == (3, "events_treatment") and "missing value" in problem.message
    # what metafor did instead: the other three studies, with a warning
    assert any("omitted" in w for w in REF["warnings"])
    rest = pd.read_csv(io.StringIO(REF["csv"])).dropna()
    reml = metamg.pool(rest, measure="RR", method="REML", ci_method="wald").result
    assert (reml.k, reml.estimate, reml.se) == (
        REF["reml"]["k"],
        pytest.approx(REF["reml"]["estimate"], rel=1e-6),
        pytest.approx(REF["reml"]["se"], rel=1e-6),
    )
    mh = metamg.pool(rest, measure="RR", method="MH").result
    assert (mh.k, mh.estimate) == (REF["mh"]["k"], pytest.approx(REF["mh"]["estimate"], rel=1e-10))
