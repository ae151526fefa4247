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
