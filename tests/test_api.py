"""The notebook API (metamg.api through ``import metamg``): every command's verb, each taking
the pooled analysis, gives what the command gives; results show themselves in one line, as
escaped HTML and as DataFrames; figures display themselves without pyplot."""

import ast
import inspect
import json
import math
from pathlib import Path

import numpy as np
import pytest

import metamg
from metamg.render.figures import figure_bytes
from tests.conftest import CASES_DIR, load_case, run_cli

BCG = CASES_DIR / "bcg.csv"
PNG = b"\x89PNG\r\n\x1a\n"
VERBS = (
    "pool",
    "subgroups",
    "regress",
    "permutation_test",
    "leave_one_out",
    "cumulative",
    "influence",
    "gosh",
    "small_study_tests",
    "trim_and_fill",
    "fail_safe_n",
    "forest",
    "funnel",
    "baujat",
    "gosh_plot",
    "bubble",
    "rob_plots",
    "appraise",
    "write_report",
)
ARRAY_LEVEL = (
    "fit",
    "mantel_haenszel",
    "peto",
    "escalc",
    "compute_effects",
    "trim_and_fill_arrays",
    "fail_safe_n_arrays",
    "gosh_arrays",
)
AXES_PLOTS = ("funnel", "baujat", "gosh_plot", "bubble")
HOSTILE = "<script>alert('x')</script>"


def extras():
    """metafor's values for dat.bcg, RR, rma(method="REML") with its default z tests."""
    return load_case("bcg")["extras"]["RR"]


def metafor_analysis():
    """The bcg RR analysis with metafor's defaults (REML, Wald), which the extras use."""
    return metamg.pool(BCG, measure="RR", profile="metafor")


def cli_json(*args):
    code, out, err = run_cli(*args, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def as_json(d):
    """A to_dict() as the command line writes it (tuples as lists, numpy floats as floats,
    every rule and warning with its words)."""
    from metamg.render.notes_text import with_words

    return json.loads(json.dumps(with_words(d), ensure_ascii=False))


@pytest.fixture(autouse=True)
def no_pyplot_figures():
    """No test leaves a figure in pyplot's global state (the API never uses pyplot)."""
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    yield
    assert plt.get_fignums() == before == []


# -- what import metamg offers ----------------------------------------------------------------


@pytest.mark.parametrize("name", VERBS + ARRAY_LEVEL)
def test_every_verb_is_exported_and_listed(name):
    assert callable(getattr(metamg, name))
    assert name in dir(metamg) and name in metamg.__all__


def test_every_export_resolves_and_type_checkers_see_it():
    for name in metamg.__all__:
        getattr(metamg, name)
    tree = ast.parse(Path(metamg.__file__).read_text(encoding="utf-8"))
    block = next(
        n for n in tree.body if isinstance(n, ast.If) and getattr(n.test, "id", "") == "TYPE_CHECKING"
    )
    seen = {a.asname or a.name for node in block.body for a in node.names}
    assert seen == set(metamg.__all__) - {"__version__"}


def test_array_level_functions_keep_their_own_names():
    from metamg.analyses.bias import fail_safe_n
    from metamg.analyses.gosh import gosh
    from metamg.analyses.trimfill import trim_and_fill
    from metamg.effects.escalc import compute_effects

    assert metamg.escalc is compute_effects and metamg.trim_and_fill_arrays is trim_and_fill
    assert metamg.fail_safe_n_arrays is fail_safe_n and metamg.gosh_arrays is gosh


def test_parameter_names_agree_across_verbs():
    from metamg.analyses.pool import OPTION_NAMES, PoolOverrides

    assert tuple(PoolOverrides.__annotations__) == OPTION_NAMES  # the keywords are the options

    def accepted(fn):  # parameters, with the options that **overrides takes (pool, appraise)
        params = set(inspect.signature(fn).parameters)
        return params | set(OPTION_NAMES) if "overrides" in params else params

    names = {n: accepted(getattr(metamg, n)) for n in VERBS + ("fit",)}
    assert all("ci" not in p and "test" not in p for p in names.values())
    for verb in ("regress", "permutation_test"):
        assert {"method", "ci_method"} <= names[verb]
    for verb in ("pool", "appraise", "fit"):
        assert {"method", "ci_method", "level"} <= names[verb]
    assert {"seed"} <= names["permutation_test"] & names["gosh"] & names["gosh_plot"]
    assert "by" in names["subgroups"] and "by" in names["forest"]
    for verb in VERBS[1:17]:  # every verb after pool takes the analysis first
        assert next(iter(inspect.signature(getattr(metamg, verb)).parameters)) == "analysis"


@pytest.mark.reference
def test_fit_and_pool_default_to_the_cochrane_profile():
    expected = next(
        a["expected"]
        for a in load_case("bcg")["analyses"]
        if (a["measure"], a["method"], a["ci_method"]) == ("RR", "REML", "hk")
    )
    es = metamg.pool(BCG, measure="RR").effects
    from_arrays = metamg.fit(es.yi, es.vi)
    from_file = metamg.pool(BCG, measure="RR").result
    for r in (from_arrays, from_file):
        assert (r.method, r.ci_method) == ("REML", "hk")
        assert r.ci_low == pytest.approx(expected["ci_low"], rel=1e-6)
        assert r.pi_high == pytest.approx(expected["pi_high"], rel=1e-6)


# -- each verb gives what its command gives ---------------------------------------------------


def test_pool_and_subgroups_equal_the_command():
    a = metamg.pool(BCG, measure="RR")
    d = cli_json("pool", BCG, "--measure", "RR", "--by", "alloc")
    groups = metamg.subgroups(a, by="alloc")
    assert as_json(groups.to_dict()) == d.pop("subgroups")
    assert as_json(a.to_dict()) == d


def test_subgroups_default_to_the_metadata_column(tmp_path):
    csv = tmp_path / "bcg.csv"
    csv.write_text(BCG.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "bcg.toml").write_text('subgroup = "alloc"\n', encoding="utf-8")
    a = metamg.pool(csv, measure="RR")
    assert metamg.subgroups(a).column == "alloc"
    with pytest.raises(metamg.InputError, match="by='COLUMN'"):
        metamg.subgroups(metamg.pool(BCG, measure="RR"))


@pytest.mark.reference
def test_subgroups_match_metafor():
    groups = metamg.subgroups(metafor_analysis(), by="alloc")
    ref = {g["level"]: g for g in extras()["subgroups"]["levels"]}
    frame = groups.to_frame().set_index("level")
    assert list(frame.columns[:3]) == ["k", "estimate", "se"]
    for level, g in ref.items():
        assert frame.loc[level, "estimate"] == pytest.approx(g["estimate"], rel=1e-6)
        assert frame.loc[level, "effect"] == pytest.approx(math.exp(g["estimate"]), rel=1e-6)
    assert groups.to_dict()["test_mods"]["QM_p"] == pytest.approx(
        extras()["subgroups"]["test_mods"]["QM_p"], rel=1e-6
    )


def test_regress_and_permutation_test_equal_the_command():
    a = metamg.pool(BCG, measure="RR")
    d = cli_json("regress", BCG, "--measure", "RR", "--mods", "ablat", "--permutations", 60, "--seed", 3)
    fit = metamg.regress(a, "ablat")
    perm = metamg.permutation_test(a, ["ablat"], permutations=60, seed=3)
    p = as_json(perm.to_dict())
    assert [c["p_perm"] for c in d["coefficients"]] == [c["p_perm"] for c in p["coefficients"]]
    assert (d["QM_p_perm"], d["permutations"], d["seed"]) == (p["QM_p_perm"], 60, 3)
    for c in d["coefficients"]:
        del c["p_perm"]
    assert as_json(fit.to_dict()) == {
        k: v for k, v in d.items() if k not in ("QM_p_perm", "permutations", "seed")
    }


@pytest.mark.reference
def test_regress_matches_metafor_knha():
    ref = next(m["hk"] for m in extras()["metareg"] if m["formula"] == "~ ablat")
    frame = metamg.regress(metamg.pool(BCG, measure="RR"), "ablat").to_frame()
    assert list(frame["name"]) == ["intrcpt", "ablat"]
    for row, c in zip(frame.itertuples(), ref["coefficients"], strict=True):
        assert (row.estimate, row.se, row.p) == pytest.approx((c["estimate"], c["se"], c["p"]), rel=1e-6)
    assert metamg.permutation_test(metamg.pool(BCG, measure="RR"), "ablat", 20).to_frame().shape == (2, 2)


def test_sensitivity_verbs_equal_the_command():
    a = metamg.pool(BCG, measure="RR")
    d = cli_json("sensitivity", BCG, "--measure", "RR")
    assert as_json(metamg.leave_one_out(a).to_dict())["rows"] == d["leave1out"]
    assert as_json(metamg.cumulative(a).to_dict()) == d["cumulative"]
    assert as_json(metamg.influence(a).to_dict())["rows"] == d["influence"]
    assert as_json(metamg.gosh(a).to_dict()) == d["gosh"]


@pytest.mark.reference
def test_sensitivity_frames_match_metafor():
    a = metafor_analysis()
    ref = extras()
    loo = metamg.leave_one_out(a).to_frame()
    assert loo.shape[0] == 13 and list(loo["study"]) == [r["study"] for r in ref["leave1out"]]
    assert loo["estimate"].to_numpy() == pytest.approx([r["estimate"] for r in ref["leave1out"]], rel=1e-6)
    assert loo["se"].to_numpy() == pytest.approx([r["se"] for r in ref["leave1out"]], rel=1e-6)
    cum = metamg.cumulative(a).to_frame()
    assert cum["estimate"].to_numpy() == pytest.approx(
        [r["estimate"] for r in ref["cumulative"]["rows"]], rel=1e-6
    )
    infl = metamg.influence(a).to_frame()
    assert infl["rstudent"].to_numpy() == pytest.approx([r["rstudent"] for r in ref["influence"]], rel=1e-6)
    assert list(infl["influential"]) == [r["influential"] for r in ref["influence"]]
    subsets = metamg.gosh(a).to_frame()
    assert subsets.shape == (ref["gosh"]["n_subsets"], 5)
    assert subsets["estimate"].mean() == pytest.approx(ref["gosh"]["estimate"]["mean"], rel=1e-9)


@pytest.mark.reference
def test_bias_verbs_equal_the_command_and_metafor():
    a = metafor_analysis()
    d = cli_json("bias", BCG, "--measure", "RR", "--profile", "metafor")
    tests = metamg.small_study_tests(a)
    assert as_json(tests.to_dict()) == d
    assert as_json(metamg.trim_and_fill(a).to_dict()) == d["trimfill"]
    assert as_json(metamg.fail_safe_n(a).to_dict()) == d["fsn"]
    ref = extras()
    assert metamg.fail_safe_n(a).fsnum == ref["fsn"]["fsnum"]
    assert metamg.trim_and_fill(a).result.estimate == pytest.approx(ref["trimfill"]["estimate"], rel=1e-6)
    frame = tests.to_frame().set_index("test")
    assert frame.shape == (5, 7)
    assert frame.loc["Egger (mixed-effects, regtest)", "p"] == pytest.approx(ref["egger"]["p"], rel=1e-6)
    assert frame.loc["Begg (rank correlation)", "statistic"] == pytest.approx(ref["begg"]["tau"], rel=1e-9)
    assert frame.loc["trim and fill", "statistic"] == ref["trimfill"]["k0"]


@pytest.mark.reference
def test_pool_frame_is_the_study_table():
    a = metamg.pool(BCG, measure="RR", method="REML", ci_method="wald")
    expected = next(
        x["expected"]
        for x in load_case("bcg")["analyses"]
        if (x["measure"], x["method"], x["ci_method"]) == ("RR", "REML", "wald")
    )
    frame = a.to_frame()
    assert list(frame.columns) == [
        "study",
        "yi",
        "vi",
        "ci_low",
        "ci_high",
        "effect",
        "effect_ci_low",
        "effect_ci_high",
        "weight_percent",
    ]
    assert list(frame["study"]) == [s["study"] for s in expected["studies"]]
    assert frame["yi"].to_numpy() == pytest.approx([s["yi"] for s in expected["studies"]], rel=1e-9)
    assert frame["weight_percent"].to_numpy() == pytest.approx(
        [s["weight"] for s in expected["studies"]], rel=1e-6
    )
    assert frame["effect"].to_numpy() == pytest.approx(np.exp(frame["yi"].to_numpy()))
    one = a.result.to_frame()
    assert one.shape[0] == 1 and one.loc[0, "tau2"] == pytest.approx(expected["tau2"], rel=1e-6)


def test_appraisal_and_grade_frames():
    ap = metamg.appraise(BCG, measure="RR")
    frame = ap.to_frame()
    assert frame.loc[0, "analysis"] == "main analysis"
    assert frame.loc[0, "estimate"] == pytest.approx(metamg.pool(BCG, measure="RR").result.estimate)
    assert set(frame["method"]) == {"REML", "FE"}
    certainty = ap.findings.certainty
    domains = certainty.to_frame()
    assert list(domains["domain"]) == [d.domain for d in certainty.domains]
    assert domains["downgrade"].sum() == sum(d.downgrade for d in certainty.domains)
    row = ap.findings.to_frame()
    assert row.loc[0, "effect"] == pytest.approx(math.exp(ap.answer.result.estimate))
    assert row.loc[0, "certainty"] == certainty.level


# -- how results show themselves --------------------------------------------------------------


def hostile_set(tmp_path):
    """bcg with a study label and a subgroup level that are HTML, and a line break in a label."""
    lines = BCG.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace('"Aronson 1948"', f'"{HOSTILE}"').replace('"random"', '"<b>random</b>"')
    lines[2] = lines[2].replace('"Ferguson & Simes 1949"', '"Ferguson\nSimes"')
    csv = tmp_path / "hostile.csv"
    csv.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return csv


def results_of(a):
    """One of each result the verbs return, for the analysis ``a`` of bcg."""
    tests = metamg.small_study_tests(a)
    ap = metamg.appraise(a.source, measure="RR")
    return [
        a,
        a.result,
        metamg.subgroups(a, by="alloc"),
        metamg.regress(a, "ablat"),
        metamg.permutation_test(a, "ablat", permutations=10),
        metamg.leave_one_out(a),
        metamg.leave_one_out(a)[0],
        metamg.cumulative(a),
        metamg.influence(a),
        tests,
        tests.trimfill,
        metamg.gosh(a),
        ap,
        ap.findings,
        ap.findings.certainty,
    ]


def test_every_result_has_a_one_line_repr_and_a_table(tmp_path):
    a = metamg.pool(hostile_set(tmp_path), measure="RR")
    for result in results_of(a):
        text = repr(result)
        name = type(result).__name__
        assert text.startswith(name + "(") and "\n" not in text and len(text) < 600, text
        assert result._repr_html_().lstrip().startswith("<div")


def test_html_escapes_user_text(tmp_path):
    a = metamg.pool(hostile_set(tmp_path), measure="RR")
    shown = {type(r).__name__: r._repr_html_() for r in results_of(a)}
    for name in ("PoolAnalysis", "LeaveOneOut", "Refit", "Cumulative", "InfluenceTable"):
        assert "<script>" not in shown[name] and "&lt;script&gt;" in shown[name], name
    assert (
        "<b>random" not in shown["SubgroupAnalysis"]
        and "&lt;b&gt;random&lt;/b&gt;" in shown["SubgroupAnalysis"]
    )
    assert all("<script" not in html for html in shown.values())


def test_repr_of_a_path_with_a_line_break_stays_one_line(tmp_path):
    folder = tmp_path / "two\nlines"
    folder.mkdir()
    csv = folder / "bcg.csv"
    csv.write_text(BCG.read_text(encoding="utf-8"), encoding="utf-8")
    a = metamg.pool(csv, measure="RR")
    assert "\n" not in repr(a) and "\\n" in repr(a)


# -- figures ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_figures_display_themselves_as_png():
    a = metamg.pool(BCG, measure="RR")
    figures = [
        metamg.forest(a, by="alloc"),
        metamg.funnel(a, trimfill=True),
        metamg.baujat(a),
        metamg.gosh_plot(a),
        metamg.bubble(a, "ablat"),
        metamg.bubble(a, metamg.regress(a, "ablat")),
    ]
    for fig in figures:
        assert isinstance(fig, metamg.Figure)
        png = fig._repr_png_()
        assert png.startswith(PNG)
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        w_in, h_in = fig.get_size_inches()
        assert (width, height) == pytest.approx((w_in * 100, h_in * 100), abs=1)  # screen resolution


@pytest.mark.slow
def test_figures_are_the_command_line_figures(tmp_path):
    a = metamg.pool(BCG, measure="RR")
    out = [tmp_path / f"{n}.png" for n in range(3)]
    cases = [
        (metamg.forest(a, by="alloc"), ["forest", BCG, "--measure", "RR", "--by", "alloc", "-o", out[0]]),
        (metamg.funnel(a, trimfill=True), ["funnel", BCG, "--measure", "RR", "--trimfill", "-o", out[1]]),
        (
            metamg.bubble(a, "ablat"),
            [
                "regress",
                BCG,
                "--measure",
                "RR",
                "--mods",
                "ablat",
                "--plot",
                out[2],
                "-o",
                tmp_path / "regress.txt",
            ],
        ),
    ]
    for (fig, args), path in zip(cases, out, strict=True):
        code, _, err = run_cli(*args)
        assert code == 0, err
        assert figure_bytes(fig) == path.read_bytes(), args[0]


@pytest.mark.parametrize("verb", AXES_PLOTS)
def test_one_panel_plots_draw_on_the_callers_axes(verb):
    from matplotlib.figure import Figure

    a = metamg.pool(BCG, measure="RR")
    fig = Figure(figsize=(10, 4))
    left, right = fig.subplots(1, 2)
    args = (a, "ablat") if verb == "bubble" else (a,)
    returned = getattr(metamg, verb)(*args, ax=right)
    assert returned is right  # the caller's axes, as pandas and seaborn return them
    assert right.has_data() and not left.has_data()
    assert right.get_title(loc="left") and not fig.texts  # the title sits above its own axes
    assert figure_bytes(fig, "png", 50).startswith(PNG)


@pytest.mark.parametrize("verb", AXES_PLOTS)
def test_a_plot_on_pyplot_axes_shows_once_in_jupyter(verb):
    """Jupyter shows a pyplot figure itself and then the cell's value: on the caller's axes the
    verbs return those axes (shown as text), so the figure is not shown twice."""
    import matplotlib.pyplot as plt
    from IPython.core.formatters import PNGFormatter

    a = metamg.pool(BCG, measure="RR")
    args = (a, "ablat") if verb == "bubble" else (a,)
    fig, ax = plt.subplots()
    try:
        returned = getattr(metamg, verb)(*args, ax=ax)
        assert returned is ax and PNGFormatter()(returned) is None
    finally:
        plt.close(fig)
    own = getattr(metamg, verb)(*args)
    assert PNGFormatter()(own).startswith(PNG)  # a figure of its own shows itself


def test_forest_takes_no_axes_and_says_why():
    assert "ax" not in inspect.signature(metamg.forest).parameters
    assert "figure of its own" in metamg.forest.__doc__


def test_bubble_needs_one_continuous_moderator():
    a = metamg.pool(BCG, measure="RR")
    with pytest.raises(metamg.InputError, match="one continuous moderator"):
        metamg.bubble(a, "alloc")
    with pytest.raises(metamg.InputError, match="one continuous moderator"):
        metamg.bubble(a, metamg.regress(a, "ablat,year"))


ROB = (
    "study,events_treatment,n_treatment,events_control,n_control,rob_d1,rob_d2,rob_d3,rob_d4,rob_d5,"
    "rob_overall\n"
    f'"{HOSTILE}",12,100,20,100,low,low,low,low,low,low\n'
    "B,8,90,15,95,some concerns,low,low,low,low,some concerns\n"
    "C,20,150,22,140,high,low,some concerns,low,low,high\n"
)


@pytest.mark.slow
def test_rob_plots_show_both_figures(tmp_path):
    csv = tmp_path / "rob.csv"
    csv.write_text(ROB, encoding="utf-8")
    a = metamg.pool(csv)
    traffic, summary = metamg.rob_plots(a)
    assert traffic._repr_png_().startswith(PNG) and summary._repr_png_().startswith(PNG)
    shown = metamg.rob_plots(a, weighted=False)._repr_html_()
    assert shown.count('src="data:image/png;base64,') == 2


def test_pool_takes_options_and_keyword_overrides():
    a = metamg.pool(BCG, measure="RR", method="DL", ci_method="wald")
    assert metamg.pool(BCG, a.options).to_dict() == a.to_dict()
    again = metamg.pool(BCG, a.options, method="PM")  # the options, one of them changed
    assert (again.options.method, again.options.ci_method, again.options.measure) == ("PM", "wald", "RR")
    assert again.result.tau2 == pytest.approx(metamg.fit(a.effects.yi, a.effects.vi, "PM").tau2, rel=1e-12)
    by_name = metamg.pool(BCG, "OR")  # metafor's habit: the measure second
    assert by_name.measure.name == "OR"
    opts = metamg.PoolOptions(measure="RR", method="FE", level=0.9)
    assert metamg.pool(BCG, opts).result.level == 0.9
    assert metamg.appraise(BCG, opts).analysis.options == metamg.pool(BCG, opts).options
    with pytest.raises(TypeError, match="unexpected keyword argument 'mesure'; did you mean 'measure'"):
        metamg.pool(BCG, mesure="RR")
    with pytest.raises(TypeError, match="appraise.*'ci'; the options are measure, method, ci_method"):
        metamg.appraise(BCG, ci="hk")
