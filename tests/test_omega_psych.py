"""psych conventions in reliability.omega: pairwise correlations and omega.tot."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from evalkit import reliability as rel
from evalkit.reliability.omega import minres_factor, pairwise_cor_psych


def _four_factor_items(n: int = 600, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    g = rng.normal(size=n)
    cols = {}
    for f in range(4):
        s = rng.normal(size=n)
        for i in range(4):
            cols[f"f{f}_{i}"] = 0.5 * g + (0.35 + 0.1 * i) * s + rng.normal(scale=0.7, size=n)
    return pd.DataFrame(cols)


def test_pairwise_correlations_are_r_cor_use_pairwise():
    # R cor(x, use = "pairwise") = pandas DataFrame.corr(): each r_ij from the paired cases,
    # with both SDs from those cases (peer: pandas)
    d = _four_factor_items(200)
    rng = np.random.default_rng(1)
    d = d.mask(rng.random(d.shape) < 0.2)
    r = pairwise_cor_psych(d.to_numpy())
    assert r == pytest.approx(d.corr().to_numpy(), abs=1e-12)


def test_omega_total_sl_uses_first_order_communalities():
    # psych::schmid: u2 <- 1 - diag(orth.load %*% t(orth.load)); omega.tot = 1 - sum(u2)/sum(R)
    d = _four_factor_items()
    res = rel.omega(d, nfactors=4)
    r = d.corr().to_numpy()
    h2 = np.sum(minres_factor(r, 4) ** 2, axis=1)
    assert res.omega_total_sl == pytest.approx(1 - np.sum(1 - h2) / r.sum(), abs=1e-8)
    assert res.omega_hierarchical < res.omega_total_sl < 1


def test_omega_pairwise_uses_psych_correlations():
    d = _four_factor_items(300, seed=5)
    rng = np.random.default_rng(2)
    d = d.mask(rng.random(d.shape) < 0.15)
    res = rel.omega(d, nfactors=4, missing="pairwise")
    r = d.corr().to_numpy()
    h2 = np.sum(minres_factor(r, 4) ** 2, axis=1)
    assert res.omega_total_sl == pytest.approx(1 - np.sum(1 - h2) / r.sum(), abs=1e-8)
