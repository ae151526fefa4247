"""evalkit.power: the "proportions" design (pwr), attrition and unequal cluster sizes."""

import math

import pytest
from scipy import stats

from evalkit import power as pw
from evalkit.errors import ParameterError


def test_cohens_h_matches_pwr_es_h():
    # pwr's ES.h: 2 asin(sqrt(p1)) - 2 asin(sqrt(p2)); pwr vignette uses ES.h(0.65, 0.50)
    assert pw.cohens_h(0.65, 0.50) == pytest.approx(0.3046927, abs=1e-7)
    assert pw.cohens_h(0.5, 0.65) == pytest.approx(-pw.cohens_h(0.65, 0.5), rel=1e-15)
    assert pw.cohens_h(0.75, 0.50) == pytest.approx(0.5235988, abs=1e-7)  # = pi/6


@pytest.mark.parametrize("p1, p2", [(0.0, 0.5), (1.0, 0.5), (0.3, 1.2), (-0.1, 0.4)])
def test_cohens_h_rejects_proportions_outside_0_1(p1, p2):
    with pytest.raises(ParameterError, match="out of range"):
        pw.cohens_h(p1, p2)


def test_pwr_2p_test_cohen_exercise_6_1():
    # pwr documentation, pwr.2p.test(h=0.3, n=80, sig.level=0.05, alternative="greater")
    # (Cohen 1988, exercise 6.1, p. 198): power = 0.5996777. n = 80 per group -> 160 in all.
    res = pw.power("proportions", es=0.3, n=160, two_tailed=False)
    assert res.estimate == pytest.approx(0.5996777, abs=1e-7)
    assert res.design_effect == 1.0
    assert "Cohen's h" in res.method


def test_pwr_2p2n_test_cohen_exercise_6_3():
    # pwr documentation, pwr.2p2n.test(h=0.30, n1=80, n2=245, alternative="greater")
    # (Cohen 1988, exercise 6.3, p. 200): power = 0.7532924
    res = pw.power("proportions", es=0.3, n=325, p=80 / 325, two_tailed=False)
    assert res.estimate == pytest.approx(0.7532924, abs=1e-7)
    # the unequal split is symmetric: the service group may be either sample
    other = pw.power("proportions", es=0.3, n=325, p=245 / 325, two_tailed=False)
    assert other.estimate == pytest.approx(res.estimate, rel=1e-12)


def test_two_sided_power_counts_both_tails_as_pwr():
    # pwr.2p.test two-sided: pnorm(h sqrt(n/2) - z) + pnorm(-h sqrt(n/2) - z), n per group;
    # recomputed from that formula (h = 0.3, n = 80 per group: 0.4751009)
    z = stats.norm.ppf(0.975)
    lam = 0.3 * math.sqrt(80 / 2)
    expected = stats.norm.sf(z - lam) + stats.norm.cdf(-z - lam)
    res = pw.power("proportions", es=0.3, n=160)
    assert res.estimate == pytest.approx(expected, rel=1e-12)
    assert res.estimate == pytest.approx(0.4751009, abs=1e-7)
    # a negative h (service group lower) has the same two-sided power
    assert pw.power("proportions", es=-0.3, n=160).estimate == pytest.approx(res.estimate)


def test_mdes_and_sample_size_invert_pwr():
    # pwr.2p.test(h=0.3, power=0.8) gives n = 174.4195 per group: 348.84 in all -> 349
    res = pw.sample_size("proportions", es=0.3)
    assert res.estimate == 349
    assert pw.power("proportions", es=0.3, n=348).estimate < 0.8 <= res.power
    # pwr.2p.test(n=80, power=0.8) solves for h; the exact inverse of the power above
    m = pw.mdes("proportions", n=160)
    assert pw.power("proportions", es=m.estimate, n=160).estimate == pytest.approx(0.8, abs=1e-10)
    # one-sided: h = (z_.95 + z_.80) / sqrt(n/2) in closed form
    one = pw.mdes("proportions", n=160, two_tailed=False)
    closed = (stats.norm.ppf(0.95) + stats.norm.ppf(0.8)) / math.sqrt(40)
    assert one.estimate == pytest.approx(closed, rel=1e-9)
    assert "Cohen's h" in m.summary_text()
    # a fall (h < 0) needs the same sample as the same rise
    assert pw.sample_size("proportions", es=-0.3).estimate == 349


def test_proportions_bad_input():
    with pytest.raises(ParameterError, match="out of range"):
        pw.power("proportions", es=0.2, n=100, p=1.0)
    with pytest.raises(ParameterError, match="not used by"):
        pw.power("proportions", es=0.2, n=100, rho2=0.1)


def test_attrition_shrinks_the_analysed_sample():
    # 250 recruited with 20% lost to follow-up is analysed as 200
    lost = pw.mdes("individual", n=250, attrition=0.2)
    assert lost.estimate == pytest.approx(pw.mdes("individual", n=200).estimate, rel=1e-12)
    assert lost.params["n"] == 250 and lost.params["attrition"] == 0.2
    # the required recruitment is about 1 / (1 - attrition) times larger
    base = pw.sample_size("individual", es=0.3).estimate
    more = pw.sample_size("individual", es=0.3, attrition=0.2).estimate
    assert more == pytest.approx(base / 0.8, abs=2)
    # clusters: individuals are lost within each cluster
    c = pw.mdes("cluster2", rho2=0.1, n=25, J=20, attrition=0.2)
    assert c.estimate == pytest.approx(pw.mdes("cluster2", rho2=0.1, n=20, J=20).estimate)
    for design, kw in [
        ("blocked_individual", {"n": 15, "J": 20}),
        ("cluster3", {"rho2": 0.1, "rho3": 0.05, "n": 10, "J": 3, "K": 40}),
        ("paired", {"n": 50}),
        ("proportions", {"n": 300}),
    ]:
        assert pw.mdes(design, attrition=0.1, **kw).estimate > pw.mdes(design, **kw).estimate
    with pytest.raises(ParameterError, match="attrition"):
        pw.mdes("individual", n=100, attrition=1.0)


def test_unequal_cluster_sizes_design_effect_eldridge():
    # Eldridge, Ashby & Kerry (2006): DE = 1 + ((cv^2 + 1) m - 1) rho.
    # m = 20, cv = 0.5, rho = 0.05 -> 1 + (1.25 * 20 - 1) * 0.05 = 2.2 (recomputed)
    res = pw.mdes("cluster2", rho2=0.05, n=20, J=30, cv=0.5)
    assert res.design_effect == pytest.approx(2.2, rel=1e-12)
    equal = pw.mdes("cluster2", rho2=0.05, n=20, J=30)
    assert equal.design_effect == pytest.approx(1 + 19 * 0.05)
    # without covariates the SE is sqrt(DE / (p(1-p) J m)), so the MDES scales with sqrt(DE)
    assert res.se == pytest.approx(math.sqrt(2.2 / (0.25 * 30 * 20)), rel=1e-12)
    assert res.estimate / equal.estimate == pytest.approx(math.sqrt(2.2 / 1.95), rel=1e-12)
    more = pw.sample_size("cluster2", es=0.3, rho2=0.05, n=20, cv=0.7).estimate
    assert more > pw.sample_size("cluster2", es=0.3, rho2=0.05, n=20).estimate
    with pytest.raises(ParameterError, match="cv"):
        pw.mdes("cluster2", rho2=0.05, n=20, J=30, cv=-0.1)
    with pytest.raises(ParameterError, match="not used by"):
        pw.mdes("individual", n=100, cv=0.3)
