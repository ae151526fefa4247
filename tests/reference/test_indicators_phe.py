"""Population indicators against PHEindicatormethods 2.1 and independent re-derivations.

Published values come from PHEindicatormethods' own reference data (ukhsa-collaboration/
PHEindicatormethods, ``tests/testthat/testdata_*.xlsx`` and ``*.csv``, made with the PHE
Excel tools the package reproduces). Extracts of those inputs are in
``tests/reference/data/phe/``; the expected results are written out below with their sheet.
"""

import contextlib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit import indicators as ind
from evalkit.errors import EvalkitWarning

DATA = Path(__file__).parent / "data" / "phe"
REL = 1e-9  # the reference workbooks hold full double precision


def _esp_column(df: pd.DataFrame, groups: int) -> np.ndarray:
    return np.tile(ind.standard_population("esp2013")["esp2013"].to_numpy(), groups)


# -- standard population ----------------------------------------------------------------------


def test_esp2013_is_phe_vector():
    # PHEindicatormethods data-raw/LoadTestdata.R: esp2013 <- c(5000, 5500, ..., 1000);
    # Eurostat (2013) table 3
    esp = ind.standard_population("esp2013")
    assert esp["esp2013"].tolist() == [
        5000, 5500, 5500, 5500, 6000, 6000, 6500, 7000, 7000, 7000,
        7000, 6500, 6000, 5500, 5000, 4000, 2500, 1500, 1000,
    ]  # fmt: skip
    assert esp["ageband"].iloc[0] == "0-4" and esp["ageband"].iloc[-1] == "90+"
    assert esp["esp2013"].sum() == 100_000


# -- DSR (calculate_dsr) ----------------------------------------------------------------------

# testdata_DSR_ISR.xlsx, sheet testresults_DSR: value, lower95_0cl, upper95_0cl, lower99_8cl,
# upper99_8cl per 100,000 (rows 5-7) and per 10,000 (rows 1-3)
DSR_100000 = {
    "testdata_big": (10430.247991469423, 9717.709067985681, 11178.94091547925,
                     9323.287880219903, 11620.595999522058),
    "testdata_small": (1103.212025300104, 877.455767536709, 1367.08822272518,
                       763.642035793988, 1530.032894824476),
}  # fmt: skip


@pytest.fixture(scope="module")
def multiarea():
    df = pd.read_csv(DATA / "dsr_multiarea.csv")
    return df.assign(esp2013=_esp_column(df, 3))


@pytest.mark.parametrize("multiplier", [100_000, 10_000])
def test_dsr_matches_phe_reference(multiarea, multiplier):
    r = ind.dsr(multiarea, "count", "pop", "esp2013", groups="area", multiplier=multiplier)
    r998 = ind.dsr(multiarea, "count", "pop", "esp2013", "area", multiplier, level=0.998)
    t, t998 = r.to_frame().set_index("area"), r998.to_frame().set_index("area")
    scale = multiplier / 100_000
    for area, (value, lo, hi, lo9, hi9) in DSR_100000.items():
        assert t.loc[area, "estimate"] == pytest.approx(value * scale, rel=REL)
        assert t.loc[area, "ci_low"] == pytest.approx(lo * scale, rel=REL)
        assert t.loc[area, "ci_high"] == pytest.approx(hi * scale, rel=REL)
        assert t998.loc[area, "ci_low"] == pytest.approx(lo9 * scale, rel=REL)
        assert t998.loc[area, "ci_high"] == pytest.approx(hi9 * scale, rel=REL)
        assert t.loc[area, "total_pop"] == 8970
    assert t.loc["testdata_big", "total_count"] == 895
    # fewer than 10 events: no value, and a note saying why (testresults_DSR row 3)
    assert np.isnan(t.loc["testdata_tiny", ["estimate", "ci_low", "ci_high"]].astype(float)).all()
    assert t.loc["testdata_tiny", "note"] == "dsr NA for total count < 10"
    assert t.loc["testdata_tiny", "total_count"] == 9


def test_dsr_with_user_standard_population_1976():
    # testresults_DSR row 4 (testdata_1976 with the ESP 1976 weights, per 10,000)
    d = pd.read_csv(DATA / "dsr_1976.csv")
    r = ind.dsr(d, "count", "pop", "esp1976", multiplier=10_000)
    assert r.estimate == pytest.approx(859.209758502237, rel=REL)
    assert r.ci_low == pytest.approx(799.11609314421, rel=REL)
    assert r.ci_high == pytest.approx(922.525388031832, rel=REL)
    assert r.to_frame()["total_count"].iloc[0] == 804


def test_dsr_from_first_principles():
    # Independent re-derivation on a 3-band table: the DSR is the standard-weighted mean of
    # the band rates; Dobson's limits scale Byar's limits for O = sum(x) by sqrt(var / O).
    d = pd.DataFrame({"x": [4, 30, 66], "n": [2000, 5000, 3000], "w": [50, 30, 20]})
    rates = np.array([4 / 2000, 30 / 5000, 66 / 3000])
    w = np.array([0.5, 0.3, 0.2])
    value = (w * rates).sum()  # 0.001 + 0.0018 + 0.0044 = 0.0072
    assert value == pytest.approx(0.0072)
    var = (np.array([4, 30, 66]) * (w / np.array([2000, 5000, 3000])) ** 2).sum()
    o, z = 100, stats.norm.ppf(0.975)
    o_lo = o * (1 - 1 / (9 * o) - z / (3 * np.sqrt(o))) ** 3
    o_hi = (o + 1) * (1 - 1 / (9 * (o + 1)) + z / (3 * np.sqrt(o + 1))) ** 3
    r = ind.dsr(d, "x", "n", "w", multiplier=1000)
    assert r.estimate == pytest.approx(7.2, rel=1e-12)
    assert r.ci_low == pytest.approx((value + np.sqrt(var / o) * (o_lo - o)) * 1000, rel=1e-12)
    assert r.ci_high == pytest.approx((value + np.sqrt(var / o) * (o_hi - o)) * 1000, rel=1e-12)
    # with one band the DSR is the crude rate and Dobson's interval is Byar's
    one = ind.dsr(d.iloc[[2]], "x", "n", "w", multiplier=1000)
    crude = ind.rate(66, 3000, multiplier=1000)
    assert (one.estimate, one.ci_low, one.ci_high) == pytest.approx(
        (crude.estimate, crude.ci_low, crude.ci_high), rel=1e-12
    )


# -- ISR (calculate_ISRatio, calculate_ISRate) ------------------------------------------------

# testresults_ISR: observed, expected, value, lower95_0cl, upper95_0cl, lower99_8cl, upper99_8cl
ISRATE_100000 = {
    "testdata_big": (895, 10011.137622091057, 9365.91600297888, 10689.097582910616,
                     9008.757861865501, 11089.02718538338),
    "testdata_small": (91, 1017.892205151158, 819.521002506463, 1249.75926013832,
                       719.513290352824, 1392.938150899168),
    "testdata_tiny": (9, 100.670657652312, 46.033035133079, 191.10426659054,
                      27.431908625542, 253.436963521924),
}  # fmt: skip
ISRATIO_1 = {
    "testdata_big": (1.070723293902, 1.001714771255, 1.14323328725, 0.963515561961,
                     1.186007041588),
    "testdata_small": (0.108866837704, 0.087650401018, 0.133665763284, 0.076954255284,
                       0.148979205105),
    "testdata_tiny": (0.010767049883, 0.004923380825, 0.020439214555, 0.002933930655,
                      0.027105896515),
}  # fmt: skip
EXPECTED = 835.883561231174


@pytest.fixture(scope="module")
def isr_data():
    return pd.read_csv(DATA / "isr_multiarea.csv")


@pytest.mark.parametrize("multiplier", [100_000, 1000])
def test_israte_matches_phe_reference(isr_data, multiplier):
    kw = dict(groups="area", kind="rate", multiplier=multiplier)
    t = ind.isr(isr_data, "count", "pop", "refcount", "refpop", **kw).to_frame().set_index("area")
    t9 = ind.isr(isr_data, "count", "pop", "refcount", "refpop", level=0.998, **kw).to_frame()
    t9 = t9.set_index("area")
    s = multiplier / 100_000
    for area, (obs, value, lo, hi, lo9, hi9) in ISRATE_100000.items():
        assert t.loc[area, "observed"] == obs
        assert t.loc[area, "expected"] == pytest.approx(EXPECTED, rel=REL)
        assert t.loc[area, "ref_rate"] == pytest.approx(9349.883092211019 * s, rel=REL)
        assert t.loc[area, "estimate"] == pytest.approx(value * s, rel=REL)
        assert t.loc[area, "ci_low"] == pytest.approx(lo * s, rel=REL)
        assert t.loc[area, "ci_high"] == pytest.approx(hi * s, rel=REL)
        assert t9.loc[area, "ci_low"] == pytest.approx(lo9 * s, rel=REL)
        assert t9.loc[area, "ci_high"] == pytest.approx(hi9 * s, rel=REL)
    # Byar from 10 events, exact below (the method column of testresults_ISR)
    assert t["method"].tolist() == ["byar", "byar", "exact"]


@pytest.mark.parametrize("multiplier", [1, 100])
def test_isratio_matches_phe_reference(isr_data, multiplier):
    r = ind.isr(isr_data, "count", "pop", "refcount", "refpop", "area", "ratio", multiplier)
    r9 = ind.isr(isr_data, "count", "pop", "refcount", "refpop", "area", "ratio", multiplier, 0.998)
    t, t9 = r.to_frame().set_index("area"), r9.to_frame().set_index("area")
    for area, (value, lo, hi, lo9, hi9) in ISRATIO_1.items():
        assert t.loc[area, "estimate"] == pytest.approx(value * multiplier, rel=REL)
        assert t.loc[area, "ci_low"] == pytest.approx(lo * multiplier, rel=REL)
        assert t.loc[area, "ci_high"] == pytest.approx(hi * multiplier, rel=REL)
        assert t9.loc[area, "ci_low"] == pytest.approx(lo9 * multiplier, rel=REL)
        assert t9.loc[area, "ci_high"] == pytest.approx(hi9 * multiplier, rel=REL)


def test_isr_reference_as_vector_and_zero_population(isr_data):
    # PHE's refpoptype = "vector": one reference value per age band, by position
    ref = pd.read_csv(DATA / "isr_refdata.csv")
    data = isr_data.drop(columns=["refcount", "refpop"])
    r = ind.isr(data, "count", "pop", ref["refcount"], ref["refpop"], groups="area")
    assert r.to_frame()["estimate"].tolist() == pytest.approx(
        [v[0] for v in ISRATIO_1.values()], rel=REL
    )
    # testdata_err2 / testresults_ISR rows 13-14: a zero population in one age band is allowed
    zero = data[data["area"] == "testdata_big"].assign(area="Area1")
    zero.loc[zero.index[1], "pop"] = 0
    t = ind.isr(zero, "count", "pop", ref["refcount"], ref["refpop"], kind="rate")
    assert t.to_frame()["expected"].iloc[0] == pytest.approx(808.321740091825, rel=REL)
    assert t.estimate == pytest.approx(10352.493261629017, rel=REL)
    assert t.ci_low == pytest.approx(9685.271141999323, rel=REL)
    assert t.ci_high == pytest.approx(11053.570021432142, rel=REL)


# -- mean (phe_mean) --------------------------------------------------------------------------


def test_mean_matches_phe_reference():
    # testdata_Mean.xlsx, sheet testdata_Mean_results
    d = pd.read_csv(DATA / "mean.csv")
    t = ind.mean(d, "values", groups="area").to_frame().set_index("area")
    t9 = ind.mean(d, "values", groups="area", level=0.998).to_frame().set_index("area")
    expected = {
        "Area1": (429.63476, 8, 20.975575257709, 53.704345, 36.168325241337, 71.240364758664,
                  18.216705294789, 89.191984705211),
        "Area2": (102221.33324, 18, 2117.831716159067, 5678.962957777778, 4625.790022452972,
                  6732.135893102583, 3859.077099729597, 7498.848815825959),
    }  # fmt: skip
    for area, (total, count, sd, value, lo, hi, lo9, hi9) in expected.items():
        row = t.loc[area]
        assert row["value_sum"] == pytest.approx(total, rel=REL)
        assert row["value_count"] == count
        assert row["stdev"] == pytest.approx(sd, rel=REL)
        assert row["estimate"] == pytest.approx(value, rel=REL)
        assert row["ci_low"] == pytest.approx(lo, rel=REL)
        assert row["ci_high"] == pytest.approx(hi, rel=REL)
        assert t9.loc[area, "ci_low"] == pytest.approx(lo9, rel=REL)
        assert t9.loc[area, "ci_high"] == pytest.approx(hi9, rel=REL)
    whole = ind.mean(d, "values")
    assert whole.estimate == pytest.approx(3948.114153846153, rel=REL)
    assert whole.ci_low == pytest.approx(2666.995676745849, rel=REL)
    assert whole.ci_high == pytest.approx(5229.232630946458, rel=REL)


# -- quantiles (phe_quantile) -----------------------------------------------------------------


@pytest.fixture(scope="module")
def quantile_data():
    return pd.read_csv(DATA / "quantiles.csv")


@pytest.mark.parametrize(
    "group_set, n, groups",
    [("IndSexReg", 10, ["IndSexRef", "ParentCode"]), ("IndSex", 7, ["IndSexRef"])],
)
def test_quantiles_match_phe_reference(quantile_data, group_set, n, groups):
    # testdata_Quantiles.xlsx: QuantileInGrp (including ties and groups with too few areas);
    # invert follows each indicator's polarity, as in PHE's testQuantiles.R
    d = quantile_data[quantile_data["GroupSet"] == group_set]
    parts = []
    # two regional groups have fewer areas than deciles: no quantiles, and a warning
    few = group_set == "IndSexReg"
    with pytest.warns(EvalkitWarning, match="too few") if few else contextlib.nullcontext():
        for invert, part in d.groupby("invert"):
            parts.append(ind.quantiles(part, "Value", n, groups, invert=bool(invert)))
    got = pd.concat(parts).loc[d.index, "quantile"]
    pd.testing.assert_series_equal(got, d["QuantileInGrp"].astype(float), check_names=False)


def test_quantiles_ungrouped_default_invert(quantile_data):
    d = quantile_data[quantile_data["GroupSet"].isna()]
    got = ind.quantiles(d, "Value", 4)
    assert list(got.index) == list(d.index)  # one row per input row, in the input's order
    np.testing.assert_array_equal(got["quantile"], d["QuantileInGrp"].astype(float))


# -- SII (phe_sii) ----------------------------------------------------------------------------

GROUPS = ["Area", "Grouping1", "Grouping2"]
SII_CASES = {
    "default (e.g. life expectancy) - default parameters": {},
    "default - testing 99% confidence": {"level": 0.99},
    "rate (e.g. infant mortality) - default parameters": {"value_type": "rate"},
    "proportion (e.g. child obesity) - default parameters": {"value_type": "proportion"},
    "proportion - testing multiplier (x 100)": {"value_type": "proportion", "multiplier": 100},
    "proportion - testing multiplier (x -100)": {"value_type": "proportion", "multiplier": -100},
    "rate (e.g. infant mortality) - intercept": {"value_type": "rate"},
    "rate (e.g. infant mortality) - log transform with intercept": {
        "value_type": "rate",
        "transform": True,
    },
    "rate (e.g. infant mortality) - log transform with negative multiplier": {
        "value_type": "rate",
        "transform": True,
        "multiplier": -1,
    },
    "rate (e.g. infant mortality) - log transform with 98% CI": {
        "value_type": "rate",
        "transform": True,
        "level": 0.98,
    },
    "proportion (e.g. child obesity) - logit transform with intercept": {
        "value_type": "proportion",
        "transform": True,
    },
    "proportion (e.g. child obesity) - logit transform with negative multiplier": {
        "value_type": "proportion",
        "transform": True,
        "multiplier": -1,
    },
}


@pytest.fixture(scope="module")
def sii_data():
    return pd.read_csv(DATA / "sii.csv")


@pytest.mark.parametrize("case", list(SII_CASES))
def test_sii_matches_phe_reference(sii_data, case):
    # testdata_SII.xlsx (the PHE SII Excel tool): sii, rii exactly; simulated limits within
    # 3% of the interval's width (PHE's own test allows 5% with 10,000 repetitions)
    d = sii_data[sii_data["TestDescription"] == case]
    ref = d.groupby(GROUPS).first()
    kw = dict(ci_low="LowerCL", ci_high="UpperCL", rii=True, n_sim=20_000, seed=2024)
    got = ind.sii(d, "Quantile", "Value", "Population", GROUPS, **kw, **SII_CASES[case])
    t = got.to_frame().set_index(GROUPS)
    assert len(t) == len(ref) == 2
    for key, row in ref.iterrows():
        assert t.loc[key, "estimate"] == pytest.approx(row["sii"], rel=1e-9)
        assert t.loc[key, "rii"] == pytest.approx(row["rii"], rel=1e-9)
        if not np.isnan(row["Intercept"]):
            assert t.loc[key, "intercept"] == pytest.approx(row["Intercept"], rel=1e-9)
        for ours, theirs, lo, hi in (
            ("ci_low", "sii_lowercl_1", "sii_lowercl_1", "sii_uppercl_1"),
            ("ci_high", "sii_uppercl_1", "sii_lowercl_1", "sii_uppercl_1"),
            ("rii_ci_low", "rii_lowercl_1", "rii_lowercl_1", "rii_uppercl_1"),
            ("rii_ci_high", "rii_uppercl_1", "rii_lowercl_1", "rii_uppercl_1"),
        ):
            width = abs(row[hi] - row[lo])
            assert abs(t.loc[key, ours] - row[theirs]) < 0.03 * width, (key, ours)


def test_sii_with_standard_errors_equals_limits(sii_data):
    # PHE: supplying the StandardError column gives the same as supplying the 95% limits
    d = sii_data[sii_data["TestDescription"] == "rate (e.g. infant mortality) - default parameters"]
    a = ind.sii(
        d,
        "Quantile",
        "Value",
        "Population",
        GROUPS,
        se="StandardError",
        value_type="rate",
        n_sim=20_000,
        seed=1,
    ).to_frame()
    ref = d.groupby(GROUPS).first().reset_index()
    np.testing.assert_allclose(a["estimate"], ref["sii"], rtol=1e-9)
    width = (ref["sii_uppercl_1"] - ref["sii_lowercl_1"]).abs()
    assert ((a["ci_low"] - ref["sii_lowercl_1"]).abs() < 0.03 * width).all()


def test_sii_known_slope():
    # Independent re-derivation: values exactly linear in the cumulative-population midpoint
    # (y = 50 + 20 b) with unequal populations give SII = 20 and RII = 70/50, with or without
    # standard errors; the simulated interval then centres on 20.
    pop = np.array([100.0, 300.0, 200.0, 250.0, 150.0])
    share = pop / pop.sum()
    mid = np.cumsum(share) - share / 2
    d = pd.DataFrame({"q": range(1, 6), "pop": pop, "v": 50 + 20 * mid, "se": 0.5})
    r = ind.sii(d, "q", "v", "pop", se="se", rii=True, seed=3, n_sim=20_000)
    t = r.to_frame().iloc[0]
    assert t["estimate"] == pytest.approx(20.0, rel=1e-12)
    assert t["rii"] == pytest.approx(70 / 50, rel=1e-12)
    assert t["intercept"] == pytest.approx(50.0, rel=1e-12)
    assert t["ci_low"] < 20 < t["ci_high"]
    # the simulated limits agree with the analytic WLS standard error of the slope
    x = np.column_stack([np.ones(5), mid])
    coef = np.linalg.solve(x.T @ np.diag(share) @ x, x.T @ np.diag(share))
    se_slope = np.sqrt((coef[1] ** 2 * 0.25).sum())
    assert (t["ci_high"] - t["ci_low"]) / 2 == pytest.approx(1.96 * se_slope, rel=0.03)


# -- funnels (calculate_funnel_limits, assign_funnel_significance) ----------------------------


def test_ratio_funnel_limits_match_phe():
    # testdata_funnel_ratio_outputs.csv: at PHE's expected counts the limits are the observed
    # counts over them. PHE finds these points by bisection to 1e-7; agreement is to 1e-5.
    out = pd.read_csv(DATA / "funnel_ratio_outputs.csv")
    for side, col in (("lower_2s", "lower_95"), ("upper_2s", "upper_95"),
                      ("lower_3s", "lower_998"), ("upper_3s", "upper_998")):  # fmt: skip
        isr = ind.funnel_limits(out[f"{side}_exp_events"], "ratio", ratio_type="isr")
        np.testing.assert_allclose(isr[col], out[f"{side}_isr"], rtol=1e-5)
        count = ind.funnel_limits(out[f"{side}_exp_events"], "ratio", ratio_type="count")
        np.testing.assert_allclose(count[col] + 1, out[f"{side}_count"] + 1, rtol=1e-5)


def test_rate_funnel_limits_match_phe():
    # testdata_funnel_rate_outputs.csv (dsr per 100,000, 3 years of data): the limits at the
    # yearly populations PHE reports for each count; the baseline from the inputs' totals
    inputs = pd.read_csv(DATA / "funnel_rate_inputs.csv")
    out = pd.read_csv(DATA / "funnel_rate_outputs.csv")
    average = inputs["ev"].sum() / (1e5 * inputs["ev"] / inputs["rate"]).sum()
    assert average * 1e5 == pytest.approx(out["baseline"].iloc[0], rel=1e-9)
    for side, col in (("lower_2s", "lower_95"), ("upper_2s", "upper_95"),
                      ("lower_3s", "lower_998"), ("upper_3s", "upper_998")):  # fmt: skip
        lim = ind.funnel_limits(
            out[f"{side}_population_1_year"], "rate", average=average, years_of_data=3
        )
        np.testing.assert_allclose(lim[col], out[f"{side}_limit"], rtol=1e-5)


def _phe_label(table: pd.DataFrame) -> np.ndarray:
    c95, c998 = table["compared_95"], table["compared_998"]
    return np.select(
        [c998 == "higher", c95 == "higher", c998 == "lower", c95 == "lower"],
        ["High (0.001)", "High (0.025)", "Low (0.001)", "Low (0.025)"],
        "Not significant",
    )


def test_ratio_funnel_significance_matches_phe():
    # testdata_funnel_ratio_inputs.csv: 300 areas labelled by assign_funnel_significance
    d = pd.read_csv(DATA / "funnel_ratio_inputs.csv")
    f = ind.funnel("obs", "expected", d, statistic="ratio")
    assert (_phe_label(f.table) == d["significance"].str.strip()).all()


@pytest.mark.parametrize(
    "multiplier, column", [(100_000, "crude_per_100000_with_0"), (100, "crude_per_100_with_0")]
)
def test_rate_funnel_significance_matches_phe(multiplier, column):
    # testdata_funnel_rate_dsr_inputs.csv: crude rates, including an area with no events
    d = pd.read_csv(DATA / "funnel_rate_significance.csv")
    f = ind.funnel("count", "pop", d, statistic="rate", multiplier=multiplier)
    assert (_phe_label(f.table) == d[column]).all()
    assert f.table["value"].to_numpy() == pytest.approx(d["count"] / d["pop"] * multiplier)


# -- trend ------------------------------------------------------------------------------------


def test_chi_squared_trend_matches_r_prop_trend_test():
    # R documentation, ?prop.trend.test: smokers <- c(83, 90, 129, 70);
    # patients <- c(86, 93, 136, 82); X-squared = 8.2249, df = 1, p-value = 0.004132
    d = pd.DataFrame({"t": [1, 2, 3, 4], "x": [83, 90, 129, 70], "n": [86, 93, 136, 82]})
    r = ind.trend(d, "x", "n", "t", points=4).to_frame().iloc[0]
    assert r["chi2"] == pytest.approx(8.2249, abs=5e-5)
    assert r["p"] == pytest.approx(0.004132, abs=5e-7)
    assert r["trend"] == "no significant change"  # not significant at Fingertips' 99.9%
    r95 = ind.trend(d, "x", "n", "t", points=4, level=0.95).to_frame().iloc[0]
    assert r95["trend"] == "decreasing"


def test_poisson_trend_matches_glm():
    # peer-computed: statsmodels' Poisson GLM with a log-population offset
    sm = pytest.importorskip("statsmodels.api")
    d = pd.DataFrame({"year": [2018, 2019, 2020, 2021, 2022, 2023],
                      "x": [40, 52, 47, 61, 70, 77], "n": [9000, 9100, 9050, 9200, 9300, 9250]})  # fmt: skip
    last = d.tail(5)
    fit = sm.GLM(last["x"], sm.add_constant(last["year"] - 2021), family=sm.families.Poisson(),
                 offset=np.log(last["n"])).fit()  # fmt: skip
    r = ind.trend(d, "x", "n", "year", statistic="rate").to_frame().iloc[0]
    assert np.log(r["estimate"]) == pytest.approx(fit.params.iloc[1], rel=1e-8)
    assert r["p"] == pytest.approx(fit.pvalues.iloc[1], rel=1e-6)
    assert r["first_period"] == 2019 and r["points"] == 5
