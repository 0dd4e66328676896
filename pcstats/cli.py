"""The ``pcstats`` command.

    pcstats fit SPEC --data TABLE --out DIR      fit one spec file to one long table
    pcstats reproduce --out DIR                  the paper's trend analysis on the bundled fixtures
    pcstats ingest FOLDER --out DIR              product files (NetCDF, FLUXNET2015) into long tables (Parquet)
    pcstats robustness SPEC --data TABLE --windows N --seed S --out DIR
                                                 random windows, each source alone, leave one out, longest vs shortest
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path

from .errors import PcstatsError

__all__ = ["main"]


def _fit(args: argparse.Namespace) -> int:
    from .data import read_table
    from .engines import fit
    from .export import write_results
    from .specs import load_spec

    spec = load_spec(args.spec, trust=args.trust)
    table = read_table(args.data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # printed below from the Results
        res = fit(spec, table)
    paths = write_results(res, args.out, Path(args.spec).stem, source=str(args.spec))
    print(repr(res))
    for w in res.warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(f"wrote {len(paths)} files to {args.out}")
    return 0


def _reproduce(args: argparse.Namespace) -> int:
    from .reproduce import FIXTURES, reproduce

    manifest = reproduce(args.out, fixtures=args.fixtures or FIXTURES)
    out = Path(args.out)
    print((out / "summary.md").read_text(encoding="utf-8"))
    print(f"wrote {len(manifest['tables'])} tables and {len(manifest['figures'])} figures to {out}")
    if manifest["warnings"]:
        print(f"{len(manifest['warnings'])} warning(s); see {out / 'manifest.json'}", file=sys.stderr)
    return 0


def _ingest(args: argparse.Namespace) -> int:
    from .ingest import ingest

    report = ingest(args.folder, args.out, resolution=args.resolution)
    out = Path(args.out)
    for source, info in report["sources"].items():
        files = info.get("files") or list(info.get("sites", {}))
        print(f"{source} ({info['product']}): {len(files)} file(s)")
    print(f"wrote {', '.join(report['written']) or 'nothing'} and ingest_report.json to {out}")
    if report["skipped"]:
        print(f"skipped {len(report['skipped'])} file(s):", file=sys.stderr)
        for item in report["skipped"]:
            print(f"  {item['file']}: {item['reason']}", file=sys.stderr)
    return 0


def _robustness(args: argparse.Namespace) -> int:
    from .data import read_table
    from .reproduce_robustness import robustness_set
    from .specs import load_spec

    spec = load_spec(args.spec, trust=args.trust)
    section = robustness_set(spec, read_table(args.data), args.out, windows=args.windows, seed=args.seed,
                             min_length=args.min_length, stem=Path(args.spec).stem, source=str(args.spec))
    print(section.summary)
    for w in section.messages:
        print(f"warning: {w}", file=sys.stderr)
    print(f"wrote {len(section.written)} tables and {len(section.figures)} figures to {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pcstats", description="Seasonal CO2 flux statistics (Liu et al. 2022).")
    sub = parser.add_subparsers(dest="command", required=True)
    p_fit = sub.add_parser("fit", help="fit a spec file to a long table; write tidy/glance as CSV and Markdown")
    p_fit.add_argument("spec", help="spec file (TOML), e.g. models/trend_seasonal.toml")
    p_fit.add_argument("--data", required=True, help="long table, .csv or .parquet")
    p_fit.add_argument("--out", required=True, help="output folder")
    p_fit.add_argument("--trust", action="store_true", help="accept formulas outside the safe vocabulary")
    p_fit.set_defaults(run=_fit)
    p_rep = sub.add_parser("reproduce", help="the paper's trend analysis on the bundled fixtures")
    p_rep.add_argument("--out", default="results", help="output folder (default: results)")
    p_rep.add_argument("--fixtures", default=None, help="folder with the fixture layout (default: bundled fixtures)")
    p_rep.set_defaults(run=_reproduce)
    p_ing = sub.add_parser("ingest", help="convert a folder of product files into long tables (Parquet), with a report")
    p_ing.add_argument("folder", help="folder with NetCDF product files and/or FLUXNET2015 FULLSET daily CSVs")
    p_ing.add_argument("--out", required=True, help="output folder: monthly.parquet, annual.parquet, ingest_report.json")
    p_ing.add_argument("--resolution", type=float, default=1.0, help="grid spacing in degrees (default: 1)")
    p_ing.set_defaults(run=_ingest)
    p_rob = sub.add_parser("robustness", help="the paper's robustness checks of a trend spec: random windows, each "
                           "source alone, leave one out, the longest against the shortest")
    p_rob.add_argument("spec", help="a 'y ~ year' trend spec file, e.g. models/trend_ensemble.toml")
    p_rob.add_argument("--data", required=True, help="seasonal long table, .csv or .parquet (with the ensemble rows if the "
                       "spec fits the ensemble)")
    p_rob.add_argument("--windows", type=int, default=10_000, help="number of random windows (default 10000)")
    p_rob.add_argument("--seed", type=int, default=0, help="seed of the windows (default 0)")
    p_rob.add_argument("--min-length", type=int, default=10, help="shortest window in years (default 10)")
    p_rob.add_argument("--out", default="robustness", help="output folder (default: robustness)")
    p_rob.add_argument("--trust", action="store_true", help="accept formulas outside the safe vocabulary")
    p_rob.set_defaults(run=_robustness)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (PcstatsError, FileNotFoundError) as exc:
        print(f"pcstats {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
