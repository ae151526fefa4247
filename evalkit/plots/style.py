"""The house style: a colour-blind-safe palette and one way to make a figure.

Okabe & Ito (2008) palette, readable in grey scale; large enough fonts for a
report printed on A4. :func:`fixed_layout` places a one-axes figure by fixed margins
worked out from its texts, so that saving it draws it once.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

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


#: a point, in inches
_PT = 1 / 72
#: room left at the figure's edges by :func:`fixed_layout` (constrained layout leaves 3 pt)
_EDGE = 4 * _PT


def _hinted(width: float) -> float:
    """Room for a text :func:`text_size` measures ``width`` inches wide: drawn (hinted), it
    can be a little wider (seen: up to 2% and 2 points)."""
    return width * 1.02 + 1.5 * _PT


def _hinted_height(height: float, text: str) -> float:
    """Room for a text :func:`text_size` measures ``height`` inches high: hinted glyphs can
    rise a little above the font's ascent (seen: 0.4 point a line at 8 points)."""
    return height + 0.5 * _PT * (text.count("\n") + 1)


def text_size(text: str, fontsize: float, *, weight: Any = "normal") -> tuple[float, float, float]:
    """The size of ``text`` as matplotlib would draw it, from the font's metrics: no
    renderer, nothing drawn. Sizes already measured are remembered.

    Lines are stacked as matplotlib stacks them (line spacing "normal": the font's
    typographic ascent, descent and line gap). Widths are unhinted: a drawn text can be
    a few percent wider or narrower.

    Parameters
    ----------
    text : str
        Plain text (not mathtext), lines split at ``"\\n"``.
    fontsize : float
        In points.
    weight : str or int
        Font weight, as matplotlib takes it.

    Returns
    -------
    tuple of float
        Width, height, and the depth below the last line's baseline, in inches.
    """
    from matplotlib.font_manager import FontProperties, findfont

    prop = FontProperties(size=fontsize, weight=weight)
    return _text_size(text, prop.get_size_in_points(), findfont(prop))


@functools.lru_cache(maxsize=1024)
def _text_size(text: str, fontsize: float, path: str) -> tuple[float, float, float]:
    from matplotlib.font_manager import FontProperties, get_font
    from matplotlib.textpath import text_to_path

    prop = FontProperties(fname=path, size=fontsize)
    font = get_font(path)
    table = font.get_sfnt_table("OS/2")
    scale = fontsize / font.units_per_EM
    if table is not None:
        ascent, descent = table["sTypoAscender"] * scale, -table["sTypoDescender"] * scale
        gap = table["sTypoLineGap"] * scale
    else:
        ascent, descent, gap = font.ascender * scale, -font.descender * scale, 0.0
    lines = text.split("\n")
    if len(lines) == 1:
        gap = 0.0
    width = height = d = 0.0
    for line in lines:
        w, h, d = text_to_path.get_text_width_height_descent(line, prop, ismath=False)
        width = max(width, w)
        a = max(h - d, ascent) + gap / 2
        d = max(d, descent) + gap / 2
        height += a + d
    return width * _PT, height * _PT, d * _PT


def legend_width(legend: Any) -> float:
    """Width in inches of a one-column legend, with the pad between it and its anchor.

    Parameters
    ----------
    legend : matplotlib.legend.Legend

    Returns
    -------
    float
        Inches: the widest label, the handle, the pads and the pad to the anchor.
    """
    fs = legend.prop.get_size_in_points()
    texts = [t.get_text() for t in legend.get_texts()]
    widest = max((_hinted(text_size(t, fs)[0]) for t in texts), default=0.0)
    pads = legend.borderaxespad + 2 * legend.borderpad + legend.handlelength + legend.handletextpad
    return pads * fs * _PT + widest


def _tick_extents(axis: Any, length: float) -> list[tuple[float, float, float, float]]:
    """Each tick label drawn on ``axis`` (an axes side ``length`` inches long): its place
    along the side (inches from the start) and the room its rotated text takes before and
    after that place, and across the side; as matplotlib's ``Axis._update_ticks`` picks them."""
    tick = axis.get_major_ticks(1)[0]
    label = tick.label1
    locs = np.asarray(axis.get_major_locator()(), dtype=float)
    texts = axis.get_major_formatter().format_ticks(locs)
    start, end = axis.get_transform().transform(axis.get_view_interval())  # inverted: end < start
    lo, hi = sorted((start, end))
    span = (end - start) or 1.0
    rot = math.radians(label.get_rotation())
    cos, sin = abs(math.cos(rot)), abs(math.sin(rot))
    align = label.get_horizontalalignment()
    out = []
    for loc, text in zip(axis.get_transform().transform(locs), texts):
        if not text or not lo - abs(span) * 1e-10 <= loc <= hi + abs(span) * 1e-10:
            continue
        w, h, _ = text_size(text, label.get_fontsize(), weight=label.get_fontweight())
        w, h = _hinted(w), _hinted_height(h, text)
        along, across = w * cos + h * sin, w * sin + h * cos  # the rotated box
        if axis.axis_name == "y":
            along, across = across, along
            before = after = along / 2
        elif align == "right":
            before, after = along, 0.0
        elif align == "left":
            before, after = 0.0, along
        else:
            before = after = along / 2
        out.append(((loc - start) / span * length, before, after, across))
    return out


def fixed_layout(
    fig: Any, *, left: float = 0.0, right: float = 0.0, top: float = 0.0, bottom: float = 0.0
) -> None:
    """Place the only axes of ``fig`` by fixed margins worked out from its texts' font
    metrics, and turn the figure's layout engine off.

    A figure with ``layout="constrained"`` (as :func:`new_figure` makes) is laid out and
    drawn an extra time when saved; laid out here, it is drawn once. The margins make room
    for the tick labels (rotated or not), the axis labels and the title with its pad, at
    the axes' final size (worked out twice, as the ticks depend on that size), and 4
    points at the figure's edges.

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure of one axes, already drawn on (its ticks, labels and title set).
    left, right, top, bottom : float
        The least room (inches) to leave beyond each side of the axes, for what sits
        outside them and is not looked at here: a legend beside the axes (see
        :func:`legend_width`), texts drawn beyond their edges.

    Raises
    ------
    ValueError
        If the figure has more or fewer axes than one.
    """
    import matplotlib as mpl

    if len(fig.axes) != 1:
        raise ValueError(f"fixed_layout lays out a figure of one axes, not {len(fig.axes)}")
    (ax,) = fig.axes
    width, height = fig.get_size_inches()
    with mpl.rc_context({"figure.autolayout": False, "figure.constrained_layout.use": False}):
        fig.set_layout_engine(None)
    for _ in range(2):  # the ticks depend on the axes' size: once more at the new size
        pos = ax.get_position()
        margins = _margins(ax, pos.width * width, pos.height * height, fig.dpi)
        lm, rm, tm, bm = (max(m, e) + _EDGE for m, e in zip(margins, (left, right, top, bottom)))
        ax.set_position((lm / width, bm / height, (width - lm - rm) / width,
                         (height - tm - bm) / height))  # fmt: skip


def _margins(ax: Any, w: float, h: float, dpi: float) -> tuple[float, float, float, float]:
    """Room (inches) left, right, above and below an axes ``w`` by ``h`` inches."""

    def label_room(axis: Any) -> float:
        text = axis.label.get_text()
        if not text:
            return 0.0
        return _hinted_height(text_size(text, axis.label.get_fontsize())[1], text) + (
            axis.labelpad * _PT
        )

    def offset_room(axis: Any) -> float:
        offset = getattr(axis.get_major_formatter(), "get_offset", lambda: "")()
        return text_size(offset, axis.get_offset_text().get_fontsize())[1] if offset else 0.0

    room_x = ax.xaxis.get_tick_padding() * _PT + ax.xaxis.get_major_ticks(1)[0].get_pad() * _PT
    room_y = ax.yaxis.get_tick_padding() * _PT + ax.yaxis.get_major_ticks(1)[0].get_pad() * _PT
    xt, yt = _tick_extents(ax.xaxis, w), _tick_extents(ax.yaxis, h)
    # below: tick labels, then the axis label; beside: the same for y
    bottom = (room_x + max((t[3] for t in xt), default=0.0) + label_room(ax.xaxis)
              + offset_room(ax.xaxis))  # fmt: skip
    left = room_y + max((t[3] for t in yt), default=0.0) + label_room(ax.yaxis)
    # x tick labels beyond the axes' ends, y tick labels above its top
    left = max([left] + [t[1] - t[0] for t in xt])
    right = max([0.0] + [t[0] + t[2] - w for t in xt])
    top = max([0.0] + [t[0] + t[2] - h for t in yt]) + offset_room(ax.yaxis)
    title = ax.title.get_text()
    if title:
        tw, th, below = text_size(title, ax.title.get_fontsize(), weight=ax.title.get_fontweight())
        pad = ax.titleOffsetTrans.get_matrix()[1, 2] / dpi  # the title's pad, inches
        top = max(top, pad + _hinted_height(th, title) - below)  # last baseline at the pad
        over = (_hinted(tw) - w) / 2  # a title wider than the axes, centred over them
        left, right = max(left, over), max(right, over)
    return left, right, top, bottom
