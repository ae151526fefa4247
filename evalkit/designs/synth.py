"""Synthetic control (Abadie, Diamond & Hainmueller 2010) with in-space placebo tests.

Public: :func:`synthetic_control` returning a :class:`SynthResult`.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..errors import DataError, EvalkitWarning, ParameterError, format_list
from ..results import Result
from ._panel import check_balanced_panel, code_of, numeric_column, require, time_codes

__all__ = ["synthetic_control", "SynthResult"]


@dataclass(frozen=True)
class SynthResult(Result):
    """Result of :func:`synthetic_control`.

    ``estimate`` is the mean post-intervention gap (treated minus synthetic). ``weights``
    are the donor weights (non-negative, summing to one); ``paths`` holds per period the
    treated and synthetic outcomes and their gap; ``placebos`` holds, for every unit
    (the treated one and each donor re-analysed as if treated), the pre- and
    post-period RMSPE and their ratio; ``p`` is the permutation p-value: the share of
    units whose post/pre RMSPE ratio is at least the treated unit's (Abadie et al. 2010).
    """

    estimate: float
    p: float
    n: int
    method: str
    treated: Any
    intervention_time: Any
    pre_rmspe: float
    post_rmspe: float
    rmspe_ratio: float
    rank: int
    n_pre: int
    n_post: int
    weights: pd.Series = field(repr=False)
    paths: pd.DataFrame = field(repr=False)
    placebos: pd.DataFrame = field(repr=False)
    placebo_gaps: pd.DataFrame = field(repr=False)
    predictor_weights: pd.Series | None = field(default=None, repr=False)
    level: float = 0.95
    _title = "Synthetic control"

    def plot(self, ax: Any = None, *, kind: str = "gap") -> Any:
        """``kind="gap"``: treated gap against the placebo gaps; ``"path"``: treated vs synthetic."""
        from ..plots.area import synth_gap_plot, synth_path_plot

        if kind == "path":
            return synth_path_plot(self, ax=ax)
        if kind != "gap":
            raise ParameterError(
                f"kind={kind!r} is not a plot", key="kind", expected="'gap' or 'path'"
            )
        return synth_gap_plot(self, ax=ax)


def simplex_least_squares(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    r"""Minimise :math:`\lVert A w - b \rVert^2` over :math:`w \ge 0,\ \sum w = 1`.

    Lawson–Hanson non-negative least squares with the sum-to-one constraint added as a
    heavily weighted row, then an active-set polish (the equality-constrained solution on
    the support, kept when it is non-negative and fits at least as well), so that an
    exact convex mix comes back exactly. The Karush–Kuhn–Tucker conditions are checked
    and SLSQP takes over in the rare case they fail.
    """
    from scipy.optimize import nnls

    k = a.shape[1]
    scale = float(np.linalg.norm(b)) or 1.0
    a_s, b_s = a / scale, b / scale
    ata, atb = a_s.T @ a_s, a_s.T @ b_s

    def obj(w: np.ndarray) -> float:
        r = a_s @ w - b_s
        return float(r @ r)

    big = 1e4 * max(1.0, float(np.abs(a_s).max()) * np.sqrt(a.shape[0]))
    w, _ = nnls(np.vstack([a_s, np.full(k, big)]), np.concatenate([b_s, [big]]), maxiter=50 * k)
    w = w / w.sum() if w.sum() > 0 else np.full(k, 1 / k)
    w = _polish(w, ata, atb, obj)
    grad = 2 * (ata @ w - atb)
    support = w > 1e-9
    lam = grad[support].mean()
    if (grad - lam).min() < -1e-7 * max(1.0, float(np.abs(grad).max())):
        w = _slsqp(w, ata, atb, obj)
    return w


def _polish(w, ata, atb, obj) -> np.ndarray:
    """Equality-constrained least squares on the support of ``w`` (if feasible and no worse)."""
    support = np.flatnonzero(w > 1e-7)
    m = len(support)
    if m == 0:
        return w
    kkt = np.zeros((m + 1, m + 1))
    kkt[:m, :m] = 2 * ata[np.ix_(support, support)]
    kkt[:m, m] = 1
    kkt[m, :m] = 1
    rhs = np.concatenate([2 * atb[support], [1.0]])
    try:
        sol = np.linalg.solve(kkt, rhs)[:m]
    except np.linalg.LinAlgError:
        return w
    if (sol < -1e-12).any():
        return w
    cand = np.zeros(len(w))
    cand[support] = np.clip(sol, 0, None)
    cand /= cand.sum()
    return cand if obj(cand) <= obj(w) + 1e-15 else w


def _slsqp(w0, ata, atb, obj) -> np.ndarray:
    from scipy.optimize import minimize

    k = len(w0)
    res = minimize(
        obj,
        w0,
        jac=lambda w: 2 * (ata @ w - atb),
        method="SLSQP",
        bounds=[(0.0, 1.0)] * k,
        constraints=[
            {"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones_like(w)}
        ],
        options={"ftol": 1e-14, "maxiter": 500},
    )
    w = np.clip(res.x, 0, None)
    return _polish(w / w.sum(), ata, atb, obj)


def synthetic_control(
    panel: pd.DataFrame,
    *,
    unit: str,
    time: str,
    outcome: str,
    treated: Any,
    intervention_time: Any,
    predictors: Sequence[str] | None = None,
    placebo: bool = True,
    donors: Sequence[Any] | None = None,
) -> SynthResult:
    r"""Synthetic control: a weighted mix of untreated areas that tracks the treated area.

    Without ``predictors`` the donor weights solve

    .. math:: \min_w \sum_{t < T_0} \Big(Y_{1t} - \sum_j w_j Y_{jt}\Big)^2
              \quad\text{s.t. } w_j \ge 0,\ \sum_j w_j = 1,

    over the pre-intervention periods :math:`t < T_0` (scipy SLSQP with an active-set
    polish). With ``predictors`` (columns averaged over the pre-period, each divided by
    its standard deviation across units) the weights minimise
    :math:`(X_1 - X_0 w)' V (X_1 - X_0 w)` for a diagonal :math:`V`, and :math:`V` is
    chosen (nested, Nelder–Mead over the simplex) to minimise the pre-period outcome
    MSPE, as in Abadie, Diamond & Hainmueller (2010). The gap
    :math:`Y_{1t} - \sum_j w_j Y_{jt}` after :math:`T_0` estimates the effect; the fit
    is judged by the pre-period RMSPE. In-space placebos re-run the analysis with each
    donor as the treated area (the others as its donors); the permutation p-value is the
    share of all units whose post/pre RMSPE ratio is at least the treated area's.

    Parameters
    ----------
    panel
        Long data: one row per unit and period, balanced.
    unit, time, outcome
        Column names.
    treated
        The label of the treated unit.
    intervention_time
        The first period after the intervention.
    predictors
        Optional numeric columns used as matching variables (averaged over the pre-period).
    placebo
        Run the in-space placebo tests (one fit per donor).
    donors
        Units allowed as donors (default: every other unit).

    Returns
    -------
    SynthResult

    References
    ----------
    Abadie, A., Diamond, A. & Hainmueller, J. (2010). Synthetic control methods for
    comparative case studies. *JASA* 105(490), 493-505.
    Abadie, A. (2021). Using synthetic controls: feasibility, data requirements, and
    methodological aspects. *J Econ Lit* 59(2), 391-425.

    Examples
    --------
    >>> from evalkit.simulate import synthetic_panel
    >>> panel = synthetic_panel(seed=1)
    >>> res = synthetic_control(panel, unit="area", time="month", outcome="outcome",
    ...                         treated="T", intervention_time=31)
    >>> res.weights.round(3).head(3).to_dict()
    {'D01': 0.5, 'D02': 0.3, 'D03': 0.2}
    """
    predictors = [predictors] if isinstance(predictors, str) else list(predictors or [])
    require(panel, [unit, time, outcome, *predictors], what="panel")
    codes, kind = time_codes(panel[time], column=time)
    y = numeric_column(panel, outcome, what="outcome")
    units, times = check_balanced_panel(panel, unit=unit, time=time, codes=codes)
    if treated not in set(units):
        raise DataError(
            f"the treated unit {treated!r} is not in the panel",
            column=unit,
            allowed="one of " + format_list(repr(u) for u in units),
        )
    cut = code_of(intervention_time, kind, key="intervention_time")
    pre = times < cut
    n_pre, n_post = int(pre.sum()), int((~pre).sum())
    if n_pre < 2 or n_post < 1:
        raise DataError(
            f"the intervention time {intervention_time!r} leaves {n_pre} period(s) before and "
            f"{n_post} from it",
            column=time,
            allowed="at least 2 periods before the intervention and 1 from it",
        )
    if n_pre < 5:
        warnings.warn(
            f"only {n_pre} pre-intervention periods: the synthetic control is fitted "
            "on very little history and may match by chance",
            EvalkitWarning,
            stacklevel=2,
        )
    pool = [u for u in units if u != treated]
    if donors is not None:
        missing = [d for d in donors if d not in set(pool)]
        if missing:
            raise DataError(
                "donors not in the panel (or the treated unit itself): "
                + format_list(repr(d) for d in missing),
                column=unit,
            )
        pool = list(donors)
    if len(pool) < 2:
        raise DataError("a synthetic control needs at least two donor units", column=unit)

    u_pos = pd.Index(units).get_indexer(panel[unit].to_numpy())
    t_pos = np.searchsorted(times, codes)
    values = np.full((len(units), len(times)), np.nan)
    values[u_pos, t_pos] = y
    ymat = pd.DataFrame(values, index=pd.Index(units), columns=times)
    xmat = None
    if predictors:
        cols = [numeric_column(panel, c, what="predictor") for c in predictors]
        pre_rows = pre[t_pos]
        xmat = pd.DataFrame(
            {
                c: pd.Series(v[pre_rows]).groupby(u_pos[pre_rows]).mean().to_numpy()
                for c, v in zip(predictors, cols)
            },
            index=pd.Index(units),
        )
        sd = xmat.std(axis=0, ddof=1).replace(0, 1.0)
        xmat = xmat / sd

    def fit(target: Any, donor_ids: list) -> tuple[np.ndarray, np.ndarray, pd.Series | None]:
        y1 = ymat.loc[target].to_numpy()
        y0 = ymat.loc[donor_ids].to_numpy().T
        if xmat is None:
            w = simplex_least_squares(y0[pre], y1[pre])
            v = None
        else:
            w, v = _nested_v(
                xmat.loc[target].to_numpy(), xmat.loc[donor_ids].to_numpy().T, y1[pre], y0[pre]
            )
        return w, y1 - y0 @ w, v

    w, gap, v = fit(treated, pool)
    pre_rmspe = float(np.sqrt(np.mean(gap[pre] ** 2)))
    post_rmspe = float(np.sqrt(np.mean(gap[~pre] ** 2)))
    ratio = post_rmspe / pre_rmspe if pre_rmspe > 0 else float("inf")
    rows = [
        {
            "unit": treated,
            "treated": True,
            "pre_rmspe": pre_rmspe,
            "post_rmspe": post_rmspe,
            "ratio": ratio,
        }
    ]
    gaps = {treated: gap}
    if placebo:
        for d in pool:
            others = [u for u in pool if u != d]
            _, g_d, _ = fit(d, others)
            pr = float(np.sqrt(np.mean(g_d[pre] ** 2)))
            po = float(np.sqrt(np.mean(g_d[~pre] ** 2)))
            rows.append(
                {
                    "unit": d,
                    "treated": False,
                    "pre_rmspe": pr,
                    "post_rmspe": po,
                    "ratio": po / pr if pr > 0 else float("inf"),
                }
            )
            gaps[d] = g_d
    placebos = pd.DataFrame(rows)
    placebos["rank"] = placebos["ratio"].rank(ascending=False, method="max").astype(int)
    rank = int(placebos.loc[0, "rank"])
    p = rank / len(placebos) if placebo else float("nan")

    t_labels = _labels(panel, time, codes, times)
    synth = ymat.loc[treated].to_numpy() - gap
    paths = pd.DataFrame(
        {
            "time": t_labels,
            "treated": ymat.loc[treated].to_numpy(),
            "synthetic": synth,
            "gap": gap,
            "post": ~pre,
        }
    )
    method = (
        "synthetic control (pre-period outcomes)"
        if not predictors
        else "synthetic control (predictors, nested V)"
    )
    return SynthResult(
        estimate=float(gap[~pre].mean()),
        p=p,
        n=len(pool),
        method=method,
        treated=treated,
        intervention_time=intervention_time,
        pre_rmspe=pre_rmspe,
        post_rmspe=post_rmspe,
        rmspe_ratio=ratio,
        rank=rank,
        n_pre=n_pre,
        n_post=n_post,
        weights=pd.Series(w, index=pd.Index(pool, name=unit), name="weight"),
        paths=paths,
        placebos=placebos,
        placebo_gaps=pd.DataFrame(gaps, index=pd.Index(t_labels, name=time)),
        predictor_weights=pd.Series(v, index=predictors, name="v") if v is not None else None,
    )


def _labels(panel: pd.DataFrame, time: str, codes: np.ndarray, times: np.ndarray) -> list:
    first = pd.Series(panel[time].to_numpy(), index=codes)
    first = first[~first.index.duplicated()]
    return list(first.loc[times])


def _nested_v(x1, x0, y1_pre, y0_pre) -> tuple[np.ndarray, np.ndarray]:
    """Choose diagonal predictor weights V (softmax-parametrised) minimising pre-period MSPE."""
    from scipy.optimize import minimize

    k = len(x1)

    def weights_for(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v = np.exp(theta - theta.max())
        v /= v.sum()
        sv = np.sqrt(v)
        return simplex_least_squares(sv[:, None] * x0, sv * x1), v

    def loss(theta: np.ndarray) -> float:
        w, _ = weights_for(theta)
        r = y1_pre - y0_pre @ w
        return float(r @ r)

    best = minimize(
        loss,
        np.zeros(k),
        method="Nelder-Mead",
        options={"maxiter": 200 * k, "xatol": 1e-4, "fatol": 1e-10},
    )
    w, v = weights_for(best.x)
    return w, v
