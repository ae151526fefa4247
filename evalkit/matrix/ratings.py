"""Reading and checking maturity-matrix ratings (one row per partner, element and date).

:func:`read_ratings` is public; :func:`checked_ratings`, :func:`pick_areas` and
:func:`pick_date` are shared with the profile and agreement modules of this package.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError
from ..tools.io import read_data
from .framework import Framework, load_framework

__all__ = ["RATING_COLUMNS", "read_ratings"]

RATING_COLUMNS = ("area", "partner", "element", "level", "date")


def _norm_token(value: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(value).strip().casefold())


def _read_table(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise DataError("ratings file not found", file=str(path))
    df = read_data(path)
    # row labels = spreadsheet line numbers (line 1 holds the column names)
    df.index = pd.RangeIndex(2, len(df) + 2)
    return df


def _reject(
    df: pd.DataFrame, bad: pd.Series, column: str, message: str, file: str | None, allowed: str
) -> None:
    """Raise a DataError naming the rows (and values) of ``column`` flagged in ``bad``."""
    if bad.any():
        raise DataError(
            message,
            column=column,
            rows=list(df.index[bad]),
            values=list(df.loc[bad, column]),
            file=file,
            allowed=allowed,
        )


def parse_dates(col: pd.Series) -> pd.Series:
    """Dates at day precision: ISO first, then UK day-first; unreadable ones become NaT."""
    if pd.api.types.is_datetime64_any_dtype(col):
        out = pd.to_datetime(col)
    else:
        text = col.astype("string").str.strip()
        # ISO first (2024-03-01), then UK day-first (01/03/2024): never read ISO day-first
        out = pd.to_datetime(text, errors="coerce", format="ISO8601")
        rest = out.isna() & text.notna()
        if rest.any():
            out[rest] = pd.to_datetime(text[rest], errors="coerce", format="mixed", dayfirst=True)
    return out.dt.tz_localize(None).dt.normalize() if out.dt.tz is not None else out.dt.normalize()


def read_ratings(data: pd.DataFrame | str | Path, framework: Any = None) -> pd.DataFrame:
    """Check a long table of maturity-matrix ratings against the framework.

    Parameters
    ----------
    data : DataFrame, or path of a file :func:`evalkit.tools.io.read_data` reads (.csv, .xlsx, ...)
        Columns ``area``, ``partner``, ``element``, ``level``, ``date`` (names are matched
        ignoring case and surrounding spaces; other columns are dropped). For a file, rows are
        named by their spreadsheet line (the header is line 1).
    framework : Framework, path or mapping, optional
        Passed to :func:`load_framework`; the default framework when omitted.

    Returns
    -------
    DataFrame
        Columns ``area, partner, dimension, element, level, date``: ``element`` holds the
        framework id, ``level`` whole numbers, ``date`` day-precision timestamps. The row labels
        of the input are kept, so later messages can name rows.

    Raises
    ------
    DataError
        Missing columns or values; unknown elements; levels that are not whole numbers in the
        framework's range; dates that cannot be read; the same partner rating the same element
        twice on one date. Each names the column, the rows, the values found and what is allowed.

    Notes
    -----
    Elements may be given by id (``workforce_planning``) or label (``Workforce planning``), and
    levels by number or label (``developing``), ignoring case. Dates are read as ISO
    (``2024-03-01``) first, then day-first (``01/03/2024``, the UK convention).

    Examples
    --------
    >>> df = pd.DataFrame({"area": ["A", "A"], "partner": ["NHS", "LA"],
    ...                    "element": ["strategy", "Strategy"], "level": [3, "developing"],
    ...                    "date": ["2024-03-01", "01/03/2024"]})
    >>> read_ratings(df)[["element", "level"]].to_dict("list")
    {'element': ['strategy', 'strategy'], 'level': [3, 3]}
    """
    fw = load_framework(framework)
    file = None
    if isinstance(data, (str, Path)):
        file = str(data)
        df = _read_table(Path(data))
    elif isinstance(data, pd.DataFrame):
        df = data.copy()
    else:
        raise DataError(f"ratings must be a DataFrame or a file path, got {type(data).__name__}")

    names = {}
    for c in df.columns:
        key = str(c).strip().casefold()
        if key in RATING_COLUMNS and key not in names.values():
            names[c] = key
    df = df.rename(columns=names)
    missing = [c for c in RATING_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            "ratings have no column(s) named " + ", ".join(repr(c) for c in missing),
            columns=missing,
            file=file,
            allowed="columns " + ", ".join(RATING_COLUMNS),
        )
    df = df[list(RATING_COLUMNS)]

    for c in RATING_COLUMNS:
        blank = df[c].isna() | (df[c].astype("string").str.strip() == "")
        if blank.any():
            raise DataError(
                "missing values",
                column=c,
                rows=list(df.index[blank.fillna(True)]),
                file=file,
                allowed="every rating needs area, partner, element, level and date",
            )

    out = pd.DataFrame(index=df.index)
    out["area"] = df["area"].astype(str).str.strip()
    out["partner"] = df["partner"].astype(str).str.strip()

    lookup = {}
    for e in fw.elements:
        lookup[_norm_token(e.id)] = e.id
        lookup[_norm_token(e.label)] = e.id
    element = df["element"].map(lambda v: lookup.get(_norm_token(v)))
    _reject(df, element.isna(), "element", "unknown element", file, ", ".join(fw.element_ids))
    out["dimension"] = element.map({e.id: e.dimension for e in fw.elements}).astype(str)
    out["element"] = element.astype(str)

    by_label = {_norm_token(v): k for k, v in fw.levels.items()}

    def _level(v: Any) -> float:
        if isinstance(v, str) and _norm_token(v) in by_label:
            return float(by_label[_norm_token(v)])
        try:
            return float(v)
        except (TypeError, ValueError):
            return np.nan

    level = df["level"].map(_level).astype(float)
    bad = (
        level.isna() | (level != np.round(level)) | (level < fw.min_level) | (level > fw.max_level)
    )
    names = ", ".join(f"{k} {v}" for k, v in fw.levels.items())
    allowed = f"whole numbers {fw.min_level} to {fw.max_level} ({names})"
    _reject(df, bad, "level", "level out of range", file, allowed)
    out["level"] = level.astype("int64")

    date = parse_dates(df["date"])
    allowed = "dates such as 2024-03-01 or 01/03/2024"
    _reject(df, date.isna(), "date", "date not understood", file, allowed)
    out["date"] = date.astype("datetime64[ns]")

    dup = out.duplicated(["area", "partner", "element", "date"], keep=False)
    if dup.any():
        raise DataError(
            "the same partner rated the same element more than once on one date",
            columns=["area", "partner", "element", "date"],
            rows=list(out.index[dup]),
            file=file,
            allowed="one rating per area, partner, element and date",
        )
    return out


def checked_ratings(ratings: Any, framework: Any) -> tuple[pd.DataFrame, Framework]:
    """The ratings checked by :func:`read_ratings`, with the framework they were checked against."""
    fw = load_framework(framework)
    return read_ratings(ratings, fw), fw


def pick_areas(r: pd.DataFrame, area: str | None, *, required: bool) -> list[str]:
    """The requested area (it must exist), or every area (``required``: only one may exist)."""
    areas = sorted(r["area"].unique())
    if area is None:
        if required and len(areas) > 1:
            raise ParameterError(
                "the ratings hold several areas: say which one with area=",
                key="area",
                expected=", ".join(repr(a) for a in areas[:10]),
            )
        return areas
    if str(area) not in areas:
        raise DataError(
            f"no ratings for area {area!r}",
            column="area",
            values=[area],
            allowed=", ".join(areas[:20]),
        )
    return [str(area)]


def pick_date(r: pd.DataFrame, date: Any) -> pd.Timestamp:
    """The requested date (must exist in ``r``) or the latest one."""
    if date is None:
        return r["date"].max()
    stamp = parse_dates(pd.Series([date])).iloc[0]
    if pd.isna(stamp) or stamp not in set(r["date"]):
        have = ", ".join(sorted({d.date().isoformat() for d in r["date"]}))
        raise DataError(f"no ratings on date {date!r}", column="date", values=[date], allowed=have)
    return stamp
