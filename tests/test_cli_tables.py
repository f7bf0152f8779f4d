"""Model ids in the `runs`, `models` and `compare` tables stay whole on one line in an 80-column terminal."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.cli.run_table import print_summaries
from monitor.pipeline.run.totals import RunSummary
from monitor.simulator import Simulator
from tests.runner_helpers import KEY_ENV, write_workspace

LONG_ID = "anthropic:claude-sim-sonnet-20260115"
SHORT_ID = "sim:gpt-sim-base"
WIDTH = 80


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """One poll and one finished run of each model, shared by the table tests (they only read)."""
    root = tmp_path_factory.mktemp("tables")
    with Simulator().running() as sim:
        anthropic = "\n".join(
            [
                "[providers.anthropic]",
                'type = "anthropic"',
                f'base_url = "{sim.base_url}"',
                f'api_key_env = "{KEY_ENV}"',
                "",
            ]
        )
        config = write_workspace(root, sim.base_url, samples=3, extra=anthropic)
        env = {KEY_ENV: "sim-key"}
        for args in (["poll"], ["eval", LONG_ID, SHORT_ID, "--suite", "tiny"]):
            result = CliRunner(env=env).invoke(main, ["--config", str(config), *args])
            assert result.exit_code == 0, result.output
    yield config


def narrow(config: Path, *args: str) -> list[str]:
    """The command's output lines in a terminal COLUMNS wide (a real process: rich reads COLUMNS)."""
    env = {**os.environ, "COLUMNS": str(WIDTH), KEY_ENV: "sim-key"}
    done = subprocess.run(
        [sys.executable, "-m", "monitor", "--config", str(config), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert max(len(line) for line in lines) <= WIDTH
    return lines


def on_one_line(lines: list[str], model_id: str) -> bool:
    return any(model_id in line for line in lines)


def test_runs_table_keeps_a_long_model_id_whole(workspace: Path) -> None:
    lines = narrow(workspace, "runs")
    assert on_one_line(lines, LONG_ID) and on_one_line(lines, SHORT_ID)


def test_models_table_keeps_a_long_model_id_whole(workspace: Path) -> None:
    lines = narrow(workspace, "models")
    assert on_one_line(lines, LONG_ID) and on_one_line(lines, SHORT_ID)


def test_compare_names_both_models_whole(workspace: Path) -> None:
    lines = narrow(workspace, "compare", LONG_ID, SHORT_ID)
    assert f"candidate: {LONG_ID}" in lines and f"baseline: {SHORT_ID}" in lines


def test_the_dry_run_plan_keeps_a_long_model_id_whole(workspace: Path) -> None:
    lines = narrow(workspace, "eval", LONG_ID, "--suite", "tiny", "--dry-run")
    assert on_one_line(lines, LONG_ID)


def test_a_run_that_stopped_early_says_why_under_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    summary = RunSummary(
        run_id=7,
        model_key="sim:gpt-sim-next",
        suite="qa",
        suite_version="v1",
        status="done",
        samples_total=500,
        done=180,
        passed=90,
        failed=90,
        errored=0,
        score=0.5,
        ci_low=0.4,
        ci_high=0.6,
        latency_p50_ms=10.0,
        latency_p95_ms=20.0,
        input_tokens=1,
        output_tokens=1,
        cost_usd=0.01,
        estimated_cost_usd=None,
        stop_reason="stopped after 180 of 500 samples: worse with p < 0.01",
        stopped_after=180,
    )
    print_summaries([summary], title="runs")
    assert "run 7: stopped after 180 of 500 samples: worse with p < 0.01" in capsys.readouterr().out
