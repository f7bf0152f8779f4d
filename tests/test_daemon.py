"""The daemon as a real subprocess against the simulator and a loopback SMTP server, on a fast schedule."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from monitor.core.config import load_config
from monitor.service.schedule import build_scheduler, install_jobs
from monitor.simulator import SimModel, Simulator
from monitor.store.tables import OutboxMessage, utcnow
from tests.daemon_support import DaemonProcess, Workspace, wait_for
from tests.fixtures.smtp import SmtpServer

pytestmark = pytest.mark.slow

HIDDEN = 10**6  # release_after_polls: listed only once the test calls sim.release()


def sim_models(latency_ms: float = 2.0, *extra: SimModel) -> list[SimModel]:
    return [
        SimModel("gpt-sim-base", skill=0.6, latency_ms=latency_ms, latency_jitter_ms=0),
        SimModel(
            "gpt-sim-next", skill=0.9, latency_ms=latency_ms, latency_jitter_ms=0, release_after_polls=HIDDEN
        ),
        *extra,
    ]


@pytest.fixture
def make_workspace(
    tmp_path: Path, make_simulator: Callable[..., Simulator], smtp_server: SmtpServer
) -> Iterator[Callable[..., tuple[Workspace, Simulator]]]:
    made: list[Workspace] = []

    def make(models: list[SimModel] | None = None, **kwargs: Any) -> tuple[Workspace, Simulator]:
        sim = make_simulator(models=models or sim_models())
        workspace = Workspace(tmp_path, sim.base_url, smtp_server.port, **kwargs)
        made.append(workspace)
        return workspace, sim

    yield make
    for workspace in made:
        workspace.close()


def suite_sizes(workspace: Workspace) -> dict[str, int]:
    return dict(workspace.suites)


def assert_evaluated_once(workspace: Workspace) -> None:
    """One done run per suite for the new model and for the baseline, each with every sample once."""
    runs = workspace.runs()
    by_model: dict[str, list[str]] = {}
    for run in runs:
        by_model.setdefault(run.model_id, []).append(run.status)
    n_suites = len(workspace.suites)
    assert by_model == {"gpt-sim-next": ["done"] * n_suites, "gpt-sim-base": ["done"] * n_suites}, by_model
    sizes = {run.id: run.samples_total for run in runs}
    assert workspace.results_per_run() == sizes
    assert workspace.duplicate_results() == 0


def test_model_released_while_the_daemon_runs_is_evaluated_once_and_mailed_once(
    make_workspace: Callable[..., tuple[Workspace, Simulator]], smtp_server: SmtpServer, any_db_url: str
) -> None:
    workspace, sim = make_workspace(database_url=any_db_url)
    daemon = workspace.start_daemon("a")
    wait_for(lambda: workspace.polls() >= 1, "the bootstrap poll")
    assert workspace.runs() == [], "the first poll only records what exists"
    sim.release("gpt-sim-next")
    wait_for(lambda: smtp_server.messages, "the event's e-mail")
    polls_then = workspace.polls()
    wait_for(lambda: workspace.polls() >= polls_then + 3, "three more polls")

    assert daemon.alive()
    assert_evaluated_once(workspace)
    assert len(smtp_server.messages) == 1
    subject = smtp_server.messages[0].parsed()["Subject"]
    assert "sim:gpt-sim-next" in subject
    events = workspace.events("new_model")
    assert len(events) == 1 and events[0].model_id == "gpt-sim-next" and events[0].reported_at is not None
    assert (workspace.root / "reports" / "index.html").is_file()
    assert any((workspace.root / "reports" / "events").glob("*.html"))
    assert daemon.terminate() == 0


def test_kill_9_mid_evaluation_then_restart_completes_the_event_once(
    make_workspace: Callable[..., tuple[Workspace, Simulator]], smtp_server: SmtpServer, any_db_url: str
) -> None:
    workspace, sim = make_workspace(
        sim_models(latency_ms=150), suites={"sums": 24, "more-sums": 8}, database_url=any_db_url
    )
    first = workspace.start_daemon("first")
    wait_for(lambda: workspace.polls() >= 1, "the bootstrap poll")
    sim.release("gpt-sim-next")
    wait_for(lambda: sum(workspace.results_per_run().values()) >= 6, "a few stored samples")
    first.kill9()
    stored_at_kill = workspace.result_ids()
    total = sum(run.samples_total for run in workspace.runs())
    assert 0 < len(stored_at_kill) < total, "killed mid-evaluation"
    assert any(run.status == "running" for run in workspace.runs())

    second = workspace.start_daemon("second")
    wait_for(lambda: smtp_server.messages, "the event's e-mail after the restart")
    polls_then = workspace.polls()
    wait_for(lambda: workspace.polls() >= polls_then + 2, "two more polls")

    assert_evaluated_once(workspace)
    assert len(smtp_server.messages) == 1
    assert len(workspace.outbox()) == 1
    after = workspace.result_ids()
    assert {key: after[key] for key in stored_at_kill} == stored_at_kill, "stored samples were not redone"
    assert second.terminate() == 0


def runs_finished_by(daemon: DaemonProcess) -> set[int]:
    """The runs a daemon's log says it finished."""
    return {int(m) for m in re.findall(r"monitor\.(?:daemon|worker): run (\d+) ", daemon.log())}


def test_two_daemons_elect_one_leader_and_the_standby_takes_over_when_it_dies(
    make_workspace: Callable[..., tuple[Workspace, Simulator]], smtp_server: SmtpServer, any_db_url: str
) -> None:
    later = SimModel(
        "gpt-sim-later", skill=0.8, latency_ms=2, latency_jitter_ms=0, release_after_polls=HIDDEN
    )
    workspace, sim = make_workspace(sim_models(2.0, later), database_url=any_db_url)
    leader = workspace.start_daemon("leader")
    wait_for(lambda: workspace.lease_holder() == leader.worker_id, "the first daemon to lead")
    standby = workspace.start_daemon("standby")
    wait_for(lambda: "standby:" in standby.log(), "the second daemon to stand by")
    wait_for(lambda: workspace.polls() >= 1, "the bootstrap poll")

    sim.release("gpt-sim-next")
    wait_for(lambda: len(smtp_server.messages) == 1, "the first event's e-mail")
    assert workspace.lease_holder() == leader.worker_id
    assert "leader: this daemon runs the schedule" not in standby.log()
    assert runs_finished_by(standby) == set()
    assert runs_finished_by(leader) == {run.id for run in workspace.runs()}

    leader.kill9()
    wait_for(lambda: workspace.lease_holder() == standby.worker_id, "the standby to take over")
    sim.release("gpt-sim-later")
    wait_for(lambda: len(smtp_server.messages) == 2, "the second event's e-mail")

    later_runs = workspace.runs("gpt-sim-later")
    assert [run.status for run in later_runs] == ["done"] * len(workspace.suites)
    assert runs_finished_by(standby) == {run.id for run in later_runs}
    assert workspace.duplicate_results() == 0
    assert len(workspace.runs("gpt-sim-next")) == len(workspace.suites)
    assert standby.terminate() == 0


def test_mail_queued_while_smtp_is_down_arrives_once_smtp_is_back(
    make_workspace: Callable[..., tuple[Workspace, Simulator]], smtp_server: SmtpServer
) -> None:
    workspace, sim = make_workspace()
    smtp_server.stop()
    daemon = workspace.start_daemon("a")
    wait_for(lambda: workspace.polls() >= 1, "the bootstrap poll")
    sim.release("gpt-sim-next")
    failed = wait_for(
        lambda: [m for m in workspace.outbox() if m.attempts >= 1 and m.status == "pending"],
        "a failed delivery attempt",
    )
    assert failed[0].last_error
    smtp_server.start()
    # The failure's retry time is a minute away: bring it forward instead of waiting.
    with workspace.session() as session:
        session.execute(update(OutboxMessage).values(next_try_at=utcnow() - timedelta(seconds=1)))
    wait_for(lambda: smtp_server.messages, "delivery after SMTP returns")
    polls_then = workspace.polls()
    wait_for(lambda: workspace.polls() >= polls_then + 2, "two more polls")

    assert len(smtp_server.messages) == 1
    assert [m.status for m in workspace.outbox()] == ["sent"]
    assert daemon.terminate() == 0


def test_a_failing_job_is_logged_and_the_daemon_carries_on(
    make_workspace: Callable[..., tuple[Workspace, Simulator]], smtp_server: SmtpServer
) -> None:
    workspace, sim = make_workspace()
    blocker = workspace.root / "reports"
    blocker.write_text("a file where the reports directory should be\n")
    daemon = workspace.start_daemon("a")
    wait_for(lambda: workspace.polls() >= 1, "the bootstrap poll")
    sim.release("gpt-sim-next")
    wait_for(lambda: "could not complete event" in daemon.log(), "the report job to fail")
    polls_then = workspace.polls()
    wait_for(lambda: workspace.polls() >= polls_then + 2, "polls to go on")
    assert daemon.alive()
    assert smtp_server.messages == []

    blocker.unlink()
    wait_for(lambda: smtp_server.messages, "the event to complete once reports can be written")
    assert len(smtp_server.messages) == 1
    assert daemon.terminate() == 0


def test_sigterm_stops_mid_run_releases_the_lease_and_the_run_resumes_later(
    make_workspace: Callable[..., tuple[Workspace, Simulator]], smtp_server: SmtpServer
) -> None:
    workspace, sim = make_workspace(sim_models(latency_ms=150), suites={"sums": 30, "more-sums": 4})
    daemon = workspace.start_daemon("a")
    wait_for(lambda: workspace.polls() >= 1, "the bootstrap poll")
    sim.release("gpt-sim-next")
    wait_for(lambda: sum(workspace.results_per_run().values()) >= 4, "a few stored samples")

    assert daemon.terminate() == 0
    assert workspace.lease_holder() is None
    statuses = [run.status for run in workspace.runs()]
    assert "running" not in statuses and set(statuses) - {"done"}, statuses
    assert "daemon stopped" in daemon.log()

    again = workspace.start_daemon("again")
    wait_for(lambda: smtp_server.messages, "the event to complete after the restart")
    assert_evaluated_once(workspace)
    assert again.terminate() == 0


def test_status_is_healthy_while_a_daemon_leads_and_unhealthy_after_it_dies(
    make_workspace: Callable[..., tuple[Workspace, Simulator]],
) -> None:
    workspace, _sim = make_workspace()
    assert workspace.run_cli("status").returncode == 1
    daemon = workspace.start_daemon("a", args=("--log-json",))
    wait_for(lambda: workspace.lease_holder() == daemon.worker_id, "the daemon to lead")
    wait_for(lambda: workspace.polls() >= 1, "the bootstrap poll")
    healthy = workspace.run_cli("status")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert daemon.worker_id in healthy.stdout and "poll" in healthy.stdout

    daemon.kill9()
    wait_for(lambda: workspace.run_cli("status").returncode == 1, "status to see the stale heartbeat")
    assert "stale" in workspace.run_cli("status").stdout
    records = [json.loads(line) for line in daemon.log().splitlines()]
    assert {"time", "level", "logger", "message"} <= set(records[0])
    assert any(r["message"].startswith("leader:") for r in records)


def test_an_extra_worker_shares_the_queue_without_double_work(
    make_workspace: Callable[..., tuple[Workspace, Simulator]], smtp_server: SmtpServer
) -> None:
    workspace, sim = make_workspace(
        sim_models(latency_ms=80), suites={"sums": 10, "more-sums": 10, "third": 10}
    )
    leader = workspace.start_daemon("leader")
    worker = workspace.start_worker("worker")
    wait_for(lambda: workspace.polls() >= 1, "the bootstrap poll")
    sim.release("gpt-sim-next")
    wait_for(lambda: smtp_server.messages, "the event's e-mail")
    polls_then = workspace.polls()
    wait_for(lambda: workspace.polls() >= polls_then + 2, "two more polls")

    assert_evaluated_once(workspace)
    assert len(smtp_server.messages) == 1
    by_leader, by_worker = runs_finished_by(leader), runs_finished_by(worker)
    assert by_leader.isdisjoint(by_worker)
    assert by_leader | by_worker == {run.id for run in workspace.runs()}
    assert by_worker, "the worker took part"
    assert worker.terminate() == 0
    assert leader.terminate() == 0


def make_drift_overdue(workspace: Workspace) -> None:
    """Store the drift job as if its weekly run had been missed while no daemon ran."""
    config = load_config(workspace.config_path)
    scheduler = build_scheduler(config)
    scheduler.start(paused=True)
    install_jobs(scheduler, config)
    scheduler.modify_job("drift", next_run_time=datetime.now(UTC) - timedelta(days=1))
    scheduler.shutdown(wait=False)


def drift_statuses(workspace: Workspace) -> list[str | None]:
    return [e.detail.get("status") for e in workspace.events("drift") if e.reported_at is not None]


def test_missed_drift_check_runs_at_start_and_a_new_fingerprint_alerts_once(
    make_workspace: Callable[..., tuple[Workspace, Simulator]], smtp_server: SmtpServer
) -> None:
    base = SimModel("gpt-sim-base", skill=0.7, latency_ms=2, latency_jitter_ms=0, system_fingerprint="fp_a")
    workspace, sim = make_workspace([base])
    make_drift_overdue(workspace)
    first = workspace.start_daemon("first")
    wait_for(lambda: drift_statuses(workspace) == ["unchanged"], "the missed drift check to run")
    assert first.terminate() == 0
    assert smtp_server.messages == [], "a first measurement is no change"

    sim.models[0].system_fingerprint = "fp_b"
    make_drift_overdue(workspace)
    second = workspace.start_daemon("second")
    wait_for(lambda: drift_statuses(workspace) == ["unchanged", "changed"], "the second drift check")
    wait_for(lambda: smtp_server.messages, "the drift alert")
    polls_then = workspace.polls()
    wait_for(lambda: workspace.polls() >= polls_then + 2, "two more polls")

    assert len(smtp_server.messages) == 1
    assert "drift" in str(smtp_server.messages[0].parsed()["Subject"])
    drift = workspace.events("drift")[-1]
    assert drift.detail["findings"] == ["system_fingerprint fp_a -> fp_b"]
    assert [run.trigger for run in workspace.runs()] == ["drift"] * 2 * len(workspace.suites)
    assert second.terminate() == 0
