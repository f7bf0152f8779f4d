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
from monitor.store.tables import Result

KEY_ENV = "MM_TEST_SIM_KEY"
MODEL = "gpt-sim-base"


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
    suites = root / "evals"
    suites.mkdir(parents=True, exist_ok=True)
    with (suites / "tiny.jsonl").open("w") as out:
        for i in range(samples):
            a, b = 11 + i, 7 + 2 * i
            out.write(
                json.dumps({"id": f"t{i:03d}", "vars": {"question": f"What is {a} + {b}?"}, "target": a + b})
            )
            out.write("\n")
    (suites / "tiny.yaml").write_text(
        textwrap.dedent(
            """
            name: tiny
            description: Sums, for runner tests.
            prompt:
              system: Reply with the number only.
              user: "{{ question }}"
            params: {temperature: 0, max_tokens: 16}
            graders:
              - {type: numeric}
            samples_files: [tiny.jsonl]
            """
        )
    )
    pricing = '[pricing."sim:gpt-sim-*"]\ninput = 1.0\noutput = 2.0\n' if price else ""
    url = database_url or f"sqlite:///{root / 'monitor.db'}"
    body = (
        f'[database]\nurl = "{url}"\n\n'
        f'[providers.sim]\ntype = "openai-compatible"\nbase_url = "{base_url}/v1"\n'
        f'api_key_env = "{KEY_ENV}"\n{textwrap.dedent(provider)}\n'
        f'[suites]\ndirectory = "evals"\n\n{pricing}\n{textwrap.dedent(budget)}\n{textwrap.dedent(extra)}\n'
    )
    path = root / "monitor.toml"
    path.write_text(body)
    return path


def open_workspace(config_path: Path) -> tuple[Config, Database, SuiteSpec]:
    config = load_config(config_path)
    db = open_database(config.database_url)
    (spec,) = load_suites(config.suites_dir, ["tiny"])
    return config, db, spec


def manual_run(
    db: Database, config: Config, spec: SuiteSpec, *, repeat: int = 1, model_id: str = MODEL
) -> tuple[int, str]:
    """A run created already claimed (as `eval` does); returns (run id, worker id)."""
    worker = new_worker_id()
    with db.session() as session:
        (run,) = enqueue_runs(
            session,
            config,
            provider="sim",
            model_id=model_id,
            trigger="manual",
            suites=[spec],
            repeat=repeat,
            claimed_by=worker,
        )
        return run.id, worker


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
