# rma.mh and rma.peto on degenerate 2x2 tables: no events, only events, a group without events
# (or with only events) in every study, double zeros, an empty group. Ported from metafor's
# tests/testthat/test_misc_handling_of_edge_cases_due_to_zeros.r and extended.
# Run: Rscript mh_peto_edge.R   (writes mh_peto_edge.json)
source("common.R")

SETS <- list(
  never              = list(ai = c(0, 0, 0, 0), n1i = c(10, 15, 20, 25), ci = c(0, 0, 0, 0), n2i = c(10, 10, 30, 20)),
  always             = list(ai = c(10, 15, 20, 25), n1i = c(10, 15, 20, 25), ci = c(10, 10, 30, 20), n2i = c(10, 10, 30, 20)),
  always_one_study   = list(ai = 10, n1i = 10, ci = 10, n2i = 10),
  never_treatment    = list(ai = c(0, 0, 0), n1i = c(10, 15, 20), ci = c(3, 4, 5), n2i = c(10, 10, 30)),
  never_control      = list(ai = c(3, 4, 5), n1i = c(10, 15, 20), ci = c(0, 0, 0), n2i = c(10, 10, 30)),
  always_treatment   = list(ai = c(10, 15, 20), n1i = c(10, 15, 20), ci = c(3, 4, 5), n2i = c(10, 10, 30)),
  always_control     = list(ai = c(3, 4, 5), n1i = c(10, 15, 20), ci = c(10, 10, 30), n2i = c(10, 10, 30)),
  all_or_nothing     = list(ai = c(10, 0), n1i = c(10, 12), ci = c(8, 0), n2i = c(8, 9)),
  double_zeros_mixed = list(ai = c(0, 10, 3), n1i = c(10, 10, 20), ci = c(0, 10, 5), n2i = c(12, 10, 30)),
  empty_group        = list(ai = c(0, 3, 4), n1i = c(0, 10, 20), ci = c(2, 5, 6), n2i = c(10, 10, 30)))

fit_one <- function(s, model, measure) {
  warn <- character(0)
  res <- tryCatch(withCallingHandlers(
    if (model == "MH") rma.mh(ai = s$ai, n1i = s$n1i, ci = s$ci, n2i = s$n2i, measure = measure)
    else rma.peto(ai = s$ai, n1i = s$n1i, ci = s$ci, n2i = s$n2i),
    warning = function(w) { warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") }),
    error = function(e) e)
  if (inherits(res, "error")) return(list(error = conditionMessage(res), warnings = warn))
  out <- list(estimate = num(coef(res)), se = num(res$se), statistic = num(res$zval), p = num(res$pval),
              ci_low = num(res$ci.lb), ci_high = num(res$ci.ub), Q = num(res$QE), Q_p = num(res$QEp),
              I2 = num(res$I2), H2 = num(res$H2), k = res$k, k_yi = res$k.yi, warnings = warn,
              estimate_is_na = is.na(coef(res)))
  if (measure == "OR" && model == "MH") out$tarone <- num(res$TA)
  out
}
out <- list()
for (nm in names(SETS)) for (model in c("MH", "PETO")) for (measure in c("OR", "RR", "RD")) {
  if (model == "PETO" && measure != "OR") next
  out[[length(out) + 1]] <- c(list(set = nm, method = model, measure = measure, tables = SETS[[nm]]),
                              fit_one(SETS[[nm]], model, measure))
}
write_out(list(description = paste(
  "rma.mh(ai, n1i, ci, n2i, measure) and rma.peto(...) with default arguments on degenerate tables;",
  "'error' holds metafor's message when it stops; estimate null = NA"), fits = out), "mh_peto_edge.json")
