"""Evaluation designs.

Individual-level: :func:`prepost`, :func:`ancova`, :func:`multilevel`, :func:`propensity`.
Area-level: :func:`did`, :func:`its`, :func:`synthetic_control`, :func:`meta_analysis`.

Each design lives in its own module and is imported on first use.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_EXPORTS = {
    "prepost": "prepost",
    "ancova": "ancova",
    "multilevel": "multilevel",
    "propensity": "propensity",
    "did": "did",
    "its": "its",
    "synthetic_control": "synth",
    "meta_analysis": "meta",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f".{_EXPORTS[name]}", __name__)
        value = getattr(module, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'evalkit.designs' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
