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
    status.json               the last outcome of every area (merged, see ``status.py``)

Faults are contained: a kernel that dies fails its area within seconds (nbclient
watches it through an asynchronous kernel manager); a cell that runs past ``timeout``
fails its area; a worker process that dies breaks the pool, which is replaced, and
the areas that had not finished run again, each in a process of its own, so only the
area that kills its worker is marked failed (after one retry). Kernels keep their
sockets in one temporary folder per run, removed at the end even after Ctrl-C.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import (
    Executor,
    Future,
    ProcessPoolExecutor,
    ThreadPoolExecutor,
    as_completed,
)
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from .._version import __version__
from .files import atomic_write, now, os_reason
from .kernels import WorkerLost, factory_lost, factory_socket
from .params import AreaJob, file_digest
from .paths import html_template_dir, template_path
from .record import RESULTS_MIME, extract_results, record_json
from .status import merge_status

__all__ = [
    "AreaOutcome",
    "DEFAULT_TIMEOUT",
    "render_areas",
    "render_one",
    "worker_failure",
    "render_page",
    "render_area_pages",
    "area_page_jobs",
    "AreaPage",
    "AREA_PAGES",
    "RESULTS_MIME",
    "source_digest",
    "id_sources",
    "is_up_to_date",
    "kernel_manager_class",
    "WorkerPool",
    "render_pages",
]

#: seconds one cell may run before its area fails (``evalkit render --timeout``)
DEFAULT_TIMEOUT = 600

#: seconds to wait for a cell's outputs after its reply (nbclient's default of 4 s drops
#: outputs without a word when the machine is loaded)
IOPUB_TIMEOUT = 60

#: errors that mean the output folder, not the area, is at fault
_OUTPUT_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES, errno.EPERM}


@dataclass
class AreaOutcome:
    """What happened to one area in a run."""

    area_id: str
    area_name: str
    status: str  # "rendered", "cached", "failed" (or "found": listed from files, see status.py)
    source: str = ""
    html: str | None = None  # path relative to the output folder
    error: str | None = None
    cell: int | None = None  # 1-based number of the failing code cell
    seconds: float = 0.0
    rendered_at: str | None = None
    kept_previous: bool = False
    synthetic: bool = False
    output_problem: bool = False  # failed because the output folder could not be written


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


def is_up_to_date(
    job: AreaJob,
    out: str | os.PathLike[str],
    template: str | os.PathLike[str] | None = None,
) -> bool:
    """True when ``out`` holds this area's report rendered from these very parameters and
    input files, with this template and this evalkit (what :func:`render_areas` skips)."""
    folder = Path(out)
    if not (folder / "areas").is_dir():
        return False
    template = Path(template).resolve() if template else template_path()
    try:
        key = _cache_key(job, template)
    except OSError:
        return False
    return _is_current(folder.resolve(), f"areas/{job.area_id}.html", key)


def id_sources(jobs: Sequence[AreaJob]) -> list[tuple[str, ...]]:
    """(records file, ID column, sheet, encoding) of every area: what the ID scan looks for
    in shared pages, read as the report reads it."""
    return [_id_source(j.params) for j in jobs]


def _id_source(params: dict[str, Any]) -> tuple[str, ...]:
    return (
        params["records"],
        params.get("id_column", "id"),
        params.get("sheet") or "",
        params.get("encoding") or "",
    )


# -- the kernel -----------------------------------------------------------------------------------

#: the run's folder for kernel sockets (set in each worker from its task)
_KERNEL_ROOT: str | None = None


def _ready_client_class() -> type:
    from queue import Empty

    from jupyter_client.asynchronous import AsyncKernelClient

    class ReadyClient(AsyncKernelClient):
        """A client that knows the kernel is ready as soon as it is.

        jupyter_client's ``wait_for_ready`` ends by waiting for 0.2 s of silence on
        IOPub, and on a reply with nothing yet on IOPub waits another 0.2 s: 0.4 s of
        every kernel's start spent idle. Here the kernel is ready when it has replied
        to ``kernel_info`` on the shell channel *and* its "idle" status for that same
        request has come through IOPub: then IOPub is connected, and everything the
        kernel published before is behind us (nbclient keeps only the messages of its
        own requests anyway). A request sent before IOPub was connected loses its
        status, and is simply asked again, waiting longer each time.
        """

        async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
            deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
            idle_wait = 0.05  # doubled on each miss: a loaded machine's IOPub may lag more
            while True:
                msg_id = self.kernel_info()
                reply = await self._reply_to(msg_id, self._async_get_shell_msg, 1.0)
                if reply is not None:
                    if await self._idle_after(msg_id, idle_wait):
                        self._handle_kernel_info_reply(reply)
                        return
                    idle_wait = min(2 * idle_wait, 1.0)
                if not await self._async_is_alive():
                    raise RuntimeError("Kernel died before replying to kernel_info")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")

        async def _reply_to(self, msg_id: str, get: Any, wait: float) -> dict | None:
            end = time.monotonic() + wait
            while (left := end - time.monotonic()) > 0:
                try:
                    msg = await get(timeout=left)
                except Empty:
                    return None
                if msg["parent_header"].get("msg_id") == msg_id:
                    return msg
            return None

        async def _idle_after(self, msg_id: str, wait: float) -> bool:
            end = time.monotonic() + wait
            while (left := end - time.monotonic()) > 0:
                msg = await self._reply_to(msg_id, self._async_get_iopub_msg, left)
                if msg is None:
                    return False
                if msg["msg_type"] == "status" and msg["content"].get("execution_state") == "idle":
                    return True
            return False

        wait_for_ready = _async_wait_for_ready

    return ReadyClient


def _kernel_manager_class() -> type:
    from jupyter_client.manager import AsyncKernelManager, KernelManager

    ready_client = _ready_client_class()

    class IPCKernelManager(AsyncKernelManager):
        """A kernel on IPC sockets in its own folder, run by this interpreter.

        Asynchronous, as nbclient expects: with a synchronous manager its wait for
        output blocks the event loop, so neither the cell timeout nor the check that
        the kernel is alive ever runs (a dead kernel hung the render).
        """

        def __init__(self, **kwargs: Any) -> None:
            kwargs.setdefault("transport", "ipc")
            kwargs.setdefault("client_factory", ready_client)
            super().__init__(**kwargs)
            self._ipc_dir = tempfile.mkdtemp(
                prefix="evalkit-kernel-" if _KERNEL_ROOT is None else "k-", dir=_KERNEL_ROOT
            )
            self.ip = os.path.join(self._ipc_dir, "k")

        async def _async_cleanup_resources(self, restart: bool = False) -> None:
            await KernelManager._async_cleanup_resources(self, restart=restart)
            if not restart:  # the sockets' folder goes with the kernel
                shutil.rmtree(self._ipc_dir, ignore_errors=True)

        cleanup_resources = _async_cleanup_resources

        async def _async_wait(self, pollinterval: float = 0.1) -> None:
            # a killed kernel's launcher ends within milliseconds: look every 10 ms, not 100
            await KernelManager._async_wait(self, pollinterval=min(pollinterval, 0.01))

        async def _async_start_kernel(self, **kw: Any) -> None:
            # The kernel's own log lines (start-up, "KeyboardInterrupt caught" at shutdown)
            # are noise in a progress display; errors reach us through the protocol.
            kw.setdefault("stdout", subprocess.DEVNULL)
            kw.setdefault("stderr", subprocess.DEVNULL)
            await KernelManager._async_start_kernel(self, **kw)

        start_kernel = _async_start_kernel

        def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
            # Always this interpreter (the one evalkit is installed in), whatever kernel
            # specs the machine has; no IPython history database. The kernel is forked
            # from this worker's kernel factory (imports already paid) where possible.
            from .kernels import kernel_command

            return kernel_command(os.path.realpath(self.connection_file), extra_arguments or [])

    return IPCKernelManager


@functools.lru_cache(maxsize=1)
def kernel_manager_class() -> type:
    """The engine's kernel manager (IPC sockets, kernels forked from the factory), for nbclient."""
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


def _running_cell(nb: Any) -> int | None:
    """Notebook position of the cell papermill marked as running (a timeout, a dead kernel)."""
    for i, cell in enumerate(nb.cells):
        if cell.get("metadata", {}).get("papermill", {}).get("status") == "running":
            return i
    return None


def _first_line(text: str, limit: int = 300) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _archive(tmp_nb: Path, final: Path, template: str) -> None:
    """Keep the executed notebook as ``final``, without this machine's paths in its metadata."""
    import nbformat

    try:
        try:
            nb = nbformat.read(tmp_nb, as_version=4)
        except Exception:  # noqa: BLE001 - cut short (a full disk, a killed kernel): not kept
            return
        meta = nb.metadata.get("papermill")
        if meta is not None:
            meta["input_path"] = Path(template).name
            meta["output_path"] = f"{final.parent.name}/{final.name}"
        atomic_write(final, nbformat.writes(nb))
    finally:
        tmp_nb.unlink(missing_ok=True)


def _publish(page: Path, html_text: str, results: dict[str, Any] | None, key: str, area_id: str):
    """Write the record, the report and its stamp; the stamp last, removed on any failure."""
    stamp = page.with_suffix(".sha256")
    try:
        if results is not None:
            atomic_write(page.with_suffix(".json"), record_json(results, area_id))
        atomic_write(page, html_text)
        atomic_write(stamp, key + "\n")
    except OSError:
        stamp.unlink(missing_ok=True)  # the next run renders the area again
        raise


# -- one area (runs in a worker process) ------------------------------------------------------------


def render_one(task: dict[str, Any]) -> dict[str, Any]:
    """Execute and export one area; return an :class:`AreaOutcome` as a dict.

    Never raises for a problem in the area: the failure is the outcome. An error
    message that would show a person ID from the data is withheld.
    """
    global _KERNEL_ROOT
    import papermill as pm
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from papermill.exceptions import PapermillExecutionError

    from . import checks
    from .export import to_html

    start = time.perf_counter()
    root = task.get("kernel_root")
    _KERNEL_ROOT = root if root and os.path.isdir(root) else None
    out = Path(task["out"])
    area_id = task["area_id"]
    params = task["params"]
    cwd = task["cwd"]
    timeout = task.get("timeout", DEFAULT_TIMEOUT)
    page = out / task["html"]  # where the report goes, e.g. areas/A01.html
    own = [_id_source(params)] if params.get("records") else []
    sources = [tuple(s) for s in task.get("id_sources") or own]
    outcome = AreaOutcome(
        area_id,
        params.get("area_name", task["title"]),
        "failed",
        source=task["source"],
        synthetic=bool(params.get("synthetic")),
    )

    def fail(message: str, *, output: bool = False) -> None:
        text = checks.scrub(message, cwd)
        problems = checks.check_page(text, id_sources=sources, cwd=cwd)
        if problems:  # an error text that names people is not shown anywhere
            text = "the error message is withheld (" + "; ".join(problems) + "); "
            text += "the executed notebook has the details"
        outcome.error = text
        outcome.output_problem = output

    nb_dir = out / "notebooks"
    tmp_nb = nb_dir / f".{area_id}.{os.getpid()}.ipynb"
    nb = None
    failed_nb = None
    try:
        nb_dir.mkdir(parents=True, exist_ok=True)
        with _quiet_logs():  # what went wrong is in the outcome, said once
            nb = _execute(pm, task, tmp_nb, params, timeout, cwd)
    except PapermillExecutionError as exc:
        failed_nb = _read_or_none(tmp_nb)
        outcome.cell = _code_cell_number(failed_nb, exc.cell_index) if failed_nb else None
        outcome.cell = outcome.cell or exc.exec_count
        fail(f"{exc.ename}: {_first_line(exc.evalue)}")
    except CellTimeoutError as exc:
        failed_nb = _read_or_none(tmp_nb)
        outcome.cell = _code_cell_number(failed_nb, _running_cell(failed_nb)) if failed_nb else None
        if "IOPub" in str(exc):
            fail(f"a cell's outputs did not arrive within {IOPUB_TIMEOUT} s of its end")
        else:
            fail(f"a cell ran longer than the time limit of {timeout} s (evalkit render --timeout)")
    except DeadKernelError:
        if factory_lost():  # the worker's own process tree was hit: as a dead worker
            tmp_nb.unlink(missing_ok=True)
            raise WorkerLost(area_id) from None
        failed_nb = _read_or_none(tmp_nb)
        outcome.cell = _code_cell_number(failed_nb, _running_cell(failed_nb)) if failed_nb else None
        fail("the Python kernel running the notebook stopped abruptly (killed, or out of memory)")
    except OSError as exc:
        if exc.errno in _OUTPUT_ERRNOS:
            fail(f"cannot write the executed notebook: {os_reason(exc)}", output=True)
        else:
            fail(f"{type(exc).__name__}: {_first_line(str(exc))}")
    except Exception as exc:  # noqa: BLE001 - unreadable template, kernel that would not start...
        fail(f"{type(exc).__name__}: {_first_line(str(exc))}")
    finally:
        if tmp_nb.exists():
            ok = outcome.error is None and nb is not None
            final = nb_dir / (f"{area_id}.ipynb" if ok else f"{area_id}.failed.ipynb")
            try:
                _archive(tmp_nb, final, task["template"])
            except OSError as exc:
                nb = None
                if outcome.error is None:
                    fail(f"cannot write the executed notebook: {os_reason(exc)}", output=True)

    if nb is not None and outcome.error is None:
        try:
            footer = f"Rendered {now()[:10]}."
            if outcome.synthetic:
                footer += " Synthetic demonstration data: no real people or places."
            html_text = to_html(nb, title=task["title"], footer=footer)
            problems = checks.check_page(html_text, id_sources=sources, cwd=cwd)
        except Exception as exc:  # noqa: BLE001 - an export problem fails this area only
            fail(f"export failed: {type(exc).__name__}: {_first_line(str(exc))}")
        else:
            if problems:
                outcome.error = "report withheld: " + "; ".join(problems)
            else:
                try:
                    _publish(page, html_text, extract_results(nb), task["key"], area_id)
                except OSError as exc:
                    fail(f"the report could not be written: {os_reason(exc)}", output=True)
                else:
                    outcome.status = "rendered"
                    outcome.html = task["html"]
                    outcome.rendered_at = now()
                    (nb_dir / f"{area_id}.failed.ipynb").unlink(missing_ok=True)

    if outcome.status == "failed" and page.exists():
        outcome.kept_previous = True
        outcome.html = task["html"]
    outcome.seconds = time.perf_counter() - start
    return asdict(outcome)


def _execute(pm: Any, task: dict[str, Any], tmp_nb: Path, params: dict, timeout: int, cwd: str):
    return pm.execute_notebook(
        task["template"],
        str(tmp_nb),
        parameters=params,
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        request_save_on_cell_execute=False,
        start_timeout=120,
        execution_timeout=timeout,
        kernel_manager_class=kernel_manager_class(),
        cwd=cwd,
        # A cell's outputs may trail its reply on a busy machine: wait for them, and
        # fail the area rather than publish a report with outputs silently missing.
        iopub_timeout=IOPUB_TIMEOUT,
        raise_on_iopub_timeout=True,
        # every output is in once the last cell has replied: end the kernel at once
        # rather than ask it to shut down and wait for it
        shutdown_kernel="immediate",
    )


@contextlib.contextmanager
def _quiet_logs() -> Iterator[None]:
    """Silence papermill's and nbclient's log lines ("Timeout waiting for execute reply")."""
    loggers = [logging.getLogger(name) for name in ("papermill", "traitlets", "nbclient")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


def _read_or_none(path: Path) -> Any:
    import nbformat

    try:
        return nbformat.read(path, as_version=4)
    except Exception:  # noqa: BLE001 - not written, or cut short
        return None


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
    kernel_root: str | None = None,
    sources: Sequence[tuple[str, ...]] = (),
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
        "kernel_root": kernel_root,
        "id_sources": [list(s) for s in sources],
    }


def _plan(
    job: AreaJob,
    *,
    template: Path,
    out: Path,
    html: str,
    title: str,
    name: str,
    force: bool,
    timeout: int,
    kernel_root: str,
    sources: Sequence[tuple[str, ...]] = (),
    rendered_at: str | None = None,
) -> AreaOutcome | dict[str, Any]:
    """One page of an area: its outcome when it is up to date (and not ``force``), else
    the task that renders it."""
    key = _cache_key(job, template)
    if not force and _is_current(out, html, key):
        return AreaOutcome(
            job.area_id, name, "cached", source=job.source, html=html,
            rendered_at=rendered_at, synthetic=bool(job.params.get("synthetic")),
        )  # fmt: skip
    return _task(
        job.area_id, job.params, source=job.source, template=template, out=out, key=key,
        html=html, title=title, timeout=timeout, kernel_root=kernel_root, sources=sources,
    )  # fmt: skip


def worker_failure(task: dict[str, Any], error: str) -> AreaOutcome:
    """The outcome of an area whose worker failed (its previous report, if any, is kept)."""
    result = AreaOutcome(
        task["area_id"],
        task["params"].get("area_name", task["area_id"]),
        "failed",
        source=task["source"],
        error=error,
        synthetic=bool(task["params"].get("synthetic")),
    )
    if (Path(task["out"]) / task["html"]).exists():
        result.kept_previous = True
        result.html = task["html"]
    return result


def _new_pool(workers: int) -> ProcessPoolExecutor:
    import multiprocessing as mp

    context = mp.get_context("forkserver")
    # the fork server imports these once; every worker forked from it starts with them
    context.set_forkserver_preload(["evalkit.reports._preload"])
    return ProcessPoolExecutor(max_workers=workers, mp_context=context)


def _warm_worker() -> bool:
    """A worker's first task when the pool is warmed: start its kernel factory (True if up)."""
    return factory_socket() is not None


class WorkerPool:
    """The worker processes of a whole run: area reports, the pages beside them and the
    pages across areas all run in it, so each worker starts its kernel factory (and pays
    the heavy imports) once per run, not once per stage.

    A pool broken by a worker that died is replaced by a fresh one on the next
    :meth:`get`. Use it as a context manager, or call :meth:`shutdown`.
    """

    def __init__(self, workers: int) -> None:
        self.workers = max(1, workers)
        self._pool: ProcessPoolExecutor | None = None
        self._warming: list[Future] = []
        self._warm_thread: threading.Thread | None = None

    def get(self) -> ProcessPoolExecutor:
        """The live pool (started on first use; workers start as tasks arrive)."""
        if any(f.done() and not f.cancelled() and f.exception() for f in self._warming):
            self.discard()  # a worker died while it warmed up: start afresh
        if self._pool is None:
            self._pool = _new_pool(self.workers)
        return self._pool

    def warm(self) -> None:
        """Start the workers and their kernel factories now, in the background.

        A run calls it as soon as it knows an area is to be rendered, so that the
        workers' start-up (about 5 s of imports each) overlaps its checks of the
        inputs instead of following them. One core is left to those checks: on 2
        cores one worker warms up (the other starts with its first area), so bad input
        is reported as soon as without the warm-up. Calling it again does nothing.
        """
        if self._warm_thread is not None:
            return
        pool = self.get()
        n = min(self.workers, max(1, (os.cpu_count() or 1) - 1))

        def submit() -> None:  # blocks until the fork server has imported its modules
            try:
                self._warming.extend(pool.submit(_warm_worker) for _ in range(n))
            except Exception:  # noqa: BLE001 - stopped meanwhile (bad input, Ctrl-C)
                pass

        self._warm_thread = threading.Thread(target=submit, name="evalkit-warm", daemon=True)
        self._warm_thread.start()

    def discard(self) -> None:
        """Forget a broken pool (its workers are gone); the next :meth:`get` starts another."""
        self._warming, self._warm_thread = [], None
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def stop(self) -> None:
        """End the workers now (Ctrl-C, bad input)."""
        thread = self._warm_thread
        if thread is not None and thread.is_alive():
            # it waits for the fork server, still importing its modules: end that server
            # (the next pool starts another) rather than wait for the worker it would start
            _end_fork_server()
            thread.join(timeout=30)
        self._warming, self._warm_thread = [], None
        if self._pool is not None:
            _stop(self._pool)
            self._pool = None

    def shutdown(self) -> None:
        """Wait for the workers to finish and end them."""
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is not None and not issubclass(exc[0], Exception):
            self.stop()  # Ctrl-C: do not wait for running areas
        else:
            self.shutdown()


def _end_fork_server() -> None:
    """End this process's multiprocessing fork server (``ensure_running`` starts a new one
    when a pool next needs it)."""
    from multiprocessing import forkserver

    pid = getattr(getattr(forkserver, "_forkserver", None), "_forkserver_pid", None)
    if pid:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop a pool now (Ctrl-C): cancel what has not started, end the workers."""
    # The standard library offers no public way to end running workers; their list is
    # taken first, since shutdown() forgets it.
    procs = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in procs:
        if proc.is_alive():
            proc.terminate()
            proc.join(5)


def _isolated(task: dict[str, Any]) -> AreaOutcome:
    """Run one area again in a process of its own (after its worker died)."""
    pool = _new_pool(1)
    try:
        return AreaOutcome(**pool.submit(render_one, task).result())
    except (BrokenProcessPool, WorkerLost):
        return worker_failure(
            task,
            "the process rendering this area stopped abruptly (killed, or out of memory), "
            "also when it was tried again on its own",
        )
    except Exception as exc:  # noqa: BLE001 - anything else a worker can raise
        return worker_failure(task, f"worker failed: {type(exc).__name__}: {exc}")
    finally:
        pool.shutdown()


def _is_dask(executor: Any) -> bool:
    return type(executor).__module__.split(".")[0] == "distributed" and hasattr(
        executor, "scheduler_info"
    )


def _run_tasks(
    tasks: list[dict[str, Any]],
    *,
    workers: int,
    executor: Executor | None,
    report: Callable[[AreaOutcome], None],
) -> None:
    """Run ``tasks``; ``report`` each outcome as it arrives.

    When a worker dies, the pool breaks and every area still in it fails with
    ``BrokenProcessPool``. Those areas run again, each in a fresh process of its own,
    so the one that kills its worker fails alone (after this one retry).
    """
    if _is_dask(executor):
        from .executors import run_on_dask

        run_on_dask(tasks, executor, report)
        return
    shared = executor if isinstance(executor, WorkerPool) else None
    own = executor is None
    pool = _new_pool(workers) if own else shared.get() if shared else executor
    broken: list[dict[str, Any]] = []
    try:
        futures = {pool.submit(render_one, t): t for t in tasks}
        for fut in as_completed(futures):
            task = futures[fut]
            try:
                result = AreaOutcome(**fut.result())
            except (BrokenProcessPool, WorkerLost):
                broken.append(task)
                continue
            except Exception as exc:  # noqa: BLE001 - a worker that failed in another way
                result = worker_failure(task, f"worker failed: {type(exc).__name__}: {exc}")
            report(result)
    except BaseException:  # Ctrl-C: stop our workers rather than wait for them
        if own:
            _stop(pool)
            own = False
        elif shared:
            shared.stop()
        raise
    finally:
        if own:
            pool.shutdown()
    if broken and shared:
        shared.discard()  # a dead worker broke it: the next stage gets a fresh pool
    if broken:
        with ThreadPoolExecutor(max_workers=min(workers, len(broken))) as threads:
            for fut in as_completed([threads.submit(_isolated, t) for t in broken]):
                report(fut.result())


def _run_into(
    outcomes: dict[str, AreaOutcome],
    tasks: list[dict[str, Any]],
    *,
    n_jobs: int | None,
    executor: Executor | None,
    on_done: Callable[[AreaOutcome], None] | None,
) -> None:
    """Run ``tasks`` on at most ``n_jobs`` workers, keeping each outcome in ``outcomes``
    (by area ID) and passing it to ``on_done`` as it arrives."""

    def report(result: AreaOutcome) -> None:
        outcomes[result.area_id] = result
        if on_done:
            on_done(result)

    if tasks:
        workers = max(1, min(n_jobs or os.cpu_count() or 1, len(tasks)))
        _run_tasks(tasks, workers=workers, executor=executor, report=report)


def _status_words(text: str) -> str:
    # What changes from a run to the next without coming from any data, in one form: the
    # words "rendered" and "cached" (a fixed vocabulary) and the seconds an area took (a
    # clock reading). The status a fully cached run writes is then the one the run before
    # it wrote and scanned.
    text = re.sub(r'"status": "(?:rendered|cached)"', '"status": ""', text)
    return re.sub(r'"seconds": [0-9.eE+-]+', '"seconds": 0', text)


def _without_paths(entry: dict[str, Any], cwd: str) -> dict[str, Any]:
    from .checks import scrub

    entry = dict(entry)
    for key in ("source", "error"):
        if isinstance(entry.get(key), str):
            entry[key] = scrub(entry[key], cwd)
    return entry


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
    timeout: int = DEFAULT_TIMEOUT,
) -> list[AreaOutcome]:
    """Render every area and return their outcomes (in the order of ``jobs``).

    ``status.json`` is updated by merging this run's outcomes into it. Call it under
    the output folder's lock (:class:`evalkit.reports.files.OutputLock`), as
    :func:`evalkit.reports.build.build` does.

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
        Any :class:`concurrent.futures.Executor`, or a Dask ``distributed.Client``
        (each area then runs on a worker from its shipped inputs; this process alone
        writes the output folder, see :mod:`evalkit.reports.executors`); a process
        pool of ``n_jobs`` workers by default.
    on_start, on_done
        Progress callbacks: ``on_start(to_render, cached)`` once, ``on_done(outcome)``
        per area as it finishes.
    timeout
        Seconds one cell may run before its area fails.

    Raises
    ------
    OutputError
        The output folder cannot be written (a file in the way, read-only, full).
    """
    from . import checks
    from .files import prepare_output
    from .status import read_status

    # Workers may not share this process's working folder (a forkserver or a Dask
    # worker started elsewhere): send absolute locations and the folder to run in.
    out = prepare_output(Path(out).resolve(), ("areas", "notebooks"))
    template = Path(template).resolve() if template else template_path()
    previous = read_status(out).entries
    outcomes: dict[str, AreaOutcome] = {}
    tasks = []
    kernel_root = tempfile.mkdtemp(prefix="evalkit-kernel-")
    try:
        for job in jobs:
            name = job.params.get("area_name", job.area_id)
            got = _plan(
                job, template=template, out=out, html=f"areas/{job.area_id}.html",
                title=f"{name}: evaluation report", name=name, force=force, timeout=timeout,
                kernel_root=kernel_root,
                rendered_at=previous.get(job.area_id, {}).get("rendered_at"),
            )  # fmt: skip
            if isinstance(got, AreaOutcome):
                outcomes[job.area_id] = got
            else:
                tasks.append(got)
        if on_start:
            on_start(len(tasks), len(outcomes))
        for outcome in outcomes.values():
            if on_done:
                on_done(outcome)
        _run_into(outcomes, tasks, n_jobs=n_jobs, executor=executor, on_done=on_done)
    finally:
        shutil.rmtree(kernel_root, ignore_errors=True)

    ordered = [outcomes[j.area_id] for j in jobs]
    cwd = os.getcwd()
    memo = checks.ScanMemo(out, id_sources(jobs), cwd)
    merge_status(
        out,
        {o.area_id: asdict(o) for o in ordered},
        check=lambda text: memo.check(text, canonical=_status_words),
        clean=lambda entry: _without_paths(entry, cwd),
    )
    return ordered


def _page_task(
    name: str,
    out: Path,
    *,
    template: str | os.PathLike[str],
    params: dict[str, Any],
    inputs: Sequence[str | os.PathLike[str]],
    title: str,
    force: bool,
    timeout: int,
    sources: Sequence[tuple[str, ...]],
    kernel_root: str,
) -> AreaOutcome | dict[str, Any]:
    """A page across areas: its outcome when it is up to date, else the task that renders it."""
    template = Path(template).resolve()
    h = hashlib.sha256(template.read_bytes())
    h.update(source_digest().encode())
    h.update(json.dumps(params, sort_keys=True, default=str).encode())
    for path in sorted(map(str, inputs)):
        h.update(path.encode())
        h.update(Path(path).read_bytes())
    key = h.hexdigest()
    html = f"{name}.html"
    if not force and _is_current(out, html, key):
        return AreaOutcome(
            name, title, "cached", html=html, synthetic=bool(params.get("synthetic"))
        )
    return _task(
        name,
        params,
        source=name,
        template=template,
        out=out,
        key=key,
        html=html,
        title=title,
        timeout=timeout,
        kernel_root=kernel_root,
        sources=sources,
    )


@dataclass(frozen=True)
class PageSpec:
    """One page across areas for :func:`render_pages` (arguments as for :func:`render_page`)."""

    name: str
    template: str | os.PathLike[str]
    params: dict[str, Any]
    inputs: Sequence[str | os.PathLike[str]]
    title: str


def render_pages(
    specs: Sequence[PageSpec],
    out: str | os.PathLike[str],
    *,
    force: bool = False,
    timeout: int = DEFAULT_TIMEOUT,
    sources: Sequence[tuple[str, ...]] = (),
    executor: Executor | None = None,
) -> list[AreaOutcome]:
    """Render pages across areas (see :func:`render_page`), in the order of ``specs``.

    With the run's :class:`WorkerPool` they render side by side in its workers (whose kernel
    factories are warm); otherwise one after another in this process.
    """
    out = Path(out).resolve()
    kernel_root = tempfile.mkdtemp(prefix="evalkit-kernel-")
    outcomes: dict[str, AreaOutcome] = {}
    try:
        tasks = []
        for spec in specs:
            got = _page_task(
                spec.name,
                out,
                template=spec.template,
                params=spec.params,
                inputs=spec.inputs,
                title=spec.title,
                force=force,
                timeout=timeout,
                sources=sources,
                kernel_root=kernel_root,
            )
            if isinstance(got, AreaOutcome):
                outcomes[spec.name] = got
            else:
                tasks.append(got)
        if isinstance(executor, WorkerPool):
            _run_into(outcomes, tasks, n_jobs=executor.workers, executor=executor, on_done=None)
        else:
            for task in tasks:
                outcomes[task["area_id"]] = AreaOutcome(**render_one(task))
    finally:
        shutil.rmtree(kernel_root, ignore_errors=True)
    return [outcomes[spec.name] for spec in specs]


def render_page(
    name: str,
    out: str | os.PathLike[str],
    *,
    template: str | os.PathLike[str],
    params: dict[str, Any],
    inputs: Sequence[str | os.PathLike[str]] = (),
    title: str,
    force: bool = False,
    timeout: int = DEFAULT_TIMEOUT,
    sources: Sequence[tuple[str, ...]] = (),
) -> AreaOutcome:
    """Render one page that draws on all areas (``synthesis``, ``reliability``) as ``<name>.html``.

    ``inputs`` are the files the page reads (the areas' results); with the template,
    the parameters and evalkit itself they make the cache key. ``sources`` are the
    areas' (records, ID column): the page is withheld if it shows an ID from any of
    them. Runs in this process (with its own kernel), after the areas.
    """
    spec = PageSpec(name, template, params, inputs, title)
    return render_pages([spec], out, force=force, timeout=timeout, sources=sources)[0]


# -- pages beside each area's report (the needs assessment) -----------------------------------------


@dataclass(frozen=True)
class AreaPage:
    """A page rendered per area beside its report, when the area names ``requires``."""

    suffix: str  # areas/<area_id>-<suffix>.html
    template: str  # in templates/
    requires: str  # the parameter that turns the page on (a file, or empty for no page)
    keys: tuple[str, ...]  # the parameters the template takes
    title: str  # "<area name>: <title>"


#: every per-area page besides the area report
AREA_PAGES = (
    AreaPage(
        "needs",
        "needs_assessment.ipynb",
        "needs_data",
        ("area_id", "area_name", "needs_data", "needs_indicators", "needs_benchmark",
         "suppression_threshold", "data_source", "synthetic"),
        "needs assessment",
    ),
)  # fmt: skip


def area_page_jobs(jobs: Sequence[AreaJob], spec: AreaPage) -> list[AreaJob]:
    """One job per area that asks for the page: its own parameters and input files only,
    so its cache key changes with what the page reads (``area_id`` is ``<id>-<suffix>``)."""
    from .params import AreaParams

    out = []
    for job in jobs:
        if not job.params.get(spec.requires):
            continue
        params = {k: job.params[k] for k in spec.keys if k in job.params}
        files = [params[k] for k in spec.keys if k in AreaParams.FILE_KEYS and params.get(k)]
        out.append(AreaJob(f"{job.area_id}-{spec.suffix}", job.source, params, files))
    return out


def render_area_pages(
    jobs: Sequence[AreaJob],
    out: str | os.PathLike[str],
    *,
    n_jobs: int | None = None,
    force: bool = False,
    executor: Executor | None = None,
    timeout: int = DEFAULT_TIMEOUT,
    on_done: Callable[[AreaOutcome], None] | None = None,
) -> list[AreaOutcome]:
    """Render every page of :data:`AREA_PAGES` for the areas that ask for it, as
    ``areas/<area_id>-<suffix>.html``, with the area reports' isolation, cache, scans (each
    page is scanned for its area's person IDs) and atomic writes. The outcomes are not
    merged into ``status.json`` (which lists areas); the index lists them on their own.
    """
    from .files import prepare_output

    out = prepare_output(Path(out).resolve(), ("areas", "notebooks"))
    outcomes: dict[str, AreaOutcome] = {}
    tasks = []
    kernel_root = tempfile.mkdtemp(prefix="evalkit-kernel-")
    try:
        for spec in AREA_PAGES:
            template = template_path(spec.template)
            parents = {f"{j.area_id}-{spec.suffix}": j for j in jobs}
            for job in area_page_jobs(jobs, spec):
                # a page up to date is named as a rendered one is (render_one): the index
                # lists the same words whether it was rendered now or is up to date
                title = f"{job.params.get('area_name', job.area_id)}: {spec.title}"
                got = _plan(
                    job, template=template, out=out, html=f"areas/{job.area_id}.html",
                    title=title, name=job.params.get("area_name", title), force=force,
                    timeout=timeout, kernel_root=kernel_root,
                    sources=id_sources([parents[job.area_id]]),
                )  # fmt: skip
                if isinstance(got, AreaOutcome):
                    outcomes[job.area_id] = got
                else:
                    tasks.append(got)

        _run_into(outcomes, tasks, n_jobs=n_jobs, executor=executor, on_done=on_done)
    finally:
        shutil.rmtree(kernel_root, ignore_errors=True)
    order = [j.area_id for spec in AREA_PAGES for j in area_page_jobs(jobs, spec)]
    return [outcomes[k] for k in order if k in outcomes]
