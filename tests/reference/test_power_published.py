"""Power analysis against PowerUpR and statsmodels.

Sources: ``shared/reference/published.md`` (PowerUpR documentation; alpha .05 two-tailed,
power .80, p = .5), PowerUpR's ``vignettes/cross_checks.Rmd`` (mdes -> power -> mrss round
trips on the same designs), the ``power.cra3r3(es=.269, ...)`` example in PowerUpR's
``R/cra3r3.R``, and statsmodels ``TTestPower`` for the paired design.
"""

import pytest
from statsmodels.stats.power import TTestPower

from evalkit import power as pw

# (design, parameters, published MDES, the parameter PowerUpR's mrss solves for)
POWERUP = [
    ("individual", {"n": 250}, 0.356, "n"),
    ("cluster2", {"rho2": 0.17, "n": 15, "J": 20}, 0.629, "J"),
    ("cluster3", {"rho3": 0.06, "rho2": 0.17, "n": 15, "J": 3, "K": 60}, 0.269, "K"),
    ("blocked_individual", {"n": 15, "J": 20}, 0.325, "J"),
]


@pytest.mark.parametrize("design, params, published, _", POWERUP)
def test_powerup_mdes(design, params, published, _):
    res = pw.mdes(design, **params)
    assert res.estimate == pytest.approx(published, abs=5e-4)
    assert res.mdes == res.estimate
    assert res.power == 0.8 and res.alpha == 0.05


@pytest.mark.parametrize("design, params, published, _", POWERUP)
def test_powerup_power_at_mdes_is_080(design, params, published, _):
    # cross_checks.Rmd: power.<design>(es = mdes) gives back power .80 (PowerUp!'s MDES uses
    # the t-multiplier approximation, so the noncentral-t power is .80 to 3 decimals)
    es = pw.mdes(design, **params).estimate
    assert pw.power(design, es=es, **params).estimate == pytest.approx(0.80, abs=5e-4)


@pytest.mark.parametrize("design, params, published, solve_for", POWERUP)
def test_powerup_sample_size_round_trip(design, params, published, solve_for):
    # cross_checks.Rmd: mrss.<design>(es = mdes) returns the original n, J or K
    es = pw.mdes(design, **params).estimate
    given = {k: v for k, v in params.items() if k != solve_for}
    res = pw.sample_size(design, es=es, **given)
    assert res.solve_for == solve_for
    assert res.estimate == params[solve_for]


def test_powerup_cra3r3_power_example():
    # PowerUpR R/cra3r3.R example: power.cra3r3(es=.269, rho3=.06, rho2=.17, n=15, J=3, K=60)
    res = pw.power("cluster3", es=0.269, rho3=0.06, rho2=0.17, n=15, J=3, K=60)
    assert res.estimate == pytest.approx(0.80, abs=1e-3)


@pytest.mark.parametrize("n", [10, 25, 60, 200])
def test_paired_mdes_matches_statsmodels(n):
    # statsmodels TTestPower (one-sample / paired t, noncentral t), two-sided
    # (statsmodels' root finder stops at about 1e-6 relative; our MDES has power .8 to 1e-9)
    expected = TTestPower().solve_power(nobs=n, alpha=0.05, power=0.8, alternative="two-sided")
    res = pw.mdes("paired", n=n)
    assert res.estimate == pytest.approx(expected, rel=2e-5)
    assert TTestPower().power(res.estimate, n, 0.05) == pytest.approx(0.8, abs=1e-9)


@pytest.mark.parametrize("es, n", [(0.2, 50), (0.5, 30), (0.8, 12)])
def test_paired_power_matches_statsmodels(es, n):
    expected = TTestPower().power(effect_size=es, nobs=n, alpha=0.05, alternative="two-sided")
    assert pw.power("paired", es=es, n=n).estimate == pytest.approx(expected, rel=1e-8)


def test_paired_one_tailed_matches_statsmodels():
    expected = TTestPower().power(effect_size=0.4, nobs=40, alpha=0.05, alternative="larger")
    assert pw.power("paired", es=0.4, n=40, two_tailed=False).estimate == pytest.approx(expected)


def test_paired_sample_size_matches_statsmodels():
    # the smallest whole n whose power reaches .80
    exact = TTestPower().solve_power(effect_size=0.5, alpha=0.05, power=0.8)
    res = pw.sample_size("paired", es=0.5)
    assert res.estimate == int(-(-exact // 1))
    assert res.power >= 0.8
    assert pw.power("paired", es=0.5, n=res.estimate - 1).estimate < 0.8
