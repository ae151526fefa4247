"""Scoring the shipped tools: hand-worked respondents, every band boundary, SWEMWBS table.

Expected values are worked by hand from the scoring rules in
shared/reference/published.md (sdqinfo.org scoring; Cox et al. 1987; Tennant et al. 2007;
Stewart-Brown et al. 2009; Kroenke et al. 2001; Spitzer et al. 2006; ASQ-3 User's Guide),
not from evalkit's own spec files.
"""

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import evalkit as ek
from evalkit.errors import DataError, ParameterError

NA = np.nan

# SDQ items (sdqinfo.org): reverse-scored 7, 11, 14, 21, 25.
SDQ_SUBSCALES = {
    "emotional": [3, 8, 13, 16, 24],
    "conduct": [5, 7, 12, 18, 22],
    "hyperactivity": [2, 10, 15, 21, 25],
    "peer": [6, 11, 14, 19, 23],
    "prosocial": [1, 4, 9, 17, 20],
}
SDQ_REVERSE = {7, 11, 14, 21, 25}


def frame(prefix, rows):
    """Rows of answers (item 1 first) as a DataFrame with columns prefix1..prefixk."""
    k = len(rows[0])
    return pd.DataFrame([list(r) for r in rows], columns=[f"{prefix}{i}" for i in range(1, k + 1)])


def sdq_row(subscale_scores):
    """SDQ response positions giving the requested (complete) subscale scores."""
    keyed = {}
    for name, items in SDQ_SUBSCALES.items():
        s = subscale_scores.get(name, 0)
        values = [2] * (s // 2) + [s % 2] * (s % 2) + [0] * 5
        for item, v in zip(items, values[:5]):
            keyed[item] = v
    return [2 - keyed[i] if i in SDQ_REVERSE else keyed[i] for i in range(1, 26)]


# -------------------------------------------------------------------------------- SDQ
def test_sdq_complete_respondent_by_hand():
    # responses (0 not true, 1 somewhat, 2 certainly) for items 1..25
    r = [2, 1, 0, 2, 1, 0, 2, 1, 2, 2, 2, 0, 1, 1, 2, 2, 1, 0, 0, 2, 0, 0, 1, 1, 1]
    out = ek.tools.get("sdq").score(frame("sdq_", [r])).iloc[0]
    # emotional 3,8,13,16,24 = 0+1+1+2+1 = 5
    # conduct 5,7R,12,18,22 = 1+(2-2)+0+0+0 = 1
    # hyperactivity 2,10,15,21R,25R = 1+2+2+(2-0)+(2-1) = 8
    # peer 6,11R,14R,19,23 = 0+(2-2)+(2-1)+0+1 = 2
    # prosocial 1,4,9,17,20 = 2+2+2+1+2 = 9; total = 5+1+8+2 = 16
    assert out[
        ["emotional", "conduct", "hyperactivity", "peer", "prosocial", "total"]
    ].tolist() == [5, 1, 8, 2, 9, 16]
    assert out["emotional_band"] == "abnormal"
    assert out["conduct_band"] == "normal"
    assert out["hyperactivity_band"] == "abnormal"
    assert out["peer_band"] == "normal"
    assert out["prosocial_band"] == "normal"
    assert out["total_band"] == "borderline"
    assert out["n_answered"] == 25
    assert out["emotional_answered"] == 5


def test_sdq_prorating_rounding_and_missing_total():
    r = [1, 1, 2, 1, 2, 2, 2, 2, 1, 1, 0, NA, 1, 0, NA, NA, 1, NA, NA, 1, 2, NA, 0, NA, 2]
    out = ek.tools.get("sdq").score(frame("sdq_", [r])).iloc[0]
    # emotional: 3 of 5 answered (2, 2, 1): 5 / 3 * 5 = 8.33 -> 8
    assert out["emotional"] == 8 and out["emotional_answered"] == 3
    # conduct: 2 of 5 answered (item 5 = 2, item 7 = 2 reversed to 0): not scored
    assert math.isnan(out["conduct"]) and out["conduct_answered"] == 2
    # hyperactivity: 4 answered: 1 + 1 + (2-2) + (2-2) = 2; 2 / 4 * 5 = 2.5 -> 3 (half up,
    # as SPSS RND / Stata round in the sdqinfo syntax; banker's rounding would give 2)
    assert out["hyperactivity"] == 3
    # peer: 4 answered: 2 + (2-0) + (2-0) + 0 = 6; 6 / 4 * 5 = 7.5 -> 8
    assert out["peer"] == 8 and out["peer_band"] == "abnormal"
    assert out["prosocial"] == 5
    # the total is missing because conduct is missing
    assert math.isnan(out["total"]) and pd.isna(out["total_band"])
    assert out["n_answered"] == 18


def test_sdq_two_versus_three_answered():
    base = [0] * 25
    two = list(base)
    three = list(base)
    for i in (13, 16, 24):
        two[i - 1] = NA
    for i in (16, 24):
        three[i - 1] = NA
    two[2], two[7] = 2, 2  # items 3, 8 answered: 2 of 5
    three[2], three[7], three[12] = 2, 2, 2  # items 3, 8, 13: 3 of 5, mean 2 -> 10
    out = ek.tools.get("sdq").score(frame("sdq_", [two, three]))
    assert math.isnan(out["emotional"].iloc[0])
    assert out["emotional"].iloc[1] == 10
    assert math.isnan(out["total"].iloc[0])
    # three answered: 10 + conduct (items 7 reversed: 0 -> 2) 2 + hyper (21R, 25R) 4 + peer (11R, 14R) 4
    assert out["total"].iloc[1] == 20


@pytest.mark.parametrize(
    "scale, score, band",
    [
        ("emotional", 3, "normal"),
        ("emotional", 4, "borderline"),
        ("emotional", 5, "abnormal"),
        ("conduct", 2, "normal"),
        ("conduct", 3, "borderline"),
        ("conduct", 4, "abnormal"),
        ("hyperactivity", 5, "normal"),
        ("hyperactivity", 6, "borderline"),
        ("hyperactivity", 7, "abnormal"),
        ("peer", 2, "normal"),
        ("peer", 3, "borderline"),
        ("peer", 4, "abnormal"),
        ("prosocial", 8, "normal"),
        ("prosocial", 7, "borderline"),
        ("prosocial", 6, "abnormal"),
        ("emotional", 0, "normal"),
        ("emotional", 10, "abnormal"),
    ],
)
def test_sdq_subscale_band_boundaries(scale, score, band):
    out = ek.tools.get("sdq").score(frame("sdq_", [sdq_row({scale: score})])).iloc[0]
    assert out[scale] == score
    assert out[f"{scale}_band"] == band


@pytest.mark.parametrize(
    "parts, total, band",
    [
        ({}, 0, "normal"),
        ({"emotional": 10, "conduct": 3}, 13, "normal"),
        ({"emotional": 10, "conduct": 4}, 14, "borderline"),
        ({"emotional": 10, "conduct": 6}, 16, "borderline"),
        ({"emotional": 10, "conduct": 7}, 17, "abnormal"),
        ({"emotional": 10, "conduct": 10, "hyperactivity": 10, "peer": 10}, 40, "abnormal"),
    ],
)
def test_sdq_total_band_boundaries(parts, total, band):
    out = ek.tools.get("sdq").score(frame("sdq_", [sdq_row(parts)])).iloc[0]
    assert out["total"] == total and out["total_band"] == band


def test_sdq_prosocial_not_in_total():
    out = ek.tools.get("sdq").score(frame("sdq_", [sdq_row({"prosocial": 10})])).iloc[0]
    assert out["prosocial"] == 10 and out["total"] == 0


def test_sdq_scores_input_does_not_reverse():
    keyed = [0] * 25
    keyed[6] = 2  # item 7 as an item score of 2 (conduct problem)
    out = ek.tools.get("sdq").score(frame("sdq_", [keyed]), input="scores").iloc[0]
    assert out["conduct"] == 2
    # the same numbers read as response positions: item 7 reversed -> 0, items 11/14/21/25 -> 2
    out = ek.tools.get("sdq").score(frame("sdq_", [keyed])).iloc[0]
    assert out["conduct"] == 0 and out["peer"] == 4 and out["hyperactivity"] == 4


# -------------------------------------------------------------------------------- EPDS
def test_epds_by_hand_scores_and_responses():
    r = [1, 1, 2, 0, 1, 1, 2, 1, 0, 1]
    tool = ek.tools.get("epds")
    out = tool.score(frame("epds_", [r])).iloc[0]
    assert out["total"] == 10 and out["total_band"] == "possible depression"
    assert bool(out["flag_self_harm"])
    # as response positions: items 3, 5-10 reversed (3 - x):
    # 1 + 1 + 1 + 0 + 2 + 2 + 1 + 2 + 3 + 2 = 15
    out = tool.score(frame("epds_", [r]), input="responses").iloc[0]
    assert out["total"] == 15 and out["total_band"] == "probable depression"
    assert bool(out["flag_self_harm"])


def test_epds_item10_flag_whatever_the_total():
    tool = ek.tools.get("epds")
    rows = [
        [0, 0, 0, 0, 0, 0, 0, 0, 0, 1],  # total 1, below threshold, but item 10 = 1
        [3, 3, 3, 3, 3, 3, 3, 3, 3, 0],  # total 27, probable, item 10 = 0: no flag
        [0, 0, 0, 0, 0, 0, 0, 0, 0, NA],  # item 10 unanswered: flag unknown, total missing
    ]
    out = tool.score(frame("epds_", rows))
    assert out["total"].iloc[0] == 1 and out["total_band"].iloc[0] == "below threshold"
    assert out["flag_self_harm"].tolist()[:2] == [True, False]
    assert pd.isna(out["flag_self_harm"].iloc[2]) and math.isnan(out["total"].iloc[2])
    assert out["flag_self_harm"].dtype == "boolean"
    # response positions: position 3 on item 10 is the least distressed answer -> score 0
    pos = [[3, 3, 0, 3, 0, 0, 0, 0, 0, 3], [0, 0, 3, 0, 3, 3, 3, 3, 3, 2]]
    out = tool.score(frame("epds_", pos), input="responses")
    # row 1: items 1, 2, 4 as printed 3 + 3 + 3; item 3 and 5-9 at position 0 -> 3 each (18);
    # item 10 at position 3 -> 0: total 27, no flag.
    # row 2: everything scores 0 except item 10 at position 2 -> 1: total 1, flagged.
    assert out["total"].tolist() == [27, 1]
    assert out["flag_self_harm"].tolist() == [False, True]


# -------------------------------------------------------------------------------- PHQ-9, GAD-7
def test_phq9_by_hand():
    out = ek.tools.get("phq9").score(frame("phq9_", [[3, 2, 1, 0, 1, 2, 3, 0, 1]])).iloc[0]
    assert out["total"] == 13 and out["total_band"] == "moderate"
    assert bool(out["flag_self_harm"])


def test_gad7_by_hand():
    out = ek.tools.get("gad7").score(frame("gad7_", [[2, 2, 1, 1, 0, 3, 1]])).iloc[0]
    assert out["total"] == 10 and out["total_band"] == "moderate"
    assert "flag_self_harm" not in out.index


# Published cut-offs: EPDS >= 10 possible, >= 13 probable (Cox et al. 1987); PHQ-9 5/10/15/20
# (Kroenke et al. 2001); GAD-7 5/10/15 (Spitzer et al. 2006). Both sides of every boundary.
BOUNDARIES = {
    "epds": (10, [(0, "below threshold"), (9, "below threshold"), (10, "possible depression"),
                  (12, "possible depression"), (13, "probable depression"),
                  (30, "probable depression")]),
    "phq9": (9, [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
                 (14, "moderate"), (15, "moderately severe"), (19, "moderately severe"),
                 (20, "severe"), (27, "severe")]),
    "gad7": (7, [(0, "minimal"), (4, "minimal"), (5, "mild"), (9, "mild"), (10, "moderate"),
                 (14, "moderate"), (15, "severe"), (21, "severe")]),
}  # fmt: skip


@pytest.mark.parametrize(
    "name, total, band",
    [(name, t, b) for name, (_, cases) in BOUNDARIES.items() for t, b in cases],
)
def test_single_scale_band_boundaries(name, total, band):
    k = BOUNDARIES[name][0]
    row = ([3] * (total // 3) + [total % 3] + [0] * k)[:k]
    out = ek.tools.get(name).score(frame(f"{name}_", [row])).iloc[0]
    assert out["total"] == total and out["total_band"] == band


# -------------------------------------------------------------------------------- WEMWBS
def test_wemwbs_by_hand_and_missing():
    rows = [[5, 4, 3, 2, 1, 5, 4, 3, 2, 1, 5, 4, 3, 2], [1] * 13 + [NA], [5] * 14, [1] * 14]
    out = ek.tools.get("wemwbs").score(frame("wemwbs_", rows))
    assert out["total"].iloc[0] == 44
    assert math.isnan(out["total"].iloc[1]) and out["n_answered"].iloc[1] == 13
    assert out["total"].iloc[2:].tolist() == [70, 14]
    assert ek.tools.get("wemwbs").direction() == "higher_better"


def test_wemwbs_zero_is_out_of_range():
    rows = [[0] + [3] * 13]
    with pytest.raises(DataError, match=r"wemwbs_1.*row 0.*found 0.*1-5"):
        ek.tools.get("wemwbs").score(frame("wemwbs_", rows))


# -------------------------------------------------------------------------------- SWEMWBS
# Conversion table from shared/reference/published.md (raw 7 ... 35).
SWEMWBS_TABLE = [
    float(x)
    for x in """7.00 9.51 11.25 12.40 13.33 14.08 14.75 15.32 15.84 16.36 16.88 17.43 17.98 18.59
    19.25 19.98 20.73 21.54 22.35 23.21 24.11 25.03 26.02 27.03 28.13 29.31 30.70 32.55 35.00""".split()
]


def test_swemwbs_whole_conversion_table():
    rows = []
    for raw in range(7, 36):
        extra = raw - 7
        rows.append(([5] * (extra // 4) + [1 + extra % 4] + [1] * 7)[:7])
    out = ek.tools.get("swemwbs").score(frame("swemwbs_", rows))
    assert out["total"].tolist() == list(range(7, 36))
    assert out["metric"].tolist() == SWEMWBS_TABLE
    assert list(out.columns[:2]) == ["total", "metric"]


def test_swemwbs_metric_missing_with_total():
    out = ek.tools.get("swemwbs").score(frame("swemwbs_", [[3, 3, 3, NA, 3, 3, 3]]))
    assert math.isnan(out["metric"].iloc[0])


# -------------------------------------------------------------------------------- ASQ-3
def asq_frame(domain_rows):
    """One row per child; domain_rows: dict domain -> list of rows of 6 item scores."""
    n = len(next(iter(domain_rows.values())))
    data = {}
    for d in ["communication", "gross_motor", "fine_motor", "problem_solving", "personal_social"]:
        rows = domain_rows.get(d, [[10] * 6] * n)
        for i in range(6):
            data[f"asq3_{d}_{i + 1}"] = [r[i] for r in rows]
    return pd.DataFrame(data)


def test_asq3_scores_and_adjusted_scores():
    df = asq_frame(
        {
            "communication": [
                [10, 10, 5, 5, 0, 10],  # 40
                [10, 5, NA, 10, NA, 10],  # 2 omitted: 35 / 4 * 6 = 52.5
                [10, NA, NA, NA, 10, 10],  # 3 omitted: not scored
            ]
        }
    )
    out = ek.tools.get("asq3").score(df)
    assert out["communication"].iloc[0] == 40
    assert out["communication"].iloc[1] == 52.5
    assert math.isnan(out["communication"].iloc[2])
    assert out["gross_motor"].tolist() == [60, 60, 60]
    assert "total" not in out.columns
    assert "communication_band" not in out.columns  # no cut-offs given


def test_asq3_user_cutoffs_both_sides():
    # invented cut-offs (the real ones are licensed): cutoff 30, monitoring 40
    rows = [
        [10, 10, 10, 0, 0, 0],
        [10, 10, 10, 5, 0, 0],
        [10, 10, 10, 10, 0, 0],
        [10, 10, 10, 10, 5, 0],
        [10, 10, 10, 5, 0, NA],
    ]
    out = ek.tools.get("asq3").score(
        asq_frame({"communication": rows}),
        cutoffs={"communication": {"cutoff": 30, "monitoring": 40}, "fine_motor": 25},
    )
    assert out["communication"].tolist() == [30, 35, 40, 45, 42]
    assert out["communication_band"].tolist() == [
        "below cutoff",
        "monitoring",
        "monitoring",
        "above cutoff",
        "above cutoff",
    ]
    assert out["fine_motor_band"].tolist() == ["above cutoff"] * 5
    assert "gross_motor_band" not in out.columns


def test_asq3_rejects_values_other_than_0_5_10():
    df = asq_frame({"communication": [[10, 7, 5, 5, 0, 10]]})
    with pytest.raises(DataError, match=r"asq3_communication_2.*found 7.*0, 5, 10"):
        ek.tools.get("asq3").score(df)


def test_asq3_cutoff_errors():
    df = asq_frame({"communication": [[10] * 6]})
    tool = ek.tools.get("asq3")
    with pytest.raises(ParameterError, match="monitoring"):
        tool.score(df, cutoffs={"communication": {"cutoff": 40, "monitoring": 30}})
    with pytest.raises(ParameterError, match="0 to 60"):
        tool.score(df, cutoffs={"communication": 75})
    with pytest.raises(ParameterError, match="no user cut-off for 'total'"):
        ek.tools.get("epds").score(frame("epds_", [[0] * 10]), cutoffs={"total": 10})


# -------------------------------------------------------------------------------- mapping
def test_columns_mapping_and_prefix():
    df = pd.DataFrame({f"epds_pre_{i}": [1] for i in range(1, 11)})
    tool = ek.tools.get("epds")
    assert tool.score(df, prefix="epds_pre_")["total"].iloc[0] == 10
    df2 = df.rename(columns={"epds_pre_10": "selfharm"})
    out = tool.score(df2, prefix="epds_pre_", columns={10: "selfharm"})
    assert out["total"].iloc[0] == 10


def test_missing_item_columns_listed():
    df = pd.DataFrame({f"epds_{i}": [1] for i in range(1, 9)})
    with pytest.raises(DataError, match=r"'epds_9', 'epds_10'.*item\(s\) 9, 10.*--map"):
        ek.tools.get("epds").score(df)


def test_unknown_item_in_mapping():
    df = pd.DataFrame({f"epds_{i}": [1] for i in range(1, 11)})
    with pytest.raises(ParameterError, match="no item"):
        ek.tools.get("epds").score(df, columns={"11": "x"})


def test_duplicated_person_ids_give_rows_and_counts_never_the_ids():
    # issue 11, item 2: the message named the duplicated ID ('a')
    df = frame("gad7_", [[0] * 7] * 4)
    df["id"] = ["P010005", "b", "P010005", "c"]
    with pytest.raises(DataError) as err:
        ek.tools.get("gad7").score(df, id="id")
    msg = str(err.value)
    assert "P010005" not in msg
    assert "column 'id'" in msg and "1 person ID(s) appear on several rows (2 rows)" in msg
    assert "spreadsheet rows 2 and 4 (the header is row 1)" in msg
    df["id"] = ["a", None, "d", "c"]
    with pytest.raises(DataError, match=r"missing on 1 row\(s\): spreadsheet row 3 "):
        ek.tools.get("gad7").score(df, id="id")
    df["id"] = ["a", "b", "d", "c"]
    out = ek.tools.get("gad7").score(df, id="id")
    assert out.index.tolist() == ["a", "b", "d", "c"] and out.index.name == "id"


def test_text_codes_offer_mapping_then_mapping_works():
    r = ["Not so true", "Somewhat true", "Certainly true"]  # the first is not the form's label
    df = pd.DataFrame({f"sdq_{i}": [r[i % 3], r[(i + 1) % 3]] for i in range(1, 26)})
    with pytest.raises(DataError) as err:
        ek.tools.get("sdq").score(df)
    msg = str(err.value)
    assert "text where numbers are expected" in msg and "values=" in msg and "--value" in msg
    assert "'Not so true'" in msg and "'Somewhat true'" not in msg.split("(found")[1]
    out = ek.tools.get("sdq").score(df, values={"not so TRUE": 0})
    numeric = pd.DataFrame({f"sdq_{i}": [i % 3, (i + 1) % 3] for i in range(1, 26)})
    pd.testing.assert_frame_equal(out, ek.tools.get("sdq").score(numeric))


def test_spec_answer_labels_are_scored():
    # issue 11, item 11: text answers such as "Not at all" failed inside the report.
    # SDQ labels are response codes; items 7, 11, 14, 21, 25 are then reversed.
    r = ["Not true", "somewhat  TRUE", "Certainly true "]
    df = pd.DataFrame({f"sdq_{i}": [r[i % 3], r[(i + 1) % 3]] for i in range(1, 26)})
    numeric = pd.DataFrame({f"sdq_{i}": [i % 3, (i + 1) % 3] for i in range(1, 26)})
    sdq = ek.tools.get("sdq")
    pd.testing.assert_frame_equal(sdq.score(df), sdq.score(numeric))
    # with input="scores" a label is still the printed answer: reverse items are keyed
    keyed = numeric.copy()
    for i in sdq.reverse:
        keyed[f"sdq_{i}"] = 2 - keyed[f"sdq_{i}"]
    pd.testing.assert_frame_equal(sdq.score(df, input="scores"), sdq.score(keyed, input="scores"))


def test_epds_labels_differ_by_item():
    # Cox, Holden & Sagovsky (1987) scoring key: "Not at all" is 3 on item 1, but
    # "No, not at all" is 0 on item 4; item 10 "Yes, quite often" is 3.
    epds = ek.tools.get("epds")
    answers = {
        1: "Not at all",
        2: "Hardly at all",
        3: "No, never",
        4: "No, not at all",
        5: "Yes, sometimes",
        6: "Yes, most of the time I haven\u2019t been able to cope at all",
        7: "Not very often",
        8: "Yes, quite often",
        9: "Only occasionally",
        10: "Yes, quite often",
    }
    df = pd.DataFrame({f"epds_{i}": [a] for i, a in answers.items()})
    out = epds.score(df)
    assert out["total"].tolist() == [3 + 3 + 0 + 0 + 2 + 3 + 1 + 2 + 1 + 3]
    assert out["flag_self_harm"].tolist() == [True]
    # as response positions (input="responses") the same labels give the same scores
    assert epds.score(df, input="responses")["total"].tolist() == out["total"].tolist()
    assert epds.decode_labels(df)["epds_4"].tolist() == [0]
    assert epds.answer_labels("10")["Never"] == 0


def test_wemwbs_labels():
    labels = ["None of the time", "Rarely", "Some of the time", "Often", "All of the time"]
    df = pd.DataFrame({f"wemwbs_{i}": [labels[i % 5]] for i in range(1, 15)})
    assert ek.tools.get("wemwbs").score(df)["total"].tolist() == [
        sum(i % 5 + 1 for i in range(1, 15))
    ]


def test_columns_as_a_list_in_item_order():
    # issue 11, item 12: a list raised a bare "dictionary update sequence element #0"
    df = pd.DataFrame({f"q{i}": [1, 0] for i in range(1, 8)})
    gad = ek.tools.get("gad7")
    out = gad.score(df, columns=[f"q{i}" for i in range(1, 8)])
    assert out["total"].tolist() == [7, 0]
    assert out.equals(gad.score(df, columns={str(i): f"q{i}" for i in range(1, 8)}))
    with pytest.raises(ParameterError, match=r"3 column name\(s\) given for the 7 gad7 items"):
        gad.score(df, columns=["q1", "q2", "q3"])
    with pytest.raises(ParameterError, match="columns must be a mapping or a list"):
        gad.score(df, columns="q1")


def test_out_of_range_lists_rows_and_columns():
    rows = [[0] * 25, [0] * 25, [0] * 25]
    rows[1][2] = 3
    rows[2][2] = 3
    rows[2][4] = -1
    with pytest.raises(DataError) as err:
        ek.tools.get("sdq").score(frame("sdq_", rows))
    msg = str(err.value)
    assert "2 columns" in msg and "'sdq_3' rows 1, 2" in msg and "'sdq_5' row 2" in msg
    assert err.value.columns == ["sdq_3", "sdq_5"]
    assert "whole numbers 0-2" in msg


def test_non_integer_answers_rejected():
    with pytest.raises(DataError, match="found 1.5"):
        ek.tools.get("gad7").score(frame("gad7_", [[1.5, 0, 0, 0, 0, 0, 0]]))


def test_missing_codes_and_numeric_recode():
    df = frame("gad7_", [[99, 1, 1, 1, 1, 1, 1], [2, 2, 2, 2, 2, 2, 2]])
    with pytest.raises(DataError, match="missing_codes"):
        ek.tools.get("gad7").score(df)
    out = ek.tools.get("gad7").score(df, missing_codes=[99])
    assert math.isnan(out["total"].iloc[0]) and out["n_answered"].iloc[0] == 6
    # SPSS-style 1-4 coding recoded to 0-3
    df = frame("gad7_", [[1, 2, 3, 4, 1, 1, 1]])
    out = ek.tools.get("gad7").score(df, values={1: 0, 2: 1, 3: 2, 4: 3})
    assert out["total"].iloc[0] == 6


def test_numeric_text_is_read_and_blank_is_missing():
    df = frame("gad7_", [["1", "2", " 0 ", "", "1", "1", "1"]])
    out = ek.tools.get("gad7").score(df)
    assert math.isnan(out["total"].iloc[0]) and out["n_answered"].iloc[0] == 6


def test_boolean_column_rejected():
    df = frame("gad7_", [[True, 0, 0, 0, 0, 0, 0]])
    df["gad7_1"] = df["gad7_1"].astype(bool)
    with pytest.raises(DataError, match="True/False"):
        ek.tools.get("gad7").score(df)


def test_not_a_dataframe():
    with pytest.raises(DataError, match="DataFrame"):
        ek.tools.get("gad7").score([[0] * 7])


# -------------------------------------------------------------------------------- items_frame
def test_items_frame_keyed_and_never_reversed_twice():
    tool = ek.tools.get("sdq")
    r = [2, 1, 0, 2, 1, 0, 2, 1, 2, 2, 2, 0, 1, 1, 2, 2, 1, 0, 0, 2, 0, 0, 1, 1, 1]
    df = frame("sdq_", [r, sdq_row({"peer": 4})])
    items = tool.items_frame(df)
    assert list(items.columns) == [str(i) for i in range(1, 26)]
    assert items.loc[0, "7"] == 0 and items.loc[0, "21"] == 2  # reversed
    assert items.attrs["evalkit_keyed"] == "sdq"
    pd.testing.assert_frame_equal(tool.score(items), tool.score(df))
    with pytest.raises(DataError, match="already reverse-keyed"):
        tool.score(items, input="responses")
    emo = tool.items_frame(df, scale="emotional")
    assert list(emo.columns) == ["3", "8", "13", "16", "24"]
    with pytest.raises(DataError, match="not 'epds'"):
        ek.tools.get("epds").score(items)


def test_reliability_reference_hook():
    tool = ek.tools.get("epds")
    assert tool.reliability_reference("total", "split_half").value == 0.88
    assert tool.reliability_reference("total", "standardised_alpha").value == 0.87
    assert tool.reliability_reference("total", "alpha") is None
    assert ek.tools.get("sdq").reliability_reference("emotional").value == 0.73
    assert ek.tools.get("wemwbs").reliability_reference().value == 0.89
    assert ek.tools.get("phq9").reliability_reference().value == 0.89
    assert ek.tools.get("gad7").reliability_reference().value == 0.92
    with pytest.raises(ParameterError, match="no scale"):
        tool.scale_items("emotional")


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.lists(st.sampled_from([0, 1, 2, None]), min_size=25, max_size=25), min_size=1, max_size=6
    )
)
def test_sdq_keying_property(rows):
    # Scoring response positions equals scoring hand-keyed item scores with input="scores",
    # and re-scoring items_frame() output gives the same again (no double reversal).
    df = frame("sdq_", [[NA if v is None else v for v in r] for r in rows])
    keyed = df.copy()
    for i in SDQ_REVERSE:
        keyed[f"sdq_{i}"] = 2 - keyed[f"sdq_{i}"]
    tool = ek.tools.get("sdq")
    a = tool.score(df)
    pd.testing.assert_frame_equal(a, tool.score(keyed, input="scores"))
    pd.testing.assert_frame_equal(a, tool.score(tool.items_frame(df)))
    complete = a["emotional_answered"] == 5
    raw = tool.items_frame(df, scale="emotional").sum(axis=1)
    assert (a.loc[complete, "emotional"] == raw[complete]).all()
    assert (
        a["total"].isna().tolist()
        == a[["emotional", "conduct", "hyperactivity", "peer"]].isna().any(axis=1).tolist()
    )


def test_items_frame_feeds_reliability_summary(rng):
    # The hook report templates use: keyed items + the published values, side by side.
    tool = ek.tools.get("epds")
    trait = rng.normal(size=300)
    data = {
        f"epds_pre_{i}": np.clip(np.round(1.2 + 0.9 * trait + rng.normal(size=300)), 0, 3)
        for i in range(1, 11)
    }
    items = tool.items_frame(pd.DataFrame(data), prefix="epds_pre_")
    lo, hi = tool.response_range
    table = ek.reliability.reliability_summary(
        items, published=tool.published(), scale_min=lo, scale_max=hi
    )
    pub = dict(zip(table["statistic"], table["published"]))
    assert pub["standardized_alpha"] == 0.87 and pub["split_half"] == 0.88
    assert tool.published() == {"split_half": 0.88, "standardized_alpha": 0.87}
    assert ek.tools.get("sdq").published("peer") == {"alpha": 0.73}
    assert ek.tools.get("asq3").published("communication") == {}  # test-retest is not alpha


# -- array paths (issue 12): the same results as the column-by-column ones -------------------


def _slow_blank(df, columns, low, high):
    out = df.copy()
    for col in columns:
        num = pd.to_numeric(out[col], errors="coerce")
        out[col] = num.where(num.between(low, high) & (num % 1 == 0))
    return out


def test_blank_and_out_of_range_number_columns_as_column_by_column():
    from evalkit import describe

    df = pd.DataFrame({
        "ints_ok": [0, 1, 3, 2], "ints_bad": [0, 4, -1, 3], "floats_ok": [0.0, np.nan, 3.0, 1.0],
        "floats_bad": [0.5, np.nan, 7.0, np.inf], "text": ["1", "x", None, "2"],
        "nullable": pd.array([1, None, 9, 2], dtype="Int64"), "other": ["a", "b", "c", "d"],
        "small": np.array([1, 9, 2, 0], dtype=np.int32),
        "single": np.array([1.0, 2.5, np.nan, 3.0], dtype=np.float32),
    })  # fmt: skip
    cols = [c for c in df.columns if c != "other"]
    got = describe.blank_out_of_range(df, cols, low=0, high=3)
    pd.testing.assert_frame_equal(got, _slow_blank(df, cols, 0, 3), check_exact=True)
    assert got["ints_ok"].dtype == np.int64 and got["ints_bad"].dtype == np.float64
    assert got["single"].dtype == np.float32
    bad = describe.out_of_range(df, cols, low=0, high=3)
    assert bad["column"].tolist() == ["ints_bad", "floats_bad", "text", "nullable", "small",
                                      "single"]  # fmt: skip
    assert bad["n_out_of_range"].tolist() == [2, 3, 1, 1, 1, 1]


def test_binary_column_of_numbers_and_text_alike():
    from evalkit.describe import binary_column

    for values in ([0, 1, 1], [False, True, True], [0.0, 1.0, 1.0], ["no", "Yes", "1"]):
        out = binary_column(pd.DataFrame({"t": values}), "t")
        assert out.tolist() == [0, 1, 1] and out.dtype == np.int64 and out.name == "t"
    with pytest.raises(DataError, match="binary"):
        binary_column(pd.DataFrame({"t": [0, 2]}), "t")


def test_bands_from_codes_match_labels():
    tool = ek.tools.get("epds")
    df = pd.DataFrame({f"epds_{i}": [0, 1, 3, np.nan] for i in range(1, 11)})
    band = tool.score(df)["total_band"]
    labels = [b.label for b in sorted(tool.bands("total"), key=lambda b: b.min)]
    expected = pd.Categorical(
        [None if np.isnan(s) else next(b.label for b in reversed(sorted(
            tool.bands("total"), key=lambda b: b.min)) if b.min <= s <= b.max)
         for s in tool.score(df)["total"]],
        categories=list(dict.fromkeys(labels)), ordered=True,
    )  # fmt: skip
    pd.testing.assert_series_equal(band, pd.Series(expected, name="total_band"))
