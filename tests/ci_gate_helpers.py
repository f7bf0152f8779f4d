"""Helpers for the CI gate tests: a simulator with models of known strength and a two-suite workspace."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from monitor.cli import main
from monitor.simulator.catalog import SimModel
from tests.runner_helpers import write_suite

STRONG = "sim:gpt-sim-strong"  # right on almost every sum
WEAK = "sim:gpt-sim-weak"  # wrong on most
TWIN_A = "sim:gpt-sim-twin-a"  # always right, like its twin
TWIN_B = "sim:gpt-sim-twin-b"


def gate_models() -> list[SimModel]:
    """Models whose verdicts are known: weak is worse than strong, strong better than weak, twins equal."""
    fast = {"latency_ms": 1.0, "latency_jitter_ms": 0.0}
    return [
        SimModel("gpt-sim-strong", skill=0.95, **fast),
        SimModel("gpt-sim-weak", skill=0.3, **fast),
        SimModel("gpt-sim-twin-a", skill=1.0, **fast),
        SimModel("gpt-sim-twin-b", skill=1.0, **fast),
    ]


def add_second_suite(config: Path, samples: int = 30) -> None:
    """Suite `products` (multiplications) beside the workspace's `tiny`, so a gate covers two suites."""
    products = [
        {"id": f"p{i:03d}", "vars": {"question": f"What is {3 + i} * {4 + i}?"}, "target": (3 + i) * (4 + i)}
        for i in range(samples)
    ]
    write_suite(config.parent / "evals", "products", products, description="Products, for gate tests.")


def cli(config: Path, *args: str) -> tuple[int, str]:
    """Run model-monitor with this config; (exit status, stdout and stderr together)."""
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def gate(
    config: Path, candidate: str, baseline: str, *options: str, fail_on: str = "worse"
) -> tuple[int, str]:
    """`eval candidate --suite tiny --baseline baseline --fail-on fail_on` and these options, as `cli`."""
    gate_args = ["--suite", "tiny", "--baseline", baseline, "--fail-on", fail_on]
    return cli(config, "eval", candidate, *gate_args, *options)


def cli_split(config: Path, *args: str) -> tuple[int, str, str]:
    """Run model-monitor with this config; (exit status, stdout, stderr) apart, for --json."""
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr
