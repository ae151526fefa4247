"""Polychoric correlations of ordinal items by the two-step estimator (Olsson 1979)."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from .._validate import numeric_frame
from ..errors import DataError, EvalkitWarning, ParameterError
from ..results import Result

__all__ = ["PolychoricResult", "polychoric", "ordinal_frame", "bivariate_normal_cdf"]

# |rho| is kept below this inside the likelihood (polycor's maxcor)
_MAXCOR = 0.99999


@dataclass(frozen=True)
class PolychoricResult(Result):
    """A polychoric correlation matrix.

    Attributes
    ----------
    rho : DataFrame, items × items, the polychoric correlations
    tau : DataFrame, items × thresholds (normal quantiles of the cumulative marginal
        proportions; ``±inf`` marks a category an item never used)
    n : rows (people) in the data
    n_corrected : item pairs whose table had empty cells replaced by ``correct``
    smoothed : True when the matrix was not positive definite and was smoothed (psych
        ``cor.smooth``)
    """

    n: int
    k: int
    method: str
    correct: float
    n_corrected: int
    smoothed: bool
    rho: pd.DataFrame = field(repr=False, compare=False)
    tau: pd.DataFrame = field(repr=False, compare=False)
    _title = "Polychoric correlations"

    def to_frame(self) -> pd.DataFrame:
        """One row per pair of items (``term`` is ``"item1~item2"``)."""
        names = list(self.rho.columns)
        rows = [
            (f"{a}~{b}", float(self.rho.iloc[i, j]), None, None, None, None)
            for i, a in enumerate(names)
            for j, b in enumerate(names)
            if j > i
        ]
        return self._tidy(rows, shared=("n", "method"))


def ordinal_frame(items: Any, *, name: str = "items") -> pd.DataFrame:
    """``items`` as a float DataFrame of whole-number answers, or a DataError naming the
    columns with other values (ordinal methods need ordered categories)."""
    df = numeric_frame(items, name=name, min_cols=2, min_rows=2, drop_empty_rows=True)
    x = df.to_numpy(dtype=float)
    bad = np.isfinite(x) & (x != np.round(x))
    if bad.any():
        cols = [str(c) for c, b in zip(df.columns, bad.any(axis=0)) if b]
        raise DataError(
            f"{name}: ordinal=True needs whole-number answer codes (ordered categories)",
            columns=cols,
            rows=list(df.index[bad.any(axis=1)])[:10],
            values=sorted({float(v) for v in x[bad]})[:5],
            allowed="integer codes such as 0, 1, 2, 3; or ordinal=False for interval scores",
        )
    return df


def bivariate_normal_cdf(h: Any, k: Any, rho: float) -> np.ndarray:
    """P(X ≤ h, Y ≤ k) for standard bivariate normal X, Y with correlation ``rho``.

    Owen's (1956) identity, exact to rounding:
    ``Φ₂(h, k; ρ) = ½Φ(h) + ½Φ(k) − T(h, a_h) − T(k, a_k) − β`` with
    ``a_h = (k − ρh)/(h√(1−ρ²))``, ``a_k = (h − ρk)/(k√(1−ρ²))``, and ``β = ½`` when
    ``hk < 0`` (or ``hk = 0`` and ``h + k < 0``), 0 otherwise. Infinite limits are allowed.

    Examples
    --------
    >>> round(float(bivariate_normal_cdf(0.0, 0.0, 0.5)), 12)   # 1/4 + asin(.5)/(2π) = 1/3
    0.333333333333
    """
    h, k = np.broadcast_arrays(np.asarray(h, dtype=float), np.asarray(k, dtype=float))
    s = np.sqrt((1.0 - rho) * (1.0 + rho))
    ph, pk = special.ndtr(h), special.ndtr(k)
    hf = np.where(np.isfinite(h), h, 0.0)
    kf = np.where(np.isfinite(k), k, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ah = np.where(hf != 0, (kf - rho * hf) / (hf * s), np.sign(kf) * np.inf)
        ak = np.where(kf != 0, (hf - rho * kf) / (kf * s), np.sign(hf) * np.inf)
    # h = 0: T(0, ±inf) = ±1/4, the sign of a_h being that of k
    th = np.where(
        hf != 0, special.owens_t(hf, np.where(np.isfinite(ah), ah, 0.0)), 0.25 * np.sign(kf)
    )
    tk = np.where(
        kf != 0, special.owens_t(kf, np.where(np.isfinite(ak), ak, 0.0)), 0.25 * np.sign(hf)
    )
    beta = np.where((hf * kf < 0) | ((hf * kf == 0) & (hf + kf < 0)), 0.5, 0.0)
    out = 0.5 * special.ndtr(hf) + 0.5 * special.ndtr(kf) - th - tk - beta
    both_zero = (hf == 0) & (kf == 0)
    out = np.where(both_zero, 0.25 + np.arcsin(rho) / (2 * np.pi), out)
    # infinite limits
    out = np.where(np.isposinf(h), pk, out)
    out = np.where(np.isposinf(k), ph, out)
    out = np.where(np.isposinf(h) & np.isposinf(k), 1.0, out)
    out = np.where(np.isneginf(h) | np.isneginf(k), 0.0, out)
    return np.clip(out, 0.0, 1.0)


def _cell_probabilities(rho: float, tr: np.ndarray, tc: np.ndarray) -> np.ndarray:
    a = np.concatenate([[-np.inf], tr, [np.inf]])
    b = np.concatenate([[-np.inf], tc, [np.inf]])
    f = bivariate_normal_cdf(a[:, None], b[None, :], rho)
    return np.diff(np.diff(f, axis=0), axis=1)


def _negloglik(rho: float, tr: np.ndarray, tc: np.ndarray, tab: np.ndarray) -> float:
    p = _cell_probabilities(rho, tr, tc)
    # as psych: cells the model gives probability 0 (categories an item never used) are left out
    use = p > 0
    return float(-np.sum(tab[use] * np.log(p[use])))


def _thresholds(codes: np.ndarray, m: int) -> np.ndarray:
    counts = np.bincount(codes[codes >= 0], minlength=m).astype(float)
    cum = np.cumsum(counts)[:-1] / counts.sum()
    with np.errstate(divide="ignore"):
        return special.ndtri(cum)


def _smooth(r: np.ndarray) -> np.ndarray:
    # psych::cor.smooth: raise tiny eigenvalues, rescale to trace k, back to a correlation
    vals, vecs = np.linalg.eigh(r)
    vals = np.where(vals < 1e-12, 100 * 1e-12, vals)
    vals = vals * r.shape[0] / vals.sum()
    c = (vecs * vals) @ vecs.T
    d = np.sqrt(np.diag(c))
    out = c / np.outer(d, d)
    np.fill_diagonal(out, 1.0)
    return out


def polychoric_matrix(
    df: pd.DataFrame, *, correct: float = 0.5, smooth: bool = True
) -> tuple[np.ndarray, np.ndarray, int, bool]:
    """Polychoric matrix, thresholds, corrected pairs and smoothing flag of a validated
    :func:`ordinal_frame` (the work behind :func:`polychoric`)."""
    x = df.to_numpy(dtype=float)
    lo, hi = np.nanmin(x), np.nanmax(x)
    m = int(hi - lo) + 1  # psych: every whole number from the lowest to the highest answer
    codes = np.where(np.isnan(x), -1, x - lo).astype(int)
    k = x.shape[1]
    tau = np.column_stack([_thresholds(codes[:, j], m) for j in range(k)])
    r = np.eye(k)
    n_corrected = 0
    for i in range(k):
        for j in range(i):
            both = (codes[:, i] >= 0) & (codes[:, j] >= 0)
            tot = int(both.sum())
            if tot == 0:
                r[i, j] = r[j, i] = np.nan
                continue
            tab = np.bincount(codes[both, i] * m + codes[both, j], minlength=m * m)
            tab = tab.reshape(m, m).astype(float) / tot
            if correct > 0 and (tab == 0).any():
                tab[tab == 0] = correct / tot
                n_corrected += 1
            fit = optimize.minimize_scalar(
                _negloglik,
                bounds=(-_MAXCOR, _MAXCOR),
                args=(tau[:, i], tau[:, j], tab),
                method="bounded",
                options={"xatol": 1e-10},
            )
            r[i, j] = r[j, i] = fit.x
    missing_pairs = np.isnan(r)
    if missing_pairs.any():
        a, b = np.argwhere(missing_pairs)[0]
        raise DataError(
            "two items are never answered by the same person, so their polychoric "
            "correlation cannot be estimated",
            columns=[str(df.columns[a]), str(df.columns[b])],
            allowed="items answered together",
        )
    smoothed = False
    if smooth and np.linalg.eigvalsh(r).min() < np.finfo(float).eps:
        warnings.warn(
            "the polychoric matrix was not positive definite and was smoothed (as psych's "
            "cor.smooth); check for items with very few answers in some categories",
            EvalkitWarning,
            stacklevel=3,
        )
        r = _smooth(r)
        smoothed = True
    return r, tau, n_corrected, smoothed


def polychoric(items: Any, *, correct: float = 0.5, smooth: bool = True) -> PolychoricResult:
    """Polychoric correlations of ordinal items by the two-step estimator, as psych/polycor.

    Step 1: each item's thresholds are the normal quantiles of its cumulative marginal
    proportions, :math:`\\tau_c = \\Phi^{-1}(P(X \\le c))`. Step 2: for each pair of items,
    :math:`\\rho` maximises the multinomial log-likelihood of their cross-table
    :math:`\\sum_{ab} p_{ab} \\log \\pi_{ab}(\\rho)`, where :math:`\\pi_{ab}` is the
    bivariate normal probability of the rectangle between the thresholds (computed exactly
    with Owen's T function).

    As ``psych::polychoric`` (``global = TRUE``): thresholds come from all the answers to an
    item; each pair's table uses the people who answered both (pairwise); the categories
    are every whole number from the lowest to the highest answer across the items; when a
    pair's table has an empty cell, empty cells are set to ``correct / n`` (psych's
    continuity correction, 0.5 by default; ``correct=0`` turns it off); and a matrix that is
    not positive definite is smoothed as ``psych::cor.smooth``. With complete data and
    ``correct=0`` the values are polycor's ``polychor(x, y)`` two-step estimates.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Rows are people, columns are items with whole-number answer codes (NaN for missing).
    correct : float
        Continuity correction for empty cells (psych's ``correct``), 0 for none.
    smooth : bool
        Smooth a non-positive-definite matrix (psych's ``smooth``).

    Returns
    -------
    PolychoricResult
        ``.rho`` (items × items), ``.tau`` (thresholds), ``.n``; ``.to_frame()`` one row
        per pair.

    Raises
    ------
    DataError
        Non-integer answers, items with no variance, fewer than 2 items or people.

    References
    ----------
    Olsson U (1979). Maximum likelihood estimation of the polychoric correlation
    coefficient. Psychometrika 44:443-460. Owen DB (1956). Tables for computing bivariate
    normal probabilities. Ann Math Stat 27:1075-1090. Revelle W, psych ``polychoric``;
    Fox J, polycor ``polychor``.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[0, 0], [0, 1], [1, 1], [1, 2], [2, 2], [2, 1], [0, 0], [2, 2]])
    >>> round(float(polychoric(x).rho.iloc[0, 1]), 4)
    0.5269
    """
    if isinstance(correct, bool) or not isinstance(correct, (int, float)) or correct < 0:
        raise ParameterError(
            f"correct={correct!r} is not allowed", key="correct", expected="a number, 0 or more"
        )
    if not isinstance(smooth, bool):
        raise ParameterError(
            f"smooth={smooth!r} is not allowed", key="smooth", expected="True or False"
        )
    df = ordinal_frame(items)
    flat = [str(c) for c in df.columns if df[c].nunique() < 2]
    if flat:
        raise DataError(
            "items with no variance (everyone gave the same answer) have no polychoric correlation",
            columns=flat,
            allowed="drop these items first",
        )
    r, tau, n_corrected, smoothed = polychoric_matrix(df, correct=float(correct), smooth=smooth)
    names = [str(c) for c in df.columns]
    return PolychoricResult(
        n=int(len(df)),
        k=len(names),
        method="polychoric, two-step (thresholds from the marginals, ML for rho)",
        correct=float(correct),
        n_corrected=n_corrected,
        smoothed=smoothed,
        rho=pd.DataFrame(r, index=names, columns=names),
        tau=pd.DataFrame(tau.T, index=names, columns=[f"t{i + 1}" for i in range(tau.shape[0])]),
    )
