"""Keyed pseudonyms for direct identifiers (NHS number, names, dates of birth, ...)."""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence

import pandas as pd

from ..errors import DataError, EvalkitWarning, ParameterError, format_list
from .keys import Key
from .normalise import (
    normalise_date,
    normalise_name,
    normalise_nhs_number,
    normalise_postcode,
    normalise_text,
)

__all__ = ["KINDS", "guess_kind", "normalise_identifier", "pseudonymise"]

#: the kinds of identifier, each with its own normalisation (and its own pseudonym space)
KINDS = ("nhs_number", "first_name", "surname", "name", "date", "postcode", "text")


def guess_kind(column: str) -> str:
    """The kind of identifier a column name suggests (``text`` when nothing fits).

    >>> [guess_kind(c) for c in ["NHS_No", "forename", "Surname", "child_dob", "post_code", "ref"]]
    ['nhs_number', 'first_name', 'surname', 'date', 'postcode', 'text']
    """
    c = column.lower().replace(" ", "_")
    if "nhs" in c:
        return "nhs_number"
    if "post" in c and "code" in c:
        return "postcode"
    if "dob" in c or "birth" in c or "date" in c:
        return "date"
    if any(w in c for w in ("first", "fore", "given")):
        return "first_name"
    if any(w in c for w in ("surname", "last_name", "family")):
        return "surname"
    if "name" in c:
        return "name"
    return "text"


def normalise_identifier(values: pd.Series, kind: str) -> tuple[pd.Series, pd.Series]:
    """Normalised values of one kind, and a mask of given-but-unusable values.

    >>> norm, bad = normalise_identifier(pd.Series(["Anne-Marie", None]), "first_name")
    >>> norm.tolist(), bad.tolist()
    (['annemarie', <NA>], [False, False])
    """
    if kind == "nhs_number":
        return normalise_nhs_number(values)
    if kind == "date":
        return normalise_date(values)
    if kind in ("first_name", "surname", "name"):
        norm = normalise_name(values)
    elif kind == "postcode":
        norm = normalise_postcode(values)
    elif kind == "text":
        norm = normalise_text(values)
    else:
        raise ParameterError(
            f"unknown kind of identifier {kind!r}", key="kind", expected=", ".join(KINDS)
        )
    return norm, pd.Series(False, index=values.index)


def _as_key(key) -> Key:
    if isinstance(key, Key):
        return key
    if key is None:
        raise ParameterError(
            "no key given",
            key="key",
            expected="evalkit.sharing.load_key(key_file), at least 32 bytes",
        )
    return Key(key)


def pseudonymise(
    df: pd.DataFrame,
    columns: Sequence[str] | Mapping[str, str],
    key: Key | bytes | str,
) -> pd.DataFrame:
    """Replace identifier columns by keyed pseudonyms.

    Each value is normalised first (see :mod:`evalkit.sharing.normalise`): an NHS number
    to its ten digits after the Modulus 11 check, a name to lower-case letters without
    accents, spaces or hyphens, a date of birth to ISO ``YYYY-MM-DD``, a postcode to upper
    case without spaces. The pseudonym is then

    .. math:: \\mathrm{HMAC\\text{-}SHA256}(K,\\ \\mathrm{kind} \\,\\|\\, ":" \\,\\|\\, \\mathrm{value})

    in hex (RFC 2104; RFC 4231 gives test vectors). The same key gives the same pseudonym
    in every file; a different key gives pseudonyms that share nothing. The kind is part of
    the message, so a first name and a surname that happen to be equal get different
    pseudonyms.

    Parameters
    ----------
    df
        One source's records.
    columns
        The identifier columns, as a list (the kind is guessed from each name, see
        :func:`guess_kind`) or a mapping ``column -> kind`` with kinds from :data:`KINDS`.
    key
        A :class:`~evalkit.sharing.keys.Key` from :func:`~evalkit.sharing.load_key` (a key
        file or the ``EVALKIT_SHARE_KEY`` variable), or at least 32 bytes.

    Returns
    -------
    pandas.DataFrame
        A copy with each named column holding pseudonyms (``<NA>`` where the value was
        missing or unusable). ``attrs["invalid"]`` maps each column to the row numbers
        (1 = first data row) of given but unusable values; a warning says how many, never
        which values.

    Examples
    --------
    >>> key = b"an example key of at least 32 bytes!"
    >>> df = pd.DataFrame({"nhs": ["943 476 5919", "9434765919"], "name": ["Zoë", "ZOE "]})
    >>> out = pseudonymise(df, {"nhs": "nhs_number", "name": "first_name"}, key)
    >>> out["nhs"].nunique(), out["name"].nunique(), len(out.loc[0, "nhs"])
    (1, 1, 64)
    """
    k = _as_key(key)
    if isinstance(columns, str):
        columns = [columns]
    kinds = dict(columns) if isinstance(columns, Mapping) else {c: guess_kind(c) for c in columns}
    missing = [c for c in kinds if c not in df.columns]
    if missing:
        raise DataError(
            "not in the data",
            columns=missing,
            allowed="columns of the data: " + format_list(map(repr, df.columns)),
        )
    out = df.copy()
    invalid: dict[str, list[int]] = {}
    for col, kind in kinds.items():
        if kind not in KINDS:
            raise ParameterError(
                f"unknown kind of identifier {kind!r} for column {col!r}",
                key=col,
                expected=", ".join(KINDS),
            )
        norm, bad = normalise_identifier(df[col], kind)
        out[col] = pseudonym_series(norm, kind, k)
        if bad.any():
            rows = [int(i) + 1 for i in bad.to_numpy().nonzero()[0]]
            invalid[col] = rows
            what = (
                "NHS numbers fail the Modulus 11 check"
                if kind == "nhs_number"
                else "values are not usable"
            )
            warnings.warn(
                f"column {col!r}: {len(rows)} {what} (data rows {format_list(rows)}); "
                "their pseudonym is empty",
                EvalkitWarning,
                stacklevel=2,
            )
    out.attrs["invalid"] = invalid
    return out


def pseudonym_series(norm: pd.Series, kind: str, key: Key) -> pd.Series:
    """Pseudonyms of normalised values (each distinct value hashed once)."""
    uniq = norm.dropna().unique()
    table = dict(zip(uniq, key.pseudonyms(kind, uniq)))
    return norm.map(table).astype("string")
