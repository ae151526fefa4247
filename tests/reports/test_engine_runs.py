"""Issue 12: what makes a run fast must not make it wrong.

- one worker pool serves a whole run, and a worker that dies leaves the next stage a
  fresh pool;
- a fully cached run does not read the areas' data again, but an area whose data
  changed is checked (and rendered) again;
- status.json and the index are not scanned again for a text found clean against the
  same records, and are scanned again when the records change or a new text comes.
"""

from __future__ import annotations

import os

import pandas as pd
import pytest

from evalkit.reports import checks
from evalkit.reports import params as params_mod
from evalkit.reports.index import write_index
from evalkit.reports.params import load_jobs
from evalkit.reports.render import WorkerPool, is_up_to_date, render_areas

from .test_faults import areas, render, status_of, tiny_template


def test_a_dead_worker_leaves_the_next_stage_a_fresh_pool(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 2)
    jobs = load_jobs(["params"], enough_data=False)
    killer = tiny_template(
        tmp_path,
        'if area_id == "X02":\n    os.kill(os.getppid(), 9)  # the worker\n    time.sleep(30)\n',
        name="killer.ipynb",
    )
    fine = tiny_template(tmp_path, "x = 1\n", name="fine.ipynb")
    with WorkerPool(2) as pool:
        first = render_areas(jobs, tmp_path / "a", template=killer, executor=pool)
        assert [o.status for o in first] == ["rendered", "failed"]
        second = render_areas(jobs, tmp_path / "b", template=fine, executor=pool)
    assert [o.status for o in second] == ["rendered", "rendered"]


def test_a_cached_run_reads_no_data_but_a_changed_area_is_checked_again(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 2)
    template = tiny_template(tmp_path, "x = 1\n")
    assert render("params", "-o", "out", "--template", str(template)).exit_code == 0

    read = []
    real = params_mod._check_records

    def spy(model, *args, **kwargs):
        read.append(model.area_id)
        return real(model, *args, **kwargs)

    monkeypatch.setattr(params_mod, "_check_records", spy)
    result = render("params", "-o", "out", "--template", str(template))
    assert result.exit_code == 0 and "0 rendered, 2 up to date" in result.output
    assert read == []  # nothing was read: both reports are up to date

    # X02's data change: it is checked again, and its bad data are reported as before
    records = tmp_path / "records" / "X02.csv"
    df = pd.read_csv(records)
    df.loc[0, "treated"] = 7
    df.to_csv(records, index=False)
    result = render("params", "-o", "out", "--template", str(template))
    assert read == ["X02"]
    assert result.exit_code == 2 and "treated" in result.output
    assert status_of(tmp_path / "out")["X01"]["status"] == "cached"

    # --force checks every area
    read.clear()
    df.loc[0, "treated"] = 1
    df.to_csv(records, index=False)
    assert render("params", "-o", "out", "--template", str(template), "--force").exit_code == 0
    assert sorted(read) == ["X01", "X02"]


def test_is_up_to_date_follows_the_template_and_the_inputs(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    areas(tmp_path, 1)
    template = tiny_template(tmp_path, "x = 1\n")
    other = tiny_template(tmp_path, "x = 2\n", name="other.ipynb")
    (job,) = load_jobs(["params"], enough_data=False)
    assert not is_up_to_date(job, tmp_path / "out", template)  # nothing rendered yet
    assert render("params", "-o", "out", "--template", str(template)).exit_code == 0
    assert is_up_to_date(job, tmp_path / "out", template)
    assert not is_up_to_date(job, tmp_path / "out", other)
    records = tmp_path / "records" / "X01.csv"
    df = pd.read_csv(records)
    df.loc[0, "mother_age"] += 1
    df.to_csv(records, index=False)
    (job,) = load_jobs(["params"], enough_data=False)
    assert not is_up_to_date(job, tmp_path / "out", template)


@pytest.fixture
def people(tmp_path):
    records = tmp_path / "r.csv"
    pd.DataFrame({"id": ["P123456", "P654321"], "x": [1, 2]}).to_csv(records, index=False)
    return records


def _counting(monkeypatch) -> list[str]:
    scanned: list[str] = []
    real = checks.check_page

    def spy(text, **kwargs):
        scanned.append(text)
        return real(text, **kwargs)

    monkeypatch.setattr(checks, "check_page", spy)
    return scanned


def test_a_clean_text_is_not_scanned_twice_against_the_same_records(tmp_path, people, monkeypatch):
    scanned = _counting(monkeypatch)
    sources = [(str(people), "id")]
    out = tmp_path / "out"
    out.mkdir()
    memo = checks.ScanMemo(out, sources, str(tmp_path))
    assert memo.check("<p>Area 1: 12 families</p>") == []
    assert len(scanned) == 1
    # the memo holds digests only, and another run (a new memo) finds the text known
    kept = (out / checks.SCANS_NAME).read_text()
    assert "Area" not in kept and "P123456" not in kept and len(kept.split()) == 1
    assert checks.ScanMemo(out, sources, str(tmp_path)).check("<p>Area 1: 12 families</p>") == []
    assert len(scanned) == 1
    # a text with an ID is found every time, and never remembered as clean
    for _ in range(2):
        found = checks.ScanMemo(out, sources, str(tmp_path)).check("<p>P654321</p>")
        assert found and "1 person ID" in found[0]
    assert len(scanned) == 3
    # new records (another size or time): the known text is scanned again
    pd.DataFrame({"id": ["P123456", "Area"], "x": [1, 2]}).to_csv(people, index=False)
    os.utime(people, ns=(1, 1))
    found = checks.ScanMemo(out, sources, str(tmp_path)).check("<p>Area 1: 12 families</p>")
    assert len(scanned) == 4


def test_the_index_is_scanned_again_only_when_it_says_something_new(tmp_path, people, monkeypatch):
    scanned = _counting(monkeypatch)
    out = tmp_path / "out"
    (out / "areas").mkdir(parents=True)
    entry = {"area_id": "X01", "area_name": "Area 1", "html": "areas/X01.html"}
    (out / "areas" / "X01.html").write_text("<p>report</p>")
    sources = [(str(people), "id")]
    from evalkit.reports.status import merge_status

    merge_status(out, {"X01": {**entry, "status": "rendered"}})
    write_index(out, sources=sources)
    assert len(scanned) == 1
    # the next run found the report up to date: "Up to date" for "Rendered now", not rescanned
    merge_status(out, {"X01": {**entry, "status": "cached"}})
    text = write_index(out, sources=sources).read_text()
    assert "Up to date" in text and len(scanned) == 1
    # a new name is a new text
    merge_status(out, {"X01": {**entry, "area_name": "Area One", "status": "cached"}})
    write_index(out, sources=sources)
    assert len(scanned) == 2
    # and a name that is a person's ID is still refused
    merge_status(out, {"X01": {**entry, "area_name": "P123456", "status": "cached"}})
    with pytest.raises(Exception, match="1 person ID"):
        write_index(out, sources=sources)


def test_status_of_a_cached_run_is_not_rescanned_but_a_new_text_is(tmp_path, people, monkeypatch):
    """The run after a render writes "cached" and no seconds where the render wrote
    "rendered" and its seconds: neither comes from data, so the earlier scan stands."""
    from evalkit.reports.render import _status_words
    from evalkit.reports.status import merge_status

    scanned = _counting(monkeypatch)
    out = tmp_path / "out"
    out.mkdir()
    memo = checks.ScanMemo(out, [(str(people), "id")], str(tmp_path))

    def check(text):
        return memo.check(text, canonical=_status_words)

    entry = {"area_id": "X01", "area_name": "Area 1", "html": "areas/X01.html"}
    merge_status(out, {"X01": {**entry, "status": "rendered", "seconds": 12.5}}, check=check)
    merge_status(out, {"X01": {**entry, "status": "cached", "seconds": 0.0}}, check=check)
    assert len(scanned) == 1
    merge_status(out, {"X01": {**entry, "status": "failed", "error": "P123456"}}, check=check)
    assert len(scanned) >= 2
    assert "P123456" not in (out / "status.json").read_text()
