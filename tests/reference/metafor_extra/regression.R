# Meta-regression, Egger's regression test (regtest) and trim and fill (trimfill) with every
# tau² method metafor's rma() offers and every test (z, knha, adhoc); Begg's rank test
# (ranktest) on large synthetic sets. Run: Rscript regression.R   (writes regression.json)
source("common.R")

coefs <- function(res) lapply(seq_along(res$beta), function(j) list(
  name = rownames(res$beta)[j], estimate = num(res$beta[j]), se = num(res$se[j]),
  statistic = num(res$zval[j]), p = num(res$pval[j]), ci_low = num(res$ci.lb[j]), ci_high = num(res$ci.ub[j])))

## meta-regression -------------------------------------------------------------------------------
MODELS <- list(list("bcg", "RR", "ablat"), list("bcg", "RR", c("ablat", "year")), list("bcg", "OR", "alloc"),
               list("molloy2014", "ZCOR", "meanage"), list("hackshaw1998", "GEN", "design"),
               list("curtis1998", "ROM", "method"))
metareg <- list()
for (m in MODELS) {
  es <- case_effects(m[[1]], m[[2]])
  f <- as.formula(paste("~", paste(m[[3]], collapse = " + ")))
  for (meth in METHODS) for (ci in names(TESTS)) {
    res <- suppressWarnings(rma(yi, vi, mods = f, data = es, method = meth, test = TESTS[[ci]],
                                control = c(ctrl(es$vi), list(tau2.max = 1e8))))
    metareg[[length(metareg) + 1]] <- list(
      case = m[[1]], measure = m[[2]], mods = m[[3]], method = meth, ci_method = ci,
      expected = list(k = res$k, coefficients = coefs(res), QM = num(res$QM), QM_df = res$QMdf[1],
                      QM_df2 = num(res$QMdf[2]), QM_p = num(res$QMp), tau2 = num(res$tau2),
                      I2 = num(res$I2), H2 = num(res$H2), R2 = num(res$R2), QE = num(res$QE),
                      QE_df = res$k - res$p, QE_p = num(res$QEp)))
  }
}

## Egger's test (regtest: model="rma", predictor="sei") and trim and fill -----------------------
SETS <- list(c("bcg", "RR"), c("egger2001", "OR"), c("hackshaw1998", "GEN"), c("molloy2014", "ZCOR"),
             c("normand1999", "MD"), c("nielweise2007", "OR"))
egger <- list(); tf <- list()
tf_row <- function(t) list(
  k0 = t$k0, side = t$side, k_total = t$k, estimate = num(t$beta), se = num(t$se),
  ci_low = num(t$ci.lb), ci_high = num(t$ci.ub), statistic = num(t$zval), p = num(t$pval),
  tau2 = num(t$tau2), test = t$test,
  filled = if (t$k0 > 0) lapply(which(t$fill), function(i) list(yi = num(t$yi[i]), vi = num(t$vi[i]))) else list())
for (s in SETS) {
  es <- case_effects(s[1], s[2])
  CTRL <- ctrl(es$vi)
  for (meth in METHODS) for (ci in names(TESTS)) {
    res <- suppressWarnings(rma(yi, vi, data = es, method = meth, test = TESTS[[ci]], control = CTRL))
    rt <- suppressWarnings(regtest(res))
    egger[[length(egger) + 1]] <- list(
      case = s[1], measure = s[2], method = meth, ci_method = ci,
      expected = list(statistic = num(rt$zval), p = num(rt$pval), df = num(rt$ddf),
                      limit_estimate = num(rt$est), limit_ci_low = num(rt$ci.lb),
                      limit_ci_high = num(rt$ci.ub)))
    # metamg refits the filled data with the analysis's own test; metafor 3.8-1's trimfill()
    # refits with its default test="z" unless test is passed on, so both are stored
    own <- suppressWarnings(trimfill(res, control = CTRL, test = TESTS[[ci]]))
    dflt <- suppressWarnings(trimfill(res, control = CTRL))
    tf[[length(tf) + 1]] <- list(case = s[1], measure = s[2], method = meth, ci_method = ci,
                                 expected = tf_row(own), metafor_default = tf_row(dflt))
  }
}

## Begg's rank test: exact p up to k = 170, NaN from 171 (R's exact Kendall distribution
## overflows), normal approximation with ties ------------------------------------------------
rank_sets <- list()
set.seed(11)
for (k in c(30, 120, 170, 171, 400, 3000)) {
  vi <- round(runif(k, 0.01, 0.5), if (k >= 400) 2 else 6)   # rounding makes ties for k >= 400
  yi <- rnorm(k, 0.2 * sqrt(vi), sqrt(vi + 0.02))
  rt <- suppressWarnings(ranktest(yi, vi))
  wi <- 1 / vi
  ystar <- (yi - sum(wi * yi) / sum(wi)) / sqrt(vi - 1 / sum(wi))
  approx <- suppressWarnings(cor.test(ystar, vi, method = "kendall", exact = FALSE))
  rank_sets[[length(rank_sets) + 1]] <- list(k = k, yi = yi, vi = vi, tau = num(rt$tau), p = num(rt$pval),
                                             p_normal = num(approx$p.value), ties = any(duplicated(vi)))
}

## Egger, Begg and fail-safe N on Mantel-Haenszel and Peto models: regtest() and ranktest() use
## the model's own per-study effects (escalc with drop00=TRUE; Peto's (O-E)/V) and, as the
## model's method is "FE", the common-effect regression with z tests
mh_bias <- list()
for (s in list(c("bcg", "OR"), c("bcg", "RR"), c("nielweise2007", "OR"), c("edge_zero", "RD"),
               c("collins1985a", "OR"))) {
  d <- read.csv(file.path(CASES, paste0(s[1], ".csv")), stringsAsFactors = FALSE)
  for (model in c("MH", "PETO")) {
    if (model == "PETO" && s[2] != "OR") next
    res <- suppressWarnings(if (model == "MH")
      rma.mh(ai = events_treatment, n1i = n_treatment, ci = events_control, n2i = n_control,
             measure = s[2], data = d)
    else rma.peto(ai = events_treatment, n1i = n_treatment, ci = events_control, n2i = n_control, data = d))
    rt <- regtest(res); lm <- regtest(res, model = "lm"); rk <- suppressWarnings(ranktest(res))
    fs <- fsn(yi = res$yi, vi = res$vi)
    mh_bias[[length(mh_bias) + 1]] <- list(
      case = s[1], measure = s[2], method = model, model_method = res$method,
      expected = list(
        egger = list(statistic = num(rt$zval), p = num(rt$pval), limit_estimate = num(rt$est),
                     limit_ci_low = num(rt$ci.lb), limit_ci_high = num(rt$ci.ub)),
        egger_lm = list(statistic = num(lm$zval), p = num(lm$pval), df = lm$ddf, limit_estimate = num(lm$est),
                        limit_ci_low = num(lm$ci.lb), limit_ci_high = num(lm$ci.ub)),
        begg = list(tau = num(rk$tau), p = num(rk$pval)),
        fsn = list(fsnum = fs$fsnum, p = num(fs$pval))))
  }
}

write_out(list(description = paste(
  "rma(yi, vi, mods=, method=M, test=T, control=CTRL); regtest(rma(..., method=M, test=T));",
  "trimfill(res, control=CTRL, test=T) [expected] and trimfill(res, control=CTRL) [metafor_default];",
  "ranktest(yi, vi) (exact=TRUE as metafor 3.8) and cor.test(..., exact=FALSE)"),
  metareg = metareg, egger = egger, trimfill = tf, ranktest = rank_sets, mh_bias = mh_bias),
  "regression.json")
