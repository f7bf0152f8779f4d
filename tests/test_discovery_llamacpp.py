"""Polling a keyless llama.cpp-like server: aliases recorded, its request-time `created` never stored."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import event, select

from monitor.core.config import load_config
from monitor.pipeline.poll.discovery import poll
from monitor.simulator import SimModel, Simulator
from monitor.store.db import Database
from monitor.store.tables import Event, Model


def llama(model_id: str, **kw: Any) -> SimModel:
    return SimModel(model_id, "openai", aliases=[model_id, f"{model_id}-alias"], created_now=True, **kw)


def test_llama_cpp_models_keep_aliases_and_no_moving_creation_date(
    any_db: Database, make_simulator: Callable[..., Simulator], write_config: Callable[..., Path]
) -> None:
    sim = make_simulator(
        api_key=None, models=[llama("gemma-sim"), llama("gemma-sim-next", release_after_polls=1)]
    )
    config = load_config(
        write_config(f'[providers.local]\ntype = "openai-compatible"\nbase_url = "{sim.base_url}/v1"\n')
    )
    poll(any_db, config)
    poll(any_db, config)
    with any_db.session() as s:
        models = {m.model_id: m for m in s.scalars(select(Model))}
        (new,) = s.scalars(select(Event).where(Event.kind == "new_model"))
    assert set(models) == {"gemma-sim", "gemma-sim-next"}
    assert all(m.created_at is None and "created" not in m.raw for m in models.values())
    assert models["gemma-sim"].raw["aliases"] == ["gemma-sim", "gemma-sim-alias"]
    assert new.model_id == "gemma-sim-next" and new.detail["aliases"] == ["gemma-sim-next-alias"]
    assert sim.stats()["with_authorization"] == 0
    writes: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SELECT", "PRAGMA")):
            writes.append(" ".join(statement.split())[:60])

    event.listen(any_db.engine, "before_cursor_execute", record)
    try:
        poll(any_db, config)
    finally:
        event.remove(any_db.engine, "before_cursor_execute", record)
    # The server's ever-new `created` is no change: only last_seen and the poll row are written.
    assert [w.split(" SET")[0].split(" (")[0] for w in writes] == [
        "UPDATE models",
        "INSERT INTO provider_polls",
    ]
