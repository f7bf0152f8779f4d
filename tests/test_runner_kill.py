"""A real kill -9 of `model-monitor eval` mid-run, then `resume`: the same results as an uninterrupted run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from monitor.simulator import Simulator
from monitor.store.db import open_database
from monitor.store.tables import Result, Run
from tests.daemon_support import WAIT_S, wait_for
from tests.runner_helpers import KEY_ENV, write_workspace

SAMPLES = 60


def _cli(config: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config), *args]


def _results(config: Path) -> list[tuple[str, int, str | None, float | None]]:
    db = open_database(f"sqlite:///{config.parent / 'monitor.db'}")
    with db.session() as session:
        rows = session.execute(
            select(Result.sample_key, Result.repeat, Result.output, Result.score).order_by(
                Result.sample_key, Result.repeat
            )
        ).all()
    db.dispose()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def _count(config: Path) -> int:
    db = open_database(f"sqlite:///{config.parent / 'monitor.db'}")
    with db.session() as session:
        count = session.scalar(select(func.count(Result.id))) or 0
    db.dispose()
    return int(count)


@pytest.mark.slow
def test_a_killed_eval_resumes_to_the_same_results_without_duplicates_or_losses(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(latency_scale=2.5)  # ~100 ms per answer
    env = {**os.environ, KEY_ENV: "sim-key"}
    provider = "max_concurrency = 4\n"
    killed = write_workspace(tmp_path / "killed", sim.base_url, samples=SAMPLES, provider=provider)
    clean = write_workspace(tmp_path / "clean", sim.base_url, samples=SAMPLES, provider=provider)

    proc = subprocess.Popen(
        _cli(killed, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--json"),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: _count(killed) >= 12 or proc.poll() is not None, "12 stored results", every=0.02)
    assert proc.poll() is None, "the eval finished before it could be killed"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=WAIT_S)
    partial = _count(killed)
    assert 12 <= partial < SAMPLES

    db = open_database(f"sqlite:///{killed.parent / 'monitor.db'}")
    with db.session() as session:
        (run,) = session.scalars(select(Run)).all()
        run_id, status = run.id, run.status
    db.dispose()
    assert status == "running"

    resumed = subprocess.run(
        _cli(killed, "resume", str(run_id), "--json"), env=env, capture_output=True, text=True, timeout=WAIT_S
    )
    assert resumed.returncode == 0, resumed.stderr
    (summary,) = json.loads(resumed.stdout)
    assert (summary["status"], summary["done"]) == ("done", SAMPLES)

    uninterrupted = subprocess.run(
        _cli(clean, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--json"),
        env=env,
        capture_output=True,
        text=True,
        timeout=WAIT_S,
    )
    assert uninterrupted.returncode == 0, uninterrupted.stderr
    after_kill = _results(killed)
    assert len(after_kill) == len({(k, r) for k, r, _, _ in after_kill}) == SAMPLES
    assert after_kill == _results(clean)


@pytest.mark.slow
def test_ctrl_c_stops_the_eval_cleanly_and_leaves_a_resumable_run(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    sim = make_simulator(latency_scale=2.5)
    env = {**os.environ, KEY_ENV: "sim-key"}
    config = write_workspace(tmp_path, sim.base_url, samples=SAMPLES, provider="max_concurrency = 4\n")
    proc = subprocess.Popen(
        _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny"),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    wait_for(lambda: _count(config) >= 8 or proc.poll() is not None, "8 stored results", every=0.02)
    proc.send_signal(signal.SIGINT)
    _out, err = proc.communicate(timeout=WAIT_S)
    assert proc.returncode == 130
    db = open_database(f"sqlite:///{config.parent / 'monitor.db'}")
    with db.session() as session:
        (run,) = session.scalars(select(Run)).all()
        run_id, status = run.id, run.status
    db.dispose()
    assert status == "interrupted"
    assert f"interrupted: resume with `model-monitor resume {run_id}`" in err
    assert 8 <= _count(config) < SAMPLES
    resumed = subprocess.run(
        _cli(config, "resume", str(run_id), "--json"), env=env, capture_output=True, text=True, timeout=WAIT_S
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)[0]["done"] == SAMPLES
    assert _count(config) == SAMPLES
