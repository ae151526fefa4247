"""Reading a user's data files for a report: CSV, Excel or SPSS, with clear errors.

Files are read by :func:`evalkit.tools.read_data` (also ``read_table`` here); this module
adds the checks a report needs (a usable ID column, answers the tools can score, enough
people for the design) and reads the areas' results. ``evalkit validate`` and the report
template read records with the same function, :func:`read_records`, so that what passes
one passes the other.

Messages about the ID column never show an ID: they give counts and spreadsheet row
numbers (the header is row 1, the first person row 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import spreadsheet_rows
from ..errors import DataError, EvalkitError, format_list
from ..tools.io import read_data as read_table

__all__ = [
    "read_table",
    "read_records",
    "check_ids",
    "check_records",
    "minimum_numbers",
    "read_area_results",
]


def read_records(
    path: str | Path,
    *,
    id_column: str,
    sheet: str | int | None = None,
    encoding: str | None = None,
) -> pd.DataFrame:
    """Person-level records: the ID column must exist and hold no duplicates or blanks.

    Parameters
    ----------
    path
        A ``.csv``, ``.xlsx`` or ``.sav`` file (see :func:`evalkit.tools.read_data`).
    id_column
        The column holding the person ID.
    sheet
        Excel sheet name, or number counted from 1; default the first sheet.
    encoding
        CSV text encoding; default detected (UTF-8, then Windows-1252, then Latin-1).

    Raises
    ------
    DataError
        Naming the file, the column, how many rows and which spreadsheet rows; never an ID.
    """
    df = read_table(path, sheet=sheet or None, encoding=encoding or None)
    check_ids(df, id_column, file=Path(path).name)
    return df


def check_ids(df: pd.DataFrame, id_column: str, *, file: str | None = None) -> None:
    """The ID column exists and holds a distinct, non-blank ID on every row.

    Raises a DataError giving counts and spreadsheet rows, never an ID:

    >>> check_ids(pd.DataFrame({"id": ["P7", "P8", "P7"]}), "id")
    Traceback (most recent call last):
    ...
    evalkit.errors.DataError: column 'id': 1 ID(s) appear more than once, on 2 rows: spreadsheet rows 2 and 4 (the header is row 1) (allowed: each person once)
    """
    if id_column not in df.columns:
        raise DataError(
            f"no ID column {id_column!r}",
            file=file,
            allowed="one of " + ", ".join(map(str, df.columns[:15])),
        )
    ids = df[id_column]
    blank = np.flatnonzero(ids.isna().to_numpy() | ids.astype(str).str.strip().eq("").to_numpy())
    if len(blank):
        raise DataError(
            f"the ID is empty on {len(blank)} row(s): {spreadsheet_rows(blank)}",
            file=file,
            column=id_column,
            allowed="a unique ID in every row",
        )
    dup = ids.duplicated(keep=False).to_numpy()
    if dup.any():
        raise DataError(
            f"{int(ids[dup].nunique())} ID(s) appear more than once, on {int(dup.sum())} rows: "
            f"{spreadsheet_rows(np.flatnonzero(dup))}",
            file=file,
            column=id_column,
            allowed="each person once",
        )


# -- what each design needs ----------------------------------------------------------------------

#: Fewest people with a score before and after in the service group, for every design:
#: the template always reports reliable change and the detectable effect of a before-and-
#: after comparison, and that needs at least 3 degrees of freedom.
MIN_SERVICE_PAIRS = 4
#: Comparison designs: fewest people per group, and fewest settings per group (cluster-
#: robust and multilevel standard errors need between-setting variation in each arm).
MIN_PER_GROUP = 2
MIN_SETTINGS_PER_GROUP = 2
_COMPARISON = ("comparison", "multilevel", "propensity")
_SETTINGS = ("comparison", "multilevel")


def minimum_numbers(design: str, n_covariates: int = 0) -> dict[str, int]:
    """The fewest people (and settings) the area report needs for ``design``.

    ``service_pairs``: people in the service group with a score before and after;
    for the comparison designs also ``per_group`` (complete rows in each group),
    ``total`` (complete rows in all: 4 plus one per covariate, so that the model keeps a
    degree of freedom) and, for ``comparison`` and ``multilevel``, ``settings_per_group``.

    >>> minimum_numbers("prepost")
    {'service_pairs': 4}
    >>> minimum_numbers("multilevel", 3)
    {'service_pairs': 4, 'per_group': 2, 'total': 7, 'settings_per_group': 2}
    """
    need = {"service_pairs": MIN_SERVICE_PAIRS}
    if design in _COMPARISON:
        need["per_group"] = MIN_PER_GROUP
        need["total"] = 4 + n_covariates
    if design in _SETTINGS:
        need["settings_per_group"] = MIN_SETTINGS_PER_GROUP
    return need


def _text_cells(frame: pd.DataFrame) -> dict[str, tuple[np.ndarray, list[Any]]]:
    """Column → (row positions, values) of cells that are neither numbers nor empty."""
    out = {}
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        filled = s.notna() & s.astype(str).str.strip().ne("")
        bad = (filled & pd.to_numeric(s, errors="coerce").isna()).to_numpy()
        if bad.any():
            out[str(col)] = (np.flatnonzero(bad), list(s[bad]))
    return out


def _describe_text(bad: Mapping[str, tuple[np.ndarray, list[Any]]]) -> str:
    parts = []
    for col, (pos, values) in list(bad.items())[:5]:
        shown = format_list(list(dict.fromkeys(repr(v) for v in values)), limit=4)
        parts.append(f"column {col!r}, {spreadsheet_rows(pos, limit=5)}: {shown}")
    more = f"; and {len(bad) - 5} more column(s)" if len(bad) > 5 else ""
    return "; ".join(parts) + more


def _tool_scores(
    df: pd.DataFrame, key_pre: str, key_post: str, tool_name: str, prefixes: Sequence[str]
) -> tuple[list[tuple[str, str]], list[pd.Series | None]]:
    """Problems with one tool's item columns, and its totals before and after."""
    from ..describe import blank_out_of_range
    from ..tools import get

    tool = get(tool_name)
    low, high = tool.response_range
    problems: list[tuple[str, str]] = []
    totals: list[pd.Series | None] = []
    short = tool_name.upper()
    for key, prefix in zip((key_pre, key_post), prefixes):
        try:
            cols = list(tool.column_map(df.columns, prefix=prefix).values())
        except EvalkitError as exc:
            problems.append((key, str(exc)))
            totals.append(None)
            continue
        # only the item columns are decoded, checked and scored (all of them: with repeated
        # column names, which scoring reports)
        items = df if df.columns.duplicated().any() else df[cols]
        decoded = tool.decode_labels(items, prefix=prefix)
        answers = decoded[cols]
        bad = _text_cells(answers)
        if bad:
            labels = tool.answer_labels()
            known = (
                f", or an answer label the {tool_name} spec knows ("
                + format_list([repr(x) for x in labels], limit=6)
                + ")"
                if labels
                else ""
            )
            problems.append(
                (
                    key,
                    f"text where {short} answers are expected: {_describe_text(bad)} "
                    f"(allowed: {tool.spec.response.describe()}, empty for no answer{known})",
                )
            )
            totals.append(None)
            continue
        if answers.isna().all().all():
            problems.append(
                (
                    key,
                    f"every answer in the {len(cols)} {short} item columns {cols[0]} to "
                    f"{cols[-1]} is empty (allowed: answers {tool.spec.response.describe()})",
                )
            )
            totals.append(None)
            continue
        clean = blank_out_of_range(decoded, cols, low=low, high=high)
        try:
            scores = tool.score(clean, prefix=prefix)
            if "total" not in scores:
                problems.append((key, f"the {tool_name} tool has no total score to report"))
            totals.append(scores.get("total"))
        except EvalkitError as exc:
            problems.append((key, str(exc)))
            totals.append(None)
    return problems, totals


def check_records(
    df: pd.DataFrame, params: Mapping[str, Any], *, enough_data: bool = True
) -> list[tuple[str, str]]:
    """What stops an area's report being made from these records: ``(key, message)`` pairs.

    Checks, in the order the report needs them: rows of data, the group column, the
    answers in each tool's item columns (text the tool's spec cannot read as an answer,
    all answers empty), and (with ``enough_data``) the minimum numbers the design needs
    (:func:`minimum_numbers`), saying what was found and what is needed. Counts here
    describe the input file for the analyst; they are never published.

    Parameters
    ----------
    df
        Records read by :func:`read_records`.
    params
        The area's parameters (``design``, ``treatment_column``, ``outcome_tool``...).
    enough_data
        Also check the minimum numbers for the design.
    """
    from ..describe import binary_column

    design = params.get("design", "comparison")
    covariates = list(params.get("covariates") or [])
    if len(df) == 0:
        need = minimum_numbers(design, len(covariates))["service_pairs"]
        return [
            (
                "records",
                "has column names but no rows of data (found 0 people; the "
                f"{design!r} design needs at least {need} with answers before and after)",
            )
        ]
    problems: list[tuple[str, str]] = []
    group = None
    try:
        group = binary_column(df, params["treatment_column"])
    except DataError as exc:
        problems.append(("treatment_column", str(exc)))
    tools = [("outcome", params["outcome_tool"])]
    if params.get("second_tool"):
        tools.append(("second", params["second_tool"]))
    main_totals: list[pd.Series | None] = [None, None]
    for part, tool_name in tools:
        keys = (f"{part}_pre_prefix", f"{part}_post_prefix")
        found, totals = _tool_scores(
            df, *keys, tool_name, [params.get(keys[0], ""), params.get(keys[1], "")]
        )
        problems += found
        if part == "outcome":
            main_totals = totals
    pre, post = main_totals
    if enough_data and not problems and group is not None and pre is not None and post is not None:
        problems += _enough(df, group, pre, post, params)
    return problems


def _enough(
    df: pd.DataFrame, group: pd.Series, pre: pd.Series, post: pd.Series, params: Mapping
) -> list[tuple[str, str]]:
    design = params.get("design", "comparison")
    covariates = [c for c in params.get("covariates") or [] if c in df.columns]
    setting = params.get("setting_column", "")
    need = minimum_numbers(design, len(covariates))
    tool = str(params["outcome_tool"]).upper()
    pairs = (pre.notna() & post.notna()).to_numpy()
    service = group.to_numpy() == 1
    n_service = int((pairs & service).sum())
    if design not in _COMPARISON:
        if n_service < need["service_pairs"]:
            return [
                (
                    "design",
                    f"the 'prepost' design needs at least {need['service_pairs']} people in "
                    f"the service group ({params['treatment_column']} = 1) with {tool} scores "
                    f"before and after; found {n_service}",
                )
            ]
        return []
    complete = pairs & df[covariates].notna().all(axis=1).to_numpy()
    what = f"{tool} scores before and after" + (" and every covariate" if covariates else "")
    if design in _SETTINGS and setting in df.columns:
        complete &= df[setting].notna().to_numpy()
    n_t, n_c = int((complete & service).sum()), int((complete & ~service).sum())
    found = f"found {n_t} in the service group and {n_c} in the comparison group"
    needed = [f"at least {need['per_group']} in each group", f"{need['total']} in all"]
    short = n_t < need["per_group"] or n_c < need["per_group"] or n_t + n_c < need["total"]
    if "settings_per_group" in need and setting in df.columns:
        s_t = int(df.loc[complete & service, setting].nunique())
        s_c = int(df.loc[complete & ~service, setting].nunique())
        found += f", in {s_t} and {s_c} settings"
        needed.append(f"people from at least {need['settings_per_group']} settings in each group")
        short |= min(s_t, s_c) < need["settings_per_group"]
    problems = []
    if short:
        hint = "; with one group only, use design: prepost" if min(n_t, n_c) == 0 else ""
        problems.append(
            (
                "design",
                f"the {design!r} design needs, among people with {what}: "
                + ", ".join(needed)
                + f"; {found}{hint}",
            )
        )
    if n_service < need["service_pairs"]:
        problems.append(
            (
                "design",
                f"every design reports change in the service group, which needs at least "
                f"{need['service_pairs']} people there with {tool} scores before and after; "
                f"found {n_service}",
            )
        )
    return problems


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
