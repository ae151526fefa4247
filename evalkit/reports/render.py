"""Render areas: papermill executes the template per area, nbconvert exports the HTML.

- Areas run in parallel in a :class:`concurrent.futures.Executor` (a process pool
  by default; a Dask ``Client.get_executor()`` can take its place).
- Kernels talk over IPC sockets in a private folder, so parallel kernel starts never
  collide on TCP ports.
- One area's failure is isolated: the others finish, its previous good report is
  kept (reports are written to a temporary file, then renamed), and the outcome
  records the failing cell and its error.
- A content hash of the template, the parameters, the input files and evalkit
  itself is kept beside each report; an unchanged area is skipped unless ``force``.

Layout of the output folder::

    index.html                the list of areas with their status
    areas/<area_id>.html      one self-contained report per area
    areas/<area_id>.json      the area's key results (for the cross-area synthesis)
    areas/<area_id>.sha256    the content hash of the last good render
    notebooks/<area_id>.ipynb the executed notebook (``.failed.ipynb`` when it failed)
    status.json               the last outcome of every area
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .._version import __version__
from .params import AreaJob, file_digest
from .paths import html_template_dir, template_path

__all__ = [
    "AreaOutcome",
    "render_areas",
    "render_one",
    "render_page",
    "synthesis_params",
    "RESULTS_MIME",
    "source_digest",
]

#: MIME type of the key results an area notebook displays (see ``page.record``)
RESULTS_MIME = "application/vnd.evalkit.results+json"


@dataclass
class AreaOutcome:
    """What happened to one area in a run."""

    area_id: str
    area_name: str
    status: str  # "rendered", "cached" or "failed"
    source: str = ""
    html: str | None = None  # path relative to the output folder
    error: str | None = None
    cell: int | None = None  # 1-based number of the failing code cell
    seconds: float = 0.0
    rendered_at: str | None = None
    kept_previous: bool = False
    synthetic: bool = False


# -- hashing --------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=1)
def source_digest() -> str:
    """Hash of evalkit's own source and the HTML export template (cache invalidation)."""
    h = hashlib.sha256(__version__.encode())
    roots = [Path(__file__).resolve().parents[1], html_template_dir()]
    for root in roots:
        for path in sorted(root.rglob("*")):
            if path.suffix in {".py", ".yaml", ".j2", ".css", ".json"} and path.is_file():
                h.update(str(path.relative_to(root)).encode())
                h.update(path.read_bytes())
    return h.hexdigest()


def _cache_key(job: AreaJob, template: Path) -> str:
    h = hashlib.sha256()
    h.update(file_digest(template).encode())
    h.update(source_digest().encode())
    h.update(job.digest().encode())
    return h.hexdigest()


# -- files ----------------------------------------------------------------------------------------


def _atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _now() -> str:
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


# -- the kernel -----------------------------------------------------------------------------------


def _kernel_manager_class() -> type:
    from jupyter_client.manager import KernelManager
    from jupyter_core.utils import run_sync

    class IPCKernelManager(KernelManager):
        """A kernel on IPC sockets in its own folder, run by this interpreter."""

        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            super().__init__(**kwargs)
            self._ipc_dir = tempfile.mkdtemp(prefix="evalkit-kernel-")
            self.ip = os.path.join(self._ipc_dir, "k")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await super()._async_cleanup_resources(restart=restart)
            if not restart:  # the sockets' folder goes with the kernel
                shutil.rmtree(self._ipc_dir, ignore_errors=True)

        async def _async_start_kernel(self, **kw: Any) -> None:
            # The kernel's own log lines (start-up, "KeyboardInterrupt caught" at shutdown)
            # are noise in a progress display; errors reach us through the protocol.
            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            await super()._async_start_kernel(**kw)

        start_kernel = run_sync(_async_start_kernel)

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            # Always this interpreter (the one evalkit is installed in), whatever
            # kernel specs the machine has; no IPython history database.
            return [
                sys.executable,
                "-m",
                "ipykernel_launcher",
                "-f",
                os.path.realpath(self.connection_file),
                "--HistoryManager.enabled=False",
                *(extra_arguments or []),
            ]

    return IPCKernelManager


@functools.lru_cache(maxsize=1)
def _ipc_manager() -> type:
    return _kernel_manager_class()


def _code_cell_number(nb: Any, index: int | None) -> int | None:
    """1-based number of the code cell at notebook position ``index`` (as a reader counts)."""
    if index is None:
        return None
    count = 0
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            count += 1
        if i == index:
            return count
    return None


def _first_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _extract_results(nb: Any) -> dict[str, Any] | None:
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = out.get("data", {})
            if RESULTS_MIME in data:
                return dict(data[RESULTS_MIME])
    return None


# -- one area (runs in a worker process) ------------------------------------------------------------


def render_one(task: dict[str, Any]) -> dict[str, Any]:
    """Execute and export one area; return an :class:`AreaOutcome` as a dict.

    Never raises for a problem in the area: the failure is the outcome.
    """
    import nbformat
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    from . import checks
    from .export import to_html

    start = time.perf_counter()
    out = Path(task["out"])
    area_id = task["area_id"]
    params = task["params"]
    page = out / task["html"]  # where the report goes, e.g. areas/A01.html
    outcome = AreaOutcome(
        area_id,
        params.get("area_name", task["title"]),
        "failed",
        source=task["source"],
        synthetic=bool(params.get("synthetic")),
    )
    nb_dir = out / "notebooks"
    nb_dir.mkdir(parents=True, exist_ok=True)
    tmp_nb = nb_dir / f".{area_id}.{os.getpid()}.ipynb"
    nb = None
    try:
        nb = pm.execute_notebook(
            task["template"],
            str(tmp_nb),
            parameters=params,
            kernel_name="python3",
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            start_timeout=120,
            execution_timeout=task.get("timeout", 600),
            kernel_manager_class=_ipc_manager(),
            cwd=task["cwd"],
        )
    except PapermillExecutionError as exc:
        failed = nbformat.read(tmp_nb, as_version=4) if tmp_nb.exists() else None
        outcome.cell = _code_cell_number(failed, exc.cell_index) if failed else exc.exec_count
        outcome.error = checks.scrub(f"{exc.ename}: {_first_line(exc.evalue)}", task["cwd"])
    except Exception as exc:  # noqa: BLE001 - kernel died, timeout, unreadable template...
        outcome.error = checks.scrub(f"{type(exc).__name__}: {_first_line(str(exc))}", task["cwd"])
    finally:
        if tmp_nb.exists():
            final = nb_dir / (
                f"{area_id}.ipynb"
                if outcome.error is None and nb is not None
                else f"{area_id}.failed.ipynb"
            )
            os.replace(tmp_nb, final)

    if nb is not None and outcome.error is None:
        try:
            title = task["title"]
            footer = f"Rendered {_now()[:10]}."
            if outcome.synthetic:
                footer += " Synthetic demonstration data: no real people or places."
            html_text = to_html(nb, title=title, footer=footer)
            problems = checks.check_html(html_text, params=params, cwd=task["cwd"])
            if problems:
                outcome.error = "report withheld: " + "; ".join(problems)
            else:
                _atomic_write(page, html_text)
                results = _extract_results(nb)
                if results is not None:
                    results.setdefault("area_id", area_id)
                    _atomic_write(
                        page.with_suffix(".json"), json.dumps(results, indent=2, default=str)
                    )
                _atomic_write(page.with_suffix(".sha256"), task["key"] + "\n")
                outcome.status = "rendered"
                outcome.html = task["html"]
                outcome.rendered_at = _now()
                (nb_dir / f"{area_id}.failed.ipynb").unlink(missing_ok=True)
        except Exception as exc:  # noqa: BLE001 - an export problem fails this area only
            outcome.error = checks.scrub(
                f"export failed: {type(exc).__name__}: {_first_line(str(exc))}", task["cwd"]
            )

    if outcome.status == "failed" and page.exists():
        outcome.kept_previous = True
        outcome.html = task["html"]
    outcome.seconds = time.perf_counter() - start
    return asdict(outcome)


# -- many areas -----------------------------------------------------------------------------------


def _is_current(out: Path, html: str, key: str) -> bool:
    page = out / html
    stamp = page.with_suffix(".sha256")
    return page.exists() and stamp.exists() and stamp.read_text(encoding="utf-8").strip() == key


def _task(
    area_id: str,
    params: dict[str, Any],
    *,
    source: str,
    template: Path,
    out: Path,
    key: str,
    html: str,
    title: str,
    timeout: int,
) -> dict[str, Any]:
    return {
        "area_id": area_id,
        "params": params,
        "source": source,
        "template": str(template),
        "out": str(out),
        "key": key,
        "html": html,
        "title": title,
        "timeout": timeout,
        "cwd": os.getcwd(),
    }


def load_status(out: Path) -> dict[str, Any]:
    """The outcome of every area from the last run (``status.json``), or ``{}``."""
    try:
        return json.loads((out / "status.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def render_areas(
    jobs: Sequence[AreaJob],
    out: str | os.PathLike[str],
    *,
    template: str | os.PathLike[str] | None = None,
    n_jobs: int | None = None,
    force: bool = False,
    executor: Executor | None = None,
    on_start: Callable[[int, int], None] | None = None,
    on_done: Callable[[AreaOutcome], None] | None = None,
    timeout: int = 600,
) -> list[AreaOutcome]:
    """Render every area and return their outcomes (in the order of ``jobs``).

    Parameters
    ----------
    jobs
        Checked areas from :func:`evalkit.reports.params.load_jobs`.
    out
        Output folder (created if needed).
    template
        The template notebook; ``templates/area_report.ipynb`` by default.
    n_jobs
        Areas rendered at once (default: the number of CPU cores).
    force
        Render even when an area's report is up to date.
    executor
        Any :class:`concurrent.futures.Executor` (e.g. Dask's ``client.get_executor()``);
        a process pool of ``n_jobs`` workers by default.
    on_start, on_done
        Progress callbacks: ``on_start(to_render, cached)`` once, ``on_done(outcome)``
        per area as it finishes.
    timeout
        Seconds one cell may run.
    """
    # Workers may not share this process's working folder (a forkserver or a Dask
    # worker started elsewhere): send absolute locations and the folder to run in.
    out = Path(out).resolve()
    (out / "areas").mkdir(parents=True, exist_ok=True)
    template = Path(template).resolve() if template else template_path()
    previous = load_status(out)
    outcomes: dict[str, AreaOutcome] = {}
    tasks = []
    for job in jobs:
        key = _cache_key(job, template)
        html = f"areas/{job.area_id}.html"
        name = job.params.get("area_name", job.area_id)
        if not force and _is_current(out, html, key):
            outcomes[job.area_id] = AreaOutcome(
                job.area_id,
                name,
                "cached",
                source=job.source,
                html=html,
                rendered_at=previous.get(job.area_id, {}).get("rendered_at"),
                synthetic=bool(job.params.get("synthetic")),
            )
            continue
        tasks.append(
            _task(
                job.area_id,
                job.params,
                source=job.source,
                template=template,
                out=out,
                key=key,
                html=html,
                timeout=timeout,
                title=f"{name}: evaluation report",
            )
        )
    if on_start:
        on_start(len(tasks), len(outcomes))
    for outcome in outcomes.values():
        if on_done:
            on_done(outcome)

    if tasks:
        own = executor is None
        workers = max(1, min(n_jobs or os.cpu_count() or 1, len(tasks)))
        if own:
            import multiprocessing as mp

            executor = ProcessPoolExecutor(
                max_workers=workers, mp_context=mp.get_context("forkserver")
            )
        try:
            futures = {executor.submit(render_one, t): t for t in tasks}
            for fut in as_completed(futures):
                task = futures[fut]
                try:
                    result = AreaOutcome(**fut.result())
                except Exception as exc:  # noqa: BLE001 - a worker that died
                    result = AreaOutcome(
                        task["area_id"],
                        task["params"].get("area_name", ""),
                        "failed",
                        source=task["source"],
                        error=f"worker failed: {type(exc).__name__}: {exc}",
                    )
                    if (out / "areas" / f"{task['area_id']}.html").exists():
                        result.kept_previous = True
                        result.html = f"areas/{task['area_id']}.html"
                outcomes[result.area_id] = result
                if on_done:
                    on_done(result)
        finally:
            if own:
                executor.shutdown()

    ordered = [outcomes[j.area_id] for j in jobs]
    status = dict(previous)
    for o in ordered:
        entry = asdict(o)
        if o.status == "failed" and o.area_id in previous:
            entry["rendered_at"] = previous[o.area_id].get("rendered_at")
        status[o.area_id] = entry
    _atomic_write(out / "status.json", json.dumps(status, indent=2))
    return ordered


def render_page(
    name: str,
    out: str | os.PathLike[str],
    *,
    template: str | os.PathLike[str],
    params: dict[str, Any],
    inputs: Sequence[str | os.PathLike[str]] = (),
    title: str,
    force: bool = False,
    timeout: int = 600,
) -> AreaOutcome:
    """Render one page that draws on all areas (``synthesis``, ``reliability``) as ``<name>.html``.

    ``inputs`` are the files the page reads (the areas' results); with the template,
    the parameters and evalkit itself they make the cache key. Runs in this process
    (with its own kernel), after the areas.
    """
    out = Path(out).resolve()
    template = Path(template).resolve()
    h = hashlib.sha256(template.read_bytes())
    h.update(source_digest().encode())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    for path in sorted(map(str, inputs)):
        h.update(path.encode())
        h.update(Path(path).read_bytes())
    key = h.hexdigest()
    html = f"{name}.html"
    synthetic = bool(params.get("synthetic"))
    if not force and _is_current(out, html, key):
        return AreaOutcome(name, title, "cached", html=html, synthetic=synthetic)
    task = _task(
        name,
        params,
        source=name,
        template=template,
        out=out,
        key=key,
        html=html,
        title=title,
        timeout=timeout,
    )
    return AreaOutcome(**render_one(task))


def synthesis_params(jobs: Sequence[AreaJob], out: str | os.PathLike[str]) -> dict[str, Any]:
    """Parameters of the cross-area synthesis, from the areas' own parameters.

    The indicator and maturity-matrix sections appear when every area names the
    same file (and indicator); the area results are read from ``out/areas``.
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
        "suppression_threshold": max(
            (j.params.get("suppression_threshold", 10) for j in jobs), default=10
        ),
        "synthetic": any(j.params.get("synthetic") for j in jobs),
    }
    if not (params["indicators"] and params["indicator"]):
        params["indicators"] = params["indicator"] = params["indicator_label"] = ""
    return params


def reliability_params(jobs: Sequence[AreaJob]) -> dict[str, Any] | None:
    """Parameters of the tool-reliability page: the main tool most areas use, every area using it.

    None when fewer than two areas share a tool.
    """
    from collections import Counter

    counts = Counter(j.params.get("outcome_tool") for j in jobs)
    if not counts:
        return None
    tool, n = counts.most_common(1)[0]
    if n < 2:
        return None
    areas = [
        {
            "area_id": j.area_id,
            "area_name": j.params.get("area_name", j.area_id),
            "records": j.params["records"],
            "id_column": j.params.get("id_column", "id"),
            "pre_prefix": j.params.get("outcome_pre_prefix"),
        }
        for j in jobs
        if j.params.get("outcome_tool") == tool
    ]
    return {
        "tool": tool,
        "areas": areas,
        "suppression_threshold": max(j.params.get("suppression_threshold", 10) for j in jobs),
        "synthetic": any(j.params.get("synthetic") for j in jobs),
    }
