"""Reading respondents' answers from CSV, Excel and SPSS files; writing scores.

Council data often arrive as SPSS ``.sav`` files. :func:`read_data` keeps their numeric
codes (never replacing them by label text) and keeps the value labels in
``df.attrs["value_labels"]`` (column → {code: label}) and the variable labels in
``df.attrs["column_labels"]``; scoring quotes the labels when a code is out of range,
which is where they help (a 1-3 coded SDQ item, say).
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pandas as pd

from ..errors import DataError, EvalkitError, ParameterError

__all__ = ["read_data", "write_scores", "choose_sheet", "check_encoding", "CSV_ENCODINGS"]

_READABLE = ".csv, .xlsx, .xlsm, .sav, .zsav or .dta"


#: Encodings tried, in order, when a CSV file's encoding is not given: UTF-8 (with or
#: without the byte-order mark Excel writes), then Windows-1252 (what Excel on Windows
#: saves as "CSV"), then Latin-1 (which decodes any byte, so the search always ends).
CSV_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")


def check_encoding(encoding: str | None) -> str | None:
    """A known text encoding name (``None`` or ``""``: detect it), or a ParameterError."""
    if encoding is None or encoding == "":
        return None
    try:
        return codecs.lookup(str(encoding)).name
    except LookupError:
        raise ParameterError(
            f"unknown text encoding {encoding!r}",
            key="encoding",
            expected="empty (detect: UTF-8, then Windows-1252), or a name such as "
            "utf-8, cp1252 or latin-1",
        ) from None


def choose_sheet(sheet: str | int | None, names: list[str], *, file: str) -> str:
    """The sheet to read: ``None``/``""`` the first, a name, or a number counted from 1.

    A name is matched exactly, then ignoring case; text of digits that names no sheet
    is taken as a number (``"2"``: the second sheet).

    >>> choose_sheet("2", ["Notes", "Data"], file="x.xlsx")
    'Data'
    >>> choose_sheet("data", ["Notes", "Data"], file="x.xlsx")
    'Data'
    """
    if sheet is None or (isinstance(sheet, str) and not sheet.strip()):
        return names[0]
    if isinstance(sheet, str):
        text = sheet.strip()
        if text in names:
            return text
        folded = [n for n in names if n.casefold() == text.casefold()]
        if len(folded) == 1:
            return folded[0]
        number = int(text) if text.isdigit() else None
    elif isinstance(sheet, bool) or not isinstance(sheet, int):
        number = None
    else:
        number = sheet
    if number is not None and 1 <= number <= len(names):
        return names[number - 1]
    listed = ", ".join(repr(n) for n in names)
    raise ParameterError(
        f"{file} has no sheet {sheet!r} (its sheets: {listed})",
        key="sheet",
        expected=f"a sheet name, or a number from 1 to {len(names)} (1 is the first sheet)",
    )


def _read_csv(p: Path, encoding: str | None) -> pd.DataFrame:
    if encoding is not None:
        try:
            df = pd.read_csv(p, encoding=encoding)
        except UnicodeDecodeError as exc:
            raise DataError(
                f"is not in the {encoding} encoding: byte 0x{exc.object[exc.start]:02x} at "
                f"position {exc.start} cannot be decoded",
                file=p.name,
                allowed="the file's own encoding (often utf-8 or cp1252), or leave encoding "
                "empty to detect it",
            ) from None
        df.attrs["encoding"] = encoding
        return df
    for enc in CSV_ENCODINGS:
        try:
            df = pd.read_csv(p, encoding=enc)
        except UnicodeDecodeError:
            continue
        df.attrs["encoding"] = enc
        return df
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def _read_excel(p: Path, sheet: str | int | None) -> pd.DataFrame:
    try:
        book = pd.ExcelFile(p, engine="openpyxl")
    except PermissionError:
        raise
    except Exception:  # noqa: BLE001 - zip, XML and openpyxl errors all mean "not a workbook"
        raise DataError(
            "is not an Excel workbook: it cannot be opened as .xlsx (perhaps a CSV or an "
            "old .xls file renamed?)",
            file=p.name,
            allowed="a workbook saved by Excel as .xlsx, or a .csv file",
        ) from None
    with book:
        names = list(book.sheet_names)
        chosen = choose_sheet(sheet, names, file=p.name)
        df = pd.read_excel(book, sheet_name=chosen)
    df.attrs["sheet"] = chosen
    df.attrs["sheets"] = names
    return df


def read_data(
    path: str | Path, *, sheet: str | int | None = None, encoding: str | None = None
) -> pd.DataFrame:
    """Read one table of respondents.

    Parameters
    ----------
    path
        ``.csv``, ``.xlsx``/``.xlsm`` (first sheet, or ``sheet``), ``.sav``/``.zsav``
        (SPSS, via pyreadstat; user-defined missing values become empty) or ``.dta`` (Stata).
    sheet
        Excel sheet: its name, or its number counted from 1 (``2`` is the second sheet).
        Default: the first sheet. Only for Excel files.
    encoding
        Text encoding of a CSV (or SPSS/Stata) file, e.g. ``"cp1252"``. Default: detected,
        trying UTF-8 (with or without a byte-order mark), then Windows-1252, then Latin-1;
        the one used is in ``df.attrs["encoding"]``.

    Returns
    -------
    pandas.DataFrame
        With ``attrs["value_labels"]`` and ``attrs["column_labels"]`` for SPSS/Stata files,
        ``attrs["sheet"]`` and ``attrs["sheets"]`` for Excel files.

    Raises
    ------
    ParameterError
        No such file, a folder, an unknown suffix, sheet or encoding.
    DataError
        A file that cannot be read, saying why: permission, empty, not a table, wrong
        encoding, not a workbook.

    Examples
    --------
    >>> df = read_data("epds_pre.sav")  # doctest: +SKIP
    >>> df.attrs["value_labels"]["epds_1"]  # doctest: +SKIP
    {0.0: 'As much as I always could', ...}
    """
    p = Path(path)
    if p.is_dir():
        raise ParameterError(
            "is a folder, not a file", file=str(path), expected=f"a {_READABLE} file in it"
        )
    if not p.is_file():
        raise ParameterError("no such file", file=str(path), expected=f"a {_READABLE} file")
    suffix = p.suffix.lower()
    if suffix not in (".csv", ".xlsx", ".xlsm", ".sav", ".zsav", ".dta"):
        raise ParameterError(
            f"cannot read {suffix or 'files without a suffix'}",
            file=p.name,
            expected=f"a {_READABLE} file",
        )
    encoding = check_encoding(encoding)
    if sheet not in (None, "") and suffix not in (".xlsx", ".xlsm"):
        raise ParameterError(
            f"a {suffix} file has no sheets", key="sheet", expected="empty for this file"
        )
    try:
        if p.stat().st_size == 0:
            raise DataError(
                "the file is empty (0 bytes)",
                file=p.name,
                allowed="a table with a header row of column names",
            )
        if suffix == ".csv":
            return _read_csv(p, encoding)
        if suffix in (".xlsx", ".xlsm"):
            return _read_excel(p, sheet)
        import pyreadstat

        reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
        df, meta = reader(str(p), **({"encoding": encoding} if encoding else {}))
        df.attrs["value_labels"] = dict(meta.variable_value_labels or {})
        df.attrs["column_labels"] = dict(meta.column_names_to_labels or {})
        return df
    except PermissionError:
        raise DataError(
            "cannot be opened: permission denied",
            file=p.name,
            allowed="a file you may read (ask its owner for read access)",
        ) from None
    except pd.errors.EmptyDataError:
        raise DataError(
            "holds no table: there is no header row of column names (the file is blank)",
            file=p.name,
            allowed="a table with a header row of column names",
        ) from None
    except pd.errors.ParserError as exc:
        detail = str(exc).removeprefix("Error tokenizing data. C error: ").strip()
        raise DataError(
            f"is not a table that can be read ({detail})",
            file=p.name,
            allowed="comma-separated values: one header row, then the same number of "
            "fields on every row",
        ) from None
    except (ValueError, OSError, KeyError) as exc:
        if isinstance(exc, EvalkitError):
            raise
        raise DataError(f"could not be read: {exc}", file=p.name) from None
    except Exception as exc:  # pyreadstat.ReadstatError and friends
        if type(exc).__module__.startswith("pyreadstat"):
            raise DataError(f"could not be read: {exc}", file=p.name) from None
        raise


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
