"""``status.json``: the last outcome of every area rendered into an output folder.

The file is updated by merging (read it, change this run's areas, write it back under
the folder's lock), never by overwriting it with one run's view. A file that cannot
be read (cut short, edited by hand, not JSON) is rebuilt from the reports present,
and the caller is told so.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import OutputError, atomic_write, os_reason

__all__ = ["STATUS_NAME", "StatusFile", "read_status", "rebuild_status", "merge_status"]

STATUS_NAME = "status.json"

_STATUSES = {"rendered", "cached", "failed", "found"}


@dataclass
class StatusFile:
    """What :func:`read_status` found: the entries, and whether they were rebuilt."""

    entries: dict[str, dict[str, Any]] = field(default_factory=dict)
    rebuilt: bool = False
    note: str | None = None


def _valid(data: Any) -> bool:
    if not isinstance(data, dict):
        return False
    for key, entry in data.items():
        if not isinstance(entry, dict) or entry.get("area_id") != key:
            return False
        if entry.get("status") not in _STATUSES:
            return False
        if entry.get("html") is not None and not isinstance(entry.get("html"), str):
            return False
    return True


def _mtime(path: Path) -> str:
    stamp = dt.datetime.fromtimestamp(path.stat().st_mtime).astimezone()
    return stamp.isoformat(timespec="seconds")


def rebuild_status(out: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """Entries for the areas whose files are in ``out`` (when ``status.json`` is lost).

    An area with a report (``areas/<id>.html``) is listed as ``found`` (its report was
    written by an earlier run); an area with only a failed notebook as ``failed``.
    """
    out = Path(out)
    entries: dict[str, dict[str, Any]] = {}
    for page in sorted((out / "areas").glob("*.html")):
        area_id = page.stem
        name = area_id
        record = page.with_suffix(".json")
        try:
            name = str(json.loads(record.read_text(encoding="utf-8")).get("area_name") or name)
        except (OSError, ValueError, AttributeError):
            pass
        entries[area_id] = {
            "area_id": area_id,
            "area_name": name,
            "status": "found",
            "html": f"areas/{page.name}",
            "rendered_at": _mtime(page),
        }
    for nb in sorted((out / "notebooks").glob("*.failed.ipynb")):
        area_id = nb.name.removesuffix(".failed.ipynb")
        if area_id not in entries and (out / "areas").is_dir():
            entries[area_id] = {
                "area_id": area_id,
                "area_name": area_id,
                "status": "failed",
                "html": None,
                "error": "failed in an earlier run (the details were in the lost status file; "
                f"see notebooks/{nb.name})",
            }
    return entries


def read_status(out: str | os.PathLike[str]) -> StatusFile:
    """The entries of ``out/status.json``; rebuilt from the files present if it is unreadable."""
    out = Path(out)
    path = out / STATUS_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return StatusFile()
    except (OSError, UnicodeDecodeError):
        text = None
    try:
        data = json.loads(text) if text is not None else None
    except ValueError:
        data = None
    if _valid(data):
        return StatusFile(dict(data))
    entries = rebuild_status(out)
    note = (
        f"{STATUS_NAME} in {out} could not be read; it was rebuilt from the "
        f"{len(entries)} report(s) and failed notebook(s) found there"
    )
    return StatusFile(entries, rebuilt=True, note=note)


def _withheld(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        **entry,
        "area_name": entry.get("area_id", ""),
        "source": "",
        "error": "withheld: this entry showed data it must not (a person ID or a local path)"
        if entry.get("status") == "failed"
        else None,
    }


def merge_status(
    out: str | os.PathLike[str],
    entries: Mapping[str, dict[str, Any]],
    *,
    check: Callable[[str], list[str]] | None = None,
    clean: Callable[[dict[str, Any]], dict[str, Any]] | None = None,
) -> StatusFile:
    """Merge this run's ``entries`` into ``out/status.json`` and write it; return the result.

    The file is read again just before writing, so entries another run wrote since
    this run started are kept. A failed area keeps the time of its last good render.
    ``clean`` is applied to every entry (e.g. to take out local paths). ``check``
    returns the problems that stop the text being written (e.g. person IDs); an entry
    that has them keeps only its code and status, with its texts withheld.
    """
    out = Path(out)
    current = read_status(out)
    merged = dict(current.entries)
    for area_id, entry in entries.items():
        entry = dict(entry)
        if entry.get("status") == "failed" and area_id in merged:
            entry["rendered_at"] = merged[area_id].get("rendered_at")
        merged[area_id] = entry
    if clean:
        merged = {k: clean(e) for k, e in merged.items()}
    text = json.dumps(merged, indent=2)
    problems = check(text) if check else []
    if problems:  # an entry from an earlier run (or this one) shows someone: withhold its texts
        merged = {k: _withheld(e) if check(json.dumps(e)) else e for k, e in merged.items()}
        text = json.dumps(merged, indent=2)
        problems = check(text)
    if problems:
        raise OutputError(f"{STATUS_NAME} was not written: " + "; ".join(problems))
    try:
        atomic_write(out / STATUS_NAME, text)
    except OSError as exc:
        raise OutputError(f"cannot write {out / STATUS_NAME}: {os_reason(exc)}") from None
    return StatusFile(merged, rebuilt=current.rebuilt, note=current.note)
