"""The ``metamg`` command line: parse options, call one library function, format the result.

Heavy modules are imported inside the commands so that ``metamg --help`` and small runs stay fast.
"""

from __future__ import annotations

import os
import sys

import click

from metamg import vocabulary as V


class _Group(click.Group):
    """Bad input is the user's to fix: one line per problem, exit status 2, never a traceback."""

    def invoke(self, ctx):
        from metamg.errors import InputError

        _exit_cleanly_on_sigterm()
        try:
            return super().invoke(ctx)
        except InputError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            ctx.exit(2)
        except (click.exceptions.Exit, click.exceptions.Abort, click.ClickException):
            raise
        except BrokenPipeError:  # the reader went away (metamg list | head): nothing more to say
            _silence_stdout()
            ctx.exit(0)
        except Exception as exc:  # a bug of ours: one line for the user, the traceback on request
            if os.environ.get("METAMG_DEBUG"):
                raise
            click.echo(f"metamg: {_internal_error(exc)}", err=True)
            ctx.exit(1)


def _silence_stdout() -> None:
    """Point stdout at /dev/null so that Python's final flush does not fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):
        pass  # stdout is not a real file (tests): nothing will be flushed to a closed pipe


def _internal_error(exc: BaseException | str) -> str:
    """A bug's one line: the exception, or its "Type: message" as a worker process reported it."""
    described = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
    return f"internal error: {described} (please report it; METAMG_DEBUG=1 shows the traceback)"


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM and SIGHUP end the run like Ctrl-C does, so that atomic writes remove their
    temporary files (Python's default is to die on the spot)."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)

    for name in ("SIGTERM", "SIGHUP"):
        if hasattr(signal, name):
            signal.signal(getattr(signal, name), stop)


def _show_version(ctx, _param, value) -> None:
    """--version: metamg.__version__, read from the installed package's metadata."""
    if value and not ctx.resilient_parsing:
        from metamg import __version__

        click.echo(f"{ctx.find_root().info_name}, version {__version__}")
        ctx.exit()


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--version",
    is_flag=True,
    expose_value=False,
    is_eager=True,
    callback=_show_version,
    help="Show the version and exit.",
)
def main():
    """Meta-analysis for journal clubs: study CSVs in, metafor-exact results out.

    Every command reads a study set's metadata (NAME.toml beside NAME.csv) first: its measure,
    profile and subgroup column apply unless an option says otherwise."""


LEVEL = click.FloatRange(0, 1, min_open=True, max_open=True)
FIGURE_SUFFIXES = tuple(f".{f}" for f in V.FIGURE_FORMATS)


def _size_option(f):
    """--size of the figure commands."""
    return click.option(
        "--size",
        type=click.Choice(V.FIGURE_SIZES),
        default=V.DEFAULT_FIGURE_SIZE,
        show_default=True,
        help="auto: sized to the content; slide: 16:9 (13.33 x 7.5 in) with the largest type "
        "that fits; page: the width of an A4 or Letter text column (6.3 in), type for print.",
    )(f)


def _pool_options(f):
    """The method options shared by every command that pools."""
    options = [
        click.option(
            "--measure",
            type=click.Choice(V.MEASURES, case_sensitive=False),
            help="Effect measure. Default: the study set's metadata, else RR for binary "
            "data, MD continuous, ZCOR correlations, PLO proportions, GEN for yi/vi.",
        ),
        click.option(
            "--method",
            type=click.Choice(V.METHODS, case_sensitive=False),
            help="FE (common effect), a tau² estimator, MH or PETO. Default: the profile's.",
        ),
        click.option(
            "--ci",
            "ci_method",
            type=click.Choice(V.CI_METHODS),
            help="CI for the pooled effect. Default: the profile's.",
        ),
        click.option(
            "--level",
            type=LEVEL,
            default=0.95,
            show_default=True,
            help="Confidence level of every interval shown (pooled effect, prediction "
            "interval, tau², plots), strictly between 0 and 1.",
        ),
        click.option(
            "--pi",
            "pi",
            type=click.Choice(V.PI_RULES),
            default="default",
            show_default=True,
            help="Prediction interval: metafor's rule (z with wald, t(k-1) with hk) or t(k-2).",
        ),
        click.option(
            "--profile",
            type=click.Choice(V.PROFILES),
            help="Method defaults: cochrane = REML+HKSJ, metafor = REML+Wald, revman5 = DL+Wald "
            "(MH common effect for binary). Default: the study set's metadata, else cochrane.",
        ),
        click.option(
            "--cc",
            type=click.FloatRange(min=0),
            default=0.5,
            show_default=True,
            help="Continuity correction added to zero cells (0 or more).",
        ),
        click.option(
            "--cc-to",
            type=click.Choice(V.CONTINUITY_RULES),
            default="only0",
            show_default=True,
            help="Which studies get the continuity correction (metafor's 'to').",
        ),
        click.option("--drop00", is_flag=True, help="Leave out studies with no events in either group."),
        click.option(
            "--multi-arm",
            "multi_arm",
            type=click.Choice(V.MULTI_ARM_RULES),
            default="combine",
            show_default=True,
            help="Arms of one trial (column 'trial') sharing a control: combine them into one "
            "group, or split the control among the comparisons (Cochrane Handbook 23.3.4).",
        ),
        _exclude_status_option(),
        click.option(
            "--low-risk-only",
            "low_risk_only",
            is_flag=True,
            help="Pool only studies at low overall risk of bias (RoB 2 columns).",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _exclude_status_option():
    def parse(ctx, param, value):
        statuses = tuple(s.strip() for s in (value or "").split(",") if s.strip())
        unknown = [s for s in statuses if s not in V.EVIDENCE_STATUSES]
        if unknown:
            raise click.BadParameter(
                f"unknown status {', '.join(unknown)}; choose from " + ", ".join(V.EVIDENCE_STATUSES)
            )
        return statuses

    return click.option(
        "--exclude-status",
        "exclude_status",
        callback=parse,
        metavar="STATUS,...",
        help="Leave out studies whose evidence_status is one of these ("
        + ", ".join(V.EVIDENCE_STATUSES)
        + ").",
    )


def _settings(opts):
    """Click's option values as ``pool``'s options (None: resolved by pool)."""
    from metamg.analyses.pool import PoolOptions
    from metamg.effects import Continuity

    o = dict(opts)
    return PoolOptions(
        measure=o["measure"],
        method=o["method"],
        ci_method=o["ci_method"],
        level=o["level"],
        pi=o["pi"],
        profile=o["profile"],
        continuity=Continuity(o["cc"], o["cc_to"], o["drop00"]),
        multi_arm=o["multi_arm"],
        exclude_status=o["exclude_status"],
        low_risk_only=o["low_risk_only"],
    )


def _run_pool(path, opts):
    from metamg.analyses.pool import pool as run_pool

    return run_pool(path, _settings(opts))


def _output(value, inputs, option="-o", suffixes=None):
    """An output path checked before any work: never one of the input files, and for figures
    a suffix matplotlib writes. Returns ``value`` (None stays None)."""
    if value is None:
        return None
    if suffixes is not None:
        ext = os.path.splitext(value)[1].lower()
        if ext not in suffixes:
            raise click.BadParameter(
                f"{value!r}: write figures as "
                + ", ".join(suffixes)
                + (f", not {ext}" if ext else " (the file name needs one of these suffixes)"),
                param_hint=f"'{option}'",
            )
    target = os.path.realpath(value)
    for path in inputs:
        from metamg.io.metadata import metadata_path

        for given in (path, metadata_path(path)):
            if os.path.realpath(given) == target:
                raise click.BadParameter(
                    f"{value!r} is an input file of this run; metamg never "
                    "overwrites its input (choose another file name)",
                    param_hint=f"'{option}'",
                )
    return value


BY_HELP = (
    "Also pool within the levels of this column and test the differences (default: the "
    "metadata's subgroup column; --by '' for none)."
)


@main.command()
@click.argument("path", type=click.Path(dir_okay=True, allow_dash=False))
@_pool_options
@click.option("--by", "by", help=BY_HELP)
@click.option(
    "--format", "fmt", type=click.Choice(("text", "json", "csv")), default="text", show_default=True
)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically).")
def pool(path, by, fmt, output, **pool_opts):
    """Pool the studies in the CSV file PATH."""
    _output(output, [path])
    analysis = _run_pool(path, pool_opts)
    groups = None
    if by is not None or (analysis.meta is not None and analysis.meta.subgroup):
        from metamg.analyses.subgroups import optional_subgroups  # only then: pool stays fast

        groups = optional_subgroups(analysis, by)
    if fmt == "json":
        d = analysis.to_dict()
        if groups is not None:
            d["subgroups"] = groups.to_dict()
        text = _json(d)
    elif fmt == "csv":
        from metamg.render.text import studies_csv

        text = studies_csv(analysis)
    else:
        from metamg.render.text import pool_text, subgroups_text

        text = pool_text(analysis)  # warnings are part of the text
        if groups is not None:
            text += "\n" + subgroups_text(groups)
    if fmt != "text" or output:
        from metamg.render.notes_text import notes_text

        for w in notes_text(analysis.warnings):
            click.echo(f"warning: {w}", err=True)
    _emit(text, output)


@main.command()
@click.argument("path", type=click.Path(dir_okay=True, allow_dash=False))
@_pool_options
@click.option(
    "--by",
    "by",
    help="Group the studies by this column (default: the metadata's subgroup column; --by '' for none).",
)
@_size_option
@click.option(
    "--layout",
    type=click.Choice(V.FOREST_LAYOUTS),
    default=V.DEFAULT_FOREST_LAYOUT,
    show_default=True,
    help="cochrane: study, raw data, plot, effect with CI, weight, risk of bias (RevMan); "
    "compact: study, effect with CI, plot, weight (JAMA).",
)
@click.option(
    "--show-excluded",
    is_flag=True,
    help="Also draw the candidate studies that were not pooled (no estimable effect, or "
    "excluded by the curator) as 'not estimable' rows; by default a note counts them.",
)
@click.option(
    "--mid-band/--no-mid-band",
    default=True,
    show_default=True,
    help="Shade the effects smaller than the minimal important difference ([grade] mid in "
    "the metadata), when it gives one.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="FILE.png (300 dpi), FILE.svg or FILE.pdf [default: NAME-forest.png].",
)
def forest(path, by, size, layout, show_excluded, mid_band, output, **pool_opts):
    """Draw the forest plot of the CSV file PATH.

    When the common-effect and random-effects models disagree (one CI excludes no effect and
    the other does not, or the estimates are more than 25% apart on the ratio scale), the plot
    draws both diamonds; the second is labelled "used for the verdicts" when small-study
    effects make it the model the report's verdicts use. With --size slide or page, columns
    that do not fit are left out: the risk-of-bias domains (the overall judgement stays), then
    the raw data, then the risk of bias."""
    from metamg.api import forest as draw
    from metamg.render.figures import save_figure

    target = _output(output or _default_figure(path, "forest"), [path], suffixes=FIGURE_SUFFIXES)
    figure = draw(
        _run_pool(path, pool_opts),
        by,
        size=size,
        layout=layout,
        show_excluded=show_excluded,
        mid_band=mid_band,
    )
    save_figure(figure, target)
    _too_tall_for_a_slide(figure, size)
    click.echo(target)


def _too_tall_for_a_slide(figure, size) -> None:
    """A slide's rows that do not fit 7.5 in at its smallest type make the figure taller; say so."""
    from metamg.render.figures import SIZES

    slide = SIZES["slide"]
    width, height = figure.get_size_inches()
    if size == "slide" and slide.height is not None and height > slide.height + 1e-6:
        click.echo(
            f"warning: the rows do not fit a 16:9 slide at {slide.min_font:g} pt; the figure is "
            f"{width:.2f} x {height:.2f} in (split it, e.g. with --by)",
            err=True,
        )


@main.command()
@click.argument("path", type=click.Path(dir_okay=True, allow_dash=False))
@_pool_options
@click.option("--trimfill", is_flag=True, help="Add the studies filled by trim and fill.")
@_size_option
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="FILE.png (300 dpi), FILE.svg or FILE.pdf [default: NAME-funnel.png].",
)
def funnel(path, trimfill, size, output, **pool_opts):
    """Draw the contour-enhanced funnel plot of the CSV file PATH."""
    from metamg.render.funnel import write_funnel

    target = _output(output or _default_figure(path, "funnel"), [path], suffixes=FIGURE_SUFFIXES)
    analysis = _run_pool(path, pool_opts)
    filled = None
    if trimfill:
        from contextlib import suppress

        from metamg.analyses.trimfill import trim_and_fill_for
        from metamg.errors import InputError

        with suppress(InputError):  # too few studies to trim and fill: the plain funnel is drawn
            filled = trim_and_fill_for(analysis)
    write_funnel(analysis, target, analysis.meta.title if analysis.meta else "", filled, size=size)
    click.echo(target)


@main.command()
@click.argument("path", type=click.Path(dir_okay=True, allow_dash=False))
@_pool_options
@click.option(
    "--unweighted",
    is_flag=True,
    help="Summary bars count studies instead of weighting them as the analysis does.",
)
@_size_option
@click.option(
    "-o",
    "--output",
    "prefix",
    metavar="PREFIX",
    help="Write PREFIX-rob-traffic.png and PREFIX-rob-summary.png [default: NAME]; "
    "end PREFIX in .svg or .pdf for those formats.",
)
def rob(path, unweighted, size, prefix, **pool_opts):
    """Draw the risk-of-bias traffic-light and summary plots (robvis style) of the CSV file PATH."""
    from metamg.render.robplot import analysis_rob_layout, write_rob_plots

    base, ext = os.path.splitext(prefix or _stem(path))
    if ext.lower() not in FIGURE_SUFFIXES:
        base, ext = prefix or _stem(path), ".png"
    targets = [_output(f"{base}-rob-{kind}{ext}", [path]) for kind in ("traffic", "summary")]
    analysis = _run_pool(path, pool_opts)
    title = analysis.meta.title if analysis.meta else _stem(path)
    layout = analysis_rob_layout(analysis, f"{title}: risk of bias (RoB 2)", not unweighted)
    for written in write_rob_plots(layout, *targets, size=size):
        click.echo(written)


@main.command()
@click.argument("name")
@click.option(
    "--type",
    "data_type",
    type=click.Choice(V.TEMPLATE_TYPES),
    required=True,
    help="binary: events/totals; continuous: means, SDs, sizes; effect: an "
    "effect with its CI as reported; generic: yi and its SE.",
)
@click.option(
    "--measure",
    type=click.Choice(V.MEASURES, case_sensitive=False),
    help="Measure for the metadata (default: RR binary, MD continuous, GEN generic; "
    "required for --type effect).",
)
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False),
    default="studies",
    show_default=True,
    help="Where to create NAME.csv and NAME.toml.",
)
def new(name, data_type, measure, directory):
    """Start a study set: NAME.csv with the right header and NAME.toml with commented metadata."""
    from metamg.io.templates import new_study_set

    if name.lower().endswith((".csv", ".toml")):  # "metamg new t1.csv" means the set t1
        name = os.path.splitext(name)[0]
    for path in new_study_set(name, data_type, directory, measure):
        click.echo(path)
    click.echo(
        f"Next: add one row per study to {os.path.join(directory, name + '.csv')} (any "
        f"spreadsheet; save as CSV), fill in the .toml, then run: metamg check "
        f"{os.path.join(directory, name + '.csv')}",
        err=True,
    )


@main.command(name="list")
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=True, allow_dash=False))
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def list_sets(paths, fmt):
    """Show every study set (default: studies/*.csv): title, data type, k, measure, check status."""
    from metamg.analyses.catalog import describe_study_set

    infos = [describe_study_set(p) for p in _study_sets(paths)]
    if fmt == "json":
        click.echo(_json([i.to_dict() for i in infos]), nl=False)
        return
    rows = [("study set", "title", "data", "measure", "k", "check")] + [
        (
            i.name,
            i.title,
            i.data_type,
            i.measure,
            f"{i.estimable}/{i.total}",
            "OK" if i.check_passes else f"{i.problems} problem{'s' if i.problems != 1 else ''}",
        )
        for i in infos
    ]
    widths = [max(len(r[c]) for r in rows) for c in range(len(rows[0]))]
    for r in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip())


def _study_sets(paths) -> list[str]:
    import glob

    paths = list(paths) or sorted(glob.glob(os.path.join("studies", "*.csv")))
    if not paths:
        raise click.UsageError("no study sets given and none found under ./studies")
    return paths


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=True, allow_dash=False))
def check(paths):
    """Validate study sets (default: every studies/*.csv): values, provenance, duplicates, claims.

    Exit status 0 when all are fit to ship, 1 with one line per problem otherwise."""
    from metamg.analyses.check import check_study_set

    paths = _study_sets(paths)
    bad = 0
    for path in paths:
        problems = check_study_set(path)
        for problem in problems:
            click.echo(str(problem), err=True)
        bad += bool(problems)
    click.echo(f"{len(paths) - bad} of {len(paths)} study set{'s' if len(paths) != 1 else ''} OK")
    if bad:
        sys.exit(1)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(dir_okay=True, allow_dash=False))
@click.option(
    "-o",
    "--output",
    "outdir",
    type=click.Path(file_okay=False),
    default="reports",
    show_default=True,
    help="Directory for the reports and their figures.",
)
@_pool_options
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(min=1),
    help="Write this many sets at once, in worker processes [default: one per CPU].",
)
@click.option(
    "--format",
    "formats",
    default=",".join(V.DEFAULT_REPORT_FORMATS),
    show_default=True,
    metavar="LIST",
    help="Report formats, comma-separated: " + ", ".join(V.REPORT_FORMATS) + " (md is always "
    "written; pdf needs the metamg[pdf] extra).",
)
def report(paths, outdir, jobs, formats, **pool_opts):
    """Write a journal-club report for each study set (default: every studies/*.csv).

    A set that fails (bad data, or a bug) is reported by name and the others are still
    written, with the index; the exit status is then 2. Options override every set's metadata."""
    from metamg.api import write_index, write_reports
    from metamg.io.atomic import ensure_directory

    chosen = tuple(dict.fromkeys(f.strip().lower() for f in formats.split(",") if f.strip()))
    unknown = [f for f in chosen if f not in V.REPORT_FORMATS]
    if unknown or not chosen:
        raise click.BadParameter(
            f"unknown format {(unknown or [formats])[0]!r}; choose from {', '.join(V.REPORT_FORMATS)}",
            param_hint="'--format'",
        )
    chosen = tuple(dict.fromkeys(("md", *chosen)))
    if "pdf" in chosen:
        from metamg.render.pdf import weasyprint_missing

        why = weasyprint_missing()
        if why is not None:
            raise click.BadParameter(why, param_hint="'--format'")
    paths = _study_sets(paths)
    ensure_directory(outdir)  # an unusable output folder is one error, not one per set
    written, failed = [], False
    show = sys.stderr.isatty()
    outcomes = write_reports(paths, outdir, _settings(pool_opts), jobs or os.cpu_count() or 1, chosen)
    for i, outcome in enumerate(outcomes, 1):
        if show:
            click.echo(f"[{i}/{len(paths)}] {outcome.source}", err=True)
        if outcome.ok:
            written.append(outcome)
            continue
        failed = True
        for problem in outcome.problems:
            click.echo(str(problem), err=True)
        if outcome.internal_error:
            click.echo(
                f"{outcome.source}: report not written: {_internal_error(outcome.internal_error)}", err=True
            )
    if written:
        click.echo(write_index([o.index_entry for o in written], outdir, chosen))
        for o in written:
            click.echo(o.report)
    if failed:
        sys.exit(2)


@main.command()
@click.argument("path", type=click.Path(dir_okay=True, allow_dash=False))
@_pool_options
@click.option("--baujat", type=click.Path(dir_okay=False), help="Also draw the Baujat plot to FILE.")
@click.option("--gosh-plot", type=click.Path(dir_okay=False), help="Also draw the GOSH plot to FILE.")
@click.option(
    "--subsets", type=click.IntRange(min=1), help="GOSH: number of random subsets when k > 20 [100000]."
)
@click.option("--seed", type=int, default=1, show_default=True, help="GOSH: seed for the random subsets.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically).")
def sensitivity(path, baujat, gosh_plot, subsets, seed, fmt, output, **pool_opts):
    """Leave-one-out, cumulative meta-analysis and influence diagnostics of the CSV file PATH."""
    from metamg.analyses.gosh import gosh
    from metamg.analyses.influence import influence
    from metamg.analyses.sensitivity import cumulative, leave_one_out
    from metamg.errors import InputError, Problem

    _output(output, [path])
    _output(baujat, [path], "--baujat", FIGURE_SUFFIXES)
    _output(gosh_plot, [path], "--gosh-plot", FIGURE_SUFFIXES)
    analysis = _run_pool(path, pool_opts)
    if analysis.result.k < 2:
        raise InputError(
            [
                Problem(
                    analysis.source,
                    f"sensitivity analyses need at least 2 pooled studies; this set has {analysis.result.k}",
                )
            ]
        )
    loo, cum = leave_one_out(analysis), cumulative(analysis)
    infl = influence(analysis, loo)
    es = analysis.effects
    subsets_fit = gosh(es.yi, es.vi, subsets, seed, es.source)
    if fmt == "json":
        text = _json(
            {
                "leave1out": [r.to_dict() for r in loo],
                "cumulative": cum.to_dict(),
                "influence": [x.to_dict() for x in infl],
                "gosh": subsets_fit.summary(),
            }
        )
    else:
        from metamg.render.robustness import sensitivity_text

        text = sensitivity_text(analysis, loo, cum, infl, subsets_fit)
    if baujat or gosh_plot:
        from metamg.render import diagnostics

        title = analysis.meta.title if analysis.meta else _stem(path)
        if baujat:
            from metamg.analyses.influence import baujat_points

            diagnostics.write(diagnostics.draw_baujat(baujat_points(analysis), title), baujat)
        if gosh_plot:
            diagnostics.write(diagnostics.draw_gosh(subsets_fit, analysis, title), gosh_plot)
    _emit(text, output)


@main.command()
@click.argument("path", type=click.Path(dir_okay=True, allow_dash=False))
@_pool_options
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically).")
def bias(path, fmt, output, **pool_opts):
    """Small-study effects of the CSV file PATH: Egger, Begg, trim and fill and fail-safe N,
    each with the analysis's model (random effects, or the common-effect model with --method FE)."""
    from metamg.analyses.bias import small_study_tests

    _output(output, [path])
    analysis = _run_pool(path, pool_opts)
    tests = small_study_tests(analysis)
    if fmt == "json":
        text = _json(tests.to_dict())
    else:
        from metamg.render.robustness import bias_text

        text = bias_text(analysis, tests)
    _emit(text, output)


@main.command()
@click.argument("path", type=click.Path(dir_okay=True, allow_dash=False))
@_pool_options
@click.option(
    "--tau-prior",
    "tau_prior",
    metavar="SPEC",
    help="Prior for tau: halfnormal:SCALE, halfcauchy:SCALE, uniform:LOWER,UPPER, jeffreys, "
    "improper_uniform, or the empirical forms lognormal:MEAN,SD (Turner et al. 2015) and "
    "logt:LOCATION,SCALE (Rhodes et al. 2015), both of log(tau²). Default: halfnormal:0.5 for log "
    "ratios (OR, RR, ROM; Röver et al. 2021); other measures need one stated.",
)
@click.option(
    "--mu-prior", "mu_prior", metavar="SPEC", help="Prior for mu: flat (default) or normal:MEAN,SD."
)
@click.option(
    "--threshold",
    "thresholds",
    type=float,
    multiple=True,
    metavar="C",
    help="Report P(mu < C) and P(theta_new < C) (analysis scale; repeatable).",
)
@click.option(
    "--tau-threshold",
    "tau_thresholds",
    type=float,
    multiple=True,
    metavar="X",
    help="Report P(tau > X) (repeatable).",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    help="Also draw the posterior of tau and mu, with their priors, to FILE (.png, .svg or .pdf).",
)
@click.option(
    "--forest",
    "forest_plot",
    type=click.Path(dir_okay=False),
    help="Also draw the forest plot of the shrinkage estimates and the predictive interval to FILE.",
)
@_size_option
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically).")
def bayes(
    path, tau_prior, mu_prior, thresholds, tau_thresholds, plot, forest_plot, size, fmt, output, **pool_opts
):
    """Bayesian random-effects meta-analysis of the CSV file PATH (the normal-normal
    hierarchical model by numerical integration, as R's bayesmeta): posteriors of tau, mu, a
    new study's effect and each study's shrinkage estimate, under the stated priors."""
    from metamg.analyses.bayes import bayes as run_bayes

    _output(output, [path])
    _output(plot, [path], "--plot", FIGURE_SUFFIXES)
    _output(forest_plot, [path], "--forest", FIGURE_SUFFIXES)
    analysis = _run_pool(path, pool_opts)
    result = run_bayes(analysis, tau_prior, mu_prior, thresholds, tau_thresholds)
    if plot or forest_plot:
        from metamg.api import bayes_forest, bayes_plot
        from metamg.render.figures import save_figure

        if plot:
            save_figure(bayes_plot(result, size=size), plot)
        if forest_plot:
            save_figure(bayes_forest(result, size=size), forest_plot)
    if fmt == "json":
        text = _json(result.to_dict())
    else:
        from metamg.render.bayes_text import bayes_text

        text = bayes_text(result)
    _emit(text, output)


def _moderators(ctx, param, value):
    columns = [m.strip() for m in value.split(",") if m.strip()]
    if not columns:
        raise click.BadParameter("name at least one moderator column, e.g. --mods ablat,year")
    return columns


@main.command()
@click.argument("path", type=click.Path(dir_okay=True, allow_dash=False))
@click.option(
    "--mods",
    required=True,
    callback=_moderators,
    help="Comma-separated moderator columns, e.g. --mods ablat,year.",
)
@_pool_options
@click.option(
    "--plot", type=click.Path(dir_okay=False), help="Bubble plot to FILE (one continuous moderator)."
)
@click.option(
    "--permutations",
    type=click.IntRange(min=1),
    help="Add permutation p-values from N refits with shuffled moderators.",
)
@click.option("--seed", type=int, default=1, show_default=True, help="Seed for --permutations.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write to FILE (atomically).")
def regress(path, mods, plot, permutations, seed, fmt, output, **pool_opts):
    """Meta-regression of the CSV file PATH on moderator columns, with the analysis's tau²
    estimator and CI rule (--ci hk: Knapp-Hartung t and F tests; wald: z and chi-square)."""
    from metamg.analyses.regression import permutation_test
    from metamg.analyses.regression import regress as run_regress

    _output(output, [path])
    _output(plot, [path], "--plot", FIGURE_SUFFIXES)
    analysis = _run_pool(path, pool_opts)
    fit, design = run_regress(analysis, mods)  # the analysis's estimator and test
    perm = permutation_test(analysis, mods, permutations=permutations, seed=seed) if permutations else None
    if fmt == "json":
        d = fit.to_dict()
        if perm is not None:
            for c, p in zip(d["coefficients"], perm.p, strict=True):
                c["p_perm"] = p
            d.update(QM_p_perm=perm.qm_p, permutations=perm.permutations, seed=perm.seed)
        text = _json(d)
    else:
        from metamg.render.text import regression_text

        text = regression_text(analysis, fit, design, perm)
    if plot:
        if len(fit.coefficients) != 2 or design.reference_levels:
            raise click.UsageError("--plot draws a bubble plot for exactly one continuous moderator")
        from metamg.render import diagnostics

        title = analysis.meta.title if analysis.meta else _stem(path)
        diagnostics.write(diagnostics.draw_bubble(analysis, fit, design, title), plot)
    _emit(text, output)


@main.command("import")
@click.argument("path", type=click.Path(dir_okay=True, allow_dash=False))
@click.option("--list", "list_only", is_flag=True, help="List the analyses; write nothing.")
@click.option(
    "--analysis", "analysis_id", metavar="ID", help="Only analysis ID (comparison.outcome, e.g. 1.4)."
)
@click.option(
    "-o",
    "--output",
    "directory",
    type=click.Path(file_okay=False),
    help="Write one study set (CSV + TOML) per analysis into DIR (default with --format text: studies/).",
)
@click.option("--force", is_flag=True, help="Replace study sets that already exist.")
@click.option("--format", "fmt", type=click.Choice(("text", "json")), default="text", show_default=True)
def import_cmd(path, list_only, analysis_id, directory, force, fmt):
    """Import a Cochrane review: a RevMan 5 .rm5 file, a data-package zip or its folder.

    Writes one study set per analysis, named <review id>-<analysis id> (e.g.
    studies/CD009865-1.4.csv and .toml), with RevMan's settings and stored results in the
    TOML's [published] table; never replaces a set unless --force. --list lists the analyses;
    --format json prints them (one analysis with --analysis ID, re-pooled by metamg's revman5
    profile beside RevMan's numbers) and writes only with -o."""
    from metamg.api import import_revman, reanalyse_revman, write_revman_sets

    if list_only and directory:
        raise click.UsageError("--list writes nothing: drop -o, or drop --list to write the study sets")
    review = import_revman(path)
    chosen = [review.analysis(analysis_id)] if analysis_id else list(review.analyses)
    if list_only:
        if fmt == "json":
            click.echo(_json({"analyses": [a.summary() for a in chosen]}), nl=False)
        else:
            click.echo(_import_list_text(review, chosen), nl=False)
        return
    if directory is None and fmt == "text":
        directory = "studies"
    written = write_revman_sets(review, analysis_id, directory, force) if directory else []
    if fmt == "json":
        done = [{"id": i, "csv": c, "toml": t} for i, c, t in written]
        if analysis_id:
            d = reanalyse_revman(review, chosen[0]).to_dict()
        else:
            d = {
                "review": review.describe(),
                "analyses": [reanalyse_revman(review, a).to_dict() for a in chosen],
            }
        if directory:
            d["written"] = done
        click.echo(_json(d), nl=False)
        return
    for _, csv_path, toml_path in written:
        click.echo(f"{csv_path}  {toml_path}")
    if analysis_id:
        click.echo(_import_analysis_text(review, reanalyse_revman(review, chosen[0])), nl=False)
    else:
        click.echo(
            f"{len(written)} study set{'s' if len(written) != 1 else ''} from {review.file_name} "
            f"({review.review_id}, {review.format}); next: metamg check {directory}/{review.review_id}-*.csv",
            err=True,
        )


def _import_list_text(review, analyses) -> str:
    head = (
        f"{review.review_id}: {review.title or review.file_name} ({review.format}, {len(analyses)} analyses)"
    )
    rows = [("id", "type", "measure", "method", "model", "rows", "studies", "subgroups", "analysis")]
    for a in analyses:
        c = a.counts
        rows.append(
            (
                a.id,
                a.type,
                a.effect_measure,
                a.method,
                a.model,
                str(c["n_rows"]),
                str(c["n_studies"]),
                str(c["n_subgroups"]),
                f"{a.comparison} / {a.name}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    lines = [head] + [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=False)) + "  " + r[-1] for r in rows
    ]
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _g(x) -> str:
    return "n/a" if x is None else f"{x:.4g}"


def _import_analysis_text(review, imported) -> str:
    a = imported.analysis
    c = a.counts
    rv = dict(a.revman)
    lines = [
        f"{review.review_id} analysis {a.id}: {a.comparison} / {a.name}",
        f"  {a.type} data, {a.effect_measure_label or a.effect_measure} by {a.method} ({a.model} effect); "
        f"{c['n_rows']} rows from {c['n_studies']} studies ({c['n_estimable']} estimable), "
        f"{c['n_subgroups']} subgroups",
    ]
    if rv["effect"] is None:
        lines.append("  Published in the review: no overall result stored")
    else:
        tau = f"; Tau² = {_g(rv['tau2'])}" if a.model == "random" else ""
        lines.append(
            f"  Published in the review (RevMan): {a.effect_measure} {_g(rv['effect'])} "
            f"[{_g(rv['ci_lower'])}, {_g(rv['ci_upper'])}]{tau}; Chi² = {_g(rv['chi2'])}, "
            f"df = {_g(rv['df'])} (P = {_g(rv['p_chi2'])}); I² = {_g(rv['i2'])}%; "
            f"Z = {_g(rv['z'])} (P = {_g(rv['p_z'])})"
        )
    b = imported.revman5
    if b is None:
        lines.append(f"  Re-analysed by metamg (revman5 profile): {imported.note}")
    else:
        est, lo, hi = (
            (b["exp_estimate"], b["exp_ci_lower"], b["exp_ci_upper"])
            if "exp_estimate" in b
            else (b["estimate"], b["ci_lower"], b["ci_upper"])
        )
        tau = f"; Tau² = {_g(b['tau2'])}" if a.model == "random" else ""
        lines.append(
            f"  Re-analysed by metamg ({b['profile']} profile, {b['method']}): {a.effect_measure} {_g(est)} "
            f"[{_g(lo)}, {_g(hi)}]{tau}; Q = {_g(b['q'])}, df = {b['q_df']} (P = {_g(b['q_p'])}); "
            f"I² = {_g(b['i2'])}%; Z = {_g(abs(b['z']) if b['z'] is not None else None)} (P = {_g(b['p'])})"
        )
        if imported.note:
            lines.append(f"  Note: {imported.note}")
    return "\n".join(lines) + "\n"


def _default_figure(path, kind):
    return f"{_stem(path)}-{kind}.png"


def _json(obj) -> str:
    """JSON text of a to_dict() tree, every rule and warning with its words beside its facts."""
    import json

    from metamg.render.notes_text import with_words

    return json.dumps(with_words(obj), indent=2, ensure_ascii=False) + "\n"


def _stem(path) -> str:
    """The study set's name: the CSV file name without its extension."""
    return os.path.splitext(os.path.basename(path))[0]


def _emit(text: str, output: str | None) -> None:
    if output:
        from metamg.io.atomic import write_atomic

        write_atomic(output, text)
    else:
        click.echo(text, nl=False)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
