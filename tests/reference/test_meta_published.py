"""Meta-analysis against metafor on the BCG vaccine trials (dat.bcg, Colditz et al. 1994).

Sources: ``shared/reference/published.md`` (metafor ``rma`` on dat.bcg, log risk ratios) and the
metafor README (``rma(yi, vi, data=dat, test="knha")`` and its ``predict(res, transf=exp)``).
"""

import numpy as np
import pandas as pd
import pytest

from evalkit.designs import meta_analysis
from evalkit.errors import EvalkitWarning

# trial: tpos, tneg, cpos, cneg (metafor dat.bcg)
BCG = np.array(
    [
        [4, 119, 11, 128],
        [6, 300, 29, 274],
        [3, 228, 11, 209],
        [62, 13536, 248, 12619],
        [33, 5036, 47, 5761],
        [180, 1361, 372, 1079],
        [8, 2537, 10, 619],
        [505, 87886, 499, 87892],
        [29, 7470, 45, 7232],
        [17, 1699, 65, 1600],
        [186, 50448, 141, 27197],
        [5, 2493, 3, 2338],
        [27, 16886, 29, 17825],
    ],
    dtype=float,
)


def bcg_log_rr():
    tpos, tneg, cpos, cneg = BCG.T
    yi = np.log((tpos / (tpos + tneg)) / (cpos / (cpos + cneg)))
    vi = 1 / tpos - 1 / (tpos + tneg) + 1 / cpos - 1 / (cpos + cneg)
    return yi, vi


@pytest.fixture
def bcg():
    return bcg_log_rr()


def test_fixed_effect(bcg):
    # published.md: FE -0.4303, 95% CI [-0.5097, -0.3509], Q(12) = 152.2330
    yi, vi = bcg
    res = meta_analysis(yi, variance=vi, method="FE")
    assert res.estimate == pytest.approx(-0.4303, abs=5e-5)
    assert res.ci_low == pytest.approx(-0.5097, abs=5e-5)
    assert res.ci_high == pytest.approx(-0.3509, abs=5e-5)
    assert res.q == pytest.approx(152.2330, abs=5e-5)
    assert res.q_df == 12
    assert res.tau2 == 0.0
    # with no heterogeneity term the prediction interval is the confidence interval
    assert (res.pi_low, res.pi_high) == pytest.approx((res.ci_low, res.ci_high))


def test_dersimonian_laird(bcg):
    # published.md: DL -0.7141 [-1.0644, -0.3638], tau2 0.3088, I2 92.12%
    yi, vi = bcg
    res = meta_analysis(yi, variance=vi, method="DL")
    assert res.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert res.ci_low == pytest.approx(-1.0644, abs=5e-5)
    assert res.ci_high == pytest.approx(-0.3638, abs=5e-5)
    assert res.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert res.i2 == pytest.approx(92.12, abs=5e-3)


def test_reml(bcg):
    # published.md: REML -0.7145, SE 0.1798, [-1.0669, -0.3622], tau2 0.3132 (SE 0.1664),
    # I2 92.22%, H2 12.86
    yi, vi = bcg
    res = meta_analysis(yi, se=np.sqrt(vi))  # REML is the default
    assert res.method == "REML"
    assert res.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert res.se == pytest.approx(0.1798, abs=5e-5)
    assert res.ci_low == pytest.approx(-1.0669, abs=5e-5)
    assert res.ci_high == pytest.approx(-0.3622, abs=5e-5)
    assert res.tau2 == pytest.approx(0.3132, abs=5e-5)
    assert res.tau2_se == pytest.approx(0.1664, abs=5e-5)
    assert res.i2 == pytest.approx(92.22, abs=5e-3)
    assert res.h2 == pytest.approx(12.86, abs=5e-3)
    assert res.q == pytest.approx(152.2330, abs=5e-5)


def test_reml_risk_ratio_scale(bcg):
    # published.md: as a risk ratio 0.4894 [0.3441, 0.6962], prediction interval [0.1546, 1.5490]
    yi, vi = bcg
    pred = meta_analysis(yi, variance=vi).predict(transform=np.exp)
    assert pred["estimate"] == pytest.approx(0.4894, abs=5e-5)
    assert pred["ci_low"] == pytest.approx(0.3441, abs=5e-5)
    assert pred["ci_high"] == pytest.approx(0.6962, abs=5e-5)
    assert pred["pi_low"] == pytest.approx(0.1546, abs=5e-5)
    assert pred["pi_high"] == pytest.approx(1.5490, abs=5e-5)


def test_paule_mandel(bcg):
    # published.md: PM -0.7150, tau2 0.3181
    yi, vi = bcg
    res = meta_analysis(yi, variance=vi, method="PM")
    assert res.estimate == pytest.approx(-0.7150, abs=5e-5)
    assert res.tau2 == pytest.approx(0.3181, abs=5e-5)
    # the PM estimate sets the generalised Q statistic to its expected value k - 1, found as
    # metafor finds it: uniroot on [0, 100] with tolerance eps^0.25 (so Q is k - 1 to about 1e-4)
    w = 1 / (vi + res.tau2)
    assert np.sum(w * (yi - res.estimate) ** 2) == pytest.approx(12.0, rel=1e-3)


def test_knapp_hartung_reml(bcg):
    # metafor README, rma(yi, vi, data=dat, test="knha"):
    # estimate -0.7145, se 0.1808, tval -3.9522, df 12, pval 0.0019, CI [-1.1084, -0.3206];
    # predict(res, transf=exp, digits=2): 0.49 [0.33, 0.73], prediction interval [0.14, 1.76]
    yi, vi = bcg
    res = meta_analysis(yi, variance=vi, knha=True)
    assert res.test == "t"
    assert res.df == 12
    assert res.se == pytest.approx(0.1808, abs=5e-5)
    assert res.statistic == pytest.approx(-3.9522, abs=5e-5)
    assert res.p == pytest.approx(0.0019, abs=5e-5)
    assert res.ci_low == pytest.approx(-1.1084, abs=5e-5)
    assert res.ci_high == pytest.approx(-0.3206, abs=5e-5)
    pred = res.predict(transform=np.exp)
    assert [round(pred[k], 2) for k in ("ci_low", "ci_high", "pi_low", "pi_high")] == [
        0.33,
        0.73,
        0.14,
        1.76,
    ]


def test_dataframe_input_matches_arrays(bcg):
    yi, vi = bcg
    df = pd.DataFrame({"area": [f"trial {i}" for i in range(1, 14)], "yi": yi, "vi": vi})
    res = meta_analysis(df, labels="area")
    assert res.estimate == pytest.approx(-0.7145, abs=5e-5)
    assert res.labels[0] == "trial 1"


def test_leave_one_out_equals_refits():
    yi, vi = bcg_log_rr()
    labels = [f"trial {i}" for i in range(1, 14)]
    res = meta_analysis(yi, variance=vi, labels=labels)
    loo = res.leave_one_out()
    assert list(loo.index) == labels
    for i in (0, 7, 12):
        keep = np.arange(13) != i
        refit = meta_analysis(yi[keep], variance=vi[keep])
        for col in ("estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q", "pi_high"):
            assert loo.iloc[i][col] == pytest.approx(getattr(refit, col), rel=1e-10)
    # dropping the largest trial (Madras, trial 8, log RR near 0) moves the estimate down
    assert loo.loc["trial 8", "estimate"] < res.estimate


def test_heterogeneity_text():
    yi, vi = bcg_log_rr()
    text = meta_analysis(yi, variance=vi).heterogeneity_text()
    assert text.startswith("Results differed a lot between areas (I² = 92%)")
    assert "more than chance" in text and "p < 0.001" in text
    # identical estimates: no heterogeneity at all
    same = meta_analysis([0.2] * 6, se=[0.1] * 6)
    assert same.tau2 == 0.0 and same.i2 == 0.0
    assert same.heterogeneity_text(unit="services").startswith("Results were similar across")
    with pytest.warns(EvalkitWarning):
        few = meta_analysis([0.3, 0.1, 0.2], se=[0.1, 0.1, 0.1])
    assert "very uncertain" in few.heterogeneity_text()


def test_forest_plot():
    from matplotlib.figure import Figure

    yi, vi = bcg_log_rr()
    res = meta_analysis(yi, variance=vi, labels=[f"trial {i}" for i in range(1, 14)])
    fig = res.plot(transform=np.exp, xlabel="risk ratio")
    assert isinstance(fig, Figure)
    ax = fig.axes[0]
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks[0] == "trial 1" and ticks[-1] == "Pooled"
    assert ax.get_xscale() == "log"
    assert isinstance(res.plot(), Figure)
