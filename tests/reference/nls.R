# Reference values for the Q10 engine, from R's nls (stats): the three respiration forms fitted
# to the fixture towers' monthly TER and AirT, per region (P, NoP).
#
# Run from the repository root:   Rscript tests/reference/nls.R [OUTDIR]
# Input:   tests/reference/q10_input.csv (made by tests/reference/make_inputs.py)
# Output:  OUTDIR (default tests/reference/nls) / q10_tidy.csv, q10_glance.csv, versions.csv, numbers
#          written with 17 significant digits.
# Needs:   r-base-core.

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/nls"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

d <- read.csv("tests/reference/q10_input.csv", stringsAsFactors = FALSE)
full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  df
}
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")

t_ref <- 10; t0 <- -46.02; r_gas <- 8.314462618
forms <- list(
  q10 = list(f = TER ~ R_ref * Q10^((AirT - t_ref) / 10), start = list(R_ref = 2, Q10 = 2)),
  lloyd_taylor = list(f = TER ~ R_ref * exp(E0 * (1 / (t_ref - t0) - 1 / (AirT - t0))), start = list(R_ref = 2, E0 = 300)),
  arrhenius = list(f = TER ~ R_ref * exp(Ea * 1000 / r_gas * (1 / (t_ref + 273.15) - 1 / (AirT + 273.15))),
                   start = list(R_ref = 2, Ea = 60))
)
tidy_rows <- list(); glance_rows <- list()
for (form in names(forms)) {
  for (region in sort(unique(d$region))) {
    s <- d[d$region == region, ]
    fit <- nls(forms[[form]]$f, data = s, start = forms[[form]]$start,
               control = nls.control(maxiter = 200, tol = 1e-8))
    co <- summary(fit)$coefficients
    ci <- confint.default(fit)  # Wald with normal quantiles; the tests use t quantiles from co
    tidy_rows[[length(tidy_rows) + 1]] <- data.frame(
      form = form, region = region, term = rownames(co), estimate = co[, 1], std_error = co[, 2],
      statistic = co[, 3], p_value = co[, 4], conf_low_z = ci[, 1], conf_high_z = ci[, 2])
    glance_rows[[length(glance_rows) + 1]] <- data.frame(
      form = form, region = region, nobs = nobs(fit), df_residual = df.residual(fit), sigma = summary(fit)$sigma,
      log_lik = as.numeric(logLik(fit)), aic = AIC(fit), bic = BIC(fit))
  }
}
write_out(do.call(rbind, tidy_rows), "q10_tidy.csv")
write_out(do.call(rbind, glance_rows), "q10_glance.csv")
write_out(data.frame(package = "R", version = paste(R.version$major, R.version$minor, sep = ".")), "versions.csv")
