"""Benchmark: the native SEM engine against lavaan (Rscript) on the same data and model, in one run.

    python bench/sem.py              # about 1 min; the lavaan columns are empty without R
    python bench/sem.py --repeats 10 --cases hs_cfa path_100k

Cases (the data of tests/reference/lavaan_extended/ and a seeded simulation):

* ``hs_cfa``: HolzingerSwineford1939's three-factor CFA (301 rows);
* ``pd_sem``: PoliticalDemocracy, lavaan's tutorial SEM with equal loadings (75 rows);
* ``hs_scalar``: the CFA by school with loadings and intercepts equal (two groups, mean structure);
* ``hs_fiml``: the CFA with 10 % of the values missing, FIML;
* ``pd_mlr``: PoliticalDemocracy with MLR (Huber-White SEs, Yuan-Bentler test);
* ``lgs_kinds``: the paper's LGS path model across three data kinds with equal regressions (3846 rows);
* ``path_100k``: a five-variable path model on 100,000 simulated rows;
* ``hs_cfa_long`` and ``path_100k_long``: the same data as pcstats long tables (one row per key and
  variable: 2,709 and 500,000 rows), so that ``pcstats.fit`` also pivots them (lavaan gets the wide rows).

Timed per fit (median of ``--repeats``; imports, R start-up and reading excluded):

* ``lavaan::sem`` alone, and with ``parameterEstimates(standardized = TRUE)`` and ``fitMeasures``
  (what a lavaan user runs for the same tables), inside one Rscript process;
* pcstats's engine alone (:func:`pcstats.engines.sem_native.fit_groups` on prepared rows: estimates,
  standard errors, scaled tests: what ``lavaan::sem`` computes) and ``pcstats.fit`` end to end
  (preparation, fit, tidy and glance tables, Results);
* for one-group ML models also the semopy engine end to end.

Each row also gives the largest relative difference of the estimates from lavaan's and χ² − lavaan's.
Target (issue 19): the native engine at most 0.5x lavaan's time.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import statistics
import subprocess
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

import pcstats as pc
from pcstats.engines import prepare
from pcstats.engines.common import group_slices
from pcstats.engines.sem_native import fit_groups

ROOT = Path(__file__).resolve().parent.parent
EXTENDED = ROOT / "tests" / "reference" / "lavaan_extended"
MODELS = pd.read_csv(EXTENDED / "models.csv").set_index("name")
HS_MODEL = MODELS.loc["hs_configural", "syntax"]

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); model <- paste(readLines(args[2]), collapse = "\n"); options <- readLines(args[3])
n <- as.integer(args[4])
call <- function() eval(parse(text = sprintf("sem(model, d%s)", options)))
fit <- call()  # warm-up
med <- function(fn) median(sapply(seq_len(n), function(i) system.time(fn())[["elapsed"]]))
alone <- med(call)
full <- med(function() { f <- call(); parameterEstimates(f, standardized = TRUE); fitMeasures(f) })
pe <- parameterEstimates(fit)
pe <- pe[pe$op %in% c("=~", "~", "~~", "~1"), ]
write.csv(data.frame(lhs = pe$lhs, op = pe$op, rhs = pe$rhs, group = if (is.null(pe$group)) 1 else pe$group,
                     est = sprintf("%.15g", pe$est)), args[5], row.names = FALSE)
cat(sprintf("%.6f,%.6f,%.10f\n", alone, full, fitMeasures(fit, "chisq")))
"""


def _simulated(n: int = 100_000, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    x1, x2 = rng.normal(size=n), rng.normal(size=n)
    y1 = 0.5 * x1 + 0.3 * x2 + rng.normal(size=n)
    y2 = 0.4 * y1 + 0.2 * x1 + rng.normal(size=n)
    y3 = 0.3 * y1 + 0.5 * y2 + rng.normal(size=n)
    return pd.DataFrame({"x1": x1, "x2": x2, "y1": y1, "y2": y2, "y3": y3})


def _long(data: pd.DataFrame) -> pd.DataFrame:
    """A data frame's rows as a pcstats long table: one row per (cell, year) key, one variable per column."""
    n = len(data)
    keys = pd.DataFrame({"source": "bench", "kind": "satellite", "region": [f"c{i // 500}" for i in range(n)],
                         "year": 1500 + np.arange(n) % 500, "season": "ANN"})
    parts = [keys.assign(variable=str(c), value=data[c].to_numpy(dtype=float), unit="1") for c in data.columns]
    return pd.concat(parts, ignore_index=True)


def cases() -> dict[str, tuple[pd.DataFrame, str, dict, str]]:
    """name -> (data, lavaan syntax, SEMSpec options, the same options as R arguments)."""
    hs, pd_data = pd.read_csv(EXTENDED / "hs_data.csv"), pd.read_csv(EXTENDED / "pd_data.csv")
    kinds = pd.read_csv(ROOT / "tests" / "reference" / "sem_multigroup_input.csv")
    return {
        "hs_cfa": (hs, HS_MODEL, {}, ""),
        "pd_sem": (pd_data, MODELS.loc["pd_equality", "syntax"], {}, ""),
        "hs_scalar": (hs, HS_MODEL, {"group": "school", "group_equal": ("loadings", "intercepts")},
                      ', group = "school", group.equal = c("loadings", "intercepts")'),
        "hs_fiml": (pd.read_csv(EXTENDED / "hs_fiml_data.csv"), HS_MODEL, {"missing": "fiml"}, ', missing = "ml"'),
        "pd_mlr": (pd_data, MODELS.loc["pd_mlr", "syntax"], {"estimator": "MLR"}, ', estimator = "MLR"'),
        "lgs_kinds": (kinds, MODELS.loc["multigroup_free", "syntax"], {"group": "kind", "group_equal": ("regressions",)},
                      ', group = "kind", group.equal = "regressions"'),
        "path_100k": (_simulated(), "y1 ~ x1 + x2\ny2 ~ y1 + x1\ny3 ~ y1 + y2", {}, ""),
        "hs_cfa_long": (hs[[c for c in hs.columns if c.startswith("x")]], HS_MODEL, {}, ""),
        "path_100k_long": (_simulated(), "y1 ~ x1 + x2\ny2 ~ y1 + x1\ny3 ~ y1 + y2", {}, ""),
    }


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def lavaan(data: pd.DataFrame, syntax: str, options: str, repeats: int):
    """(sem alone, sem + tables, chisq, estimates) in seconds, or None without R."""
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data.to_csv(tmp / "data.csv", index=False)
        (tmp / "bench.R").write_text(R_SCRIPT)
        (tmp / "model.lav").write_text(syntax)
        (tmp / "options.txt").write_text(options + "\n")
        out = subprocess.run(["Rscript", str(tmp / "bench.R"), str(tmp / "data.csv"), str(tmp / "model.lav"),
                              str(tmp / "options.txt"), str(repeats), str(tmp / "est.csv")],
                             capture_output=True, text=True)
        if out.returncode != 0:
            print("Rscript failed:", out.stderr[-400:])
            return None
        alone, full, chisq = map(float, out.stdout.strip().splitlines()[-1].split(","))
        estimates = pd.read_csv(tmp / "est.csv", keep_default_na=False, na_values=[""])
    return alone, full, chisq, estimates


def engine_only(spec: pc.SEMSpec, data: pd.DataFrame):
    """The engine on prepared rows, as pcstats.fit calls it (a closure over the prepared blocks)."""
    prepared = prepare(spec, data)
    slices = group_slices(prepared)
    groups = prepared.groups
    blocks = [(groups.at[g, spec.group] if spec.group else None, prepared.frame.iloc[s]) for g, s in slices.items()]
    return lambda: fit_groups(spec, blocks, "bench")


def difference(res: pc.Results, estimates: pd.DataFrame | None) -> float:
    if estimates is None:
        return float("nan")
    tidy = res.tidy()
    tidy = tidy[tidy["op"].isin(["=~", "~", "~~", "~1"])]
    if "group" in tidy.columns:
        labels = list(dict.fromkeys(tidy["group"]))
        tidy = tidy.assign(group=[labels.index(g) + 1 for g in tidy["group"]])
    else:
        tidy = tidy.assign(group=1)
    estimates = estimates.assign(rhs=estimates["rhs"].fillna("").astype(str))
    both = tidy.merge(estimates, on=["lhs", "op", "rhs", "group"])
    return float(np.max(np.abs(both["estimate"] - both["est"]) / np.maximum(np.abs(both["est"]), 1e-8)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--cases", nargs="*", default=None)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, pcstats {pc.__version__}, median of {args.repeats}")
    rows = []
    for name, (data, syntax, options, r_options) in cases().items():
        if args.cases and name not in args.cases:
            continue
        spec = pc.SEMSpec(syntax, **options)
        table = _long(data) if name.endswith("_long") else data  # lavaan gets the wide rows either way
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = pc.fit(spec, table)
            end_to_end = median_time(lambda: pc.fit(spec, table), args.repeats)
            engine = median_time(engine_only(spec, table), args.repeats)
            semopy = (median_time(lambda: pc.fit(spec.replace(engine="semopy"), table), args.repeats)
                      if not options and name != "pd_sem" else float("nan"))
        ref = lavaan(data, syntax, r_options, args.repeats)
        alone, full, chisq, estimates = ref if ref else (float("nan"),) * 3 + (None,)
        rows.append({"case": name, "rows": len(table), "lavaan sem": alone, "lavaan + tables": full,
                     "pcstats engine": engine, "pcstats.fit": end_to_end, "semopy engine": semopy,
                     "engine x lavaan": engine / alone, "fit x lavaan+tables": end_to_end / full,
                     "max rel diff est": difference(res, estimates), "chisq - lavaan": res.glance()["chisq"].iloc[0] - chisq})
    table = pd.DataFrame(rows)
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
