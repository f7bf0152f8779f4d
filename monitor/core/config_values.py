"""Checks of config values pydantic types cannot express: database and base URLs, globs, pricing keys."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

# The same wording as monitor/store/errors.py uses when such a URL fails at run time.
SUPPORTED_DATABASES = "sqlite:///PATH or postgresql+psycopg://USER@HOST/DB"
DATABASE_BACKENDS = ("sqlite", "postgresql")
# What a model id may contain, plus the glob characters fnmatch gives a meaning to.
_GLOB = re.compile(r"^[A-Za-z0-9._:/@+*?\[\]!-]+$")


def database_url_problem(url: str) -> str | None:
    """Why `url` is not a SQLAlchemy URL of a supported database (SQLite, PostgreSQL), or None."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return f"[database] url: {url!r} is not a database URL (expected {SUPPORTED_DATABASES})"
    backend = parsed.get_backend_name()
    if backend not in DATABASE_BACKENDS:
        return f"[database] url: unsupported database {backend!r} (expected {SUPPORTED_DATABASES})"
    return None


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
