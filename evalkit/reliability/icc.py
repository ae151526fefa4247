"""Intraclass correlations (Shrout & Fleiss 1979; McGraw & Wong 1996)."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, special

from .._validate import check_choice, check_level, numeric_frame, require_columns
from ..errors import DataError, EvalkitWarning
from ._common import fast_float_matrix

__all__ = ["icc", "mean_squares", "reml_mean_squares"]

_INDEX = ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
_MCGRAW_WONG = ["ICC(1)", "ICC(A,1)", "ICC(C,1)", "ICC(k)", "ICC(A,k)", "ICC(C,k)"]
_DESCRIPTION = [
    "one-way random, single rater",
    "two-way random, absolute agreement, single rater",
    "two-way mixed, consistency, single rater",
    "one-way random, mean of k raters",
    "two-way random, absolute agreement, mean of k raters",
    "two-way mixed, consistency, mean of k raters",
]


def _f_ppf(q: float, d1: float, d2: float) -> float:
    # scipy.special directly: the same numbers as scipy.stats.f.ppf without its overhead
    return float(special.fdtri(d1, d2, q))


def _f_sf(x: float, d1: float, d2: float) -> float:
    return float(special.fdtrc(d1, d2, x))


def mean_squares(x: np.ndarray) -> dict[str, float]:
    """Two-way ANOVA mean squares of a complete targets × raters array, computed directly.

    MSB (targets), MSW (within targets), MSJ (raters), MSE (residual).
    """
    n, k = x.shape
    # centred once; plain ufunc passes rather than BLAS calls, whose threads only cost time
    # for arrays this thin
    xc = x - x.mean()
    if k <= 32:
        row = xc[:, 0].copy()
        for j in range(1, k):
            row += xc[:, j]
        row /= k
    else:
        row = xc.mean(axis=1)
    col = np.einsum("ij->j", xc) / n
    flat = xc.ravel()
    ss_total = float(np.einsum("i,i->", flat, flat))
    ss_b = float(k * np.einsum("i,i->", row, row))
    ss_j = float(n * np.einsum("i,i->", col, col))
    ss_w = ss_total - ss_b
    ss_e = ss_w - ss_j
    # rounding can leave a tiny negative sum of squares when raters agree exactly
    return {
        "msb": ss_b / (n - 1),
        "msw": max(ss_w, 0.0) / (n * (k - 1)),
        "msj": ss_j / (k - 1),
        "mse": max(ss_e, 0.0) / ((n - 1) * (k - 1)),
    }


def _reml_components(x: np.ndarray) -> tuple[float, float, float]:
    """REML variance components (targets, raters, residual) of y = mu + a_i + b_j + e from
    the observed cells of a targets × raters array with NaN for missing ratings.

    The crossed random-intercept model lme4 fits for ``values ~ 1 + (1|id) + (1|items)``:
    with relative standard deviations theta (Lambda = diag(theta_1 I_n, theta_2 I_k)) and
    M = Lambda Z'Z Lambda + I, the profiled REML deviance is
    log|M| + log(1'V^-1 1) + (N - 1) log(r'V^-1 r) (Bates et al. 2015), minimised over
    theta >= 0 with V^-1 applied through the Woodbury identity.
    """
    n, k = x.shape
    ti, rj = np.nonzero(~np.isnan(x))
    y = x[ti, rj]
    big_n = y.size
    # Z'Z = [[diag(c_t), N], [N', diag(c_r)]] with N the targets x raters incidence counts;
    # M is handled through the Schur complement of its diagonal target block (O(n k^2))
    c_t = np.bincount(ti, minlength=n).astype(float)
    c_r = np.bincount(rj, minlength=k).astype(float)
    inc = np.zeros((n, k))
    np.add.at(inc, (ti, rj), 1.0)
    y_t = np.bincount(ti, y, minlength=n)
    y_r = np.bincount(rj, y, minlength=k)
    sy, syy = y.sum(), float(y @ y)

    def parts(theta: np.ndarray) -> tuple[float, float, float]:
        t1, t2 = float(theta[0]), float(theta[1])
        a = 1.0 + t1**2 * c_t
        b = t1 * t2 * inc
        schur = np.diag(1.0 + t2**2 * c_r) - (b / a[:, None]).T @ b
        chol = np.linalg.cholesky(schur)

        def half(f: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            # M^-1 = L^-T L^-1: returns the pieces whose inner products give f'M^-1 g
            fa = f / np.sqrt(a)
            return fa, np.linalg.solve(chol, h - b.T @ (f / a))

        one_t, one_r = half(t1 * c_t, t2 * c_r)
        yy_t, yy_r = half(t1 * y_t, t2 * y_r)
        c11 = one_t @ one_t + one_r @ one_r
        c1y = one_t @ yy_t + one_r @ yy_r
        cyy = yy_t @ yy_t + yy_r @ yy_r
        xvx = big_n - c11
        beta = (sy - c1y) / xvx
        rvr = syy - 2 * beta * sy + beta**2 * big_n - (cyy - 2 * beta * c1y + beta**2 * c11)
        logdet = float(np.log(a).sum() + 2 * np.log(np.diag(chol)).sum())
        return logdet, float(xvx), float(rvr)

    def deviance(theta: np.ndarray) -> float:
        logdet, xvx, rvr = parts(theta)
        return logdet + np.log(xvx) + (big_n - 1) * np.log(max(rvr, 1e-300))

    best = None
    for start in ([1.0, 1.0], [0.3, 0.3]):
        fit = optimize.minimize(
            deviance,
            np.array(start),
            method="L-BFGS-B",
            bounds=[(0.0, None), (0.0, None)],
            options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000},
        )
        if best is None or fit.fun < best.fun:
            best = fit
    theta = best.x
    theta = _newton_polish(deviance, theta)
    sigma2 = parts(theta)[2] / (big_n - 1)
    return float(theta[0] ** 2 * sigma2), float(theta[1] ** 2 * sigma2), float(sigma2)


def _newton_polish(f: Any, theta: np.ndarray, steps: int = 20) -> np.ndarray:
    """A few Newton steps with central-difference derivatives on the free (non-zero)
    coordinates, to bring a quasi-Newton optimum to full precision."""
    theta = theta.astype(float).copy()
    free = np.flatnonzero(theta > 1e-8)
    for _ in range(steps):
        if free.size == 0:
            break
        h = 1e-4 * np.maximum(theta[free], 1e-3)
        g = np.empty(free.size)
        hess = np.empty((free.size, free.size))
        f0 = f(theta)
        for a, i in enumerate(free):
            e = np.zeros_like(theta)
            e[i] = h[a]
            fp, fm = f(theta + e), f(theta - e)
            g[a] = (fp - fm) / (2 * h[a])
            hess[a, a] = (fp - 2 * f0 + fm) / h[a] ** 2
            for b in range(a):
                j = free[b]
                e2 = np.zeros_like(theta)
                e2[j] = h[b]
                hess[a, b] = hess[b, a] = (
                    f(theta + e + e2) - f(theta + e - e2) - f(theta - e + e2) + f(theta - e - e2)
                ) / (4 * h[a] * h[b])
        try:
            step = np.linalg.solve(hess, g)
        except np.linalg.LinAlgError:
            break
        trial = theta.copy()
        trial[free] = np.maximum(theta[free] - step, 0.0)
        if f(trial) > f0 + 1e-12:
            break
        theta = trial
        if np.max(np.abs(step)) < 1e-12:
            break
    return theta


def reml_mean_squares(x: np.ndarray) -> dict[str, float]:
    """ANOVA-equivalent mean squares from REML variance components, as ``psych::ICC``
    with ``lmer = TRUE``: MSB = k·s²_target + s²_e, MSJ = n·s²_rater + s²_e,
    MSW = s²_e + s²_rater, MSE = s²_e, for n targets and k raters (balanced counts)."""
    n, k = x.shape
    s_t, s_r, s_e = _reml_components(x)
    return {
        "msb": k * s_t + s_e,
        "msw": s_e + s_r,
        "msj": n * s_r + s_e,
        "mse": s_e,
        "var_target": s_t,
        "var_rater": s_r,
        "var_residual": s_e,
    }


def _wide(data: Any, missing: str) -> tuple[np.ndarray, Sequence[Any], Sequence[Any]]:
    x = fast_float_matrix(data)
    if x is not None:
        nan = np.isnan(x)
        if not nan.any() and x.shape[1] >= 2:  # the common case: no checks left to make
            index = data.index if isinstance(data, pd.DataFrame) else range(x.shape[0])
            return x, index, list(range(x.shape[1]))
    df = numeric_frame(data, name="ratings", min_cols=1, min_rows=1, drop_empty_rows=True)
    if df.shape[1] < 2:
        raise DataError(
            "ICC needs at least 2 raters (columns)", columns=[str(c) for c in df.columns]
        )
    x = df.to_numpy(dtype=float)
    incomplete = np.isnan(x).any(axis=1)
    if missing == "reml":
        # psych's ICC(lmer = TRUE) counts targets with no rating at all in n (lmer itself
        # ignores them), so they are kept as empty rows
        n_empty = len(data) - len(df)
        if n_empty:
            x = np.vstack([x, np.full((n_empty, x.shape[1]), np.nan)])
        return x, df.index, df.columns
    if incomplete.any():
        if missing == "raise":
            raise DataError(
                "ICC needs every target rated by every rater; these targets have missing ratings",
                rows=list(df.index[incomplete]),
                allowed="complete rows, or missing='reml' (unbalanced data, as psych) or "
                "missing='omit' to drop these targets",
            )
        x = x[~incomplete]
        return x, df.index[~incomplete], df.columns
    return x, df.index, df.columns


def _codes(col: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Integer codes and labels of a label column, cheaply for integer and categorical labels.

    The ICCs do not depend on the order of targets or raters, so no sorting is needed.
    """
    if isinstance(col.dtype, pd.CategoricalDtype):
        codes = col.cat.codes.to_numpy()
        used = np.bincount(codes[codes >= 0], minlength=len(col.cat.categories)) > 0
        remap = np.cumsum(used) - 1
        return np.where(codes >= 0, remap[codes], -1), pd.Index(col.cat.categories[used])
    if col.dtype.kind in "iu" and len(col):
        v = col.to_numpy()
        lo, hi = int(v.min()), int(v.max())
        if hi - lo <= 4 * len(v):  # dense enough for a lookup table instead of a hash table
            present = np.bincount(v - lo, minlength=hi - lo + 1) > 0
            remap = np.cumsum(present) - 1
            return remap[v - lo], pd.Index(np.flatnonzero(present) + lo)
    if col.dtype.kind in "OUT" or pd.api.types.is_string_dtype(col):
        # factorizing the plain object array skips pandas' string-array layer (about 40% faster)
        codes, labels = pd.factorize(col.to_numpy(dtype=object))
    else:
        codes, labels = pd.factorize(col)
    return codes, pd.Index(labels)


def _long(
    data: Any, targets: str, raters: str, ratings: str, missing: str
) -> tuple[np.ndarray, Sequence[Any], Sequence[Any]]:
    require_columns(data, [targets, raters, ratings], what="data")
    y_raw = data[ratings]
    if not pd.api.types.is_numeric_dtype(y_raw):
        converted = pd.to_numeric(y_raw, errors="coerce")
        bad = converted.isna() & y_raw.notna()
        if bad.any():
            raise DataError(
                "ratings must be numeric",
                column=ratings,
                rows=list(data.index[bad]),
                values=list(y_raw[bad].head(5)),
                allowed="numbers",
            )
        y_raw = converted
    y = y_raw.to_numpy(dtype=float)
    t_codes, t_labels = _codes(data[targets])
    r_codes, r_labels = _codes(data[raters])
    unlabelled = (t_codes < 0) | (r_codes < 0)
    if unlabelled.any():
        raise DataError(
            f"rows without a target or rater label ({targets!r}, {raters!r})",
            columns=[targets, raters],
            rows=list(data.index[unlabelled]),
        )
    n, k = len(t_labels), len(r_labels)
    cell = t_codes * k + r_codes
    if len(cell) == n * k and (cell[1:] - cell[:-1] == 1).all() and cell[0] == 0:
        # Sorted by target, then rater, every cell once (the usual layout of long data):
        # the wide table is a reshape, with no duplicates possible.
        x = y.reshape(n, k)
        if not np.isnan(x).any():
            return x, t_labels, r_labels
    counts = np.bincount(cell, minlength=n * k)
    if (counts > 1).any():
        dup = np.isin(cell, np.flatnonzero(counts > 1))
        raise DataError(
            "a rater rated the same target more than once",
            columns=[targets, raters],
            rows=list(data.index[dup]),
            allowed="one rating per target and rater (average repeated ratings first)",
        )
    x = np.full(n * k, np.nan)
    x[cell] = y
    x = x.reshape(n, k)
    incomplete = np.isnan(x).any(axis=1)
    if incomplete.any() and missing != "reml":
        if missing == "raise":
            raise DataError(
                "ICC needs every target rated by every rater (balanced data); "
                f"these {targets!r} values have missing ratings",
                column=targets,
                values=list(t_labels[incomplete][:10]),
                rows=list(data.index[np.isin(t_codes, np.flatnonzero(incomplete))]),
                allowed="complete data, or missing='reml' (unbalanced data, as psych) or "
                "missing='omit' to drop these targets",
            )
        x = x[~incomplete]
        t_labels = t_labels[~incomplete]
    return x, t_labels, r_labels


def icc(
    data: Any,
    *,
    targets: str | None = None,
    raters: str | None = None,
    ratings: str | None = None,
    missing: str = "raise",
    level: float = 0.95,
) -> pd.DataFrame:
    """The six intraclass correlations of Shrout & Fleiss (1979) with F tests and intervals.

    With mean squares for targets (MSB), within targets (MSW), raters (MSJ) and error (MSE)
    from n targets × k raters:

    - ICC1  = (MSB − MSW) / (MSB + (k−1)·MSW)                      McGraw–Wong ICC(1)
    - ICC2  = (MSB − MSE) / (MSB + (k−1)·MSE + k·(MSJ − MSE)/n)    ICC(A,1)
    - ICC3  = (MSB − MSE) / (MSB + (k−1)·MSE)                      ICC(C,1)
    - ICC1k = (MSB − MSW) / MSB;  ICC2k = (MSB − MSE) / (MSB + (MSJ − MSE)/n);
      ICC3k = (MSB − MSE) / MSB (the same for the mean of k raters).

    F = MSB/MSW (df n−1, n(k−1)) for ICC1 and ICC1k, MSB/MSE (df n−1, (n−1)(k−1)) otherwise;
    intervals are F-based (McGraw & Wong 1996), with Satterthwaite's degrees of freedom for
    ICC2 and ICC2k. The numbers agree with ``psych::ICC`` and ``pingouin.intraclass_corr``.

    Parameters
    ----------
    data : DataFrame or 2-D array
        Wide (rows = targets, columns = raters), or long with ``targets``, ``raters`` and
        ``ratings`` naming its columns.
    missing : {"raise", "omit", "reml"}
        Unbalanced data (a target without every rater's rating) raise a DataError naming the
        targets, or with ``"omit"`` those targets are dropped. With ``"reml"`` every rating
        is used, as ``psych::ICC(x, lmer = TRUE)``: the crossed random-effects model
        ``y = mu + target + rater + e`` is fitted by REML (as lme4's ``lmer``) and the mean
        squares are rebuilt from the variance components (MSB = k·s²_t + s²_e,
        MSJ = n·s²_r + s²_e, MSW = s²_e + s²_r, MSE = s²_e); F tests and intervals then use
        the balanced degrees of freedom, as psych does. With complete data and positive
        variance components this equals the ANOVA route. ``attrs`` then also holds
        ``var_target``, ``var_rater`` and ``var_residual``. As in psych, targets (rows of wide
        data) with no rating at all do not enter the model but count in n.
    level : float
        Confidence level of the intervals.

    Returns
    -------
    DataFrame indexed ICC1, ICC2, ICC3, ICC1k, ICC2k, ICC3k with columns ``mcgraw_wong``,
    ``description``, ``icc``, ``f``, ``df1``, ``df2``, ``p``, ``ci_low``, ``ci_high``;
    ``attrs`` holds n, k, level and the mean squares.

    References
    ----------
    Shrout & Fleiss (1979) Psychol Bull 86:420. McGraw & Wong (1996) Psychol Methods 1:30.
    Koo & Li (2016) J Chiropr Med 15:155 (choosing and reporting an ICC).

    Examples
    --------
    >>> sf = [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]]
    >>> icc(sf)["icc"].round(2).tolist()        # Shrout & Fleiss (1979), Table 2
    [0.17, 0.29, 0.71, 0.44, 0.62, 0.91]
    """
    check_choice("missing", missing, ("raise", "omit", "reml"))
    level = check_level(level)
    long_args = (targets, raters, ratings)
    if any(a is not None for a in long_args):
        if any(a is None for a in long_args):
            from ..errors import ParameterError

            raise ParameterError(
                "long input needs all three of targets=, raters= and ratings=",
                key="targets/raters/ratings",
                expected="three column names, or none for wide input",
            )
        x, t_labels, _ = _long(data, targets, raters, ratings, missing)
    else:
        x, t_labels, _ = _wide(data, missing)
    n, k = x.shape
    if k < 2:
        raise DataError(f"ICC needs at least 2 raters, got {k}")
    if n < 2:
        raise DataError(
            f"ICC needs at least 2 targets with complete ratings, got {n}",
            rows=t_labels,
            allowed="more targets",
        )
    ms = reml_mean_squares(x) if missing == "reml" else mean_squares(x)
    msb, msw, msj, mse = (np.float64(ms[key]) for key in ("msb", "msw", "msj", "mse"))
    if msb == 0 and msw == 0:
        warnings.warn(
            "every rating is identical, so no ICC can be computed (0/0)",
            EvalkitWarning,
            stacklevel=2,
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        icc1 = (msb - msw) / (msb + (k - 1) * msw)
        icc2 = (msb - mse) / (msb + (k - 1) * mse + k * (msj - mse) / n)
        icc3 = (msb - mse) / (msb + (k - 1) * mse)
        icc1k = (msb - msw) / msb
        icc2k = (msb - mse) / (msb + (msj - mse) / n)
        icc3k = (msb - mse) / msb
        f1 = msb / msw
        f3 = msb / mse
        fj = msj / mse

    a = 1.0 - level
    df1 = n - 1
    df_w = n * (k - 1)
    df_e = (n - 1) * (k - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        # one-way
        f1l = f1 / _f_ppf(1 - a / 2, df1, df_w)
        f1u = f1 * _f_ppf(1 - a / 2, df_w, df1)
        # two-way mixed (consistency)
        f3l = f3 / _f_ppf(1 - a / 2, df1, df_e)
        f3u = f3 * _f_ppf(1 - a / 2, df_e, df1)
        # two-way random (absolute agreement), Satterthwaite df
        base = n * (1 + (k - 1) * icc2) - k * icc2
        v = (df_e * (k * icc2 * fj + base) ** 2) / (df1 * k**2 * icc2**2 * fj**2 + base**2)
        fl = _f_ppf(1 - a / 2, df1, v)
        fu = _f_ppf(1 - a / 2, v, df1)
        denom = k * msj + (k * n - k - n) * mse
        l2 = n * (msb - fl * mse) / (fl * denom + n * msb)
        u2 = n * (fu * msb - mse) / (denom + n * fu * msb)
        # degenerate data (no variance) give NaN limits, not warnings
        lows = [
            (f1l - 1) / (f1l + k - 1),
            l2,
            (f3l - 1) / (f3l + k - 1),
            1 - 1 / f1l,
            l2 * k / (1 + l2 * (k - 1)),
            1 - 1 / f3l,
        ]
        highs = [
            (f1u - 1) / (f1u + k - 1),
            u2,
            (f3u - 1) / (f3u + k - 1),
            1 - 1 / f1u,
            u2 * k / (1 + u2 * (k - 1)),
            1 - 1 / f3u,
        ]
    p1 = float(_f_sf(f1, df1, df_w))
    p3 = float(_f_sf(f3, df1, df_e))
    out = pd.DataFrame(
        {
            "mcgraw_wong": _MCGRAW_WONG,
            "description": _DESCRIPTION,
            "icc": [icc1, icc2, icc3, icc1k, icc2k, icc3k],
            "f": [f1, f3, f3, f1, f3, f3],
            "df1": [df1] * 6,
            "df2": [df_w, df_e, df_e, df_w, df_e, df_e],
            "p": [p1, p3, p3, p1, p3, p3],
            "ci_low": lows,
            "ci_high": highs,
        },
        index=pd.Index(_INDEX, name="type"),
    ).astype({c: float for c in ("icc", "f", "p", "ci_low", "ci_high")})
    out.attrs.update({"n": int(n), "k": int(k), "level": level, **ms})
    return out
