"""Random-intercept (two-level) model for people nested in groups (centres, practices, areas)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, check_level
from ..errors import DataError, EvalkitWarning, ParameterError
from ..results import Result
from ._common import (
    as_list,
    cluster_checks,
    listwise,
    numeric_column,
    t_interval,
    t_pvalue,
    treatment_design,
    treatment_indicator,
)

__all__ = ["multilevel", "MultilevelResult", "lmm_reml", "LmmFit"]


@dataclass(frozen=True)
class MultilevelResult(Result):
    """Result of :func:`multilevel`: the treatment effect and the groups' ICC."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    n: int
    level: float
    method: str
    df: float
    df_method: str
    effect_size: float
    icc: float
    icc_adjusted: float
    tau2: float
    sigma2: float
    n_groups: int
    n_groups_treated: int
    n_groups_control: int
    treatment_level: str
    converged: bool
    n_dropped: int
    coefficients: pd.DataFrame = field(repr=False)
    missing_by_column: dict = field(repr=False, default_factory=dict)
    df_satterthwaite: float = math.nan
    df_bw: float = math.nan
    p_satterthwaite: float = math.nan
    icc_ci_low: float = math.nan
    icc_ci_high: float = math.nan
    icc_ci_method: str = "profile likelihood (REML)"
    random_slope: bool = False
    tau2_slope: float = math.nan
    level3: str | None = None
    tau2_level3: float = math.nan
    icc_level3: float = math.nan
    n_level3: int | None = None

    _title = "Multilevel model: treatment effect"

    def to_frame(self) -> pd.DataFrame:
        """Rows: the treatment effect and the standardised effect (d with the total SD)."""
        # effect_size = estimate / total SD of the treatment-only model
        scale = self.estimate / self.effect_size if self.effect_size else math.nan
        rows = [
            ("treatment_effect", self.estimate, self.se, self.ci_low, self.ci_high, self.p),
            (
                "standardised_effect",
                self.effect_size,
                self.se / scale,
                self.ci_low / scale,
                self.ci_high / scale,
                self.p,
            ),
        ]
        return self._tidy(rows, shared=("n", "n_groups", "icc", "level", "method"))

    def plot(self, ax: Any = None) -> Any:
        """The treatment effect with its interval."""
        from ..plots.designs import effect_plot

        return effect_plot(
            ["treatment effect"],
            [self.estimate],
            [self.ci_low],
            [self.ci_high],
            ax=ax,
            title=f"Random-intercept model, {self.n_groups} groups, ICC {self.icc:.2f}",
        )


def _constant_within(col: np.ndarray, groups: np.ndarray) -> bool:
    s = pd.Series(col).groupby(groups).nunique()
    return bool((s <= 1).all())


def _icc_profile_ci(
    y: np.ndarray, x: np.ndarray, codes: np.ndarray, fit: LmmFit, level: float
) -> tuple[float, float]:
    """Profile-likelihood interval for ICC = θ²/(1 + θ²) of a random-intercept model.

    The ICC depends on the variance parameters only through θ = τ/σ, and the profiled REML
    deviance d(θ) has β and σ maximised out, so {θ: d(θ) − d(θ̂) ≤ χ²₁(level)} is the
    profile-likelihood interval for θ and, mapped through θ²/(1+θ²), for the ICC.
    """
    from scipy import optimize, stats

    model = _Reml(y, x, [(np.ones(len(y)), codes)])
    th = float(fit.theta[0])
    dmin = model.profiled(np.array([th]))
    crit = float(stats.chi2.ppf(level, 1))

    def excess(t: float) -> float:
        return model.profiled(np.array([abs(t)])) - dmin - crit

    lo = 0.0 if excess(0.0) <= 0 else optimize.brentq(excess, 0.0, th, xtol=1e-12)
    hi_end = max(th, 0.1)
    for _ in range(60):
        hi_end *= 2
        if excess(hi_end) > 0:
            break
    else:
        return lo**2 / (1 + lo**2), 1.0
    hi = optimize.brentq(excess, th, hi_end, xtol=1e-12)
    return lo**2 / (1 + lo**2), hi**2 / (1 + hi**2)


def multilevel(
    df: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    groups: str,
    baseline: str | None = None,
    covariates: Sequence[str] = (),
    level: float = 0.95,
    ddf: str = "bw",
    random_slope: bool = False,
    level3: str | None = None,
) -> MultilevelResult:
    r"""Treatment effect from a multilevel model (people within groups, optionally within areas).

    Fits :math:`y_{ij} = \beta_0 + \tau T_{ij} + \gamma' x_{ij} + u_j + e_{ij}`,
    :math:`u_j \sim N(0, \tau^2)`, :math:`e_{ij} \sim N(0, \sigma^2)` by restricted maximum
    likelihood, as R's ``lme4::lmer(y ~ T + x + (1 | group))``: the same profiled REML
    deviance and parameterisation (:func:`lmm_reml`), and fixed-effect standard errors
    :math:`\hat\sigma^2(X'V^{-1}X)^{-1}` at the REML estimates (lme4's ``vcov``; nlme and
    SAS agree). Options: ``random_slope=True`` adds a random treatment slope correlated with
    the intercept, ``(1 + T | group)``; ``level3="area"`` adds a random intercept for a higher
    level in which the groups nest, ``(1 | area) + (1 | area:group)``.

    Degrees of freedom, both in the ``coefficients`` table:

    - between–within (SAS ``DDFM=BW``, column ``df_bw``): :math:`J - p_2` when a term is
      constant within groups (a group-level treatment; :math:`p_2` such terms, including the
      intercept) and :math:`N - J - p_1` otherwise (:math:`p_1` terms that vary within groups);
    - Satterthwaite as ``lmerTest``'s ``summary()`` (columns ``df_satterthwaite``,
      ``p_satterthwaite``; Kuznetsova et al. 2017).

    ``ddf`` chooses which of the two drives ``df``, the interval and ``p`` (default
    ``"bw"``). ``statsmodels`` itself reports normal intervals, which are too narrow with
    few groups.

    Intraclass correlation: ``icc`` = :math:`\hat\tau^2/(\hat\tau^2 + \hat\sigma^2)` from the
    random-intercept model with the treatment only (the outcome's ICC within arms, the figure
    power calculations need; with ``level3`` the denominator adds the area variance, and
    ``icc_level3`` is the areas' share), with a **profile-likelihood** interval
    (``icc_ci_low``, ``icc_ci_high``; two-level models only: NaN with ``level3``);
    ``icc_adjusted`` the same from the full model (the residual ICC after baseline and
    covariates; with a random slope, the intercept variance, i.e. in the comparison arm).
    ``effect_size`` = :math:`\hat\tau/\sqrt{\tau^2+\sigma^2}` with the variances of the
    treatment-only model (Hedges 2007, :math:`\delta_T`).

    Parameters
    ----------
    df
        One row per person.
    outcome, treatment, groups
        Outcome (numeric), two-valued treatment (1 served / 0 comparison) and group
        identifier columns.
    baseline, covariates
        Optional adjustment variables; text columns become indicators.
    level
        Confidence level.
    ddf
        ``"bw"`` (between–within, default) or ``"satterthwaite"`` (lmerTest).
    random_slope
        Add a random slope for the treatment (correlated with the random intercept).
    level3
        Optional column of a higher level (e.g. area) in which the groups nest.

    Returns
    -------
    MultilevelResult

    References
    ----------
    Raudenbush, S. W. & Bryk, A. S. (2002). *Hierarchical Linear Models*, 2nd ed. Sage.
    Hedges, L. V. (2007). Effect sizes in cluster-randomized designs. *J Educ Behav Stat* 32, 341–370.
    Bates, D. et al. (2015). Fitting linear mixed-effects models using lme4. *J Stat Softw* 67(1).
    Kuznetsova, A. et al. (2017). lmerTest package. *J Stat Softw* 82(13).

    Examples
    --------
    >>> from evalkit.simulate import individual_trial
    >>> from evalkit.designs.multilevel import multilevel
    >>> d = individual_trial(600, 0.3, seed=2, clusters=30, icc=0.1)
    >>> res = multilevel(d, outcome="outcome", treatment="treatment", groups="cluster",
    ...                  baseline="baseline")
    >>> res.n_groups, res.treatment_level
    (30, 'group')
    """
    level = check_level(level)
    ddf = check_choice("ddf", ddf, ("bw", "satterthwaite"))
    covariates = as_list(covariates, key="covariates")
    adjust = ([baseline] if baseline is not None else []) + covariates
    if groups in [outcome, treatment] + adjust:
        raise ParameterError(
            f"groups={groups!r} is also used as outcome, treatment or covariate", key="groups"
        )
    if level3 is not None and level3 in [outcome, treatment, groups] + adjust:
        raise ParameterError(
            f"level3={level3!r} is also used as outcome, treatment, groups or covariate",
            key="level3",
        )
    cols = [outcome, treatment, groups] + adjust + ([level3] if level3 else [])
    data, deletion = listwise(df, cols)
    t = treatment_indicator(data, treatment)
    y = numeric_column(data, outcome)
    if level3:
        # groups are numbered within areas (area:group), as lme4's (1 | area/group)
        g = pd.factorize(data[level3].astype(str) + "\x1f" + data[groups].astype(str))[0]
        a_codes = pd.factorize(data[level3])[0]
        n_level3 = int(a_codes.max()) + 1
        if n_level3 < 2:
            raise DataError(
                "a third level needs at least two units", column=level3, allowed="two or more"
            )
    else:
        g = pd.factorize(data[groups])[0]
        a_codes, n_level3 = None, None
    n_groups, n_gt, n_gc = cluster_checks(g, t, column=groups)
    design = treatment_design(data, treatment, t, adjust)
    x = design.to_numpy(dtype=float)
    n = len(y)
    ones = np.ones(n)

    def terms(slope: bool) -> list[tuple[np.ndarray, np.ndarray]]:
        out = [(np.column_stack([ones, t]) if slope else ones, g)]
        if a_codes is not None:
            out.append((ones, a_codes))
        return out

    fit = lmm_reml(y, x, terms(random_slope))
    converged = fit.converged
    if not converged:
        warnings.warn(
            "the mixed model did not converge cleanly; treat the estimates with "
            "caution (try fewer covariates or check for groups with tiny sizes)",
            EvalkitWarning,
            stacklevel=2,
        )
    sigma2 = fit.sigma**2
    cov0 = fit.ranef_cov(0)
    tau2 = float(cov0[0, 0])
    tau2_slope = float(cov0[1, 1]) if random_slope else math.nan
    tau2_l3 = float(fit.ranef_cov(1)[0, 0]) if a_codes is not None else math.nan
    if adjust or random_slope:
        fit0 = lmm_reml(y, x[:, :2], terms(False))
    else:
        fit0 = fit
    tau2_0, sigma2_0 = float(fit0.ranef_cov(0)[0, 0]), fit0.sigma**2
    l3_0 = float(fit0.ranef_cov(1)[0, 0]) if a_codes is not None else 0.0
    total0 = tau2_0 + sigma2_0 + l3_0
    if tau2_0 <= 1e-8 * max(sigma2_0, 1e-300):
        warnings.warn(
            f"the estimated variance between groups is zero: outcomes do not vary more between "
            f"the {n_groups} groups than chance would give, so the model reduces to ordinary "
            "regression (ICC 0)",
            EvalkitWarning,
            stacklevel=2,
        )
    if a_codes is None:
        icc_lo, icc_hi = _icc_profile_ci(y, x[:, :2], g, fit0, level)
    else:
        icc_lo = icc_hi = math.nan

    level2 = [_constant_within(x[:, k], g) for k in range(x.shape[1])]
    p2 = sum(level2)
    p1 = x.shape[1] - p2

    def bw(k: int) -> float:
        return float(n_groups - p2) if level2[k] else float(n - n_groups - p1)

    params, bse = fit.beta, fit.se
    df_bw = np.array([bw(k) for k in range(len(params))])
    df_sat = fit.df_satterthwaite
    if df_bw[1] < 1:
        raise DataError(
            f"too few groups ({n_groups}) for {p2} group-level terms",
            column=groups,
            allowed="more groups or fewer group-level covariates",
        )
    dfs = df_bw if ddf == "bw" else df_sat
    est, se, dfree = float(params[1]), float(bse[1]), float(dfs[1])
    lo, hi = t_interval(est, se, dfree, level)
    coefs = pd.DataFrame({"term": list(design.columns), "estimate": params, "se": bse, "df": dfs})
    cis = [t_interval(b, s, d, level) for b, s, d in zip(params, bse, dfs)]
    coefs["ci_low"] = [c[0] for c in cis]
    coefs["ci_high"] = [c[1] for c in cis]
    coefs["p"] = [t_pvalue(b / s, d) for b, s, d in zip(params, bse, dfs)]
    coefs["df_bw"] = df_bw
    coefs["df_satterthwaite"] = df_sat
    coefs["p_satterthwaite"] = [t_pvalue(b / s, d) for b, s, d in zip(params, bse, df_sat)]

    structure = "random intercept and treatment slope" if random_slope else "random intercept"
    if level3:
        structure += f" within {level3}"
    return MultilevelResult(
        estimate=est,
        se=se,
        ci_low=lo,
        ci_high=hi,
        p=t_pvalue(est / se, dfree),
        n=n,
        level=level,
        method=f"multilevel model, {structure} (REML, as lme4)",
        df=dfree,
        df_method="between-within" if ddf == "bw" else "Satterthwaite (lmerTest)",
        effect_size=est / math.sqrt(total0),
        icc=tau2_0 / total0,
        icc_adjusted=tau2 / (tau2 + sigma2 + (0.0 if math.isnan(tau2_l3) else tau2_l3)),
        tau2=tau2,
        sigma2=sigma2,
        n_groups=n_groups,
        n_groups_treated=n_gt,
        n_groups_control=n_gc,
        treatment_level="group" if level2[1] else "individual",
        converged=converged,
        n_dropped=deletion.n_dropped,
        coefficients=coefs,
        missing_by_column=deletion.missing_by_column,
        df_satterthwaite=float(df_sat[1]),
        df_bw=float(df_bw[1]),
        p_satterthwaite=t_pvalue(est / se, float(df_sat[1])),
        icc_ci_low=icc_lo,
        icc_ci_high=icc_hi,
        icc_ci_method="profile likelihood (REML)" if a_codes is None else "not computed",
        random_slope=bool(random_slope),
        tau2_slope=tau2_slope,
        level3=level3,
        tau2_level3=tau2_l3,
        icc_level3=l3_0 / total0 if a_codes is not None else math.nan,
        n_level3=n_level3,
    )


# -- REML engine (lme4's profiled deviance) -------------------------------------------------


@dataclass(frozen=True)
class LmmFit:
    """A linear mixed model fitted by REML with lme4's parameterisation.

    ``theta``: the relative covariance factors (lower-triangular, column-wise, per term, as
    ``lme4::getME(fit, "theta")``); ``sigma``: residual SD; ``beta``: fixed effects;
    ``vcov``: :math:`\\hat\\sigma^2(X'V^{-1}X)^{-1}` (``vcov(fit)`` in lme4); ``df_satterthwaite``:
    lmerTest's Satterthwaite df for each coefficient; ``vcov_varpar``: the asymptotic
    covariance of (θ, σ), twice the inverse Hessian of the REML deviance (lmerTest).
    """

    beta: np.ndarray
    vcov: np.ndarray
    theta: np.ndarray
    sigma: float
    deviance: float
    converged: bool
    df_satterthwaite: np.ndarray
    vcov_varpar: np.ndarray
    term_sizes: tuple[int, ...]

    def ranef_cov(self, term: int = 0) -> np.ndarray:
        """Covariance matrix of the random effects of one term (σ²ΛΛ')."""
        lam = _term_lambda(self.theta, self.term_sizes)[term]
        return self.sigma**2 * lam @ lam.T

    @property
    def se(self) -> np.ndarray:
        return np.sqrt(np.diag(self.vcov))


def _term_lambda(theta: np.ndarray, sizes: tuple[int, ...]) -> list[np.ndarray]:
    out, pos = [], 0
    for k in sizes:
        lam = np.zeros((k, k))
        for c in range(k):  # column-wise lower triangle, as lme4's theta
            for r in range(c, k):
                lam[r, c] = theta[pos]
                pos += 1
        out.append(lam)
    return out


class _Reml:
    """Cross-products and the REML deviance of ``y = Xβ + Zb + e`` for given θ."""

    def __init__(
        self, y: np.ndarray, x: np.ndarray, terms: Sequence[tuple[np.ndarray, np.ndarray]]
    ):
        blocks, self.sizes, self.levels = [], [], []
        for zraw, codes in terms:
            zraw = np.asarray(zraw, dtype=float).reshape(len(y), -1)
            k = zraw.shape[1]
            n_lev = int(codes.max()) + 1
            z = np.zeros((len(y), n_lev * k))
            for c in range(k):
                z[np.arange(len(y)), codes * k + c] = zraw[:, c]
            blocks.append(z)
            self.sizes.append(k)
            self.levels.append(n_lev)
        z = np.hstack(blocks)
        self.n, self.p = x.shape
        self.q = z.shape[1]
        self.ztz, self.ztx, self.zty = z.T @ z, z.T @ x, z.T @ y
        self.xtx, self.xty, self.yty = x.T @ x, x.T @ y, float(y @ y)
        self.diag_index = []
        pos = 0
        for k in self.sizes:
            for c in range(k):
                self.diag_index.append(pos)
                pos += k - c
        self.n_theta = pos

    def lam(self, theta: np.ndarray) -> np.ndarray:
        parts = _term_lambda(theta, tuple(self.sizes))
        return _block_diag([np.kron(np.eye(n), lam) for lam, n in zip(parts, self.levels)])

    def pieces(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        """log|Λ'Z'ZΛ + I|, X'V⁻¹X, X'V⁻¹y, y'V⁻¹y with V = I + ZΛΛ'Z'."""
        lam = self.lam(theta)
        a = lam.T @ self.ztz @ lam + np.eye(self.q)
        chol = np.linalg.cholesky(a)
        u = np.linalg.solve(chol, lam.T @ self.ztx)
        uy = np.linalg.solve(chol, lam.T @ self.zty)
        logdet = 2.0 * float(np.sum(np.log(np.diag(chol))))
        return logdet, self.xtx - u.T @ u, self.xty - u.T @ uy, self.yty - float(uy @ uy)

    def beta_rss(self, theta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, float]:
        logdet, xvx, xvy, yvy = self.pieces(theta)
        beta = np.linalg.solve(xvx, xvy)
        return logdet, xvx, beta, yvy - float(beta @ xvy)

    def profiled(self, theta: np.ndarray) -> float:
        """REML deviance profiled over β and σ (lme4's ``devfun``)."""
        logdet, xvx, _, rss = self.beta_rss(theta)
        df = self.n - self.p
        ldx = np.linalg.slogdet(xvx)[1]
        return logdet + ldx + df * (1 + math.log(2 * math.pi * rss / df))

    def deviance_vp(self, varpar: np.ndarray) -> float:
        """REML deviance as a function of (θ, σ) (lmerTest's ``devfun_vp``)."""
        theta, sigma2 = varpar[:-1], varpar[-1] ** 2
        logdet, xvx, _, rss = self.beta_rss(theta)
        ldx = np.linalg.slogdet(xvx)[1]
        return logdet + ldx + rss / sigma2 + (self.n - self.p) * math.log(2 * math.pi * sigma2)

    def covbeta(self, varpar: np.ndarray) -> np.ndarray:
        """σ²(X'V_θ⁻¹X)⁻¹ (lmerTest's ``get_covbeta``)."""
        _, xvx, _, _ = self.pieces(varpar[:-1])
        return varpar[-1] ** 2 * np.linalg.inv(xvx)


def _block_diag(mats: list[np.ndarray]) -> np.ndarray:
    size = sum(m.shape[0] for m in mats)
    out = np.zeros((size, size))
    pos = 0
    for m in mats:
        k = m.shape[0]
        out[pos : pos + k, pos : pos + k] = m
        pos += k
    return out


def _richardson(f: Any, h0: float, r: int = 4) -> Any:
    """Richardson extrapolation of a central difference ``f(h)`` (error in h², h⁴, ...),
    as numDeriv's default (4 steps, halving)."""
    a = [f(h0 / 2**k) for k in range(r)]
    for m in range(1, r):
        a = [(4**m * a[k + 1] - a[k]) / (4**m - 1) for k in range(len(a) - 1)]
    return a[0]


def _steps(x: np.ndarray) -> np.ndarray:
    # numDeriv's default step: d·|x| + eps where |x| < zero.tol (d = 0.1, eps = 1e-4,
    # zero.tol = sqrt(.Machine$double.eps / 7e-7))
    zero_tol = math.sqrt(np.finfo(float).eps / 7e-7)
    return 0.1 * np.abs(x) + 1e-4 * (np.abs(x) < zero_tol)


def _hessian(f: Any, x: np.ndarray) -> np.ndarray:
    k = len(x)
    hs = _steps(x)
    out = np.zeros((k, k))
    f0 = f(x)
    for i in range(k):
        ei = np.zeros(k)
        ei[i] = 1.0

        def d2(h: float, ei: np.ndarray = ei) -> float:
            return (f(x + h * ei) - 2 * f0 + f(x - h * ei)) / h**2

        out[i, i] = _richardson(d2, hs[i])
        for j in range(i):
            ej = np.zeros(k)
            ej[j] = 1.0
            ratio = hs[j] / hs[i]

            def dij(
                h: float, ei: np.ndarray = ei, ej: np.ndarray = ej, ratio: float = ratio
            ) -> float:
                hj = h * ratio
                return (
                    f(x + h * ei + hj * ej)
                    - f(x + h * ei - hj * ej)
                    - f(x - h * ei + hj * ej)
                    + f(x - h * ei - hj * ej)
                ) / (4 * h * hj)

            out[i, j] = out[j, i] = _richardson(dij, hs[i])
    return out


def _jacobian(f: Any, x: np.ndarray) -> list[np.ndarray]:
    hs = _steps(x)
    out = []
    for i in range(len(x)):
        ei = np.zeros(len(x))
        ei[i] = 1.0

        def d1(h: float, ei: np.ndarray = ei) -> np.ndarray:
            return (f(x + h * ei) - f(x - h * ei)) / (2 * h)

        out.append(_richardson(d1, hs[i]))
    return out


def lmm_reml(
    y: np.ndarray,
    x: np.ndarray,
    terms: Sequence[tuple[np.ndarray, np.ndarray]],
    *,
    theta0: np.ndarray | None = None,
) -> LmmFit:
    r"""Fit a linear mixed model by REML as ``lme4::lmer`` does, with lmerTest's df.

    ``terms`` lists the random-effect terms, each a pair (n × k matrix of the term's
    covariates, e.g. a column of ones for a random intercept, and the 0-based integer
    codes of its grouping factor). With :math:`\Lambda_\theta` the relative covariance
    factor and :math:`V_\theta = I + Z\Lambda_\theta\Lambda_\theta'Z'`, the profiled REML
    deviance :math:`\log|\Lambda'Z'Z\Lambda + I| + \log|X'V^{-1}X| + (n-p)[1 + \log(2\pi
    r^2/(n-p))]`, :math:`r^2` the generalised residual sum of squares, is minimised over θ
    (diagonal elements ≥ 0). Then :math:`\hat\sigma^2 = r^2/(n-p)`, fixed-effect covariance
    :math:`\hat\sigma^2(X'V^{-1}X)^{-1}` (lme4's ``vcov``), and for each coefficient the
    Satterthwaite df of lmerTest: :math:`\nu = 2\,\mathrm{var}^2/(g'Ag)`, *g* the gradient of
    the coefficient's variance in (θ, σ) and *A* twice the inverse Hessian of the REML
    deviance in (θ, σ), both by Richardson-extrapolated central differences (as numDeriv).

    References
    ----------
    Bates, D., Mächler, M., Bolker, B. & Walker, S. (2015). Fitting linear mixed-effects
    models using lme4. *J Stat Softw* 67(1).
    Kuznetsova, A., Brockhoff, P. B. & Christensen, R. H. B. (2017). lmerTest package.
    *J Stat Softw* 82(13).

    Examples
    --------
    Balanced one-way data (3 groups of 2): REML equals the ANOVA estimators (MSW 1, (MSB − MSW)/2
    = 10.0833), the SE of the mean is √(MSB/6) and its
    Satterthwaite df are J − 1.

    >>> import numpy as np
    >>> y = np.array([1.0, 2.0, 4.0, 5.0, 7.0, 9.0])
    >>> codes = np.array([0, 0, 1, 1, 2, 2])
    >>> fit = lmm_reml(y, np.ones((6, 1)), [(np.ones(6), codes)])
    >>> round(float(fit.sigma**2), 4), round(float(fit.ranef_cov()[0, 0]), 4)
    (1.0, 10.0833)
    >>> round(float(fit.se[0]), 4), round(float(fit.df_satterthwaite[0]), 3)
    (1.8782, 2.0)
    """
    from scipy import optimize

    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float)
    model = _Reml(y, x, terms)
    lower = np.full(model.n_theta, -np.inf)
    lower[model.diag_index] = 0.0
    bounds = list(zip(lower, np.full(model.n_theta, np.inf)))
    start = np.zeros(model.n_theta)
    start[model.diag_index] = 1.0
    if theta0 is not None:
        start = np.asarray(theta0, dtype=float)

    def fun(th: np.ndarray) -> float:
        try:
            return model.profiled(th)
        except np.linalg.LinAlgError:
            return math.inf

    best = optimize.minimize(
        fun,
        start,
        method="L-BFGS-B",
        bounds=bounds,
        options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
    )
    polish = optimize.minimize(
        fun,
        best.x,
        method="Nelder-Mead",
        bounds=bounds,
        options={"xatol": 1e-10, "fatol": 1e-14, "maxiter": 20000},
    )
    res = polish if polish.fun <= best.fun else best
    theta = np.asarray(res.x, dtype=float)
    converged = bool(best.success or polish.success) and np.isfinite(res.fun)
    _, xvx, beta, rss = model.beta_rss(theta)
    sigma = math.sqrt(rss / (model.n - model.p))
    vcov = sigma**2 * np.linalg.inv(xvx)
    varpar = np.r_[theta, sigma]
    hess = _hessian(model.deviance_vp, varpar)
    # lmerTest: 2 × the inverse of the Hessian over its positive eigenvalues (> 1e-8)
    vals, vecs = np.linalg.eigh((hess + hess.T) / 2)
    pos = vals > 1e-8
    a_mat = 2 * (vecs[:, pos] / vals[pos]) @ vecs[:, pos].T
    jac = _jacobian(model.covbeta, varpar)
    dfs = np.empty(model.p)
    for k in range(model.p):
        g = np.array([jk[k, k] for jk in jac])
        dfs[k] = 2 * vcov[k, k] ** 2 / float(g @ a_mat @ g)
    return LmmFit(
        beta=beta,
        vcov=vcov,
        theta=theta,
        sigma=sigma,
        deviance=float(res.fun),
        converged=converged,
        df_satterthwaite=dfs,
        vcov_varpar=a_mat,
        term_sizes=tuple(model.sizes),
    )
