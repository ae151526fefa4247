"""Reach, dose, fidelity and dose-response (issue 17)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import evalkit as ek
from evalkit.errors import DataError
from evalkit.implementation import DOSE_CAVEAT, dose, dose_response, fidelity, icc_oneway, reach


def test_reach_is_a_wilson_proportion():
    # Wilson 65/100 -> 0.5525 to 0.7364 (Newcombe 1998; PHEindicatormethods phe_proportion)
    r = reach(65, 100)
    assert r.estimate == 0.65
    assert r.ci_low == pytest.approx(0.5525, abs=1e-4)
    assert r.ci_high == pytest.approx(0.7364, abs=1e-4)
    assert r.n == 100 and r.to_frame().loc[0, "served"] == 65


@pytest.mark.parametrize(("served", "eligible"), [(120, 100), (-1, 10), (5, 0)])
def test_reach_refuses_impossible_counts(served, eligible):
    with pytest.raises(DataError):
        reach(served, eligible)


def test_dose_counts_and_share_with_the_planned_dose():
    sessions = pd.Series([8, 8, 6, 2, 8, 7, 8, 5, None, 10])
    d = dose(sessions, planned=8)
    assert (d.n, d.n_planned) == (9, 5)
    assert d.estimate == pytest.approx(5 / 9)
    assert d.distribution.set_index("sessions")["people"].to_dict() == {
        2: 1,
        5: 1,
        6: 1,
        7: 1,
        8: 4,
        10: 1,
    }
    assert d.caveat == DOSE_CAVEAT
    with pytest.raises(DataError, match="whole numbers"):
        dose([1.5, 2], planned=8)
    with pytest.raises(DataError, match="must be numeric"):
        dose(["two", 3], planned=8)
    with pytest.raises(DataError, match="planned"):
        dose([1, 2], planned=0)


def test_icc_oneway_equals_shrout_fleiss_icc1_when_balanced():
    # peer: evalkit.reliability.icc, which matches psych::ICC and pingouin (ICC1 row)
    rng = np.random.default_rng(7)
    wide = rng.normal(size=(6, 1)) + rng.normal(size=(6, 4))
    peer = ek.reliability.icc(wide).loc["ICC1"]
    groups = np.repeat(np.arange(6), 4)
    ours = icc_oneway(wide.ravel(), groups)
    assert ours.estimate == pytest.approx(peer["icc"], abs=1e-12)
    assert ours.ci_low == pytest.approx(peer["ci_low"], abs=1e-12)
    assert ours.ci_high == pytest.approx(peer["ci_high"], abs=1e-12)


def test_icc_oneway_unbalanced_uses_n0():
    # hand computation: groups of 2, 3 and 4; n0 = (9 - (4 + 9 + 16)/9) / 2 = 2.8889
    y = [1, 2, 2, 3, 4, 6, 7, 8, 7]
    g = ["a", "a", "b", "b", "b", "c", "c", "c", "c"]
    r = icc_oneway(y, g)
    means = {"a": 1.5, "b": 3.0, "c": 7.0}
    grand = np.mean(y)
    msb = (2 * (1.5 - grand) ** 2 + 3 * (3 - grand) ** 2 + 4 * (7 - grand) ** 2) / 2
    msw = sum((v - means[k]) ** 2 for v, k in zip(y, g)) / 6
    n0 = (9 - 29 / 9) / 2
    assert r.n0 == pytest.approx(n0)
    assert r.estimate == pytest.approx((msb - msw) / (msb + (n0 - 1) * msw))


def test_fidelity_by_setting_and_errors():
    df = pd.DataFrame(
        {
            "hub": ["a"] * 4 + ["b"] * 4 + ["c"] * 4,
            "f1": [1, 1, 1, 1, 1, 0, 1, 0, 0, 0, 1, 0],
            "f2": [1, 1, 0, None, 1, 1, 0, 0, 0, 1, 0, 0],
        }
    )
    r = fidelity(df, ["f1", "f2"], setting="hub")
    assert r.by_setting.loc["a", "adherence"] == pytest.approx((100 + 100 + 50 + 100) / 4)
    assert r.n == 12 and r.n_settings == 3
    assert r.ci_low < r.estimate < r.ci_high
    bad = df.assign(f2=df["f2"].astype(object))
    bad.loc[3, "f2"] = "yes"
    with pytest.raises(DataError) as info:
        fidelity(bad, ["f1", "f2"], setting="hub")
    assert "'f2'" in str(info.value) and "row 5" in str(info.value)
    with pytest.raises(DataError, match="no such column"):
        fidelity(df, ["f3"], setting="hub")


def test_dose_response_recovers_a_known_slope():
    # simulated: each extra session lowers the outcome by 0.25 points, given the baseline
    rng = np.random.default_rng(2026)
    n = 4000
    sessions = rng.integers(0, 9, n)
    pre = rng.normal(10, 3, n)
    post = 2 + 0.6 * pre - 0.25 * sessions + rng.normal(0, 1.5, n)
    df = pd.DataFrame({"sessions": sessions, "pre": pre, "post": post})
    r = dose_response(df, outcome="post", dose="sessions", baseline="pre", bands=[2, 5, 8])
    assert r.ci_low < -0.25 < r.ci_high
    assert abs(r.estimate + 0.25) < 3 * r.se
    bands = r.bands.set_index("band")
    assert list(bands.index) == ["0-2", "3-5", "6-8"]
    # the top band is about 6 sessions (1.5 points) better than the lowest
    assert bands.loc["6-8", "difference"] == pytest.approx(-1.5, abs=0.25)
    assert r.caveat == DOSE_CAVEAT


def test_dose_response_needs_varying_dose():
    df = pd.DataFrame({"sessions": [4] * 20, "post": range(20)})
    with pytest.raises(DataError, match="same dose"):
        dose_response(df, outcome="post", dose="sessions")
