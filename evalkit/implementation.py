"""Reach, dose and fidelity: was the programme delivered to the families, enough, as designed?

An evidence-based programme pays off only if families are reached, attend enough
sessions and receive it as designed. These functions summarise the three, and the
outcome by dose band.

- :func:`reach`: the share of the eligible population served, with a Wilson interval;
- :func:`dose`: the distribution of sessions attended and the share with the planned dose;
- :func:`fidelity`: adherence to a fidelity checklist (% of items delivered as designed),
  by setting, with the intraclass correlation of adherence across settings;
- :func:`dose_response`: the outcome by dose band, adjusted for the score before and
  covariates as in the main comparison design (ANCOVA).

Dose is never randomised: families who attend more sessions differ from those who
attend fewer, in ways that may also change their outcomes. Every result carries
:data:`DOSE_CAVEAT`.

>>> r = reach(120, 400)
>>> round(r.estimate, 3), round(r.ci_low, 4), round(r.ci_high, 4)
(0.3, 0.2572, 0.3466)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._validate import check_level, numeric_array
from .errors import DataError
from .results import Result

__all__ = [
    "DOSE_CAVEAT",
    "Reach",
    "Dose",
    "Fidelity",
    "DoseResponse",
    "reach",
    "dose",
    "fidelity",
    "icc_oneway",
    "dose_response",
]

DOSE_CAVEAT = (
    "Dose was not randomised: families who attended more sessions may differ from those who "
    "attended fewer in ways that also affect their outcomes, so the dose-response is a "
    "description, not proof that more sessions cause better outcomes."
)


@dataclass(frozen=True)
class Reach(Result):
    """The share of the eligible population the service reached."""

    estimate: float
    ci_low: float
    ci_high: float
    served: int
    eligible: int
    level: float = 0.95
    method: str = "Wilson score interval"
    _title = "Reach"

    @property
    def n(self) -> int:
        return self.eligible


def _wilson(x: int, n: int, level: float) -> tuple[float, float, float]:
    from .indicators import proportion

    r = proportion(int(x), int(n), level=level)
    return float(r.estimate), float(r.ci_low), float(r.ci_high)


def reach(served: int, eligible: int, *, level: float = 0.95) -> Reach:
    """The share of the eligible population served, ``served / eligible``, with a Wilson CI.

    The interval is PHEindicatormethods' ``phe_proportion`` (Wilson score), the same as
    :func:`evalkit.indicators.proportion`.

    Parameters
    ----------
    served
        Families (or children) who received at least one session.
    eligible
        The eligible population, e.g. births in the area in the period (from the
        indicators file).
    level
        Confidence level.

    >>> reach(65, 100).ci_low  # Wilson, as R's binom::binom.wilson(65, 100)
    0.5525...
    """
    level = check_level(level)
    if not (np.isfinite(served) and np.isfinite(eligible)) or served < 0 or eligible <= 0:
        raise DataError(
            f"reach needs counts: served {served}, eligible {eligible}",
            allowed="0 <= served <= eligible, eligible > 0",
        )
    if served > eligible:
        raise DataError(
            f"more families served ({served}) than eligible ({eligible})",
            allowed="served <= eligible: check the eligible population's period and area",
        )
    est, lo, hi = _wilson(served, eligible, level)
    return Reach(est, lo, hi, int(served), int(eligible), level)


@dataclass(frozen=True)
class Dose(Result):
    """Sessions attended: the distribution and the share receiving the planned dose."""

    estimate: float  # share with at least the planned number of sessions
    ci_low: float
    ci_high: float
    n: int
    planned: int
    n_planned: int
    mean_sessions: float
    median_sessions: float
    distribution: pd.DataFrame = field(repr=False, compare=False)
    level: float = 0.95
    method: str = "share with the planned dose, Wilson score interval"
    caveat: str = DOSE_CAVEAT
    _title = "Dose"


def dose(sessions: Any, planned: int, *, level: float = 0.95, name: str = "sessions") -> Dose:
    """The distribution of sessions attended and the share who received the planned dose.

    Parameters
    ----------
    sessions
        Sessions attended per person who received the service (blank: not recorded).
    planned
        The programme's planned number of sessions (its "full dose").
    level
        Confidence level of the Wilson interval for the share with the planned dose.

    >>> d = dose([8, 8, 6, 2, 8, 7, 8, 5], planned=8)
    >>> d.n_planned, d.n, d.estimate
    (4, 8, 0.5)
    """
    level = check_level(level)
    if not float(planned).is_integer() or planned < 1:
        raise DataError(f"planned sessions must be a whole number from 1, got {planned!r}")
    raw = sessions if isinstance(sessions, pd.Series) else pd.Series(list(sessions))
    s = pd.Series(numeric_array(raw, name=name), index=raw.index).dropna()
    bad = (s < 0) | (s != np.floor(s))
    if bad.any():
        raise DataError(
            "sessions attended must be whole numbers from 0",
            column=name,
            rows=list(s.index[bad][:10]),
            values=list(s[bad][:5]),
        )
    if s.empty:
        raise DataError("no sessions recorded", column=name, allowed="at least one number")
    n = int(len(s))
    full = int((s >= planned).sum())
    est, lo, hi = _wilson(full, n, level)
    counts = s.astype(int).value_counts().sort_index()
    dist = pd.DataFrame({"sessions": counts.index, "people": counts.to_numpy()})
    return Dose(est, lo, hi, n, int(planned), full, float(s.mean()), float(s.median()), dist, level)


@dataclass(frozen=True)
class Fidelity(Result):
    """Adherence to the fidelity checklist: overall, by setting, and its spread."""

    estimate: float  # mean adherence, per cent of checklist items delivered as designed
    se: float
    ci_low: float
    ci_high: float
    n: int
    n_settings: int
    icc: float
    icc_ci_low: float
    icc_ci_high: float
    by_setting: pd.DataFrame = field(repr=False, compare=False)
    level: float = 0.95
    method: str = "mean adherence (% of checklist items), cluster-robust by setting"
    _title = "Fidelity"


@dataclass(frozen=True)
class OneWayICC(Result):
    """ICC(1) from a one-way analysis of variance (unbalanced groups)."""

    estimate: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    n0: float
    f: float
    level: float = 0.95
    method: str = "ICC(1), one-way ANOVA (Donner 1986; Searle's interval with n0)"
    _title = "ICC(1)"


def icc_oneway(values: Any, groups: Any, *, level: float = 0.95) -> OneWayICC:
    """ICC(1): the share of variance between groups, from a one-way ANOVA.

    .. math::

        \\rho = \\frac{MS_B - MS_W}{MS_B + (n_0 - 1) MS_W}, \\qquad
        n_0 = \\frac{1}{k - 1}\\left(N - \\frac{\\sum n_i^2}{N}\\right)

    The interval is Searle's (1971), from the F ratio with ``k - 1`` and ``N - k`` df:
    :math:`F_L = F / F_{1-\\alpha/2}`, :math:`F_U = F / F_{\\alpha/2}`, and
    :math:`\\rho_{L,U} = (F_{L,U} - 1) / (F_{L,U} + n_0 - 1)`. With equal group sizes
    this is the ICC1 of psych::ICC (Shrout & Fleiss ICC(1,1)) and its interval; with
    unequal sizes the point estimate is ICC::ICCest (Wolak et al. 2012).

    >>> round(icc_oneway([1, 2, 3, 2, 3, 4, 6, 7, 8], ["a"] * 3 + ["b"] * 3 + ["c"] * 3).estimate, 4)
    0.8696
    """
    from scipy import stats

    level = check_level(level)
    frame = pd.DataFrame(
        {"y": pd.to_numeric(pd.Series(values), errors="coerce"), "g": pd.Series(groups)}
    ).dropna()
    sizes = frame.groupby("g")["y"].size()
    k, n_total = len(sizes), int(sizes.sum())
    if k < 2 or n_total - k < 1:
        raise DataError(
            f"ICC(1) needs at least 2 groups and more values than groups (found {k} groups, "
            f"{n_total} values)"
        )
    means = frame.groupby("g")["y"].mean()
    grand = frame["y"].mean()
    ssb = float((sizes * (means - grand) ** 2).sum())
    ssw = float(((frame["y"] - frame["g"].map(means)) ** 2).sum())
    msb, msw = ssb / (k - 1), ssw / (n_total - k)
    n0 = (n_total - float((sizes**2).sum()) / n_total) / (k - 1)
    if msw == 0:
        f = np.inf
        est = lo = hi = 1.0
    else:
        f = msb / msw
        est = (msb - msw) / (msb + (n0 - 1) * msw)
        alpha = 1 - level
        fl = f / stats.f.ppf(1 - alpha / 2, k - 1, n_total - k)
        fu = f / stats.f.ppf(alpha / 2, k - 1, n_total - k)
        lo, hi = (fl - 1) / (fl + n0 - 1), (fu - 1) / (fu + n0 - 1)
    return OneWayICC(float(est), float(lo), float(hi), n_total, k, float(n0), float(f), level)


def fidelity(
    df: pd.DataFrame,
    items: Sequence[str],
    *,
    setting: str,
    level: float = 0.95,
) -> Fidelity:
    """Adherence to a fidelity checklist, by setting, with its ICC across settings.

    Each row is one observed session (or one family's record) with checklist items
    scored 1 (delivered as designed) or 0; blank items are left out of that row's
    denominator. A row's adherence is the per cent of its answered items scored 1.

    The overall mean's interval treats settings as clusters (the standard error of the
    mean of setting-level deviations, CR1 with ``G - 1`` df), because sessions in one
    setting share the same practitioners. The ICC(1) across settings (:func:`icc_oneway`)
    says how much of the variation in adherence lies between settings.

    >>> demo = pd.DataFrame({"hub": list("aabbcc"), "f1": [1, 1, 1, 0, 0, 0],
    ...                      "f2": [1, 0, 1, 1, 0, 1]})
    >>> fidelity(demo, ["f1", "f2"], setting="hub").by_setting["adherence"].tolist()
    [75.0, 75.0, 25.0]
    """
    from scipy import stats

    level = check_level(level)
    items = list(items)
    missing = [c for c in [*items, setting] if c not in df.columns]
    if missing:
        raise DataError(
            "no such column(s)", columns=missing, allowed=", ".join(map(str, df.columns[:20]))
        )
    if not items:
        raise DataError("the fidelity checklist names no item columns")
    block = df[items].apply(pd.to_numeric, errors="coerce")
    bad = df[items].notna() & block.isna() | block.notna() & ~block.isin([0, 1])
    if bad.to_numpy().any():
        cols = [c for c in items if bad[c].any()]
        rows = list(df.index[bad.any(axis=1)][:10] + 2)
        raise DataError(
            "fidelity items must be 1 (delivered as designed) or 0",
            columns=cols,
            rows=rows,
            allowed="1, 0 or blank (row numbers count the header as 1)",
        )
    answered = block.notna().sum(axis=1)
    adherence = (block.sum(axis=1) / answered.where(answered > 0)) * 100
    frame = pd.DataFrame({"adherence": adherence, "setting": df[setting]}).dropna()
    if frame.empty:
        raise DataError("no fidelity checklist answered", columns=items)
    by = (
        frame.groupby("setting")["adherence"]
        .agg(["mean", "size"])
        .rename(columns={"mean": "adherence", "size": "sessions"})
    )
    by.index.name = setting
    g = len(by)
    mean = float(frame["adherence"].mean())
    if g >= 2:
        # cluster-robust SE of a mean: sum of setting residual totals (CR1)
        resid = (frame["adherence"] - mean).groupby(frame["setting"]).sum()
        n = len(frame)
        se = float(np.sqrt(g / (g - 1) * float((resid**2).sum())) / n)
        t = stats.t.ppf(0.5 + level / 2, g - 1)
        icc = icc_oneway(frame["adherence"], frame["setting"], level=level)
        icc_vals = (icc.estimate, icc.ci_low, icc.ci_high)
    else:
        se, t, icc_vals = float("nan"), float("nan"), (float("nan"),) * 3
    return Fidelity(
        mean,
        se,
        mean - t * se,
        mean + t * se,
        int(len(frame)),
        g,
        *icc_vals,
        by_setting=by,
        level=level,
    )


@dataclass(frozen=True)
class DoseResponse(Result):
    """The outcome by dose band, adjusted as in the main design."""

    estimate: float  # adjusted change in the outcome per extra session (linear trend)
    se: float
    ci_low: float
    ci_high: float
    p: float
    n: int
    bands: pd.DataFrame = field(repr=False, compare=False)
    level: float = 0.95
    method: str = "ANCOVA of the outcome on dose (sessions), adjusted for the baseline"
    caveat: str = DOSE_CAVEAT
    _title = "Dose-response"


def dose_response(
    df: pd.DataFrame,
    *,
    outcome: str,
    dose: str,
    baseline: str | None = None,
    covariates: Sequence[str] = (),
    bands: Sequence[float] | None = None,
    level: float = 0.95,
) -> DoseResponse:
    """The outcome by dose band among people who received the service, adjusted.

    Two models, both ordinary least squares with HC3 standard errors, adjusting for the
    score before (``baseline``) and ``covariates`` as the ANCOVA of the main design:

    - the **trend**: outcome on sessions attended (a straight line), whose slope is the
      result's ``estimate``: the adjusted difference in the outcome per extra session;
    - the **bands**: outcome on dose-band indicators, giving each band's adjusted
      difference from the lowest band (in ``.bands``).

    As R: ``lm(post ~ sessions + pre + covs)`` with ``sandwich::vcovHC(type = "HC3")``.

    Parameters
    ----------
    df
        People who received the service, one row each.
    outcome, dose, baseline, covariates
        Column names.
    bands
        Upper limits of the dose bands (inclusive); default: thirds of the planned
        range by quantiles of ``dose``.
    """
    import statsmodels.api as sm
    from scipy import stats

    level = check_level(level)
    cols = [outcome, dose, *([baseline] if baseline else []), *covariates]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise DataError("no such column(s)", columns=missing)
    data = df[cols].apply(pd.to_numeric, errors="coerce").dropna()
    n = len(data)
    if n < len(cols) + 3:
        raise DataError(
            f"too few people with a dose and an outcome: {n}",
            allowed=f"at least {len(cols) + 3}",
        )
    if data[dose].nunique() < 2:
        raise DataError(
            "everyone received the same dose: no dose-response to estimate", column=dose
        )
    adjust = [c for c in cols if c not in (outcome, dose)]
    x = sm.add_constant(data[[dose, *adjust]], has_constant="add")
    fit = sm.OLS(data[outcome], x).fit(cov_type="HC3")
    slope, se = float(fit.params[dose]), float(fit.bse[dose])
    tcrit = stats.t.ppf(0.5 + level / 2, fit.df_resid)
    p = float(2 * stats.t.sf(abs(slope / se), fit.df_resid)) if se > 0 else float("nan")

    if bands is None:
        qs = np.unique(np.quantile(data[dose], [1 / 3, 2 / 3, 1]))
        bands = list(qs)
    edges = [-np.inf, *sorted(float(b) for b in bands)]
    if edges[-1] < data[dose].max():
        edges.append(np.inf)
    labels = []
    for lo, hi in zip(edges[:-1], edges[1:]):
        lo_s = int(np.floor(lo)) + 1 if np.isfinite(lo) else int(data[dose].min())
        hi_s = int(hi) if np.isfinite(hi) else int(data[dose].max())
        labels.append(f"{lo_s}" if lo_s == hi_s else f"{lo_s}-{hi_s}")
    band = pd.cut(data[dose], edges, labels=labels)
    used = [lab for lab in labels if (band == lab).any()]
    rows = []
    if len(used) >= 2:
        dummies = pd.get_dummies(band, drop_first=False)[used[1:]].astype(float)
        xb = sm.add_constant(pd.concat([dummies, data[adjust]], axis=1), has_constant="add")
        fb = sm.OLS(data[outcome], xb).fit(cov_type="HC3")
        tb = stats.t.ppf(0.5 + level / 2, fb.df_resid)
    for lab in used:
        count = int((band == lab).sum())
        raw = float(data.loc[band == lab, outcome].mean())
        if lab == used[0] or len(used) < 2:
            rows.append((lab, count, raw, 0.0, np.nan, np.nan))
        else:
            d, s = float(fb.params[lab]), float(fb.bse[lab])
            rows.append((lab, count, raw, d, d - tb * s, d + tb * s))
    table = pd.DataFrame(
        rows, columns=["band", "people", "mean_outcome", "difference", "ci_low", "ci_high"]
    )
    return DoseResponse(slope, se, slope - tcrit * se, slope + tcrit * se, p, n, table, level)
