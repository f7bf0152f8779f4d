"""The shipped support-agent suite end to end: `eval` through the real SDK and the simulator, the
conversation with scripted tool results, the calls stored and graded, the report showing them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor.cli import main
from monitor.evals.examples import EXAMPLE_SUITES
from monitor.simulator import SimModel, Simulator
from monitor.store.db import open_database
from monitor.store.tables import Result, Run
from tests.runner_helpers import KEY_ENV, write_workspace

MODELS = [
    SimModel("gpt-sim-agent", "openai", skill=1.0, latency_ms=0, latency_jitter_ms=0),
    SimModel(
        "gpt-sim-agent-pro", "openai", skill=1.0, latency_ms=0, latency_jitter_ms=0, responses_only=True
    ),
    SimModel("claude-sim-agent", "anthropic", skill=1.0, latency_ms=0, latency_jitter_ms=0),
    SimModel("gemini-sim-agent", "gemini", skill=1.0, latency_ms=0, latency_jitter_ms=0),
    SimModel("gpt-sim-weak", "openai", skill=0.5, latency_ms=0, latency_jitter_ms=0),
    SimModel("gpt-sim-notools", "openai", tools=False, latency_ms=0, latency_jitter_ms=0),
]


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    with Simulator(models=MODELS, api_key="sim-key").running() as sim:
        monkeypatch.setenv(KEY_ENV, "sim-key")
        config = write_workspace(tmp_path, sim.base_url)
        for name in ("support-agent.yaml", "support-agent.jsonl"):
            shutil.copy(EXAMPLE_SUITES / name, tmp_path / "evals" / name)
        yield config


def evaluate(config: Path, model: str, *extra: str) -> dict:
    result = CliRunner().invoke(
        main, ["--config", str(config), "eval", f"sim:{model}", "--suite", "support-agent", "--json", *extra]
    )
    assert result.exit_code in (0, 1), result.output
    return json.loads(result.stdout)


def results(config: Path) -> list[Result]:
    database = open_database(f"sqlite:///{config.parent / 'monitor.db'}")
    with database.session() as session:
        rows = list(session.scalars(select(Result).order_by(Result.sample_key)))
    database.dispose()
    return rows


def test_a_perfect_agent_scores_every_sample(workspace: Path) -> None:
    evaluate(workspace, "gpt-sim-agent")
    rows = results(workspace)
    assert len(rows) == 60
    assert all(r.passed for r in rows), [(r.sample_key, r.grades) for r in rows if not r.passed]


def test_scripted_results_make_a_conversation_and_every_call_is_stored(workspace: Path) -> None:
    evaluate(workspace, "gpt-sim-agent")
    first = next(r for r in results(workspace) if r.sample_key == "agent-001")
    assert [c["name"] for c in first.tool_calls] == ["get_order_status"]
    assert json.loads(first.tool_calls[0]["arguments"]) == {"order_id": "NW-72202"}
    assert "processing" in first.output  # the answer after the scripted result


def test_a_no_tool_sample_is_answered_in_text_and_graded_as_such(workspace: Path) -> None:
    evaluate(workspace, "gpt-sim-agent")
    thanks = next(r for r in results(workspace) if r.sample_key == "agent-050")
    assert thanks.tool_calls is None and thanks.output and thanks.passed


def test_a_weaker_model_makes_tool_mistakes_that_the_grader_catches(workspace: Path) -> None:
    evaluate(workspace, "gpt-sim-weak")
    rows = results(workspace)
    failed = [r for r in rows if r.passed is False]
    assert 5 < len(failed) < 55
    assert all(r.grades[0]["detail"] for r in failed)


def test_a_model_without_tools_records_an_error_per_sample_not_a_plain_answer(workspace: Path) -> None:
    evaluate(workspace, "gpt-sim-notools")
    rows = results(workspace)
    assert {r.error_kind for r in rows} == {"bad_request"}
    assert all(r.score is None for r in rows)


def test_the_run_report_shows_the_calls_escaped(workspace: Path) -> None:
    evaluate(workspace, "gpt-sim-agent")
    database = open_database(f"sqlite:///{workspace.parent / 'monitor.db'}")
    with database.session() as session:
        run_id = session.scalar(select(Run.id))
    database.dispose()
    result = CliRunner().invoke(main, ["--config", str(workspace), "report", str(run_id)])
    assert result.exit_code == 0, result.output
    page = next((workspace.parent / "reports").rglob(f"*{run_id}*.html")).read_text()
    assert "→ get_order_status({&#34;order_id&#34;: &#34;NW-72202&#34;})" in page


PROVIDER_TYPES = {
    "openai chat": ("openai", "/v1", "gpt-sim-agent"),
    "openai responses": ("openai", "/v1", "gpt-sim-agent-pro"),
    "anthropic": ("anthropic", "", "claude-sim-agent"),
    "gemini": ("gemini", "", "gemini-sim-agent"),
    "openai-compatible": ("openai-compatible", "/v1", "gpt-sim-agent"),
}


@pytest.mark.parametrize("kind", list(PROVIDER_TYPES))
@pytest.mark.parametrize("suite", ["support-agent", "extraction[structured]"])
def test_the_tool_and_structured_suites_run_on_every_provider_type(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str, suite: str
) -> None:
    provider_type, path, model = PROVIDER_TYPES[kind]
    with Simulator(models=MODELS, api_key="sim-key").running() as sim:
        monkeypatch.setenv(KEY_ENV, "sim-key")
        config = write_workspace(tmp_path, sim.base_url)
        for name in ("support-agent.yaml", "support-agent.jsonl", "extraction.yaml", "extraction.jsonl"):
            shutil.copy(EXAMPLE_SUITES / name, tmp_path / "evals" / name)
        text = config.read_text()
        text = text.replace('type = "openai-compatible"', f'type = "{provider_type}"')
        config.write_text(
            text.replace(f'base_url = "{sim.base_url}/v1"', f'base_url = "{sim.base_url}{path}"')
        )
        result = CliRunner().invoke(
            main, ["--config", str(config), "eval", f"sim:{model}", "--suite", suite, "--json"]
        )
        assert result.exit_code == 0, result.output
    rows = results(config)
    assert rows and all(r.error_kind is None for r in rows), {r.error_message for r in rows}
    assert sum(bool(r.passed) for r in rows) / len(rows) > 0.9
