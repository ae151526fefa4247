"""designs.prepost: paired change, effect sizes, attrition, reliable change, bad input."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from evalkit.designs import prepost
from evalkit.errors import DataError, EvalkitWarning, ParameterError


@pytest.fixture
def scores(rng):
    pre = rng.normal(20, 4, 60)
    post = pre + rng.normal(1.5, 3, 60)
    return pd.DataFrame({"pre": pre, "post": post})


def test_mean_change_and_t_match_pingouin(scores):
    # peer: pingouin.ttest(paired=True) -- T, dof, p and the CI of the mean difference
    pg = pytest.importorskip("pingouin")
    res = prepost(scores, pre="pre", post="post")
    peer = pg.ttest(scores["post"], scores["pre"], paired=True)
    assert res.t == pytest.approx(peer["T"].iloc[0], rel=1e-10)
    assert res.df == peer["dof"].iloc[0]
    assert res.p == pytest.approx(
        peer["p_val"].iloc[0] if "p_val" in peer else peer["p-val"].iloc[0], rel=1e-8
    )
    ci = peer.filter(like="CI").iloc[0, 0]
    assert (res.ci_low, res.ci_high) == pytest.approx(tuple(ci), abs=0.005)  # pingouin rounds
    assert res.estimate == pytest.approx((scores["post"] - scores["pre"]).mean())


def test_effect_sizes_match_pingouin(scores):
    # peer: pingouin.compute_effsize(paired=True): 'cohen' is d_av (Cumming 2012),
    # 'hedges' applies J = 1 - 3/(4(nx + ny) - 9); 'cohen_dz' uses the SD of the differences
    pg = pytest.importorskip("pingouin")
    res = prepost(scores, pre="pre", post="post")
    post, pre = scores["post"].to_numpy(), scores["pre"].to_numpy()
    assert res.d_av == pytest.approx(pg.compute_effsize(post, pre, paired=True), rel=1e-10)
    assert res.g_av == pytest.approx(
        pg.compute_effsize(post, pre, paired=True, eftype="hedges"), rel=1e-10
    )
    assert res.dz == pytest.approx(
        pg.compute_effsize(post, pre, paired=True, eftype="cohen_dz"), rel=1e-10
    )


def test_dz_interval_inverts_noncentral_t(scores):
    # Cumming & Finch (2001): at the bounds the observed t is the 97.5th / 2.5th percentile
    res = prepost(scores, pre="pre", post="post")
    n = res.n
    assert stats.nct.sf(res.t, n - 1, res.dz_ci_low * math.sqrt(n)) == pytest.approx(
        0.025, abs=1e-7
    )
    assert stats.nct.sf(res.t, n - 1, res.dz_ci_high * math.sqrt(n)) == pytest.approx(
        0.975, abs=1e-7
    )
    assert res.dz_ci_low < res.dz < res.dz_ci_high


def test_d_av_interval_borenstein_variance(scores):
    # Borenstein et al. (2009, eq. 4.28): V = (1/n + d^2/(2n)) * 2(1 - r)
    res = prepost(scores, pre="pre", post="post")
    r = np.corrcoef(scores["pre"], scores["post"])[0, 1]
    v = (1 / res.n + res.d_av**2 / (2 * res.n)) * 2 * (1 - r)
    assert res.d_av_ci_high - res.d_av == pytest.approx(1.959964 * math.sqrt(v), rel=1e-6)


def test_wilcoxon_matches_scipy(scores):
    res = prepost(scores, pre="pre", post="post")
    w = stats.wilcoxon(scores["post"], scores["pre"])
    assert res.wilcoxon_w == w.statistic
    assert res.wilcoxon_p == pytest.approx(w.pvalue)


def test_reliable_change_jacobson_truax_hand_example():
    # Jacobson & Truax (1991): S_diff = sqrt(2) * SD_pre * sqrt(1 - r); |change| > 1.96 S_diff.
    # Baseline SD here is sqrt(2) (pre = 8, 10, 12, 10, 10) and r = .75, so
    # S_diff = sqrt(2) * sqrt(2) * sqrt(.25) = 1 and the threshold is 1.96.
    d = pd.DataFrame({"pre": [8, 10, 12, 10, 10], "post": [12, 10.5, 9, 13, 7]})
    assert d["pre"].std() == pytest.approx(math.sqrt(2))
    res = prepost(d, pre="pre", post="post", reliability=0.75)
    s_diff = math.sqrt(2) * math.sqrt(2) * math.sqrt(0.25)
    assert res.rci_threshold == pytest.approx(stats.norm.ppf(0.975) * s_diff)
    # changes: +4, +0.5, -3, +3, -3 ; threshold 1.96 -> up 2 (+4, +3), down 2 (-3, -3)
    assert (res.n_improved, res.n_unchanged, res.n_deteriorated) == (2, 1, 2)
    lower_better = prepost(d, pre="pre", post="post", reliability=0.75, higher_is_better=False)
    assert (lower_better.n_improved, lower_better.n_deteriorated) == (2, 2)
    table = res.reliable_change()
    assert table["n"].sum() == res.n


def test_tool_reliability_falls_back_to_given_value(scores):
    # reliability= wins; an unknown tool without reliability= is a ParameterError
    res = prepost(scores, pre="pre", post="post", tool="no-such-tool", reliability=0.8)
    assert res.reliability == 0.8
    with pytest.raises(ParameterError, match="no published reliability"):
        prepost(scores, pre="pre", post="post", tool="no-such-tool")


def test_no_reliability_means_no_reliable_change(scores):
    res = prepost(scores, pre="pre", post="post")
    assert res.rci_threshold is None and res.n_improved is None
    with pytest.raises(ParameterError):
        res.reliable_change()


def test_attrition_counts_and_baseline_comparison():
    d = pd.DataFrame(
        {
            "pre": [10, 12, 14, 16, 18, 20, 30, 32, np.nan, np.nan],
            "post": [11, 13, 15, 17, 19, 22, np.nan, np.nan, 5, np.nan],
        }
    )
    with pytest.warns(EvalkitWarning, match="no follow-up"):
        res = prepost(d, pre="pre", post="post")
    assert res.n == 6
    assert (res.n_baseline_only, res.n_followup_only, res.n_neither) == (2, 1, 1)
    assert res.attrition_rate == pytest.approx(2 / 8)
    att = res.attrition
    assert att.loc["lost to follow-up", "mean_pre"] == 31
    assert att.loc["completers", "mean_pre"] == 15
    assert att.loc["lost to follow-up", "smd_vs_completers"] > 2  # drop-outs were much higher


def test_to_frame_and_plot(scores):
    res = prepost(scores, pre="pre", post="post", reliability=0.9)
    frame = res.to_frame()
    assert list(frame["term"]) == ["mean_change", "cohen_dz", "cohen_d_av", "hedges_g_av"]
    fig = res.plot()
    assert fig.axes
    assert "<table" in res._repr_html_()


@pytest.mark.parametrize(
    "kwargs, error",
    [
        ({"pre": "pre", "post": "missing"}, DataError),
        ({"pre": "pre", "post": "pre"}, ParameterError),
        ({"pre": "pre", "post": "post", "reliability": 1.2}, ParameterError),
        ({"pre": "pre", "post": "post", "level": 95}, ParameterError),
    ],
)
def test_bad_arguments(scores, kwargs, error):
    with pytest.raises(error):
        prepost(scores, **kwargs)


def test_non_numeric_scores_name_rows():
    d = pd.DataFrame({"pre": [1, 2, 3], "post": ["4", "five", "6"]})
    with pytest.raises(DataError, match="'post'"):
        prepost(d, pre="pre", post="post")


def test_too_few_pairs_and_constant_change():
    with pytest.raises(DataError, match="both"):
        prepost(pd.DataFrame({"pre": [1, np.nan], "post": [2, 3]}), pre="pre", post="post")
    with pytest.raises(DataError, match="same amount"):
        prepost(pd.DataFrame({"pre": [1, 2, 3], "post": [2, 3, 4]}), pre="pre", post="post")


def test_no_warning_without_attrition(scores):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        prepost(scores, pre="pre", post="post")


def test_tool_published_reliability_is_used(scores):
    # EPDS: split-half reliability .88 (Cox, Holden & Sagovsky 1987; published.md)
    tools = pytest.importorskip("evalkit.tools")
    try:
        tools.get("epds")
    except Exception:
        pytest.skip("evalkit.tools has no EPDS spec")
    res = prepost(scores, pre="pre", post="post", tool="epds", higher_is_better=False)
    assert res.reliability == pytest.approx(0.88)
    assert "epds" in res.reliability_source
    s_diff = math.sqrt(2) * scores["pre"].std() * math.sqrt(1 - 0.88)
    assert res.rci_threshold == pytest.approx(stats.norm.ppf(0.975) * s_diff)
