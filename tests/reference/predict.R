# Reference predictions for pcstats' Results.predict() from R's predict.lm and lme4's predict.merMod.
#
# Run from the repository root:   Rscript tests/reference/predict.R [OUTDIR]
# Output:  OUTDIR (default tests/reference/predict) / *.csv, numbers with 17 significant digits.
# Needs:   r-base-core, r-cran-lme4 (Debian).
#
# Data are R's own: mtcars (lm, with a factor, a data-dependent transform and new rows holding only
# some factor levels; and one lm per transmission, am, for grouped fits) and lme4's sleepstudy
# (lmer with a correlated random slope; predictions with and without random effects and for a new
# subject).

suppressPackageStartupMessages(library(lme4))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/predict"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)
full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  df
}
write_out <- function(df, name) write.csv(full(df), file.path(out_dir, name), row.names = FALSE, na = "")

# ---- lm on mtcars: a factor (pcstats: factor(cyl)), poly() (its coefficients come from the fitted data) and log()
cars <- data.frame(mpg = mtcars$mpg, wt = mtcars$wt, hp = mtcars$hp, disp = mtcars$disp,
                   cyl = factor(mtcars$cyl), am = mtcars$am)
write_out(cars, "mtcars.csv")
fit <- lm(mpg ~ wt + cyl + poly(hp, 2) + log(disp), data = cars)
new <- data.frame(wt = c(2.5, 3.0, 3.5, 4.0), hp = c(90, 120, 150, 200), disp = c(120, 160, 250, 350),
                  cyl = factor(c("6", "6", "4", "6"), levels = levels(cars$cyl)))  # no "8": levels come from the fit
write_out(cbind(new, fitted = unname(predict(fit, newdata = new))), "lm_newdata.csv")
write_out(data.frame(fitted = unname(predict(fit))), "lm_fitted.csv")

# ---- one lm per transmission (pcstats: by = "am")
new_am <- data.frame(am = c(0, 0, 1, 1), wt = c(2.5, 3.5, 2.0, 3.0), hp = c(100, 180, 90, 130))
pred_am <- numeric(nrow(new_am))
for (a in c(0, 1)) {
  f <- lm(mpg ~ wt + hp, data = cars[cars$am == a, ])
  rows <- new_am$am == a
  pred_am[rows] <- predict(f, newdata = new_am[rows, ])
}
write_out(cbind(new_am, fitted = pred_am), "lm_by_am.csv")

# ---- lmer on sleepstudy
d <- lme4::sleepstudy
write_out(data.frame(Reaction = d$Reaction, Days = d$Days, Subject = as.character(d$Subject)), "sleepstudy.csv")
m <- lmer(Reaction ~ Days + (Days | Subject), data = d, REML = TRUE)
new_s <- data.frame(Days = c(0, 5, 9, 2, 7, 4), Subject = c("308", "308", "309", "372", "999", "999"))
write_out(cbind(new_s, population = unname(predict(m, newdata = new_s, re.form = NA)),
                new_levels = unname(predict(m, newdata = new_s, allow.new.levels = TRUE))), "lmer_newdata.csv")
write_out(data.frame(conditional = unname(predict(m)), population = unname(predict(m, re.form = NA))), "lmer_fitted.csv")
write_out(data.frame(package = c("R", "lme4"), version = c(as.character(getRversion()),
                                                           as.character(packageVersion("lme4")))), "versions.csv")
