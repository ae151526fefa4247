"""Pictures for the individual-level designs: pre–post, effect, love and overlap plots.

They draw aggregates (means with intervals, binned distributions), never individual people.

Each function takes a result and an optional matplotlib axes and returns the Figure
(built without pyplot; see :func:`evalkit.plots.style.new_figure`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .style import PALETTE, new_figure

__all__ = ["prepost_plot", "effect_plot", "love_plot", "support_plot", "safe_bin_edges"]


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


def safe_bin_edges(groups: list[np.ndarray], threshold: int, fine: int = 30) -> np.ndarray:
    """Bin edges on [0, 1] such that no group has from 1 to ``threshold - 1`` people in a bin.

    Starts from ``fine`` equal bins and merges neighbours, left to right, until every group's
    count in each bin is 0 or at least ``threshold``; a short last bin joins the one before.
    """
    edges = np.linspace(0, 1, fine + 1)
    counts = np.array([np.histogram(g, bins=edges)[0] for g in groups])

    def ok(c: np.ndarray) -> bool:
        return bool(np.all((c == 0) | (c >= threshold)))

    keep = [0]
    acc = np.zeros(len(groups), dtype=int)
    for j in range(fine):
        acc = acc + counts[:, j]
        if ok(acc) and acc.any():
            keep.append(j + 1)
            acc = np.zeros(len(groups), dtype=int)
    if keep[-1] != fine:
        keep.append(fine)
    cuts = [edges[k] for k in keep]
    while len(cuts) > 2:
        last = np.array([np.histogram(g, bins=cuts[-2:])[0][0] for g in groups])
        if ok(last):
            break
        del cuts[-2]
    return np.asarray(cuts)


def support_plot(ps: np.ndarray, treat: np.ndarray, ax: Any = None, *, threshold: int = 10) -> Any:
    """Distributions of the propensity score in each group (common support), binned safely.

    Bins are merged until none holds from 1 to ``threshold - 1`` people of either group, and
    heights are densities (people per unit of score, as a share of the group), so wider
    bins are not taller for being wide. A group with fewer than ``threshold`` people is not
    drawn.
    """
    fig, ax = new_figure(ax)
    ps, treat = np.asarray(ps, dtype=float), np.asarray(treat)
    groups = [ps[treat == 1], ps[treat == 0]]
    drawable = [g for g in groups if len(g) >= threshold]
    edges = safe_bin_edges(drawable, threshold) if drawable else np.array([0.0, 1.0])
    for g, colour, label in zip(groups, ("blue", "orange"), ("treated", "comparison")):
        if len(g) < threshold:
            continue
        counts = np.histogram(g, bins=edges)[0]
        ax.stairs(counts / (len(g) * np.diff(edges)), edges, fill=True, alpha=0.6,
                  color=PALETTE[colour], label=label)  # fmt: skip
    ax.set_xlabel("propensity score")
    ax.set_ylabel("density")
    ax.set_title("Overlap of propensity scores")
    if drawable:
        ax.legend()
    return fig
