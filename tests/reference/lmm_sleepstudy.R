# Reference values for pcstats.stats.lmm (linear mixed models) from lme4::lmer, lmerTest
# (Satterthwaite df), broom.mixed (tidy ran_pars / ran_vals) and performance (r2_nakagawa, icc).
#
# Run from the repository root:   Rscript tests/reference/lmm_sleepstudy.R [OUTDIR]
# Output:  OUTDIR (default tests/reference/lmm_sleepstudy) / *.csv, numbers with 17 significant digits.
# Needs:   r-base-core, r-cran-lme4, r-cran-lmertest, r-cran-broom.mixed, r-cran-performance (Debian).
#
# Data: lme4's sleepstudy plus two deterministic synthetic factors:
#   grp5 = rep(1:5, length.out = 180)           (1 | grp5) alone is a singular fit (theta = 0)
#   grp7 = rep(1:7, each = 3, length.out = 180)  crossed with Subject, a non-singular fit
#
# lme4 orders random-effect terms by decreasing number of levels; theta.csv follows that order.

suppressPackageStartupMessages({
  library(lmerTest)
  library(broom.mixed)
  library(performance)
})

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/lmm_sleepstudy"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  df
}
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")

d <- lme4::sleepstudy
d$grp5 <- factor(rep(1:5, length.out = nrow(d)))
d$grp7 <- factor(rep(1:7, each = 3, length.out = nrow(d)))
write_out(data.frame(Reaction = d$Reaction, Days = d$Days, Subject = as.character(d$Subject),
                     grp5 = as.integer(d$grp5), grp7 = as.integer(d$grp7)), "sleepstudy.csv")

models <- list(
  slope_reml = list(f = Reaction ~ Days + (Days | Subject), reml = TRUE),
  slope_ml = list(f = Reaction ~ Days + (Days | Subject), reml = FALSE),
  uncorrelated = list(f = Reaction ~ Days + (Days || Subject), reml = TRUE),
  intercept = list(f = Reaction ~ Days + (1 | Subject), reml = TRUE),
  crossed = list(f = Reaction ~ Days + (1 | Subject) + (1 | grp7), reml = TRUE),
  singular = list(f = Reaction ~ Days + (1 | grp5), reml = TRUE)
)

fixed <- list(); ran_pars <- list(); ran_vals <- list(); theta <- list(); glance <- list()
for (name in names(models)) {
  spec <- models[[name]]
  m <- suppressMessages(lmerTest::lmer(spec$f, data = d, REML = spec$reml))
  co <- summary(m)$coefficients  # lmerTest: Satterthwaite df
  fixed[[name]] <- data.frame(model = name, term = rownames(co), estimate = co[, "Estimate"],
                              std_error = co[, "Std. Error"], df = co[, "df"],
                              statistic = co[, "t value"], p_value = co[, "Pr(>|t|)"])
  rp <- as.data.frame(tidy(m, effects = "ran_pars", scales = "sdcor"))
  ran_pars[[name]] <- data.frame(model = name, group = rp$group, term = rp$term, estimate = rp$estimate)
  rv <- as.data.frame(tidy(m, effects = "ran_vals"))
  ran_vals[[name]] <- data.frame(model = name, group = rv$group, level = rv$level, term = rv$term,
                                 estimate = rv$estimate, std_error = rv$std.error)
  th <- getME(m, "theta")
  theta[[name]] <- data.frame(model = name, index = seq_along(th), name = names(th), theta = unname(th),
                              lower = getME(m, "lower"))
  r2 <- suppressWarnings(suppressMessages(capture.output(r2v <- performance::r2_nakagawa(m))))
  ic <- suppressWarnings(suppressMessages(capture.output(icv <- performance::icc(m))))
  icc_adj <- if (is.data.frame(icv)) icv$ICC_adjusted else NA_real_
  icc_unadj <- if (is.data.frame(icv)) icv$ICC_unadjusted else NA_real_
  vr <- suppressWarnings(insight::get_variance(m, verbose = FALSE))
  glance[[name]] <- data.frame(model = name, reml = spec$reml, nobs = nobs(m),
                               log_lik = as.numeric(logLik(m)), sigma = sigma(m),
                               singular = isSingular(m),
                               var_fixed = vr$var.fixed,
                               var_random = if (is.null(vr$var.random)) NA_real_ else vr$var.random,
                               var_residual = vr$var.residual,
                               r2_marginal = unname(r2v$R2_marginal), r2_conditional = unname(r2v$R2_conditional),
                               icc_adjusted = icc_adj, icc_unadjusted = icc_unadj)
}

write_out(do.call(rbind, fixed), "fixed.csv")
write_out(do.call(rbind, ran_pars), "ran_pars.csv")
write_out(do.call(rbind, ran_vals), "ran_vals.csv")
write_out(do.call(rbind, theta), "theta.csv")
write_out(do.call(rbind, glance), "glance.csv")
pkgs <- c("lme4", "lmerTest", "broom.mixed", "performance", "insight", "numDeriv", "Matrix")
write_out(data.frame(package = c("R", pkgs),
                     version = c(paste(R.version$major, R.version$minor, sep = "."),
                                 vapply(pkgs, function(p) as.character(packageVersion(p)), ""))),
          "versions.csv")
