"""`model-monitor notify list | test | flush`: see the [[notify]] targets, try them, deliver their outbox."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from monitor.cli.app import AppContext, console, json_option, main, pass_app, print_json
from monitor.core.errors import ConfigError, InputError

if TYPE_CHECKING:
    from monitor.core.config_outputs import NotifyConfig


def _targets(app: AppContext, name: str | None) -> list[tuple[str, NotifyConfig]]:
    """The configured targets, or the one named; a clear error when there is none or the name is unknown."""
    targets = app.config.notify_targets()
    if not targets:
        where = app.config.path or "the config file"
        raise ConfigError(f"no [[notify]] targets in {where}: add one with name, type and url_env")
    if name is None:
        return targets
    chosen = [(n, t) for n, t in targets if n == name]
    if not chosen:
        raise InputError(
            f"no [[notify]] target named '{name}'; the targets are {', '.join(n for n, _ in targets)}"
        )
    return chosen


def _target_row(name: str, target: NotifyConfig) -> dict[str, Any]:
    import os

    from monitor.pipeline.deliver.notify_send import service_name

    return {
        "name": name,
        "type": target.type,
        "service": service_name(target),
        "url_env": target.url_env,
        "url_set": bool(os.environ.get(target.url_env)),
        "secret_env": target.secret_env,
        "secret_set": bool(os.environ.get(target.secret_env)) if target.secret_env else None,
        "on": list(target.on),
        "only_significant": target.only_significant,
    }


@main.group()
def notify() -> None:
    """Chat and webhook notifications ([[notify]] in the config)."""


@notify.command("list")
@json_option
@pass_app
def notify_list(app: AppContext, as_json: bool) -> None:
    """Show the targets (never their URLs) and the notifications waiting or refused."""
    from rich.table import Table

    from monitor.pipeline.deliver.notify_outbox import failed_count, outstanding, pending_counts

    targets = [_target_row(n, t) for n, t in app.config.notify_targets()]
    with app.existing_database().session() as session:
        pending, stalled = pending_counts(session)
        failed = failed_count(session)
        rows = outstanding(session)
    if as_json:
        print_json(
            {
                "targets": targets,
                "pending": pending,
                "stalled": stalled,
                "failed": failed,
                "notifications": rows,
            }
        )
        return
    table = Table(title="notify targets", title_justify="left")
    for column in ("name", "type", "service", "url variable", "on", "only significant"):
        table.add_column(column)
    for row in targets:
        url = f"{row['url_env']} ({'set' if row['url_set'] else '[yellow]not set[/]'})"
        table.add_row(
            escape(row["name"]),
            row["type"],
            escape(row["service"] or "-"),
            url,
            ", ".join(row["on"]),
            "yes" if row["only_significant"] else "no",
        )
    if targets:
        console.print(table)
    else:
        console.print("no [[notify]] targets configured", markup=False)
    console.print(f"notifications: {pending} pending ({stalled} stalled), {failed} refused", highlight=False)
    for row in rows:
        when = f", next try {row['next_try_at']:%Y-%m-%d %H:%M} UTC" if row["next_try_at"] else ""
        error = f": {row['last_error']}" if row["last_error"] else ""
        console.print(
            f"  #{row['id']} {row['status']} to {row['target']} ({row['kind']}, "
            f"{row['attempts']} attempt(s){when}) {row['title']}{error}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


@notify.command("test")
@click.argument("name", required=False)
@json_option
@pass_app
@click.pass_context
def notify_test(ctx: click.Context, app: AppContext, name: str | None, as_json: bool) -> None:
    """Send a test message now to NAME (default: every target); exit 1 if one failed."""
    import uuid

    from monitor import __version__
    from monitor.pipeline.deliver.notify_send import Delivery, send

    results: list[dict[str, Any]] = []
    for target_name, target in _targets(app, name):
        title = "model-monitor test message"
        body = f"This is a test from model-monitor {__version__} to the [[notify]] target {target_name}."
        payload = {"kind": "test", "title": title, "text": body, "target": target_name}
        outcome = send(target_name, target, Delivery("test", title, body, payload, str(uuid.uuid4())))
        results.append({"target": target_name, "sent": outcome.error is None, "error": outcome.error})
    if as_json:
        print_json(results)
    else:
        for result in results:
            if result["sent"]:
                console.print(f"[green]sent[/] to {escape(result['target'])}")
            else:
                console.print(
                    f"[red]failed[/] {escape(result['target'])}: {escape(result['error'] or '')}",
                    highlight=False,
                    soft_wrap=True,
                )
    if any(not r["sent"] for r in results):
        ctx.exit(1)


@notify.command("flush")
@json_option
@pass_app
@click.pass_context
def notify_flush(ctx: click.Context, app: AppContext, as_json: bool) -> None:
    """Deliver the due notifications now (the daemon's outbox job does this too); exit 1 if one failed."""
    from monitor.pipeline.deliver.notify_outbox import flush_notifications

    result = flush_notifications(app.database(), app.config)
    if as_json:
        print_json(dataclasses.asdict(result))
    else:
        console.print(
            f"sent {result.sent}, failed {result.failed}, refused {result.refused}, pending {result.pending}",
            highlight=False,
        )
        for error in result.errors:
            console.print(f"  {error}", markup=False, highlight=False, soft_wrap=True)
    if result.failed or result.refused:
        ctx.exit(1)
