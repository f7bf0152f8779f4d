"""Safe report file names and atomic writes that can never land outside the reports directory."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import unicodedata
from pathlib import Path
from typing import TYPE_CHECKING

from monitor.core.errors import MonitorError

if TYPE_CHECKING:
    from monitor.store.tables import Event, Run

SLUG_MAX = 60
HASH_CHARS = 10
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_filename(text: str) -> str:
    """An ASCII slug of `text` plus a short hash of the original, so distinct texts get distinct names.

    The result contains only letters, digits, '.', '_' and '-', never starts with '.' or '-', and is
    at most SLUG_MAX + HASH_CHARS + 1 characters: `../x`, `..`, `a/b:c`, unicode and empty strings
    all map to plain names inside one folder.
    """
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _UNSAFE.sub("-", ascii_text).strip(".-_")
    slug = re.sub(r"-{2,}", "-", slug)[:SLUG_MAX].rstrip(".-_") or "x"
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:HASH_CHARS]
    return f"{slug}-{digest}"


def event_report_path(event: Event) -> str:
    """Where an event's report lives, relative to the reports directory."""
    return f"events/{safe_filename(f'{event.id}-{event.kind}-{event.model_key}')}.html"


def run_report_path(run: Run) -> str:
    """Where a run's report lives, relative to the reports directory."""
    return f"runs/{safe_filename(f'{run.id}-{run.model_key}-{run.suite.name}')}.html"


def inside(root: Path, relative: str | Path) -> Path:
    """`root / relative`, resolved; raise MonitorError if it would resolve outside `root`."""
    base = root.resolve()
    target = (base / relative).resolve()
    if target == base or not target.is_relative_to(base):
        raise MonitorError(f"refusing to write outside the reports directory: {relative}")
    return target


def directory_problem(directory: Path) -> str | None:
    """Why reports cannot be written under `directory`, or None; probes leave nothing behind."""
    existing = next((p for p in (directory, *directory.parents) if p.exists()), None)
    if existing is None:
        return None
    fix = "make it writable or set [reports] directory in monitor.toml to a writable folder"
    if not existing.is_dir():
        return (
            f"reports directory {directory} cannot be created: {existing} is a file, not a directory; {fix}"
        )
    try:
        with tempfile.TemporaryFile(prefix=".probe-", dir=existing):
            pass
    except OSError as exc:
        where = "is" if existing == directory else f"cannot be created: {existing} is"
        return f"reports directory {directory} {where} not writable ({exc.strerror}); {fix}"
    return None


def directory_error(directory: Path, exc: OSError) -> MonitorError:
    """The one-line error for a report write under `directory` that failed with `exc`."""
    problem = directory_problem(directory)
    if problem is None:
        problem = f"cannot write reports in {directory}: {exc.strerror} ({exc.filename}); make it writable"
    return MonitorError(problem)


def write_atomic(path: Path, data: bytes) -> bool:
    """Write `data` to `path` through a temporary file and os.replace; False when it was already equal."""
    try:
        if path.read_bytes() == data:
            return False
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".html", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return True
