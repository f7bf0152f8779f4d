"""Helpers for the [[notify]] tests: target tables, their environment, a workspace and queued notices."""

from __future__ import annotations

import hashlib
import hmac
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.core.config import Config
from monitor.pipeline.complete import complete_events
from monitor.store.db import Database, open_database
from monitor.store.tables import Notification
from tests.event_helpers import config_on
from tests.factories import add_event, make_config


def webhook(name: str = "hook") -> str:
    """A signed webhook target reading its URL from HOOK_URL and its signing key from HOOK_KEY."""
    return f'\n[[notify]]\nname = "{name}"\ntype = "webhook"\nurl_env = "HOOK_URL"\nsecret_env = "HOOK_KEY"\n'


def chat(name: str = "chat", options: str = "") -> str:
    """An Apprise target reading its URL from CHAT_URL, with these extra lines (`on`, `only_significant`)."""
    return f'\n[[notify]]\nname = "{name}"\nurl_env = "CHAT_URL"\n{options}'


def set_webhook_env(monkeypatch: pytest.MonkeyPatch, url: str, key: str) -> None:
    """The webhook target's URL and signing key where it reads them."""
    monkeypatch.setenv("HOOK_URL", url)
    monkeypatch.setenv("HOOK_KEY", key)


def signature(key: str, body: bytes) -> str:
    """The x-model-monitor-signature a receiver expects for this body: HMAC-SHA256 with the key."""
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def setup(tmp_path: Path, extra: str, url: str | None = None) -> tuple[Config, Database]:
    """make_config with these targets (the database at `url` when given) and its database opened."""
    config = make_config(tmp_path, extra=extra) if url is None else config_on(tmp_path, url, extra=extra)
    return config, open_database(config.database_url)


def notification_rows(db: Database) -> list[Notification]:
    """Every queued notification, oldest first."""
    with db.session() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def removed_model_notice(db: Database, config: Config, model: str = "sim:old") -> None:
    """A removed-model event for `model`, completed: one notification queued per target that wants it."""
    with db.session() as s:
        add_event(s, "removed_model", model)
    complete_events(db, config)
