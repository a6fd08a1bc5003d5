# metafor's time for one task of benchmarks/bench_sensitivity.py, on the same data.
#   Rscript benchmarks/metafor_sensitivity.R TASK DATA.csv
# DATA.csv has columns yi, vi (and x for the permutations); benchmarks/bench_metafor.py writes
# it with bench_sensitivity.py's own generator and runs each task under a time limit.
# Prints the elapsed seconds of the task alone (reading the data and loading metafor excluded).
suppressPackageStartupMessages(library(metafor))
args <- commandArgs(trailingOnly = TRUE)
task <- args[1]
d <- read.csv(args[2])
elapsed <- switch(task,
  loo_dl = system.time(leave1out(rma(yi, vi, data = d, method = "DL", test = "knha")))[["elapsed"]],
  loo_reml = system.time(leave1out(rma(yi, vi, data = d, method = "REML", test = "knha")))[["elapsed"]],
  influence_dl = system.time(influence(rma(yi, vi, data = d, method = "DL", test = "knha")))[["elapsed"]],
  influence_reml = system.time(influence(rma(yi, vi, data = d, method = "REML", test = "knha")))[["elapsed"]],
  cumulative_reml = system.time(cumul(rma(yi, vi, data = d, method = "REML", test = "knha")))[["elapsed"]],
  trimfill_reml = system.time(trimfill(rma(yi, vi, data = d, method = "REML", test = "knha")))[["elapsed"]],
  reml_ci = system.time({
    res <- rma(yi, vi, data = d, method = "REML", test = "knha")
    confint(res)
  })[["elapsed"]],
  permutations = {
    res <- rma(yi, vi, mods = ~x, data = d, method = "REML", test = "knha")
    set.seed(1)
    system.time(permutest(res, iter = 1000, progbar = FALSE))[["elapsed"]]
  },
  stop("unknown task ", task)
)
cat(elapsed, "\n")
