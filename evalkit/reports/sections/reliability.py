"""The reliability page across areas: one function per section, each returning a :class:`Section`.

:func:`analyse` reads the areas' records (``areas/<id>.json``), never their raw answers: each
record carries alpha with its interval and the people it is based on (``reliability``), and
the items' sufficient statistics (``items``: people who answered every item, item means,
covariance matrix, answers at the lowest and highest score, omega total). Alpha is pooled with
:func:`evalkit.reliability.pool_alpha`; the item analysis of all areas together comes from the
pooled statistics (:func:`evalkit.reliability.pool_moments` and
:func:`evalkit.reliability.item_analysis_from_moments`), which equals the item analysis of the
pooled answers of people who answered every item.

Every count of people goes through the page's disclosure register; a count hidden on an
area's own page (None in its record) is hidden here too, and that area is left out of the
pooling (its size is needed to weight it).
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ... import __version__, tools
from ... import reliability as rel
from ...disclosure import Register
from ...reliability.summary import FLOOR_CEILING_PCT
from ...tables import report_table
from .. import page
from ..page import Findings, Section
from .synthesis import finite, read_records

__all__ = ["ReliabilityAnalysis", "analyse", "summary", "by_area", "items", "methods"]

_DEFAULTS = {"tool": "epds", "results": "reports/areas", "areas": [],
             "suppression_threshold": 10, "synthetic": False}  # fmt: skip


@dataclass
class ReliabilityAnalysis:
    """Everything the reliability page shows, computed once (see :func:`analyse`)."""

    params: dict[str, Any]
    register: Register
    found: Findings
    spec: Any
    short: str
    table: pd.DataFrame
    pool: Any = None
    analysis: pd.DataFrame | None = None
    left_out: list[tuple[str, str]] = field(default_factory=list)


def analyse(values: Mapping[str, Any]) -> ReliabilityAnalysis:
    """Read the areas' records, declare the page's counts, pool alpha and the items.

    Parameters
    ----------
    values : mapping
        The page's parameters (``tool``, ``results`` folder, ``areas`` ids (all when empty),
        ``suppression_threshold``, ``synthetic``); a notebook passes ``globals()``.
    """
    p = {k: values.get(k, v) for k, v in _DEFAULTS.items()}
    spec = tools.get(p["tool"])
    wanted = {str(a) for a in p["areas"]}
    records = [r for r in read_records(p["results"])
               if r.get("outcome_tool") == p["tool"] and (not wanted or str(r["area_id"]) in wanted)]  # fmt: skip
    reg = Register(int(p["suppression_threshold"]))
    rows, moments, left_out = [], [], []
    for r in records:
        aid, name = str(r["area_id"]), str(r.get("area_name") or r["area_id"])
        a = r.get("reliability") or {}
        if r.get("problem") or finite(a.get("estimate")) is None:
            left_out.append((name, "no reliability in its report"))
            continue
        n = a.get("n")
        key = reg.count(f"alpha_n.{aid}", 0 if n is None else int(n), hide=n is None)
        it = r.get("items") or {}
        rows.append({"Area": name, "key": key, "n": n, "Alpha": float(a["estimate"]),
                     "95% CI from": finite(a.get("ci_low")), "to": finite(a.get("ci_high")),
                     "Omega": finite(it.get("omega_total"))})  # fmt: skip
        if n is None:
            left_out.append((name, "too few people to publish, so not pooled"))
        elif it.get("cov") is not None and it.get("n") == n:
            moments.append((key, it))
    if moments:
        reg.count("items.n", sum(int(m["n"]) for _, m in moments))
        reg.total("items.n", [k for k, _ in moments])
    reg.finalise()
    reg.check()
    table = pd.DataFrame(rows, columns=["Area", "key", "n", "Alpha", "95% CI from", "to", "Omega"])
    out = ReliabilityAnalysis(params=p, register=reg, found=Findings(), spec=spec,
                              short=p["tool"].upper(), table=table.set_index("Area"),
                              left_out=left_out)  # fmt: skip
    usable = out.table[out.table["n"].notna()]
    if len(usable) >= 2:
        out.pool = out.found.run("pooled", rel.pool_alpha, usable["Alpha"],
                                 k=len(spec.items), n=usable["n"].astype(int),
                                 labels=usable.index, method="REML", knha=True)  # fmt: skip
    if moments:
        out.analysis = _items(moments)
    return out


def _items(moments: list[tuple[str, Mapping[str, Any]]]) -> pd.DataFrame:
    parts = [m for _, m in moments]
    n, mean, cov = rel.pool_moments([m["n"] for m in parts], [m["means"] for m in parts],
                                    [m["cov"] for m in parts])  # fmt: skip
    out = rel.item_analysis_from_moments(n, mean, cov, items=parts[0]["names"])
    for side in ("floor", "ceiling"):
        counts = np.array([[np.nan if v is None else v for v in m[side]] for m in parts], float)
        sizes = np.array([m["n"] for m in parts], float)[:, None] * ~np.isnan(counts)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[f"{side}_pct"] = 100 * np.nansum(counts, axis=0) / sizes.sum(axis=0)
    return out


def summary(r: ReliabilityAnalysis) -> Section:
    """Title, the synthetic-data banner and the boxed findings."""
    t = r.table
    blocks: list[Any] = [page.title(f"Reliability of the {r.short} across areas",
                                    f"{r.spec.spec.title} · {len(t)} areas · for academic "
                                    "partners")]  # fmt: skip
    if r.params["synthetic"]:
        blocks.append(page.synthetic_banner())
    lines = []
    if len(t):
        lines.append(f"Cronbach's alpha ranged from {t['Alpha'].min():.2f} to "
                     f"{t['Alpha'].max():.2f} across {len(t)} areas.")  # fmt: skip
    if r.pool is not None:
        pl = r.pool
        lines.append(f"Pooled across areas, alpha was {pl.estimate:.2f} (95% CI {pl.ci_low:.2f} "
                     f"to {pl.ci_high:.2f}); in a new area it would probably lie between "
                     f"{pl.pi_low:.2f} and {pl.pi_high:.2f}.")  # fmt: skip
    pub = r.spec.spec.published_alpha()
    if pub:
        lines.append(f"The developers published {pub:.2f}.")
    blocks.append(page.summary_box(lines))
    return Section("summary", tuple(blocks))


def by_area(r: ReliabilityAnalysis) -> Section:
    """Alpha and omega in each area (people through the register), pooled alpha and its plot."""
    reg, t = r.register, r.table
    keys = pd.DataFrame({"People": t["key"]})
    shown = pd.concat([keys["People"].map(reg.value).astype("Int64").rename("People").to_frame(),
                       t[["Alpha", "95% CI from", "to", "Omega"]]], axis=1)  # fmt: skip
    hidden = pd.DataFrame(False, index=shown.index, columns=shown.columns)
    hidden["People"] = keys["People"].map(reg.hidden)
    blocks: list[Any] = [
        page.heading("Alpha in each area"),
        page.paragraph(
            "Items before the service, people who answered every item. Omega total is "
            "from a one-factor model, as each area's report gives it."
        ),  # fmt: skip
        report_table(
            shown,
            caption=f"Reliability of the {r.short} by area",
            hidden=hidden,
            count_cols=["People"],
            digits=2,
        ),  # fmt: skip
    ]
    if r.pool is not None:
        blocks += [
            page.figure(
                r.pool.plot(),
                alt=f"Forest plot of Cronbach's alpha of the {r.short} in "
                "each area with its 95% confidence interval and the pooled value.",
                caption="Alpha by area; the diamond is the pooled value and the line "
                "under it the 95% prediction interval for a new area.",
            ),  # fmt: skip
            page.paragraph(r.pool.meta.heterogeneity_text(unit="areas")),
        ]
    if r.left_out:
        blocks.append(page.bullets([f"{name}: {why}." for name, why in r.left_out]))
    if r.pool is None and r.table["n"].notna().sum() >= 2:
        blocks.append(page.callout("Alpha could not be pooled across these areas.",
                                   kind="alert", heading_text="Could not be estimated:"))  # fmt: skip
    return Section("by_area", tuple(blocks), counts=tuple(keys["People"]))


def _flag(row: pd.Series) -> str:
    out = []
    if row["r_drop"] < 0:
        out.append("its answers go against the other items' (possibly scored the wrong way)")
    if row["floor_pct"] > FLOOR_CEILING_PCT:
        out.append(f"{row['floor_pct']:.0f}% answered at the lowest score")
    if row["ceiling_pct"] > FLOOR_CEILING_PCT:
        out.append(f"{row['ceiling_pct']:.0f}% answered at the highest score")
    return "; ".join(out)


def items(r: ReliabilityAnalysis) -> Section:
    """Item analysis of all areas together, from the areas' pooled item statistics."""
    if r.analysis is None:
        return Section("items")
    reg, a = r.register, r.analysis
    shown = a[["mean", "sd", "floor_pct", "ceiling_pct", "r_drop", "alpha_if_deleted"]].rename(
        columns={"mean": "Mean", "sd": "SD", "floor_pct": "At lowest %",
                 "ceiling_pct": "At highest %", "r_drop": "Item-rest r",
                 "alpha_if_deleted": "Alpha if dropped"}).rename_axis("Item")  # fmt: skip
    shown.insert(0, "People", reg.value("items.n"))
    hidden = pd.DataFrame(False, index=shown.index, columns=shown.columns)
    hidden["People"] = reg.hidden("items.n")
    flags = [f"Item {i}: {f}." for i, f in a.apply(_flag, axis=1).items() if f]
    blocks = [
        page.heading("Items, all areas together"),
        page.paragraph(
            "People who answered every item, in the areas whose numbers can be "
            "published. An item whose item-rest correlation is low or negative, or "
            "whose removal raises alpha, may be measuring something else or be "
            "scored the wrong way."
        ),  # fmt: skip
        report_table(
            shown,
            caption=f"{r.short} item analysis across all areas",
            hidden=hidden,
            count_cols=["People"],
            digits=2,
        ),  # fmt: skip
        page.bullets(flags) if flags else page.Block(""),
    ]
    return Section("items", tuple(blocks), counts=("items.n",))


def methods(r: ReliabilityAnalysis) -> Section:
    """Methods and provenance."""
    return Section("methods", (
        page.heading("Methods"),
        page.paragraph("Alpha with Feldt's interval (as R psych::alpha.ci), from each area's "
                       "report; pooling on Bonett's transformation ln(1 - alpha) with a "
                       "random-effects model (REML, Knapp-Hartung), transformed back (Bonett "
                       "2010; as metafor escalc(measure='ABT') with rma). The item analysis "
                       "combines the areas' item means and covariances into those of all their "
                       "people together (no answers leave an area's report), then computes "
                       "item-rest correlations and alpha if an item is dropped as psych's "
                       "alpha() does. Shares at the lowest and highest score leave out areas "
                       "where that count was too small to publish."),  # fmt: skip
        page.paragraph(f"Made with evalkit {__version__} on {datetime.date.today():%d %B %Y}. "
                       f"Counts under {r.params['suppression_threshold']} are suppressed "
                       "(shown as c)."),  # fmt: skip
    ))  # fmt: skip
