"""Propensity-score designs: greedy nearest-neighbour matching (as MatchIt) and weighting."""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, check_level, check_positive_int
from ..errors import DataError, EvalkitWarning, ParameterError
from ..results import Result
from ._common import (
    as_list,
    constant_columns,
    expand_covariates,
    is_binary,
    listwise,
    numeric_column,
    t_interval,
    t_pvalue,
    treatment_indicator,
    weighted_mean_var,
)

__all__ = ["propensity", "PropensityResult"]

_EXTREME = 1e-8  # fitted probabilities this close to 0 or 1 signal separation


@dataclass(frozen=True)
class PropensityResult(Result):
    """Result of :func:`propensity`: the effect, balance and common support."""

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    p: float
    n: int
    level: float
    method: str
    estimand: str
    se_method: str
    naive: float
    n_treated: int
    n_control: int
    n_matched_treated: int
    n_matched_control: int
    n_unmatched_treated: int
    n_dropped: int
    n_outside_support: int
    ess_treated: float
    ess_control: float
    ratio: int
    replace: bool
    caliper: float | None
    caliper_width: float | None
    max_abs_smd_after: float
    balance: pd.DataFrame = field(repr=False)
    support: pd.DataFrame = field(repr=False)
    matched_data: pd.DataFrame = field(repr=False)
    pscore: pd.Series = field(repr=False)
    missing_by_column: dict = field(repr=False, default_factory=dict)
    n_trimmed: int = 0
    trim_threshold: float | None = None
    stabilized: bool = False
    strata_without_comparison: tuple = ()

    _title = "Propensity-score estimate"

    def to_frame(self) -> pd.DataFrame:
        """One row: the adjusted effect; the naive difference as a second row."""
        rows = [
            {
                "term": f"effect ({self.estimand})",
                "estimate": self.estimate,
                "se": self.se,
                "ci_low": self.ci_low,
                "ci_high": self.ci_high,
                "p": self.p,
            },
            {
                "term": "naive difference",
                "estimate": self.naive,
                "se": math.nan,
                "ci_low": math.nan,
                "ci_high": math.nan,
                "p": math.nan,
            },
        ]
        return self._tidy(rows)

    def plot(self, ax: Any = None, kind: str = "love") -> Any:
        """``kind="love"`` (balance before/after), ``"support"`` (score overlap) or ``"effect"``."""
        from ..plots import designs as p

        check_choice("kind", kind, ["love", "support", "effect"])
        if kind == "love":
            return p.love_plot(self.balance, ax=ax)
        if kind == "support":
            t = self.matched_data.attrs["treat_all"]
            return p.support_plot(self.pscore.to_numpy(), t, ax=ax)
        return p.effect_plot(
            ["naive", f"adjusted ({self.estimand})"],
            [self.naive, self.estimate],
            [self.naive, self.ci_low],
            [self.naive, self.ci_high],
            ax=ax,
            title=f"{self.method}: effect with {self.level:.0%} CI",
        )


# -- propensity model --------------------------------------------------------------------------
def _separating_columns(x: pd.DataFrame, t: np.ndarray) -> list[str]:
    """Covariates that on their own perfectly predict treatment (complete separation)."""
    out = []
    for c in x.columns:
        v = x[c].to_numpy(dtype=float)
        v1, v0 = v[t == 1], v[t == 0]
        if v1.min() > v0.max() or v1.max() < v0.min():
            out.append(str(c))
    return out


def _fit_pscore(x: pd.DataFrame, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Logistic regression of treatment on covariates; returns (ps, beta, design)."""
    import statsmodels.api as sm

    design = np.column_stack([np.ones(len(t)), x.to_numpy(dtype=float)])
    sep = _separating_columns(x, t)
    if sep:
        raise DataError(
            "perfect separation: these covariates alone tell treated from comparison people, "
            "so there is no one comparable to match or weight with",
            columns=sep,
            allowed="covariates whose values overlap between the groups",
        )
    if np.linalg.matrix_rank(design) < design.shape[1]:
        raise DataError(
            "the covariates are collinear (one is an exact combination of others)",
            columns=list(x.columns),
            allowed="drop redundant covariates",
        )
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        try:
            fit = sm.GLM(t, design, family=sm.families.Binomial()).fit()
        except Exception as exc:  # PerfectSeparationError in older statsmodels, LinAlgError
            raise DataError(
                f"the propensity model could not be fitted ({exc}); the covariates "
                "together may perfectly predict treatment",
                columns=list(x.columns),
            ) from None
    beta = np.asarray(fit.params, dtype=float)
    ps = 1.0 / (1.0 + np.exp(-(design @ beta)))
    extreme = (ps < _EXTREME) | (ps > 1 - _EXTREME)
    if extreme.all():
        raise DataError(
            "perfect separation: the covariates together perfectly predict "
            "treatment, so the groups do not overlap at all",
            columns=list(x.columns),
            allowed="covariates whose values overlap",
        )
    if extreme.any():
        warnings.warn(
            f"quasi-separation: {int(extreme.sum())} people have a propensity score of 0 or 1 "
            "(some covariate pattern occurs in one group only); they cannot be compared with "
            "anyone, and with weighting they get extreme weights.",
            EvalkitWarning,
            stacklevel=3,
        )
    return ps, beta, design


def _support(ps: np.ndarray, t: np.ndarray, estimand: str) -> tuple[pd.DataFrame, int]:
    p1, p0 = ps[t == 1], ps[t == 0]
    lo, hi = max(p1.min(), p0.min()), min(p1.max(), p0.max())
    rows = []
    for name, p in (("treated", p1), ("comparison", p0)):
        outside = int(np.sum((p < lo) | (p > hi)))
        rows.append(
            {
                "group": name,
                "n": len(p),
                "ps_min": float(p.min()),
                "ps_max": float(p.max()),
                "n_outside": outside,
            }
        )
    sup = pd.DataFrame(rows).set_index("group")
    sup.attrs["region"] = (float(lo), float(hi))
    if lo >= hi:
        raise DataError(
            "no common support: the propensity scores of the two groups do not overlap "
            f"(treated {p1.min():.3g}–{p1.max():.3g}, comparison {p0.min():.3g}–{p0.max():.3g})",
            allowed="groups that share some covariate patterns",
        )
    relevant = (
        int(sup.loc["treated", "n_outside"]) if estimand == "ATT" else int(sup["n_outside"].sum())
    )
    if relevant:
        who = "treated people" if estimand == "ATT" else "people"
        warnings.warn(
            f"{relevant} {who} have propensity scores outside the range of the other group "
            f"(common support {lo:.3g}–{hi:.3g}); their comparisons rely on extrapolation "
            "(see .support). Consider a caliper, or report the estimate for those inside support.",
            EvalkitWarning,
            stacklevel=3,
        )
    return sup, relevant


# -- matching ----------------------------------------------------------------------------------
def _nearest_match(
    ps: np.ndarray, t: np.ndarray, *, ratio: int, replace: bool, caliper_width: float | None
) -> list[list[int]]:
    """Greedy nearest-neighbour matching on the score, as MatchIt's ``method="nearest"``.

    Units are sorted by score (stable, so ties keep data order); treated units are
    matched in descending order of their score (``m.order = "largest"``), one control
    per treated unit per round for ``ratio`` rounds; the nearest available control on
    either side is taken, the lower-scored one on a tie; a control further than
    ``caliper_width`` is not used. Returns, per treated unit (in data order among
    treated), the row positions of its controls.
    """
    order = np.argsort(ps, kind="stable")
    ctrl_sorted = order[t[order] == 0]  # control row positions in score order
    ctrl_ps = ps[ctrl_sorted]
    n0 = len(ctrl_sorted)
    # number of controls before each unit in the global order = insertion point among controls
    is_ctrl_in_order = (t[order] == 0).astype(int)
    before = np.cumsum(is_ctrl_in_order) - is_ctrl_in_order
    ins = np.empty(len(ps), dtype=int)
    ins[order] = before
    treated_rows = np.flatnonzero(t == 1)
    treat_order = treated_rows[np.argsort(-ps[treated_rows], kind="stable")]
    if replace:
        treat_order = treated_rows  # order is irrelevant with replacement (MatchIt uses data order)
    matches: dict[int, list[int]] = {int(i): [] for i in treated_rows}

    # union-find over control positions: nearest still-available index to the left / right
    left = np.arange(n0 + 1)  # shifted by one: 0 means "none"
    right = np.arange(n0 + 1)  # n0 means "none"

    def find(parent: np.ndarray, i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    def remove(k: int) -> None:
        left[k + 1] = k
        right[k] = k + 1

    available = n0
    for r in range(ratio):
        for i in treat_order:
            if r > len(matches[i]):
                continue  # got no match in an earlier round; none will appear later
            pos = ins[i]
            used = set(matches[i])
            if replace:
                kl, kr = pos - 1, pos
                while kl >= 0 and ctrl_sorted[kl] in used:
                    kl -= 1
                while kr < n0 and ctrl_sorted[kr] in used:
                    kr += 1
                kl = kl if kl >= 0 else None
                kr = kr if kr < n0 else None
            else:
                kl = find(left, pos) - 1
                kl = kl if kl >= 0 else None
                kr = find(right, pos)
                kr = kr if kr < n0 else None
            dl = abs(ps[i] - ctrl_ps[kl]) if kl is not None else math.inf
            dr = abs(ps[i] - ctrl_ps[kr]) if kr is not None else math.inf
            if caliper_width is not None:
                dl = dl if dl <= caliper_width else math.inf
                dr = dr if dr <= caliper_width else math.inf
            if math.isinf(dl) and math.isinf(dr):
                continue
            k = kl if dl <= dr else kr
            matches[i].append(int(ctrl_sorted[k]))
            if not replace:
                remove(k)
                available -= 1
                if available == 0:
                    return [matches[int(j)] for j in treated_rows]
    return [matches[int(j)] for j in treated_rows]


def _match_weights(
    matches: list[list[int]], treated_rows: np.ndarray, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """MatchIt's ATT matching weights and matched-set (subclass) labels (−1 = unmatched)."""
    w = np.zeros(n)
    sub = np.full(n, -1)
    for s, (i, ctrls) in enumerate(zip(treated_rows, matches)):
        if not ctrls:
            continue
        w[i] = 1.0
        sub[i] = s
        for c in ctrls:
            w[c] += 1.0 / len(ctrls)
            sub[c] = s
    ctrl = np.zeros(n, dtype=bool)
    for ctrls in matches:
        ctrl[ctrls] = True
    if ctrl.any():
        w[ctrl] *= ctrl.sum() / w[ctrl].sum()
    return w, sub


# -- weighting ---------------------------------------------------------------------------------
def _ipw_msandwich(
    y: np.ndarray, t: np.ndarray, ps: np.ndarray, design: np.ndarray, estimand: str
) -> tuple[float, float]:
    """Hajek IPW estimate and its M-estimation SE accounting for the estimated score.

    Stacked estimating equations (Lunceford & Davidian 2004): the logistic score
    (T − e)X, and for the two weighted means ψ₁, ψ₀; V = A⁻¹ B A⁻ᵀ / n.
    """
    n, k = design.shape
    if estimand == "ATE":
        w1, w0 = t / ps, (1 - t) / (1 - ps)
    else:
        w1, w0 = t.astype(float), (1 - t) * ps / (1 - ps)
    mu1 = np.sum(w1 * y) / np.sum(w1)
    mu0 = np.sum(w0 * y) / np.sum(w0)
    psi = np.column_stack([(t - ps)[:, None] * design, w1 * (y - mu1), w0 * (y - mu0)])
    a = np.zeros((k + 2, k + 2))
    a[:k, :k] = (design * (ps * (1 - ps))[:, None]).T @ design / n
    if estimand == "ATE":
        d1 = -(t * (y - mu1) * (1 - ps) / ps)  # d psi1 / d beta = d1 * x
        d0 = (1 - t) * (y - mu0) * ps / (1 - ps)
    else:
        d1 = np.zeros(n)
        d0 = w0 * (y - mu0)
    a[k, :k] = -(d1[:, None] * design).mean(axis=0)
    a[k + 1, :k] = -(d0[:, None] * design).mean(axis=0)
    a[k, k] = w1.mean()
    a[k + 1, k + 1] = w0.mean()
    b = psi.T @ psi / n
    ainv = np.linalg.inv(a)
    v = ainv @ b @ ainv.T / n
    c = np.zeros(k + 2)
    c[k], c[k + 1] = 1.0, -1.0
    return float(mu1 - mu0), float(math.sqrt(c @ v @ c))


# -- doubly robust (AIPW), trimming, exact matching ------------------------------------------
def _arm_predictions(design: np.ndarray, y: np.ndarray, t: np.ndarray, arm: int) -> np.ndarray:
    """Linear outcome regression fitted in one arm, predicted for everyone."""
    rows = t == arm
    if rows.sum() <= design.shape[1]:
        raise DataError(
            f"too few people in the {'treated' if arm else 'comparison'} group "
            f"({int(rows.sum())}) for the outcome model of method='aipw' "
            f"({design.shape[1]} coefficients)",
            allowed="more people or fewer covariates",
        )
    beta = np.linalg.lstsq(design[rows], y[rows], rcond=None)[0]
    return design @ beta


def _aipw(
    y: np.ndarray, t: np.ndarray, ps: np.ndarray, design: np.ndarray, estimand: str
) -> tuple[float, float]:
    """Augmented IPW, unnormalised (Robins, Rotnitzky & Zhao 1994; Glynn & Quinn 2010).

    ATE: mean of T(Y − m₁)/e + m₁ − [(1 − T)(Y − m₀)/(1 − e) + m₀]. ATT: Σ[T − (1 − T)e/(1 − e)]
    (Y − m₀) / n₁. SE: sqrt(Σψ²)/n with ψ the empirical influence function.
    """
    n = len(y)
    m0 = _arm_predictions(design, y, t, 0)
    if estimand == "ATE":
        m1 = _arm_predictions(design, y, t, 1)
        phi = t * (y - m1) / ps + m1 - ((1 - t) * (y - m0) / (1 - ps) + m0)
        est = float(phi.mean())
        psi = phi - est
    else:
        share = t.mean()
        phi = (t - (1 - t) * ps / (1 - ps)) * (y - m0)
        est = float(phi.sum() / t.sum())
        psi = (phi - t * est) / share
    return est, float(math.sqrt(np.sum(psi**2)) / n)


def _crump_threshold(ps: np.ndarray) -> float:
    """Crump, Hotz, Imbens & Mitnik (2009) optimal trimming bound alpha.

    With g = 1/(e(1 − e)): alpha = 0 when max g ≤ 2·mean g; otherwise gamma solves
    gamma = 2·mean(g | g ≤ gamma) (on the sorted sample: gamma = 2·mean of the k smallest g,
    k the largest index with g_(k) < 2·mean of the k smallest) and
    alpha = 1/2 − sqrt(1/4 − 1/gamma).
    """
    g = np.sort(1.0 / (ps * (1.0 - ps)))
    if g[-1] <= 2.0 * g.mean():
        return 0.0
    cummean = np.cumsum(g) / np.arange(1, len(g) + 1)
    below = np.flatnonzero(g < 2.0 * cummean)
    gamma = 2.0 * cummean[below[-1]]
    return float(0.5 - math.sqrt(max(0.25 - 1.0 / gamma, 0.0)))


def _check_trim(trim: Any) -> Any:
    if trim is None or (isinstance(trim, str) and trim == "crump"):
        return trim
    bad = isinstance(trim, bool) or not isinstance(trim, (int, float))
    if bad or not 0.0 < float(trim) < 0.5:
        raise ParameterError(
            f"trim={trim!r} is not allowed",
            key="trim",
            expected="'crump' (Crump et al. 2009) or a bound b with 0 < b < 0.5 (keeps b ≤ e ≤ 1 − b)",
        )
    return float(trim)


def _exact_strata(data: pd.DataFrame, exact: list[str]) -> np.ndarray:
    """Integer stratum codes from the ``exact`` columns (one code per combination)."""
    return data.groupby(exact, sort=True, dropna=False).ngroup().to_numpy()


def _match_within(
    ps: np.ndarray,
    t: np.ndarray,
    strata: np.ndarray,
    *,
    ratio: int,
    replace: bool,
    caliper_width: float | None,
) -> tuple[list[list[int]], list[int]]:
    """Nearest-neighbour matching inside each stratum; returns the matches per treated
    person (data order) and the strata that have treated people but no comparison."""
    treated_rows = np.flatnonzero(t == 1)
    found: dict[int, list[int]] = {int(i): [] for i in treated_rows}
    empty = []
    for s in np.unique(strata):
        rows = np.flatnonzero(strata == s)
        ts = t[rows]
        if ts.sum() == 0:
            continue
        if (ts == 0).sum() == 0:
            empty.append(int(s))
            continue
        sub = _nearest_match(
            ps[rows], ts, ratio=ratio, replace=replace, caliper_width=caliper_width
        )
        for i, ctrls in zip(rows[ts == 1], sub):
            found[int(i)] = [int(rows[c]) for c in ctrls]
    return [found[int(i)] for i in treated_rows], empty


# -- balance -----------------------------------------------------------------------------------
def _balance(
    xb: pd.DataFrame, ps: np.ndarray, t: np.ndarray, w: np.ndarray, estimand: str
) -> pd.DataFrame:
    """SMD before/after and variance ratios, standardised as MatchIt and cobalt do.

    Denominator (from the full sample, before adjustment): for the ATT the treated
    group's SD; for the ATE √((s²_t + s²_c)/2). Binary variables use √(p(1 − p)).
    """
    cols = {"propensity score": ps}
    cols.update({str(c): xb[c].to_numpy(dtype=float) for c in xb.columns})
    ones = np.ones(len(t))
    rows = []
    for name, v in cols.items():
        v1, v0 = v[t == 1], v[t == 0]
        binary = is_binary(v)
        if binary:
            p1, p0 = v1.mean(), v0.mean()
            s1, s0 = p1 * (1 - p1), p0 * (1 - p0)
        else:
            s1, s0 = v1.var(ddof=1), v0.var(ddof=1)
        sd = math.sqrt(s1) if estimand == "ATT" else math.sqrt((s1 + s0) / 2)
        m1b, var1b = weighted_mean_var(v1, ones[t == 1])
        m0b, var0b = weighted_mean_var(v0, ones[t == 0])
        keep1, keep0 = w[t == 1] > 0, w[t == 0] > 0
        m1a, var1a = weighted_mean_var(v1[keep1], w[t == 1][keep1])
        m0a, var0a = weighted_mean_var(v0[keep0], w[t == 0][keep0])
        rows.append(
            {
                "covariate": name,
                "binary": binary,
                "mean_treated_before": m1b,
                "mean_control_before": m0b,
                "mean_treated_after": m1a,
                "mean_control_after": m0a,
                "smd_before": (m1b - m0b) / sd if sd > 0 else math.nan,
                "smd_after": (m1a - m0a) / sd if sd > 0 else math.nan,
                "variance_ratio_before": math.nan if binary else var1b / var0b,
                "variance_ratio": math.nan if binary else var1a / var0a,
            }
        )
    return pd.DataFrame(rows).set_index("covariate")


def _ess(w: np.ndarray) -> float:
    return float(w.sum() ** 2 / np.sum(w**2)) if np.sum(w**2) > 0 else 0.0


def propensity(
    df: pd.DataFrame,
    *,
    treatment: str,
    outcome: str,
    covariates: Sequence[str],
    method: str = "nearest",
    estimand: str = "ATT",
    caliper: float | None = None,
    ratio: int = 1,
    replace: bool = False,
    level: float = 0.95,
    trim: str | float | None = None,
    stabilize: bool = False,
    exact: Sequence[str] | str | None = None,
) -> PropensityResult:
    r"""Effect of a service from observational data, by propensity-score matching or weighting.

    The propensity score :math:`e(x) = P(T = 1 \mid x)` is estimated by logistic regression
    of the treatment on the covariates (text columns become indicators).

    ``method="nearest"`` (estimand ATT only) follows MatchIt's default
    ``matchit(method = "nearest", distance = "glm")``: greedy nearest-neighbour matching on
    the score, treated people taken in descending order of their score
    (``m.order = "largest"``), ``ratio`` controls each (one per round), without
    replacement unless ``replace=True``. ``caliper`` is in standard deviations of the
    propensity score over all people (MatchIt's ``std.caliper = TRUE``; the score, not its
    logit): controls further than ``caliper × SD(e)`` are not used and treated people
    without one are dropped, which changes the estimand to the treated people who could
    be matched (reported in ``n_unmatched_treated``). The effect is the weighted difference
    in means of the matched sample (MatchIt's matching weights), with cluster-robust
    standard errors clustered on the matched sets (CR1, as ``sandwich::vcovCL``) and a *t*
    interval with *S − 1* df (*S* matched sets); with ``replace=True`` matched sets
    overlap, so HC1 robust standard errors are used instead (Hill & Reiter 2006 note
    these can be somewhat conservative).

    ``method="ipw"`` weights people: for the ATT treated 1 and comparison
    :math:`e/(1-e)` (odds weights); for the ATE :math:`1/e` and :math:`1/(1-e)`. The effect
    is the difference of weighted means (Hájek); its standard error is the M-estimation
    sandwich that accounts for estimating the score (Lunceford & Davidian 2004), with a
    normal interval.

    ``method="aipw"`` is augmented inverse probability weighting, doubly robust (consistent
    if either the score or the outcome model is right), with linear outcome regressions
    :math:`m_1, m_0` fitted in each group. It uses the unnormalised estimator (Robins,
    Rotnitzky & Zhao 1994; Glynn & Quinn 2010): for the ATE
    :math:`\hat\tau = n^{-1}\sum_i [T_i(Y_i - m_1)/e_i + m_1 - (1-T_i)(Y_i - m_0)/(1-e_i) - m_0]`;
    for the ATT :math:`\hat\tau = n_1^{-1}\sum_i [T_i - (1-T_i)e_i/(1-e_i)](Y_i - m_0)`. The
    standard error comes from the empirical influence function, :math:`\sqrt{\sum\psi_i^2}/n`
    (for the ATT :math:`\psi_i = (n/n_1)\{[T_i - (1-T_i)e_i/(1-e_i)](Y_i - m_0) - T_i\hat\tau\}`),
    with a normal interval.

    ``trim`` drops people with extreme scores before estimating, without refitting the score:
    a bound ``b`` keeps :math:`b \le e \le 1 - b`; ``"crump"`` uses the bound of Crump, Hotz,
    Imbens & Mitnik (2009), :math:`\alpha = 1/2 - \sqrt{1/4 - 1/\gamma}` where, with
    :math:`g = 1/(e(1-e))`, :math:`\gamma = 2\,E[g \mid g \le \gamma]` (no trimming when
    :math:`\max g \le 2\,\bar g`). The result gives ``n_trimmed`` and ``trim_threshold``; the
    estimand becomes the effect in the trimmed population and balance is computed there.
    ``stabilize=True`` multiplies the weights by the share of each group (IPW and AIPW; the
    Hájek IPW estimate does not change, the weights shown and their scale do).
    ``exact`` (matching only) names columns, such as the family hub, within which people must
    be matched; strata with treated people but no comparison are reported in
    ``strata_without_comparison`` and left out, with a warning.

    ``balance`` (indexed by covariate, plus the propensity score itself) holds
    ``smd_before``, ``smd_after`` and ``variance_ratio`` (treated/comparison, continuous
    variables only), standardised as MatchIt and cobalt do: by the treated group's SD
    for the ATT and by :math:`\sqrt{(s_t^2 + s_c^2)/2}` for the ATE, computed in the full
    sample; binary variables use :math:`\sqrt{p(1-p)}`. A common rule: |SMD| < 0.1 after
    adjustment is good balance.

    Overlap: ``support`` gives each group's score range and how many people fall outside
    the other group's range. No overlap at all is refused (``DataError``); some people
    outside is a warning that says how many (for the ATT only treated people outside
    matter). Complete separation (a covariate, or all of them, perfectly predicting
    treatment) is refused; quasi-separation (scores of exactly 0 or 1 for some) warns.
    Rows with missing treatment, outcome or covariates are dropped (listwise), counted in
    ``n_dropped`` and ``missing_by_column``.

    Parameters
    ----------
    df
        One row per person.
    treatment
        Two-valued column (1 served, 0 comparison).
    outcome
        Numeric outcome column.
    covariates
        Columns measured before the service that predict both take-up and outcome.
    method
        ``"nearest"``, ``"ipw"`` or ``"aipw"``.
    estimand
        ``"ATT"`` (effect on those served) or ``"ATE"`` (``method="ipw"`` only).
    caliper
        Maximum distance for a match, in SDs of the propensity score (matching only).
    ratio
        Controls per treated person (matching only).
    replace
        Whether controls may be reused (matching only).
    level
        Confidence level.
    trim
        ``None``, ``"crump"`` or a bound in (0, 0.5).
    stabilize
        Stabilised weights (IPW and AIPW).
    exact
        Columns to match exactly on (matching only).

    Returns
    -------
    PropensityResult

    References
    ----------
    Ho, D., Imai, K., King, G. & Stuart, E. (2011). MatchIt. *J Stat Softw* 42(8).
    Austin, P. C. (2011). An introduction to propensity score methods. *Multivar Behav Res* 46, 399–424.
    Lunceford, J. K. & Davidian, M. (2004). *Stat Med* 23, 2937–2960.
    Abadie, A. & Spiess, J. (2022). Robust post-matching inference. *JASA* 117, 983–995.
    Robins, J., Rotnitzky, A. & Zhao, L. (1994). *JASA* 89, 846–866. Glynn, A. & Quinn, K.
    (2010). An introduction to the augmented inverse propensity weighted estimator. *Polit
    Anal* 18, 36–56. Crump, R., Hotz, V. J., Imbens, G. & Mitnik, O. (2009). Dealing with
    limited overlap in estimation of average treatment effects. *Biometrika* 96, 187–199.

    Examples
    --------
    >>> from evalkit.simulate import individual_trial
    >>> from evalkit.designs.propensity import propensity
    >>> d = individual_trial(800, 0.3, seed=4, confounding=0.5, treated_share=0.2)
    >>> res = propensity(d, treatment="treatment", outcome="outcome", covariates=["x1", "x2"],
    ...                  caliper=0.2)
    >>> bool(res.max_abs_smd_after < 0.1), res.estimand
    (True, 'ATT')
    """
    level = check_level(level)
    check_choice("method", method, ["nearest", "ipw", "aipw"])
    trim = _check_trim(trim)
    exact = as_list(exact, key="exact")
    if not isinstance(stabilize, bool):
        raise ParameterError(
            f"stabilize={stabilize!r} is not allowed", key="stabilize", expected="True or False"
        )
    if method == "nearest" and stabilize:
        raise ParameterError(
            "stabilize applies to weighting", key="stabilize", expected="method='ipw' or 'aipw'"
        )
    if method != "nearest" and exact:
        raise ParameterError(
            "exact applies to matching", key="exact", expected="method='nearest', or no exact"
        )
    estimand = str(estimand).upper()
    check_choice("estimand", estimand, ["ATT", "ATE"])
    ratio = check_positive_int("ratio", ratio)
    covariates = as_list(covariates, key="covariates")
    if not covariates:
        raise ParameterError(
            "at least one covariate is needed", key="covariates", expected="a list of column names"
        )
    if method == "nearest" and estimand == "ATE":
        raise ParameterError(
            "nearest-neighbour matching estimates the ATT",
            key="estimand",
            expected="'ATT', or method='ipw' or 'aipw' for the ATE",
        )
    if method != "nearest" and (caliper is not None or ratio != 1 or replace):
        raise ParameterError(
            "caliper, ratio and replace apply to matching only",
            key="method",
            expected="method='nearest' to use them",
        )
    if caliper is not None:
        try:
            caliper = float(caliper)
        except (TypeError, ValueError):
            caliper = -1.0
        if not caliper > 0:
            raise ParameterError(
                "caliper must be a positive number of SDs", key="caliper", expected="e.g. 0.2"
            )
    for c in covariates:
        if c in (treatment, outcome):
            raise ParameterError(
                f"{c!r} is the treatment or outcome, not a covariate", key="covariates"
            )

    data, deletion = listwise(df, [treatment, outcome] + covariates + exact)
    t = treatment_indicator(data, treatment)
    y = numeric_column(data, outcome)
    n_t, n_c = int(t.sum()), int((1 - t).sum())
    if n_t < 2 or n_c < 2:
        raise DataError(
            "each group needs at least two people with complete data",
            column=treatment,
            allowed=f"found {n_t} treated and {n_c} comparison",
        )
    xm = expand_covariates(data, covariates, drop_first=True)
    const = constant_columns(xm)
    if const:
        raise DataError(
            "covariate(s) with a single value in the analysed rows cannot enter "
            "the propensity model",
            columns=const,
            allowed="drop them",
        )
    xb = expand_covariates(data, covariates, drop_first=False)
    ps, _, design = _fit_pscore(xm, t)
    n_trimmed, trim_threshold = 0, None
    if trim is not None:  # drop people with extreme scores; the score is not refitted
        trim_threshold = _crump_threshold(ps) if trim == "crump" else trim
        kept = (ps >= trim_threshold) & (ps <= 1 - trim_threshold)
        n_trimmed = int((~kept).sum())
        if kept.sum() < len(ps):
            rows = np.flatnonzero(kept)
            data, xb = data.iloc[rows], xb.iloc[rows]
            t, y, ps, design = t[rows], y[rows], ps[rows], design[rows]
            n_t, n_c = int(t.sum()), int((1 - t).sum())
            if n_t < 2 or n_c < 2:
                raise DataError(
                    f"after trimming at {trim_threshold:.3g} too few people are left "
                    f"({n_t} treated, {n_c} comparison)",
                    column=treatment,
                    allowed="a smaller trim bound",
                )
    support, n_out = _support(ps, t, estimand)
    naive = float(y[t == 1].mean() - y[t == 0].mean())

    import statsmodels.api as sm

    n = len(y)
    caliper_width = None
    if method == "nearest":
        if n_c < n_t * ratio and not replace:
            warnings.warn(
                f"only {n_c} comparison people for {n_t} treated at ratio {ratio}: "
                "not every treated person can get all matches",
                EvalkitWarning,
                stacklevel=2,
            )
        if caliper is not None:
            caliper_width = caliper * float(np.std(ps, ddof=1))
        treated_rows = np.flatnonzero(t == 1)
        empty_strata: list = []
        if exact:
            strata = _exact_strata(data, exact)
            matches, empty = _match_within(
                ps, t, strata, ratio=ratio, replace=replace, caliper_width=caliper_width
            )
            if empty:
                labels = data.groupby(exact, sort=True, dropna=False).size().index
                empty_strata = [labels[i] for i in empty]
                warnings.warn(
                    f"{len(empty)} exact-matching strata ({', '.join(exact)}) have treated "
                    f"people but no comparison, so they are left out: "
                    + ", ".join(map(str, empty_strata[:10])),
                    EvalkitWarning,
                    stacklevel=2,
                )
        else:
            matches = _nearest_match(
                ps, t, ratio=ratio, replace=replace, caliper_width=caliper_width
            )
        w, sub = _match_weights(matches, treated_rows, n)
        keep = w > 0
        n_mt, n_mc = int((keep & (t == 1)).sum()), int((keep & (t == 0)).sum())
        if n_mt < 2:
            raise DataError(
                f"only {n_mt} treated people could be matched within the caliper",
                allowed="a wider caliper or no caliper",
            )
        xx = np.column_stack([np.ones(keep.sum()), t[keep]])
        if replace:
            fit = sm.WLS(y[keep], xx, weights=w[keep]).fit(cov_type="HC1")
            dfree = float(keep.sum() - 2)
            se_method = "HC1 robust (matching with replacement)"
        else:
            fit = sm.WLS(y[keep], xx, weights=w[keep]).fit(
                cov_type="cluster",
                cov_kwds={"groups": sub[keep], "use_correction": True, "df_correction": True},
            )
            dfree = float(n_mt - 1)
            se_method = "cluster-robust CR1 on matched sets"
        est, se = float(fit.params[1]), float(fit.bse[1])
        lo, hi = t_interval(est, se, dfree, level)
        p = t_pvalue(est / se, dfree)
        label = f"nearest-neighbour matching 1:{ratio}" + (" with replacement" if replace else "")
        if exact:
            label += f", exact on {', '.join(exact)}"
        matched = pd.DataFrame(
            {
                treatment: t[keep].astype(int),
                outcome: y[keep],
                "pscore": ps[keep],
                "weight": w[keep],
                "subclass": np.where(sub[keep] >= 0, sub[keep] + 1, -1),
            },
            index=data.index[keep],
        )
        if replace:
            matched = matched.drop(columns="subclass")
    else:
        if estimand == "ATE":
            w = np.where(t == 1, 1 / ps, 1 / (1 - ps))
        else:
            w = np.where(t == 1, 1.0, ps / (1 - ps))
        if stabilize:  # multiply by each group's share (ATT: comparison weights by (1-p)/p)
            share = t.mean()
            w = w * (
                np.where(t == 1, share, 1 - share)
                if estimand == "ATE"
                else np.where(t == 1, 1.0, (1 - share) / share)
            )
        if method == "aipw":
            est, se = _aipw(y, t, ps, design, estimand)
            se_method = "empirical influence function, sqrt(sum psi^2)/n"
            label = "augmented IPW (doubly robust, unnormalised)"
        else:
            est, se = _ipw_msandwich(y, t, ps, design, estimand)
            se_method = "M-estimation sandwich (accounts for the estimated score)"
            label = (
                f"inverse probability weighting ({'odds' if estimand == 'ATT' else 'IPW'} weights)"
            )
        if stabilize:
            label += ", stabilised weights"
        lo, hi = t_interval(est, se, math.inf, level)
        p = t_pvalue(est / se, math.inf)
        n_mt, n_mc = n_t, n_c
        matched = pd.DataFrame(
            {treatment: t.astype(int), outcome: y, "pscore": ps, "weight": w}, index=data.index
        )
        if (w / w[t == 0 if estimand == "ATT" else slice(None)].mean() > 10).any():
            warnings.warn(
                "some weights are more than 10 times the average: a few people drive "
                "the estimate (see ess_treated / ess_control)",
                EvalkitWarning,
                stacklevel=2,
            )
    matched.attrs["treat_all"] = t.astype(int)
    balance = _balance(xb, ps, t, w, estimand)

    return PropensityResult(
        estimate=est,
        se=se,
        ci_low=lo,
        ci_high=hi,
        p=p,
        n=int((w > 0).sum()),
        level=level,
        method=label,
        estimand=estimand,
        se_method=se_method,
        naive=naive,
        n_treated=n_t,
        n_control=n_c,
        n_matched_treated=n_mt,
        n_matched_control=n_mc,
        n_unmatched_treated=n_t - n_mt,
        n_dropped=deletion.n_dropped,
        n_outside_support=n_out,
        ess_treated=_ess(w[t == 1]),
        ess_control=_ess(w[t == 0]),
        ratio=ratio,
        replace=bool(replace),
        caliper=caliper,
        caliper_width=caliper_width,
        max_abs_smd_after=float(balance["smd_after"].drop("propensity score").abs().max()),
        balance=balance,
        support=support,
        matched_data=matched,
        pscore=pd.Series(ps, index=data.index, name="pscore"),
        missing_by_column=deletion.missing_by_column,
        n_trimmed=n_trimmed,
        trim_threshold=trim_threshold,
        stabilized=bool(stabilize),
        strata_without_comparison=tuple(empty_strata) if method == "nearest" else (),
    )
