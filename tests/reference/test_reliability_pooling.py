"""Pooling alpha across areas: transforms as metafor computes them, and the pooled value."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from evalkit.designs import meta_analysis
from evalkit.errors import DataError
from evalkit.reliability import alpha_back_transform, alpha_transform, pool_alpha


def test_transforms_match_metafor():
    # metafor's tests of escalc(measure="ABT"/"AHW") on dat.bonett2010, study 1:
    # alpha .93, k 20, n 100 -> yi 2.6593 (ABT) and 0.5879 (AHW).
    yi, vi = alpha_transform(0.93, 20, 100, transform="bonett")
    assert yi[0] == pytest.approx(2.6593, abs=5e-5)
    # variance recomputed from Bonett's (2002) formula 2k / ((k - 1)(n - 2))
    assert vi[0] == pytest.approx(40 / (19 * 98), rel=1e-12)
    yi, vi = alpha_transform(0.93, 20, 100, transform="hakstian_whalen")
    assert yi[0] == pytest.approx(0.5879, abs=5e-5)
    # Hakstian & Whalen (1976): 18k(n-1)(1-a)^(2/3) / ((k-1)(9n-11)^2), recomputed
    assert vi[0] == pytest.approx(18 * 20 * 99 * 0.07 ** (2 / 3) / (19 * 889**2), rel=1e-12)


@given(st.floats(-5, 0.999), st.sampled_from(["bonett", "hakstian_whalen"]))
def test_back_transform_inverts(a, transform):
    yi, _ = alpha_transform(a, 10, 50, transform=transform)
    assert alpha_back_transform(yi, transform=transform)[0] == pytest.approx(a, abs=1e-9)


def test_pooled_value_is_the_back_transformed_meta_analysis():
    alphas, n = np.array([0.82, 0.88, 0.91, 0.86, 0.79]), np.array([120, 260, 90, 150, 75])
    res = pool_alpha(alphas, k=10, n=n, transform="bonett")
    yi, vi = alpha_transform(alphas, 10, n)
    fit = meta_analysis(yi, variance=vi, method="REML", knha=True)
    assert res.estimate == pytest.approx(1 - np.exp(-fit.estimate), rel=1e-12)
    assert res.ci_low == pytest.approx(1 - np.exp(-fit.ci_low), rel=1e-12)
    assert res.ci_low < res.estimate < res.ci_high
    assert list(res.studies["alpha"]) == pytest.approx(list(alphas))


def test_equal_alphas_pool_to_that_alpha():
    res = pool_alpha([0.87] * 6, k=10, n=200, transform="hakstian_whalen")
    assert res.estimate == pytest.approx(0.87, abs=1e-9)
    assert res.tau2 == pytest.approx(0.0, abs=1e-9)
    assert res.plot() is not None


def test_alpha_of_one_is_refused():
    with pytest.raises(DataError, match="alpha must be below 1"):
        alpha_transform([0.8, 1.0], 10, 100)
