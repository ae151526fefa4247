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

from .._validate import check_level, numeric_array
from ..errors import DataError, ParameterError
from ..results import Result

__all__ = ["pool_rubin", "RubinPool", "LAMBDA_FLOOR"]

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


def pool_rubin(
    estimates: Sequence[float],
    variances: Sequence[float],
    df_complete: float = math.inf,
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
        Complete-data residual degrees of freedom (*n − k*); infinite by default, as mice.
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
    q = numeric_array(estimates, name="estimates", allow_nan=False)
    u = numeric_array(variances, name="variances", allow_nan=False)
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
        dfcom = float(df_complete)
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
