"""The partners' workbook: an XLSX template to fill in, and reading it back.

:func:`write_template` writes one workbook per area and assessment:

- ``Instructions``: how to fill it in, and two cells for the area and the assessment date;
- ``Framework``: the levels and the elements with their descriptions (the drop-down lists
  read their choices from here);
- ``Partner 1`` ... ``Partner N``: one sheet per partner, the partner's name in cell B2 and one
  row per element (pre-filled, with its description as a cell comment) with columns for the
  level (a drop-down list), evidence, barriers and a priority action with its owner, due date
  and status (a drop-down list: planned, in progress, done, dropped).

One sheet per partner (rather than one long sheet) because partners fill in the matrix
separately before the workshop: each sees the whole matrix for themselves, cannot overwrite
another partner's rows, and types their name once (not on every row).

:func:`read_workbook` turns a filled workbook into the long table that
:func:`evalkit.matrix.read_ratings` checks (it is called from there); errors name the sheet
and the cell.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import DataError, ParameterError
from .framework import Framework, load_framework
from .ratings import ACTION_STATUSES, parse_dates

__all__ = ["write_template", "is_workbook", "read_workbook", "WORKBOOK_MARK"]

#: text of cell A1 of the Instructions sheet: how a matrix workbook is recognised
WORKBOOK_MARK = "evalkit maturity-matrix workbook"
INSTRUCTIONS = "Instructions"
FRAMEWORK = "Framework"
_AREA_CELL = "B3"
_DATE_CELL = "B4"
_PARTNER_CELL = "B2"
_HEADER_ROW = 4
# header text -> column of the long table (also the order of the columns in the sheet)
_HEADERS = {
    "Dimension": None,
    "Element": "element",
    "Level": "level",
    "Evidence": "evidence",
    "Barriers": "barriers",
    "Priority action": "action",
    "Owner": "owner",
    "Due date": "due_date",
    "Status": "status",
}
_WIDTHS = [12, 30, 16, 40, 40, 40, 20, 13, 13]

_HELP = [
    "How to fill in this workbook",
    "1. Write the area's name in cell B3 and the date of the assessment in cell B4 above.",
    "2. Each partner takes one 'Partner' sheet and writes their organisation or team in cell B2. "
    "Leave spare sheets empty (they are skipped); copy a sheet for more partners.",
    "3. For each element, choose a level from the drop-down list (1 basic ... 5 mature). "
    "Hover over an element to read its description; the Framework sheet lists them all.",
    "4. Evidence: what the level rests on (documents, data, examples). "
    "Barriers: what stands in the way of the next level.",
    "5. Priority action: at most a few per partner, each with an owner (a role or team, "
    "not a person's name), a due date and a status (planned, in progress, done, dropped).",
    "6. Do not write anything about individual families or staff.",
    "7. Read it back with evalkit: ek.matrix.read_ratings('this_file.xlsx', notes=True) and "
    "ek.matrix.read_actions('this_file.xlsx'); errors name the sheet and the cell.",
]


def _level_choices(fw: Framework) -> list[str]:
    return [fw.level_label(k) for k in fw.levels]


def write_template(
    path: str | Path,
    *,
    framework: Any = None,
    partners: int = 5,
    area: str = "",
    date: Any = None,
) -> Path:
    """Write an XLSX workbook for partners to fill in (see the module notes for its layout).

    Parameters
    ----------
    path : str or Path
        The .xlsx file to write (its folder must exist).
    framework : optional
        See :func:`evalkit.matrix.load_framework`; the default framework when omitted.
    partners : int
        Number of partner sheets (1 to 50).
    area : str, optional
        Pre-fill the area's name.
    date : date-like, optional
        Pre-fill the assessment date.

    Returns
    -------
    Path
        The file written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = write_template(pathlib.Path(tempfile.mkdtemp()) / "matrix.xlsx", partners=2)
    >>> out.suffix
    '.xlsx'
    """
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation

    fw = load_framework(framework)
    if isinstance(partners, bool) or not isinstance(partners, int) or not 1 <= partners <= 50:
        raise ParameterError(
            f"partners={partners!r} is not allowed", key="partners", expected="1 to 50"
        )
    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ParameterError(f"{path.name} is not an .xlsx file", key="out", expected="FILE.xlsx")
    if not path.parent.is_dir():
        raise ParameterError(
            f"the folder {path.parent} does not exist", key="out", expected="an existing folder"
        )
    bold = Font(bold=True)
    fill = PatternFill("solid", fgColor="FFF2CC")  # light yellow: cells to fill in
    wrap = Alignment(wrap_text=True, vertical="top")

    wb = Workbook()
    ins = wb.active
    ins.title = INSTRUCTIONS
    ins["A1"] = WORKBOOK_MARK
    ins["A1"].font = Font(bold=True, size=13)
    ins["A2"] = fw.name
    ins["A3"], ins["A4"] = "Area", "Assessment date"
    ins["A3"].font = ins["A4"].font = bold
    ins[_AREA_CELL] = area or None
    if date is not None:
        stamp = parse_dates(pd.Series([date])).iloc[0]
        if pd.isna(stamp):
            raise ParameterError(
                f"date {date!r} is not understood", key="date", expected="a date like 2025-03-01"
            )
        ins[_DATE_CELL] = stamp.date()
    ins[_DATE_CELL].number_format = "yyyy-mm-dd"
    for ref in (_AREA_CELL, _DATE_CELL):
        ins[ref].fill = fill
    when = DataValidation(type="date", operator="greaterThan", formula1="1")
    when.error, when.errorTitle = "Type a date, e.g. 2025-03-01", "Assessment date"
    ins.add_data_validation(when)
    when.add(_DATE_CELL)
    for i, line in enumerate(_HELP):
        cell = ins.cell(row=6 + i, column=1, value=line)
        cell.font = bold if i == 0 else Font()
    ins.column_dimensions["A"].width = 18
    ins.column_dimensions["B"].width = 40

    ref = wb.create_sheet(FRAMEWORK)
    ref["A1"], ref["B1"] = "Level", "Meaning"
    for i, choice in enumerate(_level_choices(fw)):
        ref.cell(row=2 + i, column=1, value=choice)
        ref.cell(row=2 + i, column=2, value=fw.levels[list(fw.levels)[i]])
    ref["D1"] = "Status"
    for i, status in enumerate(ACTION_STATUSES):
        ref.cell(row=2 + i, column=4, value=status)
    ref["F1"], ref["G1"], ref["H1"] = "Dimension", "Element", "Description"
    for i, e in enumerate(fw.elements):
        ref.cell(row=2 + i, column=6, value=fw.dimension(e.dimension).label)
        ref.cell(row=2 + i, column=7, value=e.label)
        ref.cell(row=2 + i, column=8, value=e.description)
    for c in ("A1", "B1", "D1", "F1", "G1", "H1"):
        ref[c].font = bold
    for col, width in zip("ABCDEFGH", (16, 14, 3, 13, 3, 12, 30, 80)):
        ref.column_dimensions[col].width = width
    n_levels = len(fw.levels)
    levels_range = f"'{FRAMEWORK}'!$A$2:$A${1 + n_levels}"
    status_range = f"'{FRAMEWORK}'!$D$2:$D${1 + len(ACTION_STATUSES)}"

    last = _HEADER_ROW + len(fw.elements)
    letters = {h: chr(ord("A") + i) for i, h in enumerate(_HEADERS)}
    for p in range(1, partners + 1):
        ws = wb.create_sheet(f"Partner {p}")
        ws["A1"] = "Partner self-assessment (one sheet per partner)"
        ws["A1"].font = Font(bold=True, size=12)
        ws["A2"] = "Partner"
        ws["A2"].font = bold
        ws[_PARTNER_CELL].fill = fill
        for j, header in enumerate(_HEADERS):
            cell = ws.cell(row=_HEADER_ROW, column=j + 1, value=header)
            cell.font = bold
            ws.column_dimensions[letters[header]].width = _WIDTHS[j]
        for i, e in enumerate(fw.elements):
            row = _HEADER_ROW + 1 + i
            ws.cell(row=row, column=1, value=fw.dimension(e.dimension).label)
            cell = ws.cell(row=row, column=2, value=e.label)
            if e.description:
                cell.comment = Comment(e.description, "evalkit", width=300, height=80)
            for header in list(_HEADERS)[2:]:
                target = ws[f"{letters[header]}{row}"]
                target.fill = fill
                target.alignment = wrap
            ws[f"{letters['Due date']}{row}"].number_format = "yyyy-mm-dd"
        level_dv = DataValidation(type="list", formula1=levels_range, allow_blank=True)
        level_dv.error = "Choose a level from the list (" + ", ".join(_level_choices(fw)) + ")"
        level_dv.errorTitle = "Level"
        status_dv = DataValidation(type="list", formula1=status_range, allow_blank=True)
        status_dv.error = "Choose a status: " + ", ".join(ACTION_STATUSES)
        due_dv = DataValidation(type="date", operator="greaterThan", formula1="1", allow_blank=True)
        due_dv.error = "Type a date, e.g. 2025-09-30"
        for dv, header in ((level_dv, "Level"), (status_dv, "Status"), (due_dv, "Due date")):
            ws.add_data_validation(dv)
            dv.add(f"{letters[header]}{_HEADER_ROW + 1}:{letters[header]}{last}")
        ws.freeze_panes = f"C{_HEADER_ROW + 1}"
    wb.save(path)
    return path


def is_workbook(path: Path) -> bool:
    """True for an .xlsx/.xlsm file whose Instructions sheet starts with :data:`WORKBOOK_MARK`."""
    if path.suffix.lower() not in (".xlsx", ".xlsm") or not path.is_file():
        return False
    from openpyxl import load_workbook

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception:  # not a workbook openpyxl reads: read_data gives the clear error
        return False
    try:
        if INSTRUCTIONS not in wb.sheetnames:
            return False
        value = wb[INSTRUCTIONS]["A1"].value
        return isinstance(value, str) and value.strip() == WORKBOOK_MARK
    finally:
        wb.close()


def _is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def read_workbook(path: Path) -> tuple[pd.DataFrame, dict]:
    """A filled workbook as a long table, and where each value came from.

    Returns ``(table, cells)``: the table has the columns :func:`read_ratings` checks (area,
    partner, element, level, date and the note columns), one row per filled element row of
    each partner sheet, labelled ``"<sheet>!<row>"``; ``cells`` maps each row label to
    ``{column: (sheet, cell reference)}`` so that errors can name the cell. Partner sheets
    left empty are skipped. Called by :func:`evalkit.matrix.read_ratings`, which checks the
    values.

    Raises
    ------
    DataError
        A missing area or assessment date (naming the Instructions sheet's cell); a partner
        sheet with ratings but no partner name; a row with notes but no level; two sheets with
        the same partner; no ratings at all.
    """
    from openpyxl import load_workbook

    file = str(path)
    wb = load_workbook(path, data_only=True)
    ins = wb[INSTRUCTIONS]
    area = ins[_AREA_CELL].value
    if _is_blank(area):
        raise DataError(
            f"sheet {INSTRUCTIONS!r}, cell {_AREA_CELL}: the area is empty",
            column="area",
            rows=[3],
            file=file,
            allowed="the area's name",
        )
    date = ins[_DATE_CELL].value
    if _is_blank(date) or pd.isna(
        parse_dates(pd.Series([date if not isinstance(date, dt.date) else date.isoformat()])).iloc[
            0
        ]
    ):
        raise DataError(
            f"sheet {INSTRUCTIONS!r}, cell {_DATE_CELL}: the assessment date is "
            + ("empty" if _is_blank(date) else "not understood"),
            column="date",
            rows=[4],
            values=None if _is_blank(date) else [date],
            file=file,
            allowed="a date such as 2025-03-01",
        )
    if isinstance(date, dt.datetime):
        date = date.date()
    rows: list[dict] = []
    cells: dict[str, dict] = {}
    seen_partner: dict[str, str] = {}
    for ws in wb.worksheets:
        if ws.title in (INSTRUCTIONS, FRAMEWORK):
            continue
        columns = _header_columns(ws)
        if columns is None:
            continue  # not a partner sheet (e.g. the partners' own notes)
        partner = ws[_PARTNER_CELL].value
        filled = []
        for r in range(_HEADER_ROW + 1, ws.max_row + 1):
            values = {name: ws.cell(row=r, column=j).value for name, j in columns.items()}
            content = {k: v for k, v in values.items() if k != "element" and not _is_blank(v)}
            if not content:
                continue
            if "level" not in content:
                letter = _letter(columns["level"])
                raise DataError(
                    f"sheet {ws.title!r}, cell {letter}{r}: no level, but the row has "
                    + ", ".join(k.replace("_", " ") for k in content),
                    column="level",
                    rows=[r],
                    file=file,
                    allowed="a level for each element with notes (or leave the row empty)",
                )
            filled.append((r, values))
        if not filled:
            continue
        if _is_blank(partner):
            raise DataError(
                f"sheet {ws.title!r}, cell {_PARTNER_CELL}: the partner is empty, but the sheet "
                "has ratings",
                column="partner",
                rows=[2],
                file=file,
                allowed="the partner's organisation or team",
            )
        partner = str(partner).strip()
        if partner in seen_partner:
            raise DataError(
                f"sheets {seen_partner[partner]!r} and {ws.title!r}: the same partner "
                f"{partner!r} twice",
                column="partner",
                file=file,
                allowed="one sheet per partner",
            )
        seen_partner[partner] = ws.title
        for r, values in filled:
            label = f"{ws.title}!{r}"
            due = values.get("due_date")
            rows.append(
                {
                    "area": str(area).strip(),
                    "partner": partner,
                    **values,
                    "date": date.isoformat() if isinstance(date, dt.date) else date,
                    "due_date": due.date().isoformat() if isinstance(due, dt.datetime) else due,
                }
            )
            cells[label] = {name: (ws.title, f"{_letter(j)}{r}") for name, j in columns.items()} | {
                "partner": (ws.title, _PARTNER_CELL)
            }
    if not rows:
        raise DataError(
            "the workbook has no ratings: no partner sheet has a level",
            file=file,
            allowed="levels chosen on the 'Partner' sheets",
        )
    table = pd.DataFrame(rows, index=list(cells))
    return table, cells


def _letter(column: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(column)


def _header_columns(ws: Any) -> dict[str, int] | None:
    """Column numbers of the known headers on a partner sheet (``None``: not a partner sheet)."""
    found = {}
    for j in range(1, (ws.max_column or 0) + 1):
        text = ws.cell(row=_HEADER_ROW, column=j).value
        if isinstance(text, str) and text.strip() in _HEADERS:
            name = _HEADERS[text.strip()]
            if name is not None:
                found[name] = j
    return found if {"element", "level"} <= set(found) else None
