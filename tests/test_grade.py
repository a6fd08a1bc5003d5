"""GRADE rules on constructed study sets (one that stays high, one per downgrade), the
summary-of-findings numbers against hand calculations, and the plain-language statements."""

import math

import pytest

import metamg
from metamg.analyses.findings import plain_statement, summarise_findings
from metamg.analyses.grade import grade_certainty, optimal_information_size
from metamg.io.metadata import parse_metadata
from metamg.render.grade_text import RULES, reason_text, reasons_text, statement_text
from tests.conftest import CASES_DIR

HEAD = "study,events_treatment,n_treatment,events_control,n_control,rob_overall\n"
# Three large trials, RR about 0.6 at a 20% control risk: precise, consistent, beyond RR 0.75.
STRONG = [("A", 118, 1000, 200, 1000), ("B", 122, 1000, 201, 1000), ("C", 120, 1000, 199, 1000)]


def write(tmp_path, rows, rob=("low", "low", "low"), name="s.csv"):
    p = tmp_path / name
    p.write_text(
        HEAD + "".join(f"{s},{a},{n1},{c},{n2},{r}\n" for (s, a, n1, c, n2), r in zip(rows, rob, strict=True))
    )
    return p


def meta(grade=None, **keys):
    data = {"measure": "RR", "outcome": "death", "intervention": "magnesium", **keys}
    if grade is not None:
        data["grade"] = grade
    return parse_metadata(data, "s")


def certainty(path, m=None):
    m = m or meta()
    return grade_certainty(metamg.pool(path, measure=m.measure), m.grade)


def test_consistent_precise_low_risk_trials_stay_high(tmp_path):
    c = certainty(write(tmp_path, STRONG))
    assert c.level == "high" and c.start == "high"
    assert [d.rating for d in c.domains] == ["not serious"] * 5
    assert c.thresholds == (0.75, 1.25)
    ois = c.domain("imprecision").reason("imprecision.meets_ois")
    assert (ois["participants"], ois["ois"], ois["control_risk"]) == (6000, 1806, 0.2)
    assert "meet the optimal information size of 1,806" in reason_text(ois)
    assert not c.domain("publication_bias").assessable
    assert c.domain("indirectness").rules == ("indirectness.not_judged",)


def test_optimal_information_size_by_hand():
    # (1.959964 + 0.841621)^2 * (0.2*0.8 + 0.15*0.85) / 0.05^2 = 902.6 -> 903 per group
    assert optimal_information_size(0.2, 0.15) == 1806
    z = 1.959963984540054 + 0.8416212335729143
    assert optimal_information_size(0.5, 0.375) == 2 * math.ceil(z * z * (0.25 + 0.375 * 0.625) / 0.125**2)


@pytest.mark.parametrize(
    "rob,rating",
    [
        (("low", "low", "high"), "serious"),  # about a third of the weight at high risk
        (("high", "high", "low"), "very serious"),  # two thirds at high risk
        (("low", "low", ""), "serious"),  # a third not assessed
        (("", "", ""), "serious"),  # nothing assessed
        (("some concerns", "some concerns", "low"), "serious"),  # two thirds not at low risk
        (("some concerns", "low", "low"), "not serious"),
    ],
)
def test_risk_of_bias_follows_the_weight_share(tmp_path, rob, rating):
    c = certainty(write(tmp_path, STRONG, rob))
    assert c.domain("risk_of_bias").rating == rating
    assert c.level == {"not serious": "high", "serious": "moderate", "very serious": "low"}[rating]


def test_inconsistency_when_trials_point_both_ways(tmp_path):
    rows = [
        ("A", 60, 500, 120, 500),
        ("B", 130, 500, 90, 500),
        ("C", 50, 500, 110, 500),
        ("D", 120, 500, 80, 500),
    ]
    a = metamg.pool(write(tmp_path, rows, ("low",) * 4))
    c = grade_certainty(a, meta().grade)
    d = c.domain("inconsistency")
    assert a.result.i2 >= 75 and a.result.pi_low < 0 < a.result.pi_high
    pi = d.reason("inconsistency.prediction_interval")
    assert d.rating == "very serious" and pi["includes"] == "no effect"
    assert (pi["low"], pi["high"]) == pytest.approx((math.exp(a.result.pi_low), math.exp(a.result.pi_high)))
    assert d.reason("inconsistency.i2")["i2"] == pytest.approx(a.result.i2)


def test_unexplained_subgroup_difference_is_inconsistency(tmp_path):
    from metamg.analyses.subgroups import pool_subgroups

    p = tmp_path / "g.csv"
    p.write_text(
        "study,events_treatment,n_treatment,events_control,n_control,rob_overall,dose\n"
        "A,90,2000,200,2000,low,high\nB,92,2000,201,2000,low,high\n"
        "C,110,2000,199,2000,low,low\nD,111,2000,200,2000,low,low\n"
    )
    a = metamg.pool(p, measure="RR", profile="metafor")
    groups = pool_subgroups(a, "dose")
    assert a.result.i2 < 50 and groups.between.q_p < 0.10  # consistent overall, yet the doses differ
    d = grade_certainty(a, meta().grade, subgroups=groups).domain("inconsistency")
    differ = d.reason("inconsistency.subgroups_differ")
    assert d.rating == "serious" and (differ["column"], differ["p"]) == ("dose", groups.between.q_p)
    assert "subgroups by dose differ" in reasons_text(d.reasons)


@pytest.mark.parametrize(
    "rows,rating,rule",
    [
        ([("A", 7, 50, 10, 50), ("B", 8, 50, 10, 50)], "very serious", "imprecision.benefit_and_harm"),
        (
            [("A", 30, 200, 40, 200), ("B", 31, 200, 40, 200)],
            "serious",
            "imprecision.null_and_beyond_threshold",
        ),
        # the CI lies between RR 0.75 and 1.25: precise, whatever the effect
        (
            [("A", 180, 1000, 200, 1000), ("B", 181, 1000, 200, 1000)],
            "not serious",
            "imprecision.between_thresholds",
        ),
        # CI excludes no effect and any threshold, but 240 participants are fewer than the OIS
        ([("A", 12, 60, 30, 60), ("B", 13, 60, 30, 60)], "serious", "imprecision.below_ois"),
    ],
)
def test_imprecision(tmp_path, rows, rating, rule):
    a = metamg.pool(write(tmp_path, rows, ("low",) * len(rows)), measure="RR", profile="metafor")
    d = grade_certainty(a, meta().grade).domain("imprecision")
    assert d.rating == rating and rule in d.rules
    first = d.reasons[0]
    assert (first["ci_low"], first["ci_high"]) == pytest.approx(
        (math.exp(a.result.ci_low), math.exp(a.result.ci_high))
    )
    assert (first["threshold_low"], first["threshold_high"]) == pytest.approx((0.75, 1.25))
    if rule == "imprecision.below_ois":
        assert (d.reason(rule)["participants"], d.reason(rule)["ois"]) == (240, 488)


def test_imprecision_uses_the_metadata_mid(tmp_path):
    # RR about 0.6 (0.55 to 0.66): beyond 0.75, but not beyond a MID of 0.5 (mirrored to 1.5)
    p = write(tmp_path, STRONG)
    c = certainty(p, meta({"mid": 0.5}))
    assert c.thresholds == (0.5, 1.5) and c.threshold_source == "metadata"
    assert c.domain("imprecision").rating == "not serious"
    assert c.domain("imprecision").rules[0] == "imprecision.between_thresholds"


def test_publication_bias_needs_ten_studies_and_follows_egger():
    a = metamg.pool(CASES_DIR / "egger2001.csv", measure="OR")
    c = grade_certainty(a, meta().grade)
    d = c.domain("publication_bias")
    # regtest() on the REML + Knapp-Hartung model: t(14) = -4.9033, p = 0.000233 (metafor 3.8-1)
    assert d.rating == "serious" and d.rules == ("publication_bias.suspected",)
    assert d.reason("publication_bias.suspected")["egger_p"] == pytest.approx(0.000233, abs=5e-7)


def test_indirectness_and_overrides_come_from_the_metadata(tmp_path):
    m = meta(
        {
            "indirectness": {"rating": "serious", "reason": "older adults only"},
            "imprecision": {"rating": "very serious", "reason": "a panel's view"},
        }
    )
    c = certainty(write(tmp_path, STRONG), m)
    ind, imp = c.domain("indirectness"), c.domain("imprecision")
    assert (ind.rating, ind.reason("override")["text"], ind.overridden) == (
        "serious",
        "older adults only",
        True,
    )
    assert (imp.rating, imp.suggested, imp.overridden) == ("very serious", "not serious", True)
    assert c.level == "very low"  # high - 1 - 2


def test_certainty_prints_every_domain(tmp_path):
    m = meta({"indirectness": {"rating": "serious", "reason": "older adults only"}})
    assert str(certainty(write(tmp_path, STRONG), m)).splitlines() == [
        "Certainty (GRADE, suggested): moderate (starts high: randomised studies)",
        "  risk_of_bias: not serious [rob.weight_shares]",
        "  inconsistency: not serious [inconsistency.i2, inconsistency.prediction_interval]",
        "  indirectness: serious (override) [override]",
        "  imprecision: not serious [imprecision.beyond_threshold, imprecision.meets_ois]",
        "  publication_bias: not serious [publication_bias.too_few_studies]",
    ]


def test_observational_evidence_starts_low(tmp_path):
    c = certainty(write(tmp_path, STRONG), meta({"design": "observational"}))
    assert (c.start, c.level) == ("low", "low")


def test_bad_grade_metadata_is_reported():
    from metamg.errors import InputError

    with pytest.raises(InputError) as err:
        parse_metadata(
            {
                "grade": {
                    "design": "rct",
                    "mid": -1,
                    "imprecision": {"rating": "bad", "reason": "x"},
                    "indirectnes": {},
                }
            },
            "s",
        )
    text = [str(p) for p in err.value.problems]
    assert any("grade.design: must be randomised or observational" in t for t in text)
    assert any("grade.mid: must be a positive number" in t for t in text)
    assert any(
        "grade.imprecision.rating: must be one of not serious, serious, very serious" in t for t in text
    )
    assert any("unknown [grade] key (did you mean 'indirectness'?)" in t for t in text)


def test_summary_of_findings_binary_by_hand(tmp_path):
    a = metamg.pool(write(tmp_path, STRONG), measure="RR")
    f = summarise_findings(a, meta())
    p0 = 0.2  # median of 200/1000, 201/1000, 199/1000
    rr = [math.exp(x) for x in (a.result.estimate, a.result.ci_low, a.result.ci_high)]
    assert f.participants == 6000 and f.studies == 3
    assert f.relative == pytest.approx(tuple(rr), rel=1e-12)
    ab = f.absolute
    assert ab.control_risk == pytest.approx(p0)
    assert ab.risk_with == pytest.approx(1000 * p0 * rr[0])
    assert (ab.risk_with_low, ab.risk_with_high) == pytest.approx((1000 * p0 * rr[1], 1000 * p0 * rr[2]))
    assert ab.per_1000 == pytest.approx(1000 * p0 * (rr[0] - 1))
    assert f.certainty.level == "high"
    assert (f.statement.kind, f.statement.direction) == ("important", "reduce")
    assert statement_text(f.statement) == "Magnesium reduces death."


def test_summary_of_findings_odds_ratio_and_assumed_risk(tmp_path):
    a = metamg.pool(write(tmp_path, STRONG), measure="OR")
    f = summarise_findings(a, meta({"control_risk": 0.1}, measure="OR"))
    odds = math.exp(a.result.estimate) * 0.1 / 0.9
    assert f.absolute.control_risk == 0.1 and f.absolute.control_risk_source == "metadata"
    assert f.absolute.risk_with == pytest.approx(1000 * odds / (1 + odds))


def test_summary_of_findings_continuous_difference(tmp_path):
    p = tmp_path / "c.csv"
    p.write_text(
        "study,mean_treatment,sd_treatment,n_treatment,mean_control,sd_control,n_control\n"
        "A,10,4,50,12,4,50\nB,9,5,40,12,5,40\n"
    )
    a = metamg.pool(p, measure="MD")
    f = summarise_findings(a, parse_metadata({"measure": "MD", "outcome": "pain"}, "c"))
    assert f.relative is None and f.absolute is None and f.participants == 180
    assert f.difference == pytest.approx((a.result.estimate, a.result.ci_low, a.result.ci_high), rel=1e-12)


def test_nothing_pooled_gives_a_row_without_certainty():
    f = summarise_findings(None, meta())
    assert f.studies == 0 and f.certainty is None
    assert statement_text(f.statement) == (
        "No study gives numbers that could be pooled: the effect of magnesium on death "
        "is not known from this evidence."
    )


@pytest.mark.parametrize(
    "level,est,lo,hi,thresholds,expected",
    [
        ("high", -0.5, -0.7, -0.3, (math.log(0.75), math.log(1.25)), "Mg reduces pain."),
        ("moderate", -0.5, -0.7, -0.3, None, "Mg probably reduces pain."),
        (
            "moderate",
            -0.1,
            -0.15,
            -0.05,
            (math.log(0.75), math.log(1.25)),
            "Mg probably reduces pain slightly.",
        ),
        ("low", 0.4, 0.1, 0.7, None, "Mg may increase pain."),
        (
            "low",
            -0.05,
            -0.2,
            0.1,
            (math.log(0.75), math.log(1.25)),
            "Mg may make little or no difference to pain.",
        ),
        ("high", 0.01, -0.02, 0.04, None, "Mg makes little or no difference to pain."),
        (
            "very low",
            -0.5,
            -0.9,
            -0.1,
            None,
            "The evidence is very uncertain about the effect of Mg on pain.",
        ),
    ],
)
def test_plain_language_statements(level, est, lo, hi, thresholds, expected):
    assert statement_text(plain_statement(level, est, lo, hi, thresholds, "Mg", "pain")) == expected


def test_a_given_random_effects_fit_is_the_one_grade_would_make(tmp_path):
    rows = [("A", 60, 500, 120, 500), ("B", 130, 500, 90, 500), ("C", 50, 500, 110, 500)]
    p = write(tmp_path, rows)
    fe = metamg.pool(p, measure="RR", method="FE", ci_method="wald")
    reml = metamg.pool(p, measure="RR", method="REML", profile="cochrane")
    assert grade_certainty(fe, meta().grade, random_fit=reml.result) == grade_certainty(fe, meta().grade)
    assert (
        "inconsistency.prediction_interval" in grade_certainty(fe, meta().grade).domain("inconsistency").rules
    )


def test_every_rule_has_its_words():
    """Each rule analyses.grade can give is worded by render, and nothing else is."""
    import inspect
    import re

    import metamg.analyses.grade as grade

    given = set(
        re.findall(
            r'"((?:rob|inconsistency|indirectness|imprecision|publication_bias)\.[a-z_0-9]+)"',
            inspect.getsource(grade),
        )
    )
    assert len(given) >= 20 and given | {"override"} == set(RULES)
