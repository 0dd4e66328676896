# Reference values for the panel engine, from R's plm: the fixture towers' seasonal NEE on AirT,
# site-years with site fixed effects (effect = "individual") and site + year effects ("twoways"),
# one within regression per season (EGS, LGS).
#
# Run from the repository root:   Rscript tests/reference/plm.R [OUTDIR]
# Input:   tests/reference/panel_input.csv (made by build_panel() in tests/reference/make_inputs.py)
# Output:  OUTDIR (default tests/reference/plm) / panel_tidy.csv, panel_glance.csv, versions.csv, numbers
#          written with 17 significant digits.
# Needs:   r-base-core, r-cran-plm, r-cran-lmtest, r-cran-sandwich.
#
# panel_tidy.csv has one row per season, effect, vcov and term; vcov is
#   sss        vcovHC(fit, method = "arellano", cluster = "group", type = "sss")  (pcstats cov_type="clustered")
#   HC0        vcovHC(fit, method = "arellano", cluster = "group", type = "HC0")  (no small-sample factor)
#   unadjusted vcov(fit), sigma^2 = RSS / df.residual(fit)                        (pcstats cov_type="unadjusted")
#   lsdv_HC1   sandwich::vcovHC(lm(NEE ~ AirT + factor(site) [+ factor(year)]), type = "HC1"), the AirT
#              element: White's estimator with n / (n - k - effects)           (pcstats cov_type="robust")
# statistic and p_value are lmtest::coeftest(fit, vcov = V): t with df.residual(fit) degrees of freedom.

suppressPackageStartupMessages({
  library(plm)
  library(lmtest)
  library(sandwich)
})

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/plm"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

d <- read.csv("tests/reference/panel_input.csv", stringsAsFactors = FALSE)
full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  df
}
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")

tidy_rows <- list(); glance_rows <- list()
for (season in c("EGS", "LGS")) {
  s <- d[d$season == season, ]
  p <- pdata.frame(s, index = c("site", "year"))
  for (effect in c("individual", "twoways")) {
    fit <- plm(NEE ~ AirT, data = p, model = "within", effect = effect)
    lsdv <- if (effect == "individual") lm(NEE ~ AirT + factor(site), data = s) else
      lm(NEE ~ AirT + factor(site) + factor(year), data = s)
    vcovs <- list(
      sss = vcovHC(fit, method = "arellano", cluster = "group", type = "sss"),
      HC0 = vcovHC(fit, method = "arellano", cluster = "group", type = "HC0"),
      unadjusted = vcov(fit),
      lsdv_HC1 = sandwich::vcovHC(lsdv, type = "HC1")["AirT", "AirT", drop = FALSE]
    )
    for (v in names(vcovs)) {
      co <- coeftest(fit, vcov = vcovs[[v]])
      tidy_rows[[length(tidy_rows) + 1]] <- data.frame(
        season = season, effect = effect, vcov = v, term = rownames(co), estimate = co[, 1], std_error = co[, 2],
        statistic = co[, 3], p_value = co[, 4])
    }
    pooled <- plm(NEE ~ AirT, data = p, model = "pooling")
    ftest <- pFtest(fit, pooled)
    dims <- pdim(fit)
    glance_rows[[length(glance_rows) + 1]] <- data.frame(
      season = season, effect = effect, nobs = nobs(fit), n_entities = dims$nT$n, n_time = dims$nT$T,
      df_residual = df.residual(fit), r_squared = as.numeric(r.squared(fit)),
      f_pooled = as.numeric(ftest$statistic), f_pooled_df1 = as.numeric(ftest$parameter[1]),
      f_pooled_df2 = as.numeric(ftest$parameter[2]), f_pooled_p = ftest$p.value)
  }
}
write_out(do.call(rbind, tidy_rows), "panel_tidy.csv")
write_out(do.call(rbind, glance_rows), "panel_glance.csv")
write_out(data.frame(package = c("R", "plm", "lmtest", "sandwich"),
                     version = c(paste(R.version$major, R.version$minor, sep = "."), as.character(packageVersion("plm")),
                                 as.character(packageVersion("lmtest")), as.character(packageVersion("sandwich")))),
          "versions.csv")
