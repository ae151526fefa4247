"""The area report's analysis step: load and score the data once, fit every result once.

:func:`analyse` does everything the area report's sections need, shows nothing, and declares
every count any section may publish in the page's disclosure register
(:class:`evalkit.disclosure.Register`), with the sums that link them, before any is shown. The
sections (:mod:`evalkit.reports.sections.area`) then read results and counts from the
:class:`AreaAnalysis` it returns.

Count names in the register (``g`` is ``service``, ``comparison`` or ``all``):

- ``records.g``, ``baseline.g``, ``follow_up.g``, ``dropped.g`` (answered before, not after):
  the data-quality table and the drop-out sentence; ``all`` is the sum of the groups, and the
  definitions link them through counts never shown (each 0 or more): ``records = baseline +
  nobase``, ``nobase = post_only + neither``, ``baseline = completed + dropped``,
  ``follow_up = completed + post_only``;
- ``model.service``, ``model.comparison``, ``model.all``, ``model.excluded``: people with a
  score at both times, in the estimate, and the records left out of it
  (``records.all == model.all + model.excluded``; ``records.service`` and ``model.service``
  for a before-and-after design);
- ``change.improved``, ``change.unchanged``, ``change.deteriorated``: reliable change of the
  service group, adding up to ``model.service`` (or ``change.n`` when the counts differ);
- ``bad.<column>`` and ``bad.total``: answers out of the tool's range;
- ``indicator.x``, ``indicator.n``: the area's indicator counts over the last 12 months.

Derived figures: ``dropout_pct.g``, ``missing_pct.g``, ``dropout_diff`` (the difference in
drop-out between the groups), ``indicator.rate``.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ... import describe, designs, evidence, power, tools
from ... import indicators as ind
from ... import matrix as mx
from ... import reliability as rel
from ...disclosure import Register
from ...errors import DataError, EvalkitError, ParameterError
from ..page import Findings

__all__ = ["AreaAnalysis", "analyse", "area_parameters", "DESIGN_NAMES", "GROUPS"]

#: the design's name for readers
DESIGN_NAMES = {
    "prepost": "before and after (no comparison group)",
    "comparison": "comparison group with adjustment (ANCOVA)",
    "multilevel": "comparison group, multilevel model of settings",
    "propensity": "comparison group matched on propensity scores",
}
#: group labels of the treatment column's values, and their names in the register
GROUPS = {1: "Service", 0: "Comparison"}
_MIN_PAIRS = 3  # fewer people with both scores than this: nothing can be estimated


def area_parameters(values: Mapping[str, Any] | Any) -> dict[str, Any]:
    """The area report's parameters from a mapping (a notebook's ``globals()``) or an
    :class:`~evalkit.reports.params.AreaParams`; keys that are not parameters are ignored and
    missing ones take their defaults."""
    from ..params import AreaParams

    if hasattr(values, "model_dump"):
        values = values.model_dump()
    names = AreaParams.model_fields
    given = {k: v for k, v in dict(values).items() if k in names}
    if isinstance(given.get("covariates"), str):  # "a, b" as the parameter file allows
        given["covariates"] = [c.strip() for c in given["covariates"].split(",") if c.strip()]
    return AreaParams.model_construct(**given).model_dump()


@dataclass
class Part:
    """One questionnaire, scored before and after."""

    tool: Any
    name: str
    short: str
    pre_cols: list[str]
    post_cols: list[str]
    bad: pd.DataFrame
    pre: np.ndarray
    post: np.ndarray
    items: pd.DataFrame
    higher_is_better: bool
    alpha: Any = None
    summary: Any = None
    item_stats: Any = None


@dataclass
class Effect:
    """The design's effect with ONE interval: the one shown, recorded and pooled."""

    estimate: float
    se: float
    df: float | None
    ci_low: float
    ci_high: float
    level: float
    g: float | None
    g_ci_low: float | None
    g_ci_high: float | None
    method: str

    def record(self, n: int | None) -> dict[str, Any]:
        """The record's ``effect``: estimate, SE, df (None: normal) and the interval shown."""
        return {
            "estimate": self.estimate,
            "se": self.se,
            "df": self.df,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "level": self.level,
            "n": n,
            "method": self.method,
        }


@dataclass
class AreaAnalysis:
    """Everything the area report's sections show, computed once (see :func:`analyse`)."""

    params: dict[str, Any]
    register: Register
    found: Findings
    problem: str | None = None
    df: pd.DataFrame | None = None
    main: Part | None = None
    second: Part | None = None
    has_comparison: bool = False
    overview: pd.DataFrame | None = None
    groups: list[str] = field(default_factory=list)
    n_settings: int = 0
    fit: Any = None
    prepost: Any = None
    effect: Effect | None = None
    second_fit: Any = None
    mdes: Any = None
    n_clusters: int | None = None
    evidence: Any = None
    baseline_smd: float | None = None
    indicator_totals: pd.DataFrame | None = None
    funnel: Any = None
    its: Any = None
    indicator_rate: Any = None
    ratings: pd.DataFrame | None = None
    profile: pd.DataFrame | None = None
    agreement: Any = None
    change: pd.DataFrame | None = None
    failed: dict[str, str] = field(default_factory=dict)
    n_treated: int = 0
    n_comparison: int = 0

    @property
    def scope(self) -> str:
        """Whose records the estimate is about: ``all``, or ``service`` without a comparison."""
        return "all" if self.has_comparison else "service"

    @property
    def design(self) -> str:
        """The design actually used (``prepost`` when there is no comparison group)."""
        return self.params["design"] if self.has_comparison else "prepost"


def _key(label: str) -> str:
    return str(label).lower()


def reader_reason(exc: BaseException, columns: Any = ()) -> str:
    """Why something could not be estimated, for a reader: the error's plain message and
    the names of input columns involved, never data values or labels generated from them."""
    if isinstance(exc, DataError):
        named = [c for c in (exc.columns or ([exc.column] if exc.column else [])) if c in columns]
        text = exc.message
        if named:
            text += " (columns: " + ", ".join(repr(str(c)) for c in named[:5]) + ")"
        return text
    if isinstance(exc, ParameterError):
        return "a parameter of this report is not acceptable for these data"
    return "the method could not be applied to these data"


def _run(a: AreaAnalysis, section: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(...)``, keeping its warnings for the analyst (``a.found``) and, when it fails, a
    reader's reason in ``a.failed[section]``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            result = fn(*args, **kwargs)
        except EvalkitError as exc:
            a.found.add(section, str(exc), kind="alert")
            a.failed.setdefault(
                section, reader_reason(exc, a.df.columns if a.df is not None else ())
            )
            result = None
    for w in caught:
        if issubclass(w.category, UserWarning):
            a.found.add(section, str(w.message), kind="warning")
    return result


def _prepare(a: AreaAnalysis, tool_name: str, pre_prefix: str, post_prefix: str) -> Part:
    df, id_column = a.df, a.params["id_column"]
    tool = tools.get(tool_name)
    low, high = tool.response_range
    pre_cols = describe.item_columns(df, pre_prefix)
    post_cols = describe.item_columns(df, post_prefix)
    bad = describe.out_of_range(df, pre_cols + post_cols, low=low, high=high)
    clean = describe.blank_out_of_range(df, pre_cols + post_cols, low=low, high=high)
    pre = tool.score(clean, prefix=pre_prefix, id=id_column)["total"].to_numpy()
    post = tool.score(clean, prefix=post_prefix, id=id_column)["total"].to_numpy()
    return Part(
        tool=tool,
        name=tool.spec.title,
        short=tool_name.upper(),
        pre_cols=pre_cols,
        post_cols=post_cols,
        bad=bad,
        pre=pre,
        post=post,
        items=tool.items_frame(clean, prefix=pre_prefix),
        higher_is_better=tool.direction("total") == "higher_better",
    )


def _reliability(a: AreaAnalysis, part: Part) -> None:
    low, high = part.tool.response_range
    if len(part.items.dropna(how="all")) < _MIN_PAIRS:
        return
    part.summary = _run(
        a,
        "measurement",
        rel.reliability_summary,
        part.items,
        published=part.tool.published("total"),
        scale_min=low,
        scale_max=high,
    )
    part.alpha = _run(a, "measurement", rel.alpha, part.items, missing="listwise")
    if part.alpha is not None:
        a.register.count(f"alpha_n.{part.short.lower()}", int(part.alpha.n))
    part.item_stats = _run(a, "quiet", rel.item_analysis, part.items)


def _effect(a: AreaAnalysis, fit: Any, model_data: pd.DataFrame, post: str) -> Effect | None:
    if fit is None:
        return None
    design = a.design
    df = getattr(fit, "df", None)
    df = float(df) if df is not None and math.isfinite(float(df)) else None
    if design == "prepost":
        g = (fit.g_av, fit.g_av_ci_low, fit.g_av_ci_high)
    elif design == "comparison":
        g = (fit.g, fit.g_ci_low, fit.g_ci_high)
    elif design == "multilevel":
        std = fit.to_frame().set_index("term").loc["standardised_effect"]
        g = (float(std["estimate"]), float(std["ci_low"]), float(std["ci_high"]))
    else:  # propensity: standardised by the outcome's SD
        sd = float(model_data[post].std())
        g = (fit.estimate / sd, fit.ci_low / sd, fit.ci_high / sd)
    return Effect(
        estimate=float(fit.estimate),
        se=float(fit.se),
        df=df if design != "propensity" else None,
        ci_low=float(fit.ci_low),
        ci_high=float(fit.ci_high),
        level=float(fit.level),
        g=float(g[0]),
        g_ci_low=float(g[1]),
        g_ci_high=float(g[2]),
        method=str(fit.method),
    )


def _declare_overview(a: AreaAnalysis) -> None:
    reg, ov = a.register, a.overview
    a.groups = [_key(g) for g in ov.index]
    for label, row in ov.iterrows():
        g = _key(label)
        base = int(row["with_baseline"])
        dropped = int(round(float(row["dropout_pct"]) * base / 100)) if base else 0
        reg.count(f"records.{g}", int(row["records"]))
        reg.count(f"baseline.{g}", base)
        reg.count(f"follow_up.{g}", int(row["with_follow_up"]))
        reg.count(f"dropped.{g}", dropped)
        # what an intruder knows from the definitions (the unshown parts are 0 or more):
        # records = baseline + no baseline; no baseline = after only + neither;
        # baseline = both + dropped; after = both + after only
        reg.total(f"records.{g}", [f"baseline.{g}", f"nobase.{g}"])
        reg.total(f"nobase.{g}", [f"post_only.{g}", f"neither.{g}"])
        reg.total(f"baseline.{g}", [f"completed.{g}", f"dropped.{g}"])
        reg.total(f"follow_up.{g}", [f"completed.{g}", f"post_only.{g}"])
        reg.derived(f"dropout_pct.{g}", [f"dropped.{g}", f"baseline.{g}"])
        reg.derived(f"missing_pct.{g}", [f"baseline.{g}", f"follow_up.{g}"])
    parts = [g for g in a.groups if g != "all"]
    stems = ("records", "baseline", "follow_up", "dropped", "completed", "nobase", "post_only")
    for stem in (*stems, "neither"):
        reg.total(f"{stem}.all", [f"{stem}.{g}" for g in parts])
    if {"service", "comparison"} <= set(a.groups):
        reg.derived(
            "dropout_diff",
            [f"{s}.{g}" for g in ("service", "comparison") for s in ("dropped", "baseline")],
        )


def _declare_model(a: AreaAnalysis, n_treated: int, n_comparison: int) -> None:
    reg = a.register
    a.n_treated, a.n_comparison = n_treated, n_comparison
    reg.count("model.service", n_treated)
    reg.count("model.comparison", n_comparison)
    reg.count("model.all", n_treated + n_comparison)
    reg.total("model.all", ["model.service", "model.comparison"])
    # records of the people the estimate is about (everyone, or the service group for a
    # before-and-after design) = those in it + those left out for lack of a score
    scope = a.scope
    in_scope = (
        int(len(a.df))
        if scope == "all"
        else int(len(a.df))
        - int(a.overview.loc["Comparison", "records"] if "Comparison" in a.overview.index else 0)
    )
    reg.count("model.excluded", in_scope - (n_treated + n_comparison))
    reg.total(f"records.{scope}", [f"model.{scope}", "model.excluded"])
    # people with both scores answered something both times: completed = model + partial
    for g in ("service", "comparison"):
        if f"records.{g}" in reg.declared:
            reg.total(f"completed.{g}", [f"model.{g}", f"partial.{g}"])
    pp = a.prepost
    if pp is not None and pp.n_improved is not None:
        total = "model.service" if pp.n == n_treated else reg.count("change.n", pp.n)
        reg.count("change.improved", pp.n_improved)
        reg.count("change.unchanged", pp.n_unchanged)
        reg.count("change.deteriorated", pp.n_deteriorated)
        reg.total(total, ["change.improved", "change.unchanged", "change.deteriorated"])


def _declare_bad(a: AreaAnalysis) -> None:
    reg = a.register
    bad = pd.concat([p.bad for p in (a.main, a.second) if p is not None])
    keys = []
    for _, row in bad.iterrows():
        keys.append(reg.count(f"bad.{row['column']}", int(row["n_out_of_range"])))
    reg.count("bad.total", int(bad["n_out_of_range"].sum()) if len(bad) else 0)
    if keys:
        reg.total("bad.total", keys)


def analyse(values: Mapping[str, Any] | Any) -> AreaAnalysis:
    """Load, score and analyse one area, and declare every count its page may publish.

    Parameters
    ----------
    values : mapping or AreaParams
        The area report's parameters (a notebook passes ``globals()``; other names are
        ignored).

    Returns
    -------
    AreaAnalysis
        Results for the sections, the settled disclosure register (already audited) and,
        when the area cannot be estimated, ``problem``: why, in words for a reader.
    """
    from ..inputs import read_records

    p = area_parameters(values)
    a = AreaAnalysis(params=p, register=Register(p["suppression_threshold"]), found=Findings())
    a.df = df = read_records(p["records"], id_column=p["id_column"])
    if len(df) == 0:
        a.problem = "the records file holds no records"
        return _settle(a)
    try:
        treated = describe.binary_column(df, p["treatment_column"])
        a.main = _prepare(a, p["outcome_tool"], p["outcome_pre_prefix"], p["outcome_post_prefix"])
        if p["second_tool"]:
            a.second = _prepare(
                a, p["second_tool"], p["second_pre_prefix"], p["second_post_prefix"]
            )
    except DataError as exc:
        a.main = a.second = None
        a.problem = "the answers could not be scored: " + reader_reason(exc, df.columns)
        return _settle(a)
    a.has_comparison = p["design"] != "prepost" and treated.nunique() == 2
    a.overview = describe.overview(
        df,
        group=p["treatment_column"],
        pre_columns=a.main.pre_cols,
        post_columns=a.main.post_cols,
        labels=GROUPS,
    )
    a.n_settings = int(df[p["setting_column"]].nunique())
    _declare_overview(a)
    _declare_bad(a)

    main = a.main
    pre, post, group = f"{main.short} before", f"{main.short} after", "service"
    data = df.assign(**{pre: main.pre, post: main.post, group: treated})
    model_data = data.dropna(subset=[pre, post])
    n_treated = int(model_data[group].sum())
    n_comparison = int(len(model_data) - n_treated) if a.has_comparison else 0
    if n_treated < _MIN_PAIRS or (a.has_comparison and n_comparison < _MIN_PAIRS):
        a.problem = (
            f"fewer than {_MIN_PAIRS} people in a group have a score on the {main.short} both "
            "before and after, so no change or effect can be estimated"
        )
        _declare_model(a, n_treated, n_comparison)
        return _settle(a)

    for part in (a.main, a.second):
        if part is not None:
            _reliability(a, part)
    r_local = main.alpha.estimate if main.alpha is not None else None
    a.prepost = _run(
        a,
        "outcomes",
        designs.prepost,
        data[data[group] == 1],
        pre=pre,
        post=post,
        reliability=r_local,
        higher_is_better=main.higher_is_better,
    )
    covs = [c for c in p["covariates"] if c in df.columns]
    design = a.design
    cluster = p["setting_column"]
    if design == "prepost":
        a.fit = a.prepost
    elif design == "comparison":
        a.fit = _run(a, "outcomes", designs.ancova, data, outcome=post, treatment=group,
                     baseline=pre, covariates=covs, cluster=cluster)  # fmt: skip
        a.n_clusters = getattr(a.fit, "n_clusters", None)
    elif design == "multilevel":
        a.fit = _run(a, "outcomes", designs.multilevel, data, outcome=post, treatment=group,
                     groups=cluster, baseline=pre, covariates=covs)  # fmt: skip
        a.n_clusters = getattr(a.fit, "n_groups", None)
    else:
        a.fit = _run(a, "outcomes", designs.propensity, model_data, treatment=group,
                     outcome=post, covariates=[pre, *covs])  # fmt: skip
    a.effect = _effect(a, a.fit, model_data, post)
    if a.second is not None and a.has_comparison:
        s = a.second
        s_pre, s_post = f"{s.short} before", f"{s.short} after"
        second_data = df.assign(**{s_pre: s.pre, s_post: s.post, group: treated})
        a.second_fit = _run(a, "outcomes", designs.ancova, second_data, outcome=s_post,
                            treatment=group, baseline=s_pre, covariates=covs)  # fmt: skip
    _declare_model(a, n_treated, n_comparison)

    r = model_data[[pre, post]].corr().iloc[0, 1] if len(model_data) > 2 else 0.0
    r2 = float(r**2) if np.isfinite(r) else 0.0
    if a.has_comparison:
        a.mdes = _run(a, "outcomes", power.mdes, "individual", n=len(model_data),
                      p=n_treated / len(model_data), r2=r2, g=1 + len(covs))  # fmt: skip
    else:
        a.mdes = _run(a, "outcomes", power.mdes, "paired", n=max(n_treated, 3))
    if a.has_comparison:
        eq = _run(a, "quiet", designs.ancova, data, outcome=post, treatment=group,
                  baseline=pre, covariates=covs)  # fmt: skip
        if eq is not None and pre in eq.equivalence.index:
            a.baseline_smd = abs(float(eq.equivalence.loc[pre, "effect_size"]))

    _indicators(a)
    _matrix(a)
    _evidence(a, r_local)
    return _settle(a)


def _indicators(a: AreaAnalysis) -> None:
    from ..inputs import read_table

    p = a.params
    if not p["indicators"]:
        return
    table = read_table(p["indicators"])
    table = table[table["indicator"] == p["indicator"]]
    last = table[table["month"] > table["month"].max() - 12]
    totals = last.groupby("area_id")[["numerator", "denominator"]].sum()
    totals.index = totals.index.astype(str)
    a.indicator_totals = totals
    area = str(p["area_id"])
    a.funnel = _run(a, "indicators", ind.funnel, totals["numerator"], totals["denominator"],
                    labels=totals.index)  # fmt: skip
    if area in totals.index:
        x, n = int(totals.loc[area, "numerator"]), int(totals.loc[area, "denominator"])
        a.register.count("indicator.x", x)
        a.register.count("indicator.n", n)
        a.register.derived("indicator.rate", ["indicator.x", "indicator.n"])
        a.indicator_rate = ind.proportion(x, n)
    series = table[table["area_id"].astype(str) == area].sort_values("month")
    if p["intervention_month"] and len(series):
        a.its = _run(a, "indicators", designs.its, series, outcome="numerator", time="month",
                     interruption=p["intervention_month"], family="quasipoisson",
                     denominator="denominator", seasonality=1)  # fmt: skip


def _matrix(a: AreaAnalysis) -> None:
    p = a.params
    if not p["matrix"]:
        return
    area = str(p["area_id"])
    ratings = mx.read_ratings(p["matrix"])
    ratings = ratings[ratings["area"].astype(str) == area]
    if not len(ratings):
        a.failed.setdefault("matrix", "the ratings file has no ratings for this area")
        return
    a.ratings = ratings
    a.profile = mx.profile(ratings, area=area)
    a.agreement = _run(a, "matrix", mx.agreement, ratings, area=area)
    if ratings["date"].nunique() > 1:
        a.change = mx.change(ratings, area=area)


def _evidence(a: AreaAnalysis, r_local: float | None) -> None:
    ov = a.overview
    dropout = float(ov.loc["All", "dropout_pct"]) / 100
    diff = None
    if a.has_comparison and "Comparison" in ov.index:
        diff = abs(float(ov.loc["Service", "dropout_pct"] - ov.loc["Comparison", "dropout_pct"]))
        diff = diff / 100 if np.isfinite(diff) else None
    improved = None
    if a.effect is not None:
        e = a.effect
        improved = bool(e.ci_low > 0 if a.main.higher_is_better else e.ci_high < 0)
    a.evidence = _run(
        a,
        "evidence",
        evidence.checklist,
        design=a.design,
        n_treated=a.n_treated,
        n_comparison=a.n_comparison,
        reliability=r_local,
        published_reliability=a.main.tool.spec.published_alpha(),
        mdes=a.mdes.estimate if a.mdes is not None else None,
        hoped_effect=a.params["hoped_effect"],
        dropout=dropout if np.isfinite(dropout) else None,
        differential_dropout=diff,
        baseline_smd=a.baseline_smd,
        follow_up_weeks=a.params["follow_up_weeks"],
        improved=improved,
        threshold=a.params["suppression_threshold"],
    )


def _settle(a: AreaAnalysis) -> AreaAnalysis:
    a.register.finalise()
    a.register.check()
    return a
