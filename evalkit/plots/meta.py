"""Forest plots for meta-analyses (presentation layer; matplotlib imported lazily)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .style import PALETTE, new_figure

__all__ = ["forest_plot", "funnel_plot", "COMPACT_ROWS"]

#: with more studies than this a forest plot is drawn compact: rows closer together, smaller
#: squares and labels, the x axis also on top and the legend at the foot of the figure (so a
#: national plot of 175 areas stays legible and its picture small)
COMPACT_ROWS = 40
#: height of one study's row in inches (normal, compact)
_ROW_INCHES = (0.32, 0.2)


def forest_plot(
    result: Any,
    ax: Any = None,
    *,
    transform: Callable[[Any], Any] | None = None,
    null: float | None = None,
    xlabel: str | None = None,
    title: str | None = None,
    intervals: Any = None,
) -> Any:
    """Draw a forest plot of a :class:`evalkit.designs.meta.MetaAnalysis`.

    Each study is a square (area proportional to its weight) with its confidence interval;
    the pooled estimate is a diamond spanning its confidence interval, with the prediction
    interval as a thin line through it. ``transform`` (e.g. ``np.exp``) draws on the
    transformed scale (a log axis is used for ``np.exp``); ``null`` is the no-effect line
    (0 by default, 1 when ``transform is np.exp``). Estimates and intervals are printed on
    the right. ``intervals`` (a DataFrame with ``ci_low`` and ``ci_high``, one row per study
    in the result's order) draws each study with the interval its own report gives instead of
    the normal interval from its standard error.

    With more than :data:`COMPACT_ROWS` studies the plot is compact (rows 0.2 inch apart
    instead of 0.32, smaller squares and labels, the x axis repeated on top, the legend under
    the axis label): the same studies, numbers and colours, at about two thirds of the height.
    """
    studies = result.studies()
    if intervals is not None:
        studies = studies.assign(
            ci_low=np.asarray(intervals["ci_low"], dtype=float),
            ci_high=np.asarray(intervals["ci_high"], dtype=float),
        )
    k = len(studies)
    compact = k > COMPACT_ROWS
    fig, ax = new_figure(ax, figsize=(7.5, 1.2 + _ROW_INCHES[compact] * (k + 3)))

    def tr(values: Any) -> np.ndarray:
        arr = np.asarray(values, dtype=float)
        return arr if transform is None else np.asarray(transform(arr), dtype=float)

    if null is None:
        null = 1.0 if transform is np.exp else 0.0
    ys = np.arange(k, 0, -1) + 2.0  # studies top to bottom, pooled rows below
    est, lo, hi = tr(studies["estimate"]), tr(studies["ci_low"]), tr(studies["ci_high"])
    weights = studies["weight"].to_numpy()
    relative = weights / max(weights.max(), 1e-12)
    sizes = 8 + 70 * relative if compact else 20 + 180 * relative
    ax.hlines(ys, lo, hi, color=PALETTE["black"], lw=1)
    ax.scatter(est, ys, s=sizes, marker="s", color=PALETTE["blue"], zorder=3)

    pred = result.predict(transform)
    y0 = 1.0
    diamond_x = [pred["ci_low"], pred["estimate"], pred["ci_high"], pred["estimate"]]
    diamond_y = [y0, y0 + 0.3, y0, y0 - 0.3]
    ax.hlines(
        y0,
        pred["pi_low"],
        pred["pi_high"],
        color=PALETTE["orange"],
        lw=2,
        zorder=2,
        label=f"{result.level:.0%} prediction interval",
    )
    ax.fill(
        diamond_x,
        diamond_y,
        color=PALETTE["vermillion"],
        zorder=3,
        label=f"pooled ({result.method}{', Knapp-Hartung' if result.knha else ''})",
    )
    ax.axvline(null, color=PALETTE["grey"], ls="--", lw=1)

    labels = [str(v) for v in studies.index] + ["Pooled"]
    ax.set_yticks(list(ys) + [y0], labels)
    ax.set_ylim(0.2, k + 3.0)
    ax.grid(axis="y", visible=False)
    if compact:
        ax.tick_params(axis="y", labelsize=8)
        ax.tick_params(axis="x", top=True, labeltop=True)  # the scale at both ends
    if transform is np.exp:
        from matplotlib.ticker import FormatStrFormatter

        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(FormatStrFormatter("%g"))
        ax.xaxis.set_minor_formatter(FormatStrFormatter(""))

    # numbers on the right, in axes coordinates so they never collide with the data
    blended = ax.get_yaxis_transform()
    for y, e, a, b, wt in zip(ys, est, lo, hi, weights):
        ax.text(
            1.02,
            y,
            f"{e:.2f} [{a:.2f}, {b:.2f}]  {wt:.1f}%",
            transform=blended,
            va="center",
            fontsize=8,
        )
    ax.text(
        1.02,
        y0,
        f"{pred['estimate']:.2f} [{pred['ci_low']:.2f}, {pred['ci_high']:.2f}]",
        transform=blended,
        va="center",
        fontsize=8,
        fontweight="bold",
    )
    ax.text(1.02, k + 2.6, "estimate [CI]  weight", transform=blended, fontsize=8)

    ax.set_xlabel(xlabel or "estimate")
    ax.set_title(
        title or f"I² = {result.i2:.0f}%, τ² = {result.tau2:.3g}, k = {result.k}", loc="left"
    )
    if compact:
        # below the axis label at any height (an offset in axes units grows with the plot)
        fig.legend(
            *ax.get_legend_handles_labels(),
            loc="outside lower center",
            fontsize=8,
            ncol=2,
        )
    else:
        ax.legend(loc="upper center", fontsize=8, ncol=2, bbox_to_anchor=(0.5, -0.12))
    return fig


def funnel_plot(
    result: Any,
    ax: Any = None,
    *,
    filled: Any = None,
    xlabel: str | None = None,
    title: str | None = None,
) -> Any:
    """Draw a funnel plot of a :class:`evalkit.designs.meta.MetaAnalysis` (as metafor ``funnel``).

    Each study is a point at its estimate (x) and standard error (y, 0 at the top); the
    pseudo-confidence region is the triangle ``estimate ± z · SE`` around the pooled estimate
    (fixed lines, as metafor draws them). ``filled`` (a
    :class:`~evalkit.meta.TrimAndFill`) adds the studies trim and fill imputes, as hollow
    points. Only aggregates are drawn (one point per study).
    """
    from scipy import stats

    fig, ax = new_figure(ax, figsize=(6.5, 4.5))
    y = np.asarray(result.yi, dtype=float)
    se = np.sqrt(np.asarray(result.vi, dtype=float))
    z = float(stats.norm.ppf(0.5 + result.level / 2))
    top = max(float(se.max()), 1e-12) * 1.1
    if filled is not None and len(filled.fill_vi):
        top = max(top, float(np.sqrt(np.max(filled.fill_vi))) * 1.1)
    centre = float(result.estimate)
    grid = np.array([0.0, top])
    ax.fill_betweenx(grid, centre - z * grid, centre + z * grid, color=PALETTE["grey"],
                     alpha=0.15, label=f"{result.level:.0%} pseudo-confidence region")  # fmt: skip
    ax.plot(centre - z * grid, grid, color=PALETTE["grey"], lw=1, ls="--")
    ax.plot(centre + z * grid, grid, color=PALETTE["grey"], lw=1, ls="--")
    ax.axvline(centre, color=PALETTE["vermillion"], lw=1.5, label="pooled estimate")
    ax.scatter(y, se, s=40, color=PALETTE["blue"], zorder=3, label="studies")
    if filled is not None and len(filled.fill_yi):
        ax.scatter(filled.fill_yi, np.sqrt(np.asarray(filled.fill_vi)), s=40, zorder=3,
                   facecolors="white", edgecolors=PALETTE["black"], label="filled in (trim and fill)")  # fmt: skip
    ax.set_ylim(top, 0)
    ax.set_xlabel(xlabel or "estimate")
    ax.set_ylabel("standard error")
    ax.set_title(title or f"k = {result.k}", loc="left")
    ax.legend(loc="upper center", fontsize=8, ncol=2, bbox_to_anchor=(0.5, -0.15))
    return fig
