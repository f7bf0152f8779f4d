"""The config file: a good one loads; each kind of bad one is a clear message and exit status 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.config import load_config
from monitor.core.errors import ConfigError

GOOD = """
    [database]
    url = "sqlite:///data/monitor.db"

    [providers.openai]
    type = "openai"
    api_key_env = "OPENAI_API_KEY"
    include = ["gpt-*"]
    max_concurrency = 8

    [providers.local]
    type = "openai-compatible"
    base_url = "http://127.0.0.1:11434/v1"

    [baseline]
    default = "openai:gpt-4.1"
    [baseline.suites]
    support = ["local:llama3"]

    [pricing."openai:gpt-4.1*"]
    input = 2.0
    output = 8.0

    [email]
    smtp_host = "mail.example.com"
    from = "monitor@example.com"
    to = ["team@example.com"]
"""


def run_check(config_path: Path) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config_path), "check"])
    return result.exit_code, result.output


def test_good_config_loads_with_paths_resolved_next_to_the_file(write_config):
    path = write_config(GOOD)
    config = load_config(path)
    assert config.database_url == f"sqlite:///{path.parent / 'data' / 'monitor.db'}"
    assert config.providers["openai"].max_concurrency == 8
    assert config.baseline.for_suite("support") == ["local:llama3"]
    assert config.baseline.for_suite("arithmetic") == ["openai:gpt-4.1"]
    assert config.email is not None and config.email.from_ == "monitor@example.com"


def test_price_lookup_prefers_exact_then_longest_glob(write_config):
    config = load_config(write_config(GOOD))
    assert config.price_for("openai:gpt-4.1-mini") is not None
    assert config.price_for("openai:gpt-4.1-mini").input == 2.0
    assert config.price_for("openai:gpt-4.1-mini").source == "config"
    assert config.price_for("local:llama3").estimated


def test_config_is_found_through_the_environment_variable(write_config, monkeypatch, tmp_path):
    path = write_config(GOOD, name="elsewhere.toml")
    monkeypatch.setenv("MODEL_MONITOR_CONFIG", str(path))
    monkeypatch.chdir(tmp_path)
    assert load_config().path == path


def test_missing_config_file_suggests_init(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MODEL_MONITOR_CONFIG", raising=False)
    with pytest.raises(ConfigError, match="model-monitor init"):
        load_config()


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("[providers.openai\ntype = 'openai'\n", "monitor.toml:1: not valid TOML"),
        (
            "[providers.openai]\ntype = 'openai'\napi_key_env = 'K'\nmax_concurency = 3\n",
            "unknown key 'max_concurency' in [providers.openai]; did you mean 'max_concurrency'?",
        ),
        (
            "[providers.openai]\ntype = 'openai'\napi_key_env = 'K'\nmax_concurrency = 'many'\n",
            "[providers.openai.max_concurrency] Input should be a valid integer",
        ),
        (
            "[providers.azure]\ntype = 'azure'\napi_key_env = 'K'\n",
            "'azure' is not a provider type; expected one of: openai, anthropic, gemini, openai-compatible",
        ),
        (
            "[providers.openai]\ntype = 'openai'\napi_key = 'sk-proj-abcdefghijklmnopqrstuvwx'\n",
            "monitor.toml:3: [providers.openai] holds a literal secret",
        ),
        (
            "[providers.openai]\ntype = 'openai'\napi_key_env = 'sk-abcdefghijklmnopqrstuvwxyz0123'\n",
            "holds a literal secret",
        ),
        ("[providers.openai]\ntype = 'openai'\n", "[providers.openai] needs api_key_env"),
        (
            "[providers.openai]\ntype = 'openai'\napi_key_env = 'not a name'\n",
            "name of an environment variable",
        ),
        ("[baseline]\ndefault = 'nowhere:model'\n", "names provider 'nowhere', not in [providers]"),
        (
            "[databse]\nurl = 'sqlite:///x.db'\n",
            "unknown key 'databse' in the top level; did you mean 'database'?",
        ),
    ],
    ids=[
        "bad-toml",
        "unknown-key",
        "wrong-type",
        "unknown-provider-type",
        "literal-key",
        "key-in-env-name",
        "missing-env-name",
        "bad-env-name",
        "unknown-baseline-provider",
        "unknown-section",
    ],
)
def test_bad_config_exits_2_with_file_key_and_expectation(write_config, body, expected):
    path = write_config(body)
    code, output = run_check(path)
    assert code == 2
    assert str(path.name) in output
    assert expected in " ".join(output.split())


def test_bad_config_writes_nothing(write_config):
    path = write_config("[providers.openai]\ntype = 'openai'\napi_key_env = 'K'\nmax_concurency = 3\n")
    before = sorted(p.name for p in path.parent.iterdir())
    code, _ = run_check(path)
    assert code == 2
    assert sorted(p.name for p in path.parent.iterdir()) == before


def test_literal_secret_is_never_echoed(write_config):
    secret = "sk-proj-abcdefghijklmnopqrstuvwx"
    code, output = run_check(write_config(f"[providers.openai]\ntype = 'openai'\napi_key = '{secret}'\n"))
    assert code == 2
    assert secret not in output
