"""evalkit.reliability against published values (shared/reference/published.md) and peers.

Each test names its source. Peers run in the test (pingouin, statsmodels, krippendorff) or,
for R, the values were computed once with R 4 / psych 2.2.9 / lavaan 0.6.14 and are quoted.
"""

import numpy as np
import pandas as pd
import pingouin as pg
import pytest
from numpy.testing import assert_allclose

from evalkit import reliability as rel
from evalkit.reliability.alpha import feldt_ci

NAN = np.nan

# Shrout & Fleiss (1979), Table 2: 6 targets x 4 judges
SHROUT_FLEISS = np.array(
    [[9, 2, 5, 8], [6, 1, 3, 2], [8, 4, 6, 8], [7, 1, 2, 6], [10, 5, 6, 9], [6, 2, 4, 7]], float
)


@pytest.fixture(scope="module")
def cronbach():
    # pingouin dataset `cronbach_alpha`, 15 subjects x 10 items (long -> wide)
    long = pg.read_dataset("cronbach_alpha")
    return long.pivot(index="Subj", columns="Items", values="Scores")


@pytest.fixture(scope="module")
def wide_missing():
    return pg.read_dataset("cronbach_wide_missing")


# --- ICC ------------------------------------------------------------------------------------


def test_icc_shrout_fleiss_paper_and_recomputed():
    res = rel.icc(SHROUT_FLEISS)
    # the paper's two decimals
    assert_allclose(res["icc"], [0.17, 0.29, 0.71, 0.44, 0.62, 0.91], atol=0.005)
    # recomputed to 6 places (published.md)
    assert_allclose(
        res["icc"], [0.165742, 0.289764, 0.714841, 0.442797, 0.620051, 0.909316], atol=1e-6
    )
    assert_allclose(
        [res.attrs[k] for k in ("msb", "msw", "msj", "mse")],
        [11.241667, 6.263889, 32.486111, 1.019444],
        atol=1e-6,
    )
    assert_allclose(
        res.loc["ICC1", ["f", "df1", "df2"]].astype(float), [1.794678, 5, 18], atol=1e-6
    )
    assert_allclose(
        res.loc["ICC3", ["f", "df1", "df2"]].astype(float), [11.027248, 5, 15], atol=1e-6
    )
    assert_allclose(res.loc["ICC1", "p"], 0.164769, atol=1e-6)
    assert_allclose(res.loc["ICC2", "p"], 0.000134567, rtol=1e-5)
    # pingouin's tests (two decimals), F-based intervals
    assert_allclose(res["ci_low"], [-0.13, 0.02, 0.34, -0.88, 0.07, 0.68], atol=0.005)
    assert_allclose(res["ci_high"], [0.72, 0.76, 0.95, 0.91, 0.93, 0.99], atol=0.005)
    assert_allclose(
        res.loc["ICC2", ["ci_low", "ci_high"]].astype(float), [0.018787, 0.761084], atol=1e-6
    )
    assert_allclose(
        res.loc["ICC3", ["ci_low", "ci_high"]].astype(float), [0.342465, 0.945858], atol=1e-6
    )
    assert list(res["mcgraw_wong"]) == [
        "ICC(1)",
        "ICC(A,1)",
        "ICC(C,1)",
        "ICC(k)",
        "ICC(A,k)",
        "ICC(C,k)",
    ]


def test_icc_wines_long_input_against_pingouin_to_1e9():
    # pingouin dataset `icc` (8 wines x 4 judges); published: ICC(1,1) .7275 ... ICC(C,k) .9152
    data = pg.read_dataset("icc")
    res = rel.icc(data, targets="Wine", raters="Judge", ratings="Scores")
    assert_allclose(res["icc"], [0.7275, 0.728, 0.729, 0.914, 0.914, 0.9152], atol=6e-4)
    assert_allclose(res.loc["ICC1", "f"], 11.680, atol=5e-4)
    assert_allclose(res.loc["ICC3", "f"], 11.787, atol=5e-4)
    peer = pg.intraclass_corr(data, targets="Wine", raters="Judge", ratings="Scores")
    assert_allclose(res["icc"], peer["ICC"], rtol=0, atol=1e-9)
    assert_allclose(res["f"], peer["F"], rtol=0, atol=1e-9)
    assert_allclose(res["df1"], peer["df1"], atol=1e-9)
    assert_allclose(res["df2"], peer["df2"], atol=1e-9)
    assert_allclose(res["p"], peer["pval"], rtol=1e-9, atol=1e-15)
    # pingouin rounds its CI to 2 decimals; psych::ICC (R psych 2.2.9) gives them in full
    lows = np.array([c[0] for c in peer["CI95"]])
    assert_allclose(res["ci_low"], lows, atol=0.005 + 1e-12)
    psych_low = [
        0.433772833271,
        0.434489657891,
        0.426146030129,
        0.753955323101,
        0.754496219149,
        0.748137124159,
    ]
    psych_high = [
        0.926696029257,
        0.926708606316,
        0.927895261473,
        0.980607867055,
        0.980611387770,
        0.980943254108,
    ]
    assert_allclose(res["ci_low"], psych_low, atol=1e-9)
    assert_allclose(res["ci_high"], psych_high, atol=1e-9)


def test_icc_random_data_matches_pingouin_to_1e9(rng):
    x = rng.normal(size=(40, 5)) + rng.normal(size=(40, 1)) * 2 + np.arange(5) * 0.3
    long = pd.DataFrame(x).rename_axis("t").reset_index().melt("t", var_name="r", value_name="y")
    peer = pg.intraclass_corr(long, targets="t", raters="r", ratings="y")
    ours = rel.icc(x)
    for col, pcol in (("icc", "ICC"), ("f", "F"), ("p", "pval")):
        assert_allclose(ours[col], peer[pcol], rtol=1e-9, atol=1e-12)


# --- alpha ----------------------------------------------------------------------------------


def test_alpha_pingouin_cronbach_dataset(cronbach):
    # pingouin docs: alpha 0.5917188485995826, Feldt CI [0.195, 0.840]
    res = rel.alpha(cronbach)
    assert_allclose(res.estimate, 0.5917188485995826, rtol=0, atol=1e-12)
    assert_allclose([res.ci_low, res.ci_high], [0.195, 0.840], atol=5e-4)
    # recomputed Duhachek ASE 0.154502; psych::alpha: std.alpha 0.6343498015, G6 0.8408179527
    assert_allclose(res.ase, 0.154502, atol=1e-6)
    assert_allclose(res.standardized, 0.6343498015, atol=1e-9)
    assert_allclose(res.g6, 0.8408179527, atol=1e-9)
    assert res.n == 15 and res.k == 10


def test_alpha_pingouin_dataset_vs_pingouin_itself(cronbach):
    peer = pg.cronbach_alpha(data=cronbach)
    assert_allclose(rel.alpha(cronbach).estimate, peer[0], atol=1e-12)


def test_alpha_wide_missing_pairwise_and_listwise(wide_missing):
    # pingouin docs: pairwise 0.732660835214447 (CI [0.435, 0.909]); listwise 0.8016949152542373
    pw = rel.alpha(wide_missing)
    assert_allclose(pw.estimate, 0.732660835214447, atol=1e-12)
    assert_allclose([pw.ci_low, pw.ci_high], [0.435, 0.909], atol=5e-4)
    lw = rel.alpha(wide_missing, missing="listwise")
    assert_allclose(lw.estimate, 0.8016949152542373, atol=1e-12)
    # listwise n = complete rows (9), pingouin's choice: [0.533, 0.947] (psych counts 12 rows)
    assert lw.n == 9
    assert_allclose([lw.ci_low, lw.ci_high], [0.533, 0.947], atol=5e-4)
    # and psych's interval follows from n = 12 with the same formula
    assert_allclose(feldt_ci(lw.estimate, 12, 11), [0.581, 0.933], atol=5e-4)


def test_alpha_median_imputation_value(wide_missing):
    # pingouin docs: 0.7380191693290734 after median imputation
    imputed = wide_missing.fillna(wide_missing.median())
    assert_allclose(rel.alpha(imputed).estimate, 0.7380191693290734, atol=1e-12)


def test_feldt_check():
    # alpha .74, n 100, k 4 -> [0.645531, 0.814260] (psych::alpha.ci, recomputed)
    assert_allclose(feldt_ci(0.74, 100, 4), [0.645531, 0.814260], atol=1e-6)


def test_item_analysis_recomputed_values(cronbach):
    # published.md: alpha-if-deleted from 0.4687 (Q1) to 0.6711 (Q6); Q6 r_drop -0.1572;
    # psych::alpha item.stats r.drop (R psych 2.2.9) for all items
    ia = rel.item_analysis(cronbach)
    assert_allclose(ia.loc["Q1", "alpha_if_deleted"], 0.4687, atol=5e-5)
    assert_allclose(ia.loc["Q6", "alpha_if_deleted"], 0.6711, atol=5e-5)
    assert ia["alpha_if_deleted"].idxmin() == "Q1" and ia["alpha_if_deleted"].idxmax() == "Q6"
    psych_r_drop = {
        "Q1": 0.57476679198,
        "Q10": 0.43368835596,
        "Q2": 0.56780284177,
        "Q3": 0.52139107542,
        "Q4": 0.41760582413,
        "Q5": -0.10758308249,
        "Q6": -0.15723651966,
        "Q7": 0.26100773504,
        "Q8": 0.09217320282,
        "Q9": 0.44337274600,
    }
    assert_allclose(ia.loc[list(psych_r_drop), "r_drop"], list(psych_r_drop.values()), atol=1e-9)
    assert "reverse-keyed" in ia.loc["Q6", "flag"]
    assert "reverse-keyed" in ia.loc["Q5", "flag"]
    assert ia.loc["Q1", "flag"] == ""


# --- omega ----------------------------------------------------------------------------------


def test_omega_total_matches_lavaan(cronbach):
    # lavaan 0.6.14: cfa('f =~ Q1 + ... + Q10', std.lv=TRUE) on the same data,
    # (sum lambda)^2 / ((sum lambda)^2 + sum theta) = 0.6385659647 with lavaan's default
    # tolerance (0.6385646331 with rel.tol=1e-12); we converge to 0.63856436.
    res = rel.omega(cronbach)
    assert_allclose(res.omega_total, 0.6385659647, atol=3e-6)
    assert_allclose(res.omega_total, 0.6385646331, atol=5e-7)


def _exact_data(r: np.ndarray, n: int, seed: int = 1) -> np.ndarray:
    """Data whose sample correlation matrix is exactly ``r``."""
    z = np.random.default_rng(seed).standard_normal((n, r.shape[0]))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T
    return z @ np.linalg.cholesky(r).T


def test_omega_total_recovers_exact_congeneric_model():
    # population one-factor model: omega = (sum l)^2 / ((sum l)^2 + sum theta), exactly
    lam = np.array([0.9, 0.8, 0.7, 0.6, 0.5, 0.4])
    theta = np.array([0.5, 1.0, 0.6, 0.8, 0.9, 0.3])
    cov = np.outer(lam, lam) + np.diag(theta)
    sd = np.sqrt(np.diag(cov))
    x = _exact_data(cov / np.outer(sd, sd), 300) * sd
    truth = lam.sum() ** 2 / (lam.sum() ** 2 + theta.sum())
    assert_allclose(rel.omega(x).omega_total, truth, atol=1e-7)


# Thurstone (1933) / Bechtoldt (1961) nine mental tests, as shipped with R psych
THURSTONE = np.array(
    [
        [1.000, 0.828, 0.776, 0.439, 0.432, 0.447, 0.447, 0.541, 0.380],
        [0.828, 1.000, 0.779, 0.493, 0.464, 0.489, 0.432, 0.537, 0.358],
        [0.776, 0.779, 1.000, 0.460, 0.425, 0.443, 0.401, 0.534, 0.359],
        [0.439, 0.493, 0.460, 1.000, 0.674, 0.590, 0.381, 0.350, 0.424],
        [0.432, 0.464, 0.425, 0.674, 1.000, 0.541, 0.402, 0.367, 0.446],
        [0.447, 0.489, 0.443, 0.590, 0.541, 1.000, 0.288, 0.320, 0.325],
        [0.447, 0.432, 0.401, 0.381, 0.402, 0.288, 1.000, 0.555, 0.598],
        [0.541, 0.537, 0.534, 0.350, 0.367, 0.320, 0.555, 1.000, 0.452],
        [0.380, 0.358, 0.359, 0.424, 0.446, 0.325, 0.598, 0.452, 1.000],
    ]
)


def test_omega_hierarchical_matches_psych_thurstone():
    # R psych 2.2.9: omega(Thurstone, nfactors=3, n.obs=213) -> omega_h 0.7360703183,
    # omega.tot 0.9308254149 (psych documents 0.74 and 0.93); agreement is limited by psych's
    # optim tolerance in the minres fit
    res = rel.omega(_exact_data(THURSTONE, 213), nfactors=3)
    assert_allclose(res.omega_hierarchical, 0.7360703183, atol=5e-6)
    assert_allclose(res.omega_total_sl, 0.9308254149, atol=5e-6)


# --- kappa ----------------------------------------------------------------------------------


def _expand(table):
    table = np.asarray(table)
    r1, r2 = [], []
    for i in range(table.shape[0]):
        for j in range(table.shape[1]):
            r1 += [i + 1] * int(round(table[i, j]))
            r2 += [j + 1] * int(round(table[i, j]))
    return r1, r2


def test_cohen_1968_weighted_kappa():
    # psych cohen.kappa docs: Cohen (1968) proportions, n = 200: kappa .492, weighted .348 and .353
    r1, r2 = _expand(np.array([[0.44, 0.07, 0.09], [0.05, 0.20, 0.05], [0.01, 0.03, 0.06]]) * 200)
    assert_allclose(rel.cohen_kappa(r1, r2).estimate, 0.4915, atol=5e-5)
    w1 = rel.cohen_kappa(r1, r2, weights=[[0, 1, 3], [1, 0, 6], [3, 6, 0]])
    assert_allclose(w1.estimate, 0.3478, atol=5e-5)
    w2 = rel.cohen_kappa(r1, r2, weights=[[0, 1, 4], [1, 0, 6], [2, 2, 0]])
    assert_allclose(w2.estimate, 0.3534, atol=5e-5)
    assert w1.n == 200


def test_sas_table_kappa_and_ase():
    # SAS PROC FREQ example used in statsmodels' tests: counts 0 4 1 / 0 8 0 / 0 1 5
    r1, r2 = _expand([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    k = rel.cohen_kappa(r1, r2, categories=[1, 2, 3])
    assert_allclose(
        [k.estimate, k.se, k.ci_low, k.ci_high], [0.4842, 0.1380, 0.2137, 0.7547], atol=5e-5
    )
    assert_allclose([k.se0, k.z], [0.1484, 3.2626], atol=5e-5)
    lin = rel.cohen_kappa(r1, r2, categories=[1, 2, 3], weights="linear")
    assert_allclose(
        [lin.estimate, lin.se, lin.ci_low, lin.ci_high], [0.4701, 0.1457, 0.1845, 0.7558], atol=5e-5
    )


def test_cohen_kappa_matches_statsmodels(rng):
    from statsmodels.stats.inter_rater import cohens_kappa

    a = rng.integers(1, 5, 80)
    b = np.where(rng.random(80) < 0.6, a, rng.integers(1, 5, 80))
    table = pd.crosstab(a, b).to_numpy()
    for wt, sm_wt in ((None, None), ("linear", "linear"), ("quadratic", "quadratic")):
        ours = rel.cohen_kappa(a, b, weights=wt)
        peer = cohens_kappa(table, wt=sm_wt) if sm_wt else cohens_kappa(table)
        assert_allclose(ours.estimate, peer.kappa, atol=1e-12)
        assert_allclose(ours.se, peer.std_kappa, atol=1e-12)


def test_fleiss_1971_diagnoses():
    # Fleiss (1971), R irr `diagnoses` (statsmodels tests): kappa 0.4302445, z 17.65183,
    # SE under H0 0.024374; category kappas .2448, .2448, .5200, .4711, .5661
    from statsmodels.stats.tests.test_inter_rater import diagnoses

    res = rel.fleiss_kappa(diagnoses)
    assert_allclose(res.estimate, 0.4302445, atol=1e-7)
    assert_allclose(res.z, 17.65183, atol=1e-5)
    assert_allclose(res.se, 0.024374, atol=1e-6)
    assert_allclose(res.categories["kappa"], [0.2448, 0.2448, 0.5200, 0.4711, 0.5661], atol=5e-5)
    # the same numbers from the counts layout (statsmodels' input)
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    counts, _ = aggregate_raters(diagnoses)
    assert_allclose(
        rel.fleiss_kappa(counts, counts=True).estimate, fleiss_kappa(counts), atol=1e-12
    )


# --- Krippendorff ---------------------------------------------------------------------------

KRIPP = np.array(
    [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, NAN, NAN, NAN],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, NAN, 3],
        [NAN, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, NAN],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, NAN],
    ]
)


@pytest.mark.parametrize(
    "level, expected",
    [("nominal", 0.743421), ("ordinal", 0.815388), ("interval", 0.849107), ("ratio", 0.797403)],
)
def test_krippendorff_example(level, expected):
    # Krippendorff (2011) example, 4 coders x 12 units; irr::kripp.alpha; fast-krippendorff
    import krippendorff

    res = rel.krippendorff_alpha(KRIPP.T, level=level)
    assert_allclose(res.estimate, expected, atol=5e-7)
    assert_allclose(res.estimate, krippendorff.alpha(KRIPP, level_of_measurement=level), atol=1e-12)


def test_krippendorff_random_data_matches_package(rng):
    import krippendorff

    x = rng.integers(1, 6, size=(60, 4)).astype(float)
    x[rng.random(x.shape) < 0.15] = np.nan
    for level in ("nominal", "ordinal", "interval", "ratio"):
        assert_allclose(
            rel.krippendorff_alpha(x, level=level).estimate,
            krippendorff.alpha(x.T, level_of_measurement=level),
            atol=1e-10,
        )


# --- Bland-Altman and reliable change ---------------------------------------------------------

WRIGHT = [494, 395, 516, 434, 476, 557, 413, 442, 650, 433, 417, 656, 267, 478, 178, 423, 427]
MINI = [512, 430, 520, 428, 500, 600, 364, 380, 658, 445, 432, 626, 260, 477, 259, 350, 451]


def test_bland_altman_1986_pefr():
    # Bland & Altman (1986) Lancet: mean difference -2.1, SD 38.8, 95% CI for the bias
    # -22.0 to 17.8 (t with 16 df); limits here use 1.96 SD and the 1999 SE formula
    res = rel.bland_altman(WRIGHT, MINI)
    assert_allclose([res.estimate, res.sd], [-2.1, 38.8], atol=0.05)
    assert_allclose([res.ci_low, res.ci_high], [-22.0, 17.8], atol=0.06)
    assert_allclose(
        [res.loa_low, res.loa_high], [-2.1176 - 1.96 * 38.765, -2.1176 + 1.96 * 38.765], atol=0.01
    )
    # 1986 paper: SE of a limit ~ sqrt(3 s^2 / n) = 16.3 for z = 2; our formula gives ~16.4
    assert_allclose(res.loa_se, 38.765 * np.sqrt(1 / 17 + 1.96**2 / 32), atol=1e-3)
    assert abs(res.loa_se - 16.3) < 0.2


def test_sem_mdc_and_reliable_change_formulas():
    # Jacobson & Truax (1991): SEM = SD sqrt(1 - r); S_diff = sqrt(2) SEM; RCI = (post - pre)/S_diff
    assert_allclose(rel.sem(7.5, 0.88), 7.5 * np.sqrt(0.12))
    assert_allclose(rel.mdc(7.5, 0.88), 1.959964 * np.sqrt(2) * 7.5 * np.sqrt(0.12), rtol=1e-6)
    res = rel.reliable_change(
        [30, 30, 30, 30],
        [20, 27, 38, 45],
        reliability=0.88,
        sd=7.5,
        higher_is_better=False,
        normal=(10, 5),
        clinical=(30, 8),
    )
    s_diff = np.sqrt(2) * 7.5 * np.sqrt(0.12)
    assert_allclose(res.table["rci"], np.array([-10, -3, 8, 15]) / s_diff)
    # criterion c = (SD0 M1 + SD1 M0) / (SD0 + SD1) = (5*30 + 8*10)/13
    assert_allclose(res.cutoff, (5 * 30 + 8 * 10) / 13)
    assert list(res.table["change_class"]) == [
        "reliably improved",
        "no reliable change",
        "reliably deteriorated",
        "reliably deteriorated",
    ]
    assert list(res.table["clinical_change"]) == [
        "improved",
        "unchanged",
        "deteriorated",
        "deteriorated",
    ]
