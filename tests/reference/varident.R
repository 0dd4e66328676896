# Reference values for MixedSpec(dispersion = "~ f") (one residual SD per level of a factor), from
# nlme::lme(..., weights = varIdent(form = ~ 1 | f)) with REML and ML.
#
# Run from the repository root:   Rscript tests/reference/varident.R [OUTDIR]     (about a minute)
# Inputs:  (a) lme4's sleepstudy, with late = "late" for Days >= 5 and "early" otherwise (exported as data.csv);
#          (b) the paper's GLMM (models/glmm_trend_dispersion.toml) on tests/reference/trend_input.csv (made by
#              tests/reference/make_inputs.py): NEE of the six inversions in P and NoP per season, year_c = year
#              minus the mean of the distinct years fitted, period = the decade of year ("1970s" .. "2010s").
#              lme4's (1 + year_c | source) + (1 | source:region) + (1 | source:year) is written for nlme as one
#              grouping level, source, with a block-diagonal covariance: pdSymm(~ 1 + year_c) (the correlated
#              intercept and trend), pdIdent(~ region - 1) (one intercept per region, common variance: the
#              source:region term) and pdIdent(~ yearf - 1) (one per year: the source:year term).
# Output:  OUTDIR (default tests/reference/varident) / <model>_{fixed,varident,glance}.csv, numbers with 17
#          significant digits: fixed effects and SEs (summary(m)$tTable), the residual SD of each level of the
#          factor (sigma * varIdent ratio, nlme's reference level first), the random-effect SDs and
#          correlation, logLik, AIC, BIC and the number of parameters. <model> is {reml,ml}_{intercept,slope}
#          for (a) and paper_{reml,ml} for (b) (one row per season and level/term).
#          The paper's fits are weakly identified (variances at zero, correlations at +/-1): nlme's optimizer
#          stops at slightly different points (up to 0.005 log-likelihood units apart) or fails, depending on its
#          control settings, so each is fitted with three settings and the highest logLik is kept (column
#          control in paper_*_glance.csv).
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
# (b) the paper's GLMM with one residual SD per decade
regional <- read.csv("tests/reference/trend_input.csv", stringsAsFactors = FALSE)
regional <- regional[regional$variable == "NEE" & regional$source != "ensemble" & regional$region %in% c("P", "NoP") &
                     !is.na(regional$value), ]
controls <- list(
  nlminb = lmeControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12, niterEM = 100, returnObject = TRUE),
  nlminb_noEM = lmeControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12, niterEM = 0, returnObject = TRUE),
  optim = lmeControl(maxIter = 500, msMaxIter = 500, tolerance = 1e-10, msTol = 1e-12, niterEM = 100, opt = "optim",
                     optimMethod = "BFGS", returnObject = TRUE))
random <- list(source = pdBlocked(list(pdSymm(~ 1 + year_c), pdIdent(~ region - 1), pdIdent(~ yearf - 1))))
for (method in c("REML", "ML")) {
  fixed <- list(); varident <- list(); glance <- list()
  for (s in c("ANN", "EGS", "LGS", "WIN")) {
    d <- regional[regional$season == s, ]
    d$year_c <- d$year - mean(unique(d$year))
    d$period <- paste0(d$year %/% 10 * 10, "s")
    d$yearf <- factor(d$year)
    d$region <- factor(d$region, levels = c("NoP", "P"))
    best <- NULL; chosen <- NA_character_
    for (cn in names(controls)) {
      m <- tryCatch(suppressWarnings(lme(value ~ year_c * region, random = random, weights = varIdent(form = ~ 1 | period),
                                         data = d, method = method, control = controls[[cn]])),
                    error = function(e) NULL)
      if (!is.null(m) && (is.null(best) || logLik(m) > logLik(best))) { best <- m; chosen <- cn }
    }
    m <- best
    tt <- summary(m)$tTable
    fixed[[s]] <- data.frame(season = s, term = rownames(tt), estimate = tt[, "Value"], std_error = tt[, "Std.Error"])
    ratios <- coef(m$modelStruct$varStruct, unconstrained = FALSE, allCoef = TRUE)
    varident[[s]] <- data.frame(season = s, level = names(ratios), ratio = as.numeric(ratios), sd = m$sigma * as.numeric(ratios))
    vc <- as.matrix(m$modelStruct$reStruct[[1]]) * m$sigma^2  # blocks: intercept, year_c | NoP, P | years
    sds <- sqrt(diag(vc))
    glance[[s]] <- data.frame(season = s, logLik = as.numeric(logLik(m)), AIC = AIC(m), BIC = BIC(m),
                              df = attr(logLik(m), "df"), nobs = nrow(d), sigma = m$sigma, sd_intercept = sds[1],
                              sd_slope = sds[2], cor = vc[1, 2] / (sds[1] * sds[2]), sd_region = sds[3],
                              sd_year = sds[5], control = chosen)
  }
  name <- paste0("paper_", tolower(method))
  write_out(do.call(rbind, fixed), paste0(name, "_fixed.csv"))
  write_out(do.call(rbind, varident), paste0(name, "_varident.csv"))
  write_out(do.call(rbind, glance), paste0(name, "_glance.csv"))
}
writeLines(c(paste("R", R.version$major, R.version$minor), paste("nlme", packageVersion("nlme"))),
           file.path(out_dir, "versions.txt"))
