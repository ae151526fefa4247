"""Interrupted time series: statsmodels peers, Newey-West by hand, simulations, bad input."""

from __future__ import annotations

import time as _time
import warnings

import numpy as np
import pandas as pd
import pytest

from evalkit.designs import its
from evalkit.errors import DataError, EvalkitWarning, ParameterError
from evalkit.simulate import demo_indicators, interrupted_series

# Bernal, Cummins & Gasparrini (2017) tutorial data: acute coronary events in Sicily,
# 2002-2006, smoking ban from January 2005 (month 37); gasparrini/2017_lopezbernal_IJE_codedata.
ACES = [
    728,
    659,
    791,
    734,
    757,
    726,
    760,
    740,
    720,
    814,
    795,
    858,
    887,
    766,
    851,
    769,
    781,
    756,
    766,
    752,
    765,
    831,
    879,
    928,
    914,
    808,
    937,
    840,
    916,
    828,
    845,
    818,
    860,
    839,
    887,
    886,
    831,
    796,
    833,
    820,
    877,
    758,
    767,
    738,
    781,
    843,
    850,
    908,
    1021,
    859,
    976,
    888,
    962,
    838,
    810,
    876,
    843,
    936,
    912,
]
STDPOP = [
    379875.3,
    376495.5,
    377040.8,
    377116.4,
    377383.4,
    374113.1,
    379513.3,
    376295.5,
    374653.2,
    378485.6,
    375955.5,
    378349.7,
    376762.4,
    379032.3,
    379360.4,
    376162.0,
    377972.4,
    381830.7,
    379888.6,
    380872.2,
    380966.9,
    381240.4,
    382104.9,
    381802.7,
    381656.3,
    383680.0,
    383504.2,
    386462.9,
    383783.1,
    380836.8,
    383483.0,
    380906.2,
    382926.8,
    384052.4,
    384449.6,
    383428.4,
    388153.2,
    388373.2,
    386470.1,
    386033.2,
    383686.4,
    385509.3,
    385901.9,
    386516.6,
    388436.5,
    383255.2,
    390148.7,
    385874.9,
    391613.6,
    391750.4,
    394005.6,
    391364.9,
    391664.6,
    389022.3,
    391878.5,
    388575.3,
    392989.0,
    390018.8,
    390712.3,
]


@pytest.fixture(scope="module")
def sicily() -> pd.DataFrame:
    return pd.DataFrame({"time": np.arange(1, 60), "aces": ACES, "stdpop": STDPOP})


def _glm_peer(d, family, seasonality=0, slope=True, scale=None):
    """The same model written out directly in statsmodels (the tutorial's R glm call)."""
    import statsmodels.api as sm

    tau = d["time"].to_numpy() - 1.0
    post = (d["time"] >= 37).to_numpy().astype(float)
    cols = [np.ones(len(d)), tau, post] + ([(tau - 36) * post] if slope else [])
    for k in range(1, seasonality + 1):
        cols += [np.sin(2 * np.pi * k * tau / 12), np.cos(2 * np.pi * k * tau / 12)]
    x = np.column_stack(cols)
    model = sm.GLM(d["aces"], x, family=family, offset=np.log(d["stdpop"]))
    return model.fit(scale=scale) if scale else model.fit()


@pytest.mark.filterwarnings("ignore::evalkit.errors.EvalkitWarning")
def test_poisson_level_change_matches_statsmodels_glm(sicily):
    import statsmodels.api as sm

    # R: glm(aces ~ offset(log(stdpop)) + smokban + time, family = poisson, data)
    res = its(
        sicily,
        outcome="aces",
        time="time",
        interruption=37,
        family="poisson",
        denominator="stdpop",
        slope_change=False,
    )
    peer = _glm_peer(sicily, sm.families.Poisson(), slope=False)
    assert res.level_change.coef == pytest.approx(peer.params.iloc[2], rel=1e-8)
    assert res.level_change.se == pytest.approx(peer.bse.iloc[2], rel=1e-6)
    assert res.level_change.estimate == pytest.approx(np.exp(peer.params.iloc[2]), rel=1e-8)
    lo, hi = np.exp(peer.conf_int().iloc[2])
    assert (res.level_change.ci_low, res.level_change.ci_high) == pytest.approx((lo, hi), rel=1e-6)
    assert res.level_change.scale == "rate ratio"
    assert res.slope_change is None
    # the smoking ban lowered the rate of acute coronary events (tutorial: RR about 0.89)
    assert 0.8 < res.level_change.estimate < 0.95


@pytest.mark.filterwarnings("ignore::evalkit.errors.EvalkitWarning")
def test_quasipoisson_with_fourier_terms_matches_statsmodels(sicily):
    import statsmodels.api as sm

    # R: glm(aces ~ offset(log(stdpop)) + smokban + time + harmonic(month, 2, 12),
    #        family = quasipoisson)  -- here with a slope change too
    res = its(
        sicily,
        outcome="aces",
        time="time",
        interruption=37,
        family="quasipoisson",
        denominator="stdpop",
        seasonality=2,
    )
    peer = _glm_peer(sicily, sm.families.Poisson(), seasonality=2, scale="X2")
    assert res.coefficients["coef"].to_numpy() == pytest.approx(peer.params.to_numpy(), rel=1e-7)
    assert res.coefficients["se"].to_numpy() == pytest.approx(peer.bse.to_numpy(), rel=1e-6)
    assert res.slope_change.coef == pytest.approx(peer.params.iloc[3], rel=1e-7)
    assert res.dispersion == pytest.approx(peer.pearson_chi2 / peer.df_resid, rel=1e-8)


def test_gaussian_newey_west_matches_formula_by_hand():
    s = interrupted_series(family="gaussian", seed=5, seasonal_amplitude=2)
    res = its(s, outcome="y", time="month", interruption=25, seasonality=1, hac_lags=3)
    tau = np.arange(48.0)
    post = (tau >= 24).astype(float)
    x = np.column_stack(
        [
            np.ones(48),
            tau,
            post,
            (tau - 24) * post,
            np.sin(2 * np.pi * tau / 12),
            np.cos(2 * np.pi * tau / 12),
        ]
    )
    y = s["y"].to_numpy()
    beta = np.linalg.solve(x.T @ x, x.T @ y)
    e = y - x @ beta
    meat = (x * e[:, None]).T @ (x * e[:, None])
    for lag in range(1, 4):  # Bartlett weights 1 - l/(L+1), no small-sample adjustment
        gamma = (x[lag:] * e[lag:, None]).T @ (x[:-lag] * e[:-lag, None])
        meat += (1 - lag / 4) * (gamma + gamma.T)
    bread = np.linalg.inv(x.T @ x)
    se = np.sqrt(np.diag(bread @ meat @ bread))
    assert res.coefficients["coef"].to_numpy() == pytest.approx(beta, rel=1e-9)
    assert res.coefficients["se"].to_numpy() == pytest.approx(se, rel=1e-9)
    from scipy import stats

    q = stats.t.ppf(0.975, 48 - 6)
    assert res.level_change.ci_low == pytest.approx(beta[2] - q * se[2], rel=1e-9)
    assert res.level_change.scale == "difference"


def test_binomial_reports_odds_ratios_and_matches_glm():
    import statsmodels.api as sm

    s = interrupted_series(family="binomial", seed=2)
    res = its(
        s,
        outcome="successes",
        time="month",
        interruption=25,
        family="binomial",
        denominator="trials",
    )
    tau = np.arange(48.0)
    post = (tau >= 24).astype(float)
    x = np.column_stack([np.ones(48), tau, post, (tau - 24) * post])
    peer = sm.GLM(
        np.column_stack([s["successes"], s["trials"] - s["successes"]]),
        x,
        family=sm.families.Binomial(),
    ).fit()
    assert res.level_change.estimate == pytest.approx(np.exp(peer.params[2]), rel=1e-7)
    assert res.slope_change.se == pytest.approx(peer.bse[3], rel=1e-6)
    assert res.level_change.scale == "odds ratio"


@pytest.mark.parametrize(
    "family,col,den",
    [
        ("gaussian", "y", None),
        ("poisson", "count", "population"),
        ("binomial", "successes", "trials"),
    ],
)
def test_simulation_recovers_level_and_slope_change(family, col, den):
    est_l, est_s, cover = [], [], []
    for seed in range(30):
        s = interrupted_series(family=family, seed=100 + seed)
        truth = s.attrs["truth"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EvalkitWarning)
            res = its(s, outcome=col, time="month", interruption=25, family=family, denominator=den)
        est_l.append(res.level_change.coef - truth["level_change"])
        est_s.append(res.slope_change.coef - truth["slope_change"])
        lo, hi = res.level_change.ci_low, res.level_change.ci_high
        t = truth["level_change"] if family == "gaussian" else np.exp(truth["level_change"])
        cover.append(lo <= t <= hi)
    sd_l = np.std(est_l)
    assert abs(np.mean(est_l)) < 3 * sd_l / np.sqrt(30) + 1e-9
    assert abs(np.mean(est_s)) < 3 * np.std(est_s) / np.sqrt(30) + 1e-9
    assert np.mean(cover) >= 0.8


@pytest.mark.slow
def test_simulation_coverage_500_reps_poisson():
    cover = []
    for seed in range(500):
        s = interrupted_series(family="poisson", seed=5000 + seed, seasonal_amplitude=0.1)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EvalkitWarning)
            res = its(
                s,
                outcome="count",
                time="month",
                interruption=25,
                family="poisson",
                denominator="population",
                seasonality=1,
            )
        cover.append(
            res.slope_change.ci_low
            <= np.exp(s.attrs["truth"]["slope_change"])
            <= res.slope_change.ci_high
        )
    assert 0.93 <= np.mean(cover) <= 0.97


def test_demo_area_call_is_fast_and_plots():
    d, truth = demo_indicators()
    one = d[(d["area_id"] == "A03") & (d["indicator"] == "breastfeeding_6_8_weeks")]
    start = int(truth.query("area_id == 'A03'")["start_month"].iloc[0])
    its(
        one,
        outcome="numerator",
        time="month",
        interruption=start,
        family="poisson",
        denominator="denominator",
        seasonality=1,
    )  # warm-up: imports
    t0 = _time.perf_counter()
    res = its(
        one,
        outcome="numerator",
        time="month",
        interruption=start,
        family="poisson",
        denominator="denominator",
        seasonality=1,
    )
    assert _time.perf_counter() - t0 < 1.0
    assert res.n_pre + res.n_post == 48
    frame = res.to_frame()
    assert frame["term"].tolist() == ["level_change", "slope_change"]
    fig = res.plot()
    assert len(fig.axes[0].lines) >= 3
    s = res.series
    assert s["counterfactual"].isna().sum() == res.n_pre
    # dates as text work the same way
    res2 = its(
        one,
        outcome="numerator",
        time="date",
        interruption=one["date"].iloc[start - 1],
        family="poisson",
        denominator="denominator",
        seasonality=1,
    )
    assert res2.level_change.coef == pytest.approx(res.level_change.coef, rel=1e-10)


def test_autocorrelated_residuals_warn():
    rng = np.random.default_rng(1)
    e = np.zeros(60)
    for i in range(1, 60):
        e[i] = 0.85 * e[i - 1] + rng.normal()
    d = pd.DataFrame({"t": np.arange(60), "y": 10 + e})
    with pytest.warns(EvalkitWarning, match="autocorrelated"):
        res = its(d, outcome="y", time="t", interruption=30)
    assert res.ljung_box_p < 0.05 and res.durbin_watson < 1


def test_overdispersion_warns_for_poisson(sicily):
    d = sicily.assign(aces=sicily["aces"] * 10)
    with (
        pytest.warns(EvalkitWarning, match="autocorrelated"),
        pytest.warns(EvalkitWarning, match="overdispersed"),
    ):
        its(d, outcome="aces", time="time", interruption=37, family="poisson", denominator="stdpop")


# ------------------------------------------------------------------------------------------
# bad input
# ------------------------------------------------------------------------------------------
def _series(n=30):
    return pd.DataFrame({"t": np.arange(1, n + 1), "y": np.linspace(1, 5, n)})


def test_gaps_and_duplicates_are_named():
    d = _series().drop(index=[10, 11])
    with pytest.raises(DataError, match="gaps.*between 10 and 13"):
        its(d, outcome="y", time="t", interruption=15)
    d = pd.concat([_series(), _series().iloc[[4]]])
    with pytest.raises(DataError, match="duplicated periods"):
        its(d, outcome="y", time="t", interruption=15)


def test_interruption_outside_or_too_close_to_an_end():
    with pytest.raises(DataError, match="outside the series"):
        its(_series(), outcome="y", time="t", interruption=45)
    with pytest.raises(DataError, match="only 5 period.*before"):
        its(_series(), outcome="y", time="t", interruption=6)
    with pytest.raises(DataError, match="only 3 period"):
        its(_series(), outcome="y", time="t", interruption=28)


def test_non_numeric_outcome_names_rows():
    d = _series().astype({"y": object})
    d.loc[7, "y"] = "missing"
    with pytest.raises(DataError, match="row 7"):
        its(d, outcome="y", time="t", interruption=15)


def test_count_family_value_checks(sicily):
    d = sicily.assign(aces=sicily["aces"] - 1000)
    with pytest.raises(DataError, match="negative"):
        its(d, outcome="aces", time="time", interruption=37, family="poisson", denominator="stdpop")
    d = sicily.assign(stdpop=100.0)
    with pytest.raises(DataError, match="larger than the denominator"):
        its(
            d, outcome="aces", time="time", interruption=37, family="binomial", denominator="stdpop"
        )


def test_bad_parameters(sicily):
    with pytest.raises(ParameterError):
        its(sicily, outcome="aces", time="time", interruption=37, family="negbin")
    with pytest.raises(ParameterError, match="trials"):
        its(sicily, outcome="aces", time="time", interruption=37, family="binomial")
    with pytest.raises(ParameterError):
        its(sicily, outcome="aces", time="time", interruption=37, seasonality=6)
    with pytest.raises(ParameterError):
        its(sicily, outcome="aces", time="time", interruption=37, period=1)
