"""Population indicators as OHID Fingertips (and R PHEindicatormethods) compute them.

- :func:`proportion`: a proportion with a Wilson score interval;
- :func:`rate`: a crude rate with Byar's interval (10 or more events) or the exact Poisson
  interval (fewer than 10 events);
- :func:`funnel`: funnel-plot control limits at 95% and 99.8% around the overall average
  (or a target), each area labelled higher, lower or not different, with a funnel plot;
- :func:`funnel_limits`: the limit curves alone, for any denominators.

Shapes: scalar ``x`` and ``n`` give a small result object (``.estimate``, ``.ci_low``,
``.ci_high``...); arrays, lists or Series give a DataFrame with one row per area (the
Series' index, or ``labels``, become the index). With ``data=`` the arguments ``x`` and ``n``
name columns of that DataFrame.

>>> from evalkit import indicators
>>> r = indicators.proportion(65, 100)
>>> round(r.ci_low, 4), round(r.ci_high, 4)
(0.5525, 0.7364)
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ._validate import check_choice, check_level, numeric_array, require_columns
from .errors import DataError, ParameterError
from .results import Result

__all__ = [
    "Indicator",
    "Funnel",
    "proportion",
    "rate",
    "funnel",
    "funnel_limits",
    "FUNNEL_LEVELS",
]

#: Control-limit levels of a Fingertips funnel plot: name -> two-sided coverage
FUNNEL_LEVELS = {"95": 0.95, "998": 0.998}

_EXACT_BELOW = 10  # PHEindicatormethods: exact Poisson below 10 events, Byar from 10


@dataclass(frozen=True)
class Indicator(Result):
    """One proportion or rate with its confidence interval (scalar input).

    ``estimate``, ``ci_low`` and ``ci_high`` are on the ``multiplier`` scale
    (1 for a proportion by default; 100,000 for a rate per 100,000).
    """

    estimate: float
    ci_low: float
    ci_high: float
    x: float
    n: float
    level: float
    method: str
    statistic: str
    multiplier: float

    _title = "Indicator"


# -- input handling ---------------------------------------------------------------------------


def _is_scalar(value: Any) -> bool:
    return isinstance(value, numbers.Number) or (isinstance(value, np.ndarray) and value.ndim == 0)


def _counts(
    x: Any, n: Any, data: pd.DataFrame | None, labels: Any
) -> tuple[np.ndarray, np.ndarray, pd.Index, bool, tuple[str, str]]:
    """Return ``x`` and ``n`` as float arrays, the row labels, and whether input was scalar."""
    names = ("x", "n")
    if data is not None:
        if not isinstance(x, str) or not isinstance(n, str):
            raise ParameterError(
                "with data=, pass x and n as column names",
                key="x, n",
                expected="column names such as x='breastfed', n='births'",
            )
        require_columns(data, [x, n], what="data")
        names = (x, n)
        if isinstance(labels, str):
            require_columns(data, [labels], what="data")
            labels = data[labels].to_numpy()
        x, n = data[x], data[n]
    scalar = _is_scalar(x) and _is_scalar(n)
    index = None
    for v in (x, n):
        if isinstance(v, pd.Series):
            index = v.index
            break
    xa = numeric_array(np.atleast_1d(x) if _is_scalar(x) else x, name=names[0])
    na = numeric_array(np.atleast_1d(n) if _is_scalar(n) else n, name=names[1])
    try:
        xa, na = np.broadcast_arrays(xa, na)
    except ValueError:
        raise DataError(
            f"{names[0]} has {xa.size} values but {names[1]} has {na.size}",
            columns=list(names),
            allowed="one denominator per numerator (or a single one for all)",
        ) from None
    if labels is not None:
        labels = list(labels)
        if len(labels) != xa.size:
            raise DataError(
                f"labels has {len(labels)} entries for {xa.size} areas",
                allowed="one label per area",
            )
        index = pd.Index(labels, name="label")
    elif index is None or len(index) != xa.size:
        index = pd.RangeIndex(xa.size)
    return xa.astype(float), na.astype(float), index, scalar, names


def _check_counts(
    x: np.ndarray, n: np.ndarray, index: pd.Index, names: tuple[str, str], *, proportion: bool
) -> None:
    def rows(mask: np.ndarray) -> list[Any]:
        return list(index[mask])

    bad = x < 0
    if bad.any():
        raise DataError(
            "counts cannot be negative",
            column=names[0],
            rows=rows(bad),
            values=list(x[bad]),
            allowed="whole numbers of 0 or more",
        )
    bad = np.isfinite(x) & (x != np.round(x))
    if bad.any():
        raise DataError(
            "counts must be whole numbers",
            column=names[0],
            rows=rows(bad),
            values=list(x[bad]),
            allowed="whole numbers of 0 or more",
        )
    bad = n <= 0
    if bad.any():
        raise DataError(
            "the denominator must be above zero",
            column=names[1],
            rows=rows(bad),
            values=list(n[bad]),
            allowed="numbers above 0",
        )
    if proportion:
        bad = np.isfinite(n) & (n != np.round(n))
        if bad.any():
            raise DataError(
                "denominators of a proportion must be whole numbers",
                column=names[1],
                rows=rows(bad),
                values=list(n[bad]),
                allowed="whole numbers above 0",
            )
        bad = x > n
        if bad.any():
            raise DataError(
                f"{names[0]} is larger than {names[1]}: a proportion cannot exceed 1",
                columns=list(names),
                rows=rows(bad),
                values=[f"{a:g}/{b:g}" for a, b in zip(x[bad], n[bad])],
                allowed=f"{names[0]} between 0 and {names[1]}",
            )


def _check_multiplier(multiplier: float) -> float:
    if isinstance(multiplier, bool) or not isinstance(multiplier, numbers.Real) or multiplier <= 0:
        raise ParameterError(
            f"multiplier={multiplier!r} is not allowed",
            key="multiplier",
            expected="a positive number such as 100 or 100000",
        )
    return float(multiplier)


def _z(level: float) -> float:
    return float(stats.norm.ppf(0.5 + level / 2))


def _shape(
    est: np.ndarray,
    lo: np.ndarray,
    hi: np.ndarray,
    x: np.ndarray,
    n: np.ndarray,
    index: pd.Index,
    scalar: bool,
    *,
    level: float,
    method: Any,
    statistic: str,
    multiplier: float,
) -> Indicator | pd.DataFrame:
    methods = np.broadcast_to(np.asarray(method, dtype=object), est.shape)
    if scalar:
        return Indicator(
            estimate=float(est[0]),
            ci_low=float(lo[0]),
            ci_high=float(hi[0]),
            x=float(x[0]),
            n=float(n[0]),
            level=level,
            method=str(methods[0]),
            statistic=statistic,
            multiplier=multiplier,
        )
    return pd.DataFrame(
        {
            "x": x,
            "n": n,
            "estimate": est,
            "ci_low": lo,
            "ci_high": hi,
            "level": level,
            "method": list(methods),
            "statistic": statistic,
            "multiplier": multiplier,
        },
        index=index,
    )


# -- proportions ------------------------------------------------------------------------------


def _wilson(x: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(invalid="ignore"):
        centre = 2 * x + z**2
        half = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
        denom = 2 * (n + z**2)
        lo, hi = (centre - half) / denom, (centre + half) / denom
    # exact at the boundaries (the formula can miss 0 or 1 by a rounding error)
    return np.where(x == 0, 0.0, lo), np.where(x == n, 1.0, hi)


def proportion(
    x: Any,
    n: Any,
    *,
    level: float = 0.95,
    multiplier: float = 1,
    data: pd.DataFrame | None = None,
    labels: Any = None,
) -> Indicator | pd.DataFrame:
    """A proportion ``x / n`` with its Wilson score confidence interval.

    .. math::

        \\frac{2x + z^2 \\mp z\\sqrt{z^2 + 4x(1 - x/n)}}{2(n + z^2)}, \\qquad
        z = \\Phi^{-1}\\left(\\tfrac{1 + \\text{level}}{2}\\right)

    This is the Fingertips method (PHEindicatormethods ``phe_proportion``).

    Parameters
    ----------
    x, n
        Numerator and denominator counts: scalars, arrays, Series, or column names with ``data``.
    level
        Confidence level (0.95; Fingertips also uses 0.998).
    multiplier
        Scale of the output (1 = proportion, 100 = percentage).
    data
        Optional DataFrame holding the columns named by ``x`` and ``n``.
    labels
        Optional area labels (or, with ``data``, the name of a label column).

    Returns
    -------
    Indicator or pandas.DataFrame
        For scalar input an :class:`Indicator`; otherwise a DataFrame with columns
        ``x, n, estimate, ci_low, ci_high, level, method, statistic, multiplier``.

    Raises
    ------
    DataError
        Negative or non-whole counts, a denominator of zero, or ``x > n``; the rows are named.

    References
    ----------
    Wilson EB (1927). Probable inference, the law of succession, and statistical inference.
    JASA 22:209-212. Newcombe RG, Altman DG (2000), in *Statistics with confidence*, pp. 46-48.

    Examples
    --------
    >>> r = proportion(65, 100)
    >>> round(r.ci_low, 4), round(r.ci_high, 4)
    (0.5525, 0.7364)
    >>> proportion([65, 3], [100, 10], multiplier=100)["ci_low"].round(2).tolist()
    [55.25, 10.78]
    """
    level = check_level(level)
    multiplier = _check_multiplier(multiplier)
    xa, na, index, scalar, names = _counts(x, n, data, labels)
    _check_counts(xa, na, index, names, proportion=True)
    lo, hi = _wilson(xa, na, _z(level))
    return _shape(
        xa / na * multiplier,
        lo * multiplier,
        hi * multiplier,
        xa,
        na,
        index,
        scalar,
        level=level,
        method="wilson",
        statistic="proportion",
        multiplier=multiplier,
    )


# -- rates ------------------------------------------------------------------------------------


def _rate_limits(x: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Limits for the expected count: exact Poisson below 10 events, Byar from 10."""
    alpha = 1 - level
    z = _z(level)
    exact = x < _EXACT_BELOW
    lo = np.full_like(x, np.nan)
    hi = np.full_like(x, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Byar's approximation (Breslow & Day 1987)
        xb, xb1 = x[~exact], x[~exact] + 1
        lo[~exact] = xb * (1 - 1 / (9 * xb) - z / (3 * np.sqrt(xb))) ** 3
        hi[~exact] = xb1 * (1 - 1 / (9 * xb1) + z / (3 * np.sqrt(xb1))) ** 3
        # exact (Garwood) limits from the chi-squared distribution; no events -> lower limit 0
        xe = x[exact]
        lo[exact] = np.where(xe > 0, stats.chi2.ppf(alpha / 2, np.maximum(2 * xe, 1)) / 2, 0.0)
        hi[exact] = stats.chi2.ppf(1 - alpha / 2, 2 * xe + 2) / 2
    method = np.where(exact, "exact", "byar").astype(object)
    method[np.isnan(x)] = None
    return lo, hi, method


def rate(
    x: Any,
    n: Any,
    *,
    multiplier: float = 100000,
    level: float = 0.95,
    data: pd.DataFrame | None = None,
    labels: Any = None,
) -> Indicator | pd.DataFrame:
    """A crude rate ``x / n × multiplier`` with Byar's or the exact Poisson interval.

    For 10 or more events, Byar's approximation to the Poisson limits of the count:

    .. math::

        O_L = x\\left(1 - \\frac{1}{9x} - \\frac{z}{3\\sqrt{x}}\\right)^3, \\quad
        O_U = (x + 1)\\left(1 - \\frac{1}{9(x+1)} + \\frac{z}{3\\sqrt{x+1}}\\right)^3

    For fewer than 10 events the exact limits
    :math:`O_L = \\chi^2_{\\alpha/2;\\,2x}/2` (0 when ``x = 0``) and
    :math:`O_U = \\chi^2_{1-\\alpha/2;\\,2x+2}/2`. The rate limits are
    :math:`O / n \\times` ``multiplier``, as in PHEindicatormethods ``phe_rate``.

    Parameters
    ----------
    x
        Event counts (whole numbers).
    n
        Denominators (population or person-years; need not be whole).
    multiplier
        Rate per this many (100,000 by default).
    level
        Confidence level.
    data, labels
        As in :func:`proportion`.

    Returns
    -------
    Indicator or pandas.DataFrame
        ``method`` says which interval was used for each row (``"byar"`` or ``"exact"``).

    References
    ----------
    Breslow NE, Day NE (1987). *Statistical methods in cancer research, vol. II*. IARC.
    Armitage P, Berry G (2002). *Statistical methods in medical research*, 4th edn.

    Examples
    --------
    >>> r = rate(100, 100, multiplier=100)
    >>> round(r.ci_low, 2), round(r.ci_high, 2)
    (81.36, 121.63)
    >>> rate(3, 5000).method
    'exact'
    """
    level = check_level(level)
    multiplier = _check_multiplier(multiplier)
    xa, na, index, scalar, names = _counts(x, n, data, labels)
    _check_counts(xa, na, index, names, proportion=False)
    lo, hi, method = _rate_limits(xa, level)
    scale = multiplier / na
    return _shape(
        xa * scale,
        lo * scale,
        hi * scale,
        xa,
        na,
        index,
        scalar,
        level=level,
        method=method,
        statistic=f"rate per {multiplier:g}",
        multiplier=multiplier,
    )


# -- funnel plots -----------------------------------------------------------------------------


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


def funnel_limits(
    n: Any, *, average: float, method: str = "wilson", multiplier: float = 100
) -> pd.DataFrame:
    """Funnel-plot control limits at 95% and 99.8% for the given denominators.

    ``method="wilson"`` (default) gives the Fingertips limits: at each denominator ``n`` the
    observed proportions whose Wilson score interval just reaches ``average``, at
    :math:`z = \\Phi^{-1}(0.975)` and :math:`\\Phi^{-1}(0.999)`. ``method="normal"`` gives the
    normal approximation :math:`\\bar p \\pm z\\sqrt{\\bar p(1 - \\bar p)/n}` (Spiegelhalter 2005).
    Limits are clipped to 0 and 1 (× ``multiplier``).

    Parameters
    ----------
    n
        Denominators at which to compute the limits.
    average
        The centre line as a proportion (0-1).
    method
        ``"wilson"`` or ``"normal"``.
    multiplier
        Scale of the output (100 = percentage, as in PHEindicatormethods ``phe_funnels``).

    Returns
    -------
    pandas.DataFrame
        Columns ``n, lower_95, upper_95, lower_998, upper_998, baseline``.

    Examples
    --------
    >>> funnel_limits([200], average=0.65, method="normal").round(2).iloc[0].tolist()
    [200.0, 58.39, 71.61, 54.58, 75.42, 65.0]
    """
    check_choice("method", method, ("wilson", "normal"))
    average = _check_average(average, "average")
    multiplier = _check_multiplier(multiplier)
    na = numeric_array(np.atleast_1d(n), name="n", allow_nan=False)
    if (na <= 0).any():
        raise DataError(
            "denominators must be above zero",
            column="n",
            rows=list(np.flatnonzero(na <= 0)),
            allowed="numbers above 0",
        )
    out = {"n": na}
    for name, lev in FUNNEL_LEVELS.items():
        lo, hi = _limit_pair(average, na, _z(lev), method)
        out[f"lower_{name}"] = lo * multiplier
        out[f"upper_{name}"] = hi * multiplier
    out["baseline"] = np.full_like(na, average * multiplier)
    return pd.DataFrame(out)


@dataclass(frozen=True)
class Funnel(Result):
    """Funnel-plot comparison of areas with the average (or a target).

    ``table`` has one row per area: ``x, n, value`` (x/n × multiplier), the 95% and 99.8%
    limits at that area's denominator, and ``compared_95`` / ``compared_998``: ``"higher"``,
    ``"lower"`` or ``"not different"``. ``to_frame()`` returns the table; columns can also be
    read as ``result["value"]``.
    """

    table: pd.DataFrame = field(repr=False)
    average: float
    observed_average: float
    target: float | None
    method: str
    multiplier: float
    n: int

    _title = "Funnel plot comparison"

    def to_frame(self) -> pd.DataFrame:
        """The per-area table (a copy)."""
        return self.table.copy()

    def __getitem__(self, key: Any) -> Any:
        return self.table[key]

    def __len__(self) -> int:
        return len(self.table)

    def limits(self, n: Any = None, *, points: int = 200) -> pd.DataFrame:
        """Limit curves at denominators ``n`` (default: a smooth grid across the areas)."""
        if n is None:
            nmax = float(np.nanmax(self.table["n"])) * 1.05
            nmin = max(1.0, float(np.nanmin(self.table["n"])) * 0.5)
            n = np.unique(np.round(np.geomspace(nmin, nmax, points)))
        return funnel_limits(
            n, average=self.average, method=self.method, multiplier=self.multiplier
        )

    def summary_text(self, *, unit: str = "areas") -> str:
        """One plain-English sentence about the areas outside the 99.8% and 95% limits."""
        parts = []
        for name, label in (("998", "99.8%"), ("95", "95%")):
            col = self.table[f"compared_{name}"]
            hi, lo = int((col == "higher").sum()), int((col == "lower").sum())
            parts.append(f"{hi} higher and {lo} lower than expected at the {label} limits")
        centre = "the target" if self.target is not None else "the average"
        return (
            f"Compared with {centre} ({self.average * self.multiplier:.3g}"
            f"{'%' if self.multiplier == 100 else ''}), of {self.n} {unit}: "
            + "; ".join(parts)
            + "."
        )

    def plot(
        self,
        ax: Any = None,
        *,
        label_points: bool | None = None,
        title: str | None = None,
        highlight: Any = None,
    ) -> Any:
        """Funnel plot: areas as points, 95% and 99.8% limits as curves; ``highlight`` rings one."""
        from .plots.indicators import funnel_plot

        return funnel_plot(self, ax=ax, label_points=label_points, title=title, highlight=highlight)


def funnel(
    x: Any,
    n: Any,
    *,
    target: float | None = None,
    labels: Any = None,
    data: pd.DataFrame | None = None,
    method: str = "wilson",
    multiplier: float = 100,
) -> Funnel:
    """Compare areas' proportions with the overall average using funnel-plot control limits.

    The centre line is :math:`\\bar p = \\sum x / \\sum n` (or ``target``). For each area the
    95% and 99.8% limits at its denominator come from :func:`funnel_limits`; an area is
    ``"higher"`` when its proportion is above the upper limit, ``"lower"`` when below the lower
    limit (strict inequalities, as PHEindicatormethods ``phe_funnel_significance``), and
    ``"not different"`` otherwise.

    Parameters
    ----------
    x, n
        Numerators and denominators per area (arrays, Series, or column names with ``data``).
    target
        Optional centre line as a proportion (0-1), e.g. the England value 0.677.
    labels
        Area names (or, with ``data``, the name of the label column).
    data
        Optional DataFrame holding the columns.
    method
        ``"wilson"`` (Fingertips, default) or ``"normal"`` (normal approximation).
    multiplier
        Scale of ``value`` and the limits (100 = percentages).

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
    """
    check_choice("method", method, ("wilson", "normal"))
    multiplier = _check_multiplier(multiplier)
    xa, na, index, _, names = _counts(x, n, data, labels)
    _check_counts(xa, na, index, names, proportion=True)
    missing = np.isnan(xa) | np.isnan(na)
    if missing.all():
        raise DataError(
            "every area has a missing numerator or denominator",
            columns=list(names),
            rows=list(index),
        )
    observed = float(xa[~missing].sum() / na[~missing].sum())
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
    p = xa / na
    table = pd.DataFrame({"x": xa, "n": na, "value": p * multiplier}, index=index)
    for name, lev in FUNNEL_LEVELS.items():
        lo, hi = _limit_pair(average, np.where(missing, 1.0, na), _z(lev), method)
        lo, hi = np.where(missing, np.nan, lo), np.where(missing, np.nan, hi)
        table[f"lower_{name}"] = lo * multiplier
        table[f"upper_{name}"] = hi * multiplier
        verdict = np.where(p > hi, "higher", np.where(p < lo, "lower", "not different"))
        table[f"compared_{name}"] = pd.Series(verdict, index=index).where(~missing, None)
    return Funnel(
        table=table,
        average=average,
        observed_average=observed,
        target=None if target is None else average,
        method=method,
        multiplier=multiplier,
        n=int((~missing).sum()),
    )
