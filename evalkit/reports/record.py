"""The record hand-off: an area's key results, from its notebook to the pages across areas.

- In the notebook, :func:`evalkit.reports.page.record` displays the results as an
  output of the MIME type :data:`RESULTS_MIME` (never shown to a reader: the HTML
  export drops ``application/vnd.evalkit.*`` outputs).
- After execution, :func:`extract_results` takes them out of the executed notebook and
  :func:`record_json` makes the text of ``areas/<area_id>.json``, which the synthesis
  reads with :func:`evalkit.reports.inputs.read_area_results`.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["RESULTS_MIME", "extract_results", "record_json"]

#: MIME type of the key results an area notebook displays (see ``page.record``)
RESULTS_MIME = "application/vnd.evalkit.results+json"


def extract_results(nb: Any) -> dict[str, Any] | None:
    """The results an executed notebook recorded (the first such output), or None.

    >>> import nbformat
    >>> cell = nbformat.v4.new_code_cell()
    >>> cell.outputs = [nbformat.v4.new_output("display_data", data={RESULTS_MIME: {"n": 3}})]
    >>> extract_results(nbformat.v4.new_notebook(cells=[cell]))
    {'n': 3}
    """
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if RESULTS_MIME in data:
                return dict(data[RESULTS_MIME])
    return None


def record_json(results: dict[str, Any], area_id: str) -> str:
    """The text of ``areas/<area_id>.json``: the results, with their ``area_id``.

    >>> print(record_json({"n": 3}, "A01"))
    {
      "n": 3,
      "area_id": "A01"
    }
    """
    results = dict(results)
    results.setdefault("area_id", area_id)
    return json.dumps(results, indent=2, default=str)
