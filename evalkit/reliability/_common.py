"""Shared input handling and matrix helpers for the reliability package (private)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, numeric_frame
from ..errors import DataError, EvalkitWarning

MISSING = ("pairwise", "listwise")


def item_frame(
    items: Any, *, missing: str = "pairwise", min_items: int = 2, min_rows: int = 2
) -> pd.DataFrame:
    """Validate an items table (rows = people, columns = items) and apply the missing-data rule.

    Raises a DataError for non-numeric columns, fewer than ``min_items`` items or
    ``min_rows`` people, columns or rows entirely missing (pairwise), and items
    with no variance (naming the columns).
    """
    check_choice("missing", missing, MISSING)
    df = numeric_frame(
        items,
        name="items",
        min_cols=min_items,
        min_rows=1,
        drop_empty_rows=(missing == "listwise"),
    )
    if missing == "listwise":
        incomplete = df.index[df.isna().any(axis=1)]
        df = df.drop(index=incomplete)
        if len(df) < min_rows:
            raise DataError(
                f"items: only {len(df)} row(s) have every item answered; "
                f"listwise deletion needs at least {min_rows}",
                rows=list(incomplete),
                allowed="more complete rows, or missing='pairwise'",
            )
    elif len(df) < min_rows:
        raise DataError(f"items needs at least {min_rows} rows (people), got {len(df)}")
    sd = df.std(ddof=1)
    flat = [str(c) for c in df.columns if not np.isfinite(sd[c]) or sd[c] == 0]
    if flat:
        raise DataError(
            "items with no variance (everyone gave the same answer) carry no information "
            "about reliability",
            columns=flat,
            allowed="drop these items first; item_analysis() lists them",
        )
    return df


def fast_float_matrix(data: Any) -> np.ndarray | None:
    """A float 2-D array without per-column checks when ``data`` is already numeric.

    Returns None for anything that needs :func:`numeric_frame`'s checks (text, objects,
    mixed dtypes), so callers fall back to the slow path with its precise messages.
    """
    if isinstance(data, np.ndarray):
        if data.ndim == 2 and data.dtype.kind in "fiu":
            return data.astype(float, copy=False)
        return None
    if isinstance(data, pd.DataFrame) and data.shape[1] > 0:
        if all(dt.kind in "fiu" for dt in data.dtypes):
            return data.to_numpy(dtype=float)
    return None


def pairwise_cov(x: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Covariance matrix with pairwise deletion, optionally with case weights (counts).

    For items i, j it uses the rows where both are present (n_ij of them) with
    the n_ij − 1 denominator, as ``pandas.DataFrame.cov`` and R's
    ``cov(use = "pairwise")``. Integer weights act as repeated rows (bootstrap).
    """
    mask = ~np.isnan(x)
    centre = np.nanmean(x, axis=0)
    x0 = np.where(mask, x - centre, 0.0)
    m = mask.astype(float)
    if weights is None:
        wm = m
        wx = x0
    else:
        wm = m * weights[:, None]
        wx = x0 * weights[:, None]
    n_ij = m.T @ wm
    s_ij = wx.T @ m  # sum of item i over rows where j is present
    p_ij = wx.T @ x0
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = (p_ij - s_ij * s_ij.T / n_ij) / (n_ij - 1.0)
    return cov


def cov_matrix(df: pd.DataFrame) -> np.ndarray:
    """Covariance of the items: complete data fast path, pairwise deletion otherwise."""
    x = df.to_numpy(dtype=float)
    if not np.isnan(x).any():
        return np.cov(x, rowvar=False, ddof=1)
    cov = pairwise_cov(x)
    if not np.isfinite(cov).all():
        i, j = np.argwhere(~np.isfinite(cov))[0]
        raise DataError(
            "two items are never (or only once) answered by the same person, so their "
            "covariance cannot be estimated",
            columns=[str(df.columns[i]), str(df.columns[j])],
            allowed="items answered together by at least two people",
        )
    return cov


def cov_to_cor(c: np.ndarray) -> np.ndarray:
    d = np.sqrt(np.diag(c))
    r = c / np.outer(d, d)
    np.fill_diagonal(r, 1.0)
    return r


def smc(r: np.ndarray) -> np.ndarray:
    """Squared multiple correlation of each variable with the others: 1 − 1/diag(R⁻¹)."""
    try:
        inv = np.linalg.inv(r)
        out = 1.0 - 1.0 / np.diag(inv)
        if np.all(np.isfinite(out)) and np.all(np.diag(inv) > 0):
            return out
    except np.linalg.LinAlgError:
        pass
    # singular R (e.g. duplicated items): psych falls back to a pseudo-inverse; so do we
    warnings.warn(
        "the item correlation matrix is singular (fewer complete answers than items, pairwise "
        "deletion, or items that are exact combinations of others); squared multiple "
        "correlations, and so lambda-6, use a pseudo-inverse and may be overstated",
        EvalkitWarning,
        stacklevel=3,
    )
    inv = np.linalg.pinv(r)
    return np.clip(1.0 - 1.0 / np.diag(inv), 0.0, 1.0)


def alpha_from_cov(c: np.ndarray) -> float:
    k = c.shape[0]
    return k / (k - 1.0) * (1.0 - np.trace(c) / c.sum())


def percentile_ci(boot: np.ndarray, level: float) -> tuple[float, float]:
    boot = boot[np.isfinite(boot)]
    if boot.size == 0:
        return float("nan"), float("nan")
    tail = (1.0 - level) / 2.0
    lo, hi = np.quantile(boot, [tail, 1.0 - tail])
    return float(lo), float(hi)


def rng_from(seed: Any) -> np.random.Generator:
    return np.random.default_rng(seed)


def boot_indices(rng: np.random.Generator, n: int, n_boot: int) -> np.ndarray:
    """Row indices for ``n_boot`` bootstrap resamples of ``n`` rows, shape (n_boot, n)."""
    return rng.integers(0, n, size=(n_boot, n))


def boot_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """Turn resample indices (b × n) into per-row counts (b × n) with one bincount."""
    b = idx.shape[0]
    flat = (idx + (np.arange(b) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=b * n).reshape(b, n).astype(float)
