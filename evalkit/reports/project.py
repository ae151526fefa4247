"""``evalkit init``: a new evaluation project a council analyst can fill in without code.

The project folder holds:

- ``parameters.xlsx``: one row per area, made from the parameter schema
  (see :mod:`evalkit.reports.workbook`), with the chosen tool and design filled in;
- ``data/``: a data dictionary per source (the columns the tool and design need,
  named as the parameters expect) and an empty records file with those headers;
- ``README.md``: what to fill in, then ``evalkit validate``, then ``evalkit render``.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .schema import key_specs
from .workbook import write_workbook

__all__ = ["init_project", "PARAMS_FILE", "records_dictionary"]

PARAMS_FILE = "parameters.xlsx"

_TABLE_DICTIONARIES = {
    "indicators": [
        ("area_id", "the area's code, as in the parameters' area_id", "text"),
        ("indicator", "the indicator's short name (the parameters' 'indicator')", "text"),
        ("month", "month number, counting from 1", "whole number from 1"),
        ("numerator", "events in the month (e.g. babies breastfed)", "whole number from 0"),
        ("denominator", "people at risk in the month (e.g. births)", "whole number from 1"),
    ],
    "matrix": [
        ("area", "the area's code, as in the parameters' area_id", "text"),
        ("partner", "the partner organisation that rated", "text"),
        ("element", "the maturity-matrix element ('evalkit' docs/matrix.md lists them)", "text"),
        ("level", "the level the partner chose", "whole number 1 to 5"),
        ("date", "date of the assessment", "YYYY-MM-DD"),
    ],
}


def records_dictionary(
    tool: str,
    design: str,
    *,
    id_column: str = "id",
    treatment_column: str = "treated",
    setting_column: str = "setting",
) -> list[tuple[str, str, str]]:
    """(column, what it holds, what is allowed) for the person-level records.

    >>> [c for c, _, _ in records_dictionary("epds", "prepost")][:4]
    ['id', 'treated', 'setting', 'epds_pre_1']
    """
    from ..tools import get

    spec = get(tool)
    low, high = spec.response_range
    cols = [
        (id_column, "a person's ID (never shown in any report)", "unique, no blanks"),
        (
            treatment_column,
            "1 if the person received the service, 0 if comparison"
            + (" (all 1 for a before-and-after design)" if design == "prepost" else ""),
            "1 or 0",
        ),
        (setting_column, "the setting (family hub, clinic) the person attended", "text"),
    ]
    for when, word in (("pre", "before the service"), ("post", "after the service")):
        for item in spec.items:
            cols.append(
                (
                    f"{tool}_{when}_{item}",
                    f"{spec.spec.title}, item {item}, {word}",
                    f"whole number {low} to {high}, or blank if not answered",
                )
            )
    if design == "propensity":
        cols.append(
            (
                "(covariates)",
                "characteristics to match on, e.g. mother_age, "
                "first_baby (name them in 'covariates')",
                "numbers or 0/1",
            )
        )
    return cols


def _write_csv(path: Path, rows: list[tuple[str, ...]], header: tuple[str, ...]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def init_project(
    folder: str | os.PathLike[str],
    *,
    areas: int = 3,
    tool: str = "epds",
    design: str = "comparison",
) -> list[Path]:
    """Create an evaluation project in ``folder``; return the files written.

    Parameters
    ----------
    folder
        A new or empty folder.
    areas
        How many area rows the workbook starts with (more can be added).
    tool, design
        The main outcome measure (``evalkit tools list``) and the evaluation design.

    >>> import tempfile
    >>> files = init_project(tempfile.mkdtemp() + "/proj", areas=2, tool="epds")
    >>> sorted(p.name for p in files)[:2]
    ['README.md', 'indicators_dictionary.csv']
    """
    from ..tools import available

    specs = key_specs()
    problems = []
    if tool not in available():
        problems.append(
            f"--tool: {tool!r} is not a registered tool (allowed: " + ", ".join(available()) + ")"
        )
    if design not in (specs["design"].choices or []):
        problems.append(
            f"--design: {design!r} is not a design (allowed: "
            + ", ".join(specs["design"].choices or [])
            + ")"
        )
    if not 1 <= int(areas) <= 500:
        problems.append(f"--areas: {areas} is out of range (allowed: 1 to 500)")
    root = Path(folder)
    if root.exists() and (not root.is_dir() or any(root.iterdir())):
        problems.append(f"{root}: exists and is not an empty folder (choose a new folder name)")
    if problems:
        raise ParameterError("cannot create the project", problems=problems)

    data = root / "data"
    data.mkdir(parents=True, exist_ok=True)
    width = max(2, len(str(areas)))
    rows: list[dict[str, Any]] = []
    for i in range(1, areas + 1):
        code = f"A{i:0{width}d}"
        rows.append(
            {
                "area_id": code,
                "area_name": None,
                "records": f"data/{code}.csv",
                "outcome_tool": tool,
                "outcome_pre_prefix": f"{tool}_pre_",
                "outcome_post_prefix": f"{tool}_post_",
                "design": design,
            }
        )
    written = [write_workbook(root / PARAMS_FILE, rows, n_blank=20)]

    rec = records_dictionary(tool, design)
    _write_csv(data / "records_dictionary.csv", rec, ("column", "what it holds", "allowed"))
    _write_csv(data / "records_template.csv", [], tuple(c for c, _, _ in rec if c[0] != "("))
    written += [data / "records_dictionary.csv", data / "records_template.csv"]
    for name, cols in _TABLE_DICTIONARIES.items():
        path = data / f"{name}_dictionary.csv"
        _write_csv(path, cols, ("column", "what it holds", "allowed"))
        written.append(path)

    readme = root / "README.md"
    readme.write_text(
        _README.format(
            tool=tool, design=design, areas=areas, first=rows[0]["area_id"], params=PARAMS_FILE
        ),
        encoding="utf-8",
    )
    written.append(readme)
    return written


_README = """\
# Evaluation project

Made by `evalkit init` for {areas} area(s), measuring with the `{tool}` and a `{design}` design.

## 1. Put each area's data in `data/`

One file per area, for example `data/{first}.csv` (CSV, Excel `.xlsx` or SPSS `.sav`).
`data/records_dictionary.csv` lists the columns it needs and what each may hold;
`data/records_template.csv` is an empty file with those column names.
Optional: monthly indicator counts and maturity-matrix ratings, as described in
`data/indicators_dictionary.csv` and `data/matrix_dictionary.csv`.

## 2. Fill in `{params}`

One row per area, one column per setting. Hover over a column's name to see what it
means, what is allowed and its default. Choices (tool, design, yes/no) are drop-down
lists. Required: `area_id`, `area_name`, `records`. The sheet "Tools and designs"
explains the choices. Leave a cell empty to use the default.

## 3. Check, then render

Run these in this folder (paths in the workbook are relative to it):

```
evalkit validate {params}
evalkit validate {params} --annotate checked.xlsx   # problems marked on their cells
evalkit render {params} --out reports
```

Open `reports/index.html` in a browser. Reports show counts under the suppression
threshold as "c" and never show anyone's ID, so they can be shared.
"""
