"""Checks every rendered page must pass before it is published.

- no request to the network: no ``http(s)://`` script, stylesheet, image, frame or font;
- no absolute path of the machine that rendered it;
- no person ID from the input data (see :func:`evalkit.disclosure.scan_html_for_ids`).

:func:`scrub` takes local paths out of error messages shown in the index.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

__all__ = ["external_resources", "local_paths", "check_html", "scrub"]

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


def _machine_paths() -> list[str]:
    paths = {os.getcwd(), str(Path.home()), str(Path(__file__).resolve().parents[2])}
    return sorted((p for p in paths if len(p) > 1), key=len, reverse=True)


def local_paths(html_text: str) -> list[str]:
    """Absolute paths of this machine (working folder, home, install) found in the page."""
    return [p for p in _machine_paths() if p in html_text]


def scrub(text: str) -> str:
    """Replace this machine's absolute paths in ``text`` with ``…``."""
    for p in _machine_paths():
        text = text.replace(p + os.sep, "").replace(p, "…")
    return text


def check_html(html_text: str, *, params: dict[str, Any] | None = None) -> list[str]:
    """Problems that stop a page being published (an empty list when it may be)."""
    problems = []
    ext = external_resources(html_text)
    if ext:
        problems.append(f"it would load {len(ext)} resource(s) from the network ({ext[0]!r})")
    if local_paths(html_text):
        problems.append("it shows a folder path of the machine that rendered it")
    return problems
