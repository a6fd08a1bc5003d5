"""Speed of the Bayesian model (metamg bayes), beside scipy's adaptive quadrature doing the same
one-dimensional integrals in the same run. Prints a markdown table for the README.

    .venv/bin/python benchmarks/bench_bayes.py [--runs 5]

For k simulated studies (half-normal(0.5) prior for tau, flat prior for mu):
- metamg posterior: p(tau | y) on its quadrature nodes plus P(mu < 0) and P(theta_new < 0);
- scipy quad: the normalising constant, P(mu < 0) and P(theta_new < 0) as three adaptive
  integrals over tau of the same closed-form conditionals (scipy.integrate.quad, epsrel 1e-10);
- metamg full fit: every summary of tau, mu, theta_new and of each study's shrinkage estimate
  (quantiles, mode, mean, sd, shortest interval): its cost grows with k, as each study has a
  mixture of its own.
Median of --runs, wall time in one process. scipy is a test dependency, not a runtime one.
"""

from __future__ import annotations

import argparse
import math
import statistics
import time

import numpy as np
from scipy import integrate, special

from metamg.models import bayes as model

SIZES = (10, 100, 1_000, 10_000)


def simulate(k: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    v = rng.uniform(0.01, 0.5, k)
    return rng.normal(0.2, np.sqrt(v + 0.04)), v


def metamg_posterior(y, v):
    post = model.Posterior(y, v, model.halfnormal(0.5), model.flat())
    return model.p_mu_below(post, 0.0), model.p_theta_new_below(post, 0.0)


def scipy_posterior(y, v):
    prior = model.halfnormal(0.5)
    post = model.Posterior(y, v, prior, model.flat())  # only for the log scale of the integrand
    g0 = post.gmax

    def parts(t: float) -> tuple[float, float, float]:
        g, m, s2 = post.conditional(np.array([t]))
        w = math.exp(float(g[0]) - g0)
        return w, float(m[0]), float(s2[0])

    def integral(f) -> float:
        return integrate.quad(f, 0, np.inf, epsabs=0, epsrel=1e-10, limit=200)[0]

    def below(t: float, extra: float) -> float:
        w, m, s2 = parts(t)
        return w * special.ndtr(-m / math.sqrt(s2 + extra * t * t))

    z = integral(lambda t: parts(t)[0])
    return integral(lambda t: below(t, 0.0)) / z, integral(lambda t: below(t, 1.0)) / z


def timed(f, *args, runs: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(runs):
        t0 = time.perf_counter()
        out = f(*args)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    runs = parser.parse_args().runs
    print(
        "| k | metamg posterior + P(mu<0), P(theta_new<0) | scipy quad, same three integrals | ratio "
        "| largest difference | metamg full fit (all summaries, each study's shrinkage) |"
    )
    print("|---|---|---|---|---|---|")
    for k in SIZES:
        y, v = simulate(k)
        t_ours, ours = timed(metamg_posterior, y, v, runs=runs)
        t_quad, quad = timed(scipy_posterior, y, v, runs=runs)
        diff = max(abs(a - b) for a, b in zip(ours, quad, strict=True))
        t_fit, _ = timed(model.fit_bayes, y, v, model.halfnormal(0.5), runs=max(1, min(runs, 3)))
        print(
            f"| {k:,} | {1e3 * t_ours:.1f} ms | {1e3 * t_quad:.1f} ms | {t_quad / t_ours:.1f}x "
            f"| {diff:.1e} | {t_fit:.2f} s |"
        )


if __name__ == "__main__":
    main()
