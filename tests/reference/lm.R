# Reference values for the trend engines, from R's lm (stats), sandwich/lmtest (Newey-West)
# and cor.test (Mann-Kendall via Kendall's tau).
#
# Run from the repository root:   Rscript tests/reference/lm.R [OUTDIR]
# Input:   tests/reference/trend_input.csv (made by tests/reference/make_inputs.py)
# Output:  OUTDIR (default tests/reference/lm) / *.csv, numbers written with 17 significant digits.
# Needs:   r-base-core, r-cran-sandwich, r-cran-lmtest (Debian packages).

suppressPackageStartupMessages({
  library(sandwich)
  library(lmtest)
})

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/lm"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

d <- read.csv("tests/reference/trend_input.csv", stringsAsFactors = FALSE)
d <- d[d$variable == "NEE", ]

full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  df
}
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")

groups <- unique(d[, c("source", "region", "season")])
groups <- groups[order(groups$source, groups$region, groups$season), ]

tidy_rows <- list(); glance_rows <- list(); hac_rows <- list(); sen_rows <- list()
for (i in seq_len(nrow(groups))) {
  g <- groups[i, ]
  s <- d[d$source == g$source & d$region == g$region & d$season == g$season, ]
  s <- s[order(s$year), ]
  fit <- lm(value ~ year, data = s, na.action = na.omit)
  sm <- summary(fit)
  co <- sm$coefficients
  ci <- confint(fit, level = 0.95)
  tidy_rows[[i]] <- data.frame(source = g$source, region = g$region, season = g$season,
                               term = rownames(co), estimate = co[, 1], std_error = co[, 2],
                               statistic = co[, 3], p_value = co[, 4],
                               conf_low = ci[, 1], conf_high = ci[, 2])
  glance_rows[[i]] <- data.frame(source = g$source, region = g$region, season = g$season,
                                 nobs = nobs(fit), df_residual = fit$df.residual,
                                 r_squared = sm$r.squared, adj_r_squared = sm$adj.r.squared,
                                 sigma = sm$sigma, log_lik = as.numeric(logLik(fit)),
                                 aic = AIC(fit), bic = BIC(fit))
  # lag 3 with and without prewhitening, and pcstats' default rule floor(4 (n/100)^(2/9)) unprewhitened
  settings <- list(list(lag = 3, prewhite = FALSE, rule = "fixed"),
                   list(lag = 3, prewhite = TRUE, rule = "fixed"),
                   list(lag = floor(4 * (nobs(fit) / 100)^(2 / 9)), prewhite = FALSE, rule = "default"))
  for (st in settings) {
    V <- NeweyWest(fit, lag = st$lag, prewhite = st$prewhite, adjust = FALSE)
    ct <- coeftest(fit, vcov. = V)
    cc <- coefci(fit, vcov. = V, level = 0.95)
    hac_rows[[length(hac_rows) + 1]] <- data.frame(
      source = g$source, region = g$region, season = g$season, prewhite = st$prewhite, lag = st$lag, rule = st$rule,
      term = rownames(ct), estimate = ct[, 1], std_error = ct[, 2], statistic = ct[, 3],
      p_value = ct[, 4], conf_low = cc[, 1], conf_high = cc[, 2])
  }
  ok <- !is.na(s$value)
  x <- s$year[ok]; y <- s$value[ok]
  kt <- suppressWarnings(cor.test(x, y, method = "kendall", exact = FALSE, continuity = TRUE))
  pairs <- combn(length(x), 2)
  slopes <- (y[pairs[2, ]] - y[pairs[1, ]]) / (x[pairs[2, ]] - x[pairs[1, ]])
  sen_rows[[i]] <- data.frame(source = g$source, region = g$region, season = g$season,
                              sen_slope = median(slopes), mk_z = unname(kt$statistic),
                              mk_p = kt$p.value, kendall_tau = unname(kt$estimate))
}
write_out(do.call(rbind, tidy_rows), "trend_tidy.csv")
write_out(do.call(rbind, glance_rows), "trend_glance.csv")
write_out(do.call(rbind, hac_rows), "trend_hac.csv")
write_out(do.call(rbind, sen_rows), "trend_sen.csv")

# P vs NoP in one model per source and season: the interaction year:regionP is the difference.
inter_rows <- list()
pairs <- unique(d[, c("source", "season")])
pairs <- pairs[order(pairs$source, pairs$season), ]
for (i in seq_len(nrow(pairs))) {
  p <- pairs[i, ]
  s <- d[d$source == p$source & d$season == p$season & d$region %in% c("P", "NoP"), ]
  s$region <- factor(s$region, levels = c("NoP", "P"))
  fit <- lm(value ~ year * region, data = s, na.action = na.omit)
  co <- summary(fit)$coefficients
  ci <- confint(fit)
  inter_rows[[i]] <- data.frame(source = p$source, season = p$season, term = rownames(co),
                                estimate = co[, 1], std_error = co[, 2], statistic = co[, 3],
                                p_value = co[, 4], conf_low = ci[, 1], conf_high = ci[, 2],
                                r_squared = summary(fit)$r.squared)
}
write_out(do.call(rbind, inter_rows), "interaction_tidy.csv")

# No intercept: R^2 is uncentred. One model per source and season.
noint_rows <- list()
for (i in seq_len(nrow(pairs))) {
  p <- pairs[i, ]
  s <- d[d$source == p$source & d$season == p$season & d$region %in% c("P", "NoP"), ]
  s$region <- factor(s$region, levels = c("NoP", "P"))
  fit <- lm(value ~ 0 + region + year, data = s, na.action = na.omit)
  sm <- summary(fit)
  co <- sm$coefficients
  noint_rows[[i]] <- data.frame(source = p$source, season = p$season, term = rownames(co),
                                estimate = co[, 1], std_error = co[, 2], p_value = co[, 4],
                                r_squared = sm$r.squared, adj_r_squared = sm$adj.r.squared)
}
write_out(do.call(rbind, noint_rows), "no_intercept.csv")

# Kendall's tau-b and the Mann-Kendall z with ties in y (the fixtures have none).
y <- c(1, 2, 2, 3, 3, 3, 5, 4, 6, 6)
x <- 2001:2010
kt <- suppressWarnings(cor.test(x, y, method = "kendall", exact = FALSE, continuity = TRUE))
pairs_xy <- combn(length(x), 2)
write_out(data.frame(year = paste(x, collapse = " "), value = paste(y, collapse = " "),
                     sen_slope = median((y[pairs_xy[2, ]] - y[pairs_xy[1, ]]) / (x[pairs_xy[2, ]] - x[pairs_xy[1, ]])),
                     mk_z = unname(kt$statistic), mk_p = kt$p.value, kendall_tau = unname(kt$estimate)),
          "kendall_ties.csv")

versions <- data.frame(package = c("R", "stats", "sandwich", "lmtest"),
                       version = c(paste(R.version$major, R.version$minor, sep = "."),
                                   as.character(packageVersion("stats")),
                                   as.character(packageVersion("sandwich")),
                                   as.character(packageVersion("lmtest"))))
write.csv(versions, file.path(out_dir, "versions.csv"), row.names = FALSE)
cat("wrote", out_dir, "\n")
