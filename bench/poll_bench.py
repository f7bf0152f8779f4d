"""Discovery benchmark: CPU seconds to poll 5 providers x 1,000 models, and what each poll writes.

    python bench/poll_bench.py              # 5 providers x 1,000 models
    python bench/poll_bench.py --models 200

Two simulators run as subprocesses (so their CPU is not counted): one serves an OpenAI, an Anthropic
and a Gemini list, the other a second OpenAI list (polled as openai-compatible) and a second Anthropic
list. The SDKs and the suite loader are imported first (a one-off cost of a process, not of a
poll). Four polls are timed with `time.process_time()` (this process, all threads):
  1. bootstrap: every model recorded;
  2. identical: nothing changed (only last_seen and the poll rows are written);
  3. churn: per provider 10 models released (events, queued runs) and 10 missing for the first time;
  4. removal: those 10 missing a second time, so marked removed.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

KEY_ENV = "MM_POLL_BENCH_KEY"
KEY = "poll-bench-key"
CHURN = 10

SERVER = """
import sys
from datetime import UTC, datetime, timedelta
from monitor.simulator import SimModel, Simulator

n, churn, providers = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3].split(",")
start = datetime(2025, 1, 1, tzinfo=UTC)
models = []
for provider in providers:
    prefix = {"openai": "gpt-bench", "anthropic": "claude-bench", "gemini": "gemini-bench"}[provider]
    for i in range(n):
        extra = {}
        if i < churn:
            extra["remove_after_polls"] = 2
        elif i < 2 * churn:
            extra["release_after_polls"] = 2
        models.append(SimModel(f"{prefix}-{i:05d}", provider, created=start + timedelta(hours=i), **extra))
with Simulator(models=models, api_key=sys.argv[4]).running() as sim:
    print(sim.base_url, flush=True)
    sys.stdin.read()
"""


@contextlib.contextmanager
def simulator(n: int, providers: list[str]) -> Iterator[str]:
    """A simulator subprocess serving `n` models per provider; yields its root URL."""
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(n), str(CHURN), ",".join(providers), KEY],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://"):
            raise RuntimeError("the simulator did not start")
        yield url
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=20)


def write_config(folder: Path, a: str, b: str) -> Path:
    path = folder / "monitor.toml"
    providers = [
        ("oa", "openai", f"{a}/v1"),
        ("claude", "anthropic", a),
        ("gem", "gemini", a),
        ("compat", "openai-compatible", f"{b}/v1"),
        ("claude2", "anthropic", b),
    ]
    body = [f'[database]\nurl = "sqlite:///{folder / "monitor.db"}"\n[suites]\ndirectory = "evals"\n']
    for name, type_, url in providers:
        rule = 'include = ["*"]\n' if type_ == "openai-compatible" else ""
        body.append(
            f'[providers.{name}]\ntype = "{type_}"\nbase_url = "{url}"\napi_key_env = "{KEY_ENV}"\n{rule}'
        )
    path.write_text("\n".join(body))
    (folder / "evals").mkdir()
    (folder / "evals" / "tiny.yaml").write_text(
        textwrap.dedent(
            """\
            name: tiny
            prompt:
              user: "What is 1 + 1?"
            graders:
              - type: numeric
            samples:
              - id: s1
                target: 2
            """
        )
    )
    return path


def timed_poll(db: Any, config: Any, label: str) -> dict[str, Any]:
    from sqlalchemy import event

    from monitor.pipeline.poll.discovery import poll

    writes: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SELECT", "PRAGMA")):
            writes.append(statement.split("(")[0].strip()[:40])

    event.listen(db.engine, "before_cursor_execute", count)
    cpu, wall = time.process_time(), time.perf_counter()
    report = poll(db, config)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    event.remove(db.engine, "before_cursor_execute", count)
    if not report.ok:
        raise RuntimeError(f"{label}: {[(o.name, o.error) for o in report.outcomes if not o.ok]}")
    return {
        "poll": label,
        "cpu_s": round(cpu, 3),
        "wall_s": round(wall, 3),
        "listed": sum(o.listed for o in report.outcomes),
        "new": sum(len(o.new) for o in report.outcomes if not o.bootstrap),
        "removed": sum(len(o.removed) for o in report.outcomes),
        "write_statements": len(writes),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--models", type=int, default=1000, help="models per provider (default 1000)")
    args = parser.parse_args()
    os.environ[KEY_ENV] = KEY

    # One-off import costs (the SDKs, the adapters) stay out of the figures.
    import monitor.pipeline.poll.discovery
    import monitor.providers.anthropic
    import monitor.providers.gemini
    import monitor.providers.openai  # noqa: F401
    from monitor.core.config import load_config
    from monitor.store.db import open_database

    with (
        tempfile.TemporaryDirectory() as folder,
        simulator(args.models, ["openai", "anthropic", "gemini"]) as a,
        simulator(args.models, ["openai", "anthropic"]) as b,
    ):
        config = load_config(write_config(Path(folder), a, b))
        db = open_database(config.database_url)
        rows = [
            timed_poll(db, config, "1 bootstrap"),
            timed_poll(db, config, "2 identical"),
            timed_poll(db, config, "3 churn"),
            timed_poll(db, config, "4 removal"),
        ]
        db.dispose()
    print(f"5 providers x {args.models} models (SQLite, simulators in subprocesses)")
    for row in rows:
        print(
            f"  {row['poll']:<12} cpu {row['cpu_s']:6.3f} s  wall {row['wall_s']:6.3f} s  "
            f"chat models {row['listed']:5d}  new {row['new']:3d}  removed {row['removed']:3d}  "
            f"write statements {row['write_statements']}"
        )
    print(json.dumps(rows))


if __name__ == "__main__":
    main()
