"""``pcstats reproduce``: the paper's analyses on the bundled fixtures (or the same layout elsewhere), as sections.

Steps: read the monthly inversion NEE and the annual covariates; put NEE in gC m-2 d-1 with net
uptake positive; classify cells by %P, %TC and MAT; average cells (by area) into regions and
bins; seasonalize (the paper's conventions); add the ensemble over inversions
(:mod:`~pcstats.pipeline.inputs`). Then the sections (:data:`SECTIONS`, each a function from the
inputs to fits and files, independent of each other):

* ``trends``: every trend spec, the second-stage tests, Figs. 1, 3d and 4;
* ``mixed``: the GLMMs of the P − NoP trend difference;
* ``bayes``: the Bayesian hierarchical trend model;
* ``sem``: the SEMs and the LGS paths across data kinds;
* ``evaluation``: the land models against the towers, Q10, the permafrost SOC tables;
* ``robustness``: random windows, leave one out, sign agreement, temperature sensitivities;
* ``grid``: the gridded pipeline on the product fixtures;

and the report: summary.md, the paper's tables, index.html and manifest.json.

Output folder::

    tables/   STEM_tidy.csv/.md, STEM_glance.csv/.md, STEM.json per fit; comparison and summary tables
    figures/  trends.png (seasonal series and trends, P vs NoP), gradients_ANN.png, gradients_LGS.png,
              fig3d_tc_bins.png, fig4_trendy_vs_inversions.png, glmm/bayes/SEM figures, robustness and
              sensitivity figures, taylor_nbp/gpp/ter.png (land-model skill), grid_trend_map.png (pixel
              trends of the gridded products); each as PNG and SVG
    data/     the seasonal long tables the fits used; grid_trends.nc (pixel trends), grid_zonal_seasonal.csv
    summary.md, index.html (the summary with every figure inline: one self-contained page), manifest.json
    .pipeline/SECTION.pkl  each section's fits, for ``pcstats reproduce --only SECTION``
"""

from .inputs import FIXTURES, MODELS, regional_tables, seasonal_tables
from .run import SECTIONS, reproduce

__all__ = ["FIXTURES", "MODELS", "SECTIONS", "regional_tables", "reproduce", "seasonal_tables"]
