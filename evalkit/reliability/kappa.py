"""Cohen's (weighted) kappa and Fleiss' kappa."""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from .._validate import check_choice, check_level, check_positive_int
from ..errors import DataError, EvalkitWarning, ParameterError
from ..results import Result
from ._common import percentile_ci, rng_from

__all__ = ["KappaResult", "FleissKappaResult", "cohen_kappa", "fleiss_kappa"]


@dataclass(frozen=True)
class KappaResult(Result):
    """Cohen's kappa (weighted or not).

    ``se`` is the large-sample standard error of Fleiss, Cohen & Everitt (1969) used for the
    interval; ``se0``, ``z`` and ``p`` test kappa = 0 with the standard error under the null.
    ``agreement`` is the observed proportion of exact agreement; ``table`` the cross-table.
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    level: float
    method: str
    agreement: float
    expected: float
    se0: float
    z: float
    p: float
    weights: str
    table: pd.DataFrame = field(repr=False, compare=False)
    _title = "Cohen's kappa"


@dataclass(frozen=True)
class FleissKappaResult(Result):
    """Fleiss' kappa for m raters per subject, with per-category kappas.

    ``se`` is the standard error under the null hypothesis of no agreement (Fleiss, Nee &
    Landis 1979), as R ``irr::kappam.fleiss`` reports it; ``z`` and ``p`` test kappa = 0.
    The interval is a percentile bootstrap over subjects when ``n_boot`` is given, otherwise
    kappa ± z·se (a rough interval, since se is computed under the null).
    """

    estimate: float
    se: float
    ci_low: float
    ci_high: float
    n: int
    level: float
    method: str
    raters: int
    z: float
    p: float
    agreement: float
    categories: pd.DataFrame = field(repr=False, compare=False)
    _title = "Fleiss' kappa"

    def to_frame(self) -> pd.DataFrame:
        """One row for the overall kappa, then one per category."""
        overall = pd.DataFrame(
            [
                {
                    "term": "overall",
                    "estimate": self.estimate,
                    "se": self.se,
                    "ci_low": self.ci_low,
                    "ci_high": self.ci_high,
                    "z": self.z,
                    "p": self.p,
                    "n": self.n,
                }
            ]
        )
        cats = self.categories.reset_index().rename(
            columns={"category": "term", "kappa": "estimate"}
        )
        cats["term"] = cats["term"].astype(str)
        cats["n"] = self.n
        return pd.concat([overall, cats], ignore_index=True)


def _codes(values: pd.Series, categories: list[Any], name: str) -> np.ndarray:
    lookup = {c: i for i, c in enumerate(categories)}
    codes = values.map(lookup)
    bad = codes.isna() & values.notna()
    if bad.any():
        raise DataError(
            "rating outside the categories given",
            column=name,
            rows=list(values.index[bad]),
            values=list(values[bad].head(5)),
            allowed=", ".join(map(str, categories)),
        )
    return codes.to_numpy(dtype=float)


def _infer_categories(series: list[pd.Series], categories: Any) -> tuple[list[Any], bool]:
    """The ordered category list and whether its order is meaningful (numbers or given)."""
    if categories is not None:
        cats = list(categories)
        if len(set(cats)) != len(cats):
            raise ParameterError(
                "categories contains duplicates",
                key="categories",
                expected="each category once, in order",
            )
        return cats, True
    first = series[0]
    if isinstance(first.dtype, pd.CategoricalDtype) and first.cat.ordered:
        return list(first.cat.categories), True
    values = pd.unique(pd.concat([s.dropna() for s in series], ignore_index=True))
    numeric = all(isinstance(v, (int, float, np.integer, np.floating, bool)) for v in values)
    if numeric:
        return sorted(values.tolist()), True
    return sorted(map(str, values)) if all(isinstance(v, str) for v in values) else list(
        values
    ), False


def _weight_matrix(weights: Any, m: int, ordered: bool) -> tuple[np.ndarray, str]:
    """Agreement weights (1 on the diagonal) from the ``weights`` argument."""
    if weights is None:
        return np.eye(m), "unweighted"
    if isinstance(weights, str):
        check_choice("weights", weights, ("linear", "quadratic"))
        if not ordered:
            raise ParameterError(
                "weighted kappa needs ordered categories; these ratings are text, so their order "
                "is unknown",
                key="categories",
                expected="categories=[lowest, ..., highest] or an ordered pandas Categorical",
            )
        i = np.arange(m)
        d = np.abs(i[:, None] - i[None, :]) / max(m - 1, 1)
        return (1.0 - d if weights == "linear" else 1.0 - d**2), weights
    w = np.asarray(weights, dtype=float)
    if w.shape != (m, m):
        raise ParameterError(
            f"weights matrix has shape {w.shape}, but there are {m} categories",
            key="weights",
            expected=f"a {m} × {m} matrix of disagreement weights",
        )
    if np.any(np.diag(w) != 0) or np.any(w < 0) or w.max() == 0:
        raise ParameterError(
            "a weights matrix holds disagreement weights: 0 on the diagonal, positive elsewhere",
            key="weights",
            expected="disagreement weights (Cohen 1968), e.g. [[0,1,3],[1,0,6],[3,6,0]]",
        )
    return 1.0 - w / w.max(), "user matrix"


def _kappa_from_table(
    p: np.ndarray, w: np.ndarray, n: int
) -> tuple[float, float, float, float, float]:
    """Kappa, its SE, the null SE, observed and expected weighted agreement (Fleiss et al. 1969)."""
    row, col = p.sum(axis=1), p.sum(axis=0)
    pe_table = np.outer(row, col)
    po = np.float64(np.sum(w * p))
    pe = np.float64(np.sum(w * pe_table))
    if pe >= 1.0:
        warnings.warn(
            "both raters put every subject in the same single category, so chance agreement is "
            "100% and kappa is undefined (returned as NaN)",
            EvalkitWarning,
            stacklevel=3,
        )
        nan = float("nan")
        return nan, nan, nan, float(po), float(pe)
    kappa = (po - pe) / (1.0 - pe)
    wi = w @ col  # w̄_i. = Σ_j p_.j w_ij
    wj = row @ w  # w̄_.j = Σ_i p_i. w_ij
    spread = wi[:, None] + wj[None, :]
    var = (np.sum(p * (w - spread * (1.0 - kappa)) ** 2) - (kappa - pe * (1.0 - kappa)) ** 2) / (
        n * (1.0 - pe) ** 2
    )
    var0 = (np.sum(pe_table * (w - spread) ** 2) - pe**2) / (n * (1.0 - pe) ** 2)
    return (
        float(kappa),
        float(np.sqrt(max(var, 0.0))),
        float(np.sqrt(max(var0, 0.0))),
        float(po),
        float(pe),
    )


def cohen_kappa(
    r1: Any,
    r2: Any,
    *,
    weights: str | Any = None,
    categories: Any = None,
    level: float = 0.95,
) -> KappaResult:
    """Cohen's kappa for two raters, unweighted or weighted (Cohen 1968).

    With agreement weights w (1 on the diagonal), observed cross-table proportions p and
    marginals p_i., p_.j: ``po = Σ w·p``, ``pe = Σ w·p_i.·p_.j``, ``kappa = (po − pe)/(1 − pe)``.
    Linear weights are 1 − |i−j|/(m−1) and quadratic 1 − (i−j)²/(m−1)² over the ordered
    categories (quadratic weighted kappa equals an ICC for consistency of two raters); a matrix
    gives Cohen's disagreement weights (0 on the diagonal), rescaled to agreement weights.
    The standard error is Fleiss, Cohen & Everitt's (1969) large-sample formula, as SAS
    ``PROC FREQ`` and ``psych::cohen.kappa``; the interval is kappa ± z·se.

    Parameters
    ----------
    r1, r2 : array-like
        The two raters' ratings of the same n subjects; pairs with a missing rating are dropped.
    weights : None, "linear", "quadratic" or an m × m matrix
        Disagreement weights matrix in the order of ``categories``.
    categories : sequence, optional
        All allowed categories in order (lowest first). A rating outside them is a DataError;
        categories nobody used still count (they matter for weights). Without it the
        categories are the values seen, in sorted order (or an ordered Categorical's order).
    level : float
        Confidence level.

    References
    ----------
    Cohen (1960) Educ Psychol Meas 20:37. Cohen (1968) Psychol Bull 70:213.
    Fleiss, Cohen & Everitt (1969) Psychol Bull 72:323.

    Examples
    --------
    >>> r1 = [1, 1, 2, 2, 3, 3, 3, 1]
    >>> r2 = [1, 2, 2, 2, 3, 3, 1, 1]
    >>> round(cohen_kappa(r1, r2).estimate, 4)
    0.6279
    """
    level = check_level(level)
    s1 = r1 if isinstance(r1, pd.Series) else pd.Series(np.asarray(r1, dtype=object).ravel())
    s2 = r2 if isinstance(r2, pd.Series) else pd.Series(np.asarray(r2, dtype=object).ravel())
    if len(s1) != len(s2):
        raise DataError(
            f"the two raters have different numbers of ratings ({len(s1)} and {len(s2)})",
            allowed="two ratings of each subject, in the same order",
        )
    s1 = s1.reset_index(drop=True) if not s1.index.equals(s2.index) else s1
    s2 = s2.reset_index(drop=True) if not s1.index.equals(s2.index) else s2
    name1 = str(s1.name) if s1.name is not None else "r1"
    name2 = str(s2.name) if s2.name is not None else "r2"
    cats, ordered = _infer_categories([s1, s2], categories)
    if isinstance(s1.dtype, pd.CategoricalDtype):
        s1 = s1.astype(object).where(s1.notna(), None)
    if isinstance(s2.dtype, pd.CategoricalDtype):
        s2 = s2.astype(object).where(s2.notna(), None)
    c1 = _codes(s1, cats, name1)
    c2 = _codes(s2, cats, name2)
    keep = ~(np.isnan(c1) | np.isnan(c2))
    n = int(keep.sum())
    m = len(cats)
    if n < 2:
        raise DataError(
            f"kappa needs at least 2 subjects rated by both raters, got {n}", columns=[name1, name2]
        )
    if m < 2:
        raise DataError(
            "kappa needs at least 2 categories; every rating is the same",
            columns=[name1, name2],
            values=cats,
            allowed="pass categories= to list all possible ratings",
        )
    w, wname = _weight_matrix(weights, m, ordered)
    counts = np.zeros((m, m))
    np.add.at(counts, (c1[keep].astype(int), c2[keep].astype(int)), 1.0)
    p = counts / n
    kappa, se, se0, _, pe = _kappa_from_table(p, w, n)
    z_crit = stats.norm.ppf(0.5 + level / 2.0)
    z = kappa / se0 if se0 > 0 else float("nan")
    table = pd.DataFrame(
        counts, index=pd.Index(cats, name=name1), columns=pd.Index(cats, name=name2)
    )
    return KappaResult(
        estimate=float(kappa),
        se=se,
        ci_low=float(kappa - z_crit * se),
        ci_high=float(kappa + z_crit * se),
        n=n,
        level=level,
        method="Cohen's kappa" if wname == "unweighted" else f"weighted kappa ({wname})",
        agreement=float(np.trace(p)),
        expected=float(pe),
        se0=se0,
        z=float(z),
        p=float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan"),
        weights=wname,
        table=table,
    )


def _fleiss_from_counts(x: np.ndarray) -> tuple[float, float, np.ndarray, np.ndarray, float]:
    n, _ = x.shape
    m = x[0].sum()
    pj = x.sum(axis=0) / (n * m)
    qj = 1.0 - pj
    p_i = (np.sum(x * x, axis=1) - m) / (m * (m - 1))
    p_bar = p_i.mean()
    pe = np.sum(pj**2)
    kappa = (p_bar - pe) / (1.0 - pe)
    pq = pj * qj
    with np.errstate(divide="ignore", invalid="ignore"):
        kj = 1.0 - np.sum(x * (m - x), axis=0) / (n * m * (m - 1) * pq)
        se = (
            np.sqrt(2.0)
            / (pq.sum() * np.sqrt(n * m * (m - 1)))
            * np.sqrt(pq.sum() ** 2 - np.sum(pq * (qj - pj)))
        )
    return float(kappa), float(se), kj, pj, float(p_bar)


def fleiss_kappa(
    ratings: Any,
    *,
    counts: bool = False,
    categories: Any = None,
    level: float = 0.95,
    n_boot: int | None = None,
    seed: Any = None,
) -> FleissKappaResult:
    """Fleiss' kappa for several raters per subject, with per-category kappas.

    With n subjects each rated by m raters, x_ij raters putting subject i in category j,
    p_j = Σ_i x_ij/(nm), P_i = (Σ_j x_ij² − m)/(m(m−1)):
    ``kappa = (P̄ − Σp_j²)/(1 − Σp_j²)`` and per category
    ``kappa_j = 1 − Σ_i x_ij(m − x_ij)/(n·m·(m−1)·p_j·q_j)``.
    The standard error under H0 (Fleiss, Nee & Landis 1979):
    ``se = √2/(Σp_jq_j·√(nm(m−1))) · √((Σp_jq_j)² − Σp_jq_j(q_j − p_j))``.

    Parameters
    ----------
    ratings : DataFrame or 2-D array
        Rows are subjects, columns raters (``counts=False``, the layout of R ``irr``), or
        rows subjects and columns categories holding counts of raters (``counts=True``, the
        layout of statsmodels). Every subject needs the same number of ratings.
    categories : sequence, optional
        Allowed categories; a rating outside them is a DataError.
    n_boot, seed : optional
        A percentile bootstrap interval over subjects.

    References
    ----------
    Fleiss (1971) Psychol Bull 76:378. Fleiss, Nee & Landis (1979) Psychol Bull 86:974.

    Examples
    --------
    >>> res = fleiss_kappa([[1, 1, 1], [1, 2, 2], [2, 2, 2], [3, 3, 1]])
    >>> round(res.estimate, 4)
    0.4667
    """
    level = check_level(level)
    df = (
        ratings.copy()
        if isinstance(ratings, pd.DataFrame)
        else pd.DataFrame(np.asarray(ratings, dtype=object))
    )
    if df.shape[0] < 2:
        raise DataError(f"Fleiss' kappa needs at least 2 subjects, got {df.shape[0]}")
    if counts:
        x_df = df.apply(pd.to_numeric, errors="coerce")
        bad = x_df.isna() | (x_df < 0) | (x_df != np.floor(x_df))
        if bad.any().any():
            rows = list(df.index[bad.any(axis=1)])
            raise DataError(
                "counts must be whole numbers of raters (0 or more)",
                rows=rows,
                columns=[str(c) for c in df.columns[bad.any(axis=0)]],
            )
        x = x_df.to_numpy(dtype=float)
        cats = list(df.columns)
    else:
        if df.shape[1] < 2:
            raise DataError("Fleiss' kappa needs at least 2 raters (columns)")
        cats, _ = _infer_categories([df[c] for c in df.columns], categories)
        codes = np.column_stack([_codes(df[c].astype(object), cats, str(c)) for c in df.columns])
        valid = ~np.isnan(codes)
        x = np.zeros((df.shape[0], len(cats)))
        rows_idx = np.repeat(np.arange(df.shape[0]), df.shape[1]).reshape(df.shape)
        np.add.at(x, (rows_idx[valid], codes[valid].astype(int)), 1.0)
    per_subject = x.sum(axis=1)
    m = np.median(per_subject)
    uneven = per_subject != m
    if uneven.any():
        raise DataError(
            f"Fleiss' kappa needs the same number of ratings for every subject (most have {m:g})",
            rows=list(df.index[uneven]),
            allowed="complete rows (drop subjects with missing ratings first)",
        )
    if m < 2:
        raise DataError("Fleiss' kappa needs at least 2 ratings per subject")
    kappa, se, kj, pj, p_bar = _fleiss_from_counts(x)
    n = x.shape[0]
    z = kappa / se if se > 0 else float("nan")
    zc = stats.norm.ppf(0.5 + level / 2.0)
    if n_boot is not None:
        n_boot = check_positive_int("n_boot", n_boot, minimum=2)
        idx = rng_from(seed).integers(0, n, size=(n_boot, n))
        boot = np.array([_fleiss_from_counts(x[i])[0] for i in idx])
        lo, hi = percentile_ci(boot, level)
        method = "Fleiss' kappa, bootstrap interval"
    else:
        lo, hi = kappa - zc * se, kappa + zc * se
        method = "Fleiss' kappa"
    se_j = np.sqrt(2.0 / (n * m * (m - 1)))
    z_j = kj / se_j
    cat_table = pd.DataFrame(
        {
            "kappa": kj,
            "se": se_j,
            "z": z_j,
            "p": 2 * stats.norm.sf(np.abs(z_j)),
            "proportion": pj,
        },
        index=pd.Index(cats, name="category"),
    )
    return FleissKappaResult(
        estimate=kappa,
        se=se,
        ci_low=float(lo),
        ci_high=float(hi),
        n=int(n),
        level=level,
        method=method,
        raters=int(m),
        z=float(z),
        p=float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan"),
        agreement=p_bar,
        categories=cat_table,
    )
