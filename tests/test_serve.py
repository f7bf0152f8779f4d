"""`model-monitor serve`: reports served read-only over real HTTP; nothing outside the directory reachable."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from monitor.service.serve import make_server, server_url
from tests.daemon_support import WAIT_S
from tests.factories import make_config

SECRET = "root:x:0:0:secret-outside-the-reports"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """reports/ with an index, a run report, an empty folder and symlinks pointing outside it."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "passwd").write_text(SECRET)
    reports = tmp_path / "reports"
    (reports / "runs").mkdir(parents=True)
    (reports / "empty").mkdir()
    (reports / "index.html").write_text("<!DOCTYPE html><title>index</title>leaderboard")
    (reports / "runs" / "r1.html").write_text("<!DOCTYPE html>run one")
    (reports / ".hidden").write_text("dotfile")
    (reports / "link-file.html").symlink_to(outside / "passwd")
    (reports / "link-dir").symlink_to(outside)
    (reports / "runs" / "alias.html").symlink_to(reports / "runs" / "r1.html")
    return reports


@pytest.fixture
def port(tree: Path) -> Iterator[int]:
    server = make_server(tree, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def raw_request(port: int, target: str, method: str = "GET") -> tuple[int, str, bytes]:
    """Send the request line exactly as given (no client-side normalisation); status, headers, body."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        conn.sendall(f"{method} {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, head.decode("latin-1"), body


def test_root_serves_the_index(port: int) -> None:
    status, head, body = raw_request(port, "/")
    assert status == 200
    assert b"leaderboard" in body
    assert "Content-Type: text/html; charset=utf-8" in head


def test_files_inside_are_served_with_a_strict_content_security_policy(port: int) -> None:
    status, head, body = raw_request(port, "/runs/r1.html")
    assert (status, body) == (200, b"<!DOCTYPE html>run one")
    assert "Content-Security-Policy: default-src 'none'" in head
    assert "X-Content-Type-Options: nosniff" in head


def test_a_symlink_that_stays_inside_is_served(port: int) -> None:
    assert raw_request(port, "/runs/alias.html")[0] == 200


@pytest.mark.parametrize(
    "target",
    [
        "/../outside/passwd",
        "/../../../../etc/passwd",
        "/runs/../../outside/passwd",
        "/%2e%2e/outside/passwd",
        "/%2E%2E%2Foutside%2Fpasswd",
        "/runs/%2e%2e/%2e%2e/outside/passwd",
        "/..%5coutside%5cpasswd",
        "/..\\outside\\passwd",
        "//etc/passwd",
        "/%2fetc%2fpasswd",
        "http://localhost/../outside/passwd",
        "/link-file.html",
        "/link-dir/passwd",
        "/.hidden",
        "/runs/r1.html%00.txt",
    ],
)
def test_traversal_attempts_are_refused(port: int, target: str) -> None:
    status, _, body = raw_request(port, target)
    assert status in (400, 404)
    assert SECRET.encode() not in body
    assert b"dotfile" not in body


def test_directories_are_never_listed(port: int) -> None:
    status, _, body = raw_request(port, "/runs/")
    assert status == 404
    assert b"r1.html" not in body
    assert raw_request(port, "/empty")[0] == 404


@pytest.mark.parametrize("method", ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "PROPFIND"])
def test_methods_other_than_get_and_head_are_not_allowed(port: int, method: str, tree: Path) -> None:
    status, head, _ = raw_request(port, "/index.html", method)
    assert status == 405
    assert "Allow: GET, HEAD" in head
    assert (tree / "index.html").read_text().endswith("leaderboard")


def test_head_sends_headers_without_a_body(port: int) -> None:
    status, head, body = raw_request(port, "/index.html", "HEAD")
    assert status == 200
    assert "Content-Length: 46" in head
    assert body == b""


def test_server_url_names_the_bound_loopback_port(tree: Path) -> None:
    server = make_server(tree, "127.0.0.1", 0)
    try:
        assert server_url(server) == f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.server_close()


@pytest.mark.slow
def test_serve_command_with_port_0_prints_its_url_and_serves_the_reports(tmp_path: Path, tree: Path) -> None:
    config = make_config(tmp_path)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config.path), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith(f"Serving {tree} at http://127.0.0.1:"), line + proc.stderr.read()
        port = int(line.rsplit(":", 1)[1].strip(" /\n"))
        assert raw_request(port, "/")[0] == 200
        assert raw_request(port, "/../outside/passwd")[0] == 404
    finally:
        proc.terminate()
        proc.wait(timeout=WAIT_S)


def test_serve_command_without_reports_exits_2(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from monitor.cli import main

    config = make_config(tmp_path)
    result = CliRunner().invoke(main, ["--config", str(config.path), "serve", "--port", "0"])
    assert result.exit_code == 2
    assert "report --all" in result.output
