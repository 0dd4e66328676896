# Reference parameter tables for pcstats.specs.lavaan_syntax, from lavaan's own parser.
#
# Run from the repository root:   Rscript tests/reference/lavaan_partable.R [OUTDIR]
# Output:  OUTDIR (default tests/reference/lavaan_partable) /
#            <name>.lav           the model syntax, exactly as given to lavaan
#            <name>.csv           parTable(sem(model, data, do.fit = FALSE)): the table sem() builds
#                                 with its defaults, before estimation (start/est are lavaan's starting
#                                 values; pcstats leaves them NaN)
#            observed.csv         the data columns each model saw (model, observed), its number of groups
#                                 and its fixed.x
#            versions.csv         R and lavaan versions
# Needs:   r-base-core r-cran-lavaan (Debian 12: lavaan 0.6-14).

suppressPackageStartupMessages(library(lavaan))

args <- commandArgs(trailingOnly = TRUE)
out_dir <- if (length(args) >= 1) args[1] else "tests/reference/lavaan_partable"
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

full <- function(df) {
  for (col in names(df)) if (is.double(df[[col]])) df[[col]] <- sprintf("%.17g", df[[col]])
  df
}

# The paper's LGS path model, on data simulated here (only the column names matter to the table).
set.seed(1)
n <- 200
flux <- data.frame(airt = rnorm(n), par = rnorm(n), sm = rnorm(n), tc = rnorm(n), p = rnorm(n),
                   pregpp = rnorm(n))
flux$gpp <- with(flux, 0.5 * airt + 0.3 * par + 0.2 * sm - 0.2 * tc + 0.1 * p + rnorm(n))
flux$ter <- with(flux, 0.4 * pregpp + 0.3 * airt + 0.1 * p + 0.6 * gpp + rnorm(n))
flux$nee <- with(flux, -0.8 * gpp + 0.7 * ter + rnorm(n))
flux$kind <- rep(c("EC", "TRENDY"), length.out = n)
generic <- as.data.frame(matrix(rnorm(n * 10), n, 10,
                                dimnames = list(NULL, c("x", "z", "w", "x1", "x2", "x3", "x4", "y1", "y2", "y3"))))

models <- list(
  political_democracy = list(data = PoliticalDemocracy, group = NULL, syntax = "
  # measurement model
    ind60 =~ x1 + x2 + x3
    dem60 =~ y1 + y2 + y3 + y4
    dem65 =~ y5 + y6 + y7 + y8
  # regressions
    dem60 ~ ind60
    dem65 ~ ind60 + dem60
  # residual correlations
    y1 ~~ y5
    y2 ~~ y4 + y6
    y3 ~~ y7
    y4 ~~ y8
    y6 ~~ y8
"),
  holzinger_swineford = list(data = HolzingerSwineford1939, group = NULL, syntax = "
visual  =~ x1 + x2 + x3
textual =~ x4 + x5 + x6
speed   =~ x7 + x8 + x9
"),
  path_lgs = list(data = flux, group = NULL, syntax = "gpp ~ airt + par + sm + tc + p
 ter ~ pregpp + airt + p + gpp
 nee ~ gpp + ter"),
  path_lgs_random_x = list(data = flux, group = NULL, fixed.x = FALSE, syntax = "gpp ~ airt + par + sm + tc + p
 ter ~ pregpp + airt + p + gpp
 nee ~ gpp + ter"),
  labels_defined = list(data = flux, group = NULL, syntax = "ter ~ b*gpp; gpp ~ a*airt; ind := a*b"),
  # modifiers, comments, continuation lines, lhs expansion, an exogenous latent and two endogenous ones
  # (auto.cov.y), an intercept (meanstructure), constraints
  modifiers = list(data = HolzingerSwineford1939, group = NULL, syntax = "
visual =~ NA*x1 + x2 + start(0.8)*x3   ! free first loading
textual =~ x4 + 0.9*x5 + l6*x6 ; speed =~ x7 +
   x8 + x9
visual ~~ 1*visual
textual + speed ~ ageyr
x7 ~~ x8
x1 ~ a1*1
l6 > 0
l6 == 2*a1
sq := (l6 + 1)^2 - a1/2   # defined parameter
"),
  # two groups: a label per group, one shared label (becomes an equality constraint), a fixed value
  multigroup = list(data = flux, group = "kind", syntax = "
gpp ~ c(a1, a2)*airt + par + 1
ter ~ b*gpp + c(0.5, NA)*pregpp
nee ~ gpp + ter
ab1 := a1*b
"),
  # a single-indicator latent (its residual variance fixed to 0), '~ 0' (intercept fixed to 0), quoted,
  # label() and equal() labels, '?' starts, lhs expansion, a covariance of two otherwise unused variables
  edge_cases = list(data = generic, group = NULL, syntax = "
f =~ x1 + x2 + x3
g =~ x4
f ~~ 0*g
y1 ~ 0 + \"lab\"*f + label(\"q\")*x
y2 + y3 ~ y1 + 0.3?x
y3 ~~ equal(\"q\")*y2
w ~~ z
")
)

observed <- list()
for (name in names(models)) {
  m <- models[[name]]
  writeLines(m$syntax, file.path(out_dir, paste0(name, ".lav")), sep = "")
  fixed_x <- if (is.null(m$fixed.x)) TRUE else m$fixed.x
  fit <- sem(m$syntax, data = m$data, group = m$group, fixed.x = fixed_x, do.fit = FALSE)
  write.csv(full(parTable(fit)), file.path(out_dir, paste0(name, ".csv")), row.names = FALSE, na = "")
  cols <- setdiff(names(m$data), m$group)
  observed[[name]] <- data.frame(model = name, observed = cols, n_groups = lavInspect(fit, "ngroups"),
                                 fixed_x = fixed_x)
}
write.csv(do.call(rbind, observed), file.path(out_dir, "observed.csv"), row.names = FALSE)
write.csv(data.frame(package = c("R", "lavaan"),
                     version = c(as.character(getRversion()), as.character(packageVersion("lavaan")))),
          file.path(out_dir, "versions.csv"), row.names = FALSE)
