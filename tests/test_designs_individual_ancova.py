"""designs.ancova: adjusted difference, HC3 / cluster-robust SEs, Hedges' g, equivalence."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.designs import ancova
from evalkit.designs.ancova import baseline_equivalence
from evalkit.errors import DataError, EvalkitWarning, ParameterError
from evalkit.simulate import individual_trial


@pytest.fixture
def trial():
    return individual_trial(300, 0.3, seed=11)


def test_hc3_matches_statsmodels(trial):
    # peer: statsmodels OLS with cov_type="HC3"; t interval with N - K df
    import statsmodels.formula.api as smf

    res = ancova(
        trial,
        outcome="outcome",
        treatment="treatment",
        baseline="baseline",
        covariates=["x1", "x2"],
    )
    fit = smf.ols("outcome ~ treatment + baseline + x1 + x2", trial).fit(cov_type="HC3", use_t=True)
    assert res.estimate == pytest.approx(fit.params["treatment"], rel=1e-10)
    assert res.se == pytest.approx(fit.bse["treatment"], rel=1e-10)
    lo, hi = fit.conf_int().loc["treatment"]
    assert (res.ci_low, res.ci_high) == pytest.approx((lo, hi), rel=1e-8)
    assert res.p == pytest.approx(fit.pvalues["treatment"], rel=1e-8)
    assert res.df == 300 - 5


def test_cluster_robust_matches_statsmodels():
    import statsmodels.formula.api as smf

    d = individual_trial(400, 0.3, seed=12, clusters=24)
    # se="CR1" explicitly: since issue 13 the default with a cluster is se="auto" (CR2 here)
    res = ancova(
        d,
        outcome="outcome",
        treatment="treatment",
        baseline="baseline",
        cluster="cluster",
        se="CR1",
    )
    fit = smf.ols("outcome ~ treatment + baseline", d).fit(
        cov_type="cluster", cov_kwds={"groups": d["cluster"]}, use_t=True
    )
    assert res.se == pytest.approx(fit.bse["treatment"], rel=1e-10)
    lo, hi = fit.conf_int().loc["treatment"]  # statsmodels uses t with G - 1 df
    assert (res.ci_low, res.ci_high) == pytest.approx((lo, hi), rel=1e-8)
    assert res.n_clusters == 24 and res.se_type.startswith("cluster")


def test_hedges_g_wwc_formula(trial):
    # WWC Handbook v5: g = omega * adjusted difference / pooled unadjusted SD,
    # omega = 1 - 3/(4N - 9)
    res = ancova(trial, outcome="outcome", treatment="treatment", baseline="baseline")
    y, t = trial["outcome"], trial["treatment"]
    n1, n0 = (t == 1).sum(), (t == 0).sum()
    sp = math.sqrt(((n1 - 1) * y[t == 1].var() + (n0 - 1) * y[t == 0].var()) / (n1 + n0 - 2))
    omega = 1 - 3 / (4 * 300 - 9)
    assert res.g == pytest.approx(omega * res.estimate / sp, rel=1e-12)
    assert res.g_ci_low == pytest.approx(omega * res.ci_low / sp, rel=1e-12)


def test_unadjusted_difference_is_difference_in_means(trial):
    res = ancova(trial, outcome="outcome", treatment="treatment")
    diff = trial.groupby("treatment")["outcome"].mean().diff().iloc[-1]
    assert res.estimate == pytest.approx(diff) == pytest.approx(res.unadjusted)


def test_baseline_equivalence_thresholds():
    # WWC: |ES| <= .05 satisfies; .05-.25 requires adjustment; > .25 not equivalent.
    # Cox index for binary: omega * (logit p_t - logit p_c) / 1.65
    d = pd.DataFrame(
        {
            "t": [1] * 50 + [0] * 50,
            "same": list(range(50)) * 2,
            "shifted": [v + 30 for v in range(50)] + list(range(50)),
            "flag": [1] * 25 + [0] * 25 + [1] * 20 + [0] * 30,
        }
    )
    eq = baseline_equivalence(d, treatment="t", variables=["same", "shifted", "flag"])
    assert eq.loc["same", "status"] == "satisfies"
    assert eq.loc["shifted", "status"] == "not equivalent"
    omega = 1 - 3 / (4 * 100 - 9)
    cox = omega * (math.log(0.5 / 0.5) - math.log(0.4 / 0.6)) / 1.65
    assert eq.loc["flag", "effect_size"] == pytest.approx(cox)
    assert eq.loc["flag", "measure"] == "cox_index"
    assert eq.loc["flag", "status"] == "requires statistical adjustment"


def test_categorical_covariate_becomes_indicators(trial):
    d = trial.assign(site=np.where(trial["x1"] > 0, "north", "south"))
    res = ancova(d, outcome="outcome", treatment="treatment", covariates=["site"])
    assert "site_south" in set(res.coefficients["term"])
    assert {"site_north", "site_south"} <= set(res.equivalence.index)


def test_missing_covariates_listwise_with_counts(trial):
    d = trial.copy()
    d.loc[[0, 1, 2], "x1"] = np.nan
    d.loc[[2, 3], "baseline"] = np.nan
    with pytest.warns(EvalkitWarning, match="4 of 300 rows dropped"):
        res = ancova(
            d, outcome="outcome", treatment="treatment", baseline="baseline", covariates=["x1"]
        )
    assert res.n == 296 and res.n_dropped == 4
    assert res.missing_by_column == {"baseline": 2, "x1": 3}


def test_non_binary_treatment(trial):
    d = trial.assign(treatment=trial["treatment"] + (trial.index == 5))
    with pytest.raises(DataError, match="binary"):
        ancova(d, outcome="outcome", treatment="treatment")
    d = trial.assign(treatment=np.where(trial["treatment"] == 1, "yes", "no"))
    with pytest.raises(DataError, match="'treatment'.*binary"):
        ancova(d, outcome="outcome", treatment="treatment")


def test_one_member_cluster_warns_and_too_few_clusters_refused():
    d = individual_trial(200, 0.3, seed=13, clusters=30)
    d.loc[0, "cluster"] = 999
    with pytest.warns(EvalkitWarning, match="only one member"):
        ancova(d, outcome="outcome", treatment="treatment", cluster="cluster")
    d2 = d.assign(cluster=np.where(d["treatment"] == 1, 1, d["cluster"]))
    with pytest.raises(DataError, match="fewer than two clusters per arm"):
        ancova(d2, outcome="outcome", treatment="treatment", cluster="cluster")


def test_few_clusters_warn():
    d = individual_trial(200, 0.3, seed=14, clusters=8)
    with pytest.warns(EvalkitWarning, match="only 8 clusters"):
        ancova(d, outcome="outcome", treatment="treatment", cluster="cluster")


def test_collinear_and_constant_covariates(trial):
    with pytest.raises(DataError, match="collinear"):
        ancova(
            trial.assign(x1b=2 * trial["x1"]),
            outcome="outcome",
            treatment="treatment",
            covariates=["x1", "x1b"],
        )
    with pytest.raises(DataError, match="single value"):
        ancova(trial.assign(k=1.0), outcome="outcome", treatment="treatment", covariates=["k"])
    with pytest.raises(ParameterError):
        ancova(trial, outcome="outcome", treatment="treatment", covariates=["treatment"])


def test_result_contract(trial):
    res = ancova(trial, outcome="outcome", treatment="treatment", baseline="baseline")
    frame = res.to_frame()
    assert list(frame["term"]) == ["adjusted_difference", "hedges_g", "unadjusted_difference"]
    assert {"estimate", "se", "ci_low", "ci_high", "p", "n", "level", "method"} <= set(frame)
    assert res.plot().axes
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res.to_dict()
