"""Benchmarking as the OHID Fingertips profiles show it: :func:`compare` (better, similar or
worse than a benchmark) and :func:`trend` (the recent-trend marker).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import check_choice, check_level, check_positive_int, require_columns
from ..errors import DataError
from ._common import IndicatorTable, check_counts, group_list, numeric_column, split_groups

__all__ = ["compare", "trend", "POLARITIES", "TREND_POINTS"]

#: polarity of an indicator, as Fingertips names it
POLARITIES = ("high is good", "low is good", "none")

#: Fingertips computes the recent trend on the most recent five points
TREND_POINTS = 5

_WORDS = {
    "high is good": ("better", "worse"),
    "low is good": ("worse", "better"),
    "none": ("higher", "lower"),
}


def _benchmark_values(df: pd.DataFrame, benchmark: Any) -> np.ndarray:
    if isinstance(benchmark, str):
        require_columns(df, [benchmark], what="df")
        return numeric_column(df, benchmark, what="numbers")
    arr = np.asarray(benchmark, dtype=float)
    if arr.ndim == 0:
        return np.full(len(df), float(arr))
    if arr.size != len(df):
        raise DataError(
            f"benchmark has {arr.size} values for {len(df)} rows",
            allowed="a number, a column name, or one value per row",
        )
    return arr.ravel()


def _verdict(lo: np.ndarray, hi: np.ndarray, bench: np.ndarray, polarity: str) -> list[Any]:
    up, down = _WORDS[polarity]
    out: list[Any] = []
    for a, b, c in zip(lo, hi, bench):
        if np.isnan(a) or np.isnan(b) or np.isnan(c):
            out.append("not compared")
        elif a > c:
            out.append(up)
        elif b < c:
            out.append(down)
        else:
            out.append("similar")
    return out


def compare(
    df: pd.DataFrame,
    value: str,
    ci_low: str,
    ci_high: str,
    benchmark: Any,
    polarity: str = "high is good",
    *,
    level: float = 0.95,
    ci_low_998: str | None = None,
    ci_high_998: str | None = None,
) -> pd.DataFrame:
    """Compare each row's value with a benchmark, as the Fingertips profiles do.

    A value whose confidence interval lies wholly above the benchmark is ``"better"`` (with
    ``polarity="high is good"``; ``"worse"`` when low is good; ``"higher"`` without
    polarity), wholly below it ``"worse"`` (``"better"``, ``"lower"``), and otherwise
    ``"similar"``. A row without an interval is ``"not compared"``. The benchmark is
    England's value, or the value for the group of areas.

    Fingertips compares at 95% and, for some profiles, 99.8%: the given interval is at
    ``level`` (95% by default); 99.8% limits can be given as ``ci_low_998``/``ci_high_998``
    (for example from a second call of :func:`dsr` or :func:`proportion` with
    ``level=0.998``).

    Parameters
    ----------
    df
        One row per area (or per area and indicator).
    value, ci_low, ci_high
        Column names of the value and its confidence limits.
    benchmark
        A number, a column name (e.g. each indicator's England value), or one value per row.
    polarity
        ``"high is good"``, ``"low is good"`` or ``"none"``.
    level
        Confidence level of ``ci_low``/``ci_high``.
    ci_low_998, ci_high_998
        Optional 99.8% limits.

    Returns
    -------
    pandas.DataFrame
        ``df`` with ``benchmark``, ``comparison`` (at ``level``), ``compared_95`` and
        ``compared_998`` (``None`` where that level's limits were not given).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"v": [70, 60, 66], "lo": [68, 57, 62], "hi": [72, 63, 70]})
    >>> compare(d, "v", "lo", "hi", 65)["comparison"].tolist()
    ['better', 'worse', 'similar']
    >>> compare(d, "v", "lo", "hi", 65, "none")["comparison"].tolist()
    ['higher', 'lower', 'similar']
    """
    check_choice("polarity", polarity, POLARITIES)
    level = check_level(level)
    extra = [c for c in (ci_low_998, ci_high_998) if c is not None]
    require_columns(df, [value, ci_low, ci_high, *extra], what="df")
    numeric_column(df, value, what="numbers")
    lo = numeric_column(df, ci_low, what="numbers (empty when not available)")
    hi = numeric_column(df, ci_high, what="numbers (empty when not available)")
    bench = _benchmark_values(df, benchmark)
    out = df.copy()
    out["benchmark"] = bench
    out["comparison"] = _verdict(lo, hi, bench, polarity)
    out["compared_95"] = out["comparison"] if np.isclose(level, 0.95) else None
    if ci_low_998 is not None and ci_high_998 is not None:
        lo9 = numeric_column(df, ci_low_998, what="numbers")
        hi9 = numeric_column(df, ci_high_998, what="numbers")
        out["compared_998"] = _verdict(lo9, hi9, bench, polarity)
    else:
        out["compared_998"] = out["comparison"] if np.isclose(level, 0.998) else None
    return out


def _chi2_trend(x: np.ndarray, n: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    """Chi-squared test for trend in proportions (Armitage 1955; R ``prop.trend.test``):
    returns the slope of the proportion per period, its standard error and the chi-squared."""
    p = x.sum() / n.sum()
    tbar = (n * t).sum() / n.sum()
    sxx = (n * (t - tbar) ** 2).sum()
    slope = (x * (t - tbar)).sum() / sxx
    se = np.sqrt(p * (1 - p) / sxx)
    return float(slope), float(se), float((slope / se) ** 2)


def _poisson_trend(x: np.ndarray, n: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    """Poisson regression of counts on time with log(population) offset (Newton-Raphson);
    returns the log rate ratio per period, its standard error and the Wald chi-squared."""
    design = np.column_stack([np.ones_like(t), t - t.mean()])
    beta = np.array([np.log(max(x.sum(), 0.5) / n.sum()), 0.0])
    for _ in range(100):
        mu = n * np.exp(design @ beta)
        info = design.T @ (design * mu[:, None])
        step = np.linalg.solve(info, design.T @ (x - mu))
        beta = beta + step
        if np.max(np.abs(step)) < 1e-12:
            break
    mu = n * np.exp(design @ beta)
    cov = np.linalg.inv(design.T @ (design * mu[:, None]))
    se = float(np.sqrt(cov[1, 1]))
    return float(beta[1]), se, float((beta[1] / se) ** 2)


def _trend_values(
    xs: np.ndarray, ns: np.ndarray, ts: np.ndarray, statistic: str, level: float, z: float
) -> tuple[float, float, float, float, float, str]:
    """One group's trend from its checked last points in time order (no validation:
    :func:`trend` checks first): estimate, limits, chi-squared, p-value and the marker."""
    if statistic == "proportion":
        slope, se, chi2 = _chi2_trend(xs, ns, ts)
        est, lo, hi = slope, slope - z * se, slope + z * se
    else:
        slope, se, chi2 = _poisson_trend(xs, ns, ts)
        est, lo, hi = np.exp(slope), np.exp(slope - z * se), np.exp(slope + z * se)
    p = float(stats.chi2.sf(chi2, 1))
    if p < 1 - level:
        word = "increasing" if slope > 0 else "decreasing"
    else:
        word = "no significant change"
    return float(est), float(lo), float(hi), chi2, p, word


def trend(
    df: pd.DataFrame,
    x: str,
    n: str,
    period: str,
    groups: Any = None,
    statistic: str = "proportion",
    level: float = 0.999,
    points: int = TREND_POINTS,
) -> IndicatorTable:
    """The Fingertips recent-trend marker on the most recent points of each group.

    On the last ``points`` (five) periods: for a proportion, the chi-squared test for
    trend (Armitage 1955; R ``prop.trend.test``), with the slope of the proportion per
    period as the estimate; for a rate, a Poisson regression of the counts on the period
    with the log population as offset, with the rate ratio per period as the estimate.
    The marker is ``"increasing"`` or ``"decreasing"`` when the two-sided p-value is below
    :math:`1 - \\text{level}` (Fingertips tests at 99.9%), else ``"no significant change"``.

    Parameters
    ----------
    df
        One row per period (within each group).
    x, n
        Column names: numerator (events) and denominator (population).
    period
        Column of the periods (numbers such as years); rows are sorted by it.
    groups
        Optional column name (or list of names).
    statistic
        ``"proportion"`` or ``"rate"``.
    level
        Significance level of the marker (0.999, as Fingertips).
    points
        Number of most recent points used (5, as Fingertips).

    Returns
    -------
    IndicatorTable
        ``to_frame()``: group columns, ``estimate`` (slope per period, or rate ratio per
        period), ``ci_low``, ``ci_high`` (at ``level``), ``chi2``, ``p``, ``trend``,
        ``points``, ``first_period``, ``last_period``, ``total_x``, ``total_n``.

    Raises
    ------
    DataError
        A group with fewer than ``points`` periods (the rows are named), or bad counts.

    References
    ----------
    Armitage P (1955). Tests for linear trends in proportions and frequencies.
    Biometrics 11:375-386. OHID Fingertips technical guidance (recent trends).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"year": range(2019, 2024), "x": [500, 540, 580, 620, 660],
    ...                   "n": [1000] * 5})
    >>> r = trend(d, "x", "n", "year")
    >>> r.to_frame()["trend"].iloc[0], round(r.estimate, 3)
    ('increasing', 0.04)
    """
    check_choice("statistic", statistic, ("proportion", "rate"))
    level = check_level(level)
    points = check_positive_int("points", points, minimum=2)
    keys = group_list(groups)
    require_columns(df, [x, n, period, *keys], what="df")
    xa = numeric_column(df, x, what="whole numbers of 0 or more", allow_nan=False)
    na = numeric_column(df, n, what="numbers above 0", allow_nan=False)
    ta = numeric_column(df, period, what="numbers such as years", allow_nan=False)
    check_counts(
        xa,
        na,
        df.index,
        (x, n),
        proportion=statistic == "proportion",
        whole=statistic == "proportion",
    )
    work = df[keys].copy()
    work["_x"], work["_n"], work["_t"] = xa, na, ta
    z = float(stats.norm.ppf(0.5 + level / 2))
    rows = []
    for key, part in split_groups(work, keys):
        if len(part) < points:
            raise DataError(
                f"a trend needs the {points} most recent points; this group has {len(part)}",
                column=period,
                rows=list(part.index),
                allowed=f"at least {points} periods per group",
            )
        last = part.sort_values("_t").tail(points)
        xs, ns, ts = (last[c].to_numpy(dtype=float) for c in ("_x", "_n", "_t"))
        est, lo, hi, chi2, p, word = _trend_values(xs, ns, ts, statistic, level, z)
        rows.append(
            {
                **key,
                "estimate": est,
                "ci_low": lo,
                "ci_high": hi,
                "chi2": chi2,
                "p": p,
                "trend": word,
                "points": points,
                "first_period": ts[0],
                "last_period": ts[-1],
                "total_x": float(xs.sum()),
                "total_n": float(ns.sum()),
                "level": level,
                "statistic": statistic,
                "method": "chi-squared test for trend"
                if statistic == "proportion"
                else "Poisson regression",
            }
        )
    table = pd.DataFrame(rows)
    return IndicatorTable(
        table=table,
        statistic=f"recent trend ({statistic})",
        method=table["method"].iloc[0],
        level=level,
        groups=tuple(keys),
    )
