"""Metrics-scrape benchmark: one Prometheus scrape of the daemon's /metrics on a year of history.

    python bench/metrics_bench.py            # history_bench's year (10,000 runs, 2,000,000 results)
    python bench/metrics_bench.py --quick    # a tenth of it

The history is history_bench's cached SQLite file (seeded on first use), copied to a temporary
directory and given a year of polls: five providers every five minutes (525,600 `provider_polls`
rows, 2% failed) and a few pending e-mails. A real metrics server (monitor.service.metrics) serves
it on a free loopback port and is scraped over HTTP: the first scrape (it counts the polls once)
and the median of --trials later ones, each after one more poll per provider (as a live daemon
records them), with the database part as the exporter itself reports it
(`model_monitor_scrape_duration_seconds`). Target: a later scrape under 0.25 s.
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import statistics
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import history_bench  # noqa: E402

TARGET_S = 0.25
POLL_EVERY = timedelta(minutes=5)


def add_polls(url: str, *, days: int) -> int:
    """A poll of each provider every five minutes for `days` days (2% failed), and 3 pending e-mails."""
    from sqlalchemy import insert

    from monitor.store.db import open_database
    from monitor.store.tables import OutboxMessage, ProviderPoll

    db = open_database(url)
    now = datetime.now(UTC)
    steps = int(timedelta(days=days) / POLL_EVERY)
    rows = [
        {
            "provider": provider,
            "started_at": now - (steps - step) * POLL_EVERY,
            "finished_at": now - (steps - step) * POLL_EVERY + timedelta(seconds=2),
            "ok": step % 50 != 7,
            "error": None if step % 50 != 7 else "HTTP 503",
            "listed": 100,
        }
        for step in range(steps)
        for provider in history_bench.PROVIDERS
    ]
    with db.engine.begin() as conn:
        for start in range(0, len(rows), history_bench.CHUNK):
            conn.execute(insert(ProviderPoll), rows[start : start + history_bench.CHUNK])
        conn.execute(
            insert(OutboxMessage),
            [
                {
                    "dedupe_key": f"bench-{i}",
                    "subject": "bench",
                    "sender": "a@example.com",
                    "recipients": ["b@example.com"],
                    "message": "bench",
                    "status": "pending",
                    "attempts": i,
                    "next_try_at": now,
                    "created_at": now - timedelta(hours=i),
                }
                for i in range(3)
            ],
        )
    db.dispose()
    return len(rows)


def one_more_poll(url: str) -> None:
    """A new successful poll of each provider, as the daemon records between two scrapes."""
    from sqlalchemy import insert

    from monitor.store.db import Database, make_engine
    from monitor.store.tables import ProviderPoll

    db = Database(make_engine(url))
    now = datetime.now(UTC)
    with db.engine.begin() as conn:
        conn.execute(
            insert(ProviderPoll),
            [{"provider": p, "started_at": now, "ok": True} for p in history_bench.PROVIDERS],
        )
    db.dispose()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def scrape(url: str) -> tuple[float, float]:
    """(wall seconds of one HTTP scrape, the database part the exporter reports)."""
    from prometheus_client.parser import text_string_to_metric_families

    started = time.perf_counter()
    with urllib.request.urlopen(url, timeout=60) as response:
        body = response.read().decode()
    took = time.perf_counter() - started
    for family in text_string_to_metric_families(body):
        if family.name == "model_monitor_scrape_duration_seconds":
            return took, float(family.samples[0].value)
    raise RuntimeError("the scrape has no model_monitor_scrape_duration_seconds")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="A tenth of the history (and of the polls).")
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--json", action="store_true", help="Print the figures as JSON too.")
    args = parser.parse_args()
    sizes = (50, 1_000, 200) if args.quick else (500, 10_000, 200)
    source, _took = history_bench.sqlite_database(argparse.Namespace(reseed=False), sizes)
    from monitor.core.config import load_config
    from monitor.service.metrics import serving_metrics

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.db"
        shutil.copyfile(source.removeprefix("sqlite:///"), path)
        url = f"sqlite:///{path}"
        polls = add_polls(url, days=36 if args.quick else 365)
        config_path = history_bench.write_config(Path(tmp), url)
        with config_path.open("a") as config_file:
            config_file.write(f"\n[metrics]\nport = {free_port()}\n")
        config = load_config(config_path)
        with serving_metrics(config) as endpoint:
            assert endpoint is not None
            first = scrape(endpoint)
            later = []
            for _ in range(args.trials):
                one_more_poll(url)  # a live daemon's polls keep coming between scrapes
                later.append(scrape(endpoint))
    report = {
        "runs": sizes[1],
        "results": sizes[1] * sizes[2],
        "polls": polls,
        "first_scrape_s": round(first[0], 4),
        "scrape_s": round(statistics.median(t for t, _db in later), 4),
        "database_s": round(statistics.median(db for _t, db in later), 4),
    }
    ok = "yes" if report["scrape_s"] < TARGET_S else "NO"
    print(f"{sizes[1]:,} runs, {sizes[1] * sizes[2]:,} results, {polls:,} polls (SQLite)")
    print(f"first scrape   {report['first_scrape_s']:.3f} s")
    print(f"later scrapes  {report['scrape_s']:.3f} s (median of {args.trials}; target {TARGET_S} s: {ok})")
    print(f"database part  {report['database_s']:.3f} s")
    if args.json:
        print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
