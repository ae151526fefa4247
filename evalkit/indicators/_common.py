"""Shared pieces of :mod:`evalkit.indicators`: input handling, count limits, grouped results.

Everything here is used by more than one indicator module (proportions and rates, funnels,
standardisation, inequality, benchmarking), so it lives in one place.
"""

from __future__ import annotations

import functools
import numbers
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import numeric_array, require_columns
from ..errors import DataError, ParameterError
from ..results import Result

__all__ = [
    "EXACT_BELOW",
    "Indicator",
    "IndicatorTable",
    "is_scalar",
    "counts_input",
    "check_counts",
    "reject_rows",
    "TableResult",
    "check_multiplier",
    "z_value",
    "count_limits",
    "byar_limits",
    "group_list",
    "split_groups",
    "numeric_column",
    "shape_result",
]

#: PHEindicatormethods: exact Poisson limits below 10 events, Byar's from 10
EXACT_BELOW = 10


@dataclass(frozen=True)
class Indicator(Result):
    """One proportion or rate with its confidence interval (scalar input).

    ``estimate``, ``ci_low`` and ``ci_high`` are on the ``multiplier`` scale
    (1 for a proportion by default; 100,000 for a rate per 100,000).
    """

    estimate: float
    ci_low: float
    ci_high: float
    x: float
    n: float
    level: float
    method: str
    statistic: str
    multiplier: float

    _title = "Indicator"


class TableResult(Result):
    """Mixin for results holding a per-row ``table``: ``to_frame()``, ``result[col]``, ``len``."""

    table: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    def __len__(self) -> int:
        return len(self.table)


@dataclass(frozen=True)
class IndicatorTable(TableResult):
    """A grouped indicator: one row per group.

    ``to_frame()`` returns the table (group columns first, then ``estimate``, ``ci_low``,
    ``ci_high``, the input totals and the statistic's own columns). ``result["estimate"]``
    reads a column. Without groups the table has one row, and ``.estimate``, ``.ci_low``
    and ``.ci_high`` are plain numbers; with groups they are Series indexed by group.
    """

    table: pd.DataFrame = field(repr=False)
    statistic: str
    method: str
    level: float
    groups: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    _title = "Indicator by group"

    def _column(self, name: str) -> Any:
        col = self.table[name]
        if not self.groups and len(col) == 1:
            return float(col.iloc[0])
        if len(self.groups) == 1:
            return col.set_axis(pd.Index(self.table[self.groups[0]]))
        if self.groups:
            return col.set_axis(pd.MultiIndex.from_frame(self.table[list(self.groups)]))
        return col

    @property
    def estimate(self) -> Any:
        """The estimate (a number without groups, else a Series by group)."""
        return self._column("estimate")

    @property
    def ci_low(self) -> Any:
        """Lower confidence limit (a number without groups, else a Series by group)."""
        return self._column("ci_low")

    @property
    def ci_high(self) -> Any:
        """Upper confidence limit (a number without groups, else a Series by group)."""
        return self._column("ci_high")


# -- input handling ---------------------------------------------------------------------------


def reject_rows(
    bad: np.ndarray,
    message: str,
    *,
    column: str | None = None,
    columns: Sequence[str] | None = None,
    index: Sequence[Any],
    values: Sequence[Any] | None = None,
    allowed: str,
) -> None:
    """Raise a DataError naming the rows where ``bad`` is true (and their values)."""
    bad = np.asarray(bad, dtype=bool)
    if bad.any():
        shown = None if values is None else list(np.asarray(values, dtype=object)[bad])
        raise DataError(
            message,
            column=column,
            columns=columns,
            rows=list(pd.Index(index)[bad]),
            values=shown,
            allowed=allowed,
        )


def is_scalar(value: Any) -> bool:
    """True for a plain number (or a 0-d array)."""
    return isinstance(value, numbers.Number) or (isinstance(value, np.ndarray) and value.ndim == 0)


def counts_input(
    x: Any, n: Any, data: pd.DataFrame | None, labels: Any, names: tuple[str, str] = ("x", "n")
) -> tuple[np.ndarray, np.ndarray, pd.Index, bool, tuple[str, str]]:
    """Return ``x`` and ``n`` as float arrays, the row labels, and whether input was scalar."""
    if data is not None:
        if not isinstance(x, str) or not isinstance(n, str):
            raise ParameterError(
                "with data=, pass x and n as column names",
                key="x, n",
                expected="column names such as x='breastfed', n='births'",
            )
        require_columns(data, [x, n], what="data")
        names = (x, n)
        if isinstance(labels, str):
            require_columns(data, [labels], what="data")
            labels = data[labels].to_numpy()
        x, n = data[x], data[n]
    scalar = is_scalar(x) and is_scalar(n)
    index = None
    for v in (x, n):
        if isinstance(v, pd.Series):
            index = v.index
            break
    xa = numeric_array(np.atleast_1d(x) if is_scalar(x) else x, name=names[0])
    na = numeric_array(np.atleast_1d(n) if is_scalar(n) else n, name=names[1])
    try:
        xa, na = np.broadcast_arrays(xa, na)
    except ValueError:
        raise DataError(
            f"{names[0]} has {xa.size} values but {names[1]} has {na.size}",
            columns=list(names),
            allowed="one denominator per numerator (or a single one for all)",
        ) from None
    if labels is not None:
        labels = list(labels)
        if len(labels) != xa.size:
            raise DataError(
                f"labels has {len(labels)} entries for {xa.size} areas",
                allowed="one label per area",
            )
        index = pd.Index(labels, name="label")
    elif index is None or len(index) != xa.size:
        index = pd.RangeIndex(xa.size)
    return xa.astype(float), na.astype(float), index, scalar, names


def check_counts(
    x: np.ndarray,
    n: np.ndarray,
    index: Sequence[Any],
    names: tuple[str, str],
    *,
    proportion: bool,
    whole: bool = True,
    zero_n: bool = False,
) -> None:
    """DataError naming the rows for negative or non-whole counts, denominators of zero or
    less (or below zero with ``zero_n``), and (for proportions) ``x > n``."""
    reject_rows(
        x < 0,
        "counts cannot be negative",
        column=names[0],
        index=index,
        values=x,
        allowed="whole numbers of 0 or more",
    )
    if whole:
        reject_rows(
            np.isfinite(x) & (x != np.round(x)),
            "counts must be whole numbers",
            column=names[0],
            index=index,
            values=x,
            allowed="whole numbers of 0 or more",
        )
    reject_rows(
        n < 0 if zero_n else n <= 0,
        "populations cannot be negative" if zero_n else "the denominator must be above zero",
        column=names[1],
        index=index,
        values=n,
        allowed="numbers of 0 or more" if zero_n else "numbers above 0",
    )
    if proportion:
        reject_rows(
            np.isfinite(n) & (n != np.round(n)),
            "denominators of a proportion must be whole numbers",
            column=names[1],
            index=index,
            values=n,
            allowed="whole numbers above 0",
        )
        reject_rows(
            x > n,
            f"{names[0]} is larger than {names[1]}: a proportion cannot exceed 1",
            columns=list(names),
            index=index,
            values=[f"{a:g}/{b:g}" for a, b in zip(x, n)],
            allowed=f"{names[0]} between 0 and {names[1]}",
        )


def check_multiplier(multiplier: Any, *, allow_negative: bool = False) -> float:
    """A multiplier: a positive number (or any non-zero number with ``allow_negative``)."""
    ok = not isinstance(multiplier, bool) and isinstance(multiplier, numbers.Real)
    ok = ok and (multiplier != 0 if allow_negative else multiplier > 0)
    if not ok:
        raise ParameterError(
            f"multiplier={multiplier!r} is not allowed",
            key="multiplier",
            expected="a non-zero number" if allow_negative else "a positive number such as 100",
        )
    return float(multiplier)


def z_value(level: float) -> float:
    """The two-sided normal quantile for a confidence level."""
    return _z_value(float(level))


@functools.lru_cache(maxsize=64)
def _z_value(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def byar_limits(x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """Byar's limits for an observed count (Breslow & Day 1987); negative lower limits -> NaN,
    as PHEindicatormethods' ``byars_lower``."""
    x = np.asarray(x, dtype=float)
    z = z_value(level)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = x * (1 - 1 / (9 * x) - z / (3 * np.sqrt(x))) ** 3
        x1 = x + 1
        hi = x1 * (1 - 1 / (9 * x1) + z / (3 * np.sqrt(x1))) ** 3
    return np.where(lo < 0, np.nan, lo), hi


def count_limits(x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Limits for the expected count: exact Poisson below 10 events, Byar from 10."""
    x = np.asarray(x, dtype=float)
    alpha = 1 - level
    exact = x < EXACT_BELOW
    lo, hi = byar_limits(x, level)
    if exact.any():
        with np.errstate(invalid="ignore", divide="ignore"):
            # exact (Garwood) limits from the chi-squared distribution; no events -> lower 0
            xe = x[exact]
            lo[exact] = np.where(xe > 0, stats.chi2.ppf(alpha / 2, np.maximum(2 * xe, 1)) / 2, 0.0)
            hi[exact] = stats.chi2.ppf(1 - alpha / 2, 2 * xe + 2) / 2
    method = np.where(exact, "exact", "byar").astype(object)
    method[np.isnan(x)] = None
    return lo, hi, method


# -- grouped data -----------------------------------------------------------------------------


def group_list(groups: Any) -> list[str]:
    """``groups`` (None, a column name or a list of names) as a list."""
    if groups is None:
        return []
    if isinstance(groups, str):
        return [groups]
    return list(groups)


def split_groups(
    df: pd.DataFrame, groups: list[str]
) -> Iterator[tuple[dict[str, Any], pd.DataFrame]]:
    """Yield ``(group values, rows)`` in sorted group order (one pass without groups)."""
    if not groups:
        yield {}, df
        return
    for key, part in df.groupby(groups, sort=True, dropna=False, observed=True):
        key = key if isinstance(key, tuple) else (key,)
        yield dict(zip(groups, key)), part


def numeric_column(
    df: pd.DataFrame, column: str, *, what: str = "numbers", allow_nan: bool = True
) -> np.ndarray:
    """A column as floats, with a DataError naming non-numeric (or missing) rows."""
    col = df[column]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        conv = pd.to_numeric(col, errors="coerce")
        bad = conv.isna() & col.notna()
        if bad.any() or pd.api.types.is_bool_dtype(col):
            raise DataError(
                f"{column!r} must be numeric",
                column=column,
                rows=list(col.index[bad]) if bad.any() else None,
                values=list(col[bad].head(5)) if bad.any() else None,
                allowed=what,
            )
        col = conv
    arr = col.to_numpy(dtype=float)
    if not allow_nan and np.isnan(arr).any():
        raise DataError(
            f"{column!r} has missing values",
            column=column,
            rows=list(df.index[np.isnan(arr)]),
            allowed=what,
        )
    return arr


def shape_result(
    est: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    x: np.ndarray,
    n: np.ndarray,
    index: pd.Index,
    scalar: bool,
    *,
    level: float,
    method: Any,
    statistic: str,
    multiplier: float,
) -> Indicator | pd.DataFrame:
    """An :class:`Indicator` for scalar input, otherwise a DataFrame with one row per area."""
    methods = np.broadcast_to(np.asarray(method, dtype=object), est.shape)
    if scalar:
        return Indicator(
            estimate=float(est[0]),
            ci_low=float(lo[0]),
            ci_high=float(hi[0]),
            x=float(x[0]),
            n=float(n[0]),
            level=level,
            method=str(methods[0]),
            statistic=statistic,
            multiplier=multiplier,
        )
    return pd.DataFrame(
        {
            "x": x,
            "n": n,
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "level": level,
            "method": list(methods),
            "statistic": statistic,
            "multiplier": multiplier,
        },
        index=index,
    )
