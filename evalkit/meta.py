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

__all__ = [
    "MetaAnalysis",
    "MetaRegression",
    "EggerTest",
    "TrimAndFill",
    "meta_analysis",
    "egger_test",
    "trim_and_fill",
    "METHODS",
]

#: tau² estimators: restricted maximum likelihood, DerSimonian-Laird, Paule-Mandel, fixed effect,
#: maximum likelihood, Hunter-Schmidt, Sidik-Jonkman, Hedges, empirical Bayes
METHODS = ("REML", "DL", "PM", "FE", "ML", "HS", "SJ", "HE", "EB")

_FEW_STUDIES = 5  # below this, tau² and I² are too imprecise to lean on (warn)
_ESTIMATE_COLUMNS = ("estimate", "yi", "effect")
_SE_COLUMNS = ("se", "sei", "std_error")
_VARIANCE_COLUMNS = ("variance", "vi", "var")
_LABEL_COLUMNS = ("label", "area", "study")


# -- estimation -----------------------------------------------------------------------------
#
# Every estimator works with a model matrix X (k studies x p coefficients, intercept first);
# the intercept-only model is X = a column of ones. P = W - W X (X'WX)^-1 X'W is the residual
# projector with weights W; y'Py is the (generalised) Q statistic at those weights.


def _intercept(k: int) -> np.ndarray:
    return np.ones((k, 1))


def _p_matrix(w: np.ndarray, x: np.ndarray | None = None) -> np.ndarray:
    """P = W - W X (X'WX)^-1 X'W (for the intercept-only model when ``x`` is None)."""
    if x is None:
        return np.diag(w) - np.outer(w, w) / w.sum()
    wx = x * w[:, None]
    return np.diag(w) - wx @ np.linalg.solve(x.T @ wx, wx.T)


def _generalised_q(tau2: float, y: np.ndarray, v: np.ndarray, x: np.ndarray | None = None) -> float:
    """y'P(tau²)y: the weighted residual sum of squares at weights 1/(v + tau²)."""
    if x is None:
        w = 1 / (v + tau2)
        mu = np.sum(w * y) / w.sum()
        return float(np.sum(w * (y - mu) ** 2))
    return float(y @ _p_matrix(1 / (v + tau2), x) @ y)


def _zeroin(f: Callable[[float], float], lower: float, upper: float, tol: float) -> float:
    """Brent's (1973) root finder, step for step as R's ``uniroot`` (zeroin) takes it, so that
    roots found to metafor's tolerance are the roots metafor reports."""
    eps = np.finfo(float).eps
    a, b = lower, upper
    fa, fb = f(a), f(b)
    if fa == 0:
        return a
    if fb == 0:
        return b
    c, fc = a, fa
    for _ in range(1000):
        prev_step = b - a
        if abs(fc) < abs(fb):
            a, b, c = b, c, b
            fa, fb, fc = fb, fc, fb
        tol_act = 2 * eps * abs(b) + tol / 2
        new_step = (c - b) / 2
        if abs(new_step) <= tol_act or fb == 0:
            return b
        if abs(prev_step) >= tol_act and abs(fa) > abs(fb):
            cb = c - b
            if a == c:  # secant
                t1 = fb / fa
                p, q = cb * t1, 1.0 - t1
            else:  # inverse quadratic interpolation
                q, t1, t2 = fa / fc, fb / fc, fb / fa
                p = t2 * (cb * q * (q - t1) - (b - a) * (t1 - 1.0))
                q = (q - 1.0) * (t1 - 1.0) * (t2 - 1.0)
            if p > 0:
                q = -q
            else:
                p = -p
            if p < (0.75 * cb * q - abs(tol_act * q) / 2) and p < abs(prev_step * q / 2):
                new_step = p / q
        if abs(new_step) < tol_act:
            new_step = tol_act if new_step > 0 else -tol_act
        a, fa = b, fb
        b += new_step
        fb = f(b)
        if (fb > 0 and fc > 0) or (fb < 0 and fc < 0):
            c, fc = a, fa
    raise DataError("the search for tau² did not converge", allowed="another tau² estimator")


#: metafor's defaults: uniroot tolerance, Fisher-scoring threshold and number of steps
_UNIROOT_TOL = np.finfo(float).eps ** 0.25
_THRESHOLD = 1e-5
_MAXITER = 100


def _solve_q(
    y: np.ndarray, v: np.ndarray, x: np.ndarray | None, target: float, upper: float
) -> float:
    """The tau² >= 0 at which the generalised Q equals ``target`` (0 when Q(0) is below it),
    searched on [0, upper] (widened if the root lies above it) as metafor does."""
    if _generalised_q(0.0, y, v, x) < target:
        return 0.0
    while _generalised_q(upper, y, v, x) > target:
        upper *= 10
    return float(_zeroin(lambda t: _generalised_q(t, y, v, x) - target, 0.0, upper, _UNIROOT_TOL))


def _tau2_dl(y: np.ndarray, v: np.ndarray) -> float:
    w = 1 / v
    mu = np.sum(w * y) / w.sum()
    q = np.sum(w * (y - mu) ** 2)
    return max(0.0, (q - (len(y) - 1)) / (w.sum() - np.sum(w**2) / w.sum()))


def _tau2_he(y: np.ndarray, v: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """Hedges (1983): unweighted residuals, (RSS - tr(P0 V)) / (k - p); and its SE as metafor."""
    k, p = x.shape
    p0 = np.eye(k) - x @ np.linalg.solve(x.T @ x, x.T)
    pv = p0 * v[None, :]
    tr_pv = float(np.trace(pv))
    tau2 = max(0.0, (float(y @ p0 @ y) - tr_pv) / (k - p))
    se = math.sqrt(2 * np.sum(pv * pv.T) + 4 * tau2 * tr_pv + 2 * tau2**2 * (k - p)) / (k - p)
    return tau2, se


def _log_lik(tau2: float, y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str) -> float:
    """The ML or REML log-likelihood at tau² (for metafor's check of tau² = 0)."""
    k, p = x.shape
    w = 1 / (v + tau2)
    wx = x * w[:, None]
    xtwx = x.T @ wx
    beta = np.linalg.solve(xtwx, wx.T @ y)
    rss = float(np.sum(w * (y - x @ beta) ** 2))
    if method == "ML":
        return -0.5 * k * math.log(2 * math.pi) - 0.5 * float(np.sum(np.log(v + tau2))) - rss / 2
    return (
        -0.5 * (k - p) * math.log(2 * math.pi)
        - 0.5 * float(np.sum(np.log(v + tau2)))
        - 0.5 * float(np.linalg.slogdet(xtwx)[1])
        - rss / 2
    )


def _direct_tau2(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str) -> float:
    """tau² where Fisher scoring cycles: EB solves its moment equation (the Paule-Mandel one),
    ML and REML maximise the likelihood on [0, upper] by Brent's bounded search."""
    k, p = x.shape
    upper = max(100.0, 10 * float(np.var(y)))
    if method == "EB":
        if _generalised_q(0.0, y, v, x) < k - p:
            return 0.0
        return float(
            optimize.brentq(lambda t: _generalised_q(t, y, v, x) - (k - p), 0.0, upper, xtol=1e-14)
        )
    found = optimize.minimize_scalar(
        lambda t: -_log_lik(t, y, v, x, method),
        bounds=(0.0, upper),
        method="bounded",
        options={"xatol": 1e-12},
    )
    best = float(found.x)
    return 0.0 if _log_lik(0.0, y, v, x, method) >= _log_lik(best, y, v, x, method) else best


def _fisher_scoring(y: np.ndarray, v: np.ndarray, x: np.ndarray, method: str) -> float:
    """ML, REML or empirical Bayes tau² by metafor's iteration (Viechtbauer 2005).

    From the Hedges estimate, tau² moves by the scoring step (ML: (y'PPy - sum w)/sum w²;
    REML: (y'PPy - tr P)/tr PP; EB: (y'Py k/(k-p) - k)/sum w), halved while it would make tau²
    negative, until it changes by at most 1e-5 (at most 100 steps). For ML and REML, tau² = 0
    is taken when its likelihood is higher, as metafor checks. Where the steps cycle (metafor
    then stops with an error), :func:`_direct_tau2` finds the estimate directly.
    """
    k, p = x.shape
    tau2 = _tau2_he(y, v, x)[0]
    for _ in range(_MAXITER):
        w = 1 / (v + tau2)
        pm = _p_matrix(w, x)
        if method == "EB":
            step = (float(y @ pm @ y) * k / (k - p) - k) / w.sum()
        else:
            py = pm @ y
            if method == "REML":
                step = (py @ py - np.trace(pm)) / np.sum(pm * pm)
            else:
                step = (py @ py - w.sum()) / np.sum(w**2)
        while tau2 + step < 0:
            step /= 2
        old, tau2 = tau2, tau2 + step
        if abs(old - tau2) <= _THRESHOLD:
            break
    else:
        # metafor stops here with "did not converge"; we take the direct route instead
        return _direct_tau2(y, v, x, method)
    if method in ("ML", "REML") and tau2 > _THRESHOLD:
        if _log_lik(0.0, y, v, x, method) - _log_lik(tau2, y, v, x, method) > _UNIROOT_TOL:
            return 0.0
    return max(0.0, tau2)


def _tau2_and_se(
    y: np.ndarray, v: np.ndarray, method: str, x: np.ndarray | None = None
) -> tuple[float, float | None]:
    """tau² by ``method`` and its standard error as metafor computes it (None for FE).

    ``x`` None is the intercept-only model.
    """
    if method == "FE":
        return 0.0, None
    xm = _intercept(len(y)) if x is None else x
    k, p = xm.shape
    if method in ("DL", "HS"):
        w = 1 / v
        p_fe = _p_matrix(w, x)
        tr_p = float(np.trace(p_fe))
        rss = float(y @ p_fe @ y) if x is not None else None
        if method == "DL":
            tau2 = _tau2_dl(y, v) if x is None else max(0.0, (rss - (k - p)) / tr_p)
            scale = tr_p
        else:
            rss = float(y @ p_fe @ y)
            tau2 = max(0.0, (rss - k) / w.sum())
            scale = float(w.sum())
        se = math.sqrt(2 * (k - p) + 4 * tau2 * tr_p + 2 * tau2**2 * np.sum(p_fe * p_fe)) / scale
        return tau2, se
    if method == "HE":
        return _tau2_he(y, v, xm)
    if method == "SJ":
        # Sidik & Jonkman (2005): one weighted step from the spread of the estimates
        t0 = float(np.var(y))
        w = 1 / (v + t0)
        p_sj = _p_matrix(w, xm)
        pv = p_sj * v[None, :]
        tau2 = max(0.0, t0 * float(y @ p_sj @ y) / (k - p))
        se = (t0 / (k - p)) * math.sqrt(
            2 * np.sum(pv * pv.T) + 4 * tau2 * np.sum(pv * p_sj) + 2 * tau2**2 * np.sum(p_sj * p_sj)
        )
        return tau2, se
    if method == "REML":
        tau2 = _fisher_scoring(y, v, xm, "REML")
        p_re = _p_matrix(1 / (v + tau2), x)
        return tau2, math.sqrt(2 / np.sum(p_re * p_re))
    if method == "ML":
        tau2 = _fisher_scoring(y, v, xm, "ML")
        return tau2, math.sqrt(2 / np.sum((1 / (v + tau2)) ** 2))
    if method == "PM":
        # the generalised Q equals its expectation k - p (searched as metafor does)
        mad = 1.4826 * float(np.median(np.abs(y - np.median(y))))
        tau2 = _solve_q(y, v, x, k - p, max(100.0, 10 * mad**2))
    else:
        tau2 = _fisher_scoring(y, v, xm, "EB")
    w = 1 / (v + tau2)
    return tau2, math.sqrt(2 * k**2 / (k - p)) / w.sum()


def _q_profile(
    y: np.ndarray, v: np.ndarray, x: np.ndarray | None, level: float, tau2: float
) -> tuple[float, float]:
    """Q-profile interval for tau² (Viechtbauer 2007), as metafor's ``confint``.

    The limits solve y'P(tau²)y = the upper and lower (1 - level)/2 quantiles of chi-square
    with k - p df; a limit below zero is set to zero.
    """
    k = len(y)
    df = k - (1 if x is None else x.shape[1])
    crit_upper = float(stats.chi2.isf((1 - level) / 2, df))
    crit_lower = float(stats.chi2.ppf((1 - level) / 2, df))
    q0 = _generalised_q(0.0, y, v, x)
    if q0 < crit_lower:
        return 0.0, 0.0
    upper = max(100.0, 10 * tau2)  # metafor's search interval
    high = _solve_q(y, v, x, crit_lower, upper)
    low = 0.0 if q0 < crit_upper else _solve_q(y, v, x, crit_upper, upper)
    return low, high


def _fit(y: np.ndarray, v: np.ndarray, method: str, knha: bool, level: float) -> dict[str, Any]:
    """All summary statistics of one meta-analysis (used for the full fit and leave-one-out)."""
    k = len(y)
    w_fe = 1 / v
    mu_fe = np.sum(w_fe * y) / w_fe.sum()
    q = float(np.sum(w_fe * (y - mu_fe) ** 2))
    q_df = k - 1
    p_fe = _p_matrix(w_fe)
    tr_p_fe = float(np.trace(p_fe))
    tau2, tau2_se = _tau2_and_se(y, v, method)

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
    else:
        typical_v = q_df / tr_p_fe  # "typical" within-study variance (Higgins & Thompson 2002)
        i2 = 100 * tau2 / (typical_v + tau2)
        h2 = tau2 / typical_v + 1

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
    ``yi``, ``vi``, ``labels`` and ``weights`` (percent) hold the studies. ``tau2_ci``,
    ``i2_ci`` (percent) and ``h2_ci`` are Q-profile intervals (metafor ``confint``); None for
    ``method="FE"``.
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
    tau2_ci: tuple[float, float] | None = field(default=None, repr=False)
    i2_ci: tuple[float, float] | None = field(default=None, repr=False)
    h2_ci: tuple[float, float] | None = field(default=None, repr=False)

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


# -- meta-regression --------------------------------------------------------------------------


@dataclass(frozen=True)
class MetaRegression(Result):
    """A mixed-effects (or fixed-effects) meta-regression (see :func:`meta_analysis` with
    ``mods=``), as metafor's ``rma(yi, vi, mods = ...)`` reports it.

    ``coefficients`` is indexed by term (``intrcpt`` first, then one column per numeric
    moderator and one indicator per non-reference level of a text moderator, named as R names
    them, e.g. ``allocrandom``) with columns ``estimate, se, z`` (or ``t`` with Knapp-Hartung),
    ``df, p, ci_low, ci_high``. ``qm`` tests every coefficient but the intercept: chi-square
    with ``qm_df1`` df, or with Knapp-Hartung an F statistic on (``qm_df1``, ``qm_df2``) df.
    ``qe`` is the test for residual heterogeneity (df k - p). ``r2`` is the percentage of
    heterogeneity accounted for, max(0, 100 (tau²_RE - tau²_ME) / tau²_RE), with tau²_RE from
    the model without moderators (for ``"FE"``, the weighted adjusted R², as metafor).
    ``tau2``, ``i2`` and ``h2`` are residual; ``tau2_ci``, ``i2_ci``, ``h2_ci`` Q-profile.
    ``vcov`` is the coefficients' covariance matrix (metafor ``vcov``), ``design`` the model
    matrix.
    """

    coefficients: pd.DataFrame = field(repr=False)
    tau2: float
    tau2_se: float | None
    tau: float
    i2: float
    h2: float
    r2: float | None
    qe: float
    qe_df: int
    qe_p: float
    qm: float
    qm_df1: int
    qm_df2: int | None
    qm_p: float
    qm_test: str
    k: int
    n_coef: int
    level: float
    method: str
    knha: bool
    test: str
    yi: tuple[float, ...] = field(repr=False)
    vi: tuple[float, ...] = field(repr=False)
    labels: tuple[Any, ...] = field(repr=False)
    design: pd.DataFrame = field(repr=False)
    vcov: pd.DataFrame = field(repr=False)
    tau2_ci: tuple[float, float] | None = field(default=None, repr=False)
    i2_ci: tuple[float, float] | None = field(default=None, repr=False)
    h2_ci: tuple[float, float] | None = field(default=None, repr=False)

    _title = "Meta-regression"

    def to_frame(self) -> pd.DataFrame:
        """One tidy row per coefficient (broom's ``tidy`` for ``rma`` with moderators)."""
        table = self.coefficients.rename(columns={self.test: "statistic"})
        out = table.reset_index()
        out["k"] = self.k
        out["level"] = self.level
        out["method"] = self.method
        return out


def _design(mods: Any, k: int, labels: list[Any]) -> pd.DataFrame:
    """The model matrix: ``intrcpt``, numeric moderators as they are, text moderators (and
    booleans) as indicators of every level but the first (R's treatment coding)."""
    if isinstance(mods, pd.Series):
        mods = mods.to_frame(name=mods.name if mods.name is not None else "mod")
    elif not isinstance(mods, pd.DataFrame):
        try:
            mods = pd.DataFrame(mods)
        except (TypeError, ValueError):
            raise ParameterError(
                "mods must be a DataFrame of moderators",
                key="mods",
                expected="a DataFrame with one row per study, or column names of estimates",
            ) from None
        if mods.shape[0] != k and mods.shape[1] == k:
            mods = mods.T
    if len(mods) != k:
        raise DataError(
            f"mods has {len(mods)} rows for {k} studies",
            allowed="one row of moderators per study, in the order of the estimates",
        )
    if mods.shape[1] == 0:
        raise ParameterError("mods has no columns", key="mods", expected="one or more moderators")
    mods = mods.reset_index(drop=True)
    lab = np.array(labels, dtype=object)
    columns: dict[str, np.ndarray] = {"intrcpt": np.ones(k)}
    for col in mods.columns:
        name = str(col)
        values = mods[col]
        missing = values.isna().to_numpy()
        if missing.any():
            raise DataError(
                "missing moderator values",
                column=name,
                rows=list(lab[missing]),
                allowed="a value for every study (drop studies without it, or impute)",
            )
        if values.nunique() < 2:
            raise DataError(
                f"moderator {name!r} has one value for every study, so it cannot explain "
                "differences between them",
                column=name,
                values=[values.iloc[0]],
                allowed="a moderator that differs between studies",
            )
        if pd.api.types.is_bool_dtype(values):
            columns[f"{name}TRUE"] = values.astype(float).to_numpy()
        elif pd.api.types.is_numeric_dtype(values):
            columns[name] = values.astype(float).to_numpy()
        else:
            if isinstance(values.dtype, pd.CategoricalDtype):
                levels = [c for c in values.cat.categories if (values == c).any()]
            else:
                levels = sorted(values.astype(str).unique())
                values = values.astype(str)
            for level_ in levels[1:]:
                columns[f"{name}{level_}"] = (values == level_).to_numpy(dtype=float)
    x = pd.DataFrame(columns)
    if x.shape[1] >= k:
        raise DataError(
            f"a meta-regression with {x.shape[1]} coefficients needs more than {x.shape[1]} "
            f"studies; there are {k}",
            allowed="fewer moderators (or more studies)",
        )
    if np.linalg.matrix_rank(x.to_numpy()) < x.shape[1]:
        raise DataError(
            "the moderators are collinear (one is a combination of the others)",
            columns=[str(c) for c in mods.columns],
            allowed="moderators that each add information",
        )
    return x


def _weighted_adj_r2(y: np.ndarray, x: np.ndarray, w: np.ndarray) -> float:
    """Adjusted R² of the weighted least-squares fit (metafor's R² for fixed-effects models)."""
    k, p = x.shape
    if np.var(y) == 0:
        return 0.0
    beta = np.linalg.solve(x.T @ (x * w[:, None]), x.T @ (w * y))
    rss = float(np.sum(w * (y - x @ beta) ** 2))
    tss = float(np.sum(w * (y - np.sum(w * y) / w.sum()) ** 2))
    return max(0.0, 100 * (1 - (rss / tss) * (k - 1) / (k - p)))


def _fit_regression(
    y: np.ndarray,
    v: np.ndarray,
    x: pd.DataFrame,
    method: str,
    knha: bool,
    level: float,
    labels: list[Any],
    *,
    r2: bool = True,
) -> MetaRegression:
    xm = x.to_numpy(dtype=float)
    k, p = xm.shape
    tau2, tau2_se = _tau2_and_se(y, v, method, xm)
    w = 1 / (v + tau2)
    wx = xm * w[:, None]
    vb = np.linalg.inv(xm.T @ wx)
    beta = vb @ (wx.T @ y)
    if knha:
        # Knapp & Hartung (2003): the weighted residual mean square scales the covariance
        rss = float(np.sum(w * (y - xm @ beta) ** 2))
        vb = vb * (rss / (k - p) if rss > np.finfo(float).eps else 0.0)
    se = np.sqrt(np.diag(vb))
    with np.errstate(divide="ignore", invalid="ignore"):
        stat = beta / se
    df = k - p
    if knha:
        crit = float(stats.t.ppf(0.5 + level / 2, df))
        pvals = 2 * stats.t.sf(np.abs(stat), df)
    else:
        crit = float(stats.norm.ppf(0.5 + level / 2))
        pvals = 2 * stats.norm.sf(np.abs(stat))
    test = "t" if knha else "z"
    table = pd.DataFrame(
        {
            "estimate": beta,
            "se": se,
            test: stat,
            "df": float(df) if knha else np.nan,
            "p": pvals,
            "ci_low": beta - crit * se,
            "ci_high": beta + crit * se,
        },
        index=pd.Index(list(x.columns), name="term"),
    )
    b = beta[1:]
    qm = float(b @ np.linalg.solve(vb[1:, 1:], b))
    m = p - 1
    if knha:
        qm /= m
        qm_p = float(stats.f.sf(qm, m, df))
    else:
        qm_p = float(stats.chi2.sf(qm, m))

    p_fe = _p_matrix(1 / v, xm)
    qe = max(0.0, float(y @ p_fe @ y))
    typical_v = df / float(np.trace(p_fe))
    if method == "FE":
        i2 = max(0.0, 100 * (qe - df) / qe) if qe > 0 else 0.0
        h2 = qe / df
        r2_value = _weighted_adj_r2(y, xm, 1 / v) if r2 else None
        ci = None
    else:
        i2 = 100 * tau2 / (typical_v + tau2)
        h2 = tau2 / typical_v + 1
        r2_value = None
        if r2:
            tau2_re = _tau2_and_se(y, v, method)[0]
            r2_value = 0.0 if tau2_re == 0 else max(0.0, 100 * (tau2_re - tau2) / tau2_re)
        ci = _q_profile(y, v, xm, level, tau2)
    return MetaRegression(
        coefficients=table,
        tau2=tau2,
        tau2_se=tau2_se,
        tau=math.sqrt(tau2),
        i2=i2,
        h2=h2,
        r2=r2_value,
        qe=qe,
        qe_df=df,
        qe_p=float(stats.chi2.sf(qe, df)),
        qm=qm,
        qm_df1=m,
        qm_df2=df if knha else None,
        qm_p=qm_p,
        qm_test="F" if knha else "chisq",
        k=k,
        n_coef=p,
        level=level,
        method=method,
        knha=knha,
        test=test,
        yi=tuple(float(a) for a in y),
        vi=tuple(float(a) for a in v),
        labels=tuple(labels),
        design=x,
        vcov=pd.DataFrame(vb, index=table.index, columns=table.index),
        tau2_ci=ci,
        i2_ci=None if ci is None else tuple(100 * t / (typical_v + t) for t in ci),
        h2_ci=None if ci is None else tuple(t / typical_v + 1 for t in ci),
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
    mods: Any = None,
) -> MetaAnalysis | MetaRegression:
    """Pool study (or area) estimates by inverse-variance meta-analysis, or regress them on
    moderators (meta-regression).

    With sampling variances :math:`v_i` and between-study variance :math:`\\tau^2`,
    weights are :math:`w_i = 1/(v_i + \\tau^2)` and

    .. math::

        \\hat\\mu = \\frac{\\sum w_i y_i}{\\sum w_i}, \\quad
        SE(\\hat\\mu) = \\Big(\\sum w_i\\Big)^{-1/2}, \\quad
        Q = \\sum \\frac{(y_i - \\hat\\mu_{FE})^2}{v_i}.

    :math:`\\tau^2` is estimated by REML, ML or empirical Bayes (metafor's Fisher scoring, see
    ``docs/meta-analysis.md``), DerSimonian-Laird
    :math:`\\max\\{0, (Q - (k-1)) / (\\sum w - \\sum w^2/\\sum w)\\}`, Paule-Mandel (the value
    making the generalised Q equal to k - 1), Hunter-Schmidt :math:`(Q - k)/\\sum w`,
    Sidik-Jonkman, Hedges (unweighted moments), or set to 0 (``"FE"``). As in metafor,
    :math:`I^2 = 100\\,\\tau^2/(\\tau^2 + \\tilde v)` and :math:`H^2 = \\tau^2/\\tilde v + 1` with
    the typical within-study variance :math:`\\tilde v = (k-1)/\\operatorname{tr}(P)`
    (for ``"FE"``: :math:`I^2 = (Q - (k-1))/Q`, :math:`H^2 = Q/(k-1)`). The prediction interval
    is :math:`\\hat\\mu \\pm c\\sqrt{SE^2 + \\tau^2}`. With ``knha=True`` the Knapp-Hartung
    adjustment multiplies the variance by :math:`\\sum w_i(y_i - \\hat\\mu)^2/(k-1)` and
    ``c`` is a t quantile with k - 1 degrees of freedom (otherwise normal). ``tau2_ci``,
    ``i2_ci`` and ``h2_ci`` are Q-profile intervals (metafor ``confint``).

    With ``mods`` the model is the meta-regression :math:`y = X\\beta + u + e`,
    :math:`u \\sim N(0, \\tau^2)`: :math:`\\hat\\beta = (X'WX)^{-1}X'Wy`, tau² from the residuals
    by the same estimator, QM the Wald test of every coefficient but the intercept, QE the test
    of residual heterogeneity and R² the share of tau² that the moderators account for, all as
    metafor's ``rma(yi, vi, mods = ...)``; a :class:`MetaRegression` is returned.

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
        ``"REML"`` (default), ``"ML"``, ``"EB"``, ``"DL"``, ``"PM"``, ``"HS"``, ``"SJ"``,
        ``"HE"`` or ``"FE"``.
    knha
        Knapp-Hartung (Hartung-Knapp-Sidik-Jonkman) adjustment of the standard error.
    level
        Confidence level of the confidence and prediction intervals.
    mods
        Moderators for a meta-regression: a DataFrame (or Series) with one row per study in
        the order of the estimates, or, with a DataFrame of estimates, the names of its
        moderator columns. Text, categorical and boolean columns become indicators of every
        level but the first.

    Returns
    -------
    MetaAnalysis or MetaRegression
        ``.estimate, .se, .ci_low, .ci_high, .tau2, .tau2_se, .i2, .h2, .q, .q_p, .pi_low,
        .pi_high``; ``.leave_one_out()``, ``.studies()``, ``.predict(transform)``,
        ``.heterogeneity_text()``, ``.plot()``.

    Raises
    ------
    DataError
        Fewer than two studies; a zero, negative, missing or infinite variance or estimate
        (the studies are named); a moderator with one value, a missing moderator value,
        collinear moderators, or no more studies than coefficients.

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
    Viechtbauer W (2007). Stat Med 26:37-52 (Q-profile).
    Hunter JE, Schmidt FL (2004); Sidik K, Jonkman JN (2005) J Biopharm Stat 15:823-838;
    Hedges LV (1983) Psychol Bull 93:388-395; Morris CN (1983) JASA 78:47-55.
    Raudenbush SW (2009), in The Handbook of Research Synthesis, 2nd ed. (meta-regression).

    Examples
    --------
    >>> res = meta_analysis([0.30, 0.10, 0.45, 0.25, 0.05], se=[0.1, 0.12, 0.15, 0.09, 0.2])
    >>> round(res.estimate, 3), res.method
    (0.246, 'REML')
    >>> reg = meta_analysis([0.30, 0.10, 0.45, 0.25, 0.05, 0.35], se=[0.1, 0.12, 0.15, 0.09, 0.2, 0.1],
    ...                     mods=pd.DataFrame({"year": [1, 2, 3, 4, 5, 6]}), method="DL")
    >>> list(reg.coefficients.index)
    ['intrcpt', 'year']
    """
    check_choice("method", method, METHODS)
    level = check_level(level)
    if not isinstance(knha, bool):
        raise ParameterError(f"knha={knha!r} is not allowed", key="knha", expected="True or False")
    if isinstance(mods, (str, list, tuple)) and isinstance(estimates, pd.DataFrame):
        names = [mods] if isinstance(mods, str) else list(mods)
        missing = [str(c) for c in names if c not in estimates.columns]
        if missing:
            raise DataError(
                "estimates has no moderator column(s) " + ", ".join(repr(c) for c in missing),
                columns=missing,
                allowed="columns of estimates, or a DataFrame of moderators",
            )
        mods = estimates[names]
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
    if mods is not None:
        return _fit_regression(y, v, _design(mods, k, labels), method, knha, level, labels)
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
        **_heterogeneity_intervals(y, v, method, level, fit["tau2"]),
    )


def _heterogeneity_intervals(
    y: np.ndarray, v: np.ndarray, method: str, level: float, tau2: float
) -> dict[str, tuple[float, float] | None]:
    """Q-profile intervals for tau², I² and H² of the intercept-only model (None for FE)."""
    if method == "FE":
        return {"tau2_ci": None, "i2_ci": None, "h2_ci": None}
    low, high = _q_profile(y, v, None, level, tau2)
    typical_v = (len(y) - 1) / float(np.trace(_p_matrix(1 / v)))
    return {
        "tau2_ci": (low, high),
        "i2_ci": (100 * low / (typical_v + low), 100 * high / (typical_v + high)),
        "h2_ci": (low / typical_v + 1, high / typical_v + 1),
    }


# -- small-study effects ---------------------------------------------------------------------

_FEW_FOR_BIAS = 10  # below this, funnel-plot methods have too little power (Sterne et al. 2011)


def _bias_input(result: Any, what: str) -> MetaAnalysis:
    if not isinstance(result, MetaAnalysis):
        raise ParameterError(
            f"{what} needs the result of a meta-analysis without moderators",
            key="result",
            expected="the MetaAnalysis that meta_analysis() returns when mods= is not given",
        )
    if result.k < _FEW_FOR_BIAS:
        warnings.warn(
            f"only {result.k} studies: {what} has little power with fewer than "
            f"{_FEW_FOR_BIAS}, so a non-significant result says little about publication bias "
            "or small-study effects",
            EvalkitWarning,
            stacklevel=3,
        )
    return result


@dataclass(frozen=True)
class EggerTest(Result):
    """Egger's regression test for funnel-plot asymmetry (see :func:`egger_test`).

    ``statistic`` (z, or t with ``df`` under Knapp-Hartung) and ``p`` test the coefficient
    ``slope`` of the standard error; ``estimate`` (also ``limit_estimate``) with ``se``,
    ``ci_low`` and ``ci_high`` is the limit estimate: the intercept, the effect expected in a
    study with standard error 0.
    """

    statistic: float
    p: float
    df: int | None
    test: str
    slope: float
    slope_se: float
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    k: int
    level: float
    method: str
    model: str = "rma"
    predictor: str = "sei"

    _title = "Egger's regression test"

    @property
    def limit_estimate(self) -> float:
        """The effect expected as the standard error goes to 0 (the intercept)."""
        return self.estimate


def _differing_precision(v: np.ndarray, what: str) -> np.ndarray:
    """The standard errors, as the predictor of a regression on precision; a clear error
    when they are all the same (the predictor would copy the intercept: no regression)."""
    sei = np.sqrt(v)
    if np.ptp(sei) <= 1e-12 * max(1.0, float(np.max(sei))):
        raise DataError(
            f"{what} needs studies of different precision; all {len(sei)} have the same "
            f"standard error ({sei[0]:.4g})",
            allowed="studies whose standard errors differ",
        )
    return sei


def egger_test(result: MetaAnalysis) -> EggerTest:
    """Egger's regression test for funnel-plot asymmetry, as metafor's ``regtest(res)``.

    The meta-analysis is refitted as a meta-regression on the studies' standard errors,

    .. math:: y_i = \\beta_0 + \\beta_1 \\sqrt{v_i} + u_i + e_i,

    with the same tau² estimator, Knapp-Hartung setting and level as ``result`` (metafor's
    defaults ``model="rma", predictor="sei"``). The test of :math:`\\beta_1 = 0` is the test for
    asymmetry; :math:`\\beta_0` is the "limit estimate" as the standard error goes to 0
    (Stanley & Doucouliagos' PET estimate under a random-effects model).

    Parameters
    ----------
    result
        A :class:`MetaAnalysis` (without moderators).

    Returns
    -------
    EggerTest
        ``statistic``, ``p`` (and ``df`` with Knapp-Hartung), ``slope``; the limit
        ``estimate`` with ``se``, ``ci_low``, ``ci_high``.

    Warns
    -----
    EvalkitWarning
        Fewer than 10 studies: the test has little power.

    References
    ----------
    Egger M, Davey Smith G, Schneider M, Minder C (1997). BMJ 315:629-634.
    Sterne JAC, Egger M (2005). In: Publication Bias in Meta-Analysis, Wiley, 99-110.

    Examples
    --------
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6, 0.2, 0.5, 0.45, 0.05, 0.4, 0.7],
    ...                     se=[0.05, 0.1, 0.12, 0.3, 0.08, 0.25, 0.2, 0.04, 0.15, 0.35])
    >>> eg = egger_test(res)
    >>> eg.p < 0.05, eg.limit_estimate < res.estimate
    (True, True)
    """
    res = _bias_input(result, "Egger's test")
    y, v = np.asarray(res.yi), np.asarray(res.vi)
    if res.k < 3:
        raise DataError(
            f"Egger's test needs at least 3 studies, this meta-analysis has {res.k}",
            allowed="3 or more studies",
        )
    sei = _differing_precision(v, "Egger's test")
    x = pd.DataFrame({"intrcpt": np.ones(res.k), "sei": sei})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        fit = _fit_regression(y, v, x, res.method, res.knha, res.level, list(res.labels), r2=False)
    table = fit.coefficients
    return EggerTest(
        statistic=float(table.loc["sei", fit.test]),
        p=float(table.loc["sei", "p"]),
        df=fit.qe_df if res.knha else None,
        test=fit.test,
        slope=float(table.loc["sei", "estimate"]),
        slope_se=float(table.loc["sei", "se"]),
        estimate=float(table.loc["intrcpt", "estimate"]),
        se=float(table.loc["intrcpt", "se"]),
        ci_low=float(table.loc["intrcpt", "ci_low"]),
        ci_high=float(table.loc["intrcpt", "ci_high"]),
        k=res.k,
        level=res.level,
        method=res.method,
    )


@dataclass(frozen=True)
class TrimAndFill(Result):
    """Duval & Tweedie's trim and fill (see :func:`trim_and_fill`).

    ``k0`` studies (standard error ``se_k0``) are estimated missing on ``side``; ``estimate``,
    ``se``, ``ci_low``, ``ci_high``, ``statistic``, ``p``, ``tau2`` come from the meta-analysis
    of the observed and filled-in studies, ``filled`` (a :class:`MetaAnalysis`, None when k0 is
    0, then the numbers are those of the original fit). ``fill_yi`` and ``fill_vi`` hold the
    imputed studies. With ``"R0"``, ``p_k0`` tests "no study missing on that side"
    (0.5^(k0+1), as metafor).
    """

    k0: int
    se_k0: float
    side: str
    estimator: str
    estimate: float
    se: float
    ci_low: float
    ci_high: float
    statistic: float
    p: float
    tau2: float
    k: int
    level: float
    method: str
    p_k0: float | None
    fill_yi: tuple[float, ...] = field(repr=False)
    fill_vi: tuple[float, ...] = field(repr=False)
    filled: MetaAnalysis | None = field(default=None, repr=False)

    _title = "Trim and fill"


def _pooled(y: np.ndarray, v: np.ndarray, method: str) -> float:
    """The intercept-only estimate with tau² by ``method`` (no interval needed)."""
    tau2 = _tau2_and_se(y, v, method)[0]
    w = 1 / (v + tau2)
    return float(np.sum(w * y) / w.sum())


def trim_and_fill(
    result: MetaAnalysis, *, estimator: str = "L0", side: str | None = None
) -> TrimAndFill:
    """Trim and fill for funnel-plot asymmetry, as metafor's ``trimfill(res)``.

    The studies are sorted (flipped first when the missing side is the right); repeatedly, the
    ``k - k0`` smallest are pooled (same tau² estimator), every study is centred on that
    estimate and ranked by absolute value, and the number missing is re-estimated from the
    signed ranks, until it stops changing (Duval & Tweedie 2000):

    - ``"L0"``: :math:`k_0 = (4 S_r - k(k+1)) / (2k - 1)`, :math:`S_r` the sum of the
      positive signed ranks;
    - ``"R0"``: :math:`k_0 = \\gamma^* - 1`, :math:`\\gamma^*` the length of the rightmost run
      of positive ranks;

    rounded (half to even) and at least 0. The ``k0`` most extreme studies are mirrored about
    the trimmed estimate and the augmented set is pooled again; as in metafor, that fit uses
    the normal (z) test. Without ``side``, the missing side is left when the slope of a
    meta-regression on the standard errors is positive (Egger's test), else right.

    Parameters
    ----------
    result
        A :class:`MetaAnalysis` (without moderators).
    estimator
        ``"L0"`` (default) or ``"R0"``.
    side
        ``"left"`` or ``"right"``; chosen from the data when omitted.

    Returns
    -------
    TrimAndFill
        ``k0``, ``se_k0``, ``side`` and the adjusted ``estimate``, ``ci_low``, ``ci_high``.

    Warns
    -----
    EvalkitWarning
        Fewer than 10 studies.

    References
    ----------
    Duval S, Tweedie R (2000). Biometrics 56:455-463; JASA 95:89-98.

    Examples
    --------
    >>> res = meta_analysis([0.1, 0.3, 0.35, 0.6, 0.2, 0.5, 0.45, 0.05, 0.4, 0.7],
    ...                     se=[0.05, 0.1, 0.12, 0.3, 0.08, 0.25, 0.2, 0.04, 0.15, 0.35])
    >>> tf = trim_and_fill(res)
    >>> tf.side, tf.k0 > 0, tf.estimate < res.estimate
    ('left', True, True)
    """
    res = _bias_input(result, "trim and fill")
    check_choice("estimator", estimator, ("L0", "R0"))
    if side is not None:
        check_choice("side", side, ("left", "right"))
    y, v = np.asarray(res.yi), np.asarray(res.vi)
    k = res.k
    if k < 3:
        raise DataError(
            f"trim and fill needs at least 3 studies, this meta-analysis has {k}",
            allowed="3 or more studies",
        )
    if side is None:
        what = "trim and fill, choosing the side of the funnel (or give side=),"
        x = np.column_stack([np.ones(k), _differing_precision(v, what)])
        tau2 = _tau2_and_se(y, v, res.method, x)[0]
        w = 1 / (v + tau2)
        slope = np.linalg.solve(x.T @ (x * w[:, None]), x.T @ (w * y))[1]
        side = "right" if slope < 0 else "left"
    flipped = -y if side == "right" else y
    order = np.argsort(flipped, kind="stable")
    ys, vs = flipped[order], v[order]

    k0, previous, se_k0, beta = 0, -1, 0.0, 0.0
    for iteration in range(101):  # metafor's maxiter = 100
        if k0 == previous:
            break
        if iteration == 100:
            raise DataError("trim and fill did not converge", allowed="another estimator")
        previous = k0
        if k - k0 < 2:
            raise DataError(
                f"trim and fill would trim {k0} of {k} studies, leaving too few to pool",
                allowed="more studies, or a funnel plot that is not so one-sided",
            )
        beta = _pooled(ys[: k - k0], vs[: k - k0], res.method)
        centred = ys - beta
        ranks = np.empty(k)
        ranks[np.argsort(np.abs(centred), kind="stable")] = np.arange(1, k + 1)
        signed = np.sign(centred) * ranks
        if estimator == "R0":
            negative = -signed[signed < 0]
            raw = k - (negative.max() if negative.size else 0.0) - 1
            se_k0 = math.sqrt(2 * max(0.0, raw) + 2)
        else:
            s_r = float(signed[signed > 0].sum())
            raw = (4 * s_r - k * (k + 1)) / (2 * k - 1)
            var_sr = (
                k * (k + 1) * (2 * k + 1)
                + 10 * raw**3
                + 27 * raw**2
                + 17 * raw
                - 18 * k * raw**2
                - 18 * k * raw
                + 6 * k**2 * raw
            ) / 24
            se_k0 = 4 * math.sqrt(max(var_sr, 0.0)) / (2 * k - 1)
        k0 = int(max(0, np.round(raw)))
        se_k0 = max(0.0, se_k0)

    common = dict(
        k0=k0,
        se_k0=se_k0,
        side=side,
        estimator=estimator,
        k=k,
        method=res.method,
        p_k0=0.5 ** (k0 + 1) if estimator == "R0" else None,
    )
    filled = None
    fill_y, fill_v = np.empty(0), np.empty(0)
    if k0 > 0:
        mirrored = 2 * beta - ys[k - k0 :]
        fill_y = -mirrored if side == "right" else mirrored
        fill_v = vs[k - k0 :]
        labels = [*res.labels, *(f"Filled {i}" for i in range(1, k0 + 1))]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EvalkitWarning)
            filled = meta_analysis(
                np.concatenate([y, fill_y]),
                variance=np.concatenate([v, fill_v]),
                labels=labels,
                method=res.method,
                level=res.level,
            )
    source = res if filled is None else filled
    return TrimAndFill(
        **common,
        estimate=source.estimate,
        se=source.se,
        ci_low=source.ci_low,
        ci_high=source.ci_high,
        statistic=source.statistic,
        p=source.p,
        tau2=source.tau2,
        level=source.level,
        fill_yi=tuple(float(a) for a in fill_y),
        fill_vi=tuple(float(a) for a in fill_v),
        filled=filled,
    )
