"""Population indicators against published values.

Sources: ``shared/reference/published.md`` (OHID Fingertips methods, R PHEindicatormethods) and
PHEindicatormethods' own test data (``tests/testthat/testdata_funnel_prop_outputs.csv``).
"""

import numpy as np
import pytest
from scipy import stats

from evalkit import indicators


def test_wilson_65_of_100():
    # published.md: Wilson score interval, 65/100 at 95%: 0.5525-0.7364
    r = indicators.proportion(65, 100)
    assert r.estimate == pytest.approx(0.65)
    assert r.ci_low == pytest.approx(0.5525, abs=5e-5)
    assert r.ci_high == pytest.approx(0.7364, abs=5e-5)
    assert r.method == "wilson"


def test_wilson_formula_recomputed_at_998():
    # published.md formula: (2x + z^2 -/+ z*sqrt(z^2 + 4x(1 - x/n))) / (2(n + z^2)), z = 3.0902
    x, n = 65, 100
    z = stats.norm.ppf(0.999)
    root = z * np.sqrt(z**2 + 4 * x * (1 - x / n))
    r = indicators.proportion(x, n, level=0.998)
    assert r.ci_low == pytest.approx((2 * x + z**2 - root) / (2 * (n + z**2)), rel=1e-12)
    assert r.ci_high == pytest.approx((2 * x + z**2 + root) / (2 * (n + z**2)), rel=1e-12)


def test_byar_100_events_per_100():
    # published.md: Byar's method, 100 events: 81.36-121.63 per 100 at risk (95%)
    r = indicators.rate(100, 100, multiplier=100)
    assert r.estimate == pytest.approx(100.0)
    assert r.ci_low == pytest.approx(81.36, abs=0.005)
    assert r.ci_high == pytest.approx(121.63, abs=0.005)
    assert r.method == "byar"


@pytest.mark.parametrize("x", [0, 1, 3, 9])
def test_exact_poisson_below_10_events(x):
    # published.md: exact Poisson for x < 10: chi2(a/2; 2x)/2 and chi2(1 - a/2; 2x + 2)/2.
    # Recomputed with scipy's chi2, and checked against the defining Poisson tail property
    # (Garwood 1936): P(X >= x | lower) = P(X <= x | upper) = 0.025.
    r = indicators.rate(x, 1000, multiplier=1000)
    lower = 0.0 if x == 0 else stats.chi2.ppf(0.025, 2 * x) / 2
    upper = stats.chi2.ppf(0.975, 2 * x + 2) / 2
    assert r.method == "exact"
    assert r.ci_low == pytest.approx(lower, rel=1e-12, abs=1e-15)
    assert r.ci_high == pytest.approx(upper, rel=1e-12)
    assert stats.poisson.cdf(x, upper) == pytest.approx(0.025, rel=1e-9)
    if x > 0:
        assert stats.poisson.sf(x - 1, lower) == pytest.approx(0.025, rel=1e-9)


def test_byar_switches_at_10_events():
    # PHEindicatormethods phe_rate: exact below 10 events, Byar from 10
    df = indicators.rate([9, 10], [1000, 1000])
    assert list(df["method"]) == ["exact", "byar"]


def test_funnel_65_percent_n_200_normal():
    # published.md: funnel limits around p = 65%, n = 200: 95% 58.39-71.61, 99.8% 54.58-75.42
    f = indicators.funnel([130], [200], method="normal")
    row = f.table.iloc[0]
    assert f.average == pytest.approx(0.65)
    assert row["lower_95"] == pytest.approx(58.39, abs=0.005)
    assert row["upper_95"] == pytest.approx(71.61, abs=0.005)
    assert row["lower_998"] == pytest.approx(54.58, abs=0.005)
    assert row["upper_998"] == pytest.approx(75.42, abs=0.005)


def test_funnel_65_percent_n_200_wilson():
    # The Fingertips (Wilson-based) limits agree with published.md to 2 decimals at n = 200.
    f = indicators.funnel([130], [200], target=0.65)
    row = f.table.iloc[0]
    assert row["lower_95"] == pytest.approx(58.39, abs=0.005)
    assert row["upper_95"] == pytest.approx(71.61, abs=0.005)
    assert row["lower_998"] == pytest.approx(54.58, abs=0.005)
    assert row["upper_998"] == pytest.approx(75.42, abs=0.005)


# PHEindicatormethods tests/testthat/testdata_funnel_prop_outputs.csv (phe_funnels, proportion,
# multiplier 100, baseline 80.642448): Population, lower 2s, upper 2s, lower 3s, upper 3s
PHE_FUNNEL_ROWS = [
    (3, 35.933491, 100.0, 10.150815, 100.0),
    (20, 63.326743, 97.958152, 53.341156, 100.0),
    (190, 75.024492, 86.260404, 71.784739, 89.500157),
    (1008, 78.203374, 83.081521, 76.796814, 84.488082),
    (110000, 80.408963, 80.875933, 80.274317, 81.010578),
]


@pytest.mark.parametrize("pop, lo95, hi95, lo998, hi998", PHE_FUNNEL_ROWS)
def test_funnel_limits_match_phe_indicatormethods(pop, lo95, hi95, lo998, hi998):
    limits = indicators.funnel_limits([pop], average=0.80642448)
    row = limits.iloc[0]
    # the baseline is given to 8 significant figures, so compare to 1e-5 percentage points
    assert row["lower_95"] == pytest.approx(lo95, abs=2e-5)
    assert row["upper_95"] == pytest.approx(hi95, abs=2e-5)
    assert row["lower_998"] == pytest.approx(lo998, abs=2e-5)
    assert row["upper_998"] == pytest.approx(hi998, abs=2e-5)
