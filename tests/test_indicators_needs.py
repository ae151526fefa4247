"""Needs-assessment indicators: shapes, errors and warnings (evalkit.indicators)."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit import indicators as ind
from evalkit.errors import DataError, EvalkitWarning, ParameterError


def _deciles(groups=("A", "B"), seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for g in groups:
        for q in range(1, 11):
            rows.append({"area": g, "decile": q, "pop": 1000 + 10 * q,
                         "value": 0.2 + 0.02 * q + rng.normal(0, 0.005), "se": 0.05})  # fmt: skip
    return pd.DataFrame(rows)


# -- item 4: bad input gets a DataError naming the rows and what is allowed -------------------


def test_numerator_above_denominator_names_rows():
    with pytest.raises(DataError, match=r"rows? 2.*cannot exceed 1.*allowed"):
        ind.proportion([3, 4, 12], [10, 10, 10])
    d = pd.DataFrame({"t": range(5), "x": [1, 2, 30, 4, 5], "n": [10] * 5})
    with pytest.raises(DataError, match=r"row 2:.*proportion cannot exceed 1"):
        ind.trend(d, "x", "n", "t")


@pytest.mark.parametrize("func", ["dsr", "isr"])
def test_negative_counts_name_rows(func):
    d = pd.DataFrame({"x": [5, -1, 7], "n": [100, 100, 100], "w": [1, 1, 1]})
    with pytest.raises(DataError, match=r"column 'x', row 1: counts cannot be negative"):
        if func == "dsr":
            ind.dsr(d, "x", "n", "w")
        else:
            ind.isr(d, "x", "n", "w", "n")


def test_zero_populations_name_rows():
    d = pd.DataFrame({"x": [5, 1, 7], "n": [100, 0, 100], "w": [1, 1, 1]})
    with pytest.raises(
        DataError, match=r"column 'n', row 1:.*above zero.*allowed: numbers above 0"
    ):
        ind.dsr(d, "x", "n", "w")
    s = _deciles(("A",))
    s.loc[3, "pop"] = 0
    with pytest.raises(DataError, match=r"column 'pop', row 3: populations must be above zero"):
        ind.sii(s, "decile", "value", "pop")
    with pytest.raises(DataError, match="row 0"):
        ind.rate([1], [0])


def test_standard_population_with_missing_values():
    d = pd.DataFrame({"x": [5, 1, 7], "n": [100, 90, 100], "w": [5000, np.nan, 5500]})
    with pytest.raises(DataError, match=r"column 'w', row 1: 'w' has missing values.*allowed"):
        ind.dsr(d, "x", "n", "w")


def test_non_numeric_quantiles():
    s = _deciles(("A",)).astype({"decile": object})
    s.loc[4, "decile"] = "five"
    with pytest.raises(DataError, match=r"column 'decile', row 4: 'decile' must be numeric.*five"):
        ind.sii(s, "decile", "value", "pop")


def test_too_few_points_for_a_trend():
    d = pd.DataFrame({"g": ["P"] * 5 + ["Q"] * 3, "t": [1, 2, 3, 4, 5, 1, 2, 3],
                      "x": [5] * 8, "n": [50] * 8})  # fmt: skip
    with pytest.raises(DataError, match=r"rows 5, 6, 7: a trend needs the 5 most recent points"):
        ind.trend(d, "x", "n", "t", groups="g")


def test_sii_group_with_missing_quantile_is_left_out_with_warning():
    s = _deciles(("A", "B"))
    s = s.drop(index=s[(s["area"] == "B") & (s["decile"] == 7)].index)
    with pytest.warns(EvalkitWarning, match="area=B"):
        r = ind.sii(s, "decile", "value", "pop", groups="area", se="se", n_sim=2000, seed=1)
    assert r.to_frame()["area"].tolist() == ["A"]
    assert r.excluded == ("area=B",)


def test_bad_parameters_are_parameter_errors():
    s = _deciles(("A",))
    with pytest.raises(ParameterError, match="value_type"):
        ind.sii(s, "decile", "value", "pop", value_type="percent")
    with pytest.raises(ParameterError, match="transform"):
        ind.sii(s, "decile", "value", "pop", transform=True)
    with pytest.raises(ParameterError, match="n_sim"):
        ind.sii(s, "decile", "value", "pop", se="se", n_sim=10)
    with pytest.raises(ParameterError, match="polarity"):
        ind.compare(pd.DataFrame({"v": [1], "l": [0], "h": [2]}), "v", "l", "h", 1, "up")
    with pytest.raises(ParameterError, match="statistic"):
        ind.funnel_limits([10], "odds")
    with pytest.raises(ParameterError, match="kind"):
        ind.isr(pd.DataFrame({"x": [1], "n": [1]}), "x", "n", "x", "n", kind="smr")


def test_sii_proportions_outside_0_1_and_few_quantiles():
    s = _deciles(("A",))
    s.loc[2, "value"] = 45.0
    with pytest.raises(DataError, match="row 2: proportions must be between 0 and 1"):
        ind.sii(s, "decile", "value", "pop", value_type="proportion")
    few = _deciles(("A",)).query("decile <= 4")
    with pytest.raises(DataError, match="between 5 and 100 quantiles"):
        ind.sii(few, "decile", "value", "pop")


# -- shapes and behaviour ---------------------------------------------------------------------


def test_sii_is_deterministic_and_reproducible_with_seed():
    s = _deciles()
    a = ind.sii(s, "decile", "value", "pop", "area", "se", "proportion", rii=True, seed=7,
                n_sim=5000).to_frame()  # fmt: skip
    b = ind.sii(s, "decile", "value", "pop", "area", "se", "proportion", rii=True, seed=7,
                n_sim=5000).to_frame()  # fmt: skip
    c = ind.sii(s, "decile", "value", "pop", "area", "se", "proportion", rii=True, seed=8,
                n_sim=5000).to_frame()  # fmt: skip
    pd.testing.assert_frame_equal(a, b)
    np.testing.assert_array_equal(a["estimate"], c["estimate"])
    assert not np.allclose(a["ci_low"], c["ci_low"])
    assert {"rii", "rii_ci_low", "rii_ci_high", "population"} <= set(a.columns)
    assert "rii" not in ind.sii(s, "decile", "value", "pop", "area").to_frame()


def test_sii_without_standard_errors_has_no_interval():
    r = ind.sii(_deciles(("A",)), "decile", "value", "pop")
    assert np.isnan(r.ci_low) and np.isfinite(r.estimate)


def test_quantiles_keep_order_and_warn_for_small_groups():
    d = pd.DataFrame({"g": ["a"] * 12 + ["b"] * 3, "v": list(range(12)) + [1, 2, 3]})
    d = d.sample(frac=1, random_state=1)
    with pytest.warns(EvalkitWarning, match="g=b"):
        out = ind.quantiles(d, "v", n=4, groups="g")
    assert list(out.index) == list(d.index)
    a = out[out["g"] == "a"].sort_values("v")
    assert a["quantile"].tolist() == [4, 4, 4, 3, 3, 3, 2, 2, 2, 1, 1, 1]
    assert out.loc[out["g"] == "b", "quantile"].isna().all()
    low_first = ind.quantiles(d[d["g"] == "a"], "v", n=4, invert=False).sort_values("v")
    assert low_first["quantile"].iloc[0] == 1


def test_ties_take_the_lowest_rank():
    d = pd.DataFrame({"v": [10, 10, 10, 5, 1]})
    assert ind.quantiles(d, "v", n=5)["quantile"].tolist() == [1, 1, 1, 4, 5]


def test_grouped_results_have_one_row_per_group():
    esp = ind.standard_population()
    rows = [
        {"area": a, "ageband": b, "deaths": 3 + i % 5 + (2 if a == "X" else 0), "pop": 4000}
        for a in ("X", "Y")
        for i, b in enumerate(esp["ageband"])
    ]
    d = pd.DataFrame(rows).merge(esp, on="ageband")
    r = ind.dsr(d, "deaths", "pop", "esp2013", groups="area")
    t = r.to_frame()
    assert t["area"].tolist() == ["X", "Y"]
    assert {"estimate", "ci_low", "ci_high", "total_count", "total_pop"} <= set(t.columns)
    assert isinstance(r.estimate, pd.Series) and len(r) == 2
    assert (t["ci_low"] < t["estimate"]).all() and (t["estimate"] < t["ci_high"]).all()
    m = ind.mean(d, "deaths", groups=["area"])
    assert m.to_frame()["value_count"].tolist() == [19, 19]


def test_compare_polarity_and_998():
    d = pd.DataFrame({
        "v": [70, 60, 66, np.nan], "lo": [68, 57, 62, np.nan], "hi": [72, 63, 70, np.nan],
        "lo9": [64, 55, 60, np.nan], "hi9": [74, 65, 72, np.nan], "eng": [65, 65, 65, 65],
    })  # fmt: skip
    out = ind.compare(d, "v", "lo", "hi", "eng", "low is good", ci_low_998="lo9", ci_high_998="hi9")
    assert out["compared_95"].tolist() == ["worse", "better", "similar", "not compared"]
    assert out["compared_998"].tolist() == ["similar", "similar", "similar", "not compared"]
    assert out["benchmark"].tolist() == [65] * 4


def test_funnels_for_rates_and_ratios_plot():
    from matplotlib.figure import Figure

    f = ind.funnel([30, 55, 12, 80], [20000, 30000, 15000, 32000], labels=list("PQRS"),
                   statistic="rate", years_of_data=3)  # fmt: skip
    assert f.average == pytest.approx(177 / 97000)
    assert f.table["population_per_year"].tolist() == pytest.approx(
        [20000 / 3, 10000, 5000, 32000 / 3]
    )
    assert isinstance(f.plot(), Figure)
    assert "Compared with the average (182" in f.summary_text()
    g = ind.funnel([12, 30], [10.0, 20.0], statistic="ratio", ratio_type="isr")
    assert g.table["value"].tolist() == pytest.approx([120.0, 150.0])
    assert isinstance(g.plot(), Figure)


def test_funnel_limits_for_rates_bracket_the_average():
    lim = ind.funnel_limits([500, 5000, 50000], "rate", average=0.002)
    assert (lim["lower_998"] <= lim["lower_95"]).all() and lim["lower_95"].iloc[0] == 0
    assert (lim["lower_95"] < 200).all() and (lim["upper_95"] > 200).all()
    assert lim["baseline"].tolist() == [200.0] * 3
    # the limits narrow as the population grows
    assert lim["upper_95"].is_monotonic_decreasing
    extra = ind.funnel_limits([1000], "ratio", level=0.9)
    assert {"lower", "upper"} <= set(extra.columns)


def test_trend_by_group_and_rate():
    rows = []
    for g, step in (("up", 30), ("flat", 0)):
        for i, year in enumerate(range(2016, 2024)):
            rows.append({"g": g, "year": year, "x": 200 + step * i, "n": 10_000})
    d = pd.DataFrame(rows)
    t = ind.trend(d, "x", "n", "year", groups="g", statistic="rate").to_frame().set_index("g")
    assert (
        t.loc["up", "trend"] == "increasing" and t.loc["flat", "trend"] == "no significant change"
    )
    assert t.loc["up", "first_period"] == 2019 and t.loc["flat", "estimate"] == pytest.approx(1.0)


def test_mean_of_one_value_has_no_interval():
    r = ind.mean(pd.DataFrame({"g": ["a", "b", "b"], "v": [3.0, 1.0, 2.0]}), "v", "g").to_frame()
    assert r["estimate"].tolist() == [3.0, 1.5]
    assert np.isnan(r.loc[0, "ci_low"]) and np.isfinite(r.loc[1, "ci_low"])
    with pytest.raises(DataError, match="no values"):
        ind.mean(pd.DataFrame({"v": [np.nan]}), "v")


# -- invariants -------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(
    counts=st.lists(st.integers(0, 400), min_size=3, max_size=8),
    scale=st.floats(0.1, 50.0),
)
def test_dsr_ignores_the_scale_of_the_standard_population(counts, scale):
    d = pd.DataFrame({"x": counts, "n": [5000.0 + 100 * i for i in range(len(counts))]})
    d["w"] = [1000.0 + 500 * (i % 3) for i in range(len(counts))]
    a = ind.dsr(d, "x", "n", "w").to_frame()
    b = ind.dsr(d.assign(w=d["w"] * scale), "x", "n", "w").to_frame()
    pd.testing.assert_frame_equal(a, b, rtol=1e-9)


@settings(max_examples=30, deadline=None)
@given(values=st.lists(st.integers(0, 20), min_size=10, max_size=40), seed=st.integers(0, 99))
def test_quantiles_do_not_depend_on_row_order(values, seed):
    d = pd.DataFrame({"v": values})
    shuffled = d.sample(frac=1, random_state=seed)
    a = ind.quantiles(d, "v", n=5)["quantile"]
    b = ind.quantiles(shuffled, "v", n=5)["quantile"].sort_index()
    pd.testing.assert_series_equal(a, b)
    assert a.between(1, 5).all()


@settings(max_examples=20, deadline=None)
@given(shift=st.floats(-50, 50), scale=st.floats(0.2, 5.0))
def test_sii_is_linear_in_the_values(shift, scale):
    s = _deciles(("A",))
    base = ind.sii(s, "decile", "value", "pop").estimate
    moved = ind.sii(s.assign(value=s["value"] * scale + shift), "decile", "value", "pop")
    assert moved.estimate == pytest.approx(base * scale, rel=1e-9, abs=1e-12)


def test_isr_allows_a_zero_band_but_not_a_zero_group():
    d = pd.DataFrame({"g": ["a", "a", "b", "b"], "x": [3, 4, 0, 0], "n": [100, 0, 0, 0],
                      "rx": [5, 6, 5, 6], "rn": [1000, 1000, 1000, 1000]})  # fmt: skip
    assert ind.isr(d[d["g"] == "a"], "x", "n", "rx", "rn").estimate == pytest.approx(14.0)
    with pytest.raises(DataError, match=r"rows 2, 3: the group's expected count is zero"):
        ind.isr(d, "x", "n", "rx", "rn", groups="g")
