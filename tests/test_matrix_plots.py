"""Maturity-matrix pictures: they draw what the profile says."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from evalkit import matrix
from evalkit.errors import ParameterError
from evalkit.plots.matrix import plot_heatmap, plot_profile

ELEMENTS = matrix.load_framework().element_ids


@pytest.fixture
def ratings():
    rng = np.random.default_rng(11)
    rows = []
    for a in ["North", "South", "East"]:
        for p in ["HV", "EY", "MW"]:
            for e in ELEMENTS:
                if a == "East" and e == "governance":
                    continue  # nobody rated it
                rows.append(
                    {
                        "area": a,
                        "partner": p,
                        "element": e,
                        "level": int(rng.integers(1, 6)),
                        "date": "2024-03-01",
                    }
                )
    return pd.DataFrame(rows)


def test_bar_profile_draws_the_means(ratings):
    fig = plot_profile(ratings, area="North")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    prof = matrix.profile(ratings, area="North").query("scope == 'element'")
    assert widths == pytest.approx(prof["mean"].tolist())
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels[0] == "Strategy" and labels[-1] == "Using and generating evidence"
    assert "North" in ax.get_title()


def test_profile_input_and_unrated_elements(ratings):
    prof = matrix.profile(ratings, date="all")
    fig = plot_profile(prof, area="East")
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["not rated"]


def test_radar_profile(ratings):
    fig = plot_profile(ratings, area="South", kind="radar")
    ax = fig.axes[0]
    assert ax.name == "polar"
    line = ax.lines[0]
    prof = matrix.profile(ratings, area="South").query("scope == 'element'")
    assert line.get_ydata()[:-1] == pytest.approx(prof["mean"].tolist())
    from matplotlib.figure import Figure as F

    other = F().add_subplot()
    with pytest.raises(ParameterError, match="polar"):
        plot_profile(ratings, area="South", kind="radar", ax=other)


def test_profile_errors(ratings):
    with pytest.raises(ParameterError, match="several areas"):
        plot_profile(matrix.profile(ratings))
    with pytest.raises(ParameterError):
        plot_profile(ratings, area="North", kind="pie")
    with pytest.raises(ParameterError, match="no area"):
        plot_profile(matrix.profile(ratings), area="West")


def test_heatmap_cells_are_the_means(ratings):
    fig = plot_heatmap(ratings)
    ax = fig.axes[0]
    data = ax.images[0].get_array()
    prof = matrix.profile(ratings).query("scope == 'element'")
    expected = prof.pivot(index="area", columns="element", values="mean")[ELEMENTS].sort_index()
    assert data.shape == (3, 9)
    assert np.ma.getdata(data)[~np.ma.getmaskarray(data)] == pytest.approx(
        expected.to_numpy()[~np.isnan(expected.to_numpy())]
    )
    assert np.ma.getmaskarray(data)[0, ELEMENTS.index("governance")]  # East, not rated
    assert [t.get_text() for t in ax.get_yticklabels()] == ["East", "North", "South"]
    assert ax.images[0].get_clim() == (1, 5)
    assert len(ax.texts) == 27


def test_heatmap_dimensions_and_given_axes(ratings):
    from matplotlib.figure import Figure as F

    fig = F()
    ax = fig.add_subplot()
    out = plot_heatmap(matrix.profile(ratings), scope="dimension", ax=ax, annotate=False)
    assert out is fig and ax.images[0].get_array().shape == (3, 4)
    assert len(ax.texts) == 0
    with pytest.raises(ParameterError):
        plot_heatmap(ratings, scope="partner")
