# Reference values for pcstats.stats.sem_robust: lavaan's robust ML statistics (MLM and MLR), with the
# inputs the functions need, so that the Python tests call them on lavaan's own numbers.
#
# Run from the repository root:   Rscript tests/reference/lavaan_robust.R [OUTDIR]
# Input:   lavaan's PoliticalDemocracy and HolzingerSwineford1939 data sets (a copy of HS with about 10% of
#          the x1..x9 values set to NA at random, seed 20240601, for the FIML fit).
# Output:  OUTDIR (default tests/reference/lavaan_robust) / ..., numbers written with 17 significant digits:
#          models.csv                 one row per fit: data set, group variable and labels, nobs per group,
#                                     estimator, missing, meanstructure, df, npar, lavaan's information options
#                                     (se / test), and the syntax
#          <data>_data.csv            the data rows lavaan fitted (x1..x9 [+ school] or PoliticalDemocracy; NA empty)
#          <fit>_g<g>_delta.csv       lavInspect(fit, "delta")[[g]]: rows the moments (x~1 means if any, then
#                                     vech(Sigma) column-wise lower triangle), columns lavaan's free parameters
#          <fit>_g<g>_implied.csv     lavInspect(fit, "implied")[[g]]: first column "mean" (NA without a mean
#                                     structure), then the covariance matrix; rows are the variables
#          <fit>_g<g>_h1.csv          lavTech(fit, "h1")[[g]] in the same layout (the EM estimates under FIML)
#          <fit>_g<g>_gamma.csv       lavInspect(fit, "gamma")[[g]] (MLM fits only: lavaan's NACOV)
#          <fit>_information.csv      lavInspect(fit, "information"): expected for MLM, observed (lavaan's
#                                     numerical Hessian) for MLR
#          <fit>_K.csv                fit@Model@eq.constraints.K when the fit has equality constraints
#                                     (free parameters = K %*% unique parameters)
#          <fit>_vcov.csv             vcov(fit)
#          <fit>_scores.csv           lavScores(fit): casewise scores, rows in data order (MLR fits without
#                                     equality constraints, whose lavScores add Lagrange terms; not the
#                                     orthogonal one; MLM fits have the same scores as the MLR ones)
#          <fit>_test.csv             lavTech(fit, "test"): one row per test (standard, satorra.bentler or
#                                     yuan.bentler.mplus) with stat, df, pvalue, scaling.factor, trace.UGamma,
#                                     scaling.factor.h1 and .h0
#          <fit>_fit.csv              fitMeasures(fit), all of them, as name,value rows
#          lrt.csv                    lavTestLRT(m1, m0) (default method satorra.bentler.2001) for nested pairs
#          versions.csv               R and lavaan versions
# Needs:   r-base-core, r-cran-lavaan (Debian packages; the stored outputs come from lavaan 0.6-14).

suppressPackageStartupMessages(library(lavaan))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/lavaan_robust"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

num <- function(x) ifelse(is.na(x), NA, sprintf("%.17g", x))
full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- num(df[[col]])
  df
}
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")
square <- function(m) cbind(data.frame(name = rownames(m)), as.data.frame(unclass(m), check.names = FALSE))
named <- function(x) data.frame(name = names(x), value = as.numeric(x))
moments <- function(x, names) {
  mean <- if (is.null(x$mean)) rep(NA_real_, length(names)) else as.numeric(x$mean)
  cbind(data.frame(name = names, mean = mean), as.data.frame(unclass(x$cov), check.names = FALSE))
}

hs_vars <- paste0("x", 1:9)
hs <- HolzingerSwineford1939[, c(hs_vars, "school")]
hs$school <- as.character(hs$school)
set.seed(20240601)
hs_missing <- HolzingerSwineford1939[, hs_vars]
hs_missing[matrix(runif(nrow(hs_missing) * 9) < 0.10, ncol = 9)] <- NA
stopifnot(all(rowSums(!is.na(hs_missing)) > 0))
data_sets <- list(pd = PoliticalDemocracy, hs = hs, hs_missing = hs_missing)

pd_syntax <- "
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
"
hs_syntax <- "
  visual  =~ x1 + x2 + x3
  textual =~ x4 + x5 + x6
  speed   =~ x7 + x8 + x9
"
fits <- list(
  pd_mlr = list(data = "pd", syntax = pd_syntax, estimator = "MLR"),
  pd_mlm = list(data = "pd", syntax = pd_syntax, estimator = "MLM"),
  hs_mlr = list(data = "hs", syntax = hs_syntax, estimator = "MLR"),
  hs_mlm = list(data = "hs", syntax = hs_syntax, estimator = "MLM"),
  hs_orthogonal_mlr = list(data = "hs", syntax = hs_syntax, estimator = "MLR", orthogonal = TRUE),
  hs_orthogonal_mlm = list(data = "hs", syntax = hs_syntax, estimator = "MLM", orthogonal = TRUE),
  hs_school_mlr = list(data = "hs", syntax = hs_syntax, estimator = "MLR", group = "school"),
  hs_school_mlm = list(data = "hs", syntax = hs_syntax, estimator = "MLM", group = "school"),
  hs_school_metric_mlr = list(data = "hs", syntax = hs_syntax, estimator = "MLR", group = "school",
                              group.equal = "loadings"),
  hs_missing_mlr = list(data = "hs_missing", syntax = hs_syntax, estimator = "MLR", missing = "ml")
)
# nested pairs for lavTestLRT: (less restricted, more restricted)
lrt_pairs <- list(c("hs_mlr", "hs_orthogonal_mlr"), c("hs_mlm", "hs_orthogonal_mlm"),
                  c("hs_school_mlr", "hs_school_metric_mlr"))

fitted <- list()
model_rows <- list()
for (name in names(fits)) {
  f <- fits[[name]]
  fit <- cfa(f$syntax, data = data_sets[[f$data]], estimator = f$estimator,
             group = f$group, group.equal = if (is.null(f$group.equal)) "" else f$group.equal,
             orthogonal = isTRUE(f$orthogonal), missing = if (is.null(f$missing)) "listwise" else f$missing)
  stopifnot(lavInspect(fit, "converged"))
  fitted[[name]] <- fit
  opt <- lavInspect(fit, "options")
  ov <- lavNames(fit, "ov")
  G <- lavInspect(fit, "ngroups")
  delta <- lavInspect(fit, "delta"); implied <- lavInspect(fit, "implied"); h1 <- lavTech(fit, "h1")
  if (G == 1) { delta <- list(delta); implied <- list(implied) }
  for (g in seq_len(G)) {
    write_out(square(delta[[g]]), sprintf("%s_g%d_delta.csv", name, g))
    write_out(moments(implied[[g]], ov), sprintf("%s_g%d_implied.csv", name, g))
    write_out(moments(h1[[g]], ov), sprintf("%s_g%d_h1.csv", name, g))
  }
  if (f$estimator == "MLM") {
    gamma <- lavInspect(fit, "gamma")
    if (G == 1) gamma <- list(gamma)
    for (g in seq_len(G)) write_out(square(gamma[[g]]), sprintf("%s_g%d_gamma.csv", name, g))
  }
  write_out(square(lavInspect(fit, "information")), paste0(name, "_information.csv"))
  if (fit@Model@eq.constraints) {
    K <- fit@Model@eq.constraints.K
    write_out(as.data.frame(K), paste0(name, "_K.csv"))
  }
  write_out(square(vcov(fit)), paste0(name, "_vcov.csv"))
  if (f$estimator == "MLR" && !isTRUE(f$orthogonal) && !fit@Model@eq.constraints)
    write_out(as.data.frame(lavScores(fit)), paste0(name, "_scores.csv"))
  tests <- lavTech(fit, "test")
  get <- function(t, what) if (is.null(t[[what]])) NA_real_ else as.numeric(t[[what]])[1]
  write_out(do.call(rbind, lapply(tests, function(t) data.frame(
    test = t$test, stat = get(t, "stat"), df = get(t, "df"), pvalue = get(t, "pvalue"),
    scaling_factor = get(t, "scaling.factor"), trace_UGamma = get(t, "trace.UGamma"),
    scaling_factor_h1 = get(t, "scaling.factor.h1"), scaling_factor_h0 = get(t, "scaling.factor.h0")))),
    paste0(name, "_test.csv"))
  write_out(named(fitMeasures(fit)), paste0(name, "_fit.csv"))
  model_rows[[name]] <- data.frame(
    model = name, data = f$data, group = if (is.null(f$group)) "" else f$group,
    group_labels = paste(lavInspect(fit, "group.label"), collapse = ";"),
    nobs = paste(unlist(lavInspect(fit, "nobs")), collapse = ";"),
    estimator = f$estimator, missing = opt$missing, meanstructure = opt$meanstructure,
    df = as.integer(fitMeasures(fit, "df")), npar = as.integer(fitMeasures(fit, "npar")),
    information = paste(opt$information, collapse = ";"),
    observed_information = paste(opt$observed.information, collapse = ";"),
    h1_information = paste(opt$h1.information, collapse = ";"),
    syntax = gsub("\n *", "\n", trimws(f$syntax)))
}
write_out(do.call(rbind, model_rows), "models.csv")

lrt_rows <- list()
for (pair in lrt_pairs) {
  out <- lavTestLRT(fitted[[pair[1]]], fitted[[pair[2]]])
  lrt_rows[[length(lrt_rows) + 1]] <- data.frame(
    model1 = pair[1], model0 = pair[2], method = "satorra.bentler.2001",
    chisq_diff = out[["Chisq diff"]][2], df_diff = out[["Df diff"]][2], pvalue = out[["Pr(>Chisq)"]][2])
}
write_out(do.call(rbind, lrt_rows), "lrt.csv")

for (d in names(data_sets)) write_out(data_sets[[d]], paste0(d, "_data.csv"))
versions <- data.frame(package = c("R", "lavaan"),
                       version = c(paste(R.version$major, R.version$minor, sep = "."),
                                   as.character(packageVersion("lavaan"))))
write.csv(versions, file.path(out_dir, "versions.csv"), row.names = FALSE)
cat("wrote", out_dir, "\n")
