"""Section ``sem``: the paper's SEMs per season and data kind, and whether the LGS paths differ between kinds."""

from __future__ import annotations

from ..data import read_table
from ..sem_compare import partial_invariance
from ..specs import load_spec
from .context import Context, Section, fit_file, quietly

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
    return section
