"""Analysis plans: lock, the append-only register, deviations and their reasons (issue 17)."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evalkit import plan as ek_plan
from evalkit.cli import app
from evalkit.errors import ParameterError
from evalkit.reports.params import load_jobs

from .conftest import write_area

runner = CliRunner()
AGREED = {
    "questions": ["Does the hub reduce postnatal depression symptoms?"],
    "primary_outcome": "EPDS total at 26 weeks",
    "secondary_outcomes": ["WEMWBS total"],
    "subgroups": ["first baby"],
    "decision_rule": "Continue if the EPDS difference is 1.5 points or more in favour.",
    "data_sources": ["health visiting records"],
    "planned_dates": {
        "data_collection_end": "2026-03-31",
        "analysis": "2026-05-01",
        "report": "2026-06-30",
    },
}


@pytest.fixture
def area(tmp_path, monkeypatch):
    """One demo area's parameter file, and a complete plan made from it (not locked)."""
    monkeypatch.chdir(tmp_path)
    params_path = write_area(
        tmp_path,
        "X01",
        "Area one",
        0,
        design="comparison",
        covariates=["mother_age"],
        hoped_effect=0.3,
    )
    (tmp_path / "plans").mkdir()
    params = yaml.safe_load(params_path.read_text())
    (job,) = load_jobs([params_path])
    plan = ek_plan.new_plan(job.params, **AGREED)
    plan_path = ek_plan.write_plan(plan, tmp_path / "plans" / "X01-v1.yaml")
    return params_path, params, plan_path


def set_params(path: Path, **changes) -> None:
    params = yaml.safe_load(path.read_text())
    params.update(changes)
    path.write_text(yaml.safe_dump(params))


def test_lock_records_fingerprint_time_and_name(area):
    _, _, plan_path = area
    when = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.timezone.utc)
    entry = ek_plan.lock(plan_path, by="A. Analyst", now=when)
    assert entry.sha256 == ek_plan.fingerprint(plan_path)
    assert entry.locked_at == "2026-01-15T09:30:00+00:00" and entry.locked_by == "A. Analyst"
    assert ek_plan.read_register(plan_path.parent) == [entry]
    # locking the same content again changes nothing
    assert ek_plan.lock(plan_path, by="Someone else") == entry
    assert len((plan_path.parent / ek_plan.REGISTER_NAME).read_text().splitlines()) == 1


def test_a_locked_plan_cannot_be_locked_again_with_other_content(area):
    _, _, plan_path = area
    ek_plan.lock(plan_path, by="A. Analyst")
    plan_path.write_text(plan_path.read_text().replace("1.5 points", "1 point"))
    with pytest.raises(ParameterError, match="differs from it") as info:
        ek_plan.lock(plan_path, by="A. Analyst")
    assert "plan_version: 2" in str(info.value)
    # the changed plan as a new version is fine, and becomes the latest
    v2 = yaml.safe_load(plan_path.read_text())
    v2["plan_version"] = 2
    v2_path = plan_path.with_name("X01-v2.yaml")
    v2_path.write_text(yaml.safe_dump(v2))
    entry = ek_plan.lock(v2_path, by="A. Analyst")
    assert ek_plan.latest_lock(v2_path) == entry and entry.plan_version == 2


def test_an_incomplete_plan_is_not_locked(tmp_path):
    plan_path = ek_plan.write_plan(ek_plan.new_plan({"area_id": "X01"}), tmp_path / "p.yaml")
    with pytest.raises(ParameterError, match="fill in questions"):
        ek_plan.lock(plan_path, by="A. Analyst")
    assert not (tmp_path / ek_plan.REGISTER_NAME).exists()


def test_write_plan_never_overwrites(area):
    _, _, plan_path = area
    before = plan_path.read_text()
    with pytest.raises(ParameterError, match="never overwritten"):
        ek_plan.write_plan({"area_id": "X01"}, plan_path)
    assert plan_path.read_text() == before


def test_register_is_append_only_and_an_edited_entry_is_detected(area):
    _, _, plan_path = area
    ek_plan.lock(plan_path, by="A. Analyst")
    v2 = yaml.safe_load(plan_path.read_text())
    v2["plan_version"] = 2
    v2_path = plan_path.with_name("X01-v2.yaml")
    v2_path.write_text(yaml.safe_dump(v2))
    ek_plan.lock(v2_path, by="B. Partner")
    register = plan_path.parent / ek_plan.REGISTER_NAME
    lines = register.read_text().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    first["locked_by"] = "Someone else"  # a hand edit
    register.write_text(json.dumps(first, sort_keys=True) + "\n" + lines[1] + "\n")
    with pytest.raises(ParameterError, match="line 1 does not match the fingerprint chain"):
        ek_plan.read_register(plan_path.parent)
    # deleting the first entry breaks the chain too
    register.write_text(lines[1] + "\n")
    with pytest.raises(ParameterError, match="line 1"):
        ek_plan.read_register(plan_path.parent)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("design", "propensity"),  # a choice
        ("covariates", ["mother_age", "first_baby"]),  # a list
        ("hoped_effect", 0.5),  # a number
        ("follow_up_weeks", 52),  # a whole number
        ("outcome_pre_prefix", "epds_before_"),  # text
        ("second_tool", "wemwbs"),  # a tool
        ("suppression_threshold", 20),  # disclosure
    ],
)
def test_every_kind_of_parameter_change_is_a_deviation(key, value):
    plan = ek_plan.new_plan(
        {
            "area_id": "X01",
            "design": "comparison",
            "covariates": ["mother_age"],
            "hoped_effect": 0.3,
            "follow_up_weeks": 26,
            "outcome_pre_prefix": "epds_pre_",
            "second_tool": "",
            "suppression_threshold": 10,
        }
    )
    now = {**plan["parameters"], key: value}
    (dev,) = ek_plan.compare(now, plan)
    assert (dev.key, dev.actual) == (key, value)
    assert ek_plan.compare(plan["parameters"], plan) == []
    # a key dropped or added is a deviation too; 0.3 and 0.30 are the same number
    assert [d.key for d in ek_plan.compare({k: v for k, v in now.items() if k != key}, plan)] == [
        key
    ]
    assert ek_plan.compare({**plan["parameters"], "hoped_effect": 0.30}, plan) == []


def test_a_deviation_without_a_reason_is_a_validation_error(area):
    params_path, _, plan_path = area
    ek_plan.lock(plan_path, by="A. Analyst")
    set_params(params_path, plan=str(plan_path), design="propensity")
    with pytest.raises(ParameterError) as info:
        load_jobs([params_path])
    (line,) = info.value.problems
    assert "key 'deviations'" in line and "'design'" in line and "needs a reason" in line
    set_params(params_path, deviations={"design": "the comparison group was too unlike"})
    (job,) = load_jobs([params_path])
    status = ek_plan.check(job.params)
    assert not status.followed and status.deviations[0].reason.startswith("the comparison")
    assert "1 deviation" in status.sentence()
    frame = ek_plan.deviations_frame(status)
    assert frame.loc["design", "Planned"] == "'comparison'"
    # a reason for a key that does not deviate is reported, so the list stays true
    set_params(params_path, deviations={"design": "x", "follow_up_weeks": "y"})
    with pytest.raises(ParameterError, match="'follow_up_weeks' has a reason but does not differ"):
        load_jobs([params_path])


def test_an_unlocked_or_changed_plan_is_reported(area):
    params_path, _, plan_path = area
    set_params(params_path, plan=str(plan_path))
    with pytest.raises(ParameterError, match="has not been locked"):
        load_jobs([params_path])
    ek_plan.lock(plan_path, by="A. Analyst")
    (job,) = load_jobs([params_path])
    status = ek_plan.check(job.params)
    assert status.followed
    assert status.sentence().startswith(
        f"Analysis plan locked on {status.locked.date} (fingerprint "
    )
    assert status.sentence().endswith("; followed.")
    plan_path.write_text(plan_path.read_text() + "# edited\n")
    with pytest.raises(ParameterError, match="was changed after it was locked"):
        load_jobs([params_path])


def test_cli_init_lock_check(area, tmp_path):
    params_path, _, _ = area
    out = tmp_path / "plans" / "X01-cli.yaml"
    res = runner.invoke(app, ["plan", "init", str(params_path), "--out", str(out)])
    assert res.exit_code == 0, res.output
    assert "TO FILL IN" in out.read_text()
    res = runner.invoke(app, ["plan", "lock", str(out), "--by", "A. Analyst"])
    assert res.exit_code == 2 and "not complete" in res.output
    plan = yaml.safe_load(out.read_text())
    plan.update(AGREED)
    out.unlink()
    ek_plan.write_plan(plan, out)
    res = runner.invoke(app, ["plan", "lock", str(out), "--by", "A. Analyst"])
    assert res.exit_code == 0 and "Locked X01-cli.yaml" in res.output
    set_params(params_path, plan=str(out))
    res = runner.invoke(app, ["plan", "check", str(params_path)])
    assert res.exit_code == 0 and "; followed." in res.output
    set_params(params_path, hoped_effect=0.2)
    res = runner.invoke(app, ["plan", "check", str(params_path)])
    assert res.exit_code == 2 and "'hoped_effect' differs from the locked plan" in res.output
