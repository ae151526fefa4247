"""Reading a user's data files for a report: CSV, Excel or SPSS, with clear errors.

Files are read by :func:`evalkit.tools.read_data` (also ``read_table`` here); this module
adds the checks a report needs (a usable ID column) and reads the areas' results.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import DataError
from ..tools.io import read_data as read_table

__all__ = ["read_table", "read_records", "read_area_results"]


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
            f"{int(ids[dup].nunique())} ID(s) appear on more than one row ({int(dup.sum())} rows)",
            file=name,
            column=id_column,
            rows=list(df.index[dup] + 2),
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
