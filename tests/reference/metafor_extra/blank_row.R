# metafor on a study table with one partly blank row (tests/reference/DISAGREEMENTS.md):
# rma() and rma.mh() drop the study with a warning. Run: Rscript blank_row.R (writes blank_row.json)
source("common.R")
csv <- "study,events_treatment,n_treatment,events_control,n_control
A,4,123,11,139
B,,306,29,303
C,3,231,11,220
D,62,13598,248,12867
"
d <- read.csv(text = csv)
warn <- character(0)
keep <- function(expr) withCallingHandlers(expr, warning = function(w) {
  warn <<- c(warn, conditionMessage(w)); invokeRestart("muffleWarning") })
es <- escalc(measure = "RR", ai = events_treatment, n1i = n_treatment, ci = events_control, n2i = n_control, data = d)
re <- keep(rma(yi, vi, data = es, control = ctrl(es$vi[!is.na(es$vi)])))
mh <- keep(rma.mh(measure = "RR", ai = events_treatment, n1i = n_treatment, ci = events_control, n2i = n_control, data = d))
write_out(list(csv = csv, warnings = warn,
               reml = list(k = re$k, estimate = num(coef(re)), se = num(re$se), tau2 = num(re$tau2)),
               mh = list(k = mh$k, estimate = num(coef(mh)), se = num(mh$se))), "blank_row.json")
