"""Few-cluster inference in designs.ancova: CR2 (clubSandwich) and the wild cluster bootstrap.

Sources
-------
- Bell & McCaffrey (2002); Pustejovsky & Tipton (2018, J Bus Econ Stat 36, 672-683): CR2 with
  Satterthwaite df as clubSandwich ``coef_test(fit, vcov = "CR2", test = "Satterthwaite")``.
- Imbens & Kolesar (2016, Rev Econ Stat 98, 701-712): with one person per cluster CR2 is HC2,
  which for a two-group comparison equals the Neyman (Welch) variance s1²/n1 + s0²/n0.
- Roodman, MacKinnon, Nielsen & Webb (2019, Stata J 19, 4-60): restricted wild cluster bootstrap;
  peer: the PyPI package ``wildboottest`` (same WCR-C "11" statistic and weight draws).
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.designs import ancova
from evalkit.designs.clustered import (
    AUTO_WILD_BELOW,
    satterthwaite_df_cr2,
    vcov_cr2,
    wild_cluster_bootstrap,
)
from evalkit.errors import DataError, EvalkitWarning, ParameterError


def _crt(n_clusters: int, size: int, seed: int, effect: float = 0.3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = np.repeat(np.arange(n_clusters), size)
    t = (g % 2).astype(float)
    x1 = rng.normal(size=len(g))
    u = rng.normal(scale=0.5, size=n_clusters)[g]
    y = effect * t + 0.5 * x1 + u + rng.normal(size=len(g))
    return pd.DataFrame({"y": y, "t": t.astype(int), "x1": x1, "site": g})


def _clubsandwich_dense(x, y, groups, k):
    """clubSandwich's CR2 and Satterthwaite df written with full N × N matrices.

    CR2: A_j = (I - H_jj)^(-1/2) (eigenvalues <= 1e-12 dropped, as clubSandwich's
    Sym_power); V = M X' A e e' A X M summed by cluster. Satterthwaite (clubSandwich
    get_P_array, inverse-variance working model Phi = I):
    P_ij = c'M X_i' A_i [(I - H)_ij] A_j X_j M c; df = 2 tr(P)^2 / (2 sum P^2).
    """
    n = len(y)
    m = np.linalg.inv(x.T @ x)
    h = x @ m @ x.T
    e = y - h @ y
    a = np.zeros((n, n))
    labels = np.unique(groups)
    for lab in labels:
        ix = np.flatnonzero(groups == lab)
        vals, vecs = np.linalg.eigh(np.eye(len(ix)) - h[np.ix_(ix, ix)])
        a[np.ix_(ix, ix)] = (vecs * np.where(vals > 1e-12, vals**-0.5, 0)) @ vecs.T
    c = np.zeros(x.shape[1])
    c[k] = 1
    meat = 0.0
    gvecs = []
    for lab in labels:
        ix = groups == lab
        w = np.zeros(n)
        w[ix] = (a @ x @ m @ c)[ix]
        gvecs.append(w)
        meat += (w @ e) ** 2
    imh = np.eye(n) - h
    p = np.array([[gi @ imh @ gj for gj in gvecs] for gi in gvecs])
    return math.sqrt(meat), np.trace(p) ** 2 / np.sum(p**2)


@pytest.mark.parametrize("n_clusters,seed", [(6, 1), (9, 2), (15, 3)])
def test_cr2_matches_dense_clubsandwich_formulas(n_clusters, seed):
    d = _crt(n_clusters, 7, seed)
    d = d.iloc[np.random.default_rng(seed).permutation(len(d))[: len(d) - 5]]  # unbalanced
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        res = ancova(d, outcome="y", treatment="t", covariates=["x1"], cluster="site", se="CR2")
    x = np.column_stack([np.ones(len(d)), d["t"], d["x1"]])
    se, df = _clubsandwich_dense(x, d["y"].to_numpy(), d["site"].to_numpy(), 1)
    assert res.se == pytest.approx(se, rel=1e-10)
    assert res.df == pytest.approx(df, rel=1e-10)
    assert res.se_method == "CR2" and "asked for" in res.se_reason
    from scipy import stats

    q = stats.t.ppf(0.975, df)
    assert res.ci_low == pytest.approx(res.estimate - q * se, rel=1e-10)
    # the coefficients table carries CR2 SEs and Satterthwaite df for every term
    row = res.coefficients.set_index("term").loc["x1"]
    se_x1, df_x1 = _clubsandwich_dense(x, d["y"].to_numpy(), d["site"].to_numpy(), 2)
    assert (row["se"], row["df"]) == pytest.approx((se_x1, df_x1), rel=1e-10)


def test_cr2_balanced_crt_is_t_test_on_cluster_means():
    # Balanced cluster-randomised comparison without covariates: CR2 reproduces the
    # unequal-variance two-sample t on cluster means (Pustejovsky & Tipton 2018, §2),
    # and the Satterthwaite df are G - 2 (recomputed: the P matrix is that of the t test).
    d = _crt(8, 5, 11)
    with pytest.warns(EvalkitWarning):
        res = ancova(d, outcome="y", treatment="t", cluster="site", se="CR2")
    means = d.groupby("site").agg(y=("y", "mean"), t=("t", "first"))
    a, b = means.loc[means.t == 1, "y"], means.loc[means.t == 0, "y"]
    assert res.se == pytest.approx(math.sqrt(a.var() / 4 + b.var() / 4), rel=1e-10)
    assert res.df == pytest.approx(6.0, rel=1e-10)


def test_cr2_with_singleton_clusters_is_neyman_variance():
    # Imbens & Kolesar (2016): HC2 (= CR2 with one unit per cluster) of a difference in
    # means is the Neyman variance s1^2/n1 + s0^2/n0
    rng = np.random.default_rng(5)
    y = np.r_[rng.normal(1, 2, 9), rng.normal(0, 1, 14)]
    t = np.r_[np.ones(9), np.zeros(14)]
    x = np.column_stack([np.ones(23), t])
    e = y - x @ np.linalg.lstsq(x, y, rcond=None)[0]
    v = vcov_cr2(x, e, np.arange(23))
    assert math.sqrt(v[1, 1]) == pytest.approx(
        math.sqrt(y[:9].var(ddof=1) / 9 + y[9:].var(ddof=1) / 14), rel=1e-12
    )
    # Bell-McCaffrey df under the homoskedastic working model: the Satterthwaite df of
    # s1^2/n1 + s0^2/n0 with equal variances, (1/n1 + 1/n0)^2 / (1/(n1^2 (n1-1)) + 1/(n0^2 (n0-1)))
    # (Imbens & Kolesar 2016, two-group case; recomputed)
    a, b = 1 / 9, 1 / 14
    bm = (a + b) ** 2 / (a**2 / 8 + b**2 / 13)
    assert satterthwaite_df_cr2(x, np.arange(23))[1] == pytest.approx(bm, rel=1e-10)


@pytest.mark.parametrize("n_clusters", [8, 14])
def test_wild_bootstrap_matches_wildboottest(n_clusters):
    import statsmodels.api as sm
    from wildboottest.wildboottest import wildboottest

    d = _crt(n_clusters, 10, 20 + n_clusters)
    x = pd.DataFrame({"const": 1.0, "t": d["t"].astype(float), "x1": d["x1"]})
    weights = "webb" if n_clusters < 12 else "rademacher"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = wildboottest(
            sm.OLS(d["y"].to_numpy(), x),
            B=9999,
            cluster=d["site"].to_numpy(),
            param="t",
            weights_type=weights,
            seed=42,
            show=False,
        )
        res = ancova(
            d, outcome="y", treatment="t", covariates=["x1"], cluster="site", se="wild", seed=42
        )
    assert res.p == pytest.approx(float(ref["p-value"].iloc[0]), abs=1e-12)
    assert res.estimate / res.se == pytest.approx(float(ref["statistic"].iloc[0]), rel=1e-10)
    assert res.se_method == "wild" and res.n_boot == 9999
    assert math.isnan(res.df)


def test_wild_interval_is_test_inversion():
    d = _crt(8, 10, 31)
    x = np.column_stack([np.ones(len(d)), d["t"], d["x1"]])
    y, g = d["y"].to_numpy(), d["site"].to_numpy()
    res = wild_cluster_bootstrap(x, y, g, 1, level=0.9, n_boot=999, seed=7)
    # just inside the bounds the test does not reject at 10%, just outside it does
    eps = 1e-3 * res.se
    for bound, inward in ((res.ci_low, +1), (res.ci_high, -1)):
        p_in = wild_cluster_bootstrap(x, y, g, 1, n_boot=999, seed=7, null=bound + inward * eps).p
        p_out = wild_cluster_bootstrap(x, y, g, 1, n_boot=999, seed=7, null=bound - inward * eps).p
        assert p_in > 0.1 >= p_out
    # full enumeration of Rademacher weights from 12 clusters when 2^G < n_boot
    d12 = _crt(12, 5, 32)
    x12 = np.column_stack([np.ones(len(d12)), d12["t"]])
    r12 = wild_cluster_bootstrap(x12, d12["y"].to_numpy(), d12["site"].to_numpy(), 1)
    assert r12.n_boot == 4096 and r12.weights.startswith("Rademacher (full")


def test_auto_chooses_by_number_of_clusters_and_says_why():
    few = _crt(AUTO_WILD_BELOW - 2, 8, 41)
    many = _crt(AUTO_WILD_BELOW + 4, 8, 42)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        r_few = ancova(few, outcome="y", treatment="t", cluster="site", seed=1, n_boot=999)
        r_many = ancova(many, outcome="y", treatment="t", cluster="site")
    assert r_few.se_method == "wild" and "fewer than 12" in r_few.se_reason
    assert r_many.se_method == "CR2" and "12 or more" in r_many.se_reason
    assert np.isfinite(r_many.df) and r_many.df < AUTO_WILD_BELOW + 4
    # without a cluster the default stays HC3
    r_none = ancova(many, outcome="y", treatment="t")
    assert r_none.se_method == "HC3" and r_none.df == len(many) - 2


def test_bad_input_for_se():
    d = _crt(6, 5, 51)
    with pytest.raises(ParameterError, match="needs clusters"):
        ancova(d, outcome="y", treatment="t", se="CR2")
    with pytest.raises(ParameterError, match="se='CR3'"):
        ancova(d, outcome="y", treatment="t", cluster="site", se="CR3")
    one = d.assign(site=np.where(d["t"] == 1, 99, d["site"]))
    with pytest.raises(DataError, match="fewer than two clusters per arm"):
        ancova(one, outcome="y", treatment="t", cluster="site", se="CR2")
