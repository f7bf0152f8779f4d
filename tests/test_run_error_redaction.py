"""An unexpected exception stored in `runs.error` has the configured keys (and key-shaped tokens) redacted."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from monitor.pipeline.run.engine import RunExecution
from monitor.pipeline.run.work import execute_run
from monitor.store.tables import Run
from tests.runner_helpers import KEY_ENV, manual_run, open_workspace, write_workspace

SECRET = "mm-live-7f3a9c2e41b8d605"


def test_an_unexpected_exception_holding_the_api_key_is_stored_redacted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, SECRET)
    config, db, spec = open_workspace(write_workspace(tmp_path, "http://127.0.0.1:9"))
    run_id, worker = manual_run(db, config, spec)

    async def crash(self: RunExecution, *args: object) -> str:
        raise RuntimeError(f"client state dump: api_key={SECRET} fallback=sk-proj-abcdefghijklmnop123")

    monkeypatch.setattr(RunExecution, "execute", crash)

    with pytest.raises(RuntimeError):
        asyncio.run(execute_run(db, config, run_id, worker_id=worker))

    with db.session() as session:
        run = session.get(Run, run_id)
        assert run is not None
        assert run.status == "failed"
        error = run.error or ""
    assert error.startswith("RuntimeError: client state dump")
    assert SECRET not in error
    assert "sk-proj-abcdefghijklmnop123" not in error
    assert error.count("[redacted]") == 2
