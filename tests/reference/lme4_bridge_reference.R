# Reference values for pcstats.engines.lme4_bridge: lme4/lmerTest/broom.mixed run directly in R on
# sleepstudy, Reaction ~ Days + (Days | Subject), by REML and by ML.
#
# Run from the repository root:   Rscript tests/reference/lme4_bridge_reference.R [OUTDIR]
# Input:   tests/reference/lme4_bridge_sleepstudy.csv, lme4::sleepstudy with Subject as text (written
#          from lme4 if the file is absent), so R and the bridge fit the same file.
# Output:  OUTDIR (default tests/reference) / lme4_bridge_sleepstudy_{fixed,ran_pars,ran_vals,glance}.csv,
#          numbers written with 17 significant digits.
# Needs:   r-base-core, r-cran-lme4, r-cran-lmertest, r-cran-broom.mixed (Debian packages).

suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(broom.mixed)
})

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

input <- "tests/reference/lme4_bridge_sleepstudy.csv"
if (!file.exists(input)) {
  s <- lme4::sleepstudy
  write.csv(data.frame(Reaction = sprintf("%.17g", s$Reaction), Days = s$Days, Subject = as.character(s$Subject)),
            input, row.names = FALSE, quote = FALSE)
}
d <- read.csv(input, stringsAsFactors = FALSE, colClasses = c(Subject = "character"))

full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  df
}
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")

fixed <- list(); ran_pars <- list(); ran_vals <- list(); glance <- list()
for (reml in c(TRUE, FALSE)) {
  m <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = d, REML = reml)
  cf <- coef(summary(m))
  fixed[[length(fixed) + 1]] <- data.frame(
    reml = reml, term = rownames(cf), estimate = cf[, "Estimate"], std_error = cf[, "Std. Error"],
    df = cf[, "df"], statistic = cf[, "t value"], p_value = cf[, "Pr(>|t|)"])
  rp <- tidy(m, effects = "ran_pars", scales = "sdcor")
  ran_pars[[length(ran_pars) + 1]] <- data.frame(reml = reml, group = rp$group, term = rp$term, estimate = rp$estimate)
  rv <- tidy(m, effects = "ran_vals")
  ran_vals[[length(ran_vals) + 1]] <- data.frame(
    reml = reml, group = rv$group, level = rv$level, term = rv$term, estimate = rv$estimate, std_error = rv$std.error)
  glance[[length(glance) + 1]] <- data.frame(
    reml = reml, log_lik = as.numeric(logLik(m)), sigma = sigma(m), nobs = nobs(m),
    n_groups_Subject = ngrps(m)[["Subject"]], singular = isSingular(m, tol = 1e-4), optimizer = m@optinfo$optimizer,
    r_version = paste(R.version$major, R.version$minor, sep = "."),
    lme4_version = packageDescription("lme4", fields = "Version"),
    lmertest_version = packageDescription("lmerTest", fields = "Version"))
}
write_out(do.call(rbind, fixed), "lme4_bridge_sleepstudy_fixed.csv")
write_out(do.call(rbind, ran_pars), "lme4_bridge_sleepstudy_ran_pars.csv")
write_out(do.call(rbind, ran_vals), "lme4_bridge_sleepstudy_ran_vals.csv")
write_out(do.call(rbind, glance), "lme4_bridge_sleepstudy_glance.csv")
