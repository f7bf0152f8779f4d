"""A run records refused and filtered answers as their own errors, with the text kept, never graded."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.pipeline.run.work import execute_run
from monitor.simulator import Fault, Simulator
from tests.runner_helpers import KEY_ENV, manual_run, open_workspace, stored, write_workspace


def test_refusals_and_filtered_answers_are_errors_with_their_text_kept(
    tmp_path: Path, make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")
    sim = make_simulator(
        faults=[
            Fault("refusal", provider="openai", count=2),
            Fault("content_filter", provider="openai", count=1),
        ]
    )
    config, db, spec = open_workspace(write_workspace(tmp_path, sim.base_url, samples=5))
    run_id, worker = manual_run(db, config, spec)
    summary = asyncio.run(execute_run(db, config, run_id, worker_id=worker))
    rows = stored(db, run_id)
    assert Counter(r["error_kind"] for r in rows) == Counter({"refusal": 2, "content_filter": 1, None: 2})
    assert summary.errored == 3
    for row in rows:
        if row["error_kind"] is None:
            assert row["score"] in (0.0, 1.0)
            continue
        assert row["score"] is None and row["passed"] is None
        if row["error_kind"] == "refusal":
            assert row["output"] == "I'm sorry, but I can't help with that request."
        else:
            assert row["output"] == ""


def test_a_provider_flagged_refusal_is_graded_by_a_suite_that_grades_refusals(
    tmp_path: Path, make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")
    sim = make_simulator(faults=[Fault("refusal", provider="openai", count=2)])
    config_path = write_workspace(tmp_path, sim.base_url, samples=2)
    suite = tmp_path / "evals" / "tiny.yaml"
    suite.write_text(suite.read_text().replace("- {type: numeric}", "- {type: refusal, expect: refuse}"))
    config, db, spec = open_workspace(config_path)
    run_id, worker = manual_run(db, config, spec)
    summary = asyncio.run(execute_run(db, config, run_id, worker_id=worker))
    rows = stored(db, run_id)
    assert [(r["error_kind"], r["passed"]) for r in rows] == [(None, True), (None, True)]
    assert summary.status == "done"
