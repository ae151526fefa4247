"""Reading respondents' answers from CSV, Excel and SPSS files; writing scores.

Council data often arrive as SPSS ``.sav`` files. :func:`read_data` keeps their numeric
codes (never replacing them by label text) and keeps the value labels in
``df.attrs["value_labels"]`` (column → {code: label}) and the variable labels in
``df.attrs["column_labels"]``; scoring quotes the labels when a code is out of range,
which is where they help (a 1-3 coded SDQ item, say).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError, ParameterError

__all__ = ["read_data", "write_scores"]

_READABLE = ".csv, .xlsx, .xlsm, .sav, .zsav or .dta"


def read_data(path: str | Path, *, sheet: str | int | None = None) -> pd.DataFrame:
    """Read one table of respondents.

    Parameters
    ----------
    path
        ``.csv``, ``.xlsx``/``.xlsm`` (first sheet, or ``sheet``), ``.sav``/``.zsav``
        (SPSS, via pyreadstat; user-defined missing values become empty) or ``.dta`` (Stata).
    sheet
        Excel sheet name or number.

    Returns
    -------
    pandas.DataFrame
        With ``attrs["value_labels"]`` and ``attrs["column_labels"]`` for SPSS/Stata files.

    Examples
    --------
    >>> df = read_data("epds_pre.sav")  # doctest: +SKIP
    >>> df.attrs["value_labels"]["epds_1"]  # doctest: +SKIP
    {0.0: 'As much as I always could', ...}
    """
    p = Path(path)
    if not p.is_file():
        raise ParameterError("no such file", file=str(path), expected=f"a {_READABLE} file")
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(p)
        if suffix in (".xlsx", ".xlsm"):
            return pd.read_excel(p, sheet_name=0 if sheet is None else sheet)
        if suffix in (".sav", ".zsav", ".dta"):
            import pyreadstat

            reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
            df, meta = reader(str(p))
            df.attrs["value_labels"] = dict(meta.variable_value_labels or {})
            df.attrs["column_labels"] = dict(meta.column_names_to_labels or {})
            return df
    except (ValueError, OSError, KeyError) as exc:
        raise DataError(f"could not be read: {exc}", file=p.name) from None
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        if type(exc).__module__.startswith("pyreadstat"):
            raise DataError(f"could not be read: {exc}", file=p.name) from None
        raise
    raise ParameterError(
        f"cannot read {suffix or 'files without a suffix'}",
        file=p.name,
        expected=f"a {_READABLE} file",
    )


def write_scores(scores: pd.DataFrame, path: str | Path) -> Path:
    """Write a scores table to ``.csv``, ``.xlsx`` or ``.sav``, index (IDs) first.

    Bands are written as their labels; flags as 0/1 (empty when unknown) in ``.sav``.
    """
    p = Path(path)
    suffix = p.suffix.lower()
    frame = scores.reset_index() if scores.index.name is not None else scores.copy()
    if suffix == ".csv":
        frame.to_csv(p, index=False)
    elif suffix == ".xlsx":
        frame.to_excel(p, index=False)
    elif suffix == ".sav":
        import pyreadstat

        for c in frame.columns:
            if isinstance(frame[c].dtype, pd.CategoricalDtype):
                frame[c] = frame[c].astype(object).where(frame[c].notna(), "")
            elif pd.api.types.is_bool_dtype(frame[c]):
                frame[c] = frame[c].astype("Float64").astype(float)
        pyreadstat.write_sav(frame, str(p))
    else:
        raise ParameterError(
            f"cannot write {suffix or 'files without a suffix'}",
            file=p.name,
            expected="a .csv, .xlsx or .sav file",
        )
    return p
