"""Pictures of descriptive summaries."""

from __future__ import annotations

from typing import Any

import pandas as pd

from .style import CYCLE, new_figure

__all__ = ["prepost_means"]


def prepost_means(summary: pd.DataFrame, *, ylabel: str = "Mean score", ax: Any = None) -> Any:
    """Mean before and after with 95% intervals, one line per group.

    ``summary`` has one row per group and columns ``mean_pre, mean_post,
    ci_low_pre, ci_high_pre, ci_low_post, ci_high_post``.
    """
    fig, ax = new_figure(ax, figsize=(5.6, 3.4))
    for i, (group, row) in enumerate(summary.iterrows()):
        colour = CYCLE[i % len(CYCLE)]
        x = [0 + 0.04 * i, 1 + 0.04 * i]
        y = [row["mean_pre"], row["mean_post"]]
        low = [row["mean_pre"] - row["ci_low_pre"], row["mean_post"] - row["ci_low_post"]]
        high = [row["ci_high_pre"] - row["mean_pre"], row["ci_high_post"] - row["mean_post"]]
        ax.errorbar(
            x,
            y,
            yerr=[low, high],
            marker="o",
            capsize=4,
            color=colour,
            label=str(group),
            linestyle="-" if i == 0 else "--",
        )
    ax.set_xticks([0, 1], ["Before", "After"])
    ax.set_xlim(-0.4, 1.5)
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")
    return fig
