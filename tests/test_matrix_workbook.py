"""The partners' workbook: write the template, fill it in as partners would, read it back;
bad cells give errors naming the sheet, the row and the column; the CLI."""

from __future__ import annotations

import datetime as dt

import openpyxl
import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from evalkit import matrix
from evalkit.cli_matrix import matrix_app
from evalkit.errors import DataError, ParameterError

app = typer.Typer()
app.add_typer(matrix_app, name="matrix")
runner = CliRunner()

# rows of the partner sheets: header on row 4, the nine default elements on rows 5-13
FIRST = 5


@pytest.fixture
def template(tmp_path):
    return matrix.write_template(tmp_path / "matrix.xlsx", partners=3)


def fill(path, out, *, area="Northshire", date="2025-03-01", partners=None, edit=None):
    """Fill the template as partners would; ``edit(wb)`` spoils a cell afterwards."""
    wb = openpyxl.load_workbook(path)
    ins = wb["Instructions"]
    ins["B3"], ins["B4"] = area, date
    partners = partners or {
        "Partner 1": ("Health visiting", [3, 2, 2, 4, 3, 3, 1, 2, 2]),
        "Partner 2": ("Early years", ["1 basic", "2 early", 4, 4, 3, "developing", 3, 2, 4]),
    }
    for sheet, (name, levels) in partners.items():
        ws = wb[sheet]
        ws["B2"] = name
        for i, level in enumerate(levels):
            ws[f"C{FIRST + i}"] = level
    ws = wb["Partner 1"]
    ws[f"D{FIRST}"] = "Strategy signed by the board"
    ws[f"E{FIRST + 6}"] = "No shared case system"
    ws[f"F{FIRST + 6}"] = "Sign an information-sharing agreement"
    ws[f"G{FIRST + 6}"] = "Data and insight team"
    ws[f"H{FIRST + 6}"] = dt.datetime(2025, 9, 30)
    ws[f"I{FIRST + 6}"] = "in progress"
    wb["Partner 2"][f"F{FIRST}"] = "Publish the strategy"  # no status: planned
    if edit is not None:
        edit(wb)
    wb.save(out)
    return out


def test_template_has_drop_downs_comments_and_instructions(template):
    wb = openpyxl.load_workbook(template)
    assert wb.sheetnames == ["Instructions", "Framework", "Partner 1", "Partner 2", "Partner 3"]
    assert wb["Instructions"]["A1"].value == matrix.workbook.WORKBOOK_MARK
    ws = wb["Partner 2"]
    headers = [ws.cell(row=4, column=j).value for j in range(1, 10)]
    assert headers == [
        "Dimension",
        "Element",
        "Level",
        "Evidence",
        "Barriers",
        "Priority action",
        "Owner",
        "Due date",
        "Status",
    ]
    fw = matrix.load_framework()
    assert [ws[f"B{FIRST + i}"].value for i in range(9)] == [e.label for e in fw.elements]
    assert ws[f"B{FIRST}"].comment.text == fw.element("strategy").description
    rules = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    assert rules["C5:C13"].type == "list" and "Framework" in rules["C5:C13"].formula1
    assert rules["I5:I13"].type == "list" and rules["H5:H13"].type == "date"
    ref = wb["Framework"]
    assert [ref[f"A{i}"].value for i in range(2, 7)] == [
        "1 basic",
        "2 early",
        "3 developing",
        "4 maturing",
        "5 mature",
    ]
    assert [ref[f"D{i}"].value for i in range(2, 6)] == list(matrix.ACTION_STATUSES)


def test_round_trip_write_fill_read(template, tmp_path):
    path = fill(template, tmp_path / "filled.xlsx")
    r = matrix.read_ratings(path, notes=True)
    # Partner 3 was left empty: skipped
    assert sorted(r["partner"].unique()) == ["Early years", "Health visiting"]
    assert len(r) == 18 and set(r["area"]) == {"Northshire"}
    assert (r["date"] == pd.Timestamp("2025-03-01")).all()
    ey = r[r["partner"] == "Early years"].set_index("element")["level"]
    assert ey.tolist() == [1, 2, 4, 4, 3, 3, 3, 2, 4]  # "1 basic", labels and numbers
    hv = r[r["partner"] == "Health visiting"].set_index("element")
    assert hv.loc["strategy", "evidence"] == "Strategy signed by the board"
    assert hv.loc["information_sharing", "barriers"] == "No shared case system"
    actions = matrix.read_actions(path)
    assert actions[["partner", "element", "owner", "status"]].values.tolist() == [
        ["Health visiting", "information_sharing", "Data and insight team", "in progress"],
        ["Early years", "strategy", "", "planned"],
    ]
    assert actions["due_date"].iloc[0] == pd.Timestamp("2025-09-30")
    # the plain read gives today's columns, and the statistics work on a workbook
    assert list(matrix.read_ratings(path).columns) == [
        "area",
        "partner",
        "dimension",
        "element",
        "level",
        "date",
    ]
    assert matrix.agreement(path).n_raters == 2


def test_several_workbooks_are_stacked(template, tmp_path):
    first = fill(template, tmp_path / "y1.xlsx", date=dt.datetime(2024, 3, 1))
    second = fill(template, tmp_path / "y2.xlsx", date="01/03/2025")
    r = matrix.read_ratings([first, second])
    assert sorted(r["date"].dt.year.unique()) == [2024, 2025]
    assert matrix.change([first, second], since="baseline")["change"].abs().max() == 0
    with pytest.raises(DataError, match="more than once"):
        matrix.read_ratings([first, first])


def _cell(sheet, ref, value):
    def edit(wb):
        wb[sheet][ref] = value

    return edit


@pytest.mark.parametrize(
    "sheet, ref, value, column, row, words",
    [
        ("Partner 2", "C7", 6, "level", 7, ["sheet 'Partner 2', cell C7", "level out of range"]),
        ("Partner 1", "B9", "Vision", "element", 9, ["cell B9", "unknown element", "'Vision'"]),
        ("Partner 2", "B2", None, "partner", 2, ["sheet 'Partner 2', cell B2", "partner is empty"]),
        ("Partner 1", "H11", "31/02/2026", "due_date", 11, ["cell H11", "due date not under"]),
        ("Partner 1", "I11", "finished", "status", 11, ["cell I11", "unknown status", "dropped"]),
        ("Partner 1", "G8", "Board", "owner", 8, ["cell G8", "owner given without"]),
        ("Instructions", "B3", "", "area", 3, ["sheet 'Instructions', cell B3", "area is empty"]),
        ("Instructions", "B4", "soon", "date", 4, ["cell B4", "not understood"]),
    ],
)
def test_bad_cells_name_sheet_row_and_column(
    template, tmp_path, sheet, ref, value, column, row, words
):
    path = fill(template, tmp_path / "bad.xlsx", edit=_cell(sheet, ref, value))
    with pytest.raises(DataError) as err:
        matrix.read_ratings(path)
    assert err.value.column == column and err.value.rows == [row]
    for w in words:
        assert w in str(err.value)
    assert str(path) in str(err.value)


def test_notes_without_a_level_and_an_empty_workbook(template, tmp_path):
    path = fill(template, tmp_path / "bad.xlsx", edit=_cell("Partner 1", "C11", None))
    with pytest.raises(DataError, match=r"cell C11: no level, but the row has barriers"):
        matrix.read_ratings(path)
    empty = tmp_path / "empty.xlsx"
    wb = openpyxl.load_workbook(template)
    wb["Instructions"]["B3"], wb["Instructions"]["B4"] = "X", "2025-03-01"
    wb.save(empty)
    with pytest.raises(DataError, match="no ratings"):
        matrix.read_ratings(empty)


def test_same_partner_on_two_sheets(template, tmp_path):
    path = fill(template, tmp_path / "bad.xlsx", edit=_cell("Partner 2", "B2", "Health visiting"))
    with pytest.raises(DataError, match="'Partner 1' and 'Partner 2': the same partner"):
        matrix.read_ratings(path)


def test_long_format_with_note_columns():
    df = pd.DataFrame(
        {
            "area": "A",
            "partner": ["NHS", "LA", "NHS"],
            "element": "strategy",
            "level": ["3 developing", 2, 4],
            "date": ["2024-03-01", "2024-03-01", "2025-03-01"],
            "Priority action": ["Draft a strategy", None, ""],
            "Owner": ["Board", None, ""],
            "Due date": ["30/09/2024", None, ""],
            "Status": ["Done", None, ""],
            "Evidence": [None, "Minutes", ""],
        }
    )
    r = matrix.read_ratings(df, notes=True)
    assert list(r.columns) == [
        "area",
        "partner",
        "dimension",
        "element",
        "level",
        "date",
        *matrix.NOTE_COLUMNS,
    ]
    assert r["level"].tolist() == [3, 2, 4]
    assert r["status"].tolist() == ["done", "", ""]
    assert r["due_date"].iloc[0] == pd.Timestamp("2024-09-30")
    assert r["evidence"].tolist() == ["", "Minutes", ""]
    bad = df.assign(Status=["Done", "done", ""])
    with pytest.raises(DataError) as err:
        matrix.read_ratings(bad)
    assert err.value.column == "status" and err.value.rows == [1]
    # a level number with the wrong label is not understood
    with pytest.raises(DataError, match="level out of range"):
        matrix.read_ratings(df.assign(level=["3 mature", 2, 4]))


def test_template_arguments(tmp_path):
    fw = {"levels": ["low", "high"], "dimensions": [{"id": "a", "elements": [{"id": "x"}]}]}
    path = matrix.write_template(
        tmp_path / "m.xlsx", framework=fw, partners=1, area="Southshire", date="2025-03-01"
    )
    wb = openpyxl.load_workbook(path)
    assert wb.sheetnames[-1] == "Partner 1" and wb["Instructions"]["B3"].value == "Southshire"
    assert wb["Framework"]["A3"].value == "2 high"
    for bad in (dict(partners=0), dict(partners=True), dict(date="soon")):
        with pytest.raises(ParameterError):
            matrix.write_template(tmp_path / "n.xlsx", **bad)
    with pytest.raises(ParameterError, match="xlsx"):
        matrix.write_template(tmp_path / "m.csv")
    with pytest.raises(ParameterError, match="does not exist"):
        matrix.write_template(tmp_path / "no" / "m.xlsx")


def test_cli_template_and_check(tmp_path):
    out = tmp_path / "partners.xlsx"
    res = runner.invoke(app, ["matrix", "template", "--out", str(out), "--partners", "4"])
    assert res.exit_code == 0, res.stderr
    assert "4 partner sheet(s), 9 elements" in res.stdout
    assert openpyxl.load_workbook(out).sheetnames[-1] == "Partner 4"
    # an existing workbook may hold answers: not overwritten without --force
    res = runner.invoke(app, ["matrix", "template", "--out", str(out)])
    assert res.exit_code == 2 and "already exists" in res.stderr
    res = runner.invoke(app, ["matrix", "template", "--out", str(out), "--force"])
    assert res.exit_code == 0

    fw_file = tmp_path / "fw.yaml"
    fw_file.write_text(
        "levels: [low, mid, high]\ndimensions:\n  - id: a\n    elements: [{id: x}]\n"
    )
    res = runner.invoke(
        app, ["matrix", "template", "--out", str(tmp_path / "f.xlsx"), "--framework", str(fw_file)]
    )
    assert res.exit_code == 0 and "1 elements, levels 1-3" in res.stdout

    filled = fill(out, tmp_path / "filled.xlsx")
    res = runner.invoke(app, ["matrix", "check", str(filled)])
    assert res.exit_code == 0, res.stderr
    assert "Northshire, 2025-03-01: 2 partner(s), 18 rating(s), 2 priority action(s)" in res.stdout
    bad = fill(out, tmp_path / "bad.xlsx", edit=_cell("Partner 2", "C7", 6))
    res = runner.invoke(app, ["matrix", "check", str(bad)])
    assert res.exit_code == 2 and "Traceback" not in res.stderr
    assert "sheet 'Partner 2', cell C7" in res.stderr and res.stderr.count("\n") == 1


def test_cli_is_registered_in_evalkit():
    from evalkit.cli import app as evalkit_app

    res = runner.invoke(evalkit_app, ["matrix", "--help"])
    assert res.exit_code == 0 and "template" in res.stdout


def test_a_long_table_in_xlsx_is_still_read_as_before(tmp_path):
    df = pd.DataFrame(
        {"area": "A", "partner": ["NHS", "LA"], "element": "strategy", "level": [2, 9]}
    ).assign(date="2025-03-01")
    path = tmp_path / "long.xlsx"
    df.iloc[:1].to_excel(path, index=False)
    assert matrix.read_ratings(path)["level"].tolist() == [2]
    df.to_excel(path, index=False)
    with pytest.raises(DataError) as err:
        matrix.read_ratings(path)
    assert err.value.rows == [3] and err.value.column == "level"  # spreadsheet line 3
