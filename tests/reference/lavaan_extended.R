# Extended reference values for pcstats's native SEM engine, from lavaan: mean structures, multi-group
# measurement invariance (configural/metric/scalar/strict/partial, ML and MLR, with lavTestLRT), labelled
# equality, linear and (active) inequality constraints with := parameters, std.lv and a freed first loading,
# FIML (missing = "ml", ML and MLR) with missing values made here, MLR and MLM with the matrices lavaan builds
# the robust standard errors and test statistics from, and missing exogenous covariates under fixed.x = TRUE.
#
# Run from the repository root:   Rscript tests/reference/lavaan_extended.R [OUTDIR]
# Input:   lavaan's HolzingerSwineford1939 and PoliticalDemocracy data sets; tests/reference/sem_path_input.csv and
#          tests/reference/sem_multigroup_input.csv (the inputs of tests/reference/lavaan.R's path_lgs and
#          multigroup_lgs). Missing values are put in with set.seed(), so reruns give identical files.
# Output:  OUTDIR (default tests/reference/lavaan_extended), numbers written with sprintf("%.17g"), NA as "":
#          <model>_estimates.csv  parameterEstimates(fit, standardized = TRUE, rsquare = TRUE), all columns
#          <model>_fit.csv        fitMeasures(fit), all of them, as name,value rows
#          <model>_partable.csv   parTable(fit)
#          <model>_implied.csv    lavInspect(fit, "implied") as long rows group,what (cov|mean),row,col,value
#                                 (group = the group number as in parTable; col is empty for means; every
#                                 cell of the symmetric matrices is written)
#          <model>_sampstat.csv   lavInspect(fit, "sampstat"), same layout
#          <model>_h1.csv         lavInspect(fit, "h1") (the EM estimates of the unrestricted model), same layout,
#                                 for the missing = "ml" models only
#          <model>_vcov.csv       lavInspect(fit, "vcov"), first column "name"
#          <model>_internals/     for MLR and MLM models: gamma, delta, wls.v (per group: columns group,name,...),
#                                 information (the kind the SEs used), information.expected,
#                                 information.observed, information.first.order, UGamma (name,... ; unit
#                                 information, i.e. divided by the total N, as lavInspect returns it),
#                                 options.csv (every atomic entry of lavInspect(fit, "options"), ";"-joined)
#                                 and test.csv (lavTech(fit, "test") as long rows test,field,element,value,
#                                 including scaling factors, shift parameters and the attributes h1/h0)
#          invariance_lrt.csv, invariance_lrt_mlr.csv, multigroup_lrt.csv
#                                 as.data.frame(lavTestLRT(...)) with a "model" column, lavaan's heading and its method
#          models.csv             one row per model: name, nobs (per group, ";"), ntotal, norig, ngroups,
#                                 group labels, npar, converged, estimator, missing, se, test, information,
#                                 h1.information, observed.information, call, syntax, warnings (" | ")
#          versions.csv           R and lavaan versions
#          hs_data.csv, pd_data.csv, hs_fiml_data.csv, path_fiml_data.csv, path_fiml_x_data.csv
#                                 the data fitted (NA written as "")
# Needs:   r-base-core, r-cran-lavaan (Debian packages; the stored outputs come from lavaan 0.6-14, R 4.2).

suppressPackageStartupMessages(library(lavaan))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/lavaan_extended"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- ifelse(is.na(df[[col]]), NA, sprintf("%.17g", df[[col]]))
  df
}
write_out <- function(df, name, dir = out_dir) {
  write.csv(full(df), file.path(dir, name), row.names = FALSE, na = "")
}
named <- function(x) data.frame(name = names(x), value = as.numeric(x))
square <- function(m) {
  m <- unclass(as.matrix(m))
  if (is.null(rownames(m))) rownames(m) <- seq_len(nrow(m))
  if (is.null(colnames(m))) colnames(m) <- seq_len(ncol(m))
  cbind(data.frame(name = rownames(m)), as.data.frame(m, optional = TRUE))
}
# a matrix or a per-group list of matrices, as rows group,name,<columns>
per_group <- function(x) {
  if (!is.list(x)) x <- list(x)
  do.call(rbind, lapply(seq_along(x), function(g) cbind(data.frame(group = g), square(x[[g]]))))
}
# lavInspect "implied"/"sampstat"/"h1": list(cov, mean) for one group, a list of those for several
long_moments <- function(x, ngroups) {
  if (ngroups == 1) x <- list(x)
  rows <- list()
  for (g in seq_along(x)) {
    s <- unclass(x[[g]]$cov)
    rows[[length(rows) + 1]] <- data.frame(group = g, what = "cov", row = rep(rownames(s), times = ncol(s)),
                                           col = rep(colnames(s), each = nrow(s)), value = as.numeric(s))
    if (!is.null(x[[g]]$mean)) {
      m <- unclass(x[[g]]$mean)
      rows[[length(rows) + 1]] <- data.frame(group = g, what = "mean", row = names(m), col = "",
                                             value = as.numeric(m))
    }
  }
  do.call(rbind, rows)
}
# lavTech(fit, "test") as rows test,field,element,value (numbers as 17 digits, text as is)
long_test <- function(tests) {
  fmt <- function(v) if (is.numeric(v)) ifelse(is.na(v), NA, sprintf("%.17g", as.numeric(v))) else as.character(v)
  rows <- list()
  for (tn in names(tests)) for (field in names(tests[[tn]])) {
    v <- tests[[tn]][[field]]
    if (length(v) > 0)
      rows[[length(rows) + 1]] <- data.frame(test = tn, field = field,
                                             element = if (length(v) > 1) seq_along(v) else "", value = fmt(v))
    for (a in setdiff(names(attributes(v)), c("names", "dim", "dimnames")))
      rows[[length(rows) + 1]] <- data.frame(test = tn, field = field, element = a, value = fmt(attr(v, a)))
  }
  do.call(rbind, rows)
}
# runs expr, keeps every warning lavaan gives (and still shows it on stderr)
caught <- character()
catching <- function(expr) withCallingHandlers(expr, warning = function(w) {
  caught <<- c(caught, conditionMessage(w))
  message("  warning: ", conditionMessage(w))
  invokeRestart("muffleWarning")
})

# ---------------------------------------------------------------- data
hs <- HolzingerSwineford1939[, c("school", paste0("x", 1:9))]
hs$school <- as.character(hs$school)
pd <- PoliticalDemocracy
path_data <- read.csv("tests/reference/sem_path_input.csv")
mg_data <- read.csv("tests/reference/sem_multigroup_input.csv")

# NA in about `share` of the cells of `cols`, chosen at random, but never all of `cols` in one row
put_na <- function(df, cols, share, seed) {
  set.seed(seed)
  repeat {
    hit <- matrix(runif(nrow(df) * length(cols)) < share, nrow(df))
    if (!any(rowSums(hit) == length(cols))) break
  }
  for (j in seq_along(cols)) df[[cols[j]]][hit[, j]] <- NA
  df
}
hs_fiml_data <- put_na(hs[, paste0("x", 1:9)], paste0("x", 1:9), 0.10, 20240601)
path_fiml_data <- put_na(path_data, c("gpp", "ter", "nee"), 0.10, 20240602)
set.seed(20240603)
path_fiml_x_data <- path_fiml_data
path_fiml_x_data$airt[sample(nrow(path_fiml_x_data), round(0.10 * nrow(path_fiml_x_data)))] <- NA

write_out(hs, "hs_data.csv")
write_out(pd, "pd_data.csv")
write_out(hs_fiml_data, "hs_fiml_data.csv")
write_out(path_fiml_data, "path_fiml_data.csv")
write_out(path_fiml_x_data, "path_fiml_x_data.csv")

# ---------------------------------------------------------------- models
HS <- "visual =~ x1 + x2 + x3\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
PD_MEASURE_STRUCT <- "
  dem60 ~ ind60
  dem65 ~ ind60 + dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8"
PD <- paste0("
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + y2 + y3 + y4
  dem65 =~ y5 + y6 + y7 + y8", PD_MEASURE_STRUCT)
PD_EQUAL <- paste0("
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + a*y6 + b*y7 + c*y8", PD_MEASURE_STRUCT)
# labels, a simple ==, a linear == over four labels, an inequality and two := parameters. Without the
# inequality lavaan estimates i = 0.867 (checked below), so "i < 0.8" is active at the solution.
PD_CONSTRAINTS_BASE <- "
  ind60 =~ x1 + x2 + x3
  dem60 =~ y1 + a*y2 + b*y3 + c*y4
  dem65 =~ y5 + d*y6 + e*y7 + f*y8
  dem60 ~ g*ind60
  dem65 ~ h*ind60 + i*dem60
  y1 ~~ y5
  y2 ~~ y4 + y6
  y3 ~~ y7
  y4 ~~ y8
  y6 ~~ y8
  a == d
  b + c == e + f
  ind := g*i
  total := h + g*i"
PD_CONSTRAINTS <- paste0(PD_CONSTRAINTS_BASE, "\n  i < 0.8")
HS_FREE_FIRST <- "visual =~ NA*x1 + x2 + x3\n visual ~~ 1*visual\n textual =~ x4 + x5 + x6\n speed =~ x7 + x8 + x9"
PATH <- "
  gpp ~ airt + par + sm + tc + p
  ter ~ pregpp + airt + p + gpp
  nee ~ gpp + ter"
MG <- "
  gpp ~ airt + par + sm + tc + p
  ter ~ pregpp + airt + par + sm + tc + p + gpp
  nee ~ gpp + ter"

m <- function(fun, syntax, data, ...) list(fun = fun, syntax = syntax, data = data, args = list(...))
invariance <- list(none = NULL, loadings = "loadings", scalar = c("loadings", "intercepts"),
                   strict = c("loadings", "intercepts", "residuals"))
models <- list(
  hs_meanstructure = m("cfa", HS, "hs", meanstructure = TRUE),
  hs_configural = m("cfa", HS, "hs", group = "school"),
  hs_metric = m("cfa", HS, "hs", group = "school", group.equal = "loadings"),
  hs_scalar = m("cfa", HS, "hs", group = "school", group.equal = c("loadings", "intercepts")),
  hs_strict = m("cfa", HS, "hs", group = "school", group.equal = c("loadings", "intercepts", "residuals")),
  hs_partial = m("cfa", HS, "hs", group = "school", group.equal = c("loadings", "intercepts"),
                 group.partial = c("x3 ~ 1", "visual =~ x2")),
  hs_configural_mlr = m("cfa", HS, "hs", group = "school", estimator = "MLR"),
  hs_metric_mlr = m("cfa", HS, "hs", group = "school", group.equal = "loadings", estimator = "MLR"),
  hs_scalar_mlr = m("cfa", HS, "hs", group = "school", group.equal = c("loadings", "intercepts"),
                    estimator = "MLR"),
  pd_equality = m("sem", PD_EQUAL, "pd"),
  pd_constraints = m("sem", PD_CONSTRAINTS, "pd"),
  hs_std_lv = m("cfa", HS, "hs", std.lv = TRUE),
  hs_free_first = m("cfa", HS_FREE_FIRST, "hs"),
  hs_fiml = m("cfa", HS, "hs_fiml_data", missing = "ml"),
  hs_fiml_mlr = m("cfa", HS, "hs_fiml_data", missing = "ml", estimator = "MLR", std.lv = TRUE),
  pd_mlr = m("sem", PD, "pd", estimator = "MLR"),
  pd_mlm = m("sem", PD, "pd", estimator = "MLM"),
  path_fiml = m("sem", PATH, "path_fiml_data", missing = "ml"),
  # lavaan 0.6-14, missing = "ml" with fixed.x = TRUE (the default): rows with a missing exogenous value are
  # dropped (listwise on the exogenous covariates) with a warning; see nobs/ntotal/norig and warnings in models.csv
  path_fiml_x = m("sem", PATH, "path_fiml_x_data", missing = "ml"),
  multigroup_free = m("sem", MG, "mg_data", group = "kind"),
  multigroup_equal_reg = m("sem", MG, "mg_data", group = "kind", group.equal = "regressions")
)

call_text <- function(spec) {
  a <- vapply(names(spec$args), function(n) paste(n, "=", paste(deparse(spec$args[[n]]), collapse = "")), "")
  paste0(spec$fun, "(model, data = ", paste(c(spec$data, a), collapse = ", "), ")")
}

# the inequality of pd_constraints must be violated without it and active with it
unconstrained <- sem(PD_CONSTRAINTS_BASE, data = pd)
i_free <- parameterEstimates(unconstrained)$est[parameterEstimates(unconstrained)$label == "i"][1]
stopifnot(i_free > 0.8)

fits <- list()
model_rows <- list()
for (name in names(models)) {
  spec <- models[[name]]
  message(name)
  caught <- character()
  fit <- catching(do.call(spec$fun, c(list(model = spec$syntax, data = get(spec$data)), spec$args)))
  fits[[name]] <- fit
  ngroups <- lavInspect(fit, "ngroups")
  opt <- lavInspect(fit, "options")
  estimator <- if (is.null(spec$args$estimator)) "ML" else spec$args$estimator  # lavaan stores MLR/MLM as "ML"
  catching({
    write_out(parameterEstimates(fit, standardized = TRUE, rsquare = TRUE), paste0(name, "_estimates.csv"))
    write_out(named(fitMeasures(fit)), paste0(name, "_fit.csv"))
    write_out(as.data.frame(parTable(fit)), paste0(name, "_partable.csv"))
    write_out(long_moments(lavInspect(fit, "implied"), ngroups), paste0(name, "_implied.csv"))
    write_out(long_moments(lavInspect(fit, "sampstat"), ngroups), paste0(name, "_sampstat.csv"))
    if (opt$missing == "ml") write_out(long_moments(lavInspect(fit, "h1"), ngroups), paste0(name, "_h1.csv"))
    write_out(square(lavInspect(fit, "vcov")), paste0(name, "_vcov.csv"))
    if (estimator %in% c("MLR", "MLM")) {
      idir <- file.path(out_dir, paste0(name, "_internals"))
      dir.create(idir, showWarnings = FALSE)
      for (what in c("gamma", "delta", "wls.v"))
        write_out(per_group(lavInspect(fit, what)), paste0(what, ".csv"), idir)
      for (what in c("information", "information.expected", "information.observed",
                     "information.first.order", "UGamma"))
        write_out(square(lavInspect(fit, what)), paste0(what, ".csv"), idir)
      atomic <- Filter(function(v) is.atomic(v) && length(v) > 0, opt)
      write_out(data.frame(name = names(atomic),
                           value = vapply(atomic, function(v) paste(v, collapse = ";"), "")), "options.csv", idir)
      write_out(long_test(lavTech(fit, "test")), "test.csv", idir)
    }
  })
  model_rows[[name]] <- data.frame(
    name = name,
    nobs = paste(lavInspect(fit, "nobs"), collapse = ";"),
    ntotal = lavInspect(fit, "ntotal"),
    norig = sum(lavInspect(fit, "norig")),
    ngroups = ngroups,
    group_labels = paste(lavInspect(fit, "group.label"), collapse = ";"),
    npar = as.integer(fitMeasures(fit, "npar")),
    converged = lavInspect(fit, "converged"),
    estimator = estimator,
    options_estimator = opt$estimator,
    missing = opt$missing,
    se = opt$se,
    test = paste(opt$test, collapse = ";"),
    information = paste(opt$information, collapse = ";"),
    h1.information = paste(opt$h1.information, collapse = ";"),
    observed.information = paste(opt$observed.information, collapse = ";"),
    call = call_text(spec),
    syntax = gsub("\n *", "\n", trimws(spec$syntax)),
    warnings = paste(unique(caught), collapse = " | "))
}

pe <- parameterEstimates(fits$pd_constraints)
stopifnot(abs(pe$est[pe$label == "i"][1] - 0.8) < 1e-6)  # the inequality is active

# ---------------------------------------------------------------- likelihood-ratio tests
lrt <- function(fit_list, file) {
  caught <<- character()
  res <- catching(do.call(lavTestLRT, c(unname(fit_list), list(model.names = names(fit_list)))))
  df <- as.data.frame(res)
  df <- cbind(data.frame(model = names(fit_list)), df)
  heading <- gsub("[\u201c\u201d]", "\"", gsub("\\s+", " ", trimws(paste(attr(res, "heading"), collapse = " "))))
  df$method <- if (grepl("method = \"", heading)) sub('.*method = "([^"]+)".*', "\\1", heading) else "standard"
  df$heading <- heading
  df$warnings <- paste(unique(caught), collapse = " | ")
  write_out(df, file)
}
lrt(fits[c("hs_configural", "hs_metric", "hs_scalar", "hs_strict")], "invariance_lrt.csv")
lrt(fits[c("hs_configural_mlr", "hs_metric_mlr", "hs_scalar_mlr")], "invariance_lrt_mlr.csv")
lrt(fits[c("multigroup_free", "multigroup_equal_reg")], "multigroup_lrt.csv")

write_out(do.call(rbind, model_rows), "models.csv")
versions <- data.frame(package = c("R", "lavaan"),
                       version = c(paste(R.version$major, R.version$minor, sep = "."),
                                   as.character(packageVersion("lavaan"))))
write.csv(versions, file.path(out_dir, "versions.csv"), row.names = FALSE)
cat("wrote", out_dir, "\n")
