"""The per-run cap holds on a batch run too: the items its batch failed or left unanswered are re-sent
sync only while each one's estimate still fits the cap, on both batch APIs of the simulator."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.simulator import Simulator
from monitor.store.tables import Run
from tests.batch_helpers import (
    MODELS,
    batch_key,  # noqa: F401 (autouse: the simulator's key in the environment)
    open_workspace,
    poll_then_work,
    results,
    submitted_run,
    sync_run,
    total_cost,
    write_workspace,
)

SAMPLES = 12
PROVIDERS = ("openai", "anthropic")


def _cap(cap: float) -> str:
    return f"[budget]\nmax_cost_usd_per_run = {cap!r}\n"


@pytest.mark.parametrize("provider_type", PROVIDERS)
def test_re_sends_of_failed_batch_items_stop_at_the_per_run_cap(
    make_simulator: Callable[..., Simulator], tmp_path: Path, provider_type: str
) -> None:
    """Every item of the batch failed; the cap, lowered while the batch ran, has room for a few of them."""
    sim = make_simulator(batch_item_failure_rate=1.0, seed=3)
    model = MODELS[provider_type]
    config, db, spec = open_workspace(tmp_path, sim.base_url, provider_type=provider_type, samples=SAMPLES)
    cap = total_cost(results(db, sync_run(db, config, spec, model))) / 2
    run_id = submitted_run(db, config, spec, model)
    lowered = write_workspace(
        tmp_path, sim.base_url, provider_type=provider_type, samples=SAMPLES, extra=_cap(cap)
    )
    summary = poll_then_work(db, lowered)
    assert summary.status == "failed"
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None and f"cost limit ${cap:.4f}" in (run.error or "")
        assert run.cost_usd is not None and 0 < run.cost_usd <= cap
    resent = results(db, run_id)
    assert 0 < len(resent) < SAMPLES
    assert all(r["price_source"] == "config" for r in resent.values())  # sync, at the full price
    db.dispose()


@pytest.mark.parametrize("provider_type", PROVIDERS)
def test_re_sends_within_the_per_run_cap_all_go_through(
    make_simulator: Callable[..., Simulator], tmp_path: Path, provider_type: str
) -> None:
    sim = make_simulator(batch_item_failure_rate=0.4, seed=3)
    model = MODELS[provider_type]
    config, db, spec = open_workspace(
        tmp_path, sim.base_url, provider_type=provider_type, samples=SAMPLES, extra=_cap(10.0)
    )
    run_id = submitted_run(db, config, spec, model)
    summary = poll_then_work(db, config)
    assert summary.status == "done" and summary.errored == 0
    stored = results(db, run_id)
    assert len(stored) == SAMPLES and any(r["price_source"] == "config" for r in stored.values())
    db.dispose()


@pytest.mark.parametrize("provider_type", PROVIDERS)
def test_a_re_send_over_the_cap_loses_no_answer_the_batch_gave(
    make_simulator: Callable[..., Simulator],
    tmp_path: Path,
    provider_type: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Some items failed in the batch and the cap has no room for any re-send: the run fails at the cap
    with every answer the batch gave stored (they are paid for), whatever their place in the suite."""
    sim = make_simulator(batch_item_failure_rate=0.5, seed=5)
    model = MODELS[provider_type]
    config, db, spec = open_workspace(tmp_path, sim.base_url, provider_type=provider_type, samples=SAMPLES)
    run_id = submitted_run(db, config, spec, model)
    lowered = write_workspace(
        tmp_path, sim.base_url, provider_type=provider_type, samples=SAMPLES, extra=_cap(1e-9)
    )
    with caplog.at_level(logging.INFO, logger="monitor.pipeline.run.batch"):
        summary = poll_then_work(db, lowered)
    (note,) = [r.getMessage() for r in caplog.records if "unanswered, sent sync" in r.getMessage()]
    unanswered = int(re.search(r"(\d+) of \d+ request", note).group(1))  # type: ignore[union-attr]
    assert 0 < unanswered < SAMPLES and summary.status == "failed"
    stored = results(db, run_id)
    assert len(stored) == SAMPLES - unanswered
    assert all(r["price_source"] != "config" for r in stored.values())  # each at the batch price
    db.dispose()
