"""docs/ci.md's GitHub Actions workflow parses, and its model-monitor commands use real CLI options."""

from __future__ import annotations

import re
import shlex
from pathlib import Path
from typing import Any

import click
import yaml

from monitor.cli import main

CI_DOC = Path(__file__).resolve().parent.parent / "docs" / "ci.md"


def _workflow() -> dict[Any, Any]:
    (block,) = re.findall(r"```yaml\n(.*?)```", CI_DOC.read_text("utf-8"), flags=re.S)
    data = yaml.safe_load(block)
    assert isinstance(data, dict)
    return data


def _commands() -> list[list[str]]:
    """Every `model-monitor …` command the workflow's steps run, as argument lists."""
    steps = _workflow()["jobs"]["evals"]["steps"]
    commands = []
    for step in steps:
        for line in str(step.get("run", "")).splitlines():
            if line.strip().startswith("model-monitor "):
                commands.append(shlex.split(line)[1:])
    return commands


def _parse(args: list[str]) -> click.Context:
    """Parse one command line the way `model-monitor` would, without running it."""
    name, *rest = args
    group_ctx = click.Context(main, info_name="model-monitor")
    command = main.get_command(group_ctx, name)
    assert command is not None, f"model-monitor has no command {name!r}"
    return command.make_context(name, rest, parent=group_ctx)


def test_the_workflow_parses_and_runs_on_pull_requests_and_a_schedule() -> None:
    workflow = _workflow()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "pull_request" in triggers and triggers["schedule"][0]["cron"]
    steps = workflow["jobs"]["evals"]["steps"]
    uses = [step.get("uses", "") for step in steps]
    assert any(u.startswith("actions/cache/restore@") for u in uses)
    assert any(u.startswith("actions/cache/save@") for u in uses)


def test_the_cache_key_is_unique_per_run_and_restores_by_prefix() -> None:
    steps = _workflow()["jobs"]["evals"]["steps"]
    (restore,) = [s for s in steps if s.get("uses", "").startswith("actions/cache/restore@")]
    (save,) = [s for s in steps if s.get("uses", "").startswith("actions/cache/save@")]
    assert restore["with"]["key"] == save["with"]["key"]
    assert restore["with"]["key"].endswith("${{ github.run_id }}")
    assert save["if"] == "always()"
    prefixes = restore["with"]["restore-keys"].splitlines()
    assert all(restore["with"]["key"].startswith(p) or "default_branch" in p for p in prefixes)


def test_api_keys_come_from_secrets() -> None:
    env = _workflow()["jobs"]["evals"]["env"]
    keys = {name: value for name, value in env.items() if name.endswith("_API_KEY")}
    assert keys and all(value.startswith("${{ secrets.") for value in keys.values())


def test_every_model_monitor_command_in_the_workflow_parses_with_the_real_cli() -> None:
    commands = _commands()
    gate = [c for c in commands if "--fail-on" in c]
    assert gate, "the workflow runs no gate"
    for args in commands:
        ctx = _parse(args)
        assert ctx.command.name == "eval"
    params = _parse(gate[0]).params
    assert params["fail_on"] == "worse" and params["baseline"] and str(params["junit_path"]) == "results.xml"
