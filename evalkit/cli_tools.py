"""Command line for the measurement tools: ``evalkit tools list|show`` and ``evalkit score``.

``evalkit/cli.py`` registers these::

    app.add_typer(tools_app, name="tools")
    app.command("score")(score)

Errors a user can cause print one clear message on stderr and exit with code 2.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from .errors import DataError, EvalkitError, ParameterError

__all__ = ["tools_app", "list_tools", "show", "score", "friendly_errors"]

tools_app = typer.Typer(
    help="The measurement tools evalkit can score (SDQ, EPDS, WEMWBS, SWEMWBS, PHQ-9, GAD-7, "
    "ASQ-3) and their specs.",
    no_args_is_help=True,
)


def friendly_errors(func: Callable) -> Callable:
    """Turn an EvalkitError into one message on stderr and exit code 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except EvalkitError as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from None

    return wrapper


def _tool(name: str):
    from . import tools

    if name.lower().endswith((".yaml", ".yml")) or Path(name).is_file():
        return tools.load(name)
    return tools.get(name)


def _read_yaml_mapping(path: Path, what: str) -> dict:
    import yaml

    if not path.is_file():
        raise ParameterError("no such file", file=str(path), expected=f"a YAML file of {what}")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ParameterError(f"not valid YAML: {exc}", file=str(path)) from None
    if not isinstance(data, dict):
        raise ParameterError("must be a mapping", file=str(path), expected=what)
    return data


def _pairs(entries: list[str] | None, option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for entry in entries or []:
        key, sep, value = entry.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ParameterError(
                f"{option} {entry!r} is not KEY=VALUE",
                key=option,
                expected=f"{option} 1=column_name",
            )
        out[key.strip()] = value.strip()
    return out


def _number(text: str, option: str) -> float | int:
    try:
        x = float(text)
    except ValueError:
        raise ParameterError(
            f"{option}: {text!r} is not a number",
            key=option,
            expected="a number, e.g. 'Not true=0'",
        ) from None
    return int(x) if x.is_integer() else x


def _code(text: str) -> Any:
    try:
        x = float(text)
    except ValueError:
        return text
    return int(x) if x.is_integer() else x


def _check_output(out: Path, inputs: list[Path]) -> None:
    """Refuse an output that would overwrite an input, or that has no folder to go in."""
    target = out.resolve()
    for path in inputs:
        if path.resolve() == target:
            raise ParameterError(
                f"is the input file {path}; evalkit never overwrites your data "
                "(give the scores another file name)",
                key="--out",
            )
    if target.is_dir():
        raise ParameterError(f"{out} is a folder", key="--out", expected="a file name")
    if not target.parent.is_dir():
        raise ParameterError(
            f"the folder {out.parent} does not exist",
            key="--out",
            expected="a file in an existing folder (create the folder first)",
        )


def _write_replacing(result: Any, out: Path, write: Callable[[Any, Path], Any]) -> None:
    """Write through a temporary file beside ``out``, then rename it: never half a file."""
    from .reports.files import os_reason

    tmp = out.with_name(f".{out.stem}.{os.getpid()}.tmp{out.suffix}")
    try:
        write(result, tmp)
        os.replace(tmp, out)
    except OSError as exc:
        raise ParameterError(f"cannot write {out}: {os_reason(exc)}", key="--out") from None
    finally:
        tmp.unlink(missing_ok=True)


@tools_app.command("list")
@friendly_errors
def list_tools() -> None:
    """List the tools shipped with evalkit."""
    from . import tools

    for name in tools.available():
        t = tools.get(name)
        typer.echo(f"{name:<9} {len(t.items):>3} items  {t.title} ({t.spec.informant})")


@tools_app.command("show")
@friendly_errors
def show(
    name: Annotated[
        str, typer.Argument(help="A tool name (see 'evalkit tools list') or a spec .yaml")
    ],
) -> None:
    """Show a tool: items, reverse keying, scales, bands, flags, reliability, licence."""
    typer.echo(_tool(name).describe())


@friendly_errors
def score(
    name: Annotated[
        str, typer.Argument(help="Tool name ('evalkit tools list') or your spec .yaml")
    ],
    data: Annotated[Path, typer.Argument(help="CSV, XLSX or SPSS .sav file, one row per person")],
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Scores file to write (.csv, .xlsx or .sav)")
    ],
    map_: Annotated[
        list[str] | None,
        typer.Option("--map", help="ITEM=COLUMN: the column holding an item (repeatable)"),
    ] = None,
    columns: Annotated[
        Path | None,
        typer.Option("--columns", help="YAML file mapping item ids to column names"),
    ] = None,
    prefix: Annotated[
        str | None,
        typer.Option("--prefix", help="Item i is column PREFIX+i (default '<tool>_': epds_1)"),
    ] = None,
    id_: Annotated[
        str | None, typer.Option("--id", help="Person ID column (checked for duplicates)")
    ] = None,
    input_: Annotated[
        str | None,
        typer.Option(
            "--input", help="'responses' (positions ticked) or 'scores' (default: the spec's)"
        ),
    ] = None,
    value: Annotated[
        list[str] | None,
        typer.Option(
            "--value", help="LABEL=NUMBER: recode an answer, e.g. 'Not true=0' (repeatable)"
        ),
    ] = None,
    values: Annotated[
        Path | None, typer.Option("--values", help="YAML file of LABEL: NUMBER recodes")
    ] = None,
    missing_code: Annotated[
        list[str] | None,
        typer.Option("--missing-code", help="A code meaning 'no answer', e.g. 99 (repeatable)"),
    ] = None,
    cutoffs: Annotated[
        Path | None,
        typer.Option("--cutoffs", help="YAML file of user cut-offs per scale (ASQ-3)"),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Excel sheet (default: the first)")
    ] = None,
) -> None:
    """Score a tool for every person in DATA and write the scores to OUT."""
    import pandas as pd

    from .tools import read_data, write_scores

    tool = _tool(name)
    mapping: dict[str, str] = {}
    if columns is not None:
        mapping.update(
            {str(k): str(v) for k, v in _read_yaml_mapping(columns, "item id: column name").items()}
        )
    mapping.update(_pairs(map_, "--map"))
    recode: dict[Any, Any] = {}
    if values is not None:
        recode.update(_read_yaml_mapping(values, "answer label: number"))
    recode.update({_code(k): _number(v, "--value") for k, v in _pairs(value, "--value").items()})
    cuts = _read_yaml_mapping(cutoffs, "scale: cut-off") if cutoffs is not None else None
    sheet_arg: str | int | None = sheet
    if sheet is not None and sheet.isdigit():
        sheet_arg = int(sheet)

    _check_output(out, [p for p in (data, columns, values, cutoffs) if p is not None])
    df = read_data(data, sheet=sheet_arg)
    # rows are numbered as the person sees them: spreadsheet rows (the header is row 1),
    # or SPSS case numbers (from 1)
    sav = data.suffix.lower() == ".sav"
    df.index = pd.RangeIndex(1 if sav else 2, len(df) + (1 if sav else 2))
    try:
        result = tool.score(
            df,
            columns=mapping or None,
            prefix=prefix,
            id=id_,
            input=input_,
            values=recode or None,
            missing_codes=[_code(c) for c in missing_code or []] or None,
            cutoffs=cuts,
        )
    except DataError as exc:
        if not exc.rows:
            raise
        note = (
            "(rows are SPSS case numbers)"
            if sav
            else "(rows are numbered as in a spreadsheet: the header is row 1)"
        )
        raise DataError(
            f"{exc.message} {note}",
            column=exc.column,
            columns=exc.columns,
            rows=exc.rows,
            values=exc.values,
            allowed=exc.allowed,
            file=exc.file,
        ) from None
    _write_replacing(result, out, write_scores)
    used = input_ or tool.input
    typer.echo(f"scored {len(result)} rows with {tool.name} (columns read as {used}) -> {out}")
    for flag in tool.spec.flags:
        n = int(result[f"flag_{flag.name}"].fillna(False).sum())
        unknown = int(result[f"flag_{flag.name}"].isna().sum())
        if n or unknown:
            typer.echo(
                f"FLAG {flag.name}: {n} row(s) flagged, {unknown} unknown (item {flag.item} "
                f"unanswered). {' '.join(flag.message.split())} See column flag_{flag.name}."
            )
