"""Command line for analysis plans: ``evalkit plan init | lock | check``.

``evalkit/cli.py`` registers it as ``app.add_typer(plan_app, name="plan")``.
Errors a user can cause print one line per problem on stderr and exit with code 2.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .errors import EvalkitError, ParameterError

__all__ = ["plan_app"]

plan_app = typer.Typer(
    help="Analysis plans: write one from an area's parameters, lock it before the outcomes "
    "are seen, and check the parameters against it.",
    no_args_is_help=True,
)


def _fail(exc: EvalkitError) -> None:
    lines = exc.problems if isinstance(exc, ParameterError) else [str(exc)]
    for line in lines:
        typer.echo(f"error: {line}", err=True)
    raise typer.Exit(code=2)


@plan_app.command("init")
def init(
    params: Annotated[
        Path, typer.Argument(help="One area's parameter file (YAML).", show_default=False)
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="The plan file to write (.yaml).")],
) -> None:
    """Write a plan file from an area's parameters, with the agreed fields to fill in."""
    from .plan import new_plan, write_plan
    from .reports.params import load_jobs

    try:
        jobs = load_jobs([params])
        if len(jobs) != 1:
            raise ParameterError(
                f"holds {len(jobs)} areas", file=str(params), expected="one area's YAML file"
            )
        written = write_plan(new_plan(jobs[0].params), out)
    except EvalkitError as exc:
        _fail(exc)
    typer.echo(f"Wrote {written}. Fill in every 'TO FILL IN', agree it, then:")
    typer.echo(f"  evalkit plan lock {written} --by 'YOUR NAME'")
    typer.echo(f'and add to {params}:  plan: "{written}"')


@plan_app.command("lock")
def lock(
    plan: Annotated[Path, typer.Argument(help="The plan file to lock.", show_default=False)],
    by: Annotated[str, typer.Option("--by", help="Who locks it (name and role).")],
) -> None:
    """Record the plan's SHA-256, the time and who locked it in the plan register.

    The register (plan-register.jsonl beside the plan) is append-only; each entry
    carries the previous entry's hash, so an edited entry is detected.
    """
    from .plan import REGISTER_NAME
    from .plan import lock as lock_plan

    try:
        entry = lock_plan(plan, by=by)
    except EvalkitError as exc:
        _fail(exc)
    typer.echo(
        f"Locked {plan.name} (area {entry.area_id}, version {entry.plan_version}) on "
        f"{entry.locked_at} by {entry.locked_by}; fingerprint {entry.sha256[:12]}. "
        f"Register: {plan.parent / REGISTER_NAME}"
    )


@plan_app.command("check")
def check(
    params: Annotated[
        list[Path],
        typer.Argument(
            help="Parameter files, folders or tables (as for render).", show_default=False
        ),
    ],
) -> None:
    """Compare each area's parameters with its latest locked plan (no rendering)."""
    from .plan import check as check_plan
    from .reports.params import load_jobs

    try:
        jobs = load_jobs(params)
    except EvalkitError as exc:
        _fail(exc)
    for job in jobs:
        status = check_plan(job.params, where=job.source)
        typer.echo(f"{job.area_id}: {status.sentence()}")
        for d in status.deviations:
            typer.echo(f"  - {d.key}: {d.planned!r} planned, {d.actual!r} used: {d.reason}")
