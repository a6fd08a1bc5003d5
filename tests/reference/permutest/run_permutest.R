# metafor's permutation test for the meta-regressions checked in tests/test_permutation.py.
# Run from the repository root:  Rscript tests/reference/permutest/run_permutest.R
# (R 4.2.2, metafor 3.8-1; output committed as permutest.json). Not run by the tests or CI.
suppressPackageStartupMessages(library(metafor))
out <- list()
d <- read.csv("tests/reference/cases/bcg.csv")
es <- escalc(measure="RR", ai=events_treatment, n1i=n_treatment, ci=events_control, n2i=n_control, data=d)
for (test in c("z", "knha")) {
  res <- rma(yi, vi, mods = ~ ablat, data=es, method="REML", test=test)
  set.seed(20261121)
  pt <- permutest(res, iter=10000)
  out[[paste0("bcg_RR_ablat_", test)]] <- list(iter=10000, seed=20261121,
    pval=unname(pt$pval), QMp=pt$QMp, zval=unname(pt$zval))
}
m <- read.csv("tests/reference/cases/molloy2014.csv")
em <- escalc(measure="ZCOR", ri=ri, ni=ni, data=m)
res <- rma(yi, vi, mods = ~ meanage, data=em, method="REML", test="z")
set.seed(20261121)
pt <- permutest(res, iter=10000)
out[["molloy2014_ZCOR_meanage_z"]] <- list(iter=10000, seed=20261121, pval=unname(pt$pval), QMp=pt$QMp,
                                          zval=unname(pt$zval))
writeLines(jsonlite::toJSON(out, digits=NA, auto_unbox=TRUE, pretty=TRUE),
           "tests/reference/permutest/permutest.json")
