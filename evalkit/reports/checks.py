"""Checks every rendered page must pass before it is published.

- no request to the network: no ``http(s)://`` script, stylesheet, image, frame or font;
- no absolute path of the machine that rendered it;
- no person ID from the input data, wherever it appears, also inside a label generated from
  data values such as ``id_P010002`` (see :func:`evalkit.disclosure.scan_html_for_ids`).

Small counts are not checked here: every count on a page goes through the page's disclosure
register (:class:`evalkit.disclosure.Register`), audited before the page's record is handed
over.

:func:`scrub` takes local paths out of error messages shown in the index.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["external_resources", "local_paths", "leaked_ids", "check_html", "check_page", "scrub"]

_EXTERNAL = re.compile(
    r"""<(?:script|img|iframe|embed|source|audio|video)\b[^>]*\bsrc\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|<link\b[^>]*\bhref\s*=\s*["']?\s*(?:https?:)?//"""
    r"""|url\(\s*["']?\s*(?:https?:)?//"""
    r"""|@import\s+["']?(?:https?:)?//""",
    re.IGNORECASE,
)


def external_resources(html_text: str) -> list[str]:
    """Snippets of the page that would load something from the network."""
    return [m.group(0)[:80] for m in _EXTERNAL.finditer(html_text)]


def _machine_paths(cwd: str | None = None) -> list[str]:
    paths = {os.getcwd(), str(Path.home()), str(Path(__file__).resolve().parents[2])}
    if cwd:
        paths.add(str(cwd))
    return sorted((p for p in paths if len(p) > 1), key=len, reverse=True)


def local_paths(html_text: str, cwd: str | None = None) -> list[str]:
    """Absolute paths of this machine (working folder, home, install) found in the page."""
    return [p for p in _machine_paths(cwd) if p in html_text]


def scrub(text: str, cwd: str | None = None) -> str:
    """Replace this machine's absolute paths in ``text`` with ``…``."""
    for p in _machine_paths(cwd):
        text = text.replace(p + os.sep, "").replace(p, "…")
    return text


def check_html(
    html_text: str, *, params: dict[str, Any] | None = None, cwd: str | None = None
) -> list[str]:
    """Problems that stop a page being published (an empty list when it may be)."""
    problems = []
    ext = external_resources(html_text)
    if ext:
        problems.append(f"it would load {len(ext)} resource(s) from the network ({ext[0]!r})")
    if local_paths(html_text, cwd):
        problems.append("it shows a folder path of the machine that rendered it")
    if params and params.get("records") and params.get("id_column"):
        leaked = leaked_ids(
            html_text,
            params["records"],
            params["id_column"],
            cwd=cwd,
            sheet=params.get("sheet"),
            encoding=params.get("encoding"),
        )
        if leaked:
            problems.append(
                f"it shows {len(leaked)} person ID(s) from the column "
                f"{params['id_column']!r} of the input data"
            )
    return problems


def _distinctive(value: str) -> bool:
    # Short all-digit IDs (1, 27, 1234) are indistinguishable from ordinary numbers in a
    # report; they are not searched for (use distinctive IDs such as P000123).
    return not (value.isdigit() and len(value) < 5)


def leaked_ids(
    html_text: str,
    records: str,
    id_column: str,
    *,
    cwd: str | None = None,
    sheet: str | int | None = None,
    encoding: str | None = None,
) -> list[str]:
    """IDs from the records' ID column that appear in the page (see ``disclosure.scan_html_for_ids``).

    The records are read as the report reads them
    (:func:`evalkit.reports.inputs.read_records`, with the area's ``sheet`` and ``encoding``),
    so that the IDs scanned for are the ones the report used.
    """
    from ..disclosure import scan_html_for_ids
    from .inputs import read_records

    path = Path(records)
    if cwd and not path.is_absolute():
        path = Path(cwd) / path
    table = read_records(path, id_column=id_column, sheet=sheet or None, encoding=encoding or None)
    ids = table[id_column].dropna().astype(str)
    ids = [i for i in ids.str.strip().str.removesuffix(".0") if _distinctive(i)]
    return scan_html_for_ids(html_text, ids)


def check_page(
    text: str, *, id_sources: Sequence[tuple[str, ...]] = (), cwd: str | None = None
) -> list[str]:
    """Problems that stop a page across areas, the index or ``status.json`` being written.

    The checks of :func:`check_html`, with the ID scan run for the records of every
    area (``id_sources``: records file and ID column, optionally followed by the records'
    sheet and encoding).
    """
    problems = check_html(text, cwd=cwd)
    n = 0
    for records, id_column, *how in id_sources:
        sheet, encoding = (list(how) + [None, None])[:2]
        try:
            n += len(leaked_ids(text, records, id_column, cwd=cwd, sheet=sheet, encoding=encoding))
        except Exception:  # noqa: BLE001 - unreadable records cannot leak into the page
            continue
    if n:
        problems.append(f"it shows {n} person ID(s) from the areas' input data")
    return problems
