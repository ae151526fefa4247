"""Needs-assessment figures: a Fingertips-style spine chart, an inequality (SII) chart and
small-multiple trends (presentation layer; matplotlib imported lazily).

Colours are the colour-blind-safe Okabe-Ito palette, and every colour also carries a word:
the comparison is written beside each spine ("better", "similar", "worse"), markers differ in
shape, and the legends name them, so nothing depends on telling colours apart.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .style import PALETTE, new_figure, use_house_style

__all__ = ["COMPARISON_STYLE", "spine_chart", "sii_chart", "sii_panel", "trend_multiples"]

#: comparison -> (colour, marker, word shown); blue for better, vermillion for worse
COMPARISON_STYLE = {
    "better": (PALETTE["blue"], "o", "better"),
    "higher": (PALETTE["sky"], "^", "higher"),
    "similar": (PALETTE["yellow"], "s", "similar"),
    "lower": (PALETTE["purple"], "v", "lower"),
    "worse": (PALETTE["vermillion"], "D", "worse"),
    "not compared": ("white", "o", "not compared"),
}


def _spine_position(value: Any, bench: float, spread: float, sign: float) -> Any:
    return 0.5 + 0.5 * sign * (np.asarray(value, dtype=float) - bench) / spread


def spine_chart(summary: pd.DataFrame, *, title: str | None = None, area_name: str = "area") -> Any:
    """A spine chart of the area's indicators, in the style of the Fingertips area profiles.

    Each row is an indicator: the benchmark is the centre line, the light band runs from the
    worst to the best area, the darker band covers the middle half of the areas (25th to 75th
    percentile), and the marker is this area's value, its colour, shape and the word beside it
    saying how it compares with the benchmark. Better is always to the right (the scale of a
    "low is good" indicator is reversed); each half of a row is scaled to the farther of the
    worst and best areas, as Fingertips does.

    Parameters
    ----------
    summary
        :func:`evalkit.needs.area_summary`.
    title, area_name
        Figure title and the area's name (for the legend).
    """
    use_house_style()
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    n = len(summary)
    labels = [_wrap(label) for label in summary["label"].iloc[::-1]]
    used = [c for c in COMPARISON_STYLE if c in set(summary["comparison"])]
    width, height = 9.0, 0.55 * n + 1.6
    fig = Figure(figsize=(width, height))
    # fixed margins (inches) from the widths of the texts beside the axes, instead of a layout
    # engine (which would draw the figure twice): the labels on the left, the words on the
    # right (at 1.04 of the axes' width), the title above, the tick labels and legend below
    left = max((_text_width(line, 8) for t in labels for line in t.split("\n")), default=0)
    left += 0.25
    word = max((_text_width(COMPARISON_STYLE[c][2], 9) for c in used), default=0)
    ax_w = (width - left - word - 0.15) / 1.04
    legend_rows = int(np.ceil((3 + len(used)) / 3))
    bottom = 0.35 + 0.2 * legend_rows + 0.1
    top = 0.35
    ax = fig.add_axes(
        (left / width, bottom / height, ax_w / width, (height - top - bottom) / height)
    )
    for i, (_, row) in enumerate(summary.iloc[::-1].iterrows()):
        sign = -1.0 if row["polarity"] == "low is good" else 1.0
        bench = row["benchmark"]
        lows = [row["area_min"], row["area_max"], row["value"]]
        spread = np.nanmax(np.abs(np.asarray(lows, dtype=float) - bench)) or 1.0
        pos = {k: _spine_position(row[k], bench, spread, sign)
               for k in ("area_min", "area_q25", "area_q75", "area_max", "value")}  # fmt: skip
        lo, hi = sorted((pos["area_min"], pos["area_max"]))
        ax.barh(i, hi - lo, left=lo, height=0.5, color="#D9D9D9", edgecolor="none")
        lo, hi = sorted((pos["area_q25"], pos["area_q75"]))
        ax.barh(i, hi - lo, left=lo, height=0.5, color="#A6A6A6", edgecolor="none")
        colour, marker, word = COMPARISON_STYLE.get(
            row["comparison"], COMPARISON_STYLE["not compared"]
        )
        ax.scatter(pos["value"], i, s=70, marker=marker, color=colour, edgecolors="black",
                   linewidths=0.8, zorder=3)  # fmt: skip
        ax.text(1.04, i, word, va="center", fontsize=9, transform=ax.get_yaxis_transform())
    ax.axvline(0.5, color=PALETTE["black"], lw=1.2)
    ax.set_yticks(range(n))
    ax.set_yticklabels(labels, fontsize=8)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0.0, 0.5, 1.0])
    ax.set_xticklabels(["worst area", "benchmark", "best area"])
    ax.grid(False)
    ax.set_title(title or f"{area_name} compared with the benchmark and the other areas", y=1.0)
    handles = [
        Patch(color="#D9D9D9", label="range of areas"),
        Patch(color="#A6A6A6", label="middle half of areas"),
        Line2D([], [], color=PALETTE["black"], lw=1.2, label="benchmark"),
    ] + [
        Line2D(
            [],
            [],
            ls="",
            marker=COMPARISON_STYLE[c][1],
            markerfacecolor=COMPARISON_STYLE[c][0],
            markeredgecolor="black",
            label=f"{area_name}: {COMPARISON_STYLE[c][2]}",
        )  # fmt: skip
        for c in used
    ]
    fig.legend(handles=handles, loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=3, fontsize=8)
    return fig


def _text_width(text: str, size: float) -> float:
    """The width of one line of text in the house font, in inches."""
    from matplotlib.font_manager import FontProperties
    from matplotlib.textpath import text_to_path

    w, _, _ = text_to_path.get_text_width_height_descent(text, FontProperties(size=size), False)
    return w / 72


def _wrap(text: str, width: int = 45) -> str:
    words, lines, line = str(text).split(), [], ""
    for w in words:
        if len(line) + len(w) + 1 > width and line:
            lines.append(line)
            line = w
        else:
            line = f"{line} {w}".strip()
    lines.append(line)
    return "\n".join(lines[:4])


def sii_chart(
    deciles: pd.DataFrame,
    sii_row: pd.Series | None = None,
    *,
    ax: Any = None,
    title: str | None = None,
    unit: str = "",
) -> Any:
    """Values by deprivation decile with their intervals and the fitted SII line.

    ``deciles`` is :func:`evalkit.needs.decile_values` (decile 1 = most deprived, on the
    left); ``sii_row`` a row of :func:`evalkit.needs.inequality_table` (its ``intercept`` and
    ``sii``). The line joins the modelled values at the most and least deprived ends (x from 0 to 1 of the area's
    population ranked by deprivation); the SII and RII with their intervals are written
    in the title.
    """
    fig, ax = new_figure(ax, figsize=(6.4, 3.8))
    sii_panel(ax, deciles, sii_row, title=title, unit=unit)
    ax.legend(fontsize=8, loc="best")
    return fig


#: the legend labels of an SII panel
SII_LABELS = ("decile value with 95% interval", "fitted gradient (slope index of inequality)")


def sii_panel(
    ax: Any,
    deciles: pd.DataFrame,
    sii_row: pd.Series | None,
    *,
    title: str | None = None,
    unit: str = "",
    xlabel: bool = True,
) -> None:
    """Draw :func:`sii_chart` on ``ax`` without its legend (the labels are ``SII_LABELS``);
    with ``xlabel=False`` the x-axis title is left to another panel."""
    d = deciles.sort_values("decile")
    share = d["population"] / d["population"].sum()
    mid = np.cumsum(share) - share / 2
    ax.errorbar(mid, d["value"], yerr=[d["value"] - d["ci_low"], d["ci_high"] - d["value"]],
                fmt="o", color=PALETTE["blue"], ecolor=PALETTE["grey"], capsize=3,
                label=SII_LABELS[0])  # fmt: skip
    # each decile's number 4 points up and right of its marker (plain texts: the same
    # picture as annotations, cheaper to draw)
    from matplotlib.transforms import offset_copy

    beside = offset_copy(ax.transData, fig=ax.figure, x=4, y=4, units="points")
    for x, y, q in zip(mid, d["value"], d["decile"]):
        ax.text(x, y, str(int(q)), fontsize=7, transform=beside)
    if sii_row is not None and np.isfinite(sii_row.get("sii", np.nan)):
        icpt, slope = sii_row["intercept"], sii_row["sii"]
        ax.plot([0, 1], [icpt, icpt + slope], ls="--", color=PALETTE["vermillion"],
                label=SII_LABELS[1])  # fmt: skip
        gap_unit = " percentage points" if unit.strip() == "%" else unit
        sub = (
            f"SII {sii_row['sii']:.1f}{gap_unit} ({sii_row['ci_low']:.1f} to "
            f"{sii_row['ci_high']:.1f}); RII {sii_row['rii']:.2f}"
        )
        ax.set_title((title + "\n" if title else "") + sub, fontsize=10, y=1.0)
    elif title:
        ax.set_title(title, y=1.0)
    ax.set_xlim(-0.02, 1.02)
    ax.set_xticks([0, 0.5, 1])
    ax.set_xticklabels(["most deprived", "middle", "least deprived"])
    if xlabel:
        ax.set_xlabel("population ranked by deprivation (numbers: deciles)")
    ax.set_ylabel(f"value{(' (' + unit.strip() + ')') if unit.strip() else ''}")


def panel_grid(
    fig: Any,
    n: int,
    columns: int,
    *,
    left: float,
    right: float,
    bottom: float,
    wgap: float,
    above: float | list[float],
    below: float,
    below_inner: float | None = None,
) -> list[Any]:
    """``n`` axes in rows of ``columns`` placed by fixed margins in inches, a layout that
    costs nothing to work out (unlike ``layout="constrained"``, which measures every text
    and draws the figure twice). ``above`` is the room for the titles over each row (one
    number for all rows, or one per row), ``below`` the room for the tick labels under a
    row, ``bottom`` that under the last row; with ``below_inner``, a row without a panel
    that is the lowest of its column gets that instead (its x labels are left to the panels
    below, :func:`bottom_x_labels`). The unused cells of the last row stay empty.
    Returns the ``n`` axes, row by row."""
    width, height = fig.get_size_inches()
    rows = int(np.ceil(n / columns))
    if not rows:
        return []
    tops = [above] * rows if isinstance(above, (int, float)) else list(above)
    gaps = [
        below if below_inner is None or min(n, (r + 1) * columns) > n - columns else below_inner
        for r in range(rows - 1)
    ]
    cell_w = (width - left - right - wgap * (columns - 1)) / columns
    cell_h = (height - bottom - sum(tops) - sum(gaps)) / rows
    axes, y = [], height
    for r in range(rows):
        y -= tops[r] + cell_h
        for c in range(min(columns, n - r * columns)):
            x = left + c * (cell_w + wgap)
            axes.append(fig.add_axes((x / width, y / height, cell_w / width, cell_h / height)))
        y -= gaps[r] if r < rows - 1 else 0
    return axes


def fewer_y_ticks(ax: Any, bins: int = 5) -> None:
    """At most about ``bins`` round y ticks (each tick label costs drawing time), written in
    full (no offset text above the axes for a title at ``y=1`` to run into)."""
    from matplotlib.ticker import MaxNLocator

    class InView(MaxNLocator):
        """MaxNLocator without the ticks beyond the axis (each would be laid out, unseen)."""

        def __call__(self) -> Any:
            locs = super().__call__()
            lo, hi = sorted(self.axis.get_view_interval())
            tol = (hi - lo) * 1e-9
            return locs[(locs >= lo - tol) & (locs <= hi + tol)]

    ax.yaxis.set_major_locator(InView(nbins=bins, steps=[1, 2, 2.5, 5, 10]))
    ax.ticklabel_format(axis="y", useOffset=False)


def bottom_x_labels(axes: list[Any], columns: int) -> None:
    """Panels on one x scale: tick labels and axis title only under the lowest panel of each
    column (as ``label_outer``, also for a short last row)."""
    for ax in axes[: max(len(axes) - columns, 0)]:
        ax.tick_params(labelbottom=False)
        ax.set_xlabel("")


def trend_multiples(
    trends: pd.DataFrame,
    *,
    area_id: str,
    benchmark_id: str = "NAT",
    area_name: str = "area",
    benchmark_name: str = "benchmark",
    columns: int = 3,
) -> Any:
    """Small multiples: one panel per indicator, the area's yearly values with their
    intervals (blue circles, solid line) and the benchmark (black squares, dashed line).

    ``trends`` is :func:`evalkit.needs.trend_table`.
    """
    use_house_style()
    from matplotlib.figure import Figure
    from matplotlib.ticker import FixedLocator, MaxNLocator

    names = list(dict.fromkeys(trends["indicator"].dropna()))
    rows = int(np.ceil(len(names) / columns))
    parts = dict(list(trends.groupby("indicator", sort=False)))
    titles = {name: _wrap(parts[name]["label"].iloc[0], 38) for name in names}
    # fixed margins (inches) instead of a layout engine: the titles' lines (8 pt) above each
    # panel, the tick labels (7 pt) beside and below it, and the legend at the foot
    lines = [t.count("\n") + 1 for t in titles.values()]
    above = [(max(lines[r * columns : (r + 1) * columns]) * 10 + 8) / 72 for r in range(rows)]
    fig = Figure(figsize=(3.2 * columns, 2.4 * rows + 0.6))
    same_years = len(names) > columns and trends["year"].notna().all()
    axes = panel_grid(fig, len(names), columns, left=0.45, right=0.2, bottom=0.62, wgap=0.55,
                       above=above, below=0.3,
                       below_inner=0.12 if same_years else None)  # fmt: skip
    for ax, name in zip(axes, names):
        part = parts[name]
        own = part[part["area_id"] == area_id].sort_values("year")
        ben = part[part["area_id"] == benchmark_id].sort_values("year")
        ax.fill_between(own["year"], own["ci_low"], own["ci_high"], color=PALETTE["sky"],
                        alpha=0.3, linewidth=0)  # fmt: skip
        ax.plot(own["year"], own["value"], "-o", color=PALETTE["blue"], ms=4, label=area_name)
        ax.plot(ben["year"], ben["value"], "--s", color=PALETTE["black"], ms=3,
                label=benchmark_name)  # fmt: skip
        ax.set_title(titles[name], fontsize=8, y=1.0)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        fewer_y_ticks(ax)
    if same_years:
        # every panel on the same years: label them once, under each column
        lo, hi = trends["year"].min(), trends["year"].max()
        pad = (hi - lo) * 0.05 or 0.5
        years = np.unique(trends["year"])
        few = len(years) <= 6 and bool((years == np.round(years)).all())
        for ax in axes:
            ax.set_xlim(lo - pad, hi + pad)
            if few:  # a tick for each year, and none outside the axis to lay out
                ax.xaxis.set_major_locator(FixedLocator(years))
        bottom_x_labels(axes, columns)
    handles, labels = axes[0].get_legend_handles_labels() if axes else ([], [])
    fig.legend(handles, [f"{lab} (shaded: 95% interval)" if i == 0 else lab
                         for i, lab in enumerate(labels)],
               loc="lower center", bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8)  # fmt: skip
    return fig
