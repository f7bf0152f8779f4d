"""Helpers for the runner tests: a workspace (monitor.toml + a small suite) pointing at a simulator."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from monitor.core.config import Config, load_config
from monitor.evals.loader import SuiteSpec, load_suites
from monitor.pipeline.queue import enqueue_runs, new_worker_id
from monitor.store.db import Database, open_database
from monitor.store.tables import Result, Run
from tests.factories import add_event

KEY_ENV = "MM_TEST_SIM_KEY"
MODEL = "gpt-sim-base"


def sum_samples(count: int, prefix: str) -> list[dict[str, Any]]:
    """`count` additions (11 + i plus 7 + 2i) with ids `prefix000`, `prefix001`, ..., numeric targets."""
    return [
        {
            "id": f"{prefix}{i:03d}",
            "vars": {"question": f"What is {11 + i} + {7 + 2 * i}?"},
            "target": (11 + i) + (7 + 2 * i),
        }
        for i in range(count)
    ]


def write_suite(
    suites: Path, name: str, samples: list[dict[str, Any]], *, description: str, batch: bool | None = None
) -> None:
    """Suite `name` in `suites`: the question as the prompt, the number only as the answer, graded numerically
    (`batch` written only when given)."""
    suites.mkdir(parents=True, exist_ok=True)
    (suites / f"{name}.jsonl").write_text("".join(json.dumps(sample) + "\n" for sample in samples))
    batch_line = "" if batch is None else f"batch: {str(batch).lower()}\n"
    (suites / f"{name}.yaml").write_text(
        textwrap.dedent(
            f"""
            name: {name}
            description: {description}
            prompt:
              system: Reply with the number only.
              user: "{{{{ question }}}}"
            params: {{temperature: 0, max_tokens: 16}}
            graders:
              - {{type: numeric}}
            samples_files: [{name}.jsonl]
            """
        )
        + batch_line
    )


def write_config(root: Path, providers: str, *, database_url: str | None = None, extra: str = "") -> Path:
    """root/monitor.toml: the database (root/monitor.db unless given), these provider tables, the suites in
    root/evals, then `extra` (pricing, budgets, other tables)."""
    url = database_url or f"sqlite:///{root / 'monitor.db'}"
    path = root / "monitor.toml"
    path.write_text(f'[database]\nurl = "{url}"\n\n{providers}\n[suites]\ndirectory = "evals"\n\n{extra}\n')
    return path


def write_workspace(
    root: Path,
    base_url: str,
    *,
    samples: int = 12,
    provider: str = "",
    price: bool = True,
    budget: str = "",
    extra: str = "",
    database_url: str | None = None,
) -> Path:
    """monitor.toml for provider `sim` at the simulator plus suite `tiny` (sums) in root/evals."""
    write_suite(root / "evals", "tiny", sum_samples(samples, "t"), description="Sums, for runner tests.")
    pricing = '[pricing."sim:gpt-sim-*"]\ninput = 1.0\noutput = 2.0\n' if price else ""
    return write_config(
        root,
        f'[providers.sim]\ntype = "openai-compatible"\nbase_url = "{base_url}/v1"\n'
        f'api_key_env = "{KEY_ENV}"\n{textwrap.dedent(provider)}\n',
        database_url=database_url,
        extra=f"{pricing}\n{textwrap.dedent(budget)}\n{textwrap.dedent(extra)}",
    )


def open_workspace(config_path: Path) -> tuple[Config, Database, SuiteSpec]:
    config = load_config(config_path)
    db = open_database(config.database_url)
    (spec,) = load_suites(config.suites_dir, ["tiny"])
    return config, db, spec


def queue_event_run(db: Database, config: Config, spec: SuiteSpec, model_key: str) -> tuple[int, int]:
    """A new-model event of `model_key` ("provider:model") with its run queued; (run id, event id)."""
    provider, _, model_id = model_key.partition(":")
    with db.session() as session:
        event = add_event(session, "new_model", model_key)
        (run,) = enqueue_runs(
            session,
            config,
            provider=provider,
            model_id=model_id,
            trigger="new_model",
            event_id=event.id,
            suites=[spec],
        )
        return run.id, event.id


def manual_run(
    db: Database,
    config: Config,
    spec: SuiteSpec,
    *,
    repeat: int = 1,
    model_id: str = MODEL,
    provider: str = "sim",
) -> tuple[int, str]:
    """A run created already claimed (as `eval` does); returns (run id, worker id)."""
    worker = new_worker_id()
    with db.session() as session:
        (run,) = enqueue_runs(
            session,
            config,
            provider=provider,
            model_id=model_id,
            trigger="manual",
            suites=[spec],
            repeat=repeat,
            claimed_by=worker,
        )
        return run.id, worker


def run_row(db: Database, run_id: int) -> Run:
    """The run row, detached, to read after its session."""
    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        session.expunge(run)
        return run


def stored(db: Database, run_id: int) -> list[dict[str, Any]]:
    with db.session() as session:
        rows = session.execute(
            select(Result).where(Result.run_id == run_id).order_by(Result.sample_key, Result.repeat)
        ).scalars()
        return [
            {
                "key": r.sample_key,
                "repeat": r.repeat,
                "output": r.output,
                "score": r.score,
                "passed": r.passed,
                "error_kind": r.error_kind,
                "attempts": r.attempts,
                "cost": r.cost_usd,
            }
            for r in rows
        ]


def result_count(db: Database, run_id: int) -> int:
    with db.session() as session:
        return int(session.scalar(select(func.count(Result.id)).where(Result.run_id == run_id)) or 0)
