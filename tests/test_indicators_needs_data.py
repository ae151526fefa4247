"""The synthetic needs-assessment data (evalkit.simulate_needs) and the indicators on them."""

from pathlib import Path

import pandas as pd
import pytest

from evalkit import indicators as ind
from evalkit.simulate_needs import (
    NEEDS_NATIONAL_ID,
    NEEDS_NOTICE,
    NEEDS_YEARS,
    needs_data,
    needs_indicators,
    write_needs,
)

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def needs():
    return pd.read_csv(ROOT / "data/demo/needs.csv")


def test_committed_needs_files_match_the_generator(tmp_path):
    written = write_needs(tmp_path)
    assert [p.name for p in written] == ["needs.csv", "needs_indicators.csv"]
    for path in written:
        assert path.read_bytes() == (ROOT / "data/demo" / path.name).read_bytes(), path.name


def test_needs_data_say_they_are_fictional():
    meta = pd.read_csv(ROOT / "data/demo/needs_indicators.csv")
    assert (meta["source"] == NEEDS_NOTICE).all() and "fictional" in NEEDS_NOTICE
    assert set(meta["polarity"]) == {"high is good", "low is good"}
    assert set(meta["statistic"]) == {"proportion", "rate", "dsr"}
    assert meta["indicator"].is_unique


def test_needs_data_shape(needs):
    areas = sorted(needs["area_id"].unique())
    assert len(areas) == 21 and NEEDS_NATIONAL_ID in areas
    assert sorted(needs["year"].unique()) == list(NEEDS_YEARS)
    assert sorted(needs["decile"].unique()) == list(range(1, 11))
    assert set(needs["indicator"]) == set(needs_indicators()["indicator"])
    assert (needs["numerator"] >= 0).all() and (needs["denominator"] > 0).all()
    props = needs_indicators().query("statistic == 'proportion'")["indicator"]
    p = needs[needs["indicator"].isin(props)]
    assert (p["numerator"] <= p["denominator"]).all()
    banded = needs[needs["ageband"] != "all"]
    assert banded["standard_population"].notna().all()
    assert needs.loc[needs["ageband"] == "all", "standard_population"].isna().all()
    # the national total is the sum of the areas
    keys = ["indicator", "year", "decile", "ageband"]
    areas_sum = needs[needs["area_id"] != NEEDS_NATIONAL_ID].groupby(keys)["numerator"].sum()
    national = needs[needs["area_id"] == NEEDS_NATIONAL_ID].set_index(keys)["numerator"]
    pd.testing.assert_series_equal(areas_sum.sort_index(), national.sort_index(), check_names=False)


def test_generator_is_deterministic():
    pd.testing.assert_frame_equal(needs_data(n_areas=2, seed=3), needs_data(n_areas=2, seed=3))


def test_indicators_run_on_the_demo(needs):
    last = needs[needs["year"] == NEEDS_YEARS[-1]]
    mh = last[last["indicator"] == "mental_health_admissions_15_44"]
    r = ind.dsr(mh, "numerator", "denominator", "standard_population", groups="area_id")
    t = r.to_frame().set_index("area_id")
    assert len(t) == 21 and t.loc[NEEDS_NATIONAL_ID, "total_count"] > 1000
    smoke = last[last["indicator"] == "smoking_at_delivery"].copy()
    p = ind.proportion("numerator", "denominator", data=smoke)
    smoke["value"], smoke["se_logit"] = (
        p["estimate"],
        1 / (smoke["numerator"] + 0.5) + 1 / (smoke["denominator"] - smoke["numerator"] + 0.5),
    )
    smoke["se_logit"] = smoke["se_logit"] ** 0.5
    s = ind.sii(smoke, "decile", "value", "denominator", "area_id", "se_logit", "proportion",
                multiplier=100, n_sim=2000, seed=1)  # fmt: skip
    # deprivation gradient built into the generator: more smoking in the most deprived decile
    assert s.to_frame().set_index("area_id").loc[NEEDS_NATIONAL_ID, "ci_high"] < 0
    totals = needs[needs["indicator"] == "breastfeeding_6_8_weeks"]
    totals = totals.groupby(["area_id", "year"], as_index=False)[["numerator", "denominator"]].sum()
    tr = ind.trend(totals, "numerator", "denominator", "year", groups="area_id").to_frame()
    assert set(tr["trend"]) <= {"increasing", "decreasing", "no significant change"}
