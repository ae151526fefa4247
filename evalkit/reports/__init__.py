"""Reports: parameters, rendering with papermill, HTML export and the index page.

Template notebooks use :mod:`evalkit.reports.page` to display headings, tables and
figures; the CLI uses :func:`load_jobs` and :func:`build` (areas, then records, then
the pages across areas, then the index).
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "AreaParams": "params",
    "AreaJob": "params",
    "load_jobs": "params",
    "AreaOutcome": "render",
    "render_areas": "render",
    "build": "build",
    "write_index": "index",
    "write_demo": "demo",
}
_MODULES = {
    "params",
    "build",
    "render",
    "record",
    "files",
    "status",
    "export",
    "index",
    "page",
    "checks",
    "paths",
    "demo",
}

__all__ = sorted(set(_EXPORTS) | _MODULES)


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f".{name}", __name__)
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'evalkit.reports' has no attribute {name!r}")
