"""Send one message to one [[notify]] target: Apprise for chat, a signed JSON POST for webhooks.

The URL (and a webhook's signing key) is read from the environment at send time and never
leaves this module: every error text is scrubbed of the URL and its parts before it is returned,
and Apprise's own log lines (which may quote the URL) are captured here instead of reaching the
application's logs.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import logging
import os
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, unquote, urlsplit

from monitor.core.errors import MonitorError
from monitor.pipeline.deliver.message import clean_text

if TYPE_CHECKING:
    from monitor.core.config import Config
    from monitor.core.config_outputs import NotifyConfig

CONNECT_TIMEOUT_S = 5.0
READ_TIMEOUT_S = 15.0
SERVICE_TIMEOUT_S = 30.0  # Apprise's bound on one service, retries and waits included
ERROR_MAX = 1000
SIGNATURE_HEADER = "X-Model-Monitor-Signature"
EVENT_HEADER = "X-Model-Monitor-Event"
DELIVERY_HEADER = "X-Model-Monitor-Delivery"
RETRYABLE_4XX = (408, 429)
_SECRET_PART_MIN = 6  # shorter URL parts ("v1", "hook") carry no token, and hiding them would garble the text
_ERRNO = re.compile(r"\[Errno -?\d+\] [^\"')]+")


@dataclass(frozen=True)
class Delivery:
    """What a notification says, to whom, and its id for receivers that drop duplicates."""

    kind: str
    title: str
    body: str
    payload: dict[str, Any]
    delivery_id: str


@dataclass(frozen=True)
class Outcome:
    """One send: `error` None means delivered; `permanent` means retrying cannot help (kept as failed)."""

    error: str | None = None
    permanent: bool = False


def target_url(name: str, target: NotifyConfig) -> str:
    """The target's URL from its environment variable; MonitorError naming the variable when unset."""
    value = os.environ.get(target.url_env, "").strip()
    if not value:
        raise MonitorError(f"[[notify]] {name}: environment variable {target.url_env} (its URL) is not set")
    return value


def _signing_key(name: str, target: NotifyConfig) -> str:
    assert target.secret_env is not None  # the config refuses a webhook without one
    value = os.environ.get(target.secret_env, "")
    if not value:
        raise MonitorError(
            f"[[notify]] {name}: environment variable {target.secret_env} (its signing key) is not set"
        )
    return value


def signature(body: bytes, key: str) -> str:
    """`sha256=<hex HMAC-SHA256 of the raw body>`, the value of the signature header."""
    return "sha256=" + hmac.new(key.encode("utf-8"), body, hashlib.sha256).hexdigest()


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes POSTed (and signed): compact UTF-8 JSON with sorted keys."""
    import json

    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def secret_parts(url: str) -> list[str]:
    """The URL and its parts that may carry a token (Apprise URLs put tokens in the host too): the
    netloc, user, password, host, path and its segments, query values; each also percent-decoded."""
    parts = [url]
    try:
        split = urlsplit(url)
        parts += [split.netloc, split.username or "", split.password or "", split.hostname or ""]
        parts += [split.path, split.query, split.fragment, *split.path.split("/")]
        parts += [value for _key, value in parse_qsl(split.query)]
    except ValueError:
        pass
    unique = {q for p in parts for q in (p, unquote(p)) if len(q) >= _SECRET_PART_MIN}
    return sorted(unique, key=len, reverse=True)  # longest first, so a part inside another goes with it


def _replaced(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def scrub(text: str, secrets: list[str]) -> str:
    """`text` with every secret replaced by ***, on one bounded line."""
    return clean_text(_replaced(text, secrets), ERROR_MAX)


def send(name: str, target: NotifyConfig, delivery: Delivery) -> Outcome:
    """Deliver `delivery` to the target now; a missing variable or unreadable URL is a (retried) error."""
    secrets: list[str] = []
    try:
        url = target_url(name, target)
        secrets = secret_parts(url)
        with _hidden_from_logs(secrets):
            if target.type == "webhook":
                key = _signing_key(name, target)
                secrets.append(key)
                return _post_webhook(url, key, delivery, secrets)
            return _notify_apprise(name, url, delivery, secrets)
    except MonitorError as exc:
        return Outcome(error=scrub(str(exc), secrets))


class _Scrubber(logging.Filter):
    """Replace the secrets of the sends under way in the HTTP library's log lines (urllib3 logs each path)."""

    def __init__(self) -> None:
        super().__init__()
        self.in_use: list[list[str]] = []
        self.lock = threading.Lock()

    def filter(self, record: logging.LogRecord) -> bool:
        with self.lock:
            secrets = [secret for group in self.in_use for secret in group]
        if secrets:
            text = record.getMessage()
            cleaned = _replaced(text, secrets)
            if cleaned != text:
                record.msg, record.args = cleaned, None
        return True


_SCRUBBER = _Scrubber()
# Apprise's logger too: its records reach any handler put on it directly (pytest's caplog does).
_SCRUBBED_LOGGERS = ("apprise", "urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry")


@contextmanager
def _hidden_from_logs(secrets: list[str]) -> Iterator[None]:
    """While the block runs (in any thread), Apprise's and urllib3's log lines show *** for `secrets`."""
    for name in _SCRUBBED_LOGGERS:
        logger = logging.getLogger(name)
        if _SCRUBBER not in logger.filters:
            logger.addFilter(_SCRUBBER)
    with _SCRUBBER.lock:
        _SCRUBBER.in_use.append(secrets)  # the list itself: a key appended to it later is hidden too
    try:
        yield
    finally:
        with _SCRUBBER.lock:
            _SCRUBBER.in_use.remove(secrets)


# ---- webhooks ----------------------------------------------------------------------------------


def _post_webhook(url: str, key: str, delivery: Delivery, secrets: list[str]) -> Outcome:
    """POST the signed JSON: 2xx sent; 4xx but 408/429 permanent; anything else retried."""
    import requests

    from monitor import __version__

    if not _is_http(url):
        return Outcome(error="the webhook URL is not an http:// or https:// URL with a host")
    body = webhook_body(delivery.payload)
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": f"model-monitor/{__version__}",
        SIGNATURE_HEADER: signature(body, key),
        EVENT_HEADER: delivery.kind,
        DELIVERY_HEADER: delivery.delivery_id,
    }
    try:
        response = requests.post(
            url,
            data=body,
            headers=headers,
            timeout=(CONNECT_TIMEOUT_S, READ_TIMEOUT_S),
            allow_redirects=False,
        )
    except requests.Timeout:
        return Outcome(error=f"the webhook did not answer within {READ_TIMEOUT_S:g} s")
    except requests.RequestException as exc:
        return Outcome(error=scrub(f"cannot reach the webhook: {_reason(exc)}", secrets))
    status = response.status_code
    if 200 <= status < 300:
        return Outcome()
    answer = clean_text(response.text or "", 200)
    text = scrub(
        f"the webhook answered HTTP {status} {response.reason or ''}: {answer}".rstrip(": "), secrets
    )
    return Outcome(error=text, permanent=400 <= status < 500 and status not in RETRYABLE_4XX)


def _is_http(url: str) -> bool:
    try:
        split = urlsplit(url)
        return split.scheme in ("http", "https") and bool(split.hostname)
    except ValueError:
        return False


def _reason(exc: BaseException) -> str:
    """The OS-level reason ("[Errno 111] Connection refused") when there is one, else the exception's type."""
    found = _ERRNO.search(str(exc))
    return found.group(0).strip() if found else type(exc).__name__


# ---- Apprise -----------------------------------------------------------------------------------


def _apprise() -> Any:
    """Import Apprise and keep its log lines (which may quote a URL) out of the application's logs."""
    import apprise

    quiet = logging.getLogger(apprise.logger.name)
    if quiet.propagate:
        quiet.propagate = False
        quiet.addHandler(logging.NullHandler())
    return apprise


def parse_apprise(url: str) -> Any:
    """`url`'s Apprise service, with our timeouts unless the URL sets them; None if Apprise cannot read it."""
    apprise = _apprise()
    asset = apprise.AppriseAsset(service_timeout=SERVICE_TIMEOUT_S)
    service = apprise.Apprise.instantiate(url, asset=asset)
    if service is None:
        return None
    try:
        given = {key.lower() for key, _value in parse_qsl(urlsplit(url).query)}
    except ValueError:
        given = set()
    if "cto" not in given:
        service.socket_connect_timeout = CONNECT_TIMEOUT_S
    if "rto" not in given:
        service.socket_read_timeout = READ_TIMEOUT_S
    return service


def _notify_apprise(name: str, url: str, delivery: Delivery, secrets: list[str]) -> Outcome:
    """One Apprise() per send; its False answer becomes an error made of its (scrubbed) warnings."""
    apprise = _apprise()
    with _captured(apprise) as log:
        service = parse_apprise(url)
        if service is None:
            return Outcome(error=f"[[notify]] {name}: Apprise cannot read the URL in its variable")
        sender = apprise.Apprise(asset=service.asset)
        sender.add(service)
        kind = apprise.NotifyType.WARNING if delivery.kind == "regression" else apprise.NotifyType.INFO
        ok = sender.notify(body=delivery.body, title=delivery.title, notify_type=kind)
    if ok:
        return Outcome()
    return Outcome(error=scrub(_apprise_reason(log.getvalue()), secrets))


class _captured:
    """Collect Apprise's log records for one send (debug included, for the OS-level reason)."""

    def __init__(self, apprise: Any) -> None:
        self._logger = logging.getLogger(apprise.logger.name)
        self._buffer = io.StringIO()
        self._handler = logging.StreamHandler(self._buffer)
        self._handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
        self._level = self._logger.level

    def __enter__(self) -> io.StringIO:
        self._logger.addHandler(self._handler)
        self._logger.setLevel(logging.DEBUG)
        return self._buffer

    def __exit__(self, *_exc: object) -> None:
        self._logger.removeHandler(self._handler)
        self._logger.setLevel(self._level)


def _apprise_reason(log_text: str) -> str:
    """Apprise's warnings and errors, plus the OS-level reason from its debug lines, as one line."""
    lines = [
        line.split(" ", 1)[1]
        for line in log_text.splitlines()
        if line.startswith(("WARNING ", "ERROR ", "CRITICAL "))
    ]
    errno = _ERRNO.search(log_text)
    if errno:
        lines.append(errno.group(0).strip())
    return "Apprise could not deliver it: " + ("; ".join(dict.fromkeys(lines)) or "no reason given")


# ---- check -------------------------------------------------------------------------------------


def check_targets(config: Config) -> tuple[list[str], list[str]]:
    """(warnings, problems) for `check`: an unset variable warns; a URL that cannot work is a problem.

    Messages name the target and its variable, never the URL.
    """
    warnings: list[str] = []
    problems: list[str] = []
    for name, target in config.notify_targets():
        variables = [target.url_env, *([target.secret_env] if target.secret_env else [])]
        for variable in variables:
            if not os.environ.get(variable):
                warnings.append(f"[[notify]] {name}: environment variable {variable} is not set")
        url = os.environ.get(target.url_env, "").strip()
        if not url:
            continue
        if target.type == "webhook":
            if not _is_http(url):
                problems.append(
                    f"[[notify]] {name}: {target.url_env} must hold an http:// or https:// URL for a webhook"
                )
        elif _readable(url) is None:
            problems.append(
                f"[[notify]] {name}: Apprise cannot read the URL in {target.url_env} "
                "(see https://github.com/caronc/apprise/wiki for the URL of each service)"
            )
    return warnings, problems


def service_name(target: NotifyConfig) -> str | None:
    """The target's kind of service ("Slack", "JSON", "webhook"); None when its URL is unset or unreadable."""
    if target.type == "webhook":
        return "webhook"
    url = os.environ.get(target.url_env, "").strip()
    if not url:
        return None
    service = _readable(url)
    return str(service.service_name) if service is not None else None


def _readable(url: str) -> Any:
    """`parse_apprise` with the URL hidden from every log line it may cause."""
    with _hidden_from_logs(secret_parts(url)):
        return parse_apprise(url)
