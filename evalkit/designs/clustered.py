"""Inference for ordinary least squares with few clusters: CR2 and the wild cluster bootstrap.

One entry point, :func:`cluster_inference`, gives the standard error, degrees of
freedom, interval and p-value of one coefficient of an OLS fit by one of

- ``"HC3"``: heteroscedasticity-consistent (MacKinnon & White 1985), *t* with *N − K* df;
- ``"CR1"``: cluster-robust with Stata's factor :math:`G/(G-1)\\cdot(N-1)/(N-K)`, *t* with
  *G − 1* df;
- ``"CR2"``: Bell & McCaffrey's bias-reduced estimator with Satterthwaite df, as R's
  ``clubSandwich::coef_test(fit, vcov = "CR2", test = "Satterthwaite")``;
- ``"wild"``: the restricted wild cluster bootstrap (WCR-C, Roodman et al. 2019), p-value
  and interval by test inversion;
- ``"auto"``: CR2 from :data:`AUTO_WILD_BELOW` clusters up, the wild bootstrap below.

The designs (:func:`evalkit.designs.ancova`) call it; the functions here take arrays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import ParameterError

__all__ = [
    "SE_OPTIONS",
    "AUTO_WILD_BELOW",
    "WEBB_BELOW",
    "ClusterInference",
    "choose_se",
    "cluster_inference",
    "vcov_cr2",
    "satterthwaite_df_cr2",
    "wild_cluster_bootstrap",
]

#: the values ``se=`` accepts
SE_OPTIONS = ("HC3", "CR1", "CR2", "wild", "auto")
#: ``se="auto"`` uses the wild cluster bootstrap below this many clusters, CR2 from it up
AUTO_WILD_BELOW = 12
#: the wild bootstrap draws Webb's six-point weights below this many clusters, Rademacher from it
WEBB_BELOW = 12
_WEBB_POINTS = np.concatenate(
    [-np.sqrt(np.array([3.0, 2.0, 1.0]) / 2), np.sqrt(np.array([1.0, 2.0, 3.0]) / 2)]
)


@dataclass(frozen=True)
class ClusterInference:
    """Inference on one OLS coefficient (see :func:`cluster_inference`)."""

    estimate: float
    se: float
    df: float
    ci_low: float
    ci_high: float
    p: float
    method: str
    reason: str
    label: str
    n_clusters: int | None
    n_boot: int | None = None
    weights: str | None = None


def choose_se(se: str | None, n_clusters: int | None) -> tuple[str, str]:
    """The method ``se`` stands for, and why (``"auto"`` and ``None`` resolved).

    ``None`` is ``"auto"`` with clusters and ``"HC3"`` without.
    """
    if se is None:
        se = "auto" if n_clusters is not None else "HC3"
    if se not in SE_OPTIONS:
        raise ParameterError(
            f"se={se!r} is not one of the options",
            key="se",
            expected=" or ".join(repr(s) for s in SE_OPTIONS),
        )
    if n_clusters is None:
        if se in ("CR1", "CR2", "wild"):
            raise ParameterError(
                f"se={se!r} needs clusters, but no cluster column was given",
                key="cluster",
                expected=f"a cluster column for se={se!r}, or se='HC3'",
            )
        return "HC3", "no clusters: heteroscedasticity-consistent HC3 standard errors"
    if se != "auto":
        return se, f"se={se!r} was asked for"
    if n_clusters < AUTO_WILD_BELOW:
        return "wild", (
            f"{n_clusters} clusters (fewer than {AUTO_WILD_BELOW}): the restricted wild cluster "
            "bootstrap, because cluster-robust standard errors are unreliable with so few clusters"
        )
    return "CR2", (
        f"{n_clusters} clusters ({AUTO_WILD_BELOW} or more): bias-reduced cluster-robust "
        "standard errors (CR2) with Satterthwaite degrees of freedom"
    )


def _split(groups: np.ndarray) -> list[np.ndarray]:
    """Row indices of each cluster, clusters in sorted order of their codes."""
    order = np.argsort(groups, kind="stable")
    _, starts = np.unique(groups[order], return_index=True)
    return np.split(order, starts[1:])


def _cr2_pieces(x: np.ndarray, groups: np.ndarray) -> tuple[np.ndarray, list, list]:
    r"""M = (X'X)⁻¹, the clusters' rows, and each cluster's CR2 adjustment in low-rank form.

    :math:`H_{gg} = X_g M X_g' = Q S^2 Q'` (thin SVD of :math:`X_g L`, :math:`LL' = M`), so
    :math:`A_g = (I - H_{gg})^{-1/2} = I + Q\,\mathrm{diag}(d)\,Q'` with
    :math:`d = (1 - s^2)^{-1/2} - 1`, and :math:`d = -1` where :math:`1 - s^2 \le 10^{-12}`
    (clubSandwich's ``Sym_power`` drops those eigenvalues: the Moore–Penrose root).
    """
    m = np.linalg.inv(x.T @ x)
    chol = np.linalg.cholesky((m + m.T) / 2)
    idx = _split(groups)
    adj = []
    for ix in idx:
        q, sv, _ = np.linalg.svd(x[ix] @ chol, full_matrices=False)
        ev = 1.0 - sv**2
        d = np.where(ev > 1e-12, np.abs(ev) ** -0.5, 0.0) - 1.0
        adj.append((q, d))
    return m, idx, adj


def _apply(adj: tuple[np.ndarray, np.ndarray], v: np.ndarray) -> np.ndarray:
    """A_g @ v for the low-rank form of :func:`_cr2_pieces`."""
    q, d = adj
    qv = q.T @ v
    return v + q @ (d[:, None] * qv if qv.ndim == 2 else d * qv)


def vcov_cr2(x: np.ndarray, resid: np.ndarray, groups: np.ndarray) -> np.ndarray:
    r"""Bell–McCaffrey (CR2) cluster-robust covariance of OLS coefficients.

    :math:`V = M\left[\sum_g X_g' A_g e_g e_g' A_g X_g\right]M`, :math:`M = (X'X)^{-1}`,
    :math:`A_g = (I - X_g M X_g')^{-1/2}` (symmetric square root; a singular block uses
    the Moore–Penrose root). No further small-sample factor. Matches
    ``clubSandwich::vcovCR(lm(...), cluster, type = "CR2")``.
    """
    m, idx, adj = _cr2_pieces(x, groups)
    meat = np.zeros((x.shape[1], x.shape[1]))
    for ix, a in zip(idx, adj):
        s = x[ix].T @ _apply(a, resid[ix])
        meat += np.outer(s, s)
    return m @ meat @ m


def satterthwaite_df_cr2(x: np.ndarray, groups: np.ndarray) -> np.ndarray:
    r"""Satterthwaite df of each coefficient's CR2 variance (Bell & McCaffrey 2002).

    With :math:`g_j = A_j X_j M c` for the coefficient's unit vector *c*, the
    *G × G* matrix :math:`P_{jk} = g_j'(\delta_{jk}I - X_j M X_k')g_k` (working model:
    independent, equal-variance errors) gives :math:`\nu = (\operatorname{tr}P)^2/\sum_{jk}P_{jk}^2`,
    as ``clubSandwich::coef_test(..., test = "Satterthwaite")`` for an ``lm`` fit.
    """
    m, idx, adj = _cr2_pieces(x, groups)
    p = x.shape[1]
    gmats = [_apply(a, x[ix] @ m) for ix, a in zip(idx, adj)]  # column k is g_j for coef k
    out = np.empty(p)
    for k in range(p):
        g = [gm[:, k] for gm in gmats]
        w = np.array([x[ix].T @ gk for ix, gk in zip(idx, g)])  # G × p
        pmat = np.diag([gk @ gk for gk in g]) - w @ m @ w.T
        out[k] = np.trace(pmat) ** 2 / np.sum(pmat**2)
    return out


def _cr1_vcov(x: np.ndarray, resid: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """CR1 covariance with Stata's factor G/(G-1)·(N-1)/(N-K)."""
    n, k = x.shape
    m = np.linalg.inv(x.T @ x)
    idx = _split(groups)
    scores = np.array([x[ix].T @ resid[ix] for ix in idx])
    g = len(idx)
    return g / (g - 1) * (n - 1) / (n - k) * (m @ scores.T @ scores @ m)


def _hc3_vcov(x: np.ndarray, resid: np.ndarray) -> np.ndarray:
    m = np.linalg.inv(x.T @ x)
    h = np.einsum("ij,jk,ik->i", x, m, x)
    u2 = (resid / (1 - h)) ** 2
    return m @ (x.T * u2) @ x @ m


def _draw_weights(n_clusters: int, n_boot: int, seed: int | None) -> tuple[np.ndarray, str]:
    """G × B bootstrap weights: Webb below :data:`WEBB_BELOW` clusters, Rademacher from it.

    Rademacher weights are enumerated in full (all 2^G sign vectors) when 2^G < ``n_boot``,
    as Roodman et al. (2019) and ``wildboottest`` do; so are Webb's weights (all 6^G
    vectors) when 6^G <= ``n_boot``. With 4 or 5 clusters the bootstrap distribution has only
    1,296 or 7,776 distinct points, and random draws from it move the interval's ends with
    the seed; the full enumeration is the exact bootstrap distribution (Webb 2014, section 4).
    Draws otherwise come from ``numpy.random.default_rng(seed)``.
    """
    rng = np.random.default_rng(seed)
    if n_clusters < WEBB_BELOW:
        if 6**n_clusters <= n_boot:
            idx = np.indices((6,) * n_clusters).reshape(n_clusters, -1)
            return _WEBB_POINTS[idx], "Webb six-point (full enumeration)"
        v = rng.choice(_WEBB_POINTS, size=n_clusters * n_boot).reshape(n_clusters, n_boot)
        return v, "Webb six-point"
    if 2**n_clusters < n_boot:
        grid = (np.arange(2**n_clusters)[:, None] >> np.arange(n_clusters)[::-1]) & 1
        return (2.0 * grid - 1.0).T, "Rademacher (full enumeration)"
    v = rng.choice(np.array([-1.0, 1.0]), size=n_clusters * n_boot)
    return v.reshape(n_clusters, n_boot), "Rademacher"


class _WildWCR:
    """Restricted wild cluster bootstrap (WCR-C, CRV1 t statistic) for coefficient ``k``."""

    def __init__(self, x: np.ndarray, y: np.ndarray, groups: np.ndarray, k: int, v: np.ndarray):
        n, p = x.shape
        self.k = k
        self.v = v
        idx = _split(groups)
        g = len(idx)
        self.ssc = g / (g - 1) * (n - 1) / (n - p)
        self.m = np.linalg.inv(x.T @ x)
        self.beta = self.m @ (x.T @ y)
        self.xgy = np.array([x[ix].T @ y[ix] for ix in idx])  # G × p
        self.xgx = np.array([x[ix].T @ x[ix] for ix in idx])  # G × p × p
        # Q[g] = (M X_g'X_g M)[k, :]
        self.q = np.einsum("j,gjl,lm->gm", self.m[k], self.xgx, self.m)
        resid = y - x @ self.beta
        scores = np.array([x[ix].T @ resid[ix] for ix in idx])
        c = scores @ self.m[k]
        self.se = math.sqrt(self.ssc * float(c @ c))

    def pvalue(self, r: float) -> float:
        """Bootstrap p of H0: beta_k = r, share of |t*| strictly above |t| (wildboottest)."""
        k, m = self.k, self.m
        beta_r = self.beta - m[:, k] / m[k, k] * (self.beta[k] - r)
        s = self.xgy - self.xgx @ beta_r  # G × p restricted scores
        c = s @ m[k]  # G
        h = self.q @ s.T  # G × G
        numer = c @ self.v
        z = c[:, None] * self.v - h @ self.v
        denom = self.ssc * np.sum(z**2, axis=0)
        with np.errstate(divide="ignore", invalid="ignore"):
            tboot = numer / np.sqrt(denom)
        t = (self.beta[k] - r) / self.se
        return float(np.mean(abs(t) < np.abs(tboot)))

    def bound(self, alpha: float, direction: int, tol: float) -> float:
        """Edge of {r: p(r) > alpha} on one side of the estimate, by bracketing and bisection."""
        est, step = float(self.beta[self.k]), self.se
        inside = est
        outside = None
        for mult in (1, 2, 4, 8, 16, 32, 64, 128, 256, 1024):
            r = est + direction * mult * step
            if self.pvalue(r) <= alpha:
                outside = r
                break
            inside = r
        if outside is None:
            return direction * math.inf
        while abs(outside - inside) > tol:
            mid = (inside + outside) / 2
            if self.pvalue(mid) > alpha:
                inside = mid
            else:
                outside = mid
        return (inside + outside) / 2


def wild_cluster_bootstrap(
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray,
    k: int,
    *,
    level: float = 0.95,
    n_boot: int = 9999,
    seed: int | None = None,
    null: float = 0.0,
) -> ClusterInference:
    r"""Restricted wild cluster bootstrap (WCR) for coefficient ``k`` of an OLS fit.

    The bootstrap samples :math:`y^* = X\tilde\beta + v_g\tilde u_g` impose the null
    :math:`\beta_k = r` (:math:`\tilde\beta` the restricted estimate, :math:`\tilde u` its
    residuals), with one weight :math:`v_g` per cluster: Webb's six-point distribution
    (±√(1/2), ±1, ±√(3/2)) below :data:`WEBB_BELOW` clusters, Rademacher (±1) otherwise.
    Each sample gives the CR1 *t* statistic (factor :math:`G/(G-1)\cdot(N-1)/(N-K)`);
    the p-value is the share of :math:`|t^*|` above :math:`|t|` (WCR-C, bootstrap type
    "11"). The interval collects the values *r* that the test does not reject at
    1 − ``level`` (test inversion, with the same weights for every *r*; Roodman et al.
    2019, §3.5), found by bisection to 10⁻⁶·SE. ``se`` is the CR1 SE; ``df`` is NaN
    (no *t* reference distribution).

    Matches the p-value of Python's ``wildboottest(model, B, cluster, param,
    weights_type, bootstrap_type="11", impose_null=True, seed)`` for the same weights.

    References
    ----------
    Cameron, A. C., Gelbach, J. B. & Miller, D. L. (2008). Bootstrap-based improvements for
    inference with clustered errors. *Rev Econ Stat* 90, 414–427.
    Webb, M. D. (2023). Reworking wild bootstrap-based inference for clustered errors.
    *Can J Econ* 56, 839–858.
    Roodman, D., MacKinnon, J. G., Nielsen, M. Ø. & Webb, M. D. (2019). Fast and wild:
    bootstrap inference in Stata using boottest. *Stata J* 19, 4–60.
    MacKinnon, J. G. & Webb, M. D. (2018). The wild bootstrap for few (treated) clusters.
    *Econometrics J* 21, 114–135.
    """
    g = len(np.unique(groups))
    v, wname = _draw_weights(g, n_boot, seed)
    wcr = _WildWCR(x, y, groups, k, v)
    p = wcr.pvalue(null)
    alpha = 1 - level
    tol = 1e-6 * wcr.se
    lo = wcr.bound(alpha, -1, tol)
    hi = wcr.bound(alpha, +1, tol)
    return ClusterInference(
        estimate=float(wcr.beta[k]),
        se=wcr.se,
        df=math.nan,
        ci_low=lo,
        ci_high=hi,
        p=p,
        method="wild",
        reason="",
        label=f"restricted wild cluster bootstrap ({wname} weights, {v.shape[1]} replications)",
        n_clusters=g,
        n_boot=int(v.shape[1]),
        weights=wname,
    )


def cluster_inference(
    x: np.ndarray,
    y: np.ndarray,
    groups: np.ndarray | None,
    k: int,
    *,
    se: str | None = None,
    level: float = 0.95,
    n_boot: int = 9999,
    seed: int | None = None,
) -> tuple[ClusterInference, np.ndarray, np.ndarray]:
    """Inference on coefficient ``k`` of the OLS fit of ``y`` on ``x`` by method ``se``.

    Returns the inference for coefficient ``k`` and, for every coefficient, the
    standard errors and df of the analytic method used (CR2 for ``"wild"``, whose
    bootstrap covers coefficient ``k`` only).

    Examples
    --------
    A balanced comparison of 3 and 3 clusters: CR2 is the t test on cluster means, G − 2 df.

    >>> import numpy as np
    >>> g = np.repeat(np.arange(6), 4)
    >>> x = np.column_stack([np.ones(24), g % 2])
    >>> y = np.array([3.1, 2.9, 3.4, 3.0, 4.2, 4.0, 4.5, 3.9, 2.8, 3.3, 3.1, 2.7,
    ...               4.4, 4.1, 3.8, 4.6, 3.0, 3.2, 2.6, 3.1, 4.0, 4.3, 4.1, 4.7])
    >>> res, _, _ = cluster_inference(x, y, g, 1, se="CR2")
    >>> res.method, round(res.se, 6), round(res.df, 4)
    ('CR2', 0.055277, 4.0)
    >>> cluster_inference(x, y, g, 1, se="auto", n_boot=999, seed=1)[0].method
    'wild'
    """
    from scipy import stats

    n, p = x.shape
    n_clusters = None if groups is None else int(len(np.unique(groups)))
    method, reason = choose_se(se, n_clusters)
    beta = np.linalg.lstsq(x, y, rcond=None)[0]
    resid = y - x @ beta
    if method == "HC3":
        ses = np.sqrt(np.diag(_hc3_vcov(x, resid)))
        dfs = np.full(p, float(n - p))
        label = "HC3"
    elif method == "CR1":
        ses = np.sqrt(np.diag(_cr1_vcov(x, resid, groups)))
        dfs = np.full(p, float(n_clusters - 1))
        label = "cluster-robust CR1"
    else:
        ses = np.sqrt(np.diag(vcov_cr2(x, resid, groups)))
        dfs = satterthwaite_df_cr2(x, groups)
        label = "cluster-robust CR2 (Bell-McCaffrey), Satterthwaite df"
    if method == "wild":
        res = wild_cluster_bootstrap(x, y, groups, k, level=level, n_boot=n_boot, seed=seed)
        res = ClusterInference(**{**res.__dict__, "reason": reason})
        return res, ses, dfs
    est, s, d = float(beta[k]), float(ses[k]), float(dfs[k])
    q = stats.t.ppf(0.5 + level / 2, d)
    pval = float(2 * stats.t.sf(abs(est / s), d)) if s > 0 else math.nan
    res = ClusterInference(
        estimate=est,
        se=s,
        df=d,
        ci_low=est - q * s,
        ci_high=est + q * s,
        p=pval,
        method=method,
        reason=reason,
        label=label,
        n_clusters=n_clusters,
    )
    return res, ses, dfs
