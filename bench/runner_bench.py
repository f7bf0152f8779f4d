"""Runner benchmark against the simulator (a separate process): efficiency, overhead, rate limit, memory.

    python bench/runner_bench.py            # all four figures, full size
    python bench/runner_bench.py --quick    # smaller N, same figures
    python bench/runner_bench.py --only a,c # some of them

(a) latency-bound efficiency: N samples at 500 ms ± jitter, concurrency 64; ideal N·L/C; ideal / wall.
(b) overhead at latency 0: samples/s of the whole pipeline beside a bare AsyncOpenAI loop, both warmed,
    median of three alternating trials.
(c) rate-limit saturation: simulator limit 600 rpm, runner requests_per_minute = 600.
(d) peak RSS of a runner child process at N = 20,000.
(e) the whole command: `model-monitor eval` as a fresh process on N samples at 500 ms, concurrency 64,
    from the process's start to its exit (start-up, suite loading, the run, the report); ideal / wall.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODEL = "gpt-sim-base"
BASE_LATENCY_MS = 40.0  # gpt-sim-base in the simulator's default line-up (± 10 ms jitter)
KEY_ENV = "MM_BENCH_SIM_KEY"


@contextlib.contextmanager
def simulator(*, latency_ms: float, rpm: float | None = None) -> Iterator[str]:
    """Start `model-monitor simulate --port 0` as a subprocess; yield its root URL; stop it."""
    cmd = [sys.executable, "-m", "monitor", "simulate", "--port", "0"]
    cmd += ["--latency-scale", f"{latency_ms / BASE_LATENCY_MS:g}"]
    if rpm:
        cmd += ["--rpm", f"{rpm:g}"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=ROOT)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        url = None
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            match = re.search(r"listening on (http://\S+)", line)
            if match:
                url = match.group(1)
                break
        if url is None:
            raise RuntimeError("the simulator did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def sim_stats(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(f"{url}/_sim/stats", timeout=10) as response:
        return dict(json.loads(response.read()))


def write_workspace(directory: Path, url: str, n: int, *, concurrency: int, rpm: float | None = None) -> Path:
    """A monitor.toml pointing at the simulator and a suite of n arithmetic samples."""
    suites = directory / "evals"
    suites.mkdir(parents=True, exist_ok=True)
    rpm_line = f"requests_per_minute = {rpm:g}" if rpm else ""
    (directory / "monitor.toml").write_text(
        textwrap.dedent(
            f"""
            [database]
            url = "sqlite:///{directory / "bench.db"}"

            [providers.sim]
            type = "openai-compatible"
            base_url = "{url}/v1"
            api_key_env = "{KEY_ENV}"
            max_concurrency = {concurrency}
            timeout_s = 30
            {rpm_line}

            [suites]
            directory = "evals"

            [pricing."sim:*"]
            input = 0.15
            output = 0.6
            """
        )
    )
    with (suites / "bench.jsonl").open("w") as out:
        for i in range(n):
            a, b = 3 + i % 97, 5 + i // 97
            question = f"What is {a} + {b}?"
            out.write(json.dumps({"id": f"s{i:06d}", "vars": {"question": question}, "target": a + b}))
            out.write("\n")
    (suites / "bench.yaml").write_text(
        textwrap.dedent(
            """
            name: bench
            description: Sums of two numbers, for the runner benchmark.
            prompt:
              system: Answer with the number only.
              user: "{{ question }}"
            params:
              temperature: 0
              max_tokens: 16
            graders:
              - type: numeric
            samples_files: [bench.jsonl]
            """
        )
    )
    return directory / "monitor.toml"


async def run_pipeline(config_path: Path, concurrency: int) -> tuple[float, Any]:
    """Register the suite, create a claimed run, execute it; return (wall seconds, summary)."""
    from monitor.core.config import load_config
    from monitor.evals.loader import load_suites
    from monitor.pipeline.queue import enqueue_runs, new_worker_id
    from monitor.pipeline.run.work import execute_run
    from monitor.store.db import open_database

    config = load_config(config_path)
    db = open_database(config.database_url)
    specs = list(load_suites(config.suites_dir, ["bench"]))
    worker = new_worker_id()
    with db.session() as session:
        (run,) = enqueue_runs(
            session, config, provider="sim", model_id=MODEL, trigger="manual", suites=specs, claimed_by=worker
        )
        run_id = run.id
    start = time.perf_counter()
    summary = await execute_run(db, config, run_id, worker_id=worker, concurrency=concurrency, spec=specs[0])
    wall = time.perf_counter() - start
    db.dispose()
    return wall, summary


async def bare_loop(url: str, n: int, concurrency: int) -> float:
    """The bare SDK's ceiling: n chat calls with AsyncOpenAI at the same concurrency; returns wall seconds."""
    import openai

    client = openai.AsyncOpenAI(base_url=f"{url}/v1", api_key="sim-key", max_retries=0, timeout=30)
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            a, b = 3 + i % 97, 5 + i // 97
            await client.chat.completions.create(
                model=MODEL,
                messages=[
                    {"role": "system", "content": "Answer with the number only."},
                    {"role": "user", "content": f"What is {a} + {b}?"},
                ],
                temperature=0,
                max_tokens=16,
            )

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - start
    await client.close()
    return wall


def figure_a(n: int, concurrency: int) -> dict[str, Any]:
    latency = 0.5
    with simulator(latency_ms=latency * 1000) as url, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bare_loop(url, 4 * concurrency, concurrency))  # warm the server (both runs find it warm)
        config = write_workspace(Path(tmp), url, n, concurrency=concurrency)
        wall, summary = asyncio.run(run_pipeline(config, concurrency))
        bare = asyncio.run(bare_loop(url, n, concurrency))
    ideal = n * latency / concurrency
    return {
        "figure": "a latency-bound efficiency",
        "n": n,
        "concurrency": concurrency,
        "ideal_s": round(ideal, 2),
        "wall_s": round(wall, 2),
        "efficiency": round(ideal / wall, 3),
        "target": ">= 0.95",
        "bare_sdk_wall_s": round(bare, 2),
        "bare_sdk_efficiency": round(ideal / bare, 3),
        "errors": summary.errored,
        "p50_ms": summary.latency_p50_ms,
    }


def figure_e(n: int, concurrency: int) -> dict[str, Any]:
    latency = 0.5
    with simulator(latency_ms=latency * 1000) as url, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bare_loop(url, 4 * concurrency, concurrency))
        config = write_workspace(Path(tmp), url, n, concurrency=concurrency)
        cmd = [sys.executable, "-m", "monitor", "--config", str(config), "eval", "--suite", "bench"]
        cmd += [f"sim:{MODEL}", "--json"]
        subprocess.run(cmd, cwd=tmp, capture_output=True, check=False)  # registers the suite, warms caches
        started = time.perf_counter()
        done = subprocess.run(cmd, cwd=tmp, capture_output=True, check=False)
        wall = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"eval exited {done.returncode}: {done.stderr.decode()[-500:]}")
    ideal = n * latency / concurrency
    return {
        "figure": "e whole eval command",
        "n": n,
        "concurrency": concurrency,
        "ideal_s": round(ideal, 2),
        "wall_s": round(wall, 2),
        "efficiency": round(ideal / wall, 3),
        "target": ">= 0.9",
    }


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


B_TRIALS = 3


def figure_b(n: int, concurrency: int) -> dict[str, Any]:
    """Steady-state overhead: both sides warmed once (server, SDK, imports, the first database
    writes), then B_TRIALS alternating trials; medians, since one trial on a VM varies by ±30%."""
    bare_walls, bare_cpus, walls, cpus, errors = [], [], [], [], 0
    with simulator(latency_ms=0) as url, tempfile.TemporaryDirectory() as tmp:
        asyncio.run(bare_loop(url, min(n, 200), concurrency))
        warm = write_workspace(Path(tmp) / "warm", url, min(n, 200), concurrency=concurrency)
        asyncio.run(run_pipeline(warm, concurrency))
        for trial in range(B_TRIALS):
            cpu = _cpu()
            bare_walls.append(asyncio.run(bare_loop(url, n, concurrency)))
            bare_cpus.append(_cpu() - cpu)
            config = write_workspace(Path(tmp) / f"trial{trial}", url, n, concurrency=concurrency)
            cpu = _cpu()
            wall, summary = asyncio.run(run_pipeline(config, concurrency))
            cpus.append(_cpu() - cpu)  # includes opening the database and registering the suite
            walls.append(wall)
            errors += summary.errored
    bare, wall = statistics.median(bare_walls), statistics.median(walls)
    return {
        "figure": "b overhead at latency 0",
        "n": n,
        "concurrency": concurrency,
        "trials": B_TRIALS,
        "bare_sdk_per_s": round(n / bare, 1),
        "pipeline_per_s": round(n / wall, 1),
        "ratio": round(bare / wall, 3),
        "trial_ratios": [round(b / w, 3) for b, w in zip(bare_walls, walls, strict=True)],
        "target": ">= 0.8",
        "bare_cpu_ms_per_request": round(statistics.median(bare_cpus) / n * 1000, 3),
        "pipeline_cpu_ms_per_sample": round(statistics.median(cpus) / n * 1000, 3),
        "errors": errors,
    }


def figure_c(n: int) -> dict[str, Any]:
    rpm = 600.0
    with simulator(latency_ms=BASE_LATENCY_MS, rpm=rpm) as url, tempfile.TemporaryDirectory() as tmp:
        config = write_workspace(Path(tmp), url, n, concurrency=64, rpm=rpm)
        wall, summary = asyncio.run(run_pipeline(config, 64))
        stats = sim_stats(url)
    requests = int(stats.get("requests", n))
    limited = int(stats.get("rate_limited", 0))
    achieved_rpm = n / wall * 60
    return {
        "figure": "c rate-limit saturation",
        "n": n,
        "limit_rpm": rpm,
        "achieved_rpm": round(achieved_rpm, 1),
        "achieved_over_limit": round(achieved_rpm / rpm, 3),
        "target": ">= 0.95",
        "http_requests": requests,
        "429s": limited,
        "429_share": round(limited / max(requests, 1), 4),
        "429_target": "<= 0.01",
        "errors": summary.errored,
    }


def figure_d(n: int, concurrency: int) -> dict[str, Any]:
    with simulator(latency_ms=0) as url, tempfile.TemporaryDirectory() as tmp:
        config = write_workspace(Path(tmp), url, n, concurrency=concurrency)
        out = subprocess.run(
            [sys.executable, __file__, "--memory-child", str(config), str(concurrency)],
            capture_output=True,
            text=True,
            check=True,
            timeout=1200,
        )
    child = json.loads(out.stdout.strip().splitlines()[-1])
    return {
        "figure": "d peak RSS",
        "n": n,
        "peak_rss_mb": child["peak_rss_mb"],
        "target": "< 200",
        "wall_s": child["wall_s"],
        "done": child["done"],
        "errors": child["errors"],
    }


def memory_child(config: Path, concurrency: int) -> None:
    wall, summary = asyncio.run(run_pipeline(config, concurrency))
    peak_kb = 0
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            peak_kb = int(line.split()[1])
    print(
        json.dumps(
            {
                "peak_rss_mb": round(peak_kb / 1024, 1),
                "wall_s": round(wall, 2),
                "done": summary.done,
                "errors": summary.errored,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default="a,b,c,d,e", help="comma-separated figures: a,b,c,d,e")
    parser.add_argument("--quick", action="store_true", help="smaller N for a fast check")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--memory-child", nargs=2, metavar=("CONFIG", "CONCURRENCY"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault(KEY_ENV, "sim-key")
    if args.memory_child:
        memory_child(Path(args.memory_child[0]), int(args.memory_child[1]))
        return
    wanted = {part.strip() for part in args.only.split(",") if part.strip()}
    c = args.concurrency
    if "a" in wanted:
        print(json.dumps(figure_a(500 if args.quick else 2_000, c)), flush=True)
    if "b" in wanted:
        print(json.dumps(figure_b(1_000 if args.quick else 2_000, c)), flush=True)
    if "c" in wanted:
        print(json.dumps(figure_c(100 if args.quick else 300)), flush=True)
    if "d" in wanted:
        print(json.dumps(figure_d(2_000 if args.quick else 20_000, c)), flush=True)
    if "e" in wanted:
        print(json.dumps(figure_e(500 if args.quick else 2_000, c)), flush=True)


if __name__ == "__main__":
    main()
