"""History-at-scale benchmark: the index, an event report and the read commands on a year of history.

    python bench/history_bench.py                # 500 models, 10,000 runs, 2,000,000 results (SQLite)
    python bench/history_bench.py --quick        # a tenth: 50 models, 1,000 runs, 200,000 results
    python bench/history_bench.py --pg postgresql+psycopg://postgres@127.0.0.1:55432/postgres

The seeded history is a busy team's year: 500 models of five providers, four suites (three versions
each, the newest carrying most runs), 10,000 runs over 365 days (a new-model event with its candidate
and baseline runs per suite, plus manual, drift and scheduled baseline runs; a few failed, skipped and
done-with-errors), 200 results a run with scores, grades JSON, tokens, latency, cost and created_at.
Rows go in through SQLAlchemy Core executemany in a few transactions; the seeding time is printed.
The SQLite file is cached in $XDG_CACHE_HOME (or ~/.cache)/model-monitor-bench, keyed by the schema
head revision and the size, so a rerun does not reseed (--reseed forces it). PostgreSQL is seeded
into a fresh schema-less database each time (its tables are dropped first).

Figures (median of --trials, 3 by default, after one warm-up):
- `write_index` and `write_event_report` (the newest new-model event), in-process: what the daemon
  pays after each event.
- `runs --json --limit 50`, `models --json`, `status --json`: in-process through click's CliRunner
  (the command's own work, imports warm) and as `python -m monitor` subprocesses (what a user waits,
  start-up included; start-up is issue 14 part 6's).
Targets (issue 14 part 5): index and event report < 2 s; runs, models, status < 0.3 s.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PROVIDERS = ("openai", "anthropic", "google", "mistral", "together")
SUITES = ("reasoning", "coding", "extraction", "support")
VERSIONS = 3
BASELINE = "openai:model-000"
TARGETS = {"write_index": 2.0, "event_report": 2.0, "runs": 0.3, "models": 0.3, "status": 0.3}
CHUNK = 20_000


def cache_dir() -> Path:
    """Where seeded SQLite files are kept between bench runs."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    path = base / "model-monitor-bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_config(directory: Path, url: str) -> Path:
    """A monitor.toml naming the five providers (keys from the environment), the baseline and `url`."""
    providers = "\n".join(
        f'[providers.{p}]\ntype = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\n'
        f'api_key_env = "MM_HISTORY_BENCH_KEY"\n'
        for p in PROVIDERS
    )
    path = directory / "monitor.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [database]
            url = "{url}"

            [suites]
            directory = "{directory / "suites"}"

            [reports]
            directory = "{directory / "reports"}"

            [baseline]
            default = ["{BASELINE}"]

            [pricing."*"]
            input = 0.5
            output = 1.5
            """
        )
        + providers
    )
    (directory / "suites").mkdir(exist_ok=True)
    return path


def _chunks(rows: Iterator[dict[str, Any]]) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


def seed(url: str, models: int, runs: int, per_run: int) -> float:
    """Seed the history into `url` (migrated to head first); returns the seconds it took."""
    from sqlalchemy import insert

    from monitor.store.db import open_database
    from monitor.store.tables import Event, Model, Result, Run, Sample, Suite

    started = time.perf_counter()
    rng = random.Random(5)
    db = open_database(url)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365)
    keys = [(PROVIDERS[m % len(PROVIDERS)], f"model-{m:03d}") for m in range(models)]
    with db.engine.begin() as conn:
        conn.execute(
            insert(Model),
            [
                {
                    "provider": p,
                    "model_id": mid,
                    "display_name": mid,
                    "first_seen": start + timedelta(days=365 * m / models),
                    "last_seen": now,
                    "removed_at": now - timedelta(days=3) if m % 17 == 5 else None,
                    "raw": {"id": mid, "object": "model"},
                }
                for m, (p, mid) in enumerate(keys)
            ],
        )
        suite_ids: list[list[int]] = []
        for s, name in enumerate(SUITES):
            ids = []
            for v in range(VERSIONS):
                created = start + timedelta(days=120 * v + s)
                row = conn.execute(
                    insert(Suite).returning(Suite.id),
                    {
                        "name": name,
                        "version": f"{name[:4]}{v:060d}",
                        "description": f"The {name} suite.",
                        "sample_count": per_run,
                        "definition": {"name": name},
                        "created_at": created,
                    },
                ).scalar_one()
                ids.append(row)
                conn.execute(
                    insert(Sample),
                    [
                        {
                            "suite_id": row,
                            "key": f"s{i:05d}",
                            "position": i,
                            "group": f"g{i % 5}",
                            "messages": [{"role": "user", "content": f"Question {i} of {name}?"}],
                            "target": str(i),
                        }
                        for i in range(per_run)
                    ],
                )
            suite_ids.append(ids)
        # One new-model event per model, its 4 candidate runs and 4 baseline runs; the rest of the runs
        # are manual, drift and scheduled baseline runs spread over the year.
        event_rows = []
        for m, (p, mid) in enumerate(keys):
            event_rows.append(
                {
                    "kind": "new_model",
                    "provider": p,
                    "model_id": mid,
                    "created_at": start + timedelta(days=365 * m / models, minutes=1),
                    "detail": {},
                    "reported_at": start + timedelta(days=365 * m / models, hours=1),
                    "planned_at": start + timedelta(days=365 * m / models, minutes=2),
                }
            )
        conn.execute(insert(Event), event_rows)
        event_ids = [e for (e,) in conn.exec_driver_sql("SELECT id FROM events ORDER BY id")]
        run_rows = []
        for r in range(runs):
            m = r // 8 % models if r < models * 8 else rng.randrange(models)
            s = r % len(SUITES)
            evented = r < models * 8
            when = (
                start + timedelta(days=365 * m / models, minutes=5 + r % 8)
                if evented
                else start + timedelta(seconds=rng.uniform(0, 365 * 86400))
            )
            version = min(VERSIONS - 1, int((when - start).days / 120))
            baseline = evented and r % 8 >= 4
            provider, model_id = BASELINE.split(":") if baseline else keys[m]
            status = rng.choices(["done", "done_with_errors", "failed", "skipped"], weights=[90, 6, 2, 2])[0]
            passed = rng.randint(per_run // 3, per_run)
            errored = rng.randint(1, 10) if status == "done_with_errors" else 0
            run_rows.append(
                {
                    "provider": provider,
                    "model_id": model_id,
                    "suite_id": suite_ids[s][version],
                    "event_id": event_ids[m] if evented else None,
                    "trigger": ("baseline" if baseline else "new_model")
                    if evented
                    else rng.choice(["manual", "drift", "baseline"]),
                    "status": status,
                    "params": {"temperature": 0},
                    "created_at": when,
                    "started_at": when,
                    "finished_at": when + timedelta(minutes=4) if status != "skipped" else None,
                    "estimated_cost_usd": 0.2,
                    "error": "over budget" if status in ("skipped", "failed") else None,
                    "samples_total": per_run,
                    "passed": passed - errored,
                    "failed": per_run - passed,
                    "errored": errored,
                    "score": (passed - errored) / (per_run - errored) if status != "skipped" else None,
                    "cost_usd": 0.18,
                    "input_tokens": per_run * 300,
                    "output_tokens": per_run * 40,
                    "latency_p50_ms": 600.0,
                    "latency_p95_ms": 1400.0,
                }
            )
        conn.execute(insert(Run), run_rows)
        run_ids = [i for (i,) in conn.exec_driver_sql("SELECT id FROM runs ORDER BY id")]

    def results() -> Iterator[dict[str, Any]]:
        for run_id, run in zip(run_ids, run_rows, strict=True):
            if run["status"] == "skipped":
                continue
            passed = run["passed"]
            for i in range(per_run):
                errored = i >= per_run - run["errored"]
                ok = i < passed
                yield {
                    "run_id": run_id,
                    "sample_key": f"s{i:05d}",
                    "repeat": 0,
                    "prompt_hash": f"{i:064x}",
                    "output": None if errored else f"The answer is {i if ok else i + 1}.",
                    "score": None if errored else (1.0 if ok else 0.0),
                    "passed": None if errored else ok,
                    "grades": [] if errored else [{"grader": "match", "score": float(ok), "passed": ok}],
                    "error_kind": "timeout" if errored else None,
                    "error_message": "timed out after 30 s" if errored else None,
                    "latency_ms": 300.0 + (i * 37 % 1100),
                    "input_tokens": 300,
                    "output_tokens": 40,
                    "cost_usd": 0.0009,
                    "price_source": "config",
                    "finish_reason": "stop",
                    "created_at": run["created_at"] + timedelta(seconds=i),
                }

    for batch in _chunks(results()):
        with db.engine.begin() as conn:
            conn.execute(insert(Result), batch)
    if db.engine.dialect.name == "postgresql":
        with db.engine.begin() as conn:  # the planner's statistics, as autovacuum would have them
            conn.exec_driver_sql("ANALYZE")
    db.dispose()
    return time.perf_counter() - started


def sqlite_database(args: argparse.Namespace, sizes: tuple[int, int, int]) -> tuple[str, float | None]:
    """The cached seeded SQLite file's URL, seeding it when missing; and the seeding time (None: cached)."""
    from monitor.store.db import head_revision

    name = f"history-{head_revision()}-{sizes[0]}m-{sizes[1]}r-{sizes[2]}.db"
    path = cache_dir() / name
    if args.reseed and path.exists():
        path.unlink()
    url = f"sqlite:///{path}"
    if path.exists():
        return url, None
    partial = path.with_suffix(".seeding")
    partial.unlink(missing_ok=True)
    took = seed(f"sqlite:///{partial}", *sizes)
    partial.rename(path)
    return url, took


def pg_database(url: str, sizes: tuple[int, int, int]) -> float:
    """Drop every table of `url`'s database and seed it again; returns the seeding time."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return seed(url, *sizes)


def median_of(trials: int, once: Callable[[], object]) -> float:
    """One untimed warm-up, then the median wall time of `trials` calls."""
    once()
    times = []
    for _ in range(trials):
        t0 = time.perf_counter()
        once()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def figures(config_path: Path, trials: int) -> dict[str, dict[str, float]]:
    """Each figure's in-process median and, for the commands, the subprocess median."""
    from click.testing import CliRunner
    from sqlalchemy import select

    from monitor.cli.app import main
    from monitor.core.config import load_config
    from monitor.pipeline.report.write import write_event_report, write_index
    from monitor.store.db import open_database
    from monitor.store.tables import Event

    config = load_config(config_path)
    db = open_database(config.database_url)
    with db.session() as session:
        event_id = session.scalars(
            select(Event.id).where(Event.kind == "new_model").order_by(Event.id.desc()).limit(1)
        ).one()
    out: dict[str, dict[str, float]] = {}
    out["write_index"] = {"in_process": median_of(trials, lambda: write_index(db, config))}
    out["event_report"] = {"in_process": median_of(trials, lambda: write_event_report(db, config, event_id))}
    db.dispose()
    env = {**os.environ, "MM_HISTORY_BENCH_KEY": "sk-bench"}
    os.environ["MM_HISTORY_BENCH_KEY"] = "sk-bench"
    runner = CliRunner()
    for name, args, ok in (
        ("runs", ["runs", "--json", "--limit", "50"], (0,)),
        ("models", ["models", "--json"], (0,)),
        ("status", ["status", "--json"], (0, 1)),
    ):
        argv = ["--config", str(config_path), *args]

        def in_process(argv: list[str] = argv, ok: tuple[int, ...] = ok) -> None:
            result = runner.invoke(main, argv, catch_exceptions=False)
            if result.exit_code not in ok:
                raise RuntimeError(f"{argv} exited {result.exit_code}: {result.output[-2000:]}")

        def child(argv: list[str] = argv, ok: tuple[int, ...] = ok) -> None:
            done = subprocess.run(
                [sys.executable, "-m", "monitor", *argv], capture_output=True, env=env, cwd=ROOT
            )
            if done.returncode not in ok:
                raise RuntimeError(f"{argv} exited {done.returncode}: {done.stderr.decode()[-2000:]}")

        out[name] = {"in_process": median_of(trials, in_process), "subprocess": median_of(trials, child)}
    return out


def print_table(label: str, rows: dict[str, dict[str, float]]) -> None:
    """The figures, each against its target (the in-process figure is the one the target is for)."""
    print(f"\n{label}")
    print(f"{'figure':<14} {'in-process s':>13} {'subprocess s':>13} {'target s':>9}  ok")
    for name, row in rows.items():
        sub = f"{row['subprocess']:.3f}" if "subprocess" in row else "-"
        ok = "yes" if row["in_process"] < TARGETS[name] else "NO"
        print(f"{name:<14} {row['in_process']:>13.3f} {sub:>13} {TARGETS[name]:>9.1f}  {ok}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="Seed a tenth of the history.")
    parser.add_argument("--pg", metavar="URL", help="Also seed and time this PostgreSQL database.")
    parser.add_argument("--trials", type=int, default=3)
    parser.add_argument("--reseed", action="store_true", help="Seed the SQLite file again.")
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON too.")
    args = parser.parse_args()
    sizes = (50, 1_000, 200) if args.quick else (500, 10_000, 200)
    report: dict[str, Any] = {"sizes": {"models": sizes[0], "runs": sizes[1], "results": sizes[1] * sizes[2]}}
    targets: list[tuple[str, str]] = []
    url, took = sqlite_database(args, sizes)
    print(f"sqlite: {url} " + (f"seeded in {took:.1f} s" if took is not None else "(cached)"))
    targets.append(("sqlite", url))
    if args.pg:
        took_pg = pg_database(args.pg, sizes)
        print(f"postgresql: seeded in {took_pg:.1f} s")
        targets.append(("postgresql", args.pg))
    for label, target in targets:
        with tempfile.TemporaryDirectory() as tmp:
            rows = figures(write_config(Path(tmp), target), args.trials)
        report[label] = rows
        print_table(f"{label} ({sizes[1]:,} runs, {sizes[1] * sizes[2]:,} results)", rows)
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
