"""Command line for starting a project: ``evalkit init`` and ``evalkit schema``.

``evalkit/cli.py`` registers these::

    app.command("init")(init)
    app.command("schema")(schema)

Errors a user can cause print one clear message per problem on stderr and exit with code 2.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from .errors import EvalkitError, ParameterError

__all__ = ["init", "schema"]


def _fail(exc: EvalkitError) -> None:
    if isinstance(exc, ParameterError) and exc.problems:
        for line in exc.problems:
            typer.echo(f"error: {line}", err=True)
    else:
        typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code=2)


def init(
    folder: Annotated[
        Path, typer.Argument(help="A new folder for the project.", show_default=False)
    ],
    areas: Annotated[int, typer.Option("--areas", help="How many areas (rows) to start with.")] = 3,
    tool: Annotated[
        str, typer.Option("--tool", help="The main outcome measure (see 'evalkit tools list').")
    ] = "epds",
    design: Annotated[
        str,
        typer.Option("--design", help="prepost, comparison, multilevel or propensity."),
    ] = "comparison",
) -> None:
    """Start an evaluation project: a parameters workbook, data dictionaries and a README.

    The workbook has one row per area and one column per parameter, with the
    description and what is allowed in each column's comment and drop-down lists
    for every choice. Fill it in, then run 'evalkit validate' and 'evalkit render'.
    """
    from .reports.project import PARAMS_FILE, init_project

    try:
        files = init_project(folder, areas=areas, tool=tool, design=design)
    except EvalkitError as exc:
        _fail(exc)
    typer.echo(f"Created {folder} ({len(files)} files). Next, in that folder (cd {folder}):")
    typer.echo("  1. put each area's data in data/ (data/records_dictionary.csv lists the columns)")
    typer.echo(f"  2. fill in {PARAMS_FILE} (one row per area; hover over a column for help)")
    typer.echo(f"  3. evalkit validate {PARAMS_FILE} --annotate checked.xlsx")
    typer.echo(f"  4. evalkit render {PARAMS_FILE} --out reports")


def schema(
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write the schema to this file.")
    ] = None,
) -> None:
    """Print the JSON Schema of an area's YAML parameters (for editors that check as you type).

    Save it beside your parameter files and add this first line to each YAML file:
    '# yaml-language-server: $schema=evalkit-params.schema.json'.
    """
    from .reports.schema import json_schema

    text = json.dumps(json_schema(), indent=2) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    if not out.parent.is_dir():
        _fail(ParameterError(f"folder not found: {out.parent}", key="--out"))
    out.write_text(text, encoding="utf-8")
    typer.echo(f"Wrote {out}")
