# Reference values for the mixed-model engines, from R's lme4 + lmerTest (Satterthwaite df),
# broom.mixed (term names) and performance (ICC, Nakagawa R^2).
#
# Run from the repository root:   Rscript tests/reference/lme4.R [OUTDIR]
# Inputs:  tests/reference/mixed_cells.csv and tests/reference/trend_input.csv
#          (made by tests/reference/make_inputs.py)
# Output:  OUTDIR (default tests/reference/lme4) / *.csv, numbers with 17 significant digits.
# Needs:   r-base-core r-cran-lme4 r-cran-lmertest r-cran-broom.mixed r-cran-performance (Debian).
#
# year_c is year minus the mean of the distinct years in the rows fitted, as pcstats defines it.

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(broom.mixed)
  library(performance)
})

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/lme4"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  df
}
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")
centre <- function(d) { d$year_c <- d$year - mean(unique(d$year)); d }

cells <- centre(read.csv("tests/reference/mixed_cells.csv", stringsAsFactors = FALSE))
regional <- read.csv("tests/reference/trend_input.csv", stringsAsFactors = FALSE)
regional <- regional[regional$variable == "NEE" & regional$source != "ensemble", ]
by_season <- function(s) centre(regional[regional$season == s, ])

paper <- value ~ year_c * region + (1 + year_c | source) + (1 | source:region) + (1 | source:year)
cases <- list(
  cells_reml   = list(value ~ year_c + (1 + year_c | region), cells, TRUE),
  cells_ml     = list(value ~ year_c + (1 + year_c | region), cells, FALSE),
  cells_uncorr = list(value ~ year_c + (year_c || region), cells, TRUE),
  cells_int    = list(value ~ year_c + (1 | region), cells, TRUE),
  singular     = list(value ~ year_c * region + (1 + year_c | source), by_season("ANN"), TRUE),
  crossed      = list(value ~ year_c * region + (1 | source) + (1 | year), by_season("ANN"), TRUE),
  nested       = list(value ~ year_c * region + (1 | source/region), by_season("ANN"), TRUE),
  paper_ANN    = list(paper, by_season("ANN"), TRUE),
  paper_EGS    = list(paper, by_season("EGS"), TRUE),
  paper_LGS    = list(paper, by_season("LGS"), TRUE),
  paper_WIN    = list(paper, by_season("WIN"), TRUE)
)

fixed <- list(); ran_pars <- list(); ran_vals <- list(); glance <- list(); models <- list()
for (name in names(cases)) {
  case <- cases[[name]]
  m <- lmer(case[[1]], data = case[[2]], REML = case[[3]])
  models[[name]] <- m
  co <- summary(m)$coefficients  # lmerTest: Satterthwaite df
  fixed[[name]] <- data.frame(case = name, term = rownames(co), estimate = co[, "Estimate"],
                              std_error = co[, "Std. Error"], df = co[, "df"],
                              statistic = co[, "t value"], p_value = co[, "Pr(>|t|)"])
  rp <- as.data.frame(tidy(m, effects = "ran_pars", scales = "sdcor"))
  ran_pars[[name]] <- data.frame(case = name, group = rp$group, term = rp$term, estimate = rp$estimate)
  rv <- as.data.frame(tidy(m, effects = "ran_vals"))
  ran_vals[[name]] <- data.frame(case = name, group = rv$group, level = as.character(rv$level),
                                 term = rv$term, estimate = rv$estimate, std_error = rv$std.error)
  conv <- m@optinfo$conv$lme4$messages
  r2 <- suppressWarnings(r2_nakagawa(m, tolerance = 0))
  ic <- suppressWarnings(icc(m, tolerance = 0))
  glance[[name]] <- data.frame(
    case = name, nobs = nobs(m), n_groups = unname(ngrps(m)[1]), sigma = sigma(m),
    log_lik = as.numeric(logLik(m)), aic = AIC(m), bic = BIC(m), df = attr(logLik(m), "df"),
    reml = isREML(m), singular = isSingular(m, tol = 1e-4), converged = is.null(conv),
    r2_marginal = if (is.list(r2)) r2$R2_marginal else NA,
    r2_conditional = if (is.list(r2)) r2$R2_conditional else NA,
    icc = if (is.list(ic)) ic$ICC_adjusted else NA)
}
write_out(do.call(rbind, fixed), "fixed.csv")
write_out(do.call(rbind, ran_pars), "ran_pars.csv")
write_out(do.call(rbind, ran_vals), "ran_vals.csv")
write_out(do.call(rbind, glance), "glance.csv")

# likelihood-ratio test as anova() does it: refit with ML, smaller model first
a <- anova(models$cells_int, models$cells_reml, refit = TRUE)
write_out(data.frame(model = c("cells_int", "cells_reml"), npar = a$npar, aic = a$AIC, bic = a$BIC,
                     log_lik = a$logLik, deviance = a$deviance, statistic = a$Chisq, df = a[["Df"]],
                     p_value = a[["Pr(>Chisq)"]]), "lrt.csv")

write_out(data.frame(package = c("R", "lme4", "lmerTest", "broom.mixed", "performance"),
                     version = c(as.character(getRversion()), as.character(packageVersion("lme4")),
                                 as.character(packageVersion("lmerTest")), as.character(packageVersion("broom.mixed")),
                                 as.character(packageVersion("performance")))), "versions.csv")
