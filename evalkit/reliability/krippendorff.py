"""Krippendorff's alpha for any number of coders, missing values and four levels of measurement."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, check_positive_int, numeric_frame
from ..errors import DataError
from ..results import Result
from ._common import fast_float_matrix, percentile_ci, rng_from

__all__ = ["KrippendorffResult", "krippendorff_alpha"]

LEVELS = ("nominal", "ordinal", "interval", "ratio")


@dataclass(frozen=True)
class KrippendorffResult(Result):
    """Krippendorff's alpha, with a bootstrap interval over units when ``n_boot`` is given.

    ``n`` counts the pairable units (rated by at least two coders); ``n_values`` the pairable
    values; ``d_observed`` and ``d_expected`` the two disagreements.
    """

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    level: float
    method: str
    n_values: int
    d_observed: float
    d_expected: float
    measurement: str
    boot: np.ndarray | None = field(default=None, repr=False, compare=False)
    _title = "Krippendorff's alpha"


def _value_counts(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct values and the units × values count matrix (coders per unit per value)."""
    units, coders = x.shape
    present = ~np.isnan(x)
    values, inverse = np.unique(x[present], return_inverse=True)
    unit_idx = np.broadcast_to(np.arange(units)[:, None], x.shape)[present]
    counts = np.bincount(unit_idx * len(values) + inverse, minlength=units * len(values))
    return values, counts.reshape(units, len(values)).astype(float)


def _delta2(values: np.ndarray, totals: np.ndarray, level: str) -> np.ndarray:
    if level == "nominal":
        return 1.0 - np.eye(len(values))
    if level == "ordinal":
        cum = np.cumsum(totals)
        # Σ_{g=c}^{k} n_g − (n_c + n_k)/2 for c ≤ k
        between = cum[None, :] - cum[:, None] + totals[:, None]
        d = between - (totals[:, None] + totals[None, :]) / 2.0
        d = np.where(np.arange(len(values))[:, None] <= np.arange(len(values))[None, :], d, d.T)
        return d**2
    if level == "interval":
        return (values[:, None] - values[None, :]) ** 2
    with np.errstate(divide="ignore", invalid="ignore"):
        s = values[:, None] + values[None, :]
        d = np.where(s == 0, 0.0, (values[:, None] - values[None, :]) / s)
    return d**2


def _alpha_parts(x: np.ndarray, level: str) -> tuple[float, float, int, int]:
    present = ~np.isnan(x)
    m_u = present.sum(axis=1)
    x = x[m_u >= 2]
    m_u = m_u[m_u >= 2]
    total = int(m_u.sum())
    if total < 2:
        return float("nan"), float("nan"), 0, total
    if level == "interval":
        # closed form: Σ_{i≠j}(xi − xj)² = 2m·Σx² − 2(Σx)² within a unit
        s1 = np.nansum(x, axis=1)
        s2 = np.nansum(x**2, axis=1)
        d_o = np.sum((2 * m_u * s2 - 2 * s1**2) / (m_u - 1)) / total
        a1, a2 = s1.sum(), s2.sum()
        d_e = (2 * total * a2 - 2 * a1**2) / (total * (total - 1))
        return float(d_o), float(d_e), len(m_u), total
    values, counts = _value_counts(x)
    weights = counts / (m_u - 1)[:, None]
    coincidence = weights.T @ counts
    coincidence[np.diag_indices_from(coincidence)] -= weights.sum(axis=0)
    n_c = coincidence.sum(axis=0)
    delta = _delta2(values, n_c, level)
    d_o = float(np.sum(coincidence * delta)) / total
    d_e = float(n_c @ delta @ n_c) / (total * (total - 1))
    return d_o, d_e, len(m_u), total


def krippendorff_alpha(
    data: Any,
    *,
    level: str = "nominal",
    n_boot: int | None = None,
    seed: Any = None,
    ci_level: float = 0.95,
) -> KrippendorffResult:
    """Krippendorff's alpha: ``alpha = 1 − D_o / D_e``.

    From the coincidence matrix o_ck = Σ_u (Σ pairs of values c, k in unit u)/(m_u − 1) over
    units with m_u ≥ 2 values, n_c = Σ_k o_ck and n = Σ n_c:
    ``D_o = Σ o_ck δ²_ck / n`` and ``D_e = Σ n_c n_k δ²_ck / (n(n − 1))`` with the metric
    δ² of the level: nominal 1[c ≠ k]; ordinal (Σ_{g=c}^{k} n_g − (n_c + n_k)/2)²;
    interval (c − k)²; ratio ((c − k)/(c + k))².

    Parameters
    ----------
    data : DataFrame or 2-D array
        Rows are units (subjects), columns coders; NaN where a coder did not code a unit.
        (R ``irr::kripp.alpha`` and the ``krippendorff`` package take the transpose.)
    level : {"nominal", "ordinal", "interval", "ratio"}
        Level of measurement.
    n_boot, seed, ci_level : optional
        A percentile bootstrap interval from resampling units (not Krippendorff's own
        bootstrap of pairable values).

    References
    ----------
    Krippendorff (2011) Computing Krippendorff's alpha-reliability, Annenberg School
    for Communication. Hayes & Krippendorff (2007) Commun Methods Meas 1:77.

    Examples
    --------
    >>> import numpy as np
    >>> nan = np.nan
    >>> coders = [[1, 2, 3, 3, 2, 1, 4, 1, 2, nan, nan, nan],
    ...           [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, nan, 3],
    ...           [nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, nan],
    ...           [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, nan]]
    >>> round(krippendorff_alpha(np.array(coders).T).estimate, 6)
    0.743421
    """
    check_choice("level", level, LEVELS)
    x = fast_float_matrix(data)
    if x is None:
        df = numeric_frame(data, name="data", min_cols=1, min_rows=1, drop_empty_rows=True)
        x, index = df.to_numpy(dtype=float), df.index
    else:  # numeric already; units nobody coded simply do not count
        index = data.index if isinstance(data, pd.DataFrame) else pd.RangeIndex(x.shape[0])
    if x.shape[1] < 2:
        raise DataError(
            "Krippendorff's alpha needs at least 2 coders (columns)",
            allowed="rows = units, columns = coders (transpose data laid out coders x units)",
        )
    if level == "ratio" and np.nanmin(x) < 0:
        rows = list(index[(x < 0).any(axis=1)])
        raise DataError(
            "ratio-level values must not be negative",
            rows=rows,
            allowed="values of 0 or more, or level='interval'",
        )
    d_o, d_e, n_units, n_values = _alpha_parts(x, level)
    if n_units < 1 or n_values < 2:
        raise DataError(
            "no unit was coded by two or more coders, so agreement cannot be assessed",
            allowed="units coded by at least two coders",
        )
    est = 1.0 - d_o / d_e if d_e > 0 else float("nan")
    lo = hi = float("nan")
    boot = None
    if n_boot is not None:
        n_boot = check_positive_int("n_boot", n_boot, minimum=2)
        idx = rng_from(seed).integers(0, len(x), size=(n_boot, len(x)))
        boot = np.empty(n_boot)
        for b in range(n_boot):
            bo, be, _, _ = _alpha_parts(x[idx[b]], level)
            boot[b] = 1.0 - bo / be if be > 0 else np.nan
        lo, hi = percentile_ci(boot, ci_level)
    return KrippendorffResult(
        estimate=float(est),
        ci_low=lo,
        ci_high=hi,
        n=int(n_units),
        level=float(ci_level),
        method=f"Krippendorff's alpha ({level})",
        n_values=int(n_values),
        d_observed=float(d_o),
        d_expected=float(d_e),
        measurement=level,
        boot=boot,
    )
