"""Section functions (evalkit.needs) and figures (evalkit.plots.needs) of the needs page."""

import numpy as np
import pandas as pd
import pytest

from evalkit import indicators as ind
from evalkit import needs
from evalkit.errors import DataError, EvalkitWarning, ParameterError
from evalkit.simulate_needs import needs_data, needs_indicators


@pytest.fixture(scope="module")
def demo():
    return needs_data(n_areas=4, seed=11), needs_indicators()


def test_area_summary_matches_the_indicator_functions(demo):
    data, meta = demo
    s = needs.area_summary(data, meta, "A02")
    assert list(s.index) == list(meta["indicator"])
    last = data[(data["year"] == data["year"].max()) & (data["area_id"] == "A02")]
    smoke = last[last["indicator"] == "smoking_at_delivery"]
    p = ind.proportion(int(smoke["numerator"].sum()), int(smoke["denominator"].sum()),
                       multiplier=100)  # fmt: skip
    row = s.loc["smoking_at_delivery"]
    assert (row["value"], row["ci_low"], row["ci_high"]) == pytest.approx(
        (p.estimate, p.ci_low, p.ci_high)
    )
    mh = last[last["indicator"] == "mental_health_admissions_15_44"]
    d = ind.dsr(mh, "numerator", "denominator", "standard_population")
    assert s.loc["mental_health_admissions_15_44", "value"] == pytest.approx(d.estimate)
    assert set(s["comparison"]) <= set(needs.COMPARISON_WORDS)
    assert (s["area_min"] <= s["area_max"]).all() and (s["n_areas"] == 4).all()
    assert set(s["trend"]) <= {"increasing", "decreasing", "no significant change"}


def test_comparison_follows_polarity(demo):
    data, meta = demo
    s = needs.area_summary(data, meta, "A01")
    for _, row in s.iterrows():
        if row["comparison"] in ("better", "worse"):
            above = row["ci_low"] > row["benchmark"]
            good_high = row["polarity"] == "high is good"
            assert (row["comparison"] == "better") == (above == good_high)


def test_inequality_table_and_sentences(demo):
    data, meta = demo
    iq = needs.inequality_table(data, meta, "NAT", n_sim=2000)
    assert len(iq) == len(meta)  # the national total has events in every decile
    with pytest.warns(EvalkitWarning, match="too few deciles"):
        small = needs.inequality_table(data, meta, "A04", n_sim=2000)
    assert len(small) < len(meta)
    assert iq.loc["smoking_at_delivery", "gap_worse_in"] == "most deprived"
    assert iq.loc["breastfeeding_6_8_weeks", "sii"] > 0  # more breastfeeding when less deprived
    s = needs.area_summary(data, meta, "A01")
    text = needs.summary_sentences(s, iq, area_name="Birchmere")
    assert any("slope index of inequality" in t for t in text)
    assert all(isinstance(t, str) and t.endswith(".") for t in text)


def test_tables_for_trends_and_standardised_rates(demo):
    data, meta = demo
    tt = needs.trend_table(data, meta, "A03")
    assert set(tt["area_id"]) == {"A03", "NAT"} and tt["year"].nunique() == 6
    st = needs.standardised_table(data, meta, "A03")
    assert set(st["indicator"]) == {"mental_health_admissions_15_44", "alcohol_admissions_15_44"}
    assert (st["crude"] > 0).all()


def test_bad_tables_are_refused(demo):
    data, meta = demo
    with pytest.raises(DataError, match="no area 'Z99'"):
        needs.area_summary(data, meta, "Z99")
    with pytest.raises(DataError, match="indicator"):
        needs.area_summary(data, pd.concat([meta, meta.iloc[[0]]]), "A01")
    with pytest.raises(ParameterError, match="polarity"):
        needs.area_summary(data, meta.assign(polarity="up"), "A01")
    with pytest.raises(DataError, match="denominator"):
        needs.area_summary(data.drop(columns="denominator"), meta, "A01")


def test_figures_say_every_colour_in_words(demo):
    from matplotlib.figure import Figure

    from evalkit.plots import needs as pn

    data, meta = demo
    s = needs.area_summary(data, meta, "A01")
    fig = pn.spine_chart(s, area_name="Alderbrook Vale")
    assert isinstance(fig, Figure)
    words = {t.get_text() for t in fig.axes[0].texts}
    assert words == set(s["comparison"])  # each row's marker colour is also written out
    legend = {t.get_text() for t in fig.legends[0].get_texts()}
    assert {f"Alderbrook Vale: {w}" for w in s["comparison"]} <= legend
    dv = needs.decile_values(data, meta, "NAT", "smoking_at_delivery")
    assert list(dv["decile"]) == list(range(1, 11)) and np.isfinite(dv["se"]).all()
    iq = needs.inequality_table(data[data["indicator"] == "smoking_at_delivery"], meta, "NAT",
                                n_sim=2000)  # fmt: skip
    assert isinstance(pn.sii_chart(dv, iq.loc["smoking_at_delivery"], unit="%"), Figure)
    tm = pn.trend_multiples(needs.trend_table(data, meta, "A01"), area_id="A01")
    assert len([a for a in tm.axes if a.get_visible()]) == len(meta)


# -- fast paths: the same numbers, bit for bit, as the group-by-group public functions ---------


def _slow_values(data, meta, by=("area_id", "year"), level=0.95):
    info = needs._check(data, meta)
    part = data[data["indicator"].isin(info.index)]
    return needs._values_by_group(part, info, list(by), level)


@pytest.mark.parametrize(
    "by", [("area_id", "year"), ("area_id",), ("decile",), ("area_id", "year", "decile")]
)
def test_indicator_values_fast_path_equals_the_public_functions(demo, by):
    data, meta = demo
    data = data[data["year"] >= data["year"].max() - 1]
    fast = needs.indicator_values(data, meta, by=by)
    pd.testing.assert_frame_equal(fast, _slow_values(data, meta, by), check_exact=True)


def test_indicator_values_fast_path_edge_cases(demo):
    data, meta = demo
    d = data[data["year"] == data["year"].max()].copy()
    d["numerator"] = d["numerator"].astype(float)
    d.loc[d.index[::7], "numerator"] = np.nan  # missing counts count as 0, as Series.sum
    d.loc[d.index[1::5], "numerator"] = 0.0
    few = d.index[2::9]  # exact limits below 10 events, DSRs without a value
    d.loc[few, "numerator"] = np.minimum(3.0, d.loc[few, "denominator"])
    by = ("area_id", "decile")
    fast = needs.indicator_values(d, meta, by=by, level=0.9)
    assert needs._fast_values(d, needs._check(d, meta), list(by), 0.9) is not None
    pd.testing.assert_frame_equal(fast, _slow_values(d, meta, by, 0.9), check_exact=True)
    # rows with a missing key are left out, as by the group-by
    gaps = d.assign(decile=d["decile"].astype(float).mask(d.index.isin(d.index[4::11])))
    pd.testing.assert_frame_equal(needs.indicator_values(gaps, meta, by=by),
                                  _slow_values(gaps, meta, by), check_exact=True)  # fmt: skip
    # counts that are not whole numbers: only the group-by-group path (same result)
    d["denominator"] = d["denominator"].astype(float)
    d.loc[d.index[d["indicator"] == "a_and_e_attendances_0_4"][0], "denominator"] = 100.5
    assert needs._fast_values(d, needs._check(d, meta), list(by), 0.9) is None
    pd.testing.assert_frame_equal(
        needs.indicator_values(d, meta, by=by, level=0.9), _slow_values(d, meta, by, 0.9)
    )


@pytest.mark.parametrize(
    "column, value, message",
    [
        ("numerator", -(10**7), "cannot be negative"),
        ("denominator", -(10**8), "must be above zero"),
    ],
)
@pytest.mark.parametrize("statistic", ["proportion", "rate", "dsr"])
def test_indicator_values_fast_path_raises_the_public_error(demo, column, value, message,
                                                           statistic):  # fmt: skip
    data, meta = demo
    d = data[data["year"] == data["year"].max()].copy()
    stat = d["indicator"].map(meta.set_index("indicator")["statistic"])
    d.loc[d.index[stat == statistic][5], column] = value
    with pytest.raises(DataError, match=message) as fast:
        needs.indicator_values(d, meta)
    with pytest.raises(DataError, match=message) as slow:
        _slow_values(d, meta)
    assert str(fast.value) == str(slow.value)


def test_shared_tables_give_the_same_results(demo):
    data, meta = demo
    alone = {
        "summary": needs.area_summary(data, meta, "A03"),
        "trends": needs.trend_table(data, meta, "A03"),
        "deciles": needs.decile_values(data, meta, "A03", "infant_mortality"),
        "inequality": needs.inequality_table(data, meta, "NAT", n_sim=2000),
    }
    each = {(area, name): needs.decile_values(data, meta, area, name)
            for area in ("A03", "NAT") for name in meta["indicator"]}  # fmt: skip
    with needs._shared(data, meta):
        for (area, name), dv in each.items():  # all the area's deciles from one computation
            pd.testing.assert_frame_equal(needs.decile_values(data, meta, area, name), dv,
                                          check_exact=True)  # fmt: skip
    with needs._shared(data, meta):
        for _ in range(2):  # the second time from what was worked out the first
            dv = needs.decile_values(data, meta, "A03", "infant_mortality")
            pd.testing.assert_frame_equal(dv, alone["deciles"], check_exact=True)
            dv["value"] = 0.0  # a caller's change does not reach the next caller
        shared = {
            "summary": needs.area_summary(data, meta, "A03"),
            "trends": needs.trend_table(data, meta, "A03"),
            "inequality": needs.inequality_table(data, meta, "NAT", n_sim=2000),
        }
        other = data[data["area_id"] != "A01"]  # another table is not taken for the shared one
        assert "A01" not in set(needs.trend_table(other, meta, "A01")["area_id"])
    for key, table in shared.items():
        pd.testing.assert_frame_equal(table, alone[key], check_exact=True)


def test_area_trend_fast_path_equals_the_public_trend(demo):
    data, meta = demo
    info = needs._check(data, meta)
    for (_area, name), rows in data.groupby(["area_id", "indicator"]):
        statistic = "proportion" if info.loc[name, "statistic"] == "proportion" else "rate"
        yearly = rows.groupby("year", as_index=False)[["numerator", "denominator"]].sum()
        t = ind.trend(yearly, "numerator", "denominator", "year", statistic=statistic).to_frame()
        assert needs._fast_trend(rows, statistic) == (t["trend"].iloc[0], float(t["p"].iloc[0]))
    short = rows[rows["year"] > rows["year"].max() - 3]
    assert needs._fast_trend(short, statistic)[0] == "not enough points"
    bad = rows.assign(numerator=-rows["numerator"])
    assert needs._fast_trend(bad, statistic) is None  # left to ind.trend, which says why
    with pytest.raises(DataError, match="negative"):
        needs._area_trend(bad, info, name)


def test_shared_deciles_with_one_bad_indicator(demo):
    data, meta = demo
    d = data.copy()
    bad = d.index[(d["area_id"] == "A03") & (d["indicator"] == "smoking_at_delivery")
                  & (d["year"] == d["year"].max())][0]  # fmt: skip
    d.loc[bad, "numerator"] = -(10**7)
    good = needs.decile_values(d, meta, "A03", "infant_mortality")
    with pytest.raises(DataError) as alone:
        needs.decile_values(d, meta, "A03", "smoking_at_delivery")
    with needs._shared(d, meta):
        with pytest.raises(DataError) as shared:
            needs.decile_values(d, meta, "A03", "smoking_at_delivery")
        pd.testing.assert_frame_equal(
            needs.decile_values(d, meta, "A03", "infant_mortality"), good, check_exact=True
        )
    assert str(shared.value) == str(alone.value)
