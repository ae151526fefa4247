"""A kernel factory: the heavy imports are paid once per worker, each area still gets a fresh kernel.

A render worker starts one *factory* process (``python -m evalkit.reports.kernels``).
It imports evalkit, numpy, pandas, scipy.stats, statsmodels, matplotlib and
ipykernel once, while it is still single-threaded and has no ZeroMQ context, then
waits on a Unix socket. Each area's kernel is a ``fork()`` of it (copy-on-write):
a new process with its own variables and matplotlib state, that starts in
milliseconds instead of seconds.

jupyter_client must still see an ordinary kernel process it can signal, wait for
and kill. So the command it runs is a tiny stdlib-only *launcher* (``python -S``):
it asks the factory for a kernel, relays SIGINT/SIGTERM to it, and exits with the
kernel's exit code. When the launcher goes (killed by jupyter_client after a
timeout, say), the factory kills its kernel; when the worker goes, the factory's
stdin closes and it kills every kernel and exits. A kernel that dies
(``os._exit(1)``, out of memory) ends its launcher, which nbclient sees within
seconds: only that area fails, and the next kernel is forked from the same factory.

Set ``EVALKIT_KERNEL_FACTORY=0`` to start every kernel from scratch instead.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import threading
from typing import Any

__all__ = [
    "factory_socket",
    "factory_lost",
    "kernel_command",
    "stop_factory",
    "WorkerLost",
    "PRELOADED",
]

#: modules the factory imports before it forks kernels
PRELOADED = (
    "numpy",
    "pandas",
    "scipy.stats",
    "statsmodels.api",
    "matplotlib",
    "matplotlib.pyplot",
    "evalkit",
    "evalkit.reliability",
    "evalkit.designs",
    "evalkit.indicators",
    "evalkit.plots",
    "evalkit.tables",
    "evalkit.reports.page",
    # what the templates import besides (found by listing a kernel's modules after an area)
    "evalkit.reports.sections",
    "evalkit.reports.sections.needs",
    "evalkit.reports.sections.synthesis",
    "evalkit.reports.sections.reliability",
    "evalkit.describe",
    "evalkit.disclosure",
    "evalkit.evidence",
    "evalkit.implementation",
    "evalkit.matrix",
    "evalkit.narrative",
    "evalkit.needs",
    "evalkit.plan",
    "evalkit.power",
    "evalkit.tools",
    "matplotlib.backends.backend_agg",
    "PIL.PngImagePlugin",
    # the kernel itself
    "ipykernel.kernelapp",
    "ipykernel.ipkernel",
    "ipykernel.zmqshell",
    "ipykernel.debugger",  # imports debugpy (a third of a kernel's start when paid per kernel)
)

# The launcher jupyter_client starts as "the kernel": stdlib only, no site-packages.
_LAUNCHER = r"""
import json, os, signal, socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
sock.connect(sys.argv[1])
req = {"argv": sys.argv[2:], "cwd": os.getcwd(), "env": dict(os.environ)}
sock.sendall(json.dumps(req).encode() + b"\n")
def relay(signum, frame):
    try:
        sock.sendall(b"sig %d\n" % signum)
    except OSError:
        pass
for s in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
    signal.signal(s, relay)
buf = b""
while True:
    try:
        chunk = sock.recv(256)
    except InterruptedError:
        continue
    if not chunk:
        os._exit(1)
    buf += chunk
    while b"\n" in buf:
        line, buf = buf.split(b"\n", 1)
        if line.startswith(b"exit "):
            code = int(line[5:])
            os._exit(code if code >= 0 else 128 - code)
"""


class WorkerLost(RuntimeError):
    """The kernel factory, part of the worker's process tree, died during an area.

    Handled as the death of the worker itself: the area is tried again once in a
    fresh worker.
    """


_lock = threading.Lock()
_factory: subprocess.Popen | None = None
_socket: str | None = None
_atexit_registered: list[bool] = []


def enabled() -> bool:
    """False where fork is unavailable or ``EVALKIT_KERNEL_FACTORY=0``."""
    return hasattr(os, "fork") and os.environ.get("EVALKIT_KERNEL_FACTORY", "1") != "0"


def factory_socket() -> str | None:
    """The socket of this process's kernel factory, started on first use (None if unavailable)."""
    global _factory, _socket
    if not enabled():
        return None
    with _lock:
        if _factory is not None and _factory.poll() is None:
            return _socket
        folder = tempfile.mkdtemp(prefix="evalkit-factory-")
        path = os.path.join(folder, "s")
        env = dict(os.environ)
        # The kernels' figure backend must be chosen before matplotlib is imported.
        env.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
        proc = subprocess.Popen(
            [sys.executable, "-m", "evalkit.reports.kernels", path],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            env=env,
            cwd=os.getcwd(),
            # out of the terminal's process group: a Ctrl-C (even one during its start-up
            # imports) reaches the worker, which stops the factory by closing its stdin
            start_new_session=True,
        )
        line = proc.stdout.readline() if proc.stdout else b""
        if line.strip() != b"ready":
            proc.kill()
            proc.wait()
            return None
        _factory, _socket = proc, path
        if not _atexit_registered:
            import atexit

            atexit.register(stop_factory)  # no factory left to the interpreter's shutdown
            _atexit_registered.append(True)
        return path


def factory_lost() -> bool:
    """True when this process started a factory and it has died (it is restarted on next use)."""
    return _factory is not None and _factory.poll() is not None


def stop_factory() -> None:
    """Stop this process's factory (its kernels go with it)."""
    global _factory, _socket
    with _lock:
        if _factory is not None:
            if _factory.stdin:
                _factory.stdin.close()
            try:
                _factory.wait(10)
            except subprocess.TimeoutExpired:
                _factory.kill()
                _factory.wait()
            if _socket:
                import shutil

                shutil.rmtree(os.path.dirname(_socket), ignore_errors=True)
        _factory, _socket = None, None


def kernel_command(connection_file: str, extra: list[str]) -> list[str]:
    """The command jupyter_client runs for one kernel: a forked one when a factory is up."""
    args = ["-f", connection_file, "--HistoryManager.enabled=False", *extra]
    path = factory_socket()
    if path is None:
        return [sys.executable, "-m", "ipykernel_launcher", *args]
    return [sys.executable, "-S", "-c", _LAUNCHER, path, *args]


# -- the factory process --------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Linux: the kernel is killed when its factory dies (however it dies)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
    except (OSError, AttributeError):
        pass


def _child(conn: Any, request: dict[str, Any], listener: Any, others: list[Any]) -> None:
    """In the forked kernel: become a clean ipykernel process and run until shut down."""
    import signal

    try:
        for s in (listener, *others):
            s.close()
        for sig in (signal.SIGCHLD, signal.SIGINT, signal.SIGTERM, signal.SIGPIPE):
            signal.signal(sig, signal.SIG_DFL)
        os.setpgid(0, 0)
        _die_with_parent()
        devnull = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(devnull, fd)
        os.environ.clear()
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        sys.argv = ["ipykernel_launcher", *request["argv"]]
        sys.path[0] = ""  # as `python -m ipykernel_launcher` would have it
        conn.close()
        from ipykernel.kernelapp import IPKernelApp

        IPKernelApp.launch_instance(argv=request["argv"])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    except BaseException:  # noqa: BLE001 - the kernel failed to start: its launcher says so
        code = 1
    os._exit(code)


def _warm_up() -> None:
    """Pay, once, the first-use costs a kernel would pay in every area: matplotlib's style,
    font lookup and SVG writer, pandas' CSV reader. Nothing of it reaches a kernel's
    namespace (kernels start their own); matplotlib's settings are put back as they were,
    and its open font files are dropped in each forked kernel by matplotlib itself."""
    try:
        import io

        import matplotlib as mpl
        import pandas as pd

        from evalkit.plots.style import fixed_layout, new_figure
        from evalkit.reports.page import figure

        saved = mpl.rcParams.copy()
        try:
            fig, ax = new_figure()
            ax.errorbar([0, 1], [0.5, 1.5], yerr=[0.2, 0.3], label="warm-up", marker="o")
            ax.axhline(0, ls="--")
            ax.set(title="Warm-up 0123456789 (95% CI)", xlabel="x", ylabel="y")
            ax.legend()
            figure(fig, alt="warm-up")
            fixed_layout(fig)  # its font metrics, as the area figures use them
            figure(fig, alt="warm-up")
        finally:
            mpl.rcParams.update(saved)
        pd.read_csv(io.StringIO("id,x\nA,1\n"))
    except Exception:  # noqa: BLE001 - a warm-up that fails costs only the time it saves
        pass


def _serve(path: str) -> None:
    import json
    import select
    import signal
    import socket

    # Ctrl-C reaches the worker, which stops us; ignored from the start, so that a Ctrl-C
    # while the modules below are still being imported cannot kill the factory half-way
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    os.environ.setdefault("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    import importlib

    for name in PRELOADED:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a missing optional module is imported by the kernel
            pass
    _warm_up()
    # Everything imported so far is shared with the kernels copy-on-write. The garbage
    # collector of a kernel would touch (and so copy) every one of those objects on its
    # first full collection; frozen, they are left out of it (CPython's advice for forking
    # servers).
    import gc

    gc.collect()
    gc.freeze()
    # Forking is only safe while this process has a single thread.
    if threading.active_count() != 1:
        sys.exit(3)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(64)
    kernels: dict[Any, int] = {}  # launcher connection -> kernel pid
    buffers: dict[Any, bytes] = {}
    children: set[int] = set()  # every kernel not yet reaped
    sys.stdout.write("ready\n")
    sys.stdout.flush()
    stdin = sys.stdin.fileno()

    def end(conn: Any) -> None:
        pid = kernels.pop(conn, None)
        buffers.pop(conn, None)
        if pid is not None:
            try:
                os.killpg(pid, signal.SIGKILL)
            except OSError:
                pass
        conn.close()

    try:
        while True:
            ready, _, _ = select.select([listener, stdin, *buffers], [], [], 0.05)
            if stdin in ready and not os.read(stdin, 4096):
                break  # the worker has gone
            if listener in ready:
                conn, _ = listener.accept()
                buffers[conn] = b""
            for conn in [c for c in ready if c in buffers]:
                try:
                    chunk = conn.recv(1 << 20)
                except OSError:
                    chunk = b""
                if not chunk:  # the launcher was killed: its kernel goes too
                    end(conn)
                    continue
                buffers[conn] += chunk
                while b"\n" in buffers[conn]:
                    line, buffers[conn] = buffers[conn].split(b"\n", 1)
                    if conn not in kernels:
                        pid = os.fork()
                        if pid == 0:
                            others = [c for c in buffers if c is not conn]
                            _child(conn, json.loads(line), listener, others)
                        kernels[conn] = pid
                        children.add(pid)
                    elif line.startswith(b"sig "):
                        try:
                            os.kill(kernels[conn], int(line[4:]))
                        except OSError:
                            pass
            # reap kernels that ended and tell their launchers
            by_pid = {pid: conn for conn, pid in kernels.items()}
            while children:
                try:
                    pid, status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:
                    break
                if pid == 0:
                    break
                children.discard(pid)
                conn = by_pid.pop(pid, None)
                if conn is not None:
                    code = os.waitstatus_to_exitcode(status)
                    kernels.pop(conn, None)
                    try:
                        conn.sendall(b"exit %d\n" % code)
                    except OSError:
                        pass
    finally:
        for conn in list(buffers):
            end(conn)
        listener.close()
        for remove in (os.unlink, os.rmdir):
            try:
                remove(path if remove is os.unlink else os.path.dirname(path))
            except OSError:
                pass


if __name__ == "__main__":
    _serve(sys.argv[1])
