"""Gwet's AC1 (and weighted AC2) agreement coefficient with its standard error (Gwet 2008)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import check_choice, check_level
from ..errors import DataError, ParameterError
from ..results import Result

__all__ = ["GwetResult", "gwet_ac1"]


@dataclass(frozen=True)
class GwetResult(Result):
    """Gwet's AC1 (AC2 when weighted).

    ``agreement`` is the observed (weighted) agreement pa, ``expected`` the chance agreement
    pe; ``se`` the standard error of Gwet (2008) (no finite-population correction), the
    interval ``estimate ± t(n−1)·se`` with its upper end capped at 1 (as irrCAC), and ``p``
    the two-sided t test of AC1 = 0. ``counts`` is the subjects × categories table of how
    many raters chose each category.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    level: float
    method: str
    raters: int
    agreement: float
    expected: float
    p: float
    weights: str
    counts: pd.DataFrame = field(repr=False, compare=False)
    _title = "Gwet's AC1"


def _ratings_table(r1: Any, r2: Any, more: tuple[Any, ...]) -> pd.DataFrame:
    if r2 is None:
        if not isinstance(r1, (pd.DataFrame, np.ndarray, list)) or np.ndim(r1) != 2:
            raise DataError(
                "gwet_ac1 needs two or more raters: r1, r2, ... as columns of ratings, or one "
                "table with a column per rater"
            )
        table = pd.DataFrame(r1).copy()
    else:
        cols = [pd.Series(np.asarray(r, dtype=object).ravel()) for r in (r1, r2, *more)]
        lengths = {len(c) for c in cols}
        if len(lengths) > 1:
            raise DataError(
                "every rater must rate the same subjects in the same order",
                values=[len(c) for c in cols],
                allowed="sequences of equal length (NaN/None for a missing rating)",
            )
        table = pd.concat(cols, axis=1, ignore_index=True)
        table.columns = [f"r{i + 1}" for i in range(table.shape[1])]
    if table.shape[1] < 2:
        raise DataError("gwet_ac1 needs at least 2 raters", columns=[str(c) for c in table.columns])
    return table


def _weights(weights: Any, cats: list[Any]) -> tuple[np.ndarray, str]:
    q = len(cats)
    if weights is None or (isinstance(weights, str) and weights == "unweighted"):
        return np.eye(q), "unweighted"
    if isinstance(weights, str):
        check_choice("weights", weights, ("unweighted", "linear", "quadratic"))
        try:
            v = np.asarray(cats, dtype=float)
        except (TypeError, ValueError):
            raise ParameterError(
                "linear and quadratic weights need numeric categories",
                key="weights",
                expected="numeric ratings, or weights=None",
            ) from None
        span = v.max() - v.min()
        d = np.abs(v[:, None] - v[None, :]) / (span if span > 0 else 1.0)
        return (1.0 - d if weights == "linear" else 1.0 - d**2), weights
    w = np.asarray(weights, dtype=float)
    if w.shape != (q, q) or np.any(np.diag(w) != 1) or np.any((w < 0) | (w > 1)):
        raise ParameterError(
            "a weights matrix holds agreement weights: 1 on the diagonal, between 0 and 1 "
            "elsewhere, one row and column per category",
            key="weights",
            expected=f"a {q} × {q} matrix of agreement weights",
        )
    return w, "user matrix"


def gwet_ac1(
    r1: Any,
    r2: Any = None,
    *more: Any,
    categories: Any = None,
    weights: Any = None,
    level: float = 0.95,
) -> GwetResult:
    """Gwet's AC1 for two or more raters, with missing ratings, and its standard error.

    With :math:`r_{ik}` raters putting subject i in category k, :math:`r_i = \\sum_k r_{ik}`,
    agreement weights :math:`w_{kl}` (the identity for AC1) and
    :math:`r^*_{ik} = \\sum_l w_{kl} r_{il}`:

    .. math::

        p_a = \\frac{1}{n'} \\sum_{i: r_i \\ge 2} \\sum_k
              \\frac{r_{ik}(r^*_{ik} - 1)}{r_i(r_i - 1)}, \\quad
        \\pi_k = \\frac{1}{n} \\sum_i \\frac{r_{ik}}{r_i}, \\quad
        p_e = \\frac{\\sum_{kl} w_{kl}}{q(q-1)} \\sum_k \\pi_k (1 - \\pi_k),

    :math:`AC_1 = (p_a - p_e)/(1 - p_e)`, with n subjects (n' of them rated at least twice)
    and q categories. The variance is Gwet's (2008) linearisation,
    :math:`v = \\frac{1}{n(n-1)} \\sum_i (AC^\\star_{1|i} - AC_1)^2` with
    :math:`AC^\\star_{1|i} = \\frac{n}{n'} \\frac{p_{a|i} - p_e}{1 - p_e} -
    2(1 - AC_1)\\frac{p_{e|i} - p_e}{1 - p_e}`. The numbers are those of R irrCAC's
    ``gwet.ac1.raw`` (with ``N = Inf``); for two raters without missing ratings AC1 is
    Gwet's (2008) two-rater coefficient :math:`p_e = \\sum_k \\pi_k(1-\\pi_k)/(q-1)`.

    Parameters
    ----------
    r1, r2, *more : array-like
        Each rater's ratings of the same subjects (None/NaN for a missing rating); or ``r1``
        alone as a table with one row per subject and one column per rater.
    categories : sequence, optional
        All categories (those nobody used still count in q). Default: the values seen.
    weights : None, "linear", "quadratic" or a q × q matrix of agreement weights
        For Gwet's AC2 (irrCAC's weights on the category values).
    level : float
        Confidence level of the interval.

    Returns
    -------
    GwetResult

    References
    ----------
    Gwet KL (2008). Computing inter-rater reliability and its variance in the presence of
    high agreement. Br J Math Stat Psychol 61:29-48. Gwet KL (2014). Handbook of inter-rater
    reliability, 4th ed. R package irrCAC.

    Examples
    --------
    >>> r1 = [1, 1, 2, 2, 3, 3, 3, 1]
    >>> r2 = [1, 2, 2, 2, 3, 3, 1, 1]
    >>> round(gwet_ac1(r1, r2).estimate, 6)
    0.625731
    """
    level = check_level(level)
    table = _ratings_table(r1, r2, more)
    values = table.to_numpy(dtype=object)
    present = pd.notna(table).to_numpy()
    rated = present.any(axis=1)
    values, present = values[rated], present[rated]
    if categories is None:
        seen = pd.unique(pd.Series(values[present]))
        try:
            cats = sorted(seen.tolist())
        except TypeError:
            cats = sorted(seen.tolist(), key=str)
    else:
        cats = list(categories)
        if len(set(cats)) != len(cats):
            raise ParameterError(
                "categories contains duplicates", key="categories", expected="each category once"
            )
    q = len(cats)
    n, r = values.shape
    if n < 2:
        raise DataError("gwet_ac1 needs at least 2 rated subjects", allowed="more subjects")
    lookup = {c: i for i, c in enumerate(cats)}
    counts = np.zeros((n, q))
    for j in range(r):
        col = values[:, j]
        for i in np.flatnonzero(present[:, j]):
            code = lookup.get(col[i])
            if code is None:
                raise DataError(
                    "rating outside the categories given",
                    column=str(table.columns[j]),
                    values=[col[i]],
                    allowed=", ".join(map(str, cats)),
                )
            counts[i, code] += 1
    w, wname = _weights(weights, cats)
    ri = counts.sum(axis=1)
    two = ri >= 2
    n2 = int(two.sum())
    if n2 == 0:
        raise DataError(
            "no subject was rated by two or more raters, so agreement cannot be measured",
            allowed="subjects rated by at least two raters",
        )
    counts_w = counts @ w.T
    agree_i = (counts * (counts_w - 1)).sum(axis=1)
    denom = np.where(two, ri * (ri - 1), 1.0)
    pa_i = np.where(two, agree_i / denom, 0.0)
    pa = float(pa_i[two].mean())
    pi = (counts / ri[:, None]).mean(axis=0)
    scale = w.sum() / (q * (q - 1)) if q >= 2 else 0.0
    pe = float(scale * np.sum(pi * (1 - pi))) if q >= 2 else 1 - 1e-15
    ac1 = (pa - pe) / (1 - pe)
    # Gwet (2008): subject-level linearised contributions
    ac1_i = (n / n2) * (pa_i - pe * two) / (1 - pe)
    pe_i = scale * (counts @ (1 - pi)) / ri
    ac1_i = ac1_i - 2 * (1 - ac1) * (pe_i - pe) / (1 - pe)
    var = float(np.sum((ac1_i - ac1) ** 2) / (n * (n - 1)))
    se = float(np.sqrt(var))
    t = float(stats.t.ppf(0.5 + level / 2, n - 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = float(2 * stats.t.sf(abs(ac1 / se), n - 1)) if se > 0 else float("nan")
    name = "AC1" if wname == "unweighted" else f"AC2 ({wname} weights)"
    return GwetResult(
        estimate=float(ac1),
        se=se,
        ci_low=float(ac1 - t * se),
        ci_high=float(min(1.0, ac1 + t * se)),
        n=int(n),
        level=level,
        method=f"Gwet's {name}, {r} raters (Gwet 2008)",
        raters=int(r),
        agreement=pa,
        expected=pe,
        p=p,
        weights=wname,
        counts=pd.DataFrame(counts, columns=[str(c) for c in cats]),
    )
