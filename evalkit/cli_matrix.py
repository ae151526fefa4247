"""Command line for the maturity-matrix cycle: ``evalkit matrix template`` and ``check``.

``evalkit/cli.py`` registers it::

    app.add_typer(matrix_app, name="matrix")

Errors a user can cause print one clear message on stderr and exit with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from .cli_tools import friendly_errors

__all__ = ["matrix_app", "template", "check"]

matrix_app = typer.Typer(
    help="The maturity-matrix cycle: a workbook for partners to fill in, and checking it.",
    no_args_is_help=True,
)


@matrix_app.command("template")
@friendly_errors
def template(
    out: Annotated[Path, typer.Option("--out", "-o", help="The workbook to write (.xlsx).")],
    framework: Annotated[
        Path | None,
        typer.Option(help="A framework YAML file (default: evalkit's own framework)."),
    ] = None,
    partners: Annotated[int, typer.Option(min=1, max=50, help="Number of partner sheets.")] = 5,
    area: Annotated[str, typer.Option(help="Pre-fill the area's name.")] = "",
    date: Annotated[str, typer.Option(help="Pre-fill the assessment date (2025-03-01).")] = "",
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write an XLSX workbook for partners to fill in: levels from drop-down lists, element
    descriptions as comments, evidence, barriers and priority actions (owner, due date, status)."""
    from .errors import ParameterError
    from .matrix import load_framework, write_template

    if out.is_file() and out.stat().st_size > 0 and not force:
        raise ParameterError(
            f"{out} already exists (it may hold partners' answers)",
            key="--out",
            expected="a new file name, or --force to overwrite",
        )
    fw = load_framework(framework)
    path = write_template(out, framework=fw, partners=partners, area=area, date=date or None)
    typer.echo(
        f"wrote {path}: {partners} partner sheet(s), {len(fw.elements)} elements, "
        f"levels {fw.min_level}-{fw.max_level}. Fill in the area and date on the "
        "Instructions sheet, then one Partner sheet per partner."
    )


@matrix_app.command("check")
@friendly_errors
def check(
    files: Annotated[list[Path], typer.Argument(help="Filled workbooks or ratings tables.")],
    framework: Annotated[
        Path | None,
        typer.Option(help="A framework YAML file (default: evalkit's own framework)."),
    ] = None,
) -> None:
    """Check filled workbooks (or ratings tables) and say what they hold."""
    from .matrix import read_ratings

    r = read_ratings(list(files), framework, notes=True)
    for (area, date), part in r.groupby(["area", "date"], sort=True):
        n_actions = int((part["action"] != "").sum())
        typer.echo(
            f"{area}, {_iso(date)}: {part['partner'].nunique()} partner(s), "
            f"{len(part)} rating(s), {n_actions} priority action(s)"
        )
    typer.echo("ok")


def _iso(value: Any) -> str:
    """A timestamp as an ISO date."""
    return str(value)[:10]
