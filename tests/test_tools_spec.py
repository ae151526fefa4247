"""The tool registry and user specs: loading, validation and clear errors."""

import copy
import textwrap

import pandas as pd
import pytest
import yaml

import evalkit as ek
from evalkit.errors import ParameterError, SpecError
from evalkit.tools.spec import parse_spec

# The example from docs/tools.md ("How to add a tool"), kept in step with it.
USER_SPEC = textwrap.dedent(
    """\
    name: home_learning
    title: Home learning environment (local 6-item scale)
    informant: parent or carer
    age_range: children aged 2 to 4
    direction: higher_better
    input: responses
    input_note: 0 = never ... 3 = every day, as ticked; item 4 is worded negatively.
    response: {min: 0, max: 3}
    items: [hl1, hl2, hl3, hl4, hl5, hl6]
    reverse: [hl4]
    subscales:
      reading:
        items: [hl1, hl2, hl3]
        missing: {rule: prorate, min_answered: 2, round: half_up}
      play:
        items: [hl4, hl5, hl6]
        missing: {rule: prorate, min_answered: 2, round: half_up}
    total:
      subscales: [reading, play]
      bands:
        - {label: low, min: 0, max: 8}
        - {label: medium, min: 9, max: 13}
        - {label: high, min: 14, max: 18}
    flags:
      - name: no_reading
        item: hl1
        above: -1
        message: always true; only here to show the format
    published_reliability:
      - statistic: alpha
        value: 0.78
        scale: total
        sample: local pilot, 2024 (n = 212)
        citation: Our council evaluation team (2024), internal pilot report.
    scoring_source: Local pilot manual, section 3.
    licence: Written by the council; free to use.
    """
)


def user(**changes):
    data = yaml.safe_load(USER_SPEC)
    for key, value in changes.items():
        node = data
        *path, last = key.split(".")
        for p in path:
            node = node[int(p)] if p.isdigit() else node[p]
        if value is DELETE:
            del node[last]
        else:
            node[last] = value
    return data


DELETE = object()


def test_available_and_get():
    assert ek.tools.available() == ["asq3", "epds", "gad7", "phq9", "sdq", "swemwbs", "wemwbs"]
    for name in ek.tools.available():
        tool = ek.tools.get(name)
        assert tool.name == name
        assert tool.spec.licence and tool.spec.scoring_source
        assert tool.published_reliability or tool.spec.reliability_note
    assert ek.tools.get("SDQ") is ek.tools.get("SDQ")
    assert ek.tools.get("GAD-7").name == "gad7"


def test_get_unknown_lists_available():
    with pytest.raises(ParameterError, match="no tool called 'sdq2'.*asq3, epds"):
        ek.tools.get("sdq2")


def test_shipped_structures():
    sdq = ek.tools.get("sdq")
    assert sdq.scales == ("emotional", "conduct", "hyperactivity", "peer", "prosocial", "total")
    assert sdq.reverse == ("7", "11", "14", "21", "25")
    assert sdq.subscales["peer"] == ("6", "11", "14", "19", "23")
    assert sdq.range("total") == (0, 40) and sdq.range("prosocial") == (0, 10)
    assert sdq.direction("prosocial") == "higher_better" and sdq.direction() == "higher_worse"
    assert sdq.input == "responses"
    epds = ek.tools.get("epds")
    assert epds.items == tuple(str(i) for i in range(1, 11))
    assert epds.reverse == ("3", "5", "6", "7", "8", "9", "10")
    assert epds.input == "scores"
    asq = ek.tools.get("asq3")
    assert len(asq.items) == 30 and len(asq.subscales) == 5
    assert all(len(v) == 6 for v in asq.subscales.values())
    assert asq.spec.response.allowed() == (0, 5, 10)
    assert ek.tools.get("swemwbs").range() == (7, 35)
    assert ek.tools.get("wemwbs").range() == (14, 70)


def test_no_item_wording_shipped():
    # Spec files carry ids, rules and citations only: no item text (a crude guard:
    # known phrases from the instruments must not appear).
    from importlib import resources

    phrases = [
        "considerate of other",
        "able to laugh",
        "blamed myself",
        "feeling optimistic",
        "little interest or pleasure",
        "feeling nervous, anxious",
        "restless, overactive",
    ]
    for res in resources.files("evalkit.tools").joinpath("specs").iterdir():
        text = res.read_text(encoding="utf-8").lower()
        for p in phrases:
            assert p not in text, (res.name, p)


def test_load_user_spec_and_score(tmp_path):
    path = tmp_path / "home_learning.yaml"
    path.write_text(USER_SPEC)
    tool = ek.tools.load(path)
    assert tool.name == "home_learning"
    df = pd.DataFrame(
        {
            "home_learning_hl1": [3, 1],
            "home_learning_hl2": [3, None],
            "home_learning_hl3": [2, None],
            "home_learning_hl4": [0, 3],
            "home_learning_hl5": [3, 0],
            "home_learning_hl6": [3, 1],
        }
    )
    out = tool.score(df)
    # row 0: reading 8, play (3-0) + 3 + 3 = 9, total 17 high
    # row 1: reading 1 answered of 3 (< 2): missing, total missing; play 0 + 0 + 1 = 1
    assert out["reading"].tolist()[0] == 8 and out["play"].tolist() == [9, 1]
    assert out["total"].iloc[0] == 17 and out["total_band"].iloc[0] == "high"
    assert pd.isna(out["total"].iloc[1])


def test_parse_spec_items_shorthand():
    spec = parse_spec(user(items=3, reverse=[], subscales={}, flags=[], total={}))
    assert spec.items == ("1", "2", "3")


@pytest.mark.parametrize(
    "changes, pattern",
    [
        (
            {"subscales.reading.items": ["hl1", "hl2", "hl9"]},
            r"key 'subscales.reading.items'.*not among the items: 'hl9'",
        ),
        ({"reverse": ["hl4", "q7"]}, r"key 'reverse'.*not among the items: 'q7'"),
        ({"total.bands.1.min": 8}, r"bands 'low' \(0-8\) and 'medium' \(8-13\) overlap"),
        (
            {"total.bands.1.min": 10},
            r"gap between bands 'low' \(ends at 8\) and 'medium' \(starts at 10\): scores 9",
        ),
        ({"total.bands.2.max": 17}, r"last band 'high' ends at 17 but the highest.* 18"),
        ({"total.bands.0.min": 1}, r"first band 'low' starts at 1 but the lowest.* 0"),
        ({"total.subscales": ["reading", "sport"]}, r"total.subscales.*not among.*'sport'"),
        ({"subscale": {}}, r"key 'subscale'.*unknown key"),
        ({"response.min": "zero"}, r"key 'response.min'"),
        ({"flags.0.item": "hl7"}, r"flags\[0\].item.*'hl7' is not among the items"),
        ({"subscales.reading.missing": {"rule": "prorate"}}, r"prorating needs min_answered"),
        (
            {"subscales.reading.missing": {"rule": "prorate", "min_answered": 4}},
            r"4 is more than the 3 items",
        ),
        (
            {"subscales.play.missing": {"rule": "prorate", "min_answered": 2, "round": "none"}},
            r"bands need whole-number scores",
        ),
        ({"published_reliability": []}, r"published value or a reliability_note"),
        ({"published_reliability.0.value": 1.3}, r"published_reliability\[0\].value"),
        ({"name": "Home Learning"}, r"key 'name'.*lower-case"),
        ({"items": ["hl1", "hl1", "hl2", "hl3", "hl4", "hl5", "hl6"]}, r"repeated item ids: 'hl1'"),
        ({"direction": "up"}, r"key 'direction'"),
        ({"input": DELETE}, r"key 'input'.*Field required"),
    ],
)
def test_bad_user_specs(changes, pattern):
    with pytest.raises(SpecError, match=pattern):
        parse_spec(user(**changes), file="my_tool.yaml")


def test_all_problems_reported_together(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(user(**{"reverse": ["x"], "subscales.play.items": ["y"]})))
    with pytest.raises(SpecError) as err:
        ek.tools.load(path)
    msg = str(err.value)
    assert msg.startswith("bad.yaml: tool spec 'home_learning' has 2 problems")
    assert "'x'" in msg and "'y'" in msg


def test_conversion_table_must_cover_range():
    data = yaml.safe_load(ek.tools.get("swemwbs").spec.model_dump_json())
    data["conversions"][0]["table"].pop("20")
    data["conversions"][0]["table"]["36"] = 36.0
    with pytest.raises(SpecError, match=r"no entry for scores \[20\].*\n.*outside 7-35: \[36\]"):
        parse_spec(data)


def test_bands_and_user_cutoffs_exclusive():
    data = user(**{"total.user_cutoffs": True})
    with pytest.raises(SpecError, match="not both"):
        parse_spec(data)


def test_load_errors(tmp_path):
    with pytest.raises(SpecError, match="no such file"):
        ek.tools.load(tmp_path / "nope.yaml")
    bad = tmp_path / "broken.yaml"
    bad.write_text("name: x\nitems: [1, 2\n")
    with pytest.raises(SpecError, match=r"broken.yaml: not valid YAML \(line"):
        ek.tools.load(bad)
    lst = tmp_path / "list.yaml"
    lst.write_text("- a\n- b\n")
    with pytest.raises(SpecError, match="must be a mapping"):
        ek.tools.load(lst)


def test_spec_is_frozen():
    spec = ek.tools.get("epds").spec
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        spec.name = "x"
    assert copy.deepcopy(spec) == spec


def test_docs_example_spec_loads_and_matches(tmp_path):
    # docs/tools.md "How to add a tool": the example must load and say what USER_SPEC says.
    from pathlib import Path

    text = (Path(__file__).resolve().parents[1] / "docs" / "tools.md").read_text()
    block = text.split("## How to add a tool", 1)[1].split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "home_learning.yaml"
    path.write_text(block)
    assert ek.tools.load(path).spec == parse_spec(yaml.safe_load(USER_SPEC))


def test_published_alpha_is_the_one_lookup_reports_use():
    # Values are the specs' published coefficients: Cox, Holden & Sagovsky (1987) standardised
    # alpha .87 for the EPDS; Goodman (2001) alpha .73 for every SDQ scale ("all").
    assert ek.tools.get("epds").spec.published_alpha() == 0.87
    sdq = ek.tools.get("sdq").spec
    assert sdq.published_alpha("total") == 0.73 and sdq.published_alpha("peer") == 0.73
    # ASQ-3 publishes only test-retest and inter-rater values: no alpha
    asq = ek.tools.get("asq3").spec
    assert asq.published_alpha(next(iter(asq.subscales))) is None
    # a raw alpha wins over a standardised one, whatever the order in the file
    spec = parse_spec(
        user(
            published_reliability=[
                {"statistic": "standardised_alpha", "value": 0.81, "citation": "A"},
                {"statistic": "alpha", "value": 0.79, "citation": "B"},
            ]
        )
    )
    assert spec.published_alpha() == 0.79
    # it agrees with the dict the templates read today
    for name in ek.tools.available():
        tool = ek.tools.get(name)
        for scale in tool.scales:
            old = tool.published(scale)
            assert tool.spec.published_alpha(scale) == old.get(
                "alpha", old.get("standardized_alpha")
            )
    with pytest.raises(ParameterError, match="no scale"):
        ek.tools.get("epds").spec.published_alpha("peer")


def test_answer_labels_in_a_spec():
    spec = parse_spec(
        user(
            response_labels={"Never": 0, "Sometimes": 1, "Often": 2, "Every day": 3},
            item_labels={"hl4": {"Never": 3, "Every day": 0}},
        )
    )
    assert spec.item_labels == {"hl4": {"Never": 3, "Every day": 0}}
    tool = ek.tools.Tool(spec)
    df = pd.DataFrame({f"h_hl{i}": ["never", "Every  day"] for i in range(1, 7)})
    # hl4 labels are given in the response coding and reversed like any hl4 answer
    assert tool.decode_labels(df, prefix="h_")["h_hl4"].tolist() == [3, 0]
    assert tool.score(df, prefix="h_")["total"].tolist() == [0, 18]


def test_answer_label_problems_are_listed():
    with pytest.raises(SpecError) as err:
        parse_spec(
            user(
                response_labels={"Never": 0, "never ": 1, "Always": 7, "3": 3},
                item_labels={"hl9": {"Never": 0}},
            )
        )
    msg = str(err.value)
    assert "key 'item_labels.hl9': 'hl9' is not among the items" in msg
    assert "'never ' and 'Never' are the same label" in msg
    assert "'Always' is given 7, not an answer (whole numbers 0-3)" in msg
    assert "'3' is not a label" in msg


def test_shipped_answer_labels_are_answers():
    # every shipped label maps to an allowed answer (parse_spec checks it on load)
    for name in ek.tools.available():
        tool = ek.tools.get(name)
        allowed = set(tool.spec.response.allowed())
        assert tool.answer_labels(), name
        for item in tool.items:
            assert set(tool.answer_labels(item).values()) <= allowed
    # the printed EPDS answers run 0-3 down the page on items 1, 2 and 4, 3-0 on the
    # reverse-keyed items (Cox, Holden & Sagovsky 1987 scoring key)
    epds = ek.tools.get("epds")
    for item in epds.items:
        first = next(iter(epds.spec.item_labels[item].values()))
        assert first == (3 if item in epds.reverse else 0), item
