"""Strength-of-evidence checklist (evalkit.evidence).

Thresholds come from published standards, cited beside each test:
- WWC Standards Handbook v4.1 (baseline equivalence): |SMD| <= 0.05 equivalent; 0.05-0.25
  equivalent only with statistical adjustment; > 0.25 not equivalent. An RCT with low
  attrition need not show equivalence (WWC FAQ on baseline equivalence).
- Nunnally (1978): alpha >= 0.70 acceptable, 0.80 preferred.
- EIF evidence standards: level 2 preliminary (no causal claim), level 3 one rigorous
  comparison-group evaluation, level 4 needs multiple rigorous evaluations (so never here).
"""

import dataclasses
import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.errors import ParameterError
from evalkit.evidence import (
    CAVEAT,
    COMPARISON_DESIGNS,
    DESIGNS,
    EvidenceResult,
    checklist,
)

# A comparison-group evaluation meeting every key criterion (level 3).
GOOD = dict(
    design="comparison",
    n_treated=150,
    n_comparison=140,
    reliability=0.85,
    published_reliability=0.87,
    mdes=0.28,
    hoped_effect=0.30,
    dropout=0.12,
    differential_dropout=0.03,
    baseline_smd=0.04,
    follow_up_weeks=30,
    improved=True,
)


def met(res: EvidenceResult, check: str):
    row = res.table.set_index("check").loc[check]
    return row["met"], row["status"]


# -- levels ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("design", [d for d in COMPARISON_DESIGNS])
def test_every_comparison_design_can_reach_level_3(design):
    res = checklist(**{**GOOD, "design": design})
    assert (res.level, res.label) == (3, "Efficacy evidence")
    assert len(res.reasons) == 1 and "Level 4" in res.reasons[0]


@pytest.mark.parametrize(
    "override, check, expected_status",
    [
        # one key criterion fails or is unknown at a time: level 2, and the reason names it
        ({"reliability": 0.69}, "reliability", "not met"),
        ({"reliability": None, "published_reliability": None}, "reliability", "not known"),
        ({"validated_measure": False}, "validated_measure", "not met"),
        ({"dropout": 0.20}, "dropout", "not met"),  # rule: overall under 20%
        ({"dropout": None}, "dropout", "not known"),
        ({"differential_dropout": 0.10}, "differential_dropout", "not met"),  # under 10 points
        ({"differential_dropout": None}, "differential_dropout", "not known"),
        ({"baseline_smd": 0.26}, "baseline_equivalence", "not met"),  # WWC: > .25 fails
        ({"baseline_smd": -0.26}, "baseline_equivalence", "not met"),  # sign ignored
        ({"baseline_smd": 0.15, "baseline_adjusted": False}, "baseline_equivalence", "not met"),
        ({"baseline_smd": None}, "baseline_equivalence", "not known"),
        ({"mdes": 0.31}, "sample_size", "not met"),
        ({"mdes": None}, "sample_size", "not known"),
        ({"improved": None}, "improved", "not known"),
    ],
)
def test_one_weak_criterion_gives_level_2(override, check, expected_status):
    res = checklist(**{**GOOD, **override})
    assert res.level == 2 and res.label == "Preliminary evidence"
    assert met(res, check)[1] == expected_status
    assert len(res.reasons) == 1
    criterion = res.table.set_index("check").loc[check, "criterion"]
    lead = "Not met" if expected_status == "not met" else "Not known"
    assert res.reasons[0] == f"{lead}: {criterion[0].lower()}{criterion[1:]}."


@pytest.mark.parametrize(
    "override, check, expected",
    [
        # boundaries: each threshold's "at least"/"under" reading
        ({"reliability": 0.70}, "reliability", True),  # Nunnally: .70 acceptable
        ({"dropout": 0.1999}, "dropout", True),
        ({"differential_dropout": -0.0999}, "differential_dropout", True),
        ({"baseline_smd": 0.25}, "baseline_equivalence", True),  # WWC: <= .25 with adjustment
        ({"baseline_smd": 0.05, "baseline_adjusted": False}, "baseline_equivalence", True),
        ({"baseline_smd": 0.0501, "baseline_adjusted": False}, "baseline_equivalence", False),
        ({"mdes": 0.30}, "sample_size", True),  # MDES equal to the hoped effect is enough
        ({"follow_up_weeks": 26}, "follow_up", True),
        ({"follow_up_weeks": 25.9}, "follow_up", False),
    ],
)
def test_threshold_boundaries(override, check, expected):
    assert met(checklist(**{**GOOD, **override}), check)[0] is expected


def test_follow_up_is_shown_but_does_not_change_the_level():
    res = checklist(**{**GOOD, "follow_up_weeks": 8})
    assert met(res, "follow_up") == (False, "not met")
    assert res.level == 3


def test_published_reliability_is_used_when_local_is_missing_and_says_so():
    res = checklist(**{**GOOD, "reliability": None, "published_reliability": 0.87})
    assert res.level == 3
    assert res.table.set_index("check").loc["reliability", "value"] == (
        "alpha 0.87 published (not checked in this evaluation)"
    )
    res = checklist(**{**GOOD, "reliability": 0.65, "published_reliability": 0.87})
    assert res.level == 2  # the local value wins over a good published one
    assert res.table.set_index("check").loc["reliability", "value"] == (
        "alpha 0.65 in this evaluation (published 0.87)"
    )


@pytest.mark.parametrize("design", ["prepost", "its"])
def test_designs_without_a_comparison_group_stop_at_level_2(design):
    res = checklist(**{**GOOD, "design": design})
    assert res.level == 2
    assert res.reasons == (
        "No comparison group, so we cannot tell whether the service caused the change.",
    )
    for check in ("differential_dropout", "baseline_equivalence"):
        assert met(res, check) == (None, "not applicable")
    assert not res.table.set_index("check").loc["baseline_equivalence", "key"]


def test_prepost_reasons_also_list_its_other_weaknesses():
    res = checklist(design="prepost", n_treated=80, reliability=0.6, dropout=0.3, improved=True)
    assert res.level == 2
    assert res.reasons == (
        "No comparison group, so we cannot tell whether the service caused the change.",
        "Not met: the measure gave consistent (reliable) scores.",
        "Not met: few people were lost between the first and last measurement.",
        "Not known: enough people took part to detect the effect hoped for.",
    )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"design": "none", "n_treated": 0},
        {"design": "none", "n_treated": 50, "reliability": 0.9},
        {"design": "prepost", "n_treated": 0},
        {**GOOD, "n_treated": 0},
    ],
)
def test_no_outcome_data_is_level_1(kwargs):
    res = checklist(**kwargs)
    assert (res.level, res.label) == (1, "Logic model")
    assert "No outcome data" in res.reasons[0]
    table = res.table.set_index("check")
    assert table.loc["outcome_data", "met"] is False
    assert (
        table.drop(["design", "outcome_data", "replication"])["status"] == "not applicable"
    ).all()


@pytest.mark.parametrize("design", DESIGNS[1:])
def test_no_improvement_is_level_1_whatever_the_design(design):
    n_comp = 100 if design in COMPARISON_DESIGNS else 0
    res = checklist(**{**GOOD, "design": design, "n_comparison": n_comp, "improved": False})
    assert res.level == 1
    assert res.reasons == (
        "The outcome did not clearly improve (no change for the better that chance alone could "
        "not explain), so this evaluation gives no evidence yet that the service works.",
    )


def test_rct_with_low_attrition_need_not_show_baseline_equivalence():
    # WWC: an RCT with low attrition is eligible without a demonstration of equivalence
    res = checklist(**{**GOOD, "design": "rct", "baseline_smd": None})
    assert res.level == 3
    assert met(res, "baseline_equivalence") == (True, "met")
    high = checklist(**{**GOOD, "design": "rct", "baseline_smd": None, "dropout": 0.35})
    assert high.level == 2
    assert met(high, "baseline_equivalence") == (None, "not known")
    # a quasi-experiment always has to show it
    qed = checklist(**{**GOOD, "design": "propensity", "baseline_smd": None})
    assert met(qed, "baseline_equivalence") == (None, "not known")


settings_fast = settings(max_examples=150, deadline=None)


@settings_fast
@given(
    design=st.sampled_from(DESIGNS),
    n_treated=st.integers(0, 500),
    n_comparison=st.integers(1, 500),
    reliability=st.one_of(st.none(), st.floats(-0.5, 1.0)),
    mdes=st.one_of(st.none(), st.floats(0.01, 2.0)),
    hoped=st.one_of(st.none(), st.floats(0.01, 2.0)),
    dropout=st.one_of(st.none(), st.floats(0, 1)),
    diff=st.one_of(st.none(), st.floats(-1, 1)),
    smd=st.one_of(st.none(), st.floats(-2, 2)),
    weeks=st.one_of(st.none(), st.floats(0, 200)),
    validated=st.booleans(),
    improved=st.one_of(st.none(), st.booleans()),
)
def test_level_is_never_4_and_3_only_when_every_key_row_is_met(
    design,
    n_treated,
    n_comparison,
    reliability,
    mdes,
    hoped,
    dropout,
    diff,
    smd,
    weeks,
    validated,
    improved,
):
    res = checklist(
        design=design,
        n_treated=n_treated,
        n_comparison=n_comparison,
        reliability=reliability,
        mdes=mdes,
        hoped_effect=hoped,
        dropout=dropout,
        differential_dropout=diff,
        baseline_smd=smd,
        follow_up_weeks=weeks,
        validated_measure=validated,
        improved=improved,
    )
    assert res.level in (1, 2, 3)
    keys = res.table[res.table["key"]]
    all_met = keys["met"].map(lambda m: m is True).all()
    assert (res.level == 3) == (design in COMPARISON_DESIGNS and all_met and n_treated > 0)
    assert res.reasons  # there is always a reason the next level was not reached
    assert set(res.table["status"]) <= {"met", "not met", "not known", "not applicable"}


# -- results contract ------------------------------------------------------------------------------


def test_result_contract():
    res = checklist(**GOOD)
    assert dataclasses.is_dataclass(res)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.level = 4
    assert (
        res.caveat
        == CAVEAT
        == (
            "This is an indicative level worked out by evalkit from this evaluation's design and "
            "data. It is not an EIF rating."
        )
    )
    frame = res.to_frame()
    assert list(frame.columns) == [
        "check",
        "criterion",
        "value",
        "threshold",
        "met",
        "status",
        "key",
        "why",
    ]
    assert list(frame["check"]) == [
        "design",
        "outcome_data",
        "improved",
        "reliability",
        "validated_measure",
        "dropout",
        "differential_dropout",
        "baseline_equivalence",
        "sample_size",
        "follow_up",
        "replication",
    ]
    frame.loc[0, "value"] = "changed"  # a copy: the result is not changed
    assert res.table.loc[0, "value"] != "changed"
    d = res.to_dict()
    assert d["level"] == 3 and d["label"] == "Efficacy evidence"
    json.dumps(d)
    assert res.summary.startswith("Indicative level 3 of 4: efficacy evidence. This is")
    page = res._repr_html_()
    assert "not an EIF rating" in page.replace("It is not", "not") and "<table" in page
    assert "evaluation&#x27;s" in page  # escaped
    assert res == checklist(**GOOD)  # comparable although it holds a DataFrame


def test_table_values_read_as_plain_english():
    row = checklist(**GOOD).table.set_index("check")
    assert row.loc["dropout", "value"] == "12% lost"
    assert row.loc["differential_dropout", "value"] == "3 percentage points apart"
    assert row.loc["baseline_equivalence", "value"] == "standardised difference 0.04"
    assert row.loc["sample_size", "value"] == (
        "150 in the service group, 140 in the comparison group; smallest detectable effect 0.28 SD"
    )
    assert row.loc["sample_size", "threshold"] == (
        "smallest detectable effect no larger than the effect hoped for (0.30 SD)"
    )
    assert row.loc["reliability", "threshold"] == "alpha at least 0.70 (0.80 or more preferred)"
    assert row["why"].map(lambda s: isinstance(s, str) and s.endswith(".")).all()


# -- errors ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "override, message",
    [
        ({"design": "cohort"}, "design='cohort' is not one of the options"),
        ({"n_comparison": 0}, "n_comparison is 0"),
        ({"n_treated": -1}, "n_treated=-1"),
        ({"n_treated": 2.5}, "n_treated=2.5"),
        ({"dropout": 15}, "for 15% give 0.15"),
        ({"differential_dropout": 1.5}, "for 1.5% give 0.015"),
        ({"dropout": -0.1}, "a proportion between 0 and 1"),
        ({"differential_dropout": "5%"}, "differential_dropout='5%'"),
        ({"differential_dropout": -15}, "for 15% give 0.15"),
        ({"reliability": 1.2}, "reliability=1.2"),
        ({"reliability": float("nan")}, "reliability=nan"),
        ({"mdes": 0}, "mdes=0"),
        ({"hoped_effect": -0.2}, "hoped_effect=-0.2"),
        ({"baseline_smd": "0.1"}, "baseline_smd='0.1'"),
        ({"improved": "yes"}, "improved='yes'"),
        ({"validated_measure": None}, "validated_measure=None"),
    ],
)
def test_bad_arguments_raise_parameter_errors(override, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(").replace(")", r"\)")):
        checklist(**{**GOOD, **override})


def test_numpy_and_pandas_scalars_are_accepted():
    import numpy as np

    res = checklist(
        **{
            **GOOD,
            "n_treated": np.int64(150),
            "reliability": np.float64(0.85),
            "improved": np.bool_(True),
        }
    )
    assert res.level == 3
    assert isinstance(res.table, pd.DataFrame)


def test_small_group_sizes_are_not_printed():
    # Disclosure control: a group under the threshold is described, never counted.
    res = checklist(
        design="comparison", n_treated=7, n_comparison=150, mdes=0.9, hoped_effect=0.3, threshold=10
    )
    text = " ".join(res.table["value"].astype(str))
    assert "fewer than 10 in the service group" in text
    assert " 7 " not in f" {text} " and "150 in the comparison group" in text
