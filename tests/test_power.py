"""evalkit.power: parameters, bad input, sample-size search, results, plots, properties."""

import math

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from evalkit import power as pw
from evalkit.errors import ParameterError


def test_template_calls():
    # the report template: could this area's sample detect the hoped-for effect?
    res = pw.mdes("individual", n=120, p=0.4, r2=0.3)
    # recomputed from the PowerUp! formula for individual random assignment
    df = 120 - 2
    m = stats.t.ppf(0.975, df) + stats.t.ppf(0.8, df)
    assert res.estimate == pytest.approx(m * math.sqrt(0.7 / (0.4 * 0.6 * 120)), rel=1e-12)
    assert res.can_detect(0.6) and not res.can_detect(0.3)
    assert "120 families" in res.summary_text()
    paired = pw.mdes("paired", n=40)
    assert paired.method.startswith("noncentral")
    assert pw.power("paired", es=paired.estimate, n=40).estimate == pytest.approx(0.8, abs=1e-9)


def test_paired_corr_converts_to_outcome_sd_units():
    # with pre-post correlation r the SD of change is sqrt(2(1 - r)) outcome SDs
    dz = pw.mdes("paired", n=50).estimate
    d = pw.mdes("paired", n=50, corr=0.6).estimate
    assert d == pytest.approx(dz * math.sqrt(2 * (1 - 0.6)), rel=1e-9)


def test_covariates_and_df():
    base = pw.mdes("cluster2", rho2=0.1, n=20, J=30)
    adjusted = pw.mdes("cluster2", rho2=0.1, n=20, J=30, r2=0.5, r2_2=0.5, g=1)
    assert adjusted.estimate < base.estimate
    assert adjusted.df == 30 - 1 - 2
    assert pw.mdes("blocked_individual", n=15, J=20, g=2).df == 20 * 14 - 2 - 1
    assert pw.mdes("cluster3", rho2=0.1, rho3=0.05, n=10, J=3, K=40).df == 38


def test_one_tailed_and_exact():
    two = pw.mdes("individual", n=200)
    one = pw.mdes("individual", n=200, two_tailed=False)
    assert one.estimate < two.estimate
    exact = pw.mdes("individual", n=200, exact=True)
    assert pw.power("individual", es=exact.estimate, n=200).estimate == pytest.approx(0.8)
    assert exact.estimate == pytest.approx(two.estimate, rel=1e-3)
    # PowerUp!'s interval: the MDES +/- t_(1-alpha/2) standard errors
    t1 = stats.t.ppf(0.975, 198)
    assert two.ci_low == pytest.approx(two.estimate - t1 * two.se)
    assert two.ci_high == pytest.approx(two.estimate + t1 * two.se)
    assert exact.ci_low is None


def test_sample_size_other_parameters():
    res = pw.sample_size("cluster2", es=0.4, rho2=0.05, J=30, solve_for="n")
    assert res.solve_for == "n" and res.estimate == res.params["n"]
    assert res.power >= 0.8
    assert pw.power("cluster2", es=0.4, rho2=0.05, J=30, n=res.estimate - 1).estimate < 0.8
    higher = pw.sample_size("individual", es=0.3, power=0.9)
    assert higher.estimate > pw.sample_size("individual", es=0.3).estimate
    assert higher.target_power == 0.9


def test_sample_size_unreachable_says_why():
    # with 8 clusters and ICC .2 no number of families per cluster reaches 80% power for 0.3 SD
    with pytest.raises(ParameterError, match="cannot be reached by increasing n"):
        pw.sample_size("cluster2", es=0.3, rho2=0.2, J=8, solve_for="n")


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda: pw.mdes("stepped_wedge", n=10), "not one of the designs"),
        (lambda: pw.mdes("individual", n=100, rho2=0.1), "not used by"),
        (lambda: pw.mdes("cluster2", n=10, J=20), "needs rho2"),
        (lambda: pw.mdes("individual", n=100, p=1.2), "out of range"),
        (lambda: pw.mdes("individual", n=100, r2=1.0), "out of range"),
        (lambda: pw.mdes("individual", n=3, g=2), "too small"),
        (lambda: pw.mdes("cluster3", rho2=0.6, rho3=0.5, n=5, J=2, K=20), "sum to less"),
        (lambda: pw.mdes("individual", n=100, g=1.5), "whole number"),
        (lambda: pw.mdes("individual", n="100"), "not a number"),
        (lambda: pw.mdes("individual", n=100, alpha=0), "out of range"),
        (lambda: pw.power("individual", es=0.3), "needs n"),
        (lambda: pw.sample_size("individual", es=-0.2), "above 0"),
        (lambda: pw.sample_size("individual", es=0.2, n=50), "solved for"),
        (lambda: pw.sample_size("cluster2", es=0.2, rho2=0.1, n=5, solve_for="K"), "not a size"),
    ],
)
def test_bad_parameters(call, fragment):
    with pytest.raises(ParameterError, match=fragment):
        call()


def test_tidy_row_has_design_parameters_and_no_empty_cells():
    row = pw.mdes("cluster2", rho2=0.17, n=15, J=20).to_frame().iloc[0]
    assert row["estimate"] == pytest.approx(0.629, abs=5e-4)
    assert row["J"] == 20 and row["rho2"] == 0.17 and row["design"] == "cluster2"
    assert "es" not in row.index
    assert row.notna().all()


def test_mdes_plot():
    from matplotlib.figure import Figure

    res = pw.power("cluster2", es=0.3, rho2=0.1, n=20, J=12)
    fig = res.plot()
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    assert ax.get_xlabel().startswith("number of blocks or clusters")
    assert len(ax.lines) == 2  # the curve and the effect hoped for
    fig2 = pw.plot_mdes("individual", n=150, sizes=range(20, 400, 20))
    assert isinstance(fig2, Figure)
    curve = pw.mdes_curve("cluster2", vary="n", sizes=[5, 10, 20], rho2=0.1, J=12)
    assert list(curve.columns) == ["n", "mdes", "df"]


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(5, 500),
    rho2=st.floats(0.0, 0.5),
    r2=st.floats(0.0, 0.9),
    j=st.integers(8, 60),
)
def test_mdes_falls_with_more_clusters_and_power_inverts(n, rho2, r2, j):
    a = pw.mdes("cluster2", rho2=rho2, r2=r2, n=n, J=j)
    b = pw.mdes("cluster2", rho2=rho2, r2=r2, n=n, J=j + 1)
    assert b.estimate < a.estimate
    exact = pw.mdes("cluster2", rho2=rho2, r2=r2, n=n, J=j, exact=True)
    got = pw.power("cluster2", es=exact.estimate, rho2=rho2, r2=r2, n=n, J=j).estimate
    assert got == pytest.approx(0.8, abs=1e-8)
    # PowerUp!'s approximation is within 1% of the exact inverse from 6 degrees of freedom
    assert a.estimate == pytest.approx(exact.estimate, rel=0.01)
