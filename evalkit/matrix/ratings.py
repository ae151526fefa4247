"""Reading and checking maturity-matrix ratings (one row per partner, element and date).

:func:`read_ratings` and :func:`read_actions` are public; :func:`checked_ratings`,
:func:`pick_areas` and :func:`pick_date` are shared with the other modules of this package.
Ratings come from a DataFrame, a long table in a file (.csv, .xlsx, ...) or the partners'
workbook written by :func:`evalkit.matrix.write_template` (read by
:mod:`evalkit.matrix.workbook`).
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

__all__ = ["RATING_COLUMNS", "NOTE_COLUMNS", "ACTION_STATUSES", "read_ratings", "read_actions"]

RATING_COLUMNS = ("area", "partner", "element", "level", "date")
#: optional columns beside each rating: what it rests on, what stands in the way, and the
#: priority action agreed for the element (with its owner, due date and status)
NOTE_COLUMNS = ("evidence", "barriers", "action", "owner", "due_date", "status")
#: the status of a priority action (a blank status beside an action means "planned")
ACTION_STATUSES = ("planned", "in progress", "done", "dropped")
# other spellings of the note columns' names (after lower-casing, spaces to underscores)
_NOTE_ALIASES = {"priority_action": "action", "due": "due_date", "barrier": "barriers"}
_ACTION_COLUMNS = ("action", "owner", "due_date", "status")
# the columns read_ratings returns without notes
_RATED = ["area", "partner", "dimension", "element", "level", "date"]


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
    df: pd.DataFrame,
    bad: pd.Series,
    column: str,
    message: str,
    file: str | None,
    allowed: str,
    cells: dict | None = None,
) -> None:
    """Raise a DataError naming the rows (and values) of ``column`` flagged in ``bad``.

    ``cells`` (workbooks): row label -> {column: (sheet, cell)}, so that the message names the
    sheet and the cells (``sheet 'Partner 2', cell C7``) and ``rows`` holds sheet row numbers.
    """
    if not bad.any():
        return
    rows = list(df.index[bad])
    if cells is not None:
        where = [cells[r][column] for r in rows if column in cells.get(r, {})]
        if where:
            by_sheet: dict[str, list[str]] = {}
            for sheet, cell in where:
                by_sheet.setdefault(sheet, []).append(cell)
            text = "; ".join(
                f"sheet {sheet!r}, cell{'s' if len(refs) > 1 else ''} {', '.join(refs[:10])}"
                for sheet, refs in by_sheet.items()
            )
            message = f"{text}: {message}"
            rows = [int(re.sub(r"^[A-Z]+", "", cell)) for _, cell in where]
    raise DataError(
        message,
        column=column,
        rows=rows,
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


class Checked:
    """Ratings already checked by :func:`read_ratings` (``notes=True``), to pass again.

    Every function of this package that takes ratings accepts one in their place and skips
    reading and checking them again (the report reads its ratings file once per page and
    analyses one area of it several ways). Build it only from the untouched output of
    ``read_ratings(..., framework, notes=True)`` (or rows of it) and the same ``framework``.

    Parameters
    ----------
    frame : DataFrame
        The checked ratings with their note columns.
    framework : Framework
        The framework they were checked against.
    """

    def __init__(self, frame: pd.DataFrame, framework: Framework) -> None:
        self.frame = frame
        self.framework = framework


def read_ratings(
    data: pd.DataFrame | str | Path | list | tuple | Checked,
    framework: Any = None,
    *,
    notes: bool = False,
) -> pd.DataFrame:
    """Check a long table of maturity-matrix ratings (or partners' workbooks) against the framework.

    Parameters
    ----------
    data : DataFrame, path, or a list of paths
        A DataFrame, or a file :func:`evalkit.tools.io.read_data` reads (.csv, .xlsx, ...) with
        columns ``area``, ``partner``, ``element``, ``level``, ``date`` (names are matched
        ignoring case and surrounding spaces; other columns are dropped), optionally with the
        note columns ``evidence``, ``barriers``, ``action`` (or ``priority action``),
        ``owner``, ``due_date`` (or ``due date``) and ``status``. For a file, rows are named by
        their spreadsheet line (the header is line 1).
        Or a workbook written by :func:`evalkit.matrix.write_template` and filled in by the
        partners (recognised by its ``Instructions`` sheet); errors then name the sheet and the
        cell. A list of paths (e.g. one workbook per area and year) is read file by file and
        stacked. Or :class:`Checked` ratings, returned as they are (checked again only against
        another framework).
    framework : Framework, path or mapping, optional
        Passed to :func:`load_framework`; the default framework when omitted.
    notes : bool
        Also return the note columns (see Returns).

    Returns
    -------
    DataFrame
        Columns ``area, partner, dimension, element, level, date``: ``element`` holds the
        framework id, ``level`` whole numbers, ``date`` day-precision timestamps. The row labels
        of the input are kept, so later messages can name rows. With ``notes=True`` also
        ``evidence, barriers, action, owner`` (text, ``""`` when blank), ``due_date``
        (timestamp or NaT) and ``status`` (one of :data:`ACTION_STATUSES` beside an action,
        ``"planned"`` when left blank; ``""`` without an action).

    Raises
    ------
    DataError
        Missing columns or values; unknown elements; levels that are not whole numbers in the
        framework's range; dates or due dates that cannot be read; an unknown status; an owner,
        due date or status without an action; the same partner rating the same element twice
        on one date. Each names the column, the rows, the values found and what is allowed
        (for a workbook: the sheet and the cell).

    Notes
    -----
    Elements may be given by id (``workforce_planning``) or label (``Workforce planning``), and
    levels by number, label (``developing``) or both (``3 developing``, as the workbook's
    drop-down lists show them), ignoring case. Dates are read as ISO (``2024-03-01``) first,
    then day-first (``01/03/2024``, the UK convention).

    Examples
    --------
    >>> df = pd.DataFrame({"area": ["A", "A"], "partner": ["NHS", "LA"],
    ...                    "element": ["strategy", "Strategy"], "level": [3, "developing"],
    ...                    "date": ["2024-03-01", "01/03/2024"]})
    >>> read_ratings(df)[["element", "level"]].to_dict("list")
    {'element': ['strategy', 'strategy'], 'level': [3, 3]}
    """
    fw = load_framework(framework)
    if isinstance(data, Checked):
        if data.framework == fw:
            out = data.frame.copy()
            return out if notes else out[_RATED]
        data = data.frame  # checked against another framework: check again
    if isinstance(data, (list, tuple)):
        return _read_many(data, fw, notes)
    file = None
    cells = None
    if isinstance(data, (str, Path)):
        file = str(data)
        from .workbook import is_workbook, read_workbook

        if is_workbook(Path(data)):
            df, cells = read_workbook(Path(data))
        else:
            df = _read_table(Path(data))
    elif isinstance(data, pd.DataFrame):
        df = data.copy()
    else:
        raise DataError(f"ratings must be a DataFrame or a file path, got {type(data).__name__}")
    out = _check(df, fw, file, cells)
    return out if notes else out[["area", "partner", "dimension", "element", "level", "date"]]


def _read_many(paths: list | tuple, fw: Framework, notes: bool) -> pd.DataFrame:
    if not paths:
        raise DataError("no ratings files given", allowed="one or more ratings files")
    frames = []
    for p in paths:
        if not isinstance(p, (str, Path)):
            raise DataError(f"a list of ratings must hold file paths, got {type(p).__name__}")
        part = read_ratings(p, fw, notes=notes)
        part.index = [f"{Path(p).name}:{i}" for i in part.index]
        frames.append(part)
    out = pd.concat(frames)
    dup = out.duplicated(["area", "partner", "element", "date"], keep=False)
    if dup.any():
        raise DataError(
            "the same partner rated the same element more than once on one date (in two files)",
            columns=["area", "partner", "element", "date"],
            rows=list(out.index[dup])[:10],
            allowed="one rating per area, partner, element and date",
        )
    return out


def _rename(df: pd.DataFrame) -> pd.DataFrame:
    names: dict[Any, str] = {}
    for c in df.columns:
        key = str(c).strip().casefold()
        if key in RATING_COLUMNS and key not in names.values():
            names[c] = key
            continue
        token = _norm_token(c)
        token = _NOTE_ALIASES.get(token, token)
        if token in NOTE_COLUMNS and token not in names.values():
            names[c] = token
    return df.rename(columns=names)


def _check(df: pd.DataFrame, fw: Framework, file: str | None, cells: dict | None) -> pd.DataFrame:
    """Every check of :func:`read_ratings`; returns the rating and note columns."""
    df = _rename(df)
    missing = [c for c in RATING_COLUMNS if c not in df.columns]
    if missing:
        raise DataError(
            "ratings have no column(s) named " + ", ".join(repr(c) for c in missing),
            columns=missing,
            file=file,
            allowed="columns " + ", ".join(RATING_COLUMNS),
        )
    for c in NOTE_COLUMNS:
        if c not in df.columns:
            df[c] = None
    df = df[list(RATING_COLUMNS) + list(NOTE_COLUMNS)]

    for c in RATING_COLUMNS:
        blank = _blank(df[c])
        _reject(
            df,
            blank,
            c,
            "missing values",
            file,
            "every rating needs area, partner, element, level and date",
            cells,
        )

    out = pd.DataFrame(index=df.index)
    out["area"] = df["area"].astype(str).str.strip()
    out["partner"] = df["partner"].astype(str).str.strip()

    lookup = {}
    for e in fw.elements:
        lookup[_norm_token(e.id)] = e.id
        lookup[_norm_token(e.label)] = e.id
    element = df["element"].map(_each_value(df["element"], lambda v: lookup.get(_norm_token(v))))
    _reject(
        df, element.isna(), "element", "unknown element", file, ", ".join(fw.element_ids), cells
    )
    out["dimension"] = element.map({e.id: e.dimension for e in fw.elements}).astype(str)
    out["element"] = element.astype(str)

    if isinstance(df["level"].dtype, np.dtype) and df["level"].dtype.kind in "iuf":
        level = df["level"].astype(float)  # numbers already: what _level gives each of them
    else:
        level = df["level"].map(_each_value(df["level"], lambda v: _level(v, fw))).astype(float)
    bad = (
        level.isna() | (level != np.round(level)) | (level < fw.min_level) | (level > fw.max_level)
    )
    names = ", ".join(f"{k} {v}" for k, v in fw.levels.items())
    allowed = f"whole numbers {fw.min_level} to {fw.max_level} ({names})"
    _reject(df, bad, "level", "level out of range", file, allowed, cells)
    out["level"] = level.astype("int64")

    date = parse_dates(df["date"])
    allowed = "dates such as 2024-03-01 or 01/03/2024"
    _reject(df, date.isna(), "date", "date not understood", file, allowed, cells)
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
    return _check_notes(df, out, file, cells)


def _blank(col: pd.Series) -> pd.Series:
    if isinstance(col.dtype, np.dtype) and col.dtype.kind in "iufbM":
        return col.isna()  # numbers and dates are never blank text
    return (col.isna() | (col.astype("string").str.strip() == "")).fillna(True).astype(bool)


def _each_value(col: pd.Series, fn: Any) -> Any:
    """What to map ``col`` (no missing values) with to get ``col.map(fn)``: for text columns
    ``fn`` of each distinct value, computed once; ``fn`` itself for any other column (whose
    values, such as 1, 1.0 and True, may be equal as keys yet not to ``fn``)."""
    if not isinstance(col.dtype, pd.StringDtype):
        return fn
    return {v: fn(v) for v in pd.unique(col)}


def _level(v: Any, fw: Framework) -> float:
    """A level given as a number, a label or both ("3 developing"); NaN when not understood."""
    if isinstance(v, str):
        token = _norm_token(v)
        for k, label in fw.levels.items():
            if token in (_norm_token(label), _norm_token(f"{k} {label}")):
                return float(k)
    try:
        return float(v)
    except (TypeError, ValueError):
        return np.nan


def _check_notes(
    df: pd.DataFrame, out: pd.DataFrame, file: str | None, cells: dict | None
) -> pd.DataFrame:
    """Evidence, barriers and the priority action beside each rating."""
    for c in ("evidence", "barriers", "action", "owner"):
        out[c] = df[c].where(~_blank(df[c]), "").astype(str).str.strip()
    has_action = out["action"] != ""

    due_blank = _blank(df["due_date"])
    due = parse_dates(df["due_date"].where(~due_blank, None))
    allowed = "dates such as 2025-09-30 or 30/09/2025"
    _reject(
        df, due.isna() & ~due_blank, "due_date", "due date not understood", file, allowed, cells
    )
    out["due_date"] = due.astype("datetime64[ns]")

    status_blank = _blank(df["status"])
    status = df["status"].where(~status_blank, "")
    status = status.map(_each_value(status, _status)).where(~status_blank, "")
    allowed = ", ".join(ACTION_STATUSES)
    _reject(
        df, ~status.isin(("",) + ACTION_STATUSES), "status", "unknown status", file, allowed, cells
    )
    out["status"] = status.where(status != "", np.where(has_action, "planned", "")).astype(str)

    for c in ("owner", "due_date", "status"):
        orphan = ~has_action & ~_blank(df[c])
        _reject(
            df,
            orphan,
            c,
            f"{c.replace('_', ' ')} given without a priority action",
            file,
            "an owner, due date and status only beside an action",
            cells,
        )
    return out


def _status(value: Any) -> str:
    return re.sub(r"[\s_\-]+", " ", str(value).strip().casefold())


def read_actions(
    data: pd.DataFrame | str | Path | list | tuple, framework: Any = None
) -> pd.DataFrame:
    """The priority actions in a ratings table or workbook: one row per action.

    Parameters
    ----------
    data, framework
        As for :func:`read_ratings` (every check of :func:`read_ratings` applies).

    Returns
    -------
    DataFrame
        The rows of ``read_ratings(data, framework, notes=True)`` that hold an action, with
        columns ``area, partner, dimension, element, level, date, action, owner, due_date,
        status, barriers``; ``date`` is the assessment at which the action was agreed.

    Examples
    --------
    >>> df = pd.DataFrame({"area": "A", "partner": ["NHS", "LA"], "element": "strategy",
    ...                    "level": [2, 3], "date": "2024-03-01",
    ...                    "action": ["Write a joint strategy", ""], "owner": ["Board", ""]})
    >>> read_actions(df)[["partner", "action", "status"]].to_dict("records")
    [{'partner': 'NHS', 'action': 'Write a joint strategy', 'status': 'planned'}]
    """
    r = read_ratings(data, framework, notes=True)
    cols = ["area", "partner", "dimension", "element", "level", "date"]
    return r.loc[r["action"] != "", cols + ["action", "owner", "due_date", "status", "barriers"]]


def checked_ratings(ratings: Any, framework: Any) -> tuple[pd.DataFrame, Framework]:
    """The ratings checked by :func:`read_ratings`, with the framework they were checked against
    (:class:`Checked` ratings are not checked again)."""
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
