"""evalkit init, the parameters workbook, evalkit schema and validate --annotate (issue 18)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import jsonschema
import openpyxl
import pytest
import yaml
from typer.testing import CliRunner

from evalkit.cli import app
from evalkit.errors import ParameterError
from evalkit.reports.params import load_jobs
from evalkit.reports.project import init_project
from evalkit.reports.schema import json_schema, key_specs
from evalkit.reports.workbook import AREAS_SHEET, annotate_workbook, write_workbook

ROOT = Path(__file__).resolve().parents[2]
DEMO_PARAMS = sorted((ROOT / "data" / "demo" / "params").glob("*.yaml"))
runner = CliRunner()


def demo_rows() -> list[dict]:
    return [yaml.safe_load(p.read_text()) for p in DEMO_PARAMS]


def header(ws) -> dict[str, int]:
    return {c.value: c.column for c in ws[1]}


def test_workbook_filled_from_the_demo_validates(tmp_path, monkeypatch):
    book = write_workbook(tmp_path / "areas.xlsx", demo_rows())
    monkeypatch.chdir(ROOT)  # the demo's paths are relative to the repository
    jobs = load_jobs([book])
    assert [j.area_id for j in jobs] == [f"A{i:02d}" for i in range(1, 21)]
    by_yaml = {j.area_id: j.params for j in load_jobs(DEMO_PARAMS)}
    for job in jobs:  # the workbook round-trips every value, lists and yes/no included
        assert job.params == by_yaml[job.area_id]


def test_five_damaged_cells_give_five_problems_each_on_its_cell(tmp_path, monkeypatch):
    book = write_workbook(tmp_path / "areas.xlsx", demo_rows()[:6])
    wb = openpyxl.load_workbook(book)
    ws = wb[AREAS_SHEET]
    col = header(ws)
    damage = {
        (2, "design"): "cluster",
        (3, "suppression_threshold"): 3,
        (4, "outcome_tool"): "epds2",
        (5, "records"): "data/demo/records/nowhere.csv",
        (6, "hoped_effect"): "big",
    }
    for (row, key), value in damage.items():
        ws.cell(row=row, column=col[key], value=value)
    wb.save(book)
    monkeypatch.chdir(ROOT)
    with pytest.raises(ParameterError) as info:
        load_jobs([book])
    problems = info.value.problems
    assert len(problems) == 5
    out = tmp_path / "checked.xlsx"
    assert annotate_workbook(book, problems, out) == 5
    marked = openpyxl.load_workbook(out)[AREAS_SHEET]
    for (row, key), _ in damage.items():
        cell = marked.cell(row=row, column=col[key])
        assert cell.comment is not None and cell.fill.fgColor.rgb.endswith("F4CCCC"), key
        line = next(p for p in problems if f"row {row} " in p)
        assert cell.comment.text in line
    unmarked = [c for r in marked.iter_rows(min_row=2) for c in r if c.comment is not None]
    assert len(unmarked) == 5


def test_annotate_never_replaces_the_workbook(tmp_path):
    book = write_workbook(tmp_path / "areas.xlsx", [])
    with pytest.raises(ParameterError, match="must not replace"):
        annotate_workbook(book, [], book)


def test_drop_down_lists_equal_the_schema_choices(tmp_path):
    book = write_workbook(tmp_path / "areas.xlsx", demo_rows()[:1])
    ws = openpyxl.load_workbook(book)[AREAS_SHEET]
    names = {c.column_letter: c.value for c in ws[1]}
    lists = {}
    ranges = {}
    for dv in ws.data_validations.dataValidation:
        key = names[str(dv.sqref).split(":")[0].rstrip("0123456789")]
        if dv.type == "list":
            lists[key] = dv.formula1.strip('"').split(",")
        else:
            ranges[key] = (dv.type, dv.operator, dv.formula1, dv.formula2)
    specs = key_specs()
    choices = {k: [c for c in s.choices if c] for k, s in specs.items() if s.choices is not None}
    choices.update({k: ["yes", "no"] for k, s in specs.items() if s.kind == "yes/no"})
    assert lists == choices
    assert set(lists) >= {"design", "outcome_tool", "second_tool", "synthetic"}
    assert ranges["suppression_threshold"] == ("whole", "between", "5", "100")
    assert ranges["intervention_month"][:3] == ("whole", "greaterThanOrEqual", "0")
    # every column's header comment says what is allowed
    for cell in ws[1]:
        assert "Allowed:" in cell.comment.text


@pytest.mark.parametrize("path", DEMO_PARAMS, ids=lambda p: p.stem)
def test_json_schema_accepts_every_demo_file(path):
    jsonschema.validate(yaml.safe_load(path.read_text()), json_schema())


@pytest.mark.parametrize(
    "change",
    [
        {"supression_threshold": 10},  # unknown key (a typo)
        {"suppression_threshold": "ten"},  # wrong type
        {"suppression_threshold": 3},  # out of range
        {"design": "cluster"},  # not a design
        {"outcome_tool": "epds2"},  # not a tool
        {"area_id": "A 01!"},  # not a usable code
        {"records": "data/A01.txt"},  # not a data file
        {"hoped_effect": 0},  # must be above 0
        {"covariates": 3},  # a list, or a comma-separated string
        {"area_name": None},  # required
    ],
    ids=lambda c: next(iter(c)),
)
def test_json_schema_rejects_each_kind_of_bad_file(change):
    params = yaml.safe_load(DEMO_PARAMS[0].read_text())
    params.update(change)
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(params, json_schema())
    with pytest.raises(ParameterError):  # and evalkit validate agrees
        from evalkit.reports.params import AreaParams

        try:
            AreaParams(**params)
        except Exception as exc:  # noqa: BLE001 - pydantic's error, re-raised as ours
            raise ParameterError(str(exc)) from None


def test_schema_command_prints_and_writes(tmp_path):
    res = runner.invoke(app, ["schema"])
    assert res.exit_code == 0 and json.loads(res.output)["$id"] == json_schema()["$id"]
    out = tmp_path / "evalkit-params.schema.json"
    res = runner.invoke(app, ["schema", "--out", str(out)])
    assert res.exit_code == 0 and json.loads(out.read_text()) == json_schema()
    res = runner.invoke(app, ["schema", "--out", str(tmp_path / "no" / "s.json")])
    assert res.exit_code == 2 and "folder not found" in res.output


def test_init_refuses_bad_options_and_a_used_folder(tmp_path):
    res = runner.invoke(app, ["init", str(tmp_path / "p"), "--tool", "nope", "--design", "rct"])
    assert res.exit_code == 2
    assert "'nope' is not a registered tool" in res.output and "'rct' is not a design" in res.output
    assert not (tmp_path / "p").exists()
    (tmp_path / "used").mkdir()
    (tmp_path / "used" / "keep.txt").write_text("mine")
    res = runner.invoke(app, ["init", str(tmp_path / "used")])
    assert res.exit_code == 2 and "not an empty folder" in res.output
    assert (tmp_path / "used" / "keep.txt").read_text() == "mine"


def test_init_writes_the_columns_the_tool_and_design_need(tmp_path):
    init_project(tmp_path / "p", areas=2, tool="wemwbs", design="prepost")
    header_line = (tmp_path / "p" / "data" / "records_template.csv").read_text().splitlines()[0]
    cols = header_line.split(",")
    assert cols[:3] == ["id", "treated", "setting"]
    assert "wemwbs_pre_1" in cols and "wemwbs_post_14" in cols
    ws = openpyxl.load_workbook(tmp_path / "p" / "parameters.xlsx")[AREAS_SHEET]
    col = header(ws)
    assert ws.cell(row=2, column=col["outcome_pre_prefix"]).value == "wemwbs_pre_"
    assert ws.cell(row=3, column=col["design"]).value == "prepost"
    assert "evalkit validate" in (tmp_path / "p" / "README.md").read_text()


def test_walkthrough_from_init_to_an_index_page(tmp_path, monkeypatch):
    """A newcomer's first run, in a fresh folder: init, fill in, validate, render."""
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["init", "proj", "--areas", "2", "--tool", "epds"])
    assert res.exit_code == 0, res.output
    assert "evalkit validate" in res.output
    monkeypatch.chdir(tmp_path / "proj")  # as the output says: work in the project folder
    # step 1: the data (two demo areas' records, as an analyst would export them)
    for i in (1, 2):
        shutil.copy(ROOT / "data" / "demo" / "records" / f"A0{i}.csv", f"data/A0{i}.csv")
    # step 2: the workbook, checked before it is complete
    book = Path("parameters.xlsx")
    res = runner.invoke(app, ["validate", str(book), "--annotate", "checked.xlsx"])
    assert res.exit_code == 2 and "area_name" in res.output and "2 cell(s) marked" in res.output
    wb = openpyxl.load_workbook(book)
    ws = wb[AREAS_SHEET]
    col = header(ws)
    ws.cell(row=2, column=col["area_name"], value="North Vale")
    ws.cell(row=3, column=col["area_name"], value="South Vale")
    wb.save(book)
    res = runner.invoke(app, ["validate", str(book)])
    assert res.exit_code == 0, res.output
    # step 3: render
    res = runner.invoke(
        app, ["render", str(book), "--out", "reports", "--jobs", "1", "--no-synthesis", "--quiet"]
    )
    assert res.exit_code == 0, res.output
    index = Path("reports/index.html").read_text()
    assert "North Vale" in index and "South Vale" in index


def test_render_on_an_empty_folder_says_what_to_do_next(tmp_path):
    res = runner.invoke(app, ["render", str(tmp_path)])
    assert res.exit_code == 2
    assert "evalkit init" in res.output and "evalkit demo" in res.output
    write_workbook(tmp_path / "parameters.xlsx", [])
    res = runner.invoke(app, ["render", str(tmp_path)])
    assert res.exit_code == 2 and "parameters.xlsx" in res.output


def test_help_lists_commands_in_the_order_a_newcomer_uses_them():
    import re

    out = runner.invoke(app, ["--help"]).output
    listed = re.findall(r"^│ ([a-z]+)\s{2,}\S", out, flags=re.M)
    assert listed[:4] == ["demo", "init", "validate", "render"]


def test_quiet_render_says_nothing_of_its_stages(tmp_path, monkeypatch):
    """``--quiet`` reports failures only: not "Rendering the needs assessments ..." (a
    175-area quiet run printed every stage)."""
    from types import SimpleNamespace

    import evalkit.reports.build as build_module

    def fake_build(jobs, out, *, on_page=None, **kw):
        if on_page:
            on_page("the needs assessments")
        return SimpleNamespace(
            notes=[], pages=[], area_pages=[], outcomes=[], output_problems=[],
            index=Path(out) / "index.html", exit_code=0,
        )  # fmt: skip

    monkeypatch.setattr(build_module, "build", fake_build)
    monkeypatch.chdir(Path(__file__).resolve().parents[2])  # the demo's paths are relative
    cmd = ["render", "data/demo/params/A01.yaml", "--out", str(tmp_path / "r"), "--no-synthesis"]
    loud = runner.invoke(app, cmd)
    quiet = runner.invoke(app, [*cmd, "-q"])
    assert loud.exit_code == quiet.exit_code == 0, (loud.output, quiet.output)
    assert "Rendering the needs assessments" in loud.output
    assert "Rendering the" not in quiet.output
