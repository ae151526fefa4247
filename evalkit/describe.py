"""Descriptive summaries of person-level records: who is in the data and what is missing.

Pure functions: DataFrames in, DataFrames out. Reports print these before any
estimate so that a reader knows what the numbers rest on.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._validate import require_columns
from .errors import DataError

__all__ = [
    "item_columns",
    "overview",
    "out_of_range",
    "blank_out_of_range",
    "binary_column",
]


def item_columns(df: pd.DataFrame, prefix: str) -> list[str]:
    """Columns named ``prefix`` + item number, in item order (``q_1, q_2, ..., q_10``).

    >>> item_columns(pd.DataFrame(columns=["q_10", "q_2", "q_1", "id"]), "q_")
    ['q_1', 'q_2', 'q_10']
    """
    found = []
    for c in df.columns:
        c = str(c)
        if c.startswith(prefix) and c[len(prefix) :].isdigit():
            found.append((int(c[len(prefix) :]), c))
    if not found:
        raise DataError(
            f"no item columns start with {prefix!r}",
            allowed=f"columns such as {prefix}1, {prefix}2, ...",
        )
    return [c for _, c in sorted(found)]


def overview(
    df: pd.DataFrame,
    *,
    group: str,
    pre_columns: Sequence[str],
    post_columns: Sequence[str],
    labels: dict[object, str] | None = None,
) -> pd.DataFrame:
    """Records, baseline and follow-up completion and missing answers, by group and overall.

    Returns a DataFrame indexed by group (plus ``All``) with columns ``records``,
    ``with_baseline``, ``with_follow_up``, ``dropout_pct`` (of those with a
    baseline, the share with no follow-up) and ``missing_answers_pct`` (of all item
    answers expected from those who took part at each time).
    """
    require_columns(df, [group, *pre_columns, *post_columns], what="records")
    labels = labels or {}
    pre = df[list(pre_columns)].notna()
    post = df[list(post_columns)].notna()
    took_pre = pre.any(axis=1)
    took_post = post.any(axis=1)

    def summarise(mask: pd.Series) -> dict[str, float]:
        n_pre = int((mask & took_pre).sum())
        n_post_of_pre = int((mask & took_pre & took_post).sum())
        expected = n_pre * pre.shape[1] + int((mask & took_post).sum()) * post.shape[1]
        answered = int(
            pre[mask & took_pre].to_numpy().sum() + post[mask & took_post].to_numpy().sum()
        )
        return {
            "records": int(mask.sum()),
            "with_baseline": n_pre,
            "with_follow_up": int((mask & took_post).sum()),
            "dropout_pct": 100.0 * (n_pre - n_post_of_pre) / n_pre if n_pre else np.nan,
            "missing_answers_pct": 100.0 * (expected - answered) / expected if expected else np.nan,
        }

    rows = {}
    for value in sorted(df[group].dropna().unique(), key=str, reverse=True):
        rows[labels.get(value, str(value))] = summarise(df[group] == value)
    rows["All"] = summarise(pd.Series(True, index=df.index))
    out = pd.DataFrame.from_dict(rows, orient="index")
    counts = ["records", "with_baseline", "with_follow_up"]
    out[counts] = out[counts].astype(int)
    out.index.name = "group"
    return out


def out_of_range(
    df: pd.DataFrame, columns: Sequence[str], *, low: float, high: float
) -> pd.DataFrame:
    """Answers outside ``low..high`` (or not whole numbers), per column.

    Returns one row per column with at least one such answer: ``column``,
    ``n_out_of_range`` and up to five distinct ``values`` found. Text that is
    not a number counts as out of range. An empty frame means all answers fit.

    >>> out_of_range(pd.DataFrame({"q1": [0, 3, 7], "q2": [1, None, 2]}), ["q1", "q2"], low=0, high=3)
      column  n_out_of_range values
    0     q1               1      7
    """
    require_columns(df, columns, what="records")
    rows = []
    for col in columns:
        raw = df[col]
        a = _plain_numbers(raw)
        if a is not None and not _outside(a, low, high).any():
            continue  # numbers that all fit (or are missing): nothing to report
        num = pd.to_numeric(raw, errors="coerce")
        bad = raw.notna() & (num.isna() | (num < low) | (num > high) | (num % 1 != 0))
        if bad.any():
            values = ", ".join(str(v) for v in pd.unique(raw[bad])[:5])
            rows.append({"column": str(col), "n_out_of_range": int(bad.sum()), "values": values})
    return pd.DataFrame(rows, columns=["column", "n_out_of_range", "values"])


def blank_out_of_range(
    df: pd.DataFrame, columns: Sequence[str], *, low: float, high: float
) -> pd.DataFrame:
    """A copy of ``df`` with answers outside ``low..high`` set to missing (see :func:`out_of_range`).

    Reports say how many answers were blanked; nothing is changed silently.
    """
    out = df.copy()
    for col in columns:
        a = _plain_numbers(out[col])
        if a is not None:
            # numbers in a NumPy column: the same as below, array by array
            blank = _outside(a, low, high)
            if blank.any():  # else the column stays as it is (to_numeric changes nothing)
                out[col] = out[col].where(~blank)  # missing ones stay missing
            continue
        num = pd.to_numeric(out[col], errors="coerce")
        keep = num.between(low, high) & (num % 1 == 0)
        out[col] = num.where(keep)
    return out


def _plain_numbers(s: pd.Series) -> np.ndarray | None:
    """The values of a NumPy integer or float column (None for any other dtype)."""
    dtype = s.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "iuf":
        return s.to_numpy()
    return None


def _outside(a: np.ndarray, low: float, high: float) -> np.ndarray:
    """Numbers outside ``low..high`` or not whole (missing values are not outside)."""
    if a.dtype.kind != "f":
        return ~((a >= low) & (a <= high))  # whole numbers, never missing
    with np.errstate(invalid="ignore"):
        return ~np.isnan(a) & ~((a >= low) & (a <= high) & (a % 1 == 0))


def binary_column(df: pd.DataFrame, column: str) -> pd.Series:
    """A 0/1 integer column (1 = received the service), with a clear error otherwise.

    Accepts 0/1, True/False and "yes"/"no" (any case). Missing values are an error:
    everyone must be in one group or the other.

    >>> binary_column(pd.DataFrame({"t": ["Yes", "no", "YES"]}), "t").tolist()
    [1, 0, 1]
    """
    require_columns(df, [column], what="records")
    raw = df[column]
    if raw.isna().any():
        raise DataError(
            "group is missing",
            column=column,
            rows=list(df.index[raw.isna()] + 2)[:20],
            allowed="1 (received the service) or 0 (comparison) in every row "
            "(row numbers count the header as 1)",
        )
    if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "iub" and raw.isin([0, 1]).all():
        return raw.astype(int)  # 0 and 1 (or False and True) already
    text = raw.astype(str).str.strip().str.lower()
    mapping = {"1": 1, "0": 0, "1.0": 1, "0.0": 0, "true": 1, "false": 0, "yes": 1, "no": 0}
    bad = ~text.isin(list(mapping))
    if bad.any():
        raise DataError(
            "group must be binary",
            column=column,
            rows=list(df.index[bad] + 2)[:20],
            values=list(raw[bad].head(5)),
            allowed="1/0, true/false or yes/no",
        )
    return text.map(mapping).astype(int)
