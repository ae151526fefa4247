"""designs.pool_rubin (mice pool.scalar) and multiple imputation in ancova / prepost."""

from __future__ import annotations

import math

import numpy as np
import pytest

from evalkit.designs import pool_rubin
from evalkit.errors import ParameterError


def _pool_scalar_by_hand(q, u, dfcom):
    # mice::pool.scalar and mice:::barnard.rubin written out step by step (mice 3.16 sources,
    # R/pool.scalar.R and R/barnard.rubin.R), as an independent peer of pool_rubin
    m = len(q)
    qbar = sum(q) / m
    ubar = sum(u) / m
    b = sum((x - qbar) ** 2 for x in q) / (m - 1)
    t = ubar + (m + 1) * b / m
    lam = max((1 + 1 / m) * b / t, 1e-04)
    dfold = (m - 1) / lam**2
    dfobs = (dfcom + 1) / (dfcom + 3) * dfcom * (1 - lam)
    df = dfold if math.isinf(dfcom) else dfold * dfobs / (dfold + dfobs)
    r = (1 + 1 / m) * b / ubar
    fmi = (r + 2 / (df + 3)) / (r + 1)
    return {"qbar": qbar, "ubar": ubar, "b": b, "t": t, "df": df, "r": r, "fmi": fmi}


def test_pool_scalar_help_example():
    # mice ?pool.scalar example: pool.scalar(Q = c(-1.5457, -1.428),
    # U = c(0.9723^2, 1.041^2), n = 25, k = 2)
    q, u = [-1.5457, -1.428], [0.9723**2, 1.041**2]
    res = pool_rubin(q, u, df_complete=25 - 2)
    ref = _pool_scalar_by_hand(q, u, 23.0)
    for k, v in ref.items():
        assert getattr(res, k) == pytest.approx(v, rel=1e-12, abs=1e-14), k
    assert res.estimate == pytest.approx(-1.48685, abs=1e-12)
    # recomputed by hand: ubar = (0.9723^2 + 1.041^2)/2, b = 0.1177^2/2
    assert res.ubar == pytest.approx((0.9723**2 + 1.041**2) / 2, rel=1e-14)
    assert res.b == pytest.approx(0.1177**2 / 2, rel=1e-12)
    assert getattr(res, "lambda") == pytest.approx(1.5 * res.b / res.t, rel=1e-14)
    assert res.se == pytest.approx(math.sqrt(res.t), rel=1e-14)


def test_infinite_df_complete_is_rubin_1987():
    # Rubin (1987) eq. 3.1.6: nu = (m - 1)(1 + 1/r)^2 when the complete-data df are infinite
    # (mice's barnard.rubin returns dfold when dfcom is infinite)
    q = [1.2, 1.5, 0.9, 1.1, 1.4]
    u = [0.04, 0.05, 0.045, 0.05, 0.04]
    res = pool_rubin(q, u)
    assert res.df == pytest.approx(4 * (1 + 1 / res.r) ** 2, rel=1e-12)
    ref = _pool_scalar_by_hand(q, u, math.inf)
    assert res.fmi == pytest.approx(ref["fmi"], rel=1e-12)


def test_lambda_floor_when_imputations_agree():
    # identical estimates: b = 0, lambda is floored at 1e-4 inside the df (mice barnard.rubin)
    res = pool_rubin([2.0, 2.0, 2.0], [0.1, 0.1, 0.1], df_complete=50)
    dfold = 2 / 1e-8
    dfobs = 51 / 53 * 50 * (1 - 1e-4)
    assert res.b == 0 and getattr(res, "lambda") == 0
    assert res.df == pytest.approx(dfold * dfobs / (dfold + dfobs), rel=1e-12)


def test_fimd_interval_and_p():
    # interval qbar ± t(df) sqrt(t) as summary(pool(fit), conf.int = TRUE)
    from scipy import stats

    res = pool_rubin([10.0, 11.0, 9.5, 10.5], [1.0, 1.2, 0.9, 1.1], df_complete=30, level=0.9)
    q = stats.t.ppf(0.95, res.df)
    assert res.ci_low == pytest.approx(res.qbar - q * math.sqrt(res.t), rel=1e-12)
    assert res.p == pytest.approx(2 * stats.t.sf(res.qbar / math.sqrt(res.t), res.df), rel=1e-10)
    assert res.to_frame()["estimate"].iloc[0] == res.estimate


def test_pool_bad_input():
    with pytest.raises(ParameterError, match="at least 2 imputations"):
        pool_rubin([1.0], [0.1])
    with pytest.raises(ParameterError, match="same length"):
        pool_rubin([1.0, 2.0], [0.1])
    with pytest.raises(ParameterError, match="df_complete"):
        pool_rubin([1.0, 2.0], [0.1, 0.1], df_complete=0)
    assert np.isfinite(pool_rubin([1.0, 2.0], [0.1, 0.1]).df)


# -- multiple imputation in the designs ------------------------------------------------------

import warnings  # noqa: E402

import pandas as pd  # noqa: E402

from evalkit.designs import ancova, prepost  # noqa: E402
from evalkit.designs.impute import impute_chained  # noqa: E402
from evalkit.errors import DataError, EvalkitWarning  # noqa: E402
from evalkit.simulate import individual_trial  # noqa: E402


def _mar_trial(seed: int, n: int = 600, effect: float = 0.4) -> tuple[pd.DataFrame, pd.DataFrame]:
    # follow-up missing at random given baseline and treatment (more often for high baseline
    # in the comparison group), so complete cases are biased and MI is not
    rng = np.random.default_rng(seed)
    base = rng.normal(size=n)
    t = rng.integers(0, 2, n)
    y = effect * t + 0.8 * base + rng.normal(scale=0.6, size=n)
    full = pd.DataFrame({"y": y, "t": t, "base": base, "x": rng.normal(size=n)})
    p_miss = 1 / (1 + np.exp(-(-1.0 + 1.5 * base * (1 - t))))
    d = full.copy()
    d.loc[rng.random(n) < p_miss, "y"] = np.nan
    return full, d


def test_ancova_mi_pools_with_rubin_and_reports_complete_cases():
    full, d = _mar_trial(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        res = ancova(
            d,
            outcome="y",
            treatment="t",
            baseline="base",
            covariates=["x"],
            missing="mi",
            m=10,
            seed=3,
        )
        cc = ancova(d, outcome="y", treatment="t", baseline="base", covariates=["x"])
    truth = ancova(full, outcome="y", treatment="t", baseline="base", covariates=["x"])
    assert res.missing == "mi" and res.m == 10 and 0 < res.fmi < 1
    assert res.n == len(d) and res.complete_case_estimate == pytest.approx(cc.estimate)
    assert res.df < len(d) - 4  # Barnard-Rubin df below the complete-data df
    assert abs(res.estimate - truth.estimate) < 4 * res.se
    assert res.ci_low < res.estimate < res.ci_high
    assert list(res.coefficients["term"]) == ["Intercept", "t", "base", "x"]
    assert "fmi" in res.coefficients.columns
    # the same seed gives the same answer
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        again = ancova(
            d,
            outcome="y",
            treatment="t",
            baseline="base",
            covariates=["x"],
            missing="mi",
            m=10,
            seed=3,
        )
    assert again.estimate == res.estimate


def test_ancova_mi_pooling_is_pool_rubin_of_the_imputations():
    _, d = _mar_trial(2, n=200)
    res = ancova(d, outcome="y", treatment="t", baseline="base", missing="mi", m=5, seed=11)
    frame = pd.concat([d[["y", "base"]], d["t"].astype(float).rename("__treatment__")], axis=1)
    ests, variances = [], []
    import statsmodels.api as sm

    for imp in impute_chained(frame, m=5, seed=11):
        fit = sm.OLS(imp["y"], sm.add_constant(imp[["__treatment__", "base"]])).fit(cov_type="HC3")
        ests.append(fit.params["__treatment__"])
        variances.append(fit.bse["__treatment__"] ** 2)
    ref = pool_rubin(ests, variances, df_complete=200 - 3)
    assert res.estimate == pytest.approx(ref.estimate, rel=1e-12)
    assert res.se == pytest.approx(ref.se, rel=1e-10)
    assert res.df == pytest.approx(ref.df, rel=1e-10)


def test_ancova_mi_with_few_clusters_pools_cr2():
    d = individual_trial(240, 0.3, seed=5, clusters=8, attrition=0.25)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        res = ancova(
            d,
            outcome="outcome",
            treatment="treatment",
            baseline="baseline",
            cluster="cluster",
            missing="mi",
            m=4,
            seed=2,
            n_boot=199,
        )
    assert res.se_method == "CR2" and "Rubin" in res.se_reason
    assert np.isfinite(res.df) and res.df < 8


def test_imputation_keeps_observed_values_and_uses_observed_donors():
    _, d = _mar_trial(4, n=100)
    frame = d[["y", "base", "t"]].astype(float)
    imps = impute_chained(frame, m=2, seed=1)
    obs = frame["y"].notna()
    for imp in imps:
        assert imp.loc[obs, "y"].equals(frame.loc[obs, "y"])
        assert imp["y"].notna().all()
        assert set(imp.loc[~obs, "y"]) <= set(frame.loc[obs, "y"])  # PMM donors


def test_prepost_mi():
    rng = np.random.default_rng(8)
    pre = rng.normal(10, 2, 150)
    post = pre + 1 + rng.normal(0, 1, 150)
    d = pd.DataFrame({"pre": pre, "post": post})
    d.loc[rng.random(150) < 0.3, "post"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", EvalkitWarning)
        res = prepost(d, pre="pre", post="post", missing="mi", m=10, seed=4)
        cc = prepost(d, pre="pre", post="post")
    assert res.missing == "mi" and res.m == 10 and res.n == 150
    assert res.complete_case_estimate == pytest.approx(cc.estimate)
    assert res.estimate == pytest.approx(1.0, abs=0.4)
    assert 0 < res.fmi < 1 and res.df < 149


def test_mi_bad_input():
    _, d = _mar_trial(6, n=60)
    with pytest.raises(ParameterError, match="m=1"):
        ancova(d, outcome="y", treatment="t", baseline="base", missing="mi", m=1)
    with pytest.raises(DataError, match="every value of the outcome is missing"):
        ancova(d.assign(y=np.nan), outcome="y", treatment="t", missing="mi")
    with pytest.raises(ParameterError, match="missing='pairwise'"):
        ancova(d, outcome="y", treatment="t", missing="pairwise")
    with pytest.raises(DataError, match="every value of the outcome is missing"):
        prepost(d.assign(y=np.nan), pre="base", post="y", missing="mi")
    with pytest.raises(ParameterError, match="m=0"):
        prepost(d, pre="base", post="y", missing="mi", m=0)


def _impute_chained_reference(data, m, seed, maxit=10):
    """impute_chained as first written (np.delete and column_stack at every step)."""
    from evalkit.designs.impute import _pmm_draw

    values = data.to_numpy(dtype=float)
    missing = np.isnan(values)
    todo = [j for j in range(values.shape[1]) if missing[:, j].any()]
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(m):
        v = values.copy()
        for j in todo:
            obs = v[~missing[:, j], j]
            v[missing[:, j], j] = rng.choice(obs, size=int(missing[:, j].sum()))
        for _ in range(maxit if todo else 0):
            for j in todo:
                x = np.column_stack([np.ones(len(v)), np.delete(v, j, axis=1)])
                v[missing[:, j], j] = _pmm_draw(v[:, j], x, missing[:, j], rng)
        out.append(v)
    return out


def test_impute_chained_fills_predictors_in_place_with_the_same_draws():
    rng = np.random.default_rng(3)
    d = pd.DataFrame(rng.normal(size=(120, 4)), columns=list("abcd"))
    d.iloc[rng.random(120) < 0.3, 0] = np.nan
    d.iloc[rng.random(120) < 0.2, 2] = np.nan
    d.iloc[rng.random(120) < 0.1, 3] = np.nan
    fast = impute_chained(d, m=3, seed=11, maxit=4)
    for got, want in zip(fast, _impute_chained_reference(d, 3, 11, maxit=4)):
        np.testing.assert_array_equal(got.to_numpy(), want)


def test_ancova_mi_design_template_equals_the_full_model_matrix(monkeypatch):
    import importlib

    ancova_module = importlib.import_module("evalkit.designs.ancova")
    d = individual_trial(300, 0.3, seed=8)
    rng = np.random.default_rng(8)
    d.loc[rng.random(len(d)) < 0.3, "outcome"] = np.nan
    d.loc[rng.random(len(d)) < 0.1, "baseline"] = np.nan
    d["site"] = np.where(rng.random(len(d)) < 0.5, "north", "south")
    kw = dict(outcome="outcome", treatment="treatment", baseline="baseline",
              covariates=["x1", "site"], missing="mi", m=5, seed=4)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fast = ancova(d, **kw)
        monkeypatch.setattr(ancova_module, "_imputed_design", lambda template, imp: None)
        full = ancova(d, **kw)
    assert (fast.estimate, fast.se, fast.df, fast.fmi) == (
        full.estimate,
        full.se,
        full.df,
        full.fmi,
    )
    pd.testing.assert_frame_equal(fast.coefficients, full.coefficients, check_exact=True)


def test_pool_rubin_reads_lists_of_floats_as_any_sequence():
    q, u = [1.0, np.float64(1.2), 0.9, 1], [0.04, 0.05, np.float64(0.045), 0.05]
    a = pool_rubin(q, u, df_complete=40)
    b = pool_rubin(np.array(q, dtype=object), np.array(u, dtype=object), df_complete=40)
    assert (a.estimate, a.se, a.df, a.fmi) == (b.estimate, b.se, b.df, b.fmi)
    with pytest.raises(Exception, match="numeric"):
        pool_rubin([1.0, "x"], [0.1, 0.1])
