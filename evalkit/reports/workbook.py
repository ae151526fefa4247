"""The parameters workbook: one row per area, checked as the evaluator types.

:func:`write_workbook` makes an XLSX from the parameter schema itself
(:func:`evalkit.reports.schema.key_specs`): one column per key with a header comment
(what it is, what is allowed, the default), drop-down lists for every choice, number
ranges as data validation, and a second sheet listing the tools and designs.
``evalkit render areas.xlsx`` reads it as it reads YAML files.

:func:`annotate_workbook` writes a copy of a workbook with each problem that
``evalkit validate`` found highlighted on its cell, the message in a cell comment.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .schema import KeySpec, key_specs

__all__ = ["AREAS_SHEET", "CHOICES_SHEET", "write_workbook", "annotate_workbook", "problem_cell"]

AREAS_SHEET = "Areas"
CHOICES_SHEET = "Tools and designs"

#: what each design needs, in words (the second sheet)
DESIGN_NOTES = {
    "prepost": "before and after only, no comparison group (weakest evidence)",
    "comparison": "service and comparison groups, adjusted for scores before (ANCOVA)",
    "multilevel": "service and comparison groups, with settings as a random effect",
    "propensity": "comparison group matched on propensity scores (needs covariates)",
}

_HEADER_FILL = "1F4E79"
_PROBLEM_FILL = "F4CCCC"


def _cell_value(spec: KeySpec, value: Any) -> Any:
    if value is None:
        return None
    if spec.kind == "yes/no":
        return "yes" if value else "no"
    if spec.kind == "list":
        return ", ".join(map(str, value))
    if spec.kind == "mapping":
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return value


def _validation(spec: KeySpec):
    from openpyxl.worksheet.datavalidation import DataValidation

    if spec.choices is not None or spec.kind == "yes/no":
        choices = spec.choices if spec.choices is not None else ["yes", "no"]
        # an empty choice is the blank cell (allow_blank), not an item in the list
        listed = [c for c in choices if c]
        dv = DataValidation(type="list", formula1='"' + ",".join(listed) + '"', allow_blank=True)
        dv.error = f"{spec.name}: {spec.allowed()}"
    elif spec.kind in ("integer", "number") and (
        spec.minimum is not None or spec.maximum is not None
    ):
        kind = "whole" if spec.kind == "integer" else "decimal"
        if spec.maximum is None:
            op = "greaterThan" if spec.exclusive_minimum else "greaterThanOrEqual"
            dv = DataValidation(type=kind, operator=op, formula1=str(spec.minimum))
        else:
            low = spec.minimum if spec.minimum is not None else -1e9
            dv = DataValidation(
                type=kind, operator="between", formula1=str(low), formula2=str(spec.maximum)
            )
        dv.allow_blank = True
        dv.error = f"{spec.name}: {spec.allowed()}"
    else:
        return None
    dv.errorTitle = "Not allowed"
    dv.showErrorMessage = True
    dv.prompt = spec.allowed()
    dv.showInputMessage = True
    return dv


def write_workbook(
    path: str | os.PathLike[str],
    rows: Sequence[Mapping[str, Any]] = (),
    *,
    n_blank: int = 0,
) -> Path:
    """Write the parameters workbook.

    Parameters
    ----------
    path
        The ``.xlsx`` file to write (written to a temporary file, then renamed).
    rows
        One mapping of parameter values per area (missing keys take their default).
    n_blank
        Extra rows to leave for more areas (their validation is in place already).

    >>> import tempfile, openpyxl
    >>> p = write_workbook(tempfile.mkdtemp() + "/areas.xlsx", [{"area_id": "A01"}])
    >>> openpyxl.load_workbook(p)["Areas"]["A1"].value
    'area_id'
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.utils import get_column_letter

    specs = key_specs()
    wb = Workbook()
    ws = wb.active
    ws.title = AREAS_SHEET
    last_row = 1 + max(len(rows) + n_blank, 1)
    for col, (name, spec) in enumerate(specs.items(), start=1):
        cell = ws.cell(row=1, column=col, value=name)
        cell.font = Font(bold=True, color="FFFFFF")
        cell.fill = PatternFill("solid", fgColor=_HEADER_FILL)
        default = "" if spec.required else f"\nDefault: {_cell_value(spec, spec.default)!s}"
        text = f"{spec.description}.\nAllowed: {spec.allowed()}.{default}"
        if spec.required:
            text += "\nRequired."
        cell.comment = Comment(text, "evalkit", width=320, height=140)
        letter = get_column_letter(col)
        ws.column_dimensions[letter].width = max(14, min(40, len(name) + 4))
        dv = _validation(spec)
        if dv is not None:
            ws.add_data_validation(dv)
            dv.add(f"{letter}2:{letter}{last_row}")
        for r, values in enumerate(rows, start=2):
            value = values.get(name, None if spec.required else spec.default)
            ws.cell(row=r, column=col, value=_cell_value(spec, value))
    ws.freeze_panes = "B2"

    ch = wb.create_sheet(CHOICES_SHEET)
    from ..tools import available, get

    ch.append(["Tool", "Name", "Items"])
    for name in available():
        tool = get(name)
        ch.append([name, tool.spec.title, len(tool.items)])
    ch.append([])
    ch.append(["Design", "What it means"])
    for name in specs["design"].choices or []:
        ch.append([name, DESIGN_NOTES.get(name, "")])
    for row in ch.iter_rows():
        if row[0].value in ("Tool", "Design"):
            for c in row:
                c.font = Font(bold=True)
    ch.column_dimensions["A"].width = 14
    ch.column_dimensions["B"].width = 70
    return _save(wb, Path(path))


def _save(wb: Any, path: Path) -> Path:
    if not path.parent.is_dir():
        raise ParameterError(f"folder not found: {path.parent}", key="--out")
    fd, tmp = tempfile.mkstemp(prefix=".evalkit-", suffix=".xlsx", dir=path.parent)
    os.close(fd)
    try:
        wb.save(tmp)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return path


_ROW = re.compile(r", row (?P<row>\d+)(?: \([^)]*\))?: (?:key '(?P<key>[^']+)': )?(?P<msg>.*)$")


def problem_cell(line: str, workbook: str | os.PathLike[str]) -> tuple[int, str | None, str] | None:
    """(spreadsheet row, key or None, message) of a problem line about ``workbook``.

    >>> problem_cell("areas.xlsx, row 3 (area A02): key 'design': must be one of ...",
    ...              "areas.xlsx")
    (3, 'design', 'must be one of ...')
    >>> problem_cell("other.yaml: key 'design': bad", "areas.xlsx") is None
    True
    """
    name = str(workbook)
    if not line.startswith(name):
        return None
    m = _ROW.match(line[len(name) :])
    if m is None:
        return None
    return int(m["row"]), m["key"], m["msg"]


def annotate_workbook(
    workbook: str | os.PathLike[str],
    problems: Sequence[str],
    out: str | os.PathLike[str],
) -> int:
    """Copy ``workbook`` to ``out`` with each problem's cell highlighted and commented.

    A problem about a key marks that key's cell in the area's row; a problem about a
    whole row marks the row's first cell. Returns the number of cells marked.
    """
    from openpyxl import load_workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import PatternFill

    src, dst = Path(workbook), Path(out)
    if src.resolve() == dst.resolve():
        raise ParameterError(
            "the annotated copy must not replace the workbook",
            key="--annotate",
            expected="another file name",
        )
    wb = load_workbook(src)
    ws = wb[AREAS_SHEET] if AREAS_SHEET in wb.sheetnames else wb.worksheets[0]
    header = {str(c.value).strip(): c.column for c in ws[1] if c.value is not None}
    fill = PatternFill("solid", fgColor=_PROBLEM_FILL)
    notes: dict[tuple[int, int], list[str]] = {}
    for line in problems:
        where = problem_cell(line, workbook)
        if where is None:
            continue
        row, key, msg = where
        col = header.get(key, 1) if key else 1
        text = f"{key}: {msg}" if key and key not in header else msg
        notes.setdefault((row, col), []).append(text)
    for (row, col), texts in notes.items():
        cell = ws.cell(row=row, column=col)
        cell.fill = fill
        cell.comment = Comment("\n".join(texts), "evalkit validate", width=360, height=120)
    _save(wb, dst)
    return len(notes)
