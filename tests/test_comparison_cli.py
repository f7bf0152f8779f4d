"""`model-monitor compare A B`: the table, the JSON, and the exit status for missing runs and bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from tests.comparison_rows import add_run, add_suite, pattern, stored_runs_config

CANDIDATE = "sim:gpt-sim-next"
BASELINE = "sim:gpt-sim-base"


@pytest.fixture
def config_path(write_config: Callable[[str], Path], tmp_path: Path) -> Path:
    path, database = stored_runs_config(write_config, tmp_path / "cli.db")
    with database.session() as s:
        for name, cand_pass in (("math", 180), ("support", 140)):
            suite = add_suite(s, name, 200)
            add_run(s, suite, BASELINE, pattern(200, 140), cost_each=0.002)
            add_run(s, suite, CANDIDATE, pattern(200, cand_pass), cost_each=0.001)
    database.dispose()
    return path


def test_compare_prints_a_table_per_suite_and_the_headline(config_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(config_path), "compare", CANDIDATE, BASELINE])
    assert result.exit_code == 0, result.output
    assert "math (version v1): 200 paired samples" in result.output
    assert "support (version v1): 200 paired samples" in result.output
    assert "90.0% [85.1, 93.4]" in result.output
    assert "flips: 0 pass->fail, 40 fail->pass" in result.output
    assert (
        "sim:gpt-sim-next is better than the baseline on 1 of 2 suites (1 too small to tell), 50% cheaper"
        in " ".join(result.output.split())
    )


def test_compare_json_has_verdicts_and_adjusted_p_values(config_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["--config", str(config_path), "compare", CANDIDATE, BASELINE, "--json"]
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    verdicts = {s["suite"]: s["paired"]["verdict"] for s in data["suites"]}
    assert verdicts == {"math": "better", "support": "too small to tell"}  # identical answers: 0 discordant
    assert all(s["paired"]["p_adjusted"] is not None for s in data["suites"])


def test_compare_one_suite_only(config_path: Path) -> None:
    args = ["--config", str(config_path), "compare", CANDIDATE, BASELINE, "--suite", "support", "--json"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert [s["suite"] for s in json.loads(result.output)["suites"]] == ["support"]


def test_compare_without_finished_runs_exits_1_with_a_clear_message(config_path: Path) -> None:
    args = ["--config", str(config_path), "compare", "sim:never-ran", BASELINE, "--suite", "math"]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "sim:never-ran has no finished run on suite 'math'" in result.output


def test_compare_with_a_model_lacking_its_provider_exits_2(config_path: Path) -> None:
    result = CliRunner().invoke(main, ["--config", str(config_path), "compare", "gpt-5", BASELINE])
    assert result.exit_code == 2
    assert "'gpt-5' must be 'provider:model'" in result.output
