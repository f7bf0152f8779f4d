"""Daemon test workspace: small suites, a config for the simulator and SMTP, real daemon subprocesses."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from monitor.store.db import Database, open_database
from monitor.store.tables import Event, OutboxMessage, Result, Run

SIM_KEY_ENV = "MODEL_MONITOR_SIM_KEY"
SIM_KEY = "sim-key"
WAIT_S = 120.0
"""How long a test waits for a daemon, server or subprocess to get somewhere: generous for a loaded CI box."""
LEASE_TTL_S = 10.0
"""The daemons' lease: a heartbeat late on a loaded machine is not a takeover; a standby waits this long."""


def write_suite(directory: Path, name: str, size: int) -> Path:
    """A numeric-graded arithmetic suite of `size` samples (the same format as evals/*.yaml)."""
    directory.mkdir(parents=True, exist_ok=True)
    samples = "\n".join(
        f"  - {{id: {name}-{i}, vars: {{a: {i}, b: {i + 3}}}, target: {2 * i + 3}}}" for i in range(size)
    )
    path = directory / f"{name}.yaml"
    path.write_text(
        textwrap.dedent(
            f"""\
            name: {name}
            description: Small sums for daemon tests.
            prompt:
              system: "Compute the sum. Reply with the number only."
              user: "{{{{ a }}}} + {{{{ b }}}}"
            params: {{max_tokens: 16, temperature: 0}}
            graders: [{{type: numeric}}]
            samples:
            """
        )
        + samples
        + "\n"
    )
    return path


def wait_for(condition: Callable[[], Any], what: str, *, timeout: float = WAIT_S, every: float = 0.1) -> Any:
    """Poll `condition` until it returns something truthy; fail the test after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


@dataclass
class DaemonProcess:
    """One `model-monitor daemon` subprocess with its log file."""

    process: subprocess.Popen[bytes]
    log_path: Path
    _log: IO[bytes]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    @property
    def worker_id(self) -> str:
        """The id the daemon logs when it starts (host:pid:random by default)."""
        found = wait_for(lambda: re.search(r"(?:daemon|worker) (\S+) starting", self.log()), "a start")
        return str(found.group(1))

    def alive(self) -> bool:
        return self.process.poll() is None

    def kill9(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=WAIT_S)
        self._log.close()

    def terminate(self, timeout: float = WAIT_S) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self._log.close()
        return code

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
            self.process.wait(timeout=WAIT_S)
        if not self._log.closed:
            self._log.close()


@dataclass
class Workspace:
    """A config, suites and database in `root`, for daemons and direct database checks."""

    root: Path
    sim_url: str
    smtp_port: int
    suites: dict[str, int] = field(default_factory=lambda: {"sums": 6, "more-sums": 4})
    baseline: str = "sim:gpt-sim-base"
    schedule: str = (
        "poll_interval_minutes = 0.02\nwork_interval_seconds = 0.5\noutbox_interval_seconds = 0.5\n"
    )
    extra: str = ""
    database_url: str | None = None  # default: SQLite in root
    daemons: list[DaemonProcess] = field(default_factory=list)
    _db: Database | None = None

    def __post_init__(self) -> None:
        for name, size in self.suites.items():
            write_suite(self.root / "evals", name, size)
        self.write_config()
        assert self.db is not None  # migrated here, before any daemon starts

    @property
    def url(self) -> str:
        return self.database_url or f"sqlite:///{self.root / 'monitor.db'}"

    @property
    def config_path(self) -> Path:
        return self.root / "monitor.toml"

    def write_config(self) -> None:
        self.config_path.write_text(
            textwrap.dedent(
                f"""\
                [database]
                url = "{self.url}"

                [providers.sim]
                type = "openai-compatible"
                base_url = "{self.sim_url}/v1"
                api_key_env = "{SIM_KEY_ENV}"
                max_concurrency = 2

                [suites]
                directory = "evals"

                [baseline]
                default = ["{self.baseline}"]

                [email]
                smtp_host = "127.0.0.1"
                smtp_port = {self.smtp_port}
                security = "none"
                from = "model-monitor@example.com"
                to = ["team@example.com"]
                timeout_s = 60

                [schedule]
                """
            )
            + self.schedule
            + self.extra
        )

    def start_daemon(
        self, name: str, *, lease_ttl: float = LEASE_TTL_S, grace: float = 60.0, args: tuple[str, ...] = ()
    ) -> DaemonProcess:
        return self._spawn(name, ["daemon", "--lease-ttl", str(lease_ttl), "--grace", str(grace), *args])

    def start_worker(self, name: str, *, idle: float = 0.3) -> DaemonProcess:
        return self._spawn(name, ["worker", "--idle", str(idle)])

    def _spawn(self, name: str, command: list[str]) -> DaemonProcess:
        log_path = self.root / f"{name}.log"
        log = log_path.open("ab")
        env = {**os.environ, SIM_KEY_ENV: SIM_KEY, "MODEL_MONITOR_CONFIG": str(self.config_path)}
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor", *command],
            cwd=self.root,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        daemon = DaemonProcess(process, log_path, log)
        self.daemons.append(daemon)
        return daemon

    def run_cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, SIM_KEY_ENV: SIM_KEY, "MODEL_MONITOR_CONFIG": str(self.config_path)}
        return subprocess.run(
            [sys.executable, "-m", "monitor", *args], cwd=self.root, env=env, capture_output=True, text=True
        )

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_database(self.url)
        return self._db

    @contextmanager
    def session(self) -> Iterator[Session]:
        with self.db.session() as session:
            yield session

    def polls(self) -> int:
        from monitor.store.tables import ProviderPoll

        with self.session() as s:
            return int(s.scalar(select(func.count()).select_from(ProviderPoll).where(ProviderPoll.ok)) or 0)

    def runs(self, model_id: str | None = None) -> list[Run]:
        with self.session() as s:
            query = select(Run).order_by(Run.id)
            if model_id is not None:
                query = query.where(Run.model_id == model_id)
            return list(s.scalars(query))

    def results_per_run(self) -> dict[int, int]:
        with self.session() as s:
            rows = s.execute(select(Result.run_id, func.count()).group_by(Result.run_id)).all()
            return {int(run_id): int(count) for run_id, count in rows}

    def result_ids(self) -> dict[tuple[int, str, int], int]:
        """(run, sample, repeat) -> result row id, for every stored result."""
        with self.session() as s:
            rows = s.execute(select(Result.run_id, Result.sample_key, Result.repeat, Result.id)).all()
            return {(int(r), str(k), int(n)): int(i) for r, k, n, i in rows}

    def duplicate_results(self) -> int:
        with self.session() as s:
            rows = s.execute(
                select(Result.run_id, Result.sample_key, Result.repeat, func.count())
                .group_by(Result.run_id, Result.sample_key, Result.repeat)
                .having(func.count() > 1)
            ).all()
            return len(rows)

    def events(self, kind: str | None = None) -> list[Event]:
        with self.session() as s:
            query = select(Event).order_by(Event.id)
            if kind is not None:
                query = query.where(Event.kind == kind)
            return list(s.scalars(query))

    def outbox(self) -> list[OutboxMessage]:
        with self.session() as s:
            return list(s.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))

    def lease_holder(self) -> str | None:
        from monitor.store.lease import read_lease

        with self.session() as s:
            state = read_lease(s)
            return state.holder if state is not None and not state.expired() else None

    def close(self) -> None:
        for daemon in self.daemons:
            daemon.stop()
        if self._db is not None:
            self._db.dispose()
