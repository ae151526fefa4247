"""Linkage on the synthetic demo sources, whose true links are known: quality with a
threshold, twins never merged, no two records of one source merged unless duplicates,
and clerical decisions fed back."""

import sys
import warnings

import pandas as pd
import pytest

from evalkit.errors import DataError, ParameterError
from evalkit.sharing import evaluate_links, link
from evalkit.simulate_sources import demo_dictionary, demo_sources

N = 1200  # records per source: seconds, not minutes


@pytest.fixture(scope="module")
def demo():
    return demo_sources(N, seed=7)


@pytest.fixture(scope="module")
def result(demo):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return link(demo["sources"], demo_dictionary(), threshold=0.9, max_pairs=2e5)


def _with_truth(result, demo):
    truth = demo["truth"].astype({"record_id": "string"})
    return result.links.merge(truth, on=["source", "record_id"], validate="one_to_one")


def test_import_evalkit_sharing_does_not_load_splink():
    import subprocess

    code = "import evalkit, evalkit.sharing, sys; print(any(m.startswith(('splink', 'duckdb')) for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_links_shape(result, demo):
    links = result.links
    assert list(links.columns) == ["source", "record_id", "cluster_id", "match_probability"]
    assert len(links) == sum(len(df) for df in demo["sources"].values())
    assert not links.duplicated(["source", "record_id"]).any()
    assert links["match_probability"].dropna().between(0, 1).all()


def test_linkage_quality_against_the_demo_truth(result, demo):
    # the demo has typos, nicknames, swapped day/month, missing and mistyped NHS numbers,
    # moves and twins; at threshold 0.9 both precision and recall stay above 0.97
    q = evaluate_links(result.links, demo["truth"])
    assert q["precision"] >= 0.97
    assert q["recall"] >= 0.97
    # the model's own estimates agree with the truth to within a few points
    assert result.quality.precision == pytest.approx(q["precision"], abs=0.03)
    assert result.quality.recall == pytest.approx(q["recall"], abs=0.05)


def test_twins_are_never_linked(result, demo):
    m = _with_truth(result, demo)
    clusters = m.groupby("person")["cluster_id"].apply(set).to_dict()
    twins = demo["twins"]
    assert len(twins) >= 10
    for a, b in zip(twins["person"], twins["twin_of"]):
        if a in clusters and b in clusters:
            assert not clusters[a] & clusters[b]


def test_one_record_per_source_unless_true_duplicates(result, demo):
    m = _with_truth(result, demo)
    per_source = m.groupby(["cluster_id", "source"])["person"].agg(["size", "nunique"])
    # a cluster holds two records of one source only when they are one child (NHS duplicates)
    assert (per_source["nunique"] == 1).all()
    assert (per_source["size"] > 1).sum() >= 1  # the demo has health-visiting duplicates


def test_quality_report(result):
    q = result.quality
    params = q.parameters
    assert {"comparison", "level", "m", "u", "match_weight"} <= set(params.columns)
    assert set(params["comparison"]) == {
        "nhs_number",
        "first_name",
        "surname",
        "date_of_birth",
        "postcode",
        "sex",
    }
    # exact agreement on a date of birth is strong evidence, disagreement strong against
    dob = params[params["comparison"] == "date_of_birth"].set_index("level")["match_weight"]
    assert dob.iloc[0] > 5 and dob.iloc[-1] < -5
    assert q.weights["pairs"].sum() == q.counts["scored pairs"]
    assert q.counts["records"] == len(result.links)
    assert "settings" not in q.to_frame()["measure"].tolist()


def test_clerical_review_and_decisions(demo, result):
    review = result.review
    assert list(review.columns[:6]) == [
        "source_l",
        "record_id_l",
        "source_r",
        "record_id_r",
        "match_probability",
        "match_weight",
    ]
    assert review["decision"].eq("").all()
    assert review["match_probability"].between(0.5, 0.99).all()
    # feed decisions back: say "non-match" to every accepted probabilistic pair of one record
    # and "match" to a pair the model did not link
    pairs = result.pairs[result.pairs["how"] == "splink"].head(1)
    a = pairs.iloc[0]
    links = result.links.set_index(["source", "record_id"])
    lone = result.links[result.links["source"] == "maternity"]
    other = result.links[
        (result.links["source"] == "early_years")
        & ~result.links["cluster_id"].isin(lone["cluster_id"])
    ]
    m_rec = lone[
        ~lone["cluster_id"].isin(
            result.links[result.links["source"] == "early_years"]["cluster_id"]
        )
    ].iloc[0]
    e_rec = other.iloc[0]
    decisions = pd.DataFrame(
        [
            [a.source_l, a.record_id_l, a.source_r, a.record_id_r, "non-match"],
            ["maternity", m_rec.record_id, "early_years", e_rec.record_id, "match"],
        ],
        columns=["source_l", "record_id_l", "source_r", "record_id_r", "decision"],
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        again = link(
            demo["sources"], demo_dictionary(), threshold=0.9, max_pairs=2e5, decisions=decisions
        )
    l2 = again.links.set_index(["source", "record_id"])
    # the forced match is linked
    assert (
        l2.loc[("maternity", m_rec.record_id), "cluster_id"]
        == l2.loc[("early_years", e_rec.record_id), "cluster_id"]
    )
    # the refused pair is not linked directly (it may still meet through the NHS number)
    acc = again.pairs
    direct = acc[
        (acc["record_id_l"] == a.record_id_l)
        & (acc["record_id_r"] == a.record_id_r)
        & (acc["how"] == "splink")
    ]
    assert direct.empty
    assert links.loc[(a.source_l, a.record_id_l), "cluster_id"] is not None


def test_bad_decisions_file_is_clear(demo):
    bad = pd.DataFrame(
        {
            "source_l": ["maternity"],
            "record_id_l": ["x"],
            "source_r": ["early_years"],
            "record_id_r": ["y"],
            "decision": ["maybe"],
        }
    )
    with pytest.raises(
        DataError, match=r"column 'decision', row 1: not a decision.*match or non-match"
    ):
        link(demo["sources"], demo_dictionary(), decisions=bad)


def test_link_input_errors(demo):
    with pytest.raises(ParameterError, match="threshold"):
        link(demo["sources"], demo_dictionary(), threshold=1.5)
    with pytest.raises(ParameterError, match="'school' is not in the data dictionary"):
        link({"school": demo["sources"]["maternity"]}, demo_dictionary())
    broken = {**demo["sources"], "maternity": demo["sources"]["maternity"].drop(columns="forename")}
    with pytest.raises(DataError, match="'forename'.*not in source 'maternity'"):
        link(broken, demo_dictionary())


def test_connected_components_option_runs(demo):
    small = {k: v.head(300) for k, v in demo["sources"].items()}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = link(small, demo_dictionary(), clustering="connected_components", max_pairs=1e5)
    assert len(res.links) == sum(len(v) for v in small.values())


def test_twins_without_nhs_numbers_in_different_sources_stay_apart(demo):
    """One twin in maternity, the other in early years, neither with an NHS number: everything
    but the first name agrees, and they must still not be linked."""
    sources = {k: v.copy() for k, v in demo["sources"].items()}
    mat = sources["maternity"].iloc[[0]].copy()
    mat[["mat_id", "nhs_number", "forename", "surname", "dob", "sex", "postcode"]] = [
        "MATTWIN",
        None,
        "Amelia",
        "Quennell",
        "2021-05-17",
        "F",
        "EV9 9ZZ",
    ]
    ey = sources["early_years"].iloc[[0]].copy()
    ey[["ey_ref", "NHSNumber", "FirstName", "LastName", "DOB", "Sex", "Postcode"]] = [
        "EYTWIN",
        None,
        "Isla",
        "Quennell",
        "2021-05-17",
        "F",
        "EV9 9ZZ",
    ]
    hv = sources["health_visiting"].iloc[[0]].copy()
    hv[
        [
            "hv_id",
            "nhs_no",
            "child_first_name",
            "child_surname",
            "date_of_birth",
            "gender",
            "post_code",
        ]
    ] = ["HVTWIN", None, "AMELIA", "QUENNELL", "17/05/2021", "Female", "EV99ZZ"]
    sources["maternity"] = pd.concat([sources["maternity"], mat], ignore_index=True)
    sources["early_years"] = pd.concat([sources["early_years"], ey], ignore_index=True)
    sources["health_visiting"] = pd.concat([sources["health_visiting"], hv], ignore_index=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = link(sources, demo_dictionary(), threshold=0.9, max_pairs=2e5)
    c = res.links.set_index(["source", "record_id"])["cluster_id"]
    assert c[("maternity", "MATTWIN")] == c[("health_visiting", "HVTWIN")]  # the same child
    assert c[("maternity", "MATTWIN")] != c[("early_years", "EYTWIN")]  # her twin
    assert res.quality.counts["possible twins kept apart"] >= 1


NHS_COLUMNS = {"maternity": "nhs_number", "health_visiting": "nhs_no", "early_years": "NHSNumber"}


def _without(demo, drop):
    import json

    dic = json.loads(json.dumps(demo_dictionary()))
    sources = {}
    for name, df in demo["sources"].items():
        cols = [c for c in drop(name) if c in df.columns]
        sources[name] = df.drop(columns=cols).head(500)
        for c in cols:
            dic["sources"][name]["columns"].pop(c)
    return sources, dic


def test_links_without_any_nhs_number(demo):
    sources, dic = _without(demo, lambda name: [NHS_COLUMNS[name]])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = link(sources, dic, max_pairs=1e5)
    assert "nhs_number" not in set(res.quality.parameters["comparison"])
    truth = demo["truth"].merge(res.links[["source", "record_id"]], on=["source", "record_id"])
    q = evaluate_links(res.links, truth)
    assert q["precision"] >= 0.97 and q["recall"] >= 0.95


def test_too_few_identifiers_to_link(demo):
    names = {
        "maternity": ["forename", "surname", "dob"],
        "health_visiting": ["child_first_name", "child_surname", "date_of_birth"],
        "early_years": ["FirstName", "LastName", "DOB"],
    }
    sources, dic = _without(demo, lambda name: names[name])
    with pytest.raises(
        ParameterError, match="too few identifiers to link records.*at least two of the types"
    ):
        link(sources, dic)
