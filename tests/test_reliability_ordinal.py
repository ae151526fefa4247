"""Polychoric correlations, ordinal alpha and omega, Gwet's AC1 and ICC with missing ratings."""

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import integrate, stats

from evalkit import reliability as rel
from evalkit.errors import DataError, ParameterError
from evalkit.reliability.icc import mean_squares, reml_mean_squares
from evalkit.reliability.polychoric import bivariate_normal_cdf


def _expand(table):
    """Raw pairs of category codes from a contingency table of counts."""
    tab = np.asarray(table)
    i, j = np.indices(tab.shape)
    rows = np.column_stack([np.repeat(i.ravel(), tab.ravel()), np.repeat(j.ravel(), tab.ravel())])
    return pd.DataFrame(rows, columns=["x", "y"])


# --- bivariate normal probabilities ----------------------------------------------------------


def test_bivariate_normal_cdf_matches_plackett_integral():
    # independent derivation: Phi2 = Phi(h)Phi(k) + integral of the bivariate density in rho
    # (Plackett 1954), integrated numerically with quad
    rng = np.random.default_rng(7)
    for trial in range(60):
        h, k = rng.normal(size=2) * 1.5
        h = 0.0 if trial % 7 == 0 else h
        k = 0.0 if trial % 11 == 0 else k
        r = rng.uniform(-0.995, 0.995)

        def f(t, h=h, k=k):
            return np.exp(-(h * h - 2 * h * k * np.sin(t) + k * k) / (2 * np.cos(t) ** 2)) / (
                2 * np.pi
            )

        ref = stats.norm.cdf(h) * stats.norm.cdf(k)
        ref += integrate.quad(f, 0, np.arcsin(r), epsabs=1e-14, epsrel=1e-13)[0]
        assert float(bivariate_normal_cdf(h, k, r)) == pytest.approx(ref, abs=1e-13)
    assert float(bivariate_normal_cdf(np.inf, 0.3, 0.5)) == pytest.approx(stats.norm.cdf(0.3))
    assert float(bivariate_normal_cdf(-np.inf, 0.3, 0.5)) == 0.0


# --- polychoric ------------------------------------------------------------------------------


@pytest.mark.parametrize("p11, rho", [(0.3333333, 0.5), (0.3154950, 0.4), (0.39758450, 0.8)])
def test_tetrachoric_matches_kirk_1973(p11, rho):
    # psych's tests (tests/testthat/test_tetrachoric..r): Kirk (1973) joint probabilities with
    # both marginals .5 give rho .5, .4 and .8 (psych checks to 1e-5 / 1e-4)
    n = 1_000_000  # rounding the counts moves rho by under 3e-6
    a = round(p11 * n)
    table = [[a, n // 2 - a], [n // 2 - a, a]]
    res = rel.polychoric(_expand(table), correct=0)
    assert res.rho.iloc[0, 1] == pytest.approx(rho, abs=1e-5)
    assert res.tau.to_numpy() == pytest.approx(0.0, abs=1e-12)


def test_polychoric_olsson_1979_example():
    # psych's polychoric documentation: the example from Olsson (1979),
    # x <- as.table(matrix(c(13,69,41,6,113,132,0,22,104),3,3)); polychoric(x, correct=FALSE)
    # "Olsson reports rho = .49, tau row = -1.77, -.14 and tau col = -.69, .67"
    table = np.array([[13, 6, 0], [69, 113, 22], [41, 132, 104]])
    res = rel.polychoric(_expand(table), correct=0)
    assert round(res.rho.iloc[0, 1], 2) == 0.49
    assert res.tau.iloc[0].round(2).tolist() == [-1.77, -0.14]
    assert res.tau.iloc[1].round(2).tolist() == [-0.69, 0.67]
    assert res.n == 500 and res.n_corrected == 0
    # independent check of the maximum: the log-likelihood with scipy's bivariate normal is
    # no higher on a grid around the estimate
    tau_r, tau_c = res.tau.iloc[0].to_numpy(), res.tau.iloc[1].to_numpy()

    def loglik(r):
        a = np.r_[-8, tau_r, 8]
        b = np.r_[-8, tau_c, 8]
        mvn = stats.multivariate_normal([0, 0], [[1, r], [r, 1]])
        f = np.array([[mvn.cdf([x, y]) for y in b] for x in a])
        p = np.diff(np.diff(f, axis=0), axis=1)
        return float(np.sum(table * np.log(p)))

    est = res.rho.iloc[0, 1]
    assert loglik(est) >= max(loglik(est - 0.002), loglik(est + 0.002)) - 1e-6
    # psych's default continuity correction (correct = .5) changes the table with an empty cell
    corrected = rel.polychoric(_expand(table))
    assert corrected.n_corrected == 1 and corrected.rho.iloc[0, 1] != est


def test_polychoric_recovers_latent_correlation_and_tidy_frame():
    rng = np.random.default_rng(11)
    cov = np.full((4, 4), 0.6) + 0.4 * np.eye(4)
    z = rng.multivariate_normal(np.zeros(4), cov, size=4000)
    x = pd.DataFrame(np.digitize(z, [-1.0, 0.2, 1.1]), columns=list("abcd"))
    res = rel.polychoric(x)
    off = res.rho.to_numpy()[np.triu_indices(4, 1)]
    assert np.all(np.abs(off - 0.6) < 0.05)
    frame = res.to_frame()
    assert list(frame["term"]) == ["a~b", "a~c", "a~d", "b~c", "b~d", "c~d"]
    assert frame["estimate"].to_numpy() == pytest.approx(off)
    # pairwise: thresholds use each item's own answers
    x.iloc[:300, 0] = np.nan
    miss = rel.polychoric(x)
    assert miss.n == 4000 and abs(miss.rho.iloc[0, 1] - 0.6) < 0.06


def test_ordinal_alpha_is_alpha_of_the_polychoric_matrix():
    # psych: alpha(polychoric(x)$rho) -- alpha of a correlation matrix, k/(k-1)(1 - k/sum R)
    rng = np.random.default_rng(3)
    z = rng.multivariate_normal(np.zeros(5), np.full((5, 5), 0.5) + 0.5 * np.eye(5), size=600)
    x = pd.DataFrame(np.digitize(z, [0.3, 1.0, 1.6]))  # skewed 4-point items
    r = rel.polychoric(x).rho.to_numpy()
    k = 5
    expected = k / (k - 1) * (1 - k / r.sum())
    res = rel.alpha(x, ordinal=True)
    assert res.estimate == pytest.approx(expected, rel=1e-12)
    assert res.standardized == pytest.approx(expected, rel=1e-12)
    assert "polychoric" in res.method
    # ordinal alpha is above Pearson alpha when items are coarse and skewed
    assert res.estimate > rel.alpha(x).estimate
    lo, hi = rel.alpha(x, ordinal=True, ci="ase").ci_low, res.ci_high
    assert lo < res.estimate < hi
    with pytest.raises(ParameterError, match="bootstrap"):
        rel.alpha(x, ordinal=True, ci="bootstrap")


def test_ordinal_omega_fits_the_polychoric_matrix():
    rng = np.random.default_rng(5)
    lam = np.array([0.8, 0.7, 0.6, 0.7, 0.5, 0.6])
    cov = np.outer(lam, lam) + np.diag(1 - lam**2)
    z = rng.multivariate_normal(np.zeros(6), cov, size=3000)
    x = pd.DataFrame(np.digitize(z, [-0.8, 0.0, 0.9]))
    res = rel.omega(x, ordinal=True)
    # standardised one-factor loadings of the polychoric matrix recover the latent loadings
    assert np.all(np.abs(res.loadings.to_numpy() - lam) < 0.06)
    total = res.loadings.sum() ** 2
    assert res.omega_total == pytest.approx(total / (total + res.uniquenesses.sum()))
    true = lam.sum() ** 2 / (lam.sum() ** 2 + (1 - lam**2).sum())
    assert abs(res.omega_total - true) < 0.02
    assert "polychoric" in res.method


@pytest.mark.parametrize(
    "call",
    [
        lambda x: rel.polychoric(x),
        lambda x: rel.alpha(x, ordinal=True),
        lambda x: rel.omega(x, ordinal=True),
    ],
)
def test_ordinal_needs_whole_number_items(call):
    x = pd.DataFrame({"q1": [1, 2, 3, 2, 1], "q2": [1.5, 2, 3, 2, 1], "q3": [2, 2, 3, 1, 1]})
    with pytest.raises(DataError, match="whole-number") as err:
        call(x)
    assert "q2" in str(err.value) and "q1" not in str(err.value)


def test_polychoric_bad_parameters():
    x = [[0, 1], [1, 1], [1, 0], [0, 0]]
    with pytest.raises(ParameterError, match="correct"):
        rel.polychoric(x, correct=-1)
    with pytest.raises(DataError, match="no variance"):
        rel.polychoric([[0, 1], [0, 1], [0, 0]])


# --- Gwet's AC1 ------------------------------------------------------------------------------

RAW4RATERS = pd.DataFrame(
    # irrCAC's cac.raw4raters (Gwet 2014, Handbook of inter-rater reliability, ch. 2)
    [
        [1, 1, None, 1],
        [2, 2, 3, 2],
        [3, 3, 3, 3],
        [3, 3, 3, 3],
        [2, 2, 2, 2],
        [1, 2, 3, 4],
        [4, 4, 4, 4],
        [1, 1, 2, 1],
        [2, 2, 2, 2],
        [None, 5, 5, 5],
        [None, None, 1, 1],
        [None, None, 3, None],
    ],
    columns=["Rater1", "Rater2", "Rater3", "Rater4"],
    dtype=float,
)


def test_gwet_ac1_matches_irrcac_raw4raters():
    # irrCAC overview vignette, gwet.ac1.raw(cac.raw4raters): pa 0.8181818, pe 0.1903212,
    # AC1 0.77544, SE 0.14295, CI (0.461, 1), p 0.000208721
    res = rel.gwet_ac1(RAW4RATERS)
    assert res.agreement == pytest.approx(0.8181818, abs=1e-7)
    assert res.expected == pytest.approx(0.1903212, abs=1e-7)
    assert res.estimate == pytest.approx(0.77544, abs=5e-6)
    assert res.se == pytest.approx(0.14295, abs=5e-6)
    assert round(res.ci_low, 3) == 0.461 and res.ci_high == 1.0
    assert res.p == pytest.approx(0.000208721, rel=1e-5)
    assert res.n == 12 and res.raters == 4
    # the same raters given one by one
    same = rel.gwet_ac1(*(RAW4RATERS[c] for c in RAW4RATERS.columns))
    assert same.estimate == pytest.approx(res.estimate, rel=1e-14)


def test_gwet_ac1_two_raters_cont3x3abstractors():
    # irrCAC overview vignette, gwet.ac1.table(cont3x3abstractors): AC1 0.8493305, SE
    # 0.04321747. The table version divides the variance by n^2, the raw version (ours, as
    # gwet.ac1.raw) by n(n - 1), so SE_raw = SE_table * sqrt(n / (n - 1)) with n = 100.
    pairs = _expand([[13, 0, 0], [0, 20, 7], [0, 4, 56]])
    res = rel.gwet_ac1(pairs["x"], pairs["y"])
    assert res.estimate == pytest.approx(0.8493305, abs=1e-7)
    assert res.se == pytest.approx(0.04321747 * np.sqrt(100 / 99), abs=1e-8)
    # Gwet (2008), two raters: pe = sum pi_k (1 - pi_k) / (q - 1), pi_k = (p_k. + p_.k) / 2
    p = np.array([[13, 0, 0], [0, 20, 7], [0, 4, 56]]) / 100
    pi = (p.sum(axis=0) + p.sum(axis=1)) / 2
    pe = np.sum(pi * (1 - pi)) / 2
    assert res.expected == pytest.approx(pe, rel=1e-14)
    assert res.estimate == pytest.approx((np.trace(p) - pe) / (1 - pe), rel=1e-14)


def test_gwet_ac2_weights_and_bad_input():
    quad = rel.gwet_ac1(RAW4RATERS, weights="quadratic")
    assert quad.weights == "quadratic" and "AC2" in quad.method
    # identity weights given as a matrix are AC1
    eye = rel.gwet_ac1(RAW4RATERS, weights=np.eye(5))
    assert eye.estimate == pytest.approx(rel.gwet_ac1(RAW4RATERS).estimate, rel=1e-14)
    # categories nobody used still count in q (and so in pe)
    wider = rel.gwet_ac1(RAW4RATERS, categories=[1, 2, 3, 4, 5, 6])
    assert wider.expected < rel.gwet_ac1(RAW4RATERS).expected
    with pytest.raises(DataError, match="same subjects"):
        rel.gwet_ac1([1, 2, 3], [1, 2])
    with pytest.raises(DataError, match="outside the categories"):
        rel.gwet_ac1([1, 2, 3], [1, 2, 9], categories=[1, 2, 3])
    with pytest.raises(ParameterError, match="weights"):
        rel.gwet_ac1([1, 2, 3], [1, 2, 2], weights="cubic")
    with pytest.raises(DataError, match="two or more raters"):
        rel.gwet_ac1([1, None, 3], [None, 2, None])


# --- ICC with missing ratings (REML, psych ICC(lmer = TRUE)) ----------------------------------

SF = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]],
    dtype=float,
)


def test_icc_reml_balanced_equals_shrout_fleiss():
    # with complete data and positive variance components REML equals the ANOVA estimators,
    # so psych's ICC(sf, lmer = TRUE) gives Shrout & Fleiss's values (.17 .29 .71 .44 .62 .91;
    # to 6 places in shared/reference/published.md)
    res = rel.icc(SF, missing="reml")
    expected = [0.165742, 0.289764, 0.714841, 0.442797, 0.620051, 0.909316]
    assert res["icc"].to_numpy() == pytest.approx(expected, abs=1e-6)
    ms = mean_squares(SF)
    reml = reml_mean_squares(SF)
    for key in ("msb", "msw", "msj", "mse"):
        assert reml[key] == pytest.approx(ms[key], rel=1e-6)
    assert reml["var_target"] == pytest.approx((ms["msb"] - ms["mse"]) / 4, rel=1e-6)


def test_icc_reml_unbalanced_matches_an_independent_reml_fit():
    # independent derivation: statsmodels MixedLM with crossed variance components (one group,
    # vc_formula for targets and raters), REML -- the model lme4 fits for psych's ICC
    import statsmodels.formula.api as smf

    x = SF.copy()
    x[0, 1] = x[3, 3] = x[5, 0] = np.nan
    res = rel.icc(x, missing="reml")
    ti, rj = np.nonzero(~np.isnan(x))
    long = pd.DataFrame({"y": x[ti, rj], "t": ti, "j": rj, "g": 1})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fit = smf.mixedlm(
            "y ~ 1", long, groups="g", vc_formula={"t": "0+C(t)", "j": "0+C(j)"}, re_formula="0"
        ).fit(reml=True, method=["lbfgs"])
    var_j, var_t = fit.vcomp  # statsmodels orders the components by name
    attrs = res.attrs
    assert attrs["var_target"] == pytest.approx(var_t, rel=1e-3)
    assert attrs["var_rater"] == pytest.approx(var_j, rel=1e-3)
    assert attrs["var_residual"] == pytest.approx(fit.scale, rel=1e-3)
    # psych's ICC from the components: ICC1 = (MSB - MSW) / (MSB + (k - 1) MSW) etc.
    msb, msw = 4 * var_t + fit.scale, fit.scale + var_j
    assert res.loc["ICC1", "icc"] == pytest.approx((msb - msw) / (msb + 3 * msw), rel=1e-3)
    assert res.loc["ICC3", "icc"] == pytest.approx(var_t / (var_t + fit.scale), rel=1e-3)
    assert attrs["n"] == 6 and attrs["k"] == 4
    # long data with the missing rows left out give the same
    ids = pd.DataFrame({"t": ti, "r": rj, "y": x[ti, rj]})
    same = rel.icc(ids, targets="t", raters="r", ratings="y", missing="reml")
    assert same["icc"].to_numpy() == pytest.approx(res["icc"].to_numpy(), rel=1e-8)
    with pytest.raises(DataError, match="missing='reml'"):
        rel.icc(x)


def test_icc_reml_counts_empty_targets_in_n_as_psych():
    # psych ICC(lmer = TRUE): n.obs = rows of the wide data; lmer drops the empty row, so the
    # variance components are unchanged and only the n-dependent mean squares move
    x = SF.copy()
    x[0, 1] = np.nan
    with_empty = np.vstack([x, np.full(4, np.nan)])
    a = rel.icc(x, missing="reml")
    b = rel.icc(with_empty, missing="reml")
    assert b.attrs["n"] == 7 and a.attrs["n"] == 6
    assert b.attrs["var_target"] == pytest.approx(a.attrs["var_target"], rel=1e-6)
    assert b.attrs["msj"] == pytest.approx(7 * b.attrs["var_rater"] + b.attrs["mse"], rel=1e-12)
