"""Writes the small RevMan files of tests/revman/ (run: python tests/revman/make_files.py).

Made up from ../shared/revman/FORMAT.md, not copied from any review: every data type (DICH,
CONT, IV with log data, IPD O-E), subgroups, footnotes inside data rows, a double-zero row,
escaped study IDs, and each encoding (ISO-8859-1 with Windows-1252 bytes, UTF-8 with and
without BOM, CRLF, one line); a version 1 data package (zeros for missing, BOM, nested
...-data.zip) and a version 2 package folder (empty cells, footnotes with entities).

The stored totals of the inverse-variance analyses (MD random, IV fixed, O-E fixed) are
computed here by the textbook formulas, so that the tests can compare metamg's re-analysis
with them; the other stored numbers are only read back.
"""

from __future__ import annotations

import io
import math
import zipfile
from pathlib import Path

HERE = Path(__file__).parent


def _z(p):
    return math.erf(p / math.sqrt(2))


def pool_iv(yi, vi, random):
    w = [1 / v for v in vi]
    fe = sum(a * b for a, b in zip(w, yi, strict=True)) / sum(w)
    q = sum(a * (b - fe) ** 2 for a, b in zip(w, yi, strict=True))
    df = len(yi) - 1
    tau2 = 0.0
    if random:
        c = sum(w) - sum(a * a for a in w) / sum(w)
        tau2 = max(0.0, (q - df) / c)
    ws = [1 / (v + tau2) for v in vi]
    est = sum(a * b for a, b in zip(ws, yi, strict=True)) / sum(ws)
    se = math.sqrt(1 / sum(ws))
    z = est / se
    p = 1 - _z(abs(z))
    i2 = max(0.0, (q - df) / q) * 100 if q > 0 else 0.0
    return {
        "est": est,
        "lo": est - 1.959963984540054 * se,
        "hi": est + 1.959963984540054 * se,
        "tau2": tau2,
        "q": q,
        "df": df,
        "i2": i2,
        "z": abs(z),
        "p": p,
        "weights": [100 * a / sum(ws) for a in ws],
    }


def fmt(x):
    return repr(float(x))


# -- .rm5 -------------------------------------------------------------------------------------

STUDIES = [
    ("STD-Alpha_x002d_1", "Alpha-1 1990", "1990"),
    ("STD-Beta", "Beta 1995", "1994"),
    ("STD-Gamma", "Gamma\u00a0Trial 2001", "2001"),  # a no-break space in the name
    ("STD-Delta", "D\u00e9lta 2003", "2003"),  # an accented name
    ("STD-Eps_x002f_2", "Eps/2 2010", "2010"),
]

CONT_ROWS = [  # study, mean1, sd1, n1, mean2, sd2, n2, subgroup
    ("STD-Alpha_x002d_1", -5.4, 6.4, 67, -2.7, 6.4, 65, 1),
    ("STD-Beta", -5.6, 4.15, 45, -2.6, 4.15, 45, 1),
    ("STD-Gamma", -5.8, 5.23, 104, -1.8, 3.52, 110, 2),
    ("STD-Alpha_x002d_1", -11.88, 8.22, 40, -6.93, 7.57, 43, 2),  # the same study in a second subgroup
]
IV_ROWS = [("STD-Alpha_x002d_1", -0.35, 0.12), ("STD-Beta", -0.1, 0.2), ("STD-Delta", -0.5, 0.25)]
OE_ROWS = [("STD-Beta", -4.2, 10.5), ("STD-Gamma", -1.5, 6.25), ("STD-Eps_x002f_2", 2.0, 8.0)]


def _outcome_attrs(r, random=False):
    return (
        f'CHI2="{fmt(r["q"])}" CI_END="{fmt(r["hi"])}" CI_START="{fmt(r["lo"])}" CI_STUDY="95" '
        f'CI_TOTAL="95" DF="{r["df"]}" EFFECT_SIZE="{fmt(r["est"])}" ESTIMABLE="YES" I2="{fmt(r["i2"])}" '
        f'P_CHI2="0.5" P_Z="{fmt(r["p"])}" RANDOM="{"YES" if random else "NO"}" TAU2="{fmt(r["tau2"])}" '
        f'Z="{fmt(r["z"])}"'
    )


def _exp_attrs(r):
    return {**r, "est": math.exp(r["est"]), "lo": math.exp(r["lo"]), "hi": math.exp(r["hi"])}


def rm5(title_extra: str = "", outcome_dash: str = "\u2013") -> str:
    """The review as text; ``outcome_dash`` goes into an outcome name (cp1252 0x96 as a C1
    character when the file is 'ISO-8859-1' with Windows-1252 bytes)."""
    studies = "\n".join(
        f'<STUDY DATA_SOURCE="PUB" ID="{i}" NAME="{n}" YEAR="{y}"><REFERENCE/></STUDY>' for i, n, y in STUDIES
    )
    # DICH: OR, MH fixed, no subgroups; one double-zero row (not estimable) with a footnote
    dich = (
        '<DICH_OUTCOME CHI2="1.5" CI_END="0.95" CI_START="0.5" CI_STUDY="95" CI_TOTAL="95" DF="2" '
        'EFFECT_MEASURE="OR" EFFECT_SIZE="0.7" ESTIMABLE="YES" EVENTS_1="30" EVENTS_2="45" I2="0.0" '
        'I2_Q="0.0" ID="CMP-001.01" LOG_CI_END="-0.02" LOG_CI_START="-0.3" LOG_EFFECT_SIZE="-0.15" '
        'METHOD="MH" NO="1" P_CHI2="0.47" P_Q="0.0" P_Z="0.02" Q="0.0" RANDOM="NO" SCALE="100.0" '
        'SORT_BY="USER" STUDIES="4" SUBGROUPS="NO" SUBGROUP_TEST="NO" SWAP_EVENTS="NO" TAU2="0.0" '
        'TOTALS="YES" TOTAL_1="400" TOTAL_2="400" WEIGHT="100.0" Z="2.3">\n'
        f"<NAME>Death <INS>at 1 year</INS> {outcome_dash} all causes</NAME>"
        "<GROUP_LABEL_1>Drug</GROUP_LABEL_1><GROUP_LABEL_2>Placebo</GROUP_LABEL_2>"
        "<GRAPH_LABEL_1>Favours drug</GRAPH_LABEL_1><GRAPH_LABEL_2>Favours placebo</GRAPH_LABEL_2>\n"
        '  <DICH_DATA CI_END="1.2" CI_START="0.4" EFFECT_SIZE="0.7" ESTIMABLE="YES" EVENTS_1="10" EVENTS_2="15" '
        'ORDER="1" O_E="0.0" SE="0.28" STUDY_ID="STD-Alpha_x002d_1" TOTAL_1="100" TOTAL_2="100" VAR="0.08" WEIGHT="33.0"/>\n'
        '  <DICH_DATA CI_END="1.1" CI_START="0.35" EFFECT_SIZE="0.62" ESTIMABLE="YES" EVENTS_1="12" EVENTS_2="18" '
        'ORDER="2" O_E="0.0" SE="0.3" STUDY_ID="STD-Beta" TOTAL_1="100" TOTAL_2="100" VAR="0.09" WEIGHT="40.0">'
        "<FOOTNOTE>Deaths at 11 months; data from the authors</FOOTNOTE></DICH_DATA>\n"
        '  <DICH_DATA CI_END="0.0" CI_START="0.0" EFFECT_SIZE="0.0" ESTIMABLE="NO" EVENTS_1="0" EVENTS_2="0" '
        'ORDER="3" O_E="0.0" SE="0.0" STUDY_ID="STD-Gamma" TOTAL_1="100" TOTAL_2="100" VAR="0.0" WEIGHT="0.0"/>\n'
        '  <DICH_DATA CI_END="1.5" CI_START="0.4" EFFECT_SIZE="0.77" ESTIMABLE="YES" EVENTS_1="8" EVENTS_2="12" '
        'ORDER="4" O_E="0.0" SE="0.35" STUDY_ID="STD-Delta" TOTAL_1="100" TOTAL_2="100" VAR="0.12" WEIGHT="27.0"/>\n'
        "</DICH_OUTCOME>\n"
    )
    # CONT: MD random, two subgroups, the same study in both
    subs = []
    overall_y, overall_v = [], []
    for sg in (1, 2):
        rows = [r for r in CONT_ROWS if r[7] == sg]
        yi = [r[1] - r[4] for r in rows]
        vi = [r[2] ** 2 / r[3] + r[5] ** 2 / r[6] for r in rows]
        overall_y += yi
        overall_v += vi
        res = pool_iv(yi, vi, True)
        data = "".join(
            f'<CONT_DATA CI_END="{fmt(y + 1.96 * math.sqrt(v))}" CI_START="{fmt(y - 1.96 * math.sqrt(v))}" '
            f'EFFECT_SIZE="{fmt(y)}" ESTIMABLE="YES" MEAN_1="{r[1]}" MEAN_2="{r[4]}" ORDER="{k}" SD_1="{r[2]}" '
            f'SD_2="{r[5]}" SE="{fmt(math.sqrt(v))}" STUDY_ID="{r[0]}" TOTAL_1="{r[3]}" TOTAL_2="{r[6]}" WEIGHT="{fmt(w)}"'
            + (" ><FOOTNOTE>Change from baseline; SD imputed</FOOTNOTE></CONT_DATA>" if k == 2 else "/>")
            + "\n"
            for k, (r, y, v, w) in enumerate(zip(rows, yi, vi, res["weights"], strict=True), 1)
        )
        subs.append(
            f'<CONT_SUBGROUP {_outcome_attrs(res, True)} ID="CMP-001.02.0{sg}" NO="{sg}" STUDIES="{len(rows)}" '
            f'TOTAL_1="1" TOTAL_2="1" WEIGHT="50.0"><NAME>{"Short term" if sg == 1 else "Long term"}</NAME>\n'
            f"{data}</CONT_SUBGROUP>\n"
        )
    cont_res = pool_iv(overall_y, overall_v, True)
    cont = (
        f'<CONT_OUTCOME {_outcome_attrs(cont_res, True)} EFFECT_MEASURE="MD" I2_Q="12.5" ID="CMP-001.02" '
        'NO="2" P_Q="0.29" Q="1.1428" SCALE="10.0" SORT_BY="STUDY" STUDIES="3" SUBGROUPS="YES" '
        'SUBGROUP_TEST="YES" TOTALS="YES" TOTAL_1="256" TOTAL_2="263" UNITS="kg" WEIGHT="100.0">\n'
        "<NAME>Body weight \u2264 12 months</NAME><GROUP_LABEL_1>Drug</GROUP_LABEL_1>"
        "<GROUP_LABEL_2>Placebo</GROUP_LABEL_2><GRAPH_LABEL_1>Favours drug</GRAPH_LABEL_1>"
        "<GRAPH_LABEL_2>Favours placebo</GRAPH_LABEL_2>\n" + "".join(subs) + "</CONT_OUTCOME>\n"
    )
    # IV: log hazard ratios, fixed effect
    iv_res = _exp_attrs(pool_iv([r[1] for r in IV_ROWS], [r[2] ** 2 for r in IV_ROWS], False))
    iv = (
        f'<IV_OUTCOME {_outcome_attrs(iv_res)} ID="CMP-002.01" LOG_DATA="YES" NO="1" SCALE="10.0" '
        'SORT_BY="USER" STUDIES="3" SUBGROUPS="NO" SUBGROUP_TEST="NO" TOTALS="YES" TOTAL_1="300" TOTAL_2="300" '
        'WEIGHT="100.0">\n<NAME>Overall survival</NAME><EFFECT_MEASURE>Hazard Ratio</EFFECT_MEASURE>\n'
        + "".join(
            f'<IV_DATA CI_END="{fmt(math.exp(y + 1.96 * s))}" CI_START="{fmt(math.exp(y - 1.96 * s))}" '
            f'EFFECT_SIZE="{fmt(math.exp(y))}" ESTIMABLE="YES" ESTIMATE="{y}" ORDER="{k}" SE="{s}" '
            f'STUDY_ID="{i}" TOTAL_1="100" TOTAL_2="100" WEIGHT="{fmt(w)}"/>\n'
            for k, ((i, y, s), w) in enumerate(zip(IV_ROWS, iv_res["weights"], strict=True), 1)
        )
        + "</IV_OUTCOME>\n"
    )
    # IPD: O - E and variance (Peto), fixed effect, no METHOD attribute
    oe_y = [oe / v for _, oe, v in OE_ROWS]
    oe_res = _exp_attrs(pool_iv(oe_y, [1 / v for _, _, v in OE_ROWS], False))
    ipd = (
        f'<IPD_OUTCOME {_outcome_attrs(oe_res)} ID="CMP-002.02" NO="2" SCALE="10.0" SORT_BY="USER" '
        'STUDIES="3" SUBGROUPS="NO" SUBGROUP_TEST="NO" TOTALS="YES" TOTAL_1="150" TOTAL_2="150" WEIGHT="100.0">\n'
        "<NAME>Time to relapse</NAME><EFFECT_MEASURE>Peto Odds Ratio</EFFECT_MEASURE>\n"
        + "".join(
            f'<IPD_DATA CI_END="1.0" CI_START="0.5" EFFECT_SIZE="{fmt(math.exp(oe / v))}" ESTIMABLE="YES" '
            f'O_E="{oe}" ORDER="{k}" SE="{fmt(1 / math.sqrt(v))}" STUDY_ID="{i}" TOTAL_1="50" TOTAL_2="50" '
            f'VAR="{v}" WEIGHT="{fmt(w)}"/>\n'
            for k, ((i, oe, v), w) in enumerate(zip(OE_ROWS, oe_res["weights"], strict=True), 1)
        )
        + "</IPD_OUTCOME>\n"
    )
    # CONT: SMD with TOTALS="NO" (overall numbers present but not shown), ID gap (outcome 5)
    smd = (
        '<CONT_OUTCOME CHI2="0.0" CI_END="0.0" CI_START="0.0" CI_STUDY="95" CI_TOTAL="95" DF="1" '
        'EFFECT_MEASURE="SMD" EFFECT_SIZE="-0.3" ESTIMABLE="YES" I2="0.0" I2_Q="0.0" ID="CMP-002.05" NO="5" '
        'P_CHI2="1.0" P_Q="0.0" P_Z="0.1" Q="0.0" RANDOM="NO" STUDIES="2" SUBGROUPS="NO" SUBGROUP_TEST="NO" '
        'TAU2="0.0" TOTALS="NO" TOTAL_1="40" TOTAL_2="40" UNITS="" WEIGHT="100.0" Z="1.6">\n'
        "<NAME>Pain (any scale)</NAME>\n"
        '<CONT_DATA CI_END="" CI_START="" EFFECT_SIZE="" ESTIMABLE="YES" MEAN_1="5.0" MEAN_2="6.5" ORDER="1" '
        'SD_1="4.7" SD_2="3.8" SE="" STUDY_ID="STD-Beta" TOTAL_1="20" TOTAL_2="20" WEIGHT=""/>\n'
        '<CONT_DATA CI_END="0.0" CI_START="0.0" EFFECT_SIZE="0.0" ESTIMABLE="NO" MEAN_1="0.0" MEAN_2="0.0" '
        'ORDER="2" SD_1="0.0" SD_2="0.0" SE="0.0" STUDY_ID="STD-Delta" TOTAL_1="20" TOTAL_2="20" WEIGHT="0.0"/>\n'
        "</CONT_OUTCOME>\n"
    )
    return (
        '<COCHRANE_REVIEW DOI="10.1002/14651858.CD999001.pub2" ID="1" REVMAN_SUB_VERSION="5.3.5 " '
        'REVMAN_VERSION="5" STAGE="R" TYPE="INTERVENTION">\n'
        f"<COVER_SHEET><TITLE>Mini review for metamg{title_extra}</TITLE></COVER_SHEET>\n"
        "<STUDIES_AND_REFERENCES><STUDIES><INCLUDED_STUDIES>\n"
        f"{studies}\n</INCLUDED_STUDIES></STUDIES></STUDIES_AND_REFERENCES>\n"
        '<ANALYSES_AND_DATA CALCULATED_DATA="YES">\n'
        f'<COMPARISON ID="CMP-001" NO="1"><NAME>Drug versus placebo</NAME>\n{dich}{cont}</COMPARISON>\n'
        f'<COMPARISON ID="CMP-002" NO="2"><NAME>Drug versus <SUB>usual</SUB> care</NAME>\n{iv}{ipd}{smd}'
        "</COMPARISON>\n</ANALYSES_AND_DATA>\n</COCHRANE_REVIEW>\n"
    )


def write_rm5():
    decl = '<?xml version="1.0" encoding="{}" standalone="no"?>\n'
    # UTF-8, LF, no BOM
    (HERE / "mini_utf8.rm5").write_bytes((decl.format("UTF-8") + rm5()).encode("utf-8"))
    # UTF-8 with BOM and CRLF line ends
    text = decl.format("UTF-8") + rm5(" (BOM, CRLF)")
    (HERE / "mini_utf8_bom_crlf.rm5").write_bytes(
        b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8")
    )
    # ISO-8859-1 declared, Windows-1252 bytes inside (0x96 en dash, 0x93/0x94 quotes); no '≤'
    text = decl.format("ISO-8859-1") + rm5(" \u201cquoted\u201d").replace("\u2264", "&lt;=")
    (HERE / "mini_latin1_cp1252.rm5").write_bytes(text.encode("cp1252"))
    # the whole document on one line, UTF-8, a footnote holding markup
    one = (decl.format("UTF-8") + rm5(" (one line)")).replace("\n", "")
    (HERE / "mini_one_line.rm5").write_bytes(one.encode("utf-8"))
    # UTF-8 declared but one stray Windows-1252 byte (0x93) in the title
    raw = (decl.format("UTF-8") + rm5(" STRAY")).encode("utf-8").replace(b" STRAY", b" \x93stray\x94")
    (HERE / "mini_utf8_stray_cp1252.rm5").write_bytes(raw)


# -- data packages ----------------------------------------------------------------------------

V1_OVERALL = (
    "Analysis group,Analysis number,Analysis name,Analysis group name,Data source,Data source eligibility,"
    "Data type,Log-scale data,Outcome,Intervention grouping,Experimental intervention,Control intervention,"
    "Subgroup by,Filter criteria,Experimental group label,Control group label,Statistical method,"
    "Effect measure,Unit of effect measure,Analysis model,Subgroup estimates,Overall estimates,"
    "Test for subgroup differences,Swap event and non-event,Study CI,Estimate CI,Experimental cases,"
    "Experimental N,Control cases,Control N,Mean,CI start,CI end,Heterogeneity Tau\u00b2,"
    "Heterogeneity Chi\u00b2,Heterogeneity df,Heterogeneity P,Heterogeneity I\u00b2,Effect Z,Effect P,"
    "Subgroup Chi\u00b2,Subgroup df,Subgroup P,Subgroup I\u00b2,ID"
)
V1_ROWS = (
    "Analysis group,Analysis number,Analysis name,Subgroup,Applicability,Study,Study year,GIV Mean,GIV SE,"
    "Experimental mean,Experimental SD,Experimental cases,Experimental N,Control mean,Control SD,"
    "Control cases,Control N,O-E,Variance,Weight,Mean,CI start,CI end,Footnotes"
)
V1_SUBGROUPS = (
    "Analysis group,Analysis number,Subgroup,Subgroup number,Experimental cases,Experimental N,Control cases,"
    "Control N,Weight,Mean,CI start,CI end,Heterogeneity Tau\u00b2,Heterogeneity Chi\u00b2,Heterogeneity df,"
    "Heterogeneity P,Heterogeneity I\u00b2,Effect Z,Effect P,ID"
)


def write_v1_zip():
    overall = "\n".join(
        [
            V1_OVERALL,
            "1,1,Death,Drug versus placebo,Custom input,#N/A,Dichotomous,true,,,,,,,Drug,Placebo,MH,Risk Ratio,,"
            "Fixed effect,true,true,true,false,95%,95%,22,300,33,300,0.666667,0.401531,1.106862,,0.5,1,0.479500,0,"
            "1.565611,0.117449,0.25,1,0.617075,0,analysis:1",
            "1,2,Pain,Drug versus placebo,Custom input,#N/A,Continuous,false,,,,,,,Drug,Placebo,IV,"
            "Std. Mean Difference,,Fixed effect,true,true,true,false,95%,95%,,50,,50,0,0,0,,0,1,0,0,0,0,,,,,analysis:2",
        ]
    )
    rows = "\n".join(
        [
            V1_ROWS,
            "1,1,Death,Adults,SUBGROUP_AND_OVERALL,Alpha 1990,1990,0.0,0.0,0.0,0.0,10,100,0.0,0.0,15,100,0.0,0.0,"
            '45.45,0.666667,0.317271,1.400778,"Deaths, all causes"',
            "1,1,Death,Children,SUBGROUP_AND_OVERALL,Beta 1995,1995,0.0,0.0,0.0,0.0,12,100,0.0,0.0,18,100,0.0,0.0,"
            "54.55,0.666667,0.341389,1.301905,",
            "1,1,Death,Children,SUBGROUP_AND_OVERALL,Gamma 2001,2001,0.0,0.0,0.0,0.0,0,100,0.0,0.0,0,100,0.0,0.0,"
            "0,0,0,0,double zero",
            "1,2,Pain,,SUBGROUP_AND_OVERALL,Davis,1973,0.0,0.0,5.0,4.7,0,25,6.5,3.8,0,25,0.0,0.0,0,0,0,0,",
            "1,2,Pain,,SUBGROUP_AND_OVERALL,Florell,1971,0.0,0.0,4.9,1.71,0,25,6.1,2.3,0,25,0.0,0.0,0,0,0,0,",
        ]
    )
    subgroups = "\n".join(
        [
            V1_SUBGROUPS,
            "1,1,Adults,1,10,100,15,100,45.45,0.666667,0.317271,1.400778,,0,0,0,0,1.071,0.284,subgroup:1",
            "1,1,Children,2,12,200,18,200,54.55,0.666667,0.341389,1.301905,,0,0,0,0,1.189,0.234,subgroup:2",
        ]
    )
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as z:
        for name, text in (
            ("123-analysis-data/123-overall-estimates-and-settings.csv", overall),
            ("123-analysis-data/123-data-rows.csv", rows),
            ("123-analysis-data/123-subgroup-estimates.csv", subgroups),
            ("123-study-data/123-study-information.csv", "Study,Year\nAlpha 1990,1990"),
        ):
            z.writestr(
                zipfile.ZipInfo(name, (2024, 1, 1, 0, 0, 0)), "\ufeff" + text.replace("\n", "\r\n") + "\r\n"
            )
    with zipfile.ZipFile(HERE / "MiniV1.zip", "w") as z:
        z.writestr(zipfile.ZipInfo("MiniV1/123-article.pdf", (2024, 1, 1, 0, 0, 0)), b"%PDF-1.4 not really")
        z.writestr(zipfile.ZipInfo("MiniV1/123-files/123-data.zip", (2024, 1, 1, 0, 0, 0)), inner.getvalue())


V2_OVERALL = (
    "Analysis group,Analysis number,Analysis name,Analysis group name,Data source,Data source eligibility,"
    "Data type,Log-scale data,Outcome,Intervention grouping,Experimental intervention,Control intervention,"
    "Subgroup by,Filter criteria,Experimental group label,Control group label,Statistical method,Effect measure,"
    "Unit of effect measure,Analysis model,Heterogeneity estimator,Tau\u00b2 CI,Subgroup estimates,"
    "Overall estimates,Test for subgroup differences,Prediction interval,Swap event and non-event,CI method,"
    "CI/PI level,Sort studies by,Graph label (left),Graph label (right),Graph scale,Show risk of bias,"
    "Experimental cases,Experimental N,Control cases,Control N,Mean,CI start,CI end,PI start,PI end,"
    "Heterogeneity Tau\u00b2,Tau\u00b2 CI start,Tau\u00b2 CI end,Heterogeneity Chi\u00b2,Heterogeneity df,"
    "Heterogeneity P,Heterogeneity I\u00b2,Effect Z,Effect T,Effect P,Subgroup Chi\u00b2,Subgroup df,Subgroup P,"
    "Subgroup I\u00b2,ID"
)
V2_ROWS = (
    "Analysis group,Analysis number,Analysis name,Subgroup,Subgroup number,Applicability,Study,Study year,"
    "GIV Mean,GIV SE,Experimental mean,Experimental SD,Experimental cases,Experimental N,Control mean,"
    "Control SD,Control cases,Control N,O-E,Variance,Weight,Mean,CI start,CI end,Footnotes"
)
V2_SUBGROUPS = (
    "Analysis group,Analysis number,Subgroup,Subgroup number,Experimental cases,Experimental N,Control cases,"
    "Control N,Weight,Mean,CI start,CI end,Heterogeneity Tau\u00b2,Tau\u00b2 CI start,Tau\u00b2 CI end,"
    "Heterogeneity Chi\u00b2,Heterogeneity df,Heterogeneity P,Heterogeneity I\u00b2,Effect Z,Effect T,Effect P,ID"
)


def write_v2_folder():
    hr = [(-0.35, 0.12), (-0.1, 0.2), (-0.5, 0.25)]
    r = pool_iv([y for y, _ in hr], [s * s for _, s in hr], True)
    oe = [(-4.2, 10.5), (-1.5, 6.25)]
    ro = pool_iv([a / v for a, v in oe], [1 / v for _, v in oe], False)

    def settings(dtype, method, measure, model, log):
        return (
            f"Custom input,#N/A,{dtype},{log},,,,,,,Drug,Placebo,{method},{measure},,{model},"
            f"{'DL' if model.startswith('Random') else '#N/A'},false,true,true,true,false,false,Wald,95%,STUDY,"
            "Favours drug,Favours placebo,10,true"
        )

    overall = "\n".join(
        [
            V2_OVERALL,
            f'1,1,"Survival, overall",Drug versus placebo&nbsp;,{settings("Contrast level", "IV", "Hazard Ratio", "Random effect", "true")},'
            f",300,,300,{fmt(math.exp(r['est']))},{fmt(math.exp(r['lo']))},{fmt(math.exp(r['hi']))},,,{fmt(r['tau2'])},,,"
            f"{fmt(r['q'])},{r['df']},0.4,{fmt(r['i2'])},{fmt(r['z'])},,{fmt(r['p'])},,,,,analysis:11",
            f"1,2,Relapse,Drug versus placebo&nbsp;,{settings('O-E and variance', 'EXP_O_E_VAR', 'Peto Odds Ratio', 'Fixed effect', 'true')},"
            f",100,,100,{fmt(math.exp(ro['est']))},{fmt(math.exp(ro['lo']))},{fmt(math.exp(ro['hi']))},,,0,,,"
            f"{fmt(ro['q'])},{ro['df']},0.6,{fmt(ro['i2'])},{fmt(ro['z'])},,{fmt(ro['p'])},,,,,analysis:12",
            f"1,3,Adverse events,Drug versus placebo&nbsp;,{settings('Dichotomous', 'MH', 'Risk Ratio', 'Fixed effect', 'true')},"
            "10,90,12,90,0.8333,0.4,1.7,,,,,,0.1,1,0.75,0,0.5,,0.62,0.2,1,0.65,0,analysis:13",
        ]
    )
    rows = [V2_ROWS]
    for (y, s), (study, year) in zip(
        hr, [("Alpha 1990", 1990), ("Beta 1995", 1995), ("Delta 2003", 2003)], strict=True
    ):
        rows.append(
            f'1,1,"Survival, overall",,,SUBGROUP_AND_OVERALL,{study},{year},{y},{s},,,,100,,,,100,,,30.0,'
            f"{fmt(math.exp(y))},{fmt(math.exp(y - 1.96 * s))},{fmt(math.exp(y + 1.96 * s))},"
            + ("Median follow-up&nbsp;5 years; participants \u2265 65" if study == "Beta 1995" else "")
        )
    for (a, v), study in zip(oe, ["Beta 1995", "Gamma 2001"], strict=True):
        rows.append(
            f"1,2,Relapse,,,SUBGROUP_AND_OVERALL,{study},,,,,,,50,,,,50,{a},{v},50.0,"
            f"{fmt(math.exp(a / v))},{fmt(math.exp(a / v - 1.96 / math.sqrt(v)))},{fmt(math.exp(a / v + 1.96 / math.sqrt(v)))},"
        )
    rows += [
        "1,3,Adverse events,Low dose,1,SUBGROUP_AND_OVERALL,Alpha 1990,1990,,,,,4,45,,,5,45,,,40,0.8,0.23,2.8,",
        "1,3,Adverse events,Low dose,1,SUBGROUP_AND_OVERALL,Cocco 2005,2005,,,,,0,45,,,0,45,,,,,,,",
        "1,3,Adverse events,High dose,2,SUBGROUP_AND_OVERALL,Alpha 1990,1990,,,,,6,45,,,7,45,,,60,0.857,0.31,2.4,",
    ]
    subgroups = "\n".join(
        [
            V2_SUBGROUPS,
            "1,3,Low dose,1,4,90,5,90,40,0.8,0.23,2.8,,,,0,0,1,,0.35,,0.73,subgroup:1",
            "1,3,High dose,2,6,45,7,45,60,0.857,0.31,2.4,,,,9.57e-32,0,0,,0.3,,0.76,subgroup:2",
        ]
    )
    folder = HERE / "CD999002-dataPackage" / "CD999002-analysis-data"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "CD999002-overall-estimates-and-settings.csv").write_text(overall + "\n", encoding="utf-8")
    (folder / "CD999002-data-rows.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    (folder / "CD999002-subgroup-estimates.csv").write_text(subgroups + "\n", encoding="utf-8")


if __name__ == "__main__":
    write_rm5()
    write_v1_zip()
    write_v2_folder()
