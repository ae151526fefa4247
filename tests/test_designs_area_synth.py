"""Synthetic control: a known convex mix is recovered; placebos; predictors; bad input."""

from __future__ import annotations

import time as _time

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.designs import synthetic_control
from evalkit.designs.synth import simplex_least_squares
from evalkit.errors import DataError
from evalkit.simulate import demo_indicators, synthetic_panel


def run(panel, **kw):
    kw.setdefault("intervention_time", 31)
    return synthetic_control(panel, unit="area", time="month", outcome="outcome", treated="T", **kw)


def test_known_convex_mix_recovers_weights_and_effect():
    panel = synthetic_panel(seed=1)
    res = run(panel)
    truth = pd.Series(panel.attrs["truth"]["weights"])
    assert res.weights.to_numpy() == pytest.approx(truth[res.weights.index].to_numpy(), abs=1e-8)
    assert res.weights.sum() == pytest.approx(1.0, abs=1e-12)
    assert (res.weights >= 0).all()
    assert res.estimate == pytest.approx(panel.attrs["truth"]["effect"], abs=1e-6)
    assert res.pre_rmspe < 1e-6
    # the treated unit has by far the largest post/pre RMSPE ratio: rank 1 of 20
    assert res.rank == 1 and res.p == pytest.approx(1 / 20)
    assert len(res.placebos) == 20


def test_other_mixes_and_noise():
    weights = {"D04": 0.25, "D07": 0.25, "D11": 0.4, "D15": 0.1}
    panel = synthetic_panel(seed=4, weights=weights, noise=0.01)
    res = run(panel)
    for d, w in weights.items():
        assert res.weights[d] == pytest.approx(w, abs=0.05)
    assert res.estimate == pytest.approx(-5.0, abs=0.1)


def test_no_effect_gives_unremarkable_placebo_rank():
    panel = synthetic_panel(seed=2, effect=0.0, noise=0.5)
    res = run(panel)
    assert abs(res.estimate) < 1
    assert res.p > 0.05


def test_weights_match_an_independent_solver():
    """Peer: SLSQP on the same objective (scipy) reaches the same minimum."""
    from scipy.optimize import minimize

    panel = synthetic_panel(seed=3, noise=2.0)
    res = run(panel, placebo=False)
    wide = panel.pivot(index="month", columns="area", values="outcome")
    pre = wide.index < 31
    y1 = wide.loc[pre, "T"].to_numpy()
    y0 = wide.loc[pre, res.weights.index].to_numpy()
    k = y0.shape[1]
    peer = minimize(
        lambda w: np.sum((y1 - y0 @ w) ** 2),
        np.full(k, 1 / k),
        method="SLSQP",
        bounds=[(0, 1)] * k,
        constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1}],
        options={"ftol": 1e-12, "maxiter": 1000},
    )
    ours = np.sum((y1 - y0 @ res.weights.to_numpy()) ** 2)
    assert ours <= peer.fun * (1 + 1e-6)
    assert np.isnan(res.p)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 12), st.integers(3, 25), st.integers(0, 10_000))
def test_simplex_solution_is_feasible_and_optimal(k, n, seed):
    rng = np.random.default_rng(seed)
    a = rng.normal(size=(n, k))
    b = rng.normal(size=n)
    w = simplex_least_squares(a, b)
    assert w.min() >= 0 and w.sum() == pytest.approx(1, abs=1e-10)
    # KKT: gradient components on the support are equal and no smaller elsewhere
    grad = 2 * a.T @ (a @ w - b)
    lam = grad[w > 1e-9].mean()
    assert (grad - lam).min() > -1e-6 * max(1, np.abs(grad).max())


def test_predictors_nested_v():
    panel = synthetic_panel(seed=1)
    panel["x1"] = panel["outcome"] * 0.1 + (panel["area"] == "D05") * 3
    panel["x2"] = panel.groupby("area")["outcome"].transform("mean")
    res = run(panel, predictors=["x1", "x2"])
    assert res.predictor_weights is not None
    assert res.predictor_weights.sum() == pytest.approx(1)
    assert res.weights.sum() == pytest.approx(1)
    assert "nested V" in res.method


def test_demo_panel_is_fast_and_plots():
    d, truth = demo_indicators()
    bf = d[d["indicator"] == "breastfeeding_6_8_weeks"].assign(
        rate=lambda x: x["numerator"] / x["denominator"]
    )
    synthetic_control(
        bf, unit="area_id", time="month", outcome="rate", treated="A01", intervention_time=28
    )  # warm-up: imports
    t0 = _time.perf_counter()
    res = synthetic_control(
        bf, unit="area_id", time="month", outcome="rate", treated="A01", intervention_time=28
    )
    assert _time.perf_counter() - t0 < 1.0
    assert res.n == 19 and res.n_pre == 27
    assert len(res.plot().axes[0].lines) >= 20
    assert len(res.plot(kind="path").axes[0].lines) >= 2
    assert set(res.to_frame().columns) >= {"estimate", "p", "pre_rmspe", "rmspe_ratio"}


def test_bad_input():
    panel = synthetic_panel(seed=1)
    with pytest.raises(DataError, match="not in the panel"):
        synthetic_control(
            panel, unit="area", time="month", outcome="outcome", treated="X", intervention_time=31
        )
    with pytest.raises(DataError, match="not balanced"):
        run(panel.iloc[1:])
    with pytest.raises(DataError, match="duplicated"):
        run(pd.concat([panel, panel.iloc[[3]]]))
    with pytest.raises(DataError, match="before the intervention"):
        run(panel, intervention_time=2)
    bad = panel.astype({"outcome": object})
    bad.loc[10, "outcome"] = "?"
    with pytest.raises(DataError, match="row 10"):
        run(bad)
    with pytest.raises(DataError, match="two donor"):
        run(panel[panel["area"].isin(["T", "D01"])])
