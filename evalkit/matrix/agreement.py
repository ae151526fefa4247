"""Agreement between partners on one area's maturity-matrix ratings."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, check_level
from ..errors import DataError, EvalkitWarning
from ..reliability import cohen_kappa, icc
from ..results import Result
from .ratings import checked_ratings, pick_areas, pick_date

__all__ = ["Agreement", "agreement"]


def _icc_a1(y: np.ndarray, level: float) -> dict[str, float]:
    """ICC(A,1) of an elements x partners matrix: the ``ICC2`` row of :func:`reliability.icc`.

    Its own warning for identical ratings is replaced by the caller's, which names the area.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        row = icc(y, level=level).loc["ICC2"]
    out = {key: float(row[key]) for key in ("icc", "f", "df1", "df2", "p", "ci_low", "ci_high")}
    if not (np.isfinite(out["icc"]) and out["icc"] < 1 and np.isfinite(out["f"])):
        # perfect agreement or no variation: no interval
        out["ci_low"] = out["ci_high"] = np.nan
    return out


def _mean_pairwise_kappa(y: np.ndarray, categories: list[int]) -> float:
    """Quadratic-weighted :func:`reliability.cohen_kappa` averaged over every pair of partners.

    A pair with no chance disagreement (both partners gave one and the same level throughout)
    has no kappa and is left out of the mean, silently: the mean is NaN only when every pair is.
    """
    kappas = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        for i, j in itertools.combinations(range(y.shape[1]), 2):
            res = cohen_kappa(y[:, i], y[:, j], weights="quadratic", categories=categories)
            kappas.append(res.estimate)
    values = np.asarray(kappas, dtype=float)
    return float(np.nanmean(values)) if np.isfinite(values).any() else np.nan


def _koo_li(value: float) -> str:
    if not np.isfinite(value):
        return "not defined"
    if value < 0.5:
        return "poor"
    if value < 0.75:
        return "moderate"
    if value < 0.9:
        return "good"
    return "excellent"


@dataclass(frozen=True)
class Agreement(Result):
    """Agreement between partners on one area's maturity-matrix ratings.

    ``estimate`` is ICC(A,1) or the mean pairwise quadratic-weighted kappa; ``n`` the number of
    elements rated by every partner, ``n_raters`` the number of partners. ``interpretation``
    uses Koo & Li's (2016) bands (below .5 poor, .5-.75 moderate, .75-.9 good, above .9
    excellent). ``dropped`` lists elements left out because a partner did not rate them.
    """

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    n_raters: int
    level: float
    method: str
    area: str
    date: str
    interpretation: str
    f: float = np.nan
    df1: float = np.nan
    df2: float = np.nan
    p: float = np.nan
    dropped: tuple[str, ...] = ()
    _title = "Agreement between partners"


def agreement(
    ratings: pd.DataFrame | str | Path,
    *,
    area: str | None = None,
    date: Any = None,
    method: str = "icc",
    level: float = 0.95,
    framework: Any = None,
) -> Agreement:
    """Agreement between partners' ratings of the same elements (one area, one date).

    Parameters
    ----------
    ratings : DataFrame or path
        A ratings table (see :func:`read_ratings`).
    area : str, optional
        Required when the ratings hold several areas.
    date : date-like, optional
        The assessment date; the most recent by default.
    method : {"icc", "kappa"}
        ``"icc"``: ICC(A,1), two-way random effects, absolute agreement, single rater (Shrout &
        Fleiss's ICC(2,1)), with the McGraw & Wong (1996) confidence interval.
        ``"kappa"``: Cohen's weighted kappa with quadratic weights, averaged over every pair of
        partners (no interval).
    level : float
        Confidence level of the ICC interval.
    framework : optional
        See :func:`load_framework`.

    Returns
    -------
    Agreement

    Notes
    -----
    Targets are the elements and raters the partners. Elements not rated by every partner are
    left out (named in ``dropped``, with a warning). With mean squares from the two-way table
    (rows MSR, partners MSC, residual MSE; n elements, k partners)

    .. math:: \\mathrm{ICC}(A,1) = \\frac{MSR - MSE}{MSR + (k-1)MSE + \\frac{k}{n}(MSC - MSE)}

    The ICC is the ``ICC2`` row of :func:`evalkit.reliability.icc` (the tests check it against
    ``pingouin.intraclass_corr`` and Shrout & Fleiss 1979). Quadratic-weighted kappa is
    :func:`evalkit.reliability.cohen_kappa` with ``weights="quadratic"`` over the framework's
    levels, equal to Cohen's (1968) :math:`\\kappa_w = 1 - \\sum w O / \\sum w E` with
    disagreement weights :math:`(i-j)^2`; the tests check it against
    ``statsmodels.stats.inter_rater.cohens_kappa(wt="quadratic")``.
    With nine elements the interval is wide: read the estimate as a rough guide.

    Examples
    --------
    >>> df = pd.DataFrame({"area": "A", "partner": np.repeat(["NHS", "LA", "VCS"], 3),
    ...                    "element": ["strategy", "governance", "using_evidence"] * 3,
    ...                    "level": [1, 3, 5, 2, 3, 5, 1, 4, 4], "date": "2024-03-01"})
    >>> round(agreement(df).estimate, 3)
    0.889
    """
    check_choice("method", method, ["icc", "kappa"])
    level = check_level(level)
    r, fw = checked_ratings(ratings, framework)
    (a,) = pick_areas(r, area, required=True)
    ra = r[r["area"] == a]
    d = pick_date(ra, date)
    ra = ra[ra["date"] == d]
    wide = ra.pivot(index="element", columns="partner", values="level")
    wide = wide.reindex([e for e in fw.element_ids if e in wide.index])
    if wide.shape[1] < 2:
        raise DataError(
            f"agreement needs at least two partners; area {a!r} on {d.date()} has {wide.shape[1]}",
            column="partner",
            allowed="ratings from two or more partners",
        )
    incomplete = wide.isna().any(axis=1)
    dropped = tuple(wide.index[incomplete])
    if dropped:
        warnings.warn(
            f"area {a!r}: element(s) {', '.join(dropped)} were not rated by every partner and "
            "are left out of the agreement statistic",
            EvalkitWarning,
            stacklevel=2,
        )
    y = wide[~incomplete].to_numpy(dtype=float)
    if y.shape[0] < 2:
        raise DataError(
            f"agreement needs at least two elements rated by every partner; area {a!r} has "
            f"{y.shape[0]}",
            column="element",
            allowed="ratings of the same elements by each partner",
        )
    common = dict(
        n=int(y.shape[0]),
        n_raters=int(y.shape[1]),
        level=level,
        area=a,
        date=d.date().isoformat(),
        dropped=dropped,
    )
    if method == "icc":
        s = _icc_a1(y, level)
        if not np.isfinite(s["icc"]):
            warnings.warn(
                f"area {a!r}: every element got the same level from every partner, so the ICC "
                "is not defined (there is no variation to agree on)",
                EvalkitWarning,
                stacklevel=2,
            )
        return Agreement(
            estimate=s["icc"],
            ci_low=s["ci_low"],
            ci_high=s["ci_high"],
            method="ICC(A,1) two-way random, absolute agreement",
            interpretation=_koo_li(s["icc"]),
            f=s["f"],
            df1=s["df1"],
            df2=s["df2"],
            p=s["p"],
            **common,
        )
    value = _mean_pairwise_kappa(y, list(fw.levels))
    return Agreement(
        estimate=value,
        ci_low=np.nan,
        ci_high=np.nan,
        method="quadratic-weighted kappa, mean over pairs of partners",
        interpretation=_koo_li(value),
        **common,
    )
