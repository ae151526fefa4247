"""The maturity-matrix framework: dimensions, elements and levels, read from a YAML file.

The default framework ships as ``evalkit/matrix/framework.yaml`` (:data:`DEFAULT_FRAMEWORK`);
a local version is a copy of that file passed to :func:`load_framework`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ParameterError, SpecError

__all__ = ["DEFAULT_FRAMEWORK", "Element", "Dimension", "Framework", "load_framework"]

#: path of the default framework file shipped with evalkit
DEFAULT_FRAMEWORK = Path(__file__).with_name("framework.yaml")

_ID = re.compile(r"^[a-z][a-z0-9_]*$")
# framework files read: path -> ((mtime_ns, size), Framework), so a page that asks for the
# framework many times parses the YAML once (a changed file is read again)
_READ: dict[str, tuple[tuple[int, int], Framework]] = {}


@dataclass(frozen=True)
class Element:
    """One element of the matrix (e.g. ``strategy``), inside a dimension (e.g. ``plan``)."""

    id: str
    label: str
    dimension: str
    description: str = ""


@dataclass(frozen=True)
class Dimension:
    """One dimension of the matrix (e.g. ``plan``) and the ids of its elements, in order."""

    id: str
    label: str
    elements: tuple[str, ...]


@dataclass(frozen=True)
class Framework:
    """A validated maturity-matrix framework (see :func:`load_framework`).

    Attributes
    ----------
    name : str
    levels : dict[int, str]
        Consecutive whole-number levels and their labels, e.g. ``{1: "basic", ..., 5: "mature"}``.
    dimensions : tuple[Dimension, ...]
    elements : tuple[Element, ...]
        All elements, in framework order (dimension by dimension).
    source : str
        The file it was read from (or ``"<mapping>"``).
    """

    name: str
    levels: dict[int, str]
    dimensions: tuple[Dimension, ...]
    elements: tuple[Element, ...]
    source: str = "<mapping>"

    @property
    def min_level(self) -> int:
        return min(self.levels)

    @property
    def max_level(self) -> int:
        return max(self.levels)

    @property
    def element_ids(self) -> list[str]:
        return [e.id for e in self.elements]

    @property
    def dimension_ids(self) -> list[str]:
        return [d.id for d in self.dimensions]

    def element(self, element_id: str) -> Element:
        """The :class:`Element` with this id."""
        for e in self.elements:
            if e.id == element_id:
                return e
        raise ParameterError(
            f"unknown element {element_id!r}", key="element", expected=", ".join(self.element_ids)
        )

    def dimension(self, dimension_id: str) -> Dimension:
        """The :class:`Dimension` with this id."""
        for d in self.dimensions:
            if d.id == dimension_id:
                return d
        raise ParameterError(
            f"unknown dimension {dimension_id!r}",
            key="dimension",
            expected=", ".join(self.dimension_ids),
        )

    def level_label(self, level: int) -> str:
        """``"3 developing"``: the level with its label."""
        return f"{level} {self.levels.get(int(level), '')}".strip()

    def to_frame(self) -> pd.DataFrame:
        """One row per element: dimension, dimension_label, element, label, description."""
        dims = {d.id: d.label for d in self.dimensions}
        return pd.DataFrame(
            [
                {
                    "dimension": e.dimension,
                    "dimension_label": dims[e.dimension],
                    "element": e.id,
                    "label": e.label,
                    "description": e.description,
                }
                for e in self.elements
            ]
        )


def _check_keys(node: Mapping, allowed: set[str], *, file: str, key: str) -> None:
    unknown = [str(k) for k in node if k not in allowed]
    if unknown:
        raise SpecError(
            f"unknown key(s) {', '.join(repr(u) for u in unknown)}; allowed: "
            + ", ".join(sorted(allowed)),
            file=file,
            key=key or None,
        )


def _text(node: Mapping, name: str, *, file: str, key: str, default: str | None = None) -> str:
    value = node.get(name, default)
    if value is None:
        raise SpecError(f"missing {name!r}", file=file, key=key)
    if (
        not isinstance(value, (str, int, float))
        or isinstance(value, bool)
        or not str(value).strip()
    ):
        raise SpecError(
            f"{name!r} must be non-empty text, got {value!r}", file=file, key=f"{key}.{name}"
        )
    return str(value).strip()


def _parse_levels(raw: Any, *, file: str) -> dict[int, str]:
    if isinstance(raw, list):
        raw = {i + 1: v for i, v in enumerate(raw)}
    if not isinstance(raw, Mapping) or len(raw) < 2:
        raise SpecError(
            "levels must map at least two whole numbers to labels, e.g. {1: basic, 5: mature}",
            file=file,
            key="levels",
        )
    levels: dict[int, str] = {}
    for k, v in raw.items():
        try:
            ok = not isinstance(k, bool) and float(k) == int(float(k))
        except (TypeError, ValueError):
            ok = False
        if not ok:
            raise SpecError(f"level {k!r} is not a whole number", file=file, key=f"levels.{k}")
        if not isinstance(v, str) or not v.strip():
            raise SpecError(
                f"level {k} needs a text label, got {v!r}", file=file, key=f"levels.{k}"
            )
        levels[int(float(k))] = v.strip()
    ordered = sorted(levels)
    if ordered != list(range(ordered[0], ordered[-1] + 1)):
        raise SpecError(
            f"levels must be consecutive whole numbers, got {ordered}", file=file, key="levels"
        )
    return {k: levels[k] for k in ordered}


def _entry_id(
    node: Any, allowed: set[str], what: str, seen: dict[str, str], *, file: str, key: str
) -> str:
    """Check one dimension or element entry and return its id (unique across the framework)."""
    if not isinstance(node, Mapping):
        raise SpecError(f"each {what} must be a mapping with id and label", file=file, key=key)
    _check_keys(node, allowed, file=file, key=key)
    ident = _text(node, "id", file=file, key=key)
    if not _ID.match(ident):
        raise SpecError(
            f"id {ident!r} must be lower case letters, digits and underscores",
            file=file,
            key=f"{key}.id",
        )
    if ident in seen:
        raise SpecError(
            f"id {ident!r} is already used at {seen[ident]}", file=file, key=f"{key}.id"
        )
    seen[ident] = key
    return ident


def _parse_framework(raw: Any, *, file: str) -> Framework:
    if not isinstance(raw, Mapping):
        raise SpecError(
            "a framework file must be a mapping with 'levels' and 'dimensions'", file=file
        )
    _check_keys(
        raw, {"name", "version", "description", "source", "levels", "dimensions"}, file=file, key=""
    )
    name = _text(raw, "name", file=file, key="name", default="maturity matrix")
    if "levels" not in raw:
        raise SpecError("missing 'levels'", file=file, key="levels")
    levels = _parse_levels(raw["levels"], file=file)

    dims_raw = raw.get("dimensions")
    if not isinstance(dims_raw, list) or not dims_raw:
        raise SpecError("'dimensions' must be a non-empty list", file=file, key="dimensions")
    dimensions: list[Dimension] = []
    elements: list[Element] = []
    seen: dict[str, str] = {}
    for i, d in enumerate(dims_raw):
        dkey = f"dimensions[{i}]"
        did = _entry_id(
            d, {"id", "label", "description", "elements"}, "dimension", seen, file=file, key=dkey
        )
        dlabel = _text(d, "label", file=file, key=dkey, default=did.replace("_", " ").title())
        els_raw = d.get("elements")
        if not isinstance(els_raw, list) or not els_raw:
            raise SpecError(
                "'elements' must be a non-empty list", file=file, key=f"{dkey}.elements"
            )
        ids = []
        for j, e in enumerate(els_raw):
            ekey = f"{dkey}.elements[{j}]"
            eid = _entry_id(e, {"id", "label", "description"}, "element", seen, file=file, key=ekey)
            default = eid.replace("_", " ").capitalize()
            label = _text(e, "label", file=file, key=ekey, default=default)
            desc = str(e.get("description") or "").strip()
            elements.append(Element(eid, label, did, desc))
            ids.append(eid)
        dimensions.append(Dimension(did, dlabel, tuple(ids)))
    return Framework(name, levels, tuple(dimensions), tuple(elements), source=file)


def load_framework(path: str | Path | Mapping | Framework | None = None) -> Framework:
    """Read and check a maturity-matrix framework.

    Parameters
    ----------
    path : str, Path, mapping or Framework, optional
        A YAML file (or an already-parsed mapping). ``None`` loads the default framework
        shipped with evalkit (:data:`DEFAULT_FRAMEWORK`). A :class:`Framework` is returned as is.

    Returns
    -------
    Framework

    Raises
    ------
    SpecError
        Naming the file and the key: a missing or unknown key, a duplicated or badly formed id,
        levels that are not consecutive whole numbers, an empty dimension.

    Notes
    -----
    The file holds ``name``, ``levels`` (a mapping ``1: basic ... 5: mature``, or a list of
    labels numbered from 1) and ``dimensions``: a list of ``{id, label, elements}`` where
    ``elements`` is a list of ``{id, label, description}``. Element ids are unique across the
    framework.

    A file is parsed once per version (its modification time and size): asking again for an
    unchanged file returns the framework read before, with a ``levels`` dict of its own.

    Examples
    --------
    >>> fw = load_framework()
    >>> fw.dimension_ids
    ['plan', 'lead', 'deliver', 'evaluate']
    >>> fw.levels[1], fw.levels[5]
    ('basic', 'mature')
    """
    if isinstance(path, Framework):
        return path
    if isinstance(path, Mapping):
        return _parse_framework(path, file="<mapping>")
    import yaml

    file = Path(path) if path is not None else DEFAULT_FRAMEWORK
    name = str(file) if path is not None else file.name
    if not file.is_file():
        raise SpecError("framework file not found", file=name)
    stat = file.stat()
    stamp, key = (stat.st_mtime_ns, stat.st_size), f"{name}\0{file.resolve()}"
    cached = _READ.get(key)
    if cached is not None and cached[0] == stamp:
        return replace(cached[1], levels=dict(cached[1].levels))  # levels: a dict of its own
    try:
        raw = yaml.safe_load(file.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        line = f" at line {where.line + 1}" if where is not None else ""
        raise SpecError(
            f"not valid YAML{line}: {getattr(exc, 'problem', exc)}", file=name
        ) from None
    fw = _parse_framework(raw, file=name)
    _READ[key] = (stamp, fw)
    return replace(fw, levels=dict(fw.levels))
