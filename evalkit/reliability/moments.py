"""Item analysis from sufficient statistics: pooling areas without their raw answers.

An area's record carries, for the questionnaire's items before the service, the number of
people who answered every item (``n``), the item means, the item covariance matrix and how many
answers sat at the lowest and highest score. :func:`pool_moments` combines several areas'
statistics into those of the pooled data, exactly; :func:`item_analysis_from_moments` then gives
the same item analysis that :func:`evalkit.reliability.item_analysis` gives on the pooled raw
answers (people with every item answered).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError
from ._common import alpha_from_cov

__all__ = ["pool_moments", "item_analysis_from_moments"]


def _as_cov(cov: Any, k: int, what: str) -> np.ndarray:
    c = np.asarray(cov, dtype=float)
    if c.shape != (k, k) or not np.all(np.isfinite(c)) or not np.allclose(c, c.T):
        raise DataError(
            f"{what} is not a symmetric {k} x {k} covariance matrix of finite numbers",
            column="cov",
            allowed=f"a symmetric {k} x {k} matrix (one row and column per item)",
        )
    return c


def pool_moments(
    n: Sequence[int], means: Sequence[Any], covs: Sequence[Any]
) -> tuple[int, np.ndarray, np.ndarray]:
    """Combine groups' sizes, item means and covariance matrices into the pooled data's.

    With group sizes :math:`n_g`, means :math:`m_g` and covariances :math:`C_g` (divisor
    :math:`n_g - 1`), :math:`N = \\sum n_g`, :math:`m = \\sum n_g m_g / N` and

    .. math:: C = \\frac{\\sum_g (n_g - 1) C_g + \\sum_g n_g (m_g - m)(m_g - m)'}{N - 1},

    the covariance of all groups' rows stacked together (Chan, Golub & LeVeque 1979). A
    group of one person contributes its row (its covariance is ignored).

    Returns
    -------
    (N, means, cov)

    Examples
    --------
    >>> N, m, c = pool_moments([2, 2], [[1.0, 2.0], [3.0, 4.0]],
    ...                        [[[2.0, 2.0], [2.0, 2.0]], [[0.5, 0.0], [0.0, 0.5]]])
    >>> N, m.tolist()
    (4, [2.0, 3.0])
    """
    if not len(n) or not (len(n) == len(means) == len(covs)):
        raise DataError(
            "pool_moments needs as many sizes, mean vectors and covariance matrices, at least one",
            allowed="lists of the same length",
        )
    sizes = np.asarray(n, dtype=float)
    if np.any(sizes < 1) or np.any(sizes != np.round(sizes)):
        raise DataError("group sizes must be whole numbers of 1 or more", column="n")
    m = np.asarray(means, dtype=float)
    k = m.shape[1]
    total = float(sizes.sum())
    mean = (sizes[:, None] * m).sum(axis=0) / total
    scatter = np.zeros((k, k))
    for size, mg, cg in zip(sizes, m, covs):
        if size > 1:
            scatter += (size - 1) * _as_cov(cg, k, "a group's cov")
        d = mg - mean
        scatter += size * np.outer(d, d)
    if total < 2:
        raise DataError("pooled data need at least 2 people", column="n")
    return int(total), mean, scatter / (total - 1)


def item_analysis_from_moments(
    n: int,
    means: Any,
    cov: Any,
    *,
    floor: Any = None,
    ceiling: Any = None,
    items: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Item analysis from the number of people, item means and covariance (complete cases).

    For item i with covariance matrix C: ``sd = sqrt(C_ii)``, corrected item-total
    correlation ``r_drop = (ΣC_i· − C_ii) / √(C_ii · ΣC_{−i,−i})`` and ``alpha_if_deleted``,
    alpha of the other k − 1 items from their covariance (as psych's ``alpha()``
    ``r.drop`` and ``alpha.drop``, and :func:`evalkit.reliability.item_analysis`, which gives
    the same numbers on the raw answers of people who answered every item).

    Parameters
    ----------
    n : int
        People who answered every item.
    means, cov
        Item means (length k) and covariance matrix (k x k, divisor n − 1).
    floor, ceiling : sequence of int or None, optional
        Answers at the lowest and highest score per item (None for an unknown count):
        ``floor_pct`` and ``ceiling_pct`` are these over ``n``.
    items : sequence of str, optional
        Item names (default ``item1``...).

    Returns
    -------
    DataFrame indexed by item with ``n``, ``mean``, ``sd``, ``floor_pct``, ``ceiling_pct``,
    ``r_drop`` and ``alpha_if_deleted``.

    Examples
    --------
    >>> out = item_analysis_from_moments(10, [1.0, 2.0, 1.5],
    ...     [[1.0, 0.5, 0.4], [0.5, 1.0, 0.6], [0.4, 0.6, 1.0]])
    >>> round(float(out.loc["item1", "r_drop"]), 4)
    0.5031
    """
    m = np.asarray(means, dtype=float).ravel()
    k = m.size
    if k < 2:
        raise DataError("item analysis needs at least 2 items", column="means")
    c = _as_cov(cov, k, "cov")
    if int(n) < 2:
        raise DataError("item analysis needs at least 2 people", column="n")
    names = [str(i) for i in items] if items is not None else [f"item{j + 1}" for j in range(k)]
    if len(names) != k:
        raise DataError(f"{len(names)} item names for {k} items", column="items")

    def pct(counts: Any) -> np.ndarray:
        if counts is None:
            return np.full(k, np.nan)
        vals = [np.nan if v is None else float(v) for v in counts]
        return 100.0 * np.asarray(vals, dtype=float) / int(n)

    var = np.diag(c)
    sd = np.sqrt(np.clip(var, 0, None))
    use = np.flatnonzero(var > 0)
    r_drop = np.full(k, np.nan)
    a_del = np.full(k, np.nan)
    if len(use) >= 2:
        cu = c[np.ix_(use, use)]
        total, rows = cu.sum(), cu.sum(axis=1)
        for pos, i in enumerate(use):
            rest = total - 2.0 * rows[pos] + cu[pos, pos]
            with np.errstate(invalid="ignore", divide="ignore"):
                r_drop[i] = (rows[pos] - cu[pos, pos]) / np.sqrt(cu[pos, pos] * rest)
            if len(use) >= 3:
                keep = np.arange(len(use)) != pos
                a_del[i] = alpha_from_cov(cu[np.ix_(keep, keep)])
    return pd.DataFrame(
        {
            "n": int(n),
            "mean": m,
            "sd": sd,
            "floor_pct": pct(floor),
            "ceiling_pct": pct(ceiling),
            "r_drop": r_drop,
            "alpha_if_deleted": a_del,
        },
        index=pd.Index(names, name="item"),
    )
