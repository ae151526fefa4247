"""Where evalkit finds its templates.

The templates live in the repository's ``templates/`` folder (next to the
package in a source checkout or an editable install). ``EVALKIT_TEMPLATES``
points elsewhere, e.g. to a copy that an academic partner has extended.
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import ReportError

__all__ = ["templates_dir", "template_path", "html_template_dir", "demo_exists"]


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


def demo_exists(data_dir: str | os.PathLike[str], *, n_areas: int | None = None) -> bool:
    """True when the demo's data and parameter files are all there (``n_areas`` of them).

    (Here, not in :mod:`evalkit.reports.demo`, so that ``evalkit demo`` on a demo that
    exists does not import the generator, numpy and pandas with it.)
    """
    d = Path(data_dir)
    if not ((d / "areas.csv").exists() and (d / "params").is_dir()):
        return False
    found = len(list((d / "params").glob("*.yaml")))
    return found > 0 if n_areas is None else found == n_areas
