# The Hartung-Knapp guard: rma() with test = "knha" and test = "adhoc" for every tau² method on
# the reference sets and on their first 2, 3 and 4 studies (few studies and agreeing trials are
# where the Knapp-Hartung factor falls below 1 and the knha interval is narrower than Wald's).
# Run: Rscript hk_guard.R   (writes hk_guard.json)
source("common.R")

SETS <- list(c("bcg", "RR"), c("egger2001", "OR"), c("normand1999", "MD"), c("molloy2014", "ZCOR"),
             c("hackshaw1998", "GEN"), c("collins1985a", "OR"), c("pritz1997", "PLO"))
rows <- list()
for (s in SETS) {
  all <- case_effects(s[1], s[2])
  all <- all[!is.na(all$yi), ]
  for (n in c(2, 3, 4, nrow(all))) {
    es <- all[seq_len(min(n, nrow(all))), ]
    for (m in METHODS) {
      fit <- function(test) suppressWarnings(rma(yi, vi, data = es, method = m, test = test,
                                                 control = ctrl(es$vi)))
      wald <- fit("z"); knha <- fit("knha"); adhoc <- fit("adhoc")
      rows[[length(rows) + 1]] <- list(
        case = s[1], measure = s[2], k = nrow(es), method = m,
        yi = num(es$yi), vi = num(es$vi),
        kh_factor = num((knha$se / wald$se)^2),
        knha = list(ci_low = num(knha$ci.lb), ci_high = num(knha$ci.ub)),
        adhoc = list(ci_low = num(adhoc$ci.lb), ci_high = num(adhoc$ci.ub), se = num(adhoc$se)))
    }
  }
}
write_out(list(rows = rows), "hk_guard.json")
