"""Meta-regression, tau² estimators, Q-profile intervals and small-study checks against metafor.

Sources (each test names its own):
- metafor README and pkgdown reference (docs/reference/*.html, metafor 4.x): ``rma(yi, vi,
  mods = ~ ablat, data=dat)`` on dat.bcg, ``trimfill`` examples on dat.bcg, ``regtest``
  examples on dat.egger2001;
- metafor's test suite (tests/testthat): test_misc_confint.r (Q-profile), test_misc_anova.r
  (Knapp-Hartung F tests), test_analysis_example_berkey1995.r (Berkey et al. 1995, p. 408),
  test_analysis_example_vanhouwelingen2002.r (van Houwelingen et al. 2002, pp. 608-609),
  test_analysis_example_dersimonian2007.r (DerSimonian & Kacker 2007, Tables 3 and 4).
"""

import numpy as np
import pandas as pd
import pytest
from test_meta_published import BCG, bcg_log_rr  # same directory (pytest puts it on sys.path)

from evalkit.designs import egger_test, meta_analysis, trim_and_fill
from evalkit.errors import DataError, EvalkitWarning, ParameterError
from evalkit.meta import MetaRegression

# dat.bcg moderators: absolute latitude, year, treatment allocation
ABLAT = np.array([44, 55, 42, 52, 13, 44, 19, 13, 27, 42, 18, 33, 33], dtype=float)
ALLOC = [
    "random",
    "random",
    "random",
    "random",
    "alternate",
    "alternate",
    "random",
    "random",
    "random",
    "systematic",
    "systematic",
    "systematic",
    "systematic",
]


@pytest.fixture
def bcg():
    return bcg_log_rr()


# -- meta-regression ----------------------------------------------------------------------------


def test_bcg_ablat_reml(bcg):
    # metafor README / ?emmprep output: rma(yi, vi, mods = ~ ablat, data=dat)
    # tau^2 0.0764 (SE 0.0591), I^2 68.39%, H^2 3.16, R^2 75.62%, QE(11) 30.7331 (p 0.0012),
    # QM(1) 16.3571; intrcpt 0.2515 (0.2491) ablat -0.0291 (0.0072)
    yi, vi = bcg
    res = meta_analysis(yi, variance=vi, mods=pd.DataFrame({"ablat": ABLAT}))
    assert isinstance(res, MetaRegression)
    table = res.coefficients
    assert list(table.index) == ["intrcpt", "ablat"]
    assert list(table.columns) == ["estimate", "se", "z", "df", "p", "ci_low", "ci_high"]
    assert table["estimate"].tolist() == pytest.approx([0.2515, -0.0291], abs=5e-5)
    assert table["se"].tolist() == pytest.approx([0.2491, 0.0072], abs=5e-5)
    assert table.loc["ablat", "z"] == pytest.approx(-4.0444, abs=5e-4)
    assert res.tau2 == pytest.approx(0.0764, abs=5e-5)
    assert res.tau2_se == pytest.approx(0.0591, abs=5e-5)
    assert res.i2 == pytest.approx(68.39, abs=5e-3)
    assert res.h2 == pytest.approx(3.16, abs=5e-3)
    assert res.r2 == pytest.approx(75.62, abs=5e-3)
    assert (res.qe, res.qe_df, res.qe_p) == pytest.approx((30.73309, 11, 0.001214), abs=5e-6)
    assert res.qm == pytest.approx(16.3571, abs=5e-5)
    assert (res.qm_df1, res.qm_df2, res.qm_test) == (1, None, "chisq")
    assert res.to_frame()["term"].tolist() == ["intrcpt", "ablat"]


def test_knapp_hartung_f_tests(bcg):
    # test_misc_anova.r: rma(yi, vi, mods = ~ ablat + alloc, test="knha"):
    # F for ablat 8.2194 (p 0.0186), for alloc 0.6007 (p 0.5690); without knha QM(alloc) 1.2850
    yi, vi = bcg
    mods = pd.DataFrame({"ablat": ABLAT, "alloc": ALLOC})
    res = meta_analysis(yi, variance=vi, mods=mods, knha=True)
    assert list(res.coefficients.index) == ["intrcpt", "ablat", "allocrandom", "allocsystematic"]
    assert res.test == "t" and (res.coefficients["df"] == 9).all()
    # (metafor's test checks these to 1%; ours is 8.21935)
    assert res.coefficients.loc["ablat", "t"] ** 2 == pytest.approx(8.2194, abs=1e-4)
    assert res.coefficients.loc["ablat", "p"] == pytest.approx(0.0186, abs=5e-5)
    b = res.coefficients["estimate"].to_numpy()[2:]
    v = res.vcov.to_numpy()[2:, 2:]
    assert b @ np.linalg.solve(v, b) / 2 == pytest.approx(0.6007, abs=5e-5)
    assert (res.qm_df1, res.qm_df2, res.qm_test) == (3, 9, "F")
    res_z = meta_analysis(yi, variance=vi, mods=mods)
    b = res_z.coefficients["estimate"].to_numpy()
    v = res_z.vcov.to_numpy()
    assert b[2:] @ np.linalg.solve(v[2:, 2:], b[2:]) == pytest.approx(1.2850, abs=5e-5)
    # anova(res, X=...): z for the predicted log RR at ablat 10, 30, 50 (random allocation off)
    x = np.array([[1, 10, 0, 0], [1, 30, 0, 0], [1, 50, 0, 0]], dtype=float)
    z = (x @ b) / np.sqrt(np.einsum("ij,jk,ik->i", x, v, x))
    assert z.tolist() == pytest.approx([0.0588, -1.7964, -3.1210], abs=5e-5)


def test_berkey_1995_empirical_bayes(bcg):
    # Berkey et al. (1995) p. 408 via metafor's test: smoothed variances, method="EB"
    yi, _ = bcg
    tpos, tneg, cpos, cneg = BCG.T
    vi = np.sum(tneg / tpos) / (13 * (tneg + tpos)) + np.sum(cneg / cpos) / (13 * (cneg + cpos))
    re = meta_analysis(yi, variance=vi, method="EB")
    assert (re.estimate, re.se, re.tau2) == pytest.approx((-0.5429, 0.1842, 0.268), abs=5e-4)
    me = meta_analysis(yi, variance=vi, method="EB", mods=pd.DataFrame({"ablat": ABLAT - 33.46}))
    assert me.coefficients["estimate"].tolist() == pytest.approx([-0.6303, -0.0268], abs=5e-5)
    assert me.coefficients["se"].tolist() == pytest.approx([0.1591, 0.0110], abs=5e-5)
    assert me.tau2 == pytest.approx(0.157, abs=5e-4)
    assert round(me.r2) == 41
    fe = meta_analysis(yi, variance=vi, method="FE", mods=pd.DataFrame({"ablat": ABLAT - 33.46}))
    assert fe.coefficients["estimate"].tolist() == pytest.approx([-0.5949, -0.0282], abs=5e-5)
    assert fe.coefficients["se"].tolist() == pytest.approx([0.0696, 0.0040], abs=5e-5)


def test_van_houwelingen_2002_ml_log_odds_ratios():
    # van Houwelingen et al. (2002) pp. 608-609 via metafor's test: log odds ratios of the BCG
    # trials, method="ML", mods = ~ ablat: 0.3710 (0.1061), -0.0327 (0.0034), tau2 0.0040,
    # R^2 98.6691
    tpos, tneg, cpos, cneg = BCG.T
    yi = np.log(tpos * cneg / (tneg * cpos))
    vi = 1 / tpos + 1 / tneg + 1 / cpos + 1 / cneg
    res = meta_analysis(yi, variance=vi, method="ML", mods=pd.DataFrame({"ablat": ABLAT}))
    assert res.coefficients["estimate"].tolist() == pytest.approx([0.3710, -0.0327], abs=5e-5)
    assert res.coefficients["se"].tolist() == pytest.approx([0.1061, 0.0034], abs=5e-5)
    assert res.tau2 == pytest.approx(0.0040, abs=5e-5)
    assert res.r2 == pytest.approx(98.6691, abs=5e-4)


def test_moderators_from_columns_and_errors(bcg):
    yi, vi = bcg
    df = pd.DataFrame({"yi": yi, "vi": vi, "ablat": ABLAT, "alloc": ALLOC, "one": 1.0})
    by_name = meta_analysis(df, mods=["ablat"])
    direct = meta_analysis(yi, variance=vi, mods=pd.DataFrame({"ablat": ABLAT}))
    pd.testing.assert_frame_equal(by_name.coefficients, direct.coefficients)
    with pytest.raises(DataError, match="one value") as err:
        meta_analysis(df, mods=["ablat", "one"])
    assert err.value.column == "one"
    with pytest.raises(DataError, match="no moderator column"):
        meta_analysis(df, mods=["latitude"])
    with pytest.raises(DataError, match="rows"):
        meta_analysis(yi, variance=vi, mods=pd.DataFrame({"ablat": ABLAT[:5]}))
    gaps = pd.DataFrame({"ablat": np.where(np.arange(13) == 4, np.nan, ABLAT)})
    with pytest.raises(DataError, match="missing moderator"):
        meta_analysis(yi, variance=vi, mods=gaps)
    with pytest.raises(DataError, match="collinear"):
        meta_analysis(yi, variance=vi, mods=pd.DataFrame({"a": ABLAT, "b": 2 * ABLAT}))


# -- tau² estimators and Q-profile intervals ------------------------------------------------


@pytest.mark.parametrize(
    ("method", "tau", "mu", "se"),
    [
        ("PM", 0.3681, -0.3811, 0.2060),
        ("HE", 0.4410, -0.4035, 0.2327),
        ("DL", 0.2323, -0.3240, 0.1540),
        ("EB", 0.3681, -0.3811, 0.2060),
        ("ML", 0.0023, -0.1974, 0.0694),
        ("REML", 0.1843, -0.2980, 0.1343),
        ("HS", 0.1330, -0.2666, 0.1125),
        ("SJ", 0.4572, -0.4079, 0.2386),
    ],
)
def test_dersimonian_kacker_2007_clasp(method, tau, mu, se):
    # DerSimonian & Kacker (2007) Tables 3 and 4 (CLASP trials, log odds ratios), as reproduced
    # in metafor's test_analysis_example_dersimonian2007.r
    n1 = np.array([156, 303, 565, 1570, 103, 4659], dtype=float)
    n2 = np.array([74, 303, 477, 1565, 105, 4650], dtype=float)
    ai = np.array([5, 5, 12, 69, 9, 313], dtype=float)
    ci = np.array([8, 17, 9, 94, 11, 352], dtype=float)
    bi, di = n1 - ai, n2 - ci
    yi = np.log(ai * di / (bi * ci))
    vi = 1 / ai + 1 / bi + 1 / ci + 1 / di
    res = meta_analysis(yi, variance=vi, method=method)
    assert (res.tau, res.estimate, res.se) == pytest.approx((tau, mu, se), abs=5e-5)


def test_q_profile_intervals(bcg):
    # test_misc_confint.r: confint(rma(yi, vi, method="DL")) on dat.bcg:
    # tau^2 0.3088 [0.1197, 1.1115], I^2 92.1173 [81.9177, 97.6781], H^2 12.6861 [5.5303, 43.0680]
    yi, vi = bcg
    res = meta_analysis(yi, variance=vi, method="DL")
    assert res.tau2_ci == pytest.approx((0.1197, 1.1115), abs=5e-5)
    assert res.i2 == pytest.approx(92.1173, abs=5e-5)
    assert res.i2_ci == pytest.approx((81.9177, 97.6781), abs=5e-5)
    assert res.h2_ci == pytest.approx((5.5303, 43.0680), abs=5e-5)
    # Q-profile does not depend on the estimator; FE has no interval
    assert meta_analysis(yi, variance=vi).tau2_ci == pytest.approx(res.tau2_ci)
    assert meta_analysis(yi, variance=vi, method="FE").tau2_ci is None


def test_q_profile_limits_at_zero():
    # homogeneous studies: Q(0) below the lower chi-square quantile gives [0, 0]; between the
    # quantiles, the lower limit is 0 (metafor's confint rules)
    yi = np.array([0.10, 0.11, 0.09, 0.10, 0.12, 0.08])
    res = meta_analysis(yi, se=np.full(6, 0.1))
    assert res.tau2_ci == (0.0, 0.0)
    yi = np.array([0.0, 0.2, -0.1, 0.15, 0.05, -0.05])
    res = meta_analysis(yi, se=np.full(6, 0.1))
    assert res.tau2_ci[0] == 0.0 and res.tau2_ci[1] > 0


# -- small-study effects ---------------------------------------------------------------------


def egger2001():
    # metafor ?regtest: dat.egger2001 (magnesium trials) without ISIS-4, log odds ratios with
    # 1/2 added to the cells of the table with a zero (escalc's default)
    ai = np.array([1, 9, 2, 1, 10, 1, 1, 0, 6, 1, 2, 5, 4, 90, 4], dtype=float)
    n1 = np.array([40, 135, 200, 48, 150, 59, 25, 22, 76, 27, 89, 23, 130, 1159, 107.0])
    ci = np.array([2, 23, 7, 1, 8, 9, 3, 1, 11, 7, 12, 13, 8, 118, 17], dtype=float)
    n2 = np.array([36, 135, 200, 46, 148, 56, 23, 21, 75, 27, 80, 33, 122, 1157, 108.0])
    bi, di = n1 - ai, n2 - ci
    zero = (ai == 0) | (bi == 0) | (ci == 0) | (di == 0)
    a, b, c, d = (x + 0.5 * zero for x in (ai, bi, ci, di))
    return np.log(a * d / (b * c)), 1 / a + 1 / b + 1 / c + 1 / d


def test_egger_test_regtest_example():
    # ?regtest: rma(yi, vi) tau^2 0.1911, -0.8745; regtest(res): z = -2.8062, p = 0.0050,
    # limit estimate b = -0.1639 (CI: -0.5681, 0.2402)
    yi, vi = egger2001()
    res = meta_analysis(yi, variance=vi)
    assert (res.tau2, res.estimate) == pytest.approx((0.1911, -0.8745), abs=5e-5)
    eg = egger_test(res)
    assert eg.statistic == pytest.approx(-2.8062, abs=5e-5)
    assert eg.p == pytest.approx(0.0050, abs=5e-5)
    assert eg.limit_estimate == eg.estimate == pytest.approx(-0.1639, abs=5e-5)
    assert (eg.ci_low, eg.ci_high) == pytest.approx((-0.5681, 0.2402), abs=5e-5)
    assert (eg.test, eg.df, eg.model, eg.predictor) == ("z", None, "rma", "sei")
    # the test is the meta-regression on the standard errors
    reg = meta_analysis(yi, variance=vi, mods=pd.DataFrame({"sei": np.sqrt(vi)}))
    assert reg.coefficients.loc["sei", "z"] == pytest.approx(eg.statistic, abs=1e-12)


def test_trim_and_fill_bcg_equal_effects(bcg):
    # ?trimfill: rma(yi, vi, method="EE") on dat.bcg; trimfill(res): 4 missing on the right
    # (SE 2.3853), -0.2910 (0.0383) [-0.3660, -0.2160]; filled yi 0.78929282 0.85949921
    # 1.00333667 1.03884624; estimator "R0": SE 3.1623, p 0.0312 (= 0.5^5)
    yi, vi = bcg
    res = meta_analysis(yi, variance=vi, method="FE")
    tf = trim_and_fill(res)  # 13 studies: no warning
    assert (tf.k0, tf.side, tf.estimator) == (4, "right", "L0")
    assert tf.se_k0 == pytest.approx(2.3853, abs=5e-5)
    assert (tf.estimate, tf.se) == pytest.approx((-0.2910, 0.0383), abs=5e-5)
    assert (tf.ci_low, tf.ci_high) == pytest.approx((-0.3660, -0.2160), abs=5e-5)
    assert sorted(tf.fill_yi) == pytest.approx(
        [0.78929282, 0.85949921, 1.00333667, 1.03884624], abs=5e-9
    )
    assert tf.filled.k == 17 and tf.filled.q == pytest.approx(262.7316, abs=5e-5)
    r0 = trim_and_fill(res, estimator="R0")
    assert (r0.k0, r0.se_k0, r0.p_k0) == pytest.approx((4, 3.1623, 0.03125), abs=5e-5)


def test_trim_and_fill_bcg_random_effects(bcg):
    # ?trimfill: rma(yi, vi) on dat.bcg; trimfill(res): 1 missing on the right (SE 2.4528),
    # tau^2 0.3313, -0.6571 (0.1785) [-1.0070, -0.3072]
    yi, vi = bcg
    tf = trim_and_fill(meta_analysis(yi, variance=vi))
    assert (tf.k0, tf.side) == (1, "right")
    assert tf.se_k0 == pytest.approx(2.4528, abs=5e-5)
    assert tf.tau2 == pytest.approx(0.3313, abs=5e-5)
    assert (tf.estimate, tf.se) == pytest.approx((-0.6571, 0.1785), abs=5e-5)
    assert (tf.ci_low, tf.ci_high) == pytest.approx((-1.0070, -0.3072), abs=5e-5)


def test_bias_tools_need_a_plain_meta_analysis(bcg):
    yi, vi = bcg
    reg = meta_analysis(yi, variance=vi, mods=pd.DataFrame({"ablat": ABLAT}))
    with pytest.raises(ParameterError, match="without moderators"):
        egger_test(reg)
    with pytest.raises(ParameterError, match="without moderators"):
        trim_and_fill(reg)
    res = meta_analysis(yi, variance=vi)
    with pytest.raises(ParameterError):
        trim_and_fill(res, estimator="Q0")
    with pytest.raises(ParameterError):
        trim_and_fill(res, side="up")


def test_bias_tools_warn_below_ten_studies(bcg):
    yi, vi = bcg
    res = meta_analysis(yi[:9], variance=vi[:9])
    with pytest.warns(EvalkitWarning, match="fewer than 10"):
        egger_test(res)
    with pytest.warns(EvalkitWarning, match="fewer than 10"):
        trim_and_fill(res)


def test_bias_tools_on_studies_of_equal_precision_say_so():
    """Every study with the same standard error (a regression on precision has no slope to
    fit): a plain DataError, not numpy's "Singular matrix" (a national synthesis of identical
    records hit it). Trim and fill still runs when the side is given."""
    y = np.array([0.1, 0.3, -0.2, 0.25, 0.0, 0.4, 0.15, -0.05, 0.2, 0.35, 0.05, 0.3])
    res = meta_analysis(y, variance=np.full(len(y), 0.04))
    with pytest.raises(DataError, match="different precision; all 12 have the same"):
        egger_test(res)
    with pytest.raises(DataError, match="different precision"):
        trim_and_fill(res)
    filled = trim_and_fill(res, side="left")
    assert filled.side == "left" and np.isfinite(filled.estimate)
