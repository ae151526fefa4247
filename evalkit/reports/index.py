"""The index page: every area with its status and a link to its report."""

from __future__ import annotations

import html
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._version import __version__
from ..notices import SYNTHETIC_NOTICE
from .export import house_css
from .files import OutputError, atomic_write, now, os_reason
from .render import AreaOutcome
from .status import read_status

__all__ = ["write_index", "index_html"]

_LABEL = {
    "rendered": "Rendered now",
    "cached": "Up to date",
    "found": "Report found",  # listed from the files present after status.json was lost
    "failed": "Failed",
}


def _row(entry: dict[str, Any]) -> str:
    fields = ("area_id", "area_name", "html", "error", "rendered_at")
    e = {k: html.escape(str(entry[k])) if entry.get(k) is not None else "" for k in fields}
    status = entry.get("status", "failed")
    cls = "status-failed" if status == "failed" else "status-ok"
    link = (
        f'<a href="{e["html"]}">{e["area_name"] or e["area_id"]}</a>'
        if entry.get("html")
        else e["area_name"] or e["area_id"]
    )
    problem = ""
    if status == "failed":
        where = f"cell {entry['cell']}: " if entry.get("cell") else ""
        problem = f"{html.escape(where)}{e['error']}"
        if entry.get("kept_previous"):
            problem += (
                " <em>The link opens the previous report"
                + (f" of {e['rendered_at'][:10]}" if entry.get("rendered_at") else "")
                + ", which is out of date.</em>"
            )
    when = e["rendered_at"][:16].replace("T", " ")
    return (
        f'<tr><th scope="row">{e["area_id"]}</th><td class="text">{link}</td>'
        f'<td class="text {cls}">{_LABEL.get(status, "Failed")}</td><td class="text">{when}</td>'
        f'<td class="text">{problem}</td></tr>'
    )


_DESCRIPTIONS = {
    "synthesis": "what the areas' evaluations say together",
    "reliability": "how reliable the questionnaire was in each area (for academic partners)",
}


def _page_link(page: Any) -> str:
    text = html.escape(page.area_name or page.area_id)
    what = html.escape(_DESCRIPTIONS.get(page.area_id, ""))
    link = f'<a href="{html.escape(page.html)}">{text}</a>' if page.html else text
    line = f"<li>{link}{': ' + what if what else ''}"
    if page.status == "failed":
        where = f"cell {page.cell}: " if page.cell else ""
        kept = (
            " The link opens the previous version, which is out of date."
            if page.kept_previous
            else ""
        )
        line += (
            f' <span class="status-failed">Failed: {html.escape(where + (page.error or ""))}.'
            f"{kept}</span>"
        )
    return line + "</li>"


def index_html(
    entries: Sequence[dict[str, Any]],
    *,
    pages: Sequence[Any] = (),
    title: str = "evalkit: area evaluation reports",
    area_pages: Sequence[Any] = (),
) -> str:
    """The index page for ``entries`` (dicts of :class:`AreaOutcome` fields).

    ``pages`` are the outcomes of the pages across areas (synthesis, reliability);
    ``area_pages`` those of the pages beside each area's report (needs assessments).
    """
    failed = [e for e in entries if e.get("status") == "failed"]
    synthetic = any(e.get("synthetic") for e in entries)
    parts = [f"<h1>{html.escape(title)}</h1>"]
    if synthetic:
        parts.append(f'<div class="banner"><strong>{html.escape(SYNTHETIC_NOTICE)}</strong></div>')
    ok = len(entries) - len(failed)
    summary = f"{ok} of {len(entries)} area reports are up to date."
    if failed:
        summary += f" {len(failed)} failed: see the last column."
    parts.append(f'<p class="summary">{html.escape(summary)}</p>')
    if pages:
        parts.append("<h2>Across areas</h2><ul>" + "".join(_page_link(p) for p in pages) + "</ul>")
    if area_pages:
        parts.append(
            "<h2>Needs assessments</h2><p>Where each area is starting from: its population's "
            "needs, with the public-health indicator methods.</p><ul>"
            + "".join(_page_link(p) for p in area_pages)
            + "</ul>"
        )
    parts.append("<h2>Area reports</h2>")
    rows = "".join(_row(e) for e in entries)
    parts.append(
        '<div class="evalkit-table-scroll" role="region" tabindex="0" '
        'aria-labelledby="areas-caption">'
        '<table><caption id="areas-caption">Area reports</caption><thead><tr>'
        '<th scope="col">Code</th><th scope="col" class="text">Area</th>'
        '<th scope="col" class="text">Status</th><th scope="col" class="text">Rendered</th>'
        '<th scope="col" class="text">Problem</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )
    parts.append(
        "<p>Each report opens on its own, offline. It shows aggregate figures only: "
        "small numbers are suppressed.</p>"
    )
    body = "\n".join(parts)
    return (
        f'<!DOCTYPE html>\n<html lang="en-GB">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1.0">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{house_css()}\n</style>\n</head>\n"
        '<body>\n<a class="skip-link" href="#content">Skip to the list of reports</a>\n'
        f'<main id="content">\n{body}\n</main>\n<footer class="page-footer"><p>'
        f"Made with evalkit {html.escape(__version__)} on {now()[:10]}.</p></footer>\n"
        "</body>\n</html>\n"
    )


def _listed(entries: Sequence[dict[str, Any]], out: Path, this_run: set[str]) -> list[dict]:
    """The entries to list: a report that is gone is never shown as rendered.

    An area of this run whose report is missing is shown as failed; one from an
    earlier run whose report has since been deleted is left out.
    """
    listed = []
    for e in entries:
        present = bool(e.get("html")) and (out / e["html"]).is_file()
        if e.get("status") == "failed" or present:
            listed.append(e)
        elif e.get("area_id") in this_run:
            listed.append(
                {
                    **e,
                    "status": "failed",
                    "html": None,
                    "error": "the report file is missing; render the area again",
                }
            )
    return listed


def write_index(
    out: str | Path,
    outcomes: Sequence[AreaOutcome] | None = None,
    *,
    pages: Sequence[AreaOutcome] = (),
    sources: Sequence[tuple[str, str]] = (),
    area_pages: Sequence[AreaOutcome] = (),
) -> Path:
    """Write ``index.html`` listing every area in ``status.json`` (this run's first).

    The page is scanned like a report (``sources``: the areas' records and ID columns)
    before it is written.

    Raises
    ------
    OutputError
        The page shows a person ID or a local path, or the folder cannot be written.
    """
    from .checks import ScanMemo

    out = Path(out)
    status = read_status(out).entries
    order = [o.area_id for o in outcomes] if outcomes else []
    order += sorted(k for k in status if k not in order)
    entries = _listed(
        [status[k] for k in order if k in status], out, set(order[: len(outcomes or [])])
    )
    text = index_html(entries, pages=pages, area_pages=area_pages)
    # "Rendered now" and "Up to date" in one form: an index a fully cached run writes is
    # the one the run before it wrote and scanned
    problems = ScanMemo(out, sources, os.getcwd()).check(
        text, canonical=lambda t: t.replace(_LABEL["rendered"], _LABEL["cached"])
    )
    if problems:
        raise OutputError("index.html was not written: " + "; ".join(problems))
    path = out / "index.html"
    try:
        atomic_write(path, text)
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {os_reason(exc)}") from None
    return path
