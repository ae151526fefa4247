"""The needs-assessment page rendered per area beside its report (issue 14 item 2).

One demo area only (a kernel run is slow): the page is written atomically with its stamp,
scanned, cached, left out of status.json and the cross-area results, and listed in the index.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from evalkit.reports.checks import check_page
from evalkit.reports.index import index_html
from evalkit.reports.params import load_jobs
from evalkit.reports.render import AREA_PAGES, area_page_jobs, render_area_pages

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def jobs():
    old = os.getcwd()
    os.chdir(ROOT)  # the demo's parameter files hold paths relative to the repository
    try:
        yield load_jobs([ROOT / "data/demo/params/A01.yaml"])
    finally:
        os.chdir(old)


@pytest.fixture(scope="module")
def rendered(jobs, tmp_path_factory):
    out = tmp_path_factory.mktemp("needs-site")
    old = os.getcwd()
    os.chdir(ROOT)
    try:
        first = render_area_pages(jobs, out, n_jobs=1)
        again = render_area_pages(jobs, out, n_jobs=1)
    finally:
        os.chdir(old)
    return out, first, again


def test_one_page_job_per_area_with_only_its_keys(jobs):
    (spec,) = AREA_PAGES
    (job,) = area_page_jobs(jobs, spec)
    assert job.area_id == "A01-needs"
    assert set(job.params) == set(spec.keys)
    assert sorted(job.input_files) == ["data/demo/needs.csv", "data/demo/needs_indicators.csv"]
    no_needs = [type(jobs[0])("A02", "x", {**jobs[0].params, "needs_data": ""}, [])]
    assert area_page_jobs(no_needs, spec) == []


def test_page_rendered_beside_the_area_report(rendered):
    out, first, _ = rendered
    (o,) = first
    assert o.status == "rendered", o.error
    assert o.html == "areas/A01-needs.html"
    page = (out / o.html).read_text(encoding="utf-8")
    assert "<h1>Alderbrook Vale</h1>" in page and "Inequality by deprivation decile" in page
    assert 'href="A01.html"' in page
    assert (out / "areas/A01-needs.sha256").is_file()
    assert not (out / "areas/A01-needs.json").exists()  # not a record for the synthesis
    assert (
        not (out / "status.json").exists() or "A01-needs" not in (out / "status.json").read_text()
    )
    assert len(page.encode()) < 2_000_000


def test_page_passes_the_scans(rendered):
    out, first, _ = rendered
    page = (out / first[0].html).read_text(encoding="utf-8")
    assert check_page(page, id_sources=[("data/demo/records/A01.csv", "id")], cwd=str(ROOT)) == []


def test_unchanged_page_is_cached(rendered):
    _, first, again = rendered
    assert [o.status for o in again] == ["cached"]
    # named alike whether rendered now or up to date: the index of a fully cached run says
    # what the run before said (its clean scan is remembered; a 175-area re-run rescanned it)
    assert [o.area_name for o in again] == [o.area_name for o in first] == ["Alderbrook Vale"]
    assert index_html([], area_pages=again) == index_html([], area_pages=first)


def test_index_links_every_needs_page(rendered):
    _, first, _ = rendered
    text = index_html([], area_pages=first)
    assert "<h2>Needs assessments</h2>" in text and 'href="areas/A01-needs.html"' in text
