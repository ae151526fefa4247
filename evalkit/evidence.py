"""Strength of evidence: a transparent checklist giving an *indicative* level.

The checklist is written in the spirit of the Early Intervention Foundation's (EIF) evidence
standards, which grade how far a programme has been shown to cause better child outcomes:

====  ========================  =========================================================
1     Logic model               a theory of change, no outcome evidence yet
2     Preliminary evidence      outcomes improved (e.g. pre–post), but causality cannot
                                be assumed
3     Efficacy evidence         one rigorous comparison-group evaluation (RCT, or a
                                quasi-experiment with well-matched groups, little
                                drop-out, reliable and valid measures, enough people)
4     Effectiveness evidence    more than one rigorous evaluation, in real-world
                                conditions, with benefits lasting a year or more
====  ========================  =========================================================

:func:`checklist` turns the facts of one local evaluation (its design, the measure's
reliability, the sample against the minimum detectable effect, drop-out, baseline
equivalence and follow-up) into one row per criterion, then into a level. It never gives
level 4: that needs replication in other rigorous evaluations, which one local evaluation
cannot show. The level is evalkit's indication, **not an EIF rating** (only the EIF's own
assessment panel gives those); every result carries that caveat.

Thresholds (module constants, each with its source):

- reliability: Cronbach's alpha at least 0.70, 0.80 or more preferred (Nunnally 1978;
  the usual convention for group comparisons);
- drop-out: overall under 20% and differential (between groups) under 10 percentage points:
  evalkit's simple rule of thumb after the What Works Clearinghouse (WWC) attrition
  standard. The WWC itself uses a boundary table in which the differential drop-out allowed
  depends on the overall drop-out ("cautious" and "liberal" boundaries); its cautious
  boundary is stricter than this rule, so passing here does not mean "low attrition" in a
  WWC review;
- baseline equivalence: absolute standardised mean difference at most 0.25; between 0.05
  and 0.25 only when the analysis adjusts for the baseline measure (WWC Standards Handbook
  v4.1, baseline equivalence; an RCT with low drop-out does not need to show it);
- sample size: the minimum detectable effect size (MDES, :func:`evalkit.power.mdes`) no larger
  than the effect the service hopes for (Bloom 1995);
- follow-up: at least 26 weeks (six months) for lasting effects. This is evalkit's choice,
  shown for information; it does not change levels 1-3 (EIF's level 4 asks for a year).

Three further rows are shown when their values are given, for information (they do not
change the level), each with a note when it is not met:

- analysis pre-specified (issue 17): met when a locked analysis plan was followed, or every
  deviation from it has a reason (``pre_specified`` says which, see :data:`PRE_SPECIFIED`);
- reach: at least :data:`REACH_MIN` (50%) of the eligible population served, evalkit's
  choice (for a service meant for a subgroup, read it against that subgroup's size);
- fidelity: mean adherence to the fidelity checklist at least :data:`FIDELITY_MIN` (80%),
  the usual benchmark of high treatment fidelity (Borrelli 2011).

>>> res = checklist(design="prepost", n_treated=120, reliability=0.84, dropout=0.15,
...                 mdes=0.26, hoped_effect=0.3, improved=True)
>>> res.level, res.label
(2, 'Preliminary evidence')
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ._validate import check_choice, check_positive_int
from .errors import ParameterError
from .results import Result

__all__ = [
    "DESIGNS",
    "COMPARISON_DESIGNS",
    "LABELS",
    "CAVEAT",
    "RELIABILITY_MIN",
    "RELIABILITY_PREFERRED",
    "DROPOUT_MAX",
    "DIFFERENTIAL_DROPOUT_MAX",
    "BASELINE_SMD_MAX",
    "BASELINE_SMD_NO_ADJUSTMENT",
    "FOLLOW_UP_WEEKS_MIN",
    "PRE_SPECIFIED",
    "REACH_MIN",
    "FIDELITY_MIN",
    "EvidenceResult",
    "checklist",
]

#: designs :func:`checklist` knows ("none": no outcome data yet)
DESIGNS = ("none", "prepost", "its", "comparison", "multilevel", "propensity", "did", "rct")
#: designs with a comparison group of people or areas who did not get the service
COMPARISON_DESIGNS = ("comparison", "multilevel", "propensity", "did", "rct")

LABELS = {
    1: "Logic model",
    2: "Preliminary evidence",
    3: "Efficacy evidence",
    4: "Effectiveness evidence",
}

CAVEAT = (
    "This is an indicative level worked out by evalkit from this evaluation's design and data. "
    "It is not an EIF rating."
)

RELIABILITY_MIN = 0.70
RELIABILITY_PREFERRED = 0.80
DROPOUT_MAX = 0.20  # overall drop-out must be below this
DIFFERENTIAL_DROPOUT_MAX = 0.10  # difference between groups must be below this
BASELINE_SMD_MAX = 0.25  # WWC: above this the groups are not equivalent
BASELINE_SMD_NO_ADJUSTMENT = 0.05  # WWC: up to this no statistical adjustment is needed
FOLLOW_UP_WEEKS_MIN = 26  # evalkit's choice: six months
REACH_MIN = 0.50  # evalkit's choice: half the eligible population
FIDELITY_MIN = 0.80  # Borrelli (2011): high treatment fidelity is 80% adherence or more
#: what ``pre_specified`` may say about the analysis plan, and how the checklist shows it
PRE_SPECIFIED = {
    "followed": "a locked analysis plan, followed",
    "explained": "a locked analysis plan; every deviation from it has a reason",
    "unexplained": "a locked analysis plan, with deviations not explained",
    "unlocked": "an analysis plan that was not locked",
    "changed": "an analysis plan changed after it was locked",
    "none": "no analysis plan",
}

_DESIGN_TEXT = {
    "none": "no outcome data yet (a logic model or theory of change only)",
    "prepost": "pre–post: the same people before and after, with no comparison group",
    "its": "interrupted time series: the trend before and after, with no comparison area",
    "comparison": "comparison group, adjusted for baseline differences (ANCOVA)",
    "multilevel": "comparison group, allowing for clustering (multilevel model)",
    "propensity": "comparison group matched or weighted on propensity scores",
    "did": "difference-in-differences against comparison areas",
    "rct": "randomised controlled trial",
}

_LEVEL_4_REASON = (
    "Level 4 needs more than one rigorous evaluation, in real-world conditions, with benefits "
    "lasting a year or more; one local evaluation cannot show that, so evalkit never gives it."
)

_COLUMNS = ["check", "criterion", "value", "threshold", "met", "status", "key", "why"]


@dataclass(frozen=True)
class EvidenceResult(Result):
    """Result of :func:`checklist`.

    Attributes
    ----------
    level : int
        Indicative level, 1 to 3 (never 4; see :func:`checklist`).
    label : str
        The level's name ("Preliminary evidence", ...).
    design : str
        The design the level was worked out for.
    caveat : str
        Plain words saying the level is indicative and not an EIF rating.
    reasons : tuple of str
        Why the next level up was not reached, one plain sentence each.
    notes : tuple of str
        Plain sentences on rows shown for information that are not met (an analysis not
        pre-specified, low reach, low fidelity).
    table : DataFrame
        One row per criterion: ``check`` (short name), ``criterion`` (plain English),
        ``value`` (what this evaluation found), ``threshold`` (what is needed), ``met``
        (True, False or None when unknown or not applicable), ``status`` ("met", "not met",
        "not known", "not applicable"), ``key`` (whether the criterion counts towards the
        level) and ``why`` (why it matters).
    """

    level: int
    label: str
    design: str
    caveat: str
    reasons: tuple[str, ...]
    notes: tuple[str, ...] = ()
    method: str = "evalkit evidence checklist (in the spirit of the EIF evidence standards)"
    table: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False, compare=False)

    _title = "Strength of evidence (indicative)"

    @property
    def summary(self) -> str:
        """One sentence: the level, its name and the caveat."""
        return f"Indicative level {self.level} of 4: {self.label.lower()}. {self.caveat}"

    def to_frame(self) -> pd.DataFrame:
        """The checklist, one row per criterion (a copy)."""
        return self.table.copy()

    def _repr_html_(self) -> str:
        body = self.table.drop(columns=["check", "key"]).to_html(index=False, escape=True, border=0)
        head = html.escape(f"{self._name()}: level {self.level} of 4, {self.label}")
        return (
            f"<div class='evalkit-result'><strong>{head}</strong>"
            f"<p>{html.escape(self.caveat)}</p>{body}</div>"
        )


# -- input checks --------------------------------------------------------------------------------


def _optional_number(
    key: str, value: Any, *, lo: float = -math.inf, hi: float = math.inf, what: str
) -> float | None:
    if value is None:
        return None
    bad = isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (int, float, np.integer, np.floating)
    )
    if bad or not math.isfinite(float(value)) or not lo <= float(value) <= hi:
        raise ParameterError(f"{key}={value!r} is not allowed", key=key, expected=what)
    return float(value)


def _proportion(key: str, value: Any) -> float | None:
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        if 1 < float(value) <= 100:  # a percentage given by mistake
            raise ParameterError(
                f"{key}={value!r} looks like a percentage",
                key=key,
                expected=f"a proportion between 0 and 1 (for {value:g}% give {value / 100:g})",
            )
    return _optional_number(key, value, lo=0.0, hi=1.0, what="a proportion between 0 and 1")


def _optional_bool(key: str, value: Any) -> bool | None:
    if value is None or isinstance(value, (bool, np.bool_)):
        return None if value is None else bool(value)
    raise ParameterError(f"{key}={value!r} is not allowed", key=key, expected="True, False or None")


# -- the rows ------------------------------------------------------------------------------------


def _row(
    check: str,
    criterion: str,
    value: str,
    threshold: str,
    met: bool | None,
    *,
    applicable: bool = True,
    key: bool = True,
    why: str,
) -> dict[str, Any]:
    if not applicable:
        status, met, key = "not applicable", None, False
        value = "not applicable" if value == "not known" else value
    else:
        status = {True: "met", False: "not met", None: "not known"}[met]
    return {
        "check": check,
        "criterion": criterion,
        "value": value,
        "threshold": threshold,
        "met": met,
        "status": status,
        "key": key,
        "why": why,
    }


def _pct(x: float) -> str:
    return f"{100 * x:.0f}%"


def _reliability_row(reliability: float | None, published: float | None, validated: bool):
    if reliability is not None:
        alpha, source = reliability, "in this evaluation"
    else:
        alpha, source = published, "published (not checked in this evaluation)"
    if alpha is None:
        value = "not known"
    else:
        value = f"alpha {alpha:.2f} {source}"
        if reliability is not None and published is not None:
            value += f" (published {published:.2f})"
    met = None if alpha is None else bool(alpha >= RELIABILITY_MIN)
    rel = _row(
        "reliability",
        "The measure gave consistent (reliable) scores",
        value,
        f"alpha at least {RELIABILITY_MIN:.2f} ({RELIABILITY_PREFERRED:.2f} or more preferred)",
        met,
        why="Unreliable scores add noise: they hide real effects and make individual change "
        "hard to judge.",
    )
    val = _row(
        "validated_measure",
        "The outcome was measured with an established, validated tool",
        "yes" if validated else "no",
        "a published tool with evidence that it measures the outcome",
        validated,
        why="A home-made measure may not measure what matters, so a change in it may mean little.",
    )
    return [rel, val]


def _dropout_rows(design: str, dropout: float | None, differential: float | None):
    outcome = design != "none"
    comparison = design in COMPARISON_DESIGNS
    over = _row(
        "dropout",
        "Few people were lost between the first and last measurement",
        "not known" if dropout is None else f"{_pct(dropout)} lost",
        f"under {_pct(DROPOUT_MAX)} (evalkit's rule of thumb after the WWC attrition standard)",
        None if dropout is None else bool(dropout < DROPOUT_MAX),
        applicable=outcome,
        why="People who drop out often differ from those who stay, so results from the rest "
        "can be biased.",
    )
    diff = _row(
        "differential_dropout",
        "Drop-out was similar in the service and comparison groups",
        "not known"
        if differential is None
        else f"{100 * differential:.0f} percentage points apart",
        f"under {100 * DIFFERENTIAL_DROPOUT_MAX:.0f} percentage points (evalkit's rule of thumb "
        "after the WWC attrition standard)",
        None if differential is None else bool(differential < DIFFERENTIAL_DROPOUT_MAX),
        applicable=comparison,
        why="If one group loses more people, the groups that remain are no longer alike.",
    )
    return [over, diff]


def _baseline_row(design: str, smd: float | None, adjusted: bool, low_dropout: bool | None):
    threshold = (
        f"standardised difference at most {BASELINE_SMD_MAX:.2f}; above "
        f"{BASELINE_SMD_NO_ADJUSTMENT:.2f} only if the analysis adjusts for it (WWC)"
    )
    if smd is None:
        if design == "rct" and low_dropout:
            value, met = "not measured: not needed for a randomised trial with low drop-out", True
        else:
            value, met = "not known", None
    else:
        size = abs(smd)
        value = f"standardised difference {size:.2f}"
        if size <= BASELINE_SMD_NO_ADJUSTMENT:
            met = True
        elif size <= BASELINE_SMD_MAX:
            met = adjusted
            value += " (adjusted for in the analysis)" if adjusted else " (not adjusted for)"
        else:
            met = False
    return _row(
        "baseline_equivalence",
        "The groups were alike before the service started",
        value,
        threshold,
        met,
        applicable=design in COMPARISON_DESIGNS,
        why="If the groups differed at the start, a difference at the end may not be due to "
        "the service.",
    )


def _count(n: int, threshold: int) -> str:
    """A count as report text: counts below the disclosure threshold are not printed."""
    return f"fewer than {threshold}" if n < threshold else str(n)


def _sample_row(
    design: str,
    n_treated: int,
    n_comparison: int,
    mdes: float | None,
    hoped: float | None,
    threshold: int = 10,
):
    people = f"{_count(n_treated, threshold)} in the service group"
    if design in COMPARISON_DESIGNS:
        people += f", {_count(n_comparison, threshold)} in the comparison group"
    if mdes is None or hoped is None:
        value, met = f"{people}; smallest detectable effect not known", None
        threshold = "smallest detectable effect no larger than the effect hoped for"
    else:
        value = f"{people}; smallest detectable effect {mdes:.2f} SD"
        threshold = (
            f"smallest detectable effect no larger than the effect hoped for ({hoped:.2f} SD)"
        )
        met = bool(mdes <= hoped)
    return _row(
        "sample_size",
        "Enough people took part to detect the effect hoped for",
        value,
        threshold,
        met,
        applicable=design != "none",
        why="A study too small to detect a worthwhile effect will often miss one that is there.",
    )


def _follow_up_row(design: str, weeks: float | None):
    return _row(
        "follow_up",
        "Outcomes were followed up long enough to see lasting effects",
        "not known" if weeks is None else f"{weeks:g} weeks",
        f"at least {FOLLOW_UP_WEEKS_MIN} weeks (six months; evalkit's choice)",
        None if weeks is None else bool(weeks >= FOLLOW_UP_WEEKS_MIN),
        applicable=design != "none",
        key=False,
        why="Short-term gains can fade; stronger evidence shows benefits that last.",
    )


_NO_COMPARISON = "No comparison group, so we cannot tell whether the service caused the change."


def _information_rows(
    pre_specified: str | None, reach: float | None, fidelity: float | None
) -> tuple[list[dict[str, Any]], list[str]]:
    """The rows shown for information (plan, reach, fidelity) and notes on those not met."""
    rows, notes = [], []
    if pre_specified is not None:
        met = pre_specified in ("followed", "explained")
        rows.append(
            _row(
                "pre_specified",
                "The analysis was pre-specified",
                PRE_SPECIFIED[pre_specified],
                "a locked analysis plan, followed or with every deviation explained",
                met,
                key=False,
                why="An analysis chosen after seeing the data can make chance findings look "
                "like effects.",
            )
        )
        if not met:
            notes.append(
                f"The analysis was not pre-specified ({PRE_SPECIFIED[pre_specified]}), so "
                "choices made after seeing the data could have shaped the results."
            )
    if reach is not None:
        rows.append(
            _row(
                "reach",
                "The service reached the families it is for",
                f"{_pct(reach)} of the eligible population",
                f"at least {_pct(REACH_MIN)} of the eligible population (evalkit's choice)",
                bool(reach >= REACH_MIN),
                key=False,
                why="Results from the few families reached may not hold for the many who were not.",
            )
        )
        if reach < REACH_MIN:
            notes.append(
                f"Low reach: the service reached {_pct(reach)} of the eligible population, so "
                "the results may not hold for the families it did not reach."
            )
    if fidelity is not None:
        rows.append(
            _row(
                "fidelity",
                "The programme was delivered as designed",
                f"{_pct(fidelity)} of fidelity checklist items delivered",
                f"at least {_pct(FIDELITY_MIN)} adherence (Borrelli 2011)",
                bool(fidelity >= FIDELITY_MIN),
                key=False,
                why="A programme not delivered as designed is not a test of the programme.",
            )
        )
        if fidelity < FIDELITY_MIN:
            notes.append(
                f"Low fidelity: {_pct(fidelity)} of the fidelity checklist was delivered as "
                "designed, so the results may understate what the programme does when "
                "delivered in full."
            )
    return rows, notes


def _level(table: pd.DataFrame, outcome_data: bool, improved: bool | None):
    """Level and the reasons the next level up was not reached."""
    if not outcome_data:
        return 1, (
            "No outcome data from people who used the service yet, so there is no "
            "evidence of improvement.",
        )
    if improved is False:
        return 1, (
            "The outcome did not clearly improve (no change for the better that chance alone "
            "could not explain), so this evaluation gives no evidence yet that the service works.",
        )
    keys = table[table["key"]]
    unmet = keys[keys["met"].map(lambda m: m is not True)]
    if unmet.empty:
        return 3, (_LEVEL_4_REASON,)
    reasons = []
    for row in unmet.itertuples():
        if row.check == "design":
            reasons.append(_NO_COMPARISON)
        else:
            lead = "Not met" if row.met is False else "Not known"
            reasons.append(f"{lead}: {row.criterion[0].lower()}{row.criterion[1:]}.")
    return 2, tuple(reasons)


def checklist(
    *,
    design: str,
    n_treated: int,
    n_comparison: int = 0,
    reliability: float | None = None,
    published_reliability: float | None = None,
    mdes: float | None = None,
    hoped_effect: float | None = None,
    dropout: float | None = None,
    differential_dropout: float | None = None,
    baseline_smd: float | None = None,
    baseline_adjusted: bool = True,
    follow_up_weeks: float | None = None,
    validated_measure: bool = True,
    improved: bool | None = None,
    threshold: int = 10,
    pre_specified: str | None = None,
    reach: float | None = None,
    fidelity: float | None = None,
) -> EvidenceResult:
    """A strength-of-evidence checklist and the indicative level it gives.

    Each criterion becomes one row: met, not met, not known (the value was not given) or
    not applicable (e.g. baseline equivalence without a comparison group). The level is

    - **1 (Logic model)** when there is no outcome data (``design="none"`` or no one in the
      service group), or the outcome did not improve (``improved=False``);
    - **3 (Efficacy evidence)** when the design has a comparison group (``"comparison"``,
      ``"multilevel"``, ``"propensity"``, ``"did"``, ``"rct"``) and *every* key criterion is
      known and met: the outcome improved, alpha at least 0.70, a validated measure,
      overall drop-out under 20%, differential drop-out under 10 points, baseline
      equivalence, MDES no larger than the hoped-for effect;
    - **2 (Preliminary evidence)** otherwise: pre–post and interrupted time series designs
      (no comparison group, so causality cannot be assumed), and comparison designs with a
      key criterion not met or not known;
    - never **4**: that needs replication in other rigorous evaluations.

    Unknown is never counted as met: give every value you have.

    Parameters
    ----------
    design : str
        One of ``"none"``, ``"prepost"``, ``"its"``, ``"comparison"`` (ANCOVA),
        ``"multilevel"``, ``"propensity"``, ``"did"``, ``"rct"``.
    n_treated, n_comparison : int
        People (or areas) analysed in the service and comparison groups. Comparison designs
        need ``n_comparison`` of at least 1.
    reliability : float, optional
        Cronbach's alpha (or omega) of the outcome measure in this evaluation's data.
    published_reliability : float, optional
        The measure's published reliability; judged instead of ``reliability`` when that is
        not given (and the row says so).
    mdes, hoped_effect : float, optional
        Minimum detectable effect size and the effect the service hopes for, both in
        standard deviations (:func:`evalkit.power.mdes` gives the first).
    dropout : float, optional
        Overall proportion lost between the first and last measurement (0.15 for 15%).
    differential_dropout : float, optional
        Difference between the groups' drop-out proportions (its sign is ignored).
    baseline_smd : float, optional
        Standardised mean difference between the groups on the outcome at baseline.
    baseline_adjusted : bool
        Whether the analysis adjusts for the baseline measure (needed when
        0.05 < |SMD| <= 0.25).
    follow_up_weeks : float, optional
        Weeks from the start of the service to the last outcome measure (shown, not counted).
    validated_measure : bool
        Whether the outcome measure is an established, validated tool.
    improved : bool, optional
        Whether the outcome improved (the interval excludes no change, in the good direction).
    threshold : int
        Disclosure threshold: group sizes below it are written "fewer than 10", never as
        the number (default 10, as the reports' suppression).
    pre_specified : str, optional
        The analysis plan's status, one of :data:`PRE_SPECIFIED`: ``"followed"``,
        ``"explained"`` (deviations, each with a reason), ``"unexplained"``,
        ``"unlocked"``, ``"changed"`` or ``"none"``. Shown for information (the row is
        left out when not given).
    reach, fidelity : float, optional
        Proportion of the eligible population served, and mean adherence to the fidelity
        checklist (0 to 1; :mod:`evalkit.implementation`). Shown for information.

    Returns
    -------
    EvidenceResult
        ``level``, ``label``, ``reasons``, ``caveat``, ``table`` (``.to_frame()``).

    Raises
    ------
    ParameterError
        An unknown design; counts that are not whole numbers; proportions outside 0-1 (a
        percentage such as 15 is caught and the message shows 0.15); a comparison design
        without a comparison group.

    References
    ----------
    Early Intervention Foundation. EIF evidence standards (guidebook.eif.org.uk).
    What Works Clearinghouse (2020). Standards Handbook, version 4.1. IES, US Dept of Education.
    Nunnally JC (1978). Psychometric Theory, 2nd ed. McGraw-Hill.
    Bloom HS (1995). Minimum detectable effects. Evaluation Review 19:547-556.

    Examples
    --------
    >>> res = checklist(design="comparison", n_treated=150, n_comparison=150,
    ...                 reliability=0.85, mdes=0.29, hoped_effect=0.3, dropout=0.12,
    ...                 differential_dropout=0.03, baseline_smd=0.1, improved=True)
    >>> res.level, res.label
    (3, 'Efficacy evidence')
    >>> checklist(design="its", n_treated=24, improved=True).level
    2
    """
    check_choice("design", design, DESIGNS)
    n_treated = check_positive_int("n_treated", n_treated, minimum=0)
    n_comparison = check_positive_int("n_comparison", n_comparison, minimum=0)
    if design in COMPARISON_DESIGNS and n_comparison < 1:
        raise ParameterError(
            f"design={design!r} compares with a group who did not get the service, but "
            "n_comparison is 0",
            key="n_comparison",
            expected="the number in the comparison group (1 or more), or design='prepost'",
        )
    reliability = _optional_number("reliability", reliability, hi=1.0, what="a number up to 1")
    published = _optional_number(
        "published_reliability",
        published_reliability,
        lo=0.0,
        hi=1.0,
        what="a number between 0 and 1",
    )
    positive = "a positive number of standard deviations"
    mdes = _optional_number("mdes", mdes, lo=1e-12, what=positive)
    hoped = _optional_number("hoped_effect", hoped_effect, lo=1e-12, what=positive)
    dropout = _proportion("dropout", dropout)
    signed = _optional_number(
        "differential_dropout", differential_dropout, what="a proportion between 0 and 1"
    )
    differential = _proportion("differential_dropout", None if signed is None else abs(signed))
    smd = _optional_number("baseline_smd", baseline_smd, what="a finite number")
    weeks = _optional_number("follow_up_weeks", follow_up_weeks, lo=0.0, what="0 or more weeks")
    adjusted = _optional_bool("baseline_adjusted", baseline_adjusted)
    validated = _optional_bool("validated_measure", validated_measure)
    if adjusted is None or validated is None:
        key = "baseline_adjusted" if adjusted is None else "validated_measure"
        raise ParameterError(f"{key}=None is not allowed", key=key, expected="True or False")
    improved = _optional_bool("improved", improved)
    if pre_specified is not None:
        check_choice("pre_specified", pre_specified, tuple(PRE_SPECIFIED))
    reach = _proportion("reach", reach)
    fidelity = _proportion("fidelity", fidelity)

    outcome_data = design != "none" and n_treated > 0
    comparison = design in COMPARISON_DESIGNS
    rows = [
        _row(
            "design",
            "A comparison group who did not get the service",
            _DESIGN_TEXT[design],
            "a randomised or well-matched comparison group",
            comparison,
            why="Without one, change could come from time, natural recovery or regression to "
            "the mean rather than from the service.",
        ),
        _row(
            "outcome_data",
            "Outcomes were measured for people who used the service",
            f"{_count(n_treated, threshold)} in the service group" if design != "none" else "none",
            "outcome data before and after the service",
            outcome_data,
            why="Without outcome data there is a plan, not evidence.",
        ),
        _row(
            "improved",
            "The outcome improved",
            {True: "yes", False: "no clear improvement", None: "not known"}[improved],
            "a change for the better, with an interval that excludes no change",
            improved,
            applicable=outcome_data,
            why="Evidence of impact needs a change for the better that chance alone is "
            "unlikely to explain.",
        ),
    ]
    rows += _reliability_row(reliability, published, validated)
    dropout_rows = _dropout_rows(design, dropout, differential)
    rows += dropout_rows
    low_dropout = dropout_rows[0]["met"] and (dropout_rows[1]["met"] is True)
    rows.append(_baseline_row(design, smd, adjusted, low_dropout))
    rows.append(_sample_row(design, n_treated, n_comparison, mdes, hoped, threshold))
    rows.append(_follow_up_row(design, weeks))
    rows.append(
        _row(
            "replication",
            "The finding has been repeated in other rigorous evaluations",
            "one local evaluation",
            "two or more rigorous evaluations, one showing benefits "
            "lasting a year or more (EIF level 4)",
            False,
            key=False,
            why="One study can be a fluke or depend on local circumstances.",
        )
    )
    if not outcome_data:  # nothing to judge but the plan
        for r in rows[3:-1]:
            r.update(met=None, status="not applicable", key=False)
    information, notes = _information_rows(pre_specified, reach, fidelity)
    rows[-1:-1] = information  # before "replication"
    table = pd.DataFrame(rows, columns=_COLUMNS)
    table["met"] = table["met"].astype(object)
    level, reasons = _level(table, outcome_data, improved)
    return EvidenceResult(
        level=level,
        label=LABELS[level],
        design=design,
        caveat=CAVEAT,
        reasons=reasons,
        notes=tuple(notes),
        table=table,
    )
