"""Funnel plots for proportions, rates and ratios, as the OHID Fingertips profiles and
PHEindicatormethods (``calculate_funnel_limits``, ``assign_funnel_significance``,
``calculate_funnel_points``) draw them.

- :func:`funnel_limits`: the 95% and 99.8% limit curves at any positions;
- :func:`funnel`: areas compared with the average (or a target), each labelled higher, lower
  or not different, with a funnel plot.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import special

from .._validate import check_choice, check_level, numeric_array
from ..errors import DataError, ParameterError
from ._common import (
    TableResult,
    check_counts,
    check_multiplier,
    count_limits,
    counts_input,
    z_value,
)

__all__ = ["Funnel", "funnel", "funnel_limits", "FUNNEL_LEVELS", "FUNNEL_STATISTICS"]

#: Control-limit levels of a Fingertips funnel plot: name -> two-sided coverage
FUNNEL_LEVELS = {"95": 0.95, "998": 0.998}

#: the statistics a funnel can show
FUNNEL_STATISTICS = ("proportion", "rate", "ratio")

_RATIO_TYPES = ("ratio", "isr", "count")
_DEFAULT_MULTIPLIER = {"proportion": 100.0, "rate": 100_000.0, "ratio": 1.0}


def _limit_pair(
    average: float, n: np.ndarray, z: float, method: str
) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper control limits (as proportions) at denominators ``n``."""
    n = np.asarray(n, dtype=float)
    if method == "normal":
        half = z * np.sqrt(average * (1 - average) / n)
        lo, hi = average - half, average + half
    else:
        # Wilson-based limits: the observed proportion whose Wilson interval at this n just
        # reaches the average. Solving bound(p) = average for p gives the quadratic
        # (1 + c) p^2 - (2A + c) p + (A^2 - c^2/4) = 0 with c = z^2/n, A = average(1 + c) - c/2.
        c = z**2 / n
        a = average * (1 + c) - c / 2
        b = 2 * a + c
        disc = np.sqrt(np.maximum(b**2 - 4 * (1 + c) * (a**2 - c**2 / 4), 0.0))
        lo, hi = (b - disc) / (2 * (1 + c)), (b + disc) / (2 * (1 + c))
    return np.clip(lo, 0.0, 1.0), np.clip(hi, 0.0, 1.0)


def _check_average(value: float, key: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ParameterError(
            f"{key}={value!r} is not a number",
            key=key,
            expected="a proportion between 0 and 1, such as 0.677",
        ) from None
    if not 0.0 < value < 1.0:
        hint = " (give 67.7% as 0.677)" if 1.0 < value <= 100.0 else ""
        raise ParameterError(
            f"{key}={value!r} is outside 0-1{hint}",
            key=key,
            expected="a proportion strictly between 0 and 1",
        )
    return value


def _poisson_bounds(mu: np.ndarray, tail: float) -> tuple[np.ndarray, np.ndarray]:
    """Observed counts (continuous) at the lower and upper Poisson funnel limits.

    Lower: the count ``O`` whose exact upper limit equals the expected count ``mu``,
    :math:`P(X \\le O \\mid \\mu) = \\text{tail}` (0 when :math:`\\mu \\le -\\ln(\\text{tail})`).
    Upper: the count whose exact lower limit equals ``mu``, :math:`P(X \\ge O \\mid \\mu) =
    \\text{tail}`. With the regularised incomplete gamma functions these are smooth in ``O``,
    so the curves pass exactly through PHEindicatormethods' ``poisson_funnel`` points at whole
    counts (which it finds by bisection) and join them smoothly in between.
    """
    mu = np.asarray(mu, dtype=float)
    top = mu + 12 * np.sqrt(mu) + 30
    out = []
    for side in ("low", "high"):
        lo, hi = np.zeros_like(mu), top.copy()
        for _ in range(200):
            mid = (lo + hi) / 2
            if side == "low":
                go_up = special.gammaincc(mid + 1, mu) < tail
            else:
                go_up = special.gammainc(np.maximum(mid, 1e-300), mu) > tail
            lo, hi = np.where(go_up, mid, lo), np.where(go_up, hi, mid)
        est = (lo + hi) / 2
        if side == "low":
            est = np.where(mu <= -np.log(tail), 0.0, est)
        out.append(est)
    return out[0], out[1]


def _check_positive_average(value: Any, key: str) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value <= 0:
        raise ParameterError(
            f"{key}={value!r} is not allowed",
            key=key,
            expected="a positive number (a rate per person, e.g. 0.0012 for 120 per 100,000)",
        )
    return value


def _ratio_scale(ratio: np.ndarray, ratio_type: str, multiplier: float) -> np.ndarray:
    if ratio_type == "isr":
        return ratio * 100.0
    if ratio_type == "count":
        return ratio - 1.0
    return ratio * multiplier


def funnel_limits(
    positions: Any,
    statistic: str = "proportion",
    average: float | None = None,
    multiplier: float | None = None,
    level: float | None = None,
    *,
    method: str = "wilson",
    ratio_type: str = "ratio",
    years_of_data: float = 1,
) -> pd.DataFrame:
    """Funnel-plot control limits at 95% and 99.8% at the given positions.

    - ``statistic="proportion"``: the position is the denominator and ``average`` the
      proportion (0-1). ``method="wilson"`` (default) gives the Fingertips limits: at each
      denominator the observed proportions whose Wilson score interval just reaches
      ``average`` (PHEindicatormethods ``calculate_funnel_limits``, its ``sigma_adjustment``).
      ``method="normal"`` gives :math:`\\bar p \\pm z\\sqrt{\\bar p(1 - \\bar p)/n}`
      (Spiegelhalter 2005). Limits are clipped to 0 and 1 (× ``multiplier``, default 100).
    - ``statistic="rate"``: the position is the population (per year; the period holds
      ``years_of_data`` years) and ``average`` the rate per person-year. With expected count
      :math:`\\mu = \\text{average} \\times \\text{position} \\times \\text{years}`, the limits are
      :math:`O / (\\text{position} \\times \\text{years})` × ``multiplier`` (default 100,000)
      at the observed counts :math:`O` whose exact Poisson interval just reaches :math:`\\mu`.
      This matches ``calculate_funnel_limits(statistic = "rate")``.
    - ``statistic="ratio"``: the position is the expected count :math:`E` and the limits are
      :math:`O/E` at the same Poisson counts (``calculate_funnel_limits(statistic = "ratio")``),
      shown × ``multiplier`` (``ratio_type="ratio"``, default 1), × 100 (``"isr"``, as PHE)
      or minus 1 (``"count"``, as PHE).

    Parameters
    ----------
    positions
        Denominators, populations or expected counts at which to compute the limits.
    statistic
        ``"proportion"``, ``"rate"`` or ``"ratio"``.
    average
        The centre line: a proportion (0-1) or a rate per person; for a ratio it is 1.
    multiplier
        Scale of the output (default 100 for proportions, 100,000 for rates, 1 for ratios).
    level
        Optional extra confidence level: adds ``lower`` and ``upper`` at that level.
    method
        ``"wilson"`` or ``"normal"`` (proportions only).
    ratio_type
        ``"ratio"``, ``"isr"`` or ``"count"`` (ratios only; PHE's ``ratio_type``).
    years_of_data
        Number of years the data cover (rates only; PHE's ``years_of_data``).

    Returns
    -------
    pandas.DataFrame
        Columns ``n`` (the positions), ``lower_95``, ``upper_95``, ``lower_998``,
        ``upper_998`` and ``baseline``.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance.
    Stat Med 24:1185-1202. OHID Fingertips technical guidance (funnel plots).

    Examples
    --------
    >>> funnel_limits([200], average=0.65, method="normal").round(2).iloc[0].tolist()
    [200.0, 58.39, 71.61, 54.58, 75.42, 65.0]
    >>> funnel_limits([5.5716446], "ratio", ratio_type="isr")["lower_95"].round(3).tolist()
    [17.948]
    """
    check_choice("statistic", statistic, FUNNEL_STATISTICS)
    check_choice("method", method, ("wilson", "normal"))
    check_choice("ratio_type", ratio_type, _RATIO_TYPES)
    if multiplier is None:
        multiplier = _DEFAULT_MULTIPLIER[statistic]
    multiplier = check_multiplier(multiplier)
    years = _check_positive_average(years_of_data, "years_of_data")
    na = numeric_array(np.atleast_1d(positions), name="positions", allow_nan=False)
    if (na <= 0).any():
        raise DataError(
            "positions must be above zero",
            column="positions",
            rows=list(np.flatnonzero(na <= 0)),
            allowed="numbers above 0",
        )
    levels = dict(FUNNEL_LEVELS)
    if level is not None:
        levels[""] = check_level(level)
    out: dict[str, Any] = {"n": na}
    if statistic == "proportion":
        if average is None:
            raise ParameterError(
                "a proportion funnel needs its average", key="average", expected="0-1"
            )
        average = _check_average(average, "average")
        for name, lev in levels.items():
            lo, hi = _limit_pair(average, na, z_value(lev), method)
            suffix = f"_{name}" if name else ""
            out[f"lower{suffix}"], out[f"upper{suffix}"] = lo * multiplier, hi * multiplier
        out["baseline"] = np.full_like(na, average * multiplier)
        return pd.DataFrame(out)
    if statistic == "rate":
        if average is None:
            raise ParameterError(
                "a rate funnel needs its average", key="average", expected="the rate per person"
            )
        average = _check_positive_average(average, "average")
        person_years = na * years
        mu = average * person_years
    else:
        average = 1.0 if average is None else _check_positive_average(average, "average")
        mu = na * average
    for name, lev in levels.items():
        o_lo, o_hi = _poisson_bounds(mu, (1 - lev) / 2)
        if statistic == "rate":
            lo, hi = o_lo / person_years * multiplier, o_hi / person_years * multiplier
        else:
            lo = _ratio_scale(o_lo / na, ratio_type, multiplier)
            hi = _ratio_scale(o_hi / na, ratio_type, multiplier)
        suffix = f"_{name}" if name else ""
        out[f"lower{suffix}"], out[f"upper{suffix}"] = lo, hi
    if statistic == "rate":
        out["baseline"] = np.full_like(na, average * multiplier)
    else:
        out["baseline"] = np.full_like(na, _ratio_scale(np.array(average), ratio_type, multiplier))
    return pd.DataFrame(out)


@dataclass(frozen=True)
class Funnel(TableResult):
    """Funnel-plot comparison of areas with the average (or a target).

    ``table`` has one row per area: ``x, n, value`` (the area's proportion, rate or ratio
    × multiplier), the 95% and 99.8% limits at that area's position, and ``compared_95`` /
    ``compared_998``: ``"higher"``, ``"lower"`` or ``"not different"``. ``to_frame()``
    returns the table; columns can also be read as ``result["value"]``.
    """

    table: pd.DataFrame = field(repr=False)
    average: float
    observed_average: float
    target: float | None
    method: str
    multiplier: float
    n: int
    statistic: str = "proportion"
    ratio_type: str = "ratio"
    years_of_data: float = 1.0

    _title = "Funnel plot comparison"

    def limits(self, n: Any = None, *, points: int = 200) -> pd.DataFrame:
        """Limit curves at positions ``n`` (default: a smooth grid across the areas).

        Positions are on the table's ``n`` scale (denominators, total populations of the
        period, or expected counts).
        """
        if n is None:
            nmax = float(np.nanmax(self.table["n"])) * 1.05
            low = 1.0 if self.statistic != "ratio" else 0.1
            nmin = max(low, float(np.nanmin(self.table["n"])) * 0.5)
            n = np.unique(np.round(np.geomspace(nmin, nmax, points), 1))
        return funnel_limits(
            n,
            self.statistic,
            average=self.average,
            method=self.method if self.statistic == "proportion" else "wilson",
            multiplier=self.multiplier,
            ratio_type=self.ratio_type,
        )

    def summary_text(self, *, unit: str = "areas") -> str:
        """One plain-English sentence about the areas outside the 99.8% and 95% limits."""
        parts = []
        for name, label in (("998", "99.8%"), ("95", "95%")):
            col = self.table[f"compared_{name}"]
            hi, lo = int((col == "higher").sum()), int((col == "lower").sum())
            parts.append(f"{hi} higher and {lo} lower than expected at the {label} limits")
        centre = "the target" if self.target is not None else "the average"
        if self.statistic == "ratio":
            shown = f"{float(_ratio_scale(np.array(self.average), self.ratio_type, self.multiplier)):.3g}"
        else:
            shown = f"{self.average * self.multiplier:.3g}" + (
                "%" if self.multiplier == 100 and self.statistic == "proportion" else ""
            )
        return f"Compared with {centre} ({shown}), of {self.n} {unit}: " + "; ".join(parts) + "."

    def plot(
        self,
        ax: Any = None,
        *,
        label_points: bool | None = None,
        title: str | None = None,
        highlight: Any = None,
    ) -> Any:
        """Funnel plot: areas as points, 95% and 99.8% limits as curves; ``highlight`` rings one."""
        from ..plots.indicators import funnel_plot

        return funnel_plot(self, ax=ax, label_points=label_points, title=title, highlight=highlight)


def funnel(
    x: Any,
    n: Any,
    data: pd.DataFrame | None = None,
    labels: Any = None,
    statistic: str = "proportion",
    multiplier: float | None = None,
    *,
    target: float | None = None,
    method: str = "wilson",
    ratio_type: str = "ratio",
    years_of_data: float = 1,
) -> Funnel:
    """Compare areas with the overall average (or a target) using funnel-plot control limits.

    - ``statistic="proportion"`` (``x`` of ``n``): the centre line is
      :math:`\\bar p = \\sum x / \\sum n` (or ``target``, 0-1); the limits at each area's
      denominator come from :func:`funnel_limits`, and an area is ``"higher"`` when its
      proportion is above the upper limit, ``"lower"`` when below the lower limit (strict
      inequalities, as PHEindicatormethods ``assign_funnel_significance``).
    - ``statistic="rate"`` (``x`` events in a population of ``n`` person-years over the
      period): the centre line is :math:`\\sum x / \\sum n` per person-year (or ``target``).
    - ``statistic="ratio"`` (``x`` observed, ``n`` expected events): the centre line is 1.

    For rates and ratios each area is labelled, as PHE does, by its own interval for the
    count (Byar's from 10 events, exact Poisson below): ``"higher"`` when the lower limit of
    :math:`x/n` is above the centre line, ``"lower"`` when the upper limit is below it.

    Parameters
    ----------
    x, n
        Numerators and denominators (or observed and expected counts) per area: arrays,
        Series, or column names with ``data``.
    data
        Optional DataFrame holding the columns.
    labels
        Area names (or, with ``data``, the name of the label column).
    statistic
        ``"proportion"`` (default), ``"rate"`` or ``"ratio"``.
    multiplier
        Scale of ``value`` and the limits (default 100, 100,000 or 1 by statistic).
    target
        Optional centre line: a proportion (0-1), a rate per person, or a ratio.
    method
        ``"wilson"`` (Fingertips, default) or ``"normal"`` (proportions only).
    ratio_type
        ``"ratio"``, ``"isr"`` (× 100) or ``"count"`` (minus 1), as PHE (ratios only).
    years_of_data
        Years the rates cover; the table gains ``population_per_year`` (PHE's
        ``calculate_funnel_points`` charts rates against the yearly population).

    Returns
    -------
    Funnel
        ``.table`` (also ``.to_frame()``), ``.average``, ``.plot()``, ``.summary_text()``.

    References
    ----------
    Spiegelhalter DJ (2005). Funnel plots for comparing institutional performance.
    Stat Med 24:1185-1202. OHID Fingertips technical guidance (funnel plots).

    Examples
    --------
    >>> f = funnel([130, 150, 100], [200, 200, 200], labels=["A", "B", "C"])
    >>> f.table["compared_95"].tolist()
    ['not different', 'higher', 'lower']
    >>> funnel([151, 159], [106.44, 232.93], statistic="ratio")["compared_998"].tolist()
    ['higher', 'lower']
    """
    check_choice("statistic", statistic, FUNNEL_STATISTICS)
    check_choice("method", method, ("wilson", "normal"))
    check_choice("ratio_type", ratio_type, _RATIO_TYPES)
    if multiplier is None:
        multiplier = _DEFAULT_MULTIPLIER[statistic]
    multiplier = check_multiplier(multiplier)
    years = _check_positive_average(years_of_data, "years_of_data")
    xa, na, index, _, names = counts_input(x, n, data, labels)
    check_counts(xa, na, index, names, proportion=statistic == "proportion")
    missing = np.isnan(xa) | np.isnan(na)
    if missing.all():
        raise DataError(
            "every area has a missing numerator or denominator",
            columns=list(names),
            rows=list(index),
        )
    observed = float(xa[~missing].sum() / na[~missing].sum())
    if statistic == "proportion":
        if target is not None:
            average = _check_average(target, "target")
        else:
            if not 0.0 < observed < 1.0:
                raise DataError(
                    f"the overall proportion is {observed:g}: funnel limits need an "
                    "average strictly between 0 and 1",
                    columns=list(names),
                    allowed="some areas with events and some without, or a target",
                )
            average = observed
    elif statistic == "rate":
        average = observed if target is None else _check_positive_average(target, "target")
        if average <= 0:
            raise DataError(
                "there are no events in any area: a rate funnel needs an average above 0",
                column=names[0],
                allowed="some events, or a target",
            )
    else:
        average = 1.0 if target is None else _check_positive_average(target, "target")
    ratio = xa / na
    if statistic == "ratio":
        value = _ratio_scale(ratio, ratio_type, multiplier)
    else:
        value = ratio * multiplier
    table = pd.DataFrame({"x": xa, "n": na, "value": value}, index=index)
    if statistic == "rate":
        table["population_per_year"] = na / years
    safe_n = np.where(missing, 1.0, na)
    for name, lev in FUNNEL_LEVELS.items():
        if statistic == "proportion":
            lo, hi = _limit_pair(average, safe_n, z_value(lev), method)
            lo_s, hi_s = lo * multiplier, hi * multiplier
            verdict = np.where(ratio > hi, "higher", np.where(ratio < lo, "lower", "not different"))
        else:
            lim = funnel_limits(
                safe_n if statistic == "ratio" else safe_n / years,
                statistic,
                average=average,
                multiplier=multiplier,
                ratio_type=ratio_type,
                years_of_data=years,
            )
            lo_s, hi_s = lim[f"lower_{name}"].to_numpy(), lim[f"upper_{name}"].to_numpy()
            # PHE labels each area by its own Byar (or exact) interval for the count
            c_lo, c_hi, _ = count_limits(np.where(missing, 0.0, xa), lev)
            with np.errstate(invalid="ignore", divide="ignore"):
                verdict = np.where(
                    c_lo / safe_n > average,
                    "higher",
                    np.where(c_hi / safe_n < average, "lower", "not different"),
                )
        table[f"lower_{name}"] = np.where(missing, np.nan, lo_s)
        table[f"upper_{name}"] = np.where(missing, np.nan, hi_s)
        table[f"compared_{name}"] = pd.Series(verdict, index=index).where(~missing, None)
    return Funnel(
        table=table,
        average=average,
        observed_average=observed,
        target=None if target is None else average,
        method=method if statistic == "proportion" else "poisson",
        multiplier=multiplier,
        n=int((~missing).sum()),
        statistic=statistic,
        ratio_type=ratio_type,
        years_of_data=years,
    )
