"""Parameter files: every kind of mistake gets one clear line naming the file and the key."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import papermill as pm
import pytest

from evalkit.errors import ParameterError
from evalkit.reports.params import AreaParams, load_jobs
from evalkit.reports.paths import template_path

from .conftest import write_area


def problems_of(paths) -> list[str]:
    with pytest.raises(ParameterError) as info:
        load_jobs(paths)
    return info.value.problems


def test_schema_keys_are_exactly_the_template_parameters():
    declared = pm.inspect_notebook(str(template_path()))
    assert list(declared) == list(AreaParams.model_fields)
    # and the defaults agree, so plain papermill and evalkit render behave the same
    for name, info in declared.items():
        default = AreaParams.model_fields[name].get_default(call_default_factory=True)
        if (
            info["default"] is not None
            and default is not None
            and name not in {"area_id", "area_name", "records"}
        ):
            assert eval(info["default"]) == default, name  # noqa: S307 - literals from our template


def test_good_files_load(area_folder):
    jobs = load_jobs([area_folder / "params"])
    assert [j.area_id for j in jobs] == ["X01", "X02"]
    assert jobs[0].params["suppression_threshold"] == 10  # default filled in
    assert jobs[0].input_files == ["records/X01.csv"]


def test_unknown_key_suggests_the_right_one(area_folder):
    path = area_folder / "params" / "X01.yaml"
    path.write_text(path.read_text() + "supression_threshold: 10\n")
    (line,) = problems_of([path])
    assert str(path) in line
    assert "'supression_threshold'" in line and "did you mean 'suppression_threshold'" in line


def test_wrong_type_names_file_key_and_value(area_folder):
    path = area_folder / "params" / "X01.yaml"
    path.write_text(path.read_text() + "suppression_threshold: ten\n")
    (line,) = problems_of([path])
    assert "key 'suppression_threshold'" in line and "'ten'" in line and "integer" in line


def test_threshold_out_of_range_says_what_is_allowed(area_folder):
    path = area_folder / "params" / "X01.yaml"
    path.write_text(path.read_text() + "suppression_threshold: 3\n")
    (line,) = problems_of([path])
    assert "key 'suppression_threshold'" in line and "between 5 and 100" in line


def test_missing_data_file(area_folder):
    path = area_folder / "params" / "X01.yaml"
    (area_folder / "records" / "X01.csv").unlink()
    (line,) = problems_of([path])
    assert "key 'records'" in line and "file not found: records/X01.csv" in line


def test_missing_column_in_data(area_folder):
    path = area_folder / "params" / "X01.yaml"
    path.write_text(path.read_text() + 'id_column: "child_id"\n')
    (line,) = problems_of([path])
    assert "key 'id_column'" in line and "no column 'child_id'" in line


def test_missing_required_key_and_bad_design(area_folder):
    path = area_folder / "params" / "X01.yaml"
    text = "\n".join(x for x in path.read_text().splitlines() if not x.startswith("area_name"))
    path.write_text(text + '\ndesign: "magic"\n')
    lines = problems_of([path])
    assert any("key 'area_name'" in x and "required" in x for x in lines)
    assert any("key 'design'" in x and "'prepost'" in x for x in lines)


def test_all_problems_in_all_files_at_once(area_folder):
    p1 = area_folder / "params" / "X01.yaml"
    p2 = area_folder / "params" / "X02.yaml"
    p1.write_text(p1.read_text() + "colour: blue\n")
    p2.write_text(p2.read_text() + "suppression_threshold: 1000\nsynthetic: maybe\n")
    lines = problems_of([p1, p2, area_folder / "nowhere.yaml"])
    assert len(lines) == 4
    assert sum(str(p2) in x for x in lines) == 2
    assert any("nowhere.yaml: file not found" in x for x in lines)


def test_invalid_yaml_and_not_a_mapping(area_folder):
    bad = area_folder / "bad.yaml"
    bad.write_text("area_id: [unclosed\n")
    listy = area_folder / "list.yaml"
    listy.write_text("- 1\n- 2\n")
    lines = problems_of([bad, listy])
    assert any("bad.yaml: not valid YAML" in x for x in lines)
    assert any("list.yaml: must be a mapping" in x for x in lines)


def test_duplicate_area_ids(area_folder):
    write_area(area_folder, "X03", "Third", 2)
    p3 = area_folder / "params" / "X03.yaml"
    p3.write_text(p3.read_text().replace('"X03"', '"X01"', 1))
    lines = problems_of([area_folder / "params"])
    assert any("'X01' is used already" in x for x in lines)


def test_area_id_must_be_safe_for_file_names(area_folder):
    path = area_folder / "params" / "X01.yaml"
    path.write_text(path.read_text().replace('area_id: "X01"', 'area_id: "../evil"'))
    (line,) = problems_of([path])
    assert "key 'area_id'" in line and "letters, digits" in line


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_spreadsheet_of_areas(area_folder, suffix):
    table = pd.DataFrame(
        {
            "area_id": ["X01", "X02"],
            "area_name": ["First", "Second"],
            "records": ["records/X01.csv", "records/X02.csv"],
            "suppression_threshold": ["", "12"],  # empty cell: the default
            "synthetic": ["TRUE", "false"],
        }
    )
    path = area_folder / f"areas{suffix}"
    table.to_csv(path, index=False) if suffix == ".csv" else table.to_excel(path, index=False)
    jobs = load_jobs([path])
    assert [j.params["suppression_threshold"] for j in jobs] == [10, 12]
    assert [j.params["synthetic"] for j in jobs] == [True, False]


def test_spreadsheet_errors_name_the_row(area_folder):
    path = area_folder / "areas.csv"
    pd.DataFrame(
        {
            "area_id": ["X01", "X02"],
            "area_name": ["A", "B"],
            "records": ["records/X01.csv", "records/missing.csv"],
            "threshold": ["", ""],
        }
    ).to_csv(path, index=False)
    lines = problems_of([path])
    assert any(f"{path}, row 3 (area X02): key 'records'" in x for x in lines)
    # an unknown column is reported for every row that fills it... here the column is empty
    assert all("threshold" not in x for x in lines)


def test_unsupported_file_type(area_folder):
    other = Path(area_folder / "notes.txt")
    other.write_text("hello")
    (line,) = problems_of([other])
    assert "not a parameter file" in line


def test_a_data_file_given_as_a_table_of_areas_is_one_clear_problem(area_folder):
    # a records file passed to validate/render by mistake gave one problem per cell
    (line,) = problems_of([area_folder / "records" / "X01.csv"])
    assert "not a table of areas" in line and "'records'" in line and "X01.csv" in line


def test_tool_names_for_parameters_are_the_shipped_tools():
    """Issue 12: the parameter check lists the tools without importing evalkit.tools."""
    from evalkit.reports.params import _tool_names
    from evalkit.tools import available

    assert _tool_names() == available()
