"""`init` names a baseline only of a provider whose key is set, so the daemon can always call it."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.cli.setup import init_template
from monitor.core.config import load_config, parse_config

TEMPLATE = files("monitor").joinpath("init_template.toml").read_text()


@pytest.mark.parametrize(
    ("environ", "baseline", "watch"),
    [
        ({"OPENAI_API_KEY": "x", "ANTHROPIC_API_KEY": "y"}, ["openai:gpt-4.1"], ["openai:gpt-4o"]),
        ({"ANTHROPIC_API_KEY": "y"}, ["anthropic:claude-sonnet-4-5"], []),
        ({}, [], []),
        ({"OPENAI_API_KEY": ""}, [], []),
    ],
)
def test_the_baseline_is_of_a_provider_whose_key_is_set(
    environ: dict[str, str], baseline: list[str], watch: list[str]
) -> None:
    text, chosen = init_template(TEMPLATE, environ)
    config = parse_config(text, None)
    assert config.baseline.default == baseline
    assert config.schedule.watch == watch
    assert chosen == (baseline[0] if baseline else None)


def test_init_without_keys_writes_no_baseline_and_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for key in ("OPENAI_API_KEY", "ANTHROPIC_API_KEY", "MODEL_MONITOR_CONFIG"):
        monkeypatch.delenv(key, raising=False)
    result = CliRunner().invoke(main, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert "baseline: none yet" in result.output
    config = load_config(tmp_path / "ws" / "monitor.toml")
    assert config.baseline.default == [] and config.schedule.watch == []
    assert config.price_for("openai:gpt-4.1").source.startswith("catalogue")


def test_init_with_an_anthropic_key_compares_with_claude(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("MODEL_MONITOR_CONFIG", raising=False)
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-test")
    result = CliRunner().invoke(main, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    config = load_config(tmp_path / "ws" / "monitor.toml")
    assert config.baseline.default == ["anthropic:claude-sonnet-4-5"]
    assert config.price_for("anthropic:claude-sonnet-4-5").source.startswith("catalogue")


def test_the_template_says_how_to_make_a_local_server_free() -> None:
    assert "free = true" in TEMPLATE
    assert '[pricing."local:*"]' in TEMPLATE
