"""Every command, given any input, answers 0 (or 1 for a failed check), or 2 with one line per
problem naming the file; never a traceback, never "internal error"."""

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
    "n_treatment",
    "mean_control",
    "sd_control",
    "n_control",
    "year",
    "dose",
    "effect",
    "ci_low",
    "ci_high",
    "trial",
    "exclusion_reason",
    "evidence_status",
    "rob_overall",
]
CELLS = st.one_of(
    st.sampled_from(
        [
            "",
            "0",
            "1",
            "2",
            "5",
            "10",
            "50",
            "100",
            "-1",
            "0.5",
            "0.01",
            "1e-320",
            "1e308",
            "x",
            "nan",
            "low",
            "high",
            "abstract",
            "=1+1",
            "$x$",
            "<b>",
            "A",
            "a",
            " A ",
        ]
    ),
    st.integers(0, 300).map(str),
    st.text(string.printable, max_size=5),
)
COMMANDS = [
    ["forest"],
    ["funnel", "--trimfill"],
    ["sensitivity"],
    ["bias"],
    ["regress", "--mods", "dose"],
    ["regress", "--mods", "year,dose"],
    ["report"],
    ["rob"],
    ["pool", "--by", "dose"],
    ["pool", "--method", "MH"],
    ["pool", "--method", "PETO", "--measure", "OR"],
    ["check"],
]


@st.composite
def study_csv(draw):
    header = draw(st.lists(st.sampled_from(COLUMNS), min_size=2, max_size=8, unique=True))
    if "study" not in header and draw(st.booleans()):
        header = ["study"] + header
    rows = draw(st.lists(st.lists(CELLS, min_size=len(header), max_size=len(header)), min_size=1, max_size=5))
    return (
        "\n".join(
            [",".join(header)]
            + [
                ",".join(
                    c.replace(",", ";").replace("\n", " ").replace("\r", " ").replace('"', "'") for c in r
                )
                for r in rows
            ]
        )
        + "\n"
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=study_csv(),
    command=st.sampled_from(COMMANDS),
    level=st.sampled_from([None, "0.9"]),
    toml=st.sampled_from([None, 'measure = "OR"\n', 'subgroup = "dose"\n', 'title = "$$"\n']),
)
def test_every_command_answers_0_or_2(tmp_path_factory, text, command, level, toml):
    tmp = tmp_path_factory.mktemp("any")
    p = tmp / "s.csv"
    p.write_text(text, encoding="utf-8")
    if toml:
        (tmp / "s.toml").write_text(toml, encoding="utf-8")
    args = [command[0], p, *command[1:]]
    if command[0] in ("forest", "funnel"):
        args += ["-o", tmp / "f.png"]
    if command[0] in ("report",):
        args += ["-o", tmp / "out"]
    if command[0] == "rob":
        args += ["-o", tmp / "r"]
    if level and command[0] != "check":
        args += ["--level", level]
    code, out, err = run_cli(*args)
    assert "Traceback" not in err and "internal error" not in err, err
    assert code in ((0, 1) if command[0] == "check" else (0, 2)), err
    if code == 2:
        for line in err.strip().splitlines():
            assert line.startswith((str(p), str(tmp / "s.toml"))), line
