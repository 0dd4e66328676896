"""The ``pcstats`` command.

    pcstats fit SPEC --data TABLE --out DIR      fit one spec file to one long table
    pcstats reproduce --out DIR                  the paper's trend analysis on the bundled fixtures
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
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (PcstatsError, FileNotFoundError) as exc:
        print(f"pcstats {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
