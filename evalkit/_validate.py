"""Input checks in one place (the scikit-learn habit).

Every public function validates its input through these helpers, so the same
mistake always gets the same clear message. Nothing here uses ``assert``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from .errors import DataError, ParameterError

__all__ = [
    "check_level",
    "check_choice",
    "check_reliability",
    "check_positive_int",
    "require_columns",
    "numeric_frame",
    "numeric_array",
    "binary_series",
    "spreadsheet_rows",
]


def check_level(level: float) -> float:
    """A confidence level strictly between 0 and 1 (e.g. 0.95)."""
    try:
        value = float(level)
    except (TypeError, ValueError):
        raise ParameterError(
            f"level must be a number, got {level!r}",
            key="level",
            expected="a number between 0 and 1, such as 0.95",
        ) from None
    if not 0.0 < value < 1.0:
        raise ParameterError(
            f"level must be between 0 and 1, got {level!r}",
            key="level",
            expected="a number between 0 and 1, such as 0.95",
        )
    return value


def check_reliability(value: Any, key: str = "reliability") -> float:
    """A reliability coefficient from 0 up to (not including) 1, such as alpha .87."""
    try:
        r = float(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{key} must be a number, got {value!r}",
            key=key,
            expected="a number between 0 and 1, such as 0.87",
        ) from None
    if not 0.0 <= r < 1.0:
        raise ParameterError(
            f"{key}={value!r} is not allowed",
            key=key,
            expected="a number from 0 up to (not including) 1, such as alpha 0.87",
        )
    return r


def check_choice(name: str, value: Any, choices: Iterable[Any]) -> Any:
    """``value`` must be one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        raise ParameterError(
            f"{name}={value!r} is not one of the options",
            key=name,
            expected=" or ".join(repr(c) for c in choices),
        )
    return value


def check_positive_int(name: str, value: Any, minimum: int = 1) -> int:
    """An integer of at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ParameterError(
            f"{name}={value!r} is not allowed",
            key=name,
            expected=f"a whole number of at least {minimum}",
        )
    return int(value)


def require_columns(df: pd.DataFrame, columns: Sequence[str], *, what: str = "data") -> None:
    """Raise a DataError listing every column of ``columns`` missing from ``df``."""
    if not isinstance(df, pd.DataFrame):
        raise DataError(f"{what} must be a pandas DataFrame, got {type(df).__name__}")
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise DataError(
            f"{what} has no column(s) named " + ", ".join(repr(c) for c in missing),
            columns=missing,
            allowed="one of " + ", ".join(repr(str(c)) for c in df.columns[:20]),
        )


def spreadsheet_rows(positions: Iterable[int], *, limit: int = 10) -> str:
    """Row numbers as a person sees them in a spreadsheet, with the convention said.

    ``positions`` are 0-based positions of data rows (the first data row is 0); in a
    spreadsheet the header is row 1, so the first data row is row 2. Messages about
    ID columns use this instead of showing any ID.

    >>> spreadsheet_rows([1, 5])
    'spreadsheet rows 3 and 7 (the header is row 1)'
    >>> spreadsheet_rows([0])
    'spreadsheet row 2 (the header is row 1)'
    >>> spreadsheet_rows(range(12), limit=3)
    'spreadsheet rows 2, 3, 4 and 9 more (the header is row 1)'
    """
    rows = [int(p) + 2 for p in positions]
    if len(rows) == 1:
        shown = f"row {rows[0]}"
    elif len(rows) <= limit:
        shown = "rows " + ", ".join(map(str, rows[:-1])) + f" and {rows[-1]}"
    else:
        shown = "rows " + ", ".join(map(str, rows[:limit])) + f" and {len(rows) - limit} more"
    return f"spreadsheet {shown} (the header is row 1)"


def _non_numeric_rows(col: pd.Series) -> tuple[list[Any], list[Any]]:
    converted = pd.to_numeric(col, errors="coerce")
    bad = converted.isna() & col.notna()
    return list(col.index[bad]), list(col[bad].head(5))


def numeric_frame(
    data: Any,
    *,
    name: str = "items",
    min_cols: int = 1,
    min_rows: int = 1,
    drop_empty_rows: bool = False,
) -> pd.DataFrame:
    """Return ``data`` as a float DataFrame, or raise a DataError that names the problem.

    Checks: every column numeric (the offending rows and values are named),
    at least ``min_cols`` columns and ``min_rows`` rows, no column entirely
    missing. With ``drop_empty_rows`` rows with no answers at all are dropped
    (otherwise they are reported).
    """
    if isinstance(data, pd.DataFrame):
        df = data.copy()
    elif isinstance(data, np.ndarray) or isinstance(data, (list, tuple)):
        arr = np.asarray(data, dtype=object)
        if arr.ndim != 2:
            raise DataError(
                f"{name} must be a 2-D table (rows × columns), got {arr.ndim} dimension(s)"
            )
        df = pd.DataFrame(arr)
    else:
        raise DataError(f"{name} must be a DataFrame or a 2-D array, got {type(data).__name__}")

    for c in df.columns:
        col = df[c]
        if pd.api.types.is_bool_dtype(col):
            df[c] = col.astype(float)
            continue
        if not pd.api.types.is_numeric_dtype(col):
            rows, values = _non_numeric_rows(col)
            if rows:
                raise DataError(
                    f"{name} must be numeric",
                    column=str(c),
                    rows=rows,
                    values=values,
                    allowed="numbers, or empty for a missing answer",
                )
        df[c] = pd.to_numeric(col, errors="coerce").astype(float)

    if df.shape[1] < min_cols:
        raise DataError(f"{name} needs at least {min_cols} columns, got {df.shape[1]}")
    empty_cols = [str(c) for c in df.columns if df[c].isna().all()]
    if empty_cols:
        raise DataError(f"{name}: column(s) entirely missing", columns=empty_cols)
    empty_rows = df.index[df.isna().all(axis=1)]
    if len(empty_rows):
        if drop_empty_rows:
            df = df.drop(index=empty_rows)
        else:
            raise DataError(
                f"{name}: row(s) with every value missing",
                rows=list(empty_rows),
                allowed="drop these rows or pass missing='listwise'",
            )
    if df.shape[0] < min_rows:
        raise DataError(f"{name} needs at least {min_rows} rows, got {df.shape[0]}")
    return df


def numeric_array(x: Any, *, name: str = "x", allow_nan: bool = True) -> np.ndarray:
    """A 1-D float array, with a DataError naming non-numeric entries."""
    s = x if isinstance(x, pd.Series) else pd.Series(np.asarray(x, dtype=object).ravel())
    if s.ndim != 1:
        raise DataError(f"{name} must be one-dimensional")
    if not pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        rows, values = _non_numeric_rows(s)
        if rows:
            raise DataError(
                f"{name} must be numeric", column=name, rows=rows, values=values, allowed="numbers"
            )
    arr = pd.to_numeric(s, errors="coerce").to_numpy(dtype=float)
    if not allow_nan and np.isnan(arr).any():
        rows = list(s.index[np.isnan(arr)])
        raise DataError(f"{name} has missing values", column=name, rows=rows)
    return arr


def binary_series(s: pd.Series, *, column: str) -> pd.Series:
    """A 0/1 integer Series from a two-valued column (0/1, True/False).

    Raises a DataError naming the values when the column is not binary.
    """
    values = pd.unique(s.dropna())
    ok = set(values.tolist()) <= {0, 1}
    if not ok:
        raise DataError(
            "treatment must be binary",
            column=column,
            values=list(values[:5]),
            allowed="0/1 or True/False",
        )
    if len(values) < 2:
        raise DataError(
            "treatment has only one value: there is nothing to compare",
            column=column,
            values=list(values),
            allowed="both 0 and 1",
        )
    return s.astype(float)
