"""Registry of early-years measures and their scoring.

Each tool is a YAML spec shipped in ``evalkit/tools/specs/`` (item numbers and scoring
rules only, never item wording), validated when loaded:

- ``sdq``     Strengths and Difficulties Questionnaire, parent report 4-17
- ``epds``    Edinburgh Postnatal Depression Scale (item 10 self-harm flag)
- ``wemwbs``  Warwick-Edinburgh Mental Wellbeing Scale (14 items)
- ``swemwbs`` Short WEMWBS (7 items) with the metric conversion table
- ``phq9``    Patient Health Questionnaire-9 (item 9 flag)
- ``gad7``    Generalized Anxiety Disorder-7
- ``asq3``    Ages & Stages Questionnaires, 3rd edition: structure only, cut-offs from the user

>>> import evalkit as ek
>>> ek.tools.available()
['asq3', 'epds', 'gad7', 'phq9', 'sdq', 'swemwbs', 'wemwbs']
>>> tool = ek.tools.get("sdq")
>>> tool.scales
('emotional', 'conduct', 'hyperactivity', 'peer', 'prosocial', 'total')

Score with ``tool.score(df, prefix="sdq_")``; hand keyed item scores to
:mod:`evalkit.reliability` with ``tool.items_frame(df, prefix="sdq_", scale="emotional")``.
A user's own tool: ``ek.tools.load("my_tool.yaml")`` (format in ``docs/tools.md``).
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from pathlib import Path

from ..errors import ParameterError, SpecError
from .io import read_data, write_scores
from .scoring import Tool, round_half_up
from .spec import ToolSpec, parse_spec

__all__ = [
    "available",
    "get",
    "load",
    "Tool",
    "ToolSpec",
    "read_data",
    "write_scores",
    "round_half_up",
]


def _spec_dir():
    return resources.files(__name__).joinpath("specs")


def available() -> list[str]:
    """Names of the tools shipped with evalkit, sorted.

    >>> available()
    ['asq3', 'epds', 'gad7', 'phq9', 'sdq', 'swemwbs', 'wemwbs']
    """
    return list(_shipped())


@cache
def _shipped() -> tuple[str, ...]:
    # the package's own folder: listed once a process (every area's parameters ask)
    return tuple(sorted(p.name[:-5] for p in _spec_dir().iterdir() if p.name.endswith(".yaml")))


def _parse_yaml(text: str, file: str) -> ToolSpec:
    import yaml

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SpecError(f"not valid YAML{where}: {problem}", file=file) from None
    return parse_spec(data, file=file)


@cache
def get(name: str) -> Tool:
    """A shipped tool by name (see :func:`available`).

    Parameters
    ----------
    name
        e.g. ``"epds"``; case-insensitive.

    Returns
    -------
    Tool

    Examples
    --------
    >>> get("epds").published_reliability[0].value
    0.88
    """
    key = str(name).strip().lower().replace("-", "")
    names = available()
    if key not in names:
        raise ParameterError(
            f"no tool called {name!r}",
            key="tool",
            expected="one of " + ", ".join(names) + " (or load your own spec with tools.load)",
        )
    res = _spec_dir().joinpath(f"{key}.yaml")
    return Tool(_parse_yaml(res.read_text(encoding="utf-8"), f"{key}.yaml"), source=f"{key}.yaml")


def load(path: str | Path) -> Tool:
    """A tool from your own YAML spec file (format: ``docs/tools.md``, "How to add a tool").

    Raises
    ------
    SpecError
        Naming the file and every offending key (unknown items in a subscale, a reverse
        item outside the items, overlapping or gapped bands...).

    Examples
    --------
    >>> tool = load("specs/my_scale.yaml")  # doctest: +SKIP
    """
    p = Path(path)
    if not p.is_file():
        raise SpecError("no such file", file=str(path))
    return Tool(_parse_yaml(p.read_text(encoding="utf-8"), p.name), source=str(p))
