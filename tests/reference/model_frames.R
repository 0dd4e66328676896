# Reference fits of plain data frames: R's own example data sets with lm, lme4/lmerTest and lavaan.
#
#   Rscript tests/reference/model_frames.R        (from the repository root; a few seconds)
#
# Writes tests/reference/model_frames/:
#   data/<name>.csv      the data sets (mtcars with its row names as `model`, airquality with NA as
#                        empty cells, sleepstudy, Pastes, Penicillin, cake, cbpp, Orthodont,
#                        HolzingerSwineford1939, PoliticalDemocracy, warpbreaks; crossed and slopes,
#                        simulated here with set.seed, large enough for the sparse mixed-model core)
#   lm_tidy.csv          model, term, estimate, std_error, statistic, p_value (R's names(coef(fit)))
#   lm_glance.csv        model, nobs, df_residual, r_squared, adj_r_squared, sigma, log_lik, aic, bic, n_dropped
#   lmer_fixed.csv       model, term, estimate, std_error, df (Satterthwaite), statistic, p_value
#   lmer_ranef.csv       model, group, term1, term2, kind ("sd" / "cor"), value (as.data.frame(VarCorr(fit)))
#   lmer_glance.csv      model, nobs, reml, log_lik, aic, bic, crit (REMLcrit or deviance), singular, ngrps
#   lavaan_models.csv    model, syntax
#   lavaan_est.csv       model, lhs, op, rhs, group (the group column's value; empty for one group), est, se,
#                        z, pvalue, std_all
#   lavaan_fit.csv       model, chisq, df, pvalue, cfi, tli, rmsea, srmr, aic, bic, logl, npar, ntotal
#   versions.csv         R and package versions
# Numbers are written with 17 significant digits. The Python tests (tests/engines/test_model_frames.py)
# read these files; they never run R.
suppressPackageStartupMessages({
  library(lme4)
  library(lmerTest)
  library(lavaan)
})
options(digits = 17)
out <- file.path("tests", "reference", "model_frames")
dir.create(file.path(out, "data"), recursive = TRUE, showWarnings = FALSE)
put <- function(x, name) write.csv(x, file.path(out, name), row.names = FALSE, na = "")
num <- function(x) ifelse(is.na(x), NA, sprintf("%.17g", x))

# ---------------------------------------------------------------------------------------------- data
mt <- cbind(model = rownames(mtcars), mtcars)
put(mt, "data/mtcars.csv")
put(airquality, "data/airquality.csv")
put(sleepstudy, "data/sleepstudy.csv")
put(Pastes, "data/Pastes.csv")
put(Penicillin, "data/Penicillin.csv")
cake2 <- cake
# temperature is an ordered factor in lme4's cake; here an unordered factor with levels 175 ... 225,
# as pandas reads the CSV (integers, made a factor by factor(temperature) in the formula)
cake2$temperature <- as.integer(as.character(cake$temperature))
put(cake2, "data/cake.csv")
put(cbpp, "data/cbpp.csv")
put(warpbreaks, "data/warpbreaks.csv")
put(HolzingerSwineford1939, "data/HolzingerSwineford1939.csv")
put(PoliticalDemocracy, "data/PoliticalDemocracy.csv")
# two designs large enough for the sparse core of the default mixed engine (>= 400 random effects),
# simulated with R's own seeded generator
set.seed(20261205)
n <- 6000; a <- sample(300, n, TRUE); b <- sample(150, n, TRUE); x <- rnorm(n)
crossed <- data.frame(y = 0.5 * x + rnorm(300)[a] + rnorm(150, sd = 0.7)[b] + rnorm(n), x = x, a = a, b = b)
put(crossed, "data/crossed.csv")
g <- rep(seq_len(250), each = 8); t <- rep(0:7, 250)
slopes <- data.frame(y = 1 + 0.3 * t + rnorm(250, sd = 2)[g] + rnorm(250, sd = 0.5)[g] * t + rnorm(2000), t = t,
                     g = sprintf("g%03d", g))
put(slopes, "data/slopes.csv")
has_nlme <- requireNamespace("nlme", quietly = TRUE)
if (has_nlme) {
  ortho <- as.data.frame(nlme::Orthodont)
  ortho$Subject <- as.character(ortho$Subject)
  ortho$Sex <- as.character(ortho$Sex)
  put(ortho, "data/Orthodont.csv")
}

# ---------------------------------------------------------------------------------------------- lm
warp <- warpbreaks
warp$tension <- factor(warp$tension, levels = c("L", "M", "H"))
lm_models <- list(
  mtcars_interaction = lm(mpg ~ wt * hp + factor(cyl), mtcars),
  mtcars_poly = lm(mpg ~ poly(hp, 2) + factor(am), mtcars),
  mtcars_power = lm(mpg ~ (wt + hp + qsec)^2, mtcars),
  mtcars_I = lm(mpg ~ wt + I(wt^2) + log(hp), mtcars),
  mtcars_sum = lm(mpg ~ C(factor(cyl), sum) + wt, mtcars),
  mtcars_helmert = lm(mpg ~ C(factor(gear), helmert) + wt, mtcars),
  mtcars_nointercept = lm(mpg ~ 0 + factor(cyl) + wt, mtcars),
  mtcars_scale = lm(mpg ~ scale(wt) + sqrt(disp), mtcars),
  mtcars_offset = lm(mpg ~ wt + offset(0.5 * hp), mtcars),
  mtcars_weights = lm(mpg ~ wt + hp, mtcars, weights = cyl),
  airquality_na = lm(Ozone ~ Solar.R + Temp, airquality),
  airquality_month = lm(log(Ozone) ~ Temp + Wind + factor(Month), airquality),
  warpbreaks_ordered = lm(breaks ~ wool + ordered(tension), warp),
  mtcars_dot = lm(mpg ~ ., mtcars[, c("mpg", "wt", "hp", "qsec")])
)
tidy <- do.call(rbind, lapply(names(lm_models), function(m) {
  s <- coef(summary(lm_models[[m]]))
  data.frame(model = m, term = rownames(s), estimate = num(s[, 1]), std_error = num(s[, 2]),
             statistic = num(s[, 3]), p_value = num(s[, 4]))
}))
put(tidy, "lm_tidy.csv")
glance <- do.call(rbind, lapply(names(lm_models), function(m) {
  f <- lm_models[[m]]
  s <- summary(f)
  data.frame(model = m, nobs = nobs(f), df_residual = f$df.residual, r_squared = num(s$r.squared),
             adj_r_squared = num(s$adj.r.squared), sigma = num(s$sigma), log_lik = num(as.numeric(logLik(f))),
             aic = num(AIC(f)), bic = num(BIC(f)), n_dropped = length(f$na.action))
}))
put(glance, "lm_glance.csv")

# ---------------------------------------------------------------------------------------------- lme4
lmer_models <- list(
  sleep_slopes = lmer(Reaction ~ Days + (Days | Subject), sleepstudy),
  sleep_uncorrelated = lmer(Reaction ~ Days + (Days || Subject), sleepstudy),
  sleep_ml = lmer(Reaction ~ Days + (Days | Subject), sleepstudy, REML = FALSE),
  pastes_nested = lmer(strength ~ 1 + (1 | batch/cask), Pastes),
  penicillin_crossed = lmer(diameter ~ 1 + (1 | plate) + (1 | sample), Penicillin),
  cake_factor = lmer(angle ~ recipe + factor(temperature) + (1 | recipe:replicate), cake2),
  crossed_sparse = lmer(y ~ x + (1 | a) + (1 | b), crossed),
  slopes_sparse = lmer(y ~ t + (t | g), slopes)
)
if (has_nlme) lmer_models$orthodont_interaction <- lmer(distance ~ age * Sex + (1 | Subject), ortho)
fixed <- do.call(rbind, lapply(names(lmer_models), function(m) {
  s <- coef(summary(lmer_models[[m]]))  # lmerTest: Satterthwaite df
  data.frame(model = m, term = rownames(s), estimate = num(s[, "Estimate"]), std_error = num(s[, "Std. Error"]),
             df = num(s[, "df"]), statistic = num(s[, "t value"]), p_value = num(s[, "Pr(>|t|)"]))
}))
put(fixed, "lmer_fixed.csv")
ranef <- do.call(rbind, lapply(names(lmer_models), function(m) {
  vc <- as.data.frame(VarCorr(lmer_models[[m]]))
  grp <- sub("\\.[0-9]+$", "", vc$grp)  # (x || g) names its terms Subject, Subject.1
  data.frame(model = m, group = grp, term1 = ifelse(is.na(vc$var1), "", vc$var1),
             term2 = ifelse(is.na(vc$var2), "", vc$var2), kind = ifelse(is.na(vc$var2), "sd", "cor"),
             value = num(vc$sdcor))
}))
put(ranef, "lmer_ranef.csv")
lglance <- do.call(rbind, lapply(names(lmer_models), function(m) {
  f <- lmer_models[[m]]
  ll <- logLik(f)
  data.frame(model = m, nobs = nobs(f), reml = isREML(f), log_lik = num(as.numeric(ll)), aic = num(AIC(f)),
             bic = num(BIC(f)), crit = num(if (isREML(f)) REMLcrit(f) else deviance(f)), singular = isSingular(f),
             ngrps = paste(names(ngrps(f)), ngrps(f), sep = "=", collapse = ";"))
}))
put(lglance, "lmer_glance.csv")

# ---------------------------------------------------------------------------------------------- lavaan
hs_model <- "visual =~ x1 + x2 + x3\ntextual =~ x4 + x5 + x6\nspeed =~ x7 + x8 + x9"
pd_model <- paste(
  "ind60 =~ x1 + x2 + x3", "dem60 =~ y1 + y2 + y3 + y4", "dem65 =~ y5 + y6 + y7 + y8",
  "dem60 ~ ind60", "dem65 ~ ind60 + dem60",
  "y1 ~~ y5", "y2 ~~ y4 + y6", "y3 ~~ y7", "y4 ~~ y8", "y6 ~~ y8", sep = "\n")
lav <- list(
  hs_cfa = cfa(hs_model, data = HolzingerSwineford1939),
  polidem_sem = sem(pd_model, data = PoliticalDemocracy),
  hs_multigroup = cfa(hs_model, data = HolzingerSwineford1939, group = "school")
)
put(data.frame(model = c("hs_cfa", "polidem_sem", "hs_multigroup"), syntax = c(hs_model, pd_model, hs_model)),
    "lavaan_models.csv")
est <- do.call(rbind, lapply(names(lav), function(m) {
  p <- parameterEstimates(lav[[m]], standardized = TRUE)
  p$group <- if (is.null(p$group)) "" else lavInspect(lav[[m]], "group.label")[p$group]  # the group's value
  data.frame(model = m, lhs = p$lhs, op = p$op, rhs = p$rhs, group = p$group, est = num(p$est), se = num(p$se),
             z = num(p$z), pvalue = num(p$pvalue), std_all = num(p$std.all))
}))
put(est, "lavaan_est.csv")
measures <- c("chisq", "df", "pvalue", "cfi", "tli", "rmsea", "srmr", "aic", "bic", "logl", "npar", "ntotal")
fits <- do.call(rbind, lapply(names(lav), function(m) {
  v <- fitMeasures(lav[[m]], measures)
  data.frame(model = m, t(setNames(num(as.numeric(v)), measures)))
}))
put(fits, "lavaan_fit.csv")
put(data.frame(package = c("R", "lme4", "lmerTest", "lavaan", "nlme"),
               version = c(paste(R.version$major, R.version$minor, sep = "."), as.character(packageVersion("lme4")),
                           as.character(packageVersion("lmerTest")), as.character(packageVersion("lavaan")),
                           if (has_nlme) as.character(packageVersion("nlme")) else "")),
    "versions.csv")
