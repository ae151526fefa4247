"""The ``evalkit`` command.

    evalkit demo                      generate the synthetic demo and render its 20 reports
    evalkit render PARAMS... --out D  one report per area, pages across areas, an index
    evalkit validate PARAMS...        check parameter files without rendering anything
    evalkit tools list | show NAME    the measurement tools evalkit can score
    evalkit score NAME DATA -o OUT    score a tool's items in a data file

Exit codes: 0 everything worked; 1 some area failed (the others were rendered);
2 the input was not usable (nothing was rendered).
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .cli_tools import score, tools_app
from .errors import EvalkitError, ParameterError

app = typer.Typer(
    name="evalkit",
    help="Evaluation reports for maternity and early-years services.\n\n"
    "Start with 'evalkit demo', then point 'evalkit render' at your own parameter files.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _fail_input(exc: EvalkitError) -> None:
    if isinstance(exc, ParameterError) and len(exc.problems) > 1:
        _err(f"{len(exc.problems)} problems in the parameters (nothing was rendered):")
        for line in exc.problems:
            _err(f"  - {line}")
    else:
        _err(f"error: {exc}")
    raise typer.Exit(EXIT_BAD_INPUT)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"evalkit {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: Annotated[
        bool | None,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = None,
) -> None:
    """Evaluation reports for maternity and early-years services."""


# -- render ---------------------------------------------------------------------------------------


def _progress_callbacks(quiet: bool):
    """(on_start, on_done, close): a live bar on a terminal, one line per area otherwise."""
    interactive = sys.stderr.isatty() and not quiet
    state: dict = {"t0": time.perf_counter(), "done": 0, "total": 0}
    if interactive:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
        )

        console = Console(stderr=True)
        progress = Progress(
            TextColumn("[bold]Rendering"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("{task.description}"),
            console=console,
            transient=False,
        )
        task_id = None

        def on_start(to_render: int, cached: int) -> None:
            nonlocal task_id
            state["total"] = to_render + cached
            progress.start()
            task_id = progress.add_task("", total=state["total"])
            if cached:
                console.print(f"{cached} area(s) up to date, skipped (use --force to render again)")

        def on_done(o) -> None:
            if o.status == "failed":
                where = f" (cell {o.cell})" if o.cell else ""
                progress.console.print(f"[red]✗ {o.area_id} {o.area_name}{where}: {o.error}")
            progress.update(task_id, advance=1, description=f"{o.area_id} {o.status}")

        def close() -> None:
            progress.stop()

        return on_start, on_done, close

    def on_start(to_render: int, cached: int) -> None:
        state["total"] = to_render + cached
        if not quiet:
            _err(f"Rendering {to_render} area(s); {cached} up to date, skipped.")

    def on_done(o) -> None:
        state["done"] += 1
        if quiet and o.status != "failed":
            return
        mark = {"rendered": "ok", "cached": "up to date", "failed": "FAILED"}[o.status]
        line = f"[{state['done']}/{state['total']}] {o.area_id} {mark}"
        if o.status == "rendered":
            line += f" ({o.seconds:.1f} s)"
        if o.status == "failed":
            line += (f" at cell {o.cell}" if o.cell else "") + f": {o.error}"
        _err(line)

    return on_start, on_done, lambda: None


def _cross_area(area_jobs, out: Path, force: bool) -> list:
    """Render the pages that draw on every area: the synthesis and the tool's reliability."""
    from .reports.paths import template_path
    from .reports.render import reliability_params, render_page, synthesis_params

    pages = []
    results = sorted((out / "areas").glob("*.json"))
    if results:
        _err("Rendering the cross-area synthesis ...")
        pages.append(
            render_page(
                "synthesis",
                out,
                template=template_path("synthesis_report.ipynb"),
                params=synthesis_params(area_jobs, out),
                inputs=results,
                title="Cross-area synthesis",
                force=force,
            )
        )
    rel = reliability_params(area_jobs)
    if rel is not None:
        name = rel["tool"].upper()
        _err(f"Rendering the reliability of the {name} across areas ...")
        pages.append(
            render_page(
                "reliability",
                out,
                template=template_path("reliability_report.ipynb"),
                params=rel,
                inputs=[a["records"] for a in rel["areas"]],
                title=f"Reliability of the {name} across areas",
                force=force,
            )
        )
    for page in pages:
        if page.status == "failed":
            where = f" at cell {page.cell}" if page.cell else ""
            _err(f"{page.area_name} FAILED{where}: {page.error}")
    return pages


def _render(
    params: list[Path],
    out: Path,
    jobs: int | None,
    force: bool,
    template: Path | None,
    quiet: bool,
    with_synthesis: bool = True,
) -> int:
    from .reports.index import write_index
    from .reports.params import load_jobs
    from .reports.render import render_areas

    try:
        area_jobs = load_jobs(params)
    except EvalkitError as exc:
        _fail_input(exc)
    if template is not None and not template.is_file():
        _fail_input(ParameterError(f"template not found: {template}", key="--template"))
    on_start, on_done, close = _progress_callbacks(quiet)
    t0 = time.perf_counter()
    try:
        outcomes = render_areas(
            area_jobs,
            out,
            template=template,
            n_jobs=jobs,
            force=force,
            on_start=on_start,
            on_done=on_done,
        )
    except EvalkitError as exc:
        close()
        _fail_input(exc)
    finally:
        close()
    pages = _cross_area(area_jobs, out, force) if with_synthesis else []
    index = write_index(out, outcomes, pages=pages)
    failed = [o for o in outcomes if o.status == "failed"]
    took = time.perf_counter() - t0
    rendered = sum(o.status == "rendered" for o in outcomes)
    cached = sum(o.status == "cached" for o in outcomes)
    _err(f"{rendered} rendered, {cached} up to date, {len(failed)} failed in {took:.1f} s.")
    if failed:
        _err(
            "Failed: "
            + ", ".join(o.area_id for o in failed)
            + ". Their previous reports (if any) were kept. Details in the index."
        )
    pages_failed = any(p.status == "failed" for p in pages)
    typer.echo(f"Index: {index}")
    return EXIT_FAILED if failed or pages_failed else 0


@app.command()
def render(
    params: Annotated[
        list[Path],
        typer.Argument(
            help="Parameter files: one YAML per area, a folder of them, or a CSV/XLSX table "
            "with one row per area.",
            show_default=False,
        ),
    ],
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("reports"),
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, help="Areas rendered at once \\[default: number of cores]."
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Render even the areas whose reports are up to date.")
    ] = False,
    template: Annotated[
        Path | None,
        typer.Option(help="Template notebook \\[default: templates/area_report.ipynb]."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Report failures only.")] = False,
    synthesis: Annotated[
        bool, typer.Option(help="Also render the pages across areas (synthesis, tool reliability).")
    ] = True,
) -> None:
    """Render one HTML report per area, a cross-area synthesis and an index.

    Each area's parameters are checked first (all problems in all files are listed
    at once). Areas then run in parallel; one area's failure never stops the
    others or overwrites its last good report. An area whose template, parameters,
    data and evalkit version are unchanged is skipped (--force renders it anyway).
    """
    raise typer.Exit(_render(params, out, jobs, force, template, quiet, synthesis))


@app.command()
def validate(
    params: Annotated[
        list[Path],
        typer.Argument(
            help="Parameter files, folders or CSV/XLSX tables to check.", show_default=False
        ),
    ],
) -> None:
    """Check parameter files (keys, types, ranges, data files and their columns) without rendering."""
    from .reports.params import load_jobs

    try:
        jobs = load_jobs(params)
    except EvalkitError as exc:
        _fail_input(exc)
    typer.echo(f"{len(jobs)} area(s) OK: " + ", ".join(j.area_id for j in jobs))


@app.command()
def demo(
    data: Annotated[Path, typer.Option(help="Where the demo data go.")] = Path("data/demo"),
    out: Annotated[Path, typer.Option("--out", "-o", help="Output folder.")] = Path("reports"),
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs", "-j", min=1, help="Areas rendered at once \\[default: number of cores]."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Render every area again.")] = False,
    regenerate: Annotated[
        bool, typer.Option(help="Generate the synthetic data again even if present.")
    ] = False,
) -> None:
    """Generate the synthetic 20-area demo (if missing) and render its reports and index."""
    from .reports.demo import demo_exists, write_demo

    if regenerate or not demo_exists(data):
        _err(f"Generating the synthetic demo data in {data} ...")
        write_demo(data)
    code = _render([data / "params"], out, jobs, force, None, quiet=False)
    typer.echo(f"Open {os.path.join(out, 'index.html')} in a browser.")
    raise typer.Exit(code)


app.add_typer(tools_app, name="tools")
app.command("score")(score)
from .cli_share import register_share  # noqa: E402

register_share(app)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        _err("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
