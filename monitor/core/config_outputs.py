"""The config sections for where results go besides e-mail: [[notify]], [metrics], [retirements]."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from monitor.core.config_values import check_env_name

# What a [[notify]] target can be told about (docs/notifications.md).
NotifyEvent = Literal["new_model", "regression", "drift", "retirement", "skipped"]
NOTIFY_EVENTS: tuple[NotifyEvent, ...] = get_args(NotifyEvent)


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class NotifyConfig(_Section):
    """One `[[notify]]` target: an Apprise URL, or a signed JSON webhook, read from the environment."""

    name: str | None = Field(default=None, min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    type: Literal["apprise", "webhook"] = "apprise"
    # The environment variable holding the Apprise or webhook URL (the URL carries the secret).
    url_env: str
    # webhook only: the environment variable holding the HMAC-SHA256 signing key.
    secret_env: str | None = None
    on: list[NotifyEvent] = Field(default_factory=lambda: list(NOTIFY_EVENTS))
    # Tell only when a verdict is significant (better or worse), never "no difference".
    only_significant: bool = False

    _env = field_validator("url_env", "secret_env")(check_env_name)

    @model_validator(mode="after")
    def _secret_for_webhooks(self) -> NotifyConfig:
        if self.type == "webhook" and self.secret_env is None:
            raise ValueError(
                "[notify] a webhook target needs secret_env: the variable holding its signing key"
            )
        if self.type == "apprise" and self.secret_env is not None:
            raise ValueError(
                '[notify] secret_env is for type = "webhook"; an Apprise URL carries its own secret'
            )
        return self


class MetricsConfig(_Section):
    """`[metrics]`: serve Prometheus metrics from the daemon and workers when `port` is set."""

    port: int | None = Field(default=None, ge=1, le=65535)
    host: str = "127.0.0.1"


class RetirementConfig(_Section):
    """One `[retirements]` entry: the day a model stops answering, and the models to try instead."""

    date: dt.date
    replacements: list[str] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _bare_date(cls, value: Any) -> Any:
        """`"openai:gpt-4o" = 2026-03-31` is short for a table with only `date`."""
        if isinstance(value, dt.date):
            return {"date": value}
        if not isinstance(value, dict) or isinstance(value.get("date"), str):
            raise ValueError(
                "must be a TOML date, unquoted (2026-03-31), or a table "
                '{date = 2026-03-31, replacements = ["provider:model"]}'
            )
        return value


def notify_names(targets: list[NotifyConfig]) -> list[str]:
    """Each target's name: its own, or notify-N by position; ValueError when two are the same."""
    names = [t.name or f"notify-{i}" for i, t in enumerate(targets, 1)]
    doubled = sorted({n for n in names if names.count(n) > 1})
    if doubled:
        raise ValueError(f"[[notify]] names must differ; {', '.join(doubled)} is used twice")
    return names
