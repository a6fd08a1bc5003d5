# Shared helpers of the scripts in this folder (metafor 3.8-1, R 4.2.2, jsonlite).
# Each script is run from this folder as `Rscript NAME.R` and writes NAME.json next to it.
suppressMessages({library(metafor); library(jsonlite)})

CASES <- file.path("..", "cases")

# escalc exactly as the reference corpus (../cases, see ../../../../shared/reference/README.md)
case_effects <- function(case, measure) {
  d <- read.csv(file.path(CASES, paste0(case, ".csv")), stringsAsFactors = FALSE)
  es <- if (all(c("events_treatment", "n_treatment") %in% names(d))) {
    escalc(measure = measure, ai = events_treatment, n1i = n_treatment, ci = events_control,
           n2i = n_control, data = d)
  } else if ("mean_treatment" %in% names(d)) {
    escalc(measure = measure, m1i = mean_treatment, sd1i = sd_treatment, n1i = n_treatment,
           m2i = mean_control, sd2i = sd_control, n2i = n_control, data = d)
  } else if ("ri" %in% names(d)) {
    escalc(measure = measure, ri = ri, ni = ni, data = d)
  } else if ("xi" %in% names(d) || "events" %in% names(d)) {
    escalc(measure = measure, xi = events, ni = n, data = d)
  } else {
    d
  }
  es
}

# convergence scaled to the data, as the reference corpus: s = mean(vi)
ctrl <- function(vi) { s <- mean(vi); list(threshold = 1e-11 * s, tol = 1e-13 * s, maxiter = 10000) }

TESTS <- c(wald = "z", hk = "knha", "hk-adhoc" = "adhoc")
METHODS <- c("FE", "DL", "HE", "HS", "SJ", "ML", "REML", "EB", "PM")

num <- function(x) { x <- as.numeric(x); x[!is.finite(x)] <- NA; x }

write_out <- function(obj, name) {
  obj$versions <- list(R = R.version.string, metafor = as.character(packageVersion("metafor")),
                       jsonlite = as.character(packageVersion("jsonlite")))
  writeLines(toJSON(obj, auto_unbox = TRUE, digits = NA, na = "null", null = "null", pretty = FALSE),
             name)
}
