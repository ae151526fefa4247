"""Fixtures for report tests: a small area folder made from the demo generator."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest

from evalkit.reports.paths import template_path
from evalkit.simulate import demo_area_records

ROOT = Path(__file__).resolve().parents[2]


def write_area(folder: Path, area_id: str, name: str, index: int, **extra) -> Path:
    """Write one area's records and parameter file into ``folder``; return the YAML path."""
    (folder / "records").mkdir(parents=True, exist_ok=True)
    (folder / "params").mkdir(parents=True, exist_ok=True)
    df, _ = demo_area_records(index)
    df.to_csv(folder / "records" / f"{area_id}.csv", index=False)
    params = {
        "area_id": area_id,
        "area_name": name,
        "records": f"records/{area_id}.csv",
        "synthetic": True,
        **extra,
    }
    path = folder / "params" / f"{area_id}.yaml"
    path.write_text("".join(f"{k}: {json.dumps(v)}\n" for k, v in params.items()))
    return path


@pytest.fixture
def area_folder(tmp_path, monkeypatch):
    """A working folder with two areas (one named with HTML) and the run's cwd set to it."""
    monkeypatch.chdir(tmp_path)
    write_area(tmp_path, "X01", "<script>alert(1)</script> & Co", 0)
    write_area(tmp_path, "X02", "Second area", 1)
    return tmp_path


def failing_template(folder: Path, fail_for: str) -> Path:
    """The area template with one extra cell that raises for the area named ``fail_for``."""
    nb = nbformat.read(template_path(), as_version=4)
    cell = nbformat.v4.new_code_cell(
        f'if area_id == "{fail_for}":\n    raise RuntimeError("deliberate failure for the test")'
    )
    nb.cells.insert(2, cell)
    path = folder / "failing_template.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def templates_copy(tmp_path):
    """A copy of templates/ (to alter without touching the repository)."""
    dst = tmp_path / "templates_copy"
    shutil.copytree(ROOT / "templates", dst)
    return dst
