"""Pooling Cronbach's alpha across areas (reliability generalisation).

Alpha's sampling distribution is skewed, so it is pooled on a transformed scale
where its variance depends only on the number of items ``k`` and respondents ``n``,
then transformed back:

- Bonett (2002): ``T = -ln(1 - alpha)``, ``var(T) = 2k / ((k - 1)(n - 2))``
  (metafor ``escalc(measure="ABT")``);
- Hakstian & Whalen (1976): ``T = 1 - (1 - alpha)^(1/3)``,
  ``var(T) = 18k(n - 1)(1 - alpha)^(2/3) / ((k - 1)(9n - 11)^2)``
  (metafor ``escalc(measure="AHW")``).

The pooled value transformed back is a median-type summary of alpha (Bonett 2010).

References
----------
Bonett, D. G. (2002). Sample size requirements for testing and estimating coefficient
alpha. *Journal of Educational and Behavioral Statistics*, 27, 335-340.
Bonett, D. G. (2010). Varying coefficient meta-analytic methods for alpha reliability.
*Psychological Methods*, 15, 368-385.
Hakstian, A. R., & Whalen, T. E. (1976). A k-sample significance test for independent
alpha coefficients. *Psychometrika*, 41, 219-231.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, numeric_array
from ..errors import DataError
from ..meta import meta_analysis
from ..results import Result

__all__ = ["alpha_transform", "alpha_back_transform", "pool_alpha", "PooledAlphaResult"]

_TRANSFORMS = ("bonett", "hakstian_whalen")


def alpha_transform(
    alpha: Any, k: Any, n: Any, *, transform: str = "bonett"
) -> tuple[np.ndarray, np.ndarray]:
    """Transformed alpha and its sampling variance, per study.

    Parameters
    ----------
    alpha, k, n
        Alpha, number of items and number of respondents (arrays or scalars).
    transform
        ``"bonett"`` (metafor ``ABT``) or ``"hakstian_whalen"`` (metafor ``AHW``).

    Returns
    -------
    (yi, vi) : arrays

    Examples
    --------
    >>> yi, vi = alpha_transform(0.93, 20, 100)
    >>> round(float(yi[0]), 4)  # metafor's own test value for ABT
    2.6593
    """
    check_choice("transform", transform, _TRANSFORMS)
    a = numeric_array(np.atleast_1d(alpha), name="alpha", allow_nan=False)
    k = np.broadcast_to(numeric_array(np.atleast_1d(k), name="k", allow_nan=False), a.shape)
    n = np.broadcast_to(numeric_array(np.atleast_1d(n), name="n", allow_nan=False), a.shape)
    bad = np.flatnonzero((a >= 1) | (k < 2) | (n < 3))
    if bad.size:
        raise DataError(
            "alpha must be below 1, with at least 2 items and 3 respondents",
            rows=list(bad),
            values=list(a[bad][:5]),
            allowed="alpha < 1, k >= 2, n >= 3",
        )
    if transform == "bonett":
        return -np.log(1 - a), 2 * k / ((k - 1) * (n - 2))
    t = 1 - (1 - a) ** (1 / 3)
    v = 18 * k * (n - 1) * (1 - a) ** (2 / 3) / ((k - 1) * (9 * n - 11) ** 2)
    return t, v


def alpha_back_transform(t: Any, *, transform: str = "bonett") -> np.ndarray:
    """Alpha from its transformed value (inverse of :func:`alpha_transform`)."""
    check_choice("transform", transform, _TRANSFORMS)
    t = np.asarray(t, dtype=float)
    return 1 - np.exp(-t) if transform == "bonett" else 1 - (1 - t) ** 3


@dataclass(frozen=True)
class PooledAlphaResult(Result):
    """Alpha pooled across studies (areas), back on the alpha scale."""

    estimate: float
    ci_low: float
    ci_high: float
    pi_low: float
    pi_high: float
    n: int
    level: float
    method: str
    transform: str
    tau2: float
    i2: float
    q_p: float
    studies: pd.DataFrame = field(repr=False)
    meta: Any = field(repr=False)

    _title = "Pooled Cronbach's alpha"

    def plot(self, ax: Any = None) -> Any:
        """Forest plot of alpha by study with the pooled value (alpha scale)."""
        from ..plots.reliability import plot_pooled_alpha

        return plot_pooled_alpha(self, ax=ax)


def pool_alpha(
    alphas: Any,
    *,
    k: Any,
    n: Any,
    labels: Any = None,
    transform: str = "bonett",
    method: str = "REML",
    knha: bool = True,
    level: float = 0.95,
) -> PooledAlphaResult:
    """Random-effects pooling of Cronbach's alpha across studies (areas).

    Each alpha is transformed (:func:`alpha_transform`), pooled with
    :func:`evalkit.meta.meta_analysis`, and the estimate, confidence and
    prediction intervals are transformed back to the alpha scale.

    Parameters
    ----------
    alphas : array-like
        One alpha per study.
    k, n : int or array-like
        Items and respondents (complete cases) per study.
    labels : array-like, optional
        Study names for tables and the plot.
    transform : {"bonett", "hakstian_whalen"}
    method, knha, level
        Passed to :func:`evalkit.meta.meta_analysis`.

    Returns
    -------
    PooledAlphaResult
        ``estimate``, ``ci_low``, ``ci_high``, ``pi_low``, ``pi_high`` on the alpha
        scale; ``tau2``, ``i2``, ``q_p`` on the transformed scale; ``studies`` (alpha
        with its interval per study) and ``meta`` (the fit on the transformed scale).

    Examples
    --------
    >>> res = pool_alpha([0.85, 0.88, 0.90, 0.86], k=10, n=[120, 200, 150, 90])
    >>> 0.85 < res.estimate < 0.90
    True
    """
    yi, vi = alpha_transform(alphas, k, n, transform=transform)
    if labels is None:
        labels = [f"study {i + 1}" for i in range(len(yi))]
    fit = meta_analysis(yi, variance=vi, labels=list(labels), method=method, knha=knha, level=level)
    back = fit.predict(lambda x: alpha_back_transform(x, transform=transform))
    from scipy import stats

    z = stats.norm.ppf(0.5 + level / 2)
    studies = pd.DataFrame(
        {
            "alpha": alpha_back_transform(yi, transform=transform),
            "ci_low": alpha_back_transform(yi - z * np.sqrt(vi), transform=transform),
            "ci_high": alpha_back_transform(yi + z * np.sqrt(vi), transform=transform),
            "n": np.broadcast_to(np.asarray(n), yi.shape),
        },
        index=pd.Index(list(labels), name="study"),
    )
    return PooledAlphaResult(
        estimate=float(back["estimate"]),
        ci_low=float(back["ci_low"]),
        ci_high=float(back["ci_high"]),
        pi_low=float(back["pi_low"]),
        pi_high=float(back["pi_high"]),
        n=len(yi),
        level=level,
        method=f"{fit.method} on {transform.replace('_', '-')}-transformed alpha",
        transform=transform,
        tau2=float(fit.tau2),
        i2=float(fit.i2),
        q_p=float(fit.q_p),
        studies=studies,
        meta=fit,
    )
