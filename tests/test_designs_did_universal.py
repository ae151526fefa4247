"""designs.did: R did's universal base period and simultaneous (uniform) confidence bands."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from evalkit.errors import ParameterError

sys.path.insert(0, str(Path(__file__).parent))
from test_designs_area_did import R_NEVER, R_NOTYET, mpdta, run  # noqa: E402, F401


def _r_varying(rows):
    return {(g, t): (att, se) for g, t, att, se in rows}


def test_universal_post_cells_equal_r_varying_post_cells(mpdta):  # noqa: F811
    # after treatment both base periods use g - 1, so R did's post-treatment ATT(g,t) (and SEs)
    # under base_period="varying" (R_NEVER: R did 2.x on mpdta) are the universal ones too
    res = run(mpdta, base_period="universal")
    cells = res.att_gt.set_index(["group", "time"])
    for (g, t), (att, se) in _r_varying(R_NEVER).items():
        if t >= g:
            assert cells.loc[(g, t), "estimate"] == pytest.approx(att, abs=1e-10)
            assert cells.loc[(g, t), "se"] == pytest.approx(se, rel=1e-6)
    assert res.base_period == "universal"
    # aggte(type="simple") uses post cells only: R's -0.0399512751551763 (SE 0.0120340127701854)
    assert res.estimate == pytest.approx(-0.0399512751551763, abs=1e-10)
    assert res.se == pytest.approx(0.0120340127701854, rel=1e-6)


def test_universal_pre_cells_are_long_differences_of_r_values(mpdta):  # noqa: F811
    # derivation from R did's varying-base values (same never-treated comparison in every
    # cell): with base g - 1, ATT_u(g,t) = -(ATT_v(g,t+1) + ... + ATT_v(g,g-1)) for t < g - 1,
    # and ATT_u(g,g-1) = 0 (R did reports the reference cell with ATT 0 and no SE)
    v = _r_varying(R_NEVER)
    res = run(mpdta, base_period="universal")
    cells = res.att_gt.set_index(["group", "time"])
    assert len(res.att_gt) == 15  # every period, including 2003, for each of 3 cohorts
    for g in (2004, 2006, 2007):
        ref = cells.loc[(g, g - 1)]
        assert ref["estimate"] == 0.0 and np.isnan(ref["se"]) and ref["base_time"] == g - 1
        for t in range(2003, g - 1):
            expected = -sum(v[(g, s)][0] for s in range(t + 1, g))
            assert cells.loc[(g, t), "estimate"] == pytest.approx(expected, abs=1e-10)
    # e.g. ATT(2007, 2004) = -(-0.00272589288611625 - 0.0310871193896889)
    assert cells.loc[(2007, 2004), "estimate"] == pytest.approx(0.0338130122758052, abs=1e-12)
    # the pre-test is a Wald test on an invertible transformation of the same pre-period
    # differences, so R's statistic is unchanged: W = 7.79123662720035, df 5, p = 0.16812
    assert res.pretrend_chi2 == pytest.approx(7.79123662720035, rel=1e-8)
    assert res.pretrend_df == 5
    es = res.event_study.set_index("event_time")
    assert es.loc[-1, "estimate"] == 0.0 and np.isnan(es.loc[-1, "se"])
    # event time -2 averages ATT(2006, 2004) and ATT(2007, 2005) by cohort size (40 and 131)
    expected = (40 * -v[(2006, 2005)][0] + 131 * -v[(2007, 2006)][0]) / 171
    assert es.loc[-2, "estimate"] == pytest.approx(expected, abs=1e-10)


def test_universal_not_yet_treated_post_cells_match_r(mpdta):  # noqa: F811
    res = run(mpdta, base_period="universal", control="notyet")
    cells = res.att_gt.set_index(["group", "time"])
    for (g, t), (att, se) in _r_varying(R_NOTYET).items():
        if t >= g:
            assert cells.loc[(g, t), "estimate"] == pytest.approx(att, abs=1e-10)
            assert cells.loc[(g, t), "se"] == pytest.approx(se, rel=1e-6)


def test_uniform_bands_by_multiplier_bootstrap(mpdta):  # noqa: F811
    res = run(mpdta, cband=True, n_boot=2000, seed=11)
    assert res.cband and res.inference == "bootstrap"
    m = len(res.att_gt)
    # the sup-t critical value lies between the pointwise and the Bonferroni values
    assert stats.norm.ppf(0.975) < res.crit_val < stats.norm.ppf(1 - 0.025 / m)
    cells = res.att_gt
    assert np.all(cells["cband_low"] <= cells["ci_low"]) and np.all(
        cells["cband_high"] >= cells["ci_high"]
    )
    width = (cells["cband_high"] - cells["estimate"]) / cells["se"]
    assert width.to_numpy() == pytest.approx(res.crit_val)
    es = res.event_study
    assert {"cband_low", "cband_high"} <= set(es.columns)
    assert stats.norm.ppf(0.975) < res.crit_val_event
    # the same seed gives the same bands; bootstrap SEs stay close to R's analytic SEs
    again = run(mpdta, cband=True, n_boot=2000, seed=11)
    assert again.crit_val == res.crit_val
    se_r = np.array([se for *_, se in R_NEVER])
    assert np.allclose(cells["se"].to_numpy(), se_r, rtol=0.15)
    # universal base: the reference cells (no sampling variation) are left out of the band
    uni = run(mpdta, cband=True, base_period="universal", n_boot=500, seed=2)
    ref = uni.att_gt[uni.att_gt["time"] == uni.att_gt["group"] - 1]
    assert ref["cband_low"].isna().all() and np.isfinite(uni.crit_val)


@pytest.mark.slow
def test_uniform_band_covers_all_effects_at_the_nominal_rate():
    # simulation: zero effects in every cell; the uniform band should cover all of them in
    # about 95% of samples, whereas pointwise intervals cover all far less often
    import warnings

    from evalkit.designs import did
    from evalkit.errors import EvalkitWarning
    from evalkit.simulate import staggered_panel

    cover_u = cover_p = 0
    reps = 40
    for r in range(reps):
        panel = staggered_panel(seed=100 + r)
        truth = panel.attrs["truth"]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", EvalkitWarning)
            res = did(
                panel,
                outcome="y",
                unit="unit",
                time="time",
                first_treated="first_treated",
                cband=True,
                n_boot=300,
                seed=r,
            )
        cells = res.att_gt
        # pre-treatment cells have true effect 0
        true = np.array(
            [truth["att_gt"].get((g, t), 0.0) for g, t in zip(cells["group"], cells["time"])]
        )
        cover_u += bool(np.all((cells["cband_low"] <= true) & (true <= cells["cband_high"])))
        cover_p += bool(np.all((cells["ci_low"] <= true) & (true <= cells["ci_high"])))
    assert cover_u >= cover_p
    assert cover_u / reps > 0.8


@pytest.mark.parametrize(
    "kw, key",
    [({"base_period": "fixed"}, "base_period"), ({"cband": "yes"}, "cband")],
)
def test_did_bad_parameters(mpdta, kw, key):  # noqa: F811
    with pytest.raises(ParameterError, match=key):
        run(mpdta, **kw)
