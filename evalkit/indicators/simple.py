"""Proportions, crude rates and means, as PHEindicatormethods ``phe_proportion``,
``phe_rate`` and ``phe_mean`` compute them.

Shapes: scalar ``x`` and ``n`` give a small result object (``.estimate``, ``.ci_low``,
``.ci_high``...); arrays, lists or Series give a DataFrame with one row per area (the
Series' index, or ``labels``, become the index). With ``data=`` the arguments ``x`` and ``n``
name columns of that DataFrame. :func:`mean` takes a DataFrame and optional group columns.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import check_level, require_columns
from ..errors import DataError
from ._common import (
    Indicator,
    IndicatorTable,
    check_counts,
    check_multiplier,
    count_limits,
    counts_input,
    group_list,
    numeric_column,
    shape_result,
    split_groups,
    z_value,
)

__all__ = ["proportion", "rate", "mean", "wilson_limits"]


# -- proportions ------------------------------------------------------------------------------


def wilson_limits(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score limits (as proportions) for ``x`` of ``n`` at normal quantile ``z``."""
    with np.errstate(invalid="ignore"):
        centre = 2 * x + z**2
        half = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
        denom = 2 * (n + z**2)
        lo, hi = (centre - half) / denom, (centre + half) / denom
    # exact at the boundaries (the formula can miss 0 or 1 by a rounding error)
    return np.where(x == 0, 0.0, lo), np.where(x == n, 1.0, hi)


def _proportion_arrays(
    xa: np.ndarray, na: np.ndarray, level: float, multiplier: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Estimate and Wilson limits (× ``multiplier``) of checked float arrays (no validation:
    :func:`proportion` checks its input first; internal callers pass checked counts)."""
    lo, hi = wilson_limits(xa, na, z_value(level))
    return xa / na * multiplier, lo * multiplier, hi * multiplier


def proportion(
    x: Any,
    n: Any,
    *,
    level: float = 0.95,
    multiplier: float = 1,
    data: pd.DataFrame | None = None,
    labels: Any = None,
) -> Indicator | pd.DataFrame:
    """A proportion ``x / n`` with its Wilson score confidence interval.

    .. math::

        \\frac{2x + z^2 \\mp z\\sqrt{z^2 + 4x(1 - x/n)}}{2(n + z^2)}, \\qquad
        z = \\Phi^{-1}\\left(\\tfrac{1 + \\text{level}}{2}\\right)

    This is the Fingertips method (PHEindicatormethods ``phe_proportion``).

    Parameters
    ----------
    x, n
        Numerator and denominator counts: scalars, arrays, Series, or column names with ``data``.
    level
        Confidence level (0.95; Fingertips also uses 0.998).
    multiplier
        Scale of the output (1 = proportion, 100 = percentage).
    data
        Optional DataFrame holding the columns named by ``x`` and ``n``.
    labels
        Optional area labels (or, with ``data``, the name of a label column).

    Returns
    -------
    Indicator or pandas.DataFrame
        For scalar input an :class:`Indicator`; otherwise a DataFrame with columns
        ``x, n, estimate, ci_low, ci_high, level, method, statistic, multiplier``.

    Raises
    ------
    DataError
        Negative or non-whole counts, a denominator of zero, or ``x > n``; the rows are named.

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    JASA 22:209-212. Newcombe RG, Altman DG (2000), in *Statistics with confidence*, pp. 46-48.

    Examples
    --------
    >>> r = proportion(65, 100)
    >>> round(r.ci_low, 4), round(r.ci_high, 4)
    (0.5525, 0.7364)
    >>> proportion([65, 3], [100, 10], multiplier=100)["ci_low"].round(2).tolist()
    [55.25, 10.78]
    """
    level = check_level(level)
    multiplier = check_multiplier(multiplier)
    xa, na, index, scalar, names = counts_input(x, n, data, labels)
    check_counts(xa, na, index, names, proportion=True)
    est, lo, hi = _proportion_arrays(xa, na, level, multiplier)
    return shape_result(
        est,
        lo,
        hi,
        xa,
        na,
        index,
        scalar,
        level=level,
        method="wilson",
        statistic="proportion",
        multiplier=multiplier,
    )


# -- rates ------------------------------------------------------------------------------------


def _rate_arrays(
    xa: np.ndarray, na: np.ndarray, level: float, multiplier: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Estimate, Byar's or exact limits (× ``multiplier``) and the method per row, from
    checked float arrays (no validation: :func:`rate` checks its input first)."""
    lo, hi, method = count_limits(xa, level)
    scale = multiplier / na
    return xa * scale, lo * scale, hi * scale, method


def rate(
    x: Any,
    n: Any,
    *,
    multiplier: float = 100000,
    level: float = 0.95,
    data: pd.DataFrame | None = None,
    labels: Any = None,
) -> Indicator | pd.DataFrame:
    """A crude rate ``x / n × multiplier`` with Byar's or the exact Poisson interval.

    For 10 or more events, Byar's approximation to the Poisson limits of the count:

    .. math::

        O_L = x\\left(1 - \\frac{1}{9x} - \\frac{z}{3\\sqrt{x}}\\right)^3, \\quad
        O_U = (x + 1)\\left(1 - \\frac{1}{9(x+1)} + \\frac{z}{3\\sqrt{x+1}}\\right)^3

    For fewer than 10 events the exact limits
    :math:`O_L = \\chi^2_{\\alpha/2;\\,2x}/2` (0 when ``x = 0``) and
    :math:`O_U = \\chi^2_{1-\\alpha/2;\\,2x+2}/2`. The rate limits are
    :math:`O / n \\times` ``multiplier``, as in PHEindicatormethods ``phe_rate``.

    Parameters
    ----------
    x
        Event counts (whole numbers).
    n
        Denominators (population or person-years; need not be whole).
    multiplier
        Rate per this many (100,000 by default).
    level
        Confidence level.
    data, labels
        As in :func:`proportion`.

    Returns
    -------
    Indicator or pandas.DataFrame
        ``method`` says which interval was used for each row (``"byar"`` or ``"exact"``).

    References
    ----------
    Breslow NE, Day NE (1987). *Statistical methods in cancer research, vol. II*. IARC.
    Armitage P, Berry G (2002). *Statistical methods in medical research*, 4th edn.

    Examples
    --------
    >>> r = rate(100, 100, multiplier=100)
    >>> round(r.ci_low, 2), round(r.ci_high, 2)
    (81.36, 121.63)
    >>> rate(3, 5000).method
    'exact'
    """
    level = check_level(level)
    multiplier = check_multiplier(multiplier)
    xa, na, index, scalar, names = counts_input(x, n, data, labels)
    check_counts(xa, na, index, names, proportion=False)
    est, lo, hi, method = _rate_arrays(xa, na, level, multiplier)
    return shape_result(
        est,
        lo,
        hi,
        xa,
        na,
        index,
        scalar,
        level=level,
        method=method,
        statistic=f"rate per {multiplier:g}",
        multiplier=multiplier,
    )


# -- means ------------------------------------------------------------------------------------


def mean(df: pd.DataFrame, value: str, groups: Any = None, level: float = 0.95) -> IndicatorTable:
    """The mean of ``value`` (within each group) with a Student's t confidence interval.

    .. math::

        \\bar x \\pm t_{1 - \\alpha/2,\\, n - 1}\\, \\frac{s}{\\sqrt n}

    This is PHEindicatormethods ``phe_mean`` (which uses the same t interval at 95% and
    99.8%). Missing values are left out (``phe_mean`` would return NA for the group).

    Parameters
    ----------
    df
        The data, one row per observation.
    value
        Column of numeric values.
    groups
        Optional column name (or list of names): one result row per group.
    level
        Confidence level.

    Returns
    -------
    IndicatorTable
        ``to_frame()`` has the group columns, ``estimate``, ``ci_low``, ``ci_high``, ``se``,
        ``value_sum``, ``value_count``, ``stdev``, ``level``, ``statistic`` and ``method``.

    Raises
    ------
    DataError
        A non-numeric value, or a group without values (the rows are named). A group with
        one value gets no interval (NaN), as ``phe_mean``.

    References
    ----------
    Student (1908). The probable error of a mean. Biometrika 6:1-25.

    Examples
    --------
    >>> import pandas as pd
    >>> r = mean(pd.DataFrame({"v": [1.0, 2.0, 3.0, 4.0]}), "v")
    >>> round(r.estimate, 2), round(r.ci_low, 4), round(r.ci_high, 4)
    (2.5, 0.4457, 4.5543)
    """
    level = check_level(level)
    keys = group_list(groups)
    require_columns(df, [value, *keys], what="df")
    values = numeric_column(df, value, what="numbers (empty for missing)")
    work = df[keys].copy()
    work["_v"] = values
    rows = []
    for key, part in split_groups(work, keys):
        v = part["_v"].dropna().to_numpy()
        if v.size == 0:
            raise DataError(
                "a group has no values",
                column=value,
                rows=list(part.index),
                allowed="at least one non-missing value per group",
            )
        m = float(v.mean())
        # one value: no standard deviation, so no interval (PHE's phe_mean gives NA limits)
        sd = float(v.std(ddof=1)) if v.size > 1 else np.nan
        t = abs(float(stats.t.ppf((1 - level) / 2, v.size - 1))) if v.size > 1 else np.nan
        se = sd / np.sqrt(v.size)
        rows.append(
            {
                **key,
                "estimate": m,
                "ci_low": m - t * se,
                "ci_high": m + t * se,
                "se": se,
                "value_sum": float(v.sum()),
                "value_count": int(v.size),
                "stdev": sd,
                "level": level,
                "statistic": "mean",
                "method": "Student's t-distribution",
            }
        )
    return IndicatorTable(
        table=pd.DataFrame(rows),
        statistic="mean",
        method="Student's t-distribution",
        level=level,
        groups=tuple(keys),
    )
