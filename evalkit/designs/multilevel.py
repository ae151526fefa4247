"""Random-intercept (two-level) model for people nested in groups (centres, practices, areas)."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_level
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

__all__ = ["multilevel", "MultilevelResult"]


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


def _fit_mixed(y: np.ndarray, x: np.ndarray, groups: np.ndarray) -> tuple[Any, bool]:
    import statsmodels.api as sm

    model = sm.MixedLM(y, x, groups=groups)
    # statsmodels' default gradient optimisers often stop early on random-intercept models;
    # with a single variance parameter the derivative-free Powell and Nelder-Mead searches
    # are reliable, so try them first and keep the best converged fit.
    best = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for kw in ({"method": "powell"}, {"method": "nm", "maxiter": 5000}, {}):
            try:
                fit = model.fit(reml=True, **kw)
            except (np.linalg.LinAlgError, ValueError):
                continue
            ok = bool(getattr(fit, "converged", True))
            if best is None or (ok and (not best[1] or fit.llf > best[0].llf)):
                best = (fit, ok)
            if ok:
                break
    if best is None:
        raise DataError("the mixed model could not be fitted (singular design)")
    return best


def _constant_within(col: np.ndarray, groups: np.ndarray) -> bool:
    s = pd.Series(col).groupby(groups).nunique()
    return bool((s <= 1).all())


def multilevel(
    df: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    groups: str,
    baseline: str | None = None,
    covariates: Sequence[str] = (),
    level: float = 0.95,
) -> MultilevelResult:
    r"""Treatment effect from a random-intercept model (people within groups).

    Fits :math:`y_{ij} = \beta_0 + \tau T_{ij} + \gamma' x_{ij} + u_j + e_{ij}`,
    :math:`u_j \sim N(0, \tau^2)`, :math:`e_{ij} \sim N(0, \sigma^2)` by restricted maximum
    likelihood (``statsmodels`` ``MixedLM``). Use it when people are clustered in groups
    (children's centres, GP practices, areas), whether the treatment was given to whole
    groups or to people within groups.

    The interval for :math:`\hat\tau` uses *t* with between–within degrees of freedom
    (SAS ``DDFM=BW``): :math:`J - p_2` when the treatment is constant within groups
    (a group-level treatment; :math:`p_2` fixed effects constant within groups, including
    the intercept) and :math:`N - J - p_1` otherwise (:math:`p_1` fixed effects that vary
    within groups). ``statsmodels`` itself reports normal intervals, which are too
    narrow with few groups.

    Intraclass correlation: ``icc`` = :math:`\hat\tau^2/(\hat\tau^2 + \hat\sigma^2)` from the
    model with the treatment only (the outcome's ICC within arms, the figure power
    calculations need); ``icc_adjusted`` the same from the full model (the residual ICC
    after baseline and covariates). ``effect_size`` = :math:`\hat\tau/\sqrt{\tau^2+\sigma^2}`
    with the variances of the treatment-only model (Hedges 2007, :math:`\delta_T`).

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

    Returns
    -------
    MultilevelResult

    References
    ----------
    Raudenbush, S. W. & Bryk, A. S. (2002). *Hierarchical Linear Models*, 2nd ed. Sage.
    Hedges, L. V. (2007). Effect sizes in cluster-randomized designs. *J Educ Behav Stat* 32, 341–370.

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
    covariates = as_list(covariates, key="covariates")
    adjust = ([baseline] if baseline is not None else []) + covariates
    if groups in [outcome, treatment] + adjust:
        raise ParameterError(
            f"groups={groups!r} is also used as outcome, treatment or covariate", key="groups"
        )
    cols = [outcome, treatment, groups] + adjust
    data, deletion = listwise(df, cols)
    t = treatment_indicator(data, treatment)
    y = numeric_column(data, outcome)
    g = pd.factorize(data[groups])[0]
    n_groups, n_gt, n_gc = cluster_checks(g, t, column=groups)
    design = treatment_design(data, treatment, t, adjust)
    x = design.to_numpy(dtype=float)
    n = len(y)

    fit, converged = _fit_mixed(y, x, g)
    if not converged:
        warnings.warn(
            "the mixed model did not converge cleanly; treat the estimates with "
            "caution (try fewer covariates or check for groups with tiny sizes)",
            EvalkitWarning,
            stacklevel=2,
        )
    tau2 = float(np.asarray(fit.cov_re)[0, 0])
    sigma2 = float(fit.scale)
    if adjust:
        fit0, _ = _fit_mixed(y, x[:, :2], g)
        tau2_0, sigma2_0 = float(np.asarray(fit0.cov_re)[0, 0]), float(fit0.scale)
    else:
        tau2_0, sigma2_0 = tau2, sigma2
    if tau2_0 <= 1e-8 * max(sigma2_0, 1e-300):
        warnings.warn(
            f"the estimated variance between groups is zero: outcomes do not vary more between "
            f"the {n_groups} groups than chance would give, so the model reduces to ordinary "
            "regression (ICC 0)",
            EvalkitWarning,
            stacklevel=2,
        )

    level2 = [_constant_within(x[:, k], g) for k in range(x.shape[1])]
    p2 = sum(level2)
    p1 = x.shape[1] - p2

    def ddf(k: int) -> float:
        return float(n_groups - p2) if level2[k] else float(n - n_groups - p1)

    params = np.asarray(fit.fe_params, dtype=float)
    bse = np.asarray(fit.bse_fe, dtype=float)
    est, se, dfree = float(params[1]), float(bse[1]), ddf(1)
    if dfree < 1:
        raise DataError(
            f"too few groups ({n_groups}) for {p2} group-level terms",
            column=groups,
            allowed="more groups or fewer group-level covariates",
        )
    lo, hi = t_interval(est, se, dfree, level)
    coefs = pd.DataFrame(
        {
            "term": list(design.columns),
            "estimate": params,
            "se": bse,
            "df": [ddf(k) for k in range(len(params))],
        }
    )
    cis = [t_interval(b, s, d, level) for b, s, d in zip(params, bse, coefs["df"])]
    coefs["ci_low"] = [c[0] for c in cis]
    coefs["ci_high"] = [c[1] for c in cis]
    coefs["p"] = [t_pvalue(b / s, d) for b, s, d in zip(params, bse, coefs["df"])]

    return MultilevelResult(
        estimate=est,
        se=se,
        ci_low=lo,
        ci_high=hi,
        p=t_pvalue(est / se, dfree),
        n=n,
        level=level,
        method="random-intercept model (REML, statsmodels MixedLM)",
        df=dfree,
        df_method="between-within",
        effect_size=est / math.sqrt(tau2_0 + sigma2_0),
        icc=tau2_0 / (tau2_0 + sigma2_0),
        icc_adjusted=tau2 / (tau2 + sigma2),
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
    )
