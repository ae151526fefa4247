"""Helpers shared by the individual-level designs (prepost, ancova, multilevel, propensity).

Listwise deletion with counts, the treatment indicator, covariate expansion
(categorical columns become indicator columns), standardised mean differences,
Hedges' small-sample correction and t-based intervals. Private: the public
designs call these so that the same mistake always gets the same message.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validate import binary_series, require_columns
from ..errors import DataError, EvalkitWarning, ParameterError

__all__: list[str] = []

#: WWC baseline-equivalence thresholds (What Works Clearinghouse Procedures Handbook v5.0)
WWC_SATISFIES = 0.05
WWC_ADJUST = 0.25


@dataclass(frozen=True)
class Deletion:
    """What listwise deletion removed: counts per column and the rows dropped."""

    n_input: int
    n_used: int
    missing_by_column: dict[str, int]
    rows_dropped: list[Any]

    @property
    def n_dropped(self) -> int:
        return self.n_input - self.n_used


def as_list(columns: Any, *, key: str) -> list[str]:
    """A column name or a sequence of names as a list (a bare string is one name)."""
    if columns is None:
        return []
    if isinstance(columns, str):
        return [columns]
    try:
        out = list(columns)
    except TypeError:
        raise ParameterError(
            f"{key} must be a column name or a list of names",
            key=key,
            expected="a list of column names",
        ) from None
    return out


def listwise(
    df: pd.DataFrame, columns: Sequence[str], *, what: str = "data", warn: bool = True
) -> tuple[pd.DataFrame, Deletion]:
    """Keep rows complete on ``columns``; say how many were dropped and why."""
    require_columns(df, list(dict.fromkeys(columns)), what=what)
    cols = list(dict.fromkeys(columns))
    sub = df[cols]
    missing = sub.isna()
    complete = ~missing.any(axis=1)
    info = Deletion(
        n_input=len(df),
        n_used=int(complete.sum()),
        missing_by_column={str(c): int(missing[c].sum()) for c in cols if missing[c].any()},
        rows_dropped=list(df.index[~complete]),
    )
    if info.n_dropped and warn:
        detail = ", ".join(f"{c}: {k}" for c, k in info.missing_by_column.items())
        warnings.warn(
            f"{info.n_dropped} of {info.n_input} rows dropped because of missing values "
            f"({detail}); the analysis uses the {info.n_used} complete rows (listwise deletion). "
            "If the missing rows differ from the others the estimate may be biased.",
            EvalkitWarning,
            stacklevel=3,
        )
    return df.loc[complete].copy(), info


def treatment_indicator(df: pd.DataFrame, column: str) -> np.ndarray:
    """A 0/1 float array from a two-valued treatment column (DataError otherwise)."""
    s = df[column]
    if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
        values = pd.unique(s.dropna())
        raise DataError(
            "treatment must be binary",
            column=column,
            values=list(values[:5]),
            allowed="0/1 or True/False (recode the two groups as 1 = served, 0 = not)",
        )
    return binary_series(s, column=column).to_numpy(dtype=float)


def numeric_column(df: pd.DataFrame, column: str) -> np.ndarray:
    """A float array from a numeric column, naming the rows that are not numbers."""
    s = df[column]
    if pd.api.types.is_bool_dtype(s):
        return s.to_numpy(dtype=float)
    if not pd.api.types.is_numeric_dtype(s):
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna()
        raise DataError(
            "must be numeric",
            column=column,
            rows=list(s.index[bad][:10]),
            values=list(s[bad].head(5)),
            allowed="numbers",
        )
    return s.to_numpy(dtype=float)


def expand_covariates(
    df: pd.DataFrame, covariates: Sequence[str], *, drop_first: bool
) -> pd.DataFrame:
    """Covariates as float columns; text, category and bool columns become indicators.

    With ``drop_first`` the first level (sorted) of each categorical covariate is the
    reference and left out (for models); without it every level gets a column
    (for balance tables, as MatchIt and cobalt show them). Indicator columns are
    named ``"<column>_<level>"``.
    """
    parts = []
    for c in covariates:
        s = df[c]
        if pd.api.types.is_bool_dtype(s):
            parts.append(s.astype(float).rename(str(c)))
        elif pd.api.types.is_numeric_dtype(s):
            parts.append(s.astype(float).rename(str(c)))
        else:
            levels = sorted(pd.unique(s.dropna()).tolist(), key=str)
            if len(levels) < 2:
                raise DataError(
                    "a covariate with a single value cannot adjust for anything",
                    column=str(c),
                    values=levels,
                    allowed="at least two different values",
                )
            use = levels[1:] if drop_first else levels
            for lev in use:
                parts.append((s == lev).astype(float).rename(f"{c}_{lev}"))
    if not parts:
        return pd.DataFrame(index=df.index)
    return pd.concat(parts, axis=1)


def treatment_design(
    data: pd.DataFrame, treatment: str, t: np.ndarray, adjust: Sequence[str]
) -> pd.DataFrame:
    """Model matrix: intercept, treatment, then the expanded adjustment variables.

    Raises a DataError for covariates that are constant in the analysed rows and for
    collinear columns.
    """
    xcov = expand_covariates(data, adjust, drop_first=True)
    const = constant_columns(xcov)
    if const:
        raise DataError(
            "covariate(s) with a single value in the analysed rows cannot be adjusted for",
            columns=const,
            allowed="drop them from covariates",
        )
    design = pd.concat(
        [
            pd.Series(1.0, index=data.index, name="Intercept"),
            pd.Series(t, index=data.index, name=treatment),
            xcov,
        ],
        axis=1,
    )
    xmat = design.to_numpy(dtype=float)
    if np.linalg.matrix_rank(xmat) < xmat.shape[1]:
        raise DataError(
            "the treatment and covariates are collinear (one is an exact combination of others)",
            columns=list(design.columns)[1:],
            allowed="drop redundant covariates",
        )
    return design


def constant_columns(x: pd.DataFrame) -> list[str]:
    """Columns with a single distinct value (they cannot enter a model)."""
    return [str(c) for c in x.columns if x[c].nunique(dropna=True) < 2]


def is_binary(x: np.ndarray) -> bool:
    """True when ``x`` takes at most two values, both in {0, 1}."""
    vals = np.unique(x[~np.isnan(x)])
    return len(vals) <= 2 and set(vals.tolist()) <= {0.0, 1.0}


def hedges_j(df: float) -> float:
    """Hedges' small-sample correction J = 1 - 3 / (4 df - 1)."""
    return 1.0 - 3.0 / (4.0 * df - 1.0)


def weighted_mean_var(x: np.ndarray, w: np.ndarray) -> tuple[float, float]:
    """Weighted mean and the 'unbiased' weighted variance used by MatchIt and cobalt.

    var = sum w (x - m)^2 * sum w / ((sum w)^2 - sum w^2); for unit weights this is
    the usual sample variance with n - 1.
    """
    sw = w.sum()
    m = float(np.sum(w * x) / sw)
    denom = sw**2 - np.sum(w**2)
    v = float(np.sum(w * (x - m) ** 2) * sw / denom) if denom > 0 else float("nan")
    return m, v


def t_interval(estimate: float, se: float, df: float, level: float) -> tuple[float, float]:
    """estimate ± t(1 - (1 - level)/2, df) · se (normal when df is infinite)."""
    from scipy import stats

    q = stats.norm.ppf(0.5 + level / 2) if not np.isfinite(df) else stats.t.ppf(0.5 + level / 2, df)
    return estimate - q * se, estimate + q * se


def t_pvalue(stat: float, df: float) -> float:
    """Two-sided p for a t (or, with infinite df, z) statistic."""
    from scipy import stats

    if not np.isfinite(stat):
        return float("nan")
    if not np.isfinite(df):
        return float(2 * stats.norm.sf(abs(stat)))
    return float(2 * stats.t.sf(abs(stat), df))


def equivalence_status(smd: float) -> str:
    """WWC baseline-equivalence verdict for an absolute effect size."""
    a = abs(smd)
    if not np.isfinite(a):
        return "not computable"
    if a <= WWC_SATISFIES:
        return "satisfies"
    if a <= WWC_ADJUST:
        return "requires statistical adjustment"
    return "not equivalent"


def cluster_checks(
    groups: np.ndarray, treat: np.ndarray, *, column: str, few: int = 20
) -> tuple[int, int, int]:
    """Checks for clustered data; returns (clusters, treated clusters, control clusters).

    Fewer than two clusters in an arm is a DataError (the between-cluster variance
    of that arm cannot be estimated); clusters with one member and few clusters in
    all are warnings.
    """
    g = pd.Series(groups)
    n_treat = int(g[treat == 1].nunique())
    n_ctrl = int(g[treat == 0].nunique())
    n_all = int(g.nunique())
    if n_treat < 2 or n_ctrl < 2:
        raise DataError(
            f"fewer than two clusters per arm ({n_treat} with treated units, {n_ctrl} with "
            "control units): the variation between clusters cannot be estimated",
            column=column,
            allowed="at least two clusters in each arm (many more for a trustworthy interval)",
        )
    sizes = g.value_counts()
    singles = sizes[sizes == 1]
    if len(singles):
        warnings.warn(
            f"{len(singles)} of {n_all} clusters in {column!r} have only one member "
            f"(e.g. {', '.join(str(v) for v in singles.index[:5])}); they add nothing to the "
            "within-cluster variation. Check the cluster identifiers.",
            EvalkitWarning,
            stacklevel=3,
        )
    if n_all < few:
        warnings.warn(
            f"only {n_all} clusters in {column!r}: cluster-robust and multilevel standard "
            "errors are unreliable with few clusters, so treat the interval as approximate "
            "(ancova's se='auto' uses CR2 with Satterthwaite df, or the wild cluster bootstrap "
            "below 12 clusters).",
            EvalkitWarning,
            stacklevel=3,
        )
    return n_all, n_treat, n_ctrl
