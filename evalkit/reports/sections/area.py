"""The area report's sections: one function per section, each returning a :class:`Section`.

Every function takes the :class:`~evalkit.reports.sections.analysis.AreaAnalysis` made by
:func:`~evalkit.reports.sections.analysis.analyse` (the checked parameters and the loaded,
scored and analysed inputs) and returns the blocks to show, the names of the counts it
publishes and its part of the area's record. Every count is read from the page's disclosure
register, so a count hidden in one place is hidden everywhere; sentences say "fewer than 10"
for a small count and leave out one hidden only to protect another.

Notes for readers are written from the results' fields, never from the analyst's warning
text (which stays in ``analysis.found`` for the notebook).
"""

from __future__ import annotations

import datetime
import html
import os
from typing import Any

import numpy as np
import pandas as pd

from ... import __version__
from ...narrative import effect_sentence, headline, reliability_sentence
from ...reliability.summary import FLOOR_CEILING_PCT
from ...tables import fmt_pct, report_table
from .. import page
from ..page import Section
from .analysis import DESIGN_NAMES, AreaAnalysis

__all__ = [
    "summary",
    "data_quality",
    "measurement",
    "outcomes",
    "indicators",
    "maturity_matrix",
    "implementation",
    "strength_of_evidence",
    "provenance",
    "record",
    "items_record",
    "change_words",
    "dropout_words",
    "interval_words",
]

#: fewer settings than this: intervals that allow for settings are approximate (as the core's
#: cluster check, ``evalkit.designs``)
FEW_SETTINGS = 20
#: the implementation section's parameters, listed in the provenance table when used
_IMPLEMENTATION_KEYS = ("sessions_column", "planned_sessions", "fidelity_prefix",
                        "eligible_indicator")  # fmt: skip
_CHANGE = {
    "improved": "improved reliably",
    "unchanged": "showed no reliable change",
    "deteriorated": "got reliably worse",
}
_COMPARED = {
    "higher": "higher than expected",
    "lower": "lower than expected",
    "not different": "not different from what is expected",
}


def _failed(a: AreaAnalysis, section: str) -> page.Block:
    reason = a.failed.get(section)
    if not reason:
        return page.Block("")
    return page.callout(reason[0].upper() + reason[1:] + ".", kind="alert",
                        heading_text="Could not be estimated:")  # fmt: skip


def _mask(a: AreaAnalysis, keys: pd.DataFrame) -> pd.DataFrame:
    """Hidden cells of a table whose cells are register names (``None``: not a count)."""
    reg = a.register
    return keys.apply(lambda col: col.map(lambda k: bool(k) and reg.hidden(k)))


def _used(keys: pd.DataFrame) -> tuple[str, ...]:
    return tuple(k for k in keys.to_numpy().ravel() if k)


# -- sentences through the register ---------------------------------------------------------------


def change_words(a: AreaAnalysis, who: str = "parents") -> str | None:
    """Reliable change in words, every count through the register."""
    reg = a.register
    if a.prepost is None or a.prepost.n_improved is None:
        return None
    keys = [f"change.{k}" for k in _CHANGE]
    words = [reg.words(k) for k in keys]
    if all(reg.hidden(k) for k in keys):
        return f"Reliable change is not reported for {who}: the numbers are too small to publish safely."
    if not any(reg.hidden(k) for k in keys):
        n = sum(reg.value(k) for k in keys)
        parts = [f"{w} ({fmt_pct(reg.value(k) / n, 0)}) {t}" for k, w, t in
                 zip(keys, words, _CHANGE.values())]  # fmt: skip
        return f"Of {n:,} {who} with scores at both times, {_join(parts)}."
    parts = [f"{w} {t}" for w, t in zip(words, _CHANGE.values()) if w is not None]
    left_out = [t for w, t in zip(words, _CHANGE.values()) if w is None]
    if len(left_out) == 1:
        parts.append(f"the rest {left_out[0]}")
    return f"Of the {who} with scores at both times, {_join(parts)}."


def dropout_words(a: AreaAnalysis, who: str = "parents") -> str:
    """Drop-out between the two measurements in words, every count through the register."""
    from ...evidence import DROPOUT_MAX

    reg = a.register
    base, lost = reg.words("baseline.all"), reg.words("dropped.all")
    if reg.hidden("baseline.all"):
        return f"Drop-out is not reported: too few {who} answered at the start."
    lead = f"Of {base} {who} who answered at the start, "
    if lost is None:
        return (
            lead
            + "some did not answer again at follow-up (how many is hidden to protect small numbers)."
        )
    if reg.hidden("dropped.all"):
        return lead + f"{lost} did not answer again at follow-up."
    n_base, n_lost = reg.value("baseline.all"), reg.value("dropped.all")
    rate = n_lost / n_base if n_base else 0.0
    text = lead + f"{lost} ({fmt_pct(rate, 0)}) did not answer again at follow-up."
    if rate >= DROPOUT_MAX:
        text += (" That is a lot: those who stayed may differ from those who left, so the "
                 "results could be biased.")  # fmt: skip
    return text


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


# -- the sections ---------------------------------------------------------------------------------


def summary(a: AreaAnalysis) -> Section:
    """Title, the synthetic-data banner and the boxed headline findings."""
    p = a.params
    title = a.main.name if a.main is not None else p["outcome_tool"].upper()
    blocks: list[Any] = [page.title(p["area_name"], f"Evaluation report · {title}")]
    if p["synthetic"]:
        blocks.append(page.synthetic_banner())
    if p.get("needs_data"):  # the needs-assessment page beside this report (evalkit render)
        blocks.append(page.Block(f'<p>Where the area is starting from: see its <a href="'
                                 f'{html.escape(p["area_id"])}-needs.html">needs assessment</a>.'
                                 "</p>"))  # fmt: skip
    if a.problem:
        lines = [f"This area's results could not be estimated: {a.problem}."]
        blocks.append(page.summary_box(lines, heading_text="Summary"))
        return Section("summary", tuple(blocks), record={"problem": a.problem})
    main, lines = a.main, []
    if a.effect is not None:
        lines.append(effect_sentence(a.effect.estimate, a.effect.ci_low, a.effect.ci_high,
                                     outcome=f"the {main.name} ({main.short})",
                                     higher_is_better=main.higher_is_better,
                                     comparison=a.has_comparison))  # fmt: skip
    if main.alpha is not None:
        al = main.alpha
        lines.append(reliability_sentence(al.estimate, al.ci_low, al.ci_high, tool=main.short,
                                          published=main.tool.spec.published_alpha()))  # fmt: skip
    lines.append(change_words(a))
    lines.append(dropout_words(a))
    if a.evidence is not None:
        lines.append(f"Indicative strength of evidence: level {a.evidence.level} of 4, "
                     f"{a.evidence.label.lower()} (worked out by evalkit; not an EIF rating).")  # fmt: skip
    blocks.append(page.summary_box(headline(lines, max_sentences=5), heading_text="Summary"))
    counts = ("change.improved", "change.unchanged", "change.deteriorated", "baseline.all",
              "dropped.all")  # fmt: skip
    return Section("summary", tuple(blocks), counts=counts)


def data_quality(a: AreaAnalysis) -> Section:
    """Records, answers and drop-out by group, and answers out of the tool's range."""
    if a.overview is None:
        return Section("data_quality")
    reg = a.register
    ov = a.overview
    columns = {"records": "Records", "with_baseline": "Answered before",
               "with_follow_up": "Answered after", "dropout_pct": "Drop-out %",
               "missing_answers_pct": "Missing answers %"}  # fmt: skip
    stems = {"records": "records", "with_baseline": "baseline", "with_follow_up": "follow_up",
             "dropout_pct": "dropout_pct", "missing_answers_pct": "missing_pct"}  # fmt: skip
    table = ov.rename_axis("Group").rename(columns=columns)
    keys = pd.DataFrame({columns[c]: [f"{s}.{g.lower()}" for g in ov.index]
                         for c, s in stems.items()}, index=table.index)  # fmt: skip
    records = _capital(reg.words("records.all") or "the")
    blocks: list[Any] = [
        page.heading("Data quality"),
        page.paragraph(
            f"{records} records from {a.n_settings} settings. Drop-out is the share "
            "of people who answered before the service but not after it."
        ),  # fmt: skip
        report_table(
            table,
            caption="Records, answers and drop-out by group",
            hidden=_mask(a, keys),
            digits=1,
            count_cols=["Records", "Answered before", "Answered after"],
        ),  # fmt: skip
    ]
    bad = pd.concat([p.bad for p in (a.main, a.second) if p is not None])
    n_bad = reg.words("bad.total")
    if reg.value("bad.total") == 0:
        blocks.append(page.paragraph("All answers were within the tool's range."))
    else:
        blocks.append(
            page.paragraph(
                f"{_capital(n_bad or 'some')} answers were outside the tool's range and were "
                "treated as missing; check them in the source data (columns listed below)."
            )
        )
    used = _used(keys) + ("records.all", "bad.total")
    if len(bad):
        bt = (
            bad.set_index("column")[["n_out_of_range"]]
            .rename(columns={"n_out_of_range": "Answers out of range"})
            .rename_axis("Column")
        )
        bkeys = pd.DataFrame({"Answers out of range": [f"bad.{c}" for c in bt.index]},
                             index=bt.index)  # fmt: skip
        blocks.append(report_table(bt, caption="Answers outside the tool's range, by column",
                                   hidden=_mask(a, bkeys), count_cols=["Answers out of range"]))  # fmt: skip
        used += _used(bkeys)
    return Section("data_quality", tuple(blocks), counts=used,
                   record={"n_records": reg.value("records.all")})  # fmt: skip


def measurement(a: AreaAnalysis) -> Section:
    """Reliability of each questionnaire beside its published value; floor and ceiling."""
    if a.main is None or a.problem:
        return Section("measurement")
    blocks: list[Any] = [
        page.heading("Measurement"),
        page.paragraph(
            "How consistently each questionnaire measured in this area, beside the "
            "value its developers published. Alpha of 0.7 or more is usually taken "
            "as acceptable for comparing groups."
        ),  # fmt: skip
    ]
    for part in (a.main, a.second):
        if part is None or part.summary is None:
            continue
        s = part.summary
        stats = s[s["statistic"] != "warning"].rename(columns={"label": "Statistic"})
        stats = stats.set_index("Statistic")[["estimate", "ci_low", "ci_high", "published"]]
        stats.columns = ["This area", "95% CI from", "to", "Published"]
        blocks.append(page.heading(part.name, level=3))
        blocks.append(report_table(stats, caption=f"Reliability of the {part.short} in this "
                                   "area (items before the service)", suppress=False, digits=2))  # fmt: skip
        blocks.append(page.bullets(_floor_ceiling(part)))
    blocks.append(_failed(a, "measurement"))
    return Section("measurement", tuple(blocks))


def _floor_ceiling(part: Any) -> list[str]:
    stats = part.item_stats
    lo, hi = part.tool.response_range
    if stats is None or hi - lo < 2:  # yes/no items have every answer at one end
        return []
    floors = int((stats["floor_pct"] > FLOOR_CEILING_PCT).sum())
    ceilings = int((stats["ceiling_pct"] > FLOOR_CEILING_PCT).sum())
    text = []
    if floors:
        text.append(f"{floors} of {len(stats)} items had more than {FLOOR_CEILING_PCT:.0f}% of "
                    "answers at the lowest score (a floor effect): usual for a screening tool "
                    "used with everyone, but it limits how much improvement can show.")  # fmt: skip
    if ceilings:
        text.append(f"{ceilings} of {len(stats)} items had more than {FLOOR_CEILING_PCT:.0f}% "
                    "at the highest score (a ceiling effect).")  # fmt: skip
    return text


def outcomes(a: AreaAnalysis) -> Section:
    """The design's effect with its one interval, reliable change, a second outcome, power."""
    if a.main is None or a.problem:
        return Section("outcomes")
    reg, main, e = a.register, a.main, a.effect
    better = "higher is better" if main.higher_is_better else "lower is better"
    blocks: list[Any] = [
        page.heading("Outcomes"),
        page.paragraph(
            f"Design: {DESIGN_NAMES[a.design]}. Main outcome: {main.name} total score ({better})."
        ),  # fmt: skip
    ]
    counts: tuple[str, ...] = ()
    if e is not None:
        est = pd.DataFrame({"Estimate": [e.estimate, e.g], "95% CI from": [e.ci_low, e.g_ci_low],
                            "to": [e.ci_high, e.g_ci_high]},
                           index=pd.Index(["Difference in points", "Standardised effect size"],
                                          name="Effect"))  # fmt: skip
        blocks.append(report_table(est, caption=f"Estimated effect of the service on the "
                                   f"{main.short} total", suppress=False, digits=2))  # fmt: skip
        blocks.append(_effect_figure(a))
        how = interval_words(a)
        if how:
            blocks.append(page.paragraph(how))
        if a.imputed is not None:
            blocks += _imputed_blocks(a)
            counts += (f"dropped.{a.scope}", f"baseline.{a.scope}")
    if "change.improved" in reg.declared:
        keys = pd.DataFrame({"People": [f"change.{k}" for k in _CHANGE]},
                            index=pd.Index(["Reliably improved", "No reliable change",
                                            "Reliably deteriorated"], name="Change"))  # fmt: skip
        values = pd.DataFrame({"People": [a.prepost.n_improved, a.prepost.n_unchanged,
                                          a.prepost.n_deteriorated]}, index=keys.index)  # fmt: skip
        blocks += [
            page.heading("Reliable change (people who used the service)", level=3),
            page.paragraph(
                "A change counts as reliable when it is larger than the "
                "questionnaire's measurement error would explain (Jacobson and "
                f"Truax; reliability {a.prepost.reliability:.2f})."
            ),  # fmt: skip
            report_table(
                values,
                caption=f"Reliable change on the {main.short}",
                hidden=_mask(a, keys),
                count_cols=["People"],
            ),  # fmt: skip
        ]
        counts += _used(keys)
    elif a.prepost is not None and a.prepost.n_improved is None:
        blocks.append(page.paragraph(_no_reliable_change(a)))
    if a.second_fit is not None:
        s, f = a.second, a.second_fit
        t = pd.DataFrame({"Estimate": [f.estimate, f.g], "95% CI from": [f.ci_low, f.g_ci_low],
                          "to": [f.ci_high, f.g_ci_high]},
                         index=pd.Index(["Difference in points", "Standardised effect size"],
                                        name="Effect"))  # fmt: skip
        way = "higher" if s.higher_is_better else "lower"
        blocks += [page.heading(f"Second outcome: {s.name}", level=3),
                   report_table(t, caption=f"Estimated effect of the service on the {s.short} "
                                f"total ({way} is better)", suppress=False, digits=2)]  # fmt: skip
    if a.mdes is not None:
        n_key = "model.all" if a.has_comparison else "model.service"
        blocks += [page.heading("Could this sample detect the hoped-for effect?", level=3),
                   page.paragraph(_power_words(a, n_key))]  # fmt: skip
        counts += (n_key,)
    notes, note_counts = _outcome_notes(a)
    blocks += [page.callout(n, kind="warning", heading_text="Note:") for n in notes]
    blocks.append(_failed(a, "outcomes"))
    return Section("outcomes", tuple(blocks), counts=counts + note_counts,
                   record={"effect": e.record(reg.value("model.all")) if e else None,
                           "effect_mi": a.imputed.record() if a.imputed else None,
                           "effect_g": ({"estimate": e.g, "ci_low": e.g_ci_low,
                                         "ci_high": e.g_ci_high} if e else None),
                           "mdes": a.mdes.estimate if a.mdes is not None else None})  # fmt: skip


def interval_words(a: AreaAnalysis) -> str | None:
    """How the effect's interval was worked out, and why, in words for a reader."""
    e = a.effect
    if e is None:
        return None
    g = e.n_clusters
    if e.se_method == "wild":
        boot = f"{e.n_boot:,} resamples, " if e.n_boot else ""
        return (f"How the interval was worked out: families in the same setting tend to be "
                f"alike, and the interval allows for that. With only {g} settings, the usual "
                "way of doing so (cluster-robust standard errors) gives intervals that are too "
                "narrow, so this interval comes from a wild cluster bootstrap (restricted, "
                f"with Webb's six-point weights; {boot}a fixed random seed), which stays "
                "honest with few settings. It is still approximate, and wider than it would "
                "be with more settings.")  # fmt: skip
    if e.se_method == "CR2":
        return (f"How the interval was worked out: families in the same setting tend to be "
                f"alike, and the interval allows for that across the {g} settings with "
                "bias-reduced cluster-robust standard errors (CR2) and Satterthwaite degrees "
                "of freedom, which keep it honest when settings are not many.")  # fmt: skip
    if e.se_method in ("CR1", "HC3"):
        what = ("cluster-robust standard errors (CR1)" if e.se_method == "CR1" else
                "standard errors that allow the two groups to vary differently (HC3)")  # fmt: skip
        return f"How the interval was worked out: with {what}."
    if a.design == "multilevel":
        df = "Satterthwaite's" if (e.df_method or "").startswith("Satterthwaite") else (
            "between-within")  # fmt: skip
        text = (f"How the interval was worked out: the model allows for families in the same "
                f"setting being alike ({g} settings), with {df} degrees of freedom, as R's "
                "lmerTest gives.")  # fmt: skip
        if g is not None and g < FEW_SETTINGS:
            text += f" With only {g} settings the interval is approximate."
        return text
    return None


def _imputed_blocks(a: AreaAnalysis) -> list[Any]:
    """The multiply-imputed estimate beside the complete-case one, and what a difference means."""
    e, mi, reg = a.effect, a.imputed, a.register
    key = "dropout_pct.all" if a.has_comparison else "dropout_pct.service"
    pct = reg.shown(key, mi.missing_share * 100) if key in reg.declared else None
    share = "More than a fifth" if pct is None else f"{pct:.0f}%"
    who = ", their group and who they are" if a.design == "comparison" else ""
    table = pd.DataFrame(
        {"Estimate": [e.estimate, mi.estimate], "95% CI from": [e.ci_low, mi.ci_low],
         "to": [e.ci_high, mi.ci_high]},
        index=pd.Index(["Complete cases (the estimate above)",
                        f"Missing follow-ups imputed ({mi.m} imputations)"], name="Analysis"),
    )  # fmt: skip
    blocks: list[Any] = [
        page.heading("Allowing for missed follow-ups", level=3),
        page.paragraph(
            f"{share} of the parents who answered at the start missed the follow-up. The "
            "estimate above uses only those who answered both times; the second row fills in "
            "the missing follow-up scores many times over from what the parents answered at "
            f"the start{who} (multiple imputation), and combines the results. If "
            "the two differ, those who missed the follow-up probably differ from those who "
            "answered, and the complete-case estimate may be biased."
        ),  # fmt: skip
        report_table(
            table,
            caption="The effect with and without imputing missed follow-ups (difference in points)",
            suppress=False,
            digits=2,
        ),  # fmt: skip
    ]
    width, cc_width = mi.ci_high - mi.ci_low, e.ci_high - e.ci_low
    if width > 2 * cc_width:
        settings = f"only {e.n_clusters} settings and " if e.n_clusters else ""
        df = f" (its degrees of freedom are {mi.df:.1f})" if mi.df is not None else ""
        blocks.append(page.paragraph(
            f"The imputed interval is much wider{df}: with {settings}this many follow-ups "
            "missing, the data cannot pin the effect down once the uncertainty about the "
            "missing answers is allowed for. Read the complete-case interval with that in "
            "mind: it is narrower only because it assumes those who answered are like those "
            "who did not."))  # fmt: skip
    if mi.se_method == "CR2" and e.se_method == "wild":
        blocks.append(page.paragraph(
            "The imputed interval uses bias-reduced cluster-robust standard errors (CR2), as "
            "the bootstrap cannot be combined across imputations."))  # fmt: skip
    return blocks


def _no_reliable_change(a: AreaAnalysis) -> str:
    """Why reliable change is not counted (it needs the questionnaire's reliability)."""
    why = a.failed.get("measurement")
    because = f" ({why})" if why else ""
    return (f"Reliable change is not reported: it needs the {a.main.short}'s reliability in "
            f"this area, which could not be worked out{because}.")  # fmt: skip


def _effect_figure(a: AreaAnalysis) -> page.Block:
    """The effect's figure: aggregates only, and a sentence instead below the threshold."""
    reg, e, short = a.register, a.effect, a.main.short
    people = "model.all" if a.has_comparison else "model.service"
    if reg.hidden(people):
        return page.paragraph("No chart is shown: too few people took part to draw one without "
                              "risk of identifying someone.")  # fmt: skip
    try:
        fig = _drawn_once(a.fit.plot())
    except NotImplementedError:
        return page.Block("")
    return page.figure(fig, alt=f"Chart of the estimated effect of the service on the {short} "
                       f"total: {e.estimate:.1f} points (95% CI {e.ci_low:.1f} to "
                       f"{e.ci_high:.1f}).", caption="The estimate and its uncertainty.")  # fmt: skip


def _drawn_once(fig: Any, **room: float) -> Any:
    """``fig`` (one axes) placed by fixed margins worked out from its texts, so that saving
    it draws it once (constrained layout would lay it out and draw it once more first);
    ``room``: see :func:`~evalkit.plots.style.fixed_layout`."""
    from ...plots.style import fixed_layout

    fixed_layout(fig, **room)
    return fig


def _funnel_figure(funnel: Any, highlight: str | None) -> Any:
    """The funnel plot drawn once: room at the right for its legend, anchored beside the
    axes at 1.01 of their width, and above them for the labels of areas near the top."""
    from ...plots.style import legend_width

    fig = funnel.plot(highlight=highlight)
    legend = fig.axes[0].get_legend()
    return _drawn_once(fig, right=legend_width(legend) + 0.01 * fig.get_figwidth(), top=0.1)


def _power_words(a: AreaAnalysis, n_key: str) -> str:
    m, hoped = a.mdes, a.params["hoped_effect"]
    n = a.register.words(n_key)
    who = f"{n} families" if n else "the families in this evaluation"
    test = "two-sided" if m.two_tailed else "one-sided"
    verdict = "large enough." if m.estimate <= hoped else "too small to detect it reliably."
    return (f"With {who}, the smallest effect this evaluation could reliably detect is "
            f"{m.estimate:.2f} standard deviations ({m.power:.0%} power, {m.alpha:.0%} {test} "
            f"significance). The effect hoped for was {hoped:.2f} standard deviations, so the "
            f"sample was {verdict}")  # fmt: skip


def _outcome_notes(a: AreaAnalysis) -> tuple[list[str], tuple[str, ...]]:
    reg, notes, counts = a.register, [], ()
    out, total = reg.words("model.excluded"), reg.words(f"records.{a.scope}")
    if reg.value("model.excluded") != 0 and out is not None and total is not None:
        notes.append(f"{_capital(out)} of {total} records lacked a score on the {a.main.short} "
                     "before or after and are not in the estimate. If they differ from the "
                     "others the estimate may be biased.")  # fmt: skip
        counts = ("model.excluded", f"records.{a.scope}")
    if a.design == "multilevel" and a.fit is not None and not a.fit.converged:
        notes.append("The model of settings did not settle cleanly: treat its estimate with "
                     "caution.")  # fmt: skip
    return notes, counts


def indicators(a: AreaAnalysis) -> Section:
    """The area's population indicator: its rate, a funnel plot and the interrupted series."""
    p, reg = a.params, a.register
    if not p["indicators"] or a.problem and a.indicator_totals is None:
        return Section("indicators")
    label = p["indicator_label"] or p["indicator"].replace("_", " ")
    blocks: list[Any] = [page.heading("Population indicators")]
    counts: tuple[str, ...] = ()
    r = a.indicator_rate
    if r is not None and not reg.hidden("indicator.rate"):
        blocks.append(
            page.paragraph(
                f"In the last 12 months, {r.estimate * 100:.1f}% ({r.ci_low * 100:.1f}% to "
                f"{r.ci_high * 100:.1f}%, Wilson 95% interval) for {label} in this area."
            )
        )
        counts = ("indicator.x", "indicator.n")
    elif r is not None:
        blocks.append(page.paragraph(f"The rate for {label} in this area is not shown: the "
                                     "numbers are too small to publish safely."))  # fmt: skip
    area = str(p["area_id"])
    if a.funnel is not None:
        table = a.funnel.to_frame()
        table.index = table.index.astype(str)
        row = table.loc[area] if area in table.index and r is not None and not reg.hidden(
            "indicator.rate") else None  # fmt: skip
        where = (
            f"; this area is {_COMPARED[row['compared_998']]} at 99.8%" if row is not None else ""
        )
        blocks.append(page.figure(_funnel_figure(a.funnel, area if row is not None else None),
                                  alt=f"Funnel plot of {label} in every area against the "
                                  f"number of births, with 95% and 99.8% control limits{where}.",
                                  caption="Each point is an area. Points outside the outer lines "
                                  "differ from the average by more than chance would explain."))  # fmt: skip
        if row is not None:
            blocks.append(
                page.paragraph(
                    f"Compared with all areas, this area is {_COMPARED[row['compared_95']]} at the "
                    f"95% level and {_COMPARED[row['compared_998']]} at the 99.8% level."
                )
            )
    if a.its is not None:
        lc = a.its.level_change
        blocks += [
            page.heading("Before and after the service started", level=3),
            page.figure(
                _drawn_once(a.its.plot()),
                alt=f"Line chart of the monthly {label} rate with the "
                "trend fitted before the service started and projected after it; "
                f"level change {lc.estimate:.2f} ({lc.scale}).",
                caption="Observed months, fitted trend and the trend projected as if "
                "nothing had changed.",
            ),  # fmt: skip
            page.paragraph(
                f"When the service started the rate changed by a factor of "
                f"{lc.estimate:.2f} (95% CI {lc.ci_low:.2f} to {lc.ci_high:.2f}), a "
                f"{lc.scale} from an interrupted time series with seasonality."
            ),  # fmt: skip
        ]
    blocks.append(_failed(a, "indicators"))
    rec = None
    if r is not None:
        rec = {"name": p["indicator"], "x": reg.value("indicator.x"),
               "n": reg.value("indicator.n"),
               "level_change": a.its.level_change.estimate if a.its is not None else None}  # fmt: skip
    return Section("indicators", tuple(blocks), counts=counts, record={"indicator": rec})


def maturity_matrix(a: AreaAnalysis) -> Section:
    """Partners' self-assessment on the maturity matrix: profile, agreement and change."""
    from ...plots.matrix import plot_profile

    if a.profile is None:
        if a.params["matrix"]:
            return Section("maturity_matrix", (page.heading("Maturity matrix"),
                                               _failed(a, "matrix")))  # fmt: skip
        return Section("maturity_matrix", record={"matrix": None})
    prof = a.profile[a.profile["scope"] == "dimension"]
    dims = prof.rename(columns={"label": "Dimension"}).set_index("Dimension")[
        ["mean", "min", "max", "n_partners"]
    ]
    dims.columns = ["Average level", "Lowest partner", "Highest partner", "Partners"]
    area = str(a.params["area_id"])
    blocks: list[Any] = [
        page.heading("Maturity matrix"),
        page.paragraph(
            "Partners' self-assessment of the local early-years system on levels 1 "
            "(basic) to 5 (mature)."
        ),  # fmt: skip
        page.figure(
            _drawn_once(plot_profile(a.profile, area=area)),  # the profile computed once
            alt="Bar chart of the average maturity "
            "level for each element of Plan, Lead, Deliver and Evaluate.",
            caption="Average level per element at the latest assessment.",
        ),  # fmt: skip
        report_table(
            dims,
            caption="Maturity by dimension: average and spread between partners",
            suppress=False,
            digits=1,
        ),  # fmt: skip
    ]
    ag = a.agreement
    if ag is not None:
        blocks.append(
            page.paragraph(
                f"Agreement between the {ag.n_raters} partners: {ag.method} {ag.estimate:.2f} "
                f"(95% CI {ag.ci_low:.2f} to {ag.ci_high:.2f}), {ag.interpretation}."
            )
        )
    if a.change is not None:
        ch = a.change[a.change["scope"].isin(["dimension", "overall"])]
        ch = ch.rename(columns={"label": "Dimension"}).set_index("Dimension")[
            ["mean_before", "mean_after", "change"]
        ]
        ch.columns = ["Before", "Latest", "Change"]
        blocks.append(report_table(ch, caption="Change since the previous assessment",
                                   suppress=False, digits=1))  # fmt: skip
    blocks += _matrix_cycle(a)
    blocks.append(_failed(a, "matrix"))
    return Section("maturity_matrix", tuple(blocks),
                   record={"matrix": dict(zip(prof["label"], prof["mean"]))})  # fmt: skip


def _matrix_cycle(a: AreaAnalysis) -> list[Any]:
    """The yearly cycle: change per element since the baseline, where partners disagree most,
    and the priority actions agreed at the latest assessment with their status."""
    out: list[Any] = []
    base = a.change_baseline
    if base is not None:
        el = base[base["scope"] == "element"]
        first = pd.Timestamp(el["date_before"].iloc[0]) if len(el) else None
        table = el.rename(columns={"label": "Element"}).set_index("Element")[
            ["mean_before", "mean_after", "change"]
        ]
        table.columns = ["Baseline", "Latest", "Change"]
        when = f" ({first:%B %Y})" if first is not None else ""
        out += [page.heading("Change since the baseline", level=3),
                report_table(table, caption=f"Average level per element at the baseline{when} "
                             "and the latest assessment", suppress=False, digits=1)]  # fmt: skip
    dis = a.disagreement
    if dis is not None and len(dis):
        top = dis[dis["range"] > 0].head(3)
        if len(top):
            parts = [f"{r.label} (levels {r.min:.0f} to {r.max:.0f})" for r in top.itertuples()]
            text = (f"Partners disagree most on {_join(parts)}: the workshop could start "
                    "there.")  # fmt: skip
        else:
            text = "Partners gave every element the same level."
        out += [page.heading("Where partners disagree most", level=3), page.paragraph(text)]
    acts = a.actions
    if acts is not None:
        out.append(page.heading("Priority actions", level=3))
        if not len(acts):
            out.append(page.paragraph("No priority actions were recorded at the latest "
                                      "assessment."))  # fmt: skip
        else:
            when = pd.Timestamp(acts["date"].iloc[0])
            table = pd.DataFrame({
                "Element": acts["label"].to_numpy(), "Partner": acts["partner"].to_numpy(),
                "Action": acts["action"].to_numpy(), "Owner": acts["owner"].to_numpy(),
                "Due": [f"{d:%d %b %Y}" if pd.notna(d) else "" for d in acts["due_date"]],
                "Status": acts["status"].to_numpy()}).set_index("Element")  # fmt: skip
            out.append(report_table(table, caption=f"Priority actions agreed at the latest "
                                    f"assessment ({when:%B %Y}) and their status",
                                    suppress=False))  # fmt: skip
    return out


def implementation(a: AreaAnalysis) -> Section:
    """Reach, dose and fidelity of the service, and the outcome by dose (issue 17)."""
    im = a.implementation
    if im is None:
        return Section("implementation", record={"implementation": None})
    reg = a.register
    blocks: list[Any] = [
        page.heading("Implementation: reach, dose and fidelity"),
        page.paragraph(
            "A programme can only help the families it reaches, if they attend "
            "enough sessions and it is delivered as designed."
        ),  # fmt: skip
    ]
    counts: tuple[str, ...] = ()
    rec: dict[str, Any] = {}
    r = im.reach
    if r is not None:
        if reg.hidden("impl.reach"):
            blocks.append(page.paragraph("Reach is not shown: the numbers are too small to "
                                         "publish safely."))  # fmt: skip
        else:
            blocks.append(page.paragraph(
                f"Reach: the service reached {reg.words(im.served)} of "
                f"{reg.words('impl.eligible')} eligible families in the last 12 months, "
                f"{r.estimate:.0%} ({r.ci_low:.0%} to {r.ci_high:.0%}, Wilson 95% interval). "
                "This assumes the records cover the same 12 months as the eligible "
                "population."))  # fmt: skip
            counts += (im.served, "impl.eligible")
            rec["reach"] = {"estimate": r.estimate, "ci_low": r.ci_low, "ci_high": r.ci_high}
    d = im.dose
    if d is not None:
        blocks += _dose_blocks(a, im)
        counts += tuple(k for _, k in im.bands) + ("dose.n",)
        if not reg.hidden("dose.planned_pct"):
            rec["planned_dose"] = {"estimate": d.estimate, "ci_low": d.ci_low,
                                   "ci_high": d.ci_high, "planned": d.planned}  # fmt: skip
    f = im.fidelity
    if f is not None:
        blocks += _fidelity_blocks(a, im)
        counts += tuple(k for _, k, _ in im.settings) + ("fid.n",)
        if not reg.hidden("fid.mean"):
            rec["fidelity"] = {"estimate": f.estimate, "ci_low": f.ci_low,
                               "ci_high": f.ci_high, "icc": f.icc}  # fmt: skip
    dr = im.dose_response
    if dr is not None:
        blocks += _dose_response_blocks(a, im)
        counts += tuple(k for _, k in im.dr_bands) + ("dr.n",)
        rec["dose_response"] = {"estimate": dr.estimate, "ci_low": dr.ci_low,
                                "ci_high": dr.ci_high}  # fmt: skip
    blocks.append(_failed(a, "implementation"))
    return Section("implementation", tuple(blocks), counts=counts,
                   record={"implementation": rec or None})  # fmt: skip


def _dose_blocks(a: AreaAnalysis, im: Any) -> list[Any]:
    reg, d = a.register, im.dose
    labels = [label for label, _ in im.bands]
    keys = pd.DataFrame({"People": [k for _, k in im.bands]},
                        index=pd.Index(labels, name="Sessions attended"))  # fmt: skip
    values = pd.DataFrame({"People": [reg.value(k) or 0 for _, k in im.bands]},
                          index=keys.index)  # fmt: skip
    out: list[Any] = [page.heading("Dose: sessions attended", level=3)]
    if reg.hidden("dose.planned_pct"):
        out.append(page.paragraph(f"The share who attended the planned {d.planned} sessions is "
                                  "not shown: the numbers are too small to publish safely."))  # fmt: skip
    else:
        out.append(page.paragraph(
            f"Of {reg.words('dose.n')} people in the service group with their sessions "
            f"recorded, {reg.words(im.bands[-1][1])} ({d.estimate:.0%}; {d.ci_low:.0%} to "
            f"{d.ci_high:.0%}, Wilson 95% interval) attended the planned {d.planned} sessions "
            "or more."))  # fmt: skip
    if not any(reg.hidden(k) for _, k in im.bands):
        out.append(_dose_figure(labels, [reg.value(k) for _, k in im.bands], d.planned))
    out.append(report_table(values, caption="People in the service group by sessions attended",
                            hidden=_mask(a, keys), count_cols=["People"]))  # fmt: skip
    return out


def _dose_figure(labels: list[str], people: list[int], planned: int) -> page.Block:
    from ...plots.style import new_figure

    fig, ax = new_figure()
    ax.bar(range(len(labels)), people, color="#1d70b8")
    ax.set_xticks(range(len(labels)), labels)
    ax.set_xlabel("Sessions attended")
    ax.set_ylabel("People")
    text = ", ".join(f"{lab}: {n}" for lab, n in zip(labels, people))
    return page.figure(_drawn_once(fig), alt=f"Bar chart of people by sessions attended ({text}); "
                       f"{planned} sessions were planned.",
                       caption="Sessions attended, in bands (counts of 10 or more only).")  # fmt: skip


def _fidelity_blocks(a: AreaAnalysis, im: Any) -> list[Any]:
    reg, f = a.register, im.fidelity
    names = [name for name, _, _ in im.settings]
    keys = pd.DataFrame({"Records": [k for _, k, _ in im.settings],
                         "Adherence %": [k for _, _, k in im.settings]},
                        index=pd.Index(names, name="Setting"))  # fmt: skip
    table = pd.DataFrame({"Records": f.by_setting["sessions"].to_numpy(),
                          "Adherence %": f.by_setting["adherence"].to_numpy()},
                         index=keys.index)  # fmt: skip
    out: list[Any] = [page.heading("Fidelity: delivered as designed?", level=3)]
    if reg.hidden("fid.mean"):
        out.append(page.paragraph("Average adherence is not shown: the numbers are too small "
                                  "to publish safely."))  # fmt: skip
    else:
        text = (f"On average {f.estimate:.0f}% of the fidelity checklist was delivered as "
                f"designed ({max(f.ci_low, 0):.0f}% to {min(f.ci_high, 100):.0f}%, 95% "
                "interval allowing for settings, cut at 0% and 100%).")  # fmt: skip
        if np.isfinite(f.icc):
            text += (f" Differences between settings account for {f.icc:.0%} of the variation "
                     f"in adherence (intraclass correlation, 95% interval {f.icc_ci_low:.2f} to "
                     f"{f.icc_ci_high:.2f}): the higher it is, the more delivery depends on "
                     "where families went.")  # fmt: skip
        out.append(page.paragraph(text))
    out.append(report_table(table, caption="Adherence to the fidelity checklist by setting",
                            hidden=_mask(a, keys), digits=0, count_cols=["Records"]))  # fmt: skip
    return out


def _dose_response_blocks(a: AreaAnalysis, im: Any) -> list[Any]:
    from ...implementation import DOSE_CAVEAT

    dr, main = im.dose_response, a.main
    labels = [label for label, _ in im.dr_bands]
    keys = pd.DataFrame({"People": [k for _, k in im.dr_bands], "Difference": [None] * len(labels),
                         "95% CI from": [None] * len(labels), "to": [None] * len(labels)},
                        index=pd.Index(labels, name="Sessions attended"))  # fmt: skip
    table = pd.DataFrame({"People": dr.bands["people"].to_numpy(),
                          "Difference": dr.bands["difference"].to_numpy(),
                          "95% CI from": dr.bands["ci_low"].to_numpy(),
                          "to": dr.bands["ci_high"].to_numpy()}, index=keys.index)  # fmt: skip
    hidden = _mask(a, keys)
    # a band's difference rests on its people: hidden with them
    for col in ("Difference", "95% CI from", "to"):
        hidden[col] = hidden["People"]
    adjust = "their score before" + (" and background" if a.has_comparison else "")
    way = "higher" if main.higher_is_better else "lower"
    return [
        page.heading("Dose and outcome", level=3),
        page.paragraph(
            f"Among people in the service group, each extra session went with a difference of "
            f"{dr.estimate:.2f} points on the {main.short} after the service (95% CI "
            f"{dr.ci_low:.2f} to {dr.ci_high:.2f}; {way} is better), adjusted for {adjust} as "
            "in the main analysis. The table compares each band with the lowest."
        ),  # fmt: skip
        page.callout(DOSE_CAVEAT, kind="warning", heading_text="Note:"),
        report_table(
            table,
            caption=f"{main.short} after the service by sessions attended, "
            "adjusted difference from the lowest band",
            hidden=hidden,
            digits=2,
            count_cols=["People"],
        ),  # fmt: skip
    ]


def strength_of_evidence(a: AreaAnalysis) -> Section:
    """The indicative strength-of-evidence level and its checklist."""
    ev = a.evidence
    if ev is None:
        return Section("strength_of_evidence", (_failed(a, "evidence"),),
                       record={"evidence_level": None})  # fmt: skip
    table = ev.table.set_index("check")
    values, counts = _evidence_values(a)
    for check, text in values.items():
        if check in table.index and table.loc[check, "status"] != "not applicable":
            table.loc[check, "value"] = text
    shown = table[["criterion", "value", "threshold", "status"]].rename(
        columns={"criterion": "Check", "value": "This evaluation", "threshold": "What is needed",
                 "status": "Met?"}).set_index("Check")  # fmt: skip
    blocks = (
        page.heading("Strength of evidence"),
        page.callout(ev.caveat, kind="info"),
        page.paragraph(f"Indicative level {ev.level} of 4: {ev.label}."),
        page.bullets(ev.reasons) if ev.reasons else page.Block(""),
        report_table(shown, caption="Strength-of-evidence checklist", suppress=False),
        page.bullets(list(ev.notes)) if ev.notes else page.Block(""),
    )
    return Section("strength_of_evidence", blocks, counts=counts,
                   record={"evidence_level": ev.level})  # fmt: skip


def _evidence_values(a: AreaAnalysis) -> tuple[dict[str, str], tuple[str, ...]]:
    """The checklist's cells that carry counts, written again through the register."""
    reg = a.register

    def people(key: str) -> str:
        return reg.words(key) or "a number hidden to protect small numbers"

    service = f"{people('model.service')} in the service group"
    both = service + (f", {people('model.comparison')} in the comparison group"
                      if a.has_comparison else "")  # fmt: skip
    mdes = (f"; smallest detectable effect {a.mdes.estimate:.2f} SD" if a.mdes is not None
            else "; smallest detectable effect not known")  # fmt: skip
    pct = reg.shown("dropout_pct.all", a.overview.loc["All", "dropout_pct"])
    values = {
        "outcome_data": service,
        "sample_size": both + mdes,
        "dropout": "not shown: small numbers" if pct is None else f"{pct:.0f}% lost",
    }
    counts = ("model.service", "model.comparison", "dropped.all", "baseline.all")
    im = a.implementation
    if im is not None and "impl.reach" in reg.declared:
        values["reach"] = ("not shown: small numbers" if reg.hidden("impl.reach") else
                           f"{im.reach.estimate:.0%} of the eligible population")  # fmt: skip
        counts += (im.served, "impl.eligible")
    if im is not None and "fid.mean" in reg.declared:
        values["fidelity"] = ("not shown: small numbers" if reg.hidden("fid.mean") else
                              f"{im.fidelity.estimate:.0f}% of fidelity checklist items "
                              "delivered")  # fmt: skip
        counts += ("fid.n",)
    if "dropout_diff" in reg.declared and a.has_comparison:
        ov = a.overview
        diff = abs(float(ov.loc["Service", "dropout_pct"] - ov.loc["Comparison", "dropout_pct"]))
        diff = reg.shown("dropout_diff", diff)
        values["differential_dropout"] = ("not shown: small numbers" if diff is None
                                          else f"{diff:.0f} percentage points apart")  # fmt: skip
        counts += ("dropped.service", "dropped.comparison", "baseline.service",
                   "baseline.comparison")  # fmt: skip
    return values, counts


def provenance(a: AreaAnalysis) -> Section:
    """Data source, version and date, the parameters and the input files' fingerprints."""
    from ..params import file_digest

    p = a.params
    files = {k: p[k] for k in ("records", "indicators", "matrix") if p[k]}
    prov = pd.DataFrame([(k, os.path.basename(v), file_digest(v)[:16]) for k, v in files.items()],
                        columns=["Input", "File", "SHA-256 (first 16)"]).set_index("Input")  # fmt: skip
    shown = {
        "area_id": p["area_id"], "design": p["design"], "outcome_tool": p["outcome_tool"],
        "second_tool": p["second_tool"] or "none",
        "covariates": ", ".join(p["covariates"]) or "none", "hoped_effect": p["hoped_effect"],
        "follow_up_weeks": p["follow_up_weeks"], "indicator": p["indicator"] or "none",
        "intervention_month": p["intervention_month"] or "none",
        "suppression_threshold": p["suppression_threshold"],
        **{k: os.path.basename(v) for k, v in files.items()},
        **{k: str(p[k]) for k in _IMPLEMENTATION_KEYS if a.implementation is not None and p[k]},
    }  # fmt: skip
    params = pd.DataFrame({"Value": {k: str(v) for k, v in shown.items()}}).rename_axis("Parameter")
    blocks = (
        page.heading("Methods and provenance"),
        page.paragraph(p["data_source"] or "Data source not stated."),
        *_plan_blocks(a),
        page.paragraph(
            f"Made with evalkit {__version__} on {datetime.date.today():%d %B %Y}. "
            f"Counts under {p['suppression_threshold']} are suppressed (shown as c, "
            'or as "fewer than" in sentences), and other counts are hidden where '
            "needed across the whole page so that none can be worked out from the "
            "others."
        ),  # fmt: skip
        report_table(params, caption="Parameters of this report", suppress=False),
        report_table(prov, caption="Input files and their fingerprints", suppress=False),
    )
    status = a.plan
    return Section("provenance", blocks,
                   record={"plan": status.to_dict() if status is not None else None})  # fmt: skip


def _plan_blocks(a: AreaAnalysis) -> list[Any]:
    """The analysis plan: locked and followed, or the deviations with their reasons."""
    from ...plan import deviations_frame

    status = a.plan
    if status is None:
        return [page.paragraph("The analysis plan could not be read.")]
    out: list[Any] = [page.paragraph(status.sentence())]
    if status.deviations:
        out.append(report_table(deviations_frame(status), caption="Deviations from the locked "
                                "analysis plan, and why", suppress=False))  # fmt: skip
    return out


def _alpha_record(a: AreaAnalysis) -> dict[str, Any] | None:
    if a.main is None or a.main.alpha is None:
        return None
    out = a.main.alpha.to_dict()
    out["n"] = a.register.value(f"alpha_n.{a.main.short.lower()}")
    return out


def items_record(a: AreaAnalysis) -> dict[str, Any] | None:
    """The record's ``items``: what the reliability page across areas pools (no raw answers).

    People who answered every item before the service (``n``, through the register, the same
    people as alpha's), item means, covariance matrix, answers at the lowest and highest score
    per item (a count from 1 to the threshold minus 1 is left out, as None) and omega total.
    Everything but the item names is None when ``n`` is hidden.
    """
    main = a.main
    if main is None or main.alpha is None or a.problem:
        return None
    reg = a.register
    n = reg.value(f"alpha_n.{main.short.lower()}")
    complete = main.items.dropna()
    lo, hi = main.tool.response_range
    omega = None
    if main.summary is not None:
        row = main.summary[main.summary["statistic"] == "omega_total"]
        omega = float(row["estimate"].iloc[0]) if len(row) else None
    out: dict[str, Any] = {"names": [str(c) for c in complete.columns], "n": n,
                           "scale_min": lo, "scale_max": hi, "omega_total": omega,
                           "means": None, "cov": None, "floor": None, "ceiling": None}  # fmt: skip
    if n is None or n != len(complete):
        return out

    least = 0 if reg.hide_zero else 1

    def safe(counts: pd.Series) -> list[int | None]:
        return [None if least <= int(v) < reg.threshold else int(v) for v in counts]

    out.update(means=complete.mean().tolist(), cov=complete.cov().to_numpy().tolist(),
               floor=safe((complete == lo).sum()), ceiling=safe((complete == hi).sum()))  # fmt: skip
    return out


def record(a: AreaAnalysis, *sections: Section) -> dict[str, Any]:
    """The area's JSON record: identity, published counts and each section's part.

    The register is audited again first; a page whose hidden counts could be rebuilt raises
    :class:`~evalkit.errors.ReportError` and is withheld.
    """
    reg, p = a.register, a.params
    reg.check()
    out: dict[str, Any] = {
        "area_id": p["area_id"], "area_name": p["area_name"], "synthetic": p["synthetic"],
        "design": p["design"], "outcome_tool": p["outcome_tool"],
        "higher_is_better": a.main.higher_is_better if a.main is not None else None,
        "n_records": reg.value("records.all") if "records.all" in reg.declared else None,
        "n_treated": reg.value("model.service") if "model.service" in reg.declared else None,
        "n_comparison": (reg.value("model.comparison")
                         if "model.comparison" in reg.declared else None),
        "dropout_pct": (reg.shown("dropout_pct.all", float(a.overview.loc["All", "dropout_pct"]))
                        if a.overview is not None else None),
        "effect": None, "effect_g": None,
        "reliability": _alpha_record(a), "items": items_record(a),
        "mdes": None, "evidence_level": None, "indicator": None, "matrix": None,
        "plan": None, "implementation": None, "effect_mi": None,
        "problem": a.problem,
        "suppressed": sorted(reg.hidden_keys),
    }  # fmt: skip
    for s in sections:
        out.update(s.record)
    if isinstance(out["dropout_pct"], float) and not np.isfinite(out["dropout_pct"]):
        out["dropout_pct"] = None
    return out
