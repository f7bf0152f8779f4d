"""`eval --baseline --fail-on`: the CI gate against the simulator, its exit status and its --json."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.cli.gate import FAIL_ON_CHOICES
from monitor.pipeline.compare.gate import FAIL_ON
from monitor.simulator import Simulator
from monitor.store.db import open_database
from monitor.store.tables import Run
from tests.ci_gate_helpers import STRONG, TWIN_A, TWIN_B, WEAK, cli, cli_split, gate, gate_models
from tests.runner_helpers import KEY_ENV, write_workspace


@pytest.fixture(autouse=True)
def _sim_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")


@pytest.fixture
def config(tmp_path: Path, make_simulator: Callable[..., Simulator]) -> Path:
    """A fresh workspace (no runs yet, as on a CI job's first run) at a simulator with the gate's models."""
    simulator = make_simulator(models=gate_models())
    return write_workspace(tmp_path, simulator.base_url, samples=30)


def _runs(config: Path) -> list[tuple[str, str]]:
    db = open_database(f"sqlite:///{config.parent / 'monitor.db'}")
    with db.session() as session:
        rows = [
            (f"{r.provider}:{r.model_id}", r.trigger) for r in session.scalars(select(Run).order_by(Run.id))
        ]
    db.dispose()
    return rows


def test_fail_on_worse_exits_1_on_a_worse_model_and_says_the_gate_failed(config: Path) -> None:
    code, output = gate(config, WEAK, STRONG)
    assert code == 1, output
    assert "tiny: FAILED worse:" in output
    assert f"gate failed: {WEAK} on tiny against {STRONG}: worse:" in " ".join(output.split())


def test_fail_on_worse_exits_0_on_an_equal_model(config: Path) -> None:
    code, output = gate(config, TWIN_A, TWIN_B)
    assert code == 0, output
    assert "tiny: PASSED" in output and "gate passed (fail on worse)" in output


def test_fail_on_worse_passes_a_better_model(config: Path) -> None:
    code, output = gate(config, STRONG, WEAK)
    assert code == 0, output
    assert "tiny: PASSED better:" in output


def test_fail_on_any_change_exits_1_on_a_better_model(config: Path) -> None:
    code, output = gate(config, STRONG, WEAK, fail_on="any-change")
    assert code == 1, output
    assert "tiny: FAILED better:" in output and "gate failed:" in output


def test_fail_on_any_change_passes_an_inconclusive_verdict(config: Path) -> None:
    code, output = gate(config, TWIN_A, TWIN_B, fail_on="any-change")
    assert code == 0, output
    assert "tiny: PASSED too small to tell:" in output


def test_on_a_fresh_database_the_baseline_is_run_then_its_stored_run_is_reused(config: Path) -> None:
    code, output = cli(config, "eval", WEAK, "--suite", "tiny", "--baseline", STRONG)
    assert code == 0, output  # without --fail-on the comparison is printed and the exit status is as before
    assert _runs(config) == [(STRONG, "baseline"), (WEAK, "manual")]
    code, output = gate(config, TWIN_A, STRONG)
    assert code == 0, output
    assert _runs(config) == [(STRONG, "baseline"), (WEAK, "manual"), (TWIN_A, "manual")]


def test_json_carries_the_runs_the_full_comparison_and_the_gate(config: Path) -> None:
    code, stdout, _ = cli_split(
        config, "eval", WEAK, "--suite", "tiny", "--baseline", STRONG, "--fail-on", "worse", "--json"
    )
    assert code == 1
    data = json.loads(stdout)
    assert [r["model_key"] for r in data["runs"]] == [STRONG, WEAK]
    (comparison,) = data["comparisons"]
    assert comparison["candidate"] == WEAK and comparison["baselines"] == [STRONG]
    assert comparison["suites"][0]["paired"]["verdict"] == "worse"
    gate = data["gate"]
    assert (gate["fail_on"], gate["failed"], gate["errored"]) == ("worse", True, False)
    (suite,) = gate["suites"]
    assert suite["suite"] == "tiny" and suite["verdict"] == "worse" and suite["outcome"] == "failed"
    assert "95% CI" in suite["reason"] and "p " in suite["reason"]


def test_a_run_that_errors_fails_the_gate_as_an_error_not_a_verdict(config: Path) -> None:
    code, output = gate(config, "sim:gpt-sim-gone", STRONG, "--force")
    assert code == 1, output
    assert "gate errored:" in output and "gate failed:" not in output
    assert "tiny: ERRORED" in output


def test_a_bad_fail_on_value_exits_2_naming_the_choices(config: Path) -> None:
    code, output = gate(config, WEAK, STRONG, fail_on="better")
    assert code == 2
    assert "'better' is not one of 'worse', 'any-change'" in output
    assert not (config.parent / "monitor.db").exists()


def test_fail_on_without_a_baseline_exits_2(config: Path) -> None:
    code, output = cli(config, "eval", WEAK, "--suite", "tiny", "--fail-on", "worse")
    assert code == 2
    assert "give --baseline provider:model" in output


def test_the_baseline_cannot_be_one_of_the_evaluated_models(config: Path) -> None:
    code, output = gate(config, WEAK, WEAK)
    assert code == 2
    assert "also a model to evaluate" in output


def test_the_cli_offers_exactly_the_gates_the_pipeline_decides() -> None:
    assert FAIL_ON_CHOICES == FAIL_ON
