"""Reading a user's data files for a report: CSV, Excel or SPSS, with clear errors."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError

__all__ = ["read_table", "read_records", "read_area_results"]


def read_table(path: str | Path) -> pd.DataFrame:
    """Read ``.csv``, ``.xlsx`` or ``.sav`` (SPSS value labels applied where they are text)."""
    p = Path(path)
    name = p.name
    if not p.is_file():
        raise DataError("file not found", file=str(path))
    suffix = p.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(p)
        if suffix == ".xlsx":
            return pd.read_excel(p)
        if suffix == ".sav":
            import pyreadstat

            df, _ = pyreadstat.read_sav(str(p))
            return df
    except Exception as exc:  # noqa: BLE001 - any parser failure becomes one clear line
        raise DataError(f"cannot read the file ({type(exc).__name__}: {exc})", file=name) from None
    raise DataError("unsupported file type", file=name, allowed=".csv, .xlsx or .sav")


def read_records(path: str | Path, *, id_column: str) -> pd.DataFrame:
    """Person-level records: the ID column must exist and hold no duplicates or blanks."""
    df = read_table(path)
    name = Path(path).name
    if id_column not in df.columns:
        raise DataError(
            f"no ID column {id_column!r}",
            file=name,
            allowed="one of " + ", ".join(map(str, df.columns[:15])),
        )
    ids = df[id_column]
    blank = list(df.index[ids.isna()] + 2)
    if blank:
        raise DataError(
            "the ID is empty",
            file=name,
            column=id_column,
            rows=blank,
            allowed="a unique ID in every row (row numbers count the header as 1)",
        )
    dup = ids.duplicated(keep=False)
    if dup.any():
        raise DataError(
            "duplicated IDs",
            file=name,
            column=id_column,
            rows=list(df.index[dup] + 2),
            values=list(ids[dup].head(5)),
            allowed="each person once (row numbers count the header as 1)",
        )
    return df


def read_area_results(folder: str | Path) -> pd.DataFrame:
    """Every area's key results (``<area>.json`` written by ``evalkit render``) as one table.

    One row per area, indexed by ``area_id``; nested results are flattened with
    ``_`` (``effect_estimate``, ``effect_ci_low``, ``reliability_estimate``...).
    Raises a DataError when the folder holds no results.
    """
    import json

    files = sorted(Path(folder).glob("*.json"))
    if not files:
        raise DataError(
            "no area results found: render the areas first",
            file=Path(folder).name,
            allowed="a folder of <area>.json files",
        )
    rows = []
    for f in files:
        try:
            rows.append(json.loads(f.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise DataError(f"not valid JSON ({exc})", file=f.name) from None
    table = pd.json_normalize(rows, sep="_")
    return table.set_index("area_id").sort_index()
