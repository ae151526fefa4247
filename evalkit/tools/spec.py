"""The tool specification: what a YAML spec may say, and the checks it must pass.

A spec describes a measure as data: its items (identifiers only, never wording),
the response range, reverse-keyed items, subscales, the total, rules for missing
answers, bands, flags, conversion tables, direction, published reliability with
its citation, and a licensing note. :func:`parse_spec` validates a mapping read
from YAML and raises one :class:`~evalkit.errors.SpecError` listing every
problem it found (unknown keys, an item in a subscale that is not an item, a
reverse item outside the items, bands that overlap or leave a gap...).

The format is documented, with an example, in ``docs/tools.md`` ("How to add a tool").
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from ..errors import ParameterError, SpecError

__all__ = [
    "Response",
    "Missing",
    "Band",
    "Subscale",
    "Total",
    "Flag",
    "Conversion",
    "Reliability",
    "ToolSpec",
    "parse_spec",
    "scale_range",
    "scale_is_integer",
    "label_key",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
Direction = Literal["higher_worse", "higher_better"]
#: Output column names a subscale or conversion may not take.
RESERVED = {"total", "n_answered"}


def _item_id(value: Any) -> str:
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ValueError(f"an item id must be text or a whole number, got {value!r}")
    text = str(value).strip()
    if not text:
        raise ValueError("an item id may not be empty")
    return text


def _item_ids(value: Any) -> Any:
    if value is None:
        return value
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise ValueError("expected a list of item ids")
    return tuple(_item_id(v) for v in value)


def _item_keys(value: Any) -> Any:
    """``item_labels`` keyed by item id: ``{10: {...}}`` in YAML means item ``"10"``."""
    if isinstance(value, Mapping):
        return {_item_id(k): v for k, v in value.items()}
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Response(_Model):
    """Possible answers to every item: the whole numbers ``min``..``max``, or ``values``."""

    min: int
    max: int
    values: tuple[int, ...] | None = None

    def allowed(self) -> tuple[int, ...]:
        """Every value an item may hold."""
        return self.values if self.values is not None else tuple(range(self.min, self.max + 1))

    def describe(self) -> str:
        if self.values is not None:
            return ", ".join(str(v) for v in self.values)
        return f"whole numbers {self.min}-{self.max}"


class Missing(_Model):
    """What to do when some items of a scale are unanswered.

    ``complete``: the score is missing unless every item is answered.
    ``prorate``: scored when at least ``min_answered`` items are answered, as
    (sum of answered items) × (number of items) / (number answered), i.e. the
    mean of the answered items times the number of items; ``round: half_up``
    rounds that to a whole number with halves going up (2.5 → 3), ``none`` keeps it.
    """

    rule: Literal["complete", "prorate"] = "complete"
    min_answered: int | None = Field(default=None, ge=1)
    round: Literal["half_up", "none"] = "half_up"


class Band(_Model):
    """A band of scores, ``min`` to ``max`` inclusive (whole numbers)."""

    label: str = Field(min_length=1)
    min: int
    max: int


class _Scale(_Model):
    title: str | None = None
    direction: Direction | None = None
    missing: Missing = Missing()
    bands: tuple[Band, ...] = ()
    user_cutoffs: bool = False

    @field_validator("items", mode="before", check_fields=False)
    @classmethod
    def _ids(cls, value: Any) -> Any:
        return _item_ids(value)


class Subscale(_Scale):
    """A subscale: its items, missing-answer rule, bands (or user cut-offs), direction."""

    items: tuple[str, ...]


class Total(_Scale):
    """The total: the sum of some subscales, or of items (all items by default)."""

    subscales: tuple[str, ...] | None = None
    items: tuple[str, ...] | None = None


class Flag(_Model):
    """Flag a respondent whose (keyed) score on ``item`` is above ``above``."""

    name: str
    item: str
    above: float
    message: str

    @field_validator("item", mode="before")
    @classmethod
    def _id(cls, value: Any) -> Any:
        return _item_id(value)


class Conversion(_Model):
    """A conversion table from a scale's (whole-number) score to another metric."""

    name: str
    scale: str = "total"
    table: dict[int, float]
    source: str


class Reliability(_Model):
    """A published reliability coefficient, with the paper it comes from."""

    statistic: Literal[
        "alpha", "standardised_alpha", "split_half", "omega", "test_retest", "interrater"
    ]
    value: float = Field(ge=-1, le=1)
    scale: str = "total"
    sample: str | None = None
    citation: str = Field(min_length=1)
    note: str | None = None


class ToolSpec(_Model):
    """A whole tool specification (see ``docs/tools.md`` for the YAML format)."""

    name: str
    title: str
    informant: str
    age_range: str
    direction: Direction
    input: Literal["responses", "scores"]
    input_note: str | None = None
    response: Response
    #: answer label -> the number an item column holds for it (in the ``input`` coding),
    #: for every item; ``item_labels`` gives labels that differ from item to item.
    response_labels: dict[str, int] = Field(default_factory=dict)
    item_labels: Annotated[dict[str, dict[str, int]], BeforeValidator(_item_keys)] = Field(
        default_factory=dict
    )
    items: tuple[str, ...]
    reverse: tuple[str, ...] = ()
    subscales: dict[str, Subscale] = Field(default_factory=dict)
    total: Total | None = None
    flags: tuple[Flag, ...] = ()
    conversions: tuple[Conversion, ...] = ()
    published_reliability: tuple[Reliability, ...] = ()
    reliability_note: str | None = None
    scoring_source: str
    licence: str
    notes: str | None = None

    @field_validator("items", mode="before")
    @classmethod
    def _items(cls, value: Any) -> Any:
        # ``items: 10`` is shorthand for the ids "1".."10".
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 1:
                raise ValueError("the number of items must be at least 1")
            return tuple(str(i) for i in range(1, value + 1))
        return _item_ids(value)

    @field_validator("reverse", mode="before")
    @classmethod
    def _reverse(cls, value: Any) -> Any:
        return () if value is None else _item_ids(value)

    def published_alpha(self, scale: str = "total") -> float | None:
        """The published Cronbach's alpha of ``scale``: the raw alpha when the spec gives one,
        else the standardised alpha, else ``None``.

        The one lookup reports use to set a local alpha beside the developers' value. A
        coefficient given for ``"all"`` scales counts for every scale.

        Parameters
        ----------
        scale
            A subscale name or ``"total"``.

        Raises
        ------
        ParameterError
            ``scale`` is not a scale of this tool.

        Examples
        --------
        >>> import evalkit as ek
        >>> ek.tools.get("epds").spec.published_alpha()  # Cox et al. (1987), standardised
        0.87
        """
        scales = [*self.subscales, *(["total"] if self.total is not None else [])]
        if scale not in scales:
            raise ParameterError(
                f"{self.name} has no scale {scale!r}",
                key="scale",
                expected=" or ".join(repr(s) for s in scales),
            )
        for statistic in ("alpha", "standardised_alpha"):
            for rel in self.published_reliability:
                if rel.statistic == statistic and rel.scale in (scale, "all"):
                    return rel.value
        return None


# -- consistency checks (after the types are right) ----------------------------------------------


def _scale_items(spec: ToolSpec, scale: str) -> tuple[str, ...]:
    if scale in spec.subscales:
        return spec.subscales[scale].items
    total = spec.total
    if total is None:
        return ()
    if total.subscales is not None:
        return tuple(i for s in total.subscales for i in spec.subscales[s].items)
    return total.items if total.items is not None else spec.items


def scale_range(spec: ToolSpec, scale: str) -> tuple[int, int]:
    """Lowest and highest possible score of ``scale`` (a subscale or ``"total"``)."""
    lo, hi = min(spec.response.allowed()), max(spec.response.allowed())
    if scale == "total" and spec.total is not None and spec.total.subscales is not None:
        parts = [scale_range(spec, s) for s in spec.total.subscales]
        return sum(p[0] for p in parts), sum(p[1] for p in parts)
    n = len(_scale_items(spec, scale))
    return n * lo, n * hi


def _missing_of(spec: ToolSpec, scale: str) -> Missing:
    return spec.subscales[scale].missing if scale in spec.subscales else spec.total.missing


def scale_is_integer(spec: ToolSpec, scale: str) -> bool:
    """True when every score of ``scale`` is a whole number (needed for bands and tables)."""
    if scale == "total" and spec.total is not None and spec.total.subscales is not None:
        return all(scale_is_integer(spec, s) for s in spec.total.subscales)
    missing = _missing_of(spec, scale)
    return missing.rule == "complete" or missing.round == "half_up"


def _check_bands(bands: tuple[Band, ...], lo: int, hi: int) -> list[str]:
    problems = []
    for b in bands:
        if b.min > b.max:
            problems.append(f"band {b.label!r} runs from {b.min} down to {b.max}")
    if problems:
        return problems
    ordered = sorted(bands, key=lambda b: (b.min, b.max))
    if ordered[0].min != lo:
        problems.append(
            f"the first band {ordered[0].label!r} starts at {ordered[0].min} "
            f"but the lowest possible score is {lo}"
        )
    if ordered[-1].max != hi:
        problems.append(
            f"the last band {ordered[-1].label!r} ends at {ordered[-1].max} "
            f"but the highest possible score is {hi}"
        )
    for a, b in zip(ordered, ordered[1:]):
        if b.min <= a.max:
            problems.append(
                f"bands {a.label!r} ({a.min}-{a.max}) and {b.label!r} ({b.min}-{b.max}) overlap"
            )
        elif b.min > a.max + 1:
            gap = f"{a.max + 1}" if b.min == a.max + 2 else f"{a.max + 1}-{b.min - 1}"
            problems.append(
                f"gap between bands {a.label!r} (ends at {a.max}) and {b.label!r} "
                f"(starts at {b.min}): scores {gap} have no band"
            )
    labels = [b.label for b in bands]
    dup = sorted({x for x in labels if labels.count(x) > 1})
    if dup:
        problems.append("band labels repeated: " + ", ".join(repr(x) for x in dup))
    return problems


def _check_scale(spec: ToolSpec, scale: str, part: Subscale | Total, key: str) -> list[tuple]:
    problems: list[tuple[str, str]] = []
    items = _scale_items(spec, scale)
    m = part.missing
    if m.rule == "prorate":
        if m.min_answered is None:
            problems.append((f"{key}.missing.min_answered", "prorating needs min_answered"))
        elif m.min_answered > len(items):
            problems.append(
                (
                    f"{key}.missing.min_answered",
                    f"{m.min_answered} is more than the {len(items)} items of the scale",
                )
            )
    elif m.min_answered is not None:
        problems.append(
            (f"{key}.missing.min_answered", "only used with rule: prorate (rule is 'complete')")
        )
    if part.bands and part.user_cutoffs:
        problems.append((f"{key}.bands", "give bands or user_cutoffs: true, not both"))
    if part.bands:
        if not scale_is_integer(spec, scale):
            problems.append(
                (
                    f"{key}.bands",
                    "bands need whole-number scores: prorate with round: half_up, "
                    "or use user_cutoffs: true",
                )
            )
        else:
            lo, hi = scale_range(spec, scale)
            problems += [(f"{key}.bands", p) for p in _check_bands(part.bands, lo, hi)]
    return problems


def _consistency(spec: ToolSpec) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    items = list(spec.items)
    known = set(items)
    if not _NAME.match(spec.name):
        problems.append(("name", "use lower-case letters, digits and _ (starting with a letter)"))
    dup = sorted({i for i in items if items.count(i) > 1})
    if dup:
        problems.append(("items", "repeated item ids: " + ", ".join(repr(i) for i in dup)))
    r = spec.response
    if r.min >= r.max:
        problems.append(("response", f"min ({r.min}) must be below max ({r.max})"))
    if r.values is not None:
        if list(r.values) != sorted(set(r.values)):
            problems.append(("response.values", "list each value once, in increasing order"))
        elif r.values[0] != r.min or r.values[-1] != r.max:
            problems.append(("response.values", "must start at min and end at max"))
    problems += _check_labels(spec, known)
    unknown = [i for i in spec.reverse if i not in known]
    if unknown:
        problems.append(("reverse", "not among the items: " + ", ".join(repr(i) for i in unknown)))
    if not spec.subscales and spec.total is None:
        problems.append(("total", "a tool needs a total or at least one subscale"))

    outputs: list[str] = []
    for name, sub in spec.subscales.items():
        key = f"subscales.{name}"
        if not _NAME.match(name) or name in RESERVED:
            problems.append(
                (
                    key,
                    "a subscale name must be lower-case letters, digits and _, "
                    "and not 'total' or 'n_answered'",
                )
            )
        bad = [i for i in sub.items if i not in known]
        if bad:
            problems.append(
                (f"{key}.items", "not among the items: " + ", ".join(repr(i) for i in bad))
            )
            continue
        if not sub.items:
            problems.append((f"{key}.items", "a subscale needs at least one item"))
            continue
        problems += _check_scale(spec, name, sub, key)
        outputs.append(name)

    if spec.total is not None:
        t = spec.total
        ok = True
        if t.subscales is not None and t.items is not None:
            problems.append(("total", "give subscales or items for the total, not both"))
            ok = False
        elif t.subscales is not None:
            bad = [s for s in t.subscales if s not in spec.subscales]
            if bad:
                problems.append(
                    ("total.subscales", "not among the subscales: " + ", ".join(map(repr, bad)))
                )
                ok = False
            elif any(s not in outputs for s in t.subscales):
                ok = False  # already reported under that subscale
            if t.missing != Missing():
                problems.append(
                    ("total.missing", "a total made of subscales is missing when any of them is")
                )
        elif t.items is not None:
            bad = [i for i in t.items if i not in known]
            if bad:
                problems.append(
                    ("total.items", "not among the items: " + ", ".join(repr(i) for i in bad))
                )
                ok = False
        if ok:
            problems += _check_scale(spec, "total", t, "total")
            outputs.append("total")

    declared = set(spec.subscales) | ({"total"} if spec.total is not None else set())
    flag_names = [f.name for f in spec.flags]
    for k, f in enumerate(spec.flags):
        if not _NAME.match(f.name):
            problems.append((f"flags[{k}].name", "use lower-case letters, digits and _"))
        if f.item not in known:
            problems.append((f"flags[{k}].item", f"{f.item!r} is not among the items"))
    if len(set(flag_names)) != len(flag_names):
        problems.append(("flags", "flag names must be different"))

    for k, c in enumerate(spec.conversions):
        key = f"conversions[{k}]"
        if not _NAME.match(c.name) or c.name in RESERVED or c.name in spec.subscales:
            problems.append((f"{key}.name", f"{c.name!r} is not a free column name"))
        if c.scale not in declared:
            problems.append((f"{key}.scale", f"{c.scale!r} is not a scale of this tool"))
            continue
        if c.scale not in outputs:
            continue  # the scale itself has a problem, reported above
        if not scale_is_integer(spec, c.scale):
            problems.append((f"{key}.scale", "a conversion table needs whole-number scores"))
            continue
        lo, hi = scale_range(spec, c.scale)
        need = set(range(lo, hi + 1))
        missing = sorted(need - set(c.table))
        extra = sorted(set(c.table) - need)
        if missing:
            problems.append((f"{key}.table", f"no entry for scores {missing}"))
        if extra:
            problems.append((f"{key}.table", f"entries outside {lo}-{hi}: {extra}"))

    for k, rel in enumerate(spec.published_reliability):
        if rel.scale != "all" and rel.scale not in declared:
            problems.append(
                (f"published_reliability[{k}].scale", f"{rel.scale!r} is not a scale of this tool")
            )
    if not spec.published_reliability and not spec.reliability_note:
        problems.append(
            ("published_reliability", "give a published value or a reliability_note saying why not")
        )
    return problems


def label_key(label: Any) -> str:
    """How answer labels are compared: case, spacing and curly apostrophes ignored.

    >>> label_key("  No,  NOT at all ") == label_key("no, not at all")
    True
    """
    return " ".join(str(label).replace("\u2019", "'").casefold().split())


def _check_labels(spec: ToolSpec, known: set[str]) -> list[tuple[str, str]]:
    problems: list[tuple[str, str]] = []
    allowed = set(spec.response.allowed())
    maps = [("response_labels", spec.response_labels)]
    maps += [(f"item_labels.{i}", m) for i, m in spec.item_labels.items()]
    for item in spec.item_labels:
        if item not in known:
            problems.append((f"item_labels.{item}", f"{item!r} is not among the items"))
    for key, mapping in maps:
        seen: dict[str, str] = {}
        for label, value in mapping.items():
            norm = label_key(label)
            if not norm or norm.replace(".", "", 1).lstrip("-").isdigit():
                problems.append((key, f"{label!r} is not a label (labels are words)"))
            elif norm in seen:
                problems.append((key, f"{label!r} and {seen[norm]!r} are the same label"))
            seen[norm] = label
            if value not in allowed:
                problems.append(
                    (key, f"{label!r} is given {value}, not an answer ({spec.response.describe()})")
                )
    return problems


def _location(loc: tuple) -> str:
    parts = []
    for p in loc:
        if isinstance(p, int):
            parts.append(f"[{p}]")
        else:
            parts.append(("." if parts else "") + str(p))
    return "".join(parts)


def _raise(problems: list[tuple[str, str]], file: str | None, name: str | None) -> None:
    what = f"tool spec {name!r}" if name else "tool spec"
    if len(problems) == 1:
        key, msg = problems[0]
        raise SpecError(f"{what}: {msg}", file=file, key=key or None)
    lines = [f"{what} has {len(problems)} problems:"]
    lines += [f"  {('key ' + repr(k) + ': ') if k else ''}{m}" for k, m in problems]
    raise SpecError("\n".join(lines), file=file)


def parse_spec(data: Any, *, file: str | None = None) -> ToolSpec:
    """Validate a mapping read from a tool's YAML file.

    Parameters
    ----------
    data
        The mapping (``yaml.safe_load`` of the file).
    file
        The file name, used in error messages.

    Returns
    -------
    ToolSpec

    Raises
    ------
    SpecError
        Listing every problem found, each with its key.

    Examples
    --------
    >>> spec = parse_spec({"name": "mini", "title": "Mini", "informant": "self",
    ...     "age_range": "adults", "direction": "higher_worse", "input": "scores",
    ...     "response": {"min": 0, "max": 3}, "items": 2, "total": {},
    ...     "scoring_source": "invented", "licence": "public domain",
    ...     "reliability_note": "none published"})
    >>> spec.items
    ('1', '2')
    """
    name = data.get("name") if isinstance(data, Mapping) else None
    if not isinstance(data, Mapping):
        raise SpecError("a tool spec must be a mapping of keys (name, title, items...)", file=file)
    try:
        spec = ToolSpec.model_validate(dict(data))
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            msg = "unknown key" if err["type"] == "extra_forbidden" else err["msg"]
            msg = msg.removeprefix("Value error, ")
            problems.append((_location(err["loc"]), msg))
        _raise(problems, file, name if isinstance(name, str) else None)
    problems = _consistency(spec)
    if problems:
        _raise(problems, file, spec.name)
    return spec
