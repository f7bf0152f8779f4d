"""Service logging: level-tagged lines (or JSON lines) on stderr, with configured secrets redacted."""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, Any

from monitor.core.config import Config

REDACTED = "[REDACTED]"
# Keys shorter than this are not redacted: replacing "a" everywhere would garble every line.
MIN_SECRET_LENGTH = 6
LINE_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
_RECORD_ATTRS = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "taskName"}


def configured_secrets(config: Config) -> list[str]:
    """The values of every secret the config names by environment variable: API keys, the SMTP
    password, and each [[notify]] target's URL and signing key (webhook URLs carry tokens)."""
    names = [p.api_key_env for p in config.providers.values() if p.api_key_env]
    if config.email is not None and config.email.password_env:
        names.append(config.email.password_env)
    for target in config.notify:
        names += [target.url_env, *([target.secret_env] if target.secret_env else [])]
    return [v for v in (os.environ.get(n) for n in names) if v]


class RedactSecrets(logging.Filter):
    """Replaces each secret value in a record's message, arguments and traceback with [REDACTED]."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        self.secrets = sorted({s for s in secrets if len(s) >= MIN_SECRET_LENGTH}, key=len, reverse=True)

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.secrets:
            return True
        record.msg = self.redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        for key, value in list(record.__dict__.items()):
            if key not in _RECORD_ATTRS and isinstance(value, str):
                setattr(record, key, self.redact(value))
        return True


class JsonLines(logging.Formatter):
    """One JSON object per record: time, level, logger, message, extra fields and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _RECORD_ATTRS:
                entry[key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, default=str)


class _QuietSkips(logging.Filter):
    """APScheduler warns each tick a long job is still running; that is expected for `work`: debug."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "maximum number of running instances reached" in str(record.msg):
            record.levelno, record.levelname = logging.DEBUG, "DEBUG"
            return logging.getLogger().isEnabledFor(logging.DEBUG)
        return True


def setup_logging(
    *,
    json_lines: bool = False,
    level: int = logging.INFO,
    secrets: Iterable[str] = (),
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Route every logger to one stderr handler (replacing earlier ones) and return that handler."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonLines() if json_lines else logging.Formatter(LINE_FORMAT))
    handler.addFilter(RedactSecrets(secrets))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _QuietSkips) for f in scheduler_log.filters):
        scheduler_log.addFilter(_QuietSkips())
    # One line per job execution is noise at the work job's pace; keep APScheduler's warnings.
    logging.getLogger("apscheduler.executors").setLevel(max(level, logging.WARNING))
    for chatty in ("httpx", "httpx2", "httpcore", "openai", "anthropic", "aiosmtpd", "mail.log", "alembic"):
        logging.getLogger(chatty).setLevel(max(level, logging.WARNING))
    return handler
