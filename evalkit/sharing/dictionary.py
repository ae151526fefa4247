"""The data dictionary: what each column of each source is, and what may leave.

A YAML file (or the same structure as a dict)::

    k: 5                          # smallest equivalence class allowed in the pack
    sensitive: ethnic_group       # optional: l-diversity for this extract column
    l: 2                          # distinct sensitive values each class needs (default 2)
    reference_date: 2025-03-31    # for 'age_months'
    postcode_lookup: lookup.csv   # postcode -> lsoa (-> imd_decile), relative to this file
    imd_lookup: imd.csv           # optional: lsoa -> imd_decile, if the first has no deciles
    threshold: 0.9                # match probability above which records are linked
    sources:
      maternity:                  # the name used for the source everywhere
        record_id: mat_id         # the source's own record number (optional)
        columns:
          mat_id:    {role: direct identifier}
          nhs_number: {role: direct identifier, type: nhs_number}
          forename:  {role: direct identifier, type: first_name}
          dob:       {role: quasi-identifier, type: date_of_birth, generalise: year_month}
          postcode:  {role: quasi-identifier, type: postcode, generalise: imd_decile}
          ethnicity: {role: quasi-identifier, generalise: ethnic_group}
          birth_weight_g: {role: attribute, description: Birth weight (grams)}

Roles: **direct identifier** (pseudonymised for linkage, then dropped), **quasi-identifier**
(generalised, kept, and counted in the k-anonymity check), **attribute** (kept as is) and
**drop** (not used at all). Every column of a source needs a role. Types say how a column
is normalised and compared in linkage: ``nhs_number``, ``first_name``, ``surname``,
``name``, ``date_of_birth``, ``postcode``, ``sex``, ``ethnicity`` or ``text``.

Every problem in the file is reported at once, one line each, naming the file, the key
and what is allowed.
"""

from __future__ import annotations

import datetime as _dt
import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ParameterError

__all__ = [
    "ROLES",
    "TYPES",
    "GENERALISATIONS",
    "ColumnSpec",
    "SourceSpec",
    "DataDictionary",
    "load_dictionary",
]

ROLES = ("direct identifier", "quasi-identifier", "attribute", "drop")
TYPES = (
    "nhs_number",
    "first_name",
    "surname",
    "name",
    "date_of_birth",
    "postcode",
    "sex",
    "ethnicity",
    "text",
)
#: generalisations allowed for each type (``none`` keeps the value)
GENERALISATIONS: dict[str, tuple[str, ...]] = {
    "date_of_birth": ("year_month", "age_months", "year", "none"),
    "postcode": ("lsoa", "imd_decile"),
    "ethnicity": ("ethnic_group", "none"),
    "sex": ("none",),
    "text": ("none",),
}
# the extract column each generalisation writes (the same in every source)
OUTPUT_NAMES = {
    ("date_of_birth", "year_month"): "birth_month",
    ("date_of_birth", "age_months"): "age_months",
    ("date_of_birth", "year"): "birth_year",
    ("date_of_birth", "none"): "date_of_birth",
    ("postcode", "lsoa"): "lsoa",
    ("postcode", "imd_decile"): "imd_decile",
    ("ethnicity", "ethnic_group"): "ethnic_group",
    ("sex", "none"): "sex",
}
_TOP_KEYS = (
    "k",
    "l",
    "sensitive",
    "reference_date",
    "postcode_lookup",
    "imd_lookup",
    "threshold",
    "sources",
)
_COLUMN_KEYS = ("role", "type", "generalise", "as", "description")


@dataclass(frozen=True)
class ColumnSpec:
    """One column of one source."""

    name: str
    role: str
    type: str
    generalise: str = "none"
    output: str | None = None
    description: str = ""


@dataclass(frozen=True)
class SourceSpec:
    """One source: its name, record-number column and columns."""

    name: str
    record_id: str | None
    columns: dict[str, ColumnSpec]

    def of_role(self, role: str) -> list[ColumnSpec]:
        return [c for c in self.columns.values() if c.role == role]

    def of_type(self, type_: str) -> ColumnSpec | None:
        """The first column of a type that is not dropped (for linkage)."""
        for c in self.columns.values():
            if c.type == type_ and c.role != "drop":
                return c
        return None


@dataclass(frozen=True)
class DataDictionary:
    """A validated data dictionary (see the module docstring for the file format)."""

    sources: dict[str, SourceSpec]
    k: int = 5
    l: int = 2  # noqa: E741
    sensitive: str | None = None
    reference_date: _dt.date | None = None
    postcode_lookup: Path | None = None
    imd_lookup: Path | None = None
    threshold: float = 0.9
    file: str = "dictionary"
    raw: dict = field(default_factory=dict, compare=False, repr=False)

    def quasi_identifiers(self) -> list[str]:
        """The extract columns that are quasi-identifiers (in order of first mention)."""
        out: list[str] = []
        for s in self.sources.values():
            for c in s.of_role("quasi-identifier"):
                if c.output not in out:
                    out.append(c.output)
        return out


def _norm_role(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    v = value.strip().lower().replace("_", " ").replace("-", " ")
    aliases = {
        "direct identifier": "direct identifier",
        "direct": "direct identifier",
        "identifier": "direct identifier",
        "quasi identifier": "quasi-identifier",
        "quasi": "quasi-identifier",
        "attribute": "attribute",
        "drop": "drop",
    }
    return aliases.get(v)


def _suggest(word: str, allowed) -> str:
    close = difflib.get_close_matches(str(word), list(allowed), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def _guess_type(col: str, role: str) -> str:
    from .pseudonymise import guess_kind

    c = col.lower()
    if "ethnic" in c:
        return "ethnicity"
    if c in ("sex", "gender") or c.endswith(("_sex", "_gender")):
        return "sex"
    kind = guess_kind(col)
    return {"date": "date_of_birth"}.get(kind, kind)


def load_dictionary(
    source: str | Path | Mapping[str, Any] | DataDictionary, *, base: str | Path | None = None
) -> DataDictionary:
    """Read and validate a data dictionary.

    Parameters
    ----------
    source
        A YAML file, or its content as a dict (then lookup files are relative to
        ``base``, default the working folder). A :class:`DataDictionary` is returned as is.

    Raises
    ------
    ParameterError
        With one line per problem (``problems``), each naming the file and key.

    Examples
    --------
    >>> d = load_dictionary({"sources": {"a": {"columns": {
    ...     "nhs": {"role": "direct identifier"},
    ...     "dob": {"role": "quasi-identifier", "generalise": "year_month"},
    ...     "score": {"role": "attribute"}}}}})
    >>> d.k, d.sources["a"].columns["nhs"].type, d.quasi_identifiers()
    (5, 'nhs_number', ['birth_month'])
    >>> load_dictionary({"sources": {"a": {"columns": {"x": {"role": "secret"}}}}})
    Traceback (most recent call last):
    ...
    evalkit.errors.ParameterError: dictionary: key 'sources.a.columns.x.role': 'secret' is not a role (expected direct identifier, quasi-identifier, attribute or drop)
    """
    if isinstance(source, DataDictionary):
        return source
    if isinstance(source, Mapping):
        raw, fname, folder = dict(source), "dictionary", Path(base or ".")
    else:
        import yaml

        p = Path(source)
        fname, folder = str(p), p.parent
        if not p.is_file():
            raise ParameterError(
                "no such file", file=fname, expected="a YAML data dictionary (see docs/sharing.md)"
            )
        try:
            raw = yaml.safe_load(p.read_text(encoding="utf-8"))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise ParameterError(f"not valid YAML: {exc}", file=fname) from None
        if not isinstance(raw, dict):
            raise ParameterError(
                "must be a mapping with a 'sources' key", file=fname, expected="see docs/sharing.md"
            )
    problems: list[str] = []

    def bad(key: str, message: str, expected: str | None = None) -> None:
        line = f"{fname}: key {key!r}: {message}"
        if expected:
            line += f" (expected {expected})"
        problems.append(line)

    for key in raw:
        if key not in _TOP_KEYS:
            bad(str(key), "unknown key" + _suggest(key, _TOP_KEYS), ", ".join(_TOP_KEYS))

    def integer(key: str, default: int, minimum: int) -> int:
        v = raw.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or v < minimum:
            bad(key, f"{v!r} is not allowed", f"a whole number of at least {minimum}")
            return default
        return v

    k = integer("k", 5, 2)
    l_ = integer("l", 2, 2)
    threshold = raw.get("threshold", 0.9)
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, int | float)
        or not 0 < threshold < 1
    ):
        bad("threshold", f"{threshold!r} is not allowed", "a match probability between 0 and 1")
        threshold = 0.9
    ref = raw.get("reference_date")
    if ref is not None and not isinstance(ref, _dt.date):
        try:
            ref = _dt.date.fromisoformat(str(ref))
        except ValueError:
            bad("reference_date", f"{ref!r} is not a date", "YYYY-MM-DD")
            ref = None
    lookups = {}
    for key in ("postcode_lookup", "imd_lookup"):
        v = raw.get(key)
        if v is None:
            lookups[key] = None
        elif not isinstance(v, str):
            bad(key, f"{v!r} is not a file name", "a CSV or XLSX file")
            lookups[key] = None
        else:
            lookups[key] = (folder / v) if not Path(v).is_absolute() else Path(v)

    sources_raw = raw.get("sources")
    sources: dict[str, SourceSpec] = {}
    if not isinstance(sources_raw, Mapping) or not sources_raw:
        bad("sources", "missing or empty", "a mapping of source name -> {record_id, columns}")
        sources_raw = {}
    for sname, sraw in sources_raw.items():
        skey = f"sources.{sname}"
        if not isinstance(sraw, Mapping):
            bad(skey, "must be a mapping", "record_id and columns")
            continue
        for key in sraw:
            if key not in ("record_id", "columns"):
                bad(
                    f"{skey}.{key}",
                    "unknown key" + _suggest(key, ("record_id", "columns")),
                    "record_id, columns",
                )
        cols_raw = sraw.get("columns")
        if not isinstance(cols_raw, Mapping) or not cols_raw:
            bad(f"{skey}.columns", "missing or empty", "a mapping of column -> {role: ...}")
            continue
        cols: dict[str, ColumnSpec] = {}
        for cname, craw in cols_raw.items():
            ckey = f"{skey}.columns.{cname}"
            if isinstance(craw, str):  # shorthand: "column: attribute"
                craw = {"role": craw}
            if not isinstance(craw, Mapping):
                bad(ckey, "must be a mapping with a role", ", ".join(ROLES))
                continue
            for key in craw:
                if key not in _COLUMN_KEYS:
                    bad(
                        f"{ckey}.{key}",
                        "unknown key" + _suggest(key, _COLUMN_KEYS),
                        ", ".join(_COLUMN_KEYS),
                    )
            if "role" not in craw:
                bad(
                    f"{ckey}.role",
                    "the column has no role",
                    " or ".join([", ".join(ROLES[:-1]), ROLES[-1]]),
                )
                continue
            role = _norm_role(craw["role"])
            if role is None:
                bad(
                    f"{ckey}.role",
                    f"{craw['role']!r} is not a role",
                    ", ".join(ROLES[:-1]) + " or " + ROLES[-1],
                )
                continue
            gen = craw.get("generalise", "none")
            gen = "none" if gen is None else str(gen)
            type_ = craw.get("type")
            if type_ is None:
                # attributes are kept as they are unless told otherwise ("birth_weight"
                # is not a date of birth)
                type_ = _guess_type(str(cname), role) if role != "attribute" else "text"
                if gen in ("year_month", "age_months", "year"):
                    type_ = "date_of_birth"
                elif gen in ("lsoa", "imd_decile"):
                    type_ = "postcode"
                elif gen == "ethnic_group":
                    type_ = "ethnicity"
            if type_ not in TYPES:
                bad(
                    f"{ckey}.type",
                    f"{type_!r} is not a type" + _suggest(type_, TYPES),
                    ", ".join(TYPES),
                )
                continue
            if role == "direct identifier" and gen != "none":
                bad(
                    f"{ckey}.generalise",
                    "a direct identifier is dropped, not generalised",
                    "no 'generalise', or role quasi-identifier",
                )
            allowed = GENERALISATIONS.get(type_, ("none",))
            if role != "direct identifier" and gen not in allowed:
                bad(
                    f"{ckey}.generalise",
                    f"{gen!r} is not allowed for a {type_} column",
                    ", ".join(allowed),
                )
                continue
            if role == "quasi-identifier" and type_ in (
                "nhs_number",
                "first_name",
                "surname",
                "name",
            ):
                bad(
                    f"{ckey}.role",
                    f"a {type_} column is a direct identifier",
                    "role: direct identifier",
                )
                continue
            if gen == "age_months" and ref is None:
                bad(
                    "reference_date",
                    "needed by 'generalise: age_months'" + f" ({ckey})",
                    "YYYY-MM-DD",
                )
            if gen in ("lsoa", "imd_decile") and lookups["postcode_lookup"] is None:
                bad(
                    "postcode_lookup",
                    f"needed by 'generalise: {gen}' ({ckey})",
                    "a CSV/XLSX of postcode, lsoa and imd_decile",
                )
            if role == "attribute" and gen == "none" and type_ != "sex":
                output = craw.get("as") or str(cname)
            else:
                output = craw.get("as") or OUTPUT_NAMES.get((type_, gen), str(cname))
            cols[str(cname)] = ColumnSpec(
                name=str(cname),
                role=role,
                type=type_,
                generalise=gen,
                output=None if role in ("direct identifier", "drop") else str(output),
                description=str(craw.get("description", "")),
            )
        rid = sraw.get("record_id")
        if rid is not None and str(rid) not in cols:
            bad(
                f"{skey}.record_id",
                f"{rid!r} is not one of the source's columns",
                "a column listed under columns",
            )
        elif rid is not None and cols[str(rid)].role != "direct identifier":
            bad(
                f"{skey}.record_id",
                f"{rid!r} must have role direct identifier",
                "role: direct identifier",
            )
        sources[str(sname)] = SourceSpec(
            name=str(sname), record_id=None if rid is None else str(rid), columns=cols
        )
    sensitive = raw.get("sensitive")
    if sensitive is not None:
        outs = {c.output for s in sources.values() for c in s.columns.values() if c.output}
        if sensitive not in outs:
            bad(
                "sensitive",
                f"{sensitive!r} is not a column of the extract",
                ", ".join(sorted(outs)) or "an attribute",
            )
    if problems:
        raise ParameterError("invalid data dictionary", problems=problems)
    return DataDictionary(
        sources=sources,
        k=k,
        l=l_,
        sensitive=sensitive,
        reference_date=ref,
        postcode_lookup=lookups["postcode_lookup"],
        imd_lookup=lookups["imd_lookup"],
        threshold=float(threshold),
        file=fname,
        raw=raw,
    )
