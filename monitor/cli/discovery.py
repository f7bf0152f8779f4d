"""CLI commands for discovery: `poll` (list providers, record what changed) and `models` (the registry)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from monitor.cli.app import AppContext, console, json_option, main, pass_app, print_json
from monitor.core.errors import InputError

if TYPE_CHECKING:
    from monitor.core.retirements import Retirement
    from monitor.pipeline.poll.discovery import PollReport
    from monitor.pipeline.poll.registry import KnownModel
    from monitor.pipeline.queue import PlanReport
    from monitor.service.retirements import RetirementCheck

_SHOWN_IDS = 10


@main.command()
@click.option(
    "--provider", "providers", multiple=True, metavar="NAME", help="Poll only this provider (repeatable)."
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@json_option
@pass_app
def poll(app: AppContext, providers: tuple[str, ...], dry_run: bool, as_json: bool) -> None:
    """List every configured provider's models, record new, removed and returned ones, queue runs.

    Then, as the daemon's poll does, open the retirement event of each baseline or watched model
    within its notice window (docs/retirements.md). Exit status 1 when any provider failed (the
    others are still polled and recorded), 2 when runs could not be planned (a suite does not load,
    or retirements.toml is broken: the models wait).
    """
    import logging
    from dataclasses import asdict

    from monitor.pipeline.poll.discovery import poll as run_poll
    from monitor.pipeline.queue import PlanReport, plan_new_model_runs
    from monitor.service.retirements import check_retirements

    # The output below shows every failure; without --debug, don't print each one again as a log line.
    for name in ("monitor.pipeline.poll", "monitor.retirements"):
        logging.getLogger(name).addHandler(logging.NullHandler())
    db = app.database()
    report = run_poll(db, app.config, list(providers) or None, dry_run=dry_run)
    plan = PlanReport() if dry_run else plan_new_model_runs(db, app.config)
    retiring = check_retirements(db, app.config, dry_run=dry_run)
    if as_json:
        print_json({**report.as_dict(), "plan": asdict(plan), "retirements": retiring.as_dict()})
    else:
        _print_poll(report)
        _print_plan(plan)
        _print_retirements(retiring)
    if not report.ok:
        raise click.exceptions.Exit(1)
    if plan.error or retiring.errors:
        raise click.exceptions.Exit(2)


def _print_retirements(check: RetirementCheck) -> None:
    from rich.markup import escape

    for opened in check.opened:
        console.print(f"retirement: {escape(opened.summary())}", highlight=False, soft_wrap=True)
        for note in opened.detail["notes"]:
            console.print(f"  [yellow]{escape(note)}[/]", highlight=False, soft_wrap=True)
    for error in check.errors:
        console.print(f"[red]{escape(error)}[/]", highlight=False, soft_wrap=True)


def _print_plan(plan: PlanReport) -> None:
    from rich.markup import escape

    if plan.queued_runs:
        events = len(plan.events)
        console.print(f"queued {plan.queued_runs} runs for {events} new model{'s' if events != 1 else ''}")
    if plan.note:
        console.print(f"[yellow]{escape(plan.note)}[/]", highlight=False, soft_wrap=True)
    if plan.error:
        console.print(f"[red]{escape(plan.error)}[/]", highlight=False, soft_wrap=True)


def _print_poll(report: PollReport) -> None:
    from rich.markup import escape
    from rich.table import Table

    title = "Poll (dry run: nothing written)" if report.dry_run else "Poll"
    table = Table(title=title)
    for column in ("provider", "status", "chat models", "listed", "new", "removed", "returned", "seconds"):
        table.add_column(column, justify="right" if column not in ("provider", "status") else "left")
    for o in report.outcomes:
        if not o.ok:
            status = f"[red]failed ({escape(o.error_kind or 'error')})[/]"
        elif o.bootstrap:
            status = "[cyan]first poll[/]"
        else:
            status = "[green]ok[/]"
        table.add_row(
            escape(o.name),
            status,
            str(o.listed) if o.ok else "-",
            str(o.listed_total) if o.ok else "-",
            "-" if o.bootstrap or not o.ok else str(len(o.new)),
            str(len(o.removed)) if o.ok else "-",
            str(len(o.returned)) if o.ok else "-",
            f"{o.seconds:.2f}",
        )
    console.print(table)
    for o in report.outcomes:
        if not o.ok:
            error = o.error or ""
            text = error if error.startswith(f"{o.name}: ") else f"{o.name}: {error}"
            console.print(f"[red]{escape(text)}[/]", highlight=False, soft_wrap=True)
            continue
        if o.bootstrap:
            console.print(
                f"{escape(o.name)}: first poll, recorded {len(o.new)} models; none queued as new",
                highlight=False,
            )
            continue
        for label, ids in (
            ("new", o.new),
            ("removed", o.removed),
            ("returned", o.returned),
            ("deprecation changed", o.deprecation_changed),
        ):
            if ids:
                shown = ", ".join(escape(i) for i in ids[:_SHOWN_IDS])
                more = f" and {len(ids) - _SHOWN_IDS} more" if len(ids) > _SHOWN_IDS else ""
                console.print(f"{escape(o.name)} {label}: {shown}{more}", highlight=False, soft_wrap=True)


def parse_since(value: str) -> datetime:
    """A date (`2026-01-31`) or ISO datetime; naive values are UTC. InputError (exit 2) otherwise."""
    try:
        parsed = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--new-since {value!r} is not a date; use YYYY-MM-DD or an ISO datetime") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@main.command()
@click.option("--provider", metavar="NAME", help="Only this provider's models.")
@click.option("--new-since", metavar="DATE", help="Only models first seen on or after DATE (YYYY-MM-DD).")
@click.option("--removed", is_flag=True, help="Only models the provider no longer lists.")
@json_option
@pass_app
def models(
    app: AppContext, provider: str | None, new_since: str | None, removed: bool, as_json: bool
) -> None:
    """The known models: first seen, created, status, retirement date and the latest score per suite."""
    from monitor.core.retirements import default_tables, resolve
    from monitor.pipeline.poll.registry import known_models

    since = parse_since(new_since) if new_since is not None else None
    db = app.existing_database()
    rows = known_models(db, provider=provider, new_since=since, removed_only=removed)
    if (
        provider is not None
        and not rows
        and provider not in app.config.providers
        and not known_models(db, provider=provider)  # only its filtered rows were none
    ):
        configured = ", ".join(sorted(app.config.providers)) or "none configured"
        raise InputError(f"--provider {provider!r} is not in [providers] ({configured}) nor in the database")
    tables = default_tables(app.config)
    retiring = {
        f"{row.provider}:{row.model_id}": resolve(
            app.config, f"{row.provider}:{row.model_id}", listed=row.listed_retirement, tables=tables
        )
        for row in rows
    }
    if as_json:
        print_json([{**row.as_dict(), "retirement": _retirement_json(retiring, row)} for row in rows])
        return
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from monitor.cli.run_table import id_column

    suites = sorted({suite for row in rows for suite in row.scores})
    # Model ids whole, the dates stacked, suite names folded: fits 80 columns with two suites.
    table = Table(
        title=f"Models ({len(rows)})",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    id_column(table, "model", [f"{row.provider}:{row.model_id}" for row in rows])
    table.add_column("status", no_wrap=True)
    table.add_column("first seen\ncreated\nremoved", no_wrap=True)
    table.add_column("retires\n(source)", no_wrap=True)
    for suite in suites:
        table.add_column(escape(suite), justify="right", overflow="fold")
    for row in rows:
        dates = f"{row.first_seen:%Y-%m-%d %H:%M}\n" + (
            f"{row.created_at:%Y-%m-%d}" if row.created_at else "-"
        )
        if row.removed_at is not None:
            dates += f"\n{row.removed_at:%Y-%m-%d}"
        table.add_row(
            escape(f"{row.provider}:{row.model_id}"),
            "[green]active[/]" if row.status == "active" else "[red]removed[/]",
            dates,
            _retires(retiring.get(f"{row.provider}:{row.model_id}")),
            *(_score(row.scores.get(suite), suite in row.scores) for suite in suites),
        )
    console.print(table)


def _retirement_json(retiring: dict[str, Retirement | None], row: KnownModel) -> dict[str, Any] | None:
    found = retiring.get(f"{row.provider}:{row.model_id}")
    return found.as_dict() if found is not None else None


def _retires(found: Retirement | None) -> str:
    if found is None:
        return "-"
    return f"{found.date:%Y-%m-%d}\n({found.source})"


def _score(value: float | None, present: bool) -> str:
    if not present:
        return "-"
    return "n/a" if value is None else f"{value:.3f}"
