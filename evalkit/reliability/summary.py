"""Item analysis, split-half reliability and the one-table reliability summary for reports."""

from __future__ import annotations

import itertools
import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_level, check_positive_int, numeric_frame
from ..errors import DataError, EvalkitError, EvalkitWarning
from ..results import Result
from ._common import alpha_from_cov, cov_matrix, cov_to_cor, item_frame, rng_from

__all__ = ["SplitHalfResult", "split_half", "item_analysis", "reliability_summary"]

#: floor or ceiling effects above this share of answers are flagged (Terwee et al. 2007)
FLOOR_CEILING_PCT = 15.0


@dataclass(frozen=True)
class SplitHalfResult(Result):
    """Spearman–Brown corrected split-half reliabilities over many splits of the items.

    ``estimate`` and ``mean`` are the mean over splits; ``maximum`` and ``minimum`` the
    extremes; ``odd_even`` the classic odd-versus-even-items split; ``n_splits`` how many
    splits were evaluated (all of them when ``exhaustive``).
    """

    estimate: float
    n: int
    k: int
    method: str
    mean: float
    maximum: float
    minimum: float
    odd_even: float
    n_splits: int
    exhaustive: bool
    _title = "Split-half reliability"


def _split_masks(
    k: int, max_items: int, n_samples: int, rng: np.random.Generator
) -> tuple[np.ndarray, bool]:
    half = k // 2
    if k <= max_items:
        # each unordered split once: for even k keep the halves that contain item 0
        combos = itertools.combinations(range(k), half)
        masks = []
        for c in combos:
            if k % 2 == 0 and 0 not in c:
                continue
            row = np.zeros(k, dtype=bool)
            row[list(c)] = True
            masks.append(row)
        return np.array(masks), True
    masks = np.zeros((n_samples, k), dtype=bool)
    for i in range(n_samples):
        masks[i, rng.choice(k, half, replace=False)] = True
    return masks, False


def _sb(c: np.ndarray, masks: np.ndarray) -> np.ndarray:
    a = masks.astype(float)
    b = 1.0 - a
    caa = np.einsum("si,ij,sj->s", a, c, a)
    cbb = np.einsum("si,ij,sj->s", b, c, b)
    cab = np.einsum("si,ij,sj->s", a, c, b)
    r = cab / np.sqrt(caa * cbb)
    return 2.0 * r / (1.0 + r)


def split_half(
    items: Any,
    *,
    missing: str = "pairwise",
    covar: bool = False,
    max_items: int = 16,
    n_samples: int = 10000,
    seed: Any = None,
) -> SplitHalfResult:
    """Split-half reliability, Spearman–Brown corrected, over all (or many) splits of the items.

    For halves A and B with total-score correlation r_AB (from the item correlation matrix,
    or the covariance matrix with ``covar=True``): ``r_SB = 2·r_AB / (1 + r_AB)``.
    With k ≤ ``max_items`` every split into ⌊k/2⌋ and ⌈k/2⌉ items is evaluated (6,435 for
    k = 16); otherwise ``n_samples`` random splits.

    References
    ----------
    Spearman (1910), Brown (1910) Br J Psychol 3. Revelle & Zinbarg (2009) Psychometrika 74:145.

    Examples
    --------
    >>> import pingouin as pg
    >>> data = pg.read_dataset("cronbach_alpha").pivot(index="Subj", columns="Items",
    ...                                                values="Scores")
    >>> res = split_half(data)
    >>> res.n_splits, res.minimum < res.mean < res.maximum
    (126, True)
    """
    check_positive_int("max_items", max_items, minimum=2)
    check_positive_int("n_samples", n_samples)
    df = item_frame(items, missing=missing)
    n, k = df.shape
    c = cov_matrix(df)
    if not covar:
        c = cov_to_cor(c)
    masks, exhaustive = _split_masks(k, min(max_items, 24), n_samples, rng_from(seed))
    with np.errstate(invalid="ignore", divide="ignore"):
        sb = _sb(c, masks)
        odd_even = float(_sb(c, (np.arange(k) % 2 == 0)[None, :])[0])
    return SplitHalfResult(
        estimate=float(np.nanmean(sb)),
        n=int(n),
        k=int(k),
        method="split-half, Spearman-Brown corrected"
        + (" (all splits)" if exhaustive else f" ({len(sb)} random splits)"),
        mean=float(np.nanmean(sb)),
        maximum=float(np.nanmax(sb)),
        minimum=float(np.nanmin(sb)),
        odd_even=odd_even,
        n_splits=int(len(sb)),
        exhaustive=exhaustive,
    )


def item_analysis(
    items: Any, *, scale_min: float | None = None, scale_max: float | None = None
) -> pd.DataFrame:
    """Item statistics for a questionnaire: distribution, floor and ceiling, discrimination.

    For item i with item covariance matrix C (pairwise deletion):
    corrected item–total correlation ``r_drop = (ΣC_i· − C_ii) / √(C_ii · ΣC_{−i,−i})``
    (the item against the total of the other items), and ``alpha_if_deleted`` is alpha of the
    other k − 1 items. ``floor_pct`` and ``ceiling_pct`` are the percentages of answers at
    ``scale_min`` and ``scale_max`` (default: the lowest and highest answer seen on any item).

    Returns
    -------
    DataFrame indexed by item with ``n``, ``mean``, ``sd``, ``missing_pct``, ``floor_pct``,
    ``ceiling_pct``, ``r_drop``, ``alpha_if_deleted`` and ``flag``: a plain-English warning
    ("possibly reverse-keyed" for a negative r_drop, floor or ceiling effects over 15%,
    "no variance") or an empty string.

    References
    ----------
    Nunnally & Bernstein (1994) *Psychometric theory*. Terwee et al. (2007) J Clin Epidemiol
    60:34 (floor and ceiling effects over 15%).

    Examples
    --------
    >>> import pingouin as pg
    >>> data = pg.read_dataset("cronbach_alpha").pivot(index="Subj", columns="Items",
    ...                                                values="Scores")
    >>> round(float(item_analysis(data).loc["Q6", "r_drop"]), 4)
    -0.1572
    """
    df = numeric_frame(items, name="items", min_cols=2, min_rows=2, drop_empty_rows=True)
    x = df.to_numpy(dtype=float)
    lo = float(np.nanmin(x)) if scale_min is None else float(scale_min)
    hi = float(np.nanmax(x)) if scale_max is None else float(scale_max)
    outside = (x < lo) | (x > hi)
    if outside.any():
        cols = [str(c) for c in df.columns[outside.any(axis=0)]]
        raise DataError(
            f"answers outside the scale {lo:g} to {hi:g}",
            columns=cols,
            rows=list(df.index[outside.any(axis=1)]),
            allowed=f"numbers from {lo:g} to {hi:g} (scale_min, scale_max)",
        )
    answered = (~np.isnan(x)).sum(axis=0)
    sd = np.nanstd(x, axis=0, ddof=1) if len(x) > 1 else np.full(x.shape[1], np.nan)
    out = pd.DataFrame(
        {
            "n": answered,
            "mean": np.nanmean(x, axis=0),
            "sd": sd,
            "missing_pct": 100.0 * (1.0 - answered / len(x)),
            "floor_pct": 100.0 * np.sum(x == lo, axis=0) / answered,
            "ceiling_pct": 100.0 * np.sum(x == hi, axis=0) / answered,
        },
        index=pd.Index([str(c) for c in df.columns], name="item"),
    )
    flat = ~(sd > 0)
    r_drop = np.full(len(out), np.nan)
    a_del = np.full(len(out), np.nan)
    use = np.flatnonzero(~flat)
    if len(use) >= 2:
        c = cov_matrix(df.iloc[:, use])
        total = c.sum()
        rows = c.sum(axis=1)
        for pos, i in enumerate(use):
            rest = total - 2.0 * rows[pos] + c[pos, pos]
            with np.errstate(invalid="ignore", divide="ignore"):
                r_drop[i] = (rows[pos] - c[pos, pos]) / np.sqrt(c[pos, pos] * rest)
            if len(use) >= 3:
                keep = np.arange(len(use)) != pos
                a_del[i] = alpha_from_cov(c[np.ix_(keep, keep)])
    out["r_drop"] = r_drop
    out["alpha_if_deleted"] = a_del
    # floor and ceiling say nothing about yes/no items, whose answers are all at one end
    binary_scale = np.unique(x[~np.isnan(x)]).size <= 2 and scale_min is None and scale_max is None
    flags = []
    for j in range(len(out)):
        f = []
        if flat[j]:
            f.append("no variance: everyone gave the same answer")
        if r_drop[j] < 0:
            f.append("negative item-total correlation: possibly reverse-keyed")
        if binary_scale or flat[j]:
            flags.append("; ".join(f))
            continue
        if out["floor_pct"].iloc[j] > FLOOR_CEILING_PCT:
            f.append(f"floor effect ({out['floor_pct'].iloc[j]:.0f}% at the minimum)")
        if out["ceiling_pct"].iloc[j] > FLOOR_CEILING_PCT:
            f.append(f"ceiling effect ({out['ceiling_pct'].iloc[j]:.0f}% at the maximum)")
        flags.append("; ".join(f))
    out["flag"] = flags
    out.attrs.update({"scale_min": lo, "scale_max": hi, "n_people": int(len(x))})
    return out


_ROWS = ("alpha", "standardized_alpha", "omega_total", "lambda6", "split_half")
_LABELS = {
    "alpha": "Cronbach's alpha",
    "standardized_alpha": "Standardised alpha",
    "omega_total": "McDonald's omega (total)",
    "lambda6": "Guttman's lambda-6",
    "split_half": "Split-half (mean of splits)",
}


def reliability_summary(
    items: Any,
    *,
    published: float | dict[str, float] | None = None,
    missing: str = "pairwise",
    ci: str = "feldt",
    level: float = 0.95,
    scale_min: float | None = None,
    scale_max: float | None = None,
    n_boot: int = 2000,
    seed: Any = None,
) -> pd.DataFrame:
    """One tidy table for a report: local reliability beside the published value, and warnings.

    Rows: Cronbach's alpha with its interval, standardised alpha, omega total, Guttman's
    lambda-6, mean split-half; then one row per item-analysis warning (floor or ceiling over
    15%, negative corrected item–total correlation, no variance). Items with no variance are
    left out of the coefficients (and named in a warning) instead of raising, so that a report
    still renders; rows with no answers at all are dropped.

    Parameters
    ----------
    items : DataFrame
        Rows are people, columns are items (NaN for missing answers).
    published : float or dict, optional
        The published alpha (a number), or values keyed by ``"alpha"``, ``"omega_total"``,
        ``"lambda6"``, ``"split_half"``, ``"standardized_alpha"``.
    missing, ci, level, n_boot, seed
        Passed to :func:`alpha`.
    scale_min, scale_max
        Passed to :func:`item_analysis` for floor and ceiling effects.

    Returns
    -------
    DataFrame with columns ``statistic``, ``label``, ``estimate``, ``ci_low``, ``ci_high``,
    ``published``, ``difference`` (local − published) and ``note``; ``attrs`` holds n, k and
    the list of warnings.

    Examples
    --------
    >>> import pingouin as pg
    >>> data = pg.read_dataset("cronbach_alpha").pivot(index="Subj", columns="Items",
    ...                                                values="Scores")
    >>> table = reliability_summary(data, published=0.87)
    >>> table.loc[table.statistic == "alpha", ["estimate", "published"]].round(3).values.tolist()
    [[0.592, 0.87]]
    """
    from .alpha import alpha as _alpha
    from .omega import omega as _omega

    level = check_level(level)
    if published is None:
        pub: dict[str, float] = {}
    elif isinstance(published, dict):
        unknown = set(published) - set(_ROWS)
        if unknown:
            from ..errors import ParameterError

            raise ParameterError(
                f"published has unknown keys {sorted(unknown)}",
                key="published",
                expected="keys among " + ", ".join(_ROWS),
            )
        pub = {k: float(v) for k, v in published.items()}
    else:
        pub = {"alpha": float(published)}

    df = numeric_frame(items, name="items", min_cols=2, min_rows=2, drop_empty_rows=True)
    ia = item_analysis(df, scale_min=scale_min, scale_max=scale_max)
    notes: list[str] = []
    flat = [c for c, s in zip(df.columns, ia["sd"]) if not s > 0]
    use = df.drop(columns=flat)
    rows: dict[str, tuple[float, float, float, str]] = {}
    nan = float("nan")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", EvalkitWarning)
        try:
            a = _alpha(use, missing=missing, ci=ci, level=level, n_boot=n_boot, seed=seed)
            rows["alpha"] = (a.estimate, a.ci_low, a.ci_high, f"{a.ci} {level:.0%} interval")
            rows["standardized_alpha"] = (a.standardized, nan, nan, "")
            rows["lambda6"] = (a.g6, nan, nan, "")
            n_used, k_used = a.n, a.k
        except EvalkitError as exc:
            notes.append(f"alpha not computed: {exc}")
            n_used, k_used = len(use), use.shape[1]
        try:
            o = _omega(use, missing=missing)
            rows["omega_total"] = (o.estimate, nan, nan, "one-factor ML model")
        except EvalkitError as exc:
            rows["omega_total"] = (nan, nan, nan, f"not computed: {exc}")
        try:
            sh = split_half(use, missing=missing)
            rows["split_half"] = (sh.mean, sh.minimum, sh.maximum, "range over splits")
        except EvalkitError as exc:
            rows["split_half"] = (nan, nan, nan, f"not computed: {exc}")
    notes.extend(str(w.message) for w in caught if issubclass(w.category, EvalkitWarning))
    if flat:
        notes.append("items with no variance left out: " + ", ".join(map(str, flat)))
    for item, flag in ia["flag"].items():
        if flag and not flag.startswith("no variance"):
            notes.append(f"{item}: {flag}")
    notes = list(dict.fromkeys(notes))
    table = []
    for key in _ROWS:
        est, lo, hi, note = rows.get(key, (nan, nan, nan, "not computed"))
        p = pub.get(key, nan)
        if key in pub and math.isfinite(lo) and math.isfinite(hi) and not lo <= p <= hi:
            note = (note + "; " if note else "") + "published value outside the local interval"
        table.append(
            {
                "statistic": key,
                "label": _LABELS[key],
                "estimate": est,
                "ci_low": lo,
                "ci_high": hi,
                "published": p,
                "difference": est - p,
                "note": note,
            }
        )
    for text in notes:
        table.append(
            {
                "statistic": "warning",
                "label": "warning",
                "estimate": nan,
                "ci_low": nan,
                "ci_high": nan,
                "published": nan,
                "difference": nan,
                "note": text,
            }
        )
    out = pd.DataFrame(table)
    out.attrs.update({"n": int(n_used), "k": int(k_used), "level": level, "warnings": notes})
    return out
