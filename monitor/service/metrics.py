"""The metrics endpoint: Prometheus metrics on `[metrics] host:port` while a daemon or worker runs.

The server has its own registry (never prometheus_client's global one, so two daemons in one test
process do not clash) and its own database engine with short timeouts, so a scrape can neither hang
nor take a connection the jobs need. It binds only the configured host (loopback by default); a
port that cannot be bound stops the process before it does any work.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from monitor.core.config import Config
from monitor.core.config_outputs import MetricsConfig
from monitor.core.errors import ConfigError, MonitorError
from monitor.store.db import Database, Timeouts, make_engine
from monitor.store.tables_base import utcnow

if TYPE_CHECKING:
    from wsgiref.simple_server import WSGIServer

    from prometheus_client import CollectorRegistry

    from monitor.store.lease import LeaderLease

log = logging.getLogger("monitor.metrics")

SCRAPE_TIMEOUTS = Timeouts(connect_s=5.0, statement_ms=10_000, busy_ms=5_000)
"""A scrape's database limits: a database that does not answer in time gives `database_up 0`."""
STOP_TIMEOUT_S = 10.0
RESOLVE_TIMEOUT_S = 5.0
"""How long `check` and start-up wait for the metrics host's name to resolve."""


class MetricsPortError(MonitorError):
    """The metrics port cannot be bound (in use, or not allowed): a run-time failure, exit 1."""


def with_port(config: Config, port: int | None) -> Config:
    """The config with `[metrics] port` replaced (`--metrics-port`: several processes on one host)."""
    if port is None:
        return config
    metrics = MetricsConfig(port=port, host=config.metrics.host)
    return config.model_copy(update={"metrics": metrics})


def metrics_problems(config: Config) -> list[str]:
    """What `check` can tell about [metrics] without binding: the host must be an address of this machine."""
    if config.metrics.port is None:
        return []
    try:
        _resolve(config.metrics.host, config.metrics.port)
    except ConfigError as exc:
        return [str(exc)]
    return []


def metrics_warnings(config: Config) -> list[str]:
    """[metrics] on an address other than loopback: anyone who reaches it reads the metrics."""
    host = config.metrics.host
    if config.metrics.port is None or host == "localhost":
        return []
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if loopback:
        return []
    return [f"[metrics] host = {host!r} is not loopback: anyone who can reach it reads the metrics"]


def _resolve(
    host: str,
    port: int,
    *,
    lookup: Callable[..., Any] = socket.getaddrinfo,
    timeout_s: float = RESOLVE_TIMEOUT_S,
) -> None:
    """ConfigError unless `host` names an address (a literal, or a name that resolves within
    `timeout_s`: getaddrinfo has no timeout of its own, so it runs on a daemon thread that is left
    behind, never waited for, when the resolver hangs)."""
    outcome: list[BaseException | None] = []

    def attempt() -> None:
        try:
            lookup(host, port, type=socket.SOCK_STREAM)
            outcome.append(None)
        except (OSError, UnicodeError) as exc:
            outcome.append(exc)

    thread = threading.Thread(target=attempt, name="metrics-resolve", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if not outcome:
        raise ConfigError(
            f"[metrics] host {host!r} did not resolve within {timeout_s:g} s; "
            "expected an IP address such as 127.0.0.1 or a host name that resolves"
        )
    if outcome[0] is not None:
        raise ConfigError(
            f"[metrics] host {host!r} is not an address of this machine ({outcome[0]}); "
            "expected an IP address such as 127.0.0.1 or a host name that resolves"
        )


@contextmanager
def serving_metrics(
    config: Config,
    *,
    lease: Callable[[], LeaderLease] | None = None,
    now: Callable[[], datetime] = utcnow,
) -> Iterator[str | None]:
    """Serve /metrics while the block runs; yields its URL (None, and nothing served, without a port).

    `lease` gives the daemon's leader lease for `model_monitor_leader` (None in a worker); `now`
    is the clock of the ages (tests fix it).
    """
    settings = config.metrics
    if settings.port is None:
        yield None
        return
    from prometheus_client import CollectorRegistry, GCCollector, PlatformCollector, ProcessCollector

    from monitor.service.metrics_collect import DatabaseCollector

    _resolve(settings.host, settings.port)
    db = Database(make_engine(config.database_url, timeouts=SCRAPE_TIMEOUTS))
    registry = CollectorRegistry(auto_describe=False)
    registry.register(DatabaseCollector(config, db, lease=lease, now=now))
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    GCCollector(registry=registry)
    try:
        server, thread = _start(settings, registry)
    except BaseException:
        db.dispose()
        raise
    host, port = server.server_address[:2]
    url = f"http://{_url_host(str(host))}:{port}/metrics"
    log.info("metrics served on %s", url)
    try:
        yield url
    finally:
        server.shutdown()
        server.server_close()
        thread.join(STOP_TIMEOUT_S)
        db.dispose()
        log.info("metrics server stopped")


def _start(settings: MetricsConfig, registry: CollectorRegistry) -> tuple[WSGIServer, threading.Thread]:
    """Bind and start prometheus_client's threaded WSGI server; a clear error when it cannot bind."""
    from prometheus_client import start_http_server

    assert settings.port is not None
    where = f"{settings.host}:{settings.port}"
    try:
        return start_http_server(settings.port, addr=settings.host, registry=registry)
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise MetricsPortError(
                f"[metrics] port {settings.port} on {settings.host} is already in use (another daemon or "
                "worker on this host?); set another [metrics] port, or --metrics-port for this process"
            ) from None
        if exc.errno == errno.EADDRNOTAVAIL:
            raise ConfigError(
                f"[metrics] host {settings.host!r} is not an address of this machine; "
                "expected 127.0.0.1 (the default) or one of this host's addresses"
            ) from None
        raise MetricsPortError(f"cannot serve metrics on {where}: {exc.strerror or exc}") from None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
