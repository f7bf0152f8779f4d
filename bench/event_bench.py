"""Event benchmark: from the poll that finds a new model to the outbox row, ideal time over wall time.

    python bench/event_bench.py            # 4 suites x 2 models, 2 s latency, concurrency 32
    python bench/event_bench.py --quick    # smaller suites, 0.5 s latency

A new-model event queues each suite for the new model and the baseline (8 runs). Ideal is the
whole event's samples x latency / concurrency (one provider account, one limiter); the figure is
ideal / wall, printed for `[schedule] concurrent_runs` 1 (runs one after another) and 4.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEY = "sk-event-bench-0123456789"
SUITES = ("alpha", "beta", "gamma", "delta")


def workspace(root: Path, base_url: str, samples: int, concurrency: int, runs_at_once: int) -> Path:
    """monitor.toml (one provider at the simulator, baseline gpt-sim-base) and four sum suites."""
    evals = root / "evals"
    evals.mkdir(parents=True)
    for name in SUITES:
        with (evals / f"{name}.jsonl").open("w") as out:
            for i in range(samples):
                out.write(
                    json.dumps(
                        {"id": f"{name}-{i}", "vars": {"q": f"What is {i} + {i + 3}?"}, "target": 2 * i + 3}
                    )
                )
                out.write("\n")
        (evals / f"{name}.yaml").write_text(
            textwrap.dedent(
                f"""\
                name: {name}
                prompt: {{system: "Reply with the number only.", user: "{{{{ q }}}}"}}
                params: {{temperature: 0, max_tokens: 16}}
                graders: [{{type: numeric}}]
                samples_files: [{name}.jsonl]
                """
            )
        )
    config = root / "monitor.toml"
    config.write_text(
        textwrap.dedent(
            f"""\
            [database]
            url = "sqlite:///{root / "monitor.db"}"

            [providers.sim]
            type = "openai-compatible"
            base_url = "{base_url}/v1"
            api_key_env = "MM_EVENT_BENCH_KEY"
            max_concurrency = {concurrency}
            requests_per_minute = 1000000
            tokens_per_minute = 100000000

            [baseline]
            default = ["sim:gpt-sim-base"]

            [schedule]
            concurrent_runs = {runs_at_once}
            early_stop = false

            [pricing."sim:gpt-sim-*"]
            input = 1.0
            output = 2.0
            """
        )
    )
    return config


def one_event(samples: int, latency_ms: float, concurrency: int, runs_at_once: int) -> tuple[float, float]:
    """(ideal seconds, wall seconds) of one new-model event, poll to outbox row."""
    from monitor.core.config import load_config
    from monitor.service.jobs import Runtime, _poll, _work
    from monitor.simulator import SimModel, Simulator
    from monitor.store.db import open_database

    models = [
        SimModel("gpt-sim-base", latency_ms=latency_ms, latency_jitter_ms=latency_ms / 4),
        SimModel(
            "gpt-sim-next", latency_ms=latency_ms, latency_jitter_ms=latency_ms / 4, release_after_polls=1
        ),
    ]
    os.environ["MM_EVENT_BENCH_KEY"] = KEY
    with tempfile.TemporaryDirectory() as tmp, Simulator(models=models, api_key=KEY).running() as sim:
        config = load_config(workspace(Path(tmp), sim.base_url, samples, concurrency, runs_at_once))
        db = open_database(config.database_url)
        runtime = Runtime(config=config, db=db, worker_id="event-bench")
        _poll(runtime)  # bootstrap: records what exists
        started = time.perf_counter()
        _poll(runtime)  # finds gpt-sim-next: 4 suites x (candidate + baseline) queued
        _work(runtime)  # evaluates, compares, reports and queues the e-mail
        wall = time.perf_counter() - started
        db.dispose()
    total = len(SUITES) * 2 * samples
    return total * (latency_ms / 1000.0) / concurrency, wall


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="smaller suites and 0.5 s latency")
    args = parser.parse_args()
    samples, latency = (48, 500.0) if args.quick else (100, 2000.0)
    print(
        f"event: {len(SUITES)} suites x 2 models x {samples} samples, "
        f"latency {latency:.0f} ms, concurrency 32"
    )
    print(f"{'concurrent_runs':>16} {'ideal s':>8} {'wall s':>8} {'ideal/wall':>10}")
    for runs_at_once in (1, 4):
        ideal, wall = one_event(samples, latency, 32, runs_at_once)
        print(f"{runs_at_once:>16} {ideal:>8.1f} {wall:>8.1f} {ideal / wall:>10.2f}")


if __name__ == "__main__":
    main()
