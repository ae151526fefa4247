"""Two-group comparison adjusted for baseline and covariates (ANCOVA / regression adjustment)."""

from __future__ import annotations

import dataclasses
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, check_level, check_positive_int, require_columns
from ..errors import DataError, ParameterError
from ..results import Result
from ._common import (
    as_list,
    cluster_checks,
    equivalence_status,
    expand_covariates,
    is_binary,
    listwise,
    numeric_column,
    t_interval,
    t_pvalue,
    treatment_design,
    treatment_indicator,
)
from .clustered import choose_se, cluster_inference
from .impute import check_mi, impute_chained, pool_rubin

__all__ = ["ancova", "AncovaResult", "baseline_equivalence"]


@dataclass(frozen=True)
class AncovaResult(Result):
    """Result of :func:`ancova`: the adjusted difference (treated − comparison)."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    n: int
    level: float
    method: str
    df: float
    se_type: str
    g: float
    g_ci_low: float
    g_ci_high: float
    unadjusted: float
    unadjusted_ci_low: float
    unadjusted_ci_high: float
    mean_treated: float
    mean_control: float
    sd_pooled: float
    n_treated: int
    n_control: int
    n_dropped: int
    n_clusters: int | None
    r_squared: float
    coefficients: pd.DataFrame = field(repr=False)
    anova: pd.DataFrame = field(repr=False)
    equivalence: pd.DataFrame = field(repr=False)
    missing_by_column: dict = field(repr=False, default_factory=dict)
    se_method: str = "HC3"
    se_reason: str = ""
    n_boot: int | None = None
    missing: str = "listwise"
    m: int | None = None
    fmi: float = math.nan
    complete_case_estimate: float = math.nan
    complete_case_ci_low: float = math.nan
    complete_case_ci_high: float = math.nan

    _title = "ANCOVA: adjusted difference"

    def to_frame(self) -> pd.DataFrame:
        """Rows: the adjusted difference, Hedges' g and the unadjusted difference."""
        rows = [
            ("adjusted_difference", self.estimate, self.se, self.ci_low, self.ci_high, self.p),
            ("hedges_g", self.g, math.nan, self.g_ci_low, self.g_ci_high, self.p),
            (
                "unadjusted_difference",
                self.unadjusted,
                math.nan,
                self.unadjusted_ci_low,
                self.unadjusted_ci_high,
                math.nan,
            ),
        ]
        return self._tidy(rows)

    def plot(self, ax: Any = None) -> Any:
        """The unadjusted and adjusted differences with their intervals."""
        from ..plots.designs import effect_plot

        return effect_plot(
            ["unadjusted", "adjusted"],
            [self.unadjusted, self.estimate],
            [self.unadjusted_ci_low, self.ci_low],
            [self.unadjusted_ci_high, self.ci_high],
            ax=ax,
            # the method's short name: the full label (se_type) is too long for a title
            title=f"Difference with {self.level:.0%} CI ({_SE_TITLE.get(self.se_method, self.se_method)})",
        )


_SE_TITLE = {"wild": "wild cluster bootstrap", "CR2": "CR2 SE", "CR1": "CR1 SE", "HC3": "HC3 SE"}


def _sse(y: np.ndarray, x: np.ndarray) -> float:
    beta, *_ = np.linalg.lstsq(x, y, rcond=None)
    resid = y - x @ beta
    return float(resid @ resid)


def _type2_anova(y: np.ndarray, intercept: bool, terms: dict[str, np.ndarray]) -> pd.DataFrame:
    """Classical Type II ANOVA table for an additive model (no interactions).

    SS(term) = SSE(model without the term) − SSE(full model); F = (SS/df)/(SSE/df_resid);
    partial η² = SS / (SS + SSE). Matches ``statsmodels.stats.anova.anova_lm(typ=2)``
    and pingouin's ``ancova`` for additive models.
    """
    from scipy import stats

    n = len(y)
    blocks = [np.ones((n, 1))] if intercept else []
    names = list(terms)
    full = np.column_stack(blocks + [terms[k] for k in names])
    rank_full = np.linalg.matrix_rank(full)
    sse_full = _sse(y, full)
    df_resid = n - rank_full
    rows = []
    for k in names:
        reduced = np.column_stack(blocks + [terms[j] for j in names if j != k])
        ss = _sse(y, reduced) - sse_full
        dfk = rank_full - np.linalg.matrix_rank(reduced)
        f = (ss / dfk) / (sse_full / df_resid)
        rows.append(
            {
                "source": k,
                "ss": ss,
                "df": dfk,
                "f": f,
                "p": float(stats.f.sf(f, dfk, df_resid)),
                "partial_eta2": ss / (ss + sse_full),
            }
        )
    rows.append(
        {
            "source": "Residual",
            "ss": sse_full,
            "df": df_resid,
            "f": math.nan,
            "p": math.nan,
            "partial_eta2": math.nan,
        }
    )
    return pd.DataFrame(rows).set_index("source")


def baseline_equivalence(
    df: pd.DataFrame, *, treatment: str, variables: Sequence[str]
) -> pd.DataFrame:
    r"""Baseline equivalence of two groups, as the What Works Clearinghouse assesses it.

    For each variable (categorical ones expanded into one indicator per level): group
    sizes, means and SDs, and an effect size: Hedges' *g* for continuous variables,
    :math:`g = \omega (\bar x_t - \bar x_c)/s_{pooled}`, and the Cox index for binary ones,
    :math:`d_{Cox} = \omega\,(\operatorname{logit} p_t - \operatorname{logit} p_c)/1.65`,
    with :math:`\omega = 1 - 3/(4N - 9)`. ``status``: |ES| ≤ 0.05 satisfies equivalence;
    0.05 < |ES| ≤ 0.25 requires statistical adjustment (include the variable in the
    model); |ES| > 0.25 is not equivalent.

    Reference: What Works Clearinghouse (2022), *Procedures and Standards Handbook* v5.0.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"t": [1, 1, 1, 0, 0, 0], "age": [30, 32, 29, 31, 35, 33]})
    >>> baseline_equivalence(d, treatment="t", variables=["age"])["status"].iloc[0]
    'not equivalent'
    """
    t = treatment_indicator(df, treatment)
    x = expand_covariates(df, list(variables), drop_first=False)
    n_all = len(t)
    omega = 1 - 3 / (4 * n_all - 9) if n_all > 3 else math.nan
    rows = []
    for c in x.columns:
        v = x[c].to_numpy(dtype=float)
        vt, vc = v[t == 1], v[t == 0]
        mt, mc = float(vt.mean()), float(vc.mean())
        st, sc = float(vt.std(ddof=1)), float(vc.std(ddof=1))
        if is_binary(v):
            measure = "cox_index"
            if 0 < mt < 1 and 0 < mc < 1:
                es = omega * (math.log(mt / (1 - mt)) - math.log(mc / (1 - mc))) / 1.65
            else:
                es = math.nan
        else:
            measure = "hedges_g"
            nt, nc = len(vt), len(vc)
            pooled = math.sqrt(((nt - 1) * st**2 + (nc - 1) * sc**2) / (nt + nc - 2))
            es = omega * (mt - mc) / pooled if pooled > 0 else math.nan
        rows.append(
            {
                "variable": c,
                "n_treated": len(vt),
                "n_control": len(vc),
                "mean_treated": mt,
                "mean_control": mc,
                "sd_treated": st,
                "sd_control": sc,
                "measure": measure,
                "effect_size": es,
                "status": equivalence_status(es),
            }
        )
    return pd.DataFrame(rows).set_index("variable")


def ancova(
    df: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    baseline: str | None = None,
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    level: float = 0.95,
    se: str | None = None,
    n_boot: int = 9999,
    seed: int | None = None,
    missing: str = "listwise",
    m: int = 20,
) -> AncovaResult:
    r"""Adjusted difference between a served and a comparison group (ANCOVA).

    Fits :math:`y_i = \beta_0 + \tau T_i + \gamma\,\text{baseline}_i + \delta' x_i + e_i` by
    ordinary least squares; :math:`\hat\tau` is the adjusted difference. ``se`` chooses the
    standard error and interval (:mod:`evalkit.designs.clustered`):

    - ``"HC3"`` (the default without ``cluster``): heteroscedasticity-consistent
      (MacKinnon & White 1985), *t* with *N − K* df;
    - ``"CR1"``: cluster-robust (Liang & Zeger 1986) with the factor
      :math:`G/(G-1)\cdot(N-1)/(N-K)`, *t* with *G − 1* df, as Stata and ``statsmodels``;
    - ``"CR2"``: Bell & McCaffrey's bias-reduced cluster-robust SE with Satterthwaite df,
      as R's ``clubSandwich::coef_test(fit, vcov = "CR2", cluster, test = "Satterthwaite")``;
    - ``"wild"``: restricted wild cluster bootstrap (Webb's six-point weights below 12
      clusters, Rademacher otherwise; ``n_boot`` replications, ``seed``), p-value and
      interval by test inversion; ``se`` is then the CR1 SE and ``df`` NaN;
    - ``"auto"`` (the default with ``cluster``): CR2 from
      :data:`~evalkit.designs.clustered.AUTO_WILD_BELOW` = 12 clusters up, the wild
      bootstrap below.

    ``se_method`` holds the method used and ``se_reason`` why; ``df`` the degrees of freedom.

    ``missing="mi"`` replaces listwise deletion by multiple imputation: ``m`` data sets
    completed by chained equations (our own implementation, predictive mean matching, with
    the outcome, treatment, baseline and numeric covariates in the imputation model; see
    :func:`evalkit.designs.impute.impute_chained`), each analysed as above (``"wild"`` falls
    back to CR2, as Rubin's rules need a variance), pooled by :func:`pool_rubin` with
    Barnard–Rubin df; ``fmi`` is the fraction of missing information and
    ``complete_case_estimate`` (with interval) the listwise result. The unadjusted
    difference, group means and the equivalence table stay on complete cases.

    Hedges' *g* (What Works Clearinghouse): :math:`g = \omega\hat\tau/s_{pooled}`, where
    :math:`s_{pooled}` is the unadjusted pooled within-group SD of the outcome and
    :math:`\omega = 1 - 3/(4N - 9)`; its interval is the interval of :math:`\hat\tau`
    scaled the same way.

    Parameters
    ----------
    df
        One row per person.
    outcome
        Outcome column (numeric).
    treatment
        Two-valued column: 1/True for the served group, 0/False for the comparison group.
    baseline
        Optional baseline (pre-test) measure of the outcome.
    covariates
        Further adjustment variables; text or categorical columns become indicators
        (first level, in sorted order, is the reference).
    cluster
        Optional cluster identifier (e.g. children's centre) for cluster-robust SEs.
    level
        Confidence level.
    se
        ``"HC3"``, ``"CR1"``, ``"CR2"``, ``"wild"`` or ``"auto"``; default ``"auto"`` with a
        cluster and ``"HC3"`` without. CR1, CR2 and wild need ``cluster``.
    n_boot, seed
        Replications and random seed of the wild cluster bootstrap (and the seed of the
        imputations).
    missing, m
        ``"listwise"`` (default) or ``"mi"`` with ``m`` imputations (at least 2).

    Returns
    -------
    AncovaResult
        ``estimate``, ``se``, ``ci_low``, ``ci_high``, ``p``; ``g`` with interval; the
        unadjusted difference; ``equivalence`` (baseline-equivalence table, see
        :func:`baseline_equivalence`); ``anova`` (classical Type II ANOVA table with
        partial η²); ``coefficients`` (all model terms); counts of rows dropped for
        missing values (listwise deletion) in ``n_dropped`` and ``missing_by_column``.

    References
    ----------
    What Works Clearinghouse (2022). *Procedures and Standards Handbook*, version 5.0.
    MacKinnon, J. G. & White, H. (1985). *J Econometrics* 29, 305–325.
    Cameron, A. C. & Miller, D. L. (2015). A practitioner's guide to cluster-robust
    inference. *J Human Resources* 50, 317–372.
    Pustejovsky, J. E. & Tipton, E. (2018). Small-sample methods for cluster-robust variance
    estimation and hypothesis testing in fixed effects models. *J Bus Econ Stat* 36, 672–683.
    Roodman, D. et al. (2019). Fast and wild: bootstrap inference in Stata using boottest.
    *Stata J* 19, 4–60.

    Examples
    --------
    >>> from evalkit.simulate import individual_trial
    >>> from evalkit.designs.ancova import ancova
    >>> d = individual_trial(400, 0.3, seed=1)
    >>> res = ancova(d, outcome="outcome", treatment="treatment", baseline="baseline",
    ...              covariates=["x1", "x2"])
    >>> bool(res.ci_low < 0.3 < res.ci_high)
    True
    """
    level = check_level(level)
    missing = check_choice("missing", missing, ("listwise", "mi"))
    covariates = as_list(covariates, key="covariates")
    adjust = ([baseline] if baseline is not None else []) + covariates
    if missing == "mi":
        return _ancova_mi(
            df,
            outcome=outcome,
            treatment=treatment,
            baseline=baseline,
            covariates=covariates,
            cluster=cluster,
            level=level,
            se=se,
            m=m,
            seed=seed,
            n_boot=n_boot,
        )
    for c in adjust + ([cluster] if cluster else []):
        if c in (outcome, treatment):
            raise ParameterError(
                f"{c!r} is the outcome or treatment and cannot also be a covariate or cluster",
                key="covariates",
            )
    cols = [outcome, treatment] + adjust + ([cluster] if cluster else [])
    data, deletion = listwise(df, cols)
    if len(data) < 4:
        raise DataError(
            f"only {len(data)} complete rows",
            columns=cols,
            allowed="at least 4 rows with outcome, treatment and covariates",
        )
    t = treatment_indicator(data, treatment)
    y = numeric_column(data, outcome)
    for c in [baseline] if baseline else []:
        numeric_column(data, c)
    design = treatment_design(data, treatment, t, adjust)
    xmat = design.to_numpy(dtype=float)
    n = len(y)
    if n - xmat.shape[1] < 1:
        raise DataError(
            f"{n} rows are too few for {xmat.shape[1]} model terms", columns=list(design.columns)
        )

    n_clusters = None
    groups = None
    if cluster:
        groups = pd.factorize(data[cluster], sort=True)[0]
        n_clusters, _, _ = cluster_checks(groups, t, column=cluster)
    method, _ = choose_se(se, n_clusters)
    if method == "wild":
        n_boot = check_positive_int("n_boot", n_boot, minimum=99)
    inf, ses, dfs = cluster_inference(
        xmat, y, groups, 1, se=se, level=level, n_boot=n_boot, seed=seed
    )
    est, se_est, dfree = inf.estimate, inf.se, inf.df
    lo, hi, p = inf.ci_low, inf.ci_high, inf.p
    se_type = inf.label

    inf0, _, _ = cluster_inference(
        xmat[:, :2], y, groups, 1, se=se, level=level, n_boot=n_boot, seed=seed
    )
    u_lo, u_hi = inf0.ci_low, inf0.ci_high
    params = np.linalg.lstsq(xmat, y, rcond=None)[0]
    resid = y - xmat @ params
    r_squared = 1.0 - float(resid @ resid) / float(np.sum((y - y.mean()) ** 2))

    yt, yc = y[t == 1], y[t == 0]
    nt, nc = len(yt), len(yc)
    if nt < 2 or nc < 2:
        raise DataError(
            "each group needs at least two people with complete data",
            column=treatment,
            allowed=f"found {nt} treated and {nc} comparison",
        )
    pooled = math.sqrt(((nt - 1) * yt.var(ddof=1) + (nc - 1) * yc.var(ddof=1)) / (n - 2))
    omega = 1 - 3 / (4 * n - 9)
    if pooled > 0:
        g, g_lo, g_hi = omega * est / pooled, omega * lo / pooled, omega * hi / pooled
    else:
        g = g_lo = g_hi = math.nan

    coefs = pd.DataFrame({"term": list(design.columns), "estimate": params, "se": ses, "df": dfs})
    cis = [t_interval(b, s, d, level) for b, s, d in zip(params, ses, dfs)]
    coefs["ci_low"] = [c[0] for c in cis]
    coefs["ci_high"] = [c[1] for c in cis]
    coefs["p"] = [t_pvalue(b / s, d) for b, s, d in zip(params, ses, dfs)]
    if method == "wild":
        # the bootstrap covers the treatment coefficient; other rows keep CR2
        coefs.loc[1, ["se", "df", "ci_low", "ci_high", "p"]] = [se_est, dfree, lo, hi, p]

    terms = {treatment: t[:, None]}
    for c in adjust:
        terms[c] = expand_covariates(data, [c], drop_first=True).to_numpy(dtype=float)
    anova = _type2_anova(y, True, terms)
    equiv = (
        baseline_equivalence(data, treatment=treatment, variables=adjust)
        if adjust
        else pd.DataFrame()
    )

    return AncovaResult(
        estimate=est,
        se=se_est,
        ci_low=lo,
        ci_high=hi,
        p=p,
        n=n,
        level=level,
        method="ANCOVA (OLS regression adjustment)",
        df=dfree,
        se_type=se_type,
        g=g,
        g_ci_low=g_lo,
        g_ci_high=g_hi,
        unadjusted=inf0.estimate,
        unadjusted_ci_low=u_lo,
        unadjusted_ci_high=u_hi,
        mean_treated=float(yt.mean()),
        mean_control=float(yc.mean()),
        sd_pooled=pooled,
        n_treated=nt,
        n_control=nc,
        n_dropped=deletion.n_dropped,
        n_clusters=n_clusters,
        r_squared=r_squared,
        coefficients=coefs.reset_index(drop=True),
        anova=anova,
        equivalence=equiv,
        missing_by_column=deletion.missing_by_column,
        se_method=inf.method,
        se_reason=inf.reason,
        n_boot=inf.n_boot,
    )


def _design_template(
    xmat: np.ndarray, base: pd.DataFrame, adjust: list[str], numeric: list[str]
) -> tuple[np.ndarray, list[tuple[str, int]]]:
    """The model matrix of one imputed data set and the positions of its imputed columns.

    :func:`~evalkit.designs._common.treatment_design` puts the intercept, the treatment, then
    each adjustment variable in turn: one column for a numeric one, its indicators (all but
    the first level) for a text one, which is not imputed and so the same in every data set.
    """
    where, pos = [], 2
    for c in adjust:
        if c in numeric:
            where.append((c, pos))
            pos += 1
        else:
            pos += expand_covariates(base, [c], drop_first=True).shape[1]
    return xmat, where


def _imputed_design(
    template: tuple[np.ndarray, list[tuple[str, int]]] | None, imp: pd.DataFrame
) -> np.ndarray | None:
    """The model matrix of another imputed data set: the template with its imputed columns
    replaced (as :func:`~evalkit.designs._common.treatment_design` builds it, value for value).

    None when there is no template yet, or when an imputed column is constant or the matrix
    is rank-deficient: the caller then builds it in full, which raises the usual error.
    """
    if template is None:
        return None
    xmat, where = template
    xmat = xmat.copy(order="K")  # the same memory layout: the same floating-point results
    for c, j in where:
        xmat[:, j] = imp[c].to_numpy(dtype=float)
        if len(np.unique(xmat[:, j])) < 2:
            return None
    if np.linalg.matrix_rank(xmat) < xmat.shape[1]:
        return None
    return xmat


def _ancova_mi(
    df: pd.DataFrame,
    *,
    outcome: str,
    treatment: str,
    baseline: str | None,
    covariates: list[str],
    cluster: str | None,
    level: float,
    se: str | None,
    m: int,
    seed: int | None,
    n_boot: int,
) -> AncovaResult:
    """:func:`ancova` with ``missing="mi"``: chained-equations MI, pooled by Rubin's rules."""
    adjust = ([baseline] if baseline is not None else []) + covariates
    require_columns(df, [outcome, treatment] + adjust + ([cluster] if cluster else []))
    m = check_mi(m, df[outcome], column=outcome)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*rows dropped because of missing values")
        cc = ancova(
            df,
            outcome=outcome,
            treatment=treatment,
            baseline=baseline,
            covariates=covariates,
            cluster=cluster,
            level=level,
            se=se,
            n_boot=n_boot,
            seed=seed,
        )
    numeric = [outcome] + [
        c
        for c in adjust
        if pd.api.types.is_numeric_dtype(df[c]) or pd.api.types.is_bool_dtype(df[c])
    ]
    # rows need the treatment, the cluster and any text covariate: those are not imputed
    fixed = [treatment] + [c for c in adjust if c not in numeric] + ([cluster] if cluster else [])
    base, deletion = listwise(df, fixed, warn=False)
    t = treatment_indicator(base, treatment)
    for c in numeric:
        numeric_column(base, c)
    frame = pd.concat(
        [base[numeric].astype(float), pd.Series(t, index=base.index, name="__treatment__")],
        axis=1,
    )
    others = [c for c in adjust if c not in numeric]
    if others:
        frame = pd.concat([frame, expand_covariates(base, others, drop_first=True)], axis=1)
    groups = pd.factorize(base[cluster], sort=True)[0] if cluster else None
    n_clusters = int(len(np.unique(groups))) if cluster else None
    method, reason = choose_se(se, n_clusters)
    if method == "wild":
        method = "CR2"
        reason += (
            "; with multiple imputation the pooled analysis uses CR2 with Satterthwaite df, "
            "because Rubin's rules need a variance from each imputed data set"
        )
    ests, variances, dfs, coef_est, coef_var = [], [], [], [], []
    template = None
    for imp in impute_chained(frame, m=m, seed=seed):
        xmat = _imputed_design(template, imp)
        if xmat is None:  # the first imputation, or a check to make: the model matrix in full
            data = base.copy()
            data[numeric] = imp[numeric]
            xmat = treatment_design(data, treatment, t, adjust).to_numpy(dtype=float)
            template = _design_template(xmat, base, adjust, numeric)
        y = imp[outcome].to_numpy(dtype=float)
        inf, ses, dfi = cluster_inference(xmat, y, groups, 1, se=method, level=level)
        ests.append(inf.estimate)
        variances.append(inf.se**2)
        dfs.append(inf.df)
        coef_est.append(np.linalg.lstsq(xmat, y, rcond=None)[0])
        coef_var.append(ses**2)
    df_complete = float(np.mean(dfs))
    pooled = pool_rubin(ests, variances, df_complete, level=level)
    coef_rows = []
    for k, term in enumerate(cc.coefficients["term"]):
        pk = pool_rubin(
            [c[k] for c in coef_est], [v[k] for v in coef_var], df_complete, level=level
        )
        coef_rows.append(
            {
                "term": term,
                "estimate": pk.estimate,
                "se": pk.se,
                "df": pk.df,
                "ci_low": pk.ci_low,
                "ci_high": pk.ci_high,
                "p": pk.p,
                "fmi": pk.fmi,
            }
        )
    n = len(base)
    omega = 1 - 3 / (4 * n - 9)
    scale = omega / cc.sd_pooled if cc.sd_pooled > 0 else math.nan
    return dataclasses.replace(
        cc,
        estimate=pooled.estimate,
        se=pooled.se,
        ci_low=pooled.ci_low,
        ci_high=pooled.ci_high,
        p=pooled.p,
        n=n,
        df=pooled.df,
        method=(
            f"ANCOVA (OLS regression adjustment) on {m} multiply imputed data sets "
            "(chained equations, predictive mean matching), Rubin's rules with "
            "Barnard-Rubin df"
        ),
        se_type=f"{inf.label} within imputations",
        se_method=method,
        se_reason=reason,
        n_boot=None,
        g=pooled.estimate * scale,
        g_ci_low=pooled.ci_low * scale,
        g_ci_high=pooled.ci_high * scale,
        n_dropped=deletion.n_dropped,
        missing_by_column={c: int(df[c].isna().sum()) for c in numeric if df[c].isna().any()},
        coefficients=pd.DataFrame(coef_rows),
        missing="mi",
        m=m,
        fmi=pooled.fmi,
        complete_case_estimate=cc.estimate,
        complete_case_ci_low=cc.ci_low,
        complete_case_ci_high=cc.ci_high,
    )
