"""Benchmark: the SEM engine against lavaan (Rscript), same data and model, in one run.

    python bench/sem.py              # about 20 s; the lavaan rows are skipped without R
    python bench/sem.py --repeats 10

Models (the data of tests/reference/lavaan.R):

* ``path``: the paper-shaped LGS path model, ``gpp ~ airt + par + sm + tc + p; ter ~ pregpp +
  airt + p + gpp; nee ~ gpp + ter`` (240 rows, observed variables only);
* ``political_democracy``: lavaan's PoliticalDemocracy (three latents, residual covariances).

Timed per fit (best of ``--repeats``, imports and R start-up excluded):

* ``lavaan::sem`` + ``parameterEstimates(standardized = TRUE)`` + ``fitMeasures`` in Rscript: what a
  lavaan user runs to get the same table;
* ``lavaan::sem`` alone;
* pcstats's ``fit_table`` (the semopy engine on one group: semopy's fit, then SEs, standardised
  solutions, R², effects and fit indices by pcstats), and semopy's ``Model.fit`` alone.

Target (issue 4): pcstats at <= 1x lavaan.
"""

from __future__ import annotations

import argparse
import platform
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

import pandas as pd
from timing import best_of

import pcstats as pc
from pcstats.engines.sem_semopy import fit_table, render

ROOT = Path(__file__).resolve().parent.parent
LAVAAN = ROOT / "tests" / "reference" / "lavaan"
MODELS = pd.read_csv(LAVAAN / "models.csv").set_index("model")
DATA = {"path_lgs": ROOT / "tests" / "reference" / "sem_path_input.csv", "political_democracy": LAVAAN / "political_democracy_data.csv"}

R_SCRIPT = r"""
suppressPackageStartupMessages(library(lavaan))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1]); model <- readLines(args[2]); n <- as.integer(args[3])
best <- function(fn) min(sapply(seq_len(n), function(i) system.time(fn())[["elapsed"]]))
fit <- sem(model, d)  # warm-up
full <- best(function() { f <- sem(model, d); parameterEstimates(f, standardized = TRUE); fitMeasures(f) })
alone <- best(function() sem(model, d))
cat(sprintf("%.6f,%.6f\n", full, alone))
"""



def lavaan_times(data: Path, syntax: str, repeats: int) -> tuple[float, float] | None:
    if shutil.which("Rscript") is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        script, model = Path(tmp) / "bench.R", Path(tmp) / "model.lav"
        script.write_text(R_SCRIPT)
        model.write_text(syntax)
        out = subprocess.run(["Rscript", str(script), str(data), str(model), str(repeats)], capture_output=True, text=True)
    if out.returncode != 0:
        print("Rscript failed:", out.stderr[-400:])
        return None
    full, alone = map(float, out.stdout.strip().splitlines()[-1].split(","))
    return full, alone


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"python {platform.python_version()}, pcstats {pc.__version__}, repeats {args.repeats}")
    import semopy

    for name, path in DATA.items():
        syntax = MODELS.loc[name, "syntax"]
        data = pd.read_csv(path)
        spec = pc.SEMSpec(syntax)
        lav = lavaan_times(path, syntax, args.repeats)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit_table(spec, data, name)  # warm-up: imports
            ours = best_of(lambda: fit_table(spec, data, name), args.repeats)
            desc = render(pc.specs.lavaan_syntax.parameter_table(syntax, observed=list(data.columns)))
            semopy_alone = best_of(lambda: semopy.Model(desc).fit(data, obj="MLW", solver="SLSQP",
                                                                  options={"ftol": 1e-12, "maxiter": 1000}), args.repeats)
        rows = [("pcstats semopy engine (fit_table: estimates, SEs, std, R2, effects, fit indices)", ours),
                ("semopy Model.fit alone (ftol 1e-12)", semopy_alone)]
        if lav:
            rows = [("lavaan: sem + parameterEstimates(standardized) + fitMeasures", lav[0]), ("lavaan: sem alone", lav[1])] + rows
        out = pd.DataFrame(rows, columns=["run", "seconds"])
        if lav:
            out["x lavaan (full)"] = out["seconds"] / lav[0]
        print(f"\n{name} ({len(data)} rows)")
        print(out.to_string(index=False, float_format=lambda v: f"{v:.3g}"))


if __name__ == "__main__":
    main()
