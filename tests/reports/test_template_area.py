"""The area template is its parameters cell plus one short cell per section (issue 10 item 1)."""

from __future__ import annotations

import json

from evalkit.reports.checks import check_html
from evalkit.reports.paths import template_path


def code_lines(cell) -> int:
    src = "".join(cell["source"]).splitlines()
    return sum(1 for line in src if line.strip() and not line.strip().startswith("#"))


def test_area_template_is_short_and_has_a_cell_per_section():
    nb = json.loads(template_path().read_text())
    cells = nb["cells"]
    assert cells[0]["metadata"].get("tags") == ["parameters"]
    assert sum(code_lines(c) for c in cells[1:] if c["cell_type"] == "code") <= 60
    for name in ("summary", "data_quality", "measurement", "outcomes", "indicators",
                 "maturity_matrix", "strength_of_evidence", "provenance"):  # fmt: skip
        assert any(f"sections.{name}(" in "".join(c["source"]) for c in cells), name
    assert all(not c.get("outputs") for c in cells if c["cell_type"] == "code")


def test_page_check_finds_ids_inside_generated_labels(tmp_path):
    # issue 11 item 1: a note named 'id_P010002' and the scan saw one word
    records = tmp_path / "r.csv"
    records.write_text("id,x\nP010002,1\nP010005,2\n")
    page = "<p>Could not be estimated: columns 'treated', 'id_P010002'</p>"
    problems = check_html(page, params={"records": str(records), "id_column": "id"})
    assert any("person ID" in p for p in problems)
    assert "P010002" not in " ".join(problems)
