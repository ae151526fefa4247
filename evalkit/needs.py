"""Needs assessment ("where you are starting from"): tables and sentences for one area.

Pure functions on the long needs table (``area_id, indicator, year, decile, ageband,
numerator, denominator, standard_population``, as :mod:`evalkit.simulate_needs` writes it)
and its indicator table (``indicator, label, statistic, multiplier, polarity``). They compute
with :mod:`evalkit.indicators` and return DataFrames or plain-English sentences; pictures are
in :mod:`evalkit.plots.needs`.

- :func:`indicator_values`: each indicator's value and interval per area and period;
- :func:`area_summary`: the Fingertips-style table of one area (value, interval, benchmark,
  comparison, trend, and the spread across areas for the spine chart);
- :func:`decile_values` and :func:`inequality_table`: values by deprivation decile and the
  slope and relative indices of inequality;
- :func:`trend_table`: the area's and the national series;
- :func:`standardised_table`: age-standardised rates with their crude rates;
- :func:`summary_sentences`: what stands out, in plain words.

>>> from evalkit.simulate_needs import needs_data, needs_indicators
>>> data, meta = needs_data(n_areas=3), needs_indicators()
>>> table = area_summary(data, meta, "A01")
>>> table.loc["infant_mortality", "polarity"]
'low is good'
"""

from __future__ import annotations

import contextlib
import contextvars
import warnings
from collections.abc import Iterator
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import indicators as ind
from ._validate import check_choice, check_level, require_columns
from .errors import DataError, EvalkitError, EvalkitWarning, ParameterError
from .indicators.benchmark import _trend_values, _verdict

__all__ = [
    "DATA_COLUMNS",
    "META_COLUMNS",
    "COMPARISON_WORDS",
    "indicator_values",
    "area_summary",
    "decile_values",
    "inequality_table",
    "trend_table",
    "standardised_table",
    "summary_sentences",
]

#: columns of the long needs table
DATA_COLUMNS = ("area_id", "indicator", "year", "numerator", "denominator")
#: columns of the indicator table
META_COLUMNS = ("indicator", "label", "statistic", "multiplier", "polarity")
#: the words a comparison can take, from the best to the worst
COMPARISON_WORDS = ("better", "higher", "similar", "lower", "worse", "not compared")


class _Shared:
    """What the functions here can work out once for one pair of (unchanged) tables."""

    def __init__(self, data: pd.DataFrame, meta: pd.DataFrame) -> None:
        self.data, self.meta = data, meta
        self.checked: tuple[pd.DataFrame, list[str]] | None = None
        self.rows: dict[Any, np.ndarray] | None = None
        self.deciles: dict[tuple, pd.DataFrame] = {}
        self.decile_batches: dict[tuple, dict[Any, pd.DataFrame]] = {}


_SHARED: contextvars.ContextVar[_Shared | None] = contextvars.ContextVar(
    "evalkit_needs_shared", default=None
)


@contextlib.contextmanager
def _shared(data: pd.DataFrame, meta: pd.DataFrame) -> Iterator[None]:
    """Within the block, the functions here check ``data`` and ``meta`` once and compute
    each area's decile values once (a page computes several tables from the same two
    tables). The tables must not be changed inside the block; other tables are not
    affected. Results are the same as without it."""
    token = _SHARED.set(_Shared(data, meta))
    try:
        yield
    finally:
        _SHARED.reset(token)


def _shared_for(data: pd.DataFrame, meta: pd.DataFrame) -> _Shared | None:
    shared = _SHARED.get()
    if shared is not None and shared.data is data and shared.meta is meta:
        return shared
    return None


def _check_tables(data: pd.DataFrame, meta: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    require_columns(data, list(DATA_COLUMNS), what="needs data")
    require_columns(meta, list(META_COLUMNS), what="indicator table")
    if not meta["indicator"].is_unique:
        dup = meta["indicator"][meta["indicator"].duplicated()]
        raise DataError(
            "an indicator is listed twice",
            column="indicator",
            rows=list(dup.index),
            values=list(dup),
            allowed="one row per indicator",
        )
    for stat in meta["statistic"]:
        check_choice("statistic", stat, ("proportion", "rate", "dsr"))
    for pol in meta["polarity"]:
        check_choice("polarity", pol, ind.POLARITIES)
    unknown = sorted(set(data["indicator"].unique()) - set(meta["indicator"]))
    return meta.set_index("indicator"), unknown


def _check(data: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    shared = _shared_for(data, meta)
    if shared is not None and shared.checked is not None:
        info, unknown = shared.checked
    else:
        info, unknown = _check_tables(data, meta)
        if shared is not None:
            shared.checked = (info, unknown)
    if unknown:
        warnings.warn(
            "indicators without a row in the indicator table are left out: " + ", ".join(unknown),
            EvalkitWarning,
            stacklevel=3,
        )
    return info


def _area_rows(
    data: pd.DataFrame, meta: pd.DataFrame, area_id: str, indicator: str
) -> pd.DataFrame:
    """The rows of one area and indicator (in their order in ``data``)."""
    shared = _shared_for(data, meta)
    if shared is None:
        return data[(data["area_id"] == area_id) & (data["indicator"] == indicator)]
    if shared.rows is None:
        shared.rows = data.groupby(["area_id", "indicator"], sort=False, dropna=True).indices
    pos = shared.rows.get((area_id, indicator))
    return data.iloc[pos if pos is not None else []]


def _estimate(rows: pd.DataFrame, statistic: str, multiplier: float, level: float) -> dict:
    """One indicator value with its interval from the rows of one area and period."""
    x, n = float(rows["numerator"].sum()), float(rows["denominator"].sum())
    if statistic == "dsr":
        r = ind.dsr(rows, "numerator", "denominator", "standard_population",
                    multiplier=multiplier, level=level)  # fmt: skip
        est, lo, hi = r.estimate, r.ci_low, r.ci_high
    elif statistic == "proportion":
        r = ind.proportion(x, n, multiplier=multiplier, level=level)
        est, lo, hi = r.estimate, r.ci_low, r.ci_high
    else:
        r = ind.rate(x, n, multiplier=multiplier, level=level)
        est, lo, hi = r.estimate, r.ci_low, r.ci_high
    return {"count": x, "denominator": n, "value": est, "ci_low": lo, "ci_high": hi}


def indicator_values(
    data: pd.DataFrame,
    meta: pd.DataFrame,
    *,
    by: tuple[str, ...] = ("area_id", "year"),
    level: float = 0.95,
) -> pd.DataFrame:
    """Each indicator's value and interval for every combination of ``by``.

    Proportions use Wilson intervals, crude rates Byar's (exact below 10 events), and
    directly standardised rates Dobson's (no value below 10 events), as Fingertips.

    Returns
    -------
    pandas.DataFrame
        ``indicator``, the ``by`` columns, ``count, denominator, value, ci_low, ci_high``.
    """
    info = _check(data, meta)
    keys = list(by)
    require_columns(data, keys, what="needs data")
    part = data[data["indicator"].isin(info.index)]
    fast = _fast_values(part, info, keys, level)
    if fast is not None:
        return fast
    return _values_by_group(part, info, keys, level)


def _values_by_group(
    data: pd.DataFrame, info: pd.DataFrame, keys: list[str], level: float
) -> pd.DataFrame:
    """:func:`indicator_values` one group at a time through the public indicator functions
    (which check every group's input); the reference for :func:`_fast_values`."""
    out = []
    for name, part in data.groupby("indicator", sort=False):
        statistic, mult = info.loc[name, "statistic"], float(info.loc[name, "multiplier"])
        for key, rows in part.groupby(keys, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            out.append({"indicator": name, **dict(zip(keys, key)),
                        **_estimate(rows, statistic, mult, level)})  # fmt: skip
    return pd.DataFrame(out)


#: sums of whole numbers are exact (in any order) below this total
_EXACT_SUM = 2.0**53


def _float_column(col: pd.Series) -> np.ndarray | None:
    """A numeric (not boolean) column as floats, missing values as NaN; None otherwise."""
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return None
    try:
        return col.to_numpy(dtype=float, na_value=np.nan)
    except (TypeError, ValueError):
        return None


def _exact_counts(col: pd.Series) -> np.ndarray | None:
    """A numeric column as floats (missing values as 0) when every sum of its values is
    exact, so that any grouping sums to what ``Series.sum`` gives; otherwise None."""
    v = _float_column(col)
    if v is None:
        return None
    v = np.nan_to_num(v, nan=0.0, posinf=np.inf, neginf=-np.inf)
    if not np.isfinite(v).all() or (v != np.round(v)).any() or np.abs(v).sum() >= _EXACT_SUM:
        return None
    return v


def _fast_values(
    data: pd.DataFrame, info: pd.DataFrame, keys: list[str], level: float
) -> pd.DataFrame | None:
    """:func:`indicator_values` on the whole table at once: the groups' sums by one groupby,
    each value from the indicator methods' internal (unchecked) functions. The same numbers,
    bit for bit, as :func:`_values_by_group`; a group whose counts would not pass the public
    functions' checks goes through them (so the same error is raised). Returns None where
    only the group-by-group path is sure to give the same result (counts that are not whole
    numbers, keys that are categories, an unusable level or multiplier)."""
    from .indicators.simple import _proportion_arrays, _rate_arrays
    from .indicators.standardised import _dsr_values

    try:
        level = check_level(level)
    except ParameterError:
        return None
    if "indicator" in keys or len(set(keys)) != len(keys) or not len(data):
        return None
    if any(isinstance(data[k].dtype, pd.CategoricalDtype) for k in ["indicator", *keys]):
        return None
    x, n = _exact_counts(data["numerator"]), _exact_counts(data["denominator"])
    if x is None or n is None:
        return None
    statistics = dict(zip(info.index, info["statistic"]))
    mults = {}
    for name, mult in zip(info.index, info["multiplier"]):
        if isinstance(mult, (bool, np.bool_)) or not isinstance(mult, (int, float, np.number)):
            return None
        mults[name] = float(mult)
        if not mults[name] > 0 or not np.isfinite(mults[name]):
            return None
    gb = data.groupby(["indicator", *keys], sort=True)
    codes = gb.ngroup().to_numpy(dtype=float)  # NaN (or -1) for rows with a missing key
    codes = np.where(np.isnan(codes), -1, codes).astype(np.int64)
    groups = gb.size().index
    if not isinstance(groups, pd.MultiIndex):
        groups = pd.MultiIndex.from_arrays([groups])
    levels = [groups.get_level_values(i).tolist() for i in range(groups.nlevels)]
    ok = codes >= 0
    count = np.bincount(codes[ok], weights=x[ok], minlength=len(groups))
    denom = np.bincount(codes[ok], weights=n[ok], minlength=len(groups))
    # the indicators in order of first appearance, each one's groups in sorted order
    first = {name: i for i, name in enumerate(pd.unique(data["indicator"]))}
    order = sorted(range(len(groups)), key=lambda g: first[levels[0][g]])
    positions = None
    if "dsr" in statistics.values():
        if "standard_population" not in data.columns:
            return None
        w, n_raw = _float_column(data["standard_population"]), _float_column(data["denominator"])
        if w is None or n_raw is None:
            return None
        sort = np.argsort(codes, kind="stable")
        bounds = np.searchsorted(codes[sort], np.arange(len(groups) + 1))
        positions = (sort, bounds)
    out = []
    for g in order:
        name = levels[0][g]
        statistic, mult = statistics[name], mults[name]
        xs, ns = count[g : g + 1], denom[g : g + 1]
        xg, ng = float(xs[0]), float(ns[0])
        row = None
        if statistic == "dsr":
            sort, bounds = positions
            pos = sort[bounds[g] : bounds[g + 1]]
            xr, nr, wr = x[pos], n_raw[pos], w[pos]
            if (xr >= 0).all() and (nr > 0).all() and (wr >= 0).all():
                r = _dsr_values(xr, nr, wr, level, mult)
                row = (r["estimate"], r["ci_low"], r["ci_high"])
        elif statistic == "proportion":
            if xg >= 0 and ng > 0 and xg <= ng:
                est, lo, hi = _proportion_arrays(xs, ns, level, mult)
                row = (float(est[0]), float(lo[0]), float(hi[0]))
        elif xg >= 0 and ng > 0:
            est, lo, hi, _ = _rate_arrays(xs, ns, level, mult)
            row = (float(est[0]), float(lo[0]), float(hi[0]))
        if row is None:
            # counts the public functions reject: let them say so
            rows = data.iloc[np.flatnonzero(codes == g)]
            values = _estimate(rows, statistic, mult, level)
        else:
            values = {"count": xg, "denominator": ng, "value": row[0], "ci_low": row[1],
                      "ci_high": row[2]}  # fmt: skip
        key = [levels[i + 1][g] for i in range(len(keys))]
        out.append({"indicator": name, **dict(zip(keys, key)), **values})
    return pd.DataFrame(out)


def _latest(data: pd.DataFrame, year: Any) -> Any:
    return data["year"].max() if year is None else year


def area_summary(
    data: pd.DataFrame,
    meta: pd.DataFrame,
    area_id: str,
    *,
    benchmark_id: str = "NAT",
    year: Any = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """The area's indicators in the latest period, as a Fingertips area profile shows them.

    For each indicator: the value and its interval, the benchmark (``benchmark_id``, the
    national total by default) and the comparison with it (better / similar / worse by the
    indicator's polarity, at 95%), the recent trend of the area's yearly totals (last five
    points), and the spread of the other areas' values for the spine chart (lowest, 25th
    percentile, 75th percentile, highest).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``: ``label, statistic, multiplier, polarity, year, count,
        denominator, value, ci_low, ci_high, benchmark, comparison, trend, trend_p,
        area_min, area_q25, area_q75, area_max, n_areas``.
    """
    info = _check(data, meta)
    year = _latest(data, year)
    if area_id not in set(data["area_id"].unique()):
        raise DataError(
            f"there is no area {area_id!r} in the needs data",
            column="area_id",
            allowed="one of the data's area_id values",
        )
    values = indicator_values(data[data["year"] == year], meta, by=("area_id",), level=level)
    rows = []
    for name, part in values.groupby("indicator", sort=False):
        part = part.set_index("area_id")
        if area_id not in part.index:
            continue
        own = part.loc[area_id]
        others = part.drop(index=[benchmark_id], errors="ignore")["value"].dropna()
        bench = float(part.loc[benchmark_id, "value"]) if benchmark_id in part.index else np.nan
        polarity = info.loc[name, "polarity"]
        # ind.compare's verdict on the one row (its checks hold: numbers, a known polarity)
        verdict = _verdict(np.array([float(own["ci_low"])]), np.array([float(own["ci_high"])]),
                           np.full(1, float(bench)), polarity)[0]  # fmt: skip
        trend_word, trend_p = _area_trend(_area_rows(data, meta, area_id, name), info, name)
        rows.append(
            {
                "indicator": name,
                "label": info.loc[name, "label"],
                "statistic": info.loc[name, "statistic"],
                "multiplier": float(info.loc[name, "multiplier"]),
                "polarity": polarity,
                "year": year,
                "count": own["count"],
                "denominator": own["denominator"],
                "value": own["value"],
                "ci_low": own["ci_low"],
                "ci_high": own["ci_high"],
                "benchmark": bench,
                "comparison": verdict,
                "trend": trend_word,
                "trend_p": trend_p,
                "area_min": others.min(),
                "area_q25": others.quantile(0.25),
                "area_q75": others.quantile(0.75),
                "area_max": others.max(),
                "n_areas": int(others.size),
            }
        )
    return pd.DataFrame(rows).set_index("indicator")


def _area_trend(rows: pd.DataFrame, info: pd.DataFrame, name: str) -> tuple:
    """The recent trend of the area's yearly totals (``rows``: the area's rows of ``name``)."""
    statistic = "proportion" if info.loc[name, "statistic"] == "proportion" else "rate"
    fast = _fast_trend(rows, statistic)
    if fast is not None:
        return fast
    yearly = rows.groupby("year", as_index=False)[["numerator", "denominator"]].sum()
    if len(yearly) < ind.TREND_POINTS:
        return "not enough points", np.nan
    t = ind.trend(yearly, "numerator", "denominator", "year", statistic=statistic).to_frame()
    return t["trend"].iloc[0], float(t["p"].iloc[0])


def _fast_trend(rows: pd.DataFrame, statistic: str) -> tuple | None:
    """:func:`_area_trend` on numpy arrays: yearly sums (exact, as the group-by), then the
    trend from :func:`evalkit.indicators.trend`'s unchecked internal on the last points.
    None where the public function is needed (counts it would reject, years that are not
    plain numbers), so that it raises its own error."""
    x, n = _exact_counts(rows["numerator"]), _exact_counts(rows["denominator"])
    years = _float_column(rows["year"])
    if x is None or n is None or years is None or np.isnan(years).any():
        return None
    uniq, where = np.unique(years, return_inverse=True)
    if len(uniq) < ind.TREND_POINTS:
        return "not enough points", np.nan
    xs = np.bincount(where, weights=x, minlength=len(uniq))
    ns = np.bincount(where, weights=n, minlength=len(uniq))
    if (xs < 0).any() or (ns <= 0).any() or (statistic == "proportion" and (xs > ns).any()):
        return None
    level = 0.999  # ind.trend's default, as _area_trend's call
    z = float(stats.norm.ppf(0.5 + level / 2))
    last = slice(len(uniq) - ind.TREND_POINTS, None)
    _, _, _, _, p, word = _trend_values(xs[last], ns[last], uniq[last], statistic, level, z)
    return word, p


def _shared_decile_values(
    shared: _Shared, area_id: Any, indicator: Any, year: Any, level: float
) -> pd.DataFrame | None:
    """:func:`indicator_values` by decile of one indicator, from one call for all the area's
    indicators in the year (kept in ``shared``). None where that call fails or has no rows of
    the indicator: :func:`decile_values` then works it out alone (and says what is wrong)."""
    key = (area_id, year, level)
    if key not in shared.decile_batches:
        parts: dict[Any, pd.DataFrame] = {}
        try:
            data = shared.data
            _area_rows(data, shared.meta, area_id, indicator)  # makes the index of the rows
            pos = [p for (a, _), p in (shared.rows or {}).items() if a == area_id]
            rows = data.iloc[np.sort(np.concatenate(pos))] if pos else data.iloc[[]]
            rows = rows[rows["year"] == year]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                batch = indicator_values(rows, shared.meta, by=("decile",), level=level)
            if len(batch):
                for name, part in batch.groupby("indicator", sort=False):
                    parts[name] = part.drop(columns="indicator").reset_index(drop=True)
        except (EvalkitError, KeyError, TypeError, ValueError):
            parts = {}
        shared.decile_batches[key] = parts
    part = shared.decile_batches[key].get(indicator)
    return None if part is None else part.copy()


def decile_values(
    data: pd.DataFrame,
    meta: pd.DataFrame,
    area_id: str,
    indicator: str,
    *,
    year: Any = None,
    level: float = 0.95,
) -> pd.DataFrame:
    """An indicator's value by deprivation decile in one area (decile 1 = most deprived).

    Returns
    -------
    pandas.DataFrame
        ``decile, count, denominator, value, ci_low, ci_high``, plus ``se`` on the scale
        :func:`evalkit.indicators.sii` draws from (logit of a proportion, log of a rate),
        ``se_natural`` (per person, for deciles without events), ``population`` (the
        decile's denominator) and ``value_unscaled`` (the value without the multiplier).
    """
    info = _check(data, meta)
    require_columns(data, ["decile"], what="needs data")
    year = _latest(data, year)
    shared = _shared_for(data, meta)
    key: tuple | None = (area_id, indicator, year, level)
    try:
        hash(key)
    except TypeError:
        key = None
    if shared is not None and key in shared.deciles:
        return shared.deciles[key].copy()
    values = None
    if shared is not None and key is not None:
        values = _shared_decile_values(shared, area_id, indicator, year, level)
    if values is None:
        rows = _area_rows(data, meta, area_id, indicator)
        rows = rows[rows["year"] == year]
        values = indicator_values(rows, meta, by=("decile",), level=level)
        values = values.drop(columns="indicator")
    statistic, mult = info.loc[indicator, "statistic"], float(info.loc[indicator, "multiplier"])
    x, n = values["count"], values["denominator"]
    if statistic == "proportion":
        # logit scale, with half a count added so that 0 and n stay finite
        values["se"] = np.sqrt(1 / (x + 0.5) + 1 / (n - x + 0.5))
    elif statistic == "rate":
        values["se"] = 1 / np.sqrt(x + 0.5)
    z = float(stats.norm.ppf(0.5 + level / 2))
    if statistic == "dsr":
        values["se"] = (np.log(values["ci_high"]) - np.log(values["ci_low"])) / (2 * z)
    # the same on the value's own scale (per person), for deciles with no events
    p = (x + 0.5) / (n + 1)
    if statistic == "proportion":
        values["se_natural"] = np.sqrt(p * (1 - p) / n)
    elif statistic == "rate":
        values["se_natural"] = np.sqrt(x + 0.5) / n
    else:
        values["se_natural"] = (values["ci_high"] - values["ci_low"]) / (2 * z * mult)
    values["population"] = n
    values["value_unscaled"] = values["value"] / mult
    if shared is not None and key is not None:
        shared.deciles[key] = values.copy()
    return values


def inequality_table(
    data: pd.DataFrame,
    meta: pd.DataFrame,
    area_id: str,
    *,
    year: Any = None,
    n_sim: int = 10_000,
    seed: Any = 2026,
) -> pd.DataFrame:
    """The slope and relative indices of inequality across deprivation deciles, per indicator.

    The SII is the modelled gap between the least and the most deprived ends of the area
    (PHE's ``phe_sii``: decile 1 = most deprived at the start of the scale), on the
    indicator's scale (× multiplier); the RII is the ratio of the two ends. An indicator whose
    deciles are not all present (or, for standardised rates, have fewer than 10 events) is
    left out with a warning.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``indicator``: ``label, polarity, sii, ci_low, ci_high, rii, rii_ci_low,
        rii_ci_high, intercept`` (the modelled value at the most deprived end, on the
        indicator's scale), ``gap_worse_in`` (``"most deprived"``, ``"least deprived"`` or
        ``"neither (interval includes 0)"``).
    """
    info = _check(data, meta)
    present = set(data["indicator"].unique())
    rows = []
    for name in info.index:
        if name not in present:
            continue
        dv = decile_values(data, meta, area_id, name, year=year)
        statistic, mult = info.loc[name, "statistic"], float(info.loc[name, "multiplier"])
        dv = dv.dropna(subset=["value", "se"])
        if dv["decile"].nunique() < 5:
            warnings.warn(f"{name}: too few deciles with a value for an SII", EvalkitWarning,
                          stacklevel=2)  # fmt: skip
            continue
        value_type = "proportion" if statistic == "proportion" else "rate"
        v = dv["value_unscaled"]
        if ((v <= 0) | ((v >= 1) & (statistic == "proportion"))).any():
            # a decile with no events (or all): simulate on the natural scale instead
            value_type = "other"
            dv = dv.assign(se=dv["se_natural"])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EvalkitWarning)
            r = ind.sii(dv, "decile", "value_unscaled", "population", se="se",
                        value_type=value_type, multiplier=mult, rii=True, n_sim=n_sim,
                        seed=seed).to_frame()  # fmt: skip
        r = r.iloc[0]
        polarity = info.loc[name, "polarity"]
        if r["ci_low"] > 0 or r["ci_high"] < 0:
            # positive SII: higher values in the least deprived deciles
            higher_in = "least deprived" if r["sii"] > 0 else "most deprived"
            if polarity == "none":
                worse = f"higher in the {higher_in}"
            else:
                good_high = polarity == "high is good"
                other = "most deprived" if higher_in == "least deprived" else "least deprived"
                worse = other if good_high else higher_in
        else:
            worse = "neither (interval includes 0)"
        rows.append(
            {
                "indicator": name,
                "label": info.loc[name, "label"],
                "polarity": polarity,
                "sii": r["sii"],
                "ci_low": r["ci_low"],
                "ci_high": r["ci_high"],
                "rii": r["rii"],
                "rii_ci_low": r["rii_ci_low"],
                "rii_ci_high": r["rii_ci_high"],
                "intercept": r["intercept"] * mult,
                "gap_worse_in": worse,
            }
        )
    return pd.DataFrame(rows).set_index("indicator")


def trend_table(
    data: pd.DataFrame, meta: pd.DataFrame, area_id: str, *, benchmark_id: str = "NAT"
) -> pd.DataFrame:
    """Yearly values of every indicator for the area and the benchmark (for small multiples).

    Returns
    -------
    pandas.DataFrame
        ``indicator, label, year, area_id, value, ci_low, ci_high`` for ``area_id`` and
        ``benchmark_id``.
    """
    info = _check(data, meta)
    rows = data[data["area_id"].isin([area_id, benchmark_id])]
    values = indicator_values(rows, meta, by=("area_id", "year"))
    values.insert(1, "label", values["indicator"].map(info["label"]))
    return values


def standardised_table(
    data: pd.DataFrame,
    meta: pd.DataFrame,
    area_id: str,
    *,
    benchmark_id: str = "NAT",
    year: Any = None,
) -> pd.DataFrame:
    """Age-standardised rates (where age bands are given) beside the crude rates.

    Returns
    -------
    pandas.DataFrame
        ``indicator, label, area_id, dsr, dsr_ci_low, dsr_ci_high, crude, crude_ci_low,
        crude_ci_high, count`` for the area and the benchmark (empty without standardised
        indicators).
    """
    info = _check(data, meta)
    year = _latest(data, year)
    names = [n for n in info.index if info.loc[n, "statistic"] == "dsr"]
    rows = data[data["indicator"].isin(names) & data["area_id"].isin([area_id, benchmark_id])
                & (data["year"] == year)]  # fmt: skip
    out = []
    for (name, area), part in rows.groupby(["indicator", "area_id"], sort=False):
        mult = float(info.loc[name, "multiplier"])
        d = ind.dsr(part, "numerator", "denominator", "standard_population", multiplier=mult)
        c = ind.rate(part["numerator"].sum(), part["denominator"].sum(), multiplier=mult)
        out.append(
            {
                "indicator": name,
                "label": info.loc[name, "label"],
                "area_id": area,
                "dsr": d.estimate,
                "dsr_ci_low": d.ci_low,
                "dsr_ci_high": d.ci_high,
                "crude": c.estimate,
                "crude_ci_low": c.ci_low,
                "crude_ci_high": c.ci_high,
                "count": c.x,
            }
        )
    cols = ["indicator", "label", "area_id", "dsr", "dsr_ci_low", "dsr_ci_high", "crude",
            "crude_ci_low", "crude_ci_high", "count"]  # fmt: skip
    return pd.DataFrame(out, columns=cols)


def _fmt(value: float, statistic: str, multiplier: float) -> str:
    if statistic == "proportion" and multiplier == 100:
        return f"{value:.1f}%"
    return f"{value:,.1f} per {multiplier:,.0f}"


def summary_sentences(
    summary: pd.DataFrame,
    inequality: pd.DataFrame | None = None,
    *,
    area_name: str = "this area",
    benchmark_name: str = "the national figure",
) -> list[str]:
    """Plain-English sentences on what stands out in :func:`area_summary` (and, if given,
    :func:`inequality_table`): comparisons with the benchmark first (worse, then better),
    then significant trends, then the widest inequalities.
    """
    out: list[str] = []
    for word in ("worse", "better"):
        hits = summary[summary["comparison"] == word]
        for _name, row in hits.iterrows():
            value = _fmt(row["value"], row["statistic"], row["multiplier"])
            bench = _fmt(row["benchmark"], row["statistic"], row["multiplier"])
            out.append(
                f"{row['label']}: {value} in {area_name}, {word} than {benchmark_name} "
                f"({bench}); the difference is beyond chance at the 95% level."
            )
    similar = int((summary["comparison"] == "similar").sum())
    if similar:
        out.append(
            f"{similar} of {len(summary)} indicators are similar to {benchmark_name} "
            "(the difference could be chance)."
        )
    for _name, row in summary[summary["trend"].isin(["increasing", "decreasing"])].iterrows():
        direction = row["trend"]
        good = (direction == "increasing") == (row["polarity"] == "high is good")
        judgement = (
            ""
            if row["polarity"] == "none"
            else (" (getting better)" if good else " (getting worse)")
        )
        out.append(f"{row['label']} has been {direction} over the last five years{judgement}.")
    if inequality is not None and len(inequality):
        gaps = inequality[inequality["gap_worse_in"].isin(["most deprived", "least deprived"])]
        for name, row in gaps.iterrows():
            stat = summary.loc[name, "statistic"] if name in summary.index else "rate"
            mult = summary.loc[name, "multiplier"] if name in summary.index else 1
            gap = _fmt(abs(row["sii"]), stat, mult).replace("%", " percentage points")
            out.append(
                f"{row['label']}: worse in the {row['gap_worse_in']} neighbourhoods; the modelled "
                f"gap across the area is {gap} (slope index of inequality)."
            )
    return out
