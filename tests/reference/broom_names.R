# Column names broom and broom.mixed give tidy(), glance() and augment(), for pcstats' to_broom().
#
# Run from the repository root:   Rscript tests/reference/broom_names.R [OUTDIR]
# Output:  OUTDIR (default tests/reference/broom_names) / names.csv (model, part, position, column),
#          glance_values.csv (glance() of the lm and lmer fits), lmer_augment.csv (.fixed) and versions.csv.
# Needs:   r-base-core, r-cran-broom, r-cran-broom.mixed, r-cran-lme4, r-cran-lmertest, r-cran-lavaan (Debian).
# Fits:    lm(mpg ~ wt, mtcars); lmer and lmerTest::lmer(Reaction ~ Days + (Days | Subject), sleepstudy);
#          glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), cbpp, binomial); sem('mpg ~ wt + hp', mtcars).

suppressPackageStartupMessages({
  library(broom)
  library(broom.mixed)
  library(lme4)
  library(lavaan)
})

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/broom_names"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

lm_fit <- lm(mpg ~ wt, data = mtcars)
lmer_fit <- lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)
lmertest_fit <- lmerTest::lmer(Reaction ~ Days + (Days | Subject), data = sleepstudy)  # df and p.value columns
glmer_fit <- glmer(cbind(incidence, size - incidence) ~ period + (1 | herd), data = cbpp, family = binomial)
sem_fit <- sem("mpg ~ wt + hp", data = mtcars)

tables <- list(
  lm = list(tidy = tidy(lm_fit, conf.int = TRUE), glance = glance(lm_fit), augment = augment(lm_fit)),
  lmer = list(tidy = tidy(lmer_fit, conf.int = TRUE), glance = glance(lmer_fit), augment = augment(lmer_fit),
              tidy_ran_vals = tidy(lmer_fit, effects = "ran_vals", conf.int = TRUE)),
  lmertest = list(tidy = tidy(lmertest_fit, conf.int = TRUE)),
  glmer = list(tidy = tidy(glmer_fit, conf.int = TRUE), glance = glance(glmer_fit)),
  lavaan = list(tidy = tidy(sem_fit, conf.int = TRUE), glance = glance(sem_fit))
)
rows <- do.call(rbind, lapply(names(tables), function(model) {
  do.call(rbind, lapply(names(tables[[model]]), function(part) {
    cols <- names(tables[[model]][[part]])
    data.frame(model = model, part = part, position = seq_along(cols), column = cols)
  }))
}))
write.csv(rows, file.path(out_dir, "names.csv"), row.names = FALSE)
# values of glance() for the lm and lmer fits, to check the statistics to_broom() adds (F test, deviance, df.residual)
values <- rbind(data.frame(model = "lm", column = names(glance(lm_fit)), value = sprintf("%.17g", unlist(glance(lm_fit)))),
                data.frame(model = "lmer", column = names(glance(lmer_fit)), value = sprintf("%.17g", unlist(glance(lmer_fit)))))
write.csv(values, file.path(out_dir, "glance_values.csv"), row.names = FALSE)
write.csv(cbind(sleepstudy, data.frame(.fixed = augment(lmer_fit)$.fixed)), file.path(out_dir, "lmer_augment.csv"), row.names = FALSE)
write.csv(data.frame(package = c("R", "broom", "broom.mixed", "lme4", "lavaan"),
                     version = c(as.character(getRversion()), as.character(packageVersion("broom")),
                                 as.character(packageVersion("broom.mixed")), as.character(packageVersion("lme4")),
                                 as.character(packageVersion("lavaan")))),
          file.path(out_dir, "versions.csv"), row.names = FALSE)
