"""Normalising identifiers before they are hashed or compared.

Two records of one person must give the same pseudonym even when one system typed
``943 476 5919`` and another ``9434765919``, or ``Zoë O'Neil-Smith`` and ``ZOE ONEILSMITH``.
Each function takes a pandas Series and returns a Series of normalised strings, with
missing values (``<NA>``) where nothing usable was given.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = [
    "nhs_number_is_valid",
    "normalise_nhs_number",
    "normalise_name",
    "normalise_date",
    "normalise_postcode",
    "normalise_text",
    "normalise_sex",
]

# Modulus 11 weights for the first nine digits of an NHS number (10 down to 2)
_NHS_WEIGHTS = np.arange(10, 1, -1)

_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y%m%d", "%d %b %Y", "%d %B %Y")


def _by_unique(values: pd.Series, func) -> pd.Series:
    """Apply a vectorised ``func`` to the distinct values only, then map back (names and
    dates repeat a lot, so this is much faster on large sources)."""
    codes, uniq = pd.factorize(values, use_na_sentinel=True)
    done = func(pd.Series(uniq, dtype=object))
    if isinstance(done, tuple):
        return tuple(_take(d, codes, values.index) for d in done)
    return _take(done, codes, values.index)


def _take(done: pd.Series, codes: np.ndarray, index: pd.Index) -> pd.Series:
    arr = done.to_numpy()
    if arr.dtype == bool:
        out = np.zeros(len(codes), dtype=bool)
        out[codes >= 0] = arr[codes[codes >= 0]]
        return pd.Series(out, index=index)
    res = pd.Series(pd.NA, index=index, dtype=done.dtype)
    pos = codes >= 0
    res[pos] = arr[codes[pos]]
    return res


def _digits(series: pd.Series) -> pd.Series:
    s = series.astype("string").str.replace(r"\.0$", "", regex=True)
    return s.str.replace(r"[^0-9]", "", regex=True)


def nhs_number_is_valid(values: pd.Series | str) -> pd.Series | bool:
    """Whether NHS numbers pass the Modulus 11 check.

    An NHS number has ten digits; the tenth is a check digit. Multiply the first nine by
    the weights 10, 9, ..., 2 and add them up; the check digit is ``11 - (sum mod 11)``,
    where 11 becomes 0 and 10 means the number is not valid (NHS Data Dictionary, "NHS
    NUMBER"). Spaces and hyphens are ignored. Every single-digit typo and every swap of two
    adjacent different digits fails the check, because 11 is prime and no weight is 0 mod 11.

    Parameters
    ----------
    values
        One NHS number (str) or a Series of them.

    Returns
    -------
    bool or pandas.Series of bool

    Examples
    --------
    >>> nhs_number_is_valid("943 476 5919")
    True
    >>> nhs_number_is_valid("943 476 5918"), nhs_number_is_valid("123")
    (False, False)
    """
    if isinstance(values, str):
        return bool(nhs_number_is_valid(pd.Series([values])).iloc[0])
    digits = _digits(pd.Series(values))
    ok = digits.str.len().eq(10).fillna(False).to_numpy(dtype=bool)
    out = np.zeros(len(digits), dtype=bool)
    if ok.any():
        joined = "".join(digits[ok].tolist()).encode("ascii")
        arr = (np.frombuffer(joined, dtype=np.uint8).reshape(-1, 10) - 48).astype(np.int64)
        check = 11 - (arr[:, :9] @ _NHS_WEIGHTS) % 11
        check[check == 11] = 0
        out[ok] = (check != 10) & (check == arr[:, 9])
    return pd.Series(out, index=getattr(values, "index", None))


def normalise_nhs_number(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Ten digits, or ``<NA>`` where missing or failing the check digit.

    Returns
    -------
    (normalised, invalid)
        ``invalid`` is True where a value was given but is not a valid NHS number.

    Examples
    --------
    >>> norm, bad = normalise_nhs_number(pd.Series(["943-476-5919", "9434765918", None]))
    >>> norm.tolist(), bad.tolist()
    (['9434765919', <NA>, <NA>], [False, True, False])
    """
    digits = _digits(values)
    given = digits.fillna("").str.len().gt(0)
    valid = nhs_number_is_valid(values).to_numpy()
    norm = digits.where(valid, pd.NA).astype("string")
    invalid = pd.Series(given.to_numpy() & ~valid, index=values.index)
    return norm, invalid


def normalise_name(values: pd.Series) -> pd.Series:
    """Lower case, accents removed, and only the letters a-z kept.

    Spaces, hyphens and apostrophes go, so ``"O'Neil-Smith"``, ``"o neil smith"`` and
    ``"ONEILSMITH"`` agree.

    Examples
    --------
    >>> normalise_name(pd.Series(["Zoë", " O'Neil-Smith ", "", None])).tolist()
    ['zoe', 'oneilsmith', <NA>, <NA>]
    """
    return _by_unique(values, _normalise_name)


def _normalise_name(values: pd.Series) -> pd.Series:
    s = values.astype("string").str.normalize("NFKD")
    s = s.str.encode("ascii", errors="ignore").str.decode("ascii").astype("string")
    s = s.str.lower().str.replace(r"[^a-z]", "", regex=True)
    return s.where(s.str.len() > 0, pd.NA)


def normalise_date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Dates as ISO ``YYYY-MM-DD`` strings.

    Accepts dates and datetimes, and text in ISO (``2021-03-04``, with or without a time),
    UK day-first (``04/03/2021``, ``4-3-2021``, ``04.03.2021``), ``20210304`` or
    ``4 Mar 2021``. Text is never read month-first.

    Returns
    -------
    (iso, unparsed)
        ``unparsed`` is True where a value was given but is not a date in these forms.

    Examples
    --------
    >>> iso, bad = normalise_date(pd.Series(["2021-03-04", "04/03/2021", "2021-03-04 00:00:00", "31/02/2021"]))
    >>> iso.tolist(), bad.tolist()
    (['2021-03-04', '2021-03-04', '2021-03-04', <NA>], [False, False, False, True])
    """
    if pd.api.types.is_datetime64_any_dtype(values):
        return _normalise_date(values)
    return _by_unique(values, _normalise_date)


def _normalise_date(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = pd.to_datetime(values)
        given = values.notna()
    else:
        text = values.astype("string").str.strip()
        text = text.str.replace(r"[T ]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?$", "", regex=True)
        given = text.fillna("").str.len().gt(0)
        parsed = pd.Series(pd.NaT, index=values.index, dtype="datetime64[ns]")
        for fmt in _DATE_FORMATS:
            todo = given & parsed.isna()
            if not todo.any():
                break
            parsed[todo] = pd.to_datetime(text[todo], format=fmt, errors="coerce")
    iso = parsed.dt.strftime("%Y-%m-%d").astype("string")
    unparsed = pd.Series(given.to_numpy() & parsed.isna().to_numpy(), index=values.index)
    return iso, unparsed


def normalise_postcode(values: pd.Series) -> pd.Series:
    """Upper case without spaces (``"ls6 2ab"`` becomes ``"LS62AB"``).

    Examples
    --------
    >>> normalise_postcode(pd.Series(["ls6 2ab", " LS6  2AB", None])).tolist()
    ['LS62AB', 'LS62AB', <NA>]
    """
    s = values.astype("string").str.upper().str.replace(r"[^A-Z0-9]", "", regex=True)
    return s.where(s.str.len() > 0, pd.NA)


def normalise_text(values: pd.Series) -> pd.Series:
    """Any other identifier (a local record number, say): trimmed, lower case.

    Examples
    --------
    >>> normalise_text(pd.Series([" MAT-001 ", 12.0, None])).tolist()
    ['mat-001', '12', <NA>]
    """
    s = values.astype("string").str.replace(r"\.0$", "", regex=True).str.strip().str.lower()
    return s.where(s.str.len() > 0, pd.NA)


def normalise_sex(values: pd.Series) -> pd.Series:
    """``F`` or ``M`` from the usual codings (F/M, female/male, girl/boy, 2/1); else missing.

    >>> normalise_sex(pd.Series(["Female", "m", "Boy", "2", "unknown", None])).tolist()
    ['F', 'M', 'M', 'F', <NA>, <NA>]
    """
    s = values.astype("string").str.strip().str.lower().str.replace(r"\.0$", "", regex=True)
    table = {
        "f": "F",
        "female": "F",
        "girl": "F",
        "2": "F",
        "m": "M",
        "male": "M",
        "boy": "M",
        "1": "M",
    }
    return s.map(table).astype("string")
