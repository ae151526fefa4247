"""McDonald's omega: total from a one-factor ML model, hierarchical via Schmid–Leiman."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize

from .._validate import check_choice, check_level, check_positive_int
from ..errors import DataError, EvalkitWarning, ParameterError
from ..results import Result
from ._common import (
    boot_indices,
    cov_matrix,
    cov_to_cor,
    item_frame,
    pairwise_cov,
    percentile_ci,
    rng_from,
    smc,
)
from .polychoric import ordinal_frame, polychoric_matrix

__all__ = ["OmegaResult", "omega", "pairwise_cor_psych"]


@dataclass(frozen=True)
class OmegaResult(Result):
    """McDonald's omega.

    Attributes
    ----------
    estimate, omega_total : (Σλ)²/((Σλ)² + Σθ) from the one-factor ML model (raw metric)
    omega_hierarchical : (Σg)²/ΣR from the Schmid–Leiman general factor (``nfactors >= 3``)
    omega_total_sl : 1 − Σu²/ΣR with u² = 1 − h² from the first-order (``nfactors``-factor
        minres) communalities, as psych's ``omega.tot``
    loadings, uniquenesses : the one-factor ML solution, by item
    """

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    level: float
    method: str
    omega_total: float
    omega_hierarchical: float
    omega_total_sl: float
    nfactors: int
    loadings: pd.Series = field(repr=False, compare=False)
    uniquenesses: pd.Series = field(repr=False, compare=False)
    _title = "McDonald's omega"


# --- maximum-likelihood factor analysis (Jöreskog's concentrated likelihood in ψ) ----------


def _ml_parts(psi: np.ndarray, r: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    s = 1.0 / np.sqrt(psi)
    vals, vecs = np.linalg.eigh(r * np.outer(s, s))
    order = np.argsort(vals)[::-1]
    return vals[order], vecs[:, order]


def _ml_objective(psi: np.ndarray, r: np.ndarray, m: int) -> float:
    vals, _ = _ml_parts(psi, r, m)
    rest = np.clip(vals[m:], 1e-300, None)
    return float(np.sum(rest - np.log(rest)) - (r.shape[0] - m))


def _ml_loadings(psi: np.ndarray, r: np.ndarray, m: int) -> np.ndarray:
    vals, vecs = _ml_parts(psi, r, m)
    lam = vecs[:, :m] * np.sqrt(np.clip(vals[:m] - 1.0, 0.0, None))
    return lam * np.sqrt(psi)[:, None]


def _ml_gradient(psi: np.ndarray, r: np.ndarray, m: int) -> np.ndarray:
    lam = _ml_loadings(psi, r, m)
    resid = lam @ lam.T + np.diag(psi) - r
    return np.diag(resid) / psi**2


def ml_factor(r: np.ndarray, m: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Maximum-likelihood factor analysis of a correlation matrix (as R's ``factanal``).

    Minimises Σ_{j>m}(θⱼ − log θⱼ) over the uniquenesses ψ, with θ the eigenvalues of
    Ψ^{-1/2} R Ψ^{-1/2}; loadings Λ = Ψ^{1/2} Ω_m (Θ_m − I)^{1/2}. Returns (Λ, ψ).
    """
    start = np.clip(1.0 - smc(r), 0.005, 1.0)
    res = optimize.minimize(
        _ml_objective,
        start,
        args=(r, m),
        jac=_ml_gradient,
        method="L-BFGS-B",
        bounds=[(0.005, 1.0)] * r.shape[0],
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000},
    )
    psi = res.x
    return _ml_loadings(psi, r, m), psi


# --- minres, oblimin and Schmid–Leiman (psych::omega's defaults) -------------------------------


def _minres_loadings(psi: np.ndarray, r: np.ndarray, m: int) -> np.ndarray:
    rr = r.copy()
    np.fill_diagonal(rr, 1.0 - psi)
    vals, vecs = np.linalg.eigh(rr)
    order = np.argsort(vals)[::-1][:m]
    vals = np.clip(vals[order], 100 * np.finfo(float).eps, None)
    return vecs[:, order] * np.sqrt(vals)


def _minres_objective(psi: np.ndarray, r: np.ndarray, m: int) -> float:
    lam = _minres_loadings(psi, r, m)
    resid = r - lam @ lam.T
    np.fill_diagonal(resid, 0.0)
    return float(np.sum(resid**2))


def minres_factor(r: np.ndarray, m: int) -> np.ndarray:
    """Minimum-residual (unweighted least squares) factor loadings, as psych ``fa(fm="minres")``."""
    start = np.clip(1.0 - smc(r), 0.005, 1.0)
    res = optimize.minimize(
        _minres_objective,
        start,
        args=(r, m),
        method="L-BFGS-B",
        bounds=[(0.005, 1.0)] * r.shape[0],
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 5000},
    )
    return _minres_loadings(res.x, r, m)


def oblimin(
    a: np.ndarray, *, tol: float = 1e-8, max_iter: int = 5000
) -> tuple[np.ndarray, np.ndarray]:
    """Direct quartimin (oblimin, γ = 0) rotation by gradient projection (Jennrich 2002).

    Returns the pattern matrix and the factor correlations Φ.
    """
    k = a.shape[1]
    t = np.eye(k)

    def crit(lam: np.ndarray) -> tuple[float, np.ndarray]:
        l2 = lam**2
        off = l2 @ (np.ones((k, k)) - np.eye(k))
        return float(np.sum(l2 * off) / 4.0), lam * off

    lam = a @ np.linalg.inv(t).T
    f, gq = crit(lam)
    g = -(lam.T @ gq @ np.linalg.inv(t)).T
    step = 1.0
    for _ in range(max_iter):
        gp = g - t @ np.diag(np.sum(t * g, axis=0))
        if np.sqrt(np.sum(gp**2)) < tol:
            break
        step *= 2.0
        for _ in range(20):
            x = t - step * gp
            tt = x / np.sqrt(np.sum(x**2, axis=0))
            lam_new = a @ np.linalg.inv(tt).T
            f_new, gq_new = crit(lam_new)
            if f - f_new > 0.5 * np.sum(gp**2) * step:
                break
            step /= 2.0
        t, lam, f, gq = tt, lam_new, f_new, gq_new
        g = -(lam.T @ gq @ np.linalg.inv(t)).T
    phi = t.T @ t
    # sign: make each factor's loadings sum positive; order by variance explained (as psych)
    signs = np.where(lam.sum(axis=0) < 0, -1.0, 1.0)
    lam = lam * signs
    phi = phi * np.outer(signs, signs)
    order = np.argsort(-np.sum(lam**2, axis=0))
    return lam[:, order], phi[np.ix_(order, order)]


def schmid_leiman(r: np.ndarray, nfactors: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """General-factor loadings, group-factor loadings and uniquenesses (Schmid & Leiman 1957).

    The uniquenesses are ``1 − h²`` with h² the communalities of the first-order
    ``nfactors``-factor minres solution (rotation does not change them), as ``psych::schmid``
    (``u2 <- 1 - diag(orth.load %*% t(orth.load))``). They equal ``1 − g² − Σ group²`` only
    when the second-order factor reproduces the factor correlations exactly (3 group factors).
    """
    first = minres_factor(r, nfactors)
    pattern, phi = oblimin(first)
    g = minres_factor(phi, 1)[:, 0]
    if g.sum() < 0:
        g = -g
    gload = pattern @ g
    group = pattern * np.sqrt(np.clip(1.0 - g**2, 0.0, None))
    h2 = np.sum(first**2, axis=1)
    return gload, group, 1.0 - h2


def pairwise_cor_psych(x: np.ndarray) -> np.ndarray:
    """Correlations with pairwise deletion as R's ``cor(x, use = "pairwise")``.

    Each r_ij uses only the rows where both items are answered: the covariance *and both
    SDs* come from those paired cases (dividing a pairwise covariance by each item's own
    SD over all its answers, as :func:`cov_to_cor` of a pairwise covariance does, differs
    on incomplete data). This is what ``psych::omega`` and ``psych::fa`` analyse.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([[1, 2, 3], [2, np.nan, 4], [3, 5, np.nan], [4, 6, 8], [5, 6, 9.0]])
    >>> round(float(pairwise_cor_psych(x)[0, 1]), 4)  # R: cor(x, use = "pairwise")[1, 2]
    0.9537
    """
    mask = ~np.isnan(x)
    centre = np.nanmean(x, axis=0)
    x0 = np.where(mask, x - centre, 0.0)
    m = mask.astype(float)
    n_ij = m.T @ m
    s_ij = x0.T @ m  # sum of item i over rows where j is also present
    p_ij = x0.T @ x0
    q_ij = (x0**2).T @ m  # sum of squares of item i over rows where j is also present
    with np.errstate(invalid="ignore", divide="ignore"):
        cov = p_ij - s_ij * s_ij.T / n_ij
        var_i = q_ij - s_ij**2 / n_ij
        r = cov / np.sqrt(var_i * var_i.T)
    np.fill_diagonal(r, 1.0)
    return r


def _omega_from_cov(c: np.ndarray) -> tuple[float, np.ndarray, np.ndarray]:
    sd = np.sqrt(np.diag(c))
    lam_std, psi_std = ml_factor(cov_to_cor(c), 1)
    lam = lam_std[:, 0] * sd  # ML is scale invariant: rescale to the raw metric
    if lam.sum() < 0:
        lam = -lam
    theta = psi_std * sd**2
    total = lam.sum() ** 2
    return float(total / (total + theta.sum())), lam, theta


def omega(
    items: Any,
    *,
    nfactors: int = 1,
    missing: str = "pairwise",
    ci: str | None = None,
    level: float = 0.95,
    n_boot: int = 1000,
    seed: Any = None,
    ordinal: bool = False,
) -> OmegaResult:
    """McDonald's omega total (one-factor ML model) and, with ``nfactors >= 3``, omega hierarchical.

    Omega total: a congeneric one-factor model is fitted by maximum likelihood to the item
    covariances (the fit a lavaan CFA gives), and
    ``omega_total = (Σλ)² / ((Σλ)² + Σθ)`` with raw loadings λ and residual variances θ.

    Omega hierarchical (``nfactors >= 3``), as ``psych::omega``: a minres factor analysis
    of the correlation matrix with ``nfactors`` factors, oblimin rotation, a one-factor
    minres analysis of the factor correlations, the Schmid–Leiman transformation, then
    ``omega_h = (Σg)² / ΣR`` and ``omega_total_sl = 1 − Σu² / ΣR`` with u² = 1 − h² from the
    first-order communalities (psych's ``omega.tot``; R summed after reversing items with
    negative general loadings, as psych). With ``missing="pairwise"`` and incomplete data
    R is ``cor(items, use = "pairwise")`` as psych builds it (covariance and SDs from the
    paired cases, :func:`pairwise_cor_psych`).

    Conventions: ``omega_total`` matches lavaan (``cfa`` one-factor model, ``std.lv``,
    raw metric; the pairwise covariance matrix when answers are missing);
    ``omega_hierarchical`` and ``omega_total_sl`` match ``psych::omega(items, nfactors)``.

    Parameters
    ----------
    items : DataFrame or 2-D array
        Rows are people, columns are items (at least 3).
    nfactors : int
        1, or 3 or more group factors for omega hierarchical (2 is not identified).
    missing : {"pairwise", "listwise"}
        How missing answers are handled when forming the covariance matrix.
    ci : None or "bootstrap"
        Percentile bootstrap interval for omega total (``n_boot`` resamples, ``seed``).
    ordinal : bool
        Fit everything to the polychoric correlation matrix
        (:func:`~evalkit.reliability.polychoric`) instead of the item covariances, as
        ``psych::omega(items, poly = TRUE)``; loadings are then standardised. Items must hold
        whole-number codes; no bootstrap interval.

    References
    ----------
    McDonald (1999) *Test theory: a unified treatment*. Schmid & Leiman (1957)
    Psychometrika 22:53. Revelle & Zinbarg (2009) Psychometrika 74:145.

    Examples
    --------
    >>> import pingouin as pg
    >>> data = pg.read_dataset("cronbach_alpha").pivot(index="Subj", columns="Items",
    ...                                                values="Scores")
    >>> round(omega(data).omega_total, 4)       # lavaan cfa('f =~ Q1 + ... + Q10'): 0.6386
    0.6386
    """
    nfactors = check_positive_int("nfactors", nfactors)
    if nfactors == 2:
        raise ParameterError(
            "omega hierarchical needs at least 3 group factors: with 2 the general factor is not "
            "identified",
            key="nfactors",
            expected="1 (omega total only) or 3 or more",
        )
    if ci is not None:
        check_choice("ci", ci, ("bootstrap",))
    level = check_level(level)
    df = item_frame(items, missing=missing, min_items=3, min_rows=3)
    k = df.shape[1]
    if nfactors >= 3 and k < 3 * nfactors:
        raise DataError(
            f"omega hierarchical with {nfactors} group factors needs at least {3 * nfactors} "
            f"items, got {k}",
            columns=[str(c) for c in df.columns],
            allowed="fewer factors or more items",
        )
    if ordinal:  # psych's poly = TRUE: the model is fitted to the polychoric matrix
        if ci is not None:
            raise ParameterError(
                "ordinal omega has no bootstrap interval here", key="ci", expected="None"
            )
        c = polychoric_matrix(ordinal_frame(df))[0]
    else:
        c = cov_matrix(df)
    if np.linalg.eigvalsh(c).min() <= 0:
        warnings.warn(
            "the item covariance matrix is not positive definite (pairwise deletion or "
            "redundant items); omega may be unreliable; consider missing='listwise'",
            EvalkitWarning,
            stacklevel=2,
        )
    est, lam, theta = _omega_from_cov(c)
    omega_h = omega_sl = float("nan")
    if nfactors >= 3:
        x_items = df.to_numpy(dtype=float)
        r = pairwise_cor_psych(x_items) if np.isnan(x_items).any() else cov_to_cor(c)
        gload, _, u2 = schmid_leiman(r, nfactors)
        if (gload < 0).any():
            neg = [str(col) for col, v in zip(df.columns, gload) if v < 0]
            warnings.warn(
                "items with negative general-factor loadings were reversed for omega "
                "hierarchical (as psych does): " + ", ".join(neg),
                EvalkitWarning,
                stacklevel=2,
            )
            flip = np.sign(gload)
            r = r * np.outer(flip, flip)
            gload = np.abs(gload)
        vt = r.sum()
        omega_h = float(gload.sum() ** 2 / vt)
        omega_sl = float(1.0 - u2.sum() / vt)
    lo = hi = float("nan")
    if ci == "bootstrap":
        n_boot = check_positive_int("n_boot", n_boot, minimum=2)
        x = df.to_numpy(dtype=float)
        idx = boot_indices(rng_from(seed), len(x), n_boot)
        boot = np.full(n_boot, np.nan)
        for b in range(n_boot):
            xb = x[idx[b]]
            cb = np.cov(xb, rowvar=False) if not np.isnan(xb).any() else pairwise_cov(xb)
            if np.all(np.isfinite(cb)) and np.all(np.diag(cb) > 0):
                boot[b] = _omega_from_cov(cb)[0]
        lo, hi = percentile_ci(boot, level)
    names = [str(col) for col in df.columns]
    return OmegaResult(
        estimate=est,
        ci_low=lo,
        ci_high=hi,
        n=int(len(df)),
        k=int(k),
        level=level,
        method=f"omega total, one-factor ML ({missing}{', polychoric' if ordinal else ''})"
        + (f"; omega hierarchical, Schmid-Leiman with {nfactors} factors" if nfactors >= 3 else ""),
        omega_total=est,
        omega_hierarchical=omega_h,
        omega_total_sl=omega_sl,
        nfactors=nfactors,
        loadings=pd.Series(lam, index=names, name="loading"),
        uniquenesses=pd.Series(theta, index=names, name="uniqueness"),
    )
