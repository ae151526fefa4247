"""Standard error of measurement, minimal detectable change and reliable change (Jacobson–Truax)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import check_level, check_reliability, numeric_array
from ..errors import DataError, ParameterError
from ..results import Result

__all__ = ["sem", "mdc", "reliable_change", "ReliableChangeResult", "CLASSES"]

#: the change classes, in report order
CLASSES = ("reliably improved", "no reliable change", "reliably deteriorated", "missing")


def _check_reliability(reliability: Any) -> float:
    return check_reliability(reliability)


def _check_sd(sd: Any, key: str = "sd") -> float:
    try:
        s = float(sd)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{key} must be a number, got {sd!r}", key=key, expected="a positive number"
        ) from None
    if not np.isfinite(s) or s <= 0:
        raise ParameterError(f"{key}={sd!r} is not allowed", key=key, expected="a positive number")
    return s


def sem(sd: float, reliability: float) -> float:
    """Standard error of measurement: ``SEM = SD·√(1 − r)``.

    Parameters
    ----------
    sd : float
        Standard deviation of the scores (in a reference sample, or at baseline).
    reliability : float
        A reliability coefficient (alpha, test–retest r, ICC).

    References
    ----------
    Jacobson & Truax (1991) J Consult Clin Psychol 59:12.

    Examples
    --------
    >>> round(sem(10, 0.84), 6)
    4.0
    """
    return _check_sd(sd) * float(np.sqrt(1.0 - _check_reliability(reliability)))


def mdc(sd: float, reliability: float, level: float = 0.95) -> float:
    """Minimal detectable change: ``MDC = z·√2·SEM`` (MDC95 = 1.96·√2·SEM).

    The smallest change in one person's score that exceeds measurement error at ``level``.

    References
    ----------
    Weir (2005) J Strength Cond Res 19:231. Jacobson & Truax (1991).

    Examples
    --------
    >>> round(mdc(10, 0.84), 4)
    11.0872
    """
    level = check_level(level)
    z = stats.norm.ppf(0.5 + level / 2.0)
    return float(z * np.sqrt(2.0) * sem(sd, reliability))


@dataclass(frozen=True)
class ReliableChangeResult(Result):
    """Per-person reliable change indices and classes, with a summary of counts.

    ``table`` has one row per person (pre, post, change, rci, change_class and, with a
    cut-off, pre_status, post_status and clinical_change); ``summary`` counts each class.
    """

    n: int
    level: float
    method: str
    sem: float
    s_diff: float
    threshold: float
    cutoff: float | None
    higher_is_better: bool
    table: pd.DataFrame = field(repr=False, compare=False)
    summary: pd.DataFrame = field(repr=False, compare=False)
    _title = "Reliable change (Jacobson-Truax)"

    def to_frame(self) -> pd.DataFrame:
        """The summary of counts (one row per class)."""
        return self.summary.copy()

    def plot(self, ax: Any = None) -> Any:
        """Post against pre scores with the band of no reliable change."""
        from ..plots.reliability import plot_reliable_change

        return plot_reliable_change(self, ax=ax)


def reliable_change(
    pre: Any,
    post: Any,
    *,
    reliability: float,
    sd: float | None = None,
    level: float = 0.95,
    higher_is_better: bool = True,
    cutoff: float | None = None,
    normal: tuple[float, float] | None = None,
    clinical: tuple[float, float] | None = None,
) -> ReliableChangeResult:
    """Jacobson–Truax reliable change index and clinically significant change.

    ``SEM = SD·√(1 − r)``, ``S_diff = √2·SEM``, ``RCI = (post − pre)/S_diff``; a person has
    reliably improved (or deteriorated) when |RCI| exceeds z (1.96 at 95%) in the better
    (worse) direction. With a cut-off, a person who reliably improved and moved from the
    clinical to the functional side is *recovered* (clinically significant change). Instead of a
    cut-off, give the means and SDs of a ``normal`` and a ``clinical`` population for
    Jacobson–Truax criterion c = (SD₀·M₁ + SD₁·M₀)/(SD₀ + SD₁).

    Parameters
    ----------
    pre, post : array-like
        Scores of the same people before and after (missing → class "missing").
    reliability : float
        Reliability of the measure (alpha or test–retest), ideally from a norm sample.
    sd : float, optional
        SD of the measure (norm sample or baseline); defaults to the SD of ``pre``.
    higher_is_better : bool
        Direction of improvement (False for symptom scores such as the EPDS).
    cutoff : float, optional
        Score separating clinical from functional (functional is ≥ cut-off when higher is
        better, < cut-off otherwise).
    normal, clinical : (mean, sd), optional
        Populations for criterion c (both, instead of ``cutoff``).

    References
    ----------
    Jacobson & Truax (1991) J Consult Clin Psychol 59:12.

    Examples
    --------
    >>> res = reliable_change([20, 22, 15], [12, 21, 25], reliability=0.84, sd=5,
    ...                       higher_is_better=False)
    >>> res.table["change_class"].tolist()
    ['reliably improved', 'no reliable change', 'reliably deteriorated']
    """
    level = check_level(level)
    r = _check_reliability(reliability)
    x0 = numeric_array(pre, name="pre")
    x1 = numeric_array(post, name="post")
    if x0.shape != x1.shape:
        raise DataError(
            f"pre and post have different lengths ({x0.size} and {x1.size})",
            allowed="one pre and one post score per person, in the same order",
        )
    if sd is None:
        if np.sum(~np.isnan(x0)) < 2:
            raise DataError("need at least 2 pre scores to estimate the SD; pass sd=")
        sd = float(np.nanstd(x0, ddof=1))
    s = _check_sd(sd)
    if cutoff is not None and (normal is not None or clinical is not None):
        raise ParameterError(
            "give either cutoff= or normal= and clinical=, not both",
            key="cutoff",
            expected="one way to set the clinical cut-off",
        )
    if (normal is None) != (clinical is None):
        raise ParameterError(
            "criterion c needs both normal=(mean, sd) and clinical=(mean, sd)",
            key="normal/clinical",
            expected="two (mean, sd) pairs",
        )
    if normal is not None:
        m0, s0 = float(normal[0]), _check_sd(normal[1], "normal sd")
        m1, s1 = float(clinical[0]), _check_sd(clinical[1], "clinical sd")  # type: ignore[index]
        cutoff = (s0 * m1 + s1 * m0) / (s0 + s1)
    sem_ = s * np.sqrt(1.0 - r)
    s_diff = np.sqrt(2.0) * sem_
    z = float(stats.norm.ppf(0.5 + level / 2.0))
    change = x1 - x0
    rci = change / s_diff
    better = rci if higher_is_better else -rci
    cls = np.where(better > z, CLASSES[0], np.where(better < -z, CLASSES[2], CLASSES[1]))
    cls = np.where(np.isnan(rci), CLASSES[3], cls)
    index = pre.index if isinstance(pre, pd.Series) else pd.RangeIndex(len(x0))
    table = pd.DataFrame(
        {"pre": x0, "post": x1, "change": change, "rci": rci, "change_class": cls}, index=index
    )
    summary = (
        table["change_class"]
        .value_counts()
        .reindex(list(CLASSES), fill_value=0)
        .rename("n")
        .rename_axis("term")
        .reset_index()
    )
    if cutoff is not None:
        cutoff = float(cutoff)

        def status(v: np.ndarray) -> np.ndarray:
            functional = v >= cutoff if higher_is_better else v < cutoff
            return np.where(np.isnan(v), "missing", np.where(functional, "functional", "clinical"))

        pre_s, post_s = status(x0), status(x1)
        clinical_change = np.select(
            [
                (cls == CLASSES[0]) & (pre_s == "clinical") & (post_s == "functional"),
                cls == CLASSES[0],
                cls == CLASSES[2],
                cls == CLASSES[1],
            ],
            ["recovered", "improved", "deteriorated", "unchanged"],
            default="missing",
        )
        table["pre_status"] = pre_s
        table["post_status"] = post_s
        table["clinical_change"] = clinical_change
        cs = (
            table["clinical_change"]
            .value_counts()
            .reindex(
                ["recovered", "improved", "unchanged", "deteriorated", "missing"], fill_value=0
            )
            .rename("n")
            .rename_axis("term")
            .reset_index()
        )
        summary = pd.concat([summary, cs], ignore_index=True)
        summary.insert(0, "scheme", ["reliable change"] * len(CLASSES) + ["clinical"] * len(cs))
    else:
        summary.insert(0, "scheme", "reliable change")
    assessed = int((cls != CLASSES[3]).sum())
    is_missing = summary["term"] == "missing"
    summary["percent"] = np.where(
        is_missing, np.nan, 100.0 * summary["n"] / assessed if assessed else np.nan
    )
    return ReliableChangeResult(
        n=assessed,
        level=level,
        method="Jacobson-Truax reliable change index",
        sem=float(sem_),
        s_diff=float(s_diff),
        threshold=float(z * s_diff),
        cutoff=cutoff,
        higher_is_better=bool(higher_is_better),
        table=table,
        summary=summary,
    )
