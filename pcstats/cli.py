"""The ``pcstats`` command.

    pcstats fit SPEC --data TABLE --out DIR      fit one spec file (or bundled spec, e.g. trend_seasonal) to one long table
    pcstats reproduce --out DIR [--only SECTION] the paper's analyses on the bundled fixtures
    pcstats ingest FOLDER --out DIR              product files (NetCDF, FLUXNET2015) into long tables (Parquet)
    pcstats seasonalize MONTHLY --out DIR        a monthly long table into seasons (EGS, LGS, WIN, ANN)
    pcstats robustness SPEC --data TABLE --windows N --seed S --out DIR
                                                 random windows, each source alone, leave one out, longest vs shortest
    pcstats export RESULTS_DIR --format latex|md|html|docx|csv
                                                 one coefficient table per saved fit, for papers

Exit codes: 0 done; 2 a mistake in the input (one line on stderr names the file or option and the
fix); 1 an internal error (one line; please report it); 130 interrupted. ``--debug`` (before or
after the command: ``pcstats --debug fit ...``) shows the Python traceback instead of the one line.
``--quiet`` prints nothing but errors and the final line ("wrote ..."); ``--verbose`` adds a line per
fit, the warnings as they come and what the backends print. ``--version`` prints the version.

Every command writes all its outputs or none (:mod:`pcstats.atomic`): into a hidden temporary
folder next to the output folder, moved in when the run has succeeded; a failed or killed run
leaves nothing in the output folder, and the next run removes what a killed run left.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import math
import sys
import textwrap
import warnings
from pathlib import Path

from ._version import __version__
from .atomic import atomic_output
from .errors import PcstatsError
from .progress import backends_quiet

__all__ = ["main"]


def _fit(args: argparse.Namespace) -> int:
    from .engines import fit
    from .export import write_results
    from .specs import load_spec

    path = _spec_file(args.spec)
    spec = load_spec(path, trust=args.trust)
    table = _read(args)
    shown: set[str] = set()
    with warnings.catch_warnings(), backends_quiet(args.verbose), _monthly_hint(table, args.data):
        if args.verbose:  # as they come; each once
            warnings.simplefilter("always")
            warnings.showwarning = lambda message, *_: _warn_once(args, str(message), shown)
        else:
            warnings.simplefilter("ignore")  # printed below from the Results
        res = fit(spec, table)
    paths = write_results(res, args.out, path.stem, source=str(path))
    _say(args, repr(res).splitlines()[0])  # the Results' one-line description; its warnings follow, once
    for w in res.warnings:
        _warn_once(args, w, shown)
    print(f"wrote {len(paths)} files to {args.shown_out}")
    return 0


def _read(args: argparse.Namespace):
    """The --data table; an unknown season name says how to accept it on the command line."""
    from .data import read_table

    try:
        return read_table(args.data, seasons=args.seasons)
    except PcstatsError as exc:
        if "Unknown season" in str(exc):
            raise PcstatsError(f"{_one_line(exc)} On the command line: --seasons NAME,...") from exc
        raise


def _spec_file(text: str) -> Path:
    """SPEC: a spec file, or the name of a bundled one (``trend_seasonal``, as in ``models/``) where no such file is."""
    path = Path(text)
    if path.is_file() or path.parent not in (Path("."), Path("models")):
        return path
    from .datasets import MODELS

    bundled = MODELS / (path.name if path.suffix == ".toml" else f"{path.name}.toml")
    if bundled.is_file():
        return bundled
    if not path.suffix:  # a name, not a file name
        names = ", ".join(sorted(p.stem for p in MODELS.glob("*.toml")))
        raise PcstatsError(f"SPEC {text!r}: no such file, and no bundled spec of that name; give a .toml file or one "
                           f"of the bundled specs: {names}.")
    return path


def _say(args: argparse.Namespace, text: str) -> None:
    """A line on stdout, unless --quiet."""
    if not args.quiet:
        print(text)


def _warn_once(args: argparse.Namespace, text: str, shown: set[str]) -> None:
    """``warning: TEXT`` on stderr, once per text (one already shown within a longer one counts), unless --quiet."""
    if not any(text in seen for seen in shown) and not args.quiet:
        print(f"warning: {text}", file=sys.stderr, flush=True)
    shown.add(text)


@contextlib.contextmanager
def _monthly_hint(table, path: str):
    """A fit of a monthly table that fails for want of ``season``: the error says to run ``pcstats seasonalize``."""
    try:
        yield
    except PcstatsError as exc:
        if "month" in table.columns and "season" not in table.columns and "season" in str(exc):
            raise PcstatsError(f"{_one_line(exc)} {path} is a monthly table (column 'month', no 'season'): make its "
                               f"seasons first with `pcstats seasonalize {path} --out SEASONAL`, then fit "
                               "SEASONAL/seasonal.parquet.") from exc
        raise


def _seasonalize(args: argparse.Namespace) -> int:
    from .data import read_table, seasonalize, write_table
    from .data.seasons import SEASONS

    path = Path(args.table)
    if path.is_dir():  # the folder `pcstats ingest` wrote
        path = path / "monthly.parquet"
        if not path.is_file():
            raise PcstatsError(f"seasonalize: {args.table} is a folder without monthly.parquet; give the monthly "
                               "table itself (.csv or .parquet), or the folder `pcstats ingest` wrote.")
    table = read_table(path)
    if "month" not in table.columns:
        raise PcstatsError(f"seasonalize: {path} has no column 'month' (it has 'season': it is seasonal already); "
                           "fit it directly with `pcstats fit SPEC --data ...`.")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        seasonal = seasonalize(table, dict(args.season) or None, how=args.how, winter=args.winter)
    name = f"seasonal{'.csv' if path.suffix.lower() == '.csv' else '.parquet'}"
    write_table(seasonal, Path(args.out) / name)
    seasons = ", ".join(seasonal["season"].unique())
    own = [name for name, _ in args.season if name not in SEASONS]
    _say(args, f"{len(table)} monthly rows -> {len(seasonal)} seasonal rows ({seasons}; how={args.how!r}, "
               f"winter={args.winter!r})" + (f"; fit them with --seasons {','.join(own)}" if own else ""))
    shown: set[str] = set()
    for w in caught:
        _warn_once(args, str(w.message), shown)
    print(f"wrote {name} to {args.shown_out}")
    return 0


def _names(text: str) -> list[str]:
    """An argparse type: NAME,NAME,..."""
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise argparse.ArgumentTypeError(f"give names separated by commas, e.g. GS,NGS, not {text!r}")
    return names


def _season(text: str) -> tuple[str, tuple[int, ...]]:
    """An argparse type: NAME=M,M,... (months 1-12)."""
    name, _, months = text.partition("=")
    try:
        numbers = tuple(int(m) for m in months.split(","))
    except ValueError:
        numbers = ()
    if not name.strip() or not numbers or not all(1 <= m <= 12 for m in numbers):
        raise argparse.ArgumentTypeError(f"give NAME=MONTHS with months 1-12, e.g. GS=5,6,7,8,9,10, not {text!r}")
    return name.strip(), numbers


def _reproduce(args: argparse.Namespace) -> int:
    from .pipeline import FIXTURES, reproduce

    progress = "none" if args.quiet else None  # None: bars on a terminal, else a line per finished section
    manifest = reproduce(args.out, fixtures=args.fixtures or FIXTURES, only=args.only, jobs=args.jobs, progress=progress,
                         verbose=args.verbose, previous=args.shown_out, design=args.design)  # args.out: the temporary folder
    out = Path(args.shown_out)
    if args.verbose:
        print((Path(args.out) / "summary.md").read_text(encoding="utf-8"))
    else:
        _say(args, f"summary: {out / 'summary.md'}; report: {out / 'index.html'}")
    warned = f"; {len(manifest['warnings'])} warning(s), see {out / 'manifest.json'}" if manifest["warnings"] else ""
    print(f"wrote {len(manifest['tables'])} tables and {len(manifest['figures'])} figures to {out}{warned}")
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from .ingest import ingest

    report = ingest(args.folder, args.out, resolution=args.resolution)
    if not report["written"]:
        reasons = "; ".join(f"{item['file']}: {item['reason']}" for item in report["skipped"][:3])
        raise PcstatsError(f"ingest: no rows could be read from {args.folder}, so nothing was written"
                           + (f" ({len(report['skipped'])} file(s) skipped, e.g. {reasons})" if reasons else
                              " (the folder holds no product files)") + ".")
    out = Path(args.shown_out)
    for source, info in report["sources"].items():
        files = info.get("files") or list(info.get("sites", {}))
        _say(args, f"{source} ({info['product']}): {len(files)} file(s)")
    if report["skipped"] and not args.quiet:
        print(f"skipped {len(report['skipped'])} file(s):", file=sys.stderr)
        for item in report["skipped"]:
            print(f"  {item['file']}: {item['reason']}", file=sys.stderr)
    if "monthly.parquet" in report["written"]:
        _say(args, f"next: pcstats seasonalize {out / 'monthly.parquet'} --out SEASONAL (the fits need seasons)")
    print(f"wrote {', '.join(report['written']) or 'nothing'} and ingest_report.json to {out}")
    return 0


def _robustness(args: argparse.Namespace) -> int:
    from .pipeline.robustness import robustness_set
    from .specs import load_spec

    path = _spec_file(args.spec)
    spec = load_spec(path, trust=args.trust)
    table = _read(args)
    with _monthly_hint(table, args.data), backends_quiet(args.verbose):
        section = robustness_set(spec, table, args.out, windows=args.windows, seed=args.seed,
                                 min_length=args.min_length, stem=path.stem, source=str(path))
    (Path(args.out) / "summary.md").write_text(section.summary.rstrip() + "\n", encoding="utf-8")
    _say(args, section.summary)
    shown: set[str] = set()
    for w in section.messages:
        _warn_once(args, w, shown)
    print(f"wrote summary.md, {len(section.written)} tables and {len(section.figures)} figures to {args.shown_out}")
    return 0


_EXTENSIONS = {"latex": "tex", "md": "md", "html": "html", "docx": "docx", "csv": "csv"}


def _export(args: argparse.Namespace) -> int:
    """Write one coefficient table per saved fit.

    Reads every ``STEM_tidy.csv`` + ``STEM_glance.csv`` pair (with ``STEM.json`` when present) in
    RESULTS_DIR, or in RESULTS_DIR/tables where ``pcstats reproduce`` puts them, and writes
    ``OUT/STEM.tex|md|html|docx|csv`` (OUT defaults to RESULTS_DIR/export): the table of
    :func:`pcstats.tables.table` for that one fit (one spec file), every ``by`` group a column under
    the model label, the default components and goodness-of-fit rows. Stems without a glance file
    (summaries such as comparison_*.csv or the random-window draws) are skipped and listed.
    """
    from .tables import read_saved, table

    folder = Path(args.results_dir)
    saved = read_saved(folder)
    if not saved:
        raise PcstatsError(f"export: no STEM_tidy.csv with its STEM_glance.csv in {folder} or {folder / 'tables'}; "
                           "write them with `pcstats fit` or `pcstats reproduce`.")
    source = folder / "tables" if (folder / "tables").is_dir() and not list(folder.glob("*_tidy.csv")) else folder
    skipped = sorted(p.name for p in source.glob("*_tidy.csv*") if p.name.split("_tidy.csv")[0] not in saved)
    out = Path(args.out)
    statistic = None if args.statistic == "none" else args.statistic
    written = []
    for stem, fit in saved.items():
        tab = table({fit.model: fit}, statistic=statistic, stars=not args.no_stars, fmt=args.fmt, max_columns=None)
        path = out / f"{stem}.{_EXTENSIONS[args.format]}"
        if args.format == "docx":
            tab.to_docx(path)
        else:
            getattr(tab, {"latex": "to_latex", "md": "to_markdown", "html": "to_html", "csv": "to_csv"}[args.format])(path)
        written.append(path)
    for name in skipped if not args.quiet else ():
        print(f"skipped {name}: no matching _glance.csv", file=sys.stderr)
    print(f"wrote {len(written)} {args.format} tables to {args.shown_out}")
    return 0


#: the example at the foot of each command's --help
EXAMPLES = {
    "fit": """Examples:
  pcstats fit trend_seasonal --data results/data/seasonal_permafrost.csv --out fits
  pcstats fit my_model.toml --data seasonal/seasonal.parquet --out fits
  (SPEC is a spec file, or the name of a bundled one: trend_seasonal, glmm_trend, sem_lgs, ...;
  the first writes fits/trend_seasonal_tidy.csv, _glance.csv, .md and .json; the data table is
  one `pcstats reproduce` wrote; a monthly table needs `pcstats seasonalize` first)""",
    "reproduce": """Examples:
  pcstats reproduce --out results                      every section, into results/
  pcstats reproduce --out results --only bayes sem     rerun two sections, keep the others' results
  pcstats reproduce --out results --quiet              only errors and the final line""",
    "ingest": """Example:
  pcstats ingest fixtures/products --out tables
  pcstats seasonalize tables/monthly.parquet --out seasonal      (then fit seasonal/seasonal.parquet)""",
    "seasonalize": """Examples:
  pcstats seasonalize tables/monthly.parquet --out seasonal
  pcstats seasonalize tables --out seasonal --how total --winter spanning
  pcstats seasonalize monthly.csv --out seasonal --season GS=5,6,7,8,9,10 --season WIN=11,12,1,2,3,4
  then: pcstats fit models/trend_seasonal.toml --data seasonal/seasonal.parquet --out fits""",
    "robustness": """Example:
  pcstats robustness trend_ensemble --data results/data/seasonal_permafrost.csv --windows 1000 --seed 1 --out rob
  (writes rob/summary.md, rob/tables/, rob/figures/)""",
    "export": """Examples:
  pcstats export results --format latex                 results/export/STEM.tex, one per saved fit
  pcstats export fits --format docx --statistic conf_int --out word""",
}


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
        if args.quiet and args.verbose:
            parser.error("--quiet and --verbose: give one of them")
    except SystemExit as exc:  # --help (0), --version (0) or a bad command line (2, one line printed)
        return int(exc.code or 0)
    try:
        if args.command == "export" and not args.out:
            args.out = str(Path(args.results_dir) / "export")
        args.shown_out = args.out
        notes: list[str] = []
        with _log_lines(args), atomic_output(args.out, notes=notes) as tmp:  # all outputs or none
            args.out = str(tmp)
            code = args.run(args)
        for note in notes if not args.quiet else ():
            print(f"pcstats {args.command}: {note}", file=sys.stderr)
        return code
    except KeyboardInterrupt:
        print(f"pcstats {args.command}: interrupted; nothing was written to {args.shown_out}.", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.debug:
            raise
        if _user_mistake(exc):
            print(f"pcstats {args.command}: error: {_one_line(exc)}", file=sys.stderr)
            return 2
        # a bug, not the user's mistake: one line, the traceback with --debug
        print(f"pcstats {args.command}: internal error: {type(exc).__name__}: {_one_line(exc)}; rerun with --debug "
              "for the traceback, and please report it.", file=sys.stderr)
        return 1


@contextlib.contextmanager
def _log_lines(args: argparse.Namespace):
    """The ``pcstats`` logger's records on stderr while a command runs: errors (--quiet), warnings, or INFO
    lines too (--verbose: what each step does, e.g. each Bayesian group sampled)."""
    log = logging.getLogger("pcstats")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter(f"pcstats {args.command}: %(message)s"))
    level = logging.ERROR if args.quiet else logging.INFO if args.verbose else logging.WARNING
    before = log.level
    log.addHandler(handler)
    log.setLevel(level)
    try:
        yield
    finally:
        log.removeHandler(handler)
        log.setLevel(before)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pcstats", description="Seasonal CO2 flux statistics (Liu et al. 2022).\n"
                     "Exit codes: 0 done, 2 a mistake in the input (one line on stderr says which), 1 an internal\n"
                     "error. Each command writes all its outputs or none.",
                     epilog="Examples:\n"
                            "  pcstats reproduce --out results                 the paper's analyses on the bundled data\n"
                            "  pcstats ingest FOLDER --out tables              your product files, then:\n"
                            "  pcstats seasonalize tables --out seasonal       months into seasons, then:\n"
                            "  pcstats fit models/trend_seasonal.toml --data seasonal/seasonal.parquet --out fits\n"
                            "  pcstats fit --help                              each command's options and example",
                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"pcstats {__version__}")
    switches = {"--debug": "show the Python traceback of an error instead of one line",
                "--quiet": "print nothing but errors and the final line",
                "--verbose": "also a line per fit, the warnings as they come, and what the backends print"}
    for switch, text in switches.items():
        parser.add_argument(switch, action="store_true", help=text)
    sub = parser.add_subparsers(dest="command", required=True)

    def command(name: str, text: str, run) -> argparse.ArgumentParser:
        each = sub.add_parser(name, help=text, description=textwrap.fill(text, 100), epilog=EXAMPLES[name],
                              formatter_class=argparse.RawDescriptionHelpFormatter)
        each.set_defaults(run=run)
        return each

    p_fit = command("fit", "fit a spec file to a long table; write tidy/glance as CSV and Markdown", _fit)
    p_fit.add_argument("spec", help="spec file (TOML), or a bundled spec's name, e.g. trend_seasonal")
    p_fit.add_argument("--data", required=True, help="long table, .csv or .parquet")
    p_fit.add_argument("--out", required=True, help="output folder")
    p_fit.add_argument("--trust", action="store_true", help="accept formulas outside the safe vocabulary")
    p_fit.add_argument("--seasons", type=_names, default=None, metavar="NAME,...",
                       help="season names to accept besides EGS, LGS, WIN, ANN (made by seasonalize --season)")
    from .data.design import DESIGNS

    p_rep = command("reproduce", "the paper's analyses on the bundled fixtures", _reproduce)
    p_rep.add_argument("--out", default="results", help="output folder (default: results)")
    p_rep.add_argument("--fixtures", default=None, help="folder with the fixture layout (default: bundled fixtures)")
    p_rep.add_argument("--only", nargs="+", metavar="SECTION", default=None,
                       help="rerun these sections into an OUT written before (trends, mixed, bayes, sem, evaluation, "
                            "robustness, grid, productivity, comparisons, smap); the report is rewritten with the others' "
                            "kept results")
    p_rep.add_argument("--design", default="paper", choices=list(DESIGNS),
                       help="study design (default: paper: 1980-2017, P: TC < 50 %% and P > 10 %%, NoP: TC > 50 %% and "
                            "P < 10 %%, natural vegetation, unweighted; paper_code: IPA zones as the paper's R code; "
                            "threshold: P >= 10 %% vs the rest, all years and cells, area-weighted)")
    p_rep.add_argument("--jobs", type=int, default=None,
                       help="run sections in this many worker processes (default: 2 on a machine with 2 cores or more)")
    p_ing = command("ingest", "convert a folder of product files into monthly long tables (Parquet), with a report", _ingest)
    p_ing.add_argument("folder", help="folder with NetCDF product files and/or FLUXNET2015 FULLSET daily CSVs")
    p_ing.add_argument("--out", required=True, help="output folder: monthly.parquet, annual.parquet, ingest_report.json")
    p_ing.add_argument("--resolution", type=_degrees, default=1.0, help="grid spacing in degrees (default: 1)")
    p_sea = command("seasonalize", "a monthly long table (from `pcstats ingest`) into seasons, for `pcstats fit`: "
                    "EGS May-Aug, LGS Sep-Oct, WIN Nov-Apr, ANN Jan-Dec", _seasonalize)
    p_sea.add_argument("table", help="monthly long table (.csv or .parquet), or the folder `pcstats ingest` wrote")
    p_sea.add_argument("--out", required=True, help="output folder: seasonal.parquet (seasonal.csv for a .csv input)")
    p_sea.add_argument("--how", default="mean_x365", choices=["mean_x365", "mean", "total"],
                       help="a seasonal flux: mean daily rate x 365 in gC m-2 yr-1 (default, the paper's), the mean "
                            "daily rate in gC m-2 d-1, or the season's total in gC m-2 season-1")
    p_sea.add_argument("--winter", default="calendar", choices=["calendar", "spanning"],
                       help="winter of year Y: Jan-Apr and Nov-Dec of Y (default, the paper's), or Nov-Dec of Y with "
                            "Jan-Apr of Y+1")
    p_sea.add_argument("--season", type=_season, action="append", default=[], metavar="NAME=M,M,...",
                       help="a season of your own (repeat for more; given, they replace EGS, LGS, WIN, ANN)")
    p_rob = command("robustness", "the paper's robustness checks of a trend spec: random windows, each source alone, "
                    "leave one out, the longest against the shortest", _robustness)
    p_rob.add_argument("spec", help="a 'y ~ year' trend spec file, or a bundled spec's name, e.g. trend_ensemble")
    p_rob.add_argument("--data", required=True, help="seasonal long table, .csv or .parquet (with the ensemble rows if the "
                       "spec fits the ensemble)")
    p_rob.add_argument("--windows", type=_at_least(1), default=10_000, help="number of random windows (default 10000)")
    p_rob.add_argument("--seed", type=_at_least(0), default=0, help="seed of the windows (default 0)")
    p_rob.add_argument("--min-length", type=int, default=10, help="shortest window in years (default 10)")
    p_rob.add_argument("--out", default="robustness", help="output folder (default: robustness)")
    p_rob.add_argument("--trust", action="store_true", help="accept formulas outside the safe vocabulary")
    p_rob.add_argument("--seasons", type=_names, default=None, metavar="NAME,...",
                       help="season names to accept besides EGS, LGS, WIN, ANN (made by seasonalize --season)")
    p_exp = command("export", "one coefficient table per saved fit (STEM_tidy.csv + STEM_glance.csv) as LaTeX, "
                    "Markdown, HTML, Word or CSV", _export)
    p_exp.add_argument("results_dir", help="folder written by `pcstats fit` or `pcstats reproduce` (its tables/ is read)")
    p_exp.add_argument("--format", required=True, choices=sorted(_EXTENSIONS), help="output format")
    p_exp.add_argument("--out", default=None, help="output folder (default: RESULTS_DIR/export)")
    p_exp.add_argument("--statistic", default="std_error", choices=["std_error", "conf_int", "p_value", "statistic", "none"],
                       help="shown below each estimate (default std_error)")
    p_exp.add_argument("--fmt", type=_at_least(0), default=3, help="digits after the decimal point (default 3)")
    p_exp.add_argument("--no-stars", action="store_true", help="no significance stars (default: + .1, * .05, ** .01, *** .001)")
    for each in sub.choices.values():  # the switches after the command too; they never reset the ones before
        for switch, text in switches.items():
            each.add_argument(switch, action="store_true", default=argparse.SUPPRESS, help=text)
    return parser


def _user_mistake(exc: Exception) -> bool:
    """pcstats's own errors, undecodable input, and file errors that name the file (missing, a folder, not
    writable, a read-only or full disk): exit code 2. Anything else is a bug: exit code 1."""
    return isinstance(exc, (PcstatsError, UnicodeDecodeError)) or (isinstance(exc, OSError) and exc.filename is not None) \
        or isinstance(exc, (FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError, FileExistsError))


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}; check the path and that you may read or write there."
    return " ".join(str(exc).split()) or type(exc).__name__


def _at_least(minimum: int):
    """An argparse type: a whole number >= ``minimum`` (the error names the option)."""
    def whole(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"give a whole number >= {minimum}, not {value}")
        return value
    return whole


def _degrees(text: str) -> float:
    """An argparse type: a positive, finite number of degrees."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of degrees") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"give a positive number of degrees (e.g. 1 or 0.5), not {text}")
    return value


class _Parser(argparse.ArgumentParser):
    """argparse that reports a bad command line in one line (no usage block above it)."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help`.\n")


if __name__ == "__main__":
    raise SystemExit(main())
