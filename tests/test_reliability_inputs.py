"""Bad input gives DataError / ParameterError naming columns and rows; surprising numbers warn."""

import numpy as np
import pandas as pd
import pytest

from evalkit import reliability as rel
from evalkit.errors import DataError, EvalkitWarning, ParameterError


@pytest.fixture
def items(rng):
    f = rng.normal(size=(30, 1))
    return pd.DataFrame(np.round(2 + f + rng.normal(size=(30, 4))), columns=["a", "b", "c", "d"])


def test_non_numeric_column_is_named(items):
    bad = items.astype(object)
    bad.loc[3, "c"] = "often"
    with pytest.raises(DataError) as err:
        rel.alpha(bad)
    assert err.value.column == "c" and err.value.rows == [3]
    assert "'often'" in str(err.value)


def test_fewer_than_two_items_or_people(items):
    with pytest.raises(DataError, match="at least 2 columns"):
        rel.alpha(items[["a"]])
    with pytest.raises(DataError, match="at least 2 rows"):
        rel.alpha(items.iloc[:1])


def test_zero_variance_item_is_named(items):
    items["d"] = 2.0
    with pytest.raises(DataError) as err:
        rel.alpha(items)
    assert err.value.columns == ["d"]
    ia = rel.item_analysis(items)
    assert ia.loc["d", "flag"].startswith("no variance")
    assert np.isnan(ia.loc["d", "r_drop"])


def test_all_missing_row_and_column(items):
    items.loc[5] = np.nan
    with pytest.raises(DataError) as err:
        rel.alpha(items)
    assert err.value.rows == [5]
    assert rel.alpha(items, missing="listwise").n == 29
    items2 = items.dropna()
    items2["e"] = np.nan
    with pytest.raises(DataError) as err:
        rel.alpha(items2)
    assert err.value.columns == ["e"]


def test_negative_alpha_warns(rng):
    x = rng.normal(size=(50, 1))
    data = np.column_stack([x, -x + 0.3 * rng.normal(size=(50, 1)), rng.normal(size=(50, 1))])
    with pytest.warns(EvalkitWarning, match="negative"):
        res = rel.alpha(data)
    assert res.estimate < 0


def test_bad_parameters(items):
    with pytest.raises(ParameterError):
        rel.alpha(items, ci="wald")
    with pytest.raises(ParameterError):
        rel.alpha(items, missing="drop")
    with pytest.raises(ParameterError):
        rel.alpha(items, level=95)
    with pytest.raises(ParameterError):
        rel.omega(items, nfactors=2)
    with pytest.raises(ParameterError):
        rel.sem(10, 1.2)
    with pytest.raises(ParameterError):
        rel.mdc(-1, 0.8)


def test_icc_unbalanced_long_data_names_targets():
    long = pd.DataFrame(
        {"t": [1, 1, 2, 2, 3], "r": ["x", "y", "x", "y", "x"], "y": [1, 2, 3, 4, 5]}
    )
    with pytest.raises(DataError) as err:
        rel.icc(long, targets="t", raters="r", ratings="y")
    assert err.value.values == [3] and err.value.rows == [4]
    res = rel.icc(long, targets="t", raters="r", ratings="y", missing="omit")
    assert res.attrs["n"] == 2


def test_icc_duplicates_and_wide_missing():
    long = pd.DataFrame(
        {"t": [1, 1, 1, 2, 2], "r": ["x", "y", "y", "x", "y"], "y": [1, 2, 3, 4, 5]}
    )
    with pytest.raises(DataError, match="more than once") as err:
        rel.icc(long, targets="t", raters="r", ratings="y")
    assert err.value.rows == [1, 2]
    wide = pd.DataFrame({"A": [1, 2, np.nan, 4], "B": [1, 3, 3, 5]}, index=list("pqrs"))
    with pytest.raises(DataError) as err:
        rel.icc(wide)
    assert err.value.rows == ["r"]
    assert rel.icc(wide, missing="omit").attrs["n"] == 3
    with pytest.raises(DataError, match="2 raters"):
        rel.icc(wide[["A"]])
    with pytest.raises(ParameterError):
        rel.icc(long, targets="t")


def test_kappa_category_outside_allowed():
    with pytest.raises(DataError) as err:
        rel.cohen_kappa(
            pd.Series([1, 2, 7], name="lead"),
            pd.Series([1, 2, 3], name="partner"),
            categories=[1, 2, 3],
        )
    assert err.value.column == "lead" and err.value.rows == [2] and err.value.values == [7]
    with pytest.raises(ParameterError, match="ordered"):
        rel.cohen_kappa(["low", "high"], ["high", "high"], weights="linear")
    with pytest.raises(ParameterError):
        rel.cohen_kappa([1, 2], [2, 1], weights=[[0, 1], [1, 0], [1, 1]])


def test_fleiss_uneven_raters_named():
    data = pd.DataFrame({"r1": [1, 2, 3, 1], "r2": [1, 2, np.nan, 2], "r3": [1, 3, 3, 2]})
    with pytest.raises(DataError) as err:
        rel.fleiss_kappa(data)
    assert err.value.rows == [2]


def test_krippendorff_needs_two_coders_and_pairable_units():
    with pytest.raises(DataError):
        rel.krippendorff_alpha(np.array([[1.0], [2.0]]))
    with pytest.raises(DataError, match="two or more coders"):
        rel.krippendorff_alpha(np.array([[1, np.nan], [np.nan, 2]]))
    with pytest.raises(ParameterError):
        rel.krippendorff_alpha(np.array([[1, 1], [2, 2]]), level="cardinal")


def test_bland_altman_and_change_lengths():
    with pytest.raises(DataError):
        rel.bland_altman([1, 2, 3], [1, 2])
    with pytest.raises(DataError):
        rel.reliable_change([1, 2, 3], [1, 2], reliability=0.8, sd=1)
    with pytest.raises(ParameterError):
        rel.reliable_change(
            [1, 2], [1, 2], reliability=0.8, sd=1, cutoff=3, normal=(1, 1), clinical=(2, 1)
        )


def test_icc_long_input_sorted_or_shuffled_gives_the_same_table():
    # Sorted long data take a reshape shortcut; shuffled data the general path: same numbers.
    rng = np.random.default_rng(3)
    x = rng.normal(size=(30, 4)) + rng.normal(size=(30, 1))
    long = pd.DataFrame(
        {"t": np.repeat(np.arange(30), 4), "r": np.tile(list("ABCD"), 30), "y": x.ravel()}
    )
    sorted_ = rel.icc(long, targets="t", raters="r", ratings="y")
    shuffled = rel.icc(long.sample(frac=1, random_state=1), targets="t", raters="r", ratings="y")
    pd.testing.assert_frame_equal(sorted_, shuffled)
    pd.testing.assert_frame_equal(sorted_, rel.icc(x))
    # a missing rating in sorted data is still reported, not reshaped away
    long.loc[5, "y"] = np.nan
    with pytest.raises(DataError, match="missing ratings"):
        rel.icc(long, targets="t", raters="r", ratings="y")
