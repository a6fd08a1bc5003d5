"""Forest plots drawn with matplotlib, in the Cochrane/metafor layout or a compact one.

``forest_layout`` computes everything the picture shows (rows, texts, box areas, diamonds,
axis limits and tick labels, the columns, the font and the figure's size in inches) as plain
data, which the tests check; ``draw_forest`` only draws it. Box areas are proportional to the
study's weight (relative to the heaviest study; at least 2 pt² at 8.5 pt type, so that a box is
always visible).

What is drawn:

- One row per pooled study. Candidate studies that were not pooled (no estimable effect, or
  excluded by the curator) are listed in the report's table of studies, not drawn; a note
  under the plot counts them, and ``show_excluded=True`` draws them as "not estimable" rows.
- The pooled diamond; with one study, no heterogeneity line and no prediction interval (there
  is nothing to be heterogeneous, and nothing to predict from).
- A second diamond when the caller passes one: ``answer``, the model the report's verdicts use
  when it is not the main one, or ``other``, the other model (common effect beside random
  effects, or the reverse) when the two disagree (the caller decides with
  ``metamg.analyses.appraisal.models_disagree``: one CI excludes no effect and the other does
  not, or the estimates are more than 25% apart on the ratio scale, 0.223 on the analysis scale).
- A shaded band for the minimal important difference (``mid_band``, natural scale), when the
  study set's metadata states one (``[grade] mid``).

Layouts (``metamg.vocabulary.FOREST_LAYOUTS``): ``cochrane`` (RevMan's: study, raw data, plot,
effect with CI, weight, risk-of-bias dots) and ``compact`` (JAMA's: study, effect with CI,
plot, weight). Sizes are ``metamg.render.figures.SIZES``. ``auto`` sizes the figure to its
columns and rows at 9 pt. ``page`` (6.3 in wide) and ``slide`` (13.33 x 7.5 in) have a fixed
width; when the columns would leave the plot panel less than ``MIN_PLOT_SHARE`` of it, the
layout first makes the type smaller down to a size that still reads (page: 7 pt; slide: the
largest type at which the rows fit the slide's height), then drops columns in this order: the
risk-of-bias domains (the overall judgement stays), the raw data, the risk of bias; then the
type shrinks to the size's minimum; then study labels are shortened further.
``ForestLayout.dropped`` says what was left out.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any

from metamg.analyses.grade import decision_thresholds
from metamg.io import rob
from metamg.io.rob import has_rob
from metamg.render.figures import (
    FAVOURS_CHARS,
    TITLE_CHARS,
    FigureSize,
    axis_caption,
    axis_label,
    axis_texts,
    below_axis,
    effect_axis,
    favours_labels,
    figure_size,
    fit_lines,
    line_height,
    linear_limits,
    linear_ticks,
    lines_in,
    new_figure,
    null_fraction,
    plain_text,
    ratio_limits,
    ratio_ticks,
    shorten,
    text_width,
    tick_label,
    title_block,
)
from metamg.render.intervals import prediction_shown
from metamg.render.numbers import effect_digits, fmt_fixed, fmt_num, fmt_p, level_label
from metamg.render.robplot import (
    draw_dot,
    draw_level_key,
    header,
    legend_lines,
    level_key_width,
    shown_columns,
)
from metamg.vocabulary import DEFAULT_FOREST_LAYOUT, FOREST_LAYOUTS

ROW_PITCH = 1.75  # a row is this many times the body font high (0.22 in at 9 pt)
PLOT_EM = 24.0  # auto: the plot panel is this many ems wide (3.0 in at 9 pt)
GAP_EM = 1.1  # space between two columns, in ems
MAX_BOX_PT2 = 180.0  # marker area of the heaviest study at 8.5 pt type (scales with the type)
MIN_BOX_PT2 = 2.0
DOT_PT2 = 70.0  # a risk-of-bias dot at 8.5 pt type
REFERENCE_FONT = 8.5  # the type size the marker areas above are given for
# The smallest share of a fixed width (page, slide) the plot panel gets before type shrinks
# or columns are dropped.
MIN_PLOT_SHARE = {"page": 0.25, "slide": 0.35}
MAX_PLOT_SHARE = 0.5  # slide: width beyond this goes to the space between columns
COMFORTABLE_FONT = {"page": 7.0}  # page: type shrinks to this before columns are dropped
MIN_LABEL_CHARS = 16
QUALIFIERS = ("(main analysis)", "(used for the verdicts)")  # what a diamond's label may end with
# One row per study: beyond this a forest plot is too tall to read (and to hold in memory at
# print resolution); reports and `metamg forest` say so instead of drawing it.
MAX_FOREST_STUDIES = 150
# What ``dropped`` names, in the order columns are given up
DROP_ROB_DOMAINS, DROP_DATA, DROP_ROB = "risk-of-bias domains", "raw data", "risk of bias"


def forest_rows(analysis, show_excluded: bool = False) -> int:
    """The study rows a forest plot of ``analysis`` draws: the pooled studies, and the
    not-estimable ones when ``show_excluded``."""
    return int(analysis.result.k) + (len(analysis.excluded) if show_excluded else 0)


@dataclass(frozen=True)
class ForestRow:
    kind: str  # header | study | not-estimable | subtotal | overall | prediction | note
    y: float
    label: str = ""
    cells: tuple[str, ...] = ()
    effect_text: str = ""
    weight_text: str = ""
    estimate: float | None = None  # natural scale
    ci_low: float | None = None
    ci_high: float | None = None
    box_area: float | None = None  # pt² at REFERENCE_FONT
    clipped_low: bool = False
    clipped_high: bool = False
    rob: tuple[str, ...] = ()  # RoB 2 judgements per rob column ('' = not assessed)
    second: bool = False  # an overall row: the second diamond (drawn lighter)


@dataclass(frozen=True)
class ForestLayout:
    title: str
    measure: str
    columns: tuple[str, ...]  # headers of the raw-data columns shown
    rows: tuple[ForestRow, ...]
    log_scale: bool
    null: float
    xlim: tuple[float, float]
    xticks: tuple[float, ...]
    xtick_labels: tuple[str, ...]
    favours: tuple[str, str]
    effect_header: str = ""
    level: float = 0.95
    column_widths: tuple[float, ...] = field(default=())  # inches, one per column_kinds
    width: float = 0.0  # the figure, inches
    height: float = 0.0
    rob_columns: tuple[str, ...] = ()  # CSV names of the risk-of-bias columns shown
    rob_legend: tuple[str, ...] = ()
    # label | data | plot | effect | weight | rob, left to right
    column_kinds: tuple[str, ...] = ()
    size: str = "auto"
    layout: str = DEFAULT_FOREST_LAYOUT
    font: float = 9.0  # body text, pt
    title_lines: tuple[str, ...] = ()
    title_font: float = 12.0
    row_height: float = 0.0  # inches
    top: float = 0.0  # inches from the figure's top edge to the first row's top
    bottom: float = 0.0  # inches from the figure's bottom edge to the plot panel
    margin: float = 0.12  # inches left of the first column (and of the title)
    mid_band: tuple[float, float] | None = None  # natural scale
    dropped: tuple[str, ...] = ()  # columns a fixed size left out (DROP_*)
    caption: str = ""  # under the axis: what it measures (lines wrapped to the room there is)

    def row(self, label: str, kind: str | None = None) -> ForestRow:
        return next(r for r in self.rows if r.label == label and (kind is None or r.kind == kind))

    @property
    def aspect(self) -> float:
        """Width over height."""
        return self.width / self.height


def forest_layout(
    analysis,
    favours=("favours treatment", "favours control"),
    title: str = "",
    subgroups=None,
    answer=None,
    *,
    other=None,
    size: str | FigureSize | None = None,
    layout: str | None = None,
    show_excluded: bool = False,
    mid_band: tuple[float, float] | None = None,
) -> ForestLayout:
    """Everything a forest plot of ``analysis`` (and optional SubgroupAnalysis) shows, at
    ``size`` in ``layout``. ``answer`` is a second pooled analysis of the same studies drawn
    as its own diamond: the model the verdicts use when it is not the main one; ``other`` is
    the other model, drawn as a second diamond because the two disagree (the caller decides;
    ignored when ``answer`` is given). ``show_excluded`` draws the candidate studies that were
    not pooled as "not estimable" rows; ``mid_band`` (natural scale) shades the effects smaller
    than the minimal important difference."""
    spec = figure_size(size)
    style = layout or DEFAULT_FOREST_LAYOUT
    if style not in FOREST_LAYOUTS:
        raise ValueError(f"forest layout {layout!r}: choose {', '.join(FOREST_LAYOUTS)}")
    second = answer if answer is not None else other
    title = title or analysis.source
    content = _Content.of(
        analysis, favours, title, subgroups, second, answer is not None, show_excluded, mid_band
    )
    return _fit(content, spec, style)


@dataclass(frozen=True)
class _Content:
    """What a forest plot shows whatever its size: the analyses, the axis, the data columns."""

    analysis: Any
    favours: tuple[str, str]
    title: str
    subgroups: Any
    second: Any  # the second diamond's analysis, or None
    second_is_answer: bool
    show_excluded: bool
    mid_band: tuple[float, float] | None
    columns: tuple[str, ...]
    cells_of: Any
    rob_columns: tuple[str, ...]
    rob_of: Any
    log_scale: bool
    null: float
    xlim: tuple[float, float]
    ticks: tuple[float, ...]
    digits: int

    @classmethod
    def of(cls, analysis, favours, title, subgroups, second, second_is_answer, show_excluded, mid_band):
        m, r = analysis.measure, analysis.result
        nat = analysis.natural
        columns, cells_of = data_columns(analysis)
        rob_columns, rob_of = _rob_columns(analysis.effects)
        log_scale = m.scale == "log"
        null = 1.0 if log_scale else 0.0
        bounds = [nat(v) for row in analysis.rows for v in (row.ci_low, row.ci_high)]
        bounds += [nat(v) for v in (r.ci_low, r.ci_high)]
        if prediction_shown(r):
            bounds += [nat(r.pi_low), nat(r.pi_high)]
        if second is not None:
            bounds += [nat(second.result.ci_low), nat(second.result.ci_high)]
        for g in subgroups.subgroups if subgroups is not None else ():
            bounds += [nat(g.analysis.result.ci_low), nat(g.analysis.result.ci_high)]
        if mid_band is not None:
            bounds += list(mid_band)
        if log_scale:
            xlim = ratio_limits(bounds)
            ticks = ratio_ticks(*xlim)
        else:
            xlim = linear_limits(bounds, null)
            ticks = linear_ticks(*xlim)
            xlim = (min(xlim[0], ticks[0]), max(xlim[1], ticks[-1]))
        return cls(
            analysis,
            tuple(favours),
            title,
            subgroups,
            second,
            second_is_answer,
            show_excluded,
            mid_band,
            columns,
            cells_of,
            rob_columns,
            rob_of,
            log_scale,
            null,
            xlim,
            tuple(ticks),
            effect_digits(m),
        )

    def effect_text(self, est, lo, hi) -> str:
        d = self.digits
        return f"{fmt_fixed(est, d)} [{fmt_fixed(lo, d)}, {fmt_fixed(hi, d)}]"

    def rows(self, label_chars: int, split: bool = False) -> list[ForestRow]:
        """The rows top to bottom (y in row units), study labels cut at ``label_chars``;
        ``split`` puts the last parenthesis of a diamond's label ("(main analysis)", "(REML,
        HKSJ CI)") on a second line, in a row half as high again."""
        analysis, xlim = self.analysis, self.xlim
        r, nat = analysis.result, analysis.natural
        study_rows = {row.study: row for row in analysis.rows}
        weights = {row.study: row.weight for row in analysis.rows}
        wmax = max([w for w in weights.values() if w is not None] or [1.0])

        def study_row(name, y):
            s = study_rows[name]
            est, lo, hi = nat(s.yi), nat(s.ci_low), nat(s.ci_high)
            w = weights[name]
            area = None if w is None else max(MIN_BOX_PT2, MAX_BOX_PT2 * w / wmax)
            return ForestRow(
                "study",
                y,
                shorten(name, label_chars),
                self.cells_of(name),
                self.effect_text(est, lo, hi),
                "" if w is None else f"{w:.1f}%",
                est,
                lo,
                hi,
                area,
                lo < xlim[0],
                hi > xlim[1],
                self.rob_of(name),
            )

        def pooled_row(a, y, label, kind, weight_text, second=False):
            res = a.result
            est, lo, hi = nat(res.estimate), nat(res.ci_low), nat(res.ci_high)
            return ForestRow(
                kind, y, label, (), self.effect_text(est, lo, hi), weight_text, est, lo, hi, second=second
            )

        def test_text(res, which: str) -> str:
            test = "z" if res.df is None else f"t({res.df:g})"
            return f"Test for overall effect{which}: {test} = {res.statistic:.2f} ({fmt_p(res.p)})"

        rows: list[ForestRow] = []
        y = 0.0
        subgroups = self.subgroups
        if subgroups is None:
            for name in analysis.effects.studies:
                rows.append(study_row(name, y))
                y += 1
        else:
            for g in subgroups.subgroups:
                rows.append(ForestRow("header", y, shorten(f"{subgroups.column}: {g.level}", label_chars)))
                y += 1
                for name in g.analysis.effects.studies:
                    rows.append(study_row(name, y))
                    y += 1
                share = sum(weights[n] or 0 for n in g.analysis.effects.studies)
                gk = g.analysis.result.k
                rows.append(pooled_row(g.analysis, y, f"Subtotal (k = {gk})", "subtotal", f"{share:.1f}%"))
                y += 1
                if gk > 1:  # one study: nothing to be heterogeneous
                    rows.append(ForestRow("note", y, _heterogeneity_text(g.analysis.result)))
                    y += 1
                y += 0.5
        if self.show_excluded:
            for e in analysis.excluded:
                blank = ("",) * len(self.columns)
                rows.append(
                    ForestRow("not-estimable", y, shorten(e.study, label_chars), blank, "not estimable")
                )
                y += 1
        y += 0.5
        second = self.second

        def diamond(a, qualifier, weight_text, is_second=False):
            nonlocal y
            label = _model_label(a.result) + (f" {qualifier}" if qualifier else "")
            if split and " (" in label:  # the last parenthesis on a line of its own
                head, _, tail = label.rpartition(" (")
                rows.append(pooled_row(a, y + 0.25, f"{head}\n({tail}", "overall", weight_text, is_second))
                y += 1.5
            else:
                rows.append(pooled_row(a, y, label, "overall", weight_text, is_second))
                y += 1

        diamond(analysis, QUALIFIERS[0] if second is not None else "", "100.0%")
        if prediction_shown(r):
            lo, hi = nat(r.pi_low), nat(r.pi_high)
            d = self.digits
            rows.append(
                ForestRow(
                    "prediction",
                    y,
                    "Prediction interval",
                    (),
                    f"[{fmt_fixed(lo, d)}, {fmt_fixed(hi, d)}]",
                    "",
                    None,
                    lo,
                    hi,
                    None,
                    lo < xlim[0],
                    hi > xlim[1],
                )
            )
            y += 1
        if second is not None:
            diamond(second, QUALIFIERS[1] if self.second_is_answer else "", "", True)
        y += 0.3
        if r.k > 1:  # one study: no heterogeneity to speak of
            rows.append(ForestRow("note", y, _heterogeneity_text(r)))
            y += 1
        rows.append(ForestRow("note", y, test_text(r, " (main analysis)" if second is not None else "")))
        y += 1
        if second is not None:
            which = "used for the verdicts" if self.second_is_answer else _model_kind(second.result)
            rows.append(ForestRow("note", y, test_text(second.result, f" ({which})")))
            y += 1
        if subgroups is not None and subgroups.between is not None:
            b = subgroups.between
            rows.append(
                ForestRow(
                    "note", y, f"Test for subgroup differences: Q = {b.q:.2f}, df = {b.q_df} ({fmt_p(b.q_p)})"
                )
            )
            y += 1
        if self.mid_band is not None:
            lo, hi = self.mid_band
            d = self.digits
            rows.append(
                ForestRow(
                    "note",
                    y,
                    "Shaded: effects smaller than the minimal important difference "
                    f"({fmt_fixed(lo, d)} to {fmt_fixed(hi, d)})",
                )
            )
            y += 1
        if analysis.excluded and not self.show_excluded:
            rows.append(ForestRow("note", y, _not_shown_text(analysis.excluded)))
        return rows


def _not_shown_text(excluded) -> str:
    """The note that counts the candidate studies not drawn."""
    curator = sum(1 for e in excluded if e.reason.rule == "excluded.curator")
    other = len(excluded) - curator

    def n(k: int) -> str:
        return f"{k} candidate {'study' if k == 1 else 'studies'}"

    parts = []
    if other:
        parts.append(f"{n(other)} with no estimable effect")
    if curator:
        parts.append(f"{curator if other else n(curator)} excluded by the curator")
    return "Not shown: " + " and ".join(parts)


def _model_kind(r) -> str:
    return "random effects" if r.is_random else "common effect"


@dataclass(frozen=True)
class _Variant:
    """A set of columns to try: the raw-data and risk-of-bias columns kept, what was dropped."""

    data: bool
    rob_columns: tuple[str, ...]
    dropped: tuple[str, ...]


def _variants(content: _Content, style: str) -> list[_Variant]:
    """The column sets a fixed size tries, from all columns to the fewest."""
    rc = content.rob_columns
    if style == "compact":
        return [_Variant(False, (), ())]
    out = [_Variant(True, rc, ())]
    dropped: tuple[str, ...] = ()
    if len(rc) > 1:
        dropped = (DROP_ROB_DOMAINS,)
        rc = rc[-1:]  # the overall judgement (shown_columns puts it last)
        out.append(_Variant(True, rc, dropped))
    if content.columns:
        dropped += (DROP_DATA,)
        out.append(_Variant(False, rc, dropped))
    if rc:
        out.append(_Variant(False, (), dropped + (DROP_ROB,)))
    return out


def _shown(rows, content: _Content, v: _Variant) -> list[ForestRow]:
    """The rows with the cells and dots of the variant's columns only."""
    if v.data and v.rob_columns == content.rob_columns:
        return rows
    keep = [content.rob_columns.index(c) for c in v.rob_columns]
    return [
        replace(
            r,
            cells=r.cells if v.data else (),
            rob=tuple(r.rob[i] for i in keep) if r.rob else (),
        )
        for r in rows
    ]


def _fit(content: _Content, spec: FigureSize, style: str) -> ForestLayout:
    """The layout at ``spec``'s size: ``auto`` at its font with every column; a fixed size
    searches fonts, column sets and label lengths in the order the module docstring gives.
    There, and in the compact layout, a diamond whose label would widen the label column gets
    it on two lines."""
    variants = _variants(content, style)
    rows_cache: dict[tuple[int, bool], list[ForestRow]] = {}

    def build(font: float, v: _Variant, chars: int) -> _Built:
        best = None
        for split in (False, True) if spec.width is not None or style == "compact" else (False,):
            if (chars, split) not in rows_cache:
                rows_cache[chars, split] = content.rows(chars, split)
            built = _build(content, spec, style, font, v, _shown(rows_cache[chars, split], content, v))
            if best is None or (built.fits, _plot_width(built.layout)) > (
                best.fits,
                _plot_width(best.layout),
            ):
                best = built
            if not built.split_helps:
                break
        assert best is not None
        return best

    if spec.width is None:
        return build(spec.font, variants[0], spec.label_chars).layout
    fonts = [spec.font - 0.5 * i for i in range(int(round((spec.font - spec.min_font) / 0.5)) + 1)]
    if spec.height is not None:  # the largest type at which the rows fit the slide's height
        high = next((f for f in fonts if build(f, variants[0], spec.label_chars).fits_height), fonts[-1])
        fonts = [f for f in fonts if f <= high]
    window = 1.0 if spec.height is None else 2.0  # type shrinks this much before columns go
    comfortable = [f for f in fonts if f >= fonts[0] - window]
    smaller = [f for f in fonts if f < fonts[0] - window]
    order = [(f, v, spec.label_chars) for v in variants for f in comfortable]
    order += [(f, variants[-1], spec.label_chars) for f in smaller]
    order += [(fonts[-1], variants[-1], c) for c in range(spec.label_chars - 4, MIN_LABEL_CHARS - 1, -4)]
    tried = [build(*candidate) for candidate in order]
    fitting = [t for t in tried if t.fits]
    if fitting:
        return fitting[0].layout
    # nothing fits: the most columns that fit the width, whatever the height; else the fewest
    wide_enough = [t for t in tried if t.fits_width]
    return (wide_enough[0] if wide_enough else tried[-1]).layout


def _plot_width(layout: ForestLayout) -> float:
    return (
        layout.column_widths[layout.column_kinds.index("plot")] - layout.width
    )  # (wider plot, narrower figure)


@dataclass(frozen=True)
class _Built:
    layout: ForestLayout
    fits_width: bool
    fits_height: bool
    split_helps: bool  # a pooled row's label sets the label column's width

    @property
    def fits(self) -> bool:
        return self.fits_width and self.fits_height


def _build(content: _Content, spec: FigureSize, style: str, font: float, v: _Variant, rows) -> _Built:
    """The layout with these rows, columns and font, and whether it fits the size. A fixed
    width too narrow for the columns grows to them: nothing is ever cut off."""
    em = font / 72.0
    gap = GAP_EM * em
    margin = 0.12 * max(1.0, font / 9.0)
    bold = ("header", "subtotal", "overall")
    data_headers = content.columns if v.data else ()
    level = level_label(content.analysis.result.level)
    effect_header = f"{content.analysis.measure.natural_name} [{level} CI]"

    def widest(texts, minimum=0.0):
        return max([minimum] + [text_width(t, font, b) for t, b in texts])

    label_w = widest(
        [(r.label, r.kind == "header") for r in rows if r.kind in ("study", "not-estimable", "header")]
        + [("Study", True)]
    )
    data_ws = [
        widest([(r.cells[i], False) for r in rows if len(r.cells) > i] + [(h, True)])
        for i, h in enumerate(data_headers)
    ]
    pooled = widest(
        [(r.label, r.kind in bold) for r in rows if r.kind in ("subtotal", "overall", "prediction")]
    )
    room = label_w + (sum(w + gap for w in data_ws) if style == "cochrane" else 0.0)
    split_helps = pooled > room and any(r.kind == "overall" and "\n" not in r.label for r in rows)
    # pooled rows have no raw data: in the Cochrane layout their labels may run into its columns
    label_w = max(label_w, pooled - (room - label_w))
    effect_w = widest([(r.effect_text, r.kind in bold) for r in rows] + [(effect_header, True)])
    weight_w = widest([(r.weight_text, False) for r in rows] + [("Weight", True)])
    dot = math.sqrt(DOT_PT2) * font / REFERENCE_FONT / 72.0
    rob_ws = [max(dot, text_width(_rob_header(v.rob_columns, c), font, True)) for c in v.rob_columns]

    kinds: list[str] = ["label"]
    widths: list[float] = [label_w + gap]
    if style == "compact":
        kinds += ["effect", "plot", "weight"]
        widths += [effect_w + 2 * gap, 0.0, weight_w]
    else:
        kinds += ["data"] * len(data_ws) + ["plot", "effect", "weight"]
        widths += [w + gap for w in data_ws] + [0.0, effect_w + gap, weight_w]
    kinds += ["rob"] * len(rob_ws)
    widths += [w + 0.6 * gap for w in rob_ws]
    if rob_ws:
        widths[kinds.index("weight")] += 0.6 * gap
    plot_at = kinds.index("plot")
    others = sum(widths)
    notes = [r.label for r in rows if r.kind == "note"]
    notes_w = widest([(n, False) for n in notes])  # (italic at font - 1: narrower than this)
    legend = _rob_legend(v.rob_columns)
    legend_w = max([level_key_width(font)] + [text_width(t, font - 1) for t in legend]) if legend else 0.0

    fits_width = True
    left = margin  # the table's left edge
    if spec.width is None:
        plot = PLOT_EM * em
        W = 2 * margin + others + plot + gap
        W = max(W, 2 * margin + notes_w, 2 * margin + legend_w)
    else:
        W = spec.width
        plot = W - 2 * margin - others - gap
        if plot < MIN_PLOT_SHARE[spec.name] * W or 2 * margin + max(notes_w, legend_w) > W:
            fits_width = False
            plot = max(plot, MIN_PLOT_SHARE[spec.name] * W)
            W = max(2 * margin + others + plot + gap, 2 * margin + notes_w, 2 * margin + legend_w)
        elif plot > MAX_PLOT_SHARE * W:  # the table is centred in the rest
            left += (plot - MAX_PLOT_SHARE * W) / 2
            plot = MAX_PLOT_SHARE * W
    widths[plot_at] = plot + gap
    plot_x = left + sum(widths[:plot_at])
    null_x = plot_x + null_fraction(content.null, content.xlim, content.log_scale) * plot
    caption = axis_label(content.analysis.measure) + (" (log scale)" if content.log_scale else "")
    favours, caption = axis_texts(
        content.favours, caption, font, null_x, (plot_x, plot_x + plot), (margin, W - margin)
    )
    favours_lines = max(lines_in(t) for t in favours)

    lines, title_font = fit_lines(
        shorten(content.title, TITLE_CHARS), W - left - margin, min(spec.title_font, 1.35 * font), font
    )
    header_lines = max([1] + [h.count("\n") + 1 for h in data_headers] + [2 if len(v.rob_columns) > 1 else 1])
    top = _top_pad(font) + len(lines) * line_height(title_font) + 0.5 * line_height(font)
    top += header_lines * line_height(font) + 0.25 * line_height(font)
    row_h = ROW_PITCH * em
    units = max(r.y for r in rows) + 1.0
    legend_h = (len(legend) + 1.8) * line_height(font) + 0.1 if legend else 0.0
    bottom = below_axis(font, favours_lines, lines_in(caption)) + legend_h
    H = top + units * row_h + bottom
    fits_height = spec.height is None or spec.height + 1e-9 >= H
    if spec.height is not None and fits_height:  # room to spare: airier rows, then centred
        spare = spec.height - H
        grown = min(row_h * 1.35, row_h + spare / units)
        spare -= (grown - row_h) * units
        row_h = grown
        top += spare / 2
        bottom += spare / 2
        H = spec.height

    layout = ForestLayout(
        title=shorten(content.title, TITLE_CHARS),
        measure=axis_label(content.analysis.measure),
        columns=data_headers,
        rows=tuple(rows),
        log_scale=content.log_scale,
        null=content.null,
        xlim=content.xlim,
        xticks=content.ticks,
        xtick_labels=tuple(tick_label(t) for t in content.ticks),
        favours=favours,
        effect_header=content.analysis.measure.natural_name,
        level=content.analysis.result.level,
        column_widths=tuple(widths),
        width=W,
        height=H,
        rob_columns=v.rob_columns,
        rob_legend=legend,
        column_kinds=tuple(kinds),
        size=spec.name,
        layout=style,
        font=font,
        title_lines=lines,
        title_font=title_font,
        row_height=row_h,
        top=top,
        bottom=bottom,
        margin=left,
        mid_band=content.mid_band,
        dropped=v.dropped,
        caption=caption,
    )
    return _Built(layout, fits_width, fits_height, split_helps)


def _rob_columns(effects):
    """The RoB columns to show (none when nothing is judged) and each study's judgements."""
    if not has_rob(effects.extra):
        return (), lambda name: ()
    columns = shown_columns(effects.extra)
    index = {s: i for i, s in enumerate(effects.studies)}
    return columns, lambda name: tuple(rob.judgement(effects.extra, c, index[name]) for c in columns)


def _rob_header(columns, column: str) -> str:
    """A risk-of-bias column's header: D1..D5 and O under "Risk of bias", or "RoB" when the
    overall judgement is the only column."""
    return "RoB" if len(columns) == 1 else header(column, compact=True)


def _rob_legend(columns) -> tuple[str, ...]:
    if len(columns) == 1:
        return ("RoB: overall risk of bias (RoB 2)",)
    return legend_lines(columns, compact=True) if columns else ()


def _model_label(r) -> str:
    if r.k == 1:
        return "Single study (nothing pooled)"
    if r.model == "mantel-haenszel":
        return "Common effect (Mantel-Haenszel)"
    if r.model == "peto":
        return "Common effect (Peto)"
    if r.method == "FE":
        return "Common effect (inverse variance)"
    ci = {"wald": "Wald CI", "hk": "HKSJ CI", "hk-adhoc": "HKSJ ad hoc CI"}[r.ci_method]
    return f"Random effects ({r.method}, {ci})"


def _heterogeneity_text(r) -> str:
    q = f"Q = {r.q:.2f}, df = {r.q_df} ({fmt_p(r.q_p)})"
    if r.tau2 is not None and r.is_random:
        return f"Heterogeneity: tau² = {fmt_num(r.tau2, 4)}; I² = {r.i2:.0f}%; {q}"
    return f"Heterogeneity: I² = {r.i2:.0f}%; {q}"


def data_columns(analysis):
    """Header and per-study cells of the raw data: events/total, mean (SD) n, r and n, or yi and SE."""
    d, es = analysis.effects.data, analysis.effects
    index = {s: i for i, s in enumerate(es.studies)}
    kind = analysis.measure.data_type

    def num(x):  # combined arms can carry long decimals (0.616667): four places are plenty
        return f"{round(x, 4):g}"

    cols: tuple[str, ...]
    if kind == "binary":
        cols = ("Treatment\nevents/total", "Control\nevents/total")

        def cells(s):
            i = index[s]
            return (f"{int(d['ai'][i])}/{int(d['n1i'][i])}", f"{int(d['ci'][i])}/{int(d['n2i'][i])}")
    elif kind == "continuous":
        cols = ("Treatment\nmean (SD) n", "Control\nmean (SD) n")

        def cells(s):
            i = index[s]
            return (
                f"{num(d['m1i'][i])} ({num(d['sd1i'][i])}) {int(d['n1i'][i])}",
                f"{num(d['m2i'][i])} ({num(d['sd2i'][i])}) {int(d['n2i'][i])}",
            )
    elif kind == "correlation":
        cols = ("r", "n")

        def cells(s):
            i = index[s]
            return (f"{d['ri'][i]:.3f}", f"{int(d['ni'][i])}")
    elif kind == "proportion":
        cols = ("events/total",)

        def cells(s):
            i = index[s]
            return (f"{int(d['xi'][i])}/{int(d['ni'][i])}",)
    else:
        cols = ("estimate", "SE")

        def cells(s):
            i = index[s]
            return (f"{es.yi[i]:.3f}", f"{math.sqrt(es.vi[i]):.3f}")

    if not es.converted:
        return cols, cells
    converted = set(es.converted)

    def cells_or_reported(s):
        # a study given as effect + CI has no raw data to show
        return ("as reported",) + ("",) * (len(cols) - 1) if s in converted else cells(s)

    return cols, cells_or_reported


def _top_pad(font: float) -> float:
    """Inches above the title."""
    return 0.15 * max(1.0, font / 9.0)


def _pads(kinds, font: float) -> list[float]:
    """Each column's space on its right, in inches (as ``_build`` adds it to the widths)."""
    gap = GAP_EM * font / 72.0
    has_rob = "rob" in kinds
    effect = 2 * gap if kinds.index("effect") < kinds.index("plot") else gap  # compact: before the plot
    pad = {"label": gap, "data": gap, "effect": effect, "plot": gap, "rob": 0.6 * gap}
    return [pad.get(k, 0.6 * gap if has_rob else 0.0) for k in kinds]


@plain_text
def draw_forest(layout: ForestLayout):
    """A matplotlib Figure of the layout (no pyplot, so no global state). It takes no ``ax``:
    the plot is a multi-column table (labels, data, effects, weights, risk of bias) around one
    panel, laid out in inches from its rows, so it needs a figure of its own."""
    from matplotlib.collections import LineCollection
    from matplotlib.patches import Polygon
    from matplotlib.transforms import blended_transform_factory

    W, H, f = layout.width, layout.height, layout.font
    fig = new_figure((W, H))
    kinds, widths = layout.column_kinds, layout.column_widths
    starts = [layout.margin + sum(widths[:i]) for i in range(len(widths))]
    ends = [s + w - p for s, w, p in zip(starts, widths, _pads(kinds, f), strict=True)]

    def where(kind):
        return [(s, e) for s, e, k in zip(starts, ends, kinds, strict=True) if k == kind]

    (plot_x, plot_end), (label_x, _) = where("plot")[0], where("label")[0]
    data_cols, rob_cols = where("data"), where("rob")
    (_, effect_end), (_, weight_end) = where("effect")[0], where("weight")[0]
    rob_x = [(s + e) / 2 for s, e in rob_cols]
    area = (f / REFERENCE_FONT) ** 2  # marker areas scale with the type
    lw = max(1.0, f / 9.0)  # and line widths, from slide sizes up

    ys = [row.y for row in layout.rows]
    top, bottom = -0.5, max(ys) + 0.5
    rows_h = layout.row_height * (bottom - top)
    ax = fig.add_axes((plot_x / W, layout.bottom / H, (plot_end - plot_x) / W, rows_h / H))
    ax.set_ylim(bottom, top)
    effect_axis(ax, layout.log_scale, layout.xlim, layout.xticks, f - 0.5)
    ax.tick_params(axis="x", width=0.8 * lw)
    ax.spines["bottom"].set_linewidth(0.8 * lw)
    ax.set_yticks([])
    for side in ("left", "right", "top"):
        ax.spines[side].set_visible(False)
    trans = blended_transform_factory(fig.dpi_scale_trans, ax.transData)
    font = dict(fontsize=f, va="center", transform=trans, clip_on=False)

    title_block(fig, layout.title_lines, layout.title_font, layout.margin, _top_pad(f), W, H)
    head = dict(
        fontsize=f,
        va="bottom",
        fontweight="bold",
        transform=fig.dpi_scale_trans,
        clip_on=False,
        linespacing=1.2,
    )
    header_y = H - layout.top + 0.25 * line_height(f)
    ax.text(label_x, header_y, "Study", **head)
    for (s, e), text in zip(data_cols, layout.columns, strict=True):
        ax.text((s + e) / 2, header_y, text, ha="center", **head)
    effect_head = f"{layout.effect_header} [{level_label(layout.level)} CI]"
    ax.text(effect_end, header_y, effect_head, ha="right", **head)
    ax.text(weight_end, header_y, "Weight", ha="right", **head)
    for x, column in zip(rob_x, layout.rob_columns, strict=True):
        ax.text(x, header_y, _rob_header(layout.rob_columns, column), ha="center", **head)
    if len(layout.rob_columns) > 1:
        words = "Risk of bias" if len(layout.rob_columns) >= 4 else "RoB"  # wider than 2-3 dots
        ax.text((rob_x[0] + rob_x[-1]) / 2, header_y + line_height(f), words, ha="center", **head)

    last_plot_row = max((r.y for r in layout.rows if r.kind in ("overall", "prediction")), default=bottom)
    ax.vlines(layout.null, top, last_plot_row + 0.5, colors="0.45", linewidth=0.8 * lw, zorder=1)
    if layout.mid_band is not None:
        ax.fill_betweenx(
            [top, last_plot_row + 0.5],
            *layout.mid_band,
            color="#e2efda",
            linewidth=0,
            zorder=0,
            label="minimal important difference",
        )
    lo_lim, hi_lim = layout.xlim
    arrow = dict(markersize=4 * f / REFERENCE_FONT, zorder=3, clip_on=False)
    # every study's CI line and box are drawn as one collection each (one artist per study
    # took a third of the time spent building the figure)
    study_lines: list[list[tuple[float, float]]] = []
    boxes: list[tuple[float, float, float]] = []
    for row in layout.rows:
        bold = row.kind in ("header", "subtotal", "overall")
        note = row.kind == "note"
        ax.text(
            label_x,
            row.y,
            row.label,
            fontweight="bold" if bold else "normal",
            style="italic" if note else "normal",
            **{**font, "fontsize": f - 1 if note else f},
        )
        for (s, e), cell in zip(data_cols, row.cells, strict=bool(row.cells)):  # none on pooled rows
            ax.text((s + e) / 2, row.y, cell, ha="center", **font)
        if row.effect_text:
            ax.text(
                effect_end,
                row.y,
                row.effect_text,
                ha="right",
                fontweight="bold" if bold else "normal",
                **font,
            )
        if row.weight_text:
            ax.text(weight_end, row.y, row.weight_text, ha="right", **font)
        for x, judgement in zip(rob_x, row.rob, strict=bool(row.rob)):  # none on pooled rows
            draw_dot(ax, x, row.y, judgement, DOT_PT2 * area, transform=trans)
        if row.kind == "study":  # rows of the kinds drawn below carry their numbers (forest_layout)
            assert row.estimate is not None and row.ci_low is not None and row.ci_high is not None
            lo, hi = max(row.ci_low, lo_lim), min(row.ci_high, hi_lim)
            study_lines.append([(lo, row.y), (hi, row.y)])
            if row.clipped_low:
                ax.plot([lo_lim], [row.y], marker="<", color="black", **arrow)
            if row.clipped_high:
                ax.plot([hi_lim], [row.y], marker=">", color="black", **arrow)
            if lo_lim <= row.estimate <= hi_lim:
                default = MAX_BOX_PT2 / 4  # a study without a weight
                boxes.append(
                    (row.estimate, row.y, (default if row.box_area is None else row.box_area) * area)
                )
        elif row.kind in ("subtotal", "overall"):
            assert row.estimate is not None and row.ci_low is not None and row.ci_high is not None
            h = 0.34
            color = "#5b86b0" if row.kind == "subtotal" else "#9fb8d3" if row.second else "#1f4e79"
            lo, hi = max(row.ci_low, lo_lim), min(row.ci_high, hi_lim)
            ax.add_patch(
                Polygon(
                    [(lo, row.y), (row.estimate, row.y - h), (hi, row.y), (row.estimate, row.y + h)],
                    closed=True,
                    facecolor=color,
                    edgecolor="black",
                    linewidth=0.6 * lw,
                    zorder=4,
                )
            )
        elif row.kind == "prediction":
            assert row.ci_low is not None and row.ci_high is not None
            lo, hi = max(row.ci_low, lo_lim), min(row.ci_high, hi_lim)
            ax.plot(
                [lo, hi], [row.y, row.y], color="#b03a2e", linewidth=2.2 * lw, zorder=3, solid_capstyle="butt"
            )
            for clipped, x, mark in ((row.clipped_low, lo_lim, "<"), (row.clipped_high, hi_lim, ">")):
                if clipped:
                    ax.plot([x], [row.y], marker=mark, color="#b03a2e", **arrow)

    if study_lines:
        ax.add_collection(
            LineCollection(study_lines, colors="black", linewidths=0.9 * lw, zorder=2, capstyle="butt"),
            autolim=False,
        )
    if boxes:
        ax.scatter(
            [b[0] for b in boxes],
            [b[1] for b in boxes],
            s=[b[2] for b in boxes],
            marker="s",
            color="#1f4e79",
            zorder=4,
            linewidths=0,
        )

    favours_labels(ax, layout.null, *layout.favours, font=f)
    favours_lines = max(lines_in(t) for t in layout.favours)
    caption = layout.caption or layout.measure + (" (log scale)" if layout.log_scale else "")
    axis_caption(ax, caption, font=f, favours_lines=favours_lines)
    if layout.rob_legend:
        below = below_axis(f, favours_lines, lines_in(caption))
        key_y = layout.bottom - below - 0.9 * line_height(f)  # inches above the bottom edge
        draw_level_key(fig, layout.margin + 0.05, key_y, W, H, DOT_PT2 * area * 0.6, f - 1)
        for k, line in enumerate(layout.rob_legend):
            fig.text(
                layout.margin / W,
                (key_y - line_height(f) * (k + 1.1)) / H,
                line,
                fontsize=f - 1,
                va="center",
            )
    return fig


def study_set_forest_layout(
    analysis,
    meta=None,
    subgroups=None,
    answer=None,
    *,
    other=None,
    size: str | FigureSize | None = None,
    layout: str | None = None,
    show_excluded: bool = False,
    mid_band: bool = True,
) -> ForestLayout:
    """The layout of ``analysis``'s forest plot with the study set's title, "favours" labels
    and minimal important difference (``[grade] mid``, shaded unless ``mid_band=False``) from
    its metadata ``meta`` (grouped as the computed ``subgroups``, with the ``answer`` or
    ``other`` analysis's diamond beside the main one; see forest_layout)."""
    favours = meta.favours if meta is not None else ("favours treatment", "favours control")
    title = meta.title if meta is not None else ""
    band = None
    if mid_band and meta is not None and meta.grade.mid is not None:
        band = decision_thresholds(analysis.measure, meta.grade.mid)[1]
    return forest_layout(
        analysis,
        tuple(shorten(f, FAVOURS_CHARS) for f in favours),
        title,
        subgroups,
        answer,
        other=other,
        size=size,
        layout=layout,
        show_excluded=show_excluded,
        mid_band=band,
    )


def write_forest(analysis, path, meta=None, subgroups=None, answer=None, **options) -> ForestLayout:
    """Forest plot of ``analysis`` written to PATH (.png, .svg or .pdf); ``options`` are
    study_set_forest_layout's (other, size, layout, show_excluded, mid_band)."""
    from metamg.render.figures import save_figure

    drawn = study_set_forest_layout(analysis, meta, subgroups, answer, **options)
    save_figure(draw_forest(drawn), path)
    return drawn
