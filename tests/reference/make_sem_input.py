"""Build the data that tests/reference/lavaan.R fits as its observed-variable path model, and record semopy's stats.

Run from the repository root:  python tests/reference/make_sem_input.py
Writes
- tests/reference/sem_path_input.csv: n = 240 rows of six exogenous drivers (airt, par, sm, tc, p, pregpp) and
  three endogenous fluxes (gpp, ter, nee), at full precision, from numpy's default_rng(20221);
- tests/reference/lavaan/path_semopy.csv: what semopy's own ``calc_stats`` reports for the path model
  (``PATH_MODEL``) on those data, as name,value rows, so a test can show where semopy's df, chi2, CFI and RMSEA
  differ from lavaan's (needs semopy; skipped with a message when it is not installed).

The planted structure is the paper's LGS model: gpp from airt, par, sm, tc and p; ter from pregpp, airt, p and
gpp; nee = gpp - ter + noise. One small path that the LGS model leaves out is planted too (ter from sm, 0.15), so
the fitted model misfits mildly (lavaan: chi2 19.1 on 10 df, RMSEA 0.062 with a 90 % CI above 0, CFI 0.989).
A correctly specified model would give chi2 below df on this seed, and then RMSEA is 0 in lavaan and in semopy
alike, and the RMSEA CI and the CFI/TLI formulas would not be exercised away from their boundaries.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

HERE = Path(__file__).resolve().parent
OUT = HERE / "sem_path_input.csv"
SEMOPY_OUT = HERE / "lavaan" / "path_semopy.csv"
SEED = 20221
N = 240
EXOGENOUS = ["airt", "par", "sm", "tc", "p", "pregpp"]
PATH_MODEL = """
gpp ~ airt + par + sm + tc + p
ter ~ pregpp + airt + p + gpp
nee ~ gpp + ter
"""


def build(seed: int = SEED, n: int = N) -> pd.DataFrame:
    """Simulate the path-model data: correlated unit-variance drivers, then gpp, ter and nee in that order."""
    rng = np.random.default_rng(seed)
    corr = np.array([
        # airt  par   sm    tc    p    pregpp
        [1.00, 0.35, -0.20, 0.10, 0.25, 0.40],  # airt
        [0.35, 1.00, -0.15, 0.05, 0.10, 0.20],  # par
        [-0.20, -0.15, 1.00, 0.15, 0.05, 0.00],  # sm
        [0.10, 0.05, 0.15, 1.00, 0.45, 0.10],  # tc
        [0.25, 0.10, 0.05, 0.45, 1.00, 0.15],  # p
        [0.40, 0.20, 0.00, 0.10, 0.15, 1.00],  # pregpp
    ])
    x = rng.multivariate_normal(np.zeros(len(EXOGENOUS)), corr, size=n)
    airt, par, sm, tc, p, pregpp = x.T
    gpp = 0.45 * airt + 0.30 * par + 0.20 * sm + 0.15 * tc + 0.10 * p + 0.70 * rng.standard_normal(n)
    ter = 0.25 * pregpp + 0.30 * airt + 0.15 * sm + 0.10 * p + 0.50 * gpp + 0.60 * rng.standard_normal(n)
    nee = gpp - ter + 0.40 * rng.standard_normal(n)
    return pd.DataFrame({"airt": airt, "par": par, "sm": sm, "tc": tc, "p": p, "pregpp": pregpp,
                         "gpp": gpp, "ter": ter, "nee": nee})


def semopy_stats(data: pd.DataFrame) -> pd.DataFrame:
    """semopy's own ``calc_stats`` for ``PATH_MODEL`` on ``data``, as name,value rows."""
    import semopy

    model = semopy.Model(PATH_MODEL)
    model.fit(data)
    stats = semopy.calc_stats(model).T.iloc[:, 0]
    rows = [("semopy_version", semopy.__version__)] + [(str(k), float(v)) for k, v in stats.items()]
    return pd.DataFrame(rows, columns=["name", "value"])


MULTIGROUP_OUT = Path(__file__).resolve().parent / "sem_multigroup_input.csv"


def build_multigroup() -> pd.DataFrame:
    """The fixture's LGS rows, one row per observation, for the multi-group reference (group = kind)."""
    import pcstats as pc

    root = Path(__file__).resolve().parents[2]
    table = pc.read_table(root / "fixtures" / "sem" / "sem_seasonal.parquet")
    table = table[table["season"] == "LGS"]
    keys = ["source", "kind", "region", "year"]
    wide = table.pivot_table(index=keys, columns="variable", values="value", aggfunc="first").reset_index()
    wide.columns = [c.lower() if c not in keys else c for c in wide.columns]
    return wide.sort_values(keys).reset_index(drop=True)


if __name__ == "__main__":
    build_multigroup().to_csv(MULTIGROUP_OUT, index=False, float_format="%.17g")
    print(f"wrote {MULTIGROUP_OUT}")
    data = build()
    data.to_csv(OUT, index=False, float_format="%.17g")
    print(f"wrote {OUT}")
    try:
        table = semopy_stats(data)
    except ImportError:
        print("semopy is not installed: path_semopy.csv left as it was")
    else:
        SEMOPY_OUT.parent.mkdir(exist_ok=True)
        table.to_csv(SEMOPY_OUT, index=False, float_format="%.17g")
        print(f"wrote {SEMOPY_OUT}")
