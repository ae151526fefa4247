"""The area parameters as data: JSON Schema for editors, and the choices and ranges of each key.

Everything here is derived from :class:`evalkit.reports.params.AreaParams`, so the JSON
Schema (``evalkit schema``), the parameters workbook (``evalkit init``) and the checks
(``evalkit validate``) can never drift apart.

>>> spec = key_specs()["design"]
>>> spec.choices
['prepost', 'comparison', 'multilevel', 'propensity']
>>> key_specs()["suppression_threshold"].minimum, key_specs()["suppression_threshold"].maximum
(5, 100)
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Any

from .params import AreaParams

__all__ = ["KeySpec", "key_specs", "json_schema", "SCHEMA_ID"]

#: ``$id`` of the schema (a name, not an address: nothing is fetched)
SCHEMA_ID = "urn:evalkit:area-parameters"

#: keys whose values must be one of the registered measurement tools
TOOL_KEYS = ("outcome_tool", "second_tool")


@dataclass(frozen=True)
class KeySpec:
    """What one parameter allows, in a form a spreadsheet or an editor can use."""

    name: str
    description: str
    kind: str  # "text", "integer", "number", "yes/no", "choice", "list", "mapping", "file"
    required: bool
    default: Any
    choices: list[str] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    suffixes: tuple[str, ...] = ()

    def allowed(self) -> str:
        """What is allowed, in words (for header comments and help)."""
        if self.choices is not None:
            text = "one of: " + ", ".join(c or "(empty)" for c in self.choices)
        elif self.kind == "yes/no":
            text = "yes or no"
        elif self.kind in ("integer", "number"):
            word = "a whole number" if self.kind == "integer" else "a number"
            lo = (
                ""
                if self.minimum is None
                else f"{'above' if self.exclusive_minimum else 'from'} {_fmt(self.minimum)}"
            )
            hi = "" if self.maximum is None else f"up to {_fmt(self.maximum)}"
            text = " ".join(x for x in (word, lo, hi) if x)
        elif self.kind == "list":
            text = "column names separated by commas, or empty"
        elif self.kind == "mapping":
            text = "key: reason pairs (in a cell, separated by ';'), or empty"
        elif self.kind == "file":
            text = (
                "a path to a "
                + " or ".join(self.suffixes)
                + " file"
                + ("" if self.required else ", or empty")
            )
        else:
            text = "text"
        return text


def _fmt(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else str(x)


def _bounds(info: Any) -> tuple[float | None, float | None, bool]:
    lo = hi = None
    exclusive = False
    for m in info.metadata:
        if getattr(m, "ge", None) is not None:
            lo = m.ge
        if getattr(m, "gt", None) is not None:
            lo, exclusive = m.gt, True
        if getattr(m, "le", None) is not None:
            hi = m.le
    return lo, hi, exclusive


def key_specs() -> dict[str, KeySpec]:
    """One :class:`KeySpec` per parameter, in the template's order."""
    from ..tools import available
    from .params import DATA_SUFFIXES, PARAM_SUFFIXES, TABLE_SUFFIXES

    file_keys = {"records": DATA_SUFFIXES, "plan": PARAM_SUFFIXES}
    for key in AreaParams.FILE_KEYS:
        file_keys.setdefault(key, TABLE_SUFFIXES)
    out: dict[str, KeySpec] = {}
    for name, info in AreaParams.model_fields.items():
        ann = info.annotation
        origin = typing.get_origin(ann)
        required = info.is_required()
        default = None if required else info.get_default(call_default_factory=True)
        common = {
            "name": name,
            "description": info.description or "",
            "required": required,
            "default": default,
        }
        if name in TOOL_KEYS:
            choices = list(available())
            if not required and default == "":
                choices = ["", *choices]
            out[name] = KeySpec(kind="choice", choices=choices, **common)
        elif origin is typing.Literal:
            out[name] = KeySpec(
                kind="choice", choices=[str(a) for a in typing.get_args(ann)], **common
            )
        elif ann is bool:
            out[name] = KeySpec(kind="yes/no", **common)
        elif ann in (int, float):
            lo, hi, exclusive = _bounds(info)
            out[name] = KeySpec(
                kind="integer" if ann is int else "number",
                minimum=lo,
                maximum=hi,
                exclusive_minimum=exclusive,
                **common,
            )
        elif origin is list:
            out[name] = KeySpec(kind="list", **common)
        elif origin is dict:
            out[name] = KeySpec(kind="mapping", **common)
        elif name in file_keys:
            out[name] = KeySpec(kind="file", suffixes=tuple(file_keys[name]), **common)
        else:
            out[name] = KeySpec(kind="text", **common)
    return out


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one area's YAML parameter file.

    Point an editor at it (VS Code's YAML extension, JupyterLab) with a first line
    ``# yaml-language-server: $schema=evalkit-params.schema.json``; it then flags
    unknown keys, wrong types, values out of range and unknown tools or designs as
    one types. File existence and data columns are checked by ``evalkit validate``.

    >>> s = json_schema()
    >>> s["additionalProperties"], "area_id" in s["required"]
    (False, True)
    """
    from .params import AREA_ID_PATTERN

    base = AreaParams.model_json_schema()
    props: dict[str, Any] = base["properties"]
    for name, spec in key_specs().items():
        prop = props[name]
        prop.pop("title", None)
        if spec.choices is not None:
            prop["enum"] = spec.choices
            prop.pop("minLength", None)
        if spec.kind == "list":
            # YAML gives a list; a spreadsheet cell a comma-separated string
            prop.pop("type", None)
            items = prop.pop("items", {"type": "string"})
            prop["anyOf"] = [{"type": "array", "items": items}, {"type": "string"}]
        if spec.kind == "mapping":
            prop.pop("type", None)
            values = prop.pop("additionalProperties", {"type": "string"})
            prop["anyOf"] = [
                {"type": "object", "additionalProperties": values},
                {"type": "string"},
            ]
        if spec.kind == "file":
            # ECMA-262 patterns (what editors run) have no inline flags: spell both cases
            ends = "|".join(
                "".join(f"[{c.lower()}{c.upper()}]" for c in s.lstrip(".")) for s in spec.suffixes
            )
            pattern = rf"\.({ends})$"
            prop["pattern"] = pattern if spec.required else rf"^$|\.({ends})$"
        prop["description"] = f"{spec.description} ({spec.allowed()})"
    props["area_id"]["pattern"] = AREA_ID_PATTERN
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "evalkit area parameters",
        "description": "One area's report parameters (evalkit render). Keys are the area "
        "template's parameters; see 'evalkit validate' for the checks on files and columns.",
        "type": "object",
        "properties": props,
        "required": base.get("required", []),
        "additionalProperties": False,
    }
