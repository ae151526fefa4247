"""The needs-assessment page's sections ("where you are starting from"), one function each.

:func:`analyse` reads the area's needs data and indicator definitions once, computes the
tables with :mod:`evalkit.needs` (the PHE indicator methods of :mod:`evalkit.indicators`) and
declares every count the page shows in the page's disclosure register
(:class:`evalkit.disclosure.Register`):

- ``n.<indicator>`` the area's numerator in the latest year (denominators, such as births,
  are not shown);
- ``n.<indicator>.y<year>`` the numerator in earlier years (trend points);
- ``n.<indicator>.q<decile>`` the numerator by deprivation decile (with ``n.<indicator>`` as
  their total, so a hidden decile cannot be worked out by subtraction).

A value or interval is a figure built on its numerator (:meth:`Register.derived`): it is not
shown where its numerator is hidden, in tables, charts and sentences alike. The benchmark's
values (national totals) are not counts of the area and are shown as they are.

Each section function takes the :class:`NeedsAnalysis` and returns a
:class:`~evalkit.reports.page.Section`; the template ``templates/needs_assessment.ipynb`` is
its parameters cell plus one short cell per section.
"""

from __future__ import annotations

import datetime
import html
import os
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ... import __version__
from ... import needs as nd
from ...disclosure import Register
from ...tables import report_table
from .. import page
from ..page import Section

__all__ = [
    "NEEDS_PARAMETERS",
    "NeedsAnalysis",
    "needs_parameters",
    "analyse",
    "summary",
    "spine",
    "standardised",
    "inequality",
    "trends",
    "methods",
    "check",
]

#: the page's parameters (a subset of the area's, :class:`evalkit.reports.params.AreaParams`)
NEEDS_PARAMETERS = ("area_id", "area_name", "needs_data", "needs_indicators", "needs_benchmark",
                    "suppression_threshold", "data_source", "synthetic")  # fmt: skip

#: how each statistic's value and interval are worked out (the methods section)
METHODS = {
    "proportion": "Proportion with a Wilson score interval (PHEindicatormethods "
    "phe_proportion, wilson_lower / wilson_upper).",
    "rate": "Crude rate with Byar's interval, exact Poisson below 10 events "
    "(PHEindicatormethods phe_rate, byars_lower / byars_upper).",
    "dsr": "Directly standardised rate on the data's standard population (such as the 2013 "
    "European Standard Population) with Dobson's interval; no value below 10 events (PHEindicatormethods calculate_dsr).",
}
TREND_METHOD = {
    "proportion": "chi-square test for trend on the last five points",
    "rate": "Poisson regression on the last five points",
    "dsr": "Poisson regression on the last five points (crude counts)",
}


@dataclass
class NeedsAnalysis:
    """The checked parameters, the tables of :mod:`evalkit.needs` and the page's register."""

    params: dict[str, Any]
    register: Register
    findings: page.Findings = field(default_factory=page.Findings)
    meta: pd.DataFrame | None = None
    summary: pd.DataFrame | None = None
    inequality: pd.DataFrame | None = None
    deciles: dict[str, pd.DataFrame] = field(default_factory=dict)
    trends: pd.DataFrame | None = None
    standardised: pd.DataFrame | None = None
    year: Any = None
    problem: str | None = None

    @property
    def benchmark_name(self) -> str:
        """The benchmark in words."""
        bench = self.params["needs_benchmark"]
        return "the national figure" if bench == "NAT" else f"the benchmark ({bench})"

    def shown(self, name: str) -> bool:
        """Whether the indicator's value in the latest year may be shown."""
        key = f"v.{name}"
        return key in self.register.declared and not self.register.hidden(key)


def needs_parameters(values: Mapping[str, Any] | Any) -> dict[str, Any]:
    """The page's parameters from a notebook's ``globals()`` (other keys are ignored, missing
    ones take the area parameters' defaults)."""
    from ..params import AreaParams

    given = {k: v for k, v in dict(values).items() if k in NEEDS_PARAMETERS}
    full = AreaParams.model_construct(**given).model_dump()
    return {k: full[k] for k in NEEDS_PARAMETERS}


def _int(x: Any) -> int:
    return int(round(float(x)))


def analyse(values: Mapping[str, Any] | Any) -> NeedsAnalysis:
    """Read the needs data, compute the page's tables and declare its counts (nothing shown).

    A problem that stops the whole page (a file that cannot be read, an area not in the data)
    is kept in ``problem`` and shown by :func:`summary`; a problem with one part is shown in
    that part's section.
    """
    from ...errors import DataError, EvalkitError
    from ..inputs import read_table

    p = needs_parameters(values)
    a = NeedsAnalysis(p, Register(threshold=int(p["suppression_threshold"])))
    try:
        data = read_table(p["needs_data"])
        a.meta = read_table(p["needs_indicators"])
    except EvalkitError as exc:
        a.problem = exc.message if isinstance(exc, DataError) else str(exc)
        a.register.finalise()
        return a
    # the tables below come from the same two tables: check them once, deciles once
    with nd._shared(data, a.meta):
        _compute(a, data)
    return a


def _compute(a: NeedsAnalysis, data: pd.DataFrame) -> None:
    from ...errors import DataError, EvalkitError

    p = a.params
    try:
        a.summary = nd.area_summary(data, a.meta, p["area_id"], benchmark_id=p["needs_benchmark"])
    except EvalkitError as exc:
        a.problem = exc.message if isinstance(exc, DataError) else str(exc)
        a.register.finalise()
        return
    a.year = a.summary["year"].iloc[0]
    run = a.findings.run
    a.inequality = run("inequality", nd.inequality_table, data, a.meta, p["area_id"])
    a.trends = run("trends", nd.trend_table, data, a.meta, p["area_id"],
                   benchmark_id=p["needs_benchmark"])  # fmt: skip
    a.standardised = run("standardised", nd.standardised_table, data, a.meta, p["area_id"],
                         benchmark_id=p["needs_benchmark"])  # fmt: skip
    for name in a.summary.index:
        dv = run("inequality", nd.decile_values, data, a.meta, p["area_id"], name)
        if dv is not None:
            a.deciles[name] = dv
    _declare(a)


def _declare(a: NeedsAnalysis) -> None:
    reg = a.register
    for name, row in a.summary.iterrows():
        reg.count(f"n.{name}", _int(row["count"]))
        reg.derived(f"v.{name}", [f"n.{name}"])
        dv = a.deciles.get(name)
        if dv is not None and len(dv):
            keys = [reg.count(f"n.{name}.q{int(q)}", _int(c))
                    for q, c in zip(dv["decile"], dv["count"])]  # fmt: skip
            reg.total(f"n.{name}", keys)
            for k in keys:
                reg.derived(k.replace("n.", "v.", 1), [k])
    if a.trends is not None:
        own = a.trends[a.trends["area_id"] == a.params["area_id"]]
        for _, row in own.iterrows():
            key = f"n.{row['indicator']}" + ("" if row["year"] == a.year else f".y{row['year']}")
            reg.count(key, _int(row["count"]))
            reg.derived(key.replace("n.", "v.", 1), [key])
    reg.finalise()


def check(a: NeedsAnalysis) -> None:
    """Audit the page's register once more at the end (a page whose hidden counts could be
    worked out raises :class:`~evalkit.errors.ReportError` and is withheld)."""
    a.register.check()


# -- formatting -----------------------------------------------------------------------------------


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or not np.isfinite(float(value)):
        return "-"
    return f"{float(value):,.{digits}f}"


def _unit(row: Mapping[str, Any]) -> str:
    if row["statistic"] == "proportion" and float(row["multiplier"]) == 100:
        return "%"  # written without a space: 11.6%
    return f"per {float(row['multiplier']):,.0f}"


def _with_unit(value: Any, row: Mapping[str, Any]) -> str:
    unit = _unit(row)
    return _fmt(value) + (unit if unit == "%" else f" {unit}")


def _failed(a: NeedsAnalysis, section: str) -> page.Block:
    return a.findings.show(section)


# -- the sections ---------------------------------------------------------------------------------


def summary(a: NeedsAnalysis) -> Section:
    """Title, the synthetic-data banner, the link to the area report and what stands out."""
    p = a.params
    when = f" · {a.year}" if a.year is not None else ""
    blocks: list[Any] = [page.title(p["area_name"], f"Needs assessment: where you are "
                                                    f"starting from{when}")]  # fmt: skip
    if p["synthetic"]:
        blocks.append(page.synthetic_banner())
    link = html.escape(f"{p['area_id']}.html")
    blocks.append(page.Block(f'<p>This page describes the population the services in '
                             f'{html.escape(p["area_name"])} serve. The evaluation of the '
                             f'services is in the <a href="{link}">area report</a>.</p>'))  # fmt: skip
    if a.problem:
        lines = [f"The needs assessment could not be made: {a.problem}."]
        blocks.append(page.summary_box(lines, heading_text="What stands out"))
        return Section("summary", tuple(blocks))
    shown = a.summary[[a.shown(n) for n in a.summary.index]]
    lines = nd.summary_sentences(shown, a.inequality, area_name=p["area_name"],
                                 benchmark_name=a.benchmark_name)  # fmt: skip
    hidden = len(a.summary) - len(shown)
    if hidden:
        lines.append(f"{hidden} indicator(s) are not shown: their numbers are too small to "
                     "publish safely.")  # fmt: skip
    blocks.append(page.summary_box(lines or ["Nothing stands out."],
                                   heading_text="What stands out"))  # fmt: skip
    return Section("summary", tuple(blocks))


def spine(a: NeedsAnalysis) -> Section:
    """The spine chart and the table of the area's indicators (value, interval, benchmark,
    comparison, trend), in the style of the Fingertips area profiles."""
    if a.summary is None:
        return Section("spine")
    from ...plots.needs import spine_chart

    reg, s = a.register, a.summary
    value = "Value (95% interval)"
    table = pd.DataFrame(
        {
            "Indicator": s["label"],
            "Count": s["count"].round().astype(int),
            value: [f"{_with_unit(r['value'], r)} ({_fmt(r['ci_low'])} to {_fmt(r['ci_high'])})"
                    for _, r in s.iterrows()],
            "Benchmark": [_with_unit(r["benchmark"], r) for _, r in s.iterrows()],
            "Compared": s["comparison"],
            "Trend": s["trend"],
        }
    ).set_index("Indicator")  # fmt: skip
    hidden = pd.DataFrame(False, index=table.index, columns=table.columns)
    for i, name in enumerate(s.index):
        hidden.iloc[i, 0] = reg.hidden(f"n.{name}")
        for col in (value, "Compared", "Trend"):
            hidden.iloc[i, table.columns.get_loc(col)] = not a.shown(name)
    drawn = s[[a.shown(n) for n in s.index]]
    blocks: list[Any] = [
        page.heading("Indicators compared with the benchmark"),
        page.paragraph(
            f"Each row is one indicator in {a.year}. The centre line is {a.benchmark_name}; "
            "the light band runs from the worst to the best area and the darker band covers "
            "the middle half of the areas. Better is always to the right. The marker's colour, "
            "its shape and the word beside it say how the area compares: better, similar or "
            "worse than the benchmark at the 95% level (higher or lower where neither is "
            "better)."
        ),
    ]
    if len(drawn):
        fig = spine_chart(drawn, area_name=a.params["area_name"])
        words = "; ".join(f"{r['label']}: {r['comparison']}" for _, r in drawn.iterrows())
        blocks.append(page.figure(fig, alt=f"Spine chart of {len(drawn)} indicators. {words}.",
                                  caption="Spine chart: the area against the benchmark and "
                                  "the range of areas"))  # fmt: skip
    blocks.append(report_table(table, caption=f"The area's indicators in {a.year} (trend: the last five years)",
                               hidden=hidden, count_cols=["Count"],
                               index=True))  # fmt: skip
    counts = tuple(f"n.{n}" for n in s.index)
    return Section("spine", tuple(blocks), counts=counts)


def standardised(a: NeedsAnalysis) -> Section:
    """Age-standardised rates beside the crude rates, where the data give age bands."""
    st = a.standardised
    if st is None or not len(st):
        return Section("standardised", (_failed(a, "standardised"),))
    area = a.params["area_id"]
    rows, hidden = [], []
    for _, r in st.iterrows():
        own = r["area_id"] == area
        who = a.params["area_name"] if own else a.benchmark_name
        dsr = (f"{_fmt(r['dsr'])} ({_fmt(r['dsr_ci_low'])} to {_fmt(r['dsr_ci_high'])})"
               if np.isfinite(r["dsr"]) else "no value (fewer than 10 events)")  # fmt: skip
        crude = f"{_fmt(r['crude'])} ({_fmt(r['crude_ci_low'])} to {_fmt(r['crude_ci_high'])})"
        rows.append({"Indicator": r["label"], "Area": who,
                     "Events": _int(r["count"]) if own else pd.NA,
                     "Standardised rate (95% interval)": dsr,
                     "Crude rate (95% interval)": crude})  # fmt: skip
        h = own and a.register.hidden(f"n.{r['indicator']}")
        hidden.append([False, False, h, h, h])
    table = pd.DataFrame(rows)
    mask = pd.DataFrame(hidden, columns=table.columns)
    blocks = (
        page.heading("Age-standardised rates"),
        page.paragraph(
            "Where the data give age bands, rates are directly standardised to the data's "
            "standard population (such as the 2013 European Standard Population), so areas "
            "with older or younger populations can be compared fairly. The crude rate (events per person, all ages together) is shown "
            "beside it. Each rate is per the number of people its label names; the benchmark's "
            "events are not shown."
        ),
        report_table(
            table,
            caption=f"Age-standardised and crude rates in {a.year}",
            hidden=mask,
            count_cols=["Events"],
            index=False,
        ),  # fmt: skip
        _failed(a, "standardised"),
    )
    return Section("standardised", blocks,
                   counts=tuple(f"n.{n}" for n in st["indicator"].unique()))  # fmt: skip


def inequality(a: NeedsAnalysis) -> Section:
    """Inequality by deprivation decile: the slope and relative indices (SII, RII) with
    a chart per indicator."""
    iq = a.inequality
    if iq is None or not len(iq):
        return Section("inequality", (_failed(a, "inequality"),))
    from matplotlib.figure import Figure

    from ...plots.needs import (
        SII_LABELS,
        bottom_x_labels,
        fewer_y_ticks,
        panel_grid,
        sii_panel,
    )
    from ...plots.style import use_house_style

    reg = a.register
    table = pd.DataFrame(
        {
            "Indicator": iq["label"],
            "SII (95% interval)": [f"{_fmt(r['sii'])} ({_fmt(r['ci_low'])} to "
                                   f"{_fmt(r['ci_high'])})" for _, r in iq.iterrows()],
            "RII (95% interval)": [f"{_fmt(r['rii'], 2)} ({_fmt(r['rii_ci_low'], 2)} to "
                                   f"{_fmt(r['rii_ci_high'], 2)})" for _, r in iq.iterrows()],
            "Worse in": iq["gap_worse_in"],
        }
    )  # fmt: skip
    use_house_style()
    cols, n = 2, len(iq)
    rows = int(np.ceil(n / cols))
    # fixed margins (inches) instead of a layout engine: room for the two-line titles, the
    # tick labels and axis titles, and one legend for all panels at the foot
    fig = Figure(figsize=(11, 3.6 * rows + 0.4))
    axes = panel_grid(fig, n, cols, left=0.8, right=0.55, bottom=0.95, wgap=1.3, above=0.5,
                       below=0.6, below_inner=0.2)  # fmt: skip
    left_out = 0
    for ax, (name, row) in zip(axes, iq.iterrows()):
        dv = a.deciles[name]
        keep = [not reg.hidden(f"v.{name}.q{int(q)}") for q in dv["decile"]]
        left_out += len(dv) - sum(keep)
        unit = _unit(a.summary.loc[name]) if name in a.summary.index else ""
        title = textwrap.shorten(str(row["label"]), 70, placeholder="...")
        sii_panel(ax, dv[keep], row, title=title, unit=f" {unit}")
        fewer_y_ticks(ax, 7)
    bottom_x_labels(axes, cols)  # the same x scale in every panel
    handles = {}
    for ax in axes:
        for h, label in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(label, h)
    fig.legend([handles[k] for k in SII_LABELS if k in handles],
               [k for k in SII_LABELS if k in handles], loc="lower center",
               bbox_to_anchor=(0.5, 0.0), ncol=2, fontsize=8)  # fmt: skip
    words = "; ".join(f"{r['label']}: SII {_fmt(r['sii'])}, worse in {r['gap_worse_in']}"
                      for _, r in iq.iterrows())  # fmt: skip
    note = (f" {left_out} decile values are not drawn: their numbers are too small to publish "
            "safely (the slope still uses them)." if left_out else "")  # fmt: skip
    blocks = (
        page.heading("Inequality by deprivation decile"),
        page.paragraph(
            "The slope index of inequality (SII) is the modelled gap in an indicator between the "
            "least and the most deprived ends of the area, from a regression across the ten "
            "deprivation deciles weighted by their populations; a positive SII means higher "
            "values in the less deprived neighbourhoods. The relative index (RII) is the ratio "
            "of the two ends. Intervals are simulated (PHE's method)." + note
        ),
        page.figure(
            fig,
            alt=f"Values by deprivation decile, with the fitted gradient, for "
            f"{n} indicators. {words}.",
            caption="Values by deprivation decile (1 = most deprived) with 95% "
            "intervals and the fitted slope",
        ),  # fmt: skip
        report_table(
            table,
            caption=f"Slope and relative indices of inequality in {a.year}",
            suppress=False,
            index=False,
        ),  # fmt: skip
        _failed(a, "inequality"),
    )
    counts = tuple(k for k in reg.declared if ".q" in k and k.startswith("n."))
    return Section("inequality", blocks, counts=counts)


def trends(a: NeedsAnalysis) -> Section:
    """Small-multiple trend charts: the area and the benchmark, year by year."""
    tt = a.trends
    if tt is None or not len(tt):
        return Section("trends", (_failed(a, "trends"),))
    from ...plots.needs import trend_multiples

    p, reg = a.params, a.register

    def visible(row: pd.Series) -> bool:
        if row["area_id"] != p["area_id"]:
            return True
        key = f"v.{row['indicator']}" + ("" if row["year"] == a.year else f".y{row['year']}")
        return not reg.hidden(key)

    shown = tt[tt.apply(visible, axis=1)]
    fig = trend_multiples(shown, area_id=p["area_id"], benchmark_id=p["needs_benchmark"],
                          area_name=p["area_name"], benchmark_name=a.benchmark_name)  # fmt: skip
    marks = a.summary["trend"] if a.summary is not None else pd.Series(dtype=str)
    words = "; ".join(f"{a.summary.loc[k, 'label']}: {v}" for k, v in marks.items())
    blocks = (
        page.heading("Trends"),
        page.paragraph(
            f"Each panel is one indicator: {p['area_name']} year by year (blue circles, solid "
            f"line, shaded 95% interval) and {a.benchmark_name} (black squares, dashed line). "
            "The trend in the table above is the Fingertips marker on the last five points."
        ),
        page.figure(
            fig,
            alt=f"Small multiples of {tt['indicator'].nunique()} indicators over "
            f"time. Recent trends: {words}.",
            caption="Trends: the area and the benchmark",
        ),  # fmt: skip
        _failed(a, "trends"),
    )
    counts = tuple(k for k in reg.declared if ".y" in k and k.startswith("n."))
    return Section("trends", blocks, counts=counts)


def methods(a: NeedsAnalysis) -> Section:
    """Which PHE method each number uses, the data's sources and the input files."""
    from ..params import file_digest

    p = a.params
    blocks: list[Any] = [page.heading("Methods and sources")]
    if a.meta is not None:
        meta = a.meta.set_index("indicator")
        rows = [
            {
                "Indicator": meta.loc[n, "label"],
                "Value and interval": METHODS.get(meta.loc[n, "statistic"], ""),
                "Trend": TREND_METHOD.get(meta.loc[n, "statistic"], ""),
                "Polarity": meta.loc[n, "polarity"],
                "Source": str(meta.loc[n, "source"]) if "source" in meta else "not stated",
            }
            for n in meta.index
        ]
        blocks.append(report_table(pd.DataFrame(rows), caption="How each indicator is worked out",
                                   suppress=False, index=False))  # fmt: skip
    files = {k: p[k] for k in ("needs_data", "needs_indicators") if p[k] and os.path.isfile(p[k])}
    prov = pd.DataFrame([(k, os.path.basename(v), file_digest(v)[:16]) for k, v in files.items()],
                        columns=["Input", "File", "SHA-256 (first 16)"])  # fmt: skip
    blocks += [
        page.bullets(
            [
                "Comparison with the benchmark: better, similar or worse (higher, similar or "
                "lower where neither is better) by whether the 95% interval includes the "
                "benchmark, as the Fingertips profiles (evalkit.indicators.compare).",
                "Inequality: slope and relative index of inequality by PHE's method (phe_sii), "
                "a weighted regression on the deciles' cumulative population midpoints with a "
                "simulated interval (evalkit.indicators.sii).",
                "Colours are the colour-blind-safe Okabe-Ito palette, and every colour also has a "
                "word and a marker shape.",
            ]
        ),  # fmt: skip
        page.paragraph(p["data_source"] or "Data source not stated."),
        page.paragraph(
            f"Made with evalkit {__version__} on {datetime.date.today():%d %B %Y}. Counts "
            f"under {p['suppression_threshold']} are suppressed (shown as c), with the values "
            "and intervals built on them, and other counts are hidden where needed so that "
            "none can be worked out from the others."
        ),
        report_table(
            prov, caption="Input files and their fingerprints", suppress=False, index=False
        ),  # fmt: skip
    ]
    return Section("methods", tuple(blocks))
