"""A whole run: areas, then their records, then the pages across areas, then the index.

:func:`build` is what ``evalkit render`` does (the command only parses options and
prints). It holds the output folder's lock for the whole run, so a second run into
the same folder waits or stops with a clear message, and it says what it had to
repair (a lost ``status.json``, the lock of a run that no longer exists).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path

from .files import OutputLock, prepare_output
from .index import write_index
from .params import AreaJob, reliability_params, synthesis_params
from .paths import template_path
from .render import (
    DEFAULT_TIMEOUT,
    AreaOutcome,
    PageSpec,
    WorkerPool,
    id_sources,
    render_area_pages,
    render_areas,
    render_pages,
)
from .status import read_status

__all__ = ["BuildResult", "build", "render_cross_area", "EXIT_OK", "EXIT_FAILED", "EXIT_USAGE"]

#: exit codes of ``evalkit render``: all good; some area or page failed; unusable input or output
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


@dataclass
class BuildResult:
    """What a run did: each area's and each cross-area page's outcome, the index, notes."""

    outcomes: list[AreaOutcome]
    pages: list[AreaOutcome]
    index: Path
    notes: list[str] = field(default_factory=list)
    area_pages: list[AreaOutcome] = field(default_factory=list)  # needs assessments

    @property
    def failed(self) -> list[AreaOutcome]:
        """Areas and pages that failed."""
        every = [*self.outcomes, *self.pages, *self.area_pages]
        return [o for o in every if o.status == "failed"]

    @property
    def output_problems(self) -> list[AreaOutcome]:
        """Those that failed because the output folder could not be written."""
        return [o for o in self.failed if o.output_problem]

    @property
    def exit_code(self) -> int:
        """0 all good, 1 some area or page failed, 2 the output folder could not be written."""
        if self.output_problems:
            return EXIT_USAGE
        return EXIT_FAILED if self.failed else EXIT_OK


def render_cross_area(
    jobs: Sequence[AreaJob],
    out: str | os.PathLike[str],
    *,
    force: bool = False,
    timeout: int = DEFAULT_TIMEOUT,
    on_page: Callable[[str], None] | None = None,
    executor: Executor | None = None,
) -> list[AreaOutcome]:
    """Render the pages that draw on every area: the synthesis and the tool's reliability.

    Each page is scanned for the person IDs of every area before it is written. With the
    run's :class:`~evalkit.reports.render.WorkerPool` they render side by side.
    """
    out = Path(out)
    specs = []
    results = sorted((out / "areas").glob("*.json"))
    if results:
        specs.append(
            PageSpec(
                "synthesis",
                template_path("synthesis_report.ipynb"),
                synthesis_params(jobs, out),
                results,
                "Cross-area synthesis",
            )
        )
        if on_page:
            on_page("the cross-area synthesis")
    rel = reliability_params(jobs, out)
    if rel is not None:
        name = rel["tool"].upper()
        specs.append(
            PageSpec(
                "reliability",
                template_path("reliability_report.ipynb"),
                rel,
                [p for a in rel["areas"] if (p := out / "areas" / f"{a}.json").exists()],
                f"Reliability of the {name} across areas",
            )
        )
        if on_page:
            on_page(f"the reliability of the {name} across areas")
    if not specs:
        return []
    return render_pages(
        specs,
        out,
        force=force,
        timeout=timeout,
        sources=id_sources(jobs),
        executor=executor,
    )


def build(
    jobs: Sequence[AreaJob],
    out: str | os.PathLike[str],
    *,
    template: str | os.PathLike[str] | None = None,
    n_jobs: int | None = None,
    force: bool = False,
    timeout: int = DEFAULT_TIMEOUT,
    cross_area: bool = True,
    wait: float = 10.0,
    executor: Executor | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_done: Callable[[AreaOutcome], None] | None = None,
    on_page: Callable[[str], None] | None = None,
) -> BuildResult:
    """Render the areas, the pages across areas and the index into ``out``.

    Parameters
    ----------
    jobs
        Checked areas from :func:`evalkit.reports.params.load_jobs`.
    out
        Output folder (created if needed).
    template, n_jobs, force, executor, on_start, on_done
        As for :func:`evalkit.reports.render.render_areas`.
    timeout
        Seconds one cell may run before its area (or page) fails.
    cross_area
        Also render the synthesis and the tool-reliability page.
    wait
        Seconds to wait for another run that holds the output folder.
    on_page
        Called with the name of each cross-area page as it starts.

    Raises
    ------
    OutputError
        The folder cannot be written, or another run holds it for longer than ``wait``.
    """
    out = prepare_output(out, ("areas", "notebooks"))
    notes: list[str] = []
    # one pool for the whole run: each worker starts its kernel factory once
    own = WorkerPool(n_jobs or os.cpu_count() or 1) if executor is None else None
    with OutputLock(out, wait=wait) as lock, own or contextlib.nullcontext():
        executor = own or executor
        if lock.took_over is not None:
            notes.append(
                f"took over the lock of an earlier run (process {lock.took_over}) that "
                "no longer exists"
            )
        status = read_status(out)
        if status.rebuilt and status.note:
            notes.append(status.note)
        outcomes = render_areas(
            jobs,
            out,
            template=template,
            n_jobs=n_jobs,
            force=force,
            executor=executor,
            on_start=on_start,
            on_done=on_done,
            timeout=timeout,
        )
        if on_page and any(j.params.get("needs_data") for j in jobs):
            on_page("the needs assessments")
        area_pages = render_area_pages(
            jobs, out, n_jobs=n_jobs, force=force, executor=executor, timeout=timeout
        )
        pages = (
            render_cross_area(
                jobs, out, force=force, timeout=timeout, on_page=on_page, executor=executor
            )
            if cross_area
            else []
        )
        index = write_index(
            out, outcomes, pages=pages, sources=id_sources(jobs), area_pages=area_pages
        )
    return BuildResult(outcomes, pages, index, notes, area_pages)
