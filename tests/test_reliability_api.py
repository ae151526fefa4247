"""Behaviour of the public API: tidy outputs for reports, bootstrap, long/wide, plots."""

import numpy as np
import pandas as pd
import pytest
from numpy.testing import assert_allclose

import evalkit as ek
from evalkit import reliability as rel


@pytest.fixture
def questionnaire(rng):
    f = rng.normal(size=(200, 1))
    x = np.clip(np.round(2 + 0.8 * f + 0.8 * rng.normal(size=(200, 6))), 0, 4)
    df = pd.DataFrame(x, columns=[f"q{i}" for i in range(1, 7)])
    df.iloc[rng.integers(0, 200, 30), rng.integers(0, 6, 30)] = np.nan
    return df


def test_public_api_is_complete():
    names = [
        "alpha",
        "omega",
        "split_half",
        "item_analysis",
        "icc",
        "cohen_kappa",
        "fleiss_kappa",
        "krippendorff_alpha",
        "bland_altman",
        "sem",
        "mdc",
        "reliable_change",
        "reliability_summary",
    ]
    for name in names:
        assert callable(getattr(ek.reliability, name))
        assert getattr(ek.reliability, name).__doc__


def test_reliability_summary_for_a_report(questionnaire):
    questionnaire["q7"] = 4.0  # an item nobody varied on: reported, not fatal
    table = rel.reliability_summary(questionnaire, published=0.87)
    assert list(table.columns) == [
        "statistic",
        "label",
        "estimate",
        "ci_low",
        "ci_high",
        "published",
        "difference",
        "note",
    ]
    a = table.set_index("statistic").loc["alpha"]
    direct = rel.alpha(questionnaire.drop(columns="q7"))
    assert_allclose(
        [a.estimate, a.ci_low, a.ci_high], [direct.estimate, direct.ci_low, direct.ci_high]
    )
    assert a.published == 0.87 and a.difference == pytest.approx(direct.estimate - 0.87)
    assert table.attrs["k"] == 6 and table.attrs["n"] == 200
    assert any("q7" in n for n in table.loc[table.statistic == "warning", "note"])
    assert np.isfinite(table.set_index("statistic").loc["omega_total", "estimate"])


def test_reliability_summary_published_dict_and_floor_warning(rng):
    x = pd.DataFrame(
        np.clip(np.round(rng.normal(0.2, 1, size=(100, 4))), 0, 3), columns=list("abcd")
    )
    table = rel.reliability_summary(
        x, published={"alpha": 0.8, "omega_total": 0.82}, scale_min=0, scale_max=3
    )
    assert table.set_index("statistic").loc["omega_total", "published"] == 0.82
    assert table["note"].str.contains("floor effect").any()


def test_alpha_bootstrap_is_reproducible_and_handles_missing(questionnaire):
    a = rel.alpha(questionnaire, ci="bootstrap", n_boot=300, seed=3)
    b = rel.alpha(questionnaire, ci="bootstrap", n_boot=300, seed=3)
    assert (a.ci_low, a.ci_high) == (b.ci_low, b.ci_high)
    assert a.ci_low < a.estimate < a.ci_high
    complete = questionnaire.dropna()
    c = rel.alpha(complete, ci="bootstrap", n_boot=300, seed=3)
    # the vectorised complete-data path and the pairwise path agree on complete data
    from evalkit.reliability.alpha import _boot_alpha

    x = complete.to_numpy()
    fast = _boot_alpha(x, 50, np.random.default_rng(1))
    idx = np.random.default_rng(1).integers(0, len(x), size=(50, len(x)))
    slow = [rel.alpha(x[i]).estimate for i in idx]
    assert_allclose(fast, slow, rtol=1e-10)
    assert c.boot.shape == (300,)


def test_alpha_bootstrap_interval_close_to_feldt_in_large_sample(rng):
    x = rng.normal(size=(3000, 1)) + rng.normal(size=(3000, 8))
    f = rel.alpha(x)
    b = rel.alpha(x, ci="bootstrap", n_boot=400, seed=1)
    assert abs(f.ci_low - b.ci_low) < 0.01 and abs(f.ci_high - b.ci_high) < 0.01


def test_omega_bootstrap_and_to_frame(questionnaire):
    res = rel.omega(questionnaire, ci="bootstrap", n_boot=60, seed=1, missing="listwise")
    assert res.ci_low <= res.estimate <= res.ci_high
    frame = res.to_frame()
    assert frame.loc[0, "estimate"] == res.omega_total
    assert list(res.loadings.index) == list(questionnaire.columns)


def test_split_half_counts_and_random_splits(rng):
    x = rng.normal(size=(80, 1)) + rng.normal(size=(80, 16))
    res = rel.split_half(x)
    assert res.exhaustive and res.n_splits == 6435
    assert res.minimum <= res.mean <= res.maximum
    big = rng.normal(size=(80, 1)) + rng.normal(size=(80, 20))
    r2 = rel.split_half(big, max_items=16, n_samples=500, seed=1)
    assert not r2.exhaustive and r2.n_splits == 500


def test_split_half_equals_spearman_brown_for_two_items(rng):
    x = rng.normal(size=(50, 1)) + rng.normal(size=(50, 2))
    r = np.corrcoef(x, rowvar=False)[0, 1]
    assert_allclose(rel.split_half(x).estimate, 2 * r / (1 + r))


def test_icc_wide_equals_long(rng):
    x = rng.normal(size=(30, 3)) + rng.normal(size=(30, 1))
    wide = pd.DataFrame(x, columns=["p1", "p2", "p3"])
    long = (
        wide.rename_axis("area").reset_index().melt("area", var_name="partner", value_name="score")
    )
    a = rel.icc(wide)
    b = rel.icc(
        long.sample(frac=1, random_state=1), targets="area", raters="partner", ratings="score"
    )
    assert_allclose(a[["icc", "ci_low", "ci_high"]], b[["icc", "ci_low", "ci_high"]], atol=1e-12)


def test_maturity_matrix_partner_ratings_weighted_kappa():
    levels = ["Emerging", "Developing", "Embedded", "Leading"]
    lead = pd.Series(
        pd.Categorical(
            ["Emerging", "Developing", "Embedded", "Leading", "Embedded", "Developing"],
            categories=levels,
            ordered=True,
        ),
        name="lead",
    )
    partner = pd.Series(
        ["Developing", "Developing", "Embedded", "Embedded", "Leading", "Emerging"], name="partner"
    )
    res = rel.cohen_kappa(lead, partner, weights="quadratic", categories=levels)
    assert res.n == 6 and res.agreement == pytest.approx(2 / 6)
    row = res.to_frame().iloc[0]
    assert row["estimate"] == res.estimate and row["method"] == "weighted kappa (quadratic)"
    assert list(res.table.index) == levels
    # quadratic weighted kappa computed by hand with agreement weights 1 - (i-j)^2/9
    codes = {v: i for i, v in enumerate(levels)}
    i = np.array([codes[v] for v in lead])
    j = np.array([codes[v] for v in partner])  # noqa: E702
    po = np.mean(1 - (i - j) ** 2 / 9)
    pe = np.mean(1 - (i[:, None] - j[None, :]) ** 2 / 9)
    assert_allclose(res.estimate, (po - pe) / (1 - pe))


def test_kappa_drops_missing_pairs():
    res = rel.cohen_kappa([1, 2, None, 2, 1], [1, 2, 2, np.nan, 2])
    assert res.n == 3


def test_fleiss_to_frame_and_bootstrap():
    from statsmodels.stats.tests.test_inter_rater import diagnoses

    res = rel.fleiss_kappa(diagnoses, n_boot=200, seed=1)
    frame = res.to_frame()
    assert list(frame["term"]) == ["overall", "1", "2", "3", "4", "5"]
    assert res.ci_low < res.estimate < res.ci_high


def test_results_render_html_and_plots(rng):
    a, b = rng.normal(size=40), rng.normal(size=40)
    ba = rel.bland_altman(a, a + 0.1 + 0.2 * b)
    assert "Bland-Altman" in ba._repr_html_()
    assert len(ba.to_frame()) == 3
    fig = ba.plot()
    assert fig.axes
    rc = rel.reliable_change(a * 5 + 20, a * 5 + 18 + b * 3, reliability=0.85, cutoff=19)
    assert rc.plot().axes
    assert set(rc.to_frame()["scheme"]) == {"reliable change", "clinical"}
    al = rel.alpha(np.column_stack([a, a + b, a - b]), ci="bootstrap", n_boot=100, seed=1)
    assert al.plot().axes
    assert rel.alpha(np.column_stack([a, a + b, a - b])).to_dict()["k"] == 3


def test_reliable_change_sd_defaults_to_pre_sd():
    pre = np.array([10.0, 12, 14, 16, 18])
    res = rel.reliable_change(pre, pre + 1, reliability=0.9)
    assert_allclose(res.sem, pre.std(ddof=1) * np.sqrt(0.1))
    assert (res.table["change_class"] == "no reliable change").all()
