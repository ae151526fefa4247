"""evalkit.designs.meta_analysis: input forms, bad input, warnings, leave-one-out, text, plot."""

import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evalkit.designs import meta_analysis
from evalkit.errors import DataError, EvalkitWarning, ParameterError

AREAS = ["Alderbrook Vale", "Birchmere", "Cedarholt", "Damsonford", "Elderwick", "Firthorne"]


@pytest.fixture
def areas():
    est = np.array([0.30, 0.10, 0.45, 0.25, 0.05, 0.38])
    se = np.array([0.10, 0.12, 0.15, 0.09, 0.20, 0.11])
    return est, se


def test_weights_and_study_table(areas):
    est, se = areas
    res = meta_analysis(est, se=se, labels=AREAS)
    w = 1 / (se**2 + res.tau2)
    assert np.allclose(res.weights, 100 * w / w.sum())
    table = res.studies()
    assert list(table.index) == AREAS
    assert table["weight"].sum() == pytest.approx(100)
    assert table.loc["Birchmere", "ci_low"] == pytest.approx(0.10 - 1.959964 * 0.12, abs=1e-6)


def test_tidy_row(areas):
    est, se = areas
    row = meta_analysis(est, se=se).to_frame()
    assert row.shape[0] == 1
    assert row.loc[0, "term"] == "pooled"
    assert {"estimate", "se", "ci_low", "ci_high", "tau2", "i2", "q_p", "pi_low"} <= set(
        row.columns
    )


def test_series_and_dataframe_inputs(areas):
    est, se = areas
    s = pd.Series(est, index=AREAS)
    a = meta_analysis(s, se=se)
    assert a.labels == tuple(AREAS)
    df = pd.DataFrame({"area": AREAS, "estimate": est, "se": se})
    b = meta_analysis(df)
    assert b.estimate == pytest.approx(a.estimate)
    c = meta_analysis(df.rename(columns={"se": "my_se"}), se="my_se", labels="area")
    assert c.estimate == pytest.approx(a.estimate)
    d = meta_analysis(est, variance=se**2)
    assert d.estimate == pytest.approx(a.estimate)


def test_one_study_is_a_data_error():
    with pytest.raises(DataError, match="at least two"):
        meta_analysis([0.3], se=[0.1], labels=["Birchmere"])


@pytest.mark.parametrize("bad", [0.0, -0.01])
def test_zero_or_negative_variance_names_the_area(areas, bad):
    est, se = areas
    v = se**2
    v[2] = bad
    with pytest.raises(DataError) as err:
        meta_analysis(est, variance=v, labels=AREAS)
    assert "Cedarholt" in str(err.value)
    assert "above zero" in str(err.value)


def test_missing_values_name_the_area(areas):
    est, se = areas
    est = est.copy()
    est[4] = np.nan
    with pytest.raises(DataError, match="Elderwick"):
        meta_analysis(est, se=se, labels=AREAS)


def test_parameter_errors(areas):
    est, se = areas
    with pytest.raises(ParameterError):
        meta_analysis(est)
    with pytest.raises(ParameterError):
        meta_analysis(est, se=se, variance=se**2)
    with pytest.raises(ParameterError):
        meta_analysis(est, se=se, method="GENQ")
    with pytest.raises(DataError, match="labels"):
        meta_analysis(est, se=se, labels=AREAS[:3])
    with pytest.raises(DataError, match="estimate column"):
        meta_analysis(pd.DataFrame({"x": est, "se": se}))


def test_few_studies_warn():
    with pytest.warns(EvalkitWarning, match="imprecise"):
        meta_analysis([0.3, 0.1, 0.2], se=[0.1, 0.1, 0.1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        meta_analysis([0.3, 0.1, 0.2], se=[0.1, 0.1, 0.1], method="FE")


def test_leave_one_out_needs_three_studies():
    with pytest.warns(EvalkitWarning):
        res = meta_analysis([0.3, 0.1], se=[0.1, 0.1])
    with pytest.raises(DataError, match="at least 3"):
        res.leave_one_out()


@settings(max_examples=25, deadline=None)
@given(
    data=st.lists(st.tuples(st.floats(-2, 2), st.floats(0.05, 1.0)), min_size=5, max_size=12),
    method=st.sampled_from(["REML", "DL", "PM", "FE"]),
    seed=st.integers(0, 1000),
)
def test_order_invariance_and_bounds(data, method, seed):
    est = np.array([d[0] for d in data])
    se = np.array([d[1] for d in data])
    a = meta_analysis(est, se=se, method=method)
    perm = np.random.default_rng(seed).permutation(len(est))
    b = meta_analysis(est[perm], se=se[perm], method=method)
    assert b.estimate == pytest.approx(a.estimate, abs=1e-8)
    assert b.tau2 == pytest.approx(a.tau2, abs=1e-7)
    assert a.tau2 >= 0 and 0 <= a.i2 < 100
    assert a.ci_low <= a.estimate <= a.ci_high
    assert a.pi_low <= a.ci_low and a.pi_high >= a.ci_high
    assert min(est) - 1e-9 <= a.estimate <= max(est) + 1e-9


# Twenty studies on which metafor's Fisher scoring for REML cycles without converging (metafor
# stops with "Fisher scoring algorithm did not converge"): evalkit maximises the restricted
# likelihood directly, so the estimate is where its derivative (the REML score) is zero.
CYCLING_Y = np.array(
    [-0.6183259943273197, -0.5939160936976098, -0.4729240796108779, -0.26701877381675776,
     -0.16993408088697254, -0.15401998018259205, -0.08928647761232898, -0.01464157129303378,
     0.1108635530243571, 0.12332657173629814, 0.18547123021671716, 0.22706315512049335,
     0.25102389563917854, 0.29820118533306483, 0.3794220758291007, 0.38987179998830773,
     0.42391650100629513, 0.47594362658600586, 0.4891812208204505, 0.9046862687071042]
)  # fmt: skip
CYCLING_V = np.array(
    [0.40147137241477815, 0.27361214190773886, 0.01136403851055549, 0.37255389403559247,
     0.40089651447046387, 0.13851658743015935, 0.03587940593175458, 0.06412027596860498,
     0.3352715810743949, 0.09146930779355712, 0.2418211474054407, 0.07195544356364657,
     0.3221571521958032, 0.13804025161858977, 0.30179397356367643, 0.15229735342198622,
     0.45262472552055383, 0.209435040243068, 0.4086489385163835, 0.44969650512214393]
)  # fmt: skip


@pytest.mark.parametrize("method", ["REML", "ML", "EB"])
def test_estimate_found_where_fisher_scoring_cycles(method):
    res = meta_analysis(CYCLING_Y, variance=CYCLING_V, method=method)
    tau2 = res.tau2
    w = 1 / (CYCLING_V + tau2)
    p = np.diag(w) - np.outer(w, w) / w.sum()
    py = p @ CYCLING_Y
    # the Fisher-scoring step from the estimate (the change in tau² it would make) is ~0
    if method == "REML":
        step = (py @ py - np.trace(p)) / np.sum(p * p)
    elif method == "ML":
        step = (py @ py - w.sum()) / np.sum(w**2)
    else:  # EB: the generalised Q equals k - 1
        k = len(CYCLING_Y)
        step = (CYCLING_Y @ p @ CYCLING_Y * k / (k - 1) - k) / w.sum()
    assert tau2 > 0 and abs(step) < 1e-6


def test_text_categorical_and_boolean_moderators(areas):
    est, se = areas
    mods = pd.DataFrame(
        {
            "design": pd.Categorical(
                ["did", "its", "did", "rct", "its", "rct"], categories=["rct", "did", "its"]
            ),
            "urban": [True, False, True, False, True, True],
        }
    )
    res = meta_analysis(est, se=se, mods=mods, method="DL")
    # R's treatment coding: categorical levels in their order (first is the reference),
    # logicals as <name>TRUE
    assert list(res.coefficients.index) == ["intrcpt", "designdid", "designits", "urbanTRUE"]
