"""The daemon's leadership loop in-process: it steps down when its lease is taken and leads again later."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from monitor.core.config import load_config
from monitor.service.daemon import Daemon, DaemonOptions
from monitor.simulator import SimModel, Simulator
from monitor.store.tables import Lease, utcnow
from tests.daemon_support import SIM_KEY, SIM_KEY_ENV, WAIT_S, Workspace, wait_for
from tests.fixtures.smtp import SmtpServer


def test_a_leader_whose_lease_is_taken_stands_by_and_leads_again_after_expiry(
    tmp_path: Path,
    make_simulator: Callable[..., Simulator],
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="monitor.daemon")
    monkeypatch.setenv(SIM_KEY_ENV, SIM_KEY)
    sim = make_simulator(models=[SimModel("gpt-sim-base", latency_ms=1, latency_jitter_ms=0)])
    workspace = Workspace(tmp_path, sim.base_url, smtp_server.port)
    daemon = Daemon(load_config(workspace.config_path), workspace.db, DaemonOptions("me", lease_ttl_s=3.0))
    thread = threading.Thread(target=daemon.run, name="daemon-under-test")
    thread.start()
    try:
        wait_for(lambda: workspace.lease_holder() == "me", "the daemon to lead")
        with workspace.session() as s:
            s.execute(update(Lease).values(holder="thief", expires_at=utcnow() + timedelta(hours=1)))

        wait_for(lambda: "lost the leader lease" in caplog.text, "the daemon to step down")
        assert workspace.lease_holder() == "thief"
        with workspace.session() as s:
            s.execute(update(Lease).values(expires_at=utcnow() - timedelta(seconds=1)))  # the thief dies
        # The lease row changes before the daemon logs that it leads: wait for the log line itself.
        wait_for(
            lambda: caplog.text.count("leader: this daemon runs the schedule") == 2,
            "the daemon to lead again",
        )
        assert workspace.lease_holder() == "me"
    finally:
        daemon.shutdown.set()
        thread.join(timeout=WAIT_S)
        workspace.close()
    assert not thread.is_alive()
    assert workspace.lease_holder() is None, "a clean stop releases the lease"
