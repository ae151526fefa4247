"""Profiles of the maturity matrix (per element, dimension and overall) and change between
assessments."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice
from ..errors import DataError, EvalkitWarning
from .framework import Framework
from .ratings import checked_ratings, pick_areas, pick_date

__all__ = ["profile", "change"]


def _stats(values: pd.Series | np.ndarray) -> dict[str, float]:
    if isinstance(values, np.ndarray):
        v = values[~np.isnan(values)]
    else:
        v = values.dropna().to_numpy(dtype=float)
    if v.size == 0:
        return dict(mean=np.nan, median=np.nan, min=np.nan, max=np.nan, sd=np.nan, n_partners=0)
    return dict(
        mean=float(v.mean()),
        median=float(np.median(v)),
        min=float(v.min()),
        max=float(v.max()),
        sd=float(v.std(ddof=1)) if v.size > 1 else np.nan,
        n_partners=int(v.size),
    )


def _profile_one(r: pd.DataFrame, fw: Framework, area: str, date: pd.Timestamp) -> list[dict]:
    wide = r.pivot(index="partner", columns="element", values="level")
    levels = wide.to_numpy(dtype=float)  # element by element, as wide[eid] holds them
    where = {e: j for j, e in enumerate(wide.columns)}
    rows = []
    base = {"area": area, "date": date}
    dim_scores = {}
    for d in fw.dimensions:
        cols = [e for e in d.elements if e in wide.columns]
        score = wide[cols].mean(axis=1) if cols else pd.Series(dtype=float)
        dim_scores[d.id] = score
        rows.append(
            {
                **base,
                "scope": "dimension",
                "dimension": d.id,
                "element": "",
                "label": d.label,
                **_stats(score),
            }
        )
        for eid in d.elements:
            col = levels[:, where[eid]] if eid in where else np.array([], dtype=float)
            rows.append(
                {
                    **base,
                    "scope": "element",
                    "dimension": d.id,
                    "element": eid,
                    "label": fw.element(eid).label,
                    **_stats(col),
                }
            )
    overall = wide.mean(axis=1)
    rows.append(
        {
            **base,
            "scope": "overall",
            "dimension": "",
            "element": "",
            "label": "Overall",
            **_stats(overall),
        }
    )
    return rows


def profile(
    ratings: pd.DataFrame | str | Path,
    *,
    area: str | None = None,
    date: Any = None,
    framework: Any = None,
) -> pd.DataFrame:
    """Summarise partners' ratings per element, per dimension and overall.

    Parameters
    ----------
    ratings : DataFrame or path
        A ratings table (see :func:`read_ratings`; it is checked again here).
    area : str, optional
        One area; all areas when omitted.
    date : date-like or ``"all"``, optional
        The assessment date (it must exist for every area selected); by default each area's
        most recent date. ``"all"`` gives every date.
    framework : optional
        See :func:`load_framework`.

    Returns
    -------
    DataFrame
        One row per area, date and framework entry, in framework order (each dimension followed
        by its elements, then ``overall``). Columns: ``area, date, scope`` (``"dimension"``,
        ``"element"`` or ``"overall"``), ``dimension, element, label, mean, median, min, max,
        sd, n_partners``. Elements nobody rated have ``n_partners`` 0 and missing statistics.

    Notes
    -----
    For an element, the statistics are over the partners' levels :math:`x_p`. For a dimension
    (and overall), each partner first gets a score, the mean of their levels on the
    dimension's elements, :math:`s_p = \\frac{1}{|E_p|}\\sum_{e \\in E_p} x_{pe}`; the
    statistics (and ``n_partners``) are then over those partner scores, so ``min`` and ``max``
    show the spread between partners. With every partner rating every element, the dimension
    mean equals the mean of its element means. ``sd`` uses n - 1.

    Examples
    --------
    >>> df = pd.DataFrame({"area": "A", "partner": ["NHS", "LA"], "element": "strategy",
    ...                    "level": [2, 4], "date": "2024-03-01"})
    >>> p = profile(df)
    >>> p.loc[p.element == "strategy", ["mean", "min", "max"]].iloc[0].tolist()
    [3.0, 2.0, 4.0]
    """
    r, fw = checked_ratings(ratings, framework)
    rows: list[dict] = []
    picked = pick_areas(r, area, required=False)
    # each area's rows, in the table's order, from one pass (a national run has 175 areas)
    by_area = dict(iter(r.groupby("area", sort=False))) if len(picked) > 1 else {}
    for a in picked:
        ra = by_area[a] if by_area else r[r["area"] == a]
        if isinstance(date, str) and date == "all":
            dates = sorted(ra["date"].unique())
        else:
            dates = [pick_date(ra, date)]
        for d in dates:
            rows.extend(_profile_one(ra[ra["date"] == d], fw, a, pd.Timestamp(d)))
    out = pd.DataFrame(rows)
    out["date"] = out["date"].astype("datetime64[ns]")
    return out


def change(
    ratings: pd.DataFrame | str | Path,
    *,
    area: str | None = None,
    since: str = "previous",
    framework: Any = None,
) -> pd.DataFrame:
    """Change in the profile between two assessment dates of each area.

    By default the two most recent dates; ``since="baseline"``: the first date (the baseline)
    and the latest.

    Parameters
    ----------
    ratings : DataFrame or path
        A ratings table (see :func:`read_ratings`).
    area : str, optional
        One area (it must have two or more dates); all areas with two or more dates when
        omitted (areas with one date are left out, with a warning).
    since : {"previous", "baseline"}
        Compare the latest assessment with the one before it (default) or with the area's
        first assessment (the change since the baseline).
    framework : optional
        See :func:`load_framework`.

    Returns
    -------
    DataFrame
        One row per area and framework entry (same order as :func:`profile`): ``area, scope,
        dimension, element, label, date_before, date_after, mean_before, mean_after, change``
        (after minus before) and ``n_partners_before``, ``n_partners_after``.

    Notes
    -----
    Means are those of :func:`profile` at each date. The partners need not be the same at both
    dates; when they differ, part of the change may reflect who answered.

    Examples
    --------
    >>> df = pd.DataFrame({"area": "A", "partner": "NHS", "element": "strategy",
    ...                    "level": [2, 4], "date": ["2023-03-01", "2024-03-01"]})
    >>> change(df).query("element == 'strategy'")["change"].item()
    2.0
    """
    check_choice("since", since, ["previous", "baseline"])
    r, fw = checked_ratings(ratings, framework)
    areas = pick_areas(r, area, required=False)
    frames = []
    skipped = []
    for a in areas:
        ra = r[r["area"] == a]
        dates = sorted(ra["date"].unique())
        if len(dates) < 2:
            if area is not None:
                raise DataError(
                    f"area {a!r} has one assessment ({pd.Timestamp(dates[0]).date()}): change "
                    "needs two dates",
                    column="date",
                    allowed="ratings on two or more dates",
                )
            skipped.append(a)
            continue
        first = dates[0] if since == "baseline" else dates[-2]
        before = pd.DataFrame(_profile_one(ra[ra["date"] == first], fw, a, pd.Timestamp(first)))
        after = pd.DataFrame(
            _profile_one(ra[ra["date"] == dates[-1]], fw, a, pd.Timestamp(dates[-1]))
        )
        frames.append(
            pd.DataFrame(
                {
                    "area": a,
                    "scope": after["scope"],
                    "dimension": after["dimension"],
                    "element": after["element"],
                    "label": after["label"],
                    "date_before": before["date"],
                    "date_after": after["date"],
                    "mean_before": before["mean"],
                    "mean_after": after["mean"],
                    "change": after["mean"] - before["mean"],
                    "n_partners_before": before["n_partners"],
                    "n_partners_after": after["n_partners"],
                }
            )
        )
    if skipped:
        warnings.warn(
            "area(s) with a single assessment left out of the change table: " + ", ".join(skipped),
            EvalkitWarning,
            stacklevel=2,
        )
    if not frames:
        raise DataError(
            "no area has two assessment dates, so there is no change to show",
            column="date",
            allowed="ratings on two or more dates",
        )
    out = pd.concat(frames, ignore_index=True)
    for c in ("date_before", "date_after"):
        out[c] = out[c].astype("datetime64[ns]")
    return out
