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

import warnings
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from . import indicators as ind
from ._validate import check_choice, require_columns
from .errors import DataError, EvalkitWarning

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


def _check(data: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
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
    unknown = sorted(set(data["indicator"]) - set(meta["indicator"]))
    if unknown:
        warnings.warn(
            "indicators without a row in the indicator table are left out: " + ", ".join(unknown),
            EvalkitWarning,
            stacklevel=3,
        )
    return meta.set_index("indicator")


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
    out = []
    for name, part in data[data["indicator"].isin(info.index)].groupby("indicator", sort=False):
        statistic, mult = info.loc[name, "statistic"], float(info.loc[name, "multiplier"])
        for key, rows in part.groupby(keys, sort=True):
            key = key if isinstance(key, tuple) else (key,)
            out.append({"indicator": name, **dict(zip(keys, key)),
                        **_estimate(rows, statistic, mult, level)})  # fmt: skip
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
    if area_id not in set(data["area_id"]):
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
        verdict = ind.compare(pd.DataFrame([own]), "value", "ci_low", "ci_high", bench, polarity)[
            "comparison"
        ].iloc[0]
        trend_word, trend_p = _area_trend(data, info, name, area_id)
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


def _area_trend(data: pd.DataFrame, info: pd.DataFrame, name: str, area_id: str) -> tuple:
    rows = data[(data["indicator"] == name) & (data["area_id"] == area_id)]
    yearly = rows.groupby("year", as_index=False)[["numerator", "denominator"]].sum()
    if len(yearly) < ind.TREND_POINTS:
        return "not enough points", np.nan
    statistic = "proportion" if info.loc[name, "statistic"] == "proportion" else "rate"
    t = ind.trend(yearly, "numerator", "denominator", "year", statistic=statistic).to_frame()
    return t["trend"].iloc[0], float(t["p"].iloc[0])


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
    rows = data[(data["area_id"] == area_id) & (data["indicator"] == indicator)
                & (data["year"] == year)]  # fmt: skip
    values = indicator_values(rows, meta, by=("decile",), level=level).drop(columns="indicator")
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
    rows = []
    for name in info.index:
        if name not in set(data["indicator"]):
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
