"""Batch benchmark: what a scheduled new-model event costs against the simulator with batch mode off and on.

    python bench/batch_bench.py                 # OpenAI and Anthropic, 200 samples per suite
    python bench/batch_bench.py --samples 50 --provider openai

For each provider type, one new-model event (the candidate and the baseline, on one suite) is planned
and worked by the daemon's own work tick (`service.jobs._work`: it polls the batches, then claims and
collects), first with `batch = false`, then with `batch = true` on a fresh database. The figure is the
stored cost of the event's runs (their results, judge included: none here) and the ratio on / off.
Both providers document half price for batches, so the ratio should be 0.5.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.runner_helpers import sum_samples, write_config, write_suite  # noqa: E402

KEY_ENV = "MM_BENCH_BATCH_KEY"
MODELS = {
    "openai": ("gpt-sim-base", "gpt-sim-mini"),
    "anthropic": ("claude-sim-sonnet-20260115", "claude-sim-haiku-20251001"),
}
"""Per provider type: (candidate, baseline) of the simulator's default line-up."""
MAX_TICKS = 20


def write_workspace(root: Path, base_url: str, provider_type: str, *, batch: bool, samples: int) -> Path:
    """monitor.toml with provider `p` at the simulator (batch as asked), a baseline, and suite `sums`."""
    write_suite(
        root / "evals", "sums", sum_samples(samples, "s"), description="Sums, for the batch benchmark."
    )
    url = base_url if provider_type == "anthropic" else f"{base_url}/v1"
    _, baseline = MODELS[provider_type]
    return write_config(
        root,
        f'[providers.p]\ntype = "{provider_type}"\nbase_url = "{url}"\napi_key_env = "{KEY_ENV}"\n'
        f"batch = {str(batch).lower()}\nmax_concurrency = 32\n",
        extra=f'[baseline]\ndefault = ["p:{baseline}"]\n\n'
        '[pricing."p:*"]\ninput = 3.0\noutput = 15.0\n\n[schedule]\nearly_stop = false\n',
    )


def event_cost(base_url: str, provider_type: str, *, batch: bool, samples: int) -> tuple[float, int, int]:
    """(the event's cost, its runs, the batches submitted) for one new-model event, worked to its end."""
    from sqlalchemy import func, select

    from monitor.core.config import load_config
    from monitor.pipeline.queue import plan_new_model_runs
    from monitor.service.jobs import Runtime, _work
    from monitor.store.db import open_database
    from monitor.store.tables import Batch, Event, Result, Run, utcnow

    candidate, _ = MODELS[provider_type]
    with tempfile.TemporaryDirectory() as tmp:
        config = load_config(
            write_workspace(Path(tmp), base_url, provider_type, batch=batch, samples=samples)
        )
        db = open_database(config.database_url)
        with db.session() as session:
            session.add(
                Event(kind="new_model", provider="p", model_id=candidate, created_at=utcnow(), detail={})
            )
        plan_new_model_runs(db, config)
        runtime = Runtime(config=config, db=db, worker_id="bench")
        for _ in range(MAX_TICKS):
            _work(runtime)
            with db.session() as session:
                left = session.scalar(select(func.count(Run.id)).where(Run.status.not_in(("done", "failed"))))
            if not left:
                break
        with db.session() as session:
            cost = float(session.scalar(select(func.sum(Result.cost_usd))) or 0.0)
            runs = int(session.scalar(select(func.count(Run.id))) or 0)
            batches = int(session.scalar(select(func.count(Batch.id))) or 0)
        db.dispose()
    return cost, runs, batches


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200)
    parser.add_argument("--provider", choices=sorted(MODELS), action="append")
    args = parser.parse_args()
    os.environ[KEY_ENV] = "sim-key"
    from monitor.simulator import Simulator

    with Simulator(latency_scale=0.0).running() as sim:
        for provider_type in args.provider or sorted(MODELS):
            off, runs, _ = event_cost(sim.base_url, provider_type, batch=False, samples=args.samples)
            on, _, batches = event_cost(sim.base_url, provider_type, batch=True, samples=args.samples)
            print(
                f"{provider_type}: a new-model event, {runs} runs x {args.samples} samples: "
                f"batch off ${off:.6f}, batch on ${on:.6f} ({batches} batches), on / off = {on / off:.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
