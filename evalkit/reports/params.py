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

import csv
import difflib
import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from ..errors import ParameterError

__all__ = [
    "AreaParams",
    "AreaJob",
    "load_jobs",
    "DATA_SUFFIXES",
    "TABLE_SUFFIXES",
]

DATA_SUFFIXES = (".csv", ".xlsx", ".sav")
TABLE_SUFFIXES = (".csv", ".xlsx")
PARAM_SUFFIXES = (".yaml", ".yml")
#: what an area ID may be (also in the JSON Schema)
AREA_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$"
_AREA_ID = re.compile(AREA_ID_PATTERN)

Design = Literal["prepost", "comparison", "multilevel", "propensity"]


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

    _split = field_validator("covariates", mode="before")(
        classmethod(lambda cls, v: _split_list(v))
    )
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
        return v

    @field_validator("records")
    @classmethod
    def _data_suffix(cls, v: str) -> str:
        if not v.lower().endswith(DATA_SUFFIXES):
            raise ValueError("must be a .csv, .xlsx or .sav file")
        return v

    @field_validator("indicators", "matrix")
    @classmethod
    def _table_suffix(cls, v: str) -> str:
        if v and not v.lower().endswith(TABLE_SUFFIXES):
            raise ValueError("must be a .csv or .xlsx file, or empty")
        return v

    @field_validator("outcome_tool", "second_tool")
    @classmethod
    def _known_tool(cls, v: str) -> str:
        if not v:
            return v
        from ..tools import available

        names = available()
        if v not in names:
            raise ValueError(f"must be one of {', '.join(names)}")
        return v

    # keys whose values are input files: hashed for the cache, checked for existence
    FILE_KEYS: ClassVar[tuple[str, ...]] = ("records", "indicators", "matrix", "plan")


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


@functools.lru_cache(maxsize=256)
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
        return yaml.safe_load(fh)


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
        lo = field_info and next((m.ge for m in field_info.metadata if hasattr(m, "ge")), None)
        hi = field_info and next((m.le for m in field_info.metadata if hasattr(m, "le")), None)
        msg = f"must be between {lo} and {hi}"
    elif kind == "value_error":
        msg = msg.removeprefix("Value error, ")
    else:
        msg = msg.replace("Input should be", "must be")
    shown = repr(value) if not isinstance(value, (dict, list)) else type(value).__name__
    return loc, f"{msg}, got {shown}{what}"


def _check_one(raw: Any, where: str, problems: list[str]) -> AreaParams | None:
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
    if model.indicators and not model.indicator:
        problems.append(
            f"{where}: key 'indicator': is empty but 'indicators' names a file "
            "(say which indicator to report)"
        )
    if missing:
        return None
    before = len(problems)
    _check_columns(model, where, problems)
    if model.plan or model.deviations:
        from ..plan import check

        if model.deviations and not model.plan:
            problems.append(f"{where}: key 'deviations': given, but 'plan' names no plan file")
        else:
            problems.extend(check(model.model_dump(), where=where).problems)
    return model if len(problems) == before else None


def _header(path: str) -> list[str] | None:
    """Column names of a data file, read cheaply; None when they cannot be read."""
    suffix = Path(path).suffix.lower()
    try:
        if suffix == ".csv":
            with open(path, newline="", encoding="utf-8-sig") as fh:
                return next(csv.reader(fh), [])
        if suffix == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True)
            row = next(wb.active.iter_rows(max_row=1, values_only=True), ())
            wb.close()
            return [str(c) for c in row if c is not None]
        if suffix == ".sav":
            import pyreadstat

            _, meta = pyreadstat.read_sav(path, metadataonly=True)
            return list(meta.column_names)
    except Exception:  # noqa: BLE001 - unreadable files are reported by the report itself
        return None
    return None


#: columns each optional table must have
_TABLE_COLUMNS = {
    "indicators": ("area_id", "indicator", "month", "numerator", "denominator"),
    "matrix": ("area", "partner", "element", "level", "date"),
}


def _check_columns(model: AreaParams, where: str, problems: list[str]) -> None:
    for key, needed in _TABLE_COLUMNS.items():
        path = getattr(model, key)
        if not path:
            continue
        header = _header(path)
        lacking = [c for c in needed if header is not None and c not in header]
        if header is None:
            problems.append(f"{where}: key {key!r}: cannot read the column names of {path}")
        elif lacking:
            problems.append(
                f"{where}: key {key!r}: {path} has no column(s) "
                + ", ".join(repr(c) for c in lacking)
                + f" (needed: {', '.join(needed)})"
            )
    columns = _header(model.records)
    if columns is None:
        problems.append(
            f"{where}: key 'records': cannot read the column names of "
            f"{model.records} (is it a valid {Path(model.records).suffix} file?)"
        )
        return
    wanted = [(k, getattr(model, k)) for k in ("id_column", "treatment_column", "setting_column")]
    wanted += [("covariates", c) for c in model.covariates]
    for key, col in wanted:
        if col not in columns:
            close = difflib.get_close_matches(col, columns, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            problems.append(f"{where}: key {key!r}: no column {col!r} in {model.records}{hint}")
    prefixes = ["outcome_pre_prefix", "outcome_post_prefix"]
    if model.second_tool:
        prefixes += ["second_pre_prefix", "second_post_prefix"]
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


def _rows_of_table(path: Path) -> list[tuple[str, dict[str, Any]]]:
    import pandas as pd

    if path.suffix.lower() == ".csv":
        table = pd.read_csv(path, dtype=str, keep_default_na=False)
    else:
        table = pd.read_excel(path, dtype=str, keep_default_na=False)
    table.columns = [str(c).strip() for c in table.columns]
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


def load_jobs(paths: Sequence[str | os.PathLike[str]]) -> list[AreaJob]:
    """Read and check every parameter file; return one job per area.

    Parameters
    ----------
    paths
        YAML files (one area each), folders of YAML files, or CSV/XLSX tables with
        one row per area.

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
            except Exception as exc:  # noqa: BLE001 - any unreadable table is one problem line
                problems.append(f"{path}: cannot read the table ({exc})")
                continue
            if not entries:
                problems.append(f"{path}: the table has no rows")
        else:
            try:
                entries = [(str(path), _yaml_load(path))]
            except Exception as exc:  # noqa: BLE001 - YAML syntax errors, encoding errors
                problems.append(f"{path}: not valid YAML ({str(exc).splitlines()[0]})")
                continue
        for where, raw in entries:
            model = _check_one(raw, where, problems)
            if model is None:
                continue
            params = model.model_dump()
            inputs = [getattr(model, k) for k in AreaParams.FILE_KEYS if getattr(model, k)]
            if model.plan:  # the lock status is part of what the report says
                from ..plan import REGISTER_NAME

                register = Path(model.plan).parent / REGISTER_NAME
                inputs += [str(register)] if register.is_file() else []
            jobs.append(AreaJob(model.area_id, where, params, inputs))
    seen: dict[str, str] = {}
    for job in jobs:
        if job.area_id in seen:
            problems.append(
                f"{job.source}: key 'area_id': {job.area_id!r} is used already "
                f"by {seen[job.area_id]} (each area needs its own id)"
            )
        seen.setdefault(job.area_id, job.source)
    if problems:
        raise ParameterError("invalid parameters", problems=problems)
    return jobs
