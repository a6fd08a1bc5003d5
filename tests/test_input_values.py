"""Values: numeric bounds (no NaN from floating point, ever), one data type per row, labels
unique up to case and spacing, and data handed over as pandas DataFrames."""

import io
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import metamg
from metamg.effects import compute_effects
from metamg.errors import InputError
from metamg.io import bounds
from metamg.io.schema import read_studies
from tests.conftest import run_cli

BIN = "study,events_treatment,n_treatment,events_control,n_control\n"
CONT = "study,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control\n"


def problems(tmp_path, text, *options):
    p = tmp_path / "s.csv"
    p.write_text(text)
    code, out, err = run_cli("pool", p, *options)
    assert code == 2 and out == "" and "Traceback" not in err, (code, out, err)
    return [line.replace(str(p), "s.csv") for line in err.strip().splitlines()]


# -- bounds -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text,message",
    [
        (BIN + "A,1,1e308,2,10\n", "s.csv:2: n_treatment: must be at most 1e+12 (1e308)"),
        (BIN + "A,1e13,10,2,10\n", "s.csv:2: events_treatment: must be at most 1e+12 (1e13)"),
        (BIN + "A,1,10,2,1e400\n", "s.csv:2: n_control: must be at most 1e+12 (1e400)"),
        (
            "study,yi,vi\nA,0.1,1e-320\nB,0.1,0.1\n",
            "s.csv:2: vi: too small to compute with (at least 1e-40) (1e-320)",
        ),
        (
            "study,yi,vi\nA,0.1,1e-400\nB,0.1,0.1\n",
            "s.csv:2: vi: too small to compute with (it underflows to 0) (1e-400)",
        ),
        (
            "study,yi,vi\nA,1e308,0.1\nB,0.1,0.1\n",
            "s.csv:2: yi: too large to compute with (at most 1e+20 in size) (1e308)",
        ),
        (
            "study,yi,sei\nA,1e-25,0.1\nB,0.1,0.1\n",
            "s.csv:2: yi: too small to compute with (0, or at least 1e-20 in size) (1e-25)",
        ),
        (
            "study,yi,sei\nA,0.1,1e200\nB,0.1,0.1\n",
            "s.csv:2: sei: too large to compute with (at most 1e+20 in size) (1e200)",
        ),
        (
            CONT + "A,1,1e200,10,2,1,10\nB,1,1,10,2,1,10\n",
            "s.csv:2: sd_treatment: too large to compute with (at most 1e+20 in size) (1e200)",
        ),
        (
            CONT + "A,1e300,1,10,2,1,10\nB,1,1,10,2,1,10\n",
            "s.csv:2: mean_treatment: too large to compute with (at most 1e+20 in size) (1e300)",
        ),
    ],
)
def test_values_that_break_floating_point_are_refused_where_they_are(tmp_path, text, message):
    assert problems(tmp_path, text) == [message]


def test_the_sign_rule_comes_before_the_size_rule(tmp_path):
    assert problems(tmp_path, BIN + "A,-1e300,10,2,10\n") == [
        "s.csv:2: events_treatment: must not be negative (-1e+300)"
    ]
    assert problems(tmp_path, "study,yi,vi\nA,0.1,-1e300\nB,0.1,0.1\n") == [
        "s.csv:2: vi: must be greater than 0 (-1e+300)"
    ]


def test_p_values_too_small_to_invert(tmp_path):
    text = "study,effect,p_value\nA,0.5,1e-320\nB,0.7,0.04\n"
    assert problems(tmp_path, text, "--measure", "MD") == [
        "s.csv:2: p_value: too small to compute with (at least 1e-300) (1e-320)"
    ]


def test_effects_beyond_the_models_range_are_refused(tmp_path):
    text = CONT + "A,1e19,1e-19,10,-1e19,1e-19,10\nB,1,1,10,2,1,10\n"
    assert problems(tmp_path, text, "--measure", "SMD") == [
        "s.csv:2: study: SMD for this study: its effect (1.92e+38) is too large to pool (at most 1e+30 in "
        "size); check the numbers and their units (A)"
    ]
    text = CONT + "A,1e-19,1e19,10,1e-19,1e19,10\nB,1,1,10,2,1,10\n"
    assert problems(tmp_path, text, "--measure", "ROM")[0].startswith(
        "s.csv:2: study: ROM for this study: its effect's variance (2e+75) is outside what can be pooled "
        "(1e-60 to 1e+60)"
    )


def test_variances_too_far_apart_are_refused_naming_both_studies(tmp_path):
    assert problems(tmp_path, "study,yi,vi\nA,0.1,1e-10\nB,0.2,1e10\nC,0.3,1\n") == [
        "s.csv:2: study: this study's variance (1e-10) is 1e+20 times smaller than that of B (line 3, "
        "1e+10); variances more than 1e+14 apart cannot be pooled without losing the less precise "
        "studies to rounding: check the numbers and their units (A)"
    ]


def test_bounds_nest():
    low, high = bounds.COMMON_RANGE
    assert bounds.bound_problem("vi", low) is None and bounds.bound_problem("ai", high) is None
    assert (bounds.SCALE_RANGE[0] ** 2, bounds.SCALE_RANGE[1] ** 2) == bounds.VARIANCE_RANGE
    # the computed effects' range holds every MD of accepted means and SDs
    assert 2 * bounds.REAL_RANGE[1] <= bounds.EFFECT_MAX
    assert bounds.EFFECT_VARIANCE_RANGE[0] <= bounds.SCALE_RANGE[0] ** 2 / bounds.COUNT_MAX
    assert 2 * bounds.SCALE_RANGE[1] ** 2 <= bounds.EFFECT_VARIANCE_RANGE[1]


def magnitudes(low, high):
    """Floats spread over the orders of magnitude from ``low`` to ``high``."""
    return st.floats(math.log10(low), math.log10(high)).map(lambda e: 10.0**e)


COUNT = st.integers(0, int(bounds.COUNT_MAX)) | st.integers(0, 50)
SIZE = st.integers(1, int(bounds.COUNT_MAX)) | st.integers(1, 50)
REAL = st.just(0.0) | st.tuples(st.sampled_from([1, -1]), magnitudes(*bounds.REAL_RANGE)).map(
    lambda t: t[0] * t[1]
)
SCALE = magnitudes(*bounds.SCALE_RANGE)
VARIANCE = magnitudes(*bounds.VARIANCE_RANGE)


@st.composite
def accepted_table(draw):
    """A table of a random data type whose every value lies in its column's accepted range."""
    kind = draw(st.sampled_from(["binary", "continuous", "generic", "correlation", "proportion"]))
    k = draw(st.integers(1, 5))
    rows = []
    for i in range(k):
        if kind == "binary":
            n1, n2 = draw(SIZE), draw(SIZE)
            rows.append([f"S{i}", draw(st.integers(0, n1)), n1, draw(st.integers(0, n2)), n2])
        elif kind == "continuous":
            rows.append([f"S{i}", draw(REAL), draw(SCALE), draw(SIZE), draw(REAL), draw(SCALE), draw(SIZE)])
        elif kind == "generic":
            rows.append([f"S{i}", draw(REAL), draw(VARIANCE)])
        elif kind == "correlation":
            rows.append(
                [
                    f"S{i}",
                    draw(
                        st.floats(-1, 1, exclude_min=True, exclude_max=True).filter(
                            lambda r: r == 0 or abs(r) >= bounds.REAL_RANGE[0]
                        )
                    ),
                    draw(SIZE),
                ]
            )
        else:
            n = draw(SIZE)
            rows.append([f"S{i}", draw(st.integers(0, n)), n])
    header = {
        "binary": ["study", "ai", "n1i", "ci", "n2i"],
        "continuous": ["study", "m1i", "sd1i", "n1i", "m2i", "sd2i", "n2i"],
        "generic": ["study", "yi", "vi"],
        "correlation": ["study", "ri", "ni"],
        "proportion": ["study", "xi", "ni"],
    }[kind]
    return kind, pd.DataFrame(rows, columns=header)


MEASURES = {
    "binary": ["OR", "RR", "RD"],
    "continuous": ["MD", "SMD", "ROM"],
    "generic": ["GEN"],
    "correlation": ["ZCOR", "COR"],
    "proportion": ["PLO", "PR"],
}


@settings(max_examples=400, deadline=None)
@given(table=accepted_table(), data=st.data())
def test_accepted_values_give_finite_effects_or_a_clear_error(table, data):
    kind, frame = table
    measure = data.draw(st.sampled_from(MEASURES[kind]))
    studies = read_studies(frame, kind)  # every value is in range: no complaint
    try:
        es = compute_effects(studies, measure)
    except InputError as exc:  # e.g. ROM of a negative mean: said, at a line
        assert all(p.line is not None and p.file == "<DataFrame>" for p in exc.problems)
        return
    assert np.isfinite(es.yi).all() and np.isfinite(es.vi).all() and (es.vi > 0).all()
    assert (np.abs(es.yi) <= bounds.EFFECT_MAX).all()
    method = data.draw(st.sampled_from(["FE", "DL", "REML", "PM", "SJ", "HE", "EB", "ML", "HS"]))
    try:
        result = metamg.pool(es, method=method).result
    except InputError:
        return
    assert np.isfinite([result.estimate, result.se, result.ci_low, result.ci_high]).all()


# -- one data type per row ----------------------------------------------------------------

MIXED = (
    "study,events_treatment,n_treatment,events_control,n_control,mean_treatment,sd_treatment,"
    "mean_control,sd_control\n"
)


def test_a_row_with_binary_and_continuous_numbers_names_both_groups(tmp_path):
    text = MIXED + "A,1,10,2,10,5.1,1,4.9,1\nB,,12,,11,5.0,1.2,4.1,1.1\n"
    assert problems(tmp_path, text) == [
        "s.csv:2: events_treatment: this row gives both continuous numbers (mean_treatment, sd_treatment, "
        "mean_control, sd_control) and binary numbers (events_treatment, events_control); keep one data "
        "type, or choose it with the measure (key measure in the metadata, or --measure)"
    ]


def test_a_row_of_another_data_type_is_not_silently_skipped(tmp_path):
    text = "study,yi,vi,events_treatment,n_treatment,events_control,n_control\nA,0.1,0.2,,,,\nB,,,1,10,2,10\n"
    assert problems(tmp_path, text) == [
        "s.csv:3: events_treatment: this row gives binary numbers (events_treatment, events_control) in a "
        "file read as generic data (yi, vi); keep one data type, or choose it with the measure (key "
        "measure in the metadata, or --measure)"
    ]


def test_with_a_measure_the_other_columns_are_ignored_and_that_is_said(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(MIXED + "A,1,10,2,10,5.1,1,4.9,1\nB,3,12,4,11,5.0,1.2,4.1,1.1\n")
    code, out, err = run_cli("pool", p, "--measure", "OR", "--format", "json")
    assert code == 0
    assert (
        f"warning: {p}: mean_treatment, sd_treatment, mean_control, sd_control: numbers of another "
        "data type, not used by OR (binary data)" in err
    )
    assert read_studies(p, "binary").ignored == (
        "mean_treatment",
        "sd_treatment",
        "mean_control",
        "sd_control",
    )
    assert read_studies(p, "continuous").ignored == ("events_treatment", "events_control")


# -- labels -------------------------------------------------------------------------------


@pytest.mark.parametrize("second", ["A", "a", " A ", "isis-4  1995", "ISIS-4\u00a01995"])  # no-break space
def test_labels_differing_in_case_or_spacing_are_the_same_study(tmp_path, second):
    first = "A" if second.strip().lower() == "a" else "ISIS-4 1995"
    out = problems(tmp_path, f'study,yi,vi\n{first},0.1,0.1\nB,0.2,0.1\n"{second}",0.3,0.1\n')
    if second.strip() == first:
        assert out == [f"s.csv:4: study: duplicate study label (first on line 2) ({first})"]
    else:
        assert out == [
            f"s.csv:4: study: duplicate study label (first on line 2 as '{first}'; labels are "
            f"compared ignoring case and spacing) ({second.strip()})"
        ]


def test_dotted_capital_i_is_another_label(tmp_path):  # casefold: i + combining dot
    p = tmp_path / "s.csv"
    p.write_text("study,yi,vi\nISIS-4 1995,0.1,0.1\n\u0130SIS-4 1995,0.3,0.1\n")
    assert read_studies(p).studies == ("ISIS-4 1995", "\u0130SIS-4 1995")


# -- pandas ---------------------------------------------------------------------------------


def test_numbers_in_object_and_nullable_columns_are_read():
    frame = pd.DataFrame(
        {
            "study": ["A", "B", "C", "D"],
            "events_treatment": np.array([np.int64(1), np.float64(3.0), np.float32(2), None], dtype=object),
            "n_treatment": pd.array([10, 12, 20, pd.NA], dtype="Int64"),
            "events_control": pd.array([2.0, 4.0, 0.5, None], dtype="Float64"),
            "n_control": pd.array([10, 11, 9, pd.NA], dtype="Int64"),
        },
        index=[7, 8, 9, 10],
    )  # lines count rows, not the index
    frame.loc[9, "events_control"] = 5.0
    t = read_studies(frame)
    assert t.data_type == "binary" and t.lines == (2, 3, 4, 5)
    np.testing.assert_array_equal(t.values["ai"], [1, 3, 2, np.nan])
    np.testing.assert_array_equal(t.values["ci"], [2, 4, 5, np.nan])
    assert t.forms == ("raw", "raw", "raw", "none")  # D gives no numbers: not estimable


def test_dataframe_messages_show_integers_as_integers():
    frame = pd.DataFrame(
        {
            "study": ["A", "B"],
            "events_treatment": [12.0, 1.0],
            "n_treatment": [10.0, 10.0],
            "events_control": np.array([np.float64(2.5), 2.0], dtype=object),
            "n_control": [10, 10],
        }
    )
    with pytest.raises(InputError) as err:
        read_studies(frame)
    assert [str(p) for p in err.value.problems] == [
        "<DataFrame>:2: events_treatment: more events than participants (n_treatment = 10) (12)",
        "<DataFrame>:2: events_control: must be a whole number (2.5)",
    ]


def test_the_same_table_from_a_dataframe_and_from_its_csv(tmp_path):
    p = tmp_path / "s.csv"
    p.write_text(BIN + "A,1,10,2,10\nB,3,12,4,11\nC,,,,\n")
    a, b = read_studies(p), read_studies(pd.read_csv(p))
    assert a.studies == b.studies and a.forms == b.forms and a.values.keys() == b.values.keys()
    for k in a.values:
        np.testing.assert_array_equal(a.values[k], b.values[k])


@pytest.mark.parametrize(
    "source", [["study,yi,vi"], {"study": ["A"]}, b"s.csv", io.StringIO("study,yi,vi\n"), None, 3]
)
def test_anything_else_is_a_type_error_saying_what_is_expected(source):
    with pytest.raises(
        TypeError,
        match=r"expected the path of a study CSV \(str or os.PathLike\) or a "
        r"pandas DataFrame, not \w+",
    ):
        read_studies(source)
    with pytest.raises(TypeError, match="expected the path of a study CSV"):
        metamg.pool(source)
