# Reference values for the SEM engine and pcstats.stats.sem_fit, from lavaan::sem() (estimator ML, defaults
# otherwise: likelihood "normal", fixed.x = TRUE, no meanstructure for complete data, mimic "lavaan").
#
# Run from the repository root:   Rscript tests/reference/lavaan.R [OUTDIR]
# Input:   lavaan's PoliticalDemocracy and HolzingerSwineford1939 data sets, and
#          tests/reference/sem_path_input.csv (made by tests/reference/make_sem_input.py) for the path model.
# Output:  OUTDIR (default tests/reference/lavaan) / <model>_<what>.csv, numbers written with 17 significant digits:
#          <model>_estimates.csv    parameterEstimates(fit, standardized = TRUE)
#          <model>_fit.csv          fitMeasures(fit), all of them, as name,value rows
#          <model>_r2.csv           inspect(fit, "r2") as name,value rows
#          <model>_sample_cov.csv   lavInspect(fit, "sampstat")$cov (divide-by-N), first column "name"
#          <model>_implied_cov.csv  lavInspect(fit, "implied")$cov, first column "name"
#          <model>_partable.csv     parTable(fit)
#          models.csv               one row per model: nobs, exogenous observed variables (lavNames "ov.x"),
#                                   npar, convergence, syntax
#          versions.csv             R and lavaan versions
# Needs:   r-base-core, r-cran-lavaan (Debian packages; the stored outputs come from lavaan 0.6-14).

suppressPackageStartupMessages(library(lavaan))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/lavaan"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- ifelse(is.na(df[[col]]), NA, sprintf("%.17g", df[[col]]))
  df
}
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")
named <- function(x) data.frame(name = names(x), value = as.numeric(x))
square <- function(m) cbind(data.frame(name = rownames(m)), as.data.frame(unclass(m)))

models <- list(
  political_democracy = list(
    data = PoliticalDemocracy,
    syntax = "
      ind60 =~ x1 + x2 + x3
      dem60 =~ y1 + y2 + y3 + y4
      dem65 =~ y5 + y6 + y7 + y8
      dem60 ~ ind60
      dem65 ~ ind60 + dem60
      y1 ~~ y5
      y2 ~~ y4 + y6
      y3 ~~ y7
      y4 ~~ y8
      y6 ~~ y8
    "),
  holzinger_swineford = list(
    data = HolzingerSwineford1939,
    syntax = "
      visual  =~ x1 + x2 + x3
      textual =~ x4 + x5 + x6
      speed   =~ x7 + x8 + x9
    "),
  path_lgs = list(
    data = read.csv("tests/reference/sem_path_input.csv"),
    syntax = "
      gpp ~ airt + par + sm + tc + p
      ter ~ pregpp + airt + p + gpp
      nee ~ gpp + ter
    "),
  path_defined = list(  # labels and := (an indirect effect and a total effect), for the delta method
    data = read.csv("tests/reference/sem_path_input.csv"),
    syntax = "
      gpp ~ a*airt + par + sm + tc + p
      ter ~ pregpp + airt + p + b*gpp
      nee ~ c*gpp + d*ter
      ind_airt_ter := a*b
      gpp_total := c + b*d
    "),
  # lavaan's defaults that semopy does not add by itself, and := built on :=
  two_outcomes = list(data = read.csv("tests/reference/sem_path_input.csv"),
                      syntax = "gpp ~ airt + par\nter ~ airt + sm"),
  single_indicator = list(data = read.csv("tests/reference/sem_path_input.csv"),
                          syntax = "f =~ gpp\nf ~ airt + par\nnee ~ f"),
  exogenous_covariance = list(data = read.csv("tests/reference/sem_path_input.csv"),
                              syntax = "gpp ~ airt + par\nnee ~ gpp\nairt ~~ par"),
  defined_chain = list(data = read.csv("tests/reference/sem_path_input.csv"),
                       syntax = "gpp ~ a*airt + par\nnee ~ b*gpp + c*airt\nind := a*b\ntot := ind + c")
)

estimate_cols <- c("lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci.lower", "ci.upper",
                   "std.lv", "std.all", "std.nox")
model_rows <- list()
for (name in names(models)) {
  m <- models[[name]]
  fit <- sem(m$syntax, data = m$data, estimator = "ML")
  pe <- parameterEstimates(fit, standardized = TRUE)
  # lavaan leaves out 'label' when no parameter is labelled and 'std.nox' when there is no observed exogenous
  # variable (then std.nox equals std.all); the stored table always has every column.
  if (!"label" %in% names(pe)) pe$label <- ""
  if (!"std.nox" %in% names(pe)) pe$std.nox <- standardizedSolution(fit, type = "std.nox", se = FALSE)$est.std
  write_out(pe[, estimate_cols], paste0(name, "_estimates.csv"))
  write_out(named(fitMeasures(fit)), paste0(name, "_fit.csv"))
  write_out(named(inspect(fit, "r2")), paste0(name, "_r2.csv"))
  write_out(square(lavInspect(fit, "sampstat")$cov), paste0(name, "_sample_cov.csv"))
  write_out(square(lavInspect(fit, "implied")$cov), paste0(name, "_implied_cov.csv"))
  write_out(as.data.frame(parTable(fit)), paste0(name, "_partable.csv"))
  model_rows[[name]] <- data.frame(model = name, nobs = nobs(fit),
                                   ov_x = paste(lavNames(fit, "ov.x"), collapse = " "),
                                   npar = as.integer(fitMeasures(fit, "npar")),
                                   converged = lavInspect(fit, "converged"),
                                   syntax = gsub("\n *", "\n", trimws(m$syntax)))
}
write_out(do.call(rbind, model_rows), "models.csv")

# multi-group: the fixture's LGS SEM with one parameter set per data kind (group = "kind")
mg_syntax <- "
  gpp ~ airt + par + sm + tc + p
  ter ~ pregpp + airt + par + sm + tc + p + gpp
  nee ~ gpp + ter
"
mg <- sem(mg_syntax, data = read.csv("tests/reference/sem_multigroup_input.csv"), group = "kind", estimator = "ML")
pe <- parameterEstimates(mg, standardized = TRUE)
pe$group <- lavInspect(mg, "group.label")[pe$group]
write_out(pe[, c("group", estimate_cols[estimate_cols != "label"])], "multigroup_lgs_estimates.csv")
write_out(named(fitMeasures(mg)), "multigroup_lgs_fit.csv")

versions <- data.frame(package = c("R", "lavaan"),
                       version = c(paste(R.version$major, R.version$minor, sep = "."),
                                   as.character(packageVersion("lavaan"))))
write.csv(versions, file.path(out_dir, "versions.csv"), row.names = FALSE)
# the data sets themselves, so that the Python tests fit exactly what lavaan fitted
write_out(PoliticalDemocracy, "political_democracy_data.csv")
write_out(HolzingerSwineford1939[, paste0("x", 1:9)], "holzinger_swineford_data.csv")
cat("wrote", out_dir, "\n")
