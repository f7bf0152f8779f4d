"""Simulator scripts: releases and removals by poll count and clock, faults and options, clear errors."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import anthropic
import openai
import pytest
import requests

from monitor.core.errors import InputError
from monitor.simulator import SimModel, Simulator, load_script
from tests.daemon_support import WAIT_S


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(textwrap.dedent(body))
    return path


def openai_ids(sim: Simulator) -> list[str]:
    client = openai.OpenAI(api_key="sim-key", base_url=sim.base_url + "/v1", max_retries=0, timeout=30)
    return [m.id for m in client.models.list()]


def anthropic_ids(sim: Simulator) -> list[str]:
    client = anthropic.Anthropic(api_key="sim-key", base_url=sim.base_url, max_retries=0, timeout=30)
    return [m.id for m in client.models.list(limit=1)]


def test_script_loads_models_faults_and_options(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        rpm_limit: 600
        latency_scale: 0.5
        models:
          - {id: gpt-sim-a, provider: openai, skill: 0.9, latency_ms: 100}
          - {id: claude-sim-b, provider: anthropic, release_at: "2026-11-25T10:00:00Z"}
        faults:
          - {kind: rate_limit, model: gpt-sim-a, count: 2, retry_after: 0.01}
        """,
    )
    models, faults, options = load_script(path)
    assert [m.id for m in models] == ["gpt-sim-a", "claude-sim-b"]
    assert models[1].release_at == datetime(2026, 11, 25, 10, tzinfo=UTC)
    assert faults[0].kind == "rate_limit" and faults[0].count == 2
    assert options == {"rpm_limit": 600, "latency_scale": 0.5}


def test_release_after_polls_lists_the_model_from_the_next_poll(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    models, _, _ = load_script(
        write(
            tmp_path,
            """
            models:
              - {id: gpt-sim-old, provider: openai}
              - {id: gpt-sim-new, provider: openai, release_after_polls: 2}
            """,
        )
    )
    sim = make_simulator(models=models)
    assert [openai_ids(sim) for _ in range(3)] == [
        ["gpt-sim-old"],
        ["gpt-sim-old"],
        ["gpt-sim-old", "gpt-sim-new"],
    ]


def test_remove_after_polls_drops_the_model_and_its_chat(
    tmp_path: Path, make_simulator: Callable[..., Simulator]
) -> None:
    models, _, _ = load_script(
        write(
            tmp_path,
            """
            models:
              - {id: gpt-sim-keep, provider: openai}
              - {id: gpt-sim-gone, provider: openai, remove_after_polls: 1}
            """,
        )
    )
    sim = make_simulator(models=models)
    assert openai_ids(sim) == ["gpt-sim-keep", "gpt-sim-gone"]
    assert openai_ids(sim) == ["gpt-sim-keep"]
    client = openai.OpenAI(api_key="sim-key", base_url=sim.base_url + "/v1", max_retries=0)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="gpt-sim-gone", messages=[{"role": "user", "content": "hi"}])


def test_polls_are_counted_per_provider_and_per_complete_list(
    make_simulator: Callable[..., Simulator],
) -> None:
    models = [
        SimModel("claude-sim-a-20260101", "anthropic", created=datetime(2026, 1, 1, tzinfo=UTC)),
        SimModel("claude-sim-b-20260102", "anthropic", created=datetime(2026, 1, 2, tzinfo=UTC)),
        SimModel(
            "claude-sim-c-20260103",
            "anthropic",
            release_after_polls=1,
            created=datetime(2026, 1, 3, tzinfo=UTC),
        ),
        SimModel("gpt-sim-a", "openai"),
    ]
    sim = make_simulator(models=models)
    assert anthropic_ids(sim) == ["claude-sim-b-20260102", "claude-sim-a-20260101"]
    openai_ids(sim)
    assert anthropic_ids(sim) == ["claude-sim-c-20260103", "claude-sim-b-20260102", "claude-sim-a-20260101"]
    assert sim.stats()["polls"] == {"openai": 1, "anthropic": 2, "gemini": 0}


def test_release_at_and_remove_at_follow_the_clock(make_simulator: Callable[..., Simulator]) -> None:
    now = datetime.now(UTC)
    models = [
        SimModel("gpt-sim-future", release_at=now + timedelta(days=1)),
        SimModel("gpt-sim-past", release_at=now - timedelta(days=1)),
        SimModel("gpt-sim-retired", remove_at=now - timedelta(seconds=1)),
    ]
    sim = make_simulator(models=models)
    assert openai_ids(sim) == ["gpt-sim-past"]


def test_release_and_remove_act_at_once(make_simulator: Callable[..., Simulator]) -> None:
    sim = make_simulator(models=[SimModel("gpt-sim-a"), SimModel("gpt-sim-b", release_after_polls=100)])
    sim.release("gpt-sim-b")
    sim.remove("gpt-sim-a")
    assert openai_ids(sim) == ["gpt-sim-b"]


def test_invalid_yaml_names_the_file_and_line(tmp_path: Path) -> None:
    path = write(tmp_path, "models:\n  - {id: a\n")
    with pytest.raises(InputError) as info:
        load_script(path)
    assert str(path) in str(info.value) and info.value.line is not None


def test_unknown_model_key_names_the_item_and_its_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
        models:
          - {id: gpt-sim-a}
          - {id: gpt-sim-b, skil: 0.5}
        """,
    )
    with pytest.raises(InputError) as info:
        load_script(path)
    assert "models[1]" in str(info.value) and "'skil'" in str(info.value)
    assert info.value.line == 4


def test_bad_fault_kind_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "faults:\n  - {kind: meltdown}\n")
    with pytest.raises(InputError, match="faults\\[0\\]: kind must be one of"):
        load_script(path)


def test_bad_release_time_is_reported(tmp_path: Path) -> None:
    path = write(tmp_path, "models:\n  - {id: a, release_at: next tuesday}\n")
    with pytest.raises(InputError, match="release_at: not an ISO 8601 date-time"):
        load_script(path)


def test_unknown_top_level_key_is_reported(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="unknown key 'modles'"):
        load_script(write(tmp_path, "modles: []\n"))


def _cli(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "monitor", "simulate", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


@pytest.mark.slow
def test_simulate_command_serves_the_script_until_sigterm(tmp_path: Path) -> None:
    script = write(tmp_path, "models:\n  - {id: gpt-sim-cli, provider: openai}\n")
    process = _cli("--port", "0", "--script", str(script))
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("simulator listening on http://127.0.0.1:")
        base = line.split(" on ")[1].strip()
        body = requests.get(
            base + "/v1/models", headers={"Authorization": "Bearer sim-key"}, timeout=WAIT_S
        ).json()
        assert [m["id"] for m in body["data"]] == ["gpt-sim-cli"]
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=WAIT_S) == 0


def test_simulate_command_with_a_bad_script_exits_2_naming_the_file(tmp_path: Path) -> None:
    script = write(tmp_path, "models:\n  - {id: a, provider: azure}\n")
    process = _cli("--port", "0", "--script", str(script))
    _, err = process.communicate(timeout=WAIT_S)
    assert process.returncode == 2
    assert str(script) in err and "provider must be one of" in err
