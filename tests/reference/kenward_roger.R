# Reference values for MixedSpec(ddf = "kenward-roger"): lmerTest's summary(m, ddf = "Kenward-Roger") (which calls
# pbkrtest's vcovAdj and get_Lb_ddf) and pbkrtest::vcovAdj(m).
#
# Run from the repository root:   Rscript tests/reference/kenward_roger.R [OUTDIR]
# Input:   lme4's sleepstudy and Penicillin (exported as CSV to OUTDIR).
# Output:  OUTDIR (default tests/reference/kenward_roger) / <model>_coef.csv (term, estimate, std_error, df, t, p)
#          and <model>_vcovadj.csv (the adjusted covariance of the fixed effects), 17 significant digits.
# Needs:   r-base-core, r-cran-lme4, r-cran-lmertest, r-cran-pbkrtest (Debian packages).
suppressPackageStartupMessages({library(lmerTest); library(pbkrtest)})
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/kenward_roger"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
full <- function(df) { for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]]); df }
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")
write.csv(sleepstudy, file.path(out_dir, "sleepstudy.csv"), row.names = FALSE)
write.csv(Penicillin, file.path(out_dir, "penicillin.csv"), row.names = FALSE)
# unbalanced: a quarter of the rows dropped (deterministically), so that the KR adjustment of vcov is not ~0
unbalanced <- sleepstudy[(sleepstudy$Days + as.integer(sleepstudy$Subject)) %% 4 != 0, ]
write.csv(unbalanced, file.path(out_dir, "sleep_unbalanced.csv"), row.names = FALSE)
models <- list(
  sleep_slope = list(formula = Reaction ~ Days + (Days | Subject), data = sleepstudy),
  sleep_uncorrelated = list(formula = Reaction ~ Days + (1 | Subject) + (0 + Days | Subject), data = sleepstudy),
  penicillin = list(formula = diameter ~ 1 + (1 | plate) + (1 | sample), data = Penicillin),
  sleep_unbalanced = list(formula = Reaction ~ Days + (Days | Subject), data = unbalanced)
)
for (name in names(models)) {
  m <- lmer(models[[name]]$formula, data = models[[name]]$data, REML = TRUE)
  cf <- summary(m, ddf = "Kenward-Roger")$coefficients
  write_out(data.frame(term = rownames(cf), estimate = cf[, "Estimate"], std_error = cf[, "Std. Error"],
                       df = cf[, "df"], t = cf[, "t value"], p = cf[, "Pr(>|t|)"]), paste0(name, "_coef.csv"))
  V <- as.matrix(vcovAdj(m))
  write_out(cbind(data.frame(term = rownames(cf)), as.data.frame(unname(V))), paste0(name, "_vcovadj.csv"))
}
writeLines(c(paste("lme4", packageVersion("lme4")), paste("lmerTest", packageVersion("lmerTest")),
             paste("pbkrtest", packageVersion("pbkrtest"))), file.path(out_dir, "versions.txt"))
