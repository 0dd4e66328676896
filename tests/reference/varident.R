# Reference values for MixedSpec(dispersion = "~ f") (one residual SD per level of a factor), from
# nlme::lme(..., weights = varIdent(form = ~ 1 | f)) with REML and ML.
#
# Run from the repository root:   Rscript tests/reference/varident.R [OUTDIR]
# Input:   lme4's sleepstudy, with late = "late" for Days >= 5 and "early" otherwise (exported as data.csv).
# Output:  OUTDIR (default tests/reference/varident) / <model>_{fixed,varident,glance}.csv, numbers with 17
#          significant digits: fixed effects and SEs (summary(m)$tTable), the residual SD of each level of the
#          factor (sigma * varIdent ratio, the first level the reference), the random-effect SDs and
#          correlation, logLik, AIC, BIC and the number of parameters.
# Needs:   r-base-core, r-cran-nlme, r-cran-lme4 (Debian packages).
suppressPackageStartupMessages({library(nlme); library(lme4)})
args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/varident"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
full <- function(df) { for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]]); df }
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")
d <- sleepstudy
d$late <- factor(ifelse(d$Days >= 5, "late", "early"), levels = c("early", "late"))
d$Subject <- as.character(d$Subject)
write.csv(d, file.path(out_dir, "data.csv"), row.names = FALSE)
ctrl <- lmeControl(maxIter = 200, msMaxIter = 200, tolerance = 1e-10, msTol = 1e-12, niterEM = 100)
for (method in c("REML", "ML")) {
  for (random in c("intercept", "slope")) {
    re <- if (random == "intercept") ~ 1 | Subject else ~ Days | Subject
    m <- lme(Reaction ~ Days, random = re, weights = varIdent(form = ~ 1 | late), data = d, method = method,
             control = ctrl)
    name <- paste(tolower(method), random, sep = "_")
    tt <- summary(m)$tTable
    write_out(data.frame(term = rownames(tt), estimate = tt[, "Value"], std_error = tt[, "Std.Error"],
                         df = tt[, "DF"]), paste0(name, "_fixed.csv"))
    ratios <- coef(m$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
    write_out(data.frame(level = names(ratios), ratio = as.numeric(ratios),
                         sd = m$sigma * as.numeric(ratios)), paste0(name, "_varident.csv"))
    vc <- as.matrix(getVarCov(m))  # the random-effect covariance at full precision (VarCorr prints rounded text)
    sds <- sqrt(diag(vc))
    corr <- if (random == "slope") vc[1, 2] / (sds[1] * sds[2]) else NA_real_
    write_out(data.frame(logLik = as.numeric(logLik(m)), AIC = AIC(m), BIC = BIC(m), df = attr(logLik(m), "df"),
                         sigma = m$sigma, sd_intercept = sds[1], sd_slope = if (random == "slope") sds[2] else NA_real_,
                         cor = corr), paste0(name, "_glance.csv"))
  }
}
writeLines(c(paste("R", R.version$major, R.version$minor), paste("nlme", packageVersion("nlme"))),
           file.path(out_dir, "versions.txt"))
