"""Serve the reports directory read-only over HTTP: GET/HEAD only, nothing outside it reachable."""

from __future__ import annotations

import logging
import mimetypes
import posixpath
import signal
import socket
import threading
from functools import partial
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import FrameType
from typing import Any, BinaryIO
from urllib.parse import unquote, urlsplit

log = logging.getLogger(__name__)

ALLOWED = "GET, HEAD"
LOOPBACK = ("127.0.0.1", "::1", "localhost")
# Served with every file: no scripts, no external fetches, no MIME sniffing.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def resolve_request_path(root: Path, request_path: str) -> Path | None:
    """The file a request path names inside `root`, or None when it is refused or absent.

    Refused: anything but an origin-form path, backslashes, NUL, `.`/`..` segments (also when
    percent-encoded), dot-files, and any path whose real location (symlinks resolved) is outside
    `root`. A directory is served as its index.html only; there are no listings.
    """
    if not request_path.startswith("/") or request_path.startswith("//"):
        return None
    raw = urlsplit(request_path).path
    try:
        decoded = unquote(raw, errors="strict")
    except UnicodeDecodeError:
        return None
    if "\\" in decoded or "\x00" in decoded or "\\" in raw:
        return None
    segments = [s for s in decoded.split("/") if s]
    if any(s in (".", "..") or s.startswith(".") for s in segments):
        return None
    base = root.resolve()
    candidate = base.joinpath(*segments) if segments else base
    try:
        real = candidate.resolve(strict=True)
    except (OSError, RuntimeError):
        return None
    if real.is_dir():
        real = (real / "index.html").resolve()
    if not real.is_relative_to(base) or not real.is_file():
        return None
    return real


class ReportRequestHandler(SimpleHTTPRequestHandler):
    """SimpleHTTPRequestHandler with a strict path check, no listings, and 405 for other methods."""

    server_version = "model-monitor"
    sys_version = ""

    def __init__(self, *args: Any, root: Path, **kwargs: Any) -> None:
        self.root = root
        super().__init__(*args, directory=str(root), **kwargs)

    def send_head(self) -> BinaryIO | None:
        path = resolve_request_path(self.root, self.path)
        if path is None:
            self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            return None
        try:
            handle = path.open("rb")
        except OSError:
            self.send_error(HTTPStatus.NOT_FOUND, "Not found")
            return None
        ctype = mimetypes.guess_type(posixpath.basename(path.name))[0] or "application/octet-stream"
        if ctype.startswith("text/"):
            ctype += "; charset=utf-8"
        self.send_response(HTTPStatus.OK)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(path.stat().st_size))
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)
        self.end_headers()
        return handle

    def list_directory(self, path: str | Any) -> None:
        self.send_error(HTTPStatus.NOT_FOUND, "Not found")
        return None

    def method_not_allowed(self) -> None:
        self.send_response(HTTPStatus.METHOD_NOT_ALLOWED)
        self.send_header("Allow", ALLOWED)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    def __getattr__(self, name: str) -> Any:
        """Every `do_<METHOD>` but GET and HEAD answers 405 Method Not Allowed."""
        if name.startswith("do_"):
            return self.method_not_allowed
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        log.info("%s %s", self.address_string(), format % args)


class ReportServer(ThreadingHTTPServer):
    daemon_threads = True


class ReportServer6(ReportServer):
    address_family = socket.AF_INET6


def make_server(root: Path, host: str = "127.0.0.1", port: int = 8000) -> ThreadingHTTPServer:
    """A threading HTTP server for `root`, bound (port 0 picks a free port); call serve_forever()."""
    handler = partial(ReportRequestHandler, root=root.resolve())
    server_class = ReportServer6 if ":" in host else ReportServer
    return server_class((host, port), handler)


def serve_until_stopped(server: ThreadingHTTPServer) -> str:
    """Serve until SIGTERM or SIGINT, then close the socket; returns the signal's name (a clean stop).

    The handler asks `shutdown()` from another thread, since it blocks until `serve_forever()`
    (running in this thread) has returned; the previous handlers are restored afterwards.
    """
    received: list[str] = []

    def stop(signum: int, _frame: FrameType | None) -> None:
        if not received:
            received.append(signal.Signals(signum).name)
            threading.Thread(target=server.shutdown, name="serve-shutdown", daemon=True).start()

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        server.serve_forever()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        server.server_close()
    name = received[0] if received else "shutdown"
    log.info("%s received: stopped serving %s", name, server_url(server))
    return name


def is_loopback(host: str) -> bool:
    return host in LOOPBACK or host.startswith("127.")


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    name = host.decode() if isinstance(host, bytes) else str(host)
    shown = f"[{name}]" if ":" in name else name
    return f"http://{shown}:{port}/"
