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
from ... import implementation as impl
from ... import indicators as ind
from ... import matrix as mx
from ... import plan as planning
from ... import reliability as rel
from ...disclosure import Register
from ...errors import DataError, EvalkitError, ParameterError
from ...matrix.cycle import ranked_disagreement
from ...matrix.ratings import Checked
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
#: the random seed of the wild cluster bootstrap and the imputations (the page is reproducible)
SEED = 2026
#: more follow-ups missing than this share: the page shows a multiply-imputed estimate beside
#: the complete-case one (issue 13)
MI_ABOVE = 0.20
#: imputations of that estimate
MI_M = 20


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
    se_method: str | None = None
    se_reason: str = ""
    n_clusters: int | None = None
    df_method: str | None = None
    n_boot: int | None = None

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
            "se_method": self.se_method,
        }


@dataclass
class Imputed:
    """The multiply-imputed estimate shown beside the complete-case one (the main effect)."""

    estimate: float
    ci_low: float
    ci_high: float
    df: float | None
    m: int
    fmi: float
    se_method: str | None
    missing_share: float

    def record(self) -> dict[str, Any]:
        """The record's ``effect_mi``."""
        return {
            "estimate": self.estimate,
            "ci_low": self.ci_low,
            "ci_high": self.ci_high,
            "df": self.df,
            "m": self.m,
            "fmi": self.fmi,
            "se_method": self.se_method,
        }


@dataclass
class Implementation:
    """Reach, dose and fidelity of the service (issue 17), with the register's count names.

    ``bands`` and ``dr_bands`` are (label, count name) pairs of the dose bands among
    everyone with sessions recorded and among those in the dose-response model;
    ``settings`` are (setting, count name, adherence name) of the fidelity table.
    """

    served: str | None = None
    n_served: int = 0
    reach: Any = None
    dose: Any = None
    bands: list[tuple[str, str]] = field(default_factory=list)
    fidelity: Any = None
    settings: list[tuple[str, str, str]] = field(default_factory=list)
    dose_response: Any = None
    dr_bands: list[tuple[str, str]] = field(default_factory=list)


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
    imputed: Imputed | None = None
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
    change_baseline: pd.DataFrame | None = None
    actions: pd.DataFrame | None = None
    disagreement: pd.DataFrame | None = None
    failed: dict[str, str] = field(default_factory=dict)
    plan: Any = None
    implementation: Implementation | None = None
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
    id_column = a.params["id_column"]
    tool = tools.get(tool_name)
    low, high = tool.response_range
    # printed answer labels ("Not at all") become their scores before the range checks
    for prefix in (pre_prefix, post_prefix):
        a.df = tool.decode_labels(a.df, prefix=prefix)
    df = a.df
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
        se_method=(
            getattr(fit, "se_method", None)
            if design == "comparison"
            else f"REML, {fit.df_method} df"
            if design == "multilevel"
            else None
        ),  # fmt: skip
        se_reason=getattr(fit, "se_reason", "") if design == "comparison" else "",
        n_clusters=a.n_clusters,
        df_method=getattr(fit, "df_method", None) if design == "multilevel" else None,
        n_boot=getattr(fit, "n_boot", None) if design == "comparison" else None,
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
    a.plan = _plan(a)
    a.df = df = read_records(
        p["records"], id_column=p["id_column"], sheet=p["sheet"], encoding=p["encoding"]
    )
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
    df = a.df  # with answer labels decoded
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
                     baseline=pre, covariates=covs, cluster=cluster, se="auto",
                     seed=SEED)  # fmt: skip
        a.n_clusters = getattr(a.fit, "n_clusters", None)
    elif design == "multilevel":
        a.fit = _run(a, "outcomes", designs.multilevel, data, outcome=post, treatment=group,
                     groups=cluster, baseline=pre, covariates=covs,
                     ddf="satterthwaite")  # fmt: skip
        a.n_clusters = getattr(a.fit, "n_groups", None)
    else:
        a.fit = _run(a, "outcomes", designs.propensity, model_data, treatment=group,
                     outcome=post, covariates=[pre, *covs])  # fmt: skip
    a.effect = _effect(a, a.fit, model_data, post)
    a.imputed = _imputed(a, data, pre, post, group, covs)
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

    indicators = _indicators(a)
    _matrix(a)
    _implementation(a, data, pre, post, group, covs, indicators)
    _evidence(a, r_local)
    return _settle(a)


def _missing_share(a: AreaAnalysis) -> float | None:
    """Share of the people in the estimate's scope who answered before but not after."""
    label = "All" if a.has_comparison else "Service"
    if a.overview is None or label not in a.overview.index:
        return None
    share = float(a.overview.loc[label, "dropout_pct"]) / 100
    return share if math.isfinite(share) else None


def _imputed(
    a: AreaAnalysis, data: pd.DataFrame, pre: str, post: str, group: str, covs: list[str]
) -> Imputed | None:
    """The multiply-imputed estimate when more than :data:`MI_ABOVE` of follow-ups are
    missing (ANCOVA and before-and-after designs, which support imputation)."""
    share = _missing_share(a)
    if a.effect is None or share is None or share <= MI_ABOVE:
        return None
    if a.design == "comparison":
        fit = _run(a, "outcomes", designs.ancova, data, outcome=post, treatment=group,
                   baseline=pre, covariates=covs, cluster=a.params["setting_column"],
                   se="auto", seed=SEED, missing="mi", m=MI_M)  # fmt: skip
    elif a.design == "prepost":
        fit = _run(a, "outcomes", designs.prepost, data[data[group] == 1], pre=pre, post=post,
                   higher_is_better=a.main.higher_is_better, missing="mi", m=MI_M,
                   seed=SEED)  # fmt: skip
    else:
        return None
    if fit is None:
        return None
    df = float(fit.df) if fit.df is not None and math.isfinite(float(fit.df)) else None
    return Imputed(
        estimate=float(fit.estimate),
        ci_low=float(fit.ci_low),
        ci_high=float(fit.ci_high),
        df=df,
        m=int(fit.m),
        fmi=float(fit.fmi),
        se_method=getattr(fit, "se_method", None) if a.design == "comparison" else None,
        missing_share=share,
    )


def _indicators(a: AreaAnalysis) -> pd.DataFrame | None:
    """The indicator's funnel and time series; returns the indicators file as read (read once
    per page: :func:`_eligible` takes it too)."""
    from ..inputs import read_table

    p = a.params
    if not p["indicators"]:
        return None
    everything = read_table(p["indicators"])
    table = everything[everything["indicator"] == p["indicator"]]
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
    # the file is read and checked once (with its notes: read_ratings checks them either way);
    # the area's rows then go to every step as ratings already checked
    fw = mx.load_framework()
    everyone = mx.read_ratings(p["matrix"], fw, notes=True)
    mine = everyone[everyone["area"].astype(str) == area]
    ratings = mine[["area", "partner", "dimension", "element", "level", "date"]]
    if not len(ratings):
        a.failed.setdefault("matrix", "the ratings file has no ratings for this area")
        return
    checked = Checked(mine, fw)
    a.ratings = ratings
    a.profile = mx.profile(checked, area=area)
    a.agreement = _run(a, "matrix", mx.agreement, checked, area=area)
    if ratings["date"].nunique() > 1:
        a.change = mx.change(checked, area=area)
    # the yearly cycle (issue 17): actions agreed at the latest assessment with their status,
    # change per element since the first assessment, where partners disagree most
    if ratings["date"].nunique() > 2:
        a.change_baseline = _run(a, "matrix", mx.change, checked, area=area, since="baseline")
    elif a.change is not None:
        a.change_baseline = a.change  # the previous assessment is the baseline
    a.actions = _run(a, "matrix", mx.priority_actions, checked, area=area)
    # disagreement(checked, area=area) from the profile above (the same one)
    a.disagreement = _run(a, "matrix", ranked_disagreement, a.profile, fw)


def _plan(a: AreaAnalysis) -> Any:
    """The area's analysis plan status (:func:`evalkit.plan.check`), or None if unreadable."""
    try:
        return planning.check(a.params)
    except EvalkitError as exc:
        a.found.add("provenance", str(exc), kind="alert")
        return None


def pre_specified(status: Any) -> str:
    """The plan status in the checklist's words (:data:`evalkit.evidence.PRE_SPECIFIED`)."""
    if status is None or status.plan is None:
        return "none"
    if status.locked is None:
        return "unlocked"
    if any("changed after it was locked" in p for p in status.problems):
        return "changed"
    if any(d.reason is None for d in status.deviations):
        return "unexplained"
    return "followed" if not status.deviations else "explained"


def dose_bands(planned: int) -> list[tuple[float, str]]:
    """(upper limit, label) of the dose bands shown: up to half the planned sessions (none
    included, so that a handful who never came is not a band of its own), more than half but
    fewer than planned, and the planned dose or more.

    >>> [label for _, label in dose_bands(8)]
    ['0 to 4', '5 to 7', '8 or more']
    >>> [label for _, label in dose_bands(1)]
    ['0', '1 or more']
    """
    half = planned // 2
    out: list[tuple[float, str]] = []
    for lo, hi in ((0, half), (half + 1, planned - 1)):
        if hi >= lo:
            out.append((hi, f"{lo}" if lo == hi else f"{lo} to {hi}"))
    out.append((math.inf, f"{planned} or more"))
    return out


def _band_of(values: pd.Series, bands: list[tuple[float, str]]) -> pd.Series:
    uppers = np.array([u for u, _ in bands])
    return pd.Series(np.searchsorted(uppers, values.to_numpy()), index=values.index,
                     name=values.name)  # fmt: skip


def _eligible(a: AreaAnalysis, indicators: pd.DataFrame | None) -> int | None:
    """The eligible population: the area's denominator of ``eligible_indicator`` over the
    indicators file's last 12 months (``indicators``: the file as :func:`_indicators` read
    it, or None to read it)."""
    from ..inputs import read_table

    p = a.params
    table = indicators if indicators is not None else read_table(p["indicators"])
    table = table[table["indicator"] == p["eligible_indicator"]]
    if not len(table):
        raise DataError(
            f"the indicators file has no indicator {p['eligible_indicator']!r} for the "
            "eligible population",
            column="indicator",
        )
    last = table[table["month"] > table["month"].max() - 12]
    mine = last[last["area_id"].astype(str) == str(p["area_id"])]
    if not len(mine):
        raise DataError("the indicators file has no rows for this area", column="area_id")
    return int(mine["denominator"].sum())


def _implementation(
    a: AreaAnalysis,
    data: pd.DataFrame,
    pre: str,
    post: str,
    group: str,
    covs: list[str],
    indicators: pd.DataFrame | None = None,
) -> None:
    """Reach, dose, fidelity and dose-response of the service group, every count declared."""
    p, reg = a.params, a.register
    col, planned, prefix = p["sessions_column"], p["planned_sessions"], p["fidelity_prefix"]
    if not (col or prefix or p["eligible_indicator"]):
        return
    a.implementation = im = Implementation()
    service = data[data[group] == 1]
    try:
        if col and col not in data.columns:
            raise DataError(f"the records have no column {col!r} of sessions attended")
        if col and planned:
            _dose(a, im, service, col, planned, pre, post, covs)
        if p["eligible_indicator"] and p["indicators"]:
            # served: the families in the service group
            served, n_served = None, 0
            if "records.service" in reg.declared:
                served, n_served = "records.service", int(a.overview.loc["Service", "records"])
            eligible = _eligible(a, indicators)
            if served is not None:
                reg.count("impl.eligible", eligible)
                reg.derived("impl.reach", [served, "impl.eligible"])
                im.served, im.n_served = served, n_served
                im.reach = _run(a, "implementation", impl.reach, n_served, eligible)
        if prefix:
            _fidelity(a, im, service, prefix)
    except DataError as exc:
        a.found.add("implementation", str(exc), kind="alert")
        a.failed.setdefault("implementation", reader_reason(exc, data.columns))


def _dose(
    a: AreaAnalysis,
    im: Implementation,
    service: pd.DataFrame,
    col: str,
    planned: int,
    pre: str,
    post: str,
    covs: list[str],
) -> None:
    """Dose bands among the service group, the share with the planned dose, dose-response."""
    reg = a.register
    im.dose = _run(a, "implementation", impl.dose, service[col], planned, name=col)
    if im.dose is None:
        return
    sessions = pd.to_numeric(service[col], errors="coerce").dropna()
    bands = dose_bands(planned)
    band = _band_of(sessions, bands)
    keys = []
    for i, (_, label) in enumerate(bands):
        keys.append(reg.count(f"dose.band.{i}", int((band == i).sum())))
        im.bands.append((label, keys[-1]))
    reg.count("dose.n", int(len(sessions)))
    reg.total("dose.n", keys)
    reg.derived("dose.planned_pct", [keys[-1], "dose.n"])
    if "records.service" in reg.declared:  # service records = with sessions + not recorded
        reg.total("records.service", ["dose.n", "dose.unrecorded"])
    if a.effect is None:
        return
    # adjusted as the main design: the score before, and the covariates of a comparison design
    adjust = [c for c in covs if pd.api.types.is_numeric_dtype(service[c])] if (
        a.has_comparison) else []  # fmt: skip
    uppers = [u for u, _ in bands[:-1]]
    dr = _run(a, "implementation", impl.dose_response, service, outcome=post, dose=col,
              baseline=pre, covariates=adjust, bands=uppers)  # fmt: skip
    if dr is None:
        return
    im.dose_response = dr
    lows = [0] + [int(u) + 1 for u in uppers]
    dr_keys = []
    for row in dr.bands.itertuples():
        lo = int(str(row.band).split("-")[0])
        i = int(np.searchsorted(lows, lo, side="right") - 1)
        dr_keys.append(reg.count(f"dr.band.{i}", int(row.people)))
        im.dr_bands.append((bands[i][1], dr_keys[-1]))
        # those in the model are some of those with that dose
        reg.total(f"dose.band.{i}", [dr_keys[-1], f"dr.rest.{i}"])
    reg.count("dr.n", int(dr.n))
    reg.total("dr.n", dr_keys)
    reg.total("model.service", ["dr.n", "dr.rest"])


def _fidelity(a: AreaAnalysis, im: Implementation, service: pd.DataFrame, prefix: str) -> None:
    """Adherence to the fidelity checklist by setting, with its ICC across settings."""
    reg, setting = a.register, a.params["setting_column"]
    items = describe.item_columns(service, prefix)
    if not items:
        raise DataError(f"the records have no fidelity checklist columns {prefix!r} + number")
    rows = service[service[items].notna().any(axis=1)]
    im.fidelity = _run(a, "implementation", impl.fidelity, rows, items, setting=setting)
    if im.fidelity is None:
        return
    keys = []
    for i, (name, row) in enumerate(im.fidelity.by_setting.iterrows()):
        keys.append(reg.count(f"fid.n.{i}", int(row["sessions"])))
        adherence = reg.derived(f"fid.adh.{i}", [keys[-1]])
        im.settings.append((str(name), keys[-1], adherence))
    reg.count("fid.n", int(im.fidelity.n))
    reg.total("fid.n", keys)
    reg.derived("fid.mean", ["fid.n"])


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
        pre_specified=pre_specified(a.plan),
        reach=_shown_share(a, "impl.reach", "reach", 1),
        fidelity=_shown_share(a, "fid.mean", "fidelity", 100),
    )


def _shown_share(a: AreaAnalysis, key: str, part: str, scale: float) -> float | None:
    """Reach or fidelity (0 to 1) for the checklist, or None when not measured.

    The register is not settled yet here; the checklist cell is written again through it
    (:func:`~evalkit.reports.sections.area.strength_of_evidence`)."""
    im = a.implementation
    result = getattr(im, part, None) if im is not None else None
    if result is None or key not in a.register.declared:
        return None
    return float(result.estimate) / scale


def _settle(a: AreaAnalysis) -> AreaAnalysis:
    a.register.finalise()
    a.register.check()
    return a
