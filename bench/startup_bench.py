"""Start-up benchmark: the fixed cost of each command, as a user pays it (medians of warm runs).

    python bench/startup_bench.py               # every figure, median of 5 after one warm-up
    python bench/startup_bench.py --trials 3 --check-lines 20000

Figures (each command is a fresh `python -m monitor` child process, the machine warm: one untimed
invocation first):
- eval: from the child's start to the first request the simulator receives, and to the first chat
  request, for `eval` of a 100-sample suite (the simulator runs in this process, on a thread, and
  records each arrival); the suite version is already registered (`eval_registered`) or new
  (`eval_new_version`: its params change every time, so the loader and register_suite do all their work).
- `runs --json`, `models --json`, `status --json`: wall time on a database with a few hundred runs
  (seeded directly: 40 models, 4 suites of 100 samples, 300 finished runs of 100 results each).
- `check --json` on a suite whose samples are a 100,000-line JSONL file: wall time and the child's
  peak RSS (os.wait4's rusage).
- `--help`: wall time.
- floors: what any such command pays before its own work, each a fresh child: the interpreter
  alone, the CLI (click, rich), loading a config (pydantic), SQLAlchemy with the ORM tables, and the
  openai SDK, which `eval` must import before its first request.
Each figure also gives the child's CPU seconds (user + system), steadier than wall time on a shared machine.
The package's bytecode is compiled first, as a regular install does (an editable install under
PYTHONDONTWRITEBYTECODE would otherwise compile every module of the package on each start).
Targets (issue 14 part 6): eval first request <= 0.5 s; runs, models, status <= 0.3 s; check <= 3 s;
--help <= 0.3 s.
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
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEY_ENV = "MM_BENCH_SIM_KEY"
MODEL = "gpt-sim-base"
EVAL_SAMPLES = 100
TARGETS = {"eval": 0.5, "read": 0.3, "check": 3.0, "help": 0.3}
SUITE = """\
name: {name}
description: Sums of two numbers, for the start-up benchmark.
prompt:
  system: Answer with the number only.
  user: "{{{{ question }}}}"
params: {{temperature: 0, max_tokens: 16, seed: {seed}}}
graders: [{{type: numeric}}]
samples_files: [{name}.jsonl]
"""


def write_samples(path: Path, n: int) -> None:
    """n arithmetic samples, one JSON object a line."""
    with path.open("w") as out:
        for i in range(n):
            a, b = 3 + i % 97, 5 + i // 97
            out.write(
                json.dumps({"id": f"s{i:06d}", "vars": {"question": f"What is {a} + {b}?"}, "target": a + b})
            )
            out.write("\n")


def write_config(directory: Path, url: str, suites: str) -> Path:
    """A monitor.toml: one simulated provider, the SQLite database and suites folder in `directory`."""
    path = directory / "monitor.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [database]
            url = "sqlite:///{directory / "monitor.db"}"

            [providers.sim]
            type = "openai-compatible"
            base_url = "{url}/v1"
            api_key_env = "{KEY_ENV}"
            max_concurrency = 16
            timeout_s = 30

            [suites]
            directory = "{suites}"

            [reports]
            directory = "{directory / "reports"}"

            [pricing."sim:*"]
            input = 0.15
            output = 0.6
            """
        )
    )
    return path


def seed_history(config_path: Path, runs: int = 300, models: int = 40, results: int = 100) -> None:
    """A realistic history: models, four suite versions, finished runs each with its results (of a
    provider no longer configured, so `poll` of the simulator starts with a first poll)."""
    from sqlalchemy import insert

    from monitor.core.config import load_config
    from monitor.store.db import open_database
    from monitor.store.tables import Model, Result, Run, Sample, Suite

    rng = random.Random(14)
    db = open_database(load_config(config_path).database_url)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with db.session() as session:
        session.execute(
            insert(Model),
            [
                {
                    "provider": "archive",
                    "model_id": f"hist-model-{m:03d}",
                    "first_seen": start + timedelta(days=m),
                }
                for m in range(models)
            ],
        )
        suite_ids = []
        for s in range(4):
            suite = Suite(name=f"history-{s}", version=f"v{s:015d}", sample_count=results, definition={})
            session.add(suite)
            session.flush()
            suite_ids.append(suite.id)
            session.execute(
                insert(Sample),
                [
                    {
                        "suite_id": suite.id,
                        "key": f"s{i:06d}",
                        "position": i,
                        "messages": [{"role": "user", "content": f"What is {i} + {i}?"}],
                        "target": 2 * i,
                    }
                    for i in range(results)
                ],
            )
        for r in range(runs):
            created = start + timedelta(hours=6 * r)
            passed = rng.randint(50, results)
            run = Run(
                provider="archive",
                model_id=f"hist-model-{r % models:03d}",
                suite_id=suite_ids[r % 4],
                trigger=rng.choice(["new_model", "baseline", "manual", "drift"]),
                status="done",
                created_at=created,
                started_at=created,
                finished_at=created + timedelta(minutes=3),
                samples_total=results,
                passed=passed,
                failed=results - passed,
                score=passed / results,
                cost_usd=0.01,
                input_tokens=results * 30,
                output_tokens=results * 3,
            )
            session.add(run)
            session.flush()
            session.execute(
                insert(Result),
                [
                    {
                        "run_id": run.id,
                        "sample_key": f"s{i:06d}",
                        "prompt_hash": f"{i:064x}",
                        "output": str(2 * i),
                        "score": 1.0 if i < passed else 0.0,
                        "passed": i < passed,
                        "grades": [],
                        "latency_ms": rng.uniform(200, 900),
                        "input_tokens": 30,
                        "output_tokens": 3,
                        "cost_usd": 0.0001,
                        "price_source": "config",
                        "created_at": created,
                    }
                    for i in range(results)
                ],
            )
    db.dispose()


def command(config: Path | None, *args: str) -> list[str]:
    """A `python -m monitor` command line."""
    return [sys.executable, "-m", "monitor", *(["--config", str(config)] if config else []), *args]


LAUNCHER = """
import json, os, subprocess, sys, time
started = time.time()
t0 = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
_pid, status, usage = os.wait4(proc.pid, 0)
wall = time.perf_counter() - t0
stderr = proc.stderr.read().decode(errors="replace")
print(json.dumps({"started": started, "wall": wall, "rss_kb": usage.ru_maxrss,
                  "cpu": usage.ru_utime + usage.ru_stime, "code": os.waitstatus_to_exitcode(status),
                  "stderr": stderr[-2000:]}))
"""
"""Runs one command and reports on it: a small parent, so the child's peak RSS is its own (a child
forked from this process would inherit this one's high-water mark)."""


def run_child(cmd: list[str], ok: tuple[int, ...] = (0,)) -> dict[str, float]:
    """Run one child through LAUNCHER: its start (wall clock), wall and CPU seconds, peak RSS in MB."""
    out = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *cmd], capture_output=True, text=True, cwd=ROOT, check=True
    )
    row = json.loads(out.stdout)
    if row["code"] not in ok:
        raise RuntimeError(f"{' '.join(cmd[3:])} exited {row['code']}: {row['stderr']}")
    return {
        "started": row["started"],
        "wall_s": row["wall"],
        "cpu_s": row["cpu"],
        "peak_rss_mb": row["rss_kb"] / 1024,
    }


def medians(trials: int, once: Callable[[], dict[str, float]]) -> dict[str, float]:
    """One warm-up call, then the median of `trials` calls, per key."""
    once()
    rows = [once() for _ in range(trials)]
    return {key: round(statistics.median(row[key] for row in rows), 3) for key in rows[0]}


class Arrivals:
    """The wall-clock time of the simulator's first request, and first chat request, since `reset`."""

    def __init__(self, sim: Any) -> None:
        self.first: float | None = None
        self.first_chat: float | None = None
        stats = sim.state.stats
        enter, count = stats.enter, stats.count

        def on_enter(authorization: bool = False) -> None:
            if self.first is None:
                self.first = time.time()
            enter(authorization)

        def on_count(endpoint: str) -> None:
            if self.first_chat is None and "chat" in endpoint:
                self.first_chat = time.time()
            count(endpoint)

        stats.enter, stats.count = on_enter, on_count

    def reset(self) -> None:
        self.first = self.first_chat = None


def eval_figures(sim: Any, workspace: Path, trials: int) -> dict[str, Any]:
    """Process start to the first request (and first chat request) of `eval` on 100 samples."""
    arrivals = Arrivals(sim)
    suites = workspace / "evals"
    config = workspace / "monitor.toml"
    seeds = iter(range(1, 1_000))

    def once(new_version: bool) -> dict[str, float]:
        if new_version:
            (suites / "bench.yaml").write_text(SUITE.format(name="bench", seed=next(seeds)))
        arrivals.reset()
        row = run_child(command(config, "eval", f"sim:{MODEL}", "--suite", "bench", "--json"))
        if arrivals.first is None or arrivals.first_chat is None:
            raise RuntimeError("eval sent no request")
        return {
            "first_request_s": arrivals.first - row["started"],
            "first_chat_s": arrivals.first_chat - row["started"],
            "wall_s": row["wall_s"],
            "cpu_s": row["cpu_s"],
        }

    registered = medians(trials, lambda: once(False))
    new = medians(trials, lambda: once(True))
    (suites / "bench.yaml").write_text(SUITE.format(name="bench", seed=0))
    return {
        "eval_registered": {**registered, "target_s": TARGETS["eval"]},
        "eval_new_version": {**new, "target_s": TARGETS["eval"]},
    }


def wall_figure(trials: int, cmd: list[str], target: float, ok: tuple[int, ...] = (0,)) -> dict[str, Any]:
    """The median wall time of a command (and its peak RSS)."""

    def once() -> dict[str, float]:
        row = run_child(cmd, ok)
        return {k: row[k] for k in ("wall_s", "cpu_s", "peak_rss_mb")}

    return {**medians(trials, once), "target_s": target}


_LOAD = "from monitor.core.config import load_config; load_config({config!r})"
FLOORS = {
    "python alone": "pass",
    "the CLI (click, rich)": "import monitor.cli",
    "+ load the config": "import monitor.cli; " + _LOAD,
    "+ SQLAlchemy and the tables": "import monitor.cli, monitor.store.tables; " + _LOAD,
    "the openai SDK alone": "import openai",
}


def floor_figures(trials: int, config: Path) -> dict[str, Any]:
    """The import floors under every command (see the module docstring); they have no target."""
    figures = {}
    for name, code in FLOORS.items():
        row = wall_figure(trials, [sys.executable, "-c", code.format(config=str(config))], 0.0)
        figures[f"floor: {name}"] = {k: v for k, v in row.items() if k != "target_s"}
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--trials", type=int, default=5, help="timed runs per figure (default 5)")
    parser.add_argument("--check-lines", type=int, default=100_000, help="JSONL lines for `check`")
    args = parser.parse_args()
    os.environ[KEY_ENV] = "sim-key"
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "monitor")], check=True)

    from monitor.simulator.server import Simulator

    sim = Simulator(latency_scale=0.0)
    figures: dict[str, Any] = {}
    with sim.running(), tempfile.TemporaryDirectory() as tmp:
        workspace = Path(tmp) / "eval"
        (workspace / "evals").mkdir(parents=True)
        (workspace / "evals" / "bench.yaml").write_text(SUITE.format(name="bench", seed=0))
        write_samples(workspace / "evals" / "bench.jsonl", EVAL_SAMPLES)
        config = write_config(workspace, sim.base_url, "evals")
        seed_history(config)
        run_child(command(config, "poll"))  # the provider's models are known, as after the daemon's polls
        figures.update(eval_figures(sim, workspace, args.trials))
        for name, cmd, ok in (
            ("runs --json", command(config, "runs", "--json"), (0,)),
            ("models --json", command(config, "models", "--json"), (0,)),
            ("status --json", command(config, "status", "--json"), (0, 1)),  # 1: no daemon holds the lease
        ):
            figures[name] = wall_figure(args.trials, cmd, TARGETS["read"], ok)
        big = Path(tmp) / "check"
        (big / "evals").mkdir(parents=True)
        (big / "evals" / "big.yaml").write_text(SUITE.format(name="big", seed=0))
        write_samples(big / "evals" / "big.jsonl", args.check_lines)
        big_config = write_config(big, sim.base_url, "evals")
        figures[f"check --json ({args.check_lines} lines)"] = wall_figure(
            args.trials, command(big_config, "check", "--json"), TARGETS["check"]
        )
        figures["--help"] = wall_figure(args.trials, command(None, "--help"), TARGETS["help"])
        figures.update(floor_figures(args.trials, config))
    for name, row in figures.items():
        print(f"{name:32} " + "  ".join(f"{k} {v}" for k, v in row.items()))
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
