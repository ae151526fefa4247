"""Pictures of the maturity matrix (presentation layer; matplotlib imported lazily).

- :func:`plot_profile`: one area's profile, as bars (default) or a radar chart, with the spread
  between partners;
- :func:`plot_heatmap`: mean level per element (or dimension) for every area;
- :func:`plot_level_distribution`: across areas, how many areas are at each level of each
  element (a stacked bar per element; counts of areas only).

The first two accept a profile from :func:`evalkit.matrix.profile` or a ratings table (profiled first)
and return a matplotlib Figure.
"""

from __future__ import annotations

import textwrap
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice
from ..errors import ParameterError
from .style import CYCLE, PALETTE, new_figure, use_house_style

__all__ = ["plot_profile", "plot_heatmap", "plot_level_distribution"]


def _as_profile(data: Any, framework: Any, area: str | None) -> pd.DataFrame:
    from ..matrix import profile

    if not isinstance(data, pd.DataFrame):
        return profile(data, area=area, framework=framework)
    if "scope" in data.columns and "mean" in data.columns:
        prof = data
        if area is not None:
            prof = prof[prof["area"] == area]
            if prof.empty:
                raise ParameterError(
                    f"the profile has no area {area!r}",
                    key="area",
                    expected=", ".join(map(str, data["area"].unique()[:10])),
                )
        # several dates (profile(date="all")): each area's latest
        latest = prof.groupby("area")["date"].transform("max")
        return prof[prof["date"] == latest]
    return profile(data, area=area, framework=framework)


def _one_area(prof: pd.DataFrame) -> tuple[str, pd.DataFrame]:
    areas = list(prof["area"].unique())
    if len(areas) != 1:
        raise ParameterError(
            "the profile holds several areas: say which one with area=",
            key="area",
            expected=", ".join(map(str, areas[:10])),
        )
    return str(areas[0]), prof


def plot_profile(
    data: Any,
    *,
    area: str | None = None,
    kind: str = "bar",
    ax: Any = None,
    framework: Any = None,
    title: str | None = None,
) -> Any:
    """Draw one area's maturity profile: mean level per element, with the partners' range.

    Parameters
    ----------
    data : DataFrame or path
        A profile (:func:`evalkit.matrix.profile`) or ratings (profiled here, latest date).
    area : str, optional
        Required when ``data`` holds several areas.
    kind : {"bar", "radar"}
        ``"bar"``: horizontal bars grouped and coloured by dimension, a black line from the
        lowest to the highest partner's level. ``"radar"``: the mean as a polygon, the partners'
        range shaded (easier to misread; prefer bars in reports).
    ax : matplotlib Axes, optional
        Draw here (for ``"radar"`` it must be a polar Axes).
    framework : optional
        See :func:`evalkit.matrix.load_framework` (level labels, dimension names).
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Examples
    --------
    >>> fig = plot_profile(ratings, area="Northshire")  # doctest: +SKIP
    """
    from ..matrix import load_framework

    check_choice("kind", kind, ["bar", "radar"])
    fw = load_framework(framework)
    name, prof = _one_area(_as_profile(data, fw, area))
    el = prof[prof["scope"] == "element"].set_index("element").reindex(fw.element_ids)
    colours = {d.id: CYCLE[i % len(CYCLE)] for i, d in enumerate(fw.dimensions)}
    date = pd.Timestamp(prof["date"].iloc[0]).date().isoformat()
    title = title if title is not None else f"{name}: maturity matrix, {date}"
    if kind == "bar":
        return _bars(el, fw, colours, ax, title)
    return _radar(el, fw, colours, ax, title)


def _bars(el: pd.DataFrame, fw: Any, colours: dict, ax: Any, title: str) -> Any:
    fig, ax = new_figure(ax, figsize=(7.0, 0.35 * len(el) + 1.8))
    y, pos = [], 0.0
    for d in fw.dimensions:
        for _ in d.elements:
            y.append(pos)
            pos += 1
        pos += 0.6  # a gap between dimensions
    y = np.array(y)
    means = el["mean"].to_numpy(dtype=float)
    dims = [fw.element(e).dimension for e in el.index]
    ax.barh(y, np.nan_to_num(means), color=[colours[d] for d in dims], height=0.7, left=0, zorder=2)
    # the partners' ranges: one line (segments split by NaN) and one set of end marks
    xs, ys = [], []
    for yi, lo, hi in zip(y, el["min"], el["max"]):
        if np.isfinite(lo) and np.isfinite(hi) and hi > lo:
            xs += [lo, hi, np.nan]
            ys += [yi, yi, np.nan]
    if xs:
        ax.plot(xs, ys, color=PALETTE["black"], lw=1.5, zorder=3, solid_capstyle="butt")
        ax.plot(xs, ys, "|", color=PALETTE["black"], ms=8, zorder=3)
    for yi, m in zip(y, means):
        if not np.isfinite(m):
            ax.text(
                fw.min_level * 0.1, yi, "not rated", va="center", fontsize=8, color=PALETTE["grey"]
            )
    ax.set_yticks(y, [fw.element(e).label for e in el.index])
    ax.invert_yaxis()
    ax.set_xlim(0, fw.max_level + 0.45)
    ax.set_xticks(list(fw.levels), [f"{k}\n{v}" for k, v in fw.levels.items()])
    ax.set_xlabel("Level (bar: mean of partners; line: lowest to highest partner)")
    ax.grid(axis="y", visible=False)
    from matplotlib.patches import Patch

    handles = [Patch(color=colours[d.id], label=d.label) for d in fw.dimensions]
    ax.legend(
        handles=handles,
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(handles),
        fontsize=9,
    )
    ax.set_title(title, pad=28)
    return fig


def _radar(el: pd.DataFrame, fw: Any, colours: dict, ax: Any, title: str) -> Any:
    if ax is None:
        from matplotlib.figure import Figure

        use_house_style()
        fig = Figure(figsize=(6.4, 6.0), layout="constrained")
        ax = fig.add_subplot(projection="polar")
    else:
        if getattr(ax, "name", "") != "polar":
            raise ParameterError(
                "a radar chart needs a polar Axes",
                key="ax",
                expected="fig.add_subplot(projection='polar'), or ax=None",
            )
        fig = ax.figure
    n = len(el)
    theta = np.linspace(0, 2 * np.pi, n, endpoint=False)
    closed = np.append(theta, theta[0])

    def ring(col: str) -> np.ndarray:
        v = el[col].to_numpy(dtype=float)
        return np.append(v, v[0])

    ax.fill_between(
        closed,
        ring("min"),
        ring("max"),
        color=PALETTE["sky"],
        alpha=0.35,
        label="lowest to highest partner",
    )
    ax.plot(closed, ring("mean"), color=PALETTE["blue"], lw=2, marker="o", label="mean")
    ax.set_theta_offset(np.pi / 2)
    ax.set_theta_direction(-1)
    labels = [textwrap.fill(fw.element(e).label, 16) for e in el.index]
    ax.set_xticks(theta, labels, fontsize=8)
    for tick, e in zip(ax.get_xticklabels(), el.index):
        tick.set_color(colours[fw.element(e).dimension])
    ax.set_ylim(0, fw.max_level)
    ax.set_yticks(list(fw.levels), [str(k) for k in fw.levels], fontsize=8)
    ax.legend(loc="upper right", bbox_to_anchor=(1.15, 1.12), fontsize=8)
    ax.set_title(title)
    return fig


def plot_heatmap(
    data: Any,
    *,
    scope: str = "element",
    ax: Any = None,
    framework: Any = None,
    annotate: bool = True,
    title: str | None = None,
) -> Any:
    """Heat map of the mean level per area (rows) and element or dimension (columns).

    Parameters
    ----------
    data : DataFrame or path
        A profile of several areas (:func:`evalkit.matrix.profile` with ``area=None``) or
        ratings. Each area's most recent assessment is shown.
    scope : {"element", "dimension"}
    ax : matplotlib Axes, optional
    framework : optional
        See :func:`evalkit.matrix.load_framework`.
    annotate : bool
        Write the mean (one decimal) in each cell, so the picture does not rely on colour.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    The colour map is cividis (readable with colour-vision deficiency and in grey scale),
    fixed to the framework's level range so that areas and years compare. Cells nobody rated
    are light grey with a dash.

    Examples
    --------
    >>> fig = plot_heatmap(evalkit.matrix.profile(ratings))  # doctest: +SKIP
    """
    from ..matrix import load_framework

    check_choice("scope", scope, ["element", "dimension"])
    fw = load_framework(framework)
    prof = _as_profile(data, fw, None)
    part = prof[prof["scope"] == scope]
    columns = fw.element_ids if scope == "element" else fw.dimension_ids
    table = part.pivot(index="area", columns=scope, values="mean").reindex(columns=columns)
    table = table.sort_index()
    if scope == "element":
        names = [fw.element(c).label for c in columns]
    else:
        names = [fw.dimension(c).label for c in columns]

    n_rows, n_cols = table.shape
    fig, ax = new_figure(ax, figsize=(1.0 + 0.7 * n_cols + 1.5, 0.32 * n_rows + 2.6))
    import matplotlib as mpl

    cmap = mpl.colormaps["cividis"].with_extremes(bad="#E6E6E6")
    values = np.ma.masked_invalid(table.to_numpy(dtype=float))
    image = ax.imshow(
        values,
        cmap=cmap,
        vmin=fw.min_level,
        vmax=fw.max_level,
        aspect="auto",
        interpolation="nearest",
    )
    ax.grid(False)
    ax.set_xticks(
        range(n_cols),
        [textwrap.fill(x, 18) for x in names],
        rotation=45,
        ha="right",
        rotation_mode="anchor",
        fontsize=8,
    )
    ax.set_yticks(range(n_rows), [str(a) for a in table.index], fontsize=8)
    if scope == "element":
        edge = 0
        for d in fw.dimensions[:-1]:
            edge += len(d.elements)
            ax.axvline(edge - 0.5, color="white", lw=3)
    if annotate:
        mid = (fw.min_level + fw.max_level) / 2
        for i in range(n_rows):
            for j in range(n_cols):
                v = table.iat[i, j]
                text = "–" if not np.isfinite(v) else f"{v:.1f}"
                colour = "black" if (not np.isfinite(v) or v >= mid) else "white"
                ax.text(j, i, text, ha="center", va="center", fontsize=7, color=colour)
    bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    bar.set_ticks(list(fw.levels), labels=[f"{k} {v}" for k, v in fw.levels.items()])
    bar.ax.tick_params(labelsize=8)
    ax.set_title(title if title is not None else "Maturity matrix: mean level by area")
    return fig


def plot_level_distribution(
    data: Any,
    *,
    summary: str = "median",
    ax: Any = None,
    framework: Any = None,
    title: str | None = None,
) -> Any:
    """Stacked bars: for each element, the number of areas at each level (latest assessments).

    Parameters
    ----------
    data : DataFrame or path
        A distribution from :func:`evalkit.matrix.level_distribution`, or ratings of several
        areas (the distribution is computed here with ``summary``).
    summary : {"median", "mean"}
        Passed to :func:`evalkit.matrix.level_distribution` when ``data`` is ratings.
    ax : matplotlib Axes, optional
    framework : optional
        See :func:`evalkit.matrix.load_framework`.
    title : str, optional

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Levels are shades of cividis (colour-blind safe and ordered in grey scale, lighter =
    more mature) and each segment has its count written in it, so the picture does not rely on
    colour. Only counts of areas are drawn.

    Examples
    --------
    >>> fig = plot_level_distribution(ratings)  # doctest: +SKIP
    """
    from ..matrix import level_distribution, load_framework

    fw = load_framework(framework)
    if isinstance(data, pd.DataFrame) and {"n_areas", "level", "element"} <= set(data.columns):
        dist = data
    else:
        dist = level_distribution(data, summary=summary, framework=fw)
    table = dist.pivot_table(
        index="element", columns="level", values="n_areas", aggfunc="sum", fill_value=0
    )
    table = table.reindex(index=fw.element_ids, columns=list(fw.levels), fill_value=0)
    n_rows = len(table)
    fig, ax = new_figure(ax, figsize=(7.4, 0.4 * n_rows + 2.0))
    import matplotlib as mpl

    cmap = mpl.colormaps["cividis"]
    span = max(len(fw.levels) - 1, 1)
    colours = {k: cmap(0.08 + 0.84 * i / span) for i, k in enumerate(fw.levels)}
    y = np.arange(n_rows)
    left = np.zeros(n_rows)
    for i, k in enumerate(fw.levels):
        counts = table[k].to_numpy(dtype=float)
        ax.barh(
            y,
            counts,
            left=left,
            color=colours[k],
            edgecolor="white",
            height=0.7,
            label=fw.level_label(k),
            zorder=2,
        )
        text_colour = "white" if i < len(fw.levels) / 2 else "black"
        for yi, x0, c in zip(y, left, counts):
            if c > 0:
                ax.text(
                    x0 + c / 2,
                    yi,
                    f"{int(c)}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color=text_colour,
                )
        left += counts
    ax.set_yticks(y, [textwrap.fill(fw.element(e).label, 28) for e in table.index], fontsize=8)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    ax.set_xlabel("Number of areas (each at its latest assessment)")
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.legend(
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=len(fw.levels),
        fontsize=8,
        title=None,
    )
    ax.set_title(
        title if title is not None else "Maturity matrix: areas at each level, by element",
        pad=26,
    )
    return fig
