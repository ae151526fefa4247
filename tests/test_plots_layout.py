"""Figures laid out by fixed margins (evalkit.plots.style.fixed_layout): drawn once when saved,
nothing clipped or overlapping, about the room constrained layout would give the axes."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from evalkit.plots.designs import effect_plot, love_plot, prepost_plot
from evalkit.plots.style import fixed_layout, legend_width, new_figure, text_size

ROOT = Path(__file__).resolve().parents[1]


def extents(fig: Figure, dpi: float) -> dict:
    """The drawn boxes (pixels) of the axes and its texts, at ``dpi``."""
    fig.set_dpi(dpi)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    (ax,) = fig.axes

    def box(texts):
        shown = [t for t in texts if t.get_visible() and t.get_text()]
        return [t.get_window_extent(renderer) for t in shown]

    def drawn(axis):  # the tick labels of the ticks inside the view, as matplotlib draws
        lo, hi = sorted(axis.get_view_interval())
        tol = (hi - lo) * 1e-9
        return [t.label1 for t in axis.get_major_ticks() if lo - tol <= t.get_loc() <= hi + tol]

    legend = ax.get_legend()
    return {
        "axes": ax.get_window_extent(renderer),
        "xticks": box(drawn(ax.xaxis)),
        "yticks": box(drawn(ax.yaxis)),
        "xlabel": box([ax.xaxis.label]),
        "ylabel": box([ax.yaxis.label]),
        "title": box([ax.title]),
        "legend": [legend.get_window_extent(renderer)] if legend is not None else [],
        "texts": box(ax.texts),
        "figure": fig.bbox,
    }


def assert_laid_out(fig: Figure, dpi: float = 110) -> None:
    """Every text inside the figure; tick labels, axis labels and title clear of the axes
    and of each other."""
    e = extents(fig, dpi)
    ax, whole, tol = e["axes"], e["figure"], 0.5
    for kind in ("xticks", "yticks", "xlabel", "ylabel", "title", "legend", "texts"):
        for b in e[kind]:
            assert b.x0 >= -tol and b.y0 >= -tol, (kind, b)
            assert b.x1 <= whole.x1 + tol and b.y1 <= whole.y1 + tol, (kind, b)
    for b in e["xticks"]:
        assert b.y1 <= ax.y0 + tol, b
    for b in e["yticks"]:
        assert b.x1 <= ax.x0 + tol, b
    for t in e["title"]:
        assert t.y0 >= ax.y1 - tol
    for lab in e["xlabel"]:
        assert all(lab.y1 <= b.y0 + tol for b in e["xticks"])
    for lab in e["ylabel"]:
        assert all(lab.x1 <= b.x0 + tol for b in e["yticks"])


def assert_room_like_constrained(make, **room) -> None:
    """The axes get at least 90% of the area constrained layout gives them."""
    fig = make()
    fixed_layout(fig, **room)
    fixed = fig.axes[0].get_position()
    other = make()
    other.set_dpi(110)
    other.get_layout_engine().execute(other)
    constrained = other.axes[0].get_position()
    assert fixed.width * fixed.height >= 0.9 * constrained.width * constrained.height


def draws_on_save(fig: Figure, monkeypatch) -> int:
    calls = []
    original = Figure.draw

    def counted(self, renderer):
        calls.append(renderer)
        return original(self, renderer)

    monkeypatch.setattr(Figure, "draw", counted)
    fig.savefig(io.BytesIO(), format="png", dpi=110)
    monkeypatch.setattr(Figure, "draw", original)
    return len(calls)


def rotated() -> Figure:
    fig, ax = new_figure(figsize=(7.0, 3.8))
    x = np.arange(48)
    ax.plot(x, np.sin(x / 5), label="a line")
    ax.set_xticks(x[::6], [f"2019-{m:02d} month" for m in range(1, 9)], rotation=30, ha="right")
    ax.set_ylabel("rate")
    ax.set_title("A title\nover two lines")
    ax.legend(loc="best")
    return fig


def inverted() -> Figure:
    fig, ax = new_figure(figsize=(7.0, 4.0))
    y = np.arange(6)
    ax.barh(y, [1, 2, 3, 2, 1, 4])
    ax.set_yticks(y, ["Leaders and the wider community", "b", "c", "d", "e", "f"])
    ax.invert_yaxis()
    ax.set_xticks([1, 2, 3, 4, 5], ["1\nbasic", "2\nearly", "3", "4", "5\nmature"])
    ax.set_xlim(0, 5.1)
    ax.set_xlabel("Level")
    ax.set_title("Title with a pad", pad=28)
    return fig


def beside() -> Figure:
    fig, ax = new_figure(figsize=(7.0, 4.5))
    ax.plot([0, 4000], [40, 70], label="lower than expected (99.8% limits)")
    ax.scatter([3900], [69], s=160, label="this area")
    ax.set_xlim(left=0)
    ax.set(xlabel="denominator (n)", ylabel="value (%)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
    return fig


FIGURES = {
    "effect, two rows": lambda: effect_plot(["unadjusted", "adjusted"], [-1.2, -1.6],
                                            [-3.0, -3.0], [2.3, -1.1], title="Difference"),
    "effect, one row": lambda: effect_plot(["treatment effect"], [-0.97], [-2.1], [0.18],
                                           title="Random-intercept model, 6 groups"),
    "love": lambda: love_plot(pd.DataFrame({"smd_before": [0.59, 0.02, -0.18],
                                            "smd_after": [0.43, 0.08, 0.14]},
                                           index=["propensity score", "EPDS before",
                                                  "mother_age"])),
    "prepost": lambda: prepost_plot(SimpleNamespace(level=0.95, n=40, mean_pre=8.2,
                                                    mean_post=6.7, sd_pre=5.0, sd_post=4.4,
                                                    estimate=-1.52, ci_low=-2.89,
                                                    ci_high=-0.147)),
    "rotated ticks, two-line title": rotated,
    "inverted, two-line ticks, padded title": inverted,
}  # fmt: skip


@pytest.mark.parametrize("name", list(FIGURES))
def test_fixed_layout_clips_and_overlaps_nothing(name):
    fig = FIGURES[name]()
    fixed_layout(fig)
    assert fig.get_layout_engine() is None
    for dpi in (100, 110, 200):
        assert_laid_out(fig, dpi)
    assert_room_like_constrained(FIGURES[name])


def test_legend_beside_the_axes():
    fig = beside()
    legend = fig.axes[0].get_legend()
    fixed_layout(fig, right=legend_width(legend) + 0.01 * fig.get_figwidth())
    assert_laid_out(fig)
    e = extents(fig, 110)
    assert e["legend"][0].x1 <= e["figure"].x1
    assert_room_like_constrained(beside, right=legend_width(beside().axes[0].get_legend()) + 0.07)


def test_saved_once_not_twice(monkeypatch):
    fig = rotated()
    assert draws_on_save(fig, monkeypatch) == 2  # constrained layout: a draw to lay it out
    fig = rotated()
    fixed_layout(fig)
    assert draws_on_save(fig, monkeypatch) == 1


def test_new_figure_still_constrained_by_default():
    fig, _ = new_figure()
    assert fig.get_layout_engine() is not None
    assert type(fig.get_layout_engine()).__name__ == "ConstrainedLayoutEngine"


def test_fixed_layout_wants_one_axes():
    fig = Figure()
    fig.add_subplot(121)
    fig.add_subplot(122)
    with pytest.raises(ValueError, match="one axes"):
        fixed_layout(fig)


@pytest.mark.parametrize("text", ["difference", "Leaders and the wider community", "−2.0",
                                  "1\nbasic", "A title\nover two lines"])  # fmt: skip
@pytest.mark.parametrize("size", [8, 10, 11])
def test_text_size_is_what_matplotlib_draws(text, size):
    fig, ax = new_figure()
    t = ax.text(0, 0, text, fontsize=size)
    renderer = FigureCanvasAgg(fig).get_renderer()
    b = t.get_window_extent(renderer)
    w, h, d = text_size(text, size)
    assert w * fig.dpi == pytest.approx(b.width, rel=0.05)
    lines = text.count("\n") + 1  # hinted glyphs can rise up to about 0.4 pt above the font's
    assert h * fig.dpi == pytest.approx(b.height, abs=0.5 / 72 * fig.dpi * lines)  # ascent
    assert 0 < d < h


# -- the area report's figures ---------------------------------------------------------------


@pytest.mark.parametrize("area", ["A01", "A02", "A03", "A05"])  # each design
def test_area_report_figures_are_drawn_once_and_clear(area, monkeypatch):
    import yaml

    from evalkit.reports import page
    from evalkit.reports import sections as S

    p = yaml.safe_load((ROOT / f"data/demo/params/{area}.yaml").read_text())
    for k in ("records", "indicators", "matrix"):
        p[k] = str(ROOT / p[k]) if p.get(k) else ""
    a = S.analyse(p)
    figures = []
    original = page.figure

    def keep(fig, *args, **kwargs):
        figures.append(fig)
        return original(fig, *args, **kwargs)

    monkeypatch.setattr(page, "figure", keep)
    for name in ("outcomes", "indicators", "maturity_matrix", "implementation"):
        getattr(S, name)(a)
    assert len(figures) >= 4  # the effect, funnel, time series, matrix (and the dose)
    for fig in figures:
        assert fig.get_layout_engine() is None
        assert_laid_out(fig)
