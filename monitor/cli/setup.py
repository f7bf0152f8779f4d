"""CLI commands for setting up: `init`, `check` and `db upgrade|current|downgrade`."""

from __future__ import annotations

import codecs
import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from monitor.cli.app import AppContext, console, json_option, main, pass_app, print_json
from monitor.core.errors import ConfigError, InputError, MonitorError

if TYPE_CHECKING:
    from monitor.core.config import Config

# The baseline and watched alias `init` writes for the first of the template's providers whose key is set.
INIT_BASELINES = (
    ("OPENAI_API_KEY", "openai:gpt-4.1", "openai:gpt-4o"),
    ("ANTHROPIC_API_KEY", "anthropic:claude-sonnet-4-5", None),
)
TEMPLATE_BASELINE = 'default = ["openai:gpt-4.1"]'
TEMPLATE_WATCH = 'watch = ["openai:gpt-4o"]'


def init_template(template: str, environ: Mapping[str, str]) -> tuple[str, str | None]:
    """The template with a baseline (and watched alias) the daemon can call: the first provider whose key
    is set in `environ`, or none (a baseline without a key would fail every run); and that baseline."""
    chosen = next(((b, w) for key, b, w in INIT_BASELINES if environ.get(key)), (None, None))
    baseline, watch = chosen
    template = template.replace(TEMPLATE_BASELINE, f"default = {json.dumps([baseline] if baseline else [])}")
    return template.replace(TEMPLATE_WATCH, f"watch = {json.dumps([watch] if watch else [])}"), baseline


@main.command()
@click.argument("directory", default=".", type=click.Path(file_okay=False))
def init(directory: str) -> None:
    """Write a commented monitor.toml, the example suites under evals/ and the database in DIRECTORY."""
    from importlib.resources import files

    from monitor.core.config import parse_config
    from monitor.evals.examples import copy_example_suites
    from monitor.store.db import open_database

    root = Path(directory).resolve()
    config_path = root / "monitor.toml"
    if config_path.exists():
        raise InputError(f"{config_path} already exists; init never overwrites (edit it or pick another DIR)")
    template, baseline = init_template(
        files("monitor").joinpath("init_template.toml").read_text(), os.environ
    )
    root.mkdir(parents=True, exist_ok=True)
    config = parse_config(template, config_path)
    copied = copy_example_suites(config.suites_dir)
    config_path.write_text(template)
    open_database(config.database_url).dispose()
    console.print(f"[green]wrote[/] {escape(str(config_path))}")
    for path in copied:
        console.print(f"[green]wrote[/] {escape(str(path))}")
    console.print(f"[green]created[/] {escape(config.database_url.removeprefix('sqlite:///'))}")
    if baseline:
        console.print(f"baseline: {escape(baseline)} (its provider's key is set)", highlight=False)
    else:
        console.print(
            "baseline: none yet (no provider key is set); new models are evaluated but not compared "
            "until you name one under [baseline] in monitor.toml",
            highlight=False,
        )
    console.print(
        "next: set the API key variables named in monitor.toml, then run [bold]model-monitor check[/]"
    )


@main.command()
@json_option
@pass_app
def check(app: AppContext, as_json: bool) -> None:
    """Validate the config and every suite; print providers, suites and problems."""
    from rich.table import Table

    config = app.config
    report = _check_report(app)
    if as_json:
        print_json(report)
    else:
        providers = Table(title=f"Providers ({config.path})")
        for column in ("name", "type", "base url", "key variable", "key set"):
            providers.add_column(column)
        for row in report["providers"]:
            key_set = {True: "[green]yes[/]", False: "[yellow]no[/]", None: "not needed"}[row["key_set"]]
            providers.add_row(
                *(escape(row[k] or d) for k, d in (("name", ""), ("type", ""), ("base_url", "default"))),
                escape(row["key_env"] or "-"),
                key_set,
            )
        console.print(providers)
        suites = Table(title=f"Suites ({config.suites_dir})")
        for column in ("suite", "samples", "graders", "variants", "version"):
            suites.add_column(column)
        for row in report["suites"]:
            suites.add_row(
                escape(row["name"]),
                str(row["samples"]),
                escape(", ".join(row["graders"])),
                escape(", ".join(row["variants"]) or "-"),
                row["version"],
            )
        console.print(suites)
        for warning in report["warnings"]:
            console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False, soft_wrap=True)
        for problem in report["problems"]:
            console.print(f"[red]problem:[/] {escape(problem)}", highlight=False, soft_wrap=True)
        if not report["problems"]:
            console.print("[green]configuration and suites are valid[/]")
    if report["problems"]:
        raise click.exceptions.Exit(2)


def _check_report(app: AppContext) -> dict[str, Any]:
    """Collect everything `check` shows: every validation a later command runs, as problems (exit 2);
    missing keys and a byte-order mark as warnings."""
    config = app.config
    warnings: list[str] = []
    problems = _file_problems(config, warnings)
    providers = []
    for name, provider in config.providers.items():
        key_set = None if provider.api_key_env is None else provider.api_key() is not None
        if key_set is False:
            warnings.append(f"[providers.{name}] environment variable {provider.api_key_env} is not set")
        if provider.type == "openai-compatible" and not provider.base_url:
            problems.append(f"{config.path}: [providers.{name}] is openai-compatible and needs base_url")
        providers.append(
            {
                "name": name,
                "type": provider.type,
                "base_url": provider.base_url,
                "key_env": provider.api_key_env,
                "key_set": key_set,
            }
        )
    suites = _suite_rows(config, warnings, problems)
    from monitor.providers.registry import uncallable_models

    warnings.extend(f"{problem}: nothing is queued for it" for problem in uncallable_models(config))
    from monitor.service.metrics import metrics_warnings

    warnings += metrics_warnings(config)
    if config.email is not None and config.email.password_env and not _env_set(config.email.password_env):
        warnings.append(f"[email] environment variable {config.email.password_env} is not set")
    problems += [f"{config.path}: {problem}" for problem in _runtime_problems(config)]
    from monitor.core.retirements import user_table_problems

    problems += user_table_problems(config)
    from monitor.pipeline.deliver.notify_send import check_targets

    notify_warnings, notify_problems = check_targets(config)
    warnings += notify_warnings
    problems += [f"{config.path}: {problem}" for problem in notify_problems]
    return {
        "config": str(config.path),
        "database": _safe_url(config.database_url),
        "providers": providers,
        "suites": suites,
        "warnings": warnings,
        "problems": problems,
    }


def _file_problems(config: Config, warnings: list[str]) -> list[str]:
    """An empty file or one without providers (nothing to poll); a UTF-8 byte-order mark is a warning."""
    data = config.path.read_bytes() if config.path else b""
    if data.startswith(codecs.BOM_UTF8):
        warnings.append(
            f"{config.path} starts with a UTF-8 byte-order mark; it is ignored, but save the file "
            "as UTF-8 without BOM so other TOML tools read it too"
        )
    if not data.removeprefix(codecs.BOM_UTF8).strip():
        return [f"{config.path}: the file is empty; run 'model-monitor init' for a commented example"]
    if not config.providers:
        return [
            f"{config.path}: [providers] is empty: add a [providers.NAME] table with type and api_key_env"
        ]
    return []


def _suite_rows(config: Config, warnings: list[str], problems: list[str]) -> list[dict[str, Any]]:
    """One row per suite file, each loaded with all its prompt variants (a scheduled event runs each);
    then the suite names across the directory, as the daemon loads it (two suites with one name)."""
    from monitor.evals.loader import check_names, check_suite
    from monitor.providers.registry import cannot_call

    suites: list[dict[str, Any]] = []
    suite_dir = config.suites_dir
    paths = sorted([*suite_dir.glob("*.yaml"), *suite_dir.glob("*.yml")]) if suite_dir.is_dir() else []
    if not paths:
        warnings.append(f"no suites in {suite_dir}: models will be recorded, nothing evaluated")
    bad = len(problems)
    for path in paths:
        try:
            spec, *variant_specs = check_suite(path, default_judge=config.judge.model)
        except MonitorError as exc:
            problems.append(str(exc))
            continue
        for key in dict.fromkeys(key for s in (spec, *variant_specs) for key in s.judge_models):
            if (reason := cannot_call(config, key)) is not None:  # eval refuses to start; a missing key warns
                unknown = key.partition(":")[0] not in config.providers
                (problems if unknown else warnings).append(f"{path}: llm_judge model {reason}")
        suites.append(
            {
                "name": spec.name,
                "path": str(path),
                "samples": spec.samples,
                "graders": spec.graders,
                "variants": list(spec.variant_names),
                "version": spec.version,
            }
        )
    if paths and len(problems) == bad:
        try:
            check_names(suite_dir)
        except MonitorError as exc:
            problems.append(str(exc))
    known = {s["name"] for s in suites}
    for name in config.suites.default:
        if name not in known:
            problems.append(
                f"{config.path}: [suites.default] names '{name}', which is not a suite in {suite_dir}"
            )
    return suites


def _runtime_problems(config: Config) -> list[str]:
    """What later commands reject when they start: the database driver, [email]'s addresses and
    security, and a reports directory that cannot be written (probed, nothing left behind)."""
    from monitor.pipeline.deliver.message import message_addresses
    from monitor.pipeline.report.files import directory_problem
    from monitor.store.db import make_engine
    from monitor.store.errors import explain

    problems = []
    try:
        make_engine(config.database_url).dispose()  # imports the driver; connects to nothing
    except Exception as exc:
        error = explain(exc, config.database_url)
        problems.append(str(error) if error is not None else f"[database] url: {exc}")
    if config.email is not None:
        try:
            message_addresses(config.email)
        except MonitorError as exc:
            problems.append(str(exc))
    reports = directory_problem(config.reports_dir)
    if reports is not None:
        problems.append(reports)
    from monitor.service.metrics import metrics_problems

    problems += metrics_problems(config)
    return problems


def _env_set(name: str) -> bool:
    import os

    return bool(os.environ.get(name))


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@main.group()
def db() -> None:
    """Schema migrations (commands that write also upgrade automatically)."""


@db.command("upgrade")
@click.argument("revision", default="head")
@pass_app
def db_upgrade(app: AppContext, revision: str) -> None:
    """Upgrade the schema to REVISION (default: the newest)."""
    _migrate(app, "upgrade", revision)


@db.command("downgrade")
@click.argument("revision")
@pass_app
def db_downgrade(app: AppContext, revision: str) -> None:
    """Downgrade the schema to REVISION ('base' removes every table)."""
    _migrate(app, "downgrade", revision)


def _migrate(app: AppContext, direction: str, revision: str) -> None:
    """Run Alembic up or down to `revision` and print where the database ended."""
    from alembic.util import CommandError

    from monitor.store import db as storage

    engine = storage.make_engine(app.config.database_url)
    try:
        (storage.upgrade if direction == "upgrade" else storage.downgrade)(engine, revision)
        console.print(f"database at revision {storage.current_revision(engine) or 'base'}")
    except CommandError as exc:
        raise ConfigError(f"migration: {exc}") from None
    except Exception as exc:
        raise MonitorError(f"migration failed: {exc}") from None
    finally:
        engine.dispose()


@db.command("current")
@json_option
@pass_app
def db_current(app: AppContext, as_json: bool) -> None:
    """Show the database's revision and the newest one available."""
    from monitor.store.db import current_revision, head_revision, make_engine

    engine = make_engine(app.config.database_url)
    try:
        current, head = current_revision(engine), head_revision()
    finally:
        engine.dispose()
    if as_json:
        print_json({"current": current, "head": head, "up_to_date": current == head})
    else:
        state = "up to date" if current == head else "needs 'model-monitor db upgrade'"
        console.print(f"current: {current or 'base (empty)'}  head: {head}  ({state})")
