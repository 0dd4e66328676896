"""Benchmark: the mixed-model engines against lme4 itself, on the same data and model, in one run.

    python bench/mixed.py                       # all designs (about 3 min with R; R rows skipped without it)
    python bench/mixed.py --repeats 5 --cases cells paper
    python bench/mixed.py --no-insteval         # leave out lme4's InstEval (73,421 rows)

Designs (formula, rows, random effects q):

* ``cells``: ``NEE ~ year_c + (1 + year_c | region)`` on the 100 fixture cells (4100 rows, q = 200);
* ``paper``: the paper's GLMM for the annual season (354 rows, six inversions, three terms, singular);
* ``slopes_24``: 24 groups x 21 rows, ``y ~ x + (x | g)`` (504 rows, q = 48);
* ``slopes_500``: 500 groups x 20 rows, ``y ~ x + (x | g)`` (10,000 rows, q = 1000);
* ``crossed``: ``y ~ x + (1 | a) + (1 | b)`` with 1000 x 200 crossed levels (20,000 rows, q = 1200);
* ``insteval``: lme4's ``InstEval``, ``y ~ service + (1 | s) + (1 | d)`` (73,421 rows, 2972 + 1128
  crossed levels), exported from R by ``bench/insteval.R`` into a temporary folder (it ships with
  r-cran-lme4; not committed as data).

The simulated designs are made here with a seeded generator and handed to R as CSV.

Timed, per fit (best of ``--repeats``), in this run:

* ``lme4::lmer`` and ``lmerTest::lmer`` + ``summary`` (Satterthwaite df) inside one Rscript process,
  on a data frame already in R (R start-up and reading excluded);
* ``pcstats profiled`` (the default engine): ``pcstats.fit`` on the data frame (or long table), end
  to end (preparation, design, fit, Satterthwaite df, conditional modes and variances, Results),
  and the numerical core alone (``fit_lmm(..., satterthwaite=True)`` on ready matrices);
* on the small designs also the ``statsmodels`` and ``lme4`` engines end to end.

Peak memory: the maximum resident set of a fresh process that makes one fit (Python: import,
read, ``pcstats.fit``; R: load, read, ``lmerTest::lmer`` + ``summary``). Each row gives the
largest relative difference of its fixed effects from lme4's and its log-likelihood minus lme4's
(positive: a better optimum). Targets (issue 20): ``pcstats.fit`` end to end <= 1.0x ``lme4::lmer``
and faster than ``lmerTest::lmer`` + ``summary`` on every design; InstEval within 2 GiB.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import sys
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from timing import best_of

import pcstats as pc
from pcstats.engines import prepare
from pcstats.engines.common import group_slices
from pcstats.engines.mixed_design import build_design
from pcstats.stats.lmm import Block, fit_lmm
from pcstats.stats.lmm_sparse import available as sparse_available

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lme4); library(lmerTest)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE); f <- as.formula(args[2]); n <- as.integer(args[3])
if ("year" %in% names(d)) d$year_c <- d$year - mean(unique(d$year))
for (v in intersect(c("a", "b", "s", "d", "g"), names(d))) d[[v]] <- factor(d[[v]])
if ("service" %in% names(d)) d$service <- factor(d$service)
best <- function(fn) min(sapply(seq_len(n), function(i) system.time(fn())[["elapsed"]]))
m <- suppressMessages(lme4::lmer(f, d))  # warm-up
lme4_time <- best(function() suppressMessages(lme4::lmer(f, d)))
lmertest_time <- best(function() summary(suppressMessages(lmerTest::lmer(f, d))))
cat(sprintf("time,%.6f,%.6f\n", lme4_time, lmertest_time))
cat(sprintf("loglik,%.17g\n", as.numeric(logLik(m))))
cat(paste0("fixef,", paste(sprintf("%.17g", fixef(m)), collapse = ","), "\n"))
"""

R_PEAK = r"""
suppressPackageStartupMessages({library(lme4); library(lmerTest)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = TRUE)
if ("year" %in% names(d)) d$year_c <- d$year - mean(unique(d$year))
for (v in intersect(c("a", "b", "s", "d", "g"), names(d))) d[[v]] <- factor(d[[v]])
if ("service" %in% names(d)) d$service <- factor(d$service)
invisible(summary(suppressMessages(lmerTest::lmer(as.formula(args[2]), d))))
"""

PY_PEAK = r"""
import sys, warnings, pandas as pd, pcstats as pc
warnings.simplefilter("ignore")
data = pd.read_parquet(sys.argv[1])
pc.fit(pc.MixedSpec(sys.argv[2]), data)
"""


LAUNCHER = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
sys.exit(os.waitstatus_to_exitcode(status)) if os.waitstatus_to_exitcode(status) else print(usage.ru_maxrss)
"""


def _slopes(groups: int, per: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(groups), per)
    x = np.tile(np.arange(per, dtype=float), groups)
    b0, b1 = rng.normal(0, 2, groups), rng.normal(0, 0.5, groups)
    y = 1 + 0.3 * x + b0[g] + b1[g] * x + rng.normal(0, 1, g.size)
    return pd.DataFrame({"y": y, "x": x, "g": [f"g{i:04d}" for i in g]})


def _crossed(a_levels: int, b_levels: int, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    a, b, x = rng.integers(0, a_levels, n), rng.integers(0, b_levels, n), rng.normal(size=n)
    y = 0.5 * x + rng.normal(0, 1, a_levels)[a] + rng.normal(0, 0.7, b_levels)[b] + rng.normal(0, 1, n)
    return pd.DataFrame({"y": y, "x": x, "a": a, "b": b})


def _long(file: str, keep=lambda t: t):
    def load():
        table = keep(pc.read_table(REFERENCE / file)).reset_index(drop=True)
        return table, table[table["variable"] == "NEE"].rename(columns={"value": "NEE"})
    return load


def _frame(make):
    def load():
        frame = make()
        return frame, frame
    return load


def _insteval() -> tuple[pd.DataFrame, pd.DataFrame] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "insteval.csv"
        out = subprocess.run(["Rscript", str(ROOT / "bench" / "insteval.R"), str(path)], capture_output=True, text=True)
        if out.returncode != 0:
            print("bench/insteval.R failed:", out.stderr[-300:])
            return None
        frame = pd.read_csv(path, dtype={"s": str, "d": str, "service": str})
    return frame, frame


#: name -> (formula, loader returning (data for pcstats, wide frame for R), small: also the other engines)
CASES = {
    "cells": ("NEE ~ year_c + (1 + year_c | region)", _long("mixed_cells.csv"), True),
    "paper": ("NEE ~ year_c * region + (1 + year_c | source) + (1 | source:region) + (1 | source:year)",
              _long("trend_input.csv", lambda t: t[(t["season"] == "ANN") & (t["source"] != "ensemble")]), True),
    "slopes_24": ("y ~ x + (x | g)", _frame(lambda: _slopes(24, 21, 24)), True),
    "slopes_500": ("y ~ x + (x | g)", _frame(lambda: _slopes(500, 20, 500)), False),
    "crossed": ("y ~ x + (1 | a) + (1 | b)", _frame(lambda: _crossed(1000, 200, 20000, 1200)), False),
    "insteval": ("y ~ service + (1 | s) + (1 | d)", _insteval, False),
}


def quiet(fn):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    return run


def lme4_direct(wide: pd.DataFrame, formula: str, repeats: int, tmp: Path) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    script, data = tmp / "bench.R", tmp / "data.csv"
    script.write_text(R_SCRIPT)
    wide.to_csv(data, index=False)
    out = subprocess.run(["Rscript", str(script), str(data), formula, str(repeats)], capture_output=True, text=True)
    if out.returncode != 0:
        print("Rscript failed:", out.stderr[-500:])
        return None
    rows = {line.split(",")[0]: line.split(",")[1:] for line in out.stdout.strip().splitlines()}
    peak = _peak_rss(["Rscript", str(tmp / "peak.R"), str(data), formula], tmp / "peak.R", R_PEAK)
    return {"lme4": float(rows["time"][0]), "lmerTest": float(rows["time"][1]), "loglik": float(rows["loglik"][0]),
            "fixef": np.array(rows["fixef"], dtype=float), "peak": peak}


def _peak_rss(command: list[str], script: Path, text: str) -> float:
    """Peak resident set (GiB) of one fresh process running ``command`` (its own rusage, from wait4).

    A small launcher process starts it: Linux counts a forked child's pre-exec size (a copy of its
    parent, this benchmark with PyMC loaded) in its maximum, so the child must come from a small one.
    """
    script.write_text(text)
    out = subprocess.run([sys.executable, "-c", LAUNCHER, *command], capture_output=True, text=True)
    lines = out.stdout.strip().splitlines()
    return float(lines[-1]) / 2**20 if out.returncode == 0 and lines else np.nan


def pcstats_peak(data: pd.DataFrame, formula: str, tmp: Path) -> float:
    if "variable" in data.columns:
        return np.nan  # long tables are not written to parquet here
    path = tmp / "data.parquet"
    data.to_parquet(path)
    return _peak_rss([sys.executable, str(tmp / "peak.py"), str(path), formula], tmp / "peak.py", PY_PEAK)


def core(spec: pc.MixedSpec, data: pd.DataFrame, df: bool = True):
    prepared = prepare(spec, data)
    rows = next(iter(group_slices(prepared).values()))
    design = build_design(prepared.model, prepared.frame.iloc[rows], "bench")
    blocks = [Block(b.Z, b.codes, b.n_levels) for b in design.blocks]

    def run():
        fit_lmm(design.y, design.X, blocks, satterthwaite=df)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--cases", nargs="*", default=list(CASES), choices=list(CASES))
    parser.add_argument("--no-insteval", action="store_true")
    parser.add_argument("--no-glmm", action="store_true", help="leave out the GLMM designs (glmer)")
    args = parser.parse_args()
    cases = [c for c in args.cases if not (args.no_insteval and c == "insteval")]
    print(f"python {platform.python_version()}, pcstats {pc.__version__}, {platform.machine()}, repeats {args.repeats}, "
          f"sparse core {'on' if sparse_available() else 'off (scikit-sparse not installed)'}")
    summary = []
    for case in cases:
        formula, load, small = CASES[case]
        loaded = load()
        if loaded is None:
            print(f"\n{case}: skipped (needs R)")
            continue
        data, wide = loaded
        repeats = args.repeats if case != "insteval" else 1
        with tempfile.TemporaryDirectory() as tmp:
            ref = lme4_direct(wide, formula, repeats, Path(tmp))
            peak = pcstats_peak(data, formula, Path(tmp))
        rows = []
        if ref:
            rows.append(("lme4::lmer (Rscript)", ref["lme4"], 0.0, 0.0, np.nan))
            rows.append(("lmerTest::lmer + summary (Rscript)", ref["lmerTest"], 0.0, 0.0, ref["peak"]))
        engines = ("profiled", "statsmodels") + (("lme4",) if ref else ()) if small else ("profiled",)
        for engine in engines:
            spec = pc.MixedSpec(formula, engine=engine)
            fit = quiet(lambda spec=spec: pc.fit(spec, data))
            res = fit()  # warm-up (imports pymer4 for the lme4 engine)
            seconds = best_of(fit, repeats)
            beta = res.tidy().query("component == 'fixed'")["estimate"].to_numpy()
            diff = float(np.max(np.abs(beta / ref["fixef"] - 1))) if ref else np.nan
            dll = float(res.glance()["log_lik"].iloc[0] - ref["loglik"]) if ref else np.nan
            rows.append((f"pcstats {engine} (pcstats.fit, end to end)", seconds, diff, dll,
                         peak if engine == "profiled" else np.nan))
            if engine == "profiled":
                rows.append(("pcstats profiled, numerical core (fit + df)", best_of(quiet(core(spec, data)), repeats), diff, dll, np.nan))
                if ref:
                    summary.append((case, len(wide), seconds, ref["lme4"], ref["lmerTest"], dll, peak, ref["peak"]))
        out = pd.DataFrame(rows, columns=["run", "seconds", "max rel diff fixef", "loglik - lme4", "peak GiB"])
        if ref:
            out["x lme4::lmer"] = out["seconds"] / ref["lme4"]
            out["x lmerTest"] = out["seconds"] / ref["lmerTest"]
        print(f"\n{case}: {formula} ({len(wide)} rows)")
        print(out.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    if summary:
        table = pd.DataFrame(summary, columns=["design", "rows", "pcstats.fit (s)", "lme4::lmer (s)", "lmerTest + summary (s)",
                                               "loglik - lme4", "pcstats peak GiB", "R peak GiB"])
        table["x lme4"] = table["pcstats.fit (s)"] / table["lme4::lmer (s)"]
        table["x lmerTest"] = table["pcstats.fit (s)"] / table["lmerTest + summary (s)"]
        print("\nsummary (the default engine end to end, Satterthwaite df included)")
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    if not args.no_glmm:
        glmm_bench(args.repeats)


#: GLMM designs (issue 21): the data of tests/reference/glmm.R, formulas as pcstats reads those CSVs and as glmer
GLMM_CASES = {
    "cbpp (binomial)": ("cbpp.csv", "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)",
                        "cbind(incidence, size - incidence) ~ factor(period) + (1 | herd)", "binomial"),
    "grouseticks (Poisson, crossed)": ("grouseticks.csv", "TICKS ~ factor(YEAR) + cHEIGHT + (1 | BROOD) + (1 | LOCATION)",
                                       "TICKS ~ factor(YEAR) + cHEIGHT + (1 | BROOD) + (1 | LOCATION)", "poisson"),
}
GLMM_R = r"""
suppressPackageStartupMessages(library(lme4))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); f <- as.formula(args[2]); fam <- get(args[3]); n <- as.integer(args[4])
m <- glmer(f, d, family = fam)
cat(sprintf("%.6f,%.10f\n", median(sapply(seq_len(n), function(i) system.time(glmer(f, d, family = fam))[["elapsed"]])),
            as.numeric(logLik(m))))
"""


def glmm_bench(repeats: int) -> None:
    """pcstats.fit against lme4::glmer (timed inside R) on the GLMM designs; the target is <= 1.0x."""
    rows = []
    for name, (file, formula, r_formula, family) in GLMM_CASES.items():
        data = pd.read_csv(REFERENCE / "glmm" / file)
        spec = pc.MixedSpec(formula, family=family)
        res = quiet(lambda: pc.fit(spec, data))()
        seconds = best_of(quiet(lambda: pc.fit(spec, data)), repeats)
        r_seconds, r_loglik = float("nan"), float("nan")
        if shutil.which("Rscript"):
            with tempfile.TemporaryDirectory() as tmp:
                script = Path(tmp) / "glmm.R"
                script.write_text(GLMM_R)
                out = subprocess.run(["Rscript", str(script), str(REFERENCE / "glmm" / file), r_formula, family,
                                      str(repeats)], capture_output=True, text=True)
                if out.returncode == 0:
                    r_seconds, r_loglik = map(float, out.stdout.strip().splitlines()[-1].split(","))
        rows.append({"design": name, "rows": len(data), "pcstats.fit (s)": seconds, "lme4::glmer (s)": r_seconds,
                     "x glmer": seconds / r_seconds, "loglik - glmer": res.glance()["log_lik"].iloc[0] - r_loglik})
    print("\nGLMMs (Laplace; pcstats.fit end to end against glmer inside R, median)")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
