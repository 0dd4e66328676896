"""Adapter to R's lme4/lmerTest through pymer4: load it, fit one ``lmer``, return plain pandas/numpy.

Nothing here knows about pcstats specs or Results; the mixed-model engine builds on it.

**The ``report`` workaround.** pymer4 0.9.2 runs ``importr("report")`` when it is imported, and the
easystats R package ``report`` is not packaged by Debian 12 (and CRAN is not reachable), so a plain
``import pymer4`` fails there. :func:`load_pymer4` imports pymer4 with rpy2's ``importr`` wrapped so
that ``importr("report")`` -- only that call, and only when ``report`` is not installed -- returns a
placeholder whose attributes raise :class:`MissingRPackageError`. pcstats never calls pymer4's
``report()``; everything it uses (lme4, lmerTest's Satterthwaite df, broom.mixed) is the real
package. The wrap is undone as soon as pymer4 is imported. Every other R package pymer4 imports at
import time is in Debian 12 and is required to be installed.

**Why not ``pymer4.models.lmer(...).fit()``.** In 0.9.2 ``fit()`` cannot pass ``REML`` to
``lmer`` (it always fits by REML), it always computes extras pcstats does not use
(``parameters::model_parameters``, ``performance::model_performance``, ``augment``, predictions,
``coef``, ``ranef``: about 4x the time of :func:`fit_lmer` on sleepstudy), and each ``lmer`` object routes
all R console output of the process to itself. :func:`fit_lmer` therefore calls the same
``lmerTest::lmer`` that pymer4 imported, on data converted by pymer4's ``polars2R``, inside an R
``withCallingHandlers`` that returns lme4's messages and warnings as data instead of printing them.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TypedDict

import numpy as np
import pandas as pd

from ..errors import EngineError

__all__ = ["LmerFit", "MissingRPackageError", "R_PACKAGES", "load_pymer4", "fit_lmer"]

#: R packages that must be installed, with their Debian package names. lme4, lmerTest and
#: broom.mixed are what pcstats uses; the others are imported by pymer4 at import time.
R_PACKAGES: dict[str, str] = {
    "lme4": "r-cran-lme4",
    "lmerTest": "r-cran-lmertest",
    "broom.mixed": "r-cran-broom.mixed",
    "broom": "r-cran-broom",
    "boot": "r-cran-boot",
    "emmeans": "r-cran-emmeans",
    "tibble": "r-cran-tibble",
    "parameters": "r-cran-parameters",
    "performance": "r-cran-performance",
    "insight": "r-cran-insight",
}
#: Python packages of the ``r`` extra, by import name.
_PY_PACKAGES = ("rpy2", "pymer4", "polars", "formulae", "great_tables", "sklearn", "joblib")
#: R packages pymer4 imports at import time but pcstats never calls, replaced by a placeholder when absent.
_OPTIONAL_R = ("report",)

_APT = "apt-get install --no-install-recommends r-base-core r-base-dev libpcre2-dev libblas-dev " + " ".join(
    R_PACKAGES.values()
)
_HOW_TO_INSTALL = (
    f"On Debian 12: `{_APT}` (as root), then `pip install 'pcstats[r]'` -- or run `.ci/setup --test` "
    "from a pcstats checkout, which does both."
)
_LOCK = threading.Lock()


class MissingRPackageError(EngineError, AttributeError):
    """An attribute of a placeholder for an R package that is not installed was used."""


class _MissingRPackage:
    """Stands in for an R package that pymer4 imports but pcstats does not use."""

    def __init__(self, name: str) -> None:
        self._name = name

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith("__"):
            raise AttributeError(attr)
        raise MissingRPackageError(
            f"R package {self._name!r} is not installed; pcstats does not use pymer4's {attr}() "
            f"(Debian 12 does not package {self._name!r}; pcstats imports pymer4 with a placeholder for it)."
        )

    def __repr__(self) -> str:
        return f"<placeholder for the R package {self._name!r}, which is not installed>"


def _no_r_error(detail: str) -> EngineError:
    return EngineError(f"The lme4 engine needs R, which {detail}. {_HOW_TO_INSTALL}")


def _start_r() -> Any:
    """Import rpy2.robjects (which starts the embedded R) or raise EngineError saying what is missing."""
    missing = [name for name in _PY_PACKAGES if importlib.util.find_spec(name) is None]
    if shutil.which("R") is None and not os.environ.get("R_HOME"):
        raise _no_r_error("is not installed (no `R` on PATH and R_HOME is not set)")
    if missing:
        raise EngineError(
            f"The lme4 engine needs the Python package(s) {', '.join(missing)}, which are not installed. "
            f"{_HOW_TO_INSTALL}"
        )
    library_path = os.environ.get("LD_LIBRARY_PATH")
    try:
        import rpy2.robjects as ro
    except Exception as exc:  # rpy2 raises a variety of errors when it cannot load libR
        hint = ""
        if "R_getVar" in str(exc):
            hint = " rpy2 3.6 needs R >= 4.5; with Debian 12's R 4.2 install rpy2==3.5.17."
        raise _no_r_error(f"rpy2 could not start ({type(exc).__name__}: {exc}).{hint}") from exc
    finally:
        # Starting R puts R's ldpaths (/usr/lib/R/lib:/usr/lib/x86_64-linux-gnu:...) into
        # LD_LIBRARY_PATH. Child processes would inherit it, and a Python that is not Debian's
        # then loads Debian's libpython (undefined symbols in _ssl). R is loaded; restore it.
        if library_path is None:
            os.environ.pop("LD_LIBRARY_PATH", None)
        else:
            os.environ["LD_LIBRARY_PATH"] = library_path
    return ro


def _installed(ro: Any, names: tuple[str, ...] | list[str]) -> dict[str, bool]:
    found = ro.r("function(p) vapply(p, function(x) nzchar(system.file(package = x)), logical(1))")(
        ro.StrVector(list(names))
    )
    return dict(zip(names, (bool(x) for x in found)))


@contextmanager
def _pymer4_import_shims(ro: Any, absent: list[str]) -> Iterator[None]:
    """While pymer4 is imported: a placeholder for the ``absent`` R packages, each R package wrapped once,
    and no empty-library noise.

    rpy2's ``importr`` lists installed packages with ``library()``, which warns once per call for an
    empty library directory (Debian's /usr/local/lib/R/site-library is empty); pymer4 calls
    ``importr`` 23 times, so 23 such warnings would be printed. Only that warning is muffled.
    Wrapping each package once (pymer4 imports "stats" five times) saves about a third of the import time.
    """
    import rpy2.rinterface as ri
    import rpy2.robjects.packages as rpackages

    importr, library = rpackages.importr, rpackages._library

    imported: dict[str, Any] = {}

    def shimmed_importr(name: str, *args: Any, **kwargs: Any) -> Any:
        if name in absent:
            return _MissingRPackage(name)
        if args or kwargs:
            return importr(name, *args, **kwargs)
        if name not in imported:  # pymer4 imports "stats" 5 times, "base" 3 times, ...
            imported[name] = importr(name)
        return imported[name]

    rpackages.importr = shimmed_importr
    rpackages._library = ri.evalr(  # rinterface level, as the function it replaces
        "function(...) withCallingHandlers(base::library(...), warning = function(w)"
        ' if (grepl("contains no packages", conditionMessage(w), fixed = TRUE)) invokeRestart("muffleWarning"))'
    )
    try:
        yield
    finally:
        rpackages.importr, rpackages._library = importr, library


@functools.cache
def _load() -> Any:
    ro = _start_r()
    installed = _installed(ro, [*R_PACKAGES, *_OPTIONAL_R])
    missing = [name for name in R_PACKAGES if not installed[name]]
    if missing:
        debs = " ".join(R_PACKAGES[name] for name in missing)
        raise EngineError(
            f"The lme4 engine needs the R package(s) {', '.join(missing)}, which are not installed. "
            f"On Debian 12: `apt-get install --no-install-recommends {debs}` (as root), or run "
            "`.ci/setup --test` from a pcstats checkout."
        )
    absent = [name for name in _OPTIONAL_R if not installed[name]]
    try:
        with _pymer4_import_shims(ro, absent):
            import pymer4
            import pymer4.models  # noqa: F401  (imported by pymer4 itself; explicit for the shim's scope)
    except ImportError as exc:  # includes rpy2's LibraryError for an R package that fails to load
        raise EngineError(f"pymer4 could not be imported ({type(exc).__name__}: {exc}). {_HOW_TO_INSTALL}") from exc
    return pymer4


def load_pymer4() -> Any:
    """Import pymer4 (cached), with a placeholder for the R package ``report`` if it is absent.

    Raises
    ------
    EngineError
        R is not installed or rpy2 cannot start it, a Python package of the ``r`` extra is missing, or
        an R package in :data:`R_PACKAGES` is missing. The message says how to install it.

    Examples
    --------
    >>> from pcstats.engines.lme4_bridge import load_pymer4
    >>> pymer4 = load_pymer4()  # doctest: +SKIP
    >>> pymer4.tidystats.easystats.report_lib  # doctest: +SKIP
    <placeholder for the R package 'report', which is not installed>
    """
    with _LOCK:
        return _load()


class LmerFit(TypedDict):
    """What :func:`fit_lmer` returns: R's numbers in pandas/numpy, with R's names."""

    fixed: pd.DataFrame  # term, estimate, std_error, df (Satterthwaite or Kenward-Roger), statistic, p_value
    dropped_terms: list[str]  # fixed-effect columns lme4 dropped because X is rank deficient
    ran_pars: pd.DataFrame  # group, term, estimate (broom.mixed, scales="sdcor")
    ran_vals: pd.DataFrame  # group, level, term, estimate, std_error (broom.mixed)
    log_lik: float  # REML criterion's log-likelihood when reml=True, as logLik() in R
    sigma: float
    nobs: int
    n_groups: dict[str, int]
    singular: bool  # lme4::isSingular(tol = 1e-4)
    converged: bool
    messages: list[str]  # lme4's (and lmerTest's) messages and warnings, verbatim
    optimizer: str
    lme4_version: str
    lmertest_version: str
    r_model: Any  # the lmerModLmerTest object (rpy2 RS4)


_FIT_R = r"""
function(lmer, formula, data, REML, ddf) {
  messages <- character(0)
  keep <- function(cnd) messages <<- c(messages, sub("\n$", "", conditionMessage(cnd)))
  collect <- function(expr) withCallingHandlers(expr,
    warning = function(w) { keep(w); invokeRestart("muffleWarning") },
    message = function(m) { keep(m); invokeRestart("muffleMessage") })
  model <- tryCatch(collect(lmer(stats::as.formula(formula), data = data, REML = REML)),
                    error = function(e) e)
  if (inherits(model, "error")) return(list(error = conditionMessage(model), messages = messages))
  if (ddf == "Kenward-Roger" && !requireNamespace("pbkrtest", quietly = TRUE))
    return(list(error = "ddf='kenward-roger' needs the R package pbkrtest (Debian: r-cran-pbkrtest)", messages = messages))
  # lmerTest's summary: Satterthwaite, Kenward-Roger (pbkrtest) or "lme4" (no df: z tests); glmer's has no ddf
  cf <- collect(stats::coef(if (inherits(model, "lmerModLmerTest")) summary(model, ddf = ddf) else summary(model)))
  column <- function(name) if (name %in% colnames(cf)) unname(cf[, name]) else rep(NA_real_, nrow(cf))
  test <- if ("z value" %in% colnames(cf)) c("z value", "Pr(>|z|)") else c("t value", "Pr(>|t|)")  # glmer: z
  fixed <- data.frame(term = rownames(cf), estimate = column("Estimate"), std_error = column("Std. Error"),
                      df = column("df"), statistic = column(test[1]), p_value = column(test[2]),
                      stringsAsFactors = FALSE)
  ran_pars <- collect(broom.mixed::tidy(model, effects = "ran_pars", scales = "sdcor"))
  ran_vals <- collect(broom.mixed::tidy(model, effects = "ran_vals"))
  opt <- model@optinfo
  conv_messages <- setdiff(as.character(unlist(opt$conv$lme4$messages)),
                           "boundary (singular) fit: see help('isSingular')")
  converged <- length(conv_messages) == 0 && length(opt$warnings) == 0 &&
    (is.null(opt$conv$opt) || opt$conv$opt == 0)
  ngrps <- lme4::ngrps(model)
  list(
    model = model,
    fixed = fixed,
    dropped_terms = as.character(names(attr(lme4::getME(model, "X"), "col.dropped"))),
    ran_pars = as.data.frame(ran_pars[, c("group", "term", "estimate")]),
    ran_vals = as.data.frame(ran_vals[, c("group", "level", "term", "estimate", "std.error")]),
    log_lik = as.numeric(stats::logLik(model)),
    sigma = stats::sigma(model),
    nobs = as.integer(stats::nobs(model)),
    group_names = names(ngrps),
    group_sizes = as.integer(ngrps),
    singular = lme4::isSingular(model, tol = 1e-4),
    converged = converged,
    messages = messages,
    optimizer = as.character(opt$optimizer),
    lme4_version = utils::packageDescription("lme4", fields = "Version"),
    lmertest_version = utils::packageDescription("lmerTest", fields = "Version")
  )
}
"""


@functools.cache
def _fit_function() -> Any:
    import rpy2.robjects as ro

    return ro.r(_FIT_R)


def _frame(ro: Any, rdf: Any) -> pd.DataFrame:
    from rpy2.robjects import pandas2ri
    from rpy2.robjects.conversion import localconverter

    with localconverter(ro.default_converter + pandas2ri.converter):
        out = ro.conversion.get_conversion().rpy2py(rdf)
    return out.reset_index(drop=True)


def glmer_fitter(family: str, link: str, n_agq: int, weights: bool) -> Any:
    """An R function ``(formula, data, REML)`` that fits ``lme4::glmer`` with R's ``family(link)``,
    ``nAGQ`` and, with ``weights``, the data's column ``w_`` as prior weights; for :func:`fit_lmer`."""
    import rpy2.robjects as ro

    r_family = {"gamma": "Gamma", "inverse_gaussian": "inverse.gaussian"}.get(family, family)
    prior = ", weights = w_" if weights else ""
    return ro.r(f'function(formula, data, REML) lme4::glmer(formula, data = data, family = {r_family}(link = "{link}")'
                f'{prior}, nAGQ = {int(n_agq)}L)')


def fit_lmer(data: pd.DataFrame, formula: str, reml: bool, fitter: Any = None, ddf: str = "Satterthwaite") -> LmerFit:
    """Fit ``lmerTest::lmer(formula, data, REML=reml)`` in R through pymer4.

    Parameters
    ----------
    data
        The model frame: numeric columns and grouping factors (strings or categoricals). Rows with a
        missing value in a model variable are dropped by R (``na.omit``). Not modified.
    formula
        An lme4 formula, e.g. ``"y ~ 0 + x1 + x2 + (0 + z1 + z2 | g1) + (1 | g2)"``.
    reml
        Fit by REML (``True``) or maximum likelihood (``False``).
    fitter
        An R function ``(formula, data, REML)`` fitting instead of lmerTest's ``lmer`` (:func:`glmer_fitter`).
    ddf
        lmerTest's ``summary(m, ddf = ...)``: ``"Satterthwaite"``, ``"Kenward-Roger"`` (needs pbkrtest) or
        ``"lme4"`` (no df, so ``fixed`` has NaN df and p-values). Ignored for a glmer ``fitter``.

    Returns
    -------
    LmerFit
        R's estimates under R's names. Rank-deficient fixed effects are listed in ``dropped_terms``
        (lme4 drops those columns), singular fits are flagged by ``singular``, and lme4's messages
        and warnings are returned in ``messages`` instead of being printed.

    Raises
    ------
    EngineError
        R or a needed package is missing (see :func:`load_pymer4`), or lme4 stops with an error.

    Examples
    --------
    >>> import pandas as pd
    >>> from pcstats.engines.lme4_bridge import fit_lmer
    >>> d = pd.read_csv("tests/reference/lme4_bridge_sleepstudy.csv")
    >>> fit = fit_lmer(d, "Reaction ~ Days + (Days | Subject)", reml=True)  # doctest: +SKIP
    >>> fit["fixed"].round(3)  # doctest: +SKIP
              term  estimate  std_error    df  statistic  p_value
    0  (Intercept)   251.405      6.825  17.0     36.838      0.0
    1         Days    10.467      1.546  17.0      6.771      0.0
    """
    if not isinstance(data, pd.DataFrame):
        raise EngineError(f"fit_lmer(): data must be a pandas DataFrame, got {type(data).__name__}.")
    if not isinstance(formula, str) or "~" not in formula:
        raise EngineError(f"fit_lmer(): formula must be an lme4 formula string such as 'y ~ x + (1 | g)', got {formula!r}.")
    if not isinstance(reml, (bool, np.bool_)):
        raise EngineError(f"fit_lmer(): reml must be True or False, got {reml!r}.")
    pymer4 = load_pymer4()
    import polars as pl
    import rpy2.robjects as ro

    rdata = pymer4.tidystats.bridge.polars2R(pl.from_pandas(data))  # pymer4 takes polars only
    lmer = fitter if fitter is not None else pymer4.tidystats.lmerTest.lib_lmerTest.lmer  # lmerTest::lmer, as pymer4
    if ddf not in ("Satterthwaite", "Kenward-Roger", "lme4"):
        raise EngineError(f"fit_lmer(): ddf must be 'Satterthwaite', 'Kenward-Roger' or 'lme4', got {ddf!r}.")
    out = _fit_function()(lmer, formula, rdata, bool(reml), ddf)
    r = dict(zip(out.names, out))
    if "error" in r:
        before = "".join(f" Before that, lme4 said: {m}" for m in r["messages"])
        raise EngineError(f"lme4 could not fit {formula!r}: {r['error'][0]}.{before}")

    def scalar(name: str) -> Any:
        return r[name][0]

    ran_vals = _frame(ro, r["ran_vals"]).rename(columns={"std.error": "std_error"})
    return LmerFit(
        fixed=_frame(ro, r["fixed"]),
        dropped_terms=[str(x) for x in r["dropped_terms"]],
        ran_pars=_frame(ro, r["ran_pars"]),
        ran_vals=ran_vals,
        log_lik=float(scalar("log_lik")),
        sigma=float(scalar("sigma")),
        nobs=int(scalar("nobs")),
        n_groups={str(k): int(v) for k, v in zip(r["group_names"], r["group_sizes"])},
        singular=bool(scalar("singular")),
        converged=bool(scalar("converged")),
        messages=[str(x) for x in r["messages"]],
        optimizer=str(scalar("optimizer")),
        lme4_version=str(scalar("lme4_version")),
        lmertest_version=str(scalar("lmertest_version")),
        r_model=r["model"],
    )
