"""The real loop on llama.cpp's `llama-server` (Gemma 3 270M): poll, eval, compare, report, kill, resume.

The model is tiny and mostly wrong: these tests assert the plumbing (answers, tokens, latency,
finish reasons, models and runs recorded from a server nobody here wrote), never its skill.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from monitor.cli import main
from monitor.store.db import open_database
from monitor.store.tables import Event, Model, Result, Run
from tests.daemon_support import WAIT_S, wait_for
from tests.fixtures.llamacpp import LlamaServer

pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

MAX_TOKENS = 16
QUESTIONS = [
    ("What is 2 + 3?", 5),
    ("What is 10 - 4?", 6),
    ("What is 3 times 3?", 9),
    ("How many legs does a cat have?", 4),
    ("What is 7 + 1?", 8),
    ("What is half of 10?", 5),
    ("What is 6 + 6?", 12),
    ("What is 9 - 2?", 7),
]
KEY_ENV = "MM_TEST_LLAMA_KEY"
OUTAGE_S = 25.0
"""How long the killed server stays down at most: longer than the breaker's 10 s before it opens."""

StartLlama = Callable[..., LlamaServer]


def write_workspace(
    root: Path, server: LlamaServer, *, samples: int, concurrency: int = 2, provider: str = ""
) -> Path:
    """monitor.toml with provider `llama` at the server (keyless unless `provider` adds a key; free by
    a zero-price glob unless `provider` says `free = true`) and suite `tiny`: `samples` short
    questions, greedy, MAX_TOKENS at most."""
    evals = root / "evals"
    evals.mkdir(parents=True, exist_ok=True)
    with (evals / "tiny.jsonl").open("w") as out:
        for i, (question, answer) in enumerate(QUESTIONS[:samples]):
            out.write(json.dumps({"id": f"q{i}", "vars": {"question": question}, "target": answer}) + "\n")
    (evals / "tiny.yaml").write_text(
        textwrap.dedent(
            f"""
            name: tiny
            description: Short questions for a small local model.
            prompt:
              system: Answer with a number only.
              user: "{{{{ question }}}}"
            params: {{temperature: 0, max_tokens: {MAX_TOKENS}}}
            graders:
              - {{type: numeric}}
            samples_files: [tiny.jsonl]
            """
        )
    )
    config = root / "monitor.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{root / "monitor.db"}"\n\n'
        f'[providers.llama]\ntype = "openai-compatible"\nbase_url = "{server.base_url}"\n'
        f"max_concurrency = {concurrency}\ntimeout_s = 120\n{provider}\n"
        '[suites]\ndirectory = "evals"\n\n'
        + ("" if "free = true" in provider else '[pricing."llama:*"]\ninput = 0.0\noutput = 0.0\n')
    )
    return config


def cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


def cli_json(config: Path, *args: str) -> Any:
    code, output = cli(config, *args, "--json")
    assert code == 0, output
    return json.loads(output)


def db_rows(config: Path, statement: Any) -> list[Any]:
    db = open_database(f"sqlite:///{config.parent / 'monitor.db'}")
    with db.session() as session:
        rows = list(session.scalars(statement).all())
        session.expunge_all()
    db.dispose()
    return rows


def results(config: Path, run_id: int) -> list[Result]:
    return db_rows(config, select(Result).where(Result.run_id == run_id).order_by(Result.sample_key))


def result_count(config: Path) -> int:
    db = open_database(f"sqlite:///{config.parent / 'monitor.db'}")
    with db.session() as session:
        count = session.scalar(select(func.count(Result.id))) or 0
    db.dispose()
    return int(count)


def errored_count(config: Path) -> int:
    db = open_database(f"sqlite:///{config.parent / 'monitor.db'}")
    with db.session() as session:
        count = session.scalar(select(func.count(Result.id)).where(Result.error_kind.is_not(None))) or 0
    db.dispose()
    return int(count)


def assert_answered(rows: list[Result], samples: int, alias: str) -> None:
    """Every sample answered once, by the server under `alias`, with what its response said."""
    assert sorted(r.sample_key for r in rows) == [f"q{i}" for i in range(samples)]
    for row in rows:
        assert row.error_kind is None, (row.sample_key, row.error_kind, row.error_message)
        assert row.output is not None and row.output.strip(), row.sample_key
        assert row.input_tokens is not None and row.input_tokens > 0
        assert row.output_tokens is not None and 0 < row.output_tokens <= MAX_TOKENS
        assert row.latency_ms is not None and row.latency_ms > 0
        # llama.cpp's finish_reason, stored as sent: "length" exactly when max_tokens cut the answer.
        assert row.finish_reason in ("stop", "length"), row.finish_reason
        if row.finish_reason == "length":
            assert row.output_tokens == MAX_TOKENS
        assert row.resolved_model == alias
        assert row.system_fingerprint  # llama.cpp's build id, e.g. "b0-unknown" for a build without git
        assert row.score is not None and row.cost_usd == 0.0


def test_poll_eval_restart_under_a_new_alias_compare_and_report(
    tmp_path: Path, start_llama: StartLlama
) -> None:
    server = start_llama(alias="gemma-a")
    config = write_workspace(tmp_path, server, samples=4)

    first = cli_json(config, "poll")
    (outcome,) = first["providers"]
    assert (outcome["name"], outcome["ok"], outcome["bootstrap"]) == ("llama", True, True)
    assert outcome["new"] == ["gemma-a"] and outcome["listed"] == 1
    (model,) = db_rows(config, select(Model))
    assert (model.provider, model.model_id, model.owned_by) == ("llama", "gemma-a", "llamacpp")
    again = cli_json(config, "poll")["providers"][0]
    assert (again["ok"], again["new"], again["listed"]) == (True, [], 1)
    # FINDING (providers, issue 11 §7): llama.cpp's `created` is its clock at each request, not the
    # model's date; stored as created_at it moves on every poll and ends after first_seen.
    (polled_twice,) = db_rows(config, select(Model))
    assert polled_twice.created_at == model.created_at
    assert model.created_at is None or model.created_at <= model.first_seen

    (run_a,) = cli_json(config, "eval", "llama:gemma-a", "--suite", "tiny")
    assert (run_a["status"], run_a["done"], run_a["errored"]) == ("done", 4, 0)
    assert run_a["input_tokens"] > 0 and run_a["output_tokens"] > 0
    assert run_a["latency_p50_ms"] is not None and run_a["latency_p50_ms"] > 0
    assert run_a["cost_usd"] == 0.0
    assert_answered(results(config, run_a["run_id"]), 4, "gemma-a")

    server.restart(alias="gemma-b")
    second = cli_json(config, "poll")
    (outcome,) = second["providers"]
    assert outcome["ok"] is True and outcome["bootstrap"] is False
    assert outcome["new"] == ["gemma-b"] and outcome["removed"] == []
    models = {m.model_id: m for m in db_rows(config, select(Model))}
    assert set(models) == {"gemma-a", "gemma-b"}
    assert models["gemma-a"].removed_at is None and models["gemma-a"].missing_polls == 1
    (event,) = db_rows(config, select(Event).where(Event.kind == "new_model"))
    assert (event.provider, event.model_id) == ("llama", "gemma-b")

    (run_b,) = cli_json(config, "eval", "llama:gemma-b", "--suite", "tiny")
    assert (run_b["status"], run_b["done"], run_b["errored"]) == ("done", 4, 0)
    assert_answered(results(config, run_b["run_id"]), 4, "gemma-b")

    comparison = cli_json(config, "compare", "llama:gemma-b", "llama:gemma-a")
    (suite,) = comparison["suites"]
    assert suite["suite"] == "tiny"
    assert (suite["candidate"]["run_id"], suite["baseline"]["run_id"]) == (run_b["run_id"], run_a["run_id"])
    assert suite["candidate"]["errored"] == 0 and suite["baseline"]["errored"] == 0
    assert suite["candidate"]["samples"] == 4 and suite["paired"] is not None
    assert suite["candidate"]["resolved_model"] == "gemma-b"
    code, table = cli(config, "compare", "llama:gemma-b", "llama:gemma-a")
    assert code == 0 and "llama:gemma-b" in table

    paths = [Path(p) for p in cli_json(config, "report", str(run_b["run_id"]))]
    assert [p.parent.name for p in paths] == ["runs", "reports"] and all(p.is_file() for p in paths)
    page = paths[0].read_text()
    assert "llama:gemma-b" in page and "tiny" in page
    everything = [Path(p) for p in cli_json(config, "report", "--all")]
    assert {p.parent.name for p in everything} >= {"runs", "events", "reports"}


def run_eval_through_an_outage(config: Path, server: LlamaServer) -> tuple[int, str, str]:
    """`eval` in a subprocess; llama-server killed once two answers are stored, back after the outage.

    The server stays down until the run stores an error or ends, or OUTAGE_S passes (a pausing run
    does neither); then it starts again on the same port. Returns the eval's exit status and output.
    """
    proc = subprocess.Popen(
        [*monitor_command(config), "eval", f"llama:{server.alias}", "--suite", "tiny", "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: result_count(config) >= 2 or proc.poll() is not None, "2 stored answers")
        assert proc.poll() is None, f"the eval ended before the server was killed: {proc.communicate()}"
        server.kill()
        outage_ends = time.monotonic() + OUTAGE_S
        while errored_count(config) == 0 and proc.poll() is None and time.monotonic() < outage_ends:
            time.sleep(0.2)
        server.start()
        out, err = proc.communicate(timeout=WAIT_S * 5)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return proc.returncode, out, err


def monitor_command(config: Path) -> list[str]:
    return [sys.executable, "-m", "monitor", "--config", str(config)]


def test_a_server_killed_and_back_within_the_pause_window_ends_with_every_sample_answered(
    tmp_path: Path, start_llama: StartLlama
) -> None:
    samples = len(QUESTIONS)
    server = start_llama(alias="gemma-k")
    config = write_workspace(tmp_path, server, samples=samples, concurrency=1)
    code, out, err = run_eval_through_an_outage(config, server)
    # docs/running.md: an unreachable provider pauses the run (outage_pause_s, 900 s by default)
    # instead of turning the remaining samples into errors; it continues once the server answers.
    assert code == 0, err[-3000:]
    (summary,) = json.loads(out)
    assert (summary["status"], summary["done"], summary["errored"]) == ("done", samples, 0), err[-3000:]
    rows = results(config, summary["run_id"])
    assert len(rows) == len({(r.sample_key, r.repeat) for r in rows}) == samples
    assert_answered(rows, samples, "gemma-k")


def test_a_run_stopped_by_an_outage_past_its_pause_window_is_completed_by_resume(
    tmp_path: Path, start_llama: StartLlama
) -> None:
    samples = len(QUESTIONS)
    server = start_llama(alias="gemma-r")
    config = write_workspace(
        tmp_path, server, samples=samples, concurrency=1, provider="outage_pause_s = 0\n"
    )
    code, out, err = run_eval_through_an_outage(config, server)
    (run,) = db_rows(config, select(Run))
    errored = errored_count(config)
    # docs/running.md: past the pause window the run stops `interrupted` (exit 130); a run that ends
    # with errored samples is `done_with_errors` (exit 1), never `done`. Both are resumable.
    assert not (run.status == "done" and errored), f"run ended done with {errored} errors: {err[-3000:]}"
    assert run.status in ("interrupted", "done_with_errors"), (run.status, run.error, err[-3000:])
    assert code == {"done_with_errors": 1, "interrupted": 130}[run.status]
    assert json.loads(out)[0]["status"] == run.status
    kept = {(r.id, r.sample_key, r.output) for r in results(config, run.id) if r.error_kind is None}
    assert 2 <= len(kept) < samples
    resumed = subprocess.run(
        [*monitor_command(config), "resume", str(run.id), "--json"],
        capture_output=True,
        text=True,
        timeout=WAIT_S * 5,
    )
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr[-3000:]
    (summary,) = json.loads(resumed.stdout)
    assert (summary["status"], summary["done"], summary["errored"]) == ("done", samples, 0)
    rows = results(config, run.id)
    assert len(rows) == len({(r.sample_key, r.repeat) for r in rows}) == samples
    assert_answered(rows, samples, "gemma-r")
    assert kept <= {(r.id, r.sample_key, r.output) for r in rows}  # answered before: kept, not asked again


def test_a_keyed_free_server_needs_its_key_and_no_yes_under_a_budget(
    tmp_path: Path, start_llama: StartLlama, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = start_llama(alias="gemma-key,gemma-key-2", api_key="local-secret")
    config = write_workspace(
        tmp_path, server, samples=1, provider=f'api_key_env = "{KEY_ENV}"\nfree = true\n'
    )
    with config.open("a") as out:
        out.write("\n[budget]\nmax_cost_usd_per_run = 0.01\n")
    monkeypatch.setenv(KEY_ENV, "wrong-secret")
    code, output = cli(config, "poll", "--json")
    assert code == 1, output
    (outcome,) = json.loads(output)["providers"]
    assert (outcome["ok"], outcome["error_kind"]) == (False, "auth")
    assert "wrong-secret" not in output and "local-secret" not in output
    monkeypatch.setenv(KEY_ENV, "local-secret")
    (outcome,) = cli_json(config, "poll")["providers"]
    assert outcome["ok"] is True and outcome["new"] == ["gemma-key"]
    # `--alias a,b` lists one model with `aliases: [a, b]`: one model tracked, its other name kept.
    (model,) = db_rows(config, select(Model))
    assert model.model_id == "gemma-key" and "gemma-key-2" in json.dumps(model.raw)
    # `free = true`: priced at 0, so an eval under a budget needs no --yes.
    (run,) = cli_json(config, "eval", "llama:gemma-key", "--suite", "tiny")
    assert (run["status"], run["done"], run["errored"]) == ("done", 1, 0)
    assert run["cost_usd"] == 0.0 and run["estimated_cost_usd"] == 0.0
