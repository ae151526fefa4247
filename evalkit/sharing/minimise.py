"""Minimising an extract: generalising quasi-identifiers and checking k-anonymity.

A record is *k-anonymous* when at least k-1 other people share its combination of
quasi-identifiers (Sweeney 2002, *Int J Uncertainty, Fuzziness and Knowledge-Based
Systems* 10:557-570); an equivalence class is the set of people with one combination.
*l-diversity* (Machanavajjhala et al. 2007, *ACM TKDD* 1(1):3) asks, in addition, that
each class holds at least l distinct values of a sensitive column, so that belonging to
a class does not reveal the sensitive value. The checks here count distinct people (the
pseudonymous ``person_id``), not rows, because one child has a row in each source; they
match ``sdcMicro::kAnon`` / ``ldiversity`` (distinct l-diversity) on one row per person.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import DataError, ParameterError, format_list
from .normalise import normalise_date, normalise_postcode

__all__ = [
    "ETHNIC_GROUPS",
    "ethnic_group",
    "birth_month",
    "age_in_months",
    "read_postcode_lookup",
    "AnonymityCheck",
    "check_k_anonymity",
]

#: the 5 top-level ethnic groups of the 2021 Census of England and Wales
ETHNIC_GROUPS = (
    "Asian, Asian British or Asian Welsh",
    "Black, Black British, Black Welsh, Caribbean or African",
    "Mixed or Multiple ethnic groups",
    "White",
    "Other ethnic group",
)
_ASIAN, _BLACK, _MIXED, _WHITE, _OTHER = ETHNIC_GROUPS
# NHS Data Dictionary ethnic category codes (2001 census based); Chinese (R) goes to Asian
# as in the 2011 and 2021 censuses
_NHS_CODES = {
    **dict.fromkeys("ABC", _WHITE),
    **dict.fromkeys("DEFG", _MIXED),
    **dict.fromkeys("HJKLR", _ASIAN),
    **dict.fromkeys("MNP", _BLACK),
    "S": _OTHER,
}
_NOT_STATED = {"z", "99", "not stated", "not known", "unknown", "refused", "prefer not to say", ""}
_KEYWORDS = (  # checked in order: mixed first ("white and black caribbean")
    (_MIXED, ("mixed", "multiple", "white and", " and white")),
    (
        _WHITE,
        ("white", "irish", "gypsy", "traveller", "roma", "british", "english", "scottish", "welsh"),
    ),
    (_ASIAN, ("asian", "indian", "pakistani", "bangladeshi", "chinese")),
    (_BLACK, ("black", "caribbean", "african")),
    (_OTHER, ("arab", "other")),
)
_POSTCODE_NAMES = ("postcode", "pcds", "pcd", "pcd7", "pcd8", "post_code")
_LSOA_NAMES = ("lsoa", "lsoa21cd", "lsoa11cd", "lsoa21", "lsoa11", "lsoa_code")
_IMD_NAMES = (
    "imd_decile",
    "imd decile",
    "imddecile",
    "decile",
    "index of multiple deprivation (imd) decile",
)


def ethnic_group(values: pd.Series, *, column: str = "ethnicity") -> pd.Series:
    """Ethnicity (NHS letter codes or census wording) to the 5 top-level 2021 Census groups.

    "Not stated" and blanks become missing. Anything else that is not recognised raises
    :class:`~evalkit.errors.DataError` naming the rows.

    Examples
    --------
    >>> ethnic_group(pd.Series(["A", "White and Black Caribbean", "Pakistani", "N", "Z"])).tolist()
    ['White', 'Mixed or Multiple ethnic groups', 'Asian, Asian British or Asian Welsh', 'Black, Black British, Black Welsh, Caribbean or African', <NA>]
    """
    text = values.astype("string").str.strip()
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    for v in text.dropna().unique():
        low = v.lower()
        if low in _NOT_STATED:
            continue
        group = _NHS_CODES.get(v.upper()) if len(v) == 1 else None
        if group is None:
            for g, words in _KEYWORDS:
                if any(w in f" {low} " for w in words):
                    group = g
                    break
        if group is None:
            rows = [int(i) + 1 for i in np.flatnonzero(text.eq(v).fillna(False).to_numpy())]
            raise DataError(
                "not an ethnic category evalkit recognises",
                column=column,
                rows=rows,
                values=[v],
                allowed="NHS ethnic category codes A-S or Z, or census wording (e.g. 'White British', 'Indian')",
            )
        out[text.eq(v).fillna(False)] = group
    return out


def birth_month(values: pd.Series) -> pd.Series:
    """Dates to ``YYYY-MM``.

    >>> birth_month(pd.Series(["2021-03-04", "17/11/2020", None])).tolist()
    ['2021-03', '2020-11', <NA>]
    """
    iso, _ = normalise_date(values)
    return iso.str[:7]


def age_in_months(values: pd.Series, at: _dt.date) -> pd.Series:
    """Completed months of age on the date ``at`` (missing when born after it).

    >>> age_in_months(pd.Series(["2021-03-04", "2021-03-05"]), _dt.date(2022, 3, 4)).tolist()
    [12, 11]
    """
    iso, _ = normalise_date(values)
    d = pd.to_datetime(iso)
    months = (at.year - d.dt.year) * 12 + (at.month - d.dt.month) - (d.dt.day > at.day).astype(int)
    months = months.where(months >= 0)
    return months.astype("Int64")


def _find_column(df: pd.DataFrame, names: tuple[str, ...]) -> str | None:
    low = {str(c).strip().lower(): c for c in df.columns}
    for n in names:
        if n in low:
            return low[n]
    return None


def read_postcode_lookup(path: str | Path, imd_path: str | Path | None = None) -> pd.DataFrame:
    """A postcode lookup: ``postcode`` (normalised), ``lsoa`` and ``imd_decile``.

    ``path`` needs a postcode column (``postcode``, ``pcds``, ``pcd``, ``pcd7`` or
    ``pcd8``, as in the ONS Postcode Directory) and an LSOA column (``lsoa``,
    ``lsoa21cd``, ``lsoa11cd``), and may hold ``imd_decile``; otherwise ``imd_path`` maps
    the LSOA to the decile (as in the English Indices of Deprivation files).
    """
    from ..tools.io import read_data

    df = read_data(path)
    name = Path(path).name
    pc = _find_column(df, _POSTCODE_NAMES)
    if pc is None:
        raise DataError(
            "the postcode lookup has no postcode column",
            file=name,
            allowed="a column named " + " or ".join(_POSTCODE_NAMES[:5]),
        )
    lsoa = _find_column(df, _LSOA_NAMES)
    if lsoa is None:
        raise DataError(
            "the postcode lookup has no LSOA column",
            file=name,
            allowed="a column named " + " or ".join(_LSOA_NAMES[:3]),
        )
    out = pd.DataFrame(
        {"postcode": normalise_postcode(df[pc]), "lsoa": df[lsoa].astype("string").str.strip()}
    )
    imd = _find_column(df, _IMD_NAMES)
    if imd is not None:
        out["imd_decile"] = pd.to_numeric(df[imd], errors="coerce").astype("Int64")
    elif imd_path is not None:
        idf = read_data(imd_path)
        iname = Path(imd_path).name
        il, idc = _find_column(idf, _LSOA_NAMES), _find_column(idf, _IMD_NAMES)
        if il is None or idc is None:
            raise DataError(
                "the IMD lookup needs an LSOA column and an IMD decile column",
                file=iname,
                allowed="columns lsoa (or lsoa21cd, lsoa11cd) and imd_decile",
            )
        table = pd.Series(
            pd.to_numeric(idf[idc], errors="coerce").to_numpy(),
            index=idf[il].astype("string").str.strip(),
        )
        out["imd_decile"] = out["lsoa"].map(table).astype("Int64")
    else:
        out["imd_decile"] = pd.Series(pd.NA, index=out.index, dtype="Int64")
    bad = out["imd_decile"].notna() & ~out["imd_decile"].between(1, 10)
    if bad.any():
        raise DataError(
            "IMD deciles must be 1 to 10",
            file=name,
            column="imd_decile",
            rows=[int(i) + 1 for i in np.flatnonzero(bad.to_numpy())],
            allowed="whole numbers 1 (most deprived) to 10",
        )
    return out.dropna(subset=["postcode"]).drop_duplicates("postcode").set_index("postcode")


@dataclass(frozen=True)
class AnonymityCheck:
    """The k-anonymity (and l-diversity) of an extract.

    Attributes
    ----------
    k
        Size of the smallest equivalence class (distinct people).
    k_required, l_required
        What the dictionary asked for.
    l
        Smallest number of distinct sensitive values in a class (None without one).
    classes
        Number of equivalence classes; ``below_k`` of them are smaller than ``k_required``.
    smallest
        The smallest classes: ``class, people, rows`` (and ``distinct_sensitive``), never
        the values of the quasi-identifiers.
    quasi_identifiers, sensitive
        The columns checked.
    """

    k: int
    k_required: int
    l: int | None  # noqa: E741
    l_required: int | None
    classes: int
    below_k: int
    below_l: int
    smallest: pd.DataFrame
    quasi_identifiers: tuple[str, ...]
    sensitive: str | None

    @property
    def passed(self) -> bool:
        ok_l = self.l_required is None or (self.l is not None and self.l >= self.l_required)
        return self.k >= self.k_required and ok_l

    def message(self) -> str:
        """A plain-English account (sizes only)."""
        qi = ", ".join(self.quasi_identifiers) or "no quasi-identifiers"
        text = f"k-anonymity over {qi}: the smallest class has {self.k} people (k required: {self.k_required}); "
        text += f"{self.below_k} of {self.classes} classes are smaller"
        if self.l_required is not None:
            text += f"; l-diversity of {self.sensitive!r}: l = {self.l} (required {self.l_required}), {self.below_l} classes below"
        return text

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame(
            [
                ("k achieved", self.k),
                ("k required", self.k_required),
                ("l achieved", self.l),
                ("l required", self.l_required),
                ("classes", self.classes),
                ("classes below k", self.below_k),
                ("classes below l", self.below_l),
            ],
            columns=["measure", "value"],
        )


def check_k_anonymity(
    df: pd.DataFrame,
    quasi_identifiers: list[str],
    *,
    k: int = 5,
    id_column: str | None = "person_id",
    sensitive: str | None = None,
    l: int | None = None,  # noqa: E741
    show: int = 10,
) -> AnonymityCheck:
    """Check k-anonymity (and distinct l-diversity) of an extract; raise nothing.

    Parameters
    ----------
    df
        The extract.
    quasi_identifiers
        Its quasi-identifier columns. A missing value counts as a value of its own.
    k
        Smallest class size required.
    id_column
        People are counted by this column (distinct values); None or absent counts rows.
    sensitive, l
        A sensitive column and the number of distinct values each class must hold
        (default 2 when ``sensitive`` is given).
    show
        How many of the smallest classes to report.

    Examples
    --------
    >>> df = pd.DataFrame({"person_id": list("abcdefg"), "month": ["2021-01"] * 5 + ["2021-02"] * 2,
    ...                    "epds_high": [0, 1, 0, 0, 1, 0, 0]})
    >>> c = check_k_anonymity(df, ["month"], k=3, sensitive="epds_high")
    >>> c.k, c.l, c.passed, c.smallest["people"].tolist()
    (2, 1, False, [2, 5])
    """
    missing = [
        c for c in [*quasi_identifiers, *([sensitive] if sensitive else [])] if c not in df.columns
    ]
    if missing:
        raise DataError(
            "not in the extract", columns=missing, allowed=format_list(map(repr, df.columns))
        )
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
        raise ParameterError(
            f"k={k!r} is not allowed", key="k", expected="a whole number of at least 1"
        )
    if sensitive is not None and l is None:
        l = 2  # noqa: E741
    qi = list(quasi_identifiers)
    people = (
        df[id_column]
        if id_column and id_column in df.columns
        else pd.Series(np.arange(len(df)), index=df.index)
    )
    if not qi:
        n = int(people.nunique())
        groups = pd.DataFrame({"people": [n], "rows": [len(df)]})
        if sensitive:
            groups["distinct_sensitive"] = [int(df[sensitive].nunique())]
    else:
        keys = df[qi].astype("string").fillna("\x00missing")
        code = (
            pd.MultiIndex.from_frame(keys).factorize()[0]
            if len(qi) > 1
            else keys[qi[0]].factorize()[0]
        )
        work = pd.DataFrame({"cls": code, "pid": people.to_numpy()})
        g = work.groupby("cls")
        groups = pd.DataFrame({"people": g["pid"].nunique(), "rows": g.size()})
        if sensitive:
            work["s"] = df[sensitive].to_numpy()
            groups["distinct_sensitive"] = work.groupby("cls")["s"].nunique()
    groups = groups.sort_values(["people", "rows"], kind="stable").reset_index(drop=True)
    groups.insert(0, "class", np.arange(1, len(groups) + 1))
    k_ach = int(groups["people"].min()) if len(groups) else 0
    l_ach = int(groups["distinct_sensitive"].min()) if sensitive and len(groups) else None
    return AnonymityCheck(
        k=k_ach,
        k_required=int(k),
        l=l_ach,
        l_required=l if sensitive else None,
        classes=int(len(groups)),
        below_k=int((groups["people"] < k).sum()),
        below_l=int((groups["distinct_sensitive"] < l).sum()) if sensitive else 0,
        smallest=groups.head(show),
        quasi_identifiers=tuple(qi),
        sensitive=sensitive,
    )
