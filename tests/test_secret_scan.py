"""Literal keys anywhere in monitor.toml (tables, lists, URL queries) are refused and never echoed."""

from __future__ import annotations

import json
from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.config import parse_config
from monitor.core.errors import ConfigError
from monitor.core.secret_scan import find_secrets, key_prefix

OPENAI = "sk-proj-abcdefghijklmnopqrstuvwx"
GEMINI = "AIzaSyA1234567890abcdefghijklmnopqrs"
HEAD = '[providers.oa]\ntype = "openai"\napi_key_env = "OPENAI_API_KEY"\n'


def _check(tmp_path: Path, body: str) -> tuple[int, str, str]:
    config = tmp_path / "monitor.toml"
    config.write_text(body)
    plain = CliRunner().invoke(main, ["--config", str(config), "check"])
    as_json = CliRunner().invoke(main, ["--config", str(config), "check", "--json"])
    assert plain.exit_code == as_json.exit_code
    return as_json.exit_code, plain.output, as_json.stdout


@pytest.mark.parametrize(
    ("body", "secret", "where"),
    [
        (
            HEAD + f'include = ["gpt-*", "{OPENAI}"]\n',
            OPENAI,
            "[providers.oa] holds a literal secret (include[1] = 'sk-…')",
        ),
        (
            '[providers.g]\ntype = "gemini"\napi_key_env = "GEMINI_API_KEY"\n'
            f'base_url = "https://generativelanguage.googleapis.com/v1beta?key={GEMINI}"\n',
            GEMINI,
            "[providers.g] holds a literal secret (base_url = 'AIza…')",
        ),
        (
            HEAD + 'base_url = "https://proxy.example.com/v1?api_key=hunter2hunter2"\n',
            "hunter2hunter2",
            "(base_url, query parameter 'api_key')",
        ),
        (
            HEAD + f'[baseline.suites]\nqa = ["oa:{OPENAI}"]\n',
            OPENAI,
            "[baseline.suites] holds a literal secret",
        ),
        (HEAD + f'[email]\nto = ["{OPENAI}"]\n', OPENAI, "[email] holds a literal secret (to[0] = 'sk-…')"),
    ],
    ids=["in-a-list", "in-a-url-query", "named-query-parameter", "in-a-nested-table", "in-email"],
)
def test_a_key_anywhere_is_refused_by_check_without_echoing_it(
    tmp_path: Path, body: str, secret: str, where: str
) -> None:
    code, plain, as_json = _check(tmp_path, body)
    assert code == 2
    assert secret not in plain and secret not in as_json
    error = json.loads(as_json)["error"]
    assert error["kind"] == "config"
    assert "monitor.toml:" in error["message"] and where in error["message"]
    assert where in " ".join(plain.split())


def test_a_literal_password_names_password_env(tmp_path: Path) -> None:
    body = HEAD + '[email]\npassword = "correct horse"\n'
    with pytest.raises(ConfigError, match="password_env") as info:
        parse_config(body, tmp_path / "monitor.toml")
    assert "correct horse" not in str(info.value)


def test_only_a_public_prefix_is_ever_shown() -> None:
    assert key_prefix(f"x {OPENAI} y") == "sk-…"
    assert key_prefix("sk-ant-api03-abcdefghijklmnopqrstu") == "sk-ant-…"
    assert key_prefix("gsk_" + "a" * 24) == "gsk_…"
    assert key_prefix("gpt-4o-mini-2024-07-18") is None
    assert key_prefix("task-abcdefghijklmnopqrstuvwxyz") is None  # 'sk-' inside a word is not a key


def test_ordinary_settings_are_not_secrets() -> None:
    template = files("monitor").joinpath("init_template.toml").read_text()
    config = parse_config(template, Path("/tmp/monitor.toml"))
    assert config.providers
    assert (
        find_secrets({"providers": {"x": {"base_url": "https://h.example.com/v1?api-version=2024-06-01"}}})
        == []
    )
