"""Benchmark: the mixed-model engines against lme4 itself, on the same data and model, in one run.

    python bench/mixed.py              # about 1 min with R; the lme4 rows are skipped without it
    python bench/mixed.py --repeats 5

Cases (the reference data of tests/reference/lme4.R):

* ``cells``: ``NEE ~ year_c + (1 + year_c | region)`` on the 100 fixture cells (4100 rows): many
  groups, a well-identified random intercept and trend;
* ``paper``: the paper's GLMM (models/glmm_trend.toml) for the annual season (353 rows, six
  inversions, three random-effect terms, singular).

Timed, per fit (best of ``--repeats``):

* ``lme4 (Rscript)``: ``lme4::lmer`` on a data frame already in R -- lme4's own time, R start-up
  and data loading excluded; also ``lmerTest::lmer`` + ``summary`` (lme4 plus Satterthwaite df,
  which the profiled and lme4 engines report);
* ``pcstats profiled`` (the default engine) and ``pcstats statsmodels``: ``pcstats.fit`` from the
  long table, end to end (validation, design, fit, df, BLUPs, Results); for the profiled engine
  also the numerical core alone on ready matrices, with and without the df (``fit_lmm`` and
  ``satterthwaite_df``; the fit alone is what ``lme4::lmer`` does);
* ``pcstats lme4``: ``pcstats.fit(engine="lme4")`` end to end (pymer4 import excluded).

Each row also gives the largest relative difference of its fixed effects from lme4's and its
log-likelihood minus lme4's (positive: a better optimum). Target (issue 3): the default engine at
<= 1.5x lme4's own time, with the same numbers.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
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
from pcstats.stats.lmm import Block, fit_lmm, satterthwaite_df

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "tests" / "reference"

R_SCRIPT = r"""
suppressPackageStartupMessages({library(lme4); library(lmerTest)})
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE); f <- as.formula(args[2]); n <- as.integer(args[3])
d$year_c <- d$year - mean(unique(d$year))
best <- function(fn) min(sapply(seq_len(n), function(i) system.time(fn())[["elapsed"]]))
m <- suppressMessages(lme4::lmer(f, d))  # warm-up
lme4_time <- best(function() suppressMessages(lme4::lmer(f, d)))
lmertest_time <- best(function() summary(suppressMessages(lmerTest::lmer(f, d))))
cat(sprintf("time,%.6f,%.6f\n", lme4_time, lmertest_time))
cat(sprintf("loglik,%.17g\n", as.numeric(logLik(m))))
cat(paste0("fixef,", paste(sprintf("%.17g", fixef(m)), collapse = ","), "\n"))
"""

CASES = {  # name: (formula, reference file, rows kept)
    "cells": ("NEE ~ year_c + (1 + year_c | region)", "mixed_cells.csv", lambda t: t),
    "paper": ("NEE ~ year_c * region + (1 + year_c | source) + (1 | source:region) + (1 | source:year)", "trend_input.csv",
              lambda t: t[(t["season"] == "ANN") & (t["source"] != "ensemble")]),
}



def quiet(fn):
    def run():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn()
    return run


def lme4_direct(table: pd.DataFrame, formula: str, repeats: int) -> dict | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script, data = Path(tmp) / "bench.R", Path(tmp) / "data.csv"
        script.write_text(R_SCRIPT)
        table[table["variable"] == "NEE"].rename(columns={"value": "NEE"}).to_csv(data, index=False)
        out = subprocess.run(["Rscript", str(script), str(data), formula, str(repeats)], capture_output=True, text=True)
    if out.returncode != 0:
        print("Rscript failed:", out.stderr[-500:])
        return None
    rows = {line.split(",")[0]: line.split(",")[1:] for line in out.stdout.strip().splitlines()}
    return {"lme4": float(rows["time"][0]), "lmerTest": float(rows["time"][1]), "loglik": float(rows["loglik"][0]),
            "fixef": np.array(rows["fixef"], dtype=float)}


def core(spec: pc.MixedSpec, table: pd.DataFrame, df: bool = True):
    prepared = prepare(spec, table)
    rows = next(iter(group_slices(prepared).values()))
    design = build_design(prepared.model, prepared.frame.iloc[rows], "bench")
    blocks = [Block(b.Z, b.codes, b.n_levels) for b in design.blocks]

    def run():
        fit = fit_lmm(design.y, design.X, blocks)
        if df:
            satterthwaite_df(design.y, design.X, blocks, fit)

    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, pcstats {pc.__version__}, {platform.machine()}, repeats {args.repeats}")
    for case, (formula, file, keep) in CASES.items():
        table = keep(pc.read_table(REFERENCE / file)).reset_index(drop=True)
        ref = lme4_direct(table, formula, args.repeats)
        rows = []
        if ref:
            rows.append(("lme4 (Rscript), lme4::lmer", ref["lme4"], 0.0, 0.0))
            rows.append(("lme4 (Rscript), lmerTest::lmer + summary", ref["lmerTest"], 0.0, 0.0))
        for engine in ("profiled", "statsmodels") + (("lme4",) if ref else ()):
            spec = pc.MixedSpec(formula, engine=engine)
            fit = quiet(lambda spec=spec: pc.fit(spec, table))
            res = fit()  # warm-up (imports pymer4 for the lme4 engine)
            seconds = best_of(fit, args.repeats)
            beta = res.tidy().query("component == 'fixed'")["estimate"].to_numpy()
            diff = float(np.max(np.abs(beta / ref["fixef"] - 1))) if ref else np.nan
            dll = float(res.glance()["log_lik"].iloc[0] - ref["loglik"]) if ref else np.nan
            rows.append((f"pcstats {engine} (pcstats.fit, end to end)", seconds, diff, dll))
            if engine == "profiled":
                rows.append(("pcstats profiled, numerical core (fit + df)", best_of(core(spec, table), args.repeats), diff, dll))
                rows.append(("pcstats profiled, numerical core (fit only)", best_of(core(spec, table, df=False), args.repeats), diff, dll))
        out = pd.DataFrame(rows, columns=["run", "seconds", "max rel diff fixef", "loglik - lme4"])
        if ref:
            out["x lme4::lmer"] = out["seconds"] / ref["lme4"]
        print(f"\n{case}: {formula} ({len(table)} rows)")
        print(out.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
