"""Multiple imputation of missing follow-ups and Rubin's rules for pooling.

:func:`pool_rubin` pools *m* complete-data estimates as R's ``mice::pool.scalar``
(Rubin 1987 with the Barnard–Rubin 1999 degrees of freedom, including mice's floor
on λ). :func:`impute_chained` draws *m* completed copies of a data set by chained
equations (our own Bayesian linear-regression imputation, ``mice``'s ``"norm"``
method); the designs call it for ``missing="mi"``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_level, numeric_array
from ..errors import DataError, ParameterError
from ..results import Result

__all__ = ["pool_rubin", "RubinPool", "LAMBDA_FLOOR", "impute_chained", "check_mi"]

#: mice's ``barnard.rubin`` raises λ to at least this value before computing the df
LAMBDA_FLOOR = 1e-4


@dataclass(frozen=True)
class RubinPool(Result):
    """Result of :func:`pool_rubin` (the fields of ``mice::pool.scalar``).

    ``lambda_`` (also available as ``getattr(res, "lambda")``) is the proportion of the
    total variance due to missing data, (1 + 1/m)·b/t, as ``mice::pool`` reports it
    (not floored; the floor only enters the df).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    m: int
    level: float
    method: str
    qbar: float
    ubar: float
    b: float
    t: float
    df: float
    df_complete: float
    r: float
    lambda_: float
    fmi: float

    _title = "Rubin's rules (pooled over imputations)"

    def __getattr__(self, name: str) -> Any:
        if name == "lambda":
            return self.lambda_
        raise AttributeError(name)

    @property
    def ci(self) -> tuple[float, float]:
        """The interval as a pair (ci_low, ci_high)."""
        return (self.ci_low, self.ci_high)


def _barnard_rubin(m: int, b: float, t: float, dfcom: float) -> float:
    """Barnard & Rubin (1999) df, as ``mice:::barnard.rubin`` (λ floored at 1e-4)."""
    lam = max((1 + 1 / m) * b / t, LAMBDA_FLOOR) if t > 0 else LAMBDA_FLOOR
    dfold = (m - 1) / lam**2
    if math.isinf(dfcom):
        return dfold
    dfobs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
    return dfold * dfobs / (dfold + dfobs)


def _plain_floats(x: Any) -> Any:
    """A list of Python or NumPy floats (and ints) as a float Series, which
    :func:`~evalkit._validate.numeric_array` reads without looking for text; anything else
    as it is (checked as usual)."""
    if isinstance(x, list) and all(type(v) in (float, int, np.float64) for v in x):
        return pd.Series(np.array(x, dtype=float))
    return x


def pool_rubin(
    estimates: Sequence[float],
    variances: Sequence[float],
    df_complete: float | None = math.inf,
    *,
    level: float = 0.95,
) -> RubinPool:
    r"""Pool *m* estimates from multiply imputed data by Rubin's rules (``mice::pool.scalar``).

    With estimates :math:`Q_1..Q_m` and their variances :math:`U_1..U_m`:

    - :math:`\bar Q = \frac1m\sum Q_l`, :math:`\bar U = \frac1m\sum U_l`,
      :math:`B = \frac{1}{m-1}\sum (Q_l-\bar Q)^2`, :math:`T = \bar U + (1 + 1/m)B`;
    - relative increase in variance :math:`r = (1+1/m)B/\bar U`;
      :math:`\lambda = (1+1/m)B/T`;
    - Barnard–Rubin df: with :math:`\lambda^* = \max(\lambda, 10^{-4})` (mice's floor),
      :math:`\nu_{old} = (m-1)/\lambda^{*2}`,
      :math:`\nu_{obs} = \frac{\nu_{com}+1}{\nu_{com}+3}\nu_{com}(1-\lambda^*)`,
      :math:`\nu = \nu_{old}\nu_{obs}/(\nu_{old}+\nu_{obs})` (:math:`\nu_{old}` when
      :math:`\nu_{com}` is infinite);
    - fraction of missing information :math:`\gamma = (r + 2/(\nu+3))/(r+1)`;
    - interval :math:`\bar Q \pm t_{\nu}\sqrt T`, p from :math:`\bar Q/\sqrt T` on *t* with
      ν df (as ``summary(mice::pool(fit))``).

    Matches R ``mice::pool.scalar(Q, U, n, k)`` with ``df_complete = n - k``.

    Parameters
    ----------
    estimates, variances
        The *m* ≥ 2 complete-data estimates and their squared standard errors.
    df_complete
        Complete-data residual degrees of freedom (*n − k*); infinite by default (or
        ``None``), as mice's ``n = Inf``.
    level
        Confidence level of the interval.

    Returns
    -------
    RubinPool
        ``estimate`` (= ``qbar``), ``se`` = √t, ``ubar``, ``b``, ``t``, ``df``, ``r``,
        ``lambda_``, ``fmi``, ``ci_low``, ``ci_high``, ``p``.

    References
    ----------
    Rubin, D. B. (1987). *Multiple Imputation for Nonresponse in Surveys*. Wiley.
    Barnard, J. & Rubin, D. B. (1999). Small-sample degrees of freedom with multiple
    imputation. *Biometrika* 86, 948–955.
    van Buuren, S. (2018). *Flexible Imputation of Missing Data*, 2nd ed., §2.3.

    Examples
    --------
    The ``mice::pool.scalar`` help page example (slope of ``bmi ~ age`` in two imputations):

    >>> res = pool_rubin([-1.5457, -1.428], [0.9723**2, 1.041**2], df_complete=25 - 2)
    >>> round(res.estimate, 5), round(res.t, 6), round(res.df, 4)
    (-1.48685, 1.024914, 20.9703)
    """
    level = check_level(level)
    q = numeric_array(_plain_floats(estimates), name="estimates", allow_nan=False)
    u = numeric_array(_plain_floats(variances), name="variances", allow_nan=False)
    if q.ndim != 1 or u.ndim != 1 or len(q) != len(u):
        raise ParameterError(
            f"estimates ({q.size}) and variances ({u.size}) must be two lists of the same length",
            key="variances",
            expected="one variance per estimate",
        )
    m = len(q)
    if m < 2:
        raise ParameterError(
            f"Rubin's rules need at least 2 imputations, got {m}",
            key="m",
            expected="m of at least 2 (20 or more is usual)",
        )
    if np.any(u < 0):
        raise DataError("variances must not be negative", values=list(u[u < 0][:5]), allowed="≥ 0")
    try:
        dfcom = math.inf if df_complete is None else float(df_complete)
    except (TypeError, ValueError):
        raise ParameterError(
            f"df_complete must be a number, got {df_complete!r}",
            key="df_complete",
            expected="the complete-data residual df (n - k), or infinity",
        ) from None
    if not dfcom > 0:
        raise ParameterError(
            f"df_complete must be positive, got {df_complete!r}",
            key="df_complete",
            expected="the complete-data residual df (n - k), or infinity",
        )
    from scipy import stats

    qbar = float(q.mean())
    ubar = float(u.mean())
    b = float(q.var(ddof=1))
    t = ubar + (1 + 1 / m) * b
    r = (1 + 1 / m) * b / ubar if ubar > 0 else math.inf
    lam = (1 + 1 / m) * b / t if t > 0 else math.nan
    df = _barnard_rubin(m, b, t, dfcom)
    fmi = (r + 2 / (df + 3)) / (r + 1)
    se = math.sqrt(t)
    qt = stats.t.ppf(0.5 + level / 2, df)
    p = float(2 * stats.t.sf(abs(qbar / se), df)) if se > 0 else math.nan
    return RubinPool(
        estimate=qbar,
        se=se,
        ci_low=qbar - qt * se,
        ci_high=qbar + qt * se,
        p=p,
        m=m,
        level=level,
        method="Rubin's rules, Barnard-Rubin df (mice pool.scalar)",
        qbar=qbar,
        ubar=ubar,
        b=b,
        t=t,
        df=float(df),
        df_complete=dfcom,
        r=r,
        lambda_=lam,
        fmi=fmi,
    )


#: donors per missing value in predictive mean matching (mice's ``donors = 5``)
PMM_DONORS = 5
#: iterations of the chained equations per imputation
MAXIT = 10


def _pmm_draw(
    y: np.ndarray, x: np.ndarray, miss: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Impute ``y[miss]`` by predictive mean matching after a Bayesian regression draw.

    As mice's ``mice.impute.pmm`` (type-1 matching): regress the observed *y* on *x* with a
    tiny ridge (1e-5 · diag X'X), draw :math:`\\sigma^* = \\sqrt{RSS/\\chi^2_{n_{obs}-p}}` and
    :math:`\\beta^* = \\hat\\beta + \\sigma^* L z`, :math:`LL' = (X'X)^{-1}`; each missing value
    takes the observed *y* of one of the :data:`PMM_DONORS` cases whose :math:`x\\hat\\beta` is
    nearest to its :math:`x\\beta^*`.
    """
    xo, yo = x[~miss], y[~miss]
    xtx = xo.T @ xo
    xtx = xtx + 1e-5 * np.diag(np.diag(xtx))
    inv = np.linalg.inv(xtx)
    beta = inv @ (xo.T @ yo)
    rss = float(np.sum((yo - xo @ beta) ** 2))
    dfr = max(len(yo) - x.shape[1], 1)
    sigma = math.sqrt(rss / rng.chisquare(dfr))
    chol = np.linalg.cholesky((inv + inv.T) / 2)
    beta_star = beta + sigma * (chol @ rng.standard_normal(x.shape[1]))
    pred_obs = xo @ beta
    pred_mis = x[miss] @ beta_star
    k = min(PMM_DONORS, len(yo))
    dist = np.abs(pred_mis[:, None] - pred_obs[None, :])
    near = np.argpartition(dist, k - 1, axis=1)[:, :k]
    pick = near[np.arange(len(pred_mis)), rng.integers(0, k, len(pred_mis))]
    return yo[pick]


def impute_chained(
    data: pd.DataFrame, *, m: int = 20, seed: int | None = None, maxit: int = MAXIT
) -> list[pd.DataFrame]:
    r"""*m* completed copies of a numeric DataFrame by chained equations (our own MICE).

    Every column with missing values is imputed from all the other columns by predictive
    mean matching (:func:`_pmm_draw`, as mice's default ``"pmm"`` method for numeric data),
    cycling through the columns ``maxit`` times, starting from random draws of the observed
    values (mice's initialisation). Each copy is an independent chain. The caller chooses
    the columns: for :func:`evalkit.designs.ancova` the outcome, treatment, baseline and
    covariates, so the imputation model includes the treatment, as it must for an
    unbiased treatment effect.

    References
    ----------
    van Buuren, S. & Groothuis-Oudshoorn, K. (2011). mice: Multivariate imputation by
    chained equations in R. *J Stat Softw* 45(3).
    Morris, T. P., White, I. R. & Royston, P. (2014). Tuning multiple imputation by
    predictive mean matching. *BMC Med Res Methodol* 14, 75.
    """
    values = data.to_numpy(dtype=float)
    missing = np.isnan(values)
    todo = [j for j in range(values.shape[1]) if missing[:, j].any()]
    rng = np.random.default_rng(seed)
    # the predictors of each imputed column, filled in place at every step
    xs = {j: np.ones((len(values), values.shape[1])) for j in todo}
    out = []
    for _ in range(m):
        v = values.copy()
        for j in todo:
            obs = v[~missing[:, j], j]
            v[missing[:, j], j] = rng.choice(obs, size=int(missing[:, j].sum()))
        for _ in range(maxit if todo else 0):
            for j in todo:
                # an intercept, then every other column (as np.delete would leave them)
                x = xs[j]
                x[:, 1 : j + 1] = v[:, :j]
                x[:, j + 1 :] = v[:, j + 1 :]
                v[missing[:, j], j] = _pmm_draw(v[:, j], x, missing[:, j], rng)
        out.append(pd.DataFrame(v, index=data.index, columns=data.columns))
    return out


def check_mi(m: Any, outcome_values: pd.Series, *, column: str) -> int:
    """``m`` at least 2, and an outcome with some observed values (else a clear error)."""
    if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 2:
        raise ParameterError(
            f"m={m!r} imputations are too few for Rubin's rules",
            key="m",
            expected="a whole number of at least 2 (20 or more is usual)",
        )
    if outcome_values.notna().sum() == 0:
        raise DataError(
            "every value of the outcome is missing, so there is nothing to impute from",
            column=column,
            allowed="an outcome observed for at least some people",
        )
    return int(m)


def mi_mean_change(
    pre: np.ndarray, post: np.ndarray, *, m: int, seed: int | None, level: float
) -> RubinPool:
    """Mean change (post − pre) pooled over *m* chained-equations imputations.

    People with at least one of the two scores are kept; the missing one is imputed
    from the other (predictive mean matching). In each completed data set the estimate
    is the mean change with variance :math:`s_d^2/n` and complete-data df *n − 1*.
    """
    keep = ~(np.isnan(pre) & np.isnan(post))
    frame = pd.DataFrame({"pre": pre[keep], "post": post[keep]})
    n = int(keep.sum())
    ests, variances = [], []
    for imp in impute_chained(frame, m=m, seed=seed):
        d = (imp["post"] - imp["pre"]).to_numpy()
        ests.append(float(d.mean()))
        variances.append(float(d.var(ddof=1)) / n)
    return pool_rubin(ests, variances, n - 1, level=level)
