"""monitor.toml -> a typed, validated Config; errors name the file, the key path and what is expected."""

from __future__ import annotations

import fnmatch
import os
import re
import tomllib
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from monitor.core import prices
from monitor.core.config_explain import explain
from monitor.core.config_outputs import MetricsConfig, NotifyConfig, RetirementConfig, notify_names
from monitor.core.config_values import (
    check_base_url,
    check_env_name,
    check_globs,
    database_url_problem,
    pricing_key_problem,
)
from monitor.core.cron import check_cron
from monitor.core.errors import ConfigError
from monitor.core.prices import PriceConfig, ResolvedPrice
from monitor.core.secret_scan import find_secrets

CONFIG_ENV = "MODEL_MONITOR_CONFIG"
DEFAULT_CONFIG_NAME = "monitor.toml"
SCHEDULE_VARIANTS = ("all", "default")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Section):
    url: str = "sqlite:///monitor.db"

    @field_validator("url")
    @classmethod
    def _supported(cls, value: str) -> str:
        """A URL no command could open is a config error when the file loads, not a traceback later."""
        problem = database_url_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value


class ProviderConfig(_Section):
    """One `[providers.NAME]` table."""

    type: Literal["openai", "anthropic", "gemini", "openai-compatible"]
    base_url: str | None = None
    api_key_env: str | None = None
    include: list[str] = Field(default_factory=list)
    exclude: list[str] = Field(default_factory=list)
    max_concurrency: int = Field(default=16, ge=1, le=4096)
    requests_per_minute: float | None = Field(default=None, gt=0)
    tokens_per_minute: float | None = Field(default=None, gt=0)
    # requests_per_minute counted for all processes and hosts together, through the database.
    shared_limits: bool = False
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0, le=20)
    # How long a run waits, paused, for an unreachable or overloaded provider before it stops interrupted.
    outage_pause_s: float = Field(default=900.0, ge=0)
    watch: list[str] = Field(default_factory=list)
    free: bool = False  # every model of this provider costs nothing (a local server)

    # Scheduled runs go through the provider's batch API at its batch price (docs/batch.md).
    batch: bool = False

    _env_name = field_validator("api_key_env")(check_env_name)
    _base_url = field_validator("base_url")(check_base_url)
    _globs = field_validator("include", "exclude")(check_globs)

    def api_key(self) -> str | None:
        """The key from the environment (never stored anywhere else)."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def keeps(self, model_id: str) -> bool | None:
        """True/False when include/exclude globs decide for this id, None when they are silent."""
        if any(fnmatch.fnmatchcase(model_id, g) for g in self.exclude):
            return False
        if self.include:
            return any(fnmatch.fnmatchcase(model_id, g) for g in self.include)
        return None


class SuitesConfig(_Section):
    directory: str = "evals"
    default: list[str] = Field(default_factory=list)


class BaselineConfig(_Section):
    """The production model(s): `default` for every suite, `suites.NAME` to override one suite."""

    default: list[str] = Field(default_factory=list)
    suites: dict[str, list[str]] = Field(default_factory=dict)

    @field_validator("default", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("suites", mode="before")
    @classmethod
    def _suite_one_or_many(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    def for_suite(self, suite: str) -> list[str]:
        return self.suites.get(suite, self.default)


class ScheduleConfig(_Section):
    poll_interval_minutes: float | None = Field(default=60, gt=0)
    poll_cron: str | None = None
    drift_cron: str = "0 6 * * 1"
    work_interval_seconds: float = Field(default=30, gt=0)
    # Runs one daemon or worker evaluates at once; they share each provider account's limits.
    concurrent_runs: int = Field(default=4, ge=1, le=64)
    outbox_interval_seconds: float = Field(default=60, gt=0)
    retention_days: int | None = Field(default=None, ge=1)
    watch: list[str] = Field(default_factory=list)

    @field_validator("poll_cron", "drift_cron")
    @classmethod
    def _cron_expression(cls, value: str | None) -> str | None:
        """A cron expression the daemon could not schedule is a config error, found by `check` too."""
        return None if value is None else check_cron(value)

    # Which prompt variants a new-model event evaluates, for the candidate and the baseline.
    variants: str = "all"
    # Scheduled new-model runs stop once the sequential test settles the verdict against a stored
    # baseline (docs/statistics.md "Early stopping").
    early_stop: bool = True
    # A baseline or watched model this close to its retirement date gets a migration report.
    retirement_notice_days: int = Field(default=60, ge=0, le=3650)

    @field_validator("variants")
    @classmethod
    def _variants_choice(cls, value: str) -> str:
        if value not in SCHEDULE_VARIANTS:
            raise ValueError(
                'must be "all" (every prompt variant of each suite) or "default" '
                "(only each suite's own prompt)"
            )
        return value


class BudgetConfig(_Section):
    max_cost_usd_per_run: float | None = Field(default=None, ge=0)
    max_cost_usd_per_day: float | None = Field(default=None, ge=0)


class EmailConfig(_Section):
    smtp_host: str = "localhost"
    smtp_port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    username: str | None = None
    password_env: str | None = None
    from_: str = Field(default="model-monitor@localhost", alias="from")
    to: list[str] = Field(default_factory=list)
    subject_prefix: str = "[model-monitor]"
    timeout_s: float = Field(default=30.0, gt=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    _env_name = field_validator("password_env")(check_env_name)


class ReportsConfig(_Section):
    directory: str = "reports"
    # Where the reports directory is served, so notifications can link to a report.
    base_url: str | None = None

    _base_url = field_validator("base_url")(check_base_url)


class StatsConfig(_Section):
    """Verdict settings: the significance level, and the smallest difference a suite must be able to see."""

    alpha: float = Field(default=0.05, gt=0, lt=1)
    min_effect: float = Field(default=0.05, gt=0, lt=1)


class JudgeConfig(_Section):
    """The default model for llm-judge graders (`provider:model`)."""

    model: str | None = None


class Config(_Section):
    """The whole validated file; relative paths are resolved against the file's folder."""

    database: DatabaseConfig = Field(default_factory=DatabaseConfig)
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    suites: SuitesConfig = Field(default_factory=SuitesConfig)
    baseline: BaselineConfig = Field(default_factory=BaselineConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    budget: BudgetConfig = Field(default_factory=BudgetConfig)
    pricing: dict[str, PriceConfig] = Field(default_factory=dict)
    email: EmailConfig | None = None
    reports: ReportsConfig = Field(default_factory=ReportsConfig)
    stats: StatsConfig = Field(default_factory=StatsConfig)
    judge: JudgeConfig = Field(default_factory=JudgeConfig)
    notify: list[NotifyConfig] = Field(default_factory=list)
    metrics: MetricsConfig = Field(default_factory=MetricsConfig)
    retirements: dict[str, RetirementConfig] = Field(default_factory=dict)
    path: Path | None = Field(default=None, exclude=True)

    @model_validator(mode="after")
    def _models_name_providers(self) -> Config:
        refs = [("baseline.default", m) for m in self.baseline.default]
        refs += [(f"baseline.suites.{s}", m) for s, ms in self.baseline.suites.items() for m in ms]
        refs += [("schedule.watch", m) for m in self.schedule.watch]
        if self.judge.model:
            refs.append(("judge.model", self.judge.model))
        for key, retirement in self.retirements.items():
            refs.append((f"retirements.{key}", key))
            refs += [(f"retirements.{key}.replacements", m) for m in retirement.replacements]
        for key, ref in refs:
            provider, sep, model = ref.partition(":")
            if not sep or not model:
                raise ValueError(f"[{key}] '{ref}' must be 'provider:model'")
            if provider not in self.providers:
                known = ", ".join(sorted(self.providers)) or "none configured"
                raise ValueError(f"[{key}] '{ref}' names provider '{provider}', not in [providers] ({known})")
        for price_key in self.pricing:
            problem = pricing_key_problem(price_key, sorted(self.providers))
            if problem is not None:
                raise ValueError(problem)
        notify_names(self.notify)
        return self

    @property
    def base_dir(self) -> Path:
        return self.path.parent if self.path else Path.cwd()

    def resolve(self, relative: str) -> Path:
        path = Path(relative).expanduser()
        return path if path.is_absolute() else self.base_dir / path

    @property
    def database_url(self) -> str:
        url = self.database.url
        if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
            return "sqlite:///" + str(self.resolve(url.removeprefix("sqlite:///")))
        return url

    @property
    def suites_dir(self) -> Path:
        return self.resolve(self.suites.directory)

    @property
    def reports_dir(self) -> Path:
        return self.resolve(self.reports.directory)

    def price_for(self, model_key: str) -> ResolvedPrice:
        """The price of `provider:model` and its source: config, catalogue or upper bound (docs/pricing.md)"""
        return prices.resolve(self.pricing, self.providers, model_key)

    def notify_targets(self) -> list[tuple[str, NotifyConfig]]:
        """Each `[[notify]]` target with its name (its own, or notify-N by position)."""
        return list(zip(notify_names(self.notify), self.notify, strict=True))

    def upper_bound(self, model_key: str) -> ResolvedPrice:
        """The upper-bound price standing in for the model's when nobody knows it."""
        return prices.upper_bound(self.pricing, self.providers, model_key)


def find_config_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """`--config`, then $MODEL_MONITOR_CONFIG, then ./monitor.toml."""
    for candidate, origin in (
        (explicit, "--config"),
        (os.environ.get(CONFIG_ENV), f"${CONFIG_ENV}"),
    ):
        if candidate:
            path = Path(candidate).expanduser()
            if not path.is_file():
                raise ConfigError(f"config file not found (from {origin})", path=str(path))
            return path.resolve()
    path = Path.cwd() / DEFAULT_CONFIG_NAME
    if not path.is_file():
        raise ConfigError(
            f"no {DEFAULT_CONFIG_NAME} here; run 'model-monitor init' or pass --config FILE",
            path=str(path),
        )
    return path


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    path = find_config_path(explicit)
    return parse_config(path.read_bytes(), path)


def parse_config(data: bytes | str, path: Path) -> Config:
    """Parse and validate strictly (a quoted number is an error, not coerced); raise ConfigError naming
    file, key and expectation. A UTF-8 byte-order mark is skipped (`check` warns about it)."""
    text = data.decode("utf-8", errors="replace") if isinstance(data, bytes) else data
    text = text.removeprefix("\ufeff")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = _toml_error_line(str(exc))
        raise ConfigError(f"not valid TOML: {exc}", path=str(path), line=line) from None
    _reject_literal_secrets(raw, path, text)
    try:
        config = Config.model_validate(raw, strict=True)
    except ValidationError as exc:
        raise ConfigError(explain(exc, Config), path=str(path)) from None
    for name, provider in config.providers.items():
        if provider.type != "openai-compatible" and provider.api_key_env is None:
            raise ConfigError(
                f"[providers.{name}] needs api_key_env: the name of the environment variable "
                "holding the key (for example OPENAI_API_KEY)",
                path=str(path),
            )
    return config.model_copy(update={"path": path})


def _toml_error_line(message: str) -> int | None:
    match = re.search(r"line (\d+)", message)
    return int(match.group(1)) if match else None


def _reject_literal_secrets(raw: dict[str, Any], path: Path, text: str) -> None:
    """A ConfigError for the first secret anywhere in the file, showing at most its public prefix."""
    for found in find_secrets(raw):
        needle = found.needle
        line = next((i for i, row in enumerate(text.splitlines(), 1) if needle and needle in row), None)
        hint = "password_env" if found.is_password else "api_key_env"
        raise ConfigError(
            f"[{found.table}] holds a literal secret ({found.where}); keep keys out of the file and set "
            f"{hint} to the name of an environment variable instead",
            path=str(path),
            line=line,
        )
