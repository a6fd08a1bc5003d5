"""Inverse-variance pooling: the common-effect model and the random-effects model with any
tau² estimator, Wald or Hartung-Knapp-Sidik-Jonkman intervals, and the prediction interval."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from metamg.models.distributions import norm_ppf, norm_sf, t_ppf, t_sf
from metamg.models.heterogeneity import q_summary
from metamg.models.profiles import DEFAULT_PROFILE, PROFILES
from metamg.models.projection import InterceptFit
from metamg.models.qprofile import q_profile
from metamg.models.results import PoolResult
from metamg.models.tau2 import TAU2_ESTIMATORS, tau2_given_null
from metamg.models.weights import knapp_hartung_scale, weighted_mean
from metamg.notes import Note, note
from metamg.vocabulary import CI_METHODS, COMMON_EFFECT, PI_RULES

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

# A Knapp-Hartung factor this close to 1 is 1 (Paule-Mandel and empirical Bayes make it 1 by
# construction, REML and ML often with two studies): not "narrower than Wald"
HK_FACTOR_ROUNDING = 1e-8

# fit() from arrays and pool() from a study set answer alike when given nothing: the default
# profile's method and CI (cochrane: REML with HKSJ)
_DEFAULT = PROFILES[DEFAULT_PROFILE]


def fit(
    yi: ArrayLike,
    vi: ArrayLike,
    method: str = _DEFAULT.method,
    ci_method: str = _DEFAULT.ci_method,
    level: float = 0.95,
    pi: str = "default",
    studies: Iterable[str] = (),
    tau2_ci: bool = True,
) -> PoolResult:
    """Pool ``yi`` with sampling variances ``vi``.

    Defaults are the default profile's (cochrane: REML and "hk"), as ``pool`` uses; metafor's
    rma() default is ci_method="wald".

    method: FE (alias EE, CE) or a tau² estimator (DL, REML, ML, PM, HE, SJ, EB, HS).
    ci_method: "wald" (z), "hk" (Hartung & Knapp 2001; Sidik & Jonkman 2002: t(k-1) with the variance
        scaled by Σw r²/(k-1), not truncated, as metafor's test="knha"), or "hk-adhoc" (the
        scale truncated below at 1, Knapp & Hartung 2003, so never narrower than Wald).
    pi: "default" = metafor's predict(): z with wald, t(k-1) with hk; "hts" = t(k-2)
        (Higgins, Thompson & Spiegelhalter 2009, eq. 12).
    """
    yi = np.asarray(yi, dtype=float)
    vi = np.asarray(vi, dtype=float)
    method = method.upper()
    if method in COMMON_EFFECT:
        method = "FE"
    if method != "FE" and method not in TAU2_ESTIMATORS:
        raise ValueError(f"unknown method {method!r}")
    if ci_method not in CI_METHODS:
        raise ValueError(f"unknown CI method {ci_method!r}")
    if pi not in PI_RULES:
        raise ValueError(f"unknown prediction-interval rule {pi!r}")
    k = len(yi)
    if k == 0:
        raise ValueError("no studies to pool")
    if len(vi) != k:
        raise ValueError(f"{k} effects but {len(vi)} variances")
    studies = tuple(studies)
    if studies and len(studies) != k:
        raise ValueError(f"{k} effects but {len(studies)} study labels")
    warnings: list[Note] = []
    rules: list[Note] = []

    # the fit at tau² = 0, computed once: Cochran's Q, the typical variance, the start and the
    # test at 0 of the iterative estimators, and the Q-profile's first step all come from it
    null = InterceptFit(yi, vi, 0.0) if k > 1 else None
    tau2 = 0.0 if method == "FE" or null is None else tau2_given_null(method, yi, vi, null)
    w = 1.0 / (vi + tau2)
    est, sw = weighted_mean(yi, w)
    se = math.sqrt(1.0 / sw)

    ci_used = ci_method
    if ci_method != "wald" and k == 1:
        ci_used = "wald"
        warnings.append(note("ci.needs_two_studies", ci_method=ci_method))
    df, s2 = None, 1.0
    adhoc: tuple[float, float] | None = None
    profile = tau2_ci and method != "FE"
    resid2 = (yi - est) ** 2 if ci_used != "wald" or profile else None
    q_at_estimate = None if resid2 is None else float(w @ resid2)  # the generalized Q at tau²
    if ci_used == "wald":
        crit = norm_ppf(1 - (1 - level) / 2)
    else:
        df = k - 1
        s2 = knapp_hartung_scale(cast(float, q_at_estimate), df, ci_used)
        crit = t_ppf(1 - (1 - level) / 2, df)
        if ci_used == "hk" and s2 < 1 - HK_FACTOR_ROUNDING:
            # narrower than the Wald interval of the same model: the ad hoc correction (Knapp &
            # Hartung 2003; metafor's test="adhoc") is shown beside it (Roever et al. 2015)
            adhoc = (est - crit * se, est + crit * se)
            if s2 > 0:  # at 0 the zero-width warning below says it, and more
                warnings.append(note("ci.hk_narrower_than_wald", hk_scale=s2))
        se *= math.sqrt(s2)
        if method == "FE":
            warnings.append(note("ci.hk_common_effect"))
    if se > 0:
        stat = est / se
        p = 2 * norm_sf(abs(stat)) if df is None else 2 * t_sf(abs(stat), df)
    else:  # studies agreeing exactly make the HK scale 0; R's est/0 gives Inf (or NaN for 0/0)
        stat = math.copysign(math.inf, est) if est != 0 else math.nan
        p = 0.0 if est != 0 else math.nan
        warnings.append(note("ci.hk_zero_width"))

    q, dq0 = (0.0, 0.0) if null is None else _cochran_q(null)
    q_df = k - 1
    q_p, i2_q, h2_q = q_summary(q, q_df)

    result: dict[str, Any] = dict(
        model="inverse-variance",
        method=method,
        ci_method=ci_used,
        level=level,
        k=k,
        estimate=est,
        se=se,
        ci_low=est - crit * se,
        ci_high=est + crit * se,
        ci_adhoc_low=adhoc[0] if adhoc else None,
        ci_adhoc_high=adhoc[1] if adhoc else None,
        statistic=stat,
        p=p,
        df=df,
        q=q,
        q_df=q_df,
        q_p=q_p,
        i2_q=i2_q,
        studies=tuple(studies),
        yi=yi,
        vi=vi,
        weights=100 * w / sw,
        hk_scale=s2,
    )
    if method == "FE":
        result.update(
            i2=i2_q, h2=h2_q, tau2=0.0, tau=0.0, pi_low=result["ci_low"], pi_high=result["ci_high"], pi_df=df
        )
        rules += [note("model.common_effect"), note("i2.from_q")]
    else:
        vt = _typical_variance(null, k)
        i2 = 100 * tau2 / (tau2 + vt) if tau2 > 0 else 0.0
        h2 = (tau2 + vt) / vt if vt > 0 else 1.0
        result.update(i2=i2, h2=h2, tau2=tau2, tau=math.sqrt(tau2))
        rules += [note("model.random_effects", method=method), note("i2.from_tau2")]
        if tau2_ci:
            near = None
            if resid2 is not None and q_at_estimate is not None:
                near = (tau2, q_at_estimate, -float((w * w) @ resid2))
            iv = q_profile(yi, vi, level, at_zero=(q, dq0), near=near)
            result.update(
                tau2_ci_low=iv.low,
                tau2_ci_high=iv.high,
                i2_ci_low=100 * iv.low / (iv.low + vt) if iv.low > 0 else 0.0 * iv.low,
                i2_ci_high=100 * iv.high / (iv.high + vt) if iv.high > 0 else 0.0 * iv.high,
            )
            rules.append(note("tau2_ci.q_profile"))
            if iv.empty:
                warnings.append(note("tau2_ci.empty"))
        pi_low, pi_high, pi_df = _prediction_interval(est, result["se"], tau2, k, level, ci_used, pi)
        result.update(pi_low=pi_low, pi_high=pi_high, pi_df=pi_df)
        rules.append(_pi_rule(ci_used, pi, k))
    rules.insert(1, note("ci", ci_method=ci_used))
    return PoolResult(**result, warnings=tuple(warnings), rules=tuple(rules))


def _cochran_q(null: InterceptFit) -> tuple[float, float]:
    """Cochran's Q and its derivative in tau² at 0 from the fit at tau² = 0, as
    ``weights.cochran_q`` and ``generalized_q`` compute them (the same operations)."""
    wr2 = null.w * null.resid**2
    return float(wr2.sum()), float(-(null.w @ wr2))


def _typical_variance(null: InterceptFit | None, k: int) -> float:
    """``weights.typical_variance`` from the fit at tau² = 0 (its trace of P is the spread of
    the weights 1/v); 0 for one study."""
    if null is None:
        return 0.0
    denom = null.trace_p()
    return (k - 1) / denom if denom > 0 else 0.0


def _prediction_interval(
    est: float, se: float, tau2: float, k: int, level: float, ci_method: str, rule: str
) -> tuple[float, float, int | None]:
    half = math.sqrt(se * se + tau2)
    if rule == "hts":
        if k < 3:
            return float("nan"), float("nan"), None
        df = k - 2
        crit = t_ppf(1 - (1 - level) / 2, df)
    elif ci_method == "wald":
        df, crit = None, norm_ppf(1 - (1 - level) / 2)
    else:
        df = k - 1
        crit = t_ppf(1 - (1 - level) / 2, df)
    return est - crit * half, est + crit * half, df


def _pi_rule(ci_method: str, rule: str, k: int) -> Note:
    if rule == "hts":
        return note("pi.hts") if k >= 3 else note("pi.hts_too_few")
    return note("pi.predict", distribution="z" if ci_method == "wald" else "t")
