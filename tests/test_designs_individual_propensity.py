"""designs.propensity: matching against an independent brute-force matcher, IPW, bad input."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.designs import propensity
from evalkit.designs.propensity import _ipw_msandwich, _nearest_match
from evalkit.errors import DataError, EvalkitWarning, ParameterError
from evalkit.simulate import individual_trial


def brute_force_match(ps, t, ratio, replace, width):
    """Independent re-implementation of MatchIt's greedy matching, by exhaustive search.

    Treated units in descending score order (ties: data order); per round, the control
    at the smallest distance among those still available; on a tie MatchIt's scan prefers
    the lower-scored side, and within a side the unit adjacent in the (stable) sort.
    """
    rank = np.empty(len(ps), dtype=int)
    rank[np.argsort(ps, kind="stable")] = np.arange(len(ps))
    treated = np.flatnonzero(t == 1)
    order = treated if replace else treated[np.argsort(-ps[treated], kind="stable")]
    used = set()
    out = {int(i): [] for i in treated}
    for r in range(ratio):
        for i in order:
            if r > len(out[i]):
                continue
            best = None
            for c in np.flatnonzero(t == 0):
                if (not replace and c in used) or c in out[i]:
                    continue
                dist = abs(ps[i] - ps[c])
                if width is not None and dist > width:
                    continue
                left = rank[c] < rank[i]
                key = (dist, 0 if left else 1, -rank[c] if left else rank[c])
                if best is None or key < best[0]:
                    best = (key, c)
            if best is not None:
                out[i].append(int(best[1]))
                used.add(best[1])
    return [out[int(i)] for i in treated]


@pytest.mark.parametrize(
    "ratio, replace, caliper",
    [(1, False, None), (2, False, 0.1), (3, True, None), (1, False, 0.05)],
)
def test_matching_equals_brute_force(ratio, replace, caliper):
    rng = np.random.default_rng(ratio * 10 + int(replace))
    n = 160
    t = (rng.random(n) < 0.3).astype(int)
    ps = np.round(rng.beta(2, 4, n) + 0.15 * t, 2)  # rounding creates ties, as in real data
    width = None if caliper is None else caliper * ps.std(ddof=1)
    mine = _nearest_match(ps, t, ratio=ratio, replace=replace, caliper_width=width)
    assert mine == brute_force_match(ps, t, ratio, replace, width)


def test_ipw_estimates_are_weighted_mean_differences():
    d = individual_trial(500, 0.3, seed=31, confounding=1.0)
    for estimand in ("ATT", "ATE"):
        res = propensity(
            d,
            treatment="treatment",
            outcome="outcome",
            covariates=["x1", "x2"],
            method="ipw",
            estimand=estimand,
        )
        w, t, y = res.matched_data["weight"], d["treatment"], d["outcome"]
        by_hand = np.average(y[t == 1], weights=w[t == 1]) - np.average(
            y[t == 0], weights=w[t == 0]
        )
        assert res.estimate == pytest.approx(by_hand, rel=1e-12)
        assert res.ess_control <= (t == 0).sum()


def test_ipw_sandwich_matches_numerical_jacobian():
    # Independent check of the M-estimation variance: A is the numerical derivative of the
    # mean estimating functions (logistic score, two weighted means), V = A^-1 B A^-T / n.
    d = individual_trial(400, 0.3, seed=32, confounding=1.0)
    y, t = d["outcome"].to_numpy(), d["treatment"].to_numpy().astype(float)
    x = np.column_stack([np.ones(len(y)), d["x1"], d["x2"]])
    import statsmodels.api as sm

    beta = sm.GLM(t, x, family=sm.families.Binomial()).fit().params
    for estimand in ("ATT", "ATE"):
        ps = 1 / (1 + np.exp(-x @ beta))
        est, se = _ipw_msandwich(y, t, ps, x, estimand)

        def psi(theta, estimand=estimand):
            b, m1, m0 = theta[:3], theta[3], theta[4]
            e = 1 / (1 + np.exp(-x @ b))
            w1, w0 = (t / e, (1 - t) / (1 - e)) if estimand == "ATE" else (t, (1 - t) * e / (1 - e))
            return np.column_stack([(t - e)[:, None] * x, w1 * (y - m1), w0 * (y - m0)])

        w1 = t / ps if estimand == "ATE" else t
        w0 = (1 - t) / (1 - ps) if estimand == "ATE" else (1 - t) * ps / (1 - ps)
        theta = np.r_[beta, np.sum(w1 * y) / w1.sum(), np.sum(w0 * y) / w0.sum()]
        h = 1e-6
        a = np.column_stack(
            [
                (psi(theta + h * np.eye(5)[k]).mean(0) - psi(theta - h * np.eye(5)[k]).mean(0))
                / (2 * h)
                for k in range(5)
            ]
        )
        p = psi(theta)
        b = p.T @ p / len(y)
        ainv = np.linalg.inv(a)
        v = ainv @ b @ ainv.T / len(y)
        assert est == pytest.approx(theta[3] - theta[4], rel=1e-10)
        assert se == pytest.approx(math.sqrt(v[3, 3] + v[4, 4] - 2 * v[3, 4]), rel=1e-5)


def test_balance_improves_and_love_plot():
    d = individual_trial(800, 0.3, seed=33, confounding=0.8, treated_share=0.25)
    res = propensity(
        d, treatment="treatment", outcome="outcome", covariates=["x1", "x2"], caliper=0.2
    )
    bal = res.balance
    assert bal.loc["x1", "smd_after"] ** 2 < bal.loc["x1", "smd_before"] ** 2
    assert res.max_abs_smd_after < 0.1
    assert res.plot().axes and res.plot(kind="support").axes and res.plot(kind="effect").axes
    assert res.matched_data["subclass"].nunique() == res.n_matched_treated
    assert res.caliper_width == pytest.approx(0.2 * res.pscore.std(ddof=1))


def test_missing_covariates_listwise_counts():
    d = individual_trial(400, 0.3, seed=34, confounding=0.5, treated_share=0.3)
    d.loc[:9, "x1"] = np.nan
    with pytest.warns(EvalkitWarning, match="10 of 400 rows dropped"):
        res = propensity(d, treatment="treatment", outcome="outcome", covariates=["x1", "x2"])
    assert res.n_dropped == 10 and res.missing_by_column == {"x1": 10}
    assert res.n_treated + res.n_control == 390


def test_no_overlap_is_refused_and_partial_overlap_warns():
    rng = np.random.default_rng(35)
    n = 200
    t = np.r_[np.ones(100), np.zeros(100)].astype(int)
    x = np.r_[rng.normal(3, 1, 100), rng.normal(-3, 1, 100)]
    x[0], x[150] = -5, 5  # some overlap, so no complete separation
    d = pd.DataFrame({"t": t, "x": x, "y": rng.normal(size=n)})
    with pytest.warns(EvalkitWarning, match="outside the range"):
        res = propensity(d, treatment="t", outcome="y", covariates=["x"])
    assert res.n_outside_support > 0
    assert res.support.loc["treated", "n_outside"] == res.n_outside_support
    sep = d.assign(x=np.r_[rng.normal(3, 0.1, 100), rng.normal(-3, 0.1, 100)])
    with pytest.raises(DataError, match="perfect separation"):
        propensity(sep, treatment="t", outcome="y", covariates=["x"])


def test_separation_by_category_names_the_covariate():
    d = individual_trial(300, 0.3, seed=36)
    d["group"] = np.where(d["treatment"] == 1, "served", "not served")
    with pytest.raises(DataError, match="group"):
        propensity(d, treatment="treatment", outcome="outcome", covariates=["x1", "group"])


def test_bad_arguments():
    d = individual_trial(200, 0.3, seed=37)
    base = {"treatment": "treatment", "outcome": "outcome", "covariates": ["x1"]}
    with pytest.raises(ParameterError, match="ATT"):
        propensity(d, **base, estimand="ATE")
    with pytest.raises(ParameterError):
        propensity(d, **base, method="ipw", caliper=0.2)
    with pytest.raises(ParameterError):
        propensity(d, **base, caliper=-1)
    with pytest.raises(ParameterError):
        propensity(d, **base, ratio=0)
    with pytest.raises(ParameterError):
        propensity(d, treatment="treatment", outcome="outcome", covariates=[])
    with pytest.raises(DataError, match="binary"):
        propensity(d.assign(treatment=d["treatment"] * 3), **base)


def test_result_contract():
    d = individual_trial(300, 0.3, seed=38, confounding=0.5, treated_share=0.3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        res = propensity(d, treatment="treatment", outcome="outcome", covariates=["x1", "x2"])
    frame = res.to_frame()
    assert {"term", "estimate", "se", "ci_low", "ci_high", "p", "n", "level"} <= set(frame)
    assert res.to_dict()["estimand"] == "ATT"
    assert "<table" in res._repr_html_()
