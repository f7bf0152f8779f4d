"""`model-monitor email --test | --flush`: check the SMTP settings and deliver the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from monitor.cli.app import AppContext, console, json_option, main, pass_app, print_json
from monitor.core.errors import ConfigError, InputError

if TYPE_CHECKING:
    from monitor.core.config import EmailConfig


def _email_config(app: AppContext) -> EmailConfig:
    from monitor.pipeline.deliver.message import message_addresses

    config = app.config.email
    if config is None:
        where = app.config.path or "the config file"
        raise ConfigError(f"no [email] section in {where}: add smtp_host, from and to to send e-mail")
    message_addresses(config)
    return config


@main.command("email")
@click.option("--test", "test", is_flag=True, help="Send a test message to [email].to now.")
@click.option("--flush", "flush", is_flag=True, help="Deliver the pending messages in the outbox.")
@json_option
@pass_app
@click.pass_context
def email_command(ctx: click.Context, app: AppContext, test: bool, flush: bool, as_json: bool) -> None:
    """Send a test e-mail, or deliver what is waiting in the outbox (exit 1 if a delivery failed)."""
    if test == flush:
        raise InputError("choose one of --test or --flush")
    config = _email_config(app)
    if test:
        from monitor.pipeline.deliver.mailer import send_test

        send_test(config)
        if as_json:
            print_json(
                {"sent": True, "to": list(config.to), "server": f"{config.smtp_host}:{config.smtp_port}"}
            )
        else:
            console.print(
                f"Sent a test message to {', '.join(config.to)} via {config.smtp_host}:{config.smtp_port}.",
                markup=False,
                highlight=False,
            )
        return

    from monitor.pipeline.deliver.mailer import SLOW_AFTER_ATTEMPTS, flush_outbox

    result = flush_outbox(app.database(), config)
    if as_json:
        print_json(
            {
                "sent": result.sent,
                "failed": result.failed,
                "pending": result.pending,
                "stalled": result.stalled,
                "errors": result.errors,
            }
        )
    else:
        console.print(
            f"sent {result.sent}, failed {result.failed}, pending {result.pending}",
            markup=False,
            highlight=False,
        )
        if result.stalled:
            console.print(
                f"{result.stalled} message(s) failed {SLOW_AFTER_ATTEMPTS} times or more; "
                "still retried every 6 hours",
                markup=False,
                highlight=False,
            )
        for error in result.errors:
            console.print(f"  {error}", markup=False, highlight=False)
    if result.failed:
        ctx.exit(1)
