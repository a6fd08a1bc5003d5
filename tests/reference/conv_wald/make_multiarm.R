# Seyhan 2006: three magnesium arms (n = 20 each) against one saline group (n = 20).
# The arms are combined by hand with the Cochrane Handbook's formulas (Table 6.5.a), then
# metafor's escalc gives the SMD and MD of the combined group against the control.
# Run: Rscript make_multiarm.R > multiarm.json
library(metafor)
n <- c(20, 20, 20); m <- c(0.73, 0.59, 0.53); s <- c(0.17, 0.23, 0.21)
comb <- function(n1, m1, s1, n2, m2, s2) {
  N <- n1 + n2
  c(N, (n1 * m1 + n2 * m2) / N,
    sqrt(((n1 - 1) * s1^2 + (n2 - 1) * s2^2 + n1 * n2 / N * (m1^2 + m2^2 - 2 * m1 * m2)) / (N - 1)))
}
a <- comb(n[1], m[1], s[1], n[2], m[2], s[2])
b <- comb(a[1], a[2], a[3], n[3], m[3], s[3])
smd <- escalc("SMD", m1i = b[2], sd1i = b[3], n1i = b[1], m2i = 0.88, sd2i = 0.14, n2i = 20)
md <- escalc("MD", m1i = b[2], sd1i = b[3], n1i = b[1], m2i = 0.88, sd2i = 0.14, n2i = 20)
cat(sprintf('{"n": %.17g, "mean": %.17g, "sd": %.17g, "smd_yi": %.17g, "smd_vi": %.17g, "md_yi": %.17g, "md_vi": %.17g}\n',
  b[1], b[2], b[3], smd$yi, smd$vi, md$yi, md$vi))
