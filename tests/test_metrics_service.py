"""Metrics from real `daemon` and `worker` processes: leader and standby, shutdown, a taken port, `check`."""

from __future__ import annotations

import json
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, select

from monitor.core.config import load_config
from monitor.simulator import SimModel, Simulator
from monitor.store.tables import Lease, ProviderPoll
from tests.daemon_support import Workspace, wait_for
from tests.fixtures.smtp import SmtpServer, free_port

pytestmark = pytest.mark.slow


@pytest.fixture
def workspace(
    tmp_path: Path, make_simulator: Callable[..., Simulator], smtp_server: SmtpServer
) -> Iterator[Workspace]:
    """A daemon workspace on the simulator whose config serves metrics on a free port."""
    sim = make_simulator(models=[SimModel("gpt-sim-base", skill=0.6, latency_ms=2.0, latency_jitter_ms=0)])
    made = Workspace(tmp_path, sim.base_url, smtp_server.port, extra=f"\n[metrics]\nport = {free_port()}\n")
    yield made
    made.close()


def metrics_url(workspace: Workspace, port: int | None = None) -> str:
    return f"http://127.0.0.1:{port or load_config(workspace.config_path).metrics.port}/metrics"


def scrape(url: str) -> dict[str, float] | None:
    """The unlabelled samples of one scrape (None while nothing listens yet)."""
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            body = response.read().decode()
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, ConnectionRefusedError):
            return None
        raise
    return {
        sample.name: sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
        if not sample.labels
    }


def refused(url: str) -> bool:
    return scrape(url) is None


def leader_gauge(url: str, expected: float) -> bool:
    samples = scrape(url)
    return samples is not None and samples.get("model_monitor_leader") == expected


def test_the_leader_daemon_reports_1_and_a_standby_0(workspace: Workspace) -> None:
    first = workspace.start_daemon("first")
    wait_for(lambda: workspace.lease_holder() == first.worker_id, "the first daemon to lead")
    standby_port = free_port()
    second = workspace.start_daemon("second", args=("--metrics-port", str(standby_port)))
    wait_for(lambda: "standby" in second.log(), "the second daemon to stand by")
    wait_for(lambda: leader_gauge(metrics_url(workspace), 1.0), "the leader's gauge at 1")
    wait_for(lambda: leader_gauge(metrics_url(workspace, standby_port), 0.0), "the standby's gauge at 0")
    assert first.terminate() == 0 and second.terminate() == 0


def test_a_worker_serves_the_database_metrics_without_a_leader_gauge(workspace: Workspace) -> None:
    worker = workspace.start_worker("worker")
    samples = wait_for(lambda: scrape(metrics_url(workspace)), "the worker's metrics")
    assert samples["model_monitor_database_up"] == 1
    assert samples["model_monitor_queued_runs"] == 0
    assert "model_monitor_leader" not in samples
    assert worker.terminate() == 0


def test_the_metrics_server_is_gone_once_the_daemon_stops(workspace: Workspace) -> None:
    daemon = workspace.start_daemon("daemon")
    wait_for(lambda: scrape(metrics_url(workspace)), "the daemon's metrics")
    assert daemon.terminate() == 0
    assert refused(metrics_url(workspace))


def test_the_metrics_server_is_gone_once_a_worker_stops(workspace: Workspace) -> None:
    worker = workspace.start_worker("worker")
    wait_for(lambda: scrape(metrics_url(workspace)), "the worker's metrics")
    assert worker.terminate() == 0
    assert refused(metrics_url(workspace))


@pytest.mark.parametrize("command", ["daemon", "worker"])
def test_a_taken_metrics_port_stops_the_process_with_exit_1_before_any_work(
    workspace: Workspace, command: str
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = workspace.run_cli(command, "--metrics-port", str(port))
    assert done.returncode == 1, done.stderr
    assert f"[metrics] port {port} on 127.0.0.1 is already in use" in done.stderr
    assert "Traceback" not in done.stderr
    with workspace.session() as s:
        assert s.scalar(select(func.count()).select_from(Lease)) == 0, "no lease taken"
        assert s.scalar(select(func.count()).select_from(ProviderPoll)) == 0, "nothing polled"


def test_a_metrics_host_that_is_not_this_machines_is_a_config_error(workspace: Workspace) -> None:
    workspace.extra = f'\n[metrics]\nport = {free_port()}\nhost = "192.0.2.1"\n'  # TEST-NET-1
    workspace.write_config()
    done = workspace.run_cli("daemon")
    assert done.returncode == 2, done.stderr
    assert "[metrics] host '192.0.2.1' is not an address of this machine" in done.stderr
    assert "Traceback" not in done.stderr


def test_check_rejects_a_metrics_host_that_does_not_resolve(workspace: Workspace) -> None:
    workspace.extra = f'\n[metrics]\nport = {free_port()}\nhost = "no-such-host.invalid"\n'
    workspace.write_config()
    done = workspace.run_cli("check", "--json")
    assert done.returncode == 2, done.stderr
    problems = json.loads(done.stdout)["problems"]
    assert any(
        "[metrics] host 'no-such-host.invalid' is not an address of this machine" in p for p in problems
    )


def test_check_warns_when_metrics_are_served_beyond_loopback(workspace: Workspace) -> None:
    workspace.extra = f'\n[metrics]\nport = {free_port()}\nhost = "0.0.0.0"\n'
    workspace.write_config()
    done = workspace.run_cli("check", "--json")
    report = json.loads(done.stdout)
    assert not [p for p in report["problems"] if "[metrics]" in p]
    assert any("[metrics] host = '0.0.0.0' is not loopback" in w for w in report["warnings"])


def test_a_metrics_host_whose_resolver_hangs_is_a_config_error_not_a_hang() -> None:
    from monitor.core.errors import ConfigError
    from monitor.service.metrics import _resolve

    never = threading.Event()

    def hanging_lookup(*_args: object, **_kwargs: object) -> None:
        never.wait()

    try:
        with pytest.raises(ConfigError, match=r"'metrics\.example' did not resolve within 0\.05 s"):
            _resolve("metrics.example", 9100, lookup=hanging_lookup, timeout_s=0.05)
    finally:
        never.set()  # the abandoned lookup thread ends with the test
