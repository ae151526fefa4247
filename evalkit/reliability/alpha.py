"""Cronbach's alpha with Feldt, Duhachek (ASE) or bootstrap intervals, and Guttman's lambda-6."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats

from .._validate import check_choice, check_level, check_positive_int
from ..errors import EvalkitWarning, ParameterError
from ..results import Result
from ._common import (
    alpha_from_cov,
    boot_counts,
    boot_indices,
    cov_matrix,
    cov_to_cor,
    item_frame,
    pairwise_cov,
    percentile_ci,
    rng_from,
    smc,
)
from .polychoric import ordinal_frame, polychoric_matrix

__all__ = ["AlphaResult", "alpha", "feldt_ci", "duhachek_ase"]


@dataclass(frozen=True)
class AlphaResult(Result):
    """Cronbach's alpha and its interval.

    Attributes
    ----------
    estimate : raw alpha (from the covariance matrix)
    se, ase : Duhachek's asymptotic standard error (the same number under both names)
    ci_low, ci_high : the interval from ``ci`` at ``level``
    standardized : alpha from the correlation matrix, k·r̄/(1 + (k−1)·r̄)
    g6 : Guttman's lambda-6 from squared multiple correlations (as psych)
    n : people used (all rows for pairwise; complete rows for listwise)
    k : number of items
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    k: int
    level: float
    method: str
    standardized: float
    g6: float
    ase: float
    ci: str
    missing: str
    boot: np.ndarray | None = field(default=None, repr=False, compare=False)
    _title = "Cronbach's alpha"

    def plot(self, ax: Any = None) -> Any:
        """Bootstrap distribution (when ``ci='bootstrap'``) with the estimate and interval."""
        from ..plots.reliability import plot_alpha

        return plot_alpha(self, ax=ax)


def feldt_ci(estimate: float, n: int, k: int, level: float = 0.95) -> tuple[float, float]:
    """Feldt (1965) interval for alpha.

    ``[1 − (1−α)·F(1−a/2; n−1, (n−1)(k−1)),  1 − (1−α)·F(a/2; n−1, (n−1)(k−1))]``
    with a = 1 − level.

    Examples
    --------
    >>> [round(v, 6) for v in feldt_ci(0.74, 100, 4)]   # psych::alpha.ci(.74, 100, n.var=4)
    [0.645531, 0.81426]
    """
    level = check_level(level)
    a = 1.0 - level
    df1, df2 = n - 1, (n - 1) * (k - 1)
    lo = 1.0 - (1.0 - estimate) * stats.f.ppf(1.0 - a / 2.0, df1, df2)
    hi = 1.0 - (1.0 - estimate) * stats.f.ppf(a / 2.0, df1, df2)
    return float(lo), float(hi)


def duhachek_ase(c: np.ndarray, n: int) -> float:
    """Duhachek & Iacobucci (2004) asymptotic standard error of alpha from covariance ``c``.

    Q = 2k²/((k−1)²(ΣC)³)·[ΣC·(tr C² + (tr C)²) − 2·tr C·Σ(C²)],  ase = √(Q/n),
    where ΣC is the sum of all elements and Σ(C²) the sum of the elements of C·C.
    """
    k = c.shape[0]
    total = c.sum()
    tr = np.trace(c)
    c2 = c @ c
    q = (2.0 * k**2 / ((k - 1.0) ** 2 * total**3)) * (
        total * (np.trace(c2) + tr**2) - 2.0 * tr * c2.sum()
    )
    return float(np.sqrt(q / n)) if q >= 0 else float("nan")


def _boot_alpha(x: np.ndarray, n_boot: int, rng: np.random.Generator) -> np.ndarray:
    """Alpha in each of ``n_boot`` resamples of the rows, computed without a Python loop over
    DataFrames: resampling is expressed as count weights, and the item variances and the
    variance of the total come from matrix products of the weights with the data."""
    n, k = x.shape
    out = np.empty(n_boot)
    complete = not np.isnan(x).any()
    chunk = max(1, min(n_boot, int(4e7 // max(n, 1))))  # ~320 MB of weights at most
    if complete:
        xc = x - x.mean(axis=0)
        total = xc.sum(axis=1)
        cols = np.column_stack([xc, xc**2, total, total**2])
    for start in range(0, n_boot, chunk):
        b = min(chunk, n_boot - start)
        w = boot_counts(boot_indices(rng, n, b), n)
        if complete:
            moments = (w @ cols) / n  # b × (2k + 2)
            m1, m2 = moments[:, :k], moments[:, k : 2 * k]
            t1, t2 = moments[:, 2 * k], moments[:, 2 * k + 1]
            item_var = (m2 - m1**2).sum(axis=1)
            total_var = t2 - t1**2
            with np.errstate(invalid="ignore", divide="ignore"):
                out[start : start + b] = k / (k - 1.0) * (1.0 - item_var / total_var)
        else:
            for j in range(b):
                keep = w[j] > 0
                c = pairwise_cov(x[keep], w[j, keep])
                with np.errstate(invalid="ignore", divide="ignore"):
                    out[start + j] = alpha_from_cov(c)
    return out


def alpha(
    items: Any,
    *,
    missing: str = "pairwise",
    ci: str = "feldt",
    level: float = 0.95,
    n_boot: int = 2000,
    seed: Any = None,
    ordinal: bool = False,
) -> AlphaResult:
    """Cronbach's alpha, standardised alpha and Guttman's lambda-6.

    ``alpha = k/(k−1) · (1 − tr C / ΣC)`` for the k × k item covariance matrix C;
    standardised alpha uses the correlation matrix R instead;
    ``lambda-6 = 1 − (k − Σ smcᵢ)/ΣR`` with smcᵢ the squared multiple correlation of
    item i with the others (psych's ``G6(smc)``).

    Parameters
    ----------
    items : DataFrame or 2-D array
        Rows are people, columns are items (NaN for a missing answer).
    missing : {"pairwise", "listwise"}
        ``"pairwise"`` estimates each covariance from the people who answered both
        items (psych, pingouin); ``"listwise"`` keeps only complete rows.
    ci : {"feldt", "ase", "bootstrap"}
        Feldt's F-based interval; a normal interval from Duhachek's ASE; or a
        percentile bootstrap over people (``n_boot`` resamples, ``seed``).
    level : float
        Confidence level.
    ordinal : bool
        Ordinal alpha (Zumbo, Gadermann & Zeisser 2007): alpha of the polychoric correlation
        matrix R (:func:`~evalkit.reliability.polychoric`), ``k/(k−1)·(1 − k/ΣR)``, as
        ``psych::alpha(polychoric(items)$rho)``. The items must hold whole-number codes;
        ``estimate`` and ``standardized`` are then the same number, the Feldt and ASE
        intervals use R and n, and ``ci="bootstrap"`` is not available.

    Notes
    -----
    n in the Feldt and ASE formulas is the number of rows analysed: all rows for
    pairwise deletion, the complete rows for listwise deletion (pingouin's choice;
    psych counts all rows, which gives a narrower listwise interval).

    A negative alpha is returned with an :class:`~evalkit.errors.EvalkitWarning`.

    References
    ----------
    Cronbach (1951) Psychometrika 16:297. Feldt (1965) Psychometrika 30:357.
    Duhachek & Iacobucci (2004) J Appl Psychol 89:792. Guttman (1945) Psychometrika 10:255.
    Zumbo BD, Gadermann AM, Zeisser C (2007). Ordinal versions of coefficients alpha and
    theta for Likert rating scales. J Mod Appl Stat Methods 6:21-29.

    Examples
    --------
    >>> import pingouin as pg
    >>> data = pg.read_dataset("cronbach_alpha").pivot(index="Subj", columns="Items",
    ...                                                values="Scores")
    >>> res = alpha(data)
    >>> round(res.estimate, 6), round(res.ci_low, 3), round(res.ci_high, 3)
    (0.591719, 0.195, 0.84)
    """
    check_choice("ci", ci, ("feldt", "ase", "bootstrap"))
    level = check_level(level)
    df = item_frame(items, missing=missing)
    x = df.to_numpy(dtype=float)
    n, k = x.shape
    if ordinal:
        if ci == "bootstrap":
            raise ParameterError(
                "ordinal alpha has no bootstrap interval here",
                key="ci",
                expected="'feldt' or 'ase' with ordinal=True",
            )
        c = polychoric_matrix(ordinal_frame(df))[0]
    else:
        c = cov_matrix(df)
    est = float(alpha_from_cov(c))
    r = cov_to_cor(c)
    sum_r = r.sum()
    standardized = float(k / (k - 1.0) * (1.0 - k / sum_r))
    g6 = float(1.0 - (k - smc(r).sum()) / sum_r)
    ase = duhachek_ase(c, n)
    boot = None
    if ci == "feldt":
        lo, hi = feldt_ci(est, n, k, level)
    elif ci == "ase":
        z = stats.norm.ppf(0.5 + level / 2.0)
        lo, hi = est - z * ase, est + z * ase
    else:
        n_boot = check_positive_int("n_boot", n_boot, minimum=2)
        boot = _boot_alpha(x, n_boot, rng_from(seed))
        lo, hi = percentile_ci(boot, level)
    if est < 0:
        warnings.warn(
            f"Cronbach's alpha is negative ({est:.3f}): on average the items covary negatively. "
            "This usually means a reverse-keyed item was not recoded, or the items do not "
            "measure one thing; see item_analysis() for items with negative r_drop.",
            EvalkitWarning,
            stacklevel=2,
        )
    return AlphaResult(
        estimate=est,
        se=ase,
        ci_low=lo,
        ci_high=hi,
        n=int(n),
        k=int(k),
        level=level,
        method=("ordinal alpha, polychoric" if ordinal else "Cronbach's alpha")
        + f" ({missing}), {ci} interval",
        standardized=standardized,
        g6=g6,
        ase=ase,
        ci=ci,
        missing=missing,
        boot=boot,
    )
