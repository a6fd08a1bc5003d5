# Independent values for tests/test_revman5_profile.py's four trials (RevMan 5's rules built
# from metafor 3.8 pieces): Rscript four_trials.R > four_trials.json
suppressMessages(library(metafor))
a <- c(0, 2, 12, 1); n1 <- c(10, 20, 30, 25); c <- c(3, 10, 6, 0); n2 <- c(10, 20, 30, 25)
# RevMan: 0.5 added to every cell of a table with a zero cell, also inside Mantel-Haenszel
z <- (a == 0) | (n1 - a == 0) | (c == 0) | (n2 - c == 0)
A <- a + 0.5 * z; N1 <- n1 + z; C <- c + 0.5 * z; N2 <- n2 + z
out <- list()
for (m in c("RR", "OR")) {
  mh <- rma.mh(ai = A, n1i = N1, ci = C, n2i = N2, measure = m, to = "none")
  es <- escalc(m, ai = A, n1i = N1, ci = C, n2i = N2, to = "none")
  w <- 1 / es$vi; k <- length(w)
  tau2 <- max(0, (mh$QE - (k - 1)) / (sum(w) - sum(w^2) / sum(w)))  # DL from the M-H Chi²
  re <- rma(es$yi, es$vi, tau2 = tau2, method = "DL")  # tau² fixed at that value
  dl <- rma(es$yi, es$vi, method = "DL")
  out[[paste0(m, "_MH_fixed")]] <- list(estimate = mh$b[1], se = mh$se, Q = mh$QE)
  out[[paste0(m, "_MH_random")]] <- list(estimate = re$b[1], se = re$se, tau2 = tau2, Q = mh$QE)
  out[[paste0(m, "_IV_random")]] <- list(estimate = dl$b[1], se = dl$se, tau2 = dl$tau2, Q = dl$QE)
}
pe <- rma.peto(ai = a, n1i = n1, ci = c, n2i = n2)
out[["OR_PETO_fixed"]] <- list(estimate = pe$b[1], se = pe$se, Q = pe$QE)
cat(jsonlite::toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "\n")
