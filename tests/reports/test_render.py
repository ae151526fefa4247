"""End to end: parameter files -> papermill -> HTML reports and an index."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from evalkit.cli import app

from .conftest import ROOT, failing_template, write_area

runner = CliRunner()


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """Render three areas once (X03 fails on purpose); yield the folder and the CLI result."""
    folder = tmp_path_factory.mktemp("render")
    old = os.getcwd()
    os.chdir(folder)
    try:
        write_area(folder, "X01", "<script>alert(1)</script> & Co", 0)
        write_area(folder, "X02", "Second area", 1)
        write_area(folder, "X03", "Failing area", 2)
        template = failing_template(folder, "X03")
        result = runner.invoke(
            app, ["render", "params", "--out", "out", "--jobs", "2", "--template", str(template)]
        )
        yield folder, result, template
    finally:
        os.chdir(old)


def html_of(folder: Path, area: str) -> str:
    return (folder / "out" / "areas" / f"{area}.html").read_text()


def test_exit_code_says_an_area_failed(run):
    _, result, _ = run
    assert result.exit_code == 1, result.output
    assert "2 rendered, 0 up to date, 1 failed" in result.output


def test_good_areas_rendered_despite_the_failure(run):
    folder, _, _ = run
    for area in ("X01", "X02"):
        assert (folder / "out" / "areas" / f"{area}.html").stat().st_size > 10_000
        assert (folder / "out" / "notebooks" / f"{area}.ipynb").exists()
    assert not (folder / "out" / "areas" / "X03.html").exists()
    assert (folder / "out" / "notebooks" / "X03.failed.ipynb").exists()


def test_index_shows_the_failing_cell_and_error(run):
    folder, _, _ = run
    index = (folder / "out" / "index.html").read_text()
    row = next(r for r in index.split("<tr>") if "X03" in r)
    assert "Failed" in row and "cell 3" in row
    assert "RuntimeError: deliberate failure for the test" in row
    assert 'href="areas/X01.html"' in index


def test_no_code_no_network_and_names_escaped(run):
    folder, _, _ = run
    page = html_of(folder, "X01")
    assert "import evalkit" not in page and "jp-InputArea" not in page
    assert not re.search(r"<(script|img|link|iframe)\b[^>]*(src|href)=[\"']?https?://", page, re.I)
    assert "<script" not in page.lower()  # the name is shown, not run
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    assert "Synthetic data" in page
    assert str(folder) not in page and os.path.expanduser("~") + "/" not in page
    assert 'lang="en-GB"' in page and page.count("<h1") == 1
    images = re.findall(r"<img\b[^>]*>", page)
    assert images and all(re.search(r'alt="[^"]+"', i) for i in images)
    assert all('src="data:image/svg+xml;base64,' in i for i in images)
    index = (folder / "out" / "index.html").read_text()
    assert "<script" not in index.lower()


def test_pages_across_areas_are_built_and_linked(run):
    folder, _, _ = run
    index = (folder / "out" / "index.html").read_text()
    for page, words in (
        ("synthesis", "What the areas"),
        ("reliability", "Reliability of the EPDS"),
    ):
        text = (folder / "out" / f"{page}.html").read_text()
        assert words in text and "<script" not in text.lower()
        assert f'href="{page}.html"' in index
    # the synthesis pools the two areas that rendered (X03 failed): their names appear
    synthesis = (folder / "out" / "synthesis.html").read_text()
    assert "Second area" in synthesis and "&lt;script&gt;" in synthesis


def test_results_json_beside_the_report(run):
    folder, _, _ = run
    data = json.loads((folder / "out" / "areas" / "X02.json").read_text())
    assert data["area_id"] == "X02" and data["n_records"] > 100
    assert "application/vnd.evalkit" not in html_of(folder, "X02")


def test_cache_skips_unchanged_areas_and_force_renders(run):
    folder, _, template = run
    os.chdir(folder)
    args = [
        "render",
        "params/X01.yaml",
        "params/X02.yaml",
        "--out",
        "out",
        "--template",
        str(template),
    ]
    again = runner.invoke(app, args)
    assert again.exit_code == 0, again.output
    assert "0 rendered, 2 up to date, 0 failed" in again.output

    records = folder / "records" / "X02.csv"
    records.write_text(records.read_text().replace("Setting 1", "Setting 9", 1))
    changed = runner.invoke(app, args)
    assert "1 rendered, 1 up to date" in changed.output

    forced = runner.invoke(app, [*args, "--force"])
    assert "2 rendered, 0 up to date" in forced.output


def test_failure_keeps_the_previous_good_report(run):
    folder, _, _ = run
    os.chdir(folder)
    before = html_of(folder, "X02")
    template = failing_template(folder / "out", "X02")
    result = runner.invoke(
        app, ["render", "params/X02.yaml", "--out", "out", "--template", str(template)]
    )
    assert result.exit_code == 1
    assert html_of(folder, "X02") == before
    status = json.loads((folder / "out" / "status.json").read_text())
    assert status["X02"]["status"] == "failed" and status["X02"]["kept_previous"]
    row = next(r for r in (folder / "out" / "index.html").read_text().split("<tr>") if "X02" in r)
    assert "previous report" in row and "out of date" in row


def test_validate_command(area_folder):
    ok = runner.invoke(app, ["validate", "params"])
    assert ok.exit_code == 0 and "2 area(s) OK" in ok.output
    path = area_folder / "params" / "X01.yaml"
    path.write_text(path.read_text() + "suppression_threshold: 0\ncolour: 1\n")
    bad = runner.invoke(app, ["validate", "params"])
    assert bad.exit_code == 2
    assert "2 problems in the parameters" in bad.output
    assert "Traceback" not in bad.output


def test_render_refuses_bad_parameters_before_starting(area_folder):
    result = runner.invoke(app, ["render", "params", "missing.yaml", "--out", "out"])
    assert result.exit_code == 2
    assert "missing.yaml: file not found" in result.output
    assert not (area_folder / "out").exists()


def test_plain_papermill_with_a_demo_parameter_file(tmp_path):
    """`papermill templates/area_report.ipynb out.ipynb -f data/demo/params/A01.yaml` works."""
    import papermill as pm

    params = yaml.safe_load((ROOT / "data/demo/params/A01.yaml").read_text())
    nb = pm.execute_notebook(
        str(ROOT / "templates/area_report.ipynb"),
        str(tmp_path / "out.ipynb"),
        parameters=params,
        cwd=str(ROOT),
        progress_bar=False,
        kernel_name="python3",
    )
    assert any("Alderbrook Vale" in json.dumps(c.get("outputs", [])) for c in nb.cells)


def test_reports_modules_import_no_private_names_of_each_other():
    """Issue 10, item 5: index.py imported ``_atomic_write``, ``_now`` and ``_house_css``."""
    import ast

    offenders = []
    for path in sorted((ROOT / "evalkit" / "reports").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.level:
                private = [a.name for a in node.names if a.name.startswith("_")]
                private = [n for n in private if not n.startswith("__")]
                if private:
                    offenders.append(f"{path.name}: {private}")
    assert offenders == []


def test_the_pipeline_lives_in_reports_build():
    """Issue 10, item 5: cli.py only parses options and prints; build.py runs the steps."""
    import inspect

    from evalkit import cli
    from evalkit.reports import build, record

    source = inspect.getsource(cli)
    for step in ("render_areas", "render_page", "write_index", "synthesis_params"):
        assert step not in source
    assert "render_areas" in inspect.getsource(build) and "write_index" in inspect.getsource(build)
    assert record.RESULTS_MIME == "application/vnd.evalkit.results+json"
