"""Item analysis from sufficient statistics equals item analysis on the pooled raw answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evalkit as ek
from evalkit.errors import DataError


def _areas(seed: int = 3) -> list[pd.DataFrame]:
    rng = np.random.default_rng(seed)
    out = []
    for shift, n in [(0.0, 40), (0.5, 55), (-0.3, 31)]:
        latent = rng.normal(shift, 1, n)
        x = np.clip(np.round(1.5 + latent[:, None] + rng.normal(0, 0.8, (n, 5))), 0, 3)
        out.append(pd.DataFrame(x, columns=[f"q{j}" for j in range(1, 6)]))
    return out


def test_pooled_moments_equal_the_stacked_data():
    areas = _areas()
    n, m, c = ek.reliability.pool_moments(
        [len(a) for a in areas], [a.mean().to_numpy() for a in areas],
        [a.cov().to_numpy() for a in areas],
    )  # fmt: skip
    raw = pd.concat(areas, ignore_index=True)
    assert n == len(raw)
    np.testing.assert_allclose(m, raw.mean().to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(c, raw.cov().to_numpy(), rtol=1e-12)


def test_item_analysis_from_moments_equals_item_analysis_on_pooled_raw_data():
    areas = _areas()
    lo, hi = 0, 3
    n, m, c = ek.reliability.pool_moments(
        [len(a) for a in areas], [a.mean().to_numpy() for a in areas],
        [a.cov().to_numpy() for a in areas],
    )  # fmt: skip
    floor = sum((a == lo).sum().to_numpy() for a in areas)
    ceiling = sum((a == hi).sum().to_numpy() for a in areas)
    got = ek.reliability.item_analysis_from_moments(
        n, m, c, floor=floor, ceiling=ceiling, items=list(areas[0].columns)
    )
    want = ek.reliability.item_analysis(pd.concat(areas, ignore_index=True), scale_min=lo,
                                        scale_max=hi)  # fmt: skip
    cols = ["n", "mean", "sd", "floor_pct", "ceiling_pct", "r_drop", "alpha_if_deleted"]
    pd.testing.assert_frame_equal(got[cols], want[cols], check_dtype=False, rtol=1e-10)


def test_published_r_drop_from_moments():
    # pingouin's cronbach_alpha data set; psych::alpha r.drop of Q6 is -0.1572 (the value the
    # item_analysis doctest reproduces), here from the data's n, means and covariance alone
    pg = pytest.importorskip("pingouin")
    data = pg.read_dataset("cronbach_alpha").pivot(index="Subj", columns="Items",
                                                   values="Scores").dropna()  # fmt: skip
    out = ek.reliability.item_analysis_from_moments(
        len(data), data.mean(), data.cov(), items=data.columns
    )
    assert round(float(out.loc["Q6", "r_drop"]), 4) == -0.1572


def test_unknown_floor_counts_stay_unknown_and_bad_input_is_named():
    out = ek.reliability.item_analysis_from_moments(
        20, [1, 2], [[1, 0.3], [0.3, 1]], floor=[None, 4], ceiling=[0, 2]
    )
    assert np.isnan(out["floor_pct"].iloc[0]) and out["floor_pct"].iloc[1] == 20.0
    with pytest.raises(DataError, match="covariance"):
        ek.reliability.item_analysis_from_moments(20, [1, 2], [[1, 0.3], [0.2, 1]])
    with pytest.raises(DataError):
        ek.reliability.pool_moments([], [], [])
