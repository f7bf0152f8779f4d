"""Run-claim holders: a process holds an OS lock on a file named after its worker id, so death is provable.

A process that claims runs under a worker id keeps an exclusive `flock` for the rest of its life
on `<runtime dir>/<hash of the id>.lock`; the runtime directory sits beside a SQLite database
file (`monitor.db-workers/`), and for any other database in the user's runtime directory (one
per database URL). Another process proves the holder dead only by finding that file and taking
its lock; a missing file proves nothing (a worker on another host, or in a container with its own
filesystem), so such a run waits for its heartbeat to go stale. Host names and pids in a worker
id are for display only: containers share host names, pid namespaces differ, and pids are reused.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import logging
import os
import secrets
import tempfile
import threading
from enum import Enum
from pathlib import Path

from sqlalchemy.engine import URL, make_url

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: every holder is then unknown, never dead
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

_SUFFIX = ".lock"


class Holder(Enum):
    """What this machine can prove about a claim's holder."""

    ALIVE = "alive"
    DEAD = "dead"
    UNKNOWN = "unknown"


# The lock files this process holds: path -> (open descriptor, pid that opened it).
_HELD: dict[Path, tuple[int, int]] = {}
# The lock files this process could not hold, with its pid: said once, not retried on every claim.
_REFUSED: set[tuple[Path, int]] = set()
_GUARD = threading.Lock()


def runtime_dir(url: URL | str) -> Path:
    """Where the holders of the database at `url` keep their lock files."""
    parsed = make_url(url) if isinstance(url, str) else url
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and database not in ("", ":memory:") and "file:" not in database:
        path = Path(database).absolute()
        return path.with_name(path.name + "-workers")
    base = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    digest = hashlib.sha256(parsed.render_as_string(hide_password=True).encode()).hexdigest()[:16]
    return base / f"model-monitor-{os.getuid()}" / digest


def lock_path(url: URL | str, worker_id: str) -> Path:
    """The lock file of `worker_id` (named by a hash: any id is a safe file name)."""
    return runtime_dir(url) / (hashlib.sha256(worker_id.encode()).hexdigest()[:32] + _SUFFIX)


def hold(url: URL | str, worker_id: str) -> bool:
    """Lock `worker_id`'s file for the rest of this process's life (a no-op once held).

    False when it cannot be held: no `fcntl`, an unwritable directory, or a live process on this
    machine already holds the same id; its claims are then only ever reclaimed once stale.
    """
    if fcntl is None:
        return False
    path = lock_path(url, worker_id)
    with _GUARD:
        held = _HELD.get(path)
        if held is not None and held[1] == os.getpid():
            return True
        if (path, os.getpid()) in _REFUSED:
            return False
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
            if probe(path) is Holder.ALIVE:
                log.warning("worker id %s is held by another live process here; use a unique id", worker_id)
                _REFUSED.add((path, os.getpid()))
                return False
            _HELD[path] = (_create_locked(path, worker_id), os.getpid())
        except OSError as exc:
            log.warning(
                "cannot hold a lock file for worker %s in %s (%s); its runs resume only once stale",
                worker_id,
                path.parent,
                exc,
            )
            _REFUSED.add((path, os.getpid()))
            return False
    return True


def _create_locked(path: Path, worker_id: str) -> int:
    """Create, lock, then rename into place: the file never appears under its name unlocked."""
    assert fcntl is not None
    temporary = path.with_name(f".{path.stem}.{secrets.token_hex(4)}.tmp")
    fd = os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.write(fd, f"{worker_id}\n".encode())
        os.replace(temporary, path)
    except OSError:
        os.close(fd)
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    return fd


def probe(path: Path) -> Holder:
    """ALIVE while someone holds the file's lock, DEAD when it exists and the lock is free, else UNKNOWN."""
    if fcntl is None:
        return Holder.UNKNOWN
    try:
        fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return Holder.UNKNOWN
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return Holder.ALIVE
    except OSError:
        return Holder.UNKNOWN
    finally:
        os.close(fd)
    return Holder.DEAD


def holder_state(url: URL | str, worker_id: str) -> Holder:
    """What this machine can prove about the process that claims runs as `worker_id`."""
    path = lock_path(url, worker_id)
    held = _HELD.get(path)
    if held is not None and held[1] == os.getpid():
        return Holder.ALIVE
    return probe(path)


def forget_dead(url: URL | str) -> int:
    """Delete the lock files of dead holders (call once their runs are released); returns how many."""
    if fcntl is None:
        return 0
    directory = runtime_dir(url)
    removed = 0
    with contextlib.suppress(OSError):
        for path in directory.iterdir():
            if path in _HELD or not path.name.endswith((_SUFFIX, ".tmp")):
                continue
            try:
                fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                path.unlink()
                removed += 1
            except OSError:
                continue  # held by a live process, or already gone
            finally:
                os.close(fd)
    return removed


@atexit.register
def _let_go() -> None:
    """At a clean exit remove our lock files (unlink first, so nobody sees them free)."""
    with _GUARD:
        for path, (fd, pid) in list(_HELD.items()):
            if pid != os.getpid():
                continue  # inherited through fork: the parent's to remove
            with contextlib.suppress(OSError):
                path.unlink()
            with contextlib.suppress(OSError):
                os.close(fd)
            with contextlib.suppress(OSError):
                path.parent.rmdir()  # only when empty
            del _HELD[path]
