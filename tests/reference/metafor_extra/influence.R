# influence() under every tau² method and every test (z, knha, adhoc), and rstudent() of
# Mantel-Haenszel and Peto models. Run: Rscript influence.R   (writes influence.json)
source("common.R")

SETS <- list(c("bcg", "RR"), c("egger2001", "OR"), c("normand1999", "MD"), c("molloy2014", "ZCOR"),
             c("hackshaw1998", "GEN"))
rows <- list()
for (s in SETS) {
  es <- case_effects(s[1], s[2])
  for (m in METHODS) for (ci in names(TESTS)) {
    res <- suppressWarnings(rma(yi, vi, data = es, method = m, test = TESTS[[ci]], slab = study,
                                control = ctrl(es$vi)))
    inf <- influence(res)
    rows[[length(rows) + 1]] <- list(
      case = s[1], measure = s[2], method = m, ci_method = ci,
      rows = lapply(seq_len(res$k), function(i) list(
        study = es$study[i], rstudent = num(inf$inf$rstudent[i]), dffits = num(inf$inf$dffits[i]),
        cook_d = num(inf$inf$cook.d[i]), cov_r = num(inf$inf$cov.r[i]),
        tau2_del = num(inf$inf$tau2.del[i]), QE_del = num(inf$inf$QE.del[i]),
        hat = num(inf$inf$hat[i]), weight = num(inf$inf$weight[i]),
        dfbetas = num(inf$dfbs$intrcpt[i]), influential = inf$is.infl[i])))
  }
}

# Mantel-Haenszel and Peto: rstudent() plus the leave-one-out fits it is built from
mhpeto <- list()
for (s in list(c("bcg", "OR"), c("bcg", "RR"), c("bcg", "RD"), c("nielweise2007", "OR"),
               c("edge_zero", "OR"), c("edge_zero", "RD"), c("collins1985a", "OR"))) {
  d <- read.csv(file.path(CASES, paste0(s[1], ".csv")), stringsAsFactors = FALSE)
  for (model in c("MH", "PETO")) {
    if (model == "PETO" && s[2] != "OR") next
    res <- suppressWarnings(if (model == "MH")
      rma.mh(ai = events_treatment, n1i = n_treatment, ci = events_control, n2i = n_control,
             measure = s[2], data = d, slab = study)
    else rma.peto(ai = events_treatment, n1i = n_treatment, ci = events_control, n2i = n_control,
                  data = d, slab = study))
    rs <- suppressWarnings(rstudent(res))
    l1o <- suppressWarnings(leave1out(res))
    mhpeto[[length(mhpeto) + 1]] <- list(
      case = s[1], measure = s[2], method = model, estimate = num(coef(res)), se = num(res$se),
      rstudent = lapply(seq_along(rs$z), function(i) list(study = rs$slab[i], rstudent = num(rs$z[i]),
                                                           resid = num(rs$resid[i]), se = num(rs$se[i]))),
      leave1out = lapply(seq_along(l1o$estimate), function(i) list(
        study = l1o$slab[i], estimate = num(l1o$estimate[i]), se = num(l1o$se[i]), Q = num(l1o$Q[i]))))
  }
}
write_out(list(description = paste(
  "influence(rma(yi, vi, method=M, test=T, control=CTRL)) for M in", paste(METHODS, collapse = ","),
  "and T in z (wald), knha (hk), adhoc (hk-adhoc); rstudent() and leave1out() of rma.mh/rma.peto",
  "(escalc defaults; the double-zero tables have no rstudent row, as metafor's na.omit)"),
  influence = rows, mh_peto = mhpeto), "influence.json")
