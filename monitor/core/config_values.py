"""Checks of config values pydantic types cannot express: database and base URLs, globs, pricing keys."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

# The same wording as monitor/store/errors.py uses when such a URL fails at run time.
SUPPORTED_DATABASES = "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
DATABASE_BACKENDS = ("sqlite", "postgresql")
# What a model id may contain, plus the glob characters fnmatch gives a meaning to.
_GLOB = re.compile(r"^[A-Za-z0-9._:/@+*?\[\]!-]+$")
# The scheme and port of SQLAlchemy's URL grammar (sqlalchemy.engine.url._parse_url), read without
# importing SQLAlchemy (0.3-0.5 s) on every config load; tests hold it to make_url's verdicts.
_DATABASE_URL = re.compile(
    r"(?P<name>[\w+]+)://(?:[^:/]*(?::[^@]*)?@)?(?:(?:\[[^/?]+\]|[^/:?]+)?(?::(?P<port>[^/?]*))?)?"
)


def database_url_problem(url: str) -> str | None:
    """Why `url` is not a SQLAlchemy URL of a supported database (SQLite, PostgreSQL), or None."""
    parsed = _DATABASE_URL.match(url)
    if parsed is None or not _is_port(parsed.group("port")):
        return f"[database] url: {url!r} is not a database URL (expected {SUPPORTED_DATABASES})"
    backend = parsed.group("name").split("+")[0]
    if backend not in DATABASE_BACKENDS:
        return f"[database] url: unsupported database {backend!r} (expected {SUPPORTED_DATABASES})"
    return None


def _is_port(value: str | None) -> bool:
    """Whether SQLAlchemy reads `value` as a port: absent or an integer (it calls int())."""
    try:
        return value is None or isinstance(int(value), int)
    except ValueError:
        return False


def check_base_url(value: str | None) -> str | None:
    """`value` when it is an http(s) URL with a host; else ValueError (adapters call nothing else)."""
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:
        parts, host = None, None
    if parts is None or parts.scheme not in ("http", "https") or not host or " " in value:
        raise ValueError("must be an http:// or https:// URL with a host, such as https://api.example.com/v1")
    return value


def check_globs(values: list[str]) -> list[str]:
    """`values` when each glob could match a model id; ValueError naming the first that never can."""
    for i, glob in enumerate(values):
        if not glob:
            raise ValueError(f"entry {i} is empty, which matches no model id; remove it or write a glob")
        if not _GLOB.match(glob):
            raise ValueError(
                f"entry {i} {glob!r} can never match: model ids have only letters, digits and . _ - : / @ +"
                " (globs add * ? [ ]); write one glob per entry, such as ['gpt-4o*', 'o3*']"
            )
    return values


def pricing_key_problem(key: str, providers: list[str]) -> str | None:
    """Why a `[pricing]` key never matches a model key (`provider:model`, globs allowed), or None."""
    provider, sep, model = key.partition(":")
    if not sep and key[:1] in ("*", "?", "["):
        return None  # a glob such as '*gpt-4o' can match across the ':'
    if not sep or not provider or not model:
        name = providers[0] if len(providers) == 1 else "PROVIDER"
        return (
            f'[pricing."{key}"] never matches: keys are provider:model, '
            f'such as [pricing."{name}:{model or provider}"]'
        )
    return None


_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def check_env_name(value: str | None) -> str | None:
    """`value` when it can name an environment variable; else ValueError (secrets live only there)."""
    if value is not None and not _ENV_NAME.match(value):
        raise ValueError("must be the name of an environment variable, such as OPENAI_API_KEY")
    return value
