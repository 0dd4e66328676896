"""``Results.summary()``: a fit printed as R or statsmodels print it, one family at a time.

Each fitted group gets a block laid out as the reference implementation lays out its summary:

- trends by OLS as R's ``summary.lm`` (coefficients with t tests, residual standard error, R², the
  covariance used: classical or Newey-West HAC); Sen slopes with the Mann-Kendall S, Var(S) and tau;
- linear mixed models as lme4's ``summary.merMod`` with lmerTest's df (random effects as
  variance, SD and correlations; fixed effects with df and t), GLMMs as ``glmer`` (z tests);
- SEMs as lavaan's ``summary(fit, fit.measures = TRUE, standardized = TRUE)`` (model test, CFI,
  TLI, RMSEA with its interval and the p-value of close fit, SRMR; parameters by operator; R²);
- Bayesian fits as brms (posterior mean, SD, interval, Rhat, bulk and tail ESS; sampler diagnostics);
- every other family (panel, skill, Q10, second-stage tests) as a coefficient table and its
  ``glance()`` values.

Grouped fits (``by=``) print one block per group when there are at most ``max_blocks`` groups,
and otherwise one compact table (a row per group and term of the main component, with the
group's nobs and main fit statistic); pass ``layout="blocks"`` or ``layout="table"`` to choose,
or summarise one group with ``res.subset(region="P").summary()``.

Numbers are formatted here only; ``tidy()`` and ``glance()`` keep them as numbers.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from .errors import PcstatsError

if TYPE_CHECKING:
    from .results import Results

__all__ = ["Summary", "summarize", "results_html", "format_column", "format_pvalue"]

SIGNIF_CODES = "Signif. codes:  0 '***' 0.001 '**' 0.01 '*' 0.05 '.' 0.1 ' ' 1"
_NOT_PARAMETERS = {"model", "component", "term", "group", "level", "lhs", "op", "rhs", "label"}


@dataclass(frozen=True)
class Summary:
    """The printed summary of a fit; ``str()`` or ``print()`` shows it, notebooks show it as text."""

    text: str

    def as_text(self) -> str:
        """The summary as plain text."""
        return self.text

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_html_(self) -> str:
        return f"<pre>{html.escape(self.text)}</pre>"


def summarize(res: Results, layout: Literal["auto", "blocks", "table"] = "auto", max_blocks: int = 6) -> Summary:
    """The summary of ``res`` (see the module docstring for the layout of each family).

    >>> import pcstats as pc
    >>> t = pc.read_table("tests/reference/trend_input.csv")
    >>> res = pc.fit(pc.TrendSpec("NEE ~ year", where="source == 'ensemble' and region == 'P' and season == 'ANN'"), t)
    >>> res.summary().text.splitlines()[0].startswith("Linear model fit by OLS (R: lm) [closed_form")
    True
    """
    if layout not in ("auto", "blocks", "table"):
        raise PcstatsError(f"summary(layout={layout!r}): choose 'auto', 'blocks' or 'table'.")
    glance, tidy = res.glance(), res.tidy()
    n_groups = len(glance)
    if layout == "table" or (layout == "auto" and n_groups > max_blocks):
        text = _compact(res, tidy, glance)
    else:
        blocks = [_block(res, tidy, glance, i) for i in range(n_groups)]
        rule = "\n" + "=" * 78 + "\n"
        text = rule.join(blocks)
    if res.warnings:
        text += "\n\nWarnings:\n" + "\n".join(f"  {w}" for w in res.warnings[:10])
        if len(res.warnings) > 10:
            text += f"\n  ... and {len(res.warnings) - 10} more in Results.warnings"
    return Summary(text.rstrip() + "\n")


# ---------------------------------------------------------------- formatting


def format_column(values: Sequence[float], digits: int = 4) -> list[str]:
    """Numbers with a common number of decimals, as R's ``format(x, digits = 4)``: the smallest
    non-zero magnitude keeps ``digits`` significant digits; scientific when that needs too many.

    >>> format_column([-1175.97661, 0.5641645])
    ['-1175.9766', '0.5642']
    >>> format_column([float("nan"), 2.0])
    ['', '2']
    """
    x = np.asarray(values, dtype=float)
    finite = x[np.isfinite(x)]
    if finite.size == 0:
        return ["" if np.isnan(v) else str(v) for v in x]
    nonzero = np.abs(finite[finite != 0])
    small = nonzero.min() if nonzero.size else 1.0
    big = np.abs(finite).max()
    decimals = max(0, digits - 1 - math.floor(math.log10(small)))
    if big >= 1e8 or decimals > 8:
        return [f"{v:.{digits - 1}e}" if np.isfinite(v) else "" for v in x]
    if np.all(finite == np.round(finite)) and big < 1e8:
        decimals = 0
    return [f"{v:.{decimals}f}" if np.isfinite(v) else "" for v in x]


def format_pvalue(p: float) -> str:
    """A p-value as R's ``format.pval``: ``<2e-16`` below machine precision, 3 significant digits.

    >>> format_pvalue(3.5e-08), format_pvalue(0.000876), format_pvalue(0.0), format_pvalue(float("nan"))
    ('3.50e-08', '0.000876', '<2e-16', '')
    """
    if not np.isfinite(p):
        return ""
    if p < 2.2e-16:
        return "<2e-16"
    return f"{p:.2e}" if p < 1e-4 else f"{p:.3g}"


def _stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else "." if p < 0.1 else ""


def _table(labels: Sequence[str], columns: dict[str, list[str]], indent: str = "  ", label_header: str = "",
           left: Sequence[str] = ()) -> list[str]:
    """Columns right-aligned under their headers (those in ``left`` left-aligned), labels left-aligned."""
    labels = [str(x) for x in labels]
    width = max([len(label_header), *map(len, labels)], default=0)
    widths = {h: max([len(h), *map(len, v)]) for h, v in columns.items()}

    def cell(text: str, h: str) -> str:
        return " " + (text.ljust(widths[h]) if h in left else text.rjust(widths[h]))

    lines = [indent + label_header.ljust(width) + "".join(cell(h, h) for h in columns)]
    for i, label in enumerate(labels):
        lines.append(indent + label.ljust(width) + "".join(cell(columns[h][i], h) for h in columns))
    return [line.rstrip() for line in lines]


def _number(value: Any, digits: int = 4) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "NaN" if not np.isfinite(value) else f"{value:.{digits}g}"
    return str(value)


# ---------------------------------------------------------------- blocks


def _kind(res: Results) -> str:
    return str(getattr(type(res.spec), "kind", "model"))


def _formula(spec: Any) -> str:
    for name in ("formula", "model"):
        value = getattr(spec, name, None)
        if isinstance(value, str):
            return "; ".join(" ".join(line.split()) for line in value.strip().splitlines() if line.strip())
    return str(getattr(spec, "label", type(spec).__name__))


def _title(res: Results, row: pd.Series) -> str:
    kind, spec, engine = _kind(res), res.spec, f"[{res.engine} {res.engine_version}]"
    if kind == "trend":
        return (f"Theil-Sen slope with Mann-Kendall test (R: trend::sens.slope, Kendall::MannKendall) {engine}"
                if getattr(spec, "method", "ols") == "sen" else f"Linear model fit by OLS (R: lm) {engine}")
    if kind == "mixed":
        if getattr(spec, "family", "gaussian") != "gaussian":
            from .stats.glm_families import family

            link = family(spec.family, getattr(spec, "link", None)).link
            return (f"Generalized linear mixed model fit by maximum likelihood (Laplace approximation; R: glmer) {engine}\n"
                    f" Family: {spec.family} ( {link} )")
        how = "REML" if bool(row.get("reml", getattr(spec, "reml", True))) else "maximum likelihood"
        ddf = getattr(spec, "denominator_df", None) or getattr(spec, "ddf", None) or "satterthwaite"
        return f"Linear mixed model fit by {how} (R: lmer; t tests use {str(ddf).title()}'s method, as lmerTest) {engine}"
    if kind == "sem":
        return f"Structural equation model (R: lavaan), estimator {row.get('estimator', getattr(spec, 'estimator', 'ML'))} {engine}"
    if kind == "bayes":
        return f"Bayesian hierarchical model (R: brms) {engine}"
    titles = {"panel": "Fixed-effects panel model (R: plm)", "q10": "Temperature response of respiration (R: nls)",
              "skill": "Model skill against observations", "difference": "Difference test between two fits (Welch)"}
    return f"{titles.get(kind, kind.title() + ' results')} {engine}"


def _header(res: Results, row: pd.Series) -> list[str]:
    lines = [_title(res, row), f"Model: {res.model}"]
    formula = _formula(res.spec)
    if formula != res.model:
        lines.append(f"Formula: {formula}")
    if res.by:
        lines.append("Group: " + ", ".join(f"{k} = {row[k]!r}" for k in res.by))
    nobs = row.get("nobs", np.nan)
    dropped = row.get("n_dropped", 0)
    why = row.get("dropped_why", "")
    if pd.notna(nobs):  # second-stage results have no rows of their own
        text = f"Observations: {_number(nobs)}"
        if isinstance(dropped, (int, np.integer, float)) and np.isfinite(dropped) and dropped:
            text += f" ({int(dropped)} dropped: {why})" if why else f" ({int(dropped)} dropped)"
        lines.append(text)
    return lines


def _rows_of(tidy: pd.DataFrame, by: Sequence[str], row: pd.Series) -> pd.DataFrame:
    mask = np.ones(len(tidy), dtype=bool)
    for k in by:
        if k in tidy.columns and k in row.index:
            mask &= (tidy[k] == row[k]).to_numpy() | (tidy[k].isna() & pd.isna(row[k])).to_numpy()
    return tidy[mask]


def _block(res: Results, tidy: pd.DataFrame, glance: pd.DataFrame, i: int) -> str:
    row = glance.iloc[i]
    lines = _header(res, row)
    rows = _rows_of(tidy, res.by, row)
    if row.get("nobs", 1) == 0 or rows.empty:
        lines.append(f"Not fitted: {row.get('dropped_why', '') or 'no rows'}")
        return "\n".join(lines)
    kind = _kind(res)
    builder = {"trend": _trend, "mixed": _mixed, "sem": _sem, "bayes": _bayes}.get(kind, _generic)
    lines += [""] + builder(res, rows, row)
    return "\n".join(lines)


def _parameter_table(res: Results, rows: pd.DataFrame, statistic: str = "t value", labels: Sequence[str] | None = None,
                     extra: Sequence[tuple[str, str]] = ()) -> list[str]:
    """Estimate, SE, [df], statistic, p with stars, confidence interval; columns with no values are left out."""
    level = float(getattr(res.spec, "conf_level", 0.95))
    low, high = f"{100 * (1 - level) / 2:g} %", f"{100 * (1 + level) / 2:g} %"
    p_header = {"t value": "Pr(>|t|)", "z value": "Pr(>|z|)", "z-value": "P(>|z|)"}.get(statistic, "p value")
    wanted = [("estimate", "Estimate"), ("std_error", "Std.Err" if statistic == "z-value" else "Std. Error"), ("df", "df"), ("statistic", statistic),
              ("p_value", p_header), ("conf_low", low), ("conf_high", high), *extra]
    columns: dict[str, list[str]] = {}
    stars = False
    for name, header in wanted:
        if name not in rows.columns or not rows[name].notna().any():
            continue
        values = pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float)
        if name == "p_value":
            columns[header] = [format_pvalue(p) for p in values]
            columns[" "] = [_stars(p) for p in values]
            stars = True
        elif name == "df":
            columns[header] = format_column(values, 4)
        else:
            columns[header] = format_column(values, 4 if name != "statistic" else 3)
    if labels is None:
        labels = list(rows["term"]) if "term" in rows.columns else [str(i) for i in range(len(rows))]
    table = _table(list(labels), columns)
    return table + (["---", SIGNIF_CODES] if stars else [])


def _trend(res: Results, rows: pd.DataFrame, row: pd.Series) -> list[str]:
    if getattr(res.spec, "method", "ols") == "sen":
        lines = ["Coefficients (Sen's slope; the intercept is the median of y - slope * x):"]
        lines += _parameter_table(res, rows, "z value")
        lines.append("")
        lines.append(f"Mann-Kendall S = {_number(row.get('mk_s'))}, Var(S) = {_number(row.get('mk_var_s'))}, "
                     f"Kendall's tau = {_number(row.get('kendall_tau'))}")
        return lines
    lines = ["Coefficients:"] + _parameter_table(res, rows, "t value") + [""]
    if row.get("cov_type") == "HAC":
        lines.append(f"Standard errors: Newey-West HAC (sandwich::NeweyWest), {_number(row.get('hac_lags'))} lag(s), "
                     f"prewhite = {bool(row.get('hac_prewhite'))}")
    else:
        lines.append("Standard errors: classical (assume independent, homoscedastic errors)")
    lines.append(f"Residual standard error: {_number(row.get('sigma'))} on {_number(row.get('df_residual'))} degrees of freedom")
    lines.append(f"Multiple R-squared: {_number(row.get('r_squared'))},  Adjusted R-squared: {_number(row.get('adj_r_squared'))}")
    lines.append(f"Log-likelihood: {_number(row.get('log_lik'))},  AIC: {_number(row.get('aic'))},  BIC: {_number(row.get('bic'))}")
    return lines


def _random_effects(rows: pd.DataFrame) -> list[str]:
    pars = rows[rows["component"] == "ran_pars"]
    if pars.empty:
        return []
    groups, names, variance, sd, corr = [], [], [], [], []
    for group, part in pars.groupby("group", sort=False):
        sds = [(t[4:], float(e)) for t, e in zip(part["term"], part["estimate"]) if str(t).startswith("sd__")]
        cors = {str(t)[5:]: float(e) for t, e in zip(part["term"], part["estimate"]) if str(t).startswith("cor__")}
        others = [(str(t), float(e)) for t, e in zip(part["term"], part["estimate"])
                  if not str(t).startswith(("sd__", "cor__"))]
        earlier: list[str] = []
        for j, (name, value) in enumerate(sds):
            groups.append(str(group) if j == 0 else "")
            names.append("" if name == "Observation" else name)
            variance.append(value**2)
            sd.append(value)
            corr.append(" ".join(f"{cors.get(f'{e}.{name}', np.nan):.2f}" for e in earlier))
            earlier.append(name)
        for name, value in others:
            groups.append(str(group))
            names.append(name)
            variance.append(np.nan)
            sd.append(value)
            corr.append("")
    columns = {"Name": names, "Variance": format_column(variance), "Std.Dev.": format_column(sd)}
    if any(corr):
        columns["Corr"] = corr
    return ["Random effects:"] + _table(groups, columns, indent=" ", label_header="Groups", left=("Name", "Corr"))


def _mixed(res: Results, rows: pd.DataFrame, row: pd.Series) -> list[str]:
    gaussian = getattr(res.spec, "family", "gaussian") == "gaussian"
    lines = []
    if gaussian and bool(row.get("reml", True)) and np.isfinite(row.get("reml_crit", np.nan)):
        lines.append(f"REML criterion at convergence: {_number(row.get('reml_crit'), 6)}")
    else:
        stats = {"AIC": row.get("aic"), "BIC": row.get("bic"), "logLik": row.get("log_lik"),
                 "deviance": row.get("deviance"), "df.resid": row.get("df_residual")}
        stats = {k: v for k, v in stats.items() if v is not None and not (isinstance(v, float) and np.isnan(v))}
        lines += _table([""], {k: [_number(v, 6)] for k, v in stats.items()}, indent=" ")
    lines.append("")
    lines += _random_effects(rows)
    groups = str(row.get("groups", "")).replace(": ", ", ")
    lines.append(f"Number of obs: {_number(row.get('nobs'))}, groups:  {groups}")
    lines.append("")
    fixed = rows[rows["component"] == "fixed"]
    lines += ["Fixed effects:"] + _parameter_table(res, fixed, "t value" if gaussian else "z value")
    n_modes = int((rows["component"] == "ran_vals").sum())
    flags = []
    for name, label in (("r2_marginal", "R2 marginal"), ("r2_conditional", "R2 conditional"), ("icc", "ICC")):
        if name in row and np.isfinite(pd.to_numeric(row[name], errors="coerce")):
            flags.append(f"{label}: {_number(row[name])}")
    lines += ["", "  ".join(flags)] if flags else []
    if "converged" in row and not bool(row["converged"]):
        lines.append("The optimizer did not converge (glance().converged is False).")
    if "singular" in row and bool(row["singular"]):
        lines.append("boundary (singular) fit: see help('isSingular') in lme4; a variance is estimated at zero.")
    if n_modes:
        lines.append(f"{n_modes} conditional modes (BLUPs) in tidy() rows with component 'ran_vals'.")
    return lines


_SEM_SECTIONS = (("=~", "Latent Variables"), ("~", "Regressions"), ("~~cov", "Covariances"), ("~1", "Intercepts"),
                 ("~~var", "Variances"), (":=", "Defined Parameters"), ("r2", "R-Square"))


def _sem(res: Results, rows: pd.DataFrame, row: pd.Series) -> list[str]:
    lines = [f"  Estimator {'':26}{row.get('estimator', '')}",
             f"  Number of model parameters {'':9}{_number(row.get('npar'))}",
             f"  Number of observations {'':13}{_number(row.get('nobs'))}", "",
             "Model Test User Model:",
             f"  Test statistic {'':21}{_number(row.get('chisq'), 6)}",
             f"  Degrees of freedom {'':17}{_number(row.get('df'))}",
             f"  P-value (Chi-square) {'':15}{format_pvalue(float(row.get('p_value', np.nan))) or 'NA'}", "",
             "Fit indices:",
             f"  Comparative Fit Index (CFI) {'':8}{_number(row.get('cfi'))}",
             f"  Tucker-Lewis Index (TLI) {'':11}{_number(row.get('tli'))}",
             f"  RMSEA {'':30}{_number(row.get('rmsea'))}",
             f"  90 Percent confidence interval   {_number(row.get('rmsea_ci_low'))} - {_number(row.get('rmsea_ci_high'))}",
             f"  P-value H_0: RMSEA <= 0.050 {'':8}{format_pvalue(float(row.get('rmsea_pvalue', np.nan))) or 'NA'}",
             f"  SRMR {'':31}{_number(row.get('srmr'))}",
             f"  AIC {'':32}{_number(row.get('aic'), 6)}",
             f"  BIC {'':32}{_number(row.get('bic'), 6)}", ""]
    groups = [None]
    if "group" in rows.columns and rows["group"].notna().any():
        groups = list(dict.fromkeys(rows["group"].dropna()))
    for group in groups:
        part = rows if group is None else rows[rows["group"] == group]
        if group is not None:
            lines += [f"Group [{group}]:", ""]
        op = part["op"].astype(str) if "op" in part.columns else pd.Series("", index=part.index)
        same = part.get("lhs", pd.Series(dtype=object)).astype(str) == part.get("rhs", pd.Series(dtype=object)).astype(str)
        for key, title in _SEM_SECTIONS:
            if key == "~~cov":
                mask = (op == "~~") & ~same
            elif key == "~~var":
                mask = (op == "~~") & same
            else:
                mask = op == key
            section = part[mask.to_numpy()]
            if section.empty:
                continue
            if key in ("~", "=~"):
                labels = [f"{lhs} {key} {rhs}" for lhs, rhs in zip(section["lhs"], section["rhs"])]
            elif key == "r2":
                labels = list(section["lhs"])
            elif key == "~~cov":
                labels = [f"{lhs} ~~ {rhs}" for lhs, rhs in zip(section["lhs"], section["rhs"])]
            else:
                labels = list(section["lhs"])
            lines.append(f"{title}:")
            if key == "r2":
                lines += _table(labels, {"Estimate": format_column(section["estimate"].to_numpy(float), 3)})
            else:
                extra = [("std_all", "Std.all")] if "std_all" in section.columns else []
                lines += [ln for ln in _parameter_table(res, section, "z-value", labels, extra)
                          if ln not in ("---", SIGNIF_CODES)]
            lines.append("")
    return lines


def _bayes(res: Results, rows: pd.DataFrame, row: pd.Series) -> list[str]:
    level = float(getattr(res.spec, "conf_level", 0.95))
    pct = f"{100 * level:g}%"
    lines = [f"Draws: {_number(row.get('chains'))} chains, {_number(row.get('draws'))} draws each; sampler "
             f"{row.get('sampler', '')}; {_number(row.get('divergences'))} divergent transitions", ""]
    titles = {"intercept": "Population-level effects", "fixed": "Population-level effects",
              "ran_pars": "Group-level effects (SDs and correlations)", "sigma": "Family-specific parameters"}
    for component, part in rows.groupby("component", sort=False):
        if component == "ran_vals":
            continue
        columns = {}
        for name, header in (("estimate", "Estimate"), ("std_error", "Est.Error"), ("conf_low", f"l-{pct} CI"),
                             ("conf_high", f"u-{pct} CI"), ("rhat", "Rhat"), ("ess_bulk", "Bulk_ESS"), ("ess_tail", "Tail_ESS")):
            if name in part.columns and part[name].notna().any():
                values = part[name].to_numpy(float)
                columns[header] = ([f"{v:.2f}" for v in values] if name == "rhat" else
                                   [str(int(round(v))) if np.isfinite(v) else "" for v in values] if name.startswith("ess")
                                   else format_column(values, 3))
        labels = [f"{t} [{g}]" if isinstance(g, str) and g and component != "fixed" else str(t)
                  for t, g in zip(part["term"], part.get("group", [None] * len(part)))]
        lines += [f"{titles.get(str(component), str(component))}:"] + _table(labels, columns) + [""]
    lines.append(f"LOOIC: {_number(row.get('looic'))} (p_loo {_number(row.get('p_loo'))}), WAIC: {_number(row.get('waic'))}; "
                 f"max Pareto k {_number(row.get('max_pareto_k'))}")
    lines.append(f"Convergence: max Rhat {_number(row.get('max_rhat'))} (want <= 1.01), min bulk ESS "
                 f"{_number(row.get('min_ess_bulk'))}, min tail ESS {_number(row.get('min_ess_tail'))} (want >= 400)")
    return lines


def _generic(res: Results, rows: pd.DataFrame, row: pd.Series) -> list[str]:
    lines = []
    for component, part in rows.groupby("component", sort=False) if "component" in rows.columns else [("", rows)]:
        if component == "ran_vals":
            continue
        title = {"fixed": "Coefficients", "": "Coefficients"}.get(str(component), str(component).replace("_", " ").capitalize())
        lines += [f"{title}:"]
        lines += _parameter_table(res, part, "t value") + [""]
    skip = {"model", "nobs", "n_dropped", "dropped_why", *res.by}
    pairs = [f"{k}: {_number(v)}" for k, v in row.items() if k not in skip and not (isinstance(v, float) and np.isnan(v))]
    for start in range(0, len(pairs), 4):
        lines.append("  ".join(pairs[start:start + 4]))
    return lines


# ---------------------------------------------------------------- many groups

_MAIN = {"mixed": "fixed", "sem": "regression", "bayes": "fixed", "trend": "fixed"}
_FIT = {"trend": ("r_squared", "sigma"), "mixed": ("sigma", "singular"), "sem": ("cfi", "rmsea", "rmsea_pvalue"),
        "bayes": ("max_rhat", "divergences"), "panel": ("r_squared",), "q10": ("r_squared",)}


def _compact(res: Results, tidy: pd.DataFrame, glance: pd.DataFrame) -> str:
    """One row per group and term of the main component, with the group's nobs and a fit statistic."""
    kind = _kind(res)
    first = _title(res, glance.iloc[0]).splitlines()[0]
    fitted = int((glance["nobs"] > 0).sum()) if "nobs" in glance.columns else len(glance)
    lines = [first, f"Model: {res.model}", f"Groups: {fitted} of {len(glance)} fitted, by {', '.join(res.by)} "
             "(one row per group and term; res.subset(key=value).summary() prints one group in full)", ""]
    main = _MAIN.get(kind)
    rows = tidy[tidy["component"] == main] if main and "component" in tidy.columns and (tidy["component"] == main).any() else tidy
    if "component" in rows.columns:
        rows = rows[rows["component"] != "ran_vals"]
    fit_columns = [c for c in ("nobs", *_FIT.get(kind, ())) if c in glance.columns]
    keys = [k for k in res.by if k in rows.columns and k in glance.columns]
    merged = rows.merge(glance[[*keys, *fit_columns]], on=keys, how="left") if keys else rows.assign(
        **{c: glance[c].iloc[0] for c in fit_columns})
    columns: dict[str, list[str]] = {k: [str(v) for v in merged[k]] for k in keys}
    if "term" in merged.columns:
        columns["term"] = [str(t) for t in merged["term"]]
    for name, header in (("estimate", "Estimate"), ("std_error", "Std. Error"), ("p_value", "p value")):
        if name in merged.columns and merged[name].notna().any():
            values = merged[name].to_numpy(float)
            columns[header] = [format_pvalue(p) if name == "p_value" else _number(p) for p in values]
            if name == "p_value":
                columns[" "] = [_stars(p) for p in values]
    for name in fit_columns:
        values = merged[name]
        columns[name] = [_number(v) for v in values]
    labels = [""] * len(merged)
    lines += _table(labels, columns, indent="", left=(*res.by, "term"))
    if " " in columns:
        lines += ["---", SIGNIF_CODES]
    unfitted = glance[glance["nobs"] == 0] if "nobs" in glance.columns else glance.iloc[0:0]
    for _, r in unfitted.head(5).iterrows():
        lines.append("Not fitted: " + ", ".join(f"{k}={r[k]!r}" for k in res.by) + f": {r.get('dropped_why', '')}")
    return "\n".join(lines)


# ---------------------------------------------------------------- notebooks


def results_html(res: Results, max_rows: int = 20) -> str:
    """The HTML a notebook shows for a Results: model, engine, groups, the main coefficients with
    SE and p (``max_rows`` at most), and the warnings."""
    esc = html.escape
    tidy, glance = res.tidy(), res.glance()
    kind = _kind(res)
    fitted = int((glance["nobs"] > 0).sum()) if "nobs" in glance.columns else len(glance)
    nobs = int(pd.to_numeric(glance.get("nobs", pd.Series(dtype=float)), errors="coerce").fillna(0).sum())
    main = _MAIN.get(kind)
    rows = tidy[tidy["component"] == main] if main and "component" in tidy.columns and (tidy["component"] == main).any() else tidy
    if "component" in rows.columns:
        rows = rows[rows["component"] != "ran_vals"]
    columns = [c for c in (*res.by, "term", "estimate", "std_error", "p_value") if c in rows.columns]
    head = "".join(f"<th>{esc(c)}</th>" for c in columns)
    body = []
    for _, row in rows.head(max_rows).iterrows():
        cells = []
        for c in columns:
            v = row[c]
            if c == "p_value":
                text = format_pvalue(float(v)) if pd.notna(v) else ""
            elif isinstance(v, (float, np.floating)):
                text = "" if not np.isfinite(v) else f"{v:.4g}"
            else:
                text = str(v)
            align = "right" if c in ("estimate", "std_error", "p_value") else "left"
            cells.append(f'<td style="text-align:{align}">{esc(text)}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    more = (f"<p>{len(rows) - max_rows} more rows: <code>tidy()</code>, or <code>summary()</code> to print them.</p>"
            if len(rows) > max_rows else "")
    warnings = ""
    if res.warnings:
        items = "".join(f"<li>{esc(w)}</li>" for w in res.warnings[:10])
        extra = f"<li>... {len(res.warnings) - 10} more in <code>Results.warnings</code></li>" if len(res.warnings) > 10 else ""
        warnings = f"<details open><summary>{len(res.warnings)} warning(s)</summary><ul>{items}{extra}</ul></details>"
    by = f" by {esc(', '.join(res.by))}" if res.by else ""
    return (f'<div class="pcstats-results"><p><b>{esc(res.model)}</b>: {esc(kind)} via '
            f"{esc(res.engine)} {esc(res.engine_version)}; {fitted} of {len(glance)} group(s) fitted{by}; "
            f"{nobs} rows</p><table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
            f"{more}{warnings}</div>")
