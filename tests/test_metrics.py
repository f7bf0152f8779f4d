"""The metrics endpoint in-process: a real server on a free loopback port, scraped over HTTP, against
seeded rows (SQLite and PostgreSQL); each value is the database's."""

from __future__ import annotations

import socket
import textwrap
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import func, insert, select

from monitor.core.config import Config, load_config
from monitor.service.metrics import MetricsPortError, serving_metrics
from monitor.service.metrics_collect import PollCounter
from monitor.store.db import Database, open_database
from monitor.store.lease import LeaderLease
from monitor.store.tables import Model, Notification, OutboxMessage, ProviderPoll, Run
from tests.factories import add_run, add_suite
from tests.fixtures.smtp import free_port

NOW = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
ALPHA_KEY = "sk-alpha-secret-value-1234"
CHAT_URL = "https://hooks.slack.com/services/T000/B000/chat-secret-token"
HOOK_URL = "https://automation.example.com/hook?token=hook-secret-token"
HOOK_SECRET = "hook-signing-secret-5678"

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def write_config(directory: Path, url: str, port: int | None) -> Config:
    """Providers alpha, beta and gamma (never polled), a daily budget, two [[notify]] targets, metrics."""
    path = directory / "monitor.toml"
    path.write_text(
        textwrap.dedent(
            f"""
            [database]
            url = "{url}"

            [providers.alpha]
            type = "openai-compatible"
            base_url = "http://127.0.0.1:9/v1"
            api_key_env = "MM_TEST_ALPHA_KEY"

            [providers.beta]
            type = "openai-compatible"
            base_url = "http://127.0.0.1:9/v1"

            [providers.gamma]
            type = "openai-compatible"
            base_url = "http://127.0.0.1:9/v1"

            [budget]
            max_cost_usd_per_day = 10.0

            [[notify]]
            name = "team-chat"
            url_env = "MM_TEST_CHAT_URL"

            [[notify]]
            name = "hook"
            type = "webhook"
            url_env = "MM_TEST_HOOK_URL"
            secret_env = "MM_TEST_HOOK_SECRET"
            """
        )
        + (f"\n[metrics]\nport = {port}\n" if port is not None else "")
    )
    return load_config(path)


def seed(db: Database) -> None:
    """Models, polls, runs with results, e-mails and notifications, at times relative to NOW."""
    with db.session() as s:
        s.add_all(
            [Model(provider="alpha", model_id=f"a{i}", first_seen=NOW, last_seen=NOW) for i in range(3)]
            + [Model(provider="alpha", model_id="gone", first_seen=NOW, last_seen=NOW, removed_at=NOW)]
            + [Model(provider="beta", model_id=f"b{i}", first_seen=NOW, last_seen=NOW) for i in range(2)]
        )
        for provider, ok, ago in (
            ("alpha", True, timedelta(hours=2)),
            ("alpha", False, timedelta(minutes=30)),
            ("alpha", False, timedelta(minutes=10)),
            ("beta", True, timedelta(minutes=5)),
        ):
            s.add(ProviderPoll(provider=provider, started_at=NOW - ago, finished_at=NOW - ago, ok=ok))
        suite = add_suite(s, size=5)
        add_run(s, suite, "alpha:a0", [True, True, True, False, None], finished_at=NOW - timedelta(hours=1))
        add_run(s, suite, "alpha:a1", [True, False], finished_at=NOW - timedelta(days=1))
        add_run(s, suite, "alpha:a2", [None, None], status="failed", error_kind="rate_limit")
        running = add_run(s, suite, "beta:b0", [True, True, False, None], status="running", error_kind="auth")
        # A running run's totals on its row are stale (written when it finishes): its results count.
        running.passed = running.failed = running.errored = 0
        running.estimated_cost_usd = 0.5
        for hours in (3, 1):
            queued = add_run(s, suite, "beta:b1", [], status="queued")
            queued.created_at = NOW - timedelta(hours=hours)
        for key, attempts, age, status in (
            ("new", 0, timedelta(minutes=20), "pending"),
            ("failing", 3, timedelta(hours=2), "pending"),
            ("stalled", 25, timedelta(hours=30), "pending"),
            ("done", 1, timedelta(days=2), "sent"),
        ):
            s.add(
                OutboxMessage(
                    dedupe_key=key,
                    subject="s",
                    sender="a@example.com",
                    recipients=["b@example.com"],
                    message="m",
                    status=status,
                    attempts=attempts,
                    created_at=NOW - age,
                )
            )
        for key, status in (("chat-1", "pending"), ("chat-0", "sent"), ("chat-2", "failed")):
            s.add(
                Notification(
                    dedupe_key=key,
                    target="team-chat",
                    kind="regression",
                    title="t",
                    body="b",
                    status=status,
                    attempts=1,
                    created_at=NOW - timedelta(hours=1),
                )
            )


def scrape(url: str) -> Samples:
    """Every sample of one scrape, keyed by (name, sorted labels)."""
    with urllib.request.urlopen(url, timeout=30) as response:
        body = response.read().decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[(name, tuple(sorted(labels.items())))]


@dataclass
class Exporter:
    """A seeded database, its config, and a metrics server on it."""

    db: Database
    config: Config
    url: str

    def scrape(self) -> Samples:
        return scrape(self.url)


@pytest.fixture
def exporter(tmp_path: Path, any_db_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Exporter]:
    monkeypatch.setenv("MM_TEST_ALPHA_KEY", ALPHA_KEY)
    monkeypatch.setenv("MM_TEST_CHAT_URL", CHAT_URL)
    monkeypatch.setenv("MM_TEST_HOOK_URL", HOOK_URL)
    monkeypatch.setenv("MM_TEST_HOOK_SECRET", HOOK_SECRET)
    db = open_database(any_db_url)
    seed(db)
    config = write_config(tmp_path, any_db_url, free_port())
    try:
        with serving_metrics(config, now=lambda: NOW) as url:
            assert url is not None
            yield Exporter(db, config, url)
    finally:
        db.dispose()


def test_polls_are_counted_by_provider_and_outcome(exporter: Exporter) -> None:
    samples = exporter.scrape()
    assert value(samples, "model_monitor_polls_total", provider="alpha", outcome="ok") == 1
    assert value(samples, "model_monitor_polls_total", provider="alpha", outcome="failed") == 2
    assert value(samples, "model_monitor_polls_total", provider="beta", outcome="ok") == 1
    assert value(samples, "model_monitor_polls_total", provider="beta", outcome="failed") == 0


def test_poll_ages_are_seconds_since_the_newest_poll_and_the_newest_successful_one(
    exporter: Exporter,
) -> None:
    samples = exporter.scrape()
    assert value(samples, "model_monitor_last_poll_age_seconds", provider="alpha") == 600
    assert value(samples, "model_monitor_last_successful_poll_age_seconds", provider="alpha") == 7200
    assert value(samples, "model_monitor_last_successful_poll_age_seconds", provider="beta") == 300


def test_a_provider_never_polled_has_an_infinite_poll_age(exporter: Exporter) -> None:
    samples = exporter.scrape()
    assert value(samples, "model_monitor_last_poll_age_seconds", provider="gamma") == float("inf")
    assert value(samples, "model_monitor_last_successful_poll_age_seconds", provider="gamma") == float("inf")


def test_models_are_counted_per_provider_active_and_removed(exporter: Exporter) -> None:
    samples = exporter.scrape()
    assert value(samples, "model_monitor_models", provider="alpha", state="active") == 3
    assert value(samples, "model_monitor_models", provider="alpha", state="removed") == 1
    assert value(samples, "model_monitor_models", provider="beta", state="active") == 2
    assert value(samples, "model_monitor_models", provider="gamma", state="active") == 0


def test_runs_are_counted_by_status_with_the_queue_depth_and_its_oldest_wait(exporter: Exporter) -> None:
    samples = exporter.scrape()
    with exporter.db.session() as s:
        stored = dict(s.execute(select(Run.status, func.count()).group_by(Run.status)).all())
    for status in ("queued", "running", "interrupted", "done", "done_with_errors", "failed", "skipped"):
        assert value(samples, "model_monitor_runs", status=status) == stored.get(status, 0), status
    assert value(samples, "model_monitor_queued_runs") == 2
    assert value(samples, "model_monitor_oldest_queued_run_age_seconds") == 3 * 3600


def test_samples_of_a_running_run_are_counted_from_its_results_not_its_stale_totals(
    exporter: Exporter,
) -> None:
    samples = exporter.scrape()
    # done a0 (3, 1, 1) + done a1 (1, 1, 0) + failed a2 (0, 0, 2) + running b0's results (2, 1, 1)
    assert value(samples, "model_monitor_samples", outcome="passed") == 6
    assert value(samples, "model_monitor_samples", outcome="failed") == 3
    assert value(samples, "model_monitor_samples", outcome="errored") == 4


def test_errored_samples_are_counted_by_error_kind(exporter: Exporter) -> None:
    samples = exporter.scrape()
    assert value(samples, "model_monitor_sample_errors", kind="timeout") == 1
    assert value(samples, "model_monitor_sample_errors", kind="rate_limit") == 2
    assert value(samples, "model_monitor_sample_errors", kind="auth") == 1


def test_spend_today_is_todays_finished_runs_plus_running_estimates(exporter: Exporter) -> None:
    samples = exporter.scrape()
    # a0 finished an hour ago (4 answered samples at $0.001); a1 yesterday does not count; b0 runs ($0.5).
    assert value(samples, "model_monitor_spend_today_usd") == pytest.approx(0.004 + 0.5)
    assert value(samples, "model_monitor_budget_per_day_usd") == 10.0


def test_the_email_outbox_shows_pending_failing_stalled_and_the_oldest_wait(exporter: Exporter) -> None:
    samples = exporter.scrape()
    email = {"channel": "email", "target": ""}
    assert value(samples, "model_monitor_outbox_pending_messages", **email) == 3
    assert value(samples, "model_monitor_outbox_failing_messages", **email) == 2
    assert value(samples, "model_monitor_outbox_stalled_messages", **email) == 1
    assert value(samples, "model_monitor_outbox_oldest_pending_age_seconds", **email) == 30 * 3600


def test_each_notify_target_has_its_own_outbox_series(exporter: Exporter) -> None:
    samples = exporter.scrape()
    chat = {"channel": "notify", "target": "team-chat"}
    assert value(samples, "model_monitor_outbox_pending_messages", **chat) == 1
    assert value(samples, "model_monitor_outbox_failing_messages", **chat) == 1
    assert value(samples, "model_monitor_outbox_oldest_pending_age_seconds", **chat) == 3600
    hook = {"channel": "notify", "target": "hook"}
    assert value(samples, "model_monitor_outbox_pending_messages", **hook) == 0


def test_notifications_a_receiver_refused_for_good_are_exported_per_target(exporter: Exporter) -> None:
    samples = exporter.scrape()
    assert value(samples, "model_monitor_notifications_refused", target="team-chat") == 1
    assert value(samples, "model_monitor_notifications_refused", target="hook") == 0


def test_the_leader_heartbeat_age_is_read_from_the_lease(exporter: Exporter) -> None:
    def an_hour_ago() -> datetime:
        return datetime.now(UTC) - timedelta(hours=1)

    assert LeaderLease(exporter.db, "elsewhere", clock=an_hour_ago).try_acquire()
    age = value(exporter.scrape(), "model_monitor_leader_heartbeat_age_seconds")
    assert 3600 <= age < 3600 + 600, "the heartbeat an hour ago, by the database's clock"


def test_without_a_lease_there_is_no_leader_heartbeat_and_no_leader_gauge(exporter: Exporter) -> None:
    samples = exporter.scrape()
    assert value(samples, "model_monitor_leader_heartbeat_age_seconds") == float("inf")
    assert ("model_monitor_leader", ()) not in samples, "a worker (no lease of its own) has no leader gauge"


def test_no_secret_appears_in_a_scrape(exporter: Exporter) -> None:
    with urllib.request.urlopen(exporter.url, timeout=30) as response:
        body = response.read().decode()
    for secret in (ALPHA_KEY, CHAT_URL, HOOK_URL, HOOK_SECRET, "chat-secret-token", "hook-secret-token"):
        assert secret not in body
    labels = {
        v
        for family in text_string_to_metric_families(body)
        for s in family.samples
        for v in s.labels.values()
    }
    assert not {v for v in labels if "://" in v or "secret" in v}, labels


def test_a_database_that_does_not_answer_gives_database_up_0(tmp_path: Path) -> None:
    config = write_config(tmp_path, "postgresql+psycopg://postgres@127.0.0.1:1/none", free_port())
    with serving_metrics(config) as url:
        assert url is not None
        samples = scrape(url)
    assert value(samples, "model_monitor_database_up") == 0
    assert not any(name.startswith("model_monitor_runs") for name, _labels in samples)


def test_the_leader_gauge_is_1_for_the_lease_holder_and_0_for_another_process(tmp_path: Path) -> None:
    db = open_database(f"sqlite:///{tmp_path / 'monitor.db'}")
    leader = LeaderLease(db, "leader")
    standby = LeaderLease(db, "standby")
    assert leader.try_acquire() and not standby.try_acquire()
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'monitor.db'}", free_port())
    try:
        with serving_metrics(config, lease=lambda: leader) as url:
            assert url is not None
            assert value(scrape(url), "model_monitor_leader") == 1
        with serving_metrics(config, lease=lambda: standby) as url:
            assert url is not None
            assert value(scrape(url), "model_monitor_leader") == 0
    finally:
        db.dispose()


def test_polls_stay_exact_once_old_rows_are_counted_for_good(db: Database) -> None:
    counter = PollCounter(settle_rows=3)
    for n in range(1, 12):
        with db.session() as s:
            s.execute(insert(ProviderPoll).values(provider=f"p{n % 2}", ok=n % 3 != 0, started_at=NOW))
        with db.session() as s:
            counted = counter.read(s)
            stored = s.execute(
                select(ProviderPoll.provider, ProviderPoll.ok, func.count()).group_by(
                    ProviderPoll.provider, ProviderPoll.ok
                )
            ).all()
        assert dict(counted) == {(p, bool(ok)): n for p, ok, n in stored}
    assert counter.settled_id == 8, "rows more than 3 behind the newest are not read again"


def test_the_server_binds_only_the_configured_host(tmp_path: Path, db: Database, sqlite_url: str) -> None:
    port = free_port()
    config = write_config(tmp_path, sqlite_url, port)
    with serving_metrics(config) as url, socket.socket() as other:
        assert url is not None and value(scrape(url), "model_monitor_database_up") == 1
        # 127.0.0.2 is loopback too: it can take the same port only if the server did not bind 0.0.0.0.
        other.bind(("127.0.0.2", port))


def test_the_server_is_gone_once_its_process_block_ends(
    tmp_path: Path, db: Database, sqlite_url: str
) -> None:
    config = write_config(tmp_path, sqlite_url, free_port())
    with serving_metrics(config) as url:
        assert url is not None
        assert value(scrape(url), "model_monitor_database_up") == 1
    with pytest.raises(urllib.error.URLError) as refused:
        scrape(url)
    assert isinstance(refused.value.reason, ConnectionRefusedError)


def test_without_a_port_nothing_is_served(tmp_path: Path, db: Database, sqlite_url: str) -> None:
    with serving_metrics(write_config(tmp_path, sqlite_url, None)) as url:
        assert url is None


def test_a_port_in_use_is_a_clear_run_time_error(tmp_path: Path, db: Database, sqlite_url: str) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path, sqlite_url, port)
        with pytest.raises(MetricsPortError) as failed, serving_metrics(config):
            pass
    assert failed.value.exit_code == 1
    assert str(failed.value).startswith(f"[metrics] port {port} on 127.0.0.1 is already in use")
