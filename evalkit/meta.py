"""Fixed- and random-effects meta-analysis (inverse-variance), as metafor's ``rma`` does it.

The cross-area synthesis report pools each area's estimate with :func:`meta_analysis`: a
pooled effect with its confidence interval, between-area heterogeneity (tau², I², H², Q),
a prediction interval for a new area, a leave-one-out table and a forest plot.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ._validate import check_choice, check_level, numeric_array
from .errors import DataError, EvalkitWarning, ParameterError
from .results import Result

__all__ = ["MetaAnalysis", "meta_analysis", "METHODS"]

#: tau² estimators: restricted maximum likelihood, DerSimonian-Laird, Paule-Mandel, fixed effect
METHODS = ("REML", "DL", "PM", "FE")

_FEW_STUDIES = 5  # below this, tau² and I² are too imprecise to lean on (warn)
_ESTIMATE_COLUMNS = ("estimate", "yi", "effect")
_SE_COLUMNS = ("se", "sei", "std_error")
_VARIANCE_COLUMNS = ("variance", "vi", "var")
_LABEL_COLUMNS = ("label", "area", "study")


# -- estimation -----------------------------------------------------------------------------


def _p_matrix(w: np.ndarray) -> np.ndarray:
    """P = W - W 1 (1'W1)^-1 1'W for the intercept-only model."""
    return np.diag(w) - np.outer(w, w) / w.sum()


def _tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    w = 1 / v
    mu = np.sum(w * y) / w.sum()
    q = np.sum(w * (y - mu) ** 2)
    return max(0.0, (q - (len(y) - 1)) / (w.sum() - np.sum(w**2) / w.sum()))


def _tau2_reml(y: np.ndarray, v: np.ndarray, tol: float = 1e-10, maxiter: int = 1000) -> float:
    """Fisher scoring on the restricted likelihood, truncated at zero (Viechtbauer 2005)."""
    tau2 = _tau2_dl(y, v)
    for _ in range(maxiter):
        p = _p_matrix(1 / (v + tau2))
        py = p @ y
        step = (py @ py - np.trace(p)) / np.sum(p * p)
        new = max(0.0, tau2 + step)
        if abs(new - tau2) < tol:
            return new
        tau2 = new
    raise DataError("the REML estimate of tau² did not converge; try method='DL' or 'PM'")


def _generalised_q(tau2: float, y: np.ndarray, v: np.ndarray) -> float:
    w = 1 / (v + tau2)
    mu = np.sum(w * y) / w.sum()
    return float(np.sum(w * (y - mu) ** 2))


def _tau2_pm(y: np.ndarray, v: np.ndarray) -> float:
    """Paule-Mandel: the tau² at which the generalised Q equals its expectation k - 1."""
    target = len(y) - 1
    if _generalised_q(0.0, y, v) <= target:
        return 0.0
    upper = max(float(np.var(y)), 1e-8)
    while _generalised_q(upper, y, v) > target:
        upper *= 2
    return float(
        optimize.brentq(lambda t: _generalised_q(t, y, v) - target, 0.0, upper, xtol=1e-14)
    )


def _fit(y: np.ndarray, v: np.ndarray, method: str, knha: bool, level: float) -> dict[str, Any]:
    """All summary statistics of one meta-analysis (used for the full fit and leave-one-out)."""
    k = len(y)
    w_fe = 1 / v
    mu_fe = np.sum(w_fe * y) / w_fe.sum()
    q = float(np.sum(w_fe * (y - mu_fe) ** 2))
    q_df = k - 1
    p_fe = _p_matrix(w_fe)
    tr_p_fe = float(np.trace(p_fe))

    if method == "FE":
        tau2 = 0.0
    elif method == "DL":
        tau2 = _tau2_dl(y, v)
    elif method == "REML":
        tau2 = _tau2_reml(y, v)
    else:
        tau2 = _tau2_pm(y, v)

    w = 1 / (v + tau2)
    mu = float(np.sum(w * y) / w.sum())
    se = math.sqrt(1 / w.sum())
    if knha:
        # Knapp & Hartung (2003): scale the variance by the weighted residual mean square
        s2 = float(np.sum(w * (y - mu) ** 2)) / (k - 1)
        se = math.sqrt(s2) * se
        df = k - 1
        crit = float(stats.t.ppf(0.5 + level / 2, df))
        statistic = mu / se if se > 0 else math.copysign(math.inf, mu)
        pval = float(2 * stats.t.sf(abs(statistic), df))
    else:
        df = None
        crit = float(stats.norm.ppf(0.5 + level / 2))
        statistic = mu / se
        pval = float(2 * stats.norm.sf(abs(statistic)))

    # heterogeneity statistics as metafor reports them
    if method == "FE":
        i2 = max(0.0, 100 * (q - q_df) / q) if q > 0 else 0.0
        h2 = q / q_df
        tau2_se = None
    else:
        typical_v = q_df / tr_p_fe  # "typical" within-study variance (Higgins & Thompson 2002)
        i2 = 100 * tau2 / (typical_v + tau2)
        h2 = tau2 / typical_v + 1
        if method == "DL":
            tau2_se = math.sqrt(
                (2 * q_df + 4 * tau2 * tr_p_fe + 2 * tau2**2 * np.sum(p_fe * p_fe)) / tr_p_fe**2
            )
        elif method == "REML":
            p = _p_matrix(w)
            tau2_se = math.sqrt(2 / np.sum(p * p))
        else:
            tau2_se = math.sqrt(2 * k**2 / q_df / w.sum() ** 2)

    pi_half = crit * math.sqrt(se**2 + tau2)
    return {
        "estimate": mu,
        "se": se,
        "ci_low": mu - crit * se,
        "ci_high": mu + crit * se,
        "statistic": statistic,
        "p": pval,
        "df": df,
        "tau2": tau2,
        "tau2_se": tau2_se,
        "tau": math.sqrt(tau2),
        "i2": i2,
        "h2": h2,
        "q": q,
        "q_df": q_df,
        "q_p": float(stats.chi2.sf(q, q_df)),
        "pi_low": mu - pi_half,
        "pi_high": mu + pi_half,
        "weights": 100 * w / w.sum(),
    }


# -- the result -------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaAnalysis(Result):
    """A pooled estimate with heterogeneity statistics (see :func:`meta_analysis`).

    Scalar fields: ``estimate, se, ci_low, ci_high, statistic, p, df, tau2, tau2_se, tau,
    i2`` (percent), ``h2, q, q_df, q_p, pi_low, pi_high, k, level, method, knha, test``.
    ``yi``, ``vi``, ``labels`` and ``weights`` (percent) hold the studies.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p: float
    df: int | None
    tau2: float
    tau2_se: float | None
    tau: float
    i2: float
    h2: float
    q: float
    q_df: int
    q_p: float
    pi_low: float
    pi_high: float
    k: int
    level: float
    method: str
    knha: bool
    test: str
    yi: tuple[float, ...] = field(repr=False)
    vi: tuple[float, ...] = field(repr=False)
    labels: tuple[Any, ...] = field(repr=False)
    weights: tuple[float, ...] = field(repr=False)

    _title = "Meta-analysis"

    def to_frame(self) -> pd.DataFrame:
        """One tidy row for the pooled estimate (broom's ``tidy`` + ``glance`` for ``rma``)."""
        row = {"term": "pooled", **self._scalar_fields()}
        return pd.DataFrame([row])

    def studies(self) -> pd.DataFrame:
        """Per-study estimates, standard errors, confidence intervals and weights (%)."""
        y, v = np.asarray(self.yi), np.asarray(self.vi)
        z = float(stats.norm.ppf(0.5 + self.level / 2))
        return pd.DataFrame(
            {
                "estimate": y,
                "se": np.sqrt(v),
                "ci_low": y - z * np.sqrt(v),
                "ci_high": y + z * np.sqrt(v),
                "weight": np.asarray(self.weights),
            },
            index=pd.Index(list(self.labels), name="label"),
        )

    def leave_one_out(self) -> pd.DataFrame:
        """Refit leaving out each study in turn (metafor ``leave1out``).

        Returns a DataFrame indexed by the omitted study with ``estimate, se, statistic, p,
        ci_low, ci_high, q, q_p, tau2, i2, h2, pi_low, pi_high``.
        """
        if self.k < 3:
            raise DataError(
                f"leave-one-out needs at least 3 studies, this meta-analysis has {self.k}",
                allowed="3 or more studies",
            )
        y, v = np.asarray(self.yi), np.asarray(self.vi)
        rows = []
        for i in range(self.k):
            keep = np.arange(self.k) != i
            fit = _fit(y[keep], v[keep], self.method, self.knha, self.level)
            rows.append({k: fit[k] for k in _LOO_COLUMNS})
        return pd.DataFrame(rows, index=pd.Index(list(self.labels), name="omitted"))

    def predict(self, transform: Callable[[Any], Any] | None = None) -> pd.Series:
        """Pooled estimate with confidence and prediction intervals, optionally transformed.

        ``transform=np.exp`` turns log risk ratios into risk ratios (metafor
        ``predict(res, transf=exp)``).
        """
        values = pd.Series(
            {
                "estimate": self.estimate,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "pi_low": self.pi_low,
                "pi_high": self.pi_high,
            }
        )
        return values if transform is None else values.map(lambda x: float(transform(x)))

    def heterogeneity_text(self, *, unit: str = "areas") -> str:
        """Between-study heterogeneity in plain English, for reports.

        Bands follow the Cochrane Handbook's rough guide to I² (section 10.10.2): under 25%
        similar, 25-50% differed a little, 50-75% considerably, 75% or more a lot.
        """
        i2 = self.i2
        if i2 < 25:
            lead = f"Results were similar across {unit}"
        elif i2 < 50:
            lead = f"Results differed a little between {unit}"
        elif i2 < 75:
            lead = f"Results differed considerably between {unit}"
        else:
            lead = f"Results differed a lot between {unit}"
        chance = (
            "more than chance alone would explain"
            if self.q_p < 0.05
            else "no more than chance alone would explain"
        )
        p_text = "p < 0.001" if self.q_p < 0.001 else f"p = {self.q_p:.2g}"
        text = f"{lead} (I² = {i2:.0f}%): {chance} ({p_text})."
        if self.k < _FEW_STUDIES:
            text += f" With only {self.k} {unit}, this is very uncertain."
        return text

    def plot(
        self,
        ax: Any = None,
        *,
        transform: Callable[[Any], Any] | None = None,
        null: float | None = None,
        xlabel: str | None = None,
        title: str | None = None,
    ) -> Any:
        """Forest plot: each study's estimate and CI (boxes sized by weight), the pooled
        diamond and the prediction interval."""
        from .plots.meta import forest_plot

        return forest_plot(self, ax=ax, transform=transform, null=null, xlabel=xlabel, title=title)


_LOO_COLUMNS = (
    "estimate",
    "se",
    "statistic",
    "p",
    "ci_low",
    "ci_high",
    "q",
    "q_p",
    "tau2",
    "i2",
    "h2",
    "pi_low",
    "pi_high",
)


# -- input ------------------------------------------------------------------------------------


def _pick(df: pd.DataFrame, given: Any, candidates: tuple[str, ...]) -> Any:
    if isinstance(given, str):
        if given not in df.columns:
            raise DataError(
                f"estimates has no column named {given!r}",
                column=given,
                allowed="one of " + ", ".join(repr(str(c)) for c in df.columns[:20]),
            )
        return df[given]
    if given is not None:
        return given
    for name in candidates:
        if name in df.columns:
            return df[name]
    return None


def _inputs(
    estimates: Any, se: Any, variance: Any, labels: Any
) -> tuple[np.ndarray, np.ndarray, list[Any]]:
    if isinstance(estimates, pd.DataFrame):
        df = estimates
        est = _pick(df, None, _ESTIMATE_COLUMNS)
        if est is None:
            raise DataError(
                "estimates has no estimate column",
                allowed="a column named " + " or ".join(repr(c) for c in _ESTIMATE_COLUMNS),
            )
        se = _pick(df, se, _SE_COLUMNS)
        if se is None:
            variance = _pick(df, variance, _VARIANCE_COLUMNS)
        labels = _pick(df, labels, _LABEL_COLUMNS)
        if labels is None:
            labels = list(df.index)
        estimates = est
    if (se is None) == (variance is None):
        raise ParameterError(
            "give exactly one of se= and variance=",
            key="se/variance",
            expected="the studies' standard errors (se=) or their sampling variances (variance=)",
        )
    if labels is None:
        labels = (
            list(estimates.index)
            if isinstance(estimates, pd.Series)
            else list(range(1, len(np.atleast_1d(estimates)) + 1))
        )
    labels = list(labels)
    y = numeric_array(np.atleast_1d(estimates), name="estimate")
    spread_name = "se" if se is not None else "variance"
    spread = numeric_array(np.atleast_1d(se if se is not None else variance), name=spread_name)
    if not (len(y) == len(spread) == len(labels)):
        raise DataError(
            f"{len(y)} estimates, {len(spread)} {spread_name} values and {len(labels)} labels",
            allowed="one estimate, one standard error (or variance) and one label per study",
        )
    lab = np.array(labels, dtype=object)
    bad = ~np.isfinite(y) | ~np.isfinite(spread)
    if bad.any():
        raise DataError(
            "missing or infinite estimate or standard error",
            columns=["estimate", spread_name],
            rows=list(lab[bad]),
            allowed="finite numbers for every study (drop studies without results)",
        )
    bad = spread <= 0
    if bad.any():
        raise DataError(
            f"{spread_name} must be above zero",
            column=spread_name,
            rows=list(lab[bad]),
            values=list(spread[bad]),
            allowed="positive numbers (a zero variance means the study claims perfect precision)",
        )
    if len(y) < 2:
        raise DataError(
            "a meta-analysis needs at least two studies",
            rows=list(lab),
            allowed="two or more studies (areas)",
        )
    v = spread**2 if se is not None else spread
    return y, v, labels


def meta_analysis(
    estimates: Any,
    *,
    se: Any = None,
    variance: Any = None,
    labels: Any = None,
    method: str = "REML",
    knha: bool = False,
    level: float = 0.95,
) -> MetaAnalysis:
    """Pool study (or area) estimates by inverse-variance meta-analysis.

    With sampling variances :math:`v_i` and between-study variance :math:`\\tau^2`,
    weights are :math:`w_i = 1/(v_i + \\tau^2)` and

    .. math::

        \\hat\\mu = \\frac{\\sum w_i y_i}{\\sum w_i}, \\quad
        SE(\\hat\\mu) = \\Big(\\sum w_i\\Big)^{-1/2}, \\quad
        Q = \\sum \\frac{(y_i - \\hat\\mu_{FE})^2}{v_i}.

    :math:`\\tau^2` is estimated by REML (Fisher scoring, truncated at 0), DerSimonian-Laird
    :math:`\\max\\{0, (Q - (k-1)) / (\\sum w - \\sum w^2/\\sum w)\\}`, Paule-Mandel (the value
    making the generalised Q equal to k - 1), or set to 0 (``"FE"``). As in metafor,
    :math:`I^2 = 100\\,\\tau^2/(\\tau^2 + \\tilde v)` and :math:`H^2 = \\tau^2/\\tilde v + 1` with
    the typical within-study variance :math:`\\tilde v = (k-1)/\\operatorname{tr}(P)`
    (for ``"FE"``: :math:`I^2 = (Q - (k-1))/Q`, :math:`H^2 = Q/(k-1)`). The prediction interval
    is :math:`\\hat\\mu \\pm c\\sqrt{SE^2 + \\tau^2}`. With ``knha=True`` the Knapp-Hartung
    adjustment multiplies the variance by :math:`\\sum w_i(y_i - \\hat\\mu)^2/(k-1)` and
    ``c`` is a t quantile with k - 1 degrees of freedom (otherwise normal).

    Parameters
    ----------
    estimates
        Study estimates (array or Series), or a DataFrame with an ``estimate`` (or ``yi``)
        column and ``se``/``sei`` or ``variance``/``vi``, optionally ``label``/``area``.
    se, variance
        Standard errors or sampling variances (exactly one); with a DataFrame, column names.
    labels
        Study labels (with a DataFrame, a column name). Default: the index, or 1..k.
    method
        ``"REML"`` (default), ``"DL"``, ``"PM"`` or ``"FE"``.
    knha
        Knapp-Hartung (Hartung-Knapp-Sidik-Jonkman) adjustment of the standard error.
    level
        Confidence level of the confidence and prediction intervals.

    Returns
    -------
    MetaAnalysis
        ``.estimate, .se, .ci_low, .ci_high, .tau2, .tau2_se, .i2, .h2, .q, .q_p, .pi_low,
        .pi_high``; ``.leave_one_out()``, ``.studies()``, ``.predict(transform)``,
        ``.heterogeneity_text()``, ``.plot()``.

    Raises
    ------
    DataError
        Fewer than two studies; a zero, negative, missing or infinite variance or estimate
        (the studies are named).

    Warns
    -----
    EvalkitWarning
        Random-effects models with fewer than 5 studies: tau² and I² are very imprecise.

    References
    ----------
    DerSimonian R, Laird N (1986). Controlled Clinical Trials 7:177-188.
    Paule RC, Mandel J (1982). J Res Natl Bur Stand 87:377-385.
    Viechtbauer W (2005). J Educ Behav Stat 30:261-293; (2010) J Stat Softw 36(3).
    Knapp G, Hartung J (2003). Stat Med 22:2693-2710.
    Higgins JPT, Thompson SG (2002). Stat Med 21:1539-1558.

    Examples
    --------
    >>> res = meta_analysis([0.30, 0.10, 0.45, 0.25, 0.05], se=[0.1, 0.12, 0.15, 0.09, 0.2])
    >>> round(res.estimate, 3), res.method
    (0.246, 'REML')
    """
    check_choice("method", method, METHODS)
    level = check_level(level)
    if not isinstance(knha, bool):
        raise ParameterError(f"knha={knha!r} is not allowed", key="knha", expected="True or False")
    y, v, labels = _inputs(estimates, se, variance, labels)
    k = len(y)
    if method != "FE" and k < _FEW_STUDIES:
        warnings.warn(
            f"only {k} studies: the between-study variance (tau²) and I² are very imprecise "
            "with fewer than 5, so treat statements about heterogeneity with caution",
            EvalkitWarning,
            stacklevel=2,
        )
    if method == "FE" and knha:
        warnings.warn(
            "the Knapp-Hartung adjustment is meant for random-effects models, not method='FE'",
            EvalkitWarning,
            stacklevel=2,
        )
    fit = _fit(y, v, method, knha, level)
    weights = fit.pop("weights")
    return MetaAnalysis(
        **fit,
        k=k,
        level=level,
        method=method,
        knha=knha,
        test="t" if knha else "z",
        yi=tuple(float(a) for a in y),
        vi=tuple(float(a) for a in v),
        labels=tuple(labels),
        weights=tuple(float(a) for a in weights),
    )
