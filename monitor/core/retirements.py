"""A model's retirement date from config, the provider's listing or the shipped table, in that order.

The shipped table (`retirements.toml` beside this module) records announced retirements with the
page that announced them and the day it was last checked (`updated`). A `retirements.toml` next to
monitor.toml, in the same format, adds entries or replaces shipped ones, so users can update the
table without waiting for a release. Precedence: `[retirements]` in the config (the user's own
word), then the date the provider's own listing carries (live, so newer than any table), then the
user's table, then the shipped one.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.core.errors import ConfigError

if TYPE_CHECKING:
    from monitor.core.config import Config, ProviderConfig

SHIPPED_TABLE = Path(__file__).with_name("retirements.toml")
USER_TABLE_NAME = "retirements.toml"
# The table speaks for a provider's own API only: a base_url elsewhere is another service.
OFFICIAL_HOSTS = {
    "openai": "api.openai.com",
    "anthropic": "api.anthropic.com",
    "gemini": "generativelanguage.googleapis.com",
}
_ENTRY_KEYS = {"provider", "model", "date", "source", "replacements"}
_ENTRY_HEADER = re.compile(r"^[ \t]*\[\[[ \t]*retirement[ \t]*\]\]", re.MULTILINE)


@dataclass(frozen=True)
class TableEntry:
    """One announced retirement: the provider type, the model id, the day, the page that says so."""

    provider: str
    model: str
    date: dt.date
    source: str
    replacements: tuple[str, ...] = ()


@dataclass(frozen=True)
class RetirementTable:
    """A retirements file: when it was last checked, and its entries by (provider type, model id)."""

    path: Path
    updated: dt.date
    entries: dict[tuple[str, str], TableEntry]


@dataclass(frozen=True)
class Retirement:
    """When a model stops answering, where that date comes from, and the replacements it names."""

    date: dt.date
    source: str  # "config", "provider", "table"
    detail: str  # the config key, the listing, or the table's page and update day
    replacements: tuple[str, ...] = ()

    def days_left(self, today: dt.date) -> int:
        """Days from `today` to the date (negative once it has passed)."""
        return (self.date - today).days

    def as_dict(self) -> dict[str, Any]:
        return {
            "date": self.date.isoformat(),
            "source": self.source,
            "detail": self.detail,
            "replacements": list(self.replacements),
        }


def load_table(path: Path) -> RetirementTable:
    """Read and check one retirements file; a ConfigError names the file, the entry and what is wrong."""
    try:
        text = path.read_text("utf-8")
        raw = tomllib.loads(text)
    except OSError as exc:
        raise ConfigError(f"cannot read the retirements table: {exc.strerror}", path=str(path)) from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from None
    updated = raw.get("updated")
    if not isinstance(updated, dt.date) or isinstance(updated, dt.datetime):
        raise ConfigError("needs `updated = YYYY-MM-DD`: the day the table was last checked", path=str(path))
    unknown = sorted(set(raw) - {"updated", "retirement"})
    if unknown:
        raise ConfigError(f"unknown key {unknown[0]!r}; known keys: updated, retirement", path=str(path))
    items = raw.get("retirement", [])
    if not isinstance(items, list):
        raise ConfigError("`retirement` must be an array of tables ([[retirement]])", path=str(path))
    headers = [text.count("\n", 0, m.start()) + 1 for m in _ENTRY_HEADER.finditer(text)]
    lines: list[int | None] = list(headers) if len(headers) == len(items) else [None] * len(items)
    entries: dict[tuple[str, str], TableEntry] = {}
    for number, (item, line) in enumerate(zip(items, lines, strict=True), 1):
        entry = _entry(item, f"[[retirement]] #{number}", path, line)
        entries[(entry.provider, entry.model)] = entry
    return RetirementTable(path=path, updated=updated, entries=entries)


def _entry(item: Any, where: str, path: Path, line: int | None) -> TableEntry:
    """One `[[retirement]]` entry, checked; `line` is its header's line in the file (None: not found)."""

    def bad(message: str) -> ConfigError:
        return ConfigError(f"{where}{message}", path=str(path), line=line)

    if not isinstance(item, dict):
        raise bad(" must be a table")
    unknown = sorted(set(item) - _ENTRY_KEYS)
    if unknown:
        raise bad(f": unknown key {unknown[0]!r}; known keys: {', '.join(sorted(_ENTRY_KEYS))}")
    provider, model, date, source = (item.get(k) for k in ("provider", "model", "date", "source"))
    if provider not in OFFICIAL_HOSTS:
        raise bad(f": provider must be one of {', '.join(sorted(OFFICIAL_HOSTS))}, not {provider!r}")
    if not isinstance(model, str) or not model:
        raise bad(": model must be the provider's model id")
    if not isinstance(date, dt.date) or isinstance(date, dt.datetime):
        raise bad(f" ({model}): date must be a TOML date such as 2027-01-14 (unquoted)")
    if not isinstance(source, str) or not source.startswith("https://"):
        raise bad(f" ({model}): source must be the https:// page that says so")
    replacements = item.get("replacements", [])
    if not isinstance(replacements, list) or not all(isinstance(r, str) and r for r in replacements):
        raise bad(f" ({model}): replacements must be a list of model ids")
    return TableEntry(provider, model, date, source, tuple(replacements))


@functools.cache
def shipped_table() -> RetirementTable:
    """The table that comes with the package (read once per process)."""
    return load_table(SHIPPED_TABLE)


def user_table(config: Config) -> RetirementTable | None:
    """`retirements.toml` next to the config file, when there is one."""
    path = config.base_dir / USER_TABLE_NAME
    return load_table(path) if path.is_file() else None


def user_table_problems(config: Config) -> list[str]:
    """What the resolver would reject in the user's `retirements.toml` (for `check`); none when absent."""
    try:
        user_table(config)
    except ConfigError as exc:
        return [str(exc)]
    return []


def speaks_for(provider: ProviderConfig) -> bool:
    """Whether the table applies to this provider: its type is in the table and it calls the official API."""
    host = OFFICIAL_HOSTS.get(provider.type)
    return host is not None and (provider.base_url is None or f"//{host}" in provider.base_url)


def resolve(
    config: Config,
    model_key: str,
    *,
    listed: dt.date | None = None,
    listed_replacements: tuple[str, ...] = (),
    tables: list[RetirementTable] | None = None,
) -> Retirement | None:
    """The model's retirement (None: no source knows one); `listed` is the provider listing's date and
    `listed_replacements` the model ids the listing names as its replacement.

    `tables` are searched in order (default: the user's table, then the shipped one).
    """
    configured = config.retirements.get(model_key)
    if configured is not None:
        return Retirement(
            configured.date, "config", f"[retirements] {model_key}", tuple(configured.replacements)
        )
    provider_name, _, model_id = model_key.partition(":")
    if listed is not None:
        keys = tuple(f"{provider_name}:{r}" for r in listed_replacements)
        return Retirement(listed, "provider", "the provider's model list", keys)
    provider = config.providers.get(provider_name)
    if provider is None or not speaks_for(provider):
        return None
    for table in tables if tables is not None else default_tables(config):
        entry = table.entries.get((provider.type, model_id))
        if entry is not None:
            detail = f"{entry.source} (table updated {table.updated.isoformat()})"
            keys = tuple(f"{provider_name}:{r}" for r in entry.replacements)
            return Retirement(entry.date, "table", detail, keys)
    return None


def default_tables(config: Config) -> list[RetirementTable]:
    """The user's table (if any) before the shipped one."""
    user = user_table(config)
    return [user, shipped_table()] if user is not None else [shipped_table()]
