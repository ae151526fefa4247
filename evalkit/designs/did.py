"""Difference-in-differences: the 2×2 regression and Callaway & Sant'Anna (2021) staggered adoption.

Public: :func:`did` returning a :class:`DidResult`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, check_level, check_positive_int
from ..errors import DataError, EvalkitWarning, format_list
from ..results import Result
from ._panel import (
    check_balanced_panel,
    code_of,
    numeric_column,
    plain,
    require,
    time_codes,
)

__all__ = ["did", "DidResult"]

_NEVER = np.inf
#: below this many clusters, cluster-robust standard errors are too small (Cameron & Miller 2015)
_FEW_CLUSTERS = 20


@dataclass(frozen=True)
class DidResult(Result):
    """Result of :func:`did`.

    ``estimate`` is the overall average effect on the treated: the 2×2 interaction
    coefficient, or for staggered adoption the group-size weighted average of the
    post-treatment ATT(g,t) (R ``did::aggte(type = "simple")``). ``att_gt`` holds one row
    per group and period, ``event_study`` one row per event time (``aggte(type =
    "dynamic")``); ``dynamic_*`` is the average over event times 0, 1, ... . The
    pre-trend test is the Wald test that all pre-treatment ATT(g,t) are zero (as
    ``did::att_gt`` reports it); ``pretrend_event_*`` tests the pre-treatment event-time
    effects instead. ``twfe_estimate`` is the two-way fixed-effects coefficient, shown for
    comparison only: with staggered timing and effects that change over time it is biased.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    n: int
    level: float
    method: str
    design: str
    control: str
    estimator: str
    inference: str
    n_obs: int
    n_clusters: int
    dynamic_estimate: float
    dynamic_se: float
    dynamic_ci_low: float
    dynamic_ci_high: float
    pretrend_chi2: float
    pretrend_df: int
    pretrend_p: float
    pretrend_event_chi2: float
    pretrend_event_df: int
    pretrend_event_p: float
    twfe_estimate: float
    att_gt: pd.DataFrame = field(repr=False)
    event_study: pd.DataFrame = field(repr=False)
    base_period: str = "varying"
    cband: bool = False
    crit_val: float = float("nan")
    crit_val_event: float = float("nan")
    _title = "Difference-in-differences"

    def to_frame(self) -> pd.DataFrame:
        """One row for the overall ATT, one for the dynamic average, one per event time."""
        rows = [
            {
                "term": "ATT",
                "estimate": self.estimate,
                "se": self.se,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "p": self.p,
            },
        ]
        if self.design == "staggered":
            rows.append(
                {
                    "term": "ATT (event-time average)",
                    "estimate": self.dynamic_estimate,
                    "se": self.dynamic_se,
                    "ci_low": self.dynamic_ci_low,
                    "ci_high": self.dynamic_ci_high,
                    "p": _p_normal(self.dynamic_estimate, self.dynamic_se),
                }
            )
            for r in self.event_study.itertuples(index=False):
                rows.append(
                    {
                        "term": f"event time {r.event_time:+d}",
                        "estimate": r.estimate,
                        "se": r.se,
                        "ci_low": r.ci_low,
                        "ci_high": r.ci_high,
                        "p": r.p,
                    }
                )
        return self._tidy(rows)

    def plot(self, ax: Any = None) -> Any:
        """Event-study plot: effects by time since treatment with confidence intervals."""
        from ..plots.area import event_study_plot

        return event_study_plot(self, ax=ax)


def _p_normal(est: float, se: float) -> float:
    from scipy import stats

    if not np.isfinite(se) or se <= 0:
        return float("nan")
    return float(2 * stats.norm.sf(abs(est / se)))


# ------------------------------------------------------------------------------------------
# public entry point
# ------------------------------------------------------------------------------------------
def did(
    df: pd.DataFrame,
    *,
    outcome: str,
    unit: str,
    time: str,
    first_treated: str,
    control: str = "never",
    covariates: Sequence[str] = (),
    cluster: str | None = None,
    method: str = "reg",
    inference: str = "analytic",
    n_boot: int = 999,
    seed: int | None = None,
    level: float = 0.95,
    base_period: str = "varying",
    cband: bool = False,
) -> DidResult:
    r"""Difference-in-differences for areas adopting a service at the same or different times.

    **Two periods (2×2).** With exactly two periods the effect is the interaction
    coefficient :math:`\delta` of the regression

    .. math:: Y_{it} = \alpha + \gamma D_i + \lambda \mathrm{Post}_t
              + \delta D_i \mathrm{Post}_t + X_{it}'\beta + \varepsilon_{it},

    fitted by OLS with cluster-robust (CR1) standard errors by ``cluster`` (default
    ``unit``) and a t reference distribution with :math:`G-1` degrees of freedom. Rows may
    be individuals (repeated cross-sections): ``unit`` then only needs to identify the
    group, e.g. the area.

    **Staggered adoption (more periods).** Callaway & Sant'Anna (2021) group-time effects

    .. math:: ATT(g,t) = E[Y_t - Y_{b} \mid G=g] - E[Y_t - Y_{b} \mid C],

    for every cohort :math:`g` (the period first treated) and period :math:`t`, where
    the base period :math:`b` is :math:`g-1` after treatment and :math:`t-1` before it
    (R ``did``'s ``base_period = "varying"``), or :math:`g-1` for every period with
    ``base_period="universal"`` (then :math:`ATT(g, g-1) = 0` is reported as the reference,
    with no standard error, every period including the first gets a cell, and pre-treatment
    cells are long differences comparable with an event study), and :math:`C` is the never-treated units
    (``control="never"``) or those not yet treated by :math:`\max(t, b)`
    (``control="notyet"``). With covariates, ``method="reg"`` adjusts by the outcome
    regression of :math:`\Delta Y` on :math:`X` (base-period values) among controls
    (Heckman, Ichimura & Todd 1997); ``method="dr"`` uses the doubly robust estimator of
    Sant'Anna & Zhao (2020) with a logistic propensity score. The overall effect is the
    group-size weighted average of post-treatment cells,
    :math:`\theta = \sum_{g,t \ge g} P(G=g) ATT(g,t) / \sum_{g,t \ge g} P(G=g)`
    (``aggte(type="simple")``); event-time effects average the cells with
    :math:`t - g = e` the same way (``type="dynamic"``). Standard errors come from the
    influence functions, including the estimation of the weights, or from a multiplier
    bootstrap with Mammen weights (``inference="bootstrap"``; the standard error is the
    bootstrap interquartile range / 1.349, as in R ``did``). ``cband=True`` adds simultaneous
    (uniform) confidence bands, as R ``did`` with ``cband = TRUE``: from the same multiplier
    bootstrap draws (so it implies ``inference="bootstrap"``), the critical value is the
    ``level`` quantile of :math:`\max_j |\hat\theta^*_j - \hat\theta_j| / \hat\sigma_j` over
    the ATT(g,t) cells (``crit_val``; ``cband_low``/``cband_high`` in ``att_gt``) and
    separately over the event times (``crit_val_event``, in ``event_study``). With ``cluster`` (constant
    within unit) the influence functions are summed within clusters. The panel must be
    balanced: one row per unit and period.

    Parameters
    ----------
    df
        Long data: one row per unit and period (or per individual for the 2×2 case).
    outcome, unit, time
        Column names. ``time`` holds numbers or dates.
    first_treated
        Column with the first period each unit is treated (a value of ``time``); 0, missing
        or infinity for units never treated. Units first treated after the last period
        count as never treated; a value between two periods means the next period.
    control
        ``"never"`` (never-treated units) or ``"notyet"`` (never or not yet treated).
    covariates
        Column names of numeric covariates (time-invariant ones are best).
    cluster
        Column to cluster standard errors by (default: ``unit``).
    method
        ``"reg"`` (outcome regression) or ``"dr"`` (doubly robust); equal without covariates.
    inference
        ``"analytic"`` (influence function) or ``"bootstrap"`` (multiplier bootstrap).
    n_boot, seed
        Bootstrap replications and seed.
    level
        Confidence level.
    base_period
        ``"varying"`` (default) or ``"universal"`` (R ``did``'s ``base_period``).
    cband
        Simultaneous confidence bands by the multiplier bootstrap (staggered designs).

    Returns
    -------
    DidResult

    References
    ----------
    Callaway, B. & Sant'Anna, P. H. C. (2021). Difference-in-differences with multiple time
    periods. *Journal of Econometrics* 225(2), 200-230.
    Sant'Anna, P. H. C. & Zhao, J. (2020). Doubly robust difference-in-differences
    estimators. *Journal of Econometrics* 219(1), 101-122.

    Examples
    --------
    >>> from evalkit.simulate import staggered_panel
    >>> panel = staggered_panel(seed=2)
    >>> res = did(panel, outcome="y", unit="unit", time="time", first_treated="first_treated")
    >>> bool(abs(res.estimate - panel.attrs["truth"]["att_simple"]) < 4 * res.se)
    True
    >>> res.twfe_estimate < res.estimate  # two-way fixed effects are biased here
    True
    """
    check_choice("control", control, ["never", "notyet"])
    check_choice("method", method, ["reg", "dr"])
    check_choice("inference", inference, ["analytic", "bootstrap"])
    check_choice("base_period", base_period, ["varying", "universal"])
    if not isinstance(cband, bool):
        from ..errors import ParameterError

        raise ParameterError(
            f"cband={cband!r} is not allowed", key="cband", expected="True or False"
        )
    if cband:  # uniform bands come from the multiplier bootstrap draws, as in R did
        inference = "bootstrap"
    level = check_level(level)
    covariates = [covariates] if isinstance(covariates, str) else list(covariates)
    require(df, [outcome, unit, time, first_treated, cluster, *covariates])
    if inference == "bootstrap":
        n_boot = check_positive_int("n_boot", n_boot, minimum=50)

    codes, kind = time_codes(df[time], column=time)
    y = numeric_column(df, outcome, what="outcome")
    xs = (
        np.column_stack([numeric_column(df, c, what="covariate") for c in covariates])
        if covariates
        else np.empty((len(df), 0))
    )
    times = np.unique(codes)
    if len(times) < 2:
        raise DataError("the data hold a single period: nothing to difference", column=time)
    g = _group_codes(df, first_treated, kind, times)
    _check_constant_within(df, unit, first_treated, g)
    if cluster is not None:
        _check_constant_within(df, unit, cluster, df[cluster].to_numpy())

    always = g <= times[0]
    if always.any():
        units = [plain(u) for u in pd.unique(df.loc[always, unit])]
        raise DataError(
            f"{len(units)} unit(s) are treated in every period, so they have no "
            "untreated period to compare with: " + format_list(units),
            column=first_treated,
            rows=list(df.index[always]),
            allowed="a first-treated period after the first period, or 0 / empty for never",
        )
    if not np.isfinite(g).any():
        raise DataError(
            "no unit is ever treated",
            column=first_treated,
            allowed="the first treated period for treated units",
        )

    if len(times) == 2:
        return _did_2x2(
            df, y, xs, covariates, codes, times, g, unit, cluster, control, method, inference, level
        )
    units, _ = check_balanced_panel(df, unit=unit, time=time, codes=codes)
    return _did_staggered(
        df,
        y,
        xs,
        codes,
        times,
        g,
        unit,
        cluster,
        units,
        control,
        method,
        inference,
        n_boot,
        seed,
        level,
        base_period,
        cband,
    )


# ------------------------------------------------------------------------------------------
# input helpers
# ------------------------------------------------------------------------------------------
def _group_codes(df: pd.DataFrame, column: str, kind: str, times: np.ndarray) -> np.ndarray:
    """First-treated period as a time code; never treated is +inf."""
    raw = df[column]
    out = np.full(len(df), _NEVER)
    if kind == "number":
        if not pd.api.types.is_numeric_dtype(raw) or pd.api.types.is_bool_dtype(raw):
            conv = pd.to_numeric(raw, errors="coerce")
            bad = conv.isna() & raw.notna()
            if bad.any():
                raise DataError(
                    "first-treated periods must be numbers",
                    column=column,
                    rows=list(raw.index[bad]),
                    values=list(raw[bad].head(5)),
                    allowed="a period number, or 0 / empty for never treated",
                )
            raw = conv
        vals = raw.to_numpy(dtype=float)
        treated = np.isfinite(vals) & (vals != 0)
        out[treated] = vals[treated]
    else:
        for i, v in enumerate(raw):
            if v is None or (not isinstance(v, str) and pd.isna(v)) or v == 0:
                continue
            out[i] = code_of(v, kind, key=column)
    # a first-treated value between two periods means the next observed period
    finite = np.isfinite(out)
    pos = np.searchsorted(times, out[finite], side="left")
    mapped = np.where(pos < len(times), times[np.minimum(pos, len(times) - 1)], _NEVER)
    out[finite] = mapped
    return out


def _check_constant_within(df: pd.DataFrame, unit: str, column: str, values: np.ndarray) -> None:
    frame = pd.DataFrame({"u": df[unit].to_numpy(), "v": values})
    n_distinct = frame.groupby("u", sort=False)["v"].nunique(dropna=False)
    bad = n_distinct[n_distinct > 1]
    if len(bad):
        raise DataError(
            f"{column!r} must be the same in every row of a unit; it varies for unit(s) "
            + format_list(repr(plain(u)) for u in bad.index),
            column=column,
            allowed="one value per unit",
        )


# ------------------------------------------------------------------------------------------
# 2×2 regression
# ------------------------------------------------------------------------------------------
def _did_2x2(
    df, y, xs, covariates, codes, times, g, unit, cluster, control, method, inference, level
) -> DidResult:
    import statsmodels.api as sm
    from scipy import stats

    post = (codes == times[1]).astype(float)
    treat = (g == times[1]).astype(float)
    design = np.column_stack([np.ones(len(y)), treat, post, treat * post, xs])
    if treat.sum() == 0 or treat.sum() == len(treat):
        raise DataError("the 2×2 design needs both treated and untreated units", columns=[unit])
    groups = pd.factorize(df[cluster if cluster is not None else unit])[0]
    n_clusters = int(groups.max() + 1)
    if n_clusters < 2:
        raise DataError("cluster-robust errors need at least two clusters", column=cluster or unit)
    if n_clusters < _FEW_CLUSTERS:
        warnings.warn(
            f"only {n_clusters} clusters: cluster-robust standard errors are too small with "
            "fewer than about 20-30 clusters, so treat the interval as optimistic",
            EvalkitWarning,
            stacklevel=3,
        )
    fit = sm.OLS(y, design).fit(cov_type="cluster", cov_kwds={"groups": groups})
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise DataError(
            "the covariates are collinear with the design (constant or duplicated columns)",
            columns=list(covariates),
        )
    est = float(fit.params[3])
    se = float(fit.bse[3])
    crit = stats.t.ppf(0.5 + level / 2, n_clusters - 1)
    p = float(2 * stats.t.sf(abs(est / se), n_clusters - 1)) if se > 0 else float("nan")
    lo, hi = est - crit * se, est + crit * se
    n_units = int(pd.Series(df[unit]).nunique())
    cell = pd.DataFrame(
        {
            "group": [times[1]],
            "time": [times[1]],
            "event_time": [0],
            "base_time": [times[0]],
            "estimate": [est],
            "se": [se],
            "ci_low": [lo],
            "ci_high": [hi],
            "p": [p],
            "n_treated": [int(pd.Series(df.loc[treat == 1, unit]).nunique())],
            "n_control": [int(pd.Series(df.loc[treat == 0, unit]).nunique())],
        }
    )
    es = cell[["event_time", "estimate", "se", "ci_low", "ci_high", "p"]].copy()
    nan = float("nan")
    return DidResult(
        estimate=est,
        se=se,
        ci_low=lo,
        ci_high=hi,
        p=p,
        n=n_units,
        level=level,
        method="2x2 difference-in-differences regression, cluster-robust (CR1) errors",
        design="2x2",
        control=control,
        estimator="regression",
        inference="analytic",
        n_obs=len(y),
        n_clusters=n_clusters,
        dynamic_estimate=est,
        dynamic_se=se,
        dynamic_ci_low=lo,
        dynamic_ci_high=hi,
        pretrend_chi2=nan,
        pretrend_df=0,
        pretrend_p=nan,
        pretrend_event_chi2=nan,
        pretrend_event_df=0,
        pretrend_event_p=nan,
        twfe_estimate=est,
        att_gt=cell,
        event_study=es,
    )


# ------------------------------------------------------------------------------------------
# Callaway & Sant'Anna
# ------------------------------------------------------------------------------------------
def _ols_solve(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    coef, *_ = np.linalg.lstsq(x, y, rcond=None)
    return coef


def _reg_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Outcome-regression DiD for panel data and its influence function (Sant'Anna & Zhao 2020)."""
    n = len(dy)
    ctrl = d == 0
    beta = _ols_solve(x[ctrl], dy[ctrl])
    fitted = x @ beta
    mean_d = d.mean()
    eta_t = np.mean(d * dy) / mean_d
    eta_c = np.mean(d * fitted) / mean_d
    w_ols = 1.0 - d
    xpx_inv = np.linalg.pinv((w_ols[:, None] * x).T @ x / n)
    lin_ols = (w_ols * (dy - fitted))[:, None] * x @ xpx_inv
    inf_treat = (d * dy - d * eta_t) / mean_d
    inf_cont = (d * fitted - d * eta_c + lin_ols @ (d[:, None] * x).mean(axis=0)) / mean_d
    return float(eta_t - eta_c), inf_treat - inf_cont


def _logit(x: np.ndarray, d: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Logistic regression by Newton-Raphson: fitted probabilities and the coefficient vcov."""
    beta = np.zeros(x.shape[1])
    for _ in range(100):
        p = 1 / (1 + np.exp(-np.clip(x @ beta, -35, 35)))
        w = p * (1 - p)
        hess = (x * w[:, None]).T @ x
        step = np.linalg.lstsq(hess, x.T @ (d - p), rcond=None)[0]
        beta += step
        if np.max(np.abs(step)) < 1e-10:
            break
    else:
        raise DataError(
            "the propensity-score model did not converge: the covariates separate "
            "treated and comparison units; use method='reg' or fewer covariates"
        )
    p = 1 / (1 + np.exp(-np.clip(x @ beta, -35, 35)))
    vcov = np.linalg.pinv((x * (p * (1 - p))[:, None]).T @ x)
    return p, vcov


def _dr_did(dy: np.ndarray, d: np.ndarray, x: np.ndarray) -> tuple[float, np.ndarray]:
    """Locally efficient doubly robust DiD (Sant'Anna & Zhao 2020, panel) and its influence."""
    n = len(dy)
    ps, vcov = _logit(x, d)
    ps = np.minimum(ps, 1 - 1e-6)
    keep = np.where(d == 1, 1.0, (ps < 0.995).astype(float))
    ctrl = d == 0
    beta = _ols_solve(x[ctrl], dy[ctrl])
    fitted = x @ beta
    w_t = keep * d
    w_c = keep * ps * (1 - d) / (1 - ps)
    resid = dy - fitted
    eta_t = np.mean(w_t * resid) / w_t.mean()
    eta_c = np.mean(w_c * resid) / w_c.mean()
    w_ols = 1.0 - d
    xpx_inv = np.linalg.pinv((w_ols[:, None] * x).T @ x / n)
    lin_ols = (w_ols * resid)[:, None] * x @ xpx_inv
    lin_ps = ((d - ps)[:, None] * x) @ (vcov * n)
    inf_treat = (w_t * resid - w_t * eta_t - lin_ols @ (w_t[:, None] * x).mean(axis=0)) / w_t.mean()
    m2 = (w_c * (resid - eta_c))[:, None] * x
    inf_cont = (
        w_c * resid
        - w_c * eta_c
        + lin_ps @ m2.mean(axis=0)
        - lin_ols @ (w_c[:, None] * x).mean(axis=0)
    ) / w_c.mean()
    return float(eta_t - eta_c), inf_treat - inf_cont


def _did_staggered(
    df,
    y,
    xs,
    codes,
    times,
    g,
    unit,
    cluster,
    units,
    control,
    method,
    inference,
    n_boot,
    seed,
    level,
    base_period="varying",
    cband=False,
) -> DidResult:
    from scipy import stats

    universal = base_period == "universal"
    n, n_t = len(units), len(times)
    u_pos = pd.Index(units).get_indexer(df[unit].to_numpy())
    t_pos = np.searchsorted(times, codes)
    ymat = np.empty((n, n_t))
    ymat[u_pos, t_pos] = y
    k = xs.shape[1]
    xmat = np.empty((n, n_t, k))
    xmat[u_pos, t_pos] = xs
    gu = np.full(n, _NEVER)
    gu[u_pos] = g
    if cluster is not None:
        cl = np.empty(n, dtype=object)
        cl[u_pos] = df[cluster].to_numpy()
        cluster_ids = pd.factorize(pd.Series(cl))[0]
    else:
        cluster_ids = np.arange(n)
    n_clusters = int(cluster_ids.max() + 1)

    if control == "never" and not np.isinf(gu).any():
        raise DataError(
            "there are no never-treated units to compare with; use control='notyet'",
            allowed="some units with first-treated 0 or empty",
        )
    cohorts = np.unique(gu[np.isfinite(gu)])
    cells, psis, skipped = [], [], []
    for gval in cohorts:
        gi = int(np.searchsorted(times, gval))
        for ti in range(0 if universal else 1, n_t):
            base = gi - 1 if (ti >= gi or universal) else ti - 1
            d = (gu == gval).astype(float)
            if control == "never":
                ctrl = np.isinf(gu)
            else:
                ctrl = np.isinf(gu) | ((gu > times[max(ti, base)]) & (gu != gval))
            if ti == base:  # universal base period: the reference cell ATT(g, g-1) = 0
                cell = (gval, times[ti], ti - gi, times[base], 0.0, int(d.sum()), int(ctrl.sum()))
                cells.append(cell)
                psis.append(np.zeros(n))
                continue
            sub = (d == 1) | ctrl
            if ctrl.sum() == 0:
                skipped.append((gval, times[ti]))
                continue
            dy = (ymat[:, ti] - ymat[:, base])[sub]
            x = np.column_stack([np.ones(sub.sum()), xmat[sub, base, :]])
            est_fn = _dr_did if (method == "dr" and k > 0) else _reg_did
            att, inf_sub = est_fn(dy, d[sub], x)
            psi = np.zeros(n)
            psi[sub] = inf_sub * (n / sub.sum())
            cells.append(
                (gval, times[ti], ti - gi, times[base], att, int(d.sum()), int(ctrl.sum()))
            )
            psis.append(psi)
    if not cells:
        raise DataError("no group-time effect could be estimated: no comparison units")
    if skipped:
        warnings.warn(
            f"{len(skipped)} group-time effect(s) have no not-yet-treated comparison units and "
            "were left out (the last cohort after everyone is treated)",
            EvalkitWarning,
            stacklevel=3,
        )
    psi = np.column_stack(psis)
    att = np.array([c[4] for c in cells])
    cell_g = np.array([c[0] for c in cells])
    cell_e = np.array([c[2] for c in cells])

    # aggregations: (name, estimate, influence function)
    pg_unit = {gv: float(np.mean(gu == gv)) for gv in cohorts}
    pg = np.array([pg_unit[gv] for gv in cell_g])

    def aggregate(keep: np.ndarray) -> tuple[float, np.ndarray]:
        w = pg[keep] / pg[keep].sum()
        ind = (gu[:, None] == cell_g[keep][None, :]).astype(float) - pg[keep][None, :]
        wif = ind / pg[keep].sum() - np.outer(ind.sum(axis=1), pg[keep] / pg[keep].sum() ** 2)
        return float(w @ att[keep]), psi[:, keep] @ w + wif @ att[keep]

    simple_est, simple_psi = aggregate(cell_e >= 0)
    event_times = np.unique(cell_e)
    ev = [aggregate(cell_e == e) for e in event_times]
    ev_est = np.array([e[0] for e in ev])
    ev_psi = np.column_stack([e[1] for e in ev])
    post_e = event_times >= 0
    dyn_est = float(ev_est[post_e].mean())
    dyn_psi = ev_psi[:, post_e].mean(axis=1)

    all_psi = np.column_stack([psi, simple_psi, ev_psi, dyn_psi])
    crit_cells = crit_event = float("nan")
    if inference == "analytic":
        summed = np.zeros((n_clusters, all_psi.shape[1]))
        np.add.at(summed, cluster_ids, all_psi)
        cov = summed.T @ summed / n**2
        se_all = np.sqrt(np.diag(cov))
    else:
        se_all, cov, boot = _multiplier_bootstrap(
            all_psi, cluster_ids, n_clusters, n_boot, seed, draws_out=True
        )
        if cband:
            n_c = psi.shape[1]
            crit_cells = _sup_t_critical(boot[:, :n_c], se_all[:n_c], level)
            ev_cols = slice(n_c + 1, n_c + 1 + len(event_times))
            crit_event = _sup_t_critical(boot[:, ev_cols], se_all[ev_cols], level)
    # reference cells (universal base period) have no sampling variation: no SE, as R did
    se_all = np.where(se_all <= np.sqrt(np.finfo(float).eps) * 10, np.nan, se_all)
    n_cells = psi.shape[1]
    se_cells = se_all[:n_cells]
    se_simple = float(se_all[n_cells])
    se_ev = se_all[n_cells + 1 : n_cells + 1 + len(event_times)]
    se_dyn = float(se_all[-1])
    z = stats.norm.ppf(0.5 + level / 2)

    pre = (cell_e < 0) & np.isfinite(se_cells)  # the reference cells are left out, as R did
    chi2, df_pre, p_pre = _wald(att[pre], cov[np.ix_(pre, pre)])
    ev_idx = n_cells + 1 + np.flatnonzero(~post_e & np.isfinite(se_ev))
    chi2_e, df_e, p_e = _wald(ev_est[~post_e & np.isfinite(se_ev)], cov[np.ix_(ev_idx, ev_idx)])

    att_gt = pd.DataFrame(
        {
            "group": [c[0] for c in cells],
            "time": [c[1] for c in cells],
            "event_time": cell_e.astype(int),
            "base_time": [c[3] for c in cells],
            "estimate": att,
            "se": se_cells,
            "ci_low": att - z * se_cells,
            "ci_high": att + z * se_cells,
            "p": [_p_normal(a, s) for a, s in zip(att, se_cells)],
            "n_treated": [c[5] for c in cells],
            "n_control": [c[6] for c in cells],
        }
    )
    event_study = pd.DataFrame(
        {
            "event_time": event_times.astype(int),
            "estimate": ev_est,
            "se": se_ev,
            "ci_low": ev_est - z * se_ev,
            "ci_high": ev_est + z * se_ev,
            "p": [_p_normal(a, s) for a, s in zip(ev_est, se_ev)],
        }
    )
    if cband:
        att_gt["cband_low"] = att - crit_cells * se_cells
        att_gt["cband_high"] = att + crit_cells * se_cells
        event_study["cband_low"] = ev_est - crit_event * se_ev
        event_study["cband_high"] = ev_est + crit_event * se_ev
    label = "outcome regression" if (method == "reg" or k == 0) else "doubly robust"
    return DidResult(
        estimate=simple_est,
        se=se_simple,
        ci_low=simple_est - z * se_simple,
        ci_high=simple_est + z * se_simple,
        p=_p_normal(simple_est, se_simple),
        n=n,
        level=level,
        method=f"Callaway & Sant'Anna (2021) group-time ATT, {label}, "
        f"{'never' if control == 'never' else 'not-yet'}-treated comparison",
        design="staggered",
        control=control,
        estimator=method,
        inference=inference,
        n_obs=len(y),
        n_clusters=n_clusters,
        dynamic_estimate=dyn_est,
        dynamic_se=se_dyn,
        dynamic_ci_low=dyn_est - z * se_dyn,
        dynamic_ci_high=dyn_est + z * se_dyn,
        pretrend_chi2=chi2,
        pretrend_df=df_pre,
        pretrend_p=p_pre,
        pretrend_event_chi2=chi2_e,
        pretrend_event_df=df_e,
        pretrend_event_p=p_e,
        twfe_estimate=_twfe(ymat, gu, times),
        att_gt=att_gt,
        event_study=event_study,
        base_period=base_period,
        cband=bool(cband),
        crit_val=crit_cells,
        crit_val_event=crit_event,
    )


def _sup_t_critical(boot: np.ndarray, se: np.ndarray, level: float) -> float:
    """Critical value of the uniform band (R did's ``mboot``): the ``level`` quantile
    (type 1, the inverse of the empirical distribution) over draws of max_j |theta*_j| / se_j,
    ignoring estimates without sampling variation."""
    ok = np.isfinite(se) & (se > np.sqrt(np.finfo(float).eps) * 10)
    if not ok.any():
        return float("nan")
    t_max = np.max(np.abs(boot[:, ok]) / se[ok], axis=1)
    t_max = np.sort(t_max[np.isfinite(t_max)])
    k = int(np.ceil(level * len(t_max))) - 1  # type-1 quantile
    return float(t_max[min(max(k, 0), len(t_max) - 1)])


def _multiplier_bootstrap(psi, cluster_ids, n_clusters, n_boot, seed, draws_out=False):
    """Mammen multiplier bootstrap of influence functions; SE = IQR / (z.75 - z.25)."""
    from scipy import stats

    n = psi.shape[0]
    summed = np.zeros((n_clusters, psi.shape[1]))
    np.add.at(summed, cluster_ids, psi)
    rng = np.random.default_rng(seed)
    s5 = np.sqrt(5.0)
    lo_val, hi_val = (1 - s5) / 2, (1 + s5) / 2
    p_lo = (s5 + 1) / (2 * s5)
    draws = np.where(rng.random((n_boot, n_clusters)) < p_lo, lo_val, hi_val)
    boot = draws @ summed / n
    q75, q25 = np.quantile(boot, [0.75, 0.25], axis=0)
    se = (q75 - q25) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    cov = np.cov(boot, rowvar=False)
    if draws_out:
        return se, np.atleast_2d(cov), boot
    return se, np.atleast_2d(cov)


def _wald(est: np.ndarray, cov: np.ndarray) -> tuple[float, int, float]:
    from scipy import stats

    k = len(est)
    if k == 0:
        return float("nan"), 0, float("nan")
    try:
        chi2 = float(est @ np.linalg.solve(cov, est))
    except np.linalg.LinAlgError:
        warnings.warn(
            "the pre-trend test could not be computed: the covariance of the "
            "pre-treatment effects is singular",
            EvalkitWarning,
            stacklevel=4,
        )
        return float("nan"), k, float("nan")
    return chi2, k, float(stats.chi2.sf(chi2, k))


def _twfe(ymat: np.ndarray, gu: np.ndarray, times: np.ndarray) -> float:
    """Two-way fixed-effects coefficient on D_it = 1{t >= g} (balanced panel)."""
    dmat = (times[None, :] >= gu[:, None]).astype(float)

    def within(a: np.ndarray) -> np.ndarray:
        return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()

    dt = within(dmat)
    denom = float((dt**2).sum())
    return float((dt * ymat).sum() / denom) if denom > 0 else float("nan")
