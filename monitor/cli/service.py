"""CLI commands for the service: `daemon`, `status` and the offline `demo` (registered on the root group)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from monitor.cli.app import AppContext, console, json_option, main, pass_app, print_json
from monitor.core.errors import MonitorError

if TYPE_CHECKING:
    from monitor.service.status import DaemonStatus


@main.command()
@click.option("--log-json", is_flag=True, help="Log JSON lines instead of text lines (stderr).")
@click.option("--worker-id", help="This process's name in leases and run claims (default: host:pid:random).")
@click.option(
    "--lease-ttl",
    type=click.FloatRange(min=0.5),
    default=30.0,
    show_default=True,
    help="Seconds the leader lease lasts without a heartbeat; a standby takes over after that.",
)
@click.option(
    "--grace",
    type=click.FloatRange(min=0),
    default=30.0,
    show_default=True,
    help="Seconds to let running work finish after SIGTERM/SIGINT.",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve Prometheus metrics on this port instead of [metrics] port (one port per process).",
)
@pass_app
def daemon(
    app: AppContext,
    log_json: bool,
    worker_id: str | None,
    lease_ttl: float,
    grace: float,
    metrics_port: int | None,
) -> None:
    """Run the scheduler: poll, evaluate, report, mail, drift checks (one leader per database)."""
    from monitor.core.logs import configured_secrets, setup_logging
    from monitor.pipeline.queue import new_worker_id
    from monitor.service.daemon import DaemonOptions, run_daemon
    from monitor.service.metrics import with_port

    config = with_port(app.config, metrics_port)
    setup_logging(
        json_lines=log_json,
        level=logging.DEBUG if app.debug else logging.INFO,
        secrets=configured_secrets(config),
    )
    options = DaemonOptions(worker_id=worker_id or new_worker_id(), lease_ttl_s=lease_ttl, grace_s=grace)
    raise SystemExit(run_daemon(config, options))


@main.command()
@click.option("--log-json", is_flag=True, help="Log JSON lines instead of text lines (stderr).")
@click.option("--worker-id", help="This process's name in run claims (unique; default host:pid:random).")
@click.option(
    "--idle",
    type=click.FloatRange(min=0.1),
    default=None,
    help="Seconds to wait when the queue is empty (default: [schedule] work_interval_seconds).",
)
@click.option(
    "--metrics-port",
    type=click.IntRange(1, 65535),
    help="Serve Prometheus metrics on this port instead of [metrics] port (one port per process).",
)
@pass_app
def worker(
    app: AppContext, log_json: bool, worker_id: str | None, idle: float | None, metrics_port: int | None
) -> None:
    """Evaluate queued runs next to the daemon (extra capacity; no scheduler, no leader lease)."""
    from monitor.core.logs import configured_secrets, setup_logging
    from monitor.pipeline.queue import new_worker_id
    from monitor.service.metrics import with_port
    from monitor.service.worker import run_worker

    config = with_port(app.config, metrics_port)
    setup_logging(
        json_lines=log_json,
        level=logging.DEBUG if app.debug else logging.INFO,
        secrets=configured_secrets(config),
    )
    idle_s = idle if idle is not None else config.schedule.work_interval_seconds
    raise SystemExit(run_worker(config, worker_id=worker_id or new_worker_id(), idle_s=idle_s))


@main.command()
@json_option
@pass_app
def status(app: AppContext, as_json: bool) -> None:
    """Show the leader, the next job times, the queue, pending mail and the last polls.

    Exit status 1 when no daemon holds the lease or its heartbeat is stale (a health check).
    """
    from sqlalchemy.exc import SQLAlchemyError

    from monitor.service.status import collect_status

    try:
        report = collect_status(app.existing_database(), app.config)
    except SQLAlchemyError as exc:
        raise MonitorError(f"cannot read the database: {exc.__class__.__name__}: {exc}") from None
    if as_json:
        print_json(report.to_dict())
    else:
        _render_status(report)
    if not report.healthy:
        raise SystemExit(1)


def _ago(now: datetime, then: datetime | None) -> str:
    if then is None:
        return "never"
    seconds = (now - then).total_seconds()
    if seconds < 0:
        return f"in {_span(-seconds)}"
    return f"{_span(seconds)} ago"


def _span(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min"
    if seconds < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def _render_status(report: DaemonStatus) -> None:
    from rich.markup import escape
    from rich.table import Table

    now = report.now
    if report.leader is not None:
        lease = report.leader
        console.print(
            f"leader: [bold]{escape(lease.holder)}[/] since {lease.acquired_at:%Y-%m-%d %H:%M:%S} UTC, "
            f"heartbeat {_ago(now, lease.heartbeat_at)}",
            highlight=False,
        )
    jobs = Table(title="jobs", title_justify="left")
    jobs.add_column("job")
    jobs.add_column("next run (UTC)")
    jobs.add_column("")
    for job in report.jobs:
        when = f"{job.next_run_at:%Y-%m-%d %H:%M:%S}" if job.next_run_at else "paused"
        jobs.add_row(job.id, when, _ago(now, job.next_run_at) if job.next_run_at else "")
    if report.jobs:
        console.print(jobs)
    else:
        console.print("jobs: none scheduled yet (no daemon has run on this database)")
    runs = report.runs
    console.print(
        f"runs: {runs.get('queued', 0)} queued, {runs.get('running', 0)} running, "
        f"{runs.get('waiting', 0)} waiting on batches, {runs.get('interrupted', 0)} interrupted",
        highlight=False,
    )
    for run_id, model_key, suite, why in report.skipped:
        console.print(
            f"[yellow]skipped[/] run {run_id} ({escape(model_key)} on {escape(suite)}): {escape(why)}; "
            f"`model-monitor resume {run_id} --yes` runs it anyway",
            highlight=False,
            soft_wrap=True,
        )
    failing = f" ({report.mail_failing} failing, retried later)" if report.mail_failing else ""
    console.print(f"mail: {report.mail_pending} pending{failing}", highlight=False)
    if report.notify_pending or report.notify_failed:
        stalled, refused = report.notify_stalled, report.notify_failed
        console.print(
            f"notifications: {report.notify_pending} pending ({stalled} stalled), {refused} refused; "
            "see `model-monitor notify list`",
            highlight=False,
        )
    polls = Table(title="last poll per provider", title_justify="left")
    for name in ("provider", "when", "result", "listed", "new", "removed", "returned"):
        polls.add_column(
            name, justify="right" if name in ("listed", "new", "removed", "returned") else "left"
        )
    for poll in report.polls:
        if poll.started_at is None:
            polls.add_row(escape(poll.provider), "never", "", "", "", "", "")
            continue
        result = "[green]ok[/]" if poll.ok else f"[red]failed[/]: {escape(poll.error or 'unknown error')}"
        polls.add_row(
            escape(poll.provider),
            _ago(now, poll.started_at),
            result,
            str(poll.listed),
            str(poll.new),
            str(poll.removed),
            str(poll.returned),
        )
    console.print(polls)
    for problem in report.config_problems:
        console.print(f"[yellow]config problem:[/] {escape(problem)}", highlight=False, soft_wrap=True)
    for warning in report.retirements:
        console.print(f"[yellow]retirement:[/] {escape(warning)}", highlight=False, soft_wrap=True)
    if report.healthy:
        console.print("[green]healthy[/]")
    else:
        console.print(f"[bold red]unhealthy:[/] {escape(report.problem or '')}", highlight=False)


@main.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("model-monitor-demo"),
    show_default=True,
    help="Workspace for the demo's config, database, suites and reports (recreated each run).",
)
@click.option(
    "--keep", is_flag=True, help="Keep the simulator and SMTP server running afterwards (Ctrl-C ends)."
)
def demo(directory: Path, keep: bool) -> None:
    """Run the whole loop offline: simulated providers, a new model, evals, a report and an e-mail."""
    from monitor.cli.demo import run_demo

    run_demo(directory, keep=keep, console=console)
