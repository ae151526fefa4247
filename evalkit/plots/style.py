"""The house style: a colour-blind-safe palette and one way to make a figure.

Okabe & Ito (2008) palette, readable in grey scale; large enough fonts for a
report printed on A4.
"""

from __future__ import annotations

from typing import Any

#: Okabe-Ito colour-blind-safe palette
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "grey": "#6E6E6E",
    "black": "#000000",
}
CYCLE = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "sky", "purple", "grey")]

_STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 100,
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "legend.frameon": False,
}


def use_house_style() -> None:
    """Apply the house style to matplotlib's global settings."""
    import matplotlib as mpl
    from cycler import cycler

    mpl.rcParams.update(_STYLE)
    mpl.rcParams["axes.prop_cycle"] = cycler(color=CYCLE)


def new_figure(ax: Any = None, *, figsize: tuple[float, float] = (6.4, 3.6)) -> tuple[Any, Any]:
    """Return ``(fig, ax)``: the given axes and its figure, or a new house-style figure.

    The figure is built without pyplot, so no GUI backend is touched and
    nothing global is left open: it works on servers and in papermill kernels.
    """
    if ax is not None:
        return ax.figure, ax
    from matplotlib.figure import Figure

    use_house_style()
    fig = Figure(figsize=figsize, layout="constrained")
    ax = fig.add_subplot()
    return fig, ax
