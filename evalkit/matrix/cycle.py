"""The yearly maturity-matrix cycle: priority actions, disagreement and levels across areas.

- :func:`priority_actions`: the actions agreed at an area's last assessment, with their status;
- :func:`disagreement`: where partners disagree most, element by element, so the workshop
  knows what to discuss;
- :func:`level_distribution`: across areas, how many areas are at each level of each element.

The change since the baseline is :func:`evalkit.matrix.change` with ``since="baseline"``.
Pictures: :func:`evalkit.plots.matrix.plot_level_distribution`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice
from ..errors import DataError
from .framework import Framework, load_framework
from .profile import profile
from .ratings import ACTION_STATUSES, parse_dates, pick_areas, pick_date, read_ratings

__all__ = ["priority_actions", "disagreement", "level_distribution"]

Ratings = pd.DataFrame | str | Path | list


def priority_actions(
    ratings: Ratings,
    *,
    area: str | None = None,
    date: Any = None,
    as_of: Any = None,
    framework: Any = None,
) -> pd.DataFrame:
    """The priority actions agreed at each area's last assessment, with their status.

    Parameters
    ----------
    ratings : DataFrame, path or list of paths
        Ratings with note columns (see :func:`read_ratings`; a workbook from
        :func:`write_template`, or a table with an ``action`` column).
    area : str, optional
        One area; every area when omitted.
    date : date-like or ``"all"``, optional
        The assessment at which the actions were agreed; each area's latest by default.
        ``"all"``: every assessment.
    as_of : date-like, optional
        With a date, an ``overdue`` column: due before ``as_of`` and still planned or in
        progress.
    framework : optional
        See :func:`load_framework`.

    Returns
    -------
    DataFrame
        One row per action: ``area, date, dimension, element, label, partner, level, action,
        owner, due_date, status`` (and ``overdue`` with ``as_of``), in framework order within
        each area and date. ``status`` is one of :data:`ACTION_STATUSES` (a blank status is
        ``"planned"``). No actions: an empty table with these columns.

    Examples
    --------
    >>> df = pd.DataFrame({"area": "A", "partner": "NHS", "element": "strategy",
    ...                    "level": [2, 3], "date": ["2024-03-01", "2025-03-01"],
    ...                    "action": ["Draft a strategy", "Publish it"],
    ...                    "due_date": ["2024-09-30", "2025-09-30"], "status": ["done", ""]})
    >>> priority_actions(df, as_of="2025-10-01")[["action", "status", "overdue"]].values.tolist()
    [['Publish it', 'planned', True]]
    """
    fw = load_framework(framework)
    r = read_ratings(ratings, fw, notes=True)
    cols = ["area", "date", "dimension", "element", "label", "partner", "level", "action"]
    cols += ["owner", "due_date", "status"]
    parts = []
    for a in pick_areas(r, area, required=False):
        ra = r[r["area"] == a]
        if not (isinstance(date, str) and date == "all"):
            ra = ra[ra["date"] == pick_date(ra, date)]
        parts.append(ra[ra["action"] != ""])
    out = pd.concat(parts) if parts else r.iloc[:0]
    order = {e: i for i, e in enumerate(fw.element_ids)}
    out = out.assign(
        label=out["element"].map({e.id: e.label for e in fw.elements}),
        _order=out["element"].map(order),
    )
    out = out.sort_values(["area", "date", "_order", "partner"], kind="stable")[cols]
    if as_of is not None:
        stamp = parse_dates(pd.Series([as_of])).iloc[0]
        if pd.isna(stamp):
            raise DataError(
                f"as_of={as_of!r} is not a date", column="as_of", allowed="a date like 2025-10-01"
            )
        open_ = out["status"].isin(ACTION_STATUSES[:2])
        out["overdue"] = (open_ & (out["due_date"] < stamp)).astype(bool)
    return out.reset_index(drop=True)


def disagreement(
    ratings: Ratings,
    *,
    area: str | None = None,
    date: Any = None,
    framework: Any = None,
) -> pd.DataFrame:
    """Where partners disagree most: the spread of levels per element, ranked, per area.

    Parameters
    ----------
    ratings : DataFrame, path or list of paths
        See :func:`read_ratings`.
    area : str, optional
        One area; every area when omitted.
    date : date-like, optional
        The assessment; each area's latest by default.
    framework : optional
        See :func:`load_framework`.

    Returns
    -------
    DataFrame
        One row per area and element rated by two or more partners: ``area, date, dimension,
        element, label, n_partners, mean, min, max, range, sd, rank``. ``range`` is the highest
        minus the lowest partner's level, ``sd`` the standard deviation across partners
        (n - 1). Sorted within each area by ``range``, then ``sd`` (largest first), then
        framework order; ``rank`` 1 is the element to discuss first.

    Notes
    -----
    The statistics are those of :func:`profile` (element rows). The range is what a workshop
    sees ("one partner says 1, another 4"); the SD breaks ties by how many partners are apart.
    Agreement over all elements at once is :func:`agreement`.

    Examples
    --------
    >>> df = pd.DataFrame({"area": "A", "partner": ["NHS", "LA"] * 2,
    ...                    "element": ["strategy"] * 2 + ["governance"] * 2,
    ...                    "level": [1, 4, 3, 3], "date": "2025-03-01"})
    >>> disagreement(df)[["element", "range", "rank"]].values.tolist()
    [['strategy', 3.0, 1], ['governance', 0.0, 2]]
    """
    fw = load_framework(framework)
    return ranked_disagreement(profile(ratings, area=area, date=date, framework=fw), fw)


def ranked_disagreement(p: pd.DataFrame, fw: Framework) -> pd.DataFrame:
    """:func:`disagreement` from the profile :func:`~evalkit.matrix.profile` gave for the same
    ratings, area and date with framework ``fw`` (so a report that has it does not profile the
    ratings again)."""
    el = p[(p["scope"] == "element") & (p["n_partners"] >= 2)].copy()
    el["range"] = el["max"] - el["min"]
    el["_order"] = el["element"].map({e: i for i, e in enumerate(fw.element_ids)})
    el["_sd"] = el["sd"].round(9)  # equal spreads tie exactly, whatever the rounding error
    el = el.sort_values(
        ["area", "range", "_sd", "_order"], ascending=[True, False, False, True], kind="stable"
    )
    el["rank"] = el.groupby("area").cumcount() + 1
    cols = ["area", "date", "dimension", "element", "label", "n_partners", "mean", "min", "max"]
    return el[cols + ["range", "sd", "rank"]].reset_index(drop=True)


def level_distribution(
    ratings: Ratings,
    *,
    summary: str = "median",
    framework: Any = None,
    profiled: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Across areas: the number of areas at each level of each element (latest assessments).

    Parameters
    ----------
    ratings : DataFrame, path or list of paths
        Ratings of several areas (see :func:`read_ratings`).
    summary : {"median", "mean"}
        How an area's partners' levels become the area's level: their median (default) or
        mean, rounded to the nearest level (halves round up: a median of 2.5 is level 3).
    framework : optional
        See :func:`load_framework`.
    profiled : DataFrame, optional
        ``profile(ratings, framework=framework)`` when the caller has it already (a page
        that also draws the heat map): it is not computed again.

    Returns
    -------
    DataFrame
        One row per element and level (every level, zeros included), in framework order:
        ``dimension, element, label, level, level_label, n_areas, n_areas_rated, pct``
        (``n_areas`` at that level out of the ``n_areas_rated`` areas that rated the element,
        ``pct`` = 100 n_areas / n_areas_rated). Counts are of areas, never of people.

    Notes
    -----
    Each area counts once, at its own latest assessment (areas assess on different dates).

    Examples
    --------
    >>> df = pd.DataFrame({"area": ["A", "A", "B", "B"], "partner": ["NHS", "LA"] * 2,
    ...                    "element": "strategy", "level": [2, 3, 4, 4], "date": "2025-03-01"})
    >>> d = level_distribution(df).query("element == 'strategy' and n_areas > 0")
    >>> d[["level", "n_areas"]].values.tolist()
    [[3, 1], [4, 1]]
    """
    check_choice("summary", summary, ["median", "mean"])
    fw = load_framework(framework)
    p = profile(ratings, framework=fw) if profiled is None else profiled
    el = p[(p["scope"] == "element") & (p["n_partners"] > 0)]
    area_level = np.floor(el[summary].to_numpy(dtype=float) + 0.5).astype(int)
    counts = pd.crosstab(el["element"].to_numpy(), area_level)
    rows = []
    for e in fw.elements:
        rated = int(counts.loc[e.id].sum()) if e.id in counts.index else 0
        for k, name in fw.levels.items():
            n = int(counts.at[e.id, k]) if e.id in counts.index and k in counts.columns else 0
            rows.append(
                {
                    "dimension": e.dimension,
                    "element": e.id,
                    "label": e.label,
                    "level": k,
                    "level_label": name,
                    "n_areas": n,
                    "n_areas_rated": rated,
                    "pct": 100.0 * n / rated if rated else np.nan,
                }
            )
    return pd.DataFrame(rows)
