# Export lme4's InstEval (73,421 rows; it ships with r-cran-lme4) for bench/mixed.py:
#   Rscript bench/insteval.R out.csv
# Columns: y, s (student), d (instructor), service (0/1), as in lmer(y ~ service + (1 | s) + (1 | d), InstEval).
suppressPackageStartupMessages(library(lme4))
out <- commandArgs(trailingOnly = TRUE)[1]
write.csv(data.frame(y = InstEval$y, s = as.character(InstEval$s), d = as.character(InstEval$d),
                     service = as.character(InstEval$service)), out, row.names = FALSE)
