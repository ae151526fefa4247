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

import functools
import os
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = [
    "external_resources",
    "local_paths",
    "leaked_ids",
    "check_html",
    "check_page",
    "scrub",
    "ScanMemo",
    "SCANS_NAME",
]

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

    ids = _ids(records, id_column, cwd=cwd, sheet=sheet, encoding=encoding)
    return scan_html_for_ids(html_text, ids)


def _ids(
    records: str,
    id_column: str,
    *,
    cwd: str | None,
    sheet: str | int | None,
    encoding: str | None,
) -> tuple[str, ...]:
    path = Path(records)
    if cwd and not path.is_absolute():
        path = Path(cwd) / path
    try:
        st = path.stat()
    except OSError:  # read_records says why, in its words
        st = None
    stamp = (st.st_size, st.st_mtime_ns) if st else (-1, -1)
    return _ids_of(str(path.resolve()), *stamp, id_column, sheet, encoding)


@functools.lru_cache(maxsize=1024)
def _ids_of(
    path: str,
    _size: int,
    _mtime_ns: int,
    id_column: str,
    sheet: str | int | None,
    encoding: str | None,
) -> tuple[str, ...]:
    """The distinctive IDs of a records file, read once while its size and time are unchanged
    (status.json and the index are scanned for every area's IDs)."""
    from .inputs import read_records

    table = read_records(path, id_column=id_column, sheet=sheet or None, encoding=encoding or None)
    ids = table[id_column].dropna().astype(str)
    return tuple(i for i in ids.str.strip().str.removesuffix(".0") if _distinctive(i))


def check_page(
    text: str, *, id_sources: Sequence[tuple[str, ...]] = (), cwd: str | None = None
) -> list[str]:
    """Problems that stop a page across areas, the index or ``status.json`` being written.

    The checks of :func:`check_html`, with the ID scan run for the records of every
    area (``id_sources``: records file and ID column, optionally followed by the records'
    sheet and encoding).
    """
    from ..disclosure import scan_html_for_ids

    problems = check_html(text, cwd=cwd)
    ids: list[str] = []
    for records, id_column, *how in id_sources:
        sheet, encoding = (list(how) + [None, None])[:2]
        try:
            ids.extend(_ids(records, id_column, cwd=cwd, sheet=sheet, encoding=encoding))
        except Exception:  # noqa: BLE001 - unreadable records cannot leak into the page
            continue
    # one pass over the page for every area's IDs (the index of 175 areas is read once)
    n = len(scan_html_for_ids(text, ids)) if ids else 0
    if n:
        problems.append(f"it shows {n} person ID(s) from the areas' input data")
    return problems


#: the output folder's file of texts already found clean (SHA-256 digests only)
SCANS_NAME = ".evalkit-scans"
_SCANS_KEPT = 512


class ScanMemo:
    """Texts already found clean by :func:`check_page` in this output folder.

    ``status.json`` and the index are scanned for every area's person IDs before they are
    written, which means reading every area's records. A run that writes what an earlier
    run wrote and checked (a fully cached run of 175 areas) need not read them again: the
    digest of a clean text is kept in ``<out>/.evalkit-scans`` and the scan is skipped when
    the same digest comes again. A digest covers the text (as ``canonical`` gives it), the
    records scanned for (path, size, modification time, ID column, sheet, encoding), the
    folder paths are checked against, and evalkit's own source: change any of them and the
    text is scanned again. The file holds digests only, nothing of the texts or the IDs;
    it is read and written under the output folder's lock.
    """

    def __init__(
        self, out: str | os.PathLike[str], id_sources: Sequence[tuple[str, ...]], cwd: str | None
    ) -> None:
        import hashlib

        from .render import source_digest

        self.path = Path(out) / SCANS_NAME
        self.id_sources, self.cwd = list(id_sources), cwd
        h = hashlib.sha256(source_digest().encode())
        h.update(repr(cwd).encode())
        for records, id_column, *how in self.id_sources:
            path = Path(records)
            if cwd and not path.is_absolute():
                path = Path(cwd) / path
            try:
                st = path.stat()
                stamp = (str(path.resolve()), st.st_size, st.st_mtime_ns)
            except OSError:
                stamp = (str(path), -1, -1)
            h.update(repr((stamp, id_column, *how)).encode())
        self._context = h.hexdigest()
        try:
            self._known = self.path.read_text(encoding="ascii").split()
        except (OSError, UnicodeDecodeError):
            self._known = []

    def _key(self, text: str) -> str:
        import hashlib

        return hashlib.sha256((self._context + "\n" + text).encode()).hexdigest()

    def check(self, text: str, *, canonical: Any = None) -> list[str]:
        """:func:`check_page`'s problems with ``text``; none, unscanned, if found clean before.

        ``canonical`` maps the text to the form its digest is taken of: words from a fixed
        vocabulary that change from run to run ("Rendered now", "Up to date") are put in
        one form, since they cannot hold an ID.
        """
        key = self._key(canonical(text) if canonical else text)
        if key in self._known:
            return []
        problems = check_page(text, id_sources=self.id_sources, cwd=self.cwd)
        if not problems:
            from .files import atomic_write

            self._known = [*self._known, key][-_SCANS_KEPT:]
            try:
                atomic_write(self.path, "\n".join(self._known) + "\n")
            except OSError:
                pass  # the memo only saves time: a folder that cannot take it is checked again
        return problems
