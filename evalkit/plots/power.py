"""MDES-against-sample-size plots (presentation layer; matplotlib imported lazily)."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .style import PALETTE, new_figure

__all__ = ["mdes_plot"]

_SIZE_LABELS = {
    "n": "sample size (n)",
    "J": "number of blocks or clusters (J)",
    "K": "number of sites (K)",
}


def mdes_plot(
    curve: pd.DataFrame,
    *,
    vary: str,
    current: Any = None,
    es: float | None = None,
    label: str = "",
    power: float = 0.8,
    alpha: float = 0.05,
    ax: Any = None,
) -> Any:
    """Draw MDES against the size ``vary`` from :func:`evalkit.power.mdes_curve`.

    ``current`` (a :class:`~evalkit.power.PowerResult`) is marked as a point; ``es`` (the
    effect hoped for) is drawn as a horizontal line, so sizes where the curve is below the
    line could detect it.
    """
    fig, ax = new_figure(ax)
    ax.plot(curve[vary], curve["mdes"], color=PALETTE["blue"], lw=2, label="MDES")
    if es is not None:
        ax.axhline(
            abs(es),
            color=PALETTE["orange"],
            ls="--",
            lw=1.5,
            label=f"effect hoped for ({abs(es):.2f} SD)",
        )
    if current is not None:
        x = current.params[vary]
        ax.scatter(
            [x],
            [current.mdes],
            color=PALETTE["vermillion"],
            zorder=3,
            s=50,
            label=f"this design: {vary} = {x:g}, MDES = {current.mdes:.2f}",
        )
    ax.set_xlabel(_SIZE_LABELS.get(vary, vary))
    ax.set_ylabel("minimum detectable effect (SD)")
    # very small samples have huge MDES values: keep the interesting range in view
    reference = [float(curve["mdes"].median())]
    if es is not None:
        reference.append(abs(es))
    if current is not None:
        reference.append(current.mdes)
    ax.set_ylim(0, min(float(curve["mdes"].max()) * 1.05, 2.5 * max(reference)))
    ax.set_title(f"{label}: {power:.0%} power, alpha {alpha:g}" if label else None, loc="left")
    ax.legend(loc="upper right", fontsize=8)
    return fig
