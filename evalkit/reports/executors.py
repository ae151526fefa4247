"""Where areas run: the local process pool (``render.py``) or a Dask distributed cluster.

On Dask, workers need not share this machine's disk:

- **Shipping.** Each task carries the template, the area's parameters and the *bytes*
  of its input files (every parameter that names a file). Paths relative to the
  folder evalkit runs from keep their relative form, under a temporary folder on the
  worker that plays that role; other paths become ``_inputs/<n>/<name>``. The
  report is the same as from the process pool.
- **Results.** The worker renders into its temporary folder (the same code as the
  process pool, :func:`evalkit.reports.render.render_one`) and returns the outcome
  with the HTML, the record and the executed notebook as bytes, then removes the
  folder.
- **The client** alone computes cache keys and writes the output folder, with the
  same atomic writes (the stamp last) as a local run.
- **Faults.** A worker lost mid-area: the scheduler runs the area again on another
  worker; a second loss (``distributed.scheduler.allowed-failures = 1``, set for the
  cluster ``--dask-workers`` starts) fails that area only, as ``KilledWorker``.

Install with ``pip install "evalkit[dask]"``.
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from ..errors import ParameterError
from .files import atomic_write, os_reason
from .render import AreaOutcome, render_one, worker_failure

__all__ = ["dask_client", "run_on_dask", "ship", "render_shipped", "land"]

_LOST = (
    "the Dask worker rendering this area was lost (killed, or out of memory), "
    "also when the area was tried again on another worker"
)


@contextlib.contextmanager
def dask_client(scheduler: str | None = None, workers: int | None = None) -> Iterator[Any]:
    """A ``distributed.Client``: to the cluster at ``scheduler``, or to a new ``LocalCluster``
    of ``workers`` single-threaded worker processes; None when neither is given."""
    if scheduler is None and workers is None:
        yield None
        return
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError:
        raise ParameterError(
            "Dask is not installed: pip install 'evalkit[dask]'",
            key="--scheduler" if scheduler else "--dask-workers",
        ) from None
    if scheduler is not None:
        try:
            client = Client(scheduler, timeout="20s")
        except (OSError, TimeoutError) as exc:
            raise ParameterError(
                f"cannot reach the Dask scheduler at {scheduler}: {exc}", key="--scheduler"
            ) from None
        with client:
            yield client
        return
    # A lost worker's area is retried once, a second loss fails it; a worker holds only
    # the area it is rendering, so a loss counts against that area alone.
    settings = {
        "distributed.scheduler.allowed-failures": 1,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(settings):
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
        )
        with cluster, Client(cluster) as client:
            yield client


def _input_files(params: dict[str, Any], cwd: Path) -> list[str]:
    names = []
    for value in params.values():
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str) and v and (cwd / v).is_file():
                names.append(v)
    return names


def ship(task: dict[str, Any]) -> dict[str, Any]:
    """What a Dask worker needs for one area: the task, the template and the input files' bytes."""
    cwd = Path(task["cwd"])
    mapping: dict[str, str] = {}
    files: dict[str, bytes] = {}
    for name in _input_files(task["params"], cwd):
        path = (cwd / name).resolve()
        try:
            rel = path.relative_to(cwd.resolve()).as_posix()
        except ValueError:
            rel = f"_inputs/{len(files)}/{path.name}"
        mapping[name] = rel
        files[rel] = path.read_bytes()
    params = {
        k: (
            [mapping.get(x, x) if isinstance(x, str) else x for x in v]
            if isinstance(v, list)
            else mapping.get(v, v)
            if isinstance(v, str)
            else v
        )
        for k, v in task["params"].items()
    }
    template = Path(task["template"])
    return {
        "task": {**task, "params": params, "kernel_root": None},
        "template_name": template.name,
        "template": template.read_bytes(),
        "files": files,
    }


def render_shipped(payload: dict[str, Any]) -> dict[str, Any]:
    """On a worker: render one shipped area in a temporary folder; return outcome and bytes."""
    root = Path(tempfile.mkdtemp(prefix="evalkit-dask-"))
    try:
        for rel, data in payload["files"].items():
            path = root / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        template = root / "_template" / payload["template_name"]
        template.parent.mkdir()
        template.write_bytes(payload["template"])
        task = {
            **payload["task"],
            "cwd": str(root),
            "out": str(root / "_out"),
            "template": str(template),
        }
        outcome = render_one(task)
        out = root / "_out"
        area = task["area_id"]
        page = out / task["html"]

        def read(path: Path) -> bytes | None:
            return path.read_bytes() if path.is_file() else None

        return {
            "outcome": outcome,
            "html": read(page) if outcome["status"] == "rendered" else None,
            "record": read(page.with_suffix(".json")) if outcome["status"] == "rendered" else None,
            "notebook": read(out / "notebooks" / f"{area}.ipynb"),
            "failed_notebook": read(out / "notebooks" / f"{area}.failed.ipynb"),
        }
    finally:
        shutil.rmtree(root, ignore_errors=True)


def land(task: dict[str, Any], result: dict[str, Any]) -> AreaOutcome:
    """On the client: write what a worker returned into the output folder, atomically."""
    outcome = AreaOutcome(**result["outcome"])
    out = Path(task["out"])
    area = task["area_id"]
    page = out / task["html"]
    nb_dir = out / "notebooks"
    outcome.kept_previous = False
    try:
        if result["notebook"] is not None:
            atomic_write(nb_dir / f"{area}.ipynb", result["notebook"].decode("utf-8"))
        if result["failed_notebook"] is not None:
            atomic_write(nb_dir / f"{area}.failed.ipynb", result["failed_notebook"].decode())
        if outcome.status == "rendered":
            stamp = page.with_suffix(".sha256")
            try:
                if result["record"] is not None:
                    atomic_write(page.with_suffix(".json"), result["record"].decode("utf-8"))
                atomic_write(page, result["html"].decode("utf-8"))
                atomic_write(stamp, task["key"] + "\n")  # the client's key, written last
            except OSError:
                stamp.unlink(missing_ok=True)
                raise
            (nb_dir / f"{area}.failed.ipynb").unlink(missing_ok=True)
    except OSError as exc:
        outcome.status = "failed"
        outcome.error = f"the report could not be written: {os_reason(exc)}"
        outcome.output_problem = True
    if outcome.status == "failed":
        outcome.html = None
        if page.exists():
            outcome.kept_previous = True
            outcome.html = task["html"]
    return outcome


def run_on_dask(
    tasks: list[dict[str, Any]], client: Any, report: Callable[[AreaOutcome], None]
) -> None:
    """Run ``tasks`` on a Dask cluster; ``report`` each outcome as it arrives."""
    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    from .kernels import WorkerLost

    run = uuid.uuid4().hex[:8]

    def submit(task: dict[str, Any], attempt: int) -> Any:
        key = f"evalkit-{task['area_id']}-{run}-{attempt}"
        return client.submit(render_shipped, ship(task), key=key, pure=False)

    # At most as many areas in flight as the cluster has worker threads (counted again as
    # workers come and go), so a worker never holds a queued area besides the one it is
    # rendering, and losing it counts against that one area only.
    waiting = [(t, 0) for t in tasks]
    futures: dict[Any, tuple[dict[str, Any], int]] = {}
    pending = as_completed()

    def top_up() -> None:
        slots = max(1, sum(client.nthreads().values()))
        while waiting and len(futures) < slots:
            task, attempt = waiting.pop(0)
            fut = submit(task, attempt)
            futures[fut] = (task, attempt)
            pending.add(fut)

    top_up()
    try:
        for fut in pending:
            task, attempt = futures.pop(fut)
            try:
                result = fut.result()
            except KilledWorker:
                outcome = worker_failure(task, _LOST)
            except WorkerLost:  # the worker's kernel factory died: as a lost worker
                if attempt == 0:
                    waiting.insert(0, (task, 1))
                    top_up()
                    continue
                outcome = worker_failure(task, _LOST)
            except Exception as exc:  # noqa: BLE001 - a task that failed outside render_one
                outcome = worker_failure(task, f"worker failed: {type(exc).__name__}: {exc}")
            else:
                outcome = land(task, result)
            report(outcome)
            top_up()
    except BaseException:  # Ctrl-C: cancel what has not finished
        client.cancel(list(futures))
        raise
