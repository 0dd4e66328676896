# Reference values for MixedSpec(ddf = "kenward-roger"): lmerTest's summary(m, ddf = "Kenward-Roger") (which calls
# pbkrtest's vcovAdj and get_Lb_ddf) and pbkrtest::vcovAdj(m).
#
# Run from the repository root:   Rscript tests/reference/kenward_roger.R [OUTDIR]
# Inputs:  lme4's sleepstudy and Penicillin (exported as CSV to OUTDIR); tests/reference/mixed_cells.csv
#          (4100 rows) and the NEE, season ANN rows of tests/reference/trend_input.csv without the ensemble
#          (year_c: year minus the mean of the distinct years, as pcstats defines it).
# Output:  OUTDIR (default tests/reference/kenward_roger) / <model>_coef.csv (term, estimate, std_error, df, t, p),
#          <model>_vcovadj.csv (the adjusted covariance of the fixed effects), <model>_varcorr.csv
#          (as.data.frame(VarCorr(m)): the REML variances and covariances at which both were computed) and
#          <model>_krmodcomp.csv (pbkrtest::KRmodcomp(m, L) for each unit row L and, with two or more
#          coefficients, L = I: ndf, ddf, F.scaling), 17 significant digits.
# The models are fitted with tight optimizer tolerances (nloptwrap, xtol_rel 1e-14): lme4's default
# tolerances stop early enough to move the KR SEs by up to 5e-5 (mixed_cells) and the p-values by up to
# 2e-4 (Penicillin) -- lme4's stopping point, not the KR method, which is what is tested here.
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
centre <- function(d) { d$year_c <- d$year - mean(unique(d$year)); d }
cells <- centre(read.csv("tests/reference/mixed_cells.csv", stringsAsFactors = FALSE))
regional <- read.csv("tests/reference/trend_input.csv", stringsAsFactors = FALSE)
regional <- centre(regional[regional$variable == "NEE" & regional$source != "ensemble" & regional$season == "ANN", ])
models <- list(
  sleep_slope = list(formula = Reaction ~ Days + (Days | Subject), data = sleepstudy),
  sleep_uncorrelated = list(formula = Reaction ~ Days + (1 | Subject) + (0 + Days | Subject), data = sleepstudy),
  penicillin = list(formula = diameter ~ 1 + (1 | plate) + (1 | sample), data = Penicillin),
  sleep_unbalanced = list(formula = Reaction ~ Days + (Days | Subject), data = unbalanced),
  cells = list(formula = value ~ year_c + (1 + year_c | region), data = cells),
  regional_crossed = list(formula = value ~ year_c * region + (1 | source) + (1 | year), data = regional)
)
tight <- lmerControl(optimizer = "nloptwrap", optCtrl = list(xtol_rel = 1e-14, xtol_abs = 1e-14, ftol_rel = 1e-15,
                                                              ftol_abs = 1e-15, maxeval = 1e5))
for (name in names(models)) {
  m <- lmer(models[[name]]$formula, data = models[[name]]$data, REML = TRUE, control = tight)
  cf <- summary(m, ddf = "Kenward-Roger")$coefficients
  write_out(data.frame(term = rownames(cf), estimate = cf[, "Estimate"], std_error = cf[, "Std. Error"],
                       df = cf[, "df"], t = cf[, "t value"], p = cf[, "Pr(>|t|)"]), paste0(name, "_coef.csv"))
  V <- as.matrix(vcovAdj(m))
  write_out(cbind(data.frame(term = rownames(cf)), as.data.frame(unname(V))), paste0(name, "_vcovadj.csv"))
  write_out(as.data.frame(VarCorr(m))[, c("grp", "var1", "var2", "vcov")], paste0(name, "_varcorr.csv"))
  p <- length(fixef(m))
  contrasts <- c(setNames(lapply(seq_len(p), function(j) diag(p)[j, , drop = FALSE]), rownames(cf)),
                 if (p > 1) list(all = diag(p)))
  kr <- lapply(names(contrasts), function(k) {
    st <- KRmodcomp(m, contrasts[[k]])$stats
    data.frame(contrast = k, ndf = st$ndf, ddf = st$ddf, f_scaling = st$F.scaling)
  })
  write_out(do.call(rbind, kr), paste0(name, "_krmodcomp.csv"))
}
writeLines(c(paste("lme4", packageVersion("lme4")), paste("lmerTest", packageVersion("lmerTest")),
             paste("pbkrtest", packageVersion("pbkrtest"))), file.path(out_dir, "versions.txt"))
