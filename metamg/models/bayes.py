"""Bayesian random-effects meta-analysis: the normal-normal hierarchical model by quadrature.

    y_i | theta_i ~ N(theta_i, v_i),   theta_i | mu, tau ~ N(mu, tau²),   mu ~ p(mu),  tau ~ p(tau)

Given tau, everything is normal (Röver C. Bayesian random-effects meta-analysis using the
bayesmeta R package. J Stat Softw 2020;93(6), sections 2.4-2.9): with w_i = 1/(v_i + tau²)
(a normal prior N(m0, s0²) for mu entering as one more "study" with value m0, variance s0²),
mu | tau, y ~ N(m(tau), s(tau)²), m = Σ w_i y_i / Σ w_i, s² = 1 / Σ w_i, and

    p(y | tau) = (2π)^(-(k-1)/2) Π (v_i + tau²)^(-1/2) (Σ w_i)^(-1/2) exp(-½ Σ w_i (y_i - m)²)

for the flat prior p(mu) = 1 (JSS eq. 11; for the normal prior the same with the prior as a
(k+1)-th term and (2π)^(-k/2) s0^(-1), eq. 15). So every marginal is a one-dimensional
integral over tau of the posterior p(tau | y) ∝ p(y | tau) p(tau):

* mu: the mixture ∫ N(m(tau), s(tau)²) p(tau | y) dtau;
* theta_new, a new study's true effect: ∫ N(m, s² + tau²) p(tau | y) dtau;
* theta_i, study i's shrinkage estimate, with B_i = v_i/(v_i + tau²):
  ∫ N(y_i - B_i (y_i - m), v_i (1 - B_i) + B_i² s²) p(tau | y) dtau (JSS section 2.8).

How it is computed (metamg's own code; bayesmeta is GPL and only its documentation and the
paper were read): a log-spaced grid gives rough quantiles of p(tau | y); the tau axis is cut
there into pieces, each integrated by an n-point Gauss-Legendre rule, the last piece [b, ∞)
mapped by tau = b/u onto (0, 1] (the tail of p(tau | y) is a power of tau times a series in
1/tau², so the mapped integrand is smooth). The nodes and their posterior weights then give
every mixture at once. Quantiles are refined by safeguarded Newton steps on F(x) = p (the
survival function above the median), modes from f'(x) = 0, shortest intervals from
{F(b) - F(a) = 0.95, f(a) = f(b)}; tau's distribution function between nodes comes from the
same rule on [piece start, x]. Accuracy: about 1e-10 relative on the reference cases
(tests/test_bayes_reference.py checks every value at rtol 1e-7).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from metamg.models.distributions import norm_ppf
from metamg.models.normal_array import norm_cdf_sf, norm_pdf
from metamg.notes import Note, note

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    Array = NDArray[np.float64]

LEVEL = 0.95
QUANTILES = {"q025": 0.025, "q05": 0.05, "median": 0.5, "q95": 0.95, "q975": 0.975}
SUMMARY_FIELDS = (
    "mode",
    "median",
    "mean",
    "sd",
    "q025",
    "q05",
    "q95",
    "q975",
    "shortest95_low",
    "shortest95_high",
)
_NODES = 20  # Gauss-Legendre points per piece
_BREAKS = (0.001, 0.01, 0.05, 0.15, 0.3, 0.5, 0.7, 0.85, 0.95, 0.99, 0.999, 0.99999)
_LOG_2PI = math.log(2 * math.pi)


# -- priors -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TauPrior:
    """A prior for the heterogeneity tau (a standard deviation): ``type`` is one of
    ``vocabulary.TAU_PRIORS``; make one with the functions below."""

    type: str
    scale: float | None = None
    lower: float | None = None
    upper: float | None = None
    location: float | None = None  # lognormal/logt: the centre of log(tau²)

    @property
    def proper(self) -> bool:
        return self.type not in ("jeffreys", "improper_uniform")

    @property
    def support(self) -> tuple[float, float]:
        if self.type == "uniform":
            assert self.lower is not None and self.upper is not None
            return self.lower, self.upper
        return 0.0, math.inf

    @property
    def tail_exponent(self) -> float:
        """a with p(tau) ~ tau^-a for large tau (inf: lighter than any power, or bounded)."""
        return {"halfcauchy": 2.0, "jeffreys": 1.0, "improper_uniform": 0.0, "logt": 1.0}.get(
            self.type, math.inf
        )

    @property
    def log_tail(self) -> bool:
        """True when the tail is tau^-a times a negative power of log(tau) (the log-t prior's
        tau^-1 (log tau)^-6), so that an integral exactly at the border a still converges."""
        return self.type == "logt"

    @property
    def centre(self) -> float | None:
        """A typical tau under the prior, where the posterior's grid must be fine."""
        if self.type in ("lognormal", "logt"):
            assert self.location is not None
            return math.exp(self.location / 2)
        return self.scale

    @property
    def spec(self) -> str:
        """The prior as the command line writes it, e.g. "halfnormal:0.5"."""
        if self.type in ("halfnormal", "halfcauchy"):
            return f"{self.type}:{self.scale:g}"
        if self.type == "uniform":
            return f"uniform:{self.lower:g},{self.upper:g}"
        if self.type in ("lognormal", "logt"):
            return f"{self.type}:{self.location:g},{self.scale:g}"
        return self.type

    def to_dict(self) -> dict[str, object]:
        d: dict[str, object] = {"type": self.type}
        for key in ("location", "scale", "lower", "upper"):
            value = getattr(self, key)
            if value is not None:
                d[key] = value
        return d

    def log_density(self, tau: Array, vi: Array) -> Array:
        """log p(tau) at ``tau`` (normalised when the prior is proper)."""
        return _LOG_DENSITY[self.type](self, tau, vi)

    def dlog_density(self, tau: Array, vi: Array) -> Array:
        """d log p(tau) / d tau."""
        return _DLOG_DENSITY[self.type](self, tau, vi)


def halfnormal(scale: float) -> TauPrior:
    """Half-normal(scale): 2/(s√(2π)) exp(-tau²/(2s²)). Röver et al. 2021 (Res Synth Methods
    12:448-474) recommend scale 0.5 for log odds and risk ratios (and 1.0 as a more cautious
    choice); JSS 93(6) section 2.5."""
    return TauPrior("halfnormal", scale=_positive(scale, "half-normal scale"))


def halfcauchy(scale: float) -> TauPrior:
    """Half-Cauchy(scale): 2/(π s (1 + (tau/s)²)) (Gelman 2006, Bayesian Analysis 1:515-534;
    JSS 93(6) section 2.5)."""
    return TauPrior("halfcauchy", scale=_positive(scale, "half-Cauchy scale"))


def uniform(lower: float, upper: float) -> TauPrior:
    """Uniform(lower, upper): 1/(upper - lower) on [lower, upper] (JSS 93(6) section 2.5)."""
    lower = float(lower)
    upper = float(upper)
    if not (math.isfinite(lower) and math.isfinite(upper) and 0 <= lower < upper):
        raise ValueError(f"uniform prior needs 0 <= LOWER < UPPER (finite); got {lower:g}, {upper:g}")
    return TauPrior("uniform", lower=lower, upper=upper)


def lognormal(mean: float, sd: float) -> TauPrior:
    """The log-normal prior of Turner et al. 2015 (Stat Med 34:984-998, Table IV) for binary
    outcomes on the log odds ratio scale: log(tau²) ~ N(mean, sd²), as the paper tabulates it by
    outcome type and comparison; so log(tau) ~ N(mean/2, (sd/2)²) and p(tau) = φ((log tau -
    mean/2)/(sd/2)) / (tau sd/2). State the paper's pair for your setting (metamg ships no table:
    its numbers could not be checked against the paper here)."""
    return TauPrior(
        "lognormal", scale=_positive(sd, "log-normal SD"), location=_finite(mean, "log-normal MEAN")
    )


def logt(location: float, scale: float) -> TauPrior:
    """The log-t prior of Rhodes et al. 2015 (J Clin Epidemiol 68:52-60, Table 3) for
    standardised mean differences: log(tau²) ~ t with 5 degrees of freedom, location and scale
    as the paper tabulates them; so log(tau) ~ t5(location/2, scale/2) and p(tau) =
    t5((log tau - location/2)/(scale/2)) / (tau scale/2)."""
    return TauPrior(
        "logt", scale=_positive(scale, "log-t SCALE"), location=_finite(location, "log-t LOCATION")
    )


def uisd(n: ArrayLike, vi: ArrayLike) -> float:
    """The unit-information standard deviation sqrt(Σ n_i / Σ 1/v_i): the within-study SD of
    one participant's outcome, on the analysis scale, if each v_i = σ_u²/n_i (Röver et al. 2021,
    Res Synth Methods 12:448-474, eq. 6; bayesmeta's uisd()). A scale for priors on tau that
    do not come with the measure."""
    n_arr = np.asarray(n, dtype=float)
    v_arr = np.asarray(vi, dtype=float)
    if n_arr.shape != v_arr.shape or n_arr.size == 0 or not (np.all(n_arr > 0) and np.all(v_arr > 0)):
        raise ValueError("the unit-information SD needs a positive sample size and variance for every study")
    return math.sqrt(float(np.sum(n_arr)) / float(np.sum(1.0 / v_arr)))


def jeffreys() -> TauPrior:
    """Jeffreys' (Tibshirani's non-informative) prior, improper: p(tau) ∝ sqrt(Σ (tau/(v_i +
    tau²))²) (Tibshirani 1989, Biometrika 76:604-608; bayesmeta's tau.prior = "Jeffreys",
    JSS 93(6) section 2.5.2)."""
    return TauPrior("jeffreys")


def improper_uniform() -> TauPrior:
    """The improper uniform prior p(tau) ∝ 1 on [0, ∞) (bayesmeta's default "uniform"; the
    posterior is proper with at least 3 studies under a flat prior for mu, 2 under a normal)."""
    return TauPrior("improper_uniform")


@dataclass(frozen=True)
class MuPrior:
    """A prior for the mean effect mu: "flat" (improper, p(mu) = 1) or "normal"."""

    type: str
    mean: float | None = None
    sd: float | None = None

    @property
    def spec(self) -> str:
        return "flat" if self.type == "flat" else f"normal:{self.mean:g},{self.sd:g}"

    def to_dict(self) -> dict[str, object]:
        if self.type == "flat":
            return {"type": "flat"}
        return {"type": "normal", "mean": self.mean, "sd": self.sd}


def flat() -> MuPrior:
    """The improper uniform prior for mu, p(mu) = 1 (JSS 93(6) section 2.4)."""
    return MuPrior("flat")


def normal(mean: float, sd: float) -> MuPrior:
    """N(mean, sd²) for mu (JSS 93(6) section 2.4, eq. 15)."""
    return MuPrior("normal", mean=_finite(mean, "normal prior MEAN"), sd=_positive(sd, "normal prior SD"))


def _finite(x: float, what: str) -> float:
    x = float(x)
    if not math.isfinite(x):
        raise ValueError(f"{what} must be a finite number; got {x:g}")
    return x


def _positive(x: float, what: str) -> float:
    x = float(x)
    if not (math.isfinite(x) and x > 0):
        raise ValueError(f"{what} must be a positive number; got {x:g}")
    return x


# Röver et al. 2021 (Res Synth Methods 12:448-474): half-normal(0.5) for log odds ratios and
# other log ratios of binary or time-to-event outcomes; ROM (log ratio of means) treated alike.
DEFAULT_TAU_PRIORS: dict[str, Callable[[], TauPrior]] = {
    "OR": lambda: halfnormal(0.5),
    "RR": lambda: halfnormal(0.5),
    "ROM": lambda: halfnormal(0.5),
    "HR": lambda: halfnormal(0.5),
}


def default_tau_prior(measure: str) -> TauPrior:
    """The default prior for tau on ``measure``'s analysis scale (Röver et al. 2021); raises
    ValueError where there is no default, as the scale of the outcome must set it."""
    make = DEFAULT_TAU_PRIORS.get(measure.upper())
    if make is None:
        raise ValueError(
            f"no default prior for tau on the {measure} scale: its heterogeneity depends on the "
            "outcome's unit, so state one, e.g. --tau-prior halfnormal:SCALE in the outcome's units "
            "(the unit-information SD sqrt(sum n / sum 1/v) is a yardstick; Röver et al. 2021)"
        )
    return make()


def parse_tau_prior(spec: str) -> TauPrior:
    """A tau prior from its spec: halfnormal:SCALE, halfcauchy:SCALE, uniform:LOWER,UPPER,
    lognormal:MEAN,SD or logt:LOCATION,SCALE (both of log(tau²)), jeffreys or improper_uniform."""
    name, args = _split(spec)
    if name in ("halfnormal", "halfcauchy"):
        (scale,) = _numbers(spec, args, 1, "SCALE")
        return halfnormal(scale) if name == "halfnormal" else halfcauchy(scale)
    if name == "uniform":
        lower, upper = _numbers(spec, args, 2, "LOWER,UPPER")
        return uniform(lower, upper)
    if name == "lognormal":
        mean, sd = _numbers(spec, args, 2, "MEAN,SD")
        return lognormal(mean, sd)
    if name in ("logt", "log_t"):
        location, scale = _numbers(spec, args, 2, "LOCATION,SCALE")
        return logt(location, scale)
    if name in ("jeffreys", "improper_uniform"):
        if args is not None:
            raise ValueError(f"tau prior {spec!r}: {name} takes no parameters")
        return jeffreys() if name == "jeffreys" else improper_uniform()
    raise ValueError(
        f"unknown tau prior {one_line_spec(spec)!r}; use halfnormal:SCALE, halfcauchy:SCALE, "
        "uniform:LOWER,UPPER, lognormal:MEAN,SD, logt:LOCATION,SCALE, jeffreys or improper_uniform"
    )


def parse_mu_prior(spec: str) -> MuPrior:
    """A mu prior from its spec: flat or normal:MEAN,SD."""
    name, args = _split(spec)
    if name == "flat":
        if args is not None:
            raise ValueError(f"mu prior {spec!r}: flat takes no parameters")
        return flat()
    if name == "normal":
        mean, sd = _numbers(spec, args, 2, "MEAN,SD")
        return normal(mean, sd)
    raise ValueError(f"unknown mu prior {spec!r}; use flat or normal:MEAN,SD")


def _split(spec: str) -> tuple[str, str | None]:
    text = str(spec).strip()
    name, colon, args = text.partition(":")
    return name.strip().lower().replace("-", "_"), (args if colon else None)


def _numbers(spec: str, args: str | None, n: int, names: str) -> list[float]:
    parts = [] if args is None else [a.strip() for a in args.split(",")]
    values = []
    for part in parts:
        try:
            values.append(float(part))
        except ValueError:
            values = []
            break
    if len(values) != n or not all(math.isfinite(v) for v in values):
        raise ValueError(f"prior {one_line_spec(spec)!r}: expected {spec.split(':')[0]}:{names} with numbers")
    return values


def one_line_spec(spec: object) -> str:
    return "".join(c if c.isprintable() else "?" for c in str(spec))[:80]


def _lp_halfnormal(p: TauPrior, tau: Array, vi: Array) -> Array:
    s = float(p.scale or 1.0)
    out: Array = math.log(2 / (s * math.sqrt(2 * math.pi))) - 0.5 * (tau / s) ** 2
    return out


def _lp_halfcauchy(p: TauPrior, tau: Array, vi: Array) -> Array:
    s = float(p.scale or 1.0)
    out: Array = math.log(2 / (math.pi * s)) - np.log1p((tau / s) ** 2)
    return out


def _lp_uniform(p: TauPrior, tau: Array, vi: Array) -> Array:
    lo, hi = p.support
    out: Array = np.where((tau >= lo) & (tau <= hi), -math.log(hi - lo), -np.inf)
    return out


_LOG_T5_NORM = math.lgamma(3.0) - math.lgamma(2.5) - 0.5 * math.log(5 * math.pi)


def _log_z(p: TauPrior, tau: Array) -> tuple[Array, float]:
    """z = (log tau - location/2)/(scale/2) and the half scale, for the log-normal and log-t."""
    s = 0.5 * float(p.scale or 1.0)
    with np.errstate(divide="ignore", invalid="ignore"):  # tau <= 0 has density 0
        z: Array = (np.log(tau) - 0.5 * float(p.location or 0.0)) / s
    return z, s


def _lp_lognormal(p: TauPrior, tau: Array, vi: Array) -> Array:
    z, s = _log_z(p, tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: Array = np.where(tau > 0, -0.5 * z * z - 0.5 * _LOG_2PI - math.log(s) - np.log(tau), -np.inf)
    return out


def _dlp_lognormal(p: TauPrior, tau: Array, vi: Array) -> Array:
    z, s = _log_z(p, tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: Array = -(z / s + 1.0) / tau
    return out


def _lp_logt(p: TauPrior, tau: Array, vi: Array) -> Array:
    z, s = _log_z(p, tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: Array = np.where(
            tau > 0, _LOG_T5_NORM - 3.0 * np.log1p(z * z / 5) - math.log(s) - np.log(tau), -np.inf
        )
    return out


def _dlp_logt(p: TauPrior, tau: Array, vi: Array) -> Array:
    z, s = _log_z(p, tau)
    with np.errstate(divide="ignore", invalid="ignore"):
        out: Array = -(6.0 * z / (5.0 + z * z) / s + 1.0) / tau
    return out


def _lp_improper(p: TauPrior, tau: Array, vi: Array) -> Array:
    return np.zeros_like(tau)


def _lp_jeffreys(p: TauPrior, tau: Array, vi: Array) -> Array:
    w = 1.0 / (vi[None, :] + tau[:, None] ** 2)
    with np.errstate(divide="ignore"):
        out: Array = np.log(tau) + 0.5 * np.log(np.sum(w * w, axis=1))
    return out


def _dlp_jeffreys(p: TauPrior, tau: Array, vi: Array) -> Array:
    w = 1.0 / (vi[None, :] + tau[:, None] ** 2)
    w2 = np.sum(w * w, axis=1)
    out: Array = 1.0 / tau - 2.0 * tau * np.sum(w**3, axis=1) / w2
    return out


_LOG_DENSITY: dict[str, Callable[[TauPrior, Array, Array], Array]] = {
    "halfnormal": _lp_halfnormal,
    "halfcauchy": _lp_halfcauchy,
    "uniform": _lp_uniform,
    "lognormal": _lp_lognormal,
    "logt": _lp_logt,
    "jeffreys": _lp_jeffreys,
    "improper_uniform": _lp_improper,
}
_DLOG_DENSITY: dict[str, Callable[[TauPrior, Array, Array], Array]] = {
    "halfnormal": lambda p, tau, vi: -tau / float(p.scale or 1.0) ** 2,
    "halfcauchy": lambda p, tau, vi: -2.0 * tau / (float(p.scale or 1.0) ** 2 + tau**2),
    "uniform": lambda p, tau, vi: np.zeros_like(tau),
    "lognormal": _dlp_lognormal,
    "logt": _dlp_logt,
    "jeffreys": _dlp_jeffreys,
    "improper_uniform": lambda p, tau, vi: np.zeros_like(tau),
}
TAU_PRIOR_TYPES = tuple(_LOG_DENSITY)
MU_PRIOR_TYPES = ("flat", "normal")


# -- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Summary:
    """One marginal distribution: its mode, quantiles, moments and shortest 95% interval
    (None where a value does not exist; the fit's notes say why)."""

    mode: float | None
    median: float
    mean: float | None
    sd: float | None
    q025: float
    q05: float
    q95: float
    q975: float
    shortest95_low: float | None
    shortest95_high: float | None

    def to_dict(self) -> dict[str, float | None]:
        return {f: getattr(self, f) for f in SUMMARY_FIELDS}


@dataclass(frozen=True)
class BayesFit:
    """The posterior of the normal-normal hierarchical model, summarised."""

    k: int
    tau_prior: TauPrior
    mu_prior: MuPrior
    log_marginal_likelihood: float | None
    tau: Summary
    mu: Summary
    theta_new: Summary
    shrinkage: tuple[Summary, ...]
    notes: tuple[Note, ...]
    posterior: Posterior = field(repr=False, compare=False)


# -- the posterior of tau ---------------------------------------------------------------------


@lru_cache(maxsize=8)
def _gauss_legendre(n: int) -> tuple[Array, Array]:
    x, w = np.polynomial.legendre.leggauss(n)
    return x, w


def _rule(a: float, b: float) -> tuple[Array, Array]:
    """Gauss-Legendre nodes and weights for ∫_a^b; on log tau when 1.5 < b/a < 1e4, where power
    laws (the heavy tails) become exponentials that the rule integrates to rounding (a piece
    from near 0 stays linear: p(tau | y) is smooth in tau there)."""
    x, w = _gauss_legendre(_NODES)
    if 1.5 * a < b < 1e4 * a:
        la, lb = math.log(a), math.log(b)
        t = np.exp(0.5 * (lb - la) * x + 0.5 * (la + lb))
        return t, 0.5 * (lb - la) * w * t
    return 0.5 * (b - a) * x + 0.5 * (a + b), 0.5 * (b - a) * w


class Posterior:
    """p(tau | y) as quadrature nodes and weights, and the conditional moments at each node."""

    def __init__(self, yi: ArrayLike, vi: ArrayLike, tau_prior: TauPrior, mu_prior: MuPrior) -> None:
        y = np.asarray(yi, dtype=float).ravel()
        v = np.asarray(vi, dtype=float).ravel()
        if len(y) == 0 or len(y) != len(v):
            raise ValueError("need at least one study, with as many variances as effects")
        if not (np.all(np.isfinite(y)) and np.all(np.isfinite(v)) and np.all(v > 0)):
            raise ValueError("the effects must be finite and their variances positive")
        self.y, self.v, self.k = y, v, len(y)
        self.tau_prior, self.mu_prior = tau_prior, mu_prior
        self.tail = (self.k - 1 if mu_prior.type == "flat" else self.k) + tau_prior.tail_exponent
        if not tau_prior.proper and not self.has_moment(0):
            raise ValueError(
                f"the posterior is improper: {tau_prior.spec} for tau with {self.k} "
                f"{'study' if self.k == 1 else 'studies'} and a {mu_prior.spec} prior for mu "
                "(choose a proper prior for tau or mu)"
            )
        self.lower, self.upper = tau_prior.support
        self._build()

    def has_moment(self, order: int) -> bool:
        """Whether tau's posterior has a finite moment of ``order`` (0: is it proper): its tail
        tau^-a must fall faster than tau^-(order + 1), or exactly so with a log factor."""
        need = order + 1
        return self.tail > need or (self.tau_prior.log_tail and self.tail >= need)

    # log p(y | tau) + log p(tau), and the conditional mean and variance of mu
    def conditional(self, tau: Array) -> tuple[Array, Array, Array]:
        """(log p(y | tau) + log p(tau), m(tau), s(tau)²) at each tau."""
        v, y = self.v, self.y
        a = v[None, :] + tau[:, None] ** 2
        w = 1.0 / a
        sw = w.sum(axis=1)
        swy = (w * y[None, :]).sum(axis=1)
        mp = self.mu_prior
        if mp.type == "normal":
            assert mp.mean is not None and mp.sd is not None
            p0 = 1.0 / mp.sd**2
            sw = sw + p0
            swy = swy + p0 * mp.mean
        m = swy / sw
        q = (w * (y[None, :] - m[:, None]) ** 2).sum(axis=1)
        const = -0.5 * (self.k - 1) * _LOG_2PI
        if mp.type == "normal":
            assert mp.mean is not None and mp.sd is not None
            q = q + (mp.mean - m) ** 2 / mp.sd**2
            const = -0.5 * self.k * _LOG_2PI - math.log(mp.sd)
        loglik = const - 0.5 * np.log(a).sum(axis=1) - 0.5 * np.log(sw) - 0.5 * q
        return loglik + self.tau_prior.log_density(tau, v), m, 1.0 / sw

    def dlog(self, tau: Array) -> Array:
        """d/dtau of log p(y | tau) + log p(tau) (envelope theorem: m minimises the quadratic)."""
        v, y = self.v, self.y
        w = 1.0 / (v[None, :] + tau[:, None] ** 2)
        sw = w.sum(axis=1)
        swy = (w * y[None, :]).sum(axis=1)
        mp = self.mu_prior
        if mp.type == "normal":
            assert mp.mean is not None and mp.sd is not None
            sw = sw + 1.0 / mp.sd**2
            swy = swy + mp.mean / mp.sd**2
        m = swy / sw
        w2 = w * w
        d = tau * (-w.sum(axis=1) + w2.sum(axis=1) / sw + (w2 * (y[None, :] - m[:, None]) ** 2).sum(axis=1))
        out: Array = d + self.tau_prior.dlog_density(tau, v)
        return out

    def _build(self) -> None:
        lo, hi = self.lower, self.upper
        c = math.sqrt(float(np.mean(self.v)) + float(np.var(self.y)))
        grid = c * np.exp(np.linspace(-30.0, 30.0, 601))
        centre = self.tau_prior.centre
        if centre is not None:
            grid = np.union1d(grid, centre * np.exp(np.linspace(-30.0, 30.0, 601)))
        grid = grid[(grid > lo) & (grid < hi)]
        grid = np.concatenate(([lo], grid, [hi] if math.isfinite(hi) else []))
        g = self.conditional(grid)[0]
        g = np.where(np.isfinite(g), g, -np.inf)
        self.grid, self.grid_g = grid, g
        f = np.exp(g - g.max())
        cdf = np.concatenate(([0.0], np.cumsum(0.5 * (f[1:] + f[:-1]) * np.diff(grid))))
        cdf /= cdf[-1]
        breaks = np.interp(_BREAKS, cdf, grid)
        cuts = np.unique(np.concatenate(([lo], breaks, [hi] if math.isfinite(hi) else [])))
        cuts = cuts[(cuts >= lo) & (cuts <= hi)]
        keep = np.concatenate(([True], np.diff(cuts) > 1e-13 * max(cuts[-1], 1e-300)))
        cuts = cuts[keep]
        if len(cuts) < 2 and not math.isfinite(hi):
            cuts = np.array([lo, lo + c])
        self.cuts = cuts
        self.infinite = not math.isfinite(hi)
        nodes, weights, piece = [], [], []
        x, w = _gauss_legendre(_NODES)
        for i in range(len(cuts) - 1):
            t, tw = _rule(cuts[i], cuts[i + 1])
            nodes.append(t)
            weights.append(tw)
            piece.append(np.full(_NODES, i))
        if self.infinite:
            b = cuts[-1]
            u = 0.5 * x + 0.5
            nodes.append(b / u)
            weights.append(0.5 * w * b / u**2)
            piece.append(np.full(_NODES, len(cuts) - 1))
        tau = np.concatenate(nodes)
        qw = np.concatenate(weights)
        g_nodes, m, s2 = self.conditional(tau)
        self.gmax = float(max(np.max(g_nodes), g.max()))
        lw = g_nodes - self.gmax + np.log(qw)
        z = float(np.sum(np.exp(lw)))
        self.log_norm = self.gmax + math.log(z)  # log ∫ p(y|tau) p(tau) dtau
        self.tau_nodes = tau
        self.weights = np.exp(lw) / z
        self.m, self.s2 = m, s2
        pieces = np.concatenate(piece)
        mass = np.bincount(pieces, weights=self.weights, minlength=len(cuts))
        self.mass_below = np.concatenate(([0.0], np.cumsum(mass)))[:-1]  # before piece i
        self.mass_above = np.concatenate((np.cumsum(mass[::-1])[::-1][1:], [0.0]))  # after piece i

    # density and distribution function of tau
    def tau_pdf(self, tau: Array) -> Array:
        tau = np.asarray(tau, dtype=float)
        out: Array = np.exp(self.conditional(tau)[0] - self.log_norm)
        return out

    def _integral(self, a: float, b: float) -> float:
        """∫_a^b p(tau | y) dtau inside one finite piece or across (a and b finite)."""
        if b <= a:
            return 0.0
        t, w = _rule(a, b)
        return float(np.sum(w * self.tau_pdf(t)))

    def _tail_integral(self, a: float) -> float:
        """∫_a^∞ p(tau | y) dtau for a >= the last cut (tau = a/u)."""
        x, w = _gauss_legendre(_NODES)
        u = 0.5 * x + 0.5
        return float(np.sum(0.5 * w * a / u**2 * self.tau_pdf(a / u)))

    def tau_cdf_sf(self, t: float) -> tuple[float, float]:
        """P(tau <= t) and P(tau > t), each integrated directly."""
        cuts = self.cuts
        if t <= self.lower:
            return 0.0, 1.0
        if t >= self.upper:
            return 1.0, 0.0
        if self.infinite and t >= cuts[-1]:
            above = self._tail_integral(t)
            return 1.0 - above, above
        i = int(np.searchsorted(cuts, t, side="right")) - 1
        i = min(max(i, 0), len(cuts) - 2)
        lo_part = self._integral(cuts[i], t)
        hi_part = self._integral(t, cuts[i + 1])
        return float(self.mass_below[i] + lo_part), float(self.mass_above[i] + hi_part)

    def tau_quantile(self, p: float) -> float:
        upper = p > 0.5
        target = 1.0 - p if upper else p
        # bracket: the piece whose exact cumulative masses enclose p
        cuts = self.cuts
        edges = np.concatenate((self.mass_below[: len(cuts) - 1], [self.mass_below[-1]]))
        i = int(np.searchsorted(edges, p, side="right")) - 1
        i = min(max(i, 0), len(cuts) - 1)
        lo = float(cuts[i])
        hi = float(cuts[i + 1]) if i + 1 < len(cuts) else self.upper
        if not math.isfinite(hi):
            hi = 2 * lo if lo > 0 else 1.0
            while (self.tau_cdf_sf(hi)[1] > target) if upper else (self.tau_cdf_sf(hi)[0] < target):
                hi *= 2

        def fdf(t: float) -> tuple[float, float]:
            cdf_t, sf_t = self.tau_cdf_sf(t)
            r = (target - sf_t) if upper else (cdf_t - target)
            return r, float(self.tau_pdf(np.array([t]))[0])

        return _increasing_root(fdf, lo, hi)

    def tau_mode(self) -> float:
        """The global maximum of p(tau | y): a bound of the support when the density is
        highest there, else the root of d log p / d tau near the best grid point."""
        t = np.concatenate((self.grid, self.tau_nodes))
        g = np.concatenate((self.grid_g, self.conditional(self.tau_nodes)[0]))
        order = np.argsort(t)
        t, g = t[order], g[order]
        j = int(np.argmax(g))
        if j == 0 or g[j] - g[0] <= 1e-12 * (1 + abs(g[j])):  # highest at the lower bound
            return float(t[0])
        if j == len(t) - 1 and not self.infinite:
            return float(t[-1])
        lo, hi = float(t[j - 1]), float(t[min(j + 1, len(t) - 1)])

        def fdf(x: float) -> tuple[float, float]:
            d = float(self.dlog(np.array([x]))[0])
            h = 1e-7 * max(abs(x), 1e-300)
            dd = (float(self.dlog(np.array([x + h]))[0]) - float(self.dlog(np.array([x - h]))[0])) / (2 * h)
            return -d, -dd

        if fdf(lo)[0] > 0 or fdf(hi)[0] < 0:  # the grid point itself is the best we can do
            return float(t[j])
        return _increasing_root(fdf, lo, hi)

    def local_maxima(self) -> int:
        """How many local maxima p(tau | y) has on the fine grid (for the bimodality note)."""
        g = self.grid_g
        finite = g[np.isfinite(g)]
        if len(finite) < 3:
            return 1
        tol = 1e-9 * (1 + abs(finite.max()))
        up = np.diff(finite)
        sign = np.where(up > tol, 1, np.where(up < -tol, -1, 0))
        sign = sign[sign != 0]
        peaks = int(np.sum((sign[:-1] > 0) & (sign[1:] < 0)))
        if len(sign) and sign[0] < 0:
            peaks += 1  # highest at the lower bound
        if len(sign) and sign[-1] > 0 and not self.infinite:
            peaks += 1  # highest at the upper bound
        return max(peaks, 1)


def _increasing_root(fdf: Callable[[float], tuple[float, float]], lo: float, hi: float) -> float:
    """Root of an increasing function with f(lo) <= 0 <= f(hi): Newton inside the bracket,
    bisection where Newton would leave it."""
    x = 0.5 * (lo + hi)
    for _ in range(200):
        f, df = fdf(x)
        if f == 0:
            return x
        if f < 0:
            lo = x
        else:
            hi = x
        nxt = x - f / df if df > 0 and math.isfinite(df) else math.nan
        if abs(nxt - x) <= 1e-14 * max(abs(nxt), 1e-300):
            return nxt  # before the bracket test: a converged step may land on a bound
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)
        if hi - lo <= 4e-16 * max(abs(hi), 1e-300):
            return nxt
        x = nxt
    return x


# -- mixtures of normals (mu, theta_new, shrinkage) -------------------------------------------


class Mixtures:
    """M mixtures of normals sharing the weights W_j: row r is Σ_j W_j N(means[r, j], sds[r, j]²)."""

    def __init__(self, means: Array, sds: Array, weights: Array) -> None:
        keep = weights > 1e-22 * weights.max()
        self.means, self.sds, self.w = means[:, keep], sds[:, keep], weights[keep] / weights[keep].sum()

    def _z(self, x: Array) -> Array:
        out: Array = (x[..., None] - self.means[:, None, :]) / self.sds[:, None, :]
        return out

    def cdf_sf(self, x: Array) -> tuple[Array, Array]:
        """x: (M, P) -> P(X <= x), P(X > x)."""
        lo, up = norm_cdf_sf(self._z(x))
        return lo @ self.w, up @ self.w

    def pdf(self, x: Array) -> Array:
        out: Array = (norm_pdf(self._z(x)) / self.sds[:, None, :]) @ self.w
        return out

    def pdf_derivatives(self, x: Array) -> tuple[Array, Array, Array]:
        z = self._z(x)
        s = self.sds[:, None, :]
        phi = norm_pdf(z) / s
        return phi @ self.w, (phi * -z / s) @ self.w, (phi * (z * z - 1) / (s * s)) @ self.w

    def mean_var(self) -> tuple[Array, Array]:
        mean = self.means @ self.w
        var = (self.sds**2 + (self.means - mean[:, None]) ** 2) @ self.w
        return mean, var

    def _rows(self, rows: NDArray[np.intp]) -> Mixtures:
        sub = Mixtures.__new__(Mixtures)
        sub.means, sub.sds, sub.w = self.means[rows], self.sds[rows], self.w
        return sub

    def quantiles(self, p: Array) -> Array:
        """(M, P) quantiles at probabilities p (P,), by safeguarded Newton, all at once (each
        solved on the tail it lies in: F(x) = p below the median, P(X > x) = 1 - p above)."""
        z = np.array([norm_ppf(float(q)) for q in p])
        comp = self.means[:, None, :] + self.sds[:, None, :] * z[None, :, None]
        lo, hi = comp.min(axis=2).ravel(), comp.max(axis=2).ravel()
        x = (comp @ self.w).ravel()
        m, npr = comp.shape[0], len(p)
        rows = np.repeat(np.arange(m), npr)
        upper = np.tile(p > 0.5, m)
        target = np.tile(np.where(p > 0.5, 1 - p, p), m)
        tol = 1e-14 * (np.abs(x) + np.repeat(self.sds @ self.w, npr))
        live = np.arange(len(x))
        for _ in range(200):
            sub = self._rows(rows[live])
            xl = x[live][:, None]
            cdf, sf = (a[:, 0] for a in sub.cdf_sf(xl))
            f = sub.pdf(xl)[:, 0]
            r = np.where(upper[live], target[live] - sf, cdf - target[live])
            lo[live] = np.where(r < 0, x[live], lo[live])
            hi[live] = np.where(r > 0, x[live], hi[live])
            with np.errstate(divide="ignore", invalid="ignore"):
                nxt = x[live] - r / f
            newton = np.isfinite(nxt) & (np.abs(nxt - x[live]) <= tol[live])
            bad = ~newton & (~((nxt > lo[live]) & (nxt < hi[live])) | ~np.isfinite(nxt))
            nxt = np.where(r == 0, x[live], np.where(bad, 0.5 * (lo[live] + hi[live]), nxt))
            done = newton | (r == 0) | (hi[live] - lo[live] <= tol[live])
            x[live] = nxt
            live = live[~done]
            if not len(live):
                break
        out: Array = x.reshape(m, npr)
        return out

    def modes(self, start: Array, lo: Array, hi: Array) -> Array:
        """(M,) roots of f'(x) = 0 between lo and hi (f' > 0 at lo, < 0 at hi), from start."""
        x, lo, hi = start.copy(), lo.copy(), hi.copy()
        tol = 1e-14 * (np.abs(x) + self.sds @ self.w)
        live = np.arange(len(x))
        for _ in range(200):
            sub = self._rows(live)
            _, d1, d2 = (a[:, 0] for a in sub.pdf_derivatives(x[live][:, None]))
            xl = x[live]
            lo[live] = np.where(d1 > 0, xl, lo[live])
            hi[live] = np.where(d1 < 0, xl, hi[live])
            with np.errstate(divide="ignore", invalid="ignore"):
                nxt = xl - d1 / d2
            newton = np.isfinite(nxt) & (d2 < 0) & (np.abs(nxt - xl) <= tol[live])
            bad = ~newton & (~((nxt > lo[live]) & (nxt < hi[live])) | ~np.isfinite(nxt) | (d2 >= 0))
            nxt = np.where(d1 == 0, xl, np.where(bad, 0.5 * (lo[live] + hi[live]), nxt))
            done = newton | (d1 == 0) | (hi[live] - lo[live] <= tol[live])
            x[live] = nxt
            live = live[~done]
            if not len(live):
                break
        result: Array = x
        return result

    def shortest(self, a0: Array, b0: Array) -> tuple[Array, Array]:
        """(M,) shortest 95% intervals: F(b) - F(a) = 0.95 and f(a) = f(b), by Newton on
        (a, b) from the equal-tailed interval (a0, b0), a step halved while it does not reduce
        the residuals."""
        a, b = a0.copy(), b0.copy()
        scale = b0 - a0

        def resid(rows: NDArray[np.intp], a: Array, b: Array) -> tuple[Array, ...]:
            x = np.stack([a, b], axis=1)
            sub = self._rows(rows)
            cdf, sf = sub.cdf_sf(x)
            f, d1, _ = sub.pdf_derivatives(x)
            # the coverage from the tails that are small, so that no digits cancel
            cover = np.where(cdf[:, 1] < 0.5, cdf[:, 1] - cdf[:, 0], sf[:, 0] - sf[:, 1]) - LEVEL
            dens = np.log(f[:, 1]) - np.log(f[:, 0])
            return cover, dens, f[:, 0], f[:, 1], d1[:, 0] / f[:, 0], d1[:, 1] / f[:, 1]

        live = np.arange(len(a))
        state = resid(live, a, b)
        for _ in range(100):
            cover, dens, fa, fb, la, lb = state
            det = fb * la - fa * lb
            with np.errstate(divide="ignore", invalid="ignore"):
                da = (fb * dens - cover * lb) / det
                db = (fa * dens - la * cover) / det
            da = np.where(np.isfinite(da), da, 0.0)
            db = np.where(np.isfinite(db), db, 0.0)
            norm0 = np.abs(cover) + np.abs(dens)
            step = np.ones(len(live))
            new = resid(live, a[live] + da, b[live] + db)
            for _ in range(40):
                worse = np.abs(new[0]) + np.abs(new[1]) > norm0
                if not worse.any():
                    break
                step = np.where(worse, 0.5 * step, step)
                idx = np.flatnonzero(worse)
                retry = resid(
                    live[idx], a[live[idx]] + step[idx] * da[idx], b[live[idx]] + step[idx] * db[idx]
                )
                for full, part in zip(new, retry, strict=True):
                    full[idx] = part
            done = (np.abs(step * da) <= 1e-14 * (np.abs(a[live]) + scale[live])) & (
                np.abs(step * db) <= 1e-14 * (np.abs(b[live]) + scale[live])
            )
            a[live] = a[live] + step * da
            b[live] = b[live] + step * db
            keep = ~done
            live = live[keep]
            state = tuple(v[keep] for v in new)
            if not len(live):
                break
        return a, b

    def local_maxima(self, lo: Array, hi: Array, points: int = 201) -> Array:
        """(M,) how many local maxima each density has on a grid over [lo, hi]."""
        x = lo[:, None] + (hi - lo)[:, None] * np.linspace(-0.5, 1.5, points)[None, :]
        f = self.pdf(x)
        up = np.diff(f, axis=1)
        tol = 1e-10 * f.max(axis=1, keepdims=True)
        sign = np.where(up > tol, 1, np.where(up < -tol, -1, 0))
        counts = []
        for row in sign:
            row = row[row != 0]
            counts.append(int(np.sum((row[:-1] > 0) & (row[1:] < 0))) if len(row) > 1 else 1)
        peaks: Array = np.maximum(np.array(counts, dtype=float), 1.0)
        return peaks


# -- the fit ----------------------------------------------------------------------------------


def fit_bayes(yi: ArrayLike, vi: ArrayLike, tau_prior: TauPrior, mu_prior: MuPrior | None = None) -> BayesFit:
    """The posterior summaries of the normal-normal hierarchical model (module docstring)."""
    mu_prior = mu_prior if mu_prior is not None else flat()
    post = Posterior(yi, vi, tau_prior, mu_prior)
    notes: list[Note] = []
    a = post.tail
    tau_summary = _tau_summary(post, notes)
    tau_n, w = post.tau_nodes, post.weights
    m, s2 = post.m, post.s2
    y, v = post.y, post.v
    b = v[:, None] / (v[:, None] + tau_n[None, :] ** 2)
    means = np.vstack([m, m, y[:, None] - b * (y[:, None] - m[None, :])])
    variances = np.vstack([s2, s2 + tau_n**2, v[:, None] * (1 - b) + b * b * s2[None, :]])
    mix = Mixtures(means, np.sqrt(variances), w)
    summary_arrays = _mixture_summaries(mix)
    mean, sd = summary_arrays.pop("mean"), summary_arrays.pop("sd")
    summaries = {key: [float(x) for x in value] for key, value in summary_arrays.items()}
    # moments that do not exist (posterior tail of tau ~ tau^-a)
    undefined = _undefined_moments(post)
    if undefined:
        if mu_prior.type == "flat":
            notes.append(note("bayes.moments_undefined", parameter="mu", moments=undefined, tail=a))
        notes.append(note("bayes.moments_undefined", parameter="theta_new", moments=undefined, tail=a))
    rows = []
    for r in range(mix.means.shape[0]):
        drop: tuple[str, ...] = ()
        if r <= 1 and (r == 1 or mu_prior.type == "flat"):
            drop = undefined
        rows.append(
            Summary(
                mode=summaries["mode"][r],
                median=summaries["median"][r],
                mean=None if "mean" in drop else float(mean[r]),
                sd=None if "sd" in drop else float(sd[r]),
                q025=summaries["q025"][r],
                q05=summaries["q05"][r],
                q95=summaries["q95"][r],
                q975=summaries["q975"][r],
                shortest95_low=summaries["shortest95_low"][r],
                shortest95_high=summaries["shortest95_high"][r],
            )
        )
    bimodal = summaries["peaks"]
    for r, label in ((0, "mu"), (1, "theta_new")):
        if bimodal[r] > 1:
            notes.append(note("bayes.multimodal", parameter=label, maxima=int(bimodal[r])))
    lml = None
    if tau_prior.proper:
        lml = post.log_norm
    return BayesFit(
        k=post.k,
        tau_prior=tau_prior,
        mu_prior=mu_prior,
        log_marginal_likelihood=lml,
        tau=tau_summary,
        mu=rows[0],
        theta_new=rows[1],
        shrinkage=tuple(rows[2:]),
        notes=tuple(notes),
        posterior=post,
    )


def _undefined_moments(post: Posterior) -> tuple[str, ...]:
    """The moments of tau (and of mu and theta_new, whose tails follow tau's) that do not exist."""
    if not post.has_moment(1):
        return ("mean", "sd")
    return () if post.has_moment(2) else ("sd",)


def _tau_summary(post: Posterior, notes: list[Note]) -> Summary:
    q = {key: post.tau_quantile(p) for key, p in QUANTILES.items()}
    t, w = post.tau_nodes, post.weights
    undefined = _undefined_moments(post)
    mean = None if "mean" in undefined else float(np.sum(w * t))
    sd = None if "sd" in undefined else math.sqrt(float(np.sum(w * (t - np.sum(w * t)) ** 2)))
    if undefined:
        notes.append(note("bayes.moments_undefined", parameter="tau", moments=undefined, tail=post.tail))
    flat_posterior = post.k == 1 and post.mu_prior.type == "flat" and post.tau_prior.type == "uniform"
    if flat_posterior:
        notes.append(note("bayes.tau_posterior_is_prior", prior=post.tau_prior.spec))
        return Summary(None, q["median"], mean, sd, q["q025"], q["q05"], q["q95"], q["q975"], None, None)
    peaks = post.local_maxima()
    if peaks > 1:
        notes.append(note("bayes.multimodal", parameter="tau", maxima=peaks))
    mode = post.tau_mode()
    low, high = _tau_shortest(post, mode, q)
    if peaks > 1:
        low = high = None
    return Summary(mode, q["median"], mean, sd, q["q025"], q["q05"], q["q95"], q["q975"], low, high)


def _tau_shortest(post: Posterior, mode: float, q: dict[str, float]) -> tuple[float | None, float | None]:
    """The 95% highest-density interval of tau (unimodal density): [lower, q95] when the
    density is highest at the lower bound (or f(lower) >= f(q95)), [q05, upper] when highest
    at a finite upper bound, else a with f(a) = f(b(a)), b(a) the point 95% above a."""
    lower, upper = post.lower, post.upper

    def pdf(x: float) -> float:
        return float(post.tau_pdf(np.array([x]))[0])

    if mode <= lower or pdf(lower) >= pdf(q["q95"]):
        return lower, q["q95"]
    if math.isfinite(upper) and (mode >= upper or pdf(upper) >= pdf(q["q05"])):
        return q["q05"], upper

    def b_of(a: float) -> float:
        return post.tau_quantile(min(post.tau_cdf_sf(a)[0] + LEVEL, 1.0))

    def gap(a: float) -> tuple[float, float]:
        b = b_of(a)
        fa, fb = pdf(a), pdf(b)
        # d/da [log f(b) - log f(a)], with db/da = f(a)/f(b)
        da = float(post.dlog(np.array([b]))[0]) * fa / fb - float(post.dlog(np.array([a]))[0])
        return math.log(fb) - math.log(fa), da

    lo, hi = lower, min(mode, q["q05"])
    # gap > 0 at lower (f(lower) < f(q95)), < 0 at q05 (b = upper end, density below)
    a = _decreasing_root(gap, lo, hi)
    return a, b_of(a)


def _decreasing_root(fdf: Callable[[float], tuple[float, float]], lo: float, hi: float) -> float:
    return _increasing_root(lambda x: tuple(-v for v in fdf(x)), lo, hi)  # type: ignore[arg-type,return-value]


def _mixture_summaries(mix: Mixtures) -> dict[str, Array]:
    p = np.array(list(QUANTILES.values()))
    qs = mix.quantiles(p)
    out = {key: qs[:, i] for i, key in enumerate(QUANTILES)}
    mean, var = mix.mean_var()
    out["mean"], out["sd"] = mean, np.sqrt(var)
    out["mode"] = mix.modes(out["median"], out["q025"], out["q975"])
    low, high = mix.shortest(out["q025"], out["q975"])
    out["shortest95_low"], out["shortest95_high"] = low, high
    rows = min(2, mix.means.shape[0])
    peaks = np.ones(mix.means.shape[0])
    sub = mix._rows(np.arange(rows))
    peaks[:rows] = sub.local_maxima(out["q025"][:rows], out["q975"][:rows])
    out["peaks"] = peaks
    return out


# -- densities on a grid (for the posterior plot) ---------------------------------------------


def tau_density(post: Posterior, tau: ArrayLike) -> Array:
    """p(tau | y) at each point of ``tau`` (0 outside the prior's support), vectorised."""
    t = np.asarray(tau, dtype=float).ravel()
    out = np.zeros_like(t)
    inside = (t >= post.lower) & (t <= post.upper)
    if np.any(inside):
        with np.errstate(divide="ignore", invalid="ignore"):
            f = post.tau_pdf(t[inside])
        out[inside] = np.where(np.isfinite(f), f, 0.0)
    return out


def mu_density(post: Posterior, mu: ArrayLike) -> Array:
    """p(mu | y) at each point of ``mu``: the mixture ∫ N(mu; m(tau), s(tau)²) p(tau | y) dtau
    over the quadrature nodes, vectorised."""
    x = np.asarray(mu, dtype=float).ravel()
    mix = Mixtures(post.m[None, :], np.sqrt(post.s2)[None, :], post.weights)
    out: Array = mix.pdf(x[None, :])[0]
    return out


def mu_quantiles(post: Posterior, p: ArrayLike) -> Array:
    """Quantiles of p(mu | y) at the probabilities ``p``."""
    probs = np.asarray(p, dtype=float).ravel()
    mix = Mixtures(post.m[None, :], np.sqrt(post.s2)[None, :], post.weights)
    out: Array = mix.quantiles(probs)[0]
    return out


def tau_prior_density(prior: TauPrior, tau: ArrayLike) -> Array | None:
    """The prior density p(tau) at each point of ``tau``; None for an improper prior (it has no
    density to draw)."""
    if not prior.proper:
        return None
    t = np.asarray(tau, dtype=float).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        f = np.exp(prior.log_density(t, np.ones(1)))
    out: Array = np.where(np.isfinite(f), f, 0.0)
    return out


def mu_prior_density(prior: MuPrior, mu: ArrayLike) -> Array | None:
    """The prior density p(mu) at each point of ``mu``; None for the flat (improper) prior."""
    if prior.type != "normal":
        return None
    assert prior.mean is not None and prior.sd is not None
    x = np.asarray(mu, dtype=float).ravel()
    out: Array = norm_pdf((x - prior.mean) / prior.sd) / prior.sd
    return out


# -- probabilities ----------------------------------------------------------------------------


def p_mu_below(post: Posterior, c: float) -> float:
    """P(mu < c | y)."""
    return _p_below(post, post.m, np.sqrt(post.s2), c)


def p_theta_new_below(post: Posterior, c: float) -> float:
    """P(theta_new < c | y), theta_new a new study's true effect."""
    return _p_below(post, post.m, np.sqrt(post.s2 + post.tau_nodes**2), c)


def p_tau_above(post: Posterior, x: float) -> float:
    """P(tau > x | y)."""
    return min(max(post.tau_cdf_sf(float(x))[1], 0.0), 1.0)


def _p_below(post: Posterior, m: Array, s: Array, c: float) -> float:
    cdf, _ = norm_cdf_sf((float(c) - m) / s)
    return min(max(float(np.sum(post.weights * cdf)), 0.0), 1.0)
