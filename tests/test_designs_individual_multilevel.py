"""designs.multilevel: random-intercept model against closed forms for balanced data."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit.designs import multilevel
from evalkit.errors import DataError, EvalkitWarning
from evalkit.simulate import individual_trial


@pytest.fixture(scope="module")
def balanced():
    # 12 groups of 8, treatment given to whole groups (cluster-randomised)
    rng = np.random.default_rng(5)
    j, m = 12, 8
    g = np.repeat(np.arange(j), m)
    t = (g < 6).astype(int)
    y = 0.4 * t + rng.normal(0, 0.6, j)[g] + rng.normal(0, 1, j * m)
    return pd.DataFrame({"y": y, "t": t, "g": g}), j, m


def test_balanced_design_equals_cluster_means_t_test(balanced):
    # With equal group sizes and a group-level treatment, REML gives the difference of
    # arm means and the SE of the two-sample t test on the group means (J - 2 df).
    d, j, m = balanced
    with pytest.warns(EvalkitWarning, match="only 12 clusters"):
        res = multilevel(d, outcome="y", treatment="t", groups="g")
    means = d.groupby("g").agg(y=("y", "mean"), t=("t", "first"))
    tt = stats.ttest_ind(means.y[means.t == 1], means.y[means.t == 0])
    diff = means.y[means.t == 1].mean() - means.y[means.t == 0].mean()
    assert res.estimate == pytest.approx(diff, rel=1e-6)
    assert res.se == pytest.approx(diff / tt.statistic, rel=1e-5)
    assert res.df == j - 2 and res.treatment_level == "group"
    assert res.p == pytest.approx(tt.pvalue, rel=1e-4)


def test_balanced_icc_equals_anova_estimator(balanced):
    # one-way ANOVA (method-of-moments) variance components equal REML when balanced:
    # tau2 = (MSB - MSW)/m with MSB from group means around their arm mean (J - 2 df)
    d, j, m = balanced
    with pytest.warns(EvalkitWarning):
        res = multilevel(d, outcome="y", treatment="t", groups="g")
    gm = d.groupby("g")["y"].transform("mean")
    msw = ((d.y - gm) ** 2).sum() / (j * m - j)
    means = d.groupby("g").agg(y=("y", "mean"), t=("t", "first"))
    msb = m * ((means.y - means.groupby("t").y.transform("mean")) ** 2).sum() / (j - 2)
    tau2 = (msb - msw) / m
    assert res.sigma2 == pytest.approx(msw, rel=1e-5)
    assert res.tau2 == pytest.approx(tau2, rel=1e-4)
    assert res.icc == pytest.approx(tau2 / (tau2 + msw), rel=1e-4)


def test_individual_level_treatment_uses_within_df():
    d = individual_trial(300, 0.3, seed=21)
    d["site"] = np.arange(300) % 25
    res = multilevel(
        d, outcome="outcome", treatment="treatment", groups="site", baseline="baseline"
    )
    assert res.treatment_level == "individual"
    assert res.df == 300 - 25 - 2  # N - J - (within-group fixed effects: treatment, baseline)
    assert res.n_groups == 25


def test_result_contract_and_plot():
    d = individual_trial(400, 0.3, seed=22, clusters=24)
    res = multilevel(
        d,
        outcome="outcome",
        treatment="treatment",
        groups="cluster",
        baseline="baseline",
        covariates=["x1"],
    )
    frame = res.to_frame()
    assert list(frame["term"]) == ["treatment_effect", "standardised_effect"]
    assert 0 <= res.icc_adjusted <= res.icc + 0.2
    assert res.plot().axes
    assert set(res.coefficients["term"]) == {"Intercept", "treatment", "baseline", "x1"}


def test_fewer_than_two_groups_per_arm():
    d = individual_trial(200, 0.3, seed=23, clusters=10)
    d.loc[d["treatment"] == 1, "cluster"] = 1
    with pytest.raises(DataError, match="fewer than two clusters per arm"):
        multilevel(d, outcome="outcome", treatment="treatment", groups="cluster")


def test_one_member_group_warns():
    d = individual_trial(300, 0.3, seed=24, clusters=25)
    d.loc[0, "cluster"] = 999
    with pytest.warns(EvalkitWarning, match="only one member"):
        multilevel(d, outcome="outcome", treatment="treatment", groups="cluster")


def test_no_between_group_variation_warns():
    # every group has the same mean in each arm: no between-group variance at all
    rng = np.random.default_rng(3)
    d = pd.DataFrame(
        {"e": rng.normal(size=200), "t": np.tile([0, 1], 100), "g": np.repeat(np.arange(25), 8)}
    )
    d["y"] = d["e"] - d.groupby(["g", "t"])["e"].transform("mean") + 0.5 * d["t"]
    with pytest.warns(EvalkitWarning, match="variance between groups is zero"):
        res = multilevel(d, outcome="y", treatment="t", groups="g")
    assert res.icc == pytest.approx(0, abs=1e-6)


def test_missing_values_dropped_with_counts():
    d = individual_trial(300, 0.3, seed=25, clusters=25, attrition=0.1)
    with pytest.warns(EvalkitWarning, match="rows dropped"):
        res = multilevel(d, outcome="outcome", treatment="treatment", groups="cluster")
    assert res.n_dropped == int(d["outcome"].isna().sum())
    assert res.missing_by_column == {"outcome": res.n_dropped}


def test_non_binary_treatment():
    d = individual_trial(200, 0.3, seed=26, clusters=20)
    d["treatment"] = d["treatment"] * 2
    with pytest.raises(DataError, match="binary"):
        multilevel(d, outcome="outcome", treatment="treatment", groups="cluster")
