"""Bland–Altman limits of agreement between two methods of measurement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import check_level, numeric_array
from ..errors import DataError
from ..results import Result

__all__ = ["BlandAltmanResult", "bland_altman"]


@dataclass(frozen=True)
class BlandAltmanResult(Result):
    """Bias (mean difference a − b) and 95% limits of agreement, each with a confidence interval.

    ``estimate`` is the bias with ``se``, ``ci_low``, ``ci_high``; ``loa_low`` and ``loa_high``
    the limits (bias ∓ z·sd) with their intervals; ``slope`` and ``slope_p`` regress the
    differences on the means (a check for proportional bias).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    level: float
    method: str
    sd: float
    loa: float
    loa_low: float
    loa_high: float
    loa_se: float
    loa_low_ci_low: float
    loa_low_ci_high: float
    loa_high_ci_low: float
    loa_high_ci_high: float
    slope: float
    slope_p: float
    means: np.ndarray = field(repr=False, compare=False)
    differences: np.ndarray = field(repr=False, compare=False)
    _title = "Bland-Altman agreement"

    def to_frame(self) -> pd.DataFrame:
        """Three rows: bias, lower limit and upper limit of agreement."""
        return pd.DataFrame(
            {
                "term": ["bias", "lower limit of agreement", "upper limit of agreement"],
                "estimate": [self.estimate, self.loa_low, self.loa_high],
                "se": [self.se, self.loa_se, self.loa_se],
                "ci_low": [self.ci_low, self.loa_low_ci_low, self.loa_high_ci_low],
                "ci_high": [self.ci_high, self.loa_low_ci_high, self.loa_high_ci_high],
                "n": self.n,
                "level": self.level,
            }
        )

    def plot(self, ax: Any = None) -> Any:
        """The Bland–Altman plot: differences against means with bias and limits."""
        from ..plots.reliability import plot_bland_altman

        return plot_bland_altman(self, ax=ax)


def bland_altman(a: Any, b: Any, *, level: float = 0.95, loa: float = 0.95) -> BlandAltmanResult:
    """Bland–Altman analysis of agreement between measurements ``a`` and ``b`` of the same people.

    With differences d = a − b (mean d̄, SD s, n pairs): bias = d̄ with
    CI d̄ ± t_{n−1}·s/√n; limits of agreement d̄ ∓ z·s with z the normal quantile of ``loa``
    (1.96 for 95%) and standard error s·√(1/n + z²/(2(n−1))) (Bland & Altman 1999, §3.2;
    their 1986 paper used the approximation s·√(3/n) for z = 2), so each limit has the CI
    limit ± t_{n−1}·se.

    Parameters
    ----------
    a, b : array-like
        Paired measurements; pairs with a missing value are dropped.
    level : float
        Confidence level for the intervals around the bias and the limits.
    loa : float
        Coverage of the limits of agreement (0.95 gives ± 1.96 SD).

    References
    ----------
    Bland & Altman (1986) Lancet 327:307. Bland & Altman (1999) Stat Methods Med Res 8:135.

    Examples
    --------
    >>> wright = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
    >>> mini = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]
    >>> res = bland_altman(wright, mini)          # Bland & Altman (1986): bias −2.1, SD 38.8
    >>> round(res.estimate, 1), round(res.sd, 1)
    (-2.1, 38.8)
    """
    level = check_level(level)
    loa = check_level(loa)
    x = numeric_array(a, name="a")
    y = numeric_array(b, name="b")
    if x.shape != y.shape:
        raise DataError(
            f"a and b have different lengths ({x.size} and {y.size})",
            allowed="two measurements of each person, in the same order",
        )
    keep = ~(np.isnan(x) | np.isnan(y))
    x, y = x[keep], y[keep]
    n = int(x.size)
    if n < 3:
        raise DataError(f"Bland-Altman analysis needs at least 3 complete pairs, got {n}")
    d = x - y
    m = (x + y) / 2.0
    bias = float(d.mean())
    sd = float(d.std(ddof=1))
    z = float(stats.norm.ppf(0.5 + loa / 2.0))
    t = float(stats.t.ppf(0.5 + level / 2.0, n - 1))
    se = sd / np.sqrt(n)
    loa_se = sd * np.sqrt(1.0 / n + z**2 / (2.0 * (n - 1)))
    lo, hi = bias - z * sd, bias + z * sd
    if np.ptp(m) > 0:
        reg = stats.linregress(m, d)
        slope, slope_p = float(reg.slope), float(reg.pvalue)
    else:
        slope = slope_p = float("nan")
    return BlandAltmanResult(
        estimate=bias,
        se=float(se),
        ci_low=bias - t * se,
        ci_high=bias + t * se,
        n=n,
        level=level,
        method="Bland-Altman limits of agreement",
        sd=sd,
        loa=loa,
        loa_low=lo,
        loa_high=hi,
        loa_se=float(loa_se),
        loa_low_ci_low=lo - t * loa_se,
        loa_low_ci_high=lo + t * loa_se,
        loa_high_ci_low=hi - t * loa_se,
        loa_high_ci_high=hi + t * loa_se,
        slope=slope,
        slope_p=slope_p,
        means=m,
        differences=d,
    )
