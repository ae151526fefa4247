"""Funnel plots for population indicators (presentation layer; matplotlib imported lazily)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .style import PALETTE, new_figure

__all__ = ["funnel_plot"]

_COLOURS = {
    "higher": PALETTE["blue"],
    "lower": PALETTE["vermillion"],
    "not different": PALETTE["grey"],
}


def _verdict(row: Any) -> str:
    """The strongest finding for an area: 99.8% first, then 95%."""
    for name in ("998", "95"):
        value = row[f"compared_{name}"]
        if value in ("higher", "lower"):
            return value
    return "not different"


#: at most this many areas of a large funnel plot are labelled (see :func:`funnel_plot`)
MAX_LABELS = 10


def _excess(row: Any) -> float:
    """How far a point lies outside the 95% limits, in widths of the 95% band at its n."""
    width = row["upper_95"] - row["lower_95"]
    beyond = max(row["value"] - row["upper_95"], row["lower_95"] - row["value"])
    return float(beyond / width) if width > 0 else float("inf")


def funnel_plot(
    result: Any,
    ax: Any = None,
    *,
    label_points: bool | None = None,
    title: str | None = None,
    highlight: Any = None,
) -> Any:
    """Draw a funnel plot of a :class:`evalkit.indicators.Funnel` result.

    Areas are points (filled when outside the 99.8% limits, open when outside only the 95%
    limits); the 95% limits are dashed, the 99.8% limits solid, the centre line dotted.
    Points are labelled when there are at most 25 areas (or when ``label_points=True``);
    otherwise only areas outside the 95% limits are labelled, and of those at most
    ``MAX_LABELS``, the furthest outside (in widths of the 95% band at their ``n``): a
    national funnel of 175 areas has a hundred outside, whose labels would hide each other
    and take most of the figure's drawing time. ``highlight`` names one area (a report's
    own) to ring and label in bold.
    """
    fig, ax = new_figure(ax, figsize=(7.0, 4.5))
    curves = result.limits()
    grey = PALETTE["black"]
    ax.plot(
        curves["n"],
        curves["baseline"],
        ls=":",
        color=grey,
        lw=1,
        label="target" if result.target is not None else "average",
    )
    ax.plot(curves["n"], curves["lower_95"], ls="--", color=grey, lw=1, label="95% limits")
    ax.plot(curves["n"], curves["upper_95"], ls="--", color=grey, lw=1)
    ax.plot(curves["n"], curves["lower_998"], ls="-", color=grey, lw=1.2, label="99.8% limits")
    ax.plot(curves["n"], curves["upper_998"], ls="-", color=grey, lw=1.2)

    table = result.table.dropna(subset=["value", "n"])
    if label_points is None:
        label_points = len(table) <= 25
    # one scatter per kind of point (a national run has 175 areas: one artist each was
    # most of the figure's time), in the order the kinds first appear, as the legend lists them
    groups: dict[tuple[str, bool], list[tuple[float, float]]] = {}
    labels: list[tuple[float, float, str]] = []
    outside: list[float] = []
    ring = None
    for label, row in table.iterrows():
        verdict = _verdict(row)
        outside_998 = row["compared_998"] in ("higher", "lower")
        groups.setdefault((verdict, outside_998), []).append((row["n"], row["value"]))
        if highlight is not None and label == highlight:
            ring = (row["n"], row["value"], str(label))
        elif label_points or verdict != "not different":
            labels.append((row["n"], row["value"], str(label)))
            outside.append(_excess(row))
    if not label_points and len(labels) > MAX_LABELS:
        furthest = sorted(range(len(labels)), key=lambda i: -outside[i])[:MAX_LABELS]
        labels = [labels[i] for i in sorted(furthest)]
    for (verdict, outside_998), points in groups.items():
        colour = _COLOURS[verdict]
        legend = (
            "not different"
            if verdict == "not different"
            else (f"{verdict} than expected ({'99.8' if outside_998 else '95'}% limits)")
        )
        filled = outside_998 or verdict == "not different"
        xs, ys = zip(*points, strict=True)
        ax.scatter(
            xs,
            ys,
            s=36,
            zorder=3,
            label=legend,
            facecolors=colour if filled else "white",
            edgecolors=colour,
            linewidths=1.5,
        )
    # labels as plain texts a few points off their area (cheaper to draw than annotations)
    from matplotlib.transforms import offset_copy

    small = offset_copy(ax.transData, fig=fig, x=4, y=3, units="points")
    for x, y, text in labels:
        ax.text(x, y, text, transform=small, fontsize=8, color=PALETTE["black"])
    if ring is not None:
        x, y, text = ring
        ax.scatter(
            [x], [y], s=160, zorder=4, facecolors="none", edgecolors=PALETTE["black"],
            linewidths=2, label="this area",
        )  # fmt: skip
        bold = offset_copy(ax.transData, fig=fig, x=6, y=5, units="points")
        ax.text(x, y, text, transform=bold, fontsize=10, fontweight="bold", color=PALETTE["black"])
    unit = "%" if result.multiplier == 100 else f" per {result.multiplier:g}"
    ax.set_xlabel("denominator (n)")
    ax.set_ylabel(f"value ({unit.strip()})" if unit != "%" else "value (%)")
    lo = float(np.nanmin([table["value"].min(), curves["lower_998"].min()]))
    hi = float(np.nanmax([table["value"].max(), curves["upper_998"].max()]))
    pad = 0.05 * (hi - lo if hi > lo else 1.0)
    ax.set_ylim(max(0.0, lo - pad), min(result.multiplier, hi + pad))
    ax.set_xlim(left=0)
    if title:
        ax.set_title(title)
    # the legend sits beside the plot, where it cannot hide an area
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig
