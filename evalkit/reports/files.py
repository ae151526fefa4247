"""The output folder: atomic writes, a lock against a second run, and clear errors.

Everything a run writes goes through :func:`atomic_write` (a temporary file in the
same folder, then a rename), so a reader never sees half a file and a failed write
leaves no temporary file behind. :func:`prepare_output` checks the folder before
any kernel starts, and :class:`OutputLock` keeps two runs from writing into one
folder at once.
"""

from __future__ import annotations

import datetime as dt
import errno
import json
import os
import socket
import tempfile
import time
from pathlib import Path
from types import TracebackType

from ..errors import ReportError

__all__ = [
    "OutputError",
    "OutputLock",
    "LOCK_NAME",
    "atomic_write",
    "now",
    "os_reason",
    "prepare_output",
]

#: the lock file a run keeps in its output folder while it writes there
LOCK_NAME = ".evalkit-render.lock"


class OutputError(ReportError):
    """The output folder cannot be used (missing, a file, read-only, full, locked)."""


def now() -> str:
    """The local time with its UTC offset, to the second (ISO 8601)."""
    return dt.datetime.now().astimezone().isoformat(timespec="seconds")


_REASONS = {
    errno.ENOSPC: "the disk is full",
    errno.EDQUOT: "the disk quota is used up",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied (the folder is read-only for you)",
    errno.EPERM: "permission denied",
    errno.ENOTDIR: "a part of the path is a file, not a folder",
    errno.EISDIR: "a folder is in the way of a file",
    errno.ENOENT: "the folder does not exist",
}


def os_reason(exc: OSError) -> str:
    """A short plain reason for an operating-system error (no path, no traceback)."""
    return _REASONS.get(exc.errno or 0, exc.strerror or type(exc).__name__)


def atomic_write(path: str | os.PathLike[str], text: str | bytes) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename.

    On any failure the temporary file is removed and the ``OSError`` is raised again;
    ``path`` then still holds its previous content (or does not exist).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text.encode("utf-8") if isinstance(text, str) else text
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def prepare_output(out: str | os.PathLike[str], folders: tuple[str, ...] = ()) -> Path:
    """Check that ``out`` can take a run's files; create it and ``folders`` inside it.

    Raises
    ------
    OutputError
        One line naming the folder and the reason: a file in the way, a folder that
        cannot be created, a read-only folder or a full disk.
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise OutputError(f"output folder {out}: is a file, not a folder (choose another --out)")
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in folders:
            (out / name).mkdir(exist_ok=True)
        for where in (out, *(out / name for name in folders)):
            fd, probe = tempfile.mkstemp(prefix=".evalkit-probe-", dir=where)
            try:
                os.write(fd, b"evalkit")
            finally:
                os.close(fd)
                os.unlink(probe)
    except OSError as exc:
        raise OutputError(f"output folder {out}: cannot write there: {os_reason(exc)}") from None
    return out


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


class OutputLock:
    """A lock file in the output folder, held while a run writes there.

    A second run waits up to ``wait`` seconds for the first to finish, then stops with
    an :class:`OutputError` naming the process that holds the folder. The lock of a
    process that no longer exists (on this machine) is taken over; ``took_over`` then
    holds that process id.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as d, OutputLock(d) as lock:
    ...     (Path(d) / LOCK_NAME).exists()
    True
    """

    def __init__(self, out: str | os.PathLike[str], *, wait: float = 0.0, poll: float = 0.2):
        self.path = Path(out) / LOCK_NAME
        self.wait = wait
        self.poll = poll
        self.took_over: int | None = None
        self._held = False

    def _owner(self) -> dict | None:
        try:
            owner = json.loads(self.path.read_text(encoding="utf-8"))
            return owner if isinstance(owner, dict) else {}
        except FileNotFoundError:
            return None
        except (OSError, ValueError):
            return {}

    def _stale(self, owner: dict) -> bool:
        pid = owner.get("pid")
        if not isinstance(pid, int):
            # being written this instant, or garbage: stale once it is a few seconds old
            try:
                return time.time() - self.path.stat().st_mtime > 5
            except OSError:
                return False
        return owner.get("host") == socket.gethostname() and not _alive(pid)

    def acquire(self) -> OutputLock:
        """Take the lock (waiting up to ``wait`` seconds); see the class docstring."""
        deadline = time.monotonic() + self.wait
        me = {"pid": os.getpid(), "host": socket.gethostname(), "started": now()}
        while True:
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
            except FileExistsError:
                owner = self._owner()
                if owner is None:
                    continue  # released between our two looks
                if self._stale(owner):
                    self.took_over = owner.get("pid") or 0
                    self.path.unlink(missing_ok=True)
                    continue
                if time.monotonic() >= deadline:
                    who = f"process {owner['pid']}" if owner.get("pid") else "another process"
                    since = f", started {owner['started']}" if owner.get("started") else ""
                    raise OutputError(
                        f"output folder {self.path.parent}: another evalkit run ({who}{since}) "
                        "is writing there; wait for it to finish or choose another --out "
                        f"(if no run is going on, delete {LOCK_NAME} in that folder)"
                    ) from None
                time.sleep(self.poll)
                continue
            except OSError as exc:
                raise OutputError(
                    f"output folder {self.path.parent}: cannot write there: {os_reason(exc)}"
                ) from None
            try:
                os.write(fd, json.dumps(me).encode())
            except OSError as exc:
                self.path.unlink(missing_ok=True)
                raise OutputError(
                    f"output folder {self.path.parent}: cannot write there: {os_reason(exc)}"
                ) from None
            finally:
                os.close(fd)
            self._held = True
            return self

    def release(self) -> None:
        """Remove the lock file if this process still holds it."""
        if self._held:
            owner = self._owner()
            if owner is not None and owner.get("pid") == os.getpid():
                self.path.unlink(missing_ok=True)
            self._held = False

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()
