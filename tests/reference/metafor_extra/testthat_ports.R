# Examples from metafor's own test suite (tests/testthat in the metafor repository) that fall
# within metamg's features, recomputed with tight convergence so they can be compared at
# rtol 1e-6; the rounded numbers the testthat files assert are checked too (in the Python tests).
# Run: Rscript testthat_ports.R   (writes testthat_ports.json)
source("common.R")

fit_row <- function(res) {
  pr <- predict(res)
  list(estimate = num(coef(res)[1]), se = num(res$se[1]), statistic = num(res$zval[1]), p = num(res$pval[1]),
       ci_low = num(res$ci.lb[1]), ci_high = num(res$ci.ub[1]), tau2 = num(res$tau2), I2 = num(res$I2),
       H2 = num(res$H2), Q = num(res$QE), Q_p = num(res$QEp),
       pi_low = num(if (is.null(pr$pi.lb)) pr$ci.lb else pr$pi.lb),
       pi_high = num(if (is.null(pr$pi.ub)) pr$ci.ub else pr$pi.ub))
}
# metamg wants unique study labels: repeated ones get " #2", " #3", ...
uniq <- function(s) {
  s <- as.character(s)
  nth <- ave(seq_along(s), s, FUN = seq_along)
  ifelse(nth > 1, paste0(s, " #", nth), s)
}
generic <- function(study, yi, vi) list(study = uniq(study), yi = num(yi), vi = num(vi))
binary <- function(study, ai, n1i, ci, n2i) list(study = uniq(study), events_treatment = ai,
                                                 n_treatment = n1i, events_control = ci, n_control = n2i)
out <- list()

## test_analysis_example_viechtbauer2005.r: two examples, seven tau² estimators
v1 <- data.frame(yi = c(-0.581, 0.530, 0.771, 1.031, 0.553, 0.295, 0.078, 0.573, -0.176, -0.232),
                 vi = c(0.023, 0.052, 0.060, 0.115, 0.095, 0.203, 0.200, 0.211, 0.051, 0.040))
v2 <- data.frame(yi = c(0.100, -0.162, -0.090, -0.049, -0.046, -0.010, -0.431, -0.261, 0.134, 0.019, 0.175,
                        0.056, 0.045, 0.103, 0.121, -0.482, 0.290, 0.342),
                 vi = c(0.016, 0.015, 0.050, 0.050, 0.032, 0.052, 0.036, 0.024, 0.034, 0.033, 0.031, 0.034,
                        0.039, 0.167, 0.134, 0.096, 0.016, 0.035))
for (ex in list(list("example1", v1), list("example2", v2))) {
  d <- ex[[2]]
  fits <- list()
  for (m in c("HS", "HE", "DL", "ML", "REML", "EB", "SJ"))
    fits[[m]] <- fit_row(rma(yi, vi, data = d, method = m, control = ctrl(d$vi)))
  out$viechtbauer2005[[ex[[1]]]] <- list(data = generic(seq_len(nrow(d)), d$yi, d$vi), fits = fits)
}

## test_analysis_example_dersimonian2007.r: CLASP trials, log odds ratios (the ML fit with
## metafor's default threshold too, whose tau = 0.0023 the testthat file asserts)
cl <- data.frame(n1i = c(156, 303, 565, 1570, 103, 4659), n2i = c(74, 303, 477, 1565, 105, 4650),
                 ai = c(5, 5, 12, 69, 9, 313), ci = c(8, 17, 9, 94, 11, 352))
es <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = cl)
fits <- list()
for (m in c("PM", "HE", "DL", "EB", "ML", "REML", "HS", "SJ"))
  fits[[m]] <- fit_row(rma(yi, vi, data = es, method = m, control = ctrl(es$vi)))
ml_default <- rma(yi, vi, data = es, method = "ML")
w <- 1 / es$vi
out$dersimonian2007 <- list(data = binary(paste("CLASP", 1:6), cl$ai, cl$n1i, cl$ci, cl$n2i), fits = fits,
                            ml_default_tau2 = num(ml_default$tau2),
                            ml_score_at_0 = num(sum(w^2 * (es$yi - sum(w * es$yi) / sum(w))^2) - sum(w)))

## test_analysis_example_raudenbush2009.r: teacher expectancy (dat.raudenbush1985)
rd <- dat.raudenbush1985
rd$weeks_c <- ifelse(rd$weeks > 3, 3, rd$weeks)
CT <- ctrl(rd$vi)
conv <- list(); knha <- list()
for (m in c("FE", "ML", "REML", "DL", "HE")) {
  conv[[m]] <- fit_row(rma(yi, vi, data = rd, method = m, control = CT))
  knha[[m]] <- fit_row(suppressWarnings(rma(yi, vi, data = rd, method = m, test = "knha", control = CT)))
}
me <- rma(yi, vi, mods = ~ weeks_c, data = rd, control = CT)
out$raudenbush2009 <- list(
  data = c(generic(paste(rd$author, rd$year), rd$yi, rd$vi), list(weeks_c = rd$weeks_c)),
  conventional = conv, knha = knha,
  mixed = list(tau2 = num(me$tau2), estimates = num(coef(me)), z = num(me$zval), QE = num(me$QE)))

## test_analysis_example_yusuf1985.r: Peto's method, table 6 (beta blockers)
yu <- dat.yusuf1985[dat.yusuf1985$table == "6", ]
pe <- suppressWarnings(rma.peto(ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = yu))
out$yusuf1985 <- list(data = binary(yu$trial, yu$ai, yu$n1i, yu$ci, yu$n2i),
                      peto = list(estimate = num(coef(pe)), se = num(pe$se), ci_low = num(pe$ci.lb),
                                  ci_high = num(pe$ci.ub), Q = num(pe$QE), Q_p = num(pe$QEp)))

## test_analysis_example_rothman2008.r: Mantel-Haenszel at level 90 (Tables 15-1 and 15-5)
mh_row <- function(res) list(estimate = num(coef(res)), se = num(res$se), ci_low = num(res$ci.lb),
                             ci_high = num(res$ci.ub), Q = num(res$QE), Q_p = num(res$QEp),
                             tarone = num(res$TA), tarone_p = num(res$TAp))
t151 <- data.frame(study = c("Age <55", "Age 55+"), ai = c(8, 22), bi = c(98, 76), ci = c(5, 16), di = c(115, 69))
t155 <- data.frame(study = c("<35", "35+"), ai = c(3, 1), bi = c(9, 3), ci = c(104, 5), di = c(1059, 86))
rot <- list()
for (tb in list(list("table15_1", t151), list("table15_5", t155))) {
  d <- tb[[2]]
  r <- list(data = binary(d$study, d$ai, d$ai + d$bi, d$ci, d$ci + d$di))
  for (m in c("RD", "RR", "OR"))
    r[[m]] <- mh_row(rma.mh(ai = ai, bi = bi, ci = ci, di = di, data = d, measure = m, level = 90))
  rot[[tb[[1]]]] <- r
}
out$rothman2008 <- rot

## test_analysis_example_normand1999.r: dat.hine1989 risk differences (x 100), dat.normand1999
## mean differences with the pooled SD in both groups
hi <- escalc(measure = "RD", n1i = n1i, n2i = n2i, ai = ai, ci = ci, data = dat.hine1989)
hi$yi <- hi$yi * 100; hi$vi <- hi$vi * 100^2
nd <- dat.normand1999
nd$sdpi <- with(nd, sqrt(((n1i - 1) * sd1i^2 + (n2i - 1) * sd2i^2) / (n1i + n2i - 2)))
ne <- escalc(m1i = m1i, sd1i = sdpi, n1i = n1i, m2i = m2i, sd2i = sdpi, n2i = n2i, measure = "MD", data = nd)
out$normand1999 <- list(
  hine1989 = list(data = c(generic(dat.hine1989$source, hi$yi, hi$vi),
                           list(events_treatment = dat.hine1989$ai, n_treatment = dat.hine1989$n1i,
                                events_control = dat.hine1989$ci, n_control = dat.hine1989$n2i)),
                  fits = lapply(c(FE = "FE", REML = "REML", DL = "DL"),
                                function(m) fit_row(rma(yi, vi, data = hi, method = m, control = ctrl(hi$vi))))),
  normand = list(data = list(study = uniq(nd$source), mean_treatment = nd$m1i, sd_treatment = nd$sdpi,
                             n_treatment = nd$n1i, mean_control = nd$m2i, sd_control = nd$sdpi,
                             n_control = nd$n2i, yi = num(ne$yi), vi = num(ne$vi)),
                 fits = lapply(c(FE = "FE", DL = "DL", REML = "REML"),
                               function(m) fit_row(rma(yi, vi, data = ne, method = m, control = ctrl(ne$vi))))))

## test_misc_pub_bias.r: regtest and ranktest on dat.egger2001 (log odds ratios, REML)
eg <- escalc(measure = "OR", ai = ai, n1i = n1i, ci = ci, n2i = n2i, data = dat.egger2001)
re <- rma(yi, vi, data = eg, control = ctrl(eg$vi))
rt <- regtest(re); rk <- ranktest(re)
out$pub_bias <- list(data = binary(dat.egger2001$study, dat.egger2001$ai, dat.egger2001$n1i,
                                   dat.egger2001$ci, dat.egger2001$n2i),
                     regtest = list(statistic = num(rt$zval), p = num(rt$pval)),
                     ranktest = list(tau = num(rk$tau), p = num(rk$pval)))

## test_misc_metan_vs_rma.{uni,mh,peto}_with_dat.bcg.r
bcg <- dat.bcg
met <- list(data = binary(paste(bcg$author, bcg$year), bcg$tpos, bcg$tpos + bcg$tneg, bcg$cpos, bcg$cpos + bcg$cneg))
for (m in c("RR", "OR", "RD")) {
  e <- escalc(measure = m, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg)
  met[[paste0("FE_", m)]] <- fit_row(rma(yi, vi, data = e, method = "FE"))
  met[[paste0("DL_", m)]] <- fit_row(rma(yi, vi, data = e, method = "DL"))
  met[[paste0("MH_", m)]] <- mh_row(rma.mh(measure = m, ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg))
}
met$PETO <- mh_row(rma.peto(ai = tpos, bi = tneg, ci = cpos, di = cneg, data = bcg))
out$metan <- met

write_out(c(list(description = paste(
  "Recomputations, with control=list(threshold=1e-11*s, tol=1e-13*s, maxiter=10000), s = mean(vi),",
  "of examples in metafor's tests/testthat: test_analysis_example_{viechtbauer2005, dersimonian2007,",
  "raudenbush2009, yusuf1985, rothman2008, normand1999}.r, test_misc_pub_bias.r and",
  "test_misc_metan_vs_rma.{uni,mh,peto}_with_dat.bcg.r")), out), "testthat_ports.json")
