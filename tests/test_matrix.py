"""Maturity matrix: framework, ratings checks, profiles, agreement and change."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit import matrix
from evalkit.errors import DataError, EvalkitWarning, ParameterError, SpecError

EXPECTED_ELEMENTS = {
    "plan": ["strategy", "commissioning", "workforce_planning"],
    "lead": ["governance", "leaders_community"],
    "deliver": ["services_interventions", "information_sharing"],
    "evaluate": ["understanding_impact", "using_evidence"],
}


def _rows(area, date, table):
    """table: {element: {partner: level}} -> long rows."""
    return [
        {"area": area, "partner": p, "element": e, "level": lv, "date": date}
        for e, by_partner in table.items()
        for p, lv in by_partner.items()
    ]


@pytest.fixture
def ratings():
    north_2024 = {
        "strategy": {"P1": 2, "P2": 3, "P3": 4},
        "commissioning": {"P1": 1, "P2": 1, "P3": 4},
        "workforce_planning": {"P1": 3, "P2": 2},
        "governance": {"P1": 5, "P2": 5, "P3": 5},
    }
    north_2023 = {"strategy": {"P1": 1, "P2": 2}, "governance": {"P1": 4, "P2": 4}}
    south_2024 = {"strategy": {"Q1": 1, "Q2": 1}}
    return pd.DataFrame(
        _rows("North", "2024-03-01", north_2024)
        + _rows("North", "2023-03-01", north_2023)
        + _rows("South", "2024-02-01", south_2024)
    )


# -- framework ----------------------------------------------------------------------------------
def test_default_framework_has_the_agreed_ids():
    fw = matrix.load_framework()
    assert {d.id: list(d.elements) for d in fw.dimensions} == EXPECTED_ELEMENTS
    assert fw.levels == {1: "basic", 2: "early", 3: "developing", 4: "maturing", 5: "mature"}
    assert fw.element("leaders_community").label == "Leaders and the wider community"
    assert list(fw.to_frame()["element"]) == sum(EXPECTED_ELEMENTS.values(), [])


def test_framework_from_mapping_with_custom_levels():
    fw = matrix.load_framework(
        {
            "levels": ["low", "medium", "high"],
            "dimensions": [{"id": "a", "elements": [{"id": "x"}, {"id": "y", "label": "Why"}]}],
        }
    )
    assert fw.levels == {1: "low", 2: "medium", 3: "high"}
    assert fw.element("y").label == "Why" and fw.dimension("a").label == "A"


@pytest.mark.parametrize(
    "text, key, words",
    [
        (
            "levels: {1: a, 3: c}\ndimensions: [{id: d, elements: [{id: e}]}]",
            "levels",
            "consecutive",
        ),
        (
            "levels: {1: a, 2: b}\ndimensions: [{id: d, elements: [{id: e}, {id: e}]}]",
            "dimensions[0].elements[1].id",
            "already used",
        ),
        (
            "levels: {1: a, 2: b}\ndimensions: [{id: d, elments: [{id: e}]}]",
            "dimensions[0]",
            "unknown key",
        ),
        (
            "levels: {1: a, 2: b}\ndimensions: [{id: D x, elements: [{id: e}]}]",
            "dimensions[0].id",
            "lower case",
        ),
        ("levels: {1: a, 2: b}\ndimensions: []", "dimensions", "non-empty"),
        ("dimensions: [{id: d, elements: [{id: e}]}]", "levels", "missing"),
    ],
)
def test_bad_framework_names_file_and_key(tmp_path, text, key, words):
    path = tmp_path / "fw.yaml"
    path.write_text(text)
    with pytest.raises(SpecError) as err:
        matrix.load_framework(path)
    assert err.value.file == str(path)
    assert err.value.key == key
    assert words in str(err.value)


def test_framework_file_missing_or_not_yaml(tmp_path):
    with pytest.raises(SpecError, match="not found"):
        matrix.load_framework(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("levels: [a, b\n")
    with pytest.raises(SpecError, match="not valid YAML"):
        matrix.load_framework(bad)


# -- ratings ------------------------------------------------------------------------------------
def test_read_ratings_accepts_labels_and_uk_dates():
    df = pd.DataFrame(
        {
            "Area": ["A", "A"],
            " Partner ": ["NHS", "LA"],
            "element": ["Workforce planning", "LEADERS_COMMUNITY"],
            "level": ["Developing", 5],
            "date": ["2024-03-01", "01/03/2024"],
            "comment": ["x", "y"],
        }
    )
    r = matrix.read_ratings(df)
    assert list(r.columns) == ["area", "partner", "dimension", "element", "level", "date"]
    assert list(r["element"]) == ["workforce_planning", "leaders_community"]
    assert list(r["dimension"]) == ["plan", "lead"]
    assert list(r["level"]) == [3, 5]
    # ISO is never read day-first; 01/03/2024 is 1 March in the UK convention
    assert (r["date"] == pd.Timestamp("2024-03-01")).all()


def test_unknown_element_names_rows_and_allowed(ratings):
    bad = ratings.copy()
    bad.loc[[2, 5], "element"] = "vision"
    with pytest.raises(DataError) as err:
        matrix.read_ratings(bad)
    assert err.value.column == "element" and err.value.rows == [2, 5]
    assert "vision" in str(err.value) and "using_evidence" in str(err.value)


@pytest.mark.parametrize("value", [0, 6, 2.5, "lots"])
def test_level_out_of_range(ratings, value):
    bad = ratings.astype({"level": object})
    bad.loc[3, "level"] = value
    with pytest.raises(DataError) as err:
        matrix.read_ratings(bad)
    assert err.value.column == "level" and err.value.rows == [3]
    assert "1 to 5" in str(err.value)


def test_level_range_follows_the_framework(ratings):
    fw = {
        "levels": {0: "none", 1: "some"},
        "dimensions": [{"id": "plan", "elements": [{"id": "strategy"}]}],
    }
    df = ratings[ratings.element == "strategy"].copy()
    df["level"] = 1
    assert matrix.read_ratings(df, fw)["level"].max() == 1
    df.loc[df.index[0], "level"] = 2
    with pytest.raises(DataError, match="0 to 1"):
        matrix.read_ratings(df, fw)


def test_missing_columns_values_duplicates_dates(ratings):
    with pytest.raises(DataError, match="'date'"):
        matrix.read_ratings(ratings.drop(columns="date"))
    bad = ratings.copy()
    bad.loc[4, "partner"] = None
    with pytest.raises(DataError) as err:
        matrix.read_ratings(bad)
    assert err.value.column == "partner" and err.value.rows == [4]
    with pytest.raises(DataError, match="more than once") as err:
        matrix.read_ratings(pd.concat([ratings, ratings.iloc[[0]]], ignore_index=True))
    assert err.value.rows == [0, len(ratings)]
    bad = ratings.copy()
    bad.loc[1, "date"] = "31/02/2024"
    with pytest.raises(DataError, match="date") as err:
        matrix.read_ratings(bad)
    assert err.value.rows == [1]


def test_rows_from_a_file_are_spreadsheet_lines(tmp_path, ratings):
    bad = ratings.copy()
    bad.loc[3, "element"] = "nonsense"
    path = tmp_path / "ratings.csv"
    bad.to_csv(path, index=False)
    with pytest.raises(DataError) as err:
        matrix.read_ratings(path)
    assert err.value.rows == [5]  # header on line 1, row 0 on line 2
    assert str(path) in str(err.value)
    ratings.to_csv(path, index=False)
    assert len(matrix.read_ratings(path)) == len(ratings)


# -- profile ------------------------------------------------------------------------------------
def test_profile_reproduces_hand_computed_values(ratings):
    p = matrix.profile(ratings, area="North").set_index(["scope", "dimension", "element"])
    assert (p["date"] == pd.Timestamp("2024-03-01")).all()  # the latest date by default

    def row(scope, dim, el=""):
        return p.loc[(scope, dim, el), ["mean", "median", "min", "max", "n_partners"]].tolist()

    # strategy 2, 3, 4 -> mean 3, median 3, range 2-4
    assert row("element", "plan", "strategy") == [3.0, 3.0, 2.0, 4.0, 3]
    assert p.loc[("element", "plan", "strategy"), "sd"] == pytest.approx(1.0)
    # commissioning 1, 1, 4 -> mean 2, median 1
    assert row("element", "plan", "commissioning") == [2.0, 1.0, 1.0, 4.0, 3]
    # workforce planning 3, 2 (P3 did not rate it)
    assert row("element", "plan", "workforce_planning") == [2.5, 2.5, 2.0, 3.0, 2]
    # Plan: partner scores P1 (2+1+3)/3 = 2, P2 (3+1+2)/3 = 2, P3 (4+4)/2 = 4
    assert row("dimension", "plan") == pytest.approx([8 / 3, 2.0, 2.0, 4.0, 3])
    # Lead: governance only, all 5
    assert row("dimension", "lead") == [5.0, 5.0, 5.0, 5.0, 3]
    assert p.loc[("dimension", "lead", ""), "sd"] == 0.0
    # nobody rated Deliver
    assert row("dimension", "deliver")[-1] == 0 and np.isnan(row("dimension", "deliver")[0])
    # overall: P1 (2+1+3+5)/4 = 2.75, P2 (3+1+2+5)/4 = 2.75, P3 (4+4+5)/3 = 13/3
    assert row("overall", "") == pytest.approx([(5.5 + 13 / 3) / 3, 2.75, 2.75, 13 / 3, 3])


def test_profile_order_areas_and_dates(ratings):
    p = matrix.profile(ratings)
    assert list(p["area"].unique()) == ["North", "South"]
    north = p[p.area == "North"]
    assert list(north["scope"])[:4] == ["dimension", "element", "element", "element"]
    assert list(north["element"])[1:4] == EXPECTED_ELEMENTS["plan"]
    assert len(north) == 4 + 9 + 1
    assert p.loc[p.area == "South", "date"].iloc[0] == pd.Timestamp("2024-02-01")
    old = matrix.profile(ratings, area="North", date="2023-03-01")
    assert old.query("element == 'strategy'")["mean"].item() == 1.5
    both = matrix.profile(ratings, area="North", date="all")
    assert both["date"].nunique() == 2
    with pytest.raises(DataError, match="no ratings on date"):
        matrix.profile(ratings, area="North", date="2020-01-01")
    with pytest.raises(DataError, match="no ratings for area"):
        matrix.profile(ratings, area="West")


# -- agreement ----------------------------------------------------------------------------------
# Shrout & Fleiss (1979), 6 targets x 4 judges; values from shared/reference/published.md
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)


def test_agreement_icc_is_reliability_icc2_on_shrout_fleiss():
    # The matrix's ICC(A,1) is evalkit.reliability.icc's ICC2 row (no copy of its own):
    # Shrout & Fleiss (1979) values from shared/reference/published.md, read through agreement().
    fw = {
        "name": "ten levels",
        "levels": list("abcdefghij"),
        "dimensions": [
            {
                "id": "d",
                "label": "D",
                "elements": [{"id": f"e{i}", "label": f"E{i}"} for i in range(6)],
            }
        ],
    }
    rows = [
        {"area": "A", "partner": f"J{j}", "element": f"e{i}", "level": int(v), "date": "2024-03-01"}
        for i, line in enumerate(SHROUT_FLEISS)
        for j, v in enumerate(line)
    ]
    res = matrix.agreement(pd.DataFrame(rows), framework=fw)
    assert res.estimate == pytest.approx(0.289764, abs=5e-7)
    assert res.f == pytest.approx(11.027248, abs=5e-7)
    assert res.p == pytest.approx(0.000134567, rel=1e-5)
    # recomputed McGraw & Wong interval, published.md
    assert res.ci_low == pytest.approx(0.018787, abs=5e-7)
    assert res.ci_high == pytest.approx(0.761084, abs=5e-7)
    assert (res.df1, res.df2) == (5, 15)


def _random_area(rng, n_partners=4, area="A"):
    truth = rng.integers(1, 6, size=9)
    rows = []
    for p in range(n_partners):
        noisy = np.clip(truth + rng.integers(-1, 2, size=9), 1, 5)
        for e, lv in zip(matrix.load_framework().element_ids, noisy):
            rows.append(
                {
                    "area": area,
                    "partner": f"P{p}",
                    "element": e,
                    "level": int(lv),
                    "date": "2024-03-01",
                }
            )
    return pd.DataFrame(rows)


@pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::FutureWarning")
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_agreement_icc_matches_pingouin(seed):
    pg = pytest.importorskip("pingouin")
    df = _random_area(np.random.default_rng(seed))
    res = matrix.agreement(df)
    # peer: pingouin.intraclass_corr, row ICC2 = ICC(A,1)
    ref = pg.intraclass_corr(df, targets="element", raters="partner", ratings="level")
    ref = ref.set_index("Type").loc["ICC(A,1)"] if "ICC(A,1)" in set(ref["Type"]) else ref.iloc[1]
    assert res.estimate == pytest.approx(ref["ICC"], abs=1e-10)
    assert res.f == pytest.approx(ref["F"], rel=1e-10)
    assert res.p == pytest.approx(ref["pval"], rel=1e-8)
    assert (res.df1, res.df2) == (ref["df1"], ref["df2"])
    # pingouin rounds its interval to two decimals
    assert res.ci_low == pytest.approx(ref["CI95"][0], abs=0.006)
    assert res.ci_high == pytest.approx(ref["CI95"][1], abs=0.006)
    assert (res.n, res.n_raters, res.area, res.date) == (9, 4, "A", "2024-03-01")
    assert res.to_frame().loc[0, "estimate"] == res.estimate


def test_agreement_kappa_matches_statsmodels():
    from statsmodels.stats.inter_rater import cohens_kappa

    df = _random_area(np.random.default_rng(7), n_partners=3)
    res = matrix.agreement(df, method="kappa")
    wide = df.pivot(index="element", columns="partner", values="level")
    refs = []
    for a, b in [("P0", "P1"), ("P0", "P2"), ("P1", "P2")]:
        table = pd.crosstab(wide[a], wide[b]).reindex(
            index=range(1, 6), columns=range(1, 6), fill_value=0
        )
        refs.append(cohens_kappa(table.to_numpy(), wt="quadratic").kappa)
    assert res.estimate == pytest.approx(np.mean(refs), abs=1e-12)
    assert np.isnan(res.ci_low) and "kappa" in res.method


def test_agreement_kappa_is_symmetric_in_partners_and_one_for_identical():
    df = _random_area(np.random.default_rng(11), n_partners=2)
    res = matrix.agreement(df, method="kappa")
    swapped = df.assign(partner=df["partner"].map({"P0": "P1", "P1": "P0"}))
    assert matrix.agreement(swapped, method="kappa").estimate == pytest.approx(res.estimate)
    same = df.assign(level=df.groupby("element")["level"].transform("first"))
    assert matrix.agreement(same, method="kappa").estimate == 1.0


def test_agreement_drops_incomplete_elements_with_warning(ratings):
    with pytest.warns(EvalkitWarning, match="workforce_planning"):
        res = matrix.agreement(ratings, area="North")
    assert res.dropped == ("workforce_planning",) and res.n == 3 and res.n_raters == 3


def test_agreement_errors(ratings):
    with pytest.raises(ParameterError, match="several areas"):
        matrix.agreement(ratings)
    one = ratings[(ratings.area == "North") & (ratings.partner == "P1")]
    with pytest.raises(DataError, match="two partners"):
        matrix.agreement(one)
    with pytest.raises(ParameterError):
        matrix.agreement(ratings, area="North", method="alpha")
    same = ratings[ratings.element == "governance"].query("area == 'North'").copy()
    same = pd.concat([same, same.assign(element="strategy")])
    with pytest.warns(EvalkitWarning, match="not defined"):
        res = matrix.agreement(same)
    assert np.isnan(res.estimate) and res.interpretation == "not defined"


# -- change -------------------------------------------------------------------------------------
def test_change_between_the_two_latest_dates(ratings):
    with pytest.warns(EvalkitWarning, match="South"):
        c = matrix.change(ratings)
    assert set(c["area"]) == {"North"}
    c = c.set_index(["scope", "dimension", "element"])
    # strategy: 2023 (1+2)/2 = 1.5 -> 2024 (2+3+4)/3 = 3
    s = c.loc[("element", "plan", "strategy")]
    assert (s["mean_before"], s["mean_after"], s["change"]) == (1.5, 3.0, 1.5)
    assert (s["n_partners_before"], s["n_partners_after"]) == (2, 3)
    assert s["date_before"] == pd.Timestamp("2023-03-01")
    assert c.loc[("dimension", "lead", ""), "change"] == 1.0
    with pytest.raises(DataError, match="one assessment"):
        matrix.change(ratings, area="South")
    with pytest.raises(DataError, match="no area has two"), pytest.warns(EvalkitWarning):
        matrix.change(ratings[ratings.area == "South"])


# -- reading and checking once (issue 12): the report's fast paths equal the public ones --------


def test_checked_ratings_are_used_as_they_are_and_give_the_same_results():
    from evalkit.matrix.cycle import ranked_disagreement
    from evalkit.matrix.ratings import Checked

    path = "data/demo/matrix.csv"
    fw = matrix.load_framework()
    everyone = matrix.read_ratings(path, fw, notes=True)
    pd.testing.assert_frame_equal(
        everyone[["area", "partner", "dimension", "element", "level", "date"]],
        matrix.read_ratings(path),
    )
    mine = everyone[everyone["area"] == "A01"]
    ratings = mine[["area", "partner", "dimension", "element", "level", "date"]]
    checked = Checked(mine, fw)
    pd.testing.assert_frame_equal(matrix.read_ratings(checked), ratings)
    pd.testing.assert_frame_equal(matrix.read_ratings(checked, notes=True), mine)
    prof = matrix.profile(checked, area="A01")
    pd.testing.assert_frame_equal(prof, matrix.profile(ratings, area="A01"))
    pd.testing.assert_frame_equal(
        matrix.change(checked, area="A01", since="baseline"),
        matrix.change(ratings, area="A01", since="baseline"),
    )
    assert matrix.agreement(checked, area="A01") == matrix.agreement(ratings, area="A01")
    pd.testing.assert_frame_equal(
        matrix.priority_actions(checked, area="A01"), matrix.priority_actions(path, area="A01")
    )
    slow = matrix.disagreement(ratings, area="A01")
    pd.testing.assert_frame_equal(matrix.disagreement(checked, area="A01"), slow)
    pd.testing.assert_frame_equal(ranked_disagreement(prof, fw), slow)


def test_checked_ratings_from_another_framework_are_checked_again():
    from evalkit.matrix.ratings import Checked

    df = pd.DataFrame({"area": "A", "partner": ["NHS", "LA"], "element": "strategy",
                       "level": [2, 5], "date": "2024-03-01"})  # fmt: skip
    fw = matrix.load_framework()
    narrow = matrix.load_framework(
        {"name": "three levels", "levels": ["low", "middle", "high"],
         "dimensions": [{"id": "plan", "label": "Plan",
                         "elements": [{"id": "strategy", "label": "Strategy"}]}]}
    )  # fmt: skip
    checked = Checked(matrix.read_ratings(df, fw, notes=True), fw)
    with pytest.raises(DataError, match="level out of range"):
        matrix.read_ratings(checked, narrow)


def test_text_columns_are_read_as_object_columns_are():
    df = pd.DataFrame({"area": "A", "partner": ["NHS", "LA", "VCS"],
                       "element": ["strategy", "Workforce planning", "GOVERNANCE"],
                       "level": ["3 developing", "2", "basic"],
                       "date": ["2024-03-01", "01/03/2024", "2024-03-01"],
                       "action": ["Write it", "", None], "status": ["In-progress", None, None]})  # fmt: skip
    as_text = df.astype({c: "str" for c in df.columns if c != "action"})
    as_object = df.astype(object)
    fast = matrix.read_ratings(as_text, notes=True)
    pd.testing.assert_frame_equal(fast, matrix.read_ratings(as_object, notes=True))
    assert fast["level"].tolist() == [3, 2, 1]
    assert fast["status"].tolist() == ["in progress", "", ""]
    numbers = df.assign(level=[3, 2, 1])
    pd.testing.assert_frame_equal(
        matrix.read_ratings(numbers), matrix.read_ratings(numbers.astype({"level": object}))
    )


def test_framework_file_is_parsed_once_per_version(tmp_path):
    from evalkit.matrix import framework as fwmod

    text = (
        "name: local\nlevels: [low, high]\ndimensions:\n"
        "  - id: plan\n    label: Plan\n    elements:\n"
        "      - id: strategy\n        label: Strategy\n"
    )
    path = tmp_path / "fw.yaml"
    path.write_text(text, encoding="utf-8")
    first = matrix.load_framework(path)
    first.levels[1] = "changed by a caller"
    again = matrix.load_framework(path)
    assert again == matrix.load_framework(path) and again.levels == {1: "low", 2: "high"}
    path.write_text(text.replace("Strategy", "Our strategy"), encoding="utf-8")
    assert matrix.load_framework(path).element("strategy").label == "Our strategy"
    assert str(path.resolve()) in "".join(fwmod._READ)
