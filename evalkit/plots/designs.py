"""Pictures for the individual-level designs: pre–post, effect, love and overlap plots.

They draw aggregates (means with intervals, binned distributions), never individual people.

Each function takes a result and an optional matplotlib axes and returns the Figure
(built without pyplot; see :func:`evalkit.plots.style.new_figure`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .style import PALETTE, new_figure

__all__ = ["prepost_plot", "effect_plot", "love_plot", "support_plot"]


def prepost_plot(res: Any, ax: Any = None) -> Any:
    """Mean score before and after, each with its confidence interval (aggregates only).

    No person is drawn: the figure shows the two group means and their ``res.level``
    intervals (``mean ± t(n − 1) · sd / √n``), joined by a line. The title gives the mean
    change and its interval, not the number of people (a report publishes counts through
    its disclosure register).
    """
    from scipy import stats

    fig, ax = new_figure(ax, figsize=(4.8, 4.0))
    q = stats.t.ppf(0.5 + res.level / 2, res.n - 1)
    means = [res.mean_pre, res.mean_post]
    half = [q * res.sd_pre / np.sqrt(res.n), q * res.sd_post / np.sqrt(res.n)]
    ax.errorbar(
        [0, 1],
        means,
        yerr=half,
        color=PALETTE["blue"],
        marker="o",
        linewidth=2,
        capsize=4,
        label=f"mean with {res.level:.0%} CI",
    )
    ax.set_xticks([0, 1], ["before", "after"])
    ax.set_xlim(-0.3, 1.3)
    ax.set_ylabel("mean score")
    ax.set_title(
        f"Mean change {res.estimate:+.3g} ({res.level:.0%} CI {res.ci_low:.3g} to "
        f"{res.ci_high:.3g})"
    )
    ax.legend(loc="best")
    return fig


def effect_plot(
    terms: list[str],
    estimates: list[float],
    lows: list[float],
    highs: list[float],
    ax: Any = None,
    *,
    xlabel: str = "difference (treated − comparison)",
    title: str = "",
) -> Any:
    """Point estimates with intervals, one row per term, and a line at zero."""
    fig, ax = new_figure(ax, figsize=(6.0, 0.45 * len(terms) + 1.3))
    y = np.arange(len(terms))[::-1]
    ax.set_ylim(-0.6, len(terms) - 0.4)  # rows evenly spaced, no empty band between them
    est = np.asarray(estimates, dtype=float)
    ax.errorbar(
        est,
        y,
        xerr=[est - np.asarray(lows), np.asarray(highs) - est],
        fmt="o",
        color=PALETTE["blue"],
        capsize=4,
    )
    ax.axvline(0, color=PALETTE["grey"], linewidth=1)
    ax.set_yticks(y, terms)
    ax.set_xlabel(xlabel)
    if title:
        ax.set_title(title)
    return fig


def love_plot(balance: Any, ax: Any = None, *, threshold: float = 0.1) -> Any:
    """Absolute standardised mean differences before and after adjustment (a love plot)."""
    fig, ax = new_figure(ax, figsize=(6.0, 0.35 * len(balance) + 1.6))
    y = np.arange(len(balance))[::-1]
    ax.scatter(
        balance["smd_before"].abs(), y, color=PALETTE["vermillion"], marker="o", label="before"
    )
    ax.scatter(balance["smd_after"].abs(), y, color=PALETTE["blue"], marker="s", label="after")
    ax.axvline(threshold, color=PALETTE["grey"], linestyle="--", linewidth=1)
    ax.set_yticks(y, [str(i) for i in balance.index])
    ax.set_xlabel("absolute standardised mean difference")
    ax.set_title("Covariate balance")
    ax.legend(loc="lower right")
    return fig


def support_plot(ps: np.ndarray, treat: np.ndarray, ax: Any = None) -> Any:
    """Histograms of the propensity score in each group (common support)."""
    fig, ax = new_figure(ax)
    bins = np.linspace(0, 1, 31)
    ax.hist(ps[treat == 1], bins=bins, alpha=0.6, color=PALETTE["blue"], label="treated")
    ax.hist(ps[treat == 0], bins=bins, alpha=0.6, color=PALETTE["orange"], label="comparison")
    ax.set_xlabel("propensity score")
    ax.set_ylabel("people")
    ax.set_title("Overlap of propensity scores")
    ax.legend()
    return fig
