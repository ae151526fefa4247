"""Where evalkit finds its templates.

The templates live in the repository's ``templates/`` folder (next to the
package in a source checkout or an editable install). ``EVALKIT_TEMPLATES``
points elsewhere, e.g. to a copy that an academic partner has extended.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ReportError

__all__ = ["templates_dir", "template_path", "html_template_dir"]


def templates_dir() -> Path:
    """The folder holding ``area_report.ipynb`` and ``html/``."""
    env = os.environ.get("EVALKIT_TEMPLATES")
    candidates = [Path(env)] if env else []
    candidates.append(Path(__file__).resolve().parents[2] / "templates")
    for c in candidates:
        if (c / "html").is_dir():
            return c
    raise ReportError(
        "cannot find evalkit's templates/ folder; install evalkit from its repository "
        "(pip install -e .) or set EVALKIT_TEMPLATES to the folder"
    )


def template_path(name: str = "area_report.ipynb") -> Path:
    """A template notebook by file name."""
    path = templates_dir() / name
    if not path.is_file():
        raise ReportError(f"template not found: {name} (looked in templates/)")
    return path


def html_template_dir() -> Path:
    """The nbconvert template folder (``templates/html``)."""
    return templates_dir() / "html"
