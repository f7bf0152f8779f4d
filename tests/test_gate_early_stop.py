"""`eval --baseline B --early-stop`: each run stops against B's run, the one the gate compares it with,
never against a `[baseline]` model's; and `eval --dry-run --baseline` on an old schema writes nothing."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.simulator import Simulator
from monitor.simulator.catalog import SimModel
from monitor.store.db import current_revision, downgrade, head_revision, make_engine, open_database
from monitor.store.tables import Run
from tests.ci_gate_helpers import cli, cli_split
from tests.runner_helpers import KEY_ENV, result_count, write_workspace

SAMPLES = 200
PROD = "sim:gpt-sim-prod"  # the configured [baseline]: 90% right, far better than the candidate
OTHER = "sim:gpt-sim-other"  # the --baseline the gate compares with: as good as the candidate
CANDIDATE = "sim:gpt-sim-new"
OLD_REVISION = "0007"  # before runs.sequential (0008): a database an older release wrote


@pytest.fixture(autouse=True)
def _sim_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")


@pytest.fixture
def config(tmp_path: Path, make_simulator: Callable[..., Simulator]) -> Path:
    """A workspace whose `[baseline]` is PROD, at a simulator with PROD, OTHER and the candidate."""
    fast = {"latency_ms": 1.0, "latency_jitter_ms": 0.0}
    simulator = make_simulator(
        models=[
            SimModel("gpt-sim-prod", skill=0.9, **fast),
            SimModel("gpt-sim-other", skill=0.45, **fast),
            SimModel("gpt-sim-new", skill=0.45, **fast),
        ]
    )
    return write_workspace(
        tmp_path, simulator.base_url, samples=SAMPLES, extra=f'[baseline]\ndefault = ["{PROD}"]\n'
    )


def _db_url(config: Path) -> str:
    return f"sqlite:///{config.parent / 'monitor.db'}"


def _runs(config: Path, model_key: str) -> list[Run]:
    """The model's runs, oldest first, detached."""
    provider, _, model_id = model_key.partition(":")
    db = open_database(_db_url(config))
    with db.session() as session:
        runs = list(
            session.scalars(
                select(Run).where(Run.provider == provider, Run.model_id == model_id).order_by(Run.id)
            )
        )
        session.expunge_all()
    db.dispose()
    return runs


def _store_run(config: Path, model_key: str) -> int:
    """A finished run of the model on `tiny`, made by `eval`; its id."""
    code, output = cli(config, "eval", model_key, "--suite", "tiny")
    assert code == 0, output
    return _runs(config, model_key)[-1].id


def _gate_baseline_run(stdout: str) -> int:
    """The baseline run id the gate compared the candidate's `tiny` run with, from `eval --json`."""
    (comparison,) = json.loads(stdout)["comparisons"]
    (suite,) = comparison["suites"]
    return int(suite["baseline"]["run_id"])


def test_early_stop_plans_against_the_stored_explicit_baseline_not_the_configured_one(
    config: Path,
) -> None:
    _store_run(config, PROD)
    other_id = _store_run(config, OTHER)
    code, stdout, stderr = cli_split(
        config, "eval", CANDIDATE, "--suite", "tiny", "--baseline", OTHER, "--early-stop", "--json"
    )
    assert code == 0, stderr
    (run,) = _runs(config, CANDIDATE)
    assert run.sequential is not None and run.sequential["baseline_run_id"] == other_id
    assert _gate_baseline_run(stdout) == other_id


def test_early_stop_waits_for_the_baseline_run_made_in_the_same_command_and_plans_against_it(
    config: Path,
) -> None:
    _store_run(config, PROD)
    code, stdout, stderr = cli_split(
        config, "eval", CANDIDATE, "--suite", "tiny", "--baseline", OTHER, "--early-stop", "--json"
    )
    assert code == 0, stderr
    (baseline,) = _runs(config, OTHER)
    assert baseline.trigger == "baseline" and baseline.status == "done"
    (run,) = _runs(config, CANDIDATE)
    assert run.sequential is not None and run.sequential["baseline_run_id"] == baseline.id
    assert run.started_at is not None and baseline.finished_at is not None
    assert run.started_at >= baseline.finished_at
    assert _gate_baseline_run(stdout) == baseline.id


def test_the_baseline_run_made_in_the_same_command_never_stops_early_itself(config: Path) -> None:
    _store_run(config, PROD)
    code, output = cli(config, "eval", CANDIDATE, "--suite", "tiny", "--baseline", OTHER, "--early-stop")
    assert code == 0, output
    (baseline,) = _runs(config, OTHER)
    assert baseline.status == "done" and baseline.sequential is None and baseline.stopped_after is None
    db = open_database(_db_url(config))
    assert result_count(db, baseline.id) == SAMPLES
    db.dispose()


def test_without_a_finished_explicit_baseline_run_there_is_no_early_stop_against_the_configured_one(
    config: Path,
) -> None:
    _store_run(config, PROD)
    missing = "sim:gpt-sim-missing"  # the simulator does not serve it: its run fails
    code, output = cli(
        config, "eval", CANDIDATE, "--suite", "tiny", "--baseline", missing, "--early-stop", "--force"
    )
    assert code == 1, output
    (baseline,) = _runs(config, missing)
    assert baseline.status == "failed"
    (run,) = _runs(config, CANDIDATE)
    assert run.status == "done" and run.sequential is None and run.stopped_after is None


def test_early_stop_without_an_explicit_baseline_still_plans_against_the_configured_one(
    config: Path,
) -> None:
    prod_id = _store_run(config, PROD)
    code, output = cli(config, "eval", CANDIDATE, "--suite", "tiny", "--early-stop")
    assert code == 0, output
    (run,) = _runs(config, CANDIDATE)
    assert run.sequential is not None and run.sequential["baseline_run_id"] == prod_id
    assert run.stopped_after is not None


def _old_schema_with_a_baseline_run(config: Path) -> Path:
    """The workspace's database with OTHER's finished run on `tiny`, taken back to an old schema."""
    _store_run(config, OTHER)
    db = open_database(_db_url(config))
    downgrade(db.engine, OLD_REVISION)
    db.dispose()
    return config.parent / "monitor.db"


def _revision(path: Path) -> str | None:
    engine = make_engine(f"sqlite:///{path}")
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def test_dry_run_with_a_baseline_reads_an_old_schema_and_reuses_its_stored_baseline_run(
    config: Path,
) -> None:
    _old_schema_with_a_baseline_run(config)
    code, stdout, stderr = cli_split(
        config, "eval", CANDIDATE, "--suite", "tiny", "--baseline", OTHER, "--dry-run", "--json"
    )
    assert code == 0, stderr
    plan = json.loads(stdout)
    assert plan["dry_run"] is True
    assert [r["model_key"] for r in plan["runs"]] == [CANDIDATE]
    assert plan["schema_upgrade"] == {"from": OLD_REVISION, "to": head_revision()}


def test_dry_run_with_a_baseline_on_an_old_schema_writes_nothing_and_says_eval_upgrades_it(
    config: Path,
) -> None:
    path = _old_schema_with_a_baseline_run(config)
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    code, output = cli(config, "eval", CANDIDATE, "--suite", "tiny", "--baseline", OTHER, "--dry-run")
    assert code == 0, output
    assert f"schema revision {OLD_REVISION}" in output and "upgrades it first" in output
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert _revision(path) == OLD_REVISION


def test_dry_run_with_a_baseline_on_a_current_schema_mentions_no_upgrade(config: Path) -> None:
    _store_run(config, OTHER)
    code, stdout, stderr = cli_split(
        config, "eval", CANDIDATE, "--suite", "tiny", "--baseline", OTHER, "--dry-run", "--json"
    )
    assert code == 0, stderr
    plan = json.loads(stdout)
    assert [r["model_key"] for r in plan["runs"]] == [CANDIDATE] and plan["schema_upgrade"] is None


def test_dry_run_with_a_baseline_on_an_empty_database_file_plans_the_baseline_run_and_writes_nothing(
    config: Path,
) -> None:
    path = config.parent / "monitor.db"
    path.touch()
    code, stdout, stderr = cli_split(
        config, "eval", CANDIDATE, "--suite", "tiny", "--baseline", OTHER, "--dry-run", "--json"
    )
    assert code == 0, stderr
    plan = json.loads(stdout)
    assert [r["model_key"] for r in plan["runs"]] == [CANDIDATE, OTHER]
    assert plan["schema_upgrade"] is None and path.read_bytes() == b""
