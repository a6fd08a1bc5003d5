"""hypothesis throws malformed CSVs at the CLI: it must answer 0 or 2, never a traceback."""

import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_cli

COLUMNS = [
    "study",
    "events_treatment",
    "n_treatment",
    "events_control",
    "n_control",
    "yi",
    "vi",
    "sei",
    "ri",
    "ni",
    "mean_treatment",
    "sd_treatment",
    "mean_control",
    "sd_control",
    "events",
    "n",
    "year",
    "Study",
    " AI ",
    "",
    "effect",
    "ci_low",
    "ci_high",
    "ci_level",
    "p_value",
    "trial",
    "exclusion_reason",
    "evidence_status",
    "rob_d1",
    "rob_d4",
    "rob_overall",
    "ROB_D2",
    "rob_overal",
    "events_treatmnt",
    "dose",
]
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "-1",
            "10",
            "1e308",
            "-0",
            "nan",
            "inf",
            "NaN",
            "0.5",
            "x",
            '"',
            "1,5",
            "\u00e9",
            " 3 ",
            "1e-300",
            "99999999999999999999",
            "low",
            "High",
            "some concerns",
            "unclear",
            "low; high",
        ]
    ),
    st.integers(-5, 200).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(string.printable, max_size=6),
)


@st.composite
def csv_text(draw):
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=0, max_size=8))
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 1), max_size=6))
    sep = draw(st.sampled_from([",", ",", ";", "\t"]))
    lines = [sep.join(header)] + [sep.join(r) for r in rows]
    return "\n".join(lines) + draw(st.sampled_from(["", "\n", "\r\n"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=csv_text(),
    measure=st.sampled_from([None, "OR", "RR", "RD", "SMD", "ROM", "ZCOR", "PLO", "GEN"]),
    method=st.sampled_from([None, "FE", "DL", "REML", "PM", "SJ", "MH", "PETO"]),
    command=st.sampled_from(["pool", "pool", "pool-low-risk", "rob"]),
)
def test_cli_answers_0_or_2_without_traceback(tmp_path, text, measure, method, command):
    p = tmp_path / "h.csv"
    p.write_text(text, encoding="utf-8")
    args = {
        "pool": ["pool", p, "--format", "json"],
        "pool-low-risk": ["pool", p, "--low-risk-only"],
        "rob": ["rob", p, "-o", tmp_path / "r"],
    }[command]
    if measure:
        args += ["--measure", measure]
    if method:
        args += ["--method", method]
    code, out, err = run_cli(*args)
    assert code in (0, 2), err
    assert "Traceback" not in err
    if code == 2:
        assert err.strip() and out == ""
        for line in err.strip().splitlines():
            assert line.startswith(str(p))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=200))
def test_arbitrary_bytes(tmp_path, data):
    p = tmp_path / "b.csv"
    p.write_bytes(data)
    code, out, err = run_cli("pool", p)
    assert code in (0, 2) and "Traceback" not in err
