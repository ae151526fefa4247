"""Interrupted time series: segmented regression with level and slope change.

Public: :func:`its` returning an :class:`ItsResult` whose ``level_change`` and
``slope_change`` are :class:`ItsEffect` results.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, check_level, check_positive_int
from ..errors import DataError, EvalkitWarning, ParameterError
from ..results import Result
from ._panel import check_series_times, code_of, numeric_column, require, time_codes

__all__ = ["its", "ItsResult", "ItsEffect"]

#: points needed on each side of the interruption (Wagner et al. 2002 recommend 12; 8 is our floor)
MIN_POINTS = 8
_SCALES = {
    "gaussian": "difference",
    "poisson": "rate ratio",
    "quasipoisson": "rate ratio",
    "binomial": "odds ratio",
}


@dataclass(frozen=True)
class ItsEffect(Result):
    """One segmented-regression coefficient, on the reported scale.

    ``estimate``, ``ci_low`` and ``ci_high`` are on ``scale``: an absolute difference for
    the Gaussian family, a rate ratio (Poisson, quasi-Poisson) or an odds ratio
    (binomial), i.e. the exponentiated coefficient. ``coef`` and ``se`` are the
    coefficient and its standard error on the model's linear-predictor scale (as broom's
    ``tidy(exponentiate = TRUE)`` reports them).
    """

    term: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    coef: float
    scale: str
    level: float
    _title = "Interrupted time series effect"


@dataclass(frozen=True)
class ItsResult(Result):
    """Result of :func:`its`.

    ``level_change`` is the step at the interruption and ``slope_change`` the change in
    trend per period (``None`` with ``slope_change=False``). ``series`` holds, per period,
    the observed value, the fitted value and the counterfactual (the pre-interruption
    trend and seasonality carried forward), on the rate scale when a denominator is given.
    ``coefficients`` is the full coefficient table. ``ljung_box_p`` and ``durbin_watson``
    check the residuals for autocorrelation; ``dispersion`` is the Pearson statistic over
    its degrees of freedom (near 1 for a well-specified Poisson or binomial model).
    """

    level_change: ItsEffect
    slope_change: ItsEffect | None
    n: int
    n_pre: int
    n_post: int
    level: float
    method: str
    family: str
    scale: str
    seasonality: int
    period: float
    hac_lags: int | None
    ljung_box_stat: float
    ljung_box_lags: int
    ljung_box_p: float
    durbin_watson: float
    dispersion: float
    interruption: Any
    series: pd.DataFrame = field(repr=False)
    coefficients: pd.DataFrame = field(repr=False)
    _title = "Interrupted time series"

    @property
    def estimate(self) -> float:
        """The level change on the reported scale (a shortcut for ``level_change.estimate``)."""
        return self.level_change.estimate

    def to_frame(self) -> pd.DataFrame:
        """One row per effect (level change, slope change)."""
        effects = [e for e in (self.level_change, self.slope_change) if e is not None]
        out = pd.concat([e.to_frame() for e in effects], ignore_index=True)
        out["n"] = self.n
        out["method"] = self.method
        return out

    def plot(self, ax: Any = None) -> Any:
        """Observed series with the fitted lines and the counterfactual after the interruption."""
        from ..plots.area import its_plot

        return its_plot(self, ax=ax)


def its(
    df: pd.DataFrame,
    *,
    outcome: str,
    time: str,
    interruption: Any,
    family: str = "gaussian",
    offset: str | None = None,
    denominator: str | None = None,
    seasonality: int = 0,
    period: float = 12,
    slope_change: bool = True,
    hac_lags: int | None = None,
    level: float = 0.95,
) -> ItsResult:
    r"""Segmented regression for an interrupted time series.

    With periods numbered :math:`\tau = 0, 1, \dots` and the interruption at
    :math:`\tau_0` (the first period of the new regime), the model for the mean
    :math:`\mu_\tau` with link :math:`g` is

    .. math:: g(\mu_\tau) = \beta_0 + \beta_1 \tau + \beta_2 P_\tau + \beta_3 (\tau-\tau_0) P_\tau
              + \sum_{k=1}^{K}\left[\gamma_k \sin\frac{2\pi k\tau}{L}
              + \delta_k \cos\frac{2\pi k\tau}{L}\right] + \log(\text{offset}),

    with :math:`P_\tau = 1\{\tau \ge \tau_0\}`, :math:`K` = ``seasonality`` Fourier pairs
    of period :math:`L` = ``period`` (12 for monthly data). :math:`\beta_2` is the level
    change and :math:`\beta_3` the slope change (Wagner et al. 2002; Bernal, Cummins &
    Gasparrini 2017). Gaussian: OLS with Newey–West (Bartlett kernel) standard errors with
    ``hac_lags`` lags (default :math:`\lfloor 4 (n/100)^{2/9} \rfloor`), no small-sample
    adjustment, t reference distribution (as R ``lmtest::coeftest(fit,
    sandwich::NeweyWest(fit, lag, prewhite = FALSE))``). Poisson: log link with
    :math:`\log(\text{denominator})` or ``offset`` (already on the log scale) as offset;
    effects are rate ratios. Quasi-Poisson: the same with standard errors scaled by the
    Pearson dispersion. Binomial: ``outcome`` successes out of ``denominator`` trials,
    logit link; effects are odds ratios. For count families ``hac_lags`` switches to
    Newey–West standard errors too. For the Gaussian family a ``denominator`` makes the
    outcome the proportion ``outcome / denominator``.

    Residual autocorrelation is checked with the Ljung–Box test (lags
    :math:`\min(\max(L, 6), n/4)`) and the Durbin–Watson statistic on Pearson
    residuals; a warning is given when the Ljung–Box p-value is below 0.05.

    Parameters
    ----------
    df
        One row per period.
    outcome, time
        Column names; ``time`` holds numbers or dates (monthly dates become months).
    interruption
        The first period after the change (a value like those in ``time``).
    family
        ``"gaussian"``, ``"poisson"``, ``"quasipoisson"`` or ``"binomial"``.
    offset
        Column with a log-scale offset (count families; not with ``denominator``).
    denominator
        Column with the population at risk (Poisson: rate denominator; binomial: trials).
    seasonality
        Number of Fourier sine-cosine pairs (0 for none).
    period
        Length of the seasonal cycle in periods.
    slope_change
        Fit the change in slope (otherwise a level change only).
    hac_lags
        Newey–West lags.
    level
        Confidence level.

    Returns
    -------
    ItsResult

    References
    ----------
    Wagner, A. K., Soumerai, S. B., Zhang, F. & Ross-Degnan, D. (2002). Segmented
    regression analysis of interrupted time series studies in medication use research.
    *J Clin Pharm Ther* 27, 299-309.
    Bernal, J. L., Cummins, S. & Gasparrini, A. (2017). Interrupted time series regression
    for the evaluation of public health interventions: a tutorial. *Int J Epidemiol* 46,
    348-355.

    Examples
    --------
    >>> from evalkit.simulate import interrupted_series
    >>> s = interrupted_series(family="poisson", seed=3)
    >>> res = its(s, outcome="count", time="month", interruption=25, family="poisson",
    ...           denominator="population", seasonality=1)
    >>> res.level_change.scale
    'rate ratio'
    """
    level, seasonality, hac_lags, period = _check_parameters(
        family, level, seasonality, hac_lags, period, offset, denominator
    )
    require(df, [outcome, time, offset, denominator])
    series = _prepare_series(df, time, interruption)
    data, tau, post = series.data, series.tau, series.post

    y = numeric_column(data, outcome, what="outcome")
    den = numeric_column(data, denominator, what="denominator") if denominator else None
    off = numeric_column(data, offset, what="offset") if offset else None
    _check_family_values(data, y, den, family, outcome, denominator)

    names, x = _design_matrix(tau, post, slope_change, seasonality, period)
    if hac_lags is None and family == "gaussian":
        hac_lags = int(math.floor(4 * (len(y) / 100) ** (2 / 9)))
    fit, resid, fitted_mu, log_offset, response, rate_div = _fit(family, y, den, off, x, hac_lags)
    effects, coef_table, df_resid = _effects(fit, names, family, level)

    cf = _counterfactual(fit, x, names, family, log_offset)
    series_table = pd.DataFrame(
        {
            "time": data[time].to_numpy(),
            "observed": response / rate_div,
            "fitted": fitted_mu / rate_div,
            "counterfactual": cf / rate_div,
            "post": post,
        }
    )
    series_table.loc[~post, "counterfactual"] = np.nan

    checks = _diagnostics(resid, family, period, df_resid, hac_lags)

    label = {
        "gaussian": "OLS",
        "poisson": "Poisson GLM",
        "quasipoisson": "quasi-Poisson GLM",
        "binomial": "binomial GLM",
    }[family]
    se_label = f", Newey-West SE ({hac_lags} lags)" if hac_lags is not None else ""
    return ItsResult(
        level_change=effects["level_change"],
        slope_change=effects["slope_change"] if slope_change else None,
        n=len(y),
        n_pre=series.n_pre,
        n_post=series.n_post,
        level=level,
        method=f"segmented regression, {label}{se_label}"
        + (f", {seasonality} Fourier pair(s) of period {period:g}" if seasonality else ""),
        family=family,
        scale=_SCALES[family],
        seasonality=seasonality,
        period=period,
        hac_lags=hac_lags,
        **checks,
        interruption=interruption,
        series=series_table,
        coefficients=coef_table,
    )


# -- the steps of its() ---------------------------------------------------------------------


def _check_parameters(
    family: str,
    level: float,
    seasonality: int,
    hac_lags: int | None,
    period: Any,
    offset: str | None,
    denominator: str | None,
) -> tuple[float, int, int | None, float]:
    """Validation of the arguments (not the data): the checked level, seasonality, lags, period."""
    check_choice("family", family, list(_SCALES))
    level = check_level(level)
    seasonality = check_positive_int("seasonality", seasonality, minimum=0)
    if hac_lags is not None:
        hac_lags = check_positive_int("hac_lags", hac_lags, minimum=0)
    try:
        period = float(period)
    except (TypeError, ValueError):
        period = float("nan")
    if not (math.isfinite(period) and period > 1):
        raise ParameterError(
            f"period={period!r} is not allowed",
            key="period",
            expected="the length of the seasonal cycle, e.g. 12 for months",
        )
    if offset is not None and denominator is not None:
        raise ParameterError(
            "give either offset or denominator, not both",
            key="offset",
            expected="offset=None when denominator is given",
        )
    if family == "binomial" and denominator is None:
        raise ParameterError(
            "the binomial family needs the number of trials",
            key="denominator",
            expected="a column with the denominators",
        )
    if family == "gaussian" and offset is not None:
        raise ParameterError(
            "offset is for count families",
            key="offset",
            expected="offset=None with family='gaussian'",
        )
    return level, seasonality, hac_lags, period


@dataclass(frozen=True)
class _Series:
    """The rows in time order, period numbers ``tau`` (0, 1, ...) and the post indicator."""

    data: pd.DataFrame
    tau: np.ndarray
    post: np.ndarray
    n_pre: int
    n_post: int


def _prepare_series(df: pd.DataFrame, time: str, interruption: Any) -> _Series:
    """Validation of the series: regular times, the interruption inside, enough points each side."""
    if len(df) == 0:
        raise DataError("the series is empty")
    data = df.reset_index(drop=True) if not df.index.is_unique else df
    codes, kind = time_codes(data[time], column=time)
    step = check_series_times(data, codes, column=time)
    order = np.argsort(codes, kind="stable")
    data = data.iloc[order]
    codes = codes[order]
    tau = np.rint((codes - codes[0]) / step)
    cut = code_of(interruption, kind, key="interruption")
    first, last = data[time].iloc[0], data[time].iloc[-1]
    if not codes[0] < cut <= codes[-1]:
        raise DataError(
            f"the interruption {interruption!r} is outside the series ({first!r} to {last!r})",
            column=time,
            allowed="the first period after the change, after the first period of the series",
        )
    post = codes >= cut
    n_pre, n_post = int((~post).sum()), int(post.sum())
    if min(n_pre, n_post) < MIN_POINTS:
        side = "before" if n_pre < MIN_POINTS else "from"
        raise DataError(
            f"only {min(n_pre, n_post)} period(s) {side} the interruption {interruption!r}; "
            f"segmented regression needs at least {MIN_POINTS} on each side",
            column=time,
            allowed=f"at least {MIN_POINTS} periods before and {MIN_POINTS} from the interruption",
        )
    return _Series(data, tau, post, n_pre, n_post)


def _design_matrix(
    tau: np.ndarray, post: np.ndarray, slope_change: bool, seasonality: int, period: float
) -> tuple[list[str], np.ndarray]:
    """Column names and the design matrix: intercept, trend, level and slope change, Fourier."""
    tau0 = float(tau[post][0])
    cols = {"intercept": np.ones(len(tau)), "trend": tau, "level_change": post.astype(float)}
    if slope_change:
        cols["slope_change"] = (tau - tau0) * post
    for k in range(1, seasonality + 1):
        cols[f"sin{k}"] = np.sin(2 * np.pi * k * tau / period)
        cols[f"cos{k}"] = np.cos(2 * np.pi * k * tau / period)
    x = np.column_stack(list(cols.values()))
    if np.linalg.matrix_rank(x) < x.shape[1]:
        raise ParameterError(
            f"seasonality={seasonality} with period={period:g} makes the Fourier terms "
            "collinear with the trend",
            key="seasonality",
            expected=f"fewer harmonic pairs (at most {int(period // 2) - 1} for period "
            f"{period:g}) or a longer series",
        )
    return list(cols), x


def _effects(
    fit: Any, names: list[str], family: str, level: float
) -> tuple[dict[str, ItsEffect], pd.DataFrame, float]:
    """The level and slope changes on the reported scale, the coefficient table, the residual df.

    Gaussian: t reference on the residual df; count families: normal reference, effects
    exponentiated (rate or odds ratios).
    """
    from scipy import stats

    params = np.asarray(fit.params)
    bse = np.asarray(fit.bse)
    use_t = family == "gaussian"
    df_resid = float(fit.df_resid)
    crit = stats.t.ppf(0.5 + level / 2, df_resid) if use_t else stats.norm.ppf(0.5 + level / 2)

    def effect(name: str) -> ItsEffect:
        j = names.index(name)
        b, s = float(params[j]), float(bse[j])
        stat = b / s if s > 0 else float("nan")
        p = float(2 * (stats.t.sf(abs(stat), df_resid) if use_t else stats.norm.sf(abs(stat))))
        lo, hi = b - crit * s, b + crit * s
        if family != "gaussian":
            return ItsEffect(
                name, math.exp(b), s, math.exp(lo), math.exp(hi), p, b, _SCALES[family], level
            )
        return ItsEffect(name, b, s, lo, hi, p, b, _SCALES[family], level)

    effects = {name: effect(name) for name in ("level_change", "slope_change") if name in names}
    coef_table = pd.DataFrame(
        {
            "term": names,
            "coef": params,
            "se": bse,
            "ci_low": params - crit * bse,
            "ci_high": params + crit * bse,
        }
    )
    return effects, coef_table, df_resid


def _counterfactual(
    fit: Any, x: np.ndarray, names: list[str], family: str, log_offset: Any
) -> np.ndarray:
    """The mean with the level and slope change terms dropped (pre-period trend carried on)."""
    x_cf = x.copy()
    x_cf[:, names.index("level_change")] = 0
    if "slope_change" in names:
        x_cf[:, names.index("slope_change")] = 0
    lin_cf = x_cf @ np.asarray(fit.params)
    if family == "gaussian":
        return lin_cf
    if family == "binomial":
        return 1 / (1 + np.exp(-lin_cf))
    return np.exp(lin_cf + log_offset)


def _diagnostics(
    resid: np.ndarray, family: str, period: float, df_resid: float, hac_lags: int | None
) -> dict[str, Any]:
    """Ljung-Box and Durbin-Watson on the residuals and the Pearson dispersion, with warnings."""
    lb_lags = int(max(1, min(max(int(period), 6), len(resid) // 4)))
    lb_stat, lb_p = _ljung_box(resid, lb_lags)
    dw = float(np.sum(np.diff(resid) ** 2) / np.sum(resid**2))
    dispersion = float(np.sum(resid**2) / df_resid) if family != "gaussian" else float("nan")
    if lb_p < 0.05:
        hint = (
            "Newey-West standard errors allow for it"
            if hac_lags is not None
            else "consider hac_lags, or more seasonal terms"
        )
        warnings.warn(
            f"the residuals are autocorrelated (Ljung-Box p = {lb_p:.3g} at {lb_lags} lags, "
            f"Durbin-Watson {dw:.2f}): successive periods are not independent, so naive "
            f"standard errors are too small; {hint}",
            EvalkitWarning,
            stacklevel=3,
        )
    if family == "poisson" and dispersion > 1.5:
        warnings.warn(
            f"the counts are overdispersed (Pearson dispersion {dispersion:.2f}): Poisson "
            "intervals are too narrow; use family='quasipoisson'",
            EvalkitWarning,
            stacklevel=3,
        )
    return {
        "ljung_box_stat": lb_stat,
        "ljung_box_lags": lb_lags,
        "ljung_box_p": lb_p,
        "durbin_watson": dw,
        "dispersion": dispersion,
    }


def _check_family_values(data, y, den, family, outcome, denominator) -> None:
    if den is not None and (den <= 0).any():
        bad = den <= 0
        raise DataError(
            "the denominator must be positive",
            column=denominator,
            rows=list(data.index[bad]),
            values=list(den[bad][:5]),
            allowed="numbers above 0",
        )
    if family in ("poisson", "quasipoisson", "binomial") and (y < 0).any():
        bad = y < 0
        raise DataError(
            "counts cannot be negative",
            column=outcome,
            rows=list(data.index[bad]),
            values=list(y[bad][:5]),
            allowed="counts of 0 or more",
        )
    if family == "binomial" and (y > den).any():
        bad = y > den
        raise DataError(
            "the numerator is larger than the denominator",
            column=outcome,
            rows=list(data.index[bad]),
            values=list(y[bad][:5]),
            allowed="0 <= numerator <= denominator",
        )


def _fit(family, y, den, off, x, hac_lags):
    """Fit the model; return (fit, pearson residuals, fitted mean, log offset, response, divisor)."""
    n = len(y)
    hac = (
        {"cov_type": "HAC", "cov_kwds": {"maxlags": hac_lags, "use_correction": False}}
        if hac_lags is not None
        else {}
    )
    if family == "gaussian":
        from statsmodels.regression.linear_model import OLS

        resp = y / den if den is not None else y
        fit = OLS(resp, x).fit(**hac, **({"use_t": True} if hac else {}))
        return fit, fit.resid, fit.fittedvalues, 0.0, resp, 1.0
    from statsmodels.genmod import families
    from statsmodels.genmod.generalized_linear_model import GLM

    if family == "binomial":
        endog = np.column_stack([y, den - y])
        model = GLM(endog, x, family=families.Binomial())
        fit = model.fit(**hac) if hac else model.fit()
        prop = y / den
        mu = np.asarray(fit.fittedvalues)
        resid = (prop - mu) / np.sqrt(mu * (1 - mu) / den)
        return fit, resid, mu, 0.0, prop, 1.0
    log_off = np.log(den) if den is not None else (off if off is not None else np.zeros(n))
    model = GLM(y, x, family=families.Poisson(), offset=log_off)
    if family == "quasipoisson":
        fit = model.fit(scale="X2", **hac) if hac else model.fit(scale="X2")
    else:
        fit = model.fit(**hac) if hac else model.fit()
    mu = np.asarray(fit.fittedvalues)
    resid = (y - mu) / np.sqrt(mu)
    div = den if den is not None else 1.0
    return fit, resid, mu, log_off, y, div


def _ljung_box(resid: np.ndarray, lags: int) -> tuple[float, float]:
    """Ljung–Box Q statistic and p-value (chi-square with ``lags`` df)."""
    from scipy import stats

    e = resid - resid.mean()
    n = len(e)
    denom = float(e @ e)
    if denom == 0:
        return 0.0, 1.0
    acf = np.array([float(e[k:] @ e[:-k]) / denom for k in range(1, lags + 1)])
    q = float(n * (n + 2) * np.sum(acf**2 / (n - np.arange(1, lags + 1))))
    return q, float(stats.chi2.sf(q, lags))
