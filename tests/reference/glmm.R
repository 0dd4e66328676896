# Reference values for the GLMM engine (Laplace approximation by PIRLS as lme4::glmer, and adaptive
# Gauss-Hermite quadrature), from R's lme4::glmer (defaults otherwise: optimizer c("bobyqa", "Nelder_Mead"),
# calc.derivs = TRUE, so vcov() uses the finite-difference Hessian; see tests/reference/glmm/README.md).
#
# Run from the repository root:   Rscript tests/reference/glmm.R [OUTDIR]
# Input:   lme4's cbpp and grouseticks data sets; the other data sets are simulated here (set.seed per model).
#          Every data set fitted is written to OUTDIR as <data>.csv (grouseticks.csv has cHEIGHT =
#          as.numeric(scale(HEIGHT)), which replaces lme4's own cHEIGHT, HEIGHT centred only).
# Output:  OUTDIR (default tests/reference/glmm) / *.csv, numbers written with 17 significant digits:
#          <model>_fixed.csv     summary(m)$coefficients: term, estimate, std_error, z, p
#          <model>_vcov.csv      vcov(m) (lme4's default: from the Hessian when available), first column "term"
#          <model>_vcov_rx.csv   vcov(m, use.hessian = FALSE) (from RX of the final PIRLS step)
#          <model>_hessian.csv   m@optinfo$derivs$Hessian, finite-difference Hessian of the deviance
#                                in c(theta, beta), first column "name"
#          <model>_ranpars.csv   as.data.frame(VarCorr(m)): grp, var1, var2, vcov, sdcor
#          <model>_glance.csv    logLik, AIC, BIC, deviance (= deviance(m), sum of squared deviance residuals),
#                                minus2logLik, df (parameters), df_residual, nobs, sigma, overdispersion
#                                (Poisson: sum(pearson residuals^2) / df.residual; empty otherwise)
#          <model>_theta.csv     kind, name, value, text: getME(m, "theta"), getME(m, "beta"), the gradient
#                                m@optinfo$derivs$gradient, isSingular(m), the optimizer, its return code and
#                                number of evaluations, lme4's convergence messages and optimizer warnings
#          <model>_ranef.csv     as.data.frame(ranef(m, condVar = TRUE)): grpvar, term, grp, condval, condsd
#          <model>_devfun.csv    (cbpp_laplace, cbpp_agq5) the deviance function from glmer(devFunOnly = TRUE)
#                                evaluated at the fit and at two perturbed c(theta, beta) vectors
#          <model>_time.csv      (cbpp_laplace, grouseticks) the 5 elapsed times of system.time(glmer(...))
#                                and their median, seconds
#          checks.csv            model, check, value: numerical checks reported in README.md (vcov against the
#                                Hessian and RX, devfun against logLik, the parts of lme4's deviance)
#          models.csv            one row per model: formula, family, link, nAGQ, nobs, data file, converged,
#                                singular, warnings printed by glmer, lme4 version
#          versions.csv          R, lme4 and Matrix versions
# Needs:   r-base-core, r-cran-lme4 (Debian packages; the stored outputs come from lme4 1.1-31).

suppressPackageStartupMessages(library(lme4))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/glmm"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- ifelse(is.na(df[[col]]), NA, sprintf("%.17g", df[[col]]))
  df
}
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")
square <- function(m, first = "name") {
  m <- as.matrix(m)
  out <- data.frame(rownames(m), stringsAsFactors = FALSE)
  names(out) <- first
  cbind(out, as.data.frame(m, optional = TRUE))
}

# ---- data -------------------------------------------------------------------------------------------
data(cbpp, package = "lme4")
data(grouseticks, package = "lme4")
cbpp <- cbpp[, c("herd", "incidence", "size", "period")]
grouse <- grouseticks[, c("INDEX", "TICKS", "BROOD", "HEIGHT", "YEAR", "LOCATION")]
grouse$cHEIGHT <- as.numeric(scale(grouse$HEIGHT))

# 40 groups x 10 rows, 0/1 response from a probit model with a random intercept
set.seed(20240501)
probit <- data.frame(g = factor(sprintf("g%02d", rep(1:40, each = 10))), x = round(rnorm(400), 6))
probit$y <- rbinom(400, 1, pnorm(-0.3 + 0.7 * probit$x + rnorm(40, sd = 0.8)[probit$g]))

# 30 groups x 8 rows, Gamma response with shape 5, log link, random intercept
set.seed(20240502)
gam <- data.frame(g = factor(sprintf("g%02d", rep(1:30, each = 8))), x = round(rnorm(240), 6))
mu <- exp(1 + 0.4 * gam$x + rnorm(30, sd = 0.5)[gam$g])
gam$y <- round(rgamma(240, shape = 5, rate = 5 / mu), 8)

# 30 groups x 8 rows, inverse Gaussian response (lambda 20), log link, random intercept.
# Michael, Schucany & Haas (1976), so that no package beyond lme4 is needed.
rinvgauss <- function(n, mean, lambda) {
  y <- rnorm(n)^2
  x <- mean + mean^2 * y / (2 * lambda) - mean / (2 * lambda) * sqrt(4 * mean * lambda * y + mean^2 * y^2)
  ifelse(runif(n) <= mean / (mean + x), x, mean^2 / x)
}
set.seed(20240503)
ig <- data.frame(g = factor(sprintf("g%02d", rep(1:30, each = 8))), x = round(rnorm(240), 6))
mu <- exp(0.5 + 0.3 * ig$x + rnorm(30, sd = 0.4)[ig$g])
ig$y <- round(rinvgauss(240, mu, 20), 8)

# 30 groups x 12 rows, Poisson counts, correlated random intercept and slope
# (sd 0.5 and 0.3, correlation 0.4)
set.seed(20240504)
ps <- data.frame(g = factor(sprintf("g%02d", rep(1:30, each = 12))), x = round(runif(360, -1, 1), 6))
L <- t(chol(matrix(c(0.25, 0.4 * 0.5 * 0.3, 0.4 * 0.5 * 0.3, 0.09), 2)))
b <- t(L %*% matrix(rnorm(60), 2))
ps$y <- rpois(360, exp(0.8 + 0.5 * ps$x + b[ps$g, 1] + b[ps$g, 2] * ps$x))
rm(mu, L, b)

datasets <- list(cbpp = cbpp, grouseticks = grouse, binary_probit = probit, gamma_log = gam,
                 inverse_gaussian = ig, poisson_slope = ps)
for (d in names(datasets)) write_out(datasets[[d]], paste0(d, ".csv"))

# ---- models -----------------------------------------------------------------------------------------
cases <- list(
  cbpp_laplace = list(cbind(incidence, size - incidence) ~ period + (1 | herd), "cbpp", binomial(), 1),
  cbpp_agq5 = list(cbind(incidence, size - incidence) ~ period + (1 | herd), "cbpp", binomial(), 5),
  cbpp_proportion = list(incidence / size ~ period + (1 | herd), "cbpp", binomial(), 1, quote(size)),
  grouseticks = list(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION), "grouseticks", poisson(), 1),
  binary_probit = list(y ~ x + (1 | g), "binary_probit", binomial(link = "probit"), 1),
  gamma_log = list(y ~ x + (1 | g), "gamma_log", Gamma(link = "log"), 1),
  inverse_gaussian = list(y ~ x + (1 | g), "inverse_gaussian", inverse.gaussian(link = "log"), 1),
  poisson_slope = list(y ~ x + (1 + x | g), "poisson_slope", poisson(), 1)
)

fit <- function(case, ...) {
  args <- list(formula = case[[1]], data = datasets[[case[[2]]]], family = case[[3]], nAGQ = case[[4]], ...)
  if (length(case) >= 5) args$weights <- datasets[[case[[2]]]][[as.character(case[[5]])]]
  do.call(glmer, args)
}
fit_logged <- function(case) {  # glmer, keeping the warnings it gives
  warns <- character()
  m <- withCallingHandlers(fit(case), warning = function(w) {
    warns <<- c(warns, conditionMessage(w)); invokeRestart("muffleWarning")
  })
  list(m = m, warnings = warns)
}

rows <- list(); checks <- list()
check <- function(model, what, value) checks[[length(checks) + 1]] <<- data.frame(model = model, check = what, value = value)
for (name in names(cases)) {
  case <- cases[[name]]
  f <- fit_logged(case)
  m <- f$m
  fam <- family(m)
  co <- summary(m)$coefficients
  write_out(data.frame(term = rownames(co), estimate = co[, 1], std_error = co[, 2], z = co[, 3], p = co[, 4]),
            paste0(name, "_fixed.csv"))
  V <- as.matrix(vcov(m))
  write_out(square(V, "term"), paste0(name, "_vcov.csv"))
  V_rx <- suppressWarnings(as.matrix(vcov(m, use.hessian = FALSE)))
  write_out(square(V_rx, "term"), paste0(name, "_vcov_rx.csv"))
  theta <- getME(m, "theta"); beta <- getME(m, "beta"); names(beta) <- colnames(getME(m, "X"))
  H <- m@optinfo$derivs$Hessian
  if (!is.null(H)) {
    dimnames(H) <- list(c(names(theta), names(beta)), c(names(theta), names(beta)))
    write_out(square(H), paste0(name, "_hessian.csv"))
    Hi <- 2 * solve(H); i <- -seq_along(theta)
    se <- function(v) sqrt(diag(v))
    check(name, "max_abs_vcov_minus_beta_block_of_2_solve_hessian", max(abs(V - Hi[i, i])))
    check(name, "max_rel_vcov_minus_beta_block_of_2_solve_hessian", max(abs(V - Hi[i, i]) / abs(Hi[i, i])))
    check(name, "max_abs_vcov_minus_vcov_rx", max(abs(V - V_rx)))
    check(name, "max_rel_se_hessian_over_se_rx_minus_1", max(abs(se(V) / se(V_rx) - 1)))
  }
  write_out(as.data.frame(VarCorr(m)), paste0(name, "_ranpars.csv"))
  df_res <- df.residual(m)
  write_out(data.frame(
    logLik = as.numeric(logLik(m)), AIC = AIC(m), BIC = BIC(m), deviance = deviance(m),
    minus2logLik = -2 * as.numeric(logLik(m)), df = attr(logLik(m), "df"), df_residual = df_res,
    nobs = nobs(m), sigma = sigma(m),
    overdispersion = if (fam$family == "poisson") sum(residuals(m, "pearson")^2) / df_res else NA_real_),
    paste0(name, "_glance.csv"))
  msgs <- m@optinfo$conv$lme4$messages
  owarn <- unlist(m@optinfo$warnings)
  grad <- m@optinfo$derivs$gradient
  write_out(rbind(
    data.frame(kind = "theta", name = names(theta), value = unname(theta), text = ""),
    data.frame(kind = "beta", name = names(beta), value = unname(beta), text = ""),
    if (!is.null(grad)) data.frame(kind = "gradient", name = c(names(theta), names(beta)), value = grad, text = ""),
    data.frame(kind = "singular", name = "isSingular", value = as.numeric(isSingular(m)),
               text = as.character(isSingular(m))),
    data.frame(kind = "optimizer", name = c("optimizer", "conv", "feval"),
               value = c(NA, m@optinfo$conv$opt, m@optinfo$feval),
               text = c(paste(m@optinfo$optimizer, collapse = ";"), "", "")),
    if (length(msgs)) data.frame(kind = "lme4_message", name = "", value = NA, text = msgs),
    if (length(owarn)) data.frame(kind = "optimizer_warning", name = "", value = NA, text = owarn)),
    paste0(name, "_theta.csv"))
  re <- as.data.frame(ranef(m, condVar = TRUE))
  re[] <- lapply(re, function(col) if (is.factor(col)) as.character(col) else col)
  write_out(re, paste0(name, "_ranef.csv"))
  rows[[name]] <- data.frame(
    name = name, formula = paste(deparse(case[[1]], width.cutoff = 500), collapse = ""),
    weights = if (length(case) >= 5) as.character(case[[5]]) else "",
    family = fam$family, link = fam$link, nAGQ = case[[4]], nobs = nobs(m),
    data = paste0(case[[2]], ".csv"), converged = length(msgs) == 0 && m@optinfo$conv$opt == 0,
    singular = isSingular(m), warnings = paste(c(f$warnings, owarn), collapse = " | "),
    lme4 = as.character(packageVersion("lme4")))

  if (name %in% c("cbpp_laplace", "cbpp_agq5")) {
    dev <- fit(case, devFunOnly = TRUE)
    p0 <- c(theta, beta)
    points <- rbind(fit = p0,
                    perturbed_1 = p0 + c(0.2, 0.1, -0.1, 0.05, -0.05),
                    perturbed_2 = p0 * c(0.5, 1, 1, 1, 1) + c(0, -0.3, 0.2, 0.1, 0.3),
                    fit_again = p0)
    d <- apply(points, 1, dev)
    out <- data.frame(point = rownames(points), points, check.names = FALSE)
    colnames(out)[-1] <- c(names(theta), names(beta))
    out$deviance <- d
    write_out(out, paste0(name, "_devfun.csv"))
    check(name, "devfun_at_fit_minus_minus2logLik", d[["fit"]] + 2 * as.numeric(logLik(m)))
    check(name, "devfun_fit_again_minus_fit", d[["fit_again"]] - d[["fit"]])
  }
  # the parts of lme4's deviance (-2 logLik): with nAGQ = 1 it is ldL2 + ussq + family$aic() at the conditional
  # modes (for binomial and Poisson: drsum + the saturated model's -2 log-likelihood; for Gamma and inverse
  # Gaussian aic() takes the dispersion as drsum / n and adds 2); with nAGQ > 1 the saturated term is left out
  cmp <- m@devcomp$cmp; r <- m@resp
  check(name, "dev_minus_drsum_ldL2_ussq", cmp[["dev"]] - cmp[["drsum"]] - cmp[["ldL2"]] - cmp[["ussq"]])
  check(name, "dev_minus_ldL2_ussq_family_aic",
        cmp[["dev"]] - cmp[["ldL2"]] - cmp[["ussq"]] - fam$aic(r$y, r$n, r$mu, r$weights, cmp[["drsum"]]))
  if (fam$family %in% c("Gamma", "inverse.gaussian")) {
    check(name, "sigma2_minus_pwrss_over_n", sigma(m)^2 - cmp[["pwrss"]] / nobs(m))
    check(name, "pearson_chi2_over_df_residual", sum(residuals(m, "pearson")^2) / df_res)
  }
  if (name %in% c("cbpp_laplace", "cbpp_agq5"))
    check(name, "saturated_minus2loglik", -2 * sum(dbinom(cbpp$incidence, cbpp$size, cbpp$incidence / cbpp$size, log = TRUE)))
  if (name == "grouseticks")
    check(name, "saturated_minus2loglik", -2 * sum(dpois(grouse$TICKS, grouse$TICKS, log = TRUE)))
  if (name %in% c("cbpp_laplace", "grouseticks")) {
    times <- replicate(5, system.time(suppressWarnings(fit(case)))[["elapsed"]])
    write_out(data.frame(model = name, reps = 5L, median_elapsed = median(times),
                         elapsed = paste(sprintf("%.3f", times), collapse = ";")), paste0(name, "_time.csv"))
  }
}
write_out(do.call(rbind, rows), "models.csv")

# grouseticks with scale(HEIGHT) in the formula, as lme4's examples write it, gives the same fit
gs <- glmer(TICKS ~ YEAR + scale(HEIGHT) + (1 | BROOD) + (1 | LOCATION), grouse, family = poisson)
gc <- glmer(TICKS ~ YEAR + cHEIGHT + (1 | BROOD) + (1 | LOCATION), grouse, family = poisson)
check("grouseticks", "max_abs_beta_scale_HEIGHT_minus_cHEIGHT", max(abs(fixef(gs) - fixef(gc))))
check("grouseticks", "max_abs_theta_scale_HEIGHT_minus_cHEIGHT", max(abs(getME(gs, "theta") - getME(gc, "theta"))))

write_out(data.frame(package = c("R", "lme4", "Matrix"),
                     version = c(as.character(getRversion()), as.character(packageVersion("lme4")),
                                 as.character(packageVersion("Matrix")))), "versions.csv")

write_out(do.call(rbind, checks), "checks.csv")
