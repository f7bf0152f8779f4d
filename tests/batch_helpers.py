"""Helpers for the batch-mode tests: a workspace on the simulator, scheduled runs, stored results."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from monitor.core.config import Config, load_config
from monitor.evals.loader import SuiteSpec, load_suites
from monitor.pipeline.queue import enqueue_runs
from monitor.pipeline.run import batch as batch_mode
from monitor.pipeline.run.batch_poll import PollReport, poll_batches
from monitor.pipeline.run.sample import work_items
from monitor.pipeline.run.totals import RunSummary
from monitor.pipeline.run.work import execute_run, work_once
from monitor.providers.batch import BatchItem
from monitor.providers.batch_registry import batch_api
from monitor.providers.registry import get_provider
from monitor.simulator import Simulator
from monitor.store.db import Database, open_database
from monitor.store.tables import Batch, Result, Run
from tests.runner_helpers import manual_run, sum_samples, write_config, write_suite

KEY_ENV = "MM_TEST_BATCH_KEY"
MODELS = {"openai": "gpt-sim-base", "anthropic": "claude-sim-sonnet-20260115", "gemini": "gemini-sim-flash"}
"""A simulator model of each provider type (the default line-up)."""
RESULT_FIELDS = (
    "output",
    "score",
    "passed",
    "error_kind",
    "input_tokens",
    "output_tokens",
    "finish_reason",
    "resolved_model",
    "grades",
)
"""What a batched result must share with the sync one (not cost, latency or attempts)."""


@pytest.fixture(autouse=True)
def batch_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """The simulator's key where the workspace's provider reads it (autouse where imported)."""
    monkeypatch.setenv(KEY_ENV, "sim-key")


def base_url(sim_url: str, provider_type: str) -> str:
    return sim_url if provider_type in ("anthropic", "gemini") else f"{sim_url}/v1"


def write_workspace(
    root: Path,
    sim_url: str,
    *,
    provider_type: str = "openai",
    batch: bool = True,
    samples: int = 12,
    suite_batch: bool | None = None,
    extra: str = "",
    database_url: str | None = None,
) -> Config:
    """monitor.toml with provider `p` (`batch` as given) at the simulator and suite `sums` in root/evals."""
    write_suite(
        root / "evals",
        "sums",
        sum_samples(samples, "s"),
        description="Sums, for batch tests.",
        batch=suite_batch,
    )
    providers = (
        f'[providers.p]\ntype = "{provider_type}"\nbase_url = "{base_url(sim_url, provider_type)}"\n'
        f'api_key_env = "{KEY_ENV}"\nbatch = {str(batch).lower()}\nmax_retries = 1\n'
    )
    pricing = '[pricing."p:*"]\ninput = 1.0\noutput = 2.0\n'
    return load_config(write_config(root, providers, database_url=database_url, extra=f"{pricing}\n{extra}"))


def open_all(config: Config) -> tuple[Database, SuiteSpec]:
    db = open_database(config.database_url)
    (spec,) = load_suites(config.suites_dir, ["sums"])
    return db, spec


def open_workspace(root: Path, sim_url: str, **options: Any) -> tuple[Config, Database, SuiteSpec]:
    """write_workspace with these options, then open_all: the config, its database and suite `sums`."""
    config = write_workspace(root, sim_url, **options)
    return (config, *open_all(config))


def batches_sent(sim: Simulator, provider_type: str = "openai") -> int:
    """How many batches the simulator's `provider_type` API was given."""
    return len(sim.state.batches.newest_first(provider_type))


def scheduled_run(
    db: Database, config: Config, spec: SuiteSpec, model_id: str, trigger: str = "drift"
) -> int:
    """A queued scheduled run of `model_id` on the suite (no baseline runs are queued with it)."""
    with db.session() as session:
        (run,) = enqueue_runs(
            session, config, provider="p", model_id=model_id, trigger=trigger, suites=[spec]
        )
        return run.id


def submitted_run(db: Database, config: Config, spec: SuiteSpec, model_id: str) -> int:
    """A scheduled run of `model_id`, worked once: its batch is submitted (or its submission tried)."""
    run_id = scheduled_run(db, config, spec, model_id)
    work(db, config)
    return run_id


def sync_run(db: Database, config: Config, spec: SuiteSpec, model_id: str) -> int:
    """A manual run of `model_id`, executed at once request by request (manual runs never batch)."""
    run_id, worker = manual_run(db, config, spec, model_id=model_id, provider="p")
    summary = asyncio.run(execute_run(db, config, run_id, worker_id=worker, spec=spec))
    assert summary.status == "done", summary
    return run_id


def work(db: Database, config: Config, worker_id: str = "w1") -> RunSummary | None:
    return asyncio.run(work_once(db, config, worker_id=worker_id))


def poll(db: Database, config: Config) -> PollReport:
    return poll_batches(db, config)


def poll_then_work(db: Database, config: Config) -> RunSummary:
    """Poll the open batches, then work the run that was requeued: the summary of collecting it."""
    poll(db, config)
    summary = work(db, config)
    assert summary is not None
    return summary


def batch_rows(db: Database, run_id: int) -> list[Batch]:
    with db.session() as session:
        rows = list(session.scalars(select(Batch).where(Batch.run_id == run_id).order_by(Batch.id)))
        session.expunge_all()
        return rows


def results(db: Database, run_id: int) -> dict[tuple[str, int], dict[str, Any]]:
    with db.session() as session:
        rows = session.scalars(select(Result).where(Result.run_id == run_id)).all()
        return {
            (r.sample_key, r.repeat): {
                **{name: getattr(r, name) for name in RESULT_FIELDS},
                "cost_usd": r.cost_usd,
                "latency_ms": r.latency_ms,
                "price_source": r.price_source,
                "attempts": r.attempts,
            }
            for r in rows
        }


def total_cost(rows: dict[tuple[str, int], dict[str, Any]]) -> float:
    return sum(row["cost_usd"] for row in rows.values())


def comparable(rows: dict[tuple[str, int], dict[str, Any]]) -> dict[tuple[str, int], dict[str, Any]]:
    """The fields a report or comparison reads, without cost and latency."""
    return {key: {name: row[name] for name in RESULT_FIELDS} for key, row in rows.items()}


def crash_before_submitting(db: Database, spec: SuiteSpec, run_id: int, tag: str) -> None:
    """What a worker leaves when it dies after writing a batch row, before the provider heard of it
    (its run is then released as interrupted)."""
    ids = [batch_mode.custom_id(tag, sample.key, 0) for sample in spec.samples]
    with db.session() as session:
        session.add(Batch(run_id=run_id, provider="p", status="preparing", custom_ids=ids))
        session.execute(update(Run).where(Run.id == run_id).values(status="interrupted"))


def crash_after_submitting(
    db: Database, config: Config, spec: SuiteSpec, run_id: int, model: str, tag: str
) -> None:
    """What a worker leaves when it dies right after the provider created the batch, before its id was
    stored: the provider has the batch, marked with the row's tag; the row has no id."""
    crash_before_submitting(db, spec, run_id, tag)
    pcfg = config.providers["p"]
    api = batch_api("p", pcfg, get_provider("p", pcfg))
    items = work_items(spec, spec.params, model_id=model, repeat=1, timeout_s=pcfg.timeout_s, stored=set())
    api.submit([BatchItem(batch_mode.custom_id(tag, i.sample.key, 0), i.request) for i in items], tag=tag)
    api.close()
