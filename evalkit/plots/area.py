"""Pictures for the area-level designs: event study, interrupted time series, synthetic control.

Each function takes a result and an optional matplotlib axes and returns the Figure
(built without pyplot; see :func:`evalkit.plots.style.new_figure`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .style import PALETTE, new_figure

__all__ = ["event_study_plot", "its_plot", "synth_gap_plot", "synth_path_plot"]


def event_study_plot(res: Any, ax: Any = None) -> Any:
    """Effects by periods since treatment with pointwise confidence intervals.

    Pre-treatment estimates (grey) should sit around zero if trends were parallel.
    """
    fig, ax = new_figure(ax, figsize=(6.4, 3.8))
    es = res.event_study
    pre = es["event_time"] < 0
    for mask, colour, label in (
        (pre, PALETTE["grey"], "before treatment"),
        (~pre, PALETTE["blue"], "after treatment"),
    ):
        part = es[mask]
        if len(part):
            ax.errorbar(
                part["event_time"],
                part["estimate"],
                yerr=[part["estimate"] - part["ci_low"], part["ci_high"] - part["estimate"]],
                fmt="o",
                color=colour,
                capsize=3,
                label=label,
            )
    ax.axhline(0, color=PALETTE["black"], linewidth=0.8)
    ax.axvline(-0.5, color=PALETTE["grey"], linestyle=":", linewidth=1)
    ax.set_xlabel("periods since treatment started")
    ax.set_ylabel("effect on the outcome")
    title = f"Average effect {res.estimate:.3g} ({res.level:.0%} CI {res.ci_low:.3g} to {res.ci_high:.3g})"
    if np.isfinite(res.pretrend_p):
        title += f"\npre-trend test p = {res.pretrend_p:.3g}"
    ax.set_title(title)
    ax.legend(loc="best")
    return fig


def its_plot(res: Any, ax: Any = None) -> Any:
    """Observed series (points), fitted segments (lines) and the counterfactual (dashed)."""
    fig, ax = new_figure(ax, figsize=(7.0, 3.8))
    s = res.series
    x = np.arange(len(s))
    post = s["post"].to_numpy()
    ax.plot(x, s["observed"], "o", color=PALETTE["grey"], markersize=3.5, label="observed")
    ax.plot(x[~post], s["fitted"][~post], color=PALETTE["blue"], linewidth=2, label="fitted")
    ax.plot(x[post], s["fitted"][post], color=PALETTE["blue"], linewidth=2)
    ax.plot(
        x[post],
        s["counterfactual"][post],
        color=PALETTE["orange"],
        linestyle="--",
        linewidth=2,
        label="expected without the change",
    )
    first_post = int(np.argmax(post))
    ax.axvline(first_post - 0.5, color=PALETTE["black"], linestyle=":", linewidth=1)
    labels = [str(v) for v in s["time"]]
    step = max(1, len(x) // 8)
    ax.set_xticks(x[::step], labels[::step], rotation=30, ha="right")
    ax.set_ylabel("rate" if res.family != "gaussian" else "outcome")
    lc = res.level_change
    ax.set_title(
        f"Level change {lc.estimate:.3g} ({lc.scale}; {lc.level:.0%} CI "
        f"{lc.ci_low:.3g} to {lc.ci_high:.3g})"
    )
    ax.legend(loc="best")
    return fig


def synth_gap_plot(res: Any, ax: Any = None) -> Any:
    """Gap between each unit and its synthetic control; the treated unit in colour."""
    fig, ax = new_figure(ax, figsize=(6.4, 3.8))
    gaps = res.placebo_gaps
    x = np.arange(len(gaps))
    for col in gaps.columns:
        if col != res.treated:
            ax.plot(x, gaps[col], color=PALETTE["grey"], alpha=0.4, linewidth=0.8)
    ax.plot(
        x,
        gaps[res.treated],
        color=PALETTE["vermillion"],
        linewidth=2,
        label=f"{res.treated} (treated)",
    )
    if len(gaps.columns) > 1:
        ax.plot([], [], color=PALETTE["grey"], alpha=0.6, label="placebo areas")
    ax.axhline(0, color=PALETTE["black"], linewidth=0.8)
    ax.axvline(res.n_pre - 0.5, color=PALETTE["black"], linestyle=":", linewidth=1)
    _time_ticks(ax, x, list(gaps.index))
    ax.set_ylabel("gap (area minus synthetic)")
    ax.set_title(f"Mean gap after the change {res.estimate:.3g}; permutation p = {res.p:.3g}")
    ax.legend(loc="best")
    return fig


def synth_path_plot(res: Any, ax: Any = None) -> Any:
    """The treated unit's outcome and its synthetic control over time."""
    fig, ax = new_figure(ax, figsize=(6.4, 3.8))
    paths = res.paths
    x = np.arange(len(paths))
    ax.plot(x, paths["treated"], color=PALETTE["vermillion"], linewidth=2, label=str(res.treated))
    ax.plot(
        x,
        paths["synthetic"],
        color=PALETTE["blue"],
        linestyle="--",
        linewidth=2,
        label="synthetic control",
    )
    ax.axvline(res.n_pre - 0.5, color=PALETTE["black"], linestyle=":", linewidth=1)
    _time_ticks(ax, x, list(paths["time"]))
    ax.set_ylabel("outcome")
    ax.set_title(f"Pre-period RMSPE {res.pre_rmspe:.3g}")
    ax.legend(loc="best")
    return fig


def _time_ticks(ax: Any, x: np.ndarray, labels: list) -> None:
    step = max(1, len(x) // 8)
    ax.set_xticks(x[::step], [str(v) for v in labels[::step]], rotation=30, ha="right")
