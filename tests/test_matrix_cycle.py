"""The yearly matrix cycle: priority actions, change since the baseline, disagreement, levels
across areas (and their picture), and the demo's implementation data."""

from __future__ import annotations

import functools

import numpy as np
import pandas as pd
import pytest

from evalkit import matrix
from evalkit.errors import DataError, ParameterError
from evalkit.plots.matrix import plot_level_distribution
from evalkit.simulate import (
    DEMO_FIDELITY_ITEMS,
    DEMO_PLANNED_SESSIONS,
    demo,
    demo_area_records,
    demo_dose_slope,
    demo_matrix,
)


@functools.cache
def _area(i):
    """One demo area's records and truth (generated once for the tests below)."""
    return demo_area_records(i)


def _rows(area, date, table, actions=None):
    """table: {element: {partner: level}}; actions: {(element, partner): (action, due, status)}."""
    rows = []
    for e, by_partner in table.items():
        for p, lv in by_partner.items():
            action, due, status = (actions or {}).get((e, p), ("", "", ""))
            rows.append(
                {
                    "area": area,
                    "partner": p,
                    "element": e,
                    "level": lv,
                    "date": date,
                    "action": action,
                    "owner": "Board" if action else "",
                    "due_date": due,
                    "status": status,
                }
            )
    return rows


@pytest.fixture
def ratings():
    y1 = {
        "strategy": {"P1": 1, "P2": 2, "P3": 2},
        "governance": {"P1": 3, "P2": 3, "P3": 3},
        "using_evidence": {"P1": 2, "P2": 2, "P3": 1},
    }
    y2 = {
        "strategy": {"P1": 2, "P2": 2, "P3": 4},
        "governance": {"P1": 3, "P2": 4, "P3": 3},
        "using_evidence": {"P1": 1, "P2": 5, "P3": 3},
    }
    y3 = {
        "strategy": {"P1": 3, "P2": 2, "P3": 4},
        "governance": {"P1": 4, "P2": 4, "P3": 4},
        "using_evidence": {"P1": 1, "P2": 5, "P3": 5},
    }
    actions_y2 = {("strategy", "P1"): ("Draft a strategy", "2023-09-30", "done")}
    actions_y3 = {
        ("using_evidence", "P2"): ("Plan an evaluation", "2024-09-30", "in progress"),
        ("strategy", "P3"): ("Publish the strategy", "2025-09-30", ""),
        ("governance", "P1"): ("Review the board", "2024-06-30", "dropped"),
    }
    south = {"strategy": {"Q1": 4, "Q2": 5}, "governance": {"Q1": 2, "Q2": 2}}
    return pd.DataFrame(
        _rows("North", "2022-03-01", y1)
        + _rows("North", "2023-03-01", y2, actions_y2)
        + _rows("North", "2024-03-01", y3, actions_y3)
        + _rows("South", "2024-02-01", south)
    )


# -- priority actions -----------------------------------------------------------------------------
def test_priority_actions_of_the_last_assessment(ratings):
    a = matrix.priority_actions(ratings, area="North")
    # framework order (strategy, governance, ..., using_evidence); blank status = planned
    assert a[["element", "partner", "action", "status"]].values.tolist() == [
        ["strategy", "P3", "Publish the strategy", "planned"],
        ["governance", "P1", "Review the board", "dropped"],
        ["using_evidence", "P2", "Plan an evaluation", "in progress"],
    ]
    assert (a["date"] == pd.Timestamp("2024-03-01")).all()
    assert a["label"].tolist() == ["Strategy", "Governance", "Using and generating evidence"]
    assert "overdue" not in a
    # overdue: due before as_of and still planned or in progress (dropped is not overdue)
    a = matrix.priority_actions(ratings, area="North", as_of="2025-01-01")
    assert a["overdue"].tolist() == [False, False, True]
    earlier = matrix.priority_actions(ratings, area="North", date="2023-03-01")
    assert earlier["action"].tolist() == ["Draft a strategy"]
    assert len(matrix.priority_actions(ratings, date="all")) == 4


def test_priority_actions_none_and_errors(ratings):
    none = matrix.priority_actions(ratings, area="South")
    assert none.empty and "status" in none.columns
    with pytest.raises(DataError, match="as_of"):
        matrix.priority_actions(ratings, as_of="someday")
    with pytest.raises(DataError, match="no ratings for area"):
        matrix.priority_actions(ratings, area="West")


# -- change since the baseline ---------------------------------------------------------------------
def test_change_since_the_baseline(ratings):
    north = ratings[ratings.area == "North"]
    base = matrix.change(north, since="baseline").set_index("element")
    prev = matrix.change(north).set_index("element")
    # strategy: mean 5/3 (2022) -> 8/3 (2023) -> 9/3 (2024), by hand
    assert base.loc["strategy", "mean_before"] == pytest.approx(5 / 3)
    assert base.loc["strategy", "change"] == pytest.approx(3 - 5 / 3)
    assert prev.loc["strategy", "change"] == pytest.approx(3 - 8 / 3)
    assert (base["date_before"] == pd.Timestamp("2022-03-01")).all()
    assert (prev["date_before"] == pd.Timestamp("2023-03-01")).all()
    with pytest.raises(ParameterError, match="since"):
        matrix.change(north, since="start")


# -- disagreement -----------------------------------------------------------------------------------
def test_disagreement_ranks_elements_by_spread(ratings):
    d = matrix.disagreement(ratings, area="North")
    # 2024: using_evidence 1, 5, 5 (range 4); strategy 3, 2, 4 (range 2); governance 4, 4, 4
    assert d["element"].tolist() == ["using_evidence", "strategy", "governance"]
    assert d["rank"].tolist() == [1, 2, 3]
    assert d["range"].tolist() == [4.0, 2.0, 0.0]
    # SD (n - 1) by hand: sd(1, 5, 5) = sqrt(16/3), sd(3, 2, 4) = 1
    assert d["sd"].tolist() == pytest.approx([np.sqrt(16 / 3), 1.0, 0.0])
    assert d["n_partners"].tolist() == [3, 3, 3]
    both = matrix.disagreement(ratings)
    assert both.groupby("area")["rank"].min().tolist() == [1, 1]
    south = both[both.area == "South"]
    assert south["element"].tolist() == ["strategy", "governance"]  # range 1 before range 0


def test_disagreement_ties_broken_by_sd_then_framework_order():
    df = pd.DataFrame(
        {
            "area": "A",
            "partner": ["P1", "P2", "P3"] * 3,
            "element": np.repeat(["strategy", "commissioning", "governance"], 3),
            "level": [1, 3, 3, 1, 1, 3, 2, 2, 4],
            "date": "2025-03-01",
        }
    )
    d = matrix.disagreement(df)
    # all ranges are 2 and all SDs equal (1.1547): framework order decides
    assert d["element"].tolist() == ["strategy", "commissioning", "governance"]
    df.loc[2, "level"] = 1  # strategy 1, 3, 1: same range, same sd as the others still
    df.loc[8, "level"] = 3  # governance 2, 2, 3: range 1
    assert matrix.disagreement(df)["element"].tolist()[-1] == "governance"


# -- levels across areas -----------------------------------------------------------------------------
def test_level_distribution_counts_areas_at_their_latest_assessment(ratings):
    d = matrix.level_distribution(ratings).set_index(["element", "level"])
    # strategy: North 2024 median(3, 2, 4) = 3; South median(4, 5) = 4.5 -> 5 (halves up)
    assert d.loc[("strategy", 3), "n_areas"] == 1 and d.loc[("strategy", 5), "n_areas"] == 1
    assert d.loc["strategy", "n_areas"].sum() == 2
    assert d.loc[("strategy", 3), "pct"] == 50.0
    # governance: North 4, South 2
    assert d.loc[("governance", 4), "n_areas"] == 1 and d.loc[("governance", 2), "n_areas"] == 1
    # using_evidence: only North rated it (median of 1, 5, 5 = 5)
    assert d.loc[("using_evidence", 5), "n_areas_rated"] == 1
    assert d.loc[("using_evidence", 5), "pct"] == 100.0
    # an element nobody rated: zero counts, no percentage
    assert (
        d.loc["commissioning", "n_areas"].sum() == 0 and d.loc["commissioning", "pct"].isna().all()
    )
    assert len(d) == 9 * 5
    m = matrix.level_distribution(ratings, summary="mean").set_index(["element", "level"])
    # using_evidence mean 11/3 = 3.67 -> 4
    assert m.loc[("using_evidence", 4), "n_areas"] == 1
    with pytest.raises(ParameterError, match="summary"):
        matrix.level_distribution(ratings, summary="mode")


def test_plot_level_distribution_draws_the_counts(ratings):
    fig = plot_level_distribution(ratings)
    ax = fig.axes[0]
    widths = [p.get_width() for p in ax.patches]
    assert len(widths) == 9 * 5 and sum(widths) == 2 + 2 + 1  # strategy, governance, using_ev.
    texts = sorted(t.get_text() for t in ax.texts)
    assert texts == ["1", "1", "1", "1", "1"]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["1 basic", "2 early", "3 developing", "4 maturing", "5 mature"]
    same = plot_level_distribution(matrix.level_distribution(ratings))
    assert [p.get_width() for p in same.axes[0].patches] == widths


# -- the demo ---------------------------------------------------------------------------------------
def test_demo_matrix_has_notes_and_actions_for_every_area():
    r = demo_matrix()
    actions = matrix.priority_actions(r)
    assert sorted(actions["area"].unique()) == [f"A{i:02d}" for i in range(1, 21)]
    assert actions.groupby("area").size().between(2, 3).all()
    assert set(actions["status"]) <= {"planned", "in progress"}  # agreed at the latest date
    first = matrix.priority_actions(r, date="2024-03-01")
    assert set(first["status"]) <= {"done", "in progress", "dropped"}
    notes = matrix.read_ratings(r, notes=True)
    assert (notes["evidence"] != "").mean() > 0.3 and (notes["barriers"] != "").mean() > 0.1


def test_demo_implementation_columns():
    df, truth = demo_area_records(0)
    treated = df["treated"] == 1
    assert list(df.columns[-6:]) == ["sessions", *DEMO_FIDELITY_ITEMS]
    assert df.loc[~treated, ["sessions", *DEMO_FIDELITY_ITEMS]].isna().all().all()
    s = df.loc[treated, "sessions"]
    assert s.notna().all() and s.between(0, DEMO_PLANNED_SESSIONS).all()
    assert (s == DEMO_PLANNED_SESSIONS).any()
    items = df.loc[treated, list(DEMO_FIDELITY_ITEMS)]
    assert set(np.unique(items.to_numpy(dtype=float))) == {0.0, 1.0}
    assert truth["fidelity_pct"] == pytest.approx(100 * items.to_numpy(dtype=float).mean())
    assert truth["epds_dose_slope"] == pytest.approx(demo_dose_slope(df))
    assert truth["planned_sessions"] == 8


def test_demo_dose_slope_is_ols_and_negative_on_average():
    # the known dose-response, checked against numpy's least squares on the totals
    slopes = []
    for i in range(20):
        df, truth = _area(i)
        t = df[df["treated"] == 1]
        pre = t.filter(like="epds_pre_").astype(float).sum(axis=1, skipna=False)
        post = t.filter(like="epds_post_").astype(float).sum(axis=1, skipna=False)
        keep = pre.notna() & post.notna()
        x = np.column_stack([np.ones(keep.sum()), pre[keep], t.loc[keep, "sessions"].astype(float)])
        beta = np.linalg.lstsq(x, post[keep].to_numpy(), rcond=None)[0]
        assert truth["epds_dose_slope"] == pytest.approx(beta[2], abs=1e-10)
        slopes.append(beta[2])
    assert np.mean(slopes) < -0.3 and np.mean(np.array(slopes) < 0) >= 0.9
    assert demo(n_areas=3)["truth"].columns[-3:].tolist() == [
        "planned_sessions",
        "epds_dose_slope",
        "fidelity_pct",
    ]


def _totals(df):
    t = df[df["treated"] == 1].copy()
    t["epds_pre_total"] = t.filter(like="epds_pre_").astype(float).sum(axis=1, skipna=False)
    t["epds_post_total"] = t.filter(like="epds_post_").astype(float).sum(axis=1, skipna=False)
    t["sessions"] = t["sessions"].astype(float)
    return t.dropna(subset=["epds_pre_total", "epds_post_total"])[
        ["setting", "sessions", "epds_pre_total", "epds_post_total"]
    ]


def test_dose_response_recovers_the_demo_dose_response():
    implementation = pytest.importorskip("evalkit.implementation")
    if not hasattr(implementation, "dose_response"):
        pytest.skip("evalkit.implementation has no dose_response yet")
    covered = 0
    for i in range(20):
        df, truth = _area(i)
        res = implementation.dose_response(
            _totals(df), outcome="epds_post_total", dose="sessions", baseline="epds_pre_total"
        )
        known = truth["epds_dose_slope"]
        half = (res.ci_high - res.ci_low) / 2
        # the baseline-adjusted linear slope is the known value (up to the estimator's choices)
        assert abs(res.estimate - known) < 0.25 * half, (i, res.estimate, known)
        covered += res.ci_low <= known <= res.ci_high
    assert covered == 20


def test_profile_of_every_area_equals_each_area_on_its_own():
    """Issue 12: the profile of all areas reads each area's rows in one pass (groupby);
    it must equal the areas' own profiles, and the level counts from a profile passed in
    must equal those computed from the ratings."""
    from pathlib import Path

    ratings = matrix.read_ratings(Path(__file__).parents[1] / "data" / "demo" / "matrix.csv")
    every = matrix.profile(ratings)
    each = pd.concat(
        [matrix.profile(ratings, area=a) for a in sorted(ratings["area"].unique())],
        ignore_index=True,
    )
    pd.testing.assert_frame_equal(every, each)
    pd.testing.assert_frame_equal(
        matrix.level_distribution(ratings, profiled=every), matrix.level_distribution(ratings)
    )
