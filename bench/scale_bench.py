"""Scale benchmark: 1, 2 and 4 `model-monitor worker` processes, each standing for a host of its own,
on one PostgreSQL database against a simulator enforcing 600 requests/min.

    python bench/scale_bench.py            # 520 samples per setting: under a minute of load each
    python bench/scale_bench.py --quick    # 200 samples per setting

PostgreSQL: $MODEL_MONITOR_BENCH_PG_URL, else $MODEL_MONITOR_TEST_PG_URL (a server URL; the bench
creates a fresh database per setting on it and drops it after).

Hosts: as root with `ip netns` working, each worker runs in a network namespace of its own, joined to
a bridge by a veth pair (the host is 10.231.0.1, worker N is 10.231.0.1N), and in a UTS namespace of
its own with hostname scale-worker-N; the simulator listens on the bridge and PostgreSQL is reached
through a TCP relay this bench runs on 10.231.0.1. Else each worker gets its own hostname only
(`unshare --uts`), else nothing. The bench prints which it used.

Per worker count it prints the aggregate rate the simulator accepted (requests/min over the middle of
the load, from 5% to 95% of the samples answered) as a % of the limit (target 95-100%), the 429s as
a % of requests (target <= 1%), and whether any run or sample was done twice: results unique per run,
sample and repeat, as many answered requests as results, and every run finished once in the logs.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

sys.path.insert(0, str(ROOT / "bench"))
from scale_hosts import HOST_IP, Hosts, Relay  # noqa: E402

LIMIT_RPM = 600
KEY_ENV = "MM_SCALE_BENCH_KEY"
SUITES = {"alpha": 0.6, "beta": 0.8, "gamma": 1.2, "delta": 1.4}
"""Each suite's size as a share of the mean: runs of one worker end at different times, as an event's
suites do, so one run's tail is covered by the others (a run's start-up is not what this measures)."""
FINISHED = re.compile(r"^run (\d+) \S+ on \S+: \w+$")
"""A worker's log line for a run it finished (see monitor/service/worker.py)."""
MAX_LOAD_S = 240
"""A setting whose runs are not all finished by then is stopped and reported as it stands."""
MODELS = ("gpt-sim-base", "gpt-sim-mini")  # 4 suites x 2 models: 8 runs, as a new-model event has


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_workspace(root: Path, db_url: str, sim_url: str, samples: int) -> Path:
    evals = root / "evals"
    evals.mkdir(parents=True, exist_ok=True)
    for name, share in SUITES.items():
        with (evals / f"{name}.jsonl").open("w") as out:
            for i in range(round(samples * share)):
                out.write(
                    json.dumps({"id": f"{name}-{i}", "vars": {"q": f"What is {i} + 3?"}, "target": i + 3})
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
            url = "{db_url}"

            [providers.sim]
            type = "openai-compatible"
            base_url = "{sim_url}/v1"
            api_key_env = "{KEY_ENV}"
            max_concurrency = 8
            requests_per_minute = {LIMIT_RPM}
            shared_limits = true

            [suites]
            directory = "evals"

            [schedule]
            concurrent_runs = 2
            early_stop = false

            [pricing."sim:gpt-sim-*"]
            input = 1.0
            output = 2.0
            """
        )
    )
    return config


@contextlib.contextmanager
def fresh_database(server_url: str, name: str) -> Iterator[str]:
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@contextlib.contextmanager
def simulator(host: str, port: int) -> Iterator[str]:
    """`model-monitor simulate` at `LIMIT_RPM` as a subprocess; yields its URL once it answers."""
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "monitor",
            "simulate",
            "--host",
            host,
            "--port",
            str(port),
            "--rpm",
            str(LIMIT_RPM),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            with contextlib.suppress(OSError):
                stats(url)
                break
            time.sleep(0.1)
        else:
            raise RuntimeError("the simulator did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def stats(url: str) -> dict[str, int]:
    with urllib.request.urlopen(f"{url}/_sim/stats", timeout=5) as response:
        data = json.load(response)
    return {"requests": int(data["requests"]), "rate_limited": int(data["rate_limited"])}


def enqueue(config_path: Path) -> int:
    from monitor.core.config import load_config
    from monitor.evals.loader import load_suites
    from monitor.pipeline.queue import enqueue_runs
    from monitor.store.db import open_database

    config = load_config(config_path)
    db = open_database(config.database_url)
    specs = list(load_suites(config.suites_dir, list(SUITES)))
    with db.session() as session:
        runs = [
            run
            for model in MODELS
            for run in enqueue_runs(
                session, config, provider="sim", model_id=model, trigger="manual", suites=specs
            )
        ]
    db.dispose()
    return len(runs)


@dataclass
class Setting:
    workers: int
    rate_rpm: float
    requests: int
    rate_limited: int
    results: int
    expected: int
    duplicates: int
    finished_twice: int
    runs_done: int
    runs: int
    wall_s: float

    @property
    def accepted(self) -> int:
        return self.requests - self.rate_limited

    def row(self) -> str:
        # A sample answered twice shows as more answered requests than results (errors are results too).
        twice = self.duplicates or self.finished_twice or self.accepted > self.results
        return (
            f"{self.workers:>7} {self.rate_rpm:>9.1f} {100 * self.rate_rpm / LIMIT_RPM:>8.1f}% "
            f"{100 * self.rate_limited / max(self.requests, 1):>7.2f}% {self.requests:>8} "
            f"{self.results:>7}/{self.expected:<6}"
            f" {self.runs_done:>3}/{self.runs:<3} {'YES' if twice else 'no':>10} {self.wall_s:>6.1f}"
        )


def one_setting(workers: int, hosts: Hosts, server_url: str, samples: int, tmp: Path) -> Setting:
    from monitor.store.tables import Result, Run

    port = free_port()
    with (
        fresh_database(server_url, f"mm_scale_bench_{workers}") as db_url,
        simulator("0.0.0.0", port) as sim_url,
    ):
        worker_db = make_url(db_url)
        if hosts.mode == "netns":
            worker_db = worker_db.set(host=HOST_IP)
        root = tmp / f"w{workers}"
        bench_config = write_workspace(root / "bench", db_url, sim_url, samples)
        worker_config = write_workspace(
            root / "worker",
            worker_db.render_as_string(hide_password=False),
            f"http://{hosts.address}:{port}",
            samples,
        )
        runs = enqueue(bench_config)
        expected = len(MODELS) * sum(round(samples * share) for share in SUITES.values())
        env = {**os.environ, KEY_ENV: "sim-key", "PYTHONPATH": str(ROOT)}
        logs = [root / f"worker{n}.log" for n in range(1, workers + 1)]
        argv = [sys.executable, "-m", "monitor", "--config", str(worker_config), "worker", "--idle", "0.5"]
        procs = [
            subprocess.Popen(
                hosts.command(n, [*argv, "--log-json"]),
                cwd=root / "worker",
                env=env,
                stdout=log.open("w"),
                stderr=subprocess.STDOUT,
            )
            for n, log in zip(range(1, workers + 1), logs, strict=True)
        ]
        engine = create_engine(db_url)
        samples_seen: list[tuple[float, int]] = []
        start = time.monotonic()
        try:
            while time.monotonic() - start < MAX_LOAD_S:
                time.sleep(0.5)
                now = stats(sim_url)
                samples_seen.append((time.monotonic(), now["requests"] - now["rate_limited"]))
                with engine.connect() as conn:
                    ended = conn.scalar(
                        select(func.count()).select_from(Run).where(Run.status.not_in(("queued", "running")))
                    )
                if ended == runs:
                    break
                if any(p.poll() is not None for p in procs):
                    raise RuntimeError(f"a worker exited early; see {root}")
        finally:
            for proc in procs:
                proc.terminate()
            for proc in procs:
                proc.wait(timeout=30)
        wall = time.monotonic() - start
        final = stats(sim_url)
        with engine.connect() as conn:
            results = int(conn.scalar(select(func.count()).select_from(Result)) or 0)
            keys = select(Result.run_id, Result.sample_key, Result.repeat).distinct().subquery()
            distinct = int(conn.scalar(select(func.count()).select_from(keys)) or 0)
            runs_done = int(
                conn.scalar(select(func.count()).select_from(Run).where(Run.status == "done")) or 0
            )
        engine.dispose()
    finished: dict[str, int] = {}
    for log in logs:
        for line in log.read_text().splitlines():
            with contextlib.suppress(ValueError):
                message = str(json.loads(line).get("message", ""))
                if ended := FINISHED.match(message):
                    finished[ended[1]] = finished.get(ended[1], 0) + 1
    return Setting(
        workers,
        steady_rate(samples_seen, expected),
        final["requests"],
        final["rate_limited"],
        results,
        expected,
        results - distinct,
        sum(1 for count in finished.values() if count > 1),
        runs_done,
        runs,
        wall,
    )


def steady_rate(seen: list[tuple[float, int]], expected: int) -> float:
    """Answered requests per minute between 5% and 95% of the samples answered (start and tail out)."""
    low = next(((t, n) for t, n in seen if n >= 0.05 * expected), None)
    high = next(((t, n) for t, n in seen if n >= 0.95 * expected), None)
    if low is None or high is None or high[0] <= low[0]:
        return 0.0
    return (high[1] - low[1]) / (high[0] - low[0]) * 60


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 samples per setting instead of 520")
    parser.add_argument("--workers", default="1,2,4", help="worker counts to run (default 1,2,4)")
    args = parser.parse_args()
    server_url = os.environ.get("MODEL_MONITOR_BENCH_PG_URL") or os.environ.get("MODEL_MONITOR_TEST_PG_URL")
    if not server_url:
        print(
            "set MODEL_MONITOR_BENCH_PG_URL (or MODEL_MONITOR_TEST_PG_URL) to a PostgreSQL server URL",
            file=sys.stderr,
        )
        return 2
    counts = [int(c) for c in args.workers.split(",")]
    per_suite = (200 if args.quick else 520) // (len(SUITES) * len(MODELS))
    hosts = Hosts(max(counts))
    hosts.set_up()
    print(f"workers as separate hosts: {hosts.describe()}")
    print(
        f"limit {LIMIT_RPM} requests/min; {len(SUITES) * len(MODELS)} runs of {per_suite} samples on average "
        "per setting"
    )
    print(
        f"{'workers':>7} {'rate/min':>9} {'of limit':>9} {'429s':>8} {'requests':>8} {'results':>14} "
        f"{'runs':>7} {'done twice':>10} {'wall s':>6}"
    )
    pg = make_url(server_url)
    relay = (
        Relay(HOST_IP, pg.port or 5432, (pg.host or "127.0.0.1", pg.port or 5432))
        if hosts.mode == "netns"
        else contextlib.nullcontext()
    )
    ok = True
    try:
        with relay, tempfile.TemporaryDirectory(prefix="mm-scale-") as tmp:
            for count in counts:
                setting = one_setting(count, hosts, server_url, per_suite, Path(tmp))
                print(setting.row(), flush=True)
                share = setting.rate_rpm / LIMIT_RPM
                ok &= 0.95 <= share <= 1.0 and setting.rate_limited <= 0.01 * setting.requests
                ok &= "YES" not in setting.row() and setting.runs_done == setting.runs
    finally:
        hosts.tear_down()
    print("targets met" if ok else "targets NOT met")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
