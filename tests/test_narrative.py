"""Plain-English sentences (evalkit.narrative): exact sentences, table-driven.

Bands: Cohen (1988) pp. 25-27 for effect sizes (0.2 / 0.5 / 0.8); George & Mallery (2003)
p. 231 for reliability (.9 excellent, .8 good, .7 acceptable, .6 questionable, .5 poor,
below unacceptable).
"""

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.errors import ParameterError
from evalkit.narrative import (
    change_sentence,
    dropout_sentence,
    effect_sentence,
    effect_size_words,
    headline,
    reliability_sentence,
    reliability_words,
)

EPDS = "depression symptoms (EPDS)"

# -- effect_sentence -------------------------------------------------------------------------------

EFFECTS = [
    # (args, kwargs, sentence)
    (
        (-1.8, -3.0, -0.6),
        {},
        "Parents who used the service scored 1.8 points lower on depression symptoms (EPDS) than "
        "similar parents who did not (95% CI 0.6 to 3.0 lower): an improvement.",
    ),
    (  # same numbers, but higher is better: lower is worse
        (-1.8, -3.0, -0.6),
        {"outcome": "wellbeing (WEMWBS)", "higher_is_better": True},
        "Parents who used the service scored 1.8 points lower on wellbeing (WEMWBS) than similar "
        "parents who did not (95% CI 0.6 to 3.0 lower): a change for the worse.",
    ),
    (
        (2.04, 0.96, 3.12),
        {"outcome": "wellbeing (WEMWBS)", "higher_is_better": True},
        "Parents who used the service scored 2.0 points higher on wellbeing (WEMWBS) than similar "
        "parents who did not (95% CI 1.0 to 3.1 higher): an improvement.",
    ),
    (  # higher EPDS is worse
        (1.2, 0.3, 2.1),
        {},
        "Parents who used the service scored 1.2 points higher on depression symptoms (EPDS) "
        "than similar parents who did not (95% CI 0.3 to 2.1 higher): a change for the worse.",
    ),
    (  # interval crosses zero
        (-0.4, -1.2, 0.4),
        {},
        "Parents who used the service scored 0.4 points lower on depression symptoms (EPDS) than "
        "similar parents who did not, but the 95% CI runs from 1.2 lower to 0.4 higher, so we "
        "cannot tell whether the service made a difference.",
    ),
    (  # estimate rounds to zero: no "-0.0", "about the same"
        (-0.04, -1.1, 1.0),
        {},
        "Parents who used the service scored about the same on depression symptoms (EPDS) as "
        "similar parents who did not, but the 95% CI runs from 1.1 lower to 1.0 higher, so we "
        "cannot tell whether the service made a difference.",
    ),
    (  # interval touching zero counts as including it
        (0.9, 0.0, 1.8),
        {},
        "Parents who used the service scored 0.9 points higher on depression symptoms (EPDS) "
        "than similar parents who did not, but the 95% CI runs from no difference to 1.8 higher, "
        "so we cannot tell whether the service made a difference.",
    ),
    (  # an end that rounds to zero is "less than 0.1"
        (0.5, 0.03, 0.97),
        {},
        "Parents who used the service scored 0.5 points higher on depression symptoms (EPDS) "
        "than similar parents who did not (95% CI less than 0.1 to 1.0 higher): a change for "
        "the worse.",
    ),
    (  # negative zero estimate with a one-sided... interval including zero
        (-0.0, -0.5, 0.5),
        {},
        "Parents who used the service scored about the same on depression symptoms (EPDS) as "
        "similar parents who did not, but the 95% CI runs from 0.5 lower to 0.5 higher, so we "
        "cannot tell whether the service made a difference.",
    ),
    (  # standardised scale, named size, 2 dp, pre-post wording
        (-0.31, -0.5, -0.12),
        {"scale": "SD", "comparison": False},
        "Parents scored 0.31 standard deviations lower on depression symptoms (EPDS) after using "
        "the service than before (95% CI 0.12 to 0.50 lower): a small improvement.",
    ),
    (
        (0.92, 0.61, 1.23),
        {
            "scale": "SD",
            "comparison": False,
            "who": "children",
            "outcome": "communication (ASQ-3)",
            "higher_is_better": True,
        },
        "Children scored 0.92 standard deviations higher on communication (ASQ-3) after using "
        "the service than before (95% CI 0.61 to 1.23 higher): a large improvement.",
    ),
    (
        (0.12, 0.02, 0.22),
        {"scale": "SD"},
        "Parents who used the service scored 0.12 standard deviations higher on depression "
        "symptoms (EPDS) than similar parents who did not (95% CI 0.02 to 0.22 higher): a very "
        "small change for the worse.",
    ),
    (
        (-0.3, -0.9, 0.3),
        {"comparison": False, "level": 0.9},
        "Parents scored 0.3 points lower on depression symptoms (EPDS) after using the service "
        "than before, but the 90% CI runs from 0.9 lower to 0.3 higher, so we cannot tell "
        "whether scores really changed.",
    ),
    (
        (0.0, -0.004, 0.004),
        {"comparison": False, "scale": "SD"},
        "Parents scored about the same on depression symptoms (EPDS) after using the service as "
        "before, but the 95% CI runs from less than 0.01 lower to less than 0.01 higher, so we "
        "cannot tell whether scores really changed.",
    ),
]


@pytest.mark.parametrize("args, kwargs, expected", EFFECTS)
def test_effect_sentence(args, kwargs, expected):
    assert effect_sentence(*args, **kwargs) == expected


@settings(max_examples=200, deadline=None)
@given(
    a=st.floats(-50, 50),
    b=st.floats(-50, 50),
    c=st.floats(-50, 50),
    scale=st.sampled_from(["points", "SD"]),
    better=st.booleans(),
    comparison=st.booleans(),
)
def test_effect_sentence_properties(a, b, c, scale, better, comparison):
    low, est, high = sorted([a, b, c])
    text = effect_sentence(
        est, low, high, scale=scale, higher_is_better=better, comparison=comparison
    )
    assert "-" not in text.replace("ASQ-3", "")  # no minus signs: direction is in words
    assert text.endswith(".")
    crosses = low <= 0 <= high
    assert ("cannot tell" in text) == crosses
    if not crosses:
        good = (est > 0) == better
        assert text.endswith("improvement.") == good


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"estimate": 1.0, "ci_low": 1.5, "ci_high": 2.0}, "does not contain the estimate"),
        ({"estimate": float("nan"), "ci_low": 0, "ci_high": 1}, "estimate=nan"),
        ({"estimate": 1, "ci_low": 0, "ci_high": 2, "scale": "percent"}, "scale='percent'"),
        ({"estimate": 1, "ci_low": 0, "ci_high": 2, "outcome": ""}, "outcome=''"),
        ({"estimate": 1, "ci_low": 0, "ci_high": 2, "level": 95}, "level must be between"),
        ({"estimate": 1, "ci_low": 0, "ci_high": 2, "higher_is_better": "no"}, "higher_is_better"),
    ],
)
def test_effect_sentence_errors(kwargs, message):
    with pytest.raises(ParameterError, match=message):
        effect_sentence(**kwargs)


# -- effect_size_words -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "d, words",
    [
        (0.0, "very small"),
        (0.19, "very small"),
        (0.2, "small"),
        (-0.2, "small"),
        (0.49, "small"),
        (0.5, "moderate"),
        (-0.79, "moderate"),
        (0.8, "large"),
        (2.5, "large"),
    ],
)
def test_effect_size_words(d, words):
    assert effect_size_words(d) == words


# -- reliability -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value, words",
    [
        (0.95, "excellent"),
        (0.9, "excellent"),
        (0.89, "good"),
        (0.8, "good"),
        (0.79, "acceptable"),
        (0.7, "acceptable"),
        (0.69, "questionable"),
        (0.6, "questionable"),
        (0.59, "poor"),
        (0.5, "poor"),
        (0.49, "unacceptable"),
        (-0.2, "unacceptable"),
    ],
)
def test_reliability_words_follow_george_and_mallery(value, words):
    assert reliability_words(value) == words


RELIABILITY = [
    (
        (0.84, 0.81, 0.87),
        {"tool": "EPDS", "published": 0.87},
        "Reliability of the EPDS in this area was good (alpha 0.84, 95% CI 0.81 to 0.87), "
        "consistent with the published 0.87.",
    ),
    (
        (0.74, 0.70, 0.78),
        {"tool": "EPDS", "published": 0.87},
        "Reliability of the EPDS in this area was acceptable (alpha 0.74, 95% CI 0.70 to 0.78), "
        "lower than the published 0.87.",
    ),
    (
        (0.93, 0.91, 0.95),
        {"tool": "WEMWBS", "published": 0.89},
        "Reliability of the WEMWBS in this area was excellent (alpha 0.93, 95% CI 0.91 to 0.95), "
        "higher than the published 0.89.",
    ),
    (
        (0.65, 0.58, 0.71),
        {"tool": "ASQ-3", "published": 0.7, "statistic": "omega"},
        "Reliability of the ASQ-3 in this area was questionable (omega 0.65, 95% CI 0.58 to "
        "0.71), consistent with the published 0.70, so its scores should be read with caution.",
    ),
    (
        (0.82,),
        {"tool": "EPDS"},
        "Reliability of the EPDS in this area was good (alpha 0.82).",
    ),
    (  # no interval: "consistent" means within 0.05
        (0.82,),
        {"tool": "EPDS", "published": 0.87},
        "Reliability of the EPDS in this area was good (alpha 0.82), consistent with the "
        "published 0.87.",
    ),
    (
        (-0.004, -0.3, 0.2),
        {"tool": "PHQ-9"},
        "Reliability of the PHQ-9 in this area was unacceptable (alpha 0.00, 95% CI -0.30 to "
        "0.20), so its scores should be read with caution.",
    ),
]


@pytest.mark.parametrize("args, kwargs, expected", RELIABILITY)
def test_reliability_sentence(args, kwargs, expected):
    assert reliability_sentence(*args, **kwargs) == expected


def test_reliability_sentence_errors():
    with pytest.raises(ParameterError, match="both ends"):
        reliability_sentence(0.8, 0.7, tool="EPDS")
    with pytest.raises(ParameterError, match="does not contain"):
        reliability_sentence(0.8, 0.82, 0.9, tool="EPDS")
    with pytest.raises(ParameterError, match="tool"):
        reliability_sentence(0.8, tool=" ")


# -- change_sentence (disclosure) ------------------------------------------------------------------

CHANGE = [
    (
        (45, 60, 15),
        {},
        "Of 120 parents with scores at both times, 45 (38%) improved reliably, 60 (50%) showed "
        "no reliable change and 15 (12%) got reliably worse.",  # 12.5% -> 12%, as fmt_pct
    ),
    (  # one hidden: no total, no percentages, no-change becomes "the rest"
        (45, 60, 3),
        {},
        "Of the parents with scores at both times, 45 improved reliably, fewer than 10 got "
        "reliably worse and the rest showed no reliable change.",
    ),
    (  # zero is below the threshold too
        (45, 60, 0),
        {},
        "Of the parents with scores at both times, 45 improved reliably, fewer than 10 got "
        "reliably worse and the rest showed no reliable change.",
    ),
    (  # no change is the hidden one: deterioration becomes "the rest"
        (45, 4, 20),
        {},
        "Of the parents with scores at both times, 45 improved reliably, fewer than 10 showed no "
        "reliable change and the rest got reliably worse.",
    ),
    (
        (5, 60, 2),
        {},
        "Of the parents with scores at both times, fewer than 10 improved reliably, fewer than 10 "
        "got reliably worse and the rest showed no reliable change.",
    ),
    (
        (9, 9, 9),
        {},
        "Reliable change is not reported for parents: the numbers are too small to publish safely.",
    ),
    (
        (1200, 3400, 15),
        {"who": "children", "threshold": 20},
        "Of the children with scores at both times, 1,200 improved reliably, fewer than 20 got "
        "reliably worse and the rest showed no reliable change.",
    ),
    (
        (6, 7, 6),
        {"threshold": 6},
        "Of 19 parents with scores at both times, 6 (32%) improved reliably, 7 (37%) showed no "
        "reliable change and 6 (32%) got reliably worse.",
    ),
    (  # threshold 1 turns suppression off
        (3, 0, 1),
        {"threshold": 1},
        "Of 4 parents with scores at both times, 3 (75%) improved reliably, 0 (0%) showed no "
        "reliable change and 1 (25%) got reliably worse.",
    ),
]


@pytest.mark.parametrize("args, kwargs, expected", CHANGE)
def test_change_sentence(args, kwargs, expected):
    assert change_sentence(*args, **kwargs) == expected


def _counts_in(text: str) -> list[int]:
    """Whole numbers printed as counts (not percentages)."""
    return [
        int(m.group(1).replace(",", ""))
        for m in re.finditer(r"(?<![\d.])(\d[\d,]*)(?![\d%.])", text)
    ]


@settings(max_examples=400, deadline=None)
@given(
    counts=st.tuples(*[st.one_of(st.integers(0, 30), st.integers(0, 5000))] * 3),
    threshold=st.integers(2, 25),
)
def test_change_sentence_never_prints_a_count_below_the_threshold(counts, threshold):
    text = change_sentence(*counts, threshold=threshold)
    assert all(n >= threshold for n in _counts_in(text)), text
    exact = _counts_in(re.sub(r"fewer than [\d,]+", "", text))
    if any(c < threshold for c in counts):
        # no total and no percentages, and at most one count printed exactly: even with the
        # total known from elsewhere, a hidden count stays mixed with "the rest"
        assert "%" not in text
        assert len(exact) <= 1, text
    else:
        assert exact == [sum(counts), *counts]


def test_change_sentence_errors():
    with pytest.raises(ParameterError, match="n_improved"):
        change_sentence(-1, 2, 3)
    with pytest.raises(ParameterError, match="n_deteriorated"):
        change_sentence(1, 2, 3.0)
    with pytest.raises(ParameterError, match="threshold"):
        change_sentence(1, 2, 3, threshold=0)


# -- dropout_sentence ------------------------------------------------------------------------------

DROPOUT = [
    (
        (0.15,),
        {"n_baseline": 240},
        "Of 240 parents who answered at the start, 36 (15%) did not answer again at follow-up.",
    ),
    (
        (0.25,),
        {"n_baseline": 240},
        "Of 240 parents who answered at the start, 60 (25%) did not answer again at follow-up. "
        "That is a lot: those who stayed may differ from those who left, so the results could "
        "be biased.",
    ),
    (
        (0.02,),
        {"n_baseline": 240},
        "Of 240 parents who answered at the start, fewer than 10 did not answer again at "
        "follow-up.",
    ),
    (
        (0.0,),
        {"n_baseline": 240},
        "Of 240 parents who answered at the start, fewer than 10 did not answer again at "
        "follow-up.",
    ),
    (
        (0.98,),
        {"n_baseline": 240},
        "Of 240 parents who answered at the start, only fewer than 10 answered again at follow-up.",
    ),
    (
        (0.5,),
        {"n_baseline": 8},
        "Fewer than 10 parents answered at the start, too few to report drop-out.",
    ),
    (
        (0.2,),
        {"n_baseline": 1000, "who": "families", "threshold": 5},
        "Of 1,000 families who answered at the start, 200 (20%) did not answer again at "
        "follow-up. That is a lot: those who stayed may differ from those who left, so the "
        "results could be biased.",
    ),
]


@pytest.mark.parametrize("args, kwargs, expected", DROPOUT)
def test_dropout_sentence(args, kwargs, expected):
    assert dropout_sentence(*args, **kwargs) == expected


@settings(max_examples=300, deadline=None)
@given(n=st.integers(0, 3000), lost=st.integers(0, 3000), threshold=st.integers(2, 25))
def test_dropout_sentence_never_prints_a_count_below_the_threshold(n, lost, threshold):
    lost = min(lost, n)
    text = dropout_sentence(lost / n if n else 0.0, n_baseline=n, threshold=threshold)
    assert all(c >= threshold for c in _counts_in(text)), text
    if n and min(lost, n - lost) < threshold:
        assert "%" not in text


def test_dropout_sentence_catches_a_percentage():
    with pytest.raises(ParameterError, match=r"for 15% give 0.15"):
        dropout_sentence(15, n_baseline=100)
    with pytest.raises(ParameterError, match="n_baseline"):
        dropout_sentence(0.1, n_baseline=-5)


# -- headline --------------------------------------------------------------------------------------


def test_headline_keeps_order_drops_gaps_and_repeats_and_caps_at_five():
    parts = [
        effect_sentence(-1.8, -3.0, -0.6),
        None,
        "  ",
        "Reliability of the EPDS  in this area was good",
        effect_sentence(-1.8, -3.0, -0.6),
        "Drop-out was 12%!",
        "a",
        "b",
        "c",
        "d",
    ]
    out = headline(parts)
    assert out == [
        parts[0],
        "Reliability of the EPDS in this area was good.",
        "Drop-out was 12%!",
        "a.",
        "b.",
    ]
    assert headline(parts, max_sentences=2) == out[:2]
    assert headline([]) == []


def test_headline_errors():
    with pytest.raises(ParameterError, match="not one string"):
        headline("Reliability was good.")
    with pytest.raises(ParameterError, match=r"parts\[1\]"):
        headline(["fine", 3])
    with pytest.raises(ParameterError, match="max_sentences"):
        headline(["fine"], max_sentences=0)
