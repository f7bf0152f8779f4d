"""A sharply shrunken "successful" list removes nothing until repeated; a wider filter brings no release."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from monitor.core.config import Config, load_config
from monitor.pipeline.poll.discovery import poll
from monitor.pipeline.poll.record import ProviderOutcome
from monitor.pipeline.poll.trust import CONFIRM_POLLS, suspect_reason
from monitor.service.status import collect_status
from monitor.simulator import SimModel, Simulator
from monitor.store.db import Database
from monitor.store.tables import Event, Model, ProviderPoll

KEY = "suspect-sim-key"
KEY_ENV = "MM_SUSPECT_KEY"
FOUR = ["gpt-sim-a", "gpt-sim-b", "gpt-sim-c", "gpt-sim-d"]


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


@pytest.fixture
def configure(write_config: Callable[..., Path]) -> Callable[..., Config]:
    """`configure(simulator, extra)`: a monitor.toml whose provider `oa` lists that simulator's models."""
    counter = iter(range(1000))

    def make(sim: Simulator, extra: str = "") -> Config:
        body = (
            f'[providers.oa]\ntype = "openai"\nbase_url = "{sim.base_url}/v1"\napi_key_env = "{KEY_ENV}"\n'
            f"max_retries = 0\ntimeout_s = 30\n{extra}\n"
        )
        return load_config(write_config(body, name=f"monitor-{next(counter)}.toml"))

    return make


def listing(make_simulator: Callable[..., Simulator], ids: list[str]) -> Simulator:
    return make_simulator(api_key=KEY, models=[SimModel(i) for i in ids])


def once(db: Database, config: Config) -> ProviderOutcome:
    (outcome,) = poll(db, config).outcomes
    return outcome


def models(db: Database) -> dict[str, Model]:
    with db.session() as s:
        return {m.model_id: m for m in s.scalars(select(Model))}


def event_kinds(db: Database) -> list[tuple[str, str]]:
    with db.session() as s:
        return [(e.kind, e.model_id) for e in s.scalars(select(Event).order_by(Event.id))]


def test_an_empty_successful_list_is_suspect_recorded_reported_and_removes_nothing(
    any_db: Database,
    make_simulator: Callable[..., Simulator],
    configure: Callable[..., Config],
    caplog: pytest.LogCaptureFixture,
) -> None:
    once(any_db, configure(listing(make_simulator, FOUR)))
    empty = configure(listing(make_simulator, []))

    with caplog.at_level(logging.WARNING, logger="monitor.pipeline.poll"):
        outcomes = [once(any_db, empty) for _ in range(CONFIRM_POLLS - 1)]

    assert all(not o.ok and o.error_kind == "suspect" for o in outcomes)
    assert "4 of 4 known models missing" in (outcomes[0].error or "")
    assert all(m.removed_at is None and m.missing_polls == 0 for m in models(any_db).values())
    assert event_kinds(any_db) == []
    with any_db.session() as s:
        last = s.scalars(select(ProviderPoll).order_by(ProviderPoll.id.desc())).first()
    assert last is not None and not last.ok and "suspect list" in (last.error or "")
    [shown] = collect_status(any_db, empty).polls
    assert shown.ok is False and "suspect list: 4 of 4 known models missing" in (shown.error or "")
    assert sum("suspect list" in r.getMessage() for r in caplog.records) == CONFIRM_POLLS - 1


def test_the_same_shrunken_list_on_consecutive_polls_confirms_the_removals(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    once(any_db, configure(listing(make_simulator, FOUR)))
    shrunk = configure(listing(make_simulator, FOUR[:1]))

    first = [once(any_db, shrunk) for _ in range(CONFIRM_POLLS - 1)]
    confirmed = once(any_db, shrunk)

    assert [o.error_kind for o in first] == ["suspect"] * (CONFIRM_POLLS - 1)
    assert confirmed.ok and sorted(confirmed.removed) == FOUR[1:]
    assert sorted(m for m, row in models(any_db).items() if row.removed_at is not None) == FOUR[1:]
    assert event_kinds(any_db) == [("removed_model", m) for m in FOUR[1:]]


def test_a_shrunken_list_that_keeps_changing_is_never_confirmed(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    once(any_db, configure(listing(make_simulator, FOUR)))
    one, other = configure(listing(make_simulator, FOUR[:1])), configure(listing(make_simulator, FOUR[1:2]))

    outcomes = [once(any_db, config) for config in (one, other, one, other, one)]

    assert [o.error_kind for o in outcomes] == ["suspect"] * 5
    assert all(m.removed_at is None for m in models(any_db).values())


def test_a_drop_of_half_or_less_is_an_ordinary_complete_poll(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    once(any_db, configure(listing(make_simulator, FOUR)))
    half = configure(listing(make_simulator, FOUR[:2]))

    assert once(any_db, half).ok
    assert sorted(once(any_db, half).removed) == FOUR[2:]


def test_a_first_empty_list_does_not_make_the_next_list_a_batch_of_releases(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    assert once(any_db, configure(listing(make_simulator, []))).ok

    outcome = once(any_db, configure(listing(make_simulator, FOUR)))

    assert outcome.bootstrap and sorted(outcome.new) == FOUR
    assert event_kinds(any_db) == []


def test_a_widened_include_watches_the_newly_matched_models_without_new_model_events(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = listing(make_simulator, FOUR)
    once(any_db, configure(sim, 'include = ["gpt-sim-a"]'))

    outcome = once(any_db, configure(sim, 'include = ["gpt-sim-*"]'))

    assert outcome.ok and outcome.new == [] and sorted(outcome.watched) == FOUR[1:]
    assert sorted(models(any_db)) == FOUR
    assert event_kinds(any_db) == []


def test_a_first_poll_that_kept_nothing_then_a_widened_include_queues_nothing(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = listing(make_simulator, FOUR)
    kept_nothing = once(any_db, configure(sim, 'include = ["claude-*"]'))
    assert kept_nothing.ok and kept_nothing.listed == 0

    outcome = once(any_db, configure(sim, 'include = ["gpt-sim-*"]'))

    assert outcome.new == [] and sorted(outcome.watched) == FOUR
    assert event_kinds(any_db) == []


def test_a_release_matching_a_narrow_include_that_kept_nothing_so_far_is_still_new(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(
        api_key=KEY, models=[*(SimModel(i) for i in FOUR), SimModel("gpt-sim-next", release_after_polls=1)]
    )
    config = configure(sim, 'include = ["gpt-sim-next"]')
    assert once(any_db, config).listed == 0

    outcome = once(any_db, config)

    assert not outcome.bootstrap and outcome.new == ["gpt-sim-next"]
    assert event_kinds(any_db) == [("new_model", "gpt-sim-next")]


def test_a_list_of_other_models_of_the_same_size_is_believed() -> None:
    known = [SimpleNamespace(model_id="old-model", removed_at=None)]
    assert suspect_reason(known, {"new-model"}) is None  # a local server restarted with another model
    assert suspect_reason(known, set()) is not None  # an empty list is still suspect
