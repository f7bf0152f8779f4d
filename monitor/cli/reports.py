"""CLI commands for reports: `report` (write HTML reports) and `serve` (serve them read-only)."""

from __future__ import annotations

import sys

import click

from monitor.cli.app import AppContext, err_console, json_option, main, pass_app, print_json
from monitor.core.errors import InputError


@main.command("report")
@click.argument("run_id", required=False, type=int)
@click.option("--all", "write_everything", is_flag=True, help="Every run and event report, and the index.")
@click.option("--event", "event_id", type=int, help="The report of one event (and its runs), and the index.")
@json_option
@pass_app
def report_command(
    app: AppContext, run_id: int | None, write_everything: bool, event_id: int | None, as_json: bool
) -> None:
    """Write the HTML report of RUN_ID (and the index), of an --event, or of everything (--all)."""
    chosen = [run_id is not None, write_everything, event_id is not None]
    if sum(chosen) != 1:
        raise InputError("give exactly one of RUN_ID, --all or --event ID (see 'model-monitor runs')")
    from monitor.pipeline.report.write import write_all, write_event_report, write_index, write_run_report

    config = app.config
    db = app.existing_database()
    if event_id is not None:
        paths = [write_event_report(db, config, event_id), write_index(db, config)]
    elif run_id is not None:
        paths = [write_run_report(db, config, run_id), write_index(db, config)]
    else:
        paths = write_all(db, config)
    if as_json:
        print_json([str(p) for p in paths])
        return
    for path in paths:
        click.echo(str(path))
    err_console.print(f"{len(paths)} report file(s) in {config.reports_dir}", highlight=False)


@main.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (loopback by default).")
@click.option(
    "--port", type=click.IntRange(0, 65535), default=8000, show_default=True, help="0 picks a free port."
)
@pass_app
def serve_command(app: AppContext, host: str, port: int) -> None:
    """Serve the reports directory read-only over HTTP until interrupted."""
    from monitor.service.serve import is_loopback, make_server, serve_until_stopped, server_url

    root = app.config.reports_dir
    if not root.is_dir():
        raise InputError(f"no reports directory at {root}; run 'model-monitor report --all' first")
    try:
        server = make_server(root, host, port)
    except OSError as exc:
        raise InputError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc
    if not is_loopback(host):
        err_console.print(f"[yellow]warning:[/] serving on {host}: reachable from other machines")
    click.echo(f"Serving {root} at {server_url(server)}")
    sys.stdout.flush()
    stopped_by = serve_until_stopped(server)
    err_console.print(f"{stopped_by} received: stopped serving {root}", highlight=False)
