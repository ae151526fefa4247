"""Input checks shared by the area-level designs (did, its, synthetic_control).

Area-level data are panels (one row per area and period) or single series. The
checks here give the same clear :class:`~evalkit.errors.DataError` for the same
mistake in every design: duplicated periods, gaps, non-numeric outcomes, missing
values, and periods that cannot be ordered.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from .._validate import require_columns
from ..errors import DataError, format_list

__all__ = [
    "numeric_column",
    "time_codes",
    "check_series_times",
    "check_balanced_panel",
]


def numeric_column(df: pd.DataFrame, column: str, *, what: str = "outcome") -> np.ndarray:
    """A float array from ``df[column]``; DataError naming non-numeric or missing rows."""
    col = df[column]
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(col):
        converted = pd.to_numeric(col, errors="coerce")
        bad = converted.isna() & col.notna()
        if bad.any():
            raise DataError(
                f"the {what} must be numeric",
                column=column,
                rows=list(col.index[bad]),
                values=list(col[bad].head(5)),
                allowed="numbers",
            )
        col = converted
    values = col.to_numpy(dtype=float)
    missing = ~np.isfinite(values)
    if missing.any():
        raise DataError(
            f"the {what} has missing or infinite values",
            column=column,
            rows=list(df.index[missing]),
            allowed="a number in every row (drop or impute the missing periods first)",
        )
    return values


def time_codes(values: pd.Series, *, column: str) -> tuple[np.ndarray, str]:
    """Map a time column to numbers that can be ordered and differenced.

    Numbers are used as they are. Dates become month numbers when every date falls on
    the same day of the month (monthly data), otherwise day numbers. Periods
    (``pd.Period``) become their ordinal. Returns ``(codes, kind)`` where ``kind`` is
    ``"number"``, ``"month"``, ``"day"`` or ``"period"``.
    """
    if values.isna().any():
        raise DataError(
            "the time column has missing values",
            column=column,
            rows=list(values.index[values.isna()]),
            allowed="a period (number or date) in every row",
        )
    if isinstance(values.dtype, pd.PeriodDtype):
        return np.array([p.ordinal for p in values], dtype=float), "period"
    if pd.api.types.is_datetime64_any_dtype(values):
        stamps = pd.DatetimeIndex(values)
        if (stamps.day == stamps.day[0]).all():
            return (stamps.year * 12 + stamps.month - 1).to_numpy(dtype=float), "month"
        return (stamps.normalize().asi8 // 86_400_000_000_000).astype(float), "day"
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        converted = pd.to_numeric(values, errors="coerce")
        if converted.isna().any() and not pd.api.types.is_bool_dtype(values):
            # text dates such as "2021-04-01"
            try:
                stamps = pd.to_datetime(values, format="ISO8601")
            except (TypeError, ValueError):
                stamps = None
            if stamps is not None:
                return time_codes(stamps, column=column)
        bad = converted.isna()
        if bad.any():
            raise DataError(
                "the time column must hold numbers or dates",
                column=column,
                rows=list(values.index[bad]),
                values=list(values[bad].head(5)),
                allowed="period numbers (1, 2, 3, ...) or dates",
            )
        values = converted
    return values.to_numpy(dtype=float), "number"


def code_of(value: Any, kind: str, *, key: str) -> float:
    """Convert a single time value (an interruption, a first-treated period) like the column."""
    from ..errors import ParameterError

    try:
        if kind == "period":
            return float(pd.Period(value).ordinal)
        if kind in ("month", "day"):
            stamp = pd.Timestamp(value)
            if kind == "month":
                return float(stamp.year * 12 + stamp.month - 1)
            return float(stamp.normalize().value // 86_400_000_000_000)
        return float(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{key}={value!r} cannot be read as a time",
            key=key,
            expected="a value of the same kind as the time column (a number or a date)",
        ) from None


def check_series_times(df: pd.DataFrame, codes: np.ndarray, *, column: str) -> float:
    """One series: no duplicated periods and no gaps. Returns the step between periods."""
    dup = pd.Series(codes).duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataError(
            "the series has duplicated periods (each period must appear once)",
            column=column,
            rows=list(df.index[dup]),
            values=list(df[column][dup].head(5)),
            allowed="one row per period",
        )
    ordered = np.sort(codes)
    steps = np.diff(ordered)
    if len(steps) == 0:
        raise DataError("the series has a single period", column=column)
    step = float(steps.min())
    gaps = np.flatnonzero(~np.isclose(steps, step))
    if len(gaps):
        pos = {c: i for i, c in enumerate(codes)}
        lines, rows = [], []
        for i in gaps[:10]:
            a, b = pos[ordered[i]], pos[ordered[i + 1]]
            lines.append(f"between {plain(df[column].iloc[a])!r} and {plain(df[column].iloc[b])!r}")
            rows += [df.index[a], df.index[b]]
        raise DataError(
            "the series has gaps (missing periods) " + "; ".join(lines),
            column=column,
            rows=rows,
            allowed="equally spaced periods with none missing (fill in the missing periods "
            "or analyse a shorter series)",
        )
    return step


def check_balanced_panel(
    df: pd.DataFrame, *, unit: str, time: str, codes: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """A panel with exactly one row per unit and period, every unit seen in every period.

    Returns ``(units, times)``: the sorted unique unit labels and time codes.
    """
    keys = pd.DataFrame({"u": df[unit].to_numpy(), "t": codes}, index=df.index)
    if keys["u"].isna().any():
        raise DataError(
            "the unit column has missing values", column=unit, rows=list(df.index[keys["u"].isna()])
        )
    dup = keys.duplicated(keep=False).to_numpy()
    if dup.any():
        shown = [
            f"{u!r} at {df[time].iloc[i]!r}"
            for i, u in zip(np.flatnonzero(dup)[:6], keys["u"][dup][:6])
        ]
        raise DataError(
            "duplicated unit-period rows: " + format_list(shown, limit=6),
            columns=[unit, time],
            rows=list(df.index[dup]),
            allowed="one row per unit and period",
        )
    units = pd.unique(keys["u"])
    times = np.unique(codes)
    counts = keys.groupby("u", sort=False)["t"].size()
    short = counts[counts < len(times)]
    if len(short):
        present = keys.groupby("u", sort=False)["t"].apply(set)
        lines = []
        for u in short.index[:6]:
            miss = sorted(set(times) - present[u])
            lines.append(f"{plain(u)!r} misses {len(miss)} period(s)")
        raise DataError(
            "the panel is not balanced: "
            + format_list(lines, limit=6)
            + f" ({len(short)} unit(s) in all)",
            columns=[unit, time],
            allowed="every unit observed in every period",
        )
    return np.asarray(units), times


def plain(value: Any) -> Any:
    """numpy scalars as plain Python values, so messages read 10 rather than np.int64(10)."""
    return value.item() if isinstance(value, np.generic) else value


def require(df: Any, columns: Sequence[str | None], *, what: str = "data") -> None:
    """require_columns, skipping ``None`` entries."""
    require_columns(df, [c for c in columns if c is not None], what=what)
