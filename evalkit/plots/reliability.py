"""Pictures for reliability results: Bland–Altman, reliable change, bootstrap alpha.

Called lazily from the results' ``.plot(ax=None)``; each returns a matplotlib Figure built
without pyplot (see :func:`evalkit.plots.style.new_figure`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .style import PALETTE, new_figure

__all__ = ["plot_bland_altman", "plot_reliable_change", "plot_alpha"]


def plot_bland_altman(res: Any, ax: Any = None) -> Any:
    """Differences against means, with the bias and limits of agreement and their intervals."""
    fig, ax = new_figure(ax)
    ax.scatter(res.means, res.differences, s=18, color=PALETTE["blue"], alpha=0.7, label="people")
    lines = [
        (res.estimate, res.ci_low, res.ci_high, PALETTE["black"], f"bias {res.estimate:.3g}"),
        (
            res.loa_low,
            res.loa_low_ci_low,
            res.loa_low_ci_high,
            PALETTE["vermillion"],
            f"limits of agreement {res.loa_low:.3g} to {res.loa_high:.3g}",
        ),
        (res.loa_high, res.loa_high_ci_low, res.loa_high_ci_high, PALETTE["vermillion"], None),
    ]
    for value, lo, hi, colour, label in lines:
        ax.axhline(
            value,
            color=colour,
            linestyle="--" if label is None or "limits" in label else "-",
            linewidth=1.2,
            label=label,
        )
        ax.axhspan(lo, hi, color=colour, alpha=0.08, linewidth=0)
    ax.axhline(0.0, color=PALETTE["grey"], linewidth=0.8)
    ax.set_xlabel("mean of the two measurements")
    ax.set_ylabel("difference (a − b)")
    ax.set_title("Bland–Altman plot")
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_reliable_change(res: Any, ax: Any = None) -> Any:
    """Post against pre scores: points outside the band changed reliably."""
    fig, ax = new_figure(ax, figsize=(5.0, 5.0))
    t = res.table
    colours = {
        "reliably improved": PALETTE["green"],
        "no reliable change": PALETTE["grey"],
        "reliably deteriorated": PALETTE["vermillion"],
    }
    for cls, colour in colours.items():
        sub = t[t["change_class"] == cls]
        ax.scatter(sub["pre"], sub["post"], s=18, color=colour, label=f"{cls} ({len(sub)})")
    both = np.concatenate([t["pre"].to_numpy(), t["post"].to_numpy()])
    both = both[np.isfinite(both)]
    if both.size:
        lo, hi = both.min(), both.max()
        grid = np.array([lo, hi])
        ax.plot(grid, grid, color=PALETTE["black"], linewidth=0.8)
        ax.fill_between(
            grid,
            grid - res.threshold,
            grid + res.threshold,
            color=PALETTE["grey"],
            alpha=0.15,
            linewidth=0,
            label="no reliable change band",
        )
        if res.cutoff is not None:
            ax.axhline(res.cutoff, color=PALETTE["blue"], linestyle=":", label="cut-off")
            ax.axvline(res.cutoff, color=PALETTE["blue"], linestyle=":")
    ax.set_xlabel("score before")
    ax.set_ylabel("score after")
    ax.set_title("Reliable change")
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_alpha(res: Any, ax: Any = None) -> Any:
    """Alpha with its interval; with a bootstrap, the distribution of the resampled alphas."""
    fig, ax = new_figure(ax)
    if res.boot is not None:
        boot = res.boot[np.isfinite(res.boot)]
        ax.hist(boot, bins=40, color=PALETTE["sky"], alpha=0.8)
        ax.set_ylabel("bootstrap resamples")
    ax.axvline(res.estimate, color=PALETTE["black"], label=f"alpha {res.estimate:.3f}")
    ax.axvspan(
        res.ci_low,
        res.ci_high,
        color=PALETTE["orange"],
        alpha=0.2,
        label=f"{res.level:.0%} interval ({res.ci})",
    )
    ax.set_xlabel("Cronbach's alpha")
    ax.set_title("Cronbach's alpha")
    ax.legend(loc="best", fontsize=8)
    return fig


def plot_pooled_alpha(res: Any, ax: Any = None) -> Any:
    """Forest plot of Cronbach's alpha by study, with the pooled alpha and its intervals.

    With more than :data:`evalkit.plots.meta.COMPACT_ROWS` studies it is drawn compact (rows
    0.2 inch apart instead of 0.32, smaller markers and labels, a margin of one row above and
    below instead of 5% of the range, the x axis repeated on top and the legend at the foot):
    the same studies and numbers.
    """
    import numpy as np

    from .meta import _ROW_INCHES, COMPACT_ROWS

    studies = res.studies
    k = len(studies)
    compact = k > COMPACT_ROWS
    fig, ax = new_figure(ax, figsize=(6.4, _ROW_INCHES[compact] * k + 1.6))
    y = np.arange(k, 0, -1) + 1.0
    ax.errorbar(
        studies["alpha"],
        y,
        xerr=[studies["alpha"] - studies["ci_low"], studies["ci_high"] - studies["alpha"]],
        fmt="s",
        color=PALETTE["blue"],
        ecolor=PALETTE["black"],
        capsize=1.5 if compact else 2,
        markersize=3.5 if compact else 5,
    )
    ax.errorbar(
        [res.estimate],
        [0.5],
        xerr=[[res.estimate - res.ci_low], [res.ci_high - res.estimate]],
        fmt="D",
        color=PALETTE["vermillion"],
        capsize=3,
        markersize=8,
        label=f"pooled {res.estimate:.2f} ({res.ci_low:.2f} to {res.ci_high:.2f})",
    )
    ax.hlines(
        0.5,
        res.pi_low,
        res.pi_high,
        color=PALETTE["orange"],
        linewidth=1.5,
        label="95% prediction interval",
    )
    ax.set_yticks([*y, 0.5], [*map(str, studies.index), "Pooled"])
    ax.set_xlabel("Cronbach's alpha")
    ax.grid(axis="y", visible=False)
    if compact:
        ax.set_ylim(-0.5, k + 2.0)  # one row of margin (5% of 175 rows would be 9 blank rows)
        ax.tick_params(axis="y", labelsize=8)
        ax.tick_params(axis="x", top=True, labeltop=True)  # the scale at both ends
        # the legend under the axis label, next to the pooled row (the top holds the scale)
        fig.legend(*ax.get_legend_handles_labels(), loc="outside lower left", fontsize=8)
    else:
        ax.legend(loc="lower left", bbox_to_anchor=(0, 1.0), ncol=1, fontsize=8)
    return fig
