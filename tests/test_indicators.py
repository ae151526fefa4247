"""evalkit.indicators: shapes, bad input, funnel labelling, plots, properties."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evalkit import indicators
from evalkit.errors import DataError, ParameterError


def test_vector_input_gives_dataframe_with_series_index():
    x = pd.Series([65, 3], index=["Birchmere", "Cedarholt"])
    n = pd.Series([100, 10], index=["Birchmere", "Cedarholt"])
    df = indicators.proportion(x, n)
    assert isinstance(df, pd.DataFrame)
    assert list(df.index) == ["Birchmere", "Cedarholt"]
    scalar = indicators.proportion(3, 10)
    assert df.loc["Cedarholt", "ci_low"] == pytest.approx(scalar.ci_low, rel=1e-12)
    assert set(df.columns) >= {"x", "n", "estimate", "ci_low", "ci_high", "level", "method"}


def test_dataframe_columns_and_label_column():
    data = pd.DataFrame({"area": ["A", "B"], "events": [100, 4], "pop": [100, 50]})
    df = indicators.rate("events", "pop", data=data, labels="area", multiplier=100)
    assert list(df.index) == ["A", "B"]
    assert df.loc["A", "ci_low"] == pytest.approx(81.36, abs=0.005)
    assert df.loc["B", "method"] == "exact"
    # exact upper limit for 4 events recomputed from the chi-squared quantile
    assert df.loc["B", "ci_high"] == pytest.approx(stats.chi2.ppf(0.975, 10) / 2 / 50 * 100)


def test_scalar_result_contract():
    r = indicators.proportion(65, 100, multiplier=100)
    row = r.to_frame().iloc[0]
    assert row["estimate"] == pytest.approx(65.0)
    assert row["ci_low"] == pytest.approx(55.25, abs=0.005)
    assert "<table" in r._repr_html_()


def test_missing_counts_propagate_as_nan():
    df = indicators.proportion([65, np.nan], [100, 100])
    assert np.isnan(df["ci_low"].iloc[1])
    assert df["ci_low"].iloc[0] == pytest.approx(0.5525, abs=5e-5)


@pytest.mark.parametrize(
    "x, n, fragment",
    [
        ([5, 120], [100, 100], "larger than"),
        ([-1, 3], [10, 10], "negative"),
        ([2.5, 3], [10, 10], "whole numbers"),
        ([1, 3], [0, 10], "above zero"),
    ],
)
def test_bad_counts_name_the_rows(x, n, fragment):
    labels = ["Alderbrook Vale", "Birchmere"]
    with pytest.raises(DataError) as err:
        indicators.proportion(x, n, labels=labels)
    assert fragment in str(err.value)
    assert "Alderbrook Vale" in str(err.value) or "Birchmere" in str(err.value)


def test_x_greater_than_n_in_funnel_names_rows():
    with pytest.raises(DataError, match="row 1"):
        indicators.funnel([5, 30], [10, 20])


def test_rate_allows_non_integer_population_but_not_events():
    assert indicators.rate(12, 1234.5).method == "byar"
    with pytest.raises(DataError, match="whole numbers"):
        indicators.rate(1.5, 100)


def test_bad_parameters():
    with pytest.raises(ParameterError):
        indicators.proportion(1, 2, level=95)
    with pytest.raises(ParameterError):
        indicators.rate(1, 2, multiplier=0)
    with pytest.raises(ParameterError, match="0.677"):
        indicators.funnel([1, 2], [10, 10], target=67.7)
    with pytest.raises(ParameterError):
        indicators.funnel([1, 2], [10, 10], method="exact")
    with pytest.raises(DataError, match="values but"):
        indicators.proportion([1, 2, 3], [10, 10])


def test_funnel_labels_each_level():
    # p-bar = 408/600 = 68%; at n = 200 an area at 65% is inside both limits, 80% is above
    # the 99.8% limit, 59% is below the 95% limit (61.5%) but inside the 99.8% one (57.8%).
    f = indicators.funnel([130, 160, 118], [200, 200, 200], labels=["A", "B", "C"])
    assert f.average == pytest.approx(408 / 600)
    t = f.table
    for name, level in (("95", 0.975), ("998", 0.999)):
        z = stats.norm.ppf(level)
        for label in "ABC":
            p = t.loc[label, "x"] / t.loc[label, "n"]
            lo, hi = t.loc[label, f"lower_{name}"] / 100, t.loc[label, f"upper_{name}"] / 100
            expected = "higher" if p > hi else "lower" if p < lo else "not different"
            assert t.loc[label, f"compared_{name}"] == expected
            # Fingertips limits are the proportions whose Wilson interval touches p-bar
            for bound, side in ((lo, 1), (hi, 0)):
                c = z**2 / 200
                centre = (bound + c / 2) / (1 + c)
                half = z * np.sqrt(bound * (1 - bound) / 200 + c / 800) / (1 + c)
                assert (centre + half if side else centre - half) == pytest.approx(f.average)
    assert t["compared_95"].tolist() == ["not different", "higher", "lower"]
    assert t["compared_998"].tolist() == ["not different", "higher", "not different"]
    assert "1 higher" in f.summary_text()


def test_funnel_with_target_and_dataframe():
    data = pd.DataFrame({"area": list("PQRS"), "gld": [60, 70, 300, 20], "n": [100, 100, 400, 40]})
    f = indicators.funnel("gld", "n", data=data, labels="area", target=0.677)
    assert f.average == 0.677
    assert f.observed_average == pytest.approx(450 / 640)
    assert list(f.to_frame().index) == list("PQRS")
    assert len(f) == 4
    assert f["value"]["S"] == pytest.approx(50.0)


def test_funnel_limits_clip_to_0_and_100():
    lim = indicators.funnel_limits([1, 2], average=0.9)
    assert (lim[["lower_95", "upper_95", "lower_998", "upper_998"]] >= 0).all().all()
    assert (lim[["upper_95", "upper_998"]] <= 100).all().all()


def test_funnel_plot_returns_figure():
    from matplotlib.figure import Figure

    f = indicators.funnel([130, 150, 100, 40], [200, 200, 200, 90], labels=list("ABCD"))
    fig = f.plot(title="Good level of development")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    texts = {t.get_text() for t in ax.texts}
    assert {"A", "B", "C", "D"} <= texts
    assert len(ax.lines) == 5  # baseline and four limit curves


@settings(max_examples=60, deadline=None)
@given(n=st.integers(1, 100000), frac=st.floats(0, 1), level=st.sampled_from([0.9, 0.95, 0.998]))
def test_wilson_interval_properties(n, frac, level):
    x = int(round(frac * n))
    r = indicators.proportion(x, n, level=level)
    assert 0.0 <= r.ci_low <= r.estimate <= r.ci_high <= 1.0 + 1e-12
    # symmetry: the interval for n - x is the mirror image
    m = indicators.proportion(n - x, n, level=level)
    assert m.ci_low == pytest.approx(1 - r.ci_high, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(x=st.integers(0, 5000), pop=st.floats(1, 1e6))
def test_rate_interval_contains_estimate(x, pop):
    r = indicators.rate(x, pop)
    assert r.ci_low <= r.estimate <= r.ci_high
    assert r.ci_low >= 0


def test_funnel_plot_highlights_one_area_in_bold():
    f = indicators.funnel([130, 150, 100, 40], [200, 200, 200, 90], labels=list("ABCD"))
    ax = f.plot(highlight="C").axes[0]
    bold = [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"]
    assert bold == ["C"]
    assert "this area" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_a_national_funnel_labels_only_the_areas_furthest_outside():
    # 175 areas, most outside the limits: at most MAX_LABELS labels (their labels would
    # hide each other), the furthest outside in widths of the 95% band, plus the own area
    from evalkit.plots.indicators import MAX_LABELS, _excess

    rng = np.random.default_rng(3)
    n = rng.integers(700, 4000, 175)
    x = (n * rng.normal(0.58, 0.07, 175).clip(0.3, 0.8)).round()
    f = indicators.funnel(x.tolist(), n.tolist(), labels=[f"A{i:03d}" for i in range(175)])
    ax = f.plot(highlight="A002").axes[0]
    plain = {t.get_text() for t in ax.texts if t.get_fontweight() != "bold"}
    t = f.table
    outside = t[t["compared_95"].isin(["higher", "lower"])].drop(index="A002", errors="ignore")
    assert len(outside) > MAX_LABELS and len(plain) == MAX_LABELS
    excess = outside.apply(_excess, axis=1).sort_values(ascending=False)
    assert plain == set(excess.index[:MAX_LABELS])
    assert [t.get_text() for t in ax.texts if t.get_fontweight() == "bold"] == ["A002"]
