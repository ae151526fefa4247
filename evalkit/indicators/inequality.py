"""Inequality across deprivation quantiles: :func:`quantiles` (PHEindicatormethods
``phe_quantile``) and the slope and relative indices of inequality, :func:`sii`
(``phe_sii``).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from .._validate import check_choice, check_level, check_positive_int, require_columns
from ..errors import DataError, EvalkitWarning, ParameterError
from ._common import (
    IndicatorTable,
    check_multiplier,
    group_list,
    numeric_column,
    reject_rows,
    split_groups,
)

__all__ = ["SII", "quantiles", "sii", "VALUE_TYPES"]

#: ``value_type`` of :func:`sii` -> PHE's code (0 other, 1 rate, 2 proportion)
VALUE_TYPES = {"other": 0, "rate": 1, "proportion": 2}


def _group_name(key: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in key.items()) or "all rows"


def quantiles(
    df: pd.DataFrame, value: str, n: int = 10, groups: Any = None, invert: bool = True
) -> pd.DataFrame:
    """Assign each row to one of ``n`` quantiles of ``value`` within its group (``phe_quantile``).

    Rows are ranked within the group (ties take the lowest rank; missing values get no
    rank); with :math:`N` ranked rows, rank :math:`r` goes to quantile

    .. math::

        q = \\left\\lfloor n + 1 - \\left\\lceil \\frac{N + 1 - r}{N / n} \\right\\rceil
            \\right\\rfloor \\quad (\\text{0 becomes 1})

    With ``invert=True`` (PHE's default) the highest values rank first and so fall in
    quantile 1; with ``invert=False`` the lowest values do. A group with fewer values than
    quantiles gets none (NaN), with a warning naming it.

    Parameters
    ----------
    df
        One row per small area.
    value
        Numeric column to rank.
    n
        Number of quantiles (10 = deciles).
    groups
        Optional column name (or list of names): quantiles are assigned within each group.
    invert
        True: quantile 1 holds the highest values.

    Returns
    -------
    pandas.DataFrame
        ``df`` (same rows, same order) with a ``quantile`` column.

    Raises
    ------
    DataError
        Non-numeric values (the rows are named).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"v": [5.0, 1.0, 4.0, 2.0, 3.0]})
    >>> quantiles(d, "v", n=5)["quantile"].tolist()
    [1.0, 5.0, 2.0, 4.0, 3.0]
    """
    n = check_positive_int("n", n)
    if not isinstance(invert, (bool, np.bool_)):
        raise ParameterError(
            f"invert={invert!r} is not allowed", key="invert", expected="True or False"
        )
    keys = group_list(groups)
    require_columns(df, [value, *keys], what="df")
    values = numeric_column(df, value, what="numbers (empty for missing)")
    ranked = pd.Series(-values if invert else values, index=df.index)
    out = df.copy()
    result = pd.Series(np.nan, index=df.index)
    few = []
    work = df[keys].copy()
    work["_v"] = ranked
    for key, part in split_groups(work, keys):
        v = part["_v"]
        count = int(v.notna().sum())
        if count < n:
            few.append(_group_name(key))
            continue
        rank = v.rank(method="min", na_option="keep").to_numpy()
        with np.errstate(invalid="ignore"):
            q = np.floor((n + 1) - np.ceil(((count + 1) - rank) / (count / n)))
        q = np.where(q == 0, 1.0, q)
        result.loc[part.index] = q
    if few:
        warnings.warn(
            f"too few values to assign {n} quantiles in: {'; '.join(few)} "
            "(these rows get no quantile)",
            EvalkitWarning,
            stacklevel=2,
        )
    out["quantile"] = result.to_numpy()
    return out


@dataclass(frozen=True)
class SII(IndicatorTable):
    """Slope index of inequality by group (see :func:`sii`); ``excluded`` lists groups left
    out because a quantile was missing."""

    excluded: tuple[str, ...] = ()

    _title = "Slope index of inequality"


def _transform(v: np.ndarray, code: int) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        if code == 1:
            return np.log(v)
        if code == 2:
            return np.log(v / (1 - v))
    return v


def _untransform(v: np.ndarray, code: int) -> np.ndarray:
    if code == 1:
        return np.exp(v)
    if code == 2:
        return special.expit(v)
    return v


def _midpoints(pop: np.ndarray) -> np.ndarray:
    """Midpoints of the cumulative population shares (PHE's ``FindXValues``)."""
    prop = pop / pop.sum()
    cum = np.cumsum(prop)
    return prop / 2 + np.concatenate([[0.0], cum[:-1]])


def sii(
    df: pd.DataFrame,
    quantile: str,
    value: str,
    population: str,
    groups: Any = None,
    se: str | None = None,
    value_type: str = "other",
    transform: bool = False,
    multiplier: float = 1,
    rii: bool = False,
    level: float = 0.95,
    n_sim: int = 100_000,
    seed: Any = None,
    *,
    ci_low: str | None = None,
    ci_high: str | None = None,
) -> SII:
    """The slope index of inequality (SII) and relative index (RII), as ``phe_sii``.

    Within each group the quantiles (e.g. deprivation deciles, 1 = most deprived when made
    by :func:`quantiles`) are sorted, each is placed at the midpoint :math:`b_j` of its
    cumulative population share, and the values :math:`y_j` are regressed on :math:`b_j`
    by least squares weighted by the population shares :math:`a_j`
    (:math:`\\sqrt{a_j}\\,y_j = \\beta_0\\sqrt{a_j} + \\beta_1 b_j\\sqrt{a_j}`). Then
    SII :math:`= \\beta_1 \\times` ``multiplier`` and RII :math:`= (\\beta_0 + \\beta_1)/\\beta_0`
    (inverted when ``multiplier`` is negative).

    The interval is simulated, as PHE does: each quantile's value is drawn ``n_sim`` times
    from a normal distribution with its standard error (on the log scale for rates and the
    logit scale for proportions, then transformed back), the regression is refitted on each
    draw, and the :math:`(1 \\pm \\text{level})/2` order statistics are the limits.

    With ``transform=True`` (rates or proportions only) the regression itself is on the log
    or logit scale and the SII is :math:`(g^{-1}(\\beta_0 + \\beta_1) - g^{-1}(\\beta_0))
    \\times` ``multiplier``; its limits come from the simulated slopes placed around the
    fitted mid-point, as ``phe_sii(transform = TRUE)`` (including PHE's rule of swapping
    the limits for rates when ``multiplier < 1`` and for proportions when it is negative).

    Point estimates are deterministic; intervals are reproducible with ``seed``.

    Parameters
    ----------
    df
        One row per quantile (within each group).
    quantile
        Column of quantile numbers (numeric; 5 to 100 distinct values across the data).
    value
        Column of the indicator's values (proportions as 0-1 when ``value_type="proportion"``).
    population
        Column of each quantile's population (above 0).
    groups
        Optional column name (or list of names).
    se
        Column of the values' standard errors, on the scale the simulation draws from: the
        value itself for ``"other"``, the log of a rate, the logit of a proportion.
    value_type
        ``"other"``, ``"rate"`` or ``"proportion"`` (PHE's ``value_type`` 0, 1, 2).
    transform
        Fit on the log (rates) or logit (proportions) scale.
    multiplier
        Scale of the SII (e.g. 100 for percentage points); negative flips the polarity.
    rii
        Also report the RII and its interval.
    level
        Confidence level of the simulated interval.
    n_sim
        Number of simulated draws (at least 1,000; PHE's ``repetitions``).
    seed
        Seed (or ``numpy.random.Generator``) for the simulation.
    ci_low, ci_high
        Instead of ``se``: columns of 95% confidence limits, from which
        :math:`se = (g(u) - g(l)) / (2 \\times 1.96)` on the simulation's scale (PHE's
        ``lower_cl`` and ``upper_cl``). Without ``se`` or limits the interval is NaN.

    Returns
    -------
    SII
        ``to_frame()``: group columns, ``estimate`` (the SII), ``ci_low``, ``ci_high``,
        ``sii``, ``intercept``, ``population``, ``n_quantiles``, and with ``rii=True``
        ``rii``, ``rii_ci_low``, ``rii_ci_high``.

    Raises
    ------
    DataError
        Non-numeric quantiles, populations of zero or less, negative standard errors,
        proportions outside 0-1, fewer than 5 or more than 100 quantiles. A group missing a
        quantile is left out with a warning naming it, as PHE does.

    References
    ----------
    Low A, Low A (2004). Measuring the gap: quantifying and comparing local health
    inequalities. J Public Health 26:388-395. Public Health England (2018). *Slope index of
    inequality: technical guidance*, and PHEindicatormethods' ``phe_sii`` vignette.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"q": [1, 2, 3, 4, 5], "v": [60.0, 62, 64, 66, 68], "pop": [100] * 5})
    >>> r = sii(d, "q", "v", "pop", rii=True)
    >>> round(r.estimate, 6), round(float(r.to_frame()["rii"].iloc[0]), 6)
    (10.0, 1.169492)
    """
    code = VALUE_TYPES[check_choice("value_type", value_type, tuple(VALUE_TYPES))]
    if transform and code == 0:
        raise ParameterError(
            "transform=True needs value_type 'rate' or 'proportion'",
            key="transform",
            expected="False, or value_type='rate'/'proportion'",
        )
    level = check_level(level)
    multiplier = check_multiplier(multiplier, allow_negative=True)
    n_sim = check_positive_int("n_sim", n_sim, minimum=1000)
    if (ci_low is None) != (ci_high is None):
        raise ParameterError(
            "give both ci_low and ci_high", key="ci_low, ci_high", expected="two column names"
        )
    if se is not None and ci_low is not None:
        raise ParameterError(
            "give se or ci_low/ci_high, not both", key="se", expected="one of the two"
        )
    keys = group_list(groups)
    extra = [c for c in (se, ci_low, ci_high) if c is not None]
    require_columns(df, [quantile, value, population, *keys, *extra], what="df")

    q = numeric_column(df, quantile, what="quantile numbers such as 1-10", allow_nan=False)
    pop = numeric_column(df, population, what="populations above 0", allow_nan=False)
    reject_rows(
        pop <= 0,
        "populations must be above zero",
        column=population,
        index=df.index,
        values=pop,
        allowed="numbers above 0",
    )
    v = numeric_column(df, value, what="numbers (empty for missing)")
    if code == 2:
        reject_rows(
            (v < 0) | (v > 1),
            "proportions must be between 0 and 1",
            column=value,
            index=df.index,
            values=v,
            allowed="proportions 0-1 (give 45% as 0.45)",
        )
    if code == 1:
        reject_rows(
            v <= 0,
            "rates must be above zero to be log-transformed",
            column=value,
            index=df.index,
            values=v,
            allowed="numbers above 0, or value_type='other'",
        )
    z95 = float(stats.norm.ppf(0.975))  # PHE's phe_sii: limits are taken as 95% limits
    if se is not None:
        s = numeric_column(df, se, what="standard errors of 0 or more")
        reject_rows(
            s < 0,
            "standard errors cannot be negative",
            column=se,
            index=df.index,
            values=s,
            allowed="numbers of 0 or more",
        )
    elif ci_low is not None:
        lo = numeric_column(df, ci_low, what="confidence limits")
        hi = numeric_column(df, ci_high, what="confidence limits")
        s = (_transform(hi, code) - _transform(lo, code)) / z95 / 2
    else:
        s = np.full(len(df), np.nan)
    has_se = se is not None or ci_low is not None

    levels = np.unique(q)
    nq = levels.size
    if nq < 5 or nq > 100:
        raise DataError(
            f"there are {nq} distinct quantiles",
            column=quantile,
            allowed="between 5 and 100 quantiles (e.g. deciles 1-10)",
        )
    if nq > 10:
        warnings.warn(
            f"{nq} quantiles: small values can make the SII unstable with many quantiles",
            EvalkitWarning,
            stacklevel=2,
        )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    work = df[keys].copy()
    work["_q"], work["_v"], work["_pop"], work["_se"] = q, v, pop, s
    cv = level + (1 - level) / 2
    pos_lo = int(np.round(n_sim * (1 - cv)))
    pos_hi = int(np.round(n_sim * cv))
    rows, excluded = [], []
    for key, part in split_groups(work, keys):
        valid = part.dropna(subset=["_v", "_se"] if has_se else ["_v"])
        dup = valid["_q"].duplicated(keep=False)
        if dup.any():
            raise DataError(
                "a quantile appears more than once in a group",
                column=quantile,
                rows=list(valid.index[dup]),
                allowed="one row per quantile within each group",
            )
        if valid["_q"].nunique() != nq:
            excluded.append(_group_name(key))
            continue
        valid = valid.sort_values("_q")
        p = valid["_pop"].to_numpy()
        a = p / p.sum()
        b = _midpoints(p)
        sqrt_a = np.sqrt(a)
        design = np.vstack([sqrt_a, b * sqrt_a])  # 2 x q, PHE's m
        coef = np.linalg.solve(design @ design.T, design)  # (M M')^-1 M
        tv = _transform(valid["_v"].to_numpy(), code)
        fitted_on = tv if transform else valid["_v"].to_numpy()
        intercept, slope = coef @ (fitted_on * sqrt_a)
        row: dict[str, Any] = dict(key)
        if not transform:
            est = multiplier * slope
            r = (intercept + slope) / intercept
            r = 1 / r if multiplier < 0 else r
            icpt = intercept
        else:
            top = intercept + slope
            half = (intercept + top) / 2
            g0, g1 = _untransform(intercept, code), _untransform(top, code)
            est = (g1 - g0) * multiplier
            r = g1 / g0
            r = 1 / r if multiplier < 0 else r
            icpt = g0 * abs(multiplier)
        lo_s = hi_s = lo_r = hi_r = np.nan
        if has_se:
            draws = rng.normal(tv, valid["_se"].to_numpy(), size=(n_sim, tv.size))
            if not transform:
                draws = _untransform(draws, code)
            params = (draws * sqrt_a) @ coef.T  # columns: intercept, slope
            sims = params[:, 1]
            if not transform:
                sim_rii = (params[:, 1] + params[:, 0]) / params[:, 0]
                if multiplier < 0:
                    sim_rii = 1 / sim_rii
                sims = np.sort(sims * multiplier)
                lo_s, hi_s = sims[pos_lo - 1], sims[pos_hi - 1]
                sim_rii = np.sort(sim_rii)
                lo_r, hi_r = sim_rii[pos_lo - 1], sim_rii[pos_hi - 1]
            else:
                sims = np.sort(sims)
                s_lo, s_hi = sims[pos_lo - 1], sims[pos_hi - 1]
                g0l, g1l = _untransform(half - s_lo / 2, code), _untransform(half + s_lo / 2, code)
                g0u, g1u = _untransform(half - s_hi / 2, code), _untransform(half + s_hi / 2, code)
                swap = multiplier < 1 if code == 1 else multiplier < 0
                if swap:
                    lo_s, hi_s = (g1u - g0u) * multiplier, (g1l - g0l) * multiplier
                    lo_r, hi_r = 1 / (g1u / g0u), 1 / (g1l / g0l)
                else:
                    lo_s, hi_s = (g1l - g0l) * multiplier, (g1u - g0u) * multiplier
                    lo_r, hi_r = g1l / g0l, g1u / g0u
        row.update(
            estimate=float(est),
            ci_low=float(lo_s),
            ci_high=float(hi_s),
            sii=float(est),
        )
        if rii:
            row.update(rii=float(r), rii_ci_low=float(lo_r), rii_ci_high=float(hi_r))
        row.update(
            intercept=float(icpt),
            population=float(p.sum()),
            n_quantiles=int(nq),
            level=level,
            value_type=value_type,
            transform="none" if not transform else ("log" if code == 1 else "logit"),
            method=f"simulation {n_sim} reps" if has_se else "no interval (no standard errors)",
        )
        rows.append(row)
    if excluded:
        warnings.warn(
            "left out of the SII because a quantile is missing (or has no value or standard "
            f"error): {'; '.join(excluded)}",
            EvalkitWarning,
            stacklevel=2,
        )
    if not rows:
        raise DataError(
            "no group has a value for every quantile",
            column=quantile,
            allowed=f"every group with all {nq} quantiles",
        )
    return SII(
        table=pd.DataFrame(rows),
        statistic="slope index of inequality",
        method=rows[0]["method"],
        level=level,
        groups=tuple(keys),
        excluded=tuple(excluded),
    )
