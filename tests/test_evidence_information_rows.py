"""The checklist's rows shown for information (issue 17): analysis pre-specified, reach and
fidelity. They never change the level; a row not met adds a plain note.
"""

from __future__ import annotations

import pytest

from evalkit.errors import ParameterError
from evalkit.evidence import FIDELITY_MIN, PRE_SPECIFIED, REACH_MIN, checklist

STRONG = dict(design="comparison", n_treated=150, n_comparison=150, reliability=0.85, mdes=0.29,
              hoped_effect=0.3, dropout=0.12, differential_dropout=0.03, baseline_smd=0.1,
              improved=True)  # fmt: skip


def test_rows_left_out_when_not_given():
    checks = list(checklist(**STRONG).table["check"])
    assert not {"pre_specified", "reach", "fidelity"} & set(checks)
    assert checks[-1] == "replication"


@pytest.mark.parametrize("status", list(PRE_SPECIFIED))
def test_pre_specified_met_only_when_followed_or_explained(status):
    res = checklist(**STRONG, pre_specified=status)
    row = res.table.set_index("check").loc["pre_specified"]
    assert row["met"] is (status in ("followed", "explained"))
    assert row["value"] == PRE_SPECIFIED[status]  # says which
    assert not row["key"]
    assert res.level == 3  # information only
    assert bool(res.notes) is (status not in ("followed", "explained"))


def test_low_reach_and_fidelity_are_noted_not_counted():
    # Borrelli (2011): high fidelity is 80% adherence or more; reach 50% is evalkit's choice
    assert (REACH_MIN, FIDELITY_MIN) == (0.5, 0.8)
    res = checklist(**STRONG, reach=0.2, fidelity=0.65)
    table = res.table.set_index("check")
    assert table.loc["reach", "status"] == "not met" and table.loc["reach", "value"].startswith(
        "20%"
    )
    assert table.loc["fidelity", "status"] == "not met"
    assert res.level == 3
    assert [n.split(":")[0] for n in res.notes] == ["Low reach", "Low fidelity"]
    ok = checklist(**STRONG, reach=0.5, fidelity=0.8)
    assert ok.notes == ()
    assert list(ok.table["check"])[-3:] == ["reach", "fidelity", "replication"]


def test_bad_values():
    with pytest.raises(ParameterError, match="pre_specified"):
        checklist(**STRONG, pre_specified="yes")
    with pytest.raises(ParameterError, match="percentage"):
        checklist(**STRONG, reach=45)


def test_rows_shown_without_outcome_data():
    res = checklist(design="none", n_treated=0, pre_specified="followed", reach=0.6)
    table = res.table.set_index("check")
    assert table.loc["pre_specified", "status"] == "met" and res.level == 1
