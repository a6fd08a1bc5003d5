# Reference values for metamg's conv.wald-style conversion (effect + CI or p-value -> yi, vi).
# metafor 3.8-1 (the version on the machine that made these) has no conv.wald, so the
# conversion is worked by hand with R's qnorm exactly as conv.wald's documentation states:
#   vi = ((transf(ci.ub) - transf(ci.lb)) / (2 * qnorm((1 + level/100) / 2)))^2
#   vi = (yi / qnorm(pval / 2, lower.tail = FALSE))^2      when only a p-value is given
#   yi = (transf(ci.lb) + transf(ci.ub)) / 2               when the estimate is blank
# and the converted rows, mixed with a raw 2x2 row, are then pooled with metafor's rma().
# Run: Rscript make_values.R > values.json
library(metafor)
rows <- data.frame(
  study   = c("De Oliveira 2013 opioid", "Lysakowski 2007", "p-value only", "midpoint", "Tarleton 2017"),
  measure = c("MD", "RR", "RR", "RR", "MD"),
  effect  = c(-10.52, 0.38, 0.70, NA, -4.5),
  ci_low  = c(-13.50, 0.17, NA, 0.30, -6.6),
  ci_high = c(-7.54, 0.88, NA, 0.90, -2.4),
  level   = c(99, 95, 95, 95, 95),
  pval    = c(NA, NA, 0.04, NA, NA))
tr <- function(m, x) if (m == "RR") log(x) else x
yi <- vi <- numeric(nrow(rows))
for (i in seq_len(nrow(rows))) {
  r <- rows[i, ]
  y <- tr(r$measure, r$effect)
  if (!is.na(r$ci_low)) {
    lo <- tr(r$measure, r$ci_low); hi <- tr(r$measure, r$ci_high)
    if (is.na(y)) y <- (lo + hi) / 2
    v <- ((hi - lo) / (2 * qnorm((1 + r$level / 100) / 2)))^2
  } else {
    v <- (y / qnorm(r$pval / 2, lower.tail = FALSE))^2
  }
  yi[i] <- y; vi[i] <- v
}
# A set mixing one raw 2x2 study with the three converted RR rows, pooled by metafor.
raw <- escalc("RR", ai = 10, n1i = 100, ci = 20, n2i = 100)
rr <- rows$measure == "RR"
y <- c(raw$yi, yi[rr]); v <- c(raw$vi, vi[rr])
fe <- rma(y, v, method = "FE")
re <- rma(y, v, method = "REML", test = "knha", control = list(threshold = 1e-12, maxiter = 10000))
out <- sprintf('{"rows": [%s],\n "mixed_rr": {"yi": [%s], "vi": [%s], "fe_estimate": %.17g, "fe_se": %.17g, "reml_estimate": %.17g, "reml_se": %.17g, "reml_tau2": %.17g}}',
  paste(sprintf('{"study": "%s", "measure": "%s", "effect": %s, "ci_low": %s, "ci_high": %s, "ci_level": %s, "p_value": %s, "yi": %.17g, "vi": %.17g}',
    rows$study, rows$measure,
    ifelse(is.na(rows$effect), "null", format(rows$effect)), ifelse(is.na(rows$ci_low), "null", format(rows$ci_low)),
    ifelse(is.na(rows$ci_high), "null", format(rows$ci_high)), rows$level, ifelse(is.na(rows$pval), "null", format(rows$pval)),
    yi, vi), collapse = ",\n  "),
  paste(sprintf("%.17g", y), collapse = ", "), paste(sprintf("%.17g", v), collapse = ", "),
  coef(fe), fe$se, coef(re), re$se, re$tau2)
cat(out, "\n")
