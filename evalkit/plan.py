"""Analysis plans: agree the analysis before the outcomes are seen, then show what changed.

A plan is a YAML file made from an area's parameters (:func:`new_plan`) plus what the
partnership agreed: the evaluation questions, primary and secondary outcomes, subgroups,
the decision rule (what effect would change practice), the data sources and the planned
dates. :func:`lock` records the plan file's SHA-256, the time and who locked it in an
append-only register beside the plans (``plan-register.jsonl``). Each register entry
carries the hash of the entry before it, so an entry edited by hand breaks the chain
and is detected (:func:`read_register`).

At render time :func:`check` compares an area's parameters with its latest locked plan.
Every difference is a deviation, and every deviation needs a reason in the area's
``deviations:`` parameter (``{key: reason}``); a missing reason is a validation problem.

>>> plan = new_plan({"area_id": "A01", "design": "comparison", "covariates": ["age"]})
>>> plan["parameters"]["design"], plan["plan_version"]
('comparison', 1)
>>> [d.key for d in compare({"area_id": "A01", "design": "prepost", "covariates": ["age"]}, plan)]
['design']
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ParameterError

__all__ = [
    "REGISTER_NAME",
    "PLAN_FIELDS",
    "Deviation",
    "LockEntry",
    "PlanStatus",
    "new_plan",
    "write_plan",
    "read_plan",
    "fingerprint",
    "lock",
    "read_register",
    "latest_lock",
    "compare",
    "check",
    "deviations_frame",
]

#: the register file, in the folder of the plans it records
REGISTER_NAME = "plan-register.jsonl"

#: what a partnership agrees beside the parameters (each key of a plan file)
PLAN_FIELDS = {
    "questions": "the evaluation questions, one per item",
    "primary_outcome": "the one outcome the decision rests on",
    "secondary_outcomes": "other outcomes, one per item",
    "subgroups": "groups to look at separately, one per item",
    "decision_rule": "what effect would change practice",
    "data_sources": "where each input comes from, one per item",
    "planned_dates": "dates: data_collection_end, analysis, report",
}

#: parameters that are not part of the analysis (names, reading options, the plan itself)
NOT_PLANNED = frozenset(
    {"area_name", "data_source", "synthetic", "plan", "deviations", "encoding", "sheet"}
)

_TODO = "TO FILL IN"
_GENESIS = "0" * 64


@dataclass(frozen=True)
class Deviation:
    """One parameter that differs from the locked plan."""

    key: str
    planned: Any
    actual: Any
    reason: str | None = None


@dataclass(frozen=True)
class LockEntry:
    """One line of the register."""

    plan: str
    area_id: str
    plan_version: int
    sha256: str
    locked_at: str
    locked_by: str
    previous: str
    entry_hash: str

    @property
    def date(self) -> str:
        """The day the plan was locked (``YYYY-MM-DD``)."""
        return self.locked_at[:10]


@dataclass(frozen=True)
class PlanStatus:
    """What :func:`check` found for one area."""

    area_id: str
    plan: str | None
    locked: LockEntry | None
    deviations: list[Deviation] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def followed(self) -> bool:
        """True when the area was rendered exactly as planned."""
        return self.locked is not None and not self.deviations and not self.problems

    def sentence(self) -> str:
        """One line for a report's methods section (no deviations table)."""
        if self.plan is None:
            return "No analysis plan was registered for this area."
        if self.locked is None:
            return "The analysis plan for this area has not been locked."
        head = f"Analysis plan locked on {self.locked.date} (fingerprint {self.locked.sha256[:12]})"
        if not self.deviations:
            return head + "; followed."
        n = len(self.deviations)
        return head + f"; {n} deviation{'s' if n != 1 else ''}, each with its reason below."

    def to_dict(self) -> dict[str, Any]:
        """The plan's part of the area's record (no personal data: parameters only)."""
        return {
            "registered": self.plan is not None,
            "locked": self.locked is not None,
            "locked_on": self.locked.date if self.locked else None,
            "fingerprint": self.locked.sha256 if self.locked else None,
            "followed": self.followed,
            "deviations": [d.key for d in self.deviations],
        }


# -- plan files -------------------------------------------------------------------------------


def new_plan(params: Mapping[str, Any], **agreed: Any) -> dict[str, Any]:
    """A plan from an area's parameters, with the agreed fields to fill in.

    Parameters
    ----------
    params
        The area's checked parameters (``evalkit validate`` output or a YAML mapping).
    **agreed
        Values for any of :data:`PLAN_FIELDS` (otherwise ``"TO FILL IN"``).
    """
    unknown = sorted(set(agreed) - set(PLAN_FIELDS))
    if unknown:
        raise ParameterError(
            f"unknown plan field(s) {', '.join(unknown)}",
            expected="one of " + ", ".join(PLAN_FIELDS),
        )
    planned = {k: v for k, v in params.items() if k not in NOT_PLANNED}
    plan: dict[str, Any] = {
        "area_id": str(params.get("area_id", "")),
        "plan_version": 1,
        "created": dt.date.today().isoformat(),
    }
    for key, what in PLAN_FIELDS.items():
        default: Any = [_TODO] if what.endswith("one per item") else _TODO
        if key == "planned_dates":
            default = {"data_collection_end": _TODO, "analysis": _TODO, "report": _TODO}
        plan[key] = agreed.get(key, default)
    plan["parameters"] = planned
    return plan


def write_plan(plan: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write a plan as YAML (atomically; an existing file is never replaced)."""
    import yaml

    target = Path(path)
    if target.exists():
        raise ParameterError(
            "exists already: a plan is never overwritten",
            file=str(target),
            expected="a new file name (or a new version, plan_version + 1)",
        )
    if not target.parent.is_dir():
        raise ParameterError("folder not found", file=str(target.parent))
    head = (
        "# Analysis plan (evalkit plan init). Fill in every 'TO FILL IN', agree it with the\n"
        "# partnership, then lock it BEFORE the outcomes are seen: evalkit plan lock THIS_FILE --by NAME\n"
        "# A locked plan is never edited: copy it, raise plan_version, and lock the new version.\n"
    )
    text = head + yaml.safe_dump(dict(plan), sort_keys=False, allow_unicode=True)
    _atomic_write(target, text.encode("utf-8"))
    return target


def read_plan(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read and check a plan file; problems name the file and the key."""
    import yaml

    p = Path(path)
    if not p.is_file():
        raise ParameterError("plan file not found", file=str(p), expected="a YAML plan file")
    try:
        plan = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise ParameterError(f"not valid YAML{where}", file=str(p)) from None
    if not isinstance(plan, dict):
        raise ParameterError("must be a mapping of key: value pairs", file=str(p))
    problems = []
    for key in ("area_id", "plan_version", "parameters", *PLAN_FIELDS):
        if key not in plan:
            problems.append(f"{p}: key {key!r}: is missing")
    if "plan_version" in plan and not (
        isinstance(plan["plan_version"], int) and plan["plan_version"] >= 1
    ):
        problems.append(f"{p}: key 'plan_version': must be a whole number from 1")
    if "parameters" in plan and not isinstance(plan["parameters"], dict):
        problems.append(f"{p}: key 'parameters': must be a mapping of the area's parameters")
    if problems:
        raise ParameterError("invalid plan", problems=problems)
    return plan


def fingerprint(path: str | os.PathLike[str]) -> str:
    """SHA-256 of the plan file's bytes: any change, even a comment, is a new plan."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


# -- the register -----------------------------------------------------------------------------


def _entry_hash(fields: Mapping[str, Any]) -> str:
    body = {k: fields[k] for k in sorted(fields) if k != "entry_hash"}
    return hashlib.sha256(json.dumps(body, sort_keys=True).encode("utf-8")).hexdigest()


def read_register(folder: str | os.PathLike[str]) -> list[LockEntry]:
    """The register's entries, checked: a line edited by hand breaks the chain.

    Raises
    ------
    ParameterError
        Naming the register's line where the chain breaks.
    """
    path = Path(folder) / REGISTER_NAME
    if not path.is_file():
        return []
    entries: list[LockEntry] = []
    previous = _GENESIS
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            entry = LockEntry(**raw)
        except (ValueError, TypeError):
            raise ParameterError(
                f"line {number} is not a register entry (was the file edited by hand?)",
                file=str(path),
            ) from None
        if entry.previous != previous or _entry_hash(raw) != entry.entry_hash:
            raise ParameterError(
                f"line {number} does not match the fingerprint chain: the register was "
                "edited by hand after that plan was locked",
                file=str(path),
                expected="an append-only register written by 'evalkit plan lock'",
            )
        entries.append(entry)
        previous = entry.entry_hash
    return entries


def latest_lock(plan_path: str | os.PathLike[str]) -> LockEntry | None:
    """The register entry of this plan's area with the highest version, or None."""
    p = Path(plan_path)
    plan = read_plan(p)
    mine = [e for e in read_register(p.parent) if e.area_id == str(plan["area_id"])]
    return max(mine, key=lambda e: e.plan_version) if mine else None


def lock(
    plan_path: str | os.PathLike[str], *, by: str, now: dt.datetime | None = None
) -> LockEntry:
    """Lock a plan: append its fingerprint, the time and ``by`` to the register.

    Locking the same content again returns the existing entry. A plan whose content
    differs from a locked plan of the same area and version is refused: a changed
    plan needs a new version.
    """
    p = Path(plan_path)
    if not by or not by.strip():
        raise ParameterError("who locks the plan must be named", key="--by")
    plan = read_plan(p)
    todo = [k for k in PLAN_FIELDS if _TODO in json.dumps(plan.get(k), default=str)]
    if todo:
        raise ParameterError(
            "the plan is not complete: fill in " + ", ".join(todo),
            file=str(p),
            expected="every agreed field filled in before locking",
        )
    sha = fingerprint(p)
    area, version = str(plan["area_id"]), int(plan["plan_version"])
    entries = read_register(p.parent)
    for e in entries:
        if e.area_id == area and e.plan_version == version:
            if e.sha256 == sha:
                return e
            raise ParameterError(
                f"version {version} of the plan for area {area} was locked on {e.date} by "
                f"{e.locked_by} with fingerprint {e.sha256[:12]}, and this file differs from it",
                file=str(p),
                expected=f"the locked content, or a new version (plan_version: "
                f"{max(x.plan_version for x in entries if x.area_id == area) + 1}) saved as a "
                "new file",
            )
    newer = [e.plan_version for e in entries if e.area_id == area and e.plan_version > version]
    if newer:
        raise ParameterError(
            f"version {max(newer)} is locked already; a plan version can only go up",
            file=str(p),
            key="plan_version",
        )
    when = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc)
    fields = {
        "plan": p.name,
        "area_id": area,
        "plan_version": version,
        "sha256": sha,
        "locked_at": when.isoformat(timespec="seconds"),
        "locked_by": by.strip(),
        "previous": entries[-1].entry_hash if entries else _GENESIS,
    }
    fields["entry_hash"] = _entry_hash(fields)
    register = p.parent / REGISTER_NAME
    # append-only: one line added with O_APPEND, the earlier lines never rewritten
    fd = os.open(register, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, (json.dumps(fields, sort_keys=True) + "\n").encode("utf-8"))
    finally:
        os.close(fd)
    return LockEntry(**fields)


# -- comparing --------------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def compare(params: Mapping[str, Any], plan: Mapping[str, Any]) -> list[Deviation]:
    """Every planned parameter whose value differs from the area's parameters.

    A key planned but now absent, or present but not planned, is a deviation too.
    Reasons come from ``params["deviations"]`` (a mapping of key to reason).
    """
    planned = plan.get("parameters", {}) or {}
    reasons = params.get("deviations") or {}
    keys = [k for k in planned if k not in NOT_PLANNED]
    keys += [k for k in params if k not in planned and k not in NOT_PLANNED]
    out = []
    missing = object()
    for key in keys:
        was, now = planned.get(key, missing), params.get(key, missing)
        if was is missing or now is missing or not _same(was, now):
            reason = reasons.get(key) if isinstance(reasons, Mapping) else None
            out.append(
                Deviation(
                    key,
                    None if was is missing else was,
                    None if now is missing else now,
                    str(reason).strip() if reason and str(reason).strip() else None,
                )
            )
    return out


def check(params: Mapping[str, Any], *, where: str = "") -> PlanStatus:
    """Compare an area's parameters with its latest locked plan (``params["plan"]``).

    Problems (each one line naming the file and key) are: a plan file that cannot be
    read, a plan that is not locked, a plan file changed since it was locked, and a
    deviation without a reason in ``deviations:``. Reasons given for keys that do not
    deviate are reported too, so the list stays true.
    """
    area = str(params.get("area_id", ""))
    plan_file = params.get("plan") or ""
    prefix = f"{where}: " if where else ""
    if not plan_file:
        return PlanStatus(area, None, None)
    problems: list[str] = []
    try:
        plan = read_plan(plan_file)
        entry = latest_lock(plan_file)
    except ParameterError as exc:
        return PlanStatus(area, str(plan_file), None, problems=[prefix + p for p in exc.problems])
    if str(plan["area_id"]) != area:
        problems.append(
            f"{prefix}key 'plan': {plan_file} is the plan of area {plan['area_id']!r}, not {area!r}"
        )
    if entry is None:
        problems.append(
            f"{prefix}key 'plan': {plan_file} has not been locked "
            f"(run: evalkit plan lock {plan_file} --by NAME)"
        )
        return PlanStatus(area, str(plan_file), None, problems=problems)
    if entry.plan != Path(plan_file).name:
        problems.append(
            f"{prefix}key 'plan': the latest locked plan of area {area} is {entry.plan} "
            f"(version {entry.plan_version}), not {Path(plan_file).name}"
        )
    elif fingerprint(plan_file) != entry.sha256:
        problems.append(
            f"{prefix}key 'plan': {plan_file} was changed after it was locked on {entry.date} "
            "(a locked plan is never edited: save a new version and lock it)"
        )
    deviations = compare(params, plan)
    for d in deviations:
        if d.reason is None:
            problems.append(
                f"{prefix}key 'deviations': {d.key!r} differs from the locked plan "
                f"({_show(d.planned)} planned, {_show(d.actual)} now) and needs a reason "
                f'(add  deviations: {{{d.key}: "why"}})'
            )
    reasons = params.get("deviations") or {}
    if isinstance(reasons, Mapping):
        deviating = {d.key for d in deviations}
        for key in reasons:
            if key not in deviating:
                problems.append(
                    f"{prefix}key 'deviations': {key!r} has a reason but does not differ from "
                    "the locked plan (remove it)"
                )
    return PlanStatus(area, str(plan_file), entry, deviations, problems)


def _show(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(map(str, value)) + "]" if value else "none"
    return repr(value) if isinstance(value, str) else str(value)


def deviations_frame(status: PlanStatus):
    """The deviations as a table for a report: what changed, from what, to what, and why."""
    import pandas as pd

    rows = [
        {
            "Parameter": d.key,
            "Planned": _show(d.planned),
            "Used": _show(d.actual),
            "Reason": d.reason or "",
        }
        for d in status.deviations
    ]
    return pd.DataFrame(rows, columns=["Parameter", "Planned", "Used", "Reason"]).set_index(
        "Parameter"
    )


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".evalkit-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.link(tmp, path)  # fails if the target appeared meanwhile: never overwrite
    finally:
        os.unlink(tmp)
