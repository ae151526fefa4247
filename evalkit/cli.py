"""The ``evalkit`` command.

    evalkit demo                      generate the synthetic demo and render its 20 reports
    evalkit render PARAMS... --out D  one report per area, pages across areas, an index
    evalkit validate PARAMS...        check parameter files without rendering anything
    evalkit tools list | show NAME    the measurement tools evalkit can score
    evalkit score NAME DATA -o OUT    score a tool's items in a data file

Exit codes: 0 everything worked; 1 some area or page failed (the others were rendered);
2 the parameters, data or output folder were not usable (a one-line error says why);
130 interrupted (Ctrl-C).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

import typer

from . import __version__
from .cli_matrix import matrix_app
from .cli_plan import plan_app
from .cli_project import init, schema
from .cli_tools import score, tools_app
from .errors import EvalkitError, ParameterError

app = typer.Typer(
    name="evalkit",
    help="Evaluation reports for maternity and early-years services.\n\n"
    "New here? 'evalkit demo' renders a synthetic 20-area demo; 'evalkit init FOLDER' "
    "starts your own evaluation (a parameters workbook to fill in, then 'evalkit validate' "
    "and 'evalkit render').\n\n"
    "Exit codes: 0 all good; 1 some area or page failed (the others were rendered); "
    "2 the parameters, data or output folder were not usable; 130 interrupted.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)

EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130


def _err(message: str) -> None:
    typer.echo(message, err=True)


def _fail_input(exc: EvalkitError, after: str | None = None) -> None:
    if isinstance(exc, ParameterError) and len(exc.problems) > 1:
        _err(f"{len(exc.problems)} problems in the parameters (nothing was rendered):")
        for line in exc.problems:
            _err(f"  - {line}")
    else:
        _err(f"error: {exc}")
    if after:
        _err(after)
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
            if o.status == "failed" and not o.output_problem:
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
        if (quiet and o.status != "failed") or o.output_problem:
            return  # an output folder problem is reported once, at the end
        mark = {"rendered": "ok", "cached": "up to date", "failed": "FAILED"}[o.status]
        line = f"[{state['done']}/{state['total']}] {o.area_id} {mark}"
        if o.status == "rendered":
            line += f" ({o.seconds:.1f} s)"
        if o.status == "failed":
            line += (f" at cell {o.cell}" if o.cell else "") + f": {o.error}"
        _err(line)

    return on_start, on_done, lambda: None


def _first_run_help(params: list[Path]) -> None:
    """A folder with no parameter files: say what to do next instead of a bare error."""
    folders = [p for p in params if p.is_dir()]
    if not folders or len(folders) != len(params):
        return
    found = [q for p in folders for q in p.iterdir() if q.suffix.lower() in (".yaml", ".yml")]
    if found:
        return
    books = [
        q for p in folders for q in sorted(p.iterdir()) if q.suffix.lower() in (".xlsx", ".csv")
    ]
    where = ", ".join(map(str, folders))
    if books:
        _err(
            f"No .yaml parameter files in {where}. If {books[0]} is your parameters "
            f"workbook, give it to render itself:\n  evalkit render {books[0]} --out reports"
        )
    else:
        _err(
            f"No parameter files in {where}. To start an evaluation:\n"
            "  evalkit init my-evaluation        a parameters workbook, data dictionaries, a README\n"
            "  cd my-evaluation                  then fill in parameters.xlsx\n"
            "  evalkit validate parameters.xlsx\n"
            "  evalkit render parameters.xlsx --out reports\n"
            "Or try the synthetic demo first: evalkit demo"
        )
    raise typer.Exit(EXIT_BAD_INPUT)


@contextlib.contextmanager
def _run_pool(jobs: int | None) -> Iterator[Any]:
    """The run's pool of local workers (None for ``jobs=0``: the areas run on Dask).

    It is warmed (:meth:`~evalkit.reports.render.WorkerPool.warm`) as soon as an area
    is known to need rendering. Bad input or Ctrl-C ends its workers at once, rather
    than after their start-up.
    """
    if jobs == 0:
        yield None
        return
    from .reports.render import WorkerPool

    pool = WorkerPool(jobs or os.cpu_count() or 1)
    try:
        yield pool
    except BaseException:
        pool.stop()
        raise
    pool.shutdown()


def _render(
    params: list[Path],
    out: Path,
    jobs: int | None,
    force: bool,
    template: Path | None,
    quiet: bool,
    with_synthesis: bool = True,
    timeout: int = 600,
    wait: float = 10.0,
    scheduler: str | None = None,
    dask_workers: int | None = None,
) -> int:
    from .reports.build import build
    from .reports.executors import dask_client
    from .reports.params import load_jobs
    from .reports.render import is_up_to_date

    _first_run_help(params)
    if template is not None and not template.is_file():
        _fail_input(ParameterError(f"template not found: {template}", key="--template"))
    local = scheduler is None and dask_workers is None
    with _run_pool(jobs if local else 0) as pool:

        def up_to_date(job: Any) -> bool:
            current = is_up_to_date(job, out, template)
            if not current and pool is not None:
                pool.warm()  # its workers start while the other areas' inputs are checked
            return current

        if force and pool is not None:
            pool.warm()
        try:
            # an area with too few people renders its short "cannot be estimated" page while the
            # others render (`evalkit validate` still reports it); an area whose report is up
            # to date was checked when it was rendered: its data files (unchanged, or the
            # report would not be) are not read again
            area_jobs = load_jobs(
                params, enough_data=False, skip_data=None if force else up_to_date
            )
        except EvalkitError as exc:
            _fail_input(exc)
        on_start, on_done, close = _progress_callbacks(quiet)
        t0 = time.perf_counter()
        try:
            with dask_client(scheduler, dask_workers) as client:
                result = build(
                    area_jobs,
                    out,
                    template=template,
                    n_jobs=jobs,
                    force=force,
                    timeout=timeout,
                    cross_area=with_synthesis,
                    wait=wait,
                    executor=client or pool,
                    on_start=on_start,
                    on_done=on_done,
                    on_page=None if quiet else lambda what: _err(f"Rendering {what} ..."),
                )
        except EvalkitError as exc:
            close()
            _fail_input(exc)
        except KeyboardInterrupt:  # the run has cleaned up (lock, kernel folders) on its way out
            close()
            _err("Interrupted.")
            raise typer.Exit(EXIT_INTERRUPTED) from None
        finally:
            close()
        took = time.perf_counter() - t0
    for note in result.notes:
        _err(f"note: {note}.")
    for page in [*result.pages, *result.area_pages]:
        if page.status == "failed" and not page.output_problem:
            where = f" at cell {page.cell}" if page.cell else ""
            _err(f"{page.area_name} FAILED{where}: {page.error}")
    outcomes = result.outcomes
    failed = [o for o in outcomes if o.status == "failed"]
    rendered = sum(o.status == "rendered" for o in outcomes)
    cached = sum(o.status == "cached" for o in outcomes)
    _err(f"{rendered} rendered, {cached} up to date, {len(failed)} failed in {took:.1f} s.")
    if result.output_problems:
        first = result.output_problems[0]
        _err(
            f"error: output folder {out}: {first.error} "
            f"({len(result.output_problems)} page(s) not written)"
        )
        return result.exit_code
    if failed:
        _err(
            "Failed: "
            + ", ".join(o.area_id for o in failed)
            + ". Their previous reports (if any) were kept. Details in the index."
        )
    typer.echo(f"Index: {result.index}")
    return result.exit_code


# Where the areas run (both names are fixed: checks outside the tests call them).
_Scheduler = Annotated[
    str | None,
    typer.Option(
        "--scheduler",
        metavar="ADDRESS",
        help="Render the areas on an existing Dask cluster, e.g. tcp://HOST:8786 "
        "(needs evalkit\\[dask]).",
    ),
]
_DaskWorkers = Annotated[
    int | None,
    typer.Option(
        "--dask-workers",
        min=1,
        metavar="N",
        help="Render the areas on a local Dask cluster of N worker processes "
        "(needs evalkit\\[dask]).",
    ),
]


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
    timeout: Annotated[
        int,
        typer.Option(
            "--timeout",
            min=1,
            metavar="SECONDS",
            help="Seconds one notebook cell may run; an area whose cell runs longer fails.",
        ),
    ] = 600,
    wait: Annotated[
        float,
        typer.Option(
            "--wait",
            min=0,
            metavar="SECONDS",
            help="Seconds to wait for another evalkit run that is writing to the same "
            "output folder, before stopping.",
        ),
    ] = 10.0,
    scheduler: _Scheduler = None,
    dask_workers: _DaskWorkers = None,
) -> None:
    """Render one HTML report per area, a cross-area synthesis and an index.

    Each area's parameters are checked first (all problems in all files are listed
    at once). Areas then run in parallel; one area's failure never stops the
    others or overwrites its last good report. An area whose template, parameters,
    data and evalkit version are unchanged is skipped (--force renders it anyway).

    Exit codes: 0 every area and page rendered (or was up to date); 1 some area or
    page failed (the others were rendered); 2 the parameters, data or output folder
    were not usable (a one-line error says why); 130 interrupted (Ctrl-C).
    """
    raise typer.Exit(
        _render(
            params,
            out,
            jobs,
            force,
            template,
            quiet,
            synthesis,
            timeout=timeout,
            wait=wait,
            scheduler=_one_engine(scheduler, dask_workers),
            dask_workers=dask_workers,
        )
    )


def _one_engine(scheduler: str | None, dask_workers: int | None) -> str | None:
    if scheduler is not None and dask_workers is not None:
        _fail_input(
            ParameterError(
                "give --scheduler (an existing cluster) or --dask-workers (a local one), not both",
                key="--scheduler",
            )
        )
    return scheduler


@app.command()
def validate(
    params: Annotated[
        list[Path],
        typer.Argument(
            help="Parameter files, folders or CSV/XLSX tables to check.", show_default=False
        ),
    ],
    annotate: Annotated[
        Path | None,
        typer.Option(
            help="Write a copy of the (one) XLSX workbook with each problem marked on its cell."
        ),
    ] = None,
) -> None:
    """Check parameter files (keys, types, ranges, data files and their columns) without rendering."""
    from .reports.params import load_jobs

    try:
        jobs = load_jobs(params)
    except EvalkitError as exc:
        marked = None
        if annotate is not None and isinstance(exc, ParameterError):
            marked = _annotate(params, exc.problems, annotate)
        _fail_input(exc, after=marked)
    if annotate is not None:
        _err(_annotate(params, [], annotate))
    typer.echo(f"{len(jobs)} area(s) OK: " + ", ".join(j.area_id for j in jobs))


def _annotate(params: list[Path], problems: list[str], out: Path) -> str:
    """Mark the problems on a copy of the one workbook; return what was written."""
    from .reports.workbook import annotate_workbook

    books = [p for p in params if p.suffix.lower() == ".xlsx"]
    if len(books) != 1:
        _fail_input(
            ParameterError(
                "--annotate needs exactly one .xlsx workbook among the parameter files",
                key="--annotate",
            )
        )
    try:
        marked = annotate_workbook(books[0], problems, out)
    except (EvalkitError, OSError) as exc:
        _err(f"error: cannot write {out}: {exc}")
        raise typer.Exit(EXIT_BAD_INPUT) from None
    return f"Wrote {out}: {marked} cell(s) marked."


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
    areas: Annotated[
        int,
        typer.Option(
            "--areas",
            min=1,
            max=999,
            metavar="N",
            help="How many synthetic areas (a national run has about 175). Other than 20, "
            "--data defaults to data/demo-N, so the committed 20-area demo is left alone.",
        ),
    ] = 20,
    scheduler: _Scheduler = None,
    dask_workers: _DaskWorkers = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Report failures only.")] = False,
) -> None:
    """Generate the synthetic demo (if missing) and render its reports and index."""
    from .reports.paths import demo_exists

    engine = _one_engine(scheduler, dask_workers)
    if areas != 20 and data == Path("data/demo"):
        data = Path(f"data/demo-{areas}")
    if regenerate or not demo_exists(data, n_areas=areas):
        _err(f"Generating the synthetic demo data ({areas} areas) in {data} ...")
        from .reports.demo import write_demo

        write_demo(data, n_areas=areas)
    code = _render(
        [data / "params"],
        out,
        jobs,
        force,
        None,
        quiet=quiet,
        scheduler=engine,
        dask_workers=dask_workers,
    )
    typer.echo(f"Open {os.path.join(out, 'index.html')} in a browser.")
    raise typer.Exit(code)


app.command("init")(init)
app.command("schema")(schema)
app.add_typer(plan_app, name="plan")
app.add_typer(tools_app, name="tools")
app.add_typer(matrix_app, name="matrix")
app.command("score")(score)
from .cli_share import register_share  # noqa: E402

register_share(app)


# `evalkit --help` lists the commands in the order a newcomer uses them
_NEWCOMER_ORDER = ["demo", "init", "validate", "render", "schema", "score"]


def _command_rank(info) -> int:
    name = info.name or info.callback.__name__.replace("_", "-")
    return _NEWCOMER_ORDER.index(name) if name in _NEWCOMER_ORDER else len(_NEWCOMER_ORDER)


app.registered_commands.sort(key=_command_rank)


def main() -> None:
    """Console-script entry point."""
    try:
        app()
    except KeyboardInterrupt:
        _err("Interrupted.")
        sys.exit(130)


if __name__ == "__main__":  # pragma: no cover
    main()
