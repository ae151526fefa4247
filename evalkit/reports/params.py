"""Area parameters: the schema, and reading YAML files or a spreadsheet of areas.

A local evaluator describes each area in one YAML file whose top-level keys are
exactly the parameters of ``templates/area_report.ipynb`` (so plain papermill
works too: ``papermill templates/area_report.ipynb out.ipynb -f area.yaml``), or in
one CSV/XLSX table with a row per area and a column per key.

Everything is checked before any kernel starts, and every problem in every file is
reported at once, one line each, naming the file, the key and what is allowed.

Paths to data files are relative to the folder evalkit is run from (as with
papermill), or absolute.
"""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import DataError, ParameterError

__all__ = [
    "AreaParams",
    "AreaJob",
    "load_jobs",
    "synthesis_params",
    "reliability_params",
    "RESERVED_NAMES",
    "DATA_SUFFIXES",
    "TABLE_SUFFIXES",
]

DATA_SUFFIXES = (".csv", ".xlsx", ".sav")
TABLE_SUFFIXES = (".csv", ".xlsx")
PARAM_SUFFIXES = (".yaml", ".yml")
#: what an area ID may be (also in the JSON Schema)
AREA_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
_AREA_ID = re.compile(AREA_ID_PATTERN)
#: names of the pages across areas and of the output folder's own files: no area may take them
RESERVED_NAMES = ("synthesis", "reliability", "index", "status")

Design = Literal["prepost", "comparison", "multilevel", "propensity"]


def _sheet_text(v: Any) -> Any:
    """``sheet: 2`` in YAML is the second sheet, as ``sheet: "2"``."""
    if isinstance(v, int) and not isinstance(v, bool):
        if v < 1:
            raise ValueError("sheets are counted from 1 (1 is the first sheet)")
        return str(v)
    return v


def _known_encoding(v: str) -> str:
    from ..tools.io import check_encoding

    try:
        check_encoding(v)
    except ParameterError as exc:
        raise ValueError(f"{exc.problems[0].split(': ', 1)[-1]}") from None
    return v


@functools.cache
def _tool_names() -> list[str]:
    """The shipped tools (as :func:`evalkit.tools.available`), listed without importing
    evalkit.tools and pandas with it: a fully cached run needs neither."""
    folder = Path(__file__).resolve().parents[1] / "tools" / "specs"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".yaml"))


def _not_a_folder(v: str) -> None:
    if Path(v).is_dir():
        raise ValueError("is a folder, not a file: give the data file inside it")


def _split_pairs(v: Any) -> Any:
    """A mapping from YAML, or ``key: reason; key: reason`` from a spreadsheet cell."""
    if v is None or v == "":
        return {}
    if isinstance(v, str):
        pairs = [p.partition(":") for p in v.split(";") if p.strip()]
        if any(not sep for _, sep, _ in pairs):
            raise ValueError("must be 'key: reason' pairs separated by ';'")
        return {k.strip(): r.strip() for k, _, r in pairs}
    return v


def _split_list(v: Any) -> Any:
    """A list from YAML, or a comma-separated spreadsheet cell."""
    if isinstance(v, str):
        return [x.strip() for x in v.split(",") if x.strip()]
    return v


class AreaParams(BaseModel):
    """Parameters of one area's report (the template's ``parameters`` cell).

    Every field here is a parameter of ``templates/area_report.ipynb`` with the
    same name and default; a test keeps the two in step. Optional data files are
    given as ``""`` (empty) to leave their section out.
    """

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    area_id: str = Field(description="short code used in file names: letters, digits, - or _")
    area_name: str = Field(min_length=1, max_length=120, description="name shown in the report")
    records: str = Field(description="person-level data file (.csv, .xlsx or .sav)")
    sheet: str = Field(
        "",
        description="sheet of an .xlsx records file: its name, or its number counted from 1 "
        "(empty: the first sheet)",
    )
    encoding: str = Field(
        "",
        description="text encoding of a .csv records file, such as utf-8 or cp1252 "
        "(empty: detected, UTF-8 then Windows-1252)",
    )
    id_column: str = Field("id", min_length=1, description="column holding the person ID")
    treatment_column: str = Field(
        "treated", min_length=1, description="column: 1 received the service, 0 comparison"
    )
    setting_column: str = Field(
        "setting", min_length=1, description="column naming the setting (cluster)"
    )
    outcome_tool: str = Field("epds", min_length=1, description="measure of the main outcome")
    outcome_pre_prefix: str = Field(
        "epds_pre_", min_length=1, description="item columns before: prefix + item number"
    )
    outcome_post_prefix: str = Field(
        "epds_post_", min_length=1, description="item columns after: prefix + item number"
    )
    second_tool: str = Field("", description="a second measure, or empty for none")
    second_pre_prefix: str = Field("", description="its item columns before")
    second_post_prefix: str = Field("", description="its item columns after")
    design: Design = Field("comparison", description="evaluation design")
    covariates: list[str] = Field(
        default_factory=list, description="columns to adjust for (a list, or comma-separated)"
    )
    hoped_effect: float = Field(
        0.3, gt=0, le=2, description="the effect hoped for, in standard deviations"
    )
    follow_up_weeks: int = Field(26, ge=1, le=520, description="weeks between the two measurements")
    indicators: str = Field("", description="monthly indicator counts (.csv or .xlsx), or empty")
    indicator: str = Field("", description="which indicator in that file")
    indicator_label: str = Field(
        "", max_length=200, description="the indicator's name in the report"
    )
    intervention_month: int = Field(0, ge=0, description="month the service started (0: none)")
    matrix: str = Field("", description="maturity-matrix ratings (.csv or .xlsx), or empty")
    suppression_threshold: int = Field(
        10, ge=5, le=100, description="counts below this are suppressed"
    )
    data_source: str = Field("", max_length=500, description="where the data came from")
    synthetic: bool = Field(False, description="true for demo data: a banner says so")
    plan: str = Field(
        "", description="the area's analysis plan (.yaml, evalkit plan init), or empty"
    )
    deviations: dict[str, str] = Field(
        default_factory=dict,
        description="why a parameter differs from the locked plan: key: reason (in a "
        "spreadsheet cell, key: reason; key: reason)",
    )
    pack: str = Field(
        "",
        description="a pack folder made by evalkit share holding the records file: the "
        "SHA-256 of its files (manifest.json) are checked before use, or empty",
    )
    sessions_column: str = Field(
        "", description="column: sessions attended by each person in the service group, or empty"
    )
    planned_sessions: int = Field(
        0, ge=0, le=500, description="the programme's planned number of sessions (0: not given)"
    )
    fidelity_prefix: str = Field(
        "",
        description="fidelity checklist item columns (1: delivered as designed, 0: not): "
        "prefix + item number, or empty",
    )
    eligible_indicator: str = Field(
        "",
        description="indicator in the indicators file whose denominator over the last 12 "
        "months is the eligible population (e.g. births), or empty",
    )
    needs_data: str = Field(
        "",
        description="population indicators by area, year and deprivation decile for the "
        "needs-assessment page (.csv or .xlsx), or empty for no page",
    )
    needs_indicators: str = Field(
        "",
        description="the needs indicators' definitions: label, statistic, multiplier, "
        "polarity, standardised, source (.csv or .xlsx)",
    )
    needs_benchmark: str = Field(
        "NAT", min_length=1, description="the area_id the needs page compares with"
    )

    _split = field_validator("covariates", mode="before")(
        classmethod(lambda cls, v: _split_list(v))
    )
    _sheet = field_validator("sheet", mode="before")(classmethod(lambda cls, v: _sheet_text(v)))
    _encoding = field_validator("encoding")(classmethod(lambda cls, v: _known_encoding(v)))
    _pairs = field_validator("deviations", mode="before")(
        classmethod(lambda cls, v: _split_pairs(v))
    )

    @field_validator("plan")
    @classmethod
    def _plan_suffix(cls, v: str) -> str:
        if v and not v.lower().endswith(PARAM_SUFFIXES):
            raise ValueError("must be a .yaml plan file (evalkit plan init), or empty")
        return v

    @field_validator("area_id")
    @classmethod
    def _area_id(cls, v: str) -> str:
        if not _AREA_ID.match(v):
            raise ValueError(
                "must be 1-40 letters, digits, '-' or '_', starting with a letter or digit"
            )
        if v.lower() in RESERVED_NAMES:
            raise ValueError(
                "is the name of a page across areas; choose another code (reserved: "
                + ", ".join(RESERVED_NAMES)
                + ")"
            )
        return v

    @field_validator("records")
    @classmethod
    def _data_suffix(cls, v: str) -> str:
        _not_a_folder(v)
        if not v.lower().endswith(DATA_SUFFIXES):
            raise ValueError("must be a .csv, .xlsx or .sav file")
        return v

    @field_validator("indicators", "matrix", "needs_data", "needs_indicators")
    @classmethod
    def _table_suffix(cls, v: str) -> str:
        if v:
            _not_a_folder(v)
        if v and not v.lower().endswith(TABLE_SUFFIXES):
            raise ValueError("must be a .csv or .xlsx file, or empty")
        return v

    @field_validator("outcome_tool", "second_tool")
    @classmethod
    def _known_tool(cls, v: str) -> str:
        if not v:
            return v
        names = _tool_names()
        if v not in names:
            raise ValueError(f"must be one of {', '.join(names)}")
        return v

    # keys whose values are input files: hashed for the cache, checked for existence
    FILE_KEYS: ClassVar[tuple[str, ...]] = (
        "records", "indicators", "matrix", "plan", "needs_data", "needs_indicators"
    )  # fmt: skip


def template_parameter_names() -> list[str]:
    """The schema's keys, in order (the template's parameters)."""
    return list(AreaParams.model_fields)


@dataclass
class AreaJob:
    """One area to render: where its parameters came from and their checked values."""

    area_id: str
    source: str
    params: dict[str, Any]
    input_files: list[str] = field(default_factory=list)

    def digest(self) -> str:
        """Hash of the parameters and the content of every input file."""
        h = hashlib.sha256()
        h.update(json.dumps(self.params, sort_keys=True, default=str).encode())
        for path in sorted(self.input_files):
            h.update(path.encode())
            h.update(file_digest(path).encode())
        return h.hexdigest()


def file_digest(path: str | os.PathLike[str]) -> str:
    """SHA-256 of a file's bytes (remembered while the file's size and time are unchanged).

    Areas often share input files (one indicators file for all); each is read once a run.
    """
    st = os.stat(path)
    return _digest(os.path.abspath(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=4096)
def _digest(path: str, size: int, mtime_ns: int) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# -- reading --------------------------------------------------------------------------------------


def _yaml_load(path: Path) -> Any:
    import yaml

    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    fast = getattr(yaml, "CSafeLoader", None)  # libyaml: several times faster on 175 areas
    if fast is not None:
        try:
            return yaml.load(text, Loader=fast)  # noqa: S506 - CSafeLoader is the safe loader
        except yaml.YAMLError:
            pass  # parsed again below, so the problem is told in the pure-Python loader's words
    return yaml.safe_load(text)


def _yaml_problem(exc: Exception) -> str:
    """Why a parameter file is not valid YAML, with the line and column where it is seen."""
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start}): "
            "save the file as UTF-8"
        )
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context = getattr(exc, "context", None)
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    return f"not valid YAML ({where}{problem}" + (f", {context}" if context else "") + ")"


def _bound(field_info: Any, name: str) -> Any:
    metadata = field_info.metadata if field_info is not None else []
    return next((getattr(m, name) for m in metadata if getattr(m, name, None) is not None), None)


def _range_text(field_info: Any) -> str:
    """ "must be between 5 and 100", "must be 0 or more", "must be more than 0 and at most 2"."""
    ge, gt, le, lt = (_bound(field_info, k) for k in ("ge", "gt", "le", "lt"))
    if ge is not None and le is not None:
        return f"must be between {ge} and {le}"
    lower = f"{ge} or more" if ge is not None else f"more than {gt}" if gt is not None else ""
    upper = f"at most {le}" if le is not None else f"less than {lt}" if lt is not None else ""
    if lower and upper:
        return f"must be {lower} and {upper}"
    return f"must be {lower or upper}" if lower or upper else "is out of range"


def _explain(err: dict[str, Any]) -> tuple[str, str]:
    """(key, message) for one pydantic error, in plain words."""
    loc = ".".join(str(p) for p in err.get("loc", ())) or "(file)"
    kind = err.get("type", "")
    value = err.get("input")
    names = template_parameter_names()
    if kind == "extra_forbidden":
        close = difflib.get_close_matches(loc, names, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        return loc, f"unknown key{hint} (allowed keys: {', '.join(names)})"
    if kind == "missing":
        return loc, "is required but missing"
    field_info = AreaParams.model_fields.get(loc)
    what = f" ({field_info.description})" if field_info and field_info.description else ""
    msg = err.get("msg", "is not valid")
    if kind == "literal_error":
        msg = msg.replace("Input should be", "must be")
    elif kind.startswith(("greater_than", "less_than")):
        msg = _range_text(field_info)
    elif kind == "value_error":
        msg = msg.removeprefix("Value error, ")
    else:
        msg = msg.replace("Input should be", "must be")
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return loc, f"{msg}, got {shown}{what}"


def _check_one(
    raw: Any,
    where: str,
    problems: list[str],
    enough_data: bool = True,
    skip_data: Callable[[AreaJob], bool] | None = None,
) -> AreaParams | None:
    if not isinstance(raw, dict):
        problems.append(
            f"{where}: must be a mapping of key: value pairs (got {type(raw).__name__})"
        )
        return None
    try:
        model = AreaParams(**{str(k): v for k, v in raw.items()})
    except ValidationError as exc:
        for err in exc.errors():
            key, msg = _explain(err)
            problems.append(f"{where}: key {key!r}: {msg}")
        return None
    before = len(problems)
    problems.extend(f"{where}: key {key!r}: {msg}" for key, msg in _id_roles(model))
    missing = [
        k
        for k in AreaParams.FILE_KEYS
        if getattr(model, k) and not Path(getattr(model, k)).is_file()
    ]
    for key in missing:
        problems.append(
            f"{where}: key {key!r}: file not found: {getattr(model, key)} (paths are relative "
            f"to the folder you run evalkit from, {os.getcwd()})"
        )
    if model.pack and not missing:
        problems.extend(f"{where}: key 'pack': {msg}" for msg in _check_pack(model))
    if model.indicators and not model.indicator:
        problems.append(
            f"{where}: key 'indicator': is empty but 'indicators' names a file "
            "(say which indicator to report)"
        )
    if model.needs_data and not model.needs_indicators:
        problems.append(
            f"{where}: key 'needs_indicators': is empty but 'needs_data' names a file "
            "(name the file that defines the needs indicators)"
        )
    if len(problems) > before:
        return None
    if skip_data is None or not skip_data(_job_of(model, where)):
        _check_columns(model, where, problems)
        if len(problems) == before and model.needs_data:
            _check_needs(model, where, problems)
        if len(problems) == before:
            _check_records(model, where, problems, enough_data)
    if model.plan or model.deviations:
        from ..plan import check

        if model.deviations and not model.plan:
            problems.append(f"{where}: key 'deviations': given, but 'plan' names no plan file")
        else:
            problems.extend(check(model.model_dump(), where=where).problems)
    return model if len(problems) == before else None


def _check_pack(model: AreaParams) -> list[str]:
    """Why a shared pack may not be used: ``records`` outside it, or a file changed since it
    was made (its SHA-256 differs from the one in ``manifest.json``)."""
    folder = Path(model.pack)
    manifest_path = folder / "manifest.json"
    if not folder.is_dir():
        return [f"no such folder: {model.pack} (a pack folder made by evalkit share, or empty)"]
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        listed = {f["name"]: f["sha256"] for f in manifest["files"]}
    except (OSError, ValueError, KeyError, TypeError):
        return [
            f"{manifest_path} is missing or not a pack manifest (a folder made by evalkit share)"
        ]
    records = Path(model.records)
    if records.resolve().parent != folder.resolve() or records.name not in listed:
        return [
            f"the records file {model.records} is not one of the pack's files "
            f"({', '.join(sorted(listed))}): give records: {folder.as_posix()}/extract.csv"
        ]
    changed = [
        name
        for name, sha in listed.items()
        if not (folder / name).is_file() or file_digest(folder / name) != sha
    ]
    if changed:
        return [
            f"{', '.join(changed)} in {model.pack} differ from the SHA-256 in its manifest.json "
            "(changed or damaged since evalkit share made the pack): ask for the pack again"
        ]
    return []


def _id_roles(model: AreaParams) -> list[tuple[str, str]]:
    """The ID column used in an analysis role: (key, message) for each."""
    idc = model.id_column
    allowed = (
        f"allowed: any column except the ID column {idc!r}, since a person ID must never "
        "enter an analysis or a report"
    )
    found = [("covariates", c) for c in model.covariates if c == idc]
    found += [(k, getattr(model, k)) for k in ("treatment_column", "setting_column")]
    found = [(k, c) for k, c in found if c == idc]
    out = [(k, f"{c!r} is the ID column (id_column); {allowed}") for k, c in found]
    prefixes = [
        ("outcome_pre_prefix", model.outcome_tool),
        ("outcome_post_prefix", model.outcome_tool),
    ]
    if model.second_tool:
        prefixes += [
            ("second_pre_prefix", model.second_tool),
            ("second_post_prefix", model.second_tool),
        ]
    for key, tool_name in prefixes:
        prefix = getattr(model, key)
        rest = idc[len(prefix) :] if prefix and idc.startswith(prefix) else None
        if rest is not None and (rest.isdigit() or rest in _tool_items(tool_name)):
            out.append(
                (
                    key,
                    f"{prefix!r} + item number names the ID column {idc!r} as a "
                    f"{tool_name} item; {allowed}",
                )
            )
    return out


def _tool_items(name: str) -> tuple[str, ...]:
    from ..tools import get

    return get(name).items


def _header(path: str) -> list[str] | str:
    """Column names of an indicators or matrix table (read as a report reads it), or why not.

    Areas share these tables: each is read once a run while its size and time are unchanged.
    """
    try:
        _, size, mtime = _stamp(path)
    except OSError:
        size = mtime = -1
    # keyed by the path as given too: an error names the file as the user wrote it
    return (
        list(h)
        if isinstance(h := _header_of(path, os.path.abspath(path), size, mtime), tuple)
        else h
    )


@functools.lru_cache(maxsize=64)
def _header_of(path: str, _where: str, _size: int, _mtime_ns: int) -> tuple[str, ...] | str:
    from ..errors import EvalkitError
    from .inputs import read_table

    try:
        return tuple(str(c) for c in read_table(path).columns)
    except EvalkitError as exc:
        return str(exc)


#: columns each optional table must have
_TABLE_COLUMNS = {
    "indicators": ("area_id", "indicator", "month", "numerator", "denominator"),
    "matrix": ("area", "partner", "element", "level", "date"),
    "needs_data": ("area_id", "indicator", "year", "decile", "numerator", "denominator"),
    "needs_indicators": ("indicator", "label", "statistic", "multiplier", "polarity"),
}


def _check_columns(model: AreaParams, where: str, problems: list[str]) -> None:
    for key, needed in _TABLE_COLUMNS.items():
        path = getattr(model, key)
        if not path:
            continue
        header = _header(path)
        lacking = [c for c in needed if not isinstance(header, str) and c not in header]
        if isinstance(header, str):
            problems.append(f"{where}: key {key!r}: cannot read {path}: {header}")
        elif lacking:
            problems.append(
                f"{where}: key {key!r}: {path} has no column(s) "
                + ", ".join(repr(c) for c in lacking)
                + f" (needed: {', '.join(needed)})"
            )


def _needs_sets(data: str, meta: str) -> tuple[frozenset, frozenset, frozenset]:
    """The area ids and indicators of a needs-data file, and the indicators its definitions
    file defines (read once per run however many areas share the files)."""
    return _needs_sets_of(data, *_stamp(data), meta, *_stamp(meta))


def _stamp(path: str) -> tuple[str, int, int]:
    st = os.stat(path)
    return os.path.abspath(path), st.st_size, st.st_mtime_ns


@functools.lru_cache(maxsize=16)
def _needs_sets_of(
    data: str, _dwhere: str, _dsize: int, _dmtime: int,
    meta: str, _mwhere: str, _msize: int, _mmtime: int,
) -> tuple[frozenset, frozenset, frozenset]:  # fmt: skip
    from .inputs import read_table

    table, defs = read_table(data), read_table(meta)
    return (
        frozenset(table["area_id"].astype(str)),
        frozenset(table["indicator"].astype(str)),
        frozenset(defs["indicator"].astype(str)),
    )


def _check_needs(model: AreaParams, where: str, problems: list[str]) -> None:
    """The needs data hold the area and the benchmark, and define every indicator they use."""
    areas, used, defined = _needs_sets(model.needs_data, model.needs_indicators)
    for key, value in (("area_id", model.area_id), ("needs_benchmark", model.needs_benchmark)):
        if value not in areas:
            problems.append(
                f"{where}: key {key!r}: {value!r} is not an area_id of {model.needs_data} "
                "(needed for the needs-assessment page; allowed: an area_id in that file)"
            )
    unknown = sorted(used - defined)
    if unknown:
        problems.append(
            f"{where}: key 'needs_indicators': {model.needs_indicators} does not define "
            f"indicator(s) {', '.join(map(repr, unknown[:10]))} used in {model.needs_data}"
        )


def _check_records(model: AreaParams, where: str, problems: list[str], enough_data: bool) -> None:
    """Read the records as the report reads them, then check columns, IDs and answers."""
    from .inputs import check_ids, check_records, read_table

    try:
        df = read_table(model.records, sheet=model.sheet or None, encoding=model.encoding or None)
    except ParameterError as exc:
        line = exc.problems[0] if exc.key else f"key 'records': {exc}"
        problems.append(f"{where}: {line}")
        return
    except DataError as exc:
        problems.append(f"{where}: key 'records': {exc}")
        return
    columns = [str(c) for c in df.columns]
    before = len(problems)
    wanted = [(k, getattr(model, k)) for k in ("id_column", "treatment_column", "setting_column")]
    wanted += [("covariates", c) for c in model.covariates]
    wanted += [("sessions_column", model.sessions_column)] if model.sessions_column else []
    _check_implementation(model, where, problems)
    for key, col in wanted:
        if col not in columns:
            close = difflib.get_close_matches(col, columns, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"{where}: key {key!r}: no column {col!r} in {model.records}{hint}")
    prefixes = ["outcome_pre_prefix", "outcome_post_prefix"]
    if model.second_tool:
        prefixes += ["second_pre_prefix", "second_post_prefix"]
    prefixes += ["fidelity_prefix"] if model.fidelity_prefix else []
    for key in prefixes:
        prefix = getattr(model, key)
        if not prefix:
            problems.append(
                f"{where}: key {key!r}: is empty but second_tool is "
                f"{model.second_tool!r} (give the item column prefix)"
            )
        elif not any(c.startswith(prefix) for c in columns):
            problems.append(
                f"{where}: key {key!r}: no column in {model.records} starts with {prefix!r}"
            )
    if len(problems) > before:
        sheets = df.attrs.get("sheets") or []
        if len(sheets) > 1 and not model.sheet:
            problems.append(f"{where}: key 'sheet': {_sheet_hint(model, sheets)}")
        return
    try:
        check_ids(df, model.id_column, file=Path(model.records).name)
    except DataError as exc:
        problems.append(f"{where}: key 'id_column': {exc}")
        return
    checked = check_records(df, model.model_dump(), enough_data=enough_data)
    problems.extend(f"{where}: key {key!r}: {msg}" for key, msg in checked)


def _check_implementation(model: AreaParams, where: str, problems: list[str]) -> None:
    """The implementation section's keys go together: sessions with a planned number, the
    eligible population with an indicators file."""
    if model.sessions_column and not model.planned_sessions:
        problems.append(
            f"{where}: key 'planned_sessions': is 0 but sessions_column is "
            f"{model.sessions_column!r} (give the programme's planned number of sessions)"
        )
    if model.eligible_indicator and not model.indicators:
        problems.append(
            f"{where}: key 'eligible_indicator': needs the indicators file (key 'indicators')"
        )


def _sheet_hint(model: AreaParams, sheets: list[str]) -> str:
    """The columns above were looked for on the first sheet: name the sheet that has them."""
    from .inputs import read_table

    having = []
    for number, name in enumerate(sheets[1:], start=2):
        try:
            cols = read_table(model.records, sheet=name).columns
        except Exception:  # noqa: BLE001 - an unreadable sheet is simply not suggested
            continue
        if model.id_column in cols:
            having.append(f"sheet: {name!r} (or sheet: {number})")
    suggestion = f"; the data seem to be on another sheet: {having[0]}" if having else ""
    return (
        f"{model.records} has {len(sheets)} sheets and the columns were looked for on the "
        f"first, {sheets[0]!r}{suggestion} (allowed: a sheet name, or a number counted from 1)"
    )


def _rows_of_table(path: Path) -> list[tuple[str, dict[str, Any]]]:
    import pandas as pd

    if path.suffix.lower() == ".csv":
        from ..tools.io import CSV_ENCODINGS

        for encoding in CSV_ENCODINGS:  # as for records: UTF-8, then Windows-1252
            try:
                table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding=encoding)
                break
            except UnicodeDecodeError:
                continue
    else:
        table = pd.read_excel(path, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip() for c in table.columns]
    known = set(AreaParams.model_fields)
    if "area_id" not in table.columns and not known & set(table.columns):
        # a data file (records, indicators) given where a table of areas was expected
        shown = ", ".join(list(table.columns)[:6]) + (", ..." if len(table.columns) > 6 else "")
        raise ParameterError(
            f"not a table of areas: none of its columns ({shown}) is a parameter; a data "
            "file goes in the 'records' (or 'indicators', 'matrix') key of an area's "
            "parameters",
            file=str(path),
            expected="one row per area with columns area_id, area_name, records, ... "
            "(evalkit init makes one)",
        )
    rows = []
    for i, (_, row) in enumerate(table.iterrows()):
        values = {k: v.strip() if isinstance(v, str) else v for k, v in row.items()}
        values = {k: v for k, v in values.items() if v not in ("", None) and k}
        if not values:
            continue  # blank spreadsheet row
        label = f"{path}, row {i + 2}"
        if values.get("area_id"):
            label += f" (area {values['area_id']})"
        rows.append((label, values))
    return rows


def _expand(paths: Iterable[str | os.PathLike[str]], problems: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = sorted(q for q in path.iterdir() if q.suffix.lower() in PARAM_SUFFIXES)
            if not found:
                problems.append(f"{path}: folder has no .yaml parameter files")
            files.extend(found)
        elif not path.exists():
            problems.append(f"{path}: file not found")
        elif path.suffix.lower() not in PARAM_SUFFIXES + TABLE_SUFFIXES:
            problems.append(f"{path}: not a parameter file (expected .yaml, .yml, .csv or .xlsx)")
        else:
            files.append(path)
    return files


def _job_of(model: AreaParams, where: str) -> AreaJob:
    """The job of a checked area: its parameters and every file its report reads."""
    params = model.model_dump()
    inputs = [getattr(model, k) for k in AreaParams.FILE_KEYS if getattr(model, k)]
    if model.pack:  # a new pack (another manifest) is a new report
        inputs.append(str(Path(model.pack) / "manifest.json"))
    if model.plan:  # the lock status is part of what the report says
        from ..plan import REGISTER_NAME

        register = Path(model.plan).parent / REGISTER_NAME
        inputs += [str(register)] if register.is_file() else []
    return AreaJob(model.area_id, where, params, inputs)


def load_jobs(
    paths: Sequence[str | os.PathLike[str]],
    *,
    enough_data: bool = True,
    skip_data: Callable[[AreaJob], bool] | None = None,
) -> list[AreaJob]:
    """Read and check every parameter file; return one job per area.

    Each area's records are read with the reader the report uses
    (:func:`evalkit.reports.inputs.read_table`, with ``sheet`` and ``encoding``) and
    checked as the report needs them: columns, IDs (never shown: counts and spreadsheet
    rows), answers the tool can score, and the minimum numbers the design needs.

    Parameters
    ----------
    paths
        YAML files (one area each), folders of YAML files, or CSV/XLSX tables with
        one row per area.
    enough_data
        Also refuse areas with fewer people than their design needs
        (:func:`evalkit.reports.inputs.minimum_numbers`); ``False`` leaves that to the
        report, which then says what could not be estimated.
    skip_data
        Called with each area's job once its parameters are checked; ``True`` skips reading
        its data files. ``evalkit render`` passes "this area's report is up to date": the
        report was rendered from these very parameters and files (its cache key covers
        their bytes and evalkit's source), so they were checked then, and a run with
        nothing to render does not read every area's data again.

    Raises
    ------
    ParameterError
        With ``problems``: one line per problem in every file, all at once.
    """
    problems: list[str] = []
    files = _expand(paths, problems)
    jobs: list[AreaJob] = []
    for path in files:
        if path.suffix.lower() in TABLE_SUFFIXES:
            try:
                entries = _rows_of_table(path)
            except ParameterError as exc:
                problems.extend(exc.problems)
                continue
            except Exception as exc:  # noqa: BLE001 - any unreadable table is one problem line
                problems.append(f"{path}: cannot read the table ({exc})")
                continue
            if not entries:
                problems.append(f"{path}: the table has no rows")
        else:
            try:
                entries = [(str(path), _yaml_load(path))]
            except Exception as exc:  # noqa: BLE001 - YAML syntax errors, encoding errors
                problems.append(f"{path}: {_yaml_problem(exc)}")
                continue
        for where, raw in entries:
            model = _check_one(raw, where, problems, enough_data, skip_data)
            if model is None:
                continue
            jobs.append(_job_of(model, where))
    seen: dict[str, AreaJob] = {}
    for job in jobs:
        first = seen.setdefault(job.area_id.casefold(), job)
        if first is job:
            continue
        if first.area_id == job.area_id:
            problems.append(
                f"{job.source}: key 'area_id': {job.area_id!r} is used already "
                f"by {first.source} (each area needs its own id)"
            )
        else:
            problems.append(
                f"{job.source}: key 'area_id': {job.area_id!r} differs only in case from "
                f"{first.area_id!r} used by {first.source}: their reports would overwrite "
                "each other on a file system that ignores case (Windows, macOS); give each "
                "area an id that differs in more than case"
            )
    if problems:
        raise ParameterError("invalid parameters", problems=problems)
    return jobs


# -- parameters of the pages across areas --------------------------------------------------------


#: area features the synthesis relates to the effects by default (when the records allow):
#: the mean maturity level (from the record's ``matrix``) and the design
DEFAULT_MODERATORS = ("maturity", "design")


def synthesis_params(
    jobs: Sequence[AreaJob],
    out: str | os.PathLike[str],
    moderators: Sequence[str] = DEFAULT_MODERATORS,
) -> dict[str, Any]:
    """Parameters of the cross-area synthesis, from the areas' own parameters.

    The indicator and maturity-matrix sections appear when every area names the
    same file (and indicator); the area results are read from ``out/areas``.
    ``moderators`` are area-record keys (or ``"maturity"``) for the meta-regression section.
    """

    def shared(key: str) -> Any:
        values = {j.params.get(key) for j in jobs}
        return values.pop() if len(values) == 1 else ""

    params = {
        "results": os.path.relpath(Path(out) / "areas"),
        "indicators": shared("indicators"),
        "indicator": shared("indicator"),
        "indicator_label": shared("indicator_label"),
        "matrix": shared("matrix"),
        "moderators": list(moderators),
        "suppression_threshold": max(
            (j.params.get("suppression_threshold", 10) for j in jobs), default=10
        ),
        "synthetic": any(j.params.get("synthetic") for j in jobs),
    }
    if not (params["indicators"] and params["indicator"]):
        params["indicators"] = params["indicator"] = params["indicator_label"] = ""
    return params


def reliability_params(
    jobs: Sequence[AreaJob], out: str | os.PathLike[str] = "reports"
) -> dict[str, Any] | None:
    """Parameters of the tool-reliability page: the main tool most areas use, and the folder of
    the areas' records (``out/areas``), which carry what the page pools (no raw answers).

    None when fewer than two areas share a tool.
    """
    from collections import Counter

    counts = Counter(j.params.get("outcome_tool") for j in jobs)
    if not counts:
        return None
    tool, n = counts.most_common(1)[0]
    if n < 2:
        return None
    return {
        "tool": tool,
        "results": os.path.relpath(Path(out) / "areas"),
        "areas": [j.area_id for j in jobs if j.params.get("outcome_tool") == tool],
        "suppression_threshold": max(j.params.get("suppression_threshold", 10) for j in jobs),
        "synthetic": any(j.params.get("synthetic") for j in jobs),
    }
