"""The cross-area synthesis page: one function per section, each returning a :class:`Section`.

:func:`analyse` reads the areas' records (``areas/<id>.json``), declares every count the page
may publish in the page's disclosure register (the per-area numbers of people, the indicator's
events and totals) and pools the areas once. Counts of areas ("4 areas") go through a second
register whose threshold is 1: they count areas, not people, so they are never small.

Each area enters the pooling with ONE interval, its own report's (the record's ``effect``
``ci_low``/``ci_high``, a t interval when it has few settings). Its standard error for the
inverse-variance weights is recovered from that interval,
``se = (ci_high - ci_low) / (2 z_{1-alpha/2})`` (Cochrane Handbook 6.5.2.2), so the forest
plot and the table show exactly the interval of the area's report. See docs/meta-analysis.md,
"How areas with few clusters enter the pooling".

An area whose record has ``problem`` set, no effect, no comparison group or another
questionnaire is listed as not pooled, with the reason.
"""

from __future__ import annotations

import datetime
import json
import math
import re
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from ... import __version__, tools
from ...disclosure import Register
from ...errors import DataError, EvalkitError
from ...tables import report_table
from .. import page
from ..page import Findings, Section

__all__ = [
    "SynthesisAnalysis",
    "analyse",
    "read_records",
    "finite",
    "se_from_interval",
    "moderator_table",
    "summary",
    "effects",
    "small_studies",
    "moderators",
    "measurement",
    "indicators",
    "maturity_matrix",
    "methods",
]

#: fewer areas than this: the small-study checks have little power (Sterne et al. 2011)
FEW_FOR_BIAS = 10
#: a moderator computed from the record: the mean of the area's maturity-matrix dimensions
MATURITY = "maturity"
_DEFAULTS = {
    "results": "reports/areas",
    "indicators": "",
    "indicator": "",
    "indicator_label": "",
    "matrix": "",
    "moderators": [],
    "areas_table": "",
    "suppression_threshold": 10,
    "synthetic": False,
}


def se_from_interval(ci_low: float, ci_high: float, level: float = 0.95) -> float:
    """The standard error consistent with a reported confidence interval.

    ``se = (ci_high - ci_low) / (2 z)`` with ``z`` the normal quantile at ``1 - alpha/2``
    (Cochrane Handbook for Systematic Reviews of Interventions, section 6.5.2.2), so that
    ``estimate ± z · se`` is the reported interval again when it is symmetric.

    >>> round(se_from_interval(-2.30, -0.99), 4)
    0.3342
    """
    z = float(stats.norm.ppf(0.5 + float(level) / 2))
    return (float(ci_high) - float(ci_low)) / (2 * z)


def _id_order(path: Path) -> tuple[list[tuple[int, int | str]], str]:
    """Sort key of a record's file: its name with runs of digits compared as numbers."""
    parts = [(0, int(part)) if part.isdigit() else (1, part)
             for part in re.split(r"(\d+)", path.stem) if part]  # fmt: skip
    return parts, path.name  # the name breaks ties (A01 and A1)


def read_records(folder: str | Path) -> list[dict[str, Any]]:
    """Every area's record (``<area>.json``), sorted by area id.

    Runs of digits in the ids sort as numbers (``A9``, ``A10``, ``A100``), so a national
    run's 175 areas keep their order (``A99`` before ``A100``, not ``A10`` before ``A100``
    before ``A11``).
    Raises a DataError naming the folder when it holds none, or a file when it is not JSON.
    """
    files = sorted(Path(folder).glob("*.json"), key=_id_order)
    if not files:
        raise DataError("no area results found: render the areas first", file=Path(folder).name,
                        allowed="a folder of <area>.json files")  # fmt: skip
    out = []
    for f in files:
        try:
            out.append(json.loads(f.read_text(encoding="utf-8")))
        except ValueError as exc:
            raise DataError(f"not valid JSON ({exc})", file=f.name) from None
    return out


def finite(value: Any) -> float | None:
    """``value`` as a float, or None when it is missing, not a number or infinite."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass
class SynthesisAnalysis:
    """Everything the synthesis sections show, computed once (see :func:`analyse`)."""

    params: dict[str, Any]
    register: Register
    areas_register: Register
    found: Findings
    records: list[dict[str, Any]]
    tool: Any = None
    short: str = ""
    higher_is_better: bool = False
    pooled: pd.DataFrame | None = None
    not_pooled: list[tuple[str, str]] = field(default_factory=list)
    meta: Any = None
    by_design: dict[str, Any] = field(default_factory=dict)
    egger: Any = None
    trimfill: Any = None
    regressions: dict[str, Any] = field(default_factory=dict)
    moderator_problems: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    indicator_totals: pd.DataFrame | None = None


def _run(s: SynthesisAnalysis, section: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(...)``; warnings kept for the analyst, a failure's plain message for the reader."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except EvalkitError as exc:
            s.found.add(section, str(exc), kind="alert")
            s.failed.setdefault(section, exc.message if isinstance(exc, DataError) else str(exc))
            result = None
    for w in caught:
        if issubclass(w.category, UserWarning):
            s.found.add(section, str(w.message), kind="warning")
    return result


def _why_not_pooled(r: Mapping[str, Any], tool: str) -> str | None:
    if r.get("problem"):
        return f"not estimated: {r['problem']}"
    if r.get("outcome_tool") != tool:
        return f"measured with another questionnaire ({str(r.get('outcome_tool')).upper()})"
    if r.get("design") == "prepost":
        return "before and after only, with no comparison group"
    e = r.get("effect") or {}
    if any(finite(e.get(k)) is None for k in ("estimate", "ci_low", "ci_high")):
        return "no estimate of the effect"
    if finite(e["ci_high"]) <= finite(e["ci_low"]):
        return "no usable interval for the effect"
    return None


def _declare(s: SynthesisAnalysis) -> None:
    """Every count of people the page may show, by name; None in a record stays hidden."""
    reg = s.register
    for r in s.records:
        aid = str(r["area_id"])
        for key in ("n_treated", "n_comparison"):
            v = r.get(key)
            reg.count(f"{key}.{aid}", 0 if v is None else int(v), hide=v is None)
        rel = r.get("reliability") or {}
        if finite(rel.get("estimate")) is not None:
            n = rel.get("n")
            reg.count(f"alpha_n.{aid}", 0 if n is None else int(n), hide=n is None)


def _pool(s: SynthesisAnalysis) -> None:
    from ...designs import meta_analysis

    rows = []
    for r in s.records:
        why = _why_not_pooled(r, s.params["tool_name"])
        name = str(r.get("area_name") or r["area_id"])
        if why is not None:
            s.not_pooled.append((name, why))
            continue
        e = r["effect"]
        level = finite(e.get("level")) or 0.95
        rows.append({"area_id": str(r["area_id"]), "Area": name, "design": r.get("design"),
                     "estimate": float(e["estimate"]), "ci_low": float(e["ci_low"]),
                     "ci_high": float(e["ci_high"]), "level": level,
                     "se_pool": se_from_interval(e["ci_low"], e["ci_high"], level),
                     "se_method": e.get("se_method"), "method": e.get("method")})  # fmt: skip
    s.pooled = pd.DataFrame(rows)
    if len(s.pooled) < 2:
        return
    p = s.pooled
    s.meta = _run(s, "effects", meta_analysis, p["estimate"], se=p["se_pool"], labels=p["Area"],
                  method="REML", knha=True)  # fmt: skip
    for design, part in p.groupby("design"):
        if len(part) >= 2:
            s.by_design[str(design)] = _run(s, "effects", meta_analysis, part["estimate"],
                                             se=part["se_pool"], method="REML", knha=True)  # fmt: skip


def moderator_table(
    records: list[Mapping[str, Any]], names: list[str], areas: pd.DataFrame | None = None
) -> pd.DataFrame:
    """One row per area (indexed by ``area_id``), one column per moderator.

    A name is a key of the record (``design``, ``evidence_level``...), a flattened nested key
    (``matrix_Plan``), ``"maturity"`` (the mean of the area's maturity-matrix dimensions) or a
    column of ``areas``, a table of area features with an ``area_id`` column (such as
    deprivation). A value neither gives is missing.
    """
    flat = pd.json_normalize([dict(r) for r in records], sep="_").set_index("area_id")
    flat.index = flat.index.astype(str)
    if areas is not None and "area_id" in areas.columns:
        extra = areas.assign(area_id=areas["area_id"].astype(str)).set_index("area_id")
        flat = flat.join(extra[[c for c in extra.columns if c not in flat.columns]])
    out = pd.DataFrame(index=flat.index)
    for name in names:
        if name == MATURITY:
            out[name] = [np.mean(list(m.values())) if isinstance(m, Mapping) and m else np.nan
                         for m in (r.get("matrix") for r in records)]  # fmt: skip
        elif name in flat.columns:
            out[name] = flat[name]
        else:
            out[name] = np.nan
    return out


def _moderate(s: SynthesisAnalysis) -> None:
    from ...designs import meta_analysis

    names = [str(m) for m in s.params["moderators"]]
    if not names or s.meta is None:
        return
    areas = None
    if s.params["areas_table"]:
        from ..inputs import read_table

        areas = read_table(s.params["areas_table"])
    table = moderator_table(s.records, names, areas).reindex(s.pooled["area_id"])
    for name in names:
        col = table[name]
        if col.isna().any():
            s.moderator_problems[name] = "not known for every pooled area"
            continue
        if col.nunique() < 2:
            s.moderator_problems[name] = "the same in every pooled area"
            continue
        if len(col) < 3:
            s.moderator_problems[name] = "too few areas to relate it to the effect"
            continue
        fit = _run(s, f"moderator {name}", meta_analysis, s.pooled["estimate"],
                   se=s.pooled["se_pool"], labels=s.pooled["Area"],
                   mods=pd.DataFrame({name: col.to_numpy()}), method="REML", knha=True)  # fmt: skip
        if fit is None:
            s.moderator_problems[name] = s.failed.get(f"moderator {name}", "could not be fitted")
        else:
            s.regressions[name] = fit


def analyse(values: Mapping[str, Any]) -> SynthesisAnalysis:
    """Read the areas' records, declare the page's counts, pool the areas and check bias.

    Parameters
    ----------
    values : mapping
        The synthesis parameters (a notebook passes ``globals()``; other names are ignored).

    Returns
    -------
    SynthesisAnalysis
        With the settled and audited disclosure registers.
    """
    from ...designs import egger_test, trim_and_fill

    p = {k: values.get(k, v) for k, v in _DEFAULTS.items()}
    if isinstance(p["moderators"], str):
        p["moderators"] = [m.strip() for m in p["moderators"].split(",") if m.strip()]
    records = read_records(p["results"])
    threshold = int(p["suppression_threshold"])
    s = SynthesisAnalysis(params=p, register=Register(threshold),
                          areas_register=Register(threshold=1), found=Findings(),
                          records=records)  # fmt: skip
    tools_used = pd.Series([r.get("outcome_tool") for r in records]).dropna()
    p["tool_name"] = str(tools_used.mode().iloc[0]) if len(tools_used) else ""
    s.tool = tools.get(p["tool_name"]) if p["tool_name"] else None
    s.short = p["tool_name"].upper()
    hib = [r.get("higher_is_better") for r in records if r.get("higher_is_better") is not None]
    s.higher_is_better = bool(pd.Series(hib).mode().iloc[0]) if hib else False
    _declare(s)
    _indicator_counts(s)
    _pool(s)
    areas = s.areas_register
    areas.count("areas.all", len(records))
    areas.count("areas.pooled", len(s.pooled))
    areas.count("areas.not_pooled", len(s.not_pooled))
    areas.total("areas.all", ["areas.pooled", "areas.not_pooled"])
    if s.meta is not None and s.meta.k >= 3:
        s.egger = _run(s, "bias", egger_test, s.meta)
        s.trimfill = _run(s, "bias", trim_and_fill, s.meta)
    _moderate(s)
    for reg in (s.register, s.areas_register):
        reg.finalise()
        reg.check()
    return s


def _indicator_counts(s: SynthesisAnalysis) -> None:
    """The indicator's events and totals over the last 12 months, per area, in the register."""
    from ..inputs import read_table

    p = s.params
    s.indicator_totals = None
    if not (p["indicators"] and p["indicator"]):
        return
    table = read_table(p["indicators"])
    table = table[table["indicator"] == p["indicator"]]
    last = table[table["month"] > table["month"].max() - 12]
    totals = last.groupby("area_id")[["numerator", "denominator"]].sum()
    totals.index = totals.index.astype(str)
    recorded = {str(r["area_id"]): r.get("indicator") or {} for r in s.records}
    for aid, row in totals.iterrows():
        rec = recorded.get(aid, {})
        # hidden on the area's own page: hidden here too
        hide = aid in recorded and (rec.get("x") is None or rec.get("n") is None)
        s.register.count(f"ind.x.{aid}", int(row["numerator"]), hide=hide)
        s.register.count(f"ind.n.{aid}", int(row["denominator"]), hide=hide)
        s.register.derived(f"ind.rate.{aid}", [f"ind.x.{aid}", f"ind.n.{aid}"])
    s.indicator_totals = totals


# -- helpers for sentences and tables ---------------------------------------------------------


def _n_areas(s: SynthesisAnalysis, key: str) -> str:
    return s.areas_register.text(key)


def _mask(reg: Register, keys: pd.DataFrame) -> pd.DataFrame:
    return keys.apply(lambda col: col.map(lambda k: bool(k) and reg.hidden(k)))


def _values(reg: Register, keys: pd.DataFrame) -> pd.DataFrame:
    return keys.apply(lambda col: col.map(lambda k: reg.value(k) if k else None).astype("Int64"))


def _reader_few(k: int) -> str:
    return (f"With only {k} areas, this check can easily miss a real problem: it is usually "
            f"trusted only with {FEW_FOR_BIAS} or more, so read it as a rough look, not as "
            "reassurance.")  # fmt: skip


# -- the sections -------------------------------------------------------------------------------


def summary(s: SynthesisAnalysis) -> Section:
    """Title, the synthetic-data banner and the boxed headline findings."""
    p = s.params
    title = s.tool.spec.title if s.tool is not None else "no questionnaire"
    blocks: list[Any] = [page.title("What the areas' evaluations say together",
                                    f"Cross-area synthesis of {_n_areas(s, 'areas.all')} area "
                                    f"reports · {title}")]  # fmt: skip
    if p["synthetic"] or any(r.get("synthetic") for r in s.records):
        blocks.append(page.synthetic_banner())
    lines = []
    m = s.meta
    if m is not None:
        better = (m.estimate > 0) == s.higher_is_better
        sure = m.ci_low > 0 or m.ci_high < 0
        lines.append(
            f"Across the {_n_areas(s, 'areas.pooled')} areas with a comparison group, families "
            f"who used the services had {s.short} scores {abs(m.estimate):.1f} points "
            f"{'lower' if m.estimate < 0 else 'higher'} on average than comparison families "
            f"(95% CI {m.ci_low:.1f} to {m.ci_high:.1f}): "
            + (f"{'better' if better else 'worse'} outcomes." if sure
               else "we cannot tell whether that is a real difference.")
        )  # fmt: skip
        lines.append(m.heterogeneity_text(unit="areas"))
        lines.append(f"In a new area like these, the effect would probably lie between "
                     f"{m.pi_low:.1f} and {m.pi_high:.1f} points.")  # fmt: skip
    if s.not_pooled:
        lines.append(f"{_n_areas(s, 'areas.not_pooled')} area(s) are not pooled (listed under "
                     "the effects).")  # fmt: skip
    if lines:
        blocks.append(page.summary_box(lines))
    return Section("summary", tuple(blocks), counts=("areas.all", "areas.pooled",
                                                      "areas.not_pooled"))  # fmt: skip


def effects(s: SynthesisAnalysis) -> Section:
    """Forest plot and table: each area with its own report's interval, and the pooled effect."""
    reg, short, m = s.register, s.short, s.meta
    blocks: list[Any] = [
        page.heading("Effects of the services across areas"),
        page.paragraph(
            f"Each area estimated the difference in the {short} total between "
            "families who used its service and a comparison group, adjusted for "
            "their scores before. A random-effects meta-analysis (REML with the "
            "Knapp-Hartung adjustment) pools them, allowing the true effect to "
            "differ between areas. Each area is shown, and pooled, with the "
            "interval of its own report."
        ),  # fmt: skip
    ]
    counts: tuple[str, ...] = ()
    p = s.pooled
    if m is not None:
        from ...plots.meta import forest_plot

        blocks.append(page.figure(
            forest_plot(m, intervals=p[["ci_low", "ci_high"]], xlabel=f"difference in {short} points"),
            alt=f"Forest plot of the {short} difference in each area with the 95% confidence "
                "interval of its own report, and the pooled estimate.",
            caption="Each line is an area, with its report's interval; the diamond is the "
                    "pooled estimate."))  # fmt: skip
    if p is not None and len(p):
        keys = pd.DataFrame({"Service": [f"n_treated.{a}" for a in p["area_id"]],
                             "Comparison": [f"n_comparison.{a}" for a in p["area_id"]]},
                            index=pd.Index(p["Area"], name="Area"))  # fmt: skip
        table = pd.concat([pd.DataFrame({"Design": p["design"].to_numpy()}, index=keys.index),
                           _values(reg, keys),
                           pd.DataFrame({"Difference": p["estimate"].to_numpy(),
                                         "95% CI from": p["ci_low"].to_numpy(),
                                         "to": p["ci_high"].to_numpy()}, index=keys.index)],
                          axis=1)  # fmt: skip
        hidden = _mask(reg, keys).reindex(columns=table.columns, fill_value=False)
        blocks.append(report_table(table, caption=f"Difference in the {short} total by area "
                                   "(points; the interval of each area's report)", hidden=hidden,
                                   count_cols=["Service", "Comparison"], digits=2))  # fmt: skip
        counts = tuple(keys.to_numpy().ravel())
    if m is not None:
        tau2_ci = m.tau2_ci or (np.nan, np.nan)
        i2_ci = m.i2_ci or (np.nan, np.nan)
        pooled = pd.DataFrame({"Estimate": [m.estimate, m.tau2, m.i2],
                               "95% CI from": [m.ci_low, tau2_ci[0], i2_ci[0]],
                               "to": [m.ci_high, tau2_ci[1], i2_ci[1]]},
                              index=pd.Index(["Pooled difference (points)",
                                              "Between-area variance (tau²)",
                                              "Share of variation between areas (I², %)"],
                                             name="Statistic"))  # fmt: skip
        blocks.append(report_table(pooled, caption="Pooled estimate and heterogeneity (the "
                                   "intervals of tau² and I² by the Q-profile method)",
                                   suppress=False, digits=2))  # fmt: skip
        if m.k >= 3:
            loo = m.leave_one_out()
            blocks.append(page.paragraph(
                f"Leaving out one area at a time, the pooled difference ranges from "
                f"{loo['estimate'].min():.2f} to {loo['estimate'].max():.2f} points."))  # fmt: skip
    fits = {d: f for d, f in s.by_design.items() if f is not None}
    if fits:
        sub = pd.DataFrame({d: {"Areas": str(f.k), "Pooled difference": f.estimate,
                                "95% CI from": f.ci_low, "to": f.ci_high}
                            for d, f in fits.items()}).T.rename_axis("Design")  # fmt: skip
        blocks.append(report_table(sub, caption="Pooled difference by design (counts of areas)",
                                   suppress=False, digits=2))  # fmt: skip
    if m is None:
        blocks.append(page.callout(f"{_n_areas(s, 'areas.pooled')} area(s) estimated an effect "
                                   "against a comparison group: at least two are needed to "
                                   "pool them.", kind="info"))  # fmt: skip
    if s.not_pooled:
        blocks.append(page.paragraph("Areas not pooled:"))
        blocks.append(page.bullets([f"{name}: {why}." for name, why in s.not_pooled]))
    if "effects" in s.failed:
        blocks.append(page.callout(s.failed["effects"], kind="alert",
                                   heading_text="Could not be estimated:"))  # fmt: skip
    return Section("effects", tuple(blocks), counts=counts)


def small_studies(s: SynthesisAnalysis) -> Section:
    """Funnel plot, Egger's test and trim and fill, in plain words (aggregates only)."""
    m = s.meta
    if m is None:
        return Section("small_studies")
    from ...plots.meta import funnel_plot

    short = s.short
    blocks: list[Any] = [
        page.heading("Do small areas with big effects pull the result?"),
        page.paragraph(
            "Areas with fewer families have wider intervals. If the smaller areas "
            "mostly show bigger effects, the pooled result may be too optimistic "
            "(for example because results that looked disappointing were not "
            "reported). The funnel plot shows each area's difference against its "
            "standard error; without such a pattern the points spread evenly on "
            "both sides of the pooled line, inside the shaded region."
        ),  # fmt: skip
        page.figure(
            funnel_plot(m, filled=s.trimfill, xlabel=f"difference in {short} points"),
            alt=f"Funnel plot: each area's {short} difference against its standard "
            "error, with the pooled estimate and the 95% pseudo-confidence region.",
            caption="Each point is an area (less precise areas lower down); hollow "
            "points are areas trim and fill suggests may be missing.",
        ),  # fmt: skip
    ]
    lines = []
    if m.k < FEW_FOR_BIAS:
        lines.append(_reader_few(m.k))
    eg = s.egger
    if eg is not None:
        lean = ("the smaller areas' results lean to one side more than chance would explain"
                if eg.p < 0.05 else "there is no clear sign that smaller areas' results lean "
                "to one side")  # fmt: skip
        lines.append(f"Egger's test: {lean} (p = {eg.p:.2f}). The effect expected in a very "
                     f"large area is {eg.limit_estimate:.2f} points (95% CI {eg.ci_low:.2f} to "
                     f"{eg.ci_high:.2f}).")  # fmt: skip
    tf = s.trimfill
    if tf is not None:
        if tf.k0 == 0:
            lines.append("Trim and fill found no areas missing on either side, so it leaves "
                         "the pooled difference unchanged.")  # fmt: skip
        else:
            lines.append(f"Trim and fill suggests {tf.k0} area(s) may be missing on the "
                         f"{tf.side} side; adding them moves the pooled difference to "
                         f"{tf.estimate:.2f} points (95% CI {tf.ci_low:.2f} to "
                         f"{tf.ci_high:.2f}).")  # fmt: skip
    if m.k < 3:
        lines.append("Egger's test and trim and fill need at least 3 areas.")
    blocks.append(page.bullets(lines))
    if "bias" in s.failed and (s.egger is None or s.trimfill is None):
        missing = "Egger's test" if s.egger is None else "Trim and fill"
        blocks.append(page.callout(f"{missing} could not be applied to so few areas.",
                                   kind="info"))  # fmt: skip
    return Section("small_studies", tuple(blocks))


def moderators(s: SynthesisAnalysis) -> Section:
    """Meta-regression on each moderator the parameters name (none named: nothing shown)."""
    names = [str(n) for n in s.params["moderators"]]
    if not names or s.meta is None:
        return Section("moderators")
    blocks: list[Any] = [
        page.heading("Do effects depend on the areas' features?"),
        page.paragraph(
            "Each feature is related to the areas' differences on its own, by a "
            "random-effects meta-regression (REML, Knapp-Hartung). With few areas "
            "this can only hint at a pattern; it cannot show that the feature "
            "causes it."
        ),  # fmt: skip
    ]
    lines = []
    for name, fit in s.regressions.items():
        coef = fit.coefficients.drop(index="intrcpt")
        label = name.replace("_", " ")
        table = coef[["estimate", "ci_low", "ci_high", "p"]].rename(
            columns={"estimate": "Coefficient", "ci_low": "95% CI from", "ci_high": "to",
                     "p": "p"}).rename_axis("Term")  # fmt: skip
        blocks.append(report_table(table, caption=f"Meta-regression on {label}",
                                   suppress=False, digits=2))  # fmt: skip
        r2 = f"; it accounts for about {fit.r2:.0f}% of the variation between areas" if (
            fit.r2 is not None and np.isfinite(fit.r2) and fit.r2 > 0) else ""  # fmt: skip
        verdict = ("the effect differs with it more than chance would explain" if fit.qm_p < 0.05
                   else "no clear sign that the effect depends on it")  # fmt: skip
        lines.append(f"{label.capitalize()}: {verdict} (p = {fit.qm_p:.3f}){r2}.")
    for name, why in s.moderator_problems.items():
        lines.append(f"{name.replace('_', ' ').capitalize()}: not examined ({why}).")
    if s.meta.k < FEW_FOR_BIAS:
        lines.append(f"With only {s.meta.k} areas these comparisons are very uncertain.")
    blocks.append(page.bullets(lines))
    return Section("moderators", tuple(blocks))


def measurement(s: SynthesisAnalysis) -> Section:
    """Cronbach's alpha of the main questionnaire by area, with the people it is based on."""
    reg = s.register
    rows = []
    for r in s.records:
        rel = r.get("reliability") or {}
        if r.get("outcome_tool") != s.params["tool_name"] or finite(rel.get("estimate")) is None:
            continue
        rows.append({"Area": str(r.get("area_name") or r["area_id"]),
                     "key": f"alpha_n.{r['area_id']}", "Alpha": float(rel["estimate"]),
                     "95% CI from": finite(rel.get("ci_low")), "to": finite(rel.get("ci_high"))})  # fmt: skip
    if not rows:
        return Section("measurement")
    t = pd.DataFrame(rows).set_index("Area")
    keys = pd.DataFrame({"People": t["key"]})
    table = pd.concat([_values(reg, keys), t[["Alpha", "95% CI from", "to"]]], axis=1)
    hidden = _mask(reg, keys).reindex(columns=table.columns, fill_value=False)
    pub = s.tool.spec.published_alpha()
    blocks = (
        page.heading("Measurement across areas"),
        page.paragraph(
            f"Cronbach's alpha of the {s.short} before the service ranged from "
            f"{t['Alpha'].min():.2f} to {t['Alpha'].max():.2f} across areas"
            + (f" (published: {pub:.2f})." if pub else ".")
        ),  # fmt: skip
        report_table(
            table,
            caption=f"Reliability of the {s.short} by area",
            hidden=hidden,
            count_cols=["People"],
            digits=2,
        ),  # fmt: skip
    )
    return Section("measurement", blocks, counts=tuple(keys["People"]))


def indicators(s: SynthesisAnalysis) -> Section:
    """The population indicator: funnel plot and league table, counts through the register."""
    from ... import indicators as ind

    p, reg, totals = s.params, s.register, getattr(s, "indicator_totals", None)
    if totals is None:
        return Section("indicators")
    label = p["indicator_label"] or p["indicator"].replace("_", " ")
    shown = [a for a in totals.index if not reg.hidden(f"ind.rate.{a}")]
    names = {str(r["area_id"]): str(r.get("area_name") or r["area_id"]) for r in s.records}
    blocks: list[Any] = [page.heading("Population indicators")]
    funnel = _run(s, "indicators", ind.funnel, totals.loc[shown, "numerator"],
                  totals.loc[shown, "denominator"], labels=shown) if len(shown) >= 2 else None  # fmt: skip
    counts: tuple[str, ...] = ()
    if funnel is not None:
        league = funnel.to_frame()[["value", "lower_95", "upper_95", "compared_998"]]
        league.index = league.index.astype(str)
        keys = pd.DataFrame({"Events": [f"ind.x.{a}" for a in totals.index],
                             "Total": [f"ind.n.{a}" for a in totals.index]}, index=totals.index)  # fmt: skip
        table = pd.concat([_values(reg, keys), league.reindex(totals.index)], axis=1)
        table.index = [names.get(a, a) for a in table.index]
        table.index.name = "Area"
        table = table.rename(columns={"value": "%", "lower_95": "95% limit (low)",
                                      "upper_95": "95% limit (high)",
                                      "compared_998": "Compared with all areas"})  # fmt: skip
        hidden = _mask(reg, keys).reindex(columns=keys.columns.tolist() + [
            c for c in table.columns if c not in keys.columns], fill_value=False)  # fmt: skip
        hidden.index = table.index
        hidden = hidden.reindex(columns=table.columns)
        for c in ("%", "95% limit (low)", "95% limit (high)", "Compared with all areas"):
            hidden[c] = hidden["Events"] | hidden["Total"]
        table["%"] = table["%"] * (100 if table["%"].max() <= 1 else 1)
        order = table["%"].sort_values(ascending=False, na_position="last").index
        blocks += [
            page.figure(
                funnel.plot(),
                alt=f"Funnel plot of {label} by area against the "
                "number of births, with 95% and 99.8% control limits.",
                caption="Each point is an area (areas with numbers too small to publish "
                "are left out); points outside the outer lines differ from the "
                "average by more than chance would explain.",
            ),  # fmt: skip
            report_table(
                table.loc[order],
                caption=f"League table: {label}, last 12 months",
                hidden=hidden.loc[order],
                count_cols=["Events", "Total"],
                digits=1,
            ),  # fmt: skip
        ]
        counts = tuple(keys.to_numpy().ravel())
    if "indicators" in s.failed:
        blocks.append(page.callout(s.failed["indicators"], kind="alert",
                                   heading_text="Could not be estimated:"))  # fmt: skip
    return Section("indicators", tuple(blocks), counts=counts)


def maturity_matrix(s: SynthesisAnalysis) -> Section:
    """Heat map of the average maturity level by dimension and area."""
    if not s.params["matrix"]:
        return Section("maturity_matrix")
    from ... import matrix as mx
    from ...plots.matrix import plot_heatmap, plot_level_distribution

    ratings = mx.read_ratings(s.params["matrix"])
    latest = mx.profile(ratings)  # once, for the heat map and the level counts
    dist = mx.level_distribution(ratings, profiled=latest)
    rated = dist.assign(weighted=dist["level"] * dist["n_areas"]).groupby("label", sort=False)
    mean = (rated["weighted"].sum() / rated["n_areas"].sum()).dropna().sort_values()
    words = []
    if len(mean) >= 2:
        words.append(f"On average across areas, the most mature element is {mean.index[-1]} "
                     f"(level {mean.iloc[-1]:.1f}) and the least mature {mean.index[0]} "
                     f"(level {mean.iloc[0]:.1f}).")  # fmt: skip
    return Section("maturity_matrix", (
        page.heading("Maturity matrix across areas"),
        page.paragraph("Average self-assessed level (1 basic to 5 mature) for each dimension, "
                       "at each area's latest assessment."),
        page.figure(plot_heatmap(latest, scope="dimension"),
                    alt="Heat map of the average maturity level for Plan, Lead, Deliver and "
                        "Evaluate in every area.", caption="Darker cells are more mature."),
        page.heading("Levels of each element across areas", level=3),
        page.paragraph("For each element, how many areas are at each level (each area's "
                       "partners' median, at its latest assessment). " + " ".join(words)),
        page.figure(plot_level_distribution(dist),
                    alt="Stacked bars: for each maturity-matrix element, the number of areas at "
                        "each level from 1 to 5. " + " ".join(words),
                    caption="Counts of areas, not of people."),
    ))  # fmt: skip


def plan_status(s: SynthesisAnalysis) -> list[str]:
    """One line per area with a registered analysis plan: followed, or which keys deviated."""
    lines = []
    for r in s.records:
        plan = r.get("plan") or {}
        if not plan.get("registered"):
            continue
        name = r.get("area_name") or r.get("area_id")
        if not plan.get("locked"):
            lines.append(f"{name}: the analysis plan was not locked.")
        elif plan.get("deviations"):
            keys = ", ".join(str(k) for k in plan["deviations"])
            lines.append(f"{name}: deviated from its plan locked on {plan.get('locked_on')} "
                         f"({keys}; the reasons are in its report).")  # fmt: skip
        else:
            lines.append(f"{name}: followed its plan locked on {plan.get('locked_on')}.")
    return lines


def methods(s: SynthesisAnalysis) -> Section:
    """How the areas were pooled, each area's standard-error method, and provenance."""
    threshold = s.params["suppression_threshold"]
    blocks: list[Any] = [
        page.heading("Methods"),
        page.paragraph(
            "Each area's estimate and interval come from its own report (the design its "
            "evaluator chose). Areas measured before and after only, with no comparison group, "
            "are shown in their own reports but not pooled, because a change over time includes "
            "what would have happened anyway. Each area enters the pooling with the interval "
            "its report shows (with few settings that is a t interval, wider than a normal "
            "one): its standard error is the interval's width divided by 2 × 1.96 (as the "
            "Cochrane Handbook recovers a standard error from a reported interval), so the "
            "forest plot and table show exactly each area's own interval (an interval that is not "
            "symmetric about its estimate, from a bootstrap, is drawn as reported and its width "
            "sets the area's weight). Pooling uses a "
            "random-effects model fitted by restricted maximum likelihood with the "
            "Knapp-Hartung adjustment (as R's metafor rma(test='knha')); the intervals of tau² "
            "and I² are by the Q-profile method (as metafor's confint). Egger's test is "
            "metafor's regtest (standard error as predictor) and trim and fill its trimfill "
            "(estimator L0)."
        ),  # fmt: skip
    ]
    p = s.pooled
    if p is not None and len(p):
        words = {
            "wild": "restricted wild cluster bootstrap (few settings)",
            "CR2": "cluster-robust (CR2) with Satterthwaite degrees of freedom",
            "CR1": "cluster-robust (CR1)",
            "HC3": "heteroskedasticity-robust (HC3)",
        }
        named = [
            f"{a}: {words.get(str(m), str(m))}"
            for a, m in zip(p["Area"], p["se_method"])
            if isinstance(m, str) and m and m.lower() != "nan"
        ]
        if named:
            blocks.append(page.paragraph("How each area's standard error was computed, as its "
                                         "report says:"))  # fmt: skip
            blocks.append(page.bullets(named))
    plans = plan_status(s)
    unplanned = len(s.records) - len(plans)
    blocks.append(page.paragraph(
        "Analysis plans: " + (f"{len(plans)} area(s) registered a plan before seeing their "
                              "outcomes." if plans else "no area registered an analysis plan.")
        + (f" {unplanned} area(s) had none." if plans and unplanned else "")))  # fmt: skip
    if plans:
        blocks.append(page.bullets(plans))
    blocks.append(page.paragraph(
        f"Made with evalkit {__version__} on {datetime.date.today():%d %B %Y}. Counts under "
        f"{threshold} are suppressed (shown as c), and counts hidden on an area's own page are "
        "hidden here too."))  # fmt: skip
    return Section("methods", tuple(blocks))
