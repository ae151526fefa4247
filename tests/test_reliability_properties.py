"""Property tests (hypothesis) for evalkit.reliability invariants."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose

from evalkit import reliability as rel

pytestmark = pytest.mark.filterwarnings("ignore::evalkit.errors.EvalkitWarning")

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _items(seed: int, n: int, k: int, loading: float) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(n, 1))
    return np.round(2 + loading * f + rng.normal(size=(n, k)), 1)


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 60),
    k=st.integers(2, 9),
    perm_seed=st.integers(0, 10_000),
)
def test_alpha_does_not_depend_on_item_order(seed, n, k, perm_seed):
    x = _items(seed, n, k, 1.0)
    perm = np.random.default_rng(perm_seed).permutation(k)
    a, b = rel.alpha(x), rel.alpha(x[:, perm])
    assert_allclose(a.estimate, b.estimate, rtol=1e-10, atol=1e-12)
    assert_allclose(a.standardized, b.standardized, rtol=1e-10, atol=1e-12)
    assert_allclose([a.ci_low, a.ci_high], [b.ci_low, b.ci_high], rtol=1e-9, atol=1e-12)


@SETTINGS
@given(
    r1=st.lists(st.integers(1, 4), min_size=5, max_size=60),
    seed=st.integers(0, 10_000),
    weights=st.sampled_from([None, "linear", "quadratic"]),
)
def test_kappa_is_symmetric_in_the_raters(r1, seed, weights):
    rng = np.random.default_rng(seed)
    r1 = np.array(r1)
    r2 = np.where(rng.random(r1.size) < 0.5, r1, rng.integers(1, 5, r1.size))
    cats = [1, 2, 3, 4]
    a = rel.cohen_kappa(r1, r2, weights=weights, categories=cats)
    b = rel.cohen_kappa(r2, r1, weights=weights, categories=cats)
    assert_allclose(a.estimate, b.estimate, rtol=1e-10, atol=1e-12, equal_nan=True)
    # an SE is the square root of a variance that can be zero up to rounding (1e-16), so the
    # two orders agree to sqrt(machine epsilon), not to 1e-12
    assert_allclose([a.se, a.se0], [b.se, b.se0], rtol=1e-10, atol=1e-7, equal_nan=True)


@SETTINGS
@given(
    # scores on a 0.1 grid: distinct targets, without variances that underflow to zero
    ratings=st.lists(st.integers(-1000, 1000), min_size=2, max_size=40, unique=True),
    k=st.integers(2, 6),
)
def test_icc_of_identical_raters_is_one(ratings, k):
    x = np.repeat(np.array(ratings)[:, None] / 10.0, k, axis=1)
    res = rel.icc(x)
    assert_allclose(res["icc"], 1.0, atol=1e-12)


@SETTINGS
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(40, 150),
    k=st.integers(3, 8),
    loading=st.floats(0.6, 2.0),
)
def test_bootstrap_interval_contains_the_point_estimate(seed, n, k, loading):
    x = _items(seed, n, k, loading)
    res = rel.alpha(x, ci="bootstrap", n_boot=200, seed=seed)
    assert res.ci_low <= res.estimate <= res.ci_high


@SETTINGS
@given(seed=st.integers(0, 10_000))
def test_krippendorff_interval_equals_alpha_on_interval_data_bootstrap_contains(seed):
    rng = np.random.default_rng(seed)
    truth = rng.normal(size=(40, 1))
    x = truth + 0.5 * rng.normal(size=(40, 3))
    res = rel.krippendorff_alpha(x, level="interval", n_boot=200, seed=seed)
    assert res.ci_low <= res.estimate <= res.ci_high
    # interval alpha and ICC(1) estimate the same thing; they are close with complete data
    assert abs(res.estimate - rel.icc(x).loc["ICC1", "icc"]) < 0.05
