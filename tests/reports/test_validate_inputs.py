"""`evalkit validate`: inputs that used to pass validation and then fail inside the report.

Each test reproduces a defect of issue 11 first (items 1, 2, 11 and 12), then checks the
clear message that replaces it: the file, the key, what was found and what is allowed,
and never a person ID.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.errors import DataError, ParameterError
from evalkit.reports.inputs import minimum_numbers, read_records
from evalkit.reports.params import AreaParams, load_jobs

from .conftest import write_area

runner = CliRunner()


def problems_of(paths, **kw) -> list[str]:
    with pytest.raises(ParameterError) as info:
        load_jobs(paths, **kw)
    return info.value.problems


def add(path: Path, **keys) -> Path:
    """Append (override) keys in a YAML parameter file."""
    path.write_text(path.read_text() + "".join(f"{k}: {json.dumps(v)}\n" for k, v in keys.items()))
    return path


@pytest.fixture
def x01(area_folder) -> Path:
    return area_folder / "params" / "X01.yaml"


@pytest.fixture
def records(area_folder) -> pd.DataFrame:
    return pd.read_csv(area_folder / "records" / "X01.csv")


def save(df: pd.DataFrame, folder: Path) -> None:
    df.to_csv(folder / "records" / "X01.csv", index=False)


# -- issue 11, item 1: the ID column in an analysis role --------------------------------------


@pytest.mark.parametrize(
    "keys, key",
    [
        ({"covariates": ["id", "mother_age"]}, "covariates"),
        ({"covariates": "mother_age, id"}, "covariates"),
        ({"treatment_column": "id"}, "treatment_column"),
        ({"setting_column": "id"}, "setting_column"),
        ({"id_column": "epds_pre_1"}, "outcome_pre_prefix"),
        (
            {"id_column": "wemwbs_post_3", "second_tool": "wemwbs", "second_pre_prefix": "w_"},
            "second_post_prefix",
        ),
    ],
)
def test_id_column_refused_in_every_analysis_role(x01, keys, key):
    keys = dict(keys)
    if "second_tool" in keys:
        keys["second_post_prefix"] = "wemwbs_post_"
    add(x01, **keys)
    lines = [x for x in problems_of([x01]) if "is the ID column" in x or "names the ID" in x]
    assert len(lines) == 1, lines
    (line,) = lines
    assert line.startswith(f"{x01}: key {key!r}: ")
    assert "allowed: any column except the ID column" in line


def test_validate_command_refuses_id_as_covariate(area_folder, x01):
    # the defect: with covariates: ["id", ...] the report rendered and named 11 IDs
    add(x01, covariates=["id", "mother_age"])
    res = runner.invoke(app, ["validate", str(x01)])
    assert res.exit_code == 2
    assert "key 'covariates': 'id' is the ID column" in res.stderr
    assert "P01" not in res.stderr


# -- issue 11, item 2: duplicated IDs --------------------------------------------------------


def test_duplicated_ids_give_spreadsheet_rows_and_counts_never_ids(area_folder, x01, records):
    records.loc[4, "id"] = records.loc[1, "id"]  # spreadsheet rows 3 and 6
    save(records, area_folder)
    (line,) = problems_of([x01])
    assert "key 'id_column'" in line and "X01.csv" in line
    assert "1 ID(s) appear more than once, on 2 rows" in line
    assert "spreadsheet rows 3 and 6 (the header is row 1)" in line
    assert not re.search(r"P\d{6}", line), line
    with pytest.raises(DataError) as err:
        read_records(area_folder / "records" / "X01.csv", id_column="id")
    assert "spreadsheet rows 3 and 6" in str(err.value) and not re.search(r"P\d{6}", str(err))


def test_blank_ids_give_spreadsheet_rows(area_folder, records):
    records.loc[[0, 9], "id"] = None
    save(records, area_folder)
    with pytest.raises(DataError, match=r"empty on 2 row\(s\): spreadsheet rows 2 and 11"):
        read_records(area_folder / "records" / "X01.csv", id_column="id")


# -- issue 11, item 11: too little data ------------------------------------------------------


@pytest.mark.parametrize("design", ["prepost", "comparison", "multilevel", "propensity"])
@pytest.mark.parametrize("n", [0, 1, 6])
def test_too_little_data_says_what_was_found_and_needed(area_folder, x01, records, design, n):
    # the defect: these passed validate, then failed in the kernel ("... is NaN",
    # "n_improved=None")
    save(records.head(n), area_folder)
    add(x01, design=design, covariates=["mother_age"] if design == "propensity" else [])
    lines = problems_of([x01])
    if n == 0:
        (line,) = lines
        assert "key 'records': has column names but no rows of data (found 0 people" in line
        assert f"the {design!r} design needs at least 4" in line
    else:
        for line in lines:
            assert "key 'design'" in line and "found" in line and "needs" in line
            assert "at least" in line


def test_enough_data_is_counted_among_complete_answers(area_folder, x01, records):
    # 6 treated and 6 comparison with full answers, but in one setting each
    keep = pd.concat([records[records.treated == 1].head(6), records[records.treated == 0].head(6)])
    keep = keep.assign(setting=keep.treated.map({1: "S1", 0: "S2"}))
    save(keep, area_folder)
    add(x01, design="multilevel")
    (line,) = problems_of([x01])
    assert "people from at least 2 settings in each group" in line
    assert "in 1 and 1 settings" in line
    # the check can be left to the report
    assert load_jobs([x01], enough_data=False)[0].area_id == "X01"


def test_comparison_design_with_one_group_suggests_prepost(area_folder, x01, records):
    save(records[records.treated == 1], area_folder)
    (line,) = problems_of([x01])
    assert "found" in line and "and 0 in the comparison group" in line
    assert "use design: prepost" in line


def test_minimum_numbers_table():
    assert minimum_numbers("prepost") == {"service_pairs": 4}
    assert minimum_numbers("comparison", 2) == {
        "service_pairs": 4,
        "per_group": 2,
        "total": 6,
        "settings_per_group": 2,
    }
    assert "settings_per_group" not in minimum_numbers("propensity", 1)


# -- issue 11, item 11: text and blank answers -----------------------------------------------


def test_answer_labels_of_the_tool_pass(area_folder, x01, records):
    # EPDS item 1: "Not at all" scores 3; item 4: "No, not at all" scores 0
    records["epds_pre_1"] = records["epds_pre_1"].astype(object)
    records.loc[[0, 3], "epds_pre_1"] = "Not at all"
    records["epds_pre_4"] = records["epds_pre_4"].astype(object)
    records.loc[2, "epds_pre_4"] = "no, NOT at all"
    save(records, area_folder)
    assert [j.area_id for j in load_jobs([x01])] == ["X01"]


def test_unknown_text_answers_are_named_with_rows_and_values(area_folder, x01, records):
    records["epds_post_3"] = records["epds_post_3"].astype(object)
    records.loc[[1, 5], "epds_post_3"] = "banana"
    records.loc[7, "epds_post_3"] = "Sort of"
    save(records, area_folder)
    (line,) = problems_of([x01])
    assert "key 'outcome_post_prefix': text where EPDS answers are expected" in line
    assert "column 'epds_post_3', spreadsheet rows 3, 7 and 9 (the header is row 1)" in line
    assert "'banana', 'Sort of'" in line
    assert "whole numbers 0-3" in line and "'Not at all'" in line  # known labels


def test_all_items_blank(area_folder, x01, records):
    # the defect: ZeroDivisionError inside the report, no column named
    cols = [c for c in records if c.startswith("epds_post_")]
    records[cols] = None
    save(records, area_folder)
    (line,) = problems_of([x01])
    assert "key 'outcome_post_prefix'" in line
    assert "every answer in the 10 EPDS item columns epds_post_1 to epds_post_10 is empty" in line


def test_bad_group_values_are_caught_before_the_report(area_folder, x01, records):
    records["treated"] = records["treated"].astype(object)
    records.loc[2, "treated"] = "maybe"
    save(records, area_folder)
    (line,) = problems_of([x01])
    assert "key 'treatment_column'" in line and "row 4" in line and "'maybe'" in line


# -- issue 11, item 11: encoding -------------------------------------------------------------


def latin1_records(area_folder, records) -> Path:
    path = area_folder / "records" / "X01.csv"
    records.assign(setting=records.setting.str.replace("Setting", "Café")).to_csv(
        path, index=False, encoding="latin-1"
    )
    return path


def test_latin1_csv_is_detected(area_folder, x01, records):
    # the defect: "'utf-8' codec can't decode byte 0xe9" inside the report
    path = latin1_records(area_folder, records)
    assert load_jobs([x01])[0].params["encoding"] == ""
    df = read_records(path, id_column="id")
    assert df.setting.iloc[0].startswith("Café") and df.attrs["encoding"] == "cp1252"


def test_encoding_parameter(area_folder, x01, records):
    path = latin1_records(area_folder, records)
    add(x01, encoding="latin-1")
    assert load_jobs([x01])[0].params["encoding"] == "latin-1"
    assert read_records(path, id_column="id", encoding="latin-1").setting.iloc[0][:4] == "Café"
    add(x01, encoding="utf-8")
    (line,) = problems_of([x01])
    assert "key 'records'" in line and "is not in the utf-8 encoding: byte 0xe9" in line
    add(x01, encoding="klingon")
    (line,) = problems_of([x01])
    assert "key 'encoding'" in line and "unknown text encoding 'klingon'" in line


# -- issue 11, item 11: the sheet of a workbook ----------------------------------------------


def workbook(area_folder, records) -> Path:
    path = area_folder / "records" / "X01.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame({"about": ["data on the next sheet"]}).to_excel(
            w, sheet_name="Notes", index=False
        )
        records.to_excel(w, sheet_name="Data", index=False)
        w.book.active = 1  # saved with the data sheet open: the old validate read this one
    return path


def test_data_on_the_second_sheet(area_folder, x01, records):
    # the defect: validate read the active sheet, render the first
    path = workbook(area_folder, records)
    add(x01, records="records/X01.xlsx")
    lines = problems_of([x01])
    assert any("key 'id_column': no column 'id' in records/X01.xlsx" in x for x in lines)
    (hint,) = [x for x in lines if "key 'sheet'" in x]
    assert "looked for on the first, 'Notes'" in hint and "sheet: 'Data' (or sheet: 2)" in hint
    for sheet in ("Data", 2, "2", "data"):
        add(x01, sheet=sheet)
        (job,) = load_jobs([x01])
        # the report reads with the same function and the same parameters
        df = read_records(path, id_column="id", sheet=job.params["sheet"])
        assert len(df) == len(records) and job.params["sheet"] == str(sheet)
    add(x01, sheet="Nope")
    (line,) = problems_of([x01])
    assert "key 'sheet'" in line and "its sheets: 'Notes', 'Data'" in line
    assert "a number from 1 to 2" in line


def test_sheet_of_a_csv_is_refused(x01):
    add(x01, sheet="Data")
    (line,) = problems_of([x01])
    assert "key 'sheet': a .csv file has no sheets" in line


def test_sheet_zero_is_refused(x01):
    add(x01, sheet=0)
    (line,) = problems_of([x01])
    assert "key 'sheet'" in line and "counted from 1" in line


def test_new_parameters_are_in_schema_and_template():
    import papermill as pm

    from evalkit.reports.paths import template_path

    declared = pm.inspect_notebook(str(template_path()))
    for name in ("sheet", "encoding"):
        assert name in AreaParams.model_fields and declared[name]["default"] == '""'


# -- issue 11, item 12: minor points ---------------------------------------------------------


def test_malformed_yaml_gives_line_and_column(area_folder):
    bad = area_folder / "bad.yaml"
    bad.write_text('area_id: "X09"\narea_name: "Nine\nrecords: [unclosed\n')
    (line,) = problems_of([bad])
    assert re.search(r"bad\.yaml: not valid YAML \(line \d+, column \d+: ", line), line


def test_yaml_not_utf8(area_folder):
    bad = area_folder / "latin.yaml"
    bad.write_bytes('area_id: "X09"\narea_name: "Café"\n'.encode("latin-1"))
    (line,) = problems_of([bad])
    assert "not UTF-8 text (byte 0xe9" in line and "save the file as UTF-8" in line


@pytest.mark.parametrize(
    "key, value, expected",
    [
        ("intervention_month", -1, "must be 0 or more"),
        ("hoped_effect", 0, "must be more than 0 and at most 2"),
        ("suppression_threshold", 3, "must be between 5 and 100"),
    ],
)
def test_range_messages_for_open_ranges(x01, key, value, expected):
    add(x01, **{key: value})
    (line,) = problems_of([x01])
    assert f"key {key!r}: {expected}" in line and "None" not in line


def test_area_ids_differing_only_in_case_are_refused(area_folder):
    path = write_area(area_folder, "x01", "Lower case", 2)
    lines = problems_of([area_folder / "params"])
    (line,) = [x for x in lines if "differs only in case" in x]
    assert str(path) in line or "x01" in line
    assert "'X01'" in line and "'x01'" in line


def test_folder_given_as_records(area_folder, x01):
    add(x01, records="records")
    (line,) = problems_of([x01])
    assert "key 'records': is a folder, not a file" in line
    (area_folder / "dir.csv").mkdir()
    add(x01, records="dir.csv")
    (line,) = problems_of([x01])
    assert "key 'records': is a folder, not a file" in line


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "the file is empty (0 bytes)"),
        (b"\n\n", "holds no table"),
        (b"id,treated\n1,0\n2,1,7,8\n", "is not a table that can be read (Expected 2 fields"),
    ],
)
def test_unreadable_csv_says_what_is_wrong(area_folder, x01, content, expected):
    (area_folder / "records" / "X01.csv").write_bytes(content)
    (line,) = problems_of([x01])
    assert "key 'records'" in line and expected in line
    assert "is it a valid" not in line


def test_not_a_workbook(area_folder, x01):
    (area_folder / "records" / "X01.xlsx").write_text("id,treated\n1,0\n")
    add(x01, records="records/X01.xlsx")
    (line,) = problems_of([x01])
    assert "is not an Excel workbook" in line


def test_permission_denied(area_folder, x01, monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("evalkit.tools.io.pd.read_csv", refuse)
    (line,) = problems_of([x01])
    assert "key 'records'" in line and "cannot be opened: permission denied" in line


def test_unreadable_indicators_file_says_why(area_folder, x01):
    (area_folder / "ind.csv").write_bytes(b"")
    add(x01, indicators="ind.csv", indicator="breastfeeding")
    (line,) = problems_of([x01])
    assert "key 'indicators': cannot read ind.csv: ind.csv: the file is empty (0 bytes)" in line


def test_latin1_spreadsheet_of_areas(area_folder):
    path = area_folder / "areas.csv"
    pd.DataFrame(
        {"area_id": ["X01"], "area_name": ["Café du Nord"], "records": ["records/X01.csv"]}
    ).to_csv(path, index=False, encoding="cp1252")
    (job,) = load_jobs([path])
    assert job.params["area_name"] == "Café du Nord"
