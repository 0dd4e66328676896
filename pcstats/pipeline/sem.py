"""Section ``sem``: the paper's SEMs per season and data kind, and whether the LGS paths differ between kinds."""

from __future__ import annotations

import pandas as pd

from ..data import read_table
from ..sem_compare import partial_invariance
from ..specs import load_spec
from .context import Context, Section, fit_file, fixture_truth, quietly

__all__ = ["SEM_RUNS", "SEM_KINDS", "sem"]

#: the paper's SEMs: output stem -> spec file, fitted to fixtures/sem/sem_seasonal.parquet
SEM_RUNS: dict[str, str] = {"sem_egs": "sem_egs.toml", "sem_lgs": "sem_lgs.toml"}
#: the LGS SEM across data kinds with its paths equal, each freed in turn (pcstats.partial_invariance)
SEM_KINDS = "sem_lgs_kinds.toml"


def sem(ctx: Context) -> Section:
    """Fit each SEM, draw its path diagram, and test the LGS paths equal across data kinds."""
    from ..plots import sem_path_figure

    section = Section()
    table = read_table(ctx.fixtures / "sem" / "sem_seasonal.parquet")
    for stem, spec_file in SEM_RUNS.items():
        res = fit_file(section, ctx.out, ctx.models, stem, spec_file, table, "fixtures/sem/sem_seasonal.parquet")
        section.results[stem] = res
        path = ctx.out / "figures" / f"{stem}_paths.png"
        sem_path_figure(res, path=path)
        section.figures += [path, path.with_suffix(".svg")]
    kinds = quietly(partial_invariance, load_spec(ctx.models / SEM_KINDS), table)
    path = ctx.out / "tables" / "sem_lgs_kinds_paths.csv"
    kinds.table.to_csv(path, index=False)
    section.written.append(path)
    section.messages += [f"sem_lgs_kinds: {w}" for res in kinds.fits.values() for w in res.warnings]
    section.results["sem_lgs_kinds"] = kinds
    section.summary = controls_summary(section.results, fixture_truth(ctx.fixtures))
    return section


#: what the paper reports (Figs. 5-6): which flux controls NEE per season and data kind
PUBLISHED_CONTROL = {("EGS", "eddy_covariance"): "GPP", ("EGS", "inversion"): "GPP", ("EGS", "dgvm"): "GPP",
                     ("LGS", "eddy_covariance"): "TER", ("LGS", "inversion"): "TER", ("LGS", "dgvm"): "GPP"}


def controls_summary(results: dict, truth: dict) -> str:
    """Published, planted and recovered: which flux controls NEE (the larger standardised path into NEE)."""
    if "sem" not in truth:
        return ""
    rows = []
    for stem, season in (("sem_egs", "EGS"), ("sem_lgs", "LGS")):
        tidy = results[stem].tidy()
        paths = tidy[(tidy["component"] == "regression") & (tidy["lhs"] == "nee")]
        for kind, part in paths.groupby("kind", sort=True):
            std = part.set_index("rhs")["std_all"]
            planted = truth["sem"]["by_kind"][kind][season]
            rows.append({"season": season, "kind": kind, "published": PUBLISHED_CONTROL.get((season, kind), "-"),
                         "planted": f"{planted['controls_nee']} (std paths {planted['std_all']['nee']['gpp']:.2f}, "
                                    f"{planted['std_all']['nee']['ter']:.2f})",
                         "recovered": f"{'TER' if abs(std['ter']) > abs(std['gpp']) else 'GPP'} "
                                      f"({std['gpp']:.2f}, {std['ter']:.2f})"})
    return ("### Which flux controls NEE: published, planted and recovered\n\n"
            "The flux with the larger standardised path (std.all) into NEE; in brackets the paths from GPP and TER.\n\n"
            + pd.DataFrame(rows).to_markdown(index=False, disable_numparse=True) + "\n\n")
