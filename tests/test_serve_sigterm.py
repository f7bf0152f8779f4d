"""`model-monitor serve` stops cleanly on SIGTERM and SIGINT: exit 0 and a line saying why."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon_support import WAIT_S
from tests.factories import make_config
from tests.test_serve import raw_request


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_exits_0_with_a_log_line_on_a_stop_signal(tmp_path: Path, signum: signal.Signals) -> None:
    config = make_config(tmp_path)
    config.reports_dir.mkdir(parents=True, exist_ok=True)
    (config.reports_dir / "index.html").write_text("<!DOCTYPE html><title>index</title>leaderboard")
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "--config", str(config.path), "serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert " at http://127.0.0.1:" in line, line
        port = int(line.rsplit(":", 1)[1].strip(" /\n"))
        status, _, body = raw_request(port, "/")
        assert (status, body.endswith(b"leaderboard")) == (200, True)
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=WAIT_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=WAIT_S)
    assert proc.returncode == 0, stderr
    assert f"{signum.name} received: stopped serving" in stderr
    assert "Traceback" not in stderr
