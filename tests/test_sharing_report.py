"""An area report made from a shared pack (issue 15, item 5): the health-visiting demo source
carries an evaluation; `evalkit share` with the evaluation dictionary keeps only those
children, one row each; `evalkit render` makes a normal area report from the pack's extract
with `id_column: person_id`. The page must show no pseudonym, no direct identifier of the
sources and no small count."""

import json
import os
import re
import warnings

import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.disclosure import scan_html_for_ids
from evalkit.errors import ParameterError
from evalkit.reports.checks import check_page
from evalkit.reports.params import load_jobs
from evalkit.sharing import load_dictionary
from evalkit.simulate_sources import EVALUATION_COLUMNS, demo_area_params, write_demo_sources

runner = CliRunner()
N = 600  # records per source; about 170 of the health-visiting children are in the evaluation


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """Sources, an evaluation pack made with a test key, and one area rendered from it."""
    folder = tmp_path_factory.mktemp("share_report")
    old = os.getcwd()
    os.chdir(folder)  # paths in area.yaml are relative to where evalkit runs, as in make
    try:
        paths = write_demo_sources(".", n=N, seed=11)
        (folder / "test.key").write_text("k" * 40)  # a test key (never a real one)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            shared = runner.invoke(
                app,
                [
                    "share",
                    str(paths["evaluation"]),
                    "--sources",
                    f"maternity={paths['maternity']}",
                    "--sources",
                    f"health_visiting={paths['health_visiting']}",
                    "--sources",
                    f"early_years={paths['early_years']}",
                    "--key-file",
                    "test.key",
                    "--out",
                    "evaluation-pack",
                    "-q",
                ],
            )
        assert shared.exit_code == 0, shared.output
        rendered = runner.invoke(
            app,
            ["render", "area.yaml", "--out", "reports", "--no-synthesis", "--jobs", "1"],
        )
        yield folder, paths, rendered
    finally:
        os.chdir(old)


def test_the_extract_is_one_row_per_child_of_the_evaluation(demo):
    folder, paths, _ = demo
    ex = pd.read_csv(folder / "evaluation-pack" / "extract.csv")
    hv = pd.read_csv(paths["health_visiting"])
    assert ex["person_id"].is_unique and ex["person_id"].str.fullmatch(r"[0-9a-f]{64}").all()
    assert ex["treated"].notna().all()
    # every child of the evaluation, once (health-visiting duplicates are one child), with
    # the evaluation's answers unchanged
    child = hv["nhs_no"].astype("string").fillna(hv["hv_id"])
    first = hv[hv["treated"].notna()].loc[lambda d: ~child[d.index].duplicated()]
    assert len(ex) == len(first)
    assert set(EVALUATION_COLUMNS) <= set(ex.columns)
    items = [f"epds_post_{i}" for i in range(1, 11)]
    assert sorted(ex[items].sum(axis=1)) == sorted(first[items].sum(axis=1))
    assert ex["treated"].sum() == first["treated"].sum()
    # no date of birth of any kind, no postcode, no source record number
    for col in ("birth_month", "birth_year", "dob", "DOB", "postcode", "hv_id", "source"):
        assert col not in ex.columns
    manifest = json.loads((folder / "evaluation-pack" / "manifest.json").read_text())
    assert manifest["rows_are"] == "children" and manifest["cohort"] == "treated"
    assert manifest["people"] == len(ex) and manifest["k_achieved"] >= 5


def test_the_area_report_renders_from_the_pack(demo):
    folder, _, rendered = demo
    assert rendered.exit_code == 0, rendered.output
    assert "1 rendered, 0 up to date, 0 failed" in rendered.output
    status = json.loads((folder / "reports" / "status.json").read_text())
    assert status["S01"]["status"] == "rendered" and status["S01"]["error"] is None
    assert not status["S01"]["output_problem"]
    index = (folder / "reports" / "index.html").read_text()
    assert 'href="areas/S01.html"' in index and "Failed" not in index
    assert check_page(index, id_sources=[("evaluation-pack/extract.csv", "person_id")]) == []
    page = (folder / "reports" / "areas" / "S01.html").read_text()
    assert "Alderbrook Vale (from a shared pack)" in page and "Synthetic data" in page


def test_the_page_shows_no_pseudonym_and_no_direct_identifier(demo):
    folder, paths, _ = demo
    page = (folder / "reports" / "areas" / "S01.html").read_text()
    ex = pd.read_csv(folder / "evaluation-pack" / "extract.csv")
    assert scan_html_for_ids(page, ex["person_id"]) == []
    # nor a shortened one (the page shows file fingerprints: hex, but not a pseudonym's)
    hexes = set(re.findall(r"[0-9a-f]{10,}", re.sub(r"data:[^\"']+", "", page)))
    assert hexes and not [h for h in hexes for p in ex["person_id"] if h in p]
    mat = pd.read_csv(paths["maternity"], dtype=str)
    hv = pd.read_csv(paths["health_visiting"], dtype=str)
    nhs = pd.concat([mat["nhs_number"].str.replace(" ", ""), hv["nhs_no"]]).dropna()
    assert scan_html_for_ids(page, nhs) == []
    assert scan_html_for_ids(page, pd.concat([mat["mat_id"], hv["hv_id"]])) == []
    text = page.lower()
    full_names = (mat["forename"] + " " + mat["surname"]).str.lower()
    assert not [n for n in full_names if n in text]
    assert not [d for d in pd.concat([mat["dob"], hv["date_of_birth"]]) if d in page]
    assert str(folder) not in page


def test_the_page_publishes_no_small_count(demo):
    """The report's disclosure control applies as usual: counts under 10 are withheld."""
    folder, _, _ = demo
    from evalkit.reports import sections

    result = json.loads((folder / "reports" / "areas" / "S01.json").read_text())
    for key in ("n_records", "n_treated", "n_comparison"):
        assert result[key] is None or result[key] >= 10, key
    params = yaml.safe_load((folder / "area.yaml").read_text())
    old = os.getcwd()
    os.chdir(folder)
    try:
        analysis = sections.analyse(params)
    finally:
        os.chdir(old)
    assert analysis.problem is None
    assert analysis.register.audit() == []


def test_a_changed_pack_is_refused_before_rendering(demo, tmp_path, monkeypatch):
    folder, _, _ = demo
    monkeypatch.chdir(tmp_path)
    import shutil

    shutil.copytree(folder / "evaluation-pack", "pack")
    params = {**demo_area_params("pack"), "area_id": "S02"}
    (tmp_path / "area.yaml").write_text(yaml.safe_dump(params))
    assert [j.area_id for j in load_jobs(["area.yaml"])] == ["S02"]
    extract = tmp_path / "pack" / "extract.csv"
    extract.write_text(extract.read_text().replace(",1,", ",0,", 1))
    with pytest.raises(ParameterError) as info:
        load_jobs(["area.yaml"])
    (line,) = info.value.problems
    assert "key 'pack'" in line and "extract.csv" in line and "SHA-256" in line
    # records outside the pack it names
    shutil.copy(extract, tmp_path / "elsewhere.csv")
    (tmp_path / "area.yaml").write_text(
        yaml.safe_dump({**params, "records": "elsewhere.csv", "pack": "pack"})
    )
    with pytest.raises(ParameterError) as info:
        load_jobs(["area.yaml"])
    assert "is not one of the pack's files" in info.value.problems[0]
    (tmp_path / "area.yaml").write_text(yaml.safe_dump({**params, "pack": "nowhere"}))
    with pytest.raises(ParameterError) as info:
        load_jobs(["area.yaml"])
    assert "no such folder: nowhere" in info.value.problems[0]


def test_cohort_and_rows_are_checked_in_the_dictionary():
    base = {"sources": {"a": {"columns": {"x": "attribute"}}}}
    with pytest.raises(ParameterError) as info:
        load_dictionary({**base, "cohort": "treated", "rows": "child"})
    problems = info.value.problems
    assert any("key 'cohort': 'treated' is not a column of the extract" in p for p in problems)
    assert any(
        "key 'rows': 'child' is not allowed (expected record or person)" in p for p in problems
    )
    d = load_dictionary({**base, "cohort": "x", "rows": "person"})
    assert (d.cohort, d.rows) == ("x", "person")
