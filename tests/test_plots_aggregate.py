"""Figures draw aggregates only (issue 11 item 3)."""

from __future__ import annotations

import numpy as np

from evalkit.plots.designs import safe_bin_edges, support_plot


def test_support_plot_bins_hold_no_small_counts():
    rng = np.random.default_rng(3)
    ps = np.concatenate([rng.beta(5, 2, 60), rng.beta(2, 5, 45), [0.01, 0.99]])
    treat = np.r_[np.ones(60), np.zeros(45), [1, 0]]
    fig = support_plot(ps, treat, threshold=10)
    ax = fig.axes[0]
    patches = [p for p in ax.patches]
    assert patches  # both groups drawn
    edges = safe_bin_edges([ps[treat == 1], ps[treat == 0]], 10)
    for g in (ps[treat == 1], ps[treat == 0]):
        counts = np.histogram(g, bins=edges)[0]
        assert np.all((counts == 0) | (counts >= 10))


def test_support_plot_leaves_out_a_tiny_group():
    ps = np.r_[np.linspace(0.2, 0.8, 30), [0.3, 0.5, 0.6]]
    treat = np.r_[np.ones(30), np.zeros(3)]
    ax = support_plot(ps, treat, threshold=10).axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["treated"]
