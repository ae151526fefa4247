"""Directly and indirectly standardised rates, as PHEindicatormethods ``calculate_dsr``,
``calculate_ISRatio`` and ``calculate_ISRate`` compute them, and the 2013 European Standard
Population (PHEindicatormethods ``esp2013``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .._validate import check_choice, check_level, require_columns
from ..errors import DataError
from ._common import (
    IndicatorTable,
    byar_limits,
    check_counts,
    check_multiplier,
    count_limits,
    group_list,
    numeric_column,
    reject_rows,
    split_groups,
)

__all__ = ["dsr", "isr", "standard_population", "ESP2013_AGE_BANDS"]

#: age bands of the 2013 European Standard Population, youngest first
ESP2013_AGE_BANDS = (
    "0-4", "5-9", "10-14", "15-19", "20-24", "25-29", "30-34", "35-39", "40-44", "45-49",
    "50-54", "55-59", "60-64", "65-69", "70-74", "75-79", "80-84", "85-89", "90+",
)  # fmt: skip

# Eurostat (2013), Revision of the European Standard Population, table 3 (per 100,000);
# the same 19 values as PHEindicatormethods' esp2013 vector.
_ESP2013 = (
    5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
    7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000,
)  # fmt: skip

#: PHE gives no directly standardised rate below this many events
DSR_MIN_EVENTS = 10


def standard_population(name: str = "esp2013") -> pd.DataFrame:
    """A standard population by age band, for merging on an age-band column.

    Parameters
    ----------
    name
        ``"esp2013"``: the 2013 European Standard Population in 19 five-year bands
        (0-4 to 85-89, and 90+), totalling 100,000 (PHEindicatormethods ``esp2013``).

    Returns
    -------
    pandas.DataFrame
        Columns ``ageband`` (text such as ``"0-4"``, ``"90+"``), ``age_from`` (the band's
        first year of age) and ``esp2013`` (the standard population).

    References
    ----------
    Eurostat (2013). Revision of the European Standard Population: report of Eurostat's task
    force. Luxembourg: Publications Office of the European Union.

    Examples
    --------
    >>> esp = standard_population("esp2013")
    >>> len(esp), int(esp["esp2013"].sum()), int(esp["esp2013"].iloc[0])
    (19, 100000, 5000)
    """
    check_choice("name", name, ("esp2013",))
    return pd.DataFrame(
        {
            "ageband": list(ESP2013_AGE_BANDS),
            "age_from": [5 * i for i in range(19)],
            "esp2013": list(_ESP2013),
        }
    )


def _counts_column(df: pd.DataFrame, column: str) -> np.ndarray:
    return numeric_column(df, column, what="whole numbers of 0 or more (empty for none)")


def _dsr_values(
    xs: np.ndarray, ns: np.ndarray, ws: np.ndarray, level: float, multiplier: float
) -> dict[str, Any]:
    """One group's DSR with Dobson's limits from checked float arrays (events with missing
    values as 0, populations above 0, standard populations of 0 or more): the row of
    :func:`dsr`'s table without the group columns (no validation; :func:`dsr` checks first)."""
    total = float(xs.sum())
    value = float((xs * ws / ns).sum() / ws.sum())
    var = float((xs * (ws / ns) ** 2).sum() / ws.sum() ** 2)
    o_lo, o_hi = byar_limits(np.array([total]), level)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.sqrt(var / total) if total > 0 else np.nan
    lo = value + scale * (float(o_lo[0]) - total)
    hi = value + scale * (float(o_hi[0]) - total)
    few = total < DSR_MIN_EVENTS
    return {
        "estimate": np.nan if few else value * multiplier,
        "ci_low": np.nan if few else lo * multiplier,
        "ci_high": np.nan if few else hi * multiplier,
        "total_count": total,
        "total_pop": float(ns.sum()),
        "level": level,
        "statistic": f"dsr per {multiplier:g}",
        "method": "Dobson",
        "note": "dsr NA for total count < 10" if few else "",
    }


def dsr(
    df: pd.DataFrame,
    count: str,
    population: str,
    standard: str,
    groups: Any = None,
    multiplier: float = 100_000,
    level: float = 0.95,
) -> IndicatorTable:
    """A directly standardised rate with Dobson's confidence interval (``calculate_dsr``).

    With :math:`x_i` events, :math:`n_i` population and :math:`w_i` standard population in
    age band :math:`i`, and :math:`O = \\sum x_i`:

    .. math::

        \\text{DSR} = \\frac{\\sum_i w_i x_i / n_i}{\\sum_i w_i}, \\qquad
        \\operatorname{var}(\\text{DSR}) = \\frac{\\sum_i x_i (w_i / n_i)^2}{(\\sum_i w_i)^2}

    and Dobson's limits :math:`\\text{DSR} + \\sqrt{\\operatorname{var}/O}\\,(O_{L,U} - O)`,
    where :math:`O_L, O_U` are Byar's limits for the total count (all × ``multiplier``).
    As PHE does, a group with fewer than 10 events gets no value (NaN) and the note
    ``"dsr NA for total count < 10"``. Missing counts count as 0 (PHE's ``na.zero``).

    ``standard`` names the column holding each row's standard population (PHE takes it as a
    field, never joined by position); :func:`standard_population` gives the ESP 2013.

    Parameters
    ----------
    df
        One row per age band (within each group).
    count, population, standard
        Column names: events, population, standard population.
    groups
        Optional column name (or list of names): one rate per group.
    multiplier
        Rate per this many (100,000).
    level
        Confidence level.

    Returns
    -------
    IndicatorTable
        ``to_frame()``: group columns, ``estimate``, ``ci_low``, ``ci_high``,
        ``total_count``, ``total_pop``, ``level``, ``statistic``, ``method``, ``note``.

    Raises
    ------
    DataError
        Negative counts, populations of zero or less (or missing), a standard-population
        column with missing or negative values; the rows are named.

    References
    ----------
    Dobson AJ, Kuulasmaa K, Eberle E, Scherer J (1991). Confidence intervals for weighted
    sums of Poisson parameters. Stat Med 10:457-462. Breslow NE, Day NE (1987).
    *Statistical methods in cancer research, vol. II*. IARC.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"x": [10, 40], "n": [1000, 2000], "w": [60000, 40000]})
    >>> r = dsr(d, "x", "n", "w")
    >>> round(r.estimate, 1), round(r.ci_low, 1), round(r.ci_high, 1)
    (1400.0, 984.2, 1913.4)
    """
    level = check_level(level)
    multiplier = check_multiplier(multiplier)
    keys = group_list(groups)
    require_columns(df, [count, population, standard, *keys], what="df")
    x = _counts_column(df, count)
    n = numeric_column(df, population, what="populations above 0", allow_nan=False)
    w = numeric_column(
        df, standard, what="a standard population for every row (0 or more)", allow_nan=False
    )
    check_counts(np.nan_to_num(x), n, df.index, (count, population), proportion=False, whole=False)
    reject_rows(
        w < 0,
        "the standard population cannot be negative",
        column=standard,
        index=df.index,
        values=w,
        allowed="numbers of 0 or more",
    )
    work = df[keys].copy()
    work["_x"], work["_n"], work["_w"] = np.nan_to_num(x), n, w
    rows = []
    for key, part in split_groups(work, keys):
        xs, ns, ws = part["_x"].to_numpy(), part["_n"].to_numpy(), part["_w"].to_numpy()
        rows.append({**key, **_dsr_values(xs, ns, ws, level, multiplier)})
    table = pd.DataFrame(rows)
    notes = tuple(sorted({r for r in table["note"] if r}))
    return IndicatorTable(
        table=table,
        statistic=f"dsr per {multiplier:g}",
        method="Dobson",
        level=level,
        groups=tuple(keys),
        notes=notes,
    )


def _reference_column(df: pd.DataFrame, ref: Any, name: str, keys: list[str]) -> np.ndarray:
    """A reference column by name, or a vector (one value per row of each group, by position,
    as PHE's ``refpoptype = "vector"``)."""
    if isinstance(ref, str):
        require_columns(df, [ref], what="df")
        return numeric_column(df, ref, what="numbers of 0 or more")
    arr = np.asarray(ref, dtype=float).ravel()
    if arr.size == len(df):
        return arr
    out = np.full(len(df), np.nan)
    pos = pd.Series(np.arange(len(df)), index=df.index)
    for _, part in split_groups(df.assign(_pos=pos.to_numpy()), keys):
        if len(part) != arr.size:
            raise DataError(
                f"{name} has {arr.size} values but a group has {len(part)} rows",
                rows=list(part.index),
                allowed=f"a column name, or one {name} value per row of each group",
            )
        out[part["_pos"].to_numpy()] = arr
    return out


def isr(
    df: pd.DataFrame,
    count: str,
    population: str,
    ref_count: Any,
    ref_population: Any,
    groups: Any = None,
    kind: str = "ratio",
    multiplier: float | None = None,
    level: float = 0.95,
) -> IndicatorTable:
    """Indirect standardisation: a standardised ratio (SMR) or an indirectly standardised rate.

    Expected events :math:`E = \\sum_i n_i\\, x^{ref}_i / n^{ref}_i` over the age bands,
    observed :math:`O = \\sum_i x_i`. With ``kind="ratio"`` the estimate is
    :math:`O/E \\times` ``multiplier`` (PHE's ``refvalue``, default 1), as
    ``calculate_ISRatio``; with ``kind="rate"`` it is :math:`O/E` times the reference rate
    :math:`\\sum x^{ref} / \\sum n^{ref} \\times` ``multiplier`` (default 100,000), as
    ``calculate_ISRate``. Limits replace :math:`O` by its exact Poisson limits when
    :math:`O < 10` and Byar's limits otherwise. Missing counts and populations count as 0.

    Parameters
    ----------
    df
        One row per age band (within each group).
    count, population
        Column names: observed events and population.
    ref_count, ref_population
        Reference events and population per age band: column names (PHE's
        ``refpoptype = "field"``) or vectors with one value per row of each group.
    groups
        Optional column name (or list of names).
    kind
        ``"ratio"`` or ``"rate"``.
    multiplier
        1 for a ratio (``100`` gives the ratio × 100), 100,000 for a rate, unless given.
    level
        Confidence level.

    Returns
    -------
    IndicatorTable
        ``to_frame()``: group columns, ``estimate``, ``ci_low``, ``ci_high``, ``observed``,
        ``expected``, ``ref_rate`` (rates), ``level``, ``statistic``, ``method``
        (``"byar"`` or ``"exact"``).

    Raises
    ------
    DataError
        Negative counts or populations, reference populations of zero or less.

    References
    ----------
    Breslow NE, Day NE (1987). *Statistical methods in cancer research, vol. II*. IARC.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"x": [5, 20], "n": [1000, 2000], "rx": [300, 900], "rn": [100000, 100000]})
    >>> r = isr(d, "x", "n", "rx", "rn")
    >>> round(r.estimate, 4), r.to_frame()["expected"].round(1).tolist()
    (1.1905, [21.0])
    """
    check_choice("kind", kind, ("ratio", "rate"))
    level = check_level(level)
    if multiplier is None:
        multiplier = 1.0 if kind == "ratio" else 100_000.0
    multiplier = check_multiplier(multiplier)
    keys = group_list(groups)
    require_columns(df, [count, population, *keys], what="df")
    x = np.nan_to_num(_counts_column(df, count))
    n = np.nan_to_num(numeric_column(df, population, what="populations of 0 or more"))
    check_counts(x, n, df.index, (count, population), proportion=False, whole=False, zero_n=True)
    rx = _reference_column(df, ref_count, "ref_count", keys)
    rn = _reference_column(df, ref_population, "ref_population", keys)
    ref_names = (
        ref_count if isinstance(ref_count, str) else "ref_count",
        ref_population if isinstance(ref_population, str) else "ref_population",
    )
    check_counts(np.nan_to_num(rx), rn, df.index, ref_names, proportion=False, whole=False)
    work = df[keys].copy()
    work["_x"], work["_n"], work["_rx"], work["_rn"] = x, n, rx, rn
    rows = []
    for key, part in split_groups(work, keys):
        observed = float(part["_x"].sum())
        expected = float((np.nan_to_num(part["_rx"]) / part["_rn"] * part["_n"]).sum())
        reject_rows(
            np.full(len(part), expected <= 0),
            "the group's expected count is zero (its populations, or the reference "
            "counts, are all zero)",
            column=population,
            index=part.index,
            allowed="a population above 0 in at least one age band with reference events",
        )
        if kind == "rate":
            scale = float(np.nansum(part["_rx"]) / part["_rn"].sum() * multiplier)
        else:
            scale = multiplier
        lo, hi, method = count_limits(np.array([observed]), level)
        row = {
            **key,
            "estimate": observed / expected * scale,
            "ci_low": float(lo[0]) / expected * scale,
            "ci_high": float(hi[0]) / expected * scale,
            "observed": observed,
            "expected": expected,
        }
        if kind == "rate":
            row["ref_rate"] = scale
        statistic = (
            f"indirectly standardised ratio x {multiplier:g}"
            if kind == "ratio"
            else f"indirectly standardised rate per {multiplier:g}"
        )
        row.update(level=level, statistic=statistic, method=str(method[0]))
        rows.append(row)
    table = pd.DataFrame(rows)
    methods = sorted(set(table["method"]))
    return IndicatorTable(
        table=table,
        statistic=table["statistic"].iloc[0],
        method=" and ".join(methods),
        level=level,
        groups=tuple(keys),
    )
