"""Discovery against the simulator: bootstrap, new, removed and returned models; failures change nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select

from monitor.core.config import Config, ProviderConfig, load_config
from monitor.core.errors import ConfigError
from monitor.pipeline.poll.discovery import PollReport, poll
from monitor.pipeline.queue import plan_new_model_runs
from monitor.providers.anthropic import AnthropicProvider
from monitor.providers.base import Provider
from monitor.simulator import Fault, SimModel, Simulator
from monitor.store.db import Database
from monitor.store.tables import Event, Model, ProviderPoll, Run

KEY = "discovery-sim-key"
KEY_ENV = "MM_DISCOVERY_KEY"

SUITE = """\
name: {name}
prompt:
  user: "What is {{{{ a }}}} + {{{{ b }}}}?"
graders:
  - type: numeric
samples:
  - id: s1
    vars: {{a: 1, b: 2}}
    target: 3
"""


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, KEY)


@pytest.fixture
def configure(write_config: Callable[..., Path], tmp_path: Path) -> Callable[..., Config]:
    """`configure(name=base_url_or_(type, url, extra)...)`: a monitor.toml on disk with two suites."""
    evals = tmp_path / "evals"
    evals.mkdir(exist_ok=True)
    for name in ("tiny", "small"):
        (evals / f"{name}.yaml").write_text(SUITE.format(name=name))
    counter = iter(range(1000))

    def make(**providers: Any) -> Config:
        body = ['[suites]\ndirectory = "evals"\n']
        for name, spec in providers.items():
            type_, url, extra = spec if isinstance(spec, tuple) else ("openai", f"{spec}/v1", "")
            body.append(
                f'[providers.{name}]\ntype = "{type_}"\nbase_url = "{url}"\napi_key_env = "{KEY_ENV}"\n'
                f"max_retries = 0\ntimeout_s = 30\n{extra}\n"
            )
        return load_config(write_config("\n".join(body), name=f"monitor-{next(counter)}.toml"))

    return make


def oa(*models: SimModel) -> list[SimModel]:
    return [
        SimModel("gpt-sim-base"),
        SimModel("gpt-sim-mini"),
        SimModel("text-embedding-sim-3", chat=False),
        *models,
    ]


def rows(db: Database, provider: str = "oa") -> dict[str, Model]:
    with db.session() as s:
        return {m.model_id: m for m in s.scalars(select(Model).where(Model.provider == provider))}


def events(db: Database, kind: str | None = None) -> list[Event]:
    with db.session() as s:
        query = select(Event).order_by(Event.id)
        if kind:
            query = query.where(Event.kind == kind)
        return list(s.scalars(query))


def count(db: Database, table: type) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count()).select_from(table)) or 0)


def only(report: PollReport, name: str = "oa") -> Any:
    return next(o for o in report.outcomes if o.name == name)


def test_first_poll_records_every_chat_model_and_queues_nothing(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa())
    report = poll(any_db, configure(oa=sim.base_url))
    outcome = only(report)
    assert report.ok and outcome.bootstrap
    assert sorted(outcome.new) == ["gpt-sim-base", "gpt-sim-mini"]
    assert (outcome.listed, outcome.listed_total) == (2, 3)
    assert sorted(rows(any_db)) == ["gpt-sim-base", "gpt-sim-mini"]
    assert rows(any_db)["gpt-sim-base"].created_at is not None
    assert events(any_db) == [] and count(any_db, Run) == 0
    with any_db.session() as s:
        polls = list(s.scalars(select(ProviderPoll)))
    assert [(p.provider, p.ok, p.listed) for p in polls] == [("oa", True, 2)]


def test_new_model_gets_an_event_and_one_queued_run_per_suite(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa(SimModel("gpt-sim-next", release_after_polls=1)))
    config = configure(oa=sim.base_url)
    poll(any_db, config)
    outcome = only(poll(any_db, config))
    assert not outcome.bootstrap and outcome.new == ["gpt-sim-next"]
    assert plan_new_model_runs(any_db, config).queued_runs == 2
    [new_event] = events(any_db, "new_model")
    assert new_event.model_id == "gpt-sim-next" and new_event.provider == "oa"
    with any_db.session() as s:
        runs = list(s.scalars(select(Run)))
    assert {(r.model_id, r.trigger, r.status, r.event_id) for r in runs} == {
        ("gpt-sim-next", "new_model", "queued", new_event.id)
    }
    assert len(runs) == 2


def test_removed_model_is_marked_only_after_two_complete_polls(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa(SimModel("gpt-sim-old", remove_after_polls=1)))
    config = configure(oa=sim.base_url)
    poll(any_db, config)
    assert only(poll(any_db, config)).removed == []
    assert rows(any_db)["gpt-sim-old"].missing_polls == 1 and rows(any_db)["gpt-sim-old"].removed_at is None
    assert only(poll(any_db, config)).removed == ["gpt-sim-old"]
    assert rows(any_db)["gpt-sim-old"].removed_at is not None
    [removed] = events(any_db, "removed_model")
    assert removed.model_id == "gpt-sim-old"
    assert only(poll(any_db, config)).removed == []
    assert len(events(any_db, "removed_model")) == 1


def test_removed_model_is_not_marked_when_provider_is_down(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    healthy = make_simulator(api_key=KEY, models=oa(SimModel("gpt-sim-old")))
    failing = make_simulator(api_key=KEY, models=oa(), faults=[Fault(kind="server_error", endpoint="models")])
    poll(any_db, configure(oa=healthy.base_url))
    down = configure(oa=failing.base_url)
    for _ in range(3):
        outcome = only(poll(any_db, down))
        assert not outcome.ok and outcome.error_kind == "overloaded"
    old = rows(any_db)["gpt-sim-old"]
    assert old.removed_at is None and old.missing_polls == 0
    assert events(any_db) == []
    with any_db.session() as s:
        assert [p.ok for p in s.scalars(select(ProviderPoll).order_by(ProviderPoll.id))] == [
            True,
            False,
            False,
            False,
        ]


def test_removed_model_is_not_marked_when_unreachable(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa())
    poll(any_db, configure(oa=sim.base_url))
    for _ in range(2):
        outcome = only(poll(any_db, configure(oa="http://127.0.0.1:9")))
        assert outcome.error_kind == "connection"
    assert all(m.removed_at is None and m.missing_polls == 0 for m in rows(any_db).values())


def _claude(n: int) -> SimModel:
    return SimModel(f"claude-sim-{n:02d}", "anthropic", created=datetime(2026, 1, 1 + n, tzinfo=UTC))


def test_removed_model_is_not_marked_when_pagination_fails_midway(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:

    def small_pages(name: str, cfg: ProviderConfig) -> Provider:
        return AnthropicProvider(name, cfg, cfg.api_key(), page_size=2)

    full = make_simulator(api_key=KEY, models=[_claude(n) for n in range(6)])
    # One request a minute: page 1 (the newest two) is served, page 2 gets a 429 with a long retry-after.
    limited = make_simulator(api_key=KEY, models=[_claude(n) for n in range(6)], rpm_limit=1)
    assert only(
        poll(any_db, configure(claude=("anthropic", full.base_url, "")), factory=small_pages), "claude"
    ).ok
    cut = configure(claude=("anthropic", limited.base_url, ""))
    for _ in range(2):
        outcome = only(poll(any_db, cut, factory=small_pages), "claude")
        assert not outcome.ok and outcome.error_kind == "rate_limited"
    stored = rows(any_db, "claude")
    assert len(stored) == 6
    assert all(m.removed_at is None and m.missing_polls == 0 for m in stored.values())


def test_returned_model_clears_removed_at_and_gets_an_event(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa(SimModel("gpt-sim-flaky")))
    config = configure(oa=sim.base_url)
    poll(any_db, config)
    sim.remove("gpt-sim-flaky")
    poll(any_db, config)
    poll(any_db, config)
    assert rows(any_db)["gpt-sim-flaky"].removed_at is not None
    sim.release("gpt-sim-flaky")
    outcome = only(poll(any_db, config))
    assert outcome.returned == ["gpt-sim-flaky"] and outcome.new == []
    flaky = rows(any_db)["gpt-sim-flaky"]
    assert flaky.removed_at is None and flaky.missing_polls == 0
    assert [e.model_id for e in events(any_db, "returned_model")] == ["gpt-sim-flaky"]
    assert count(any_db, Run) == 0


def test_model_missing_once_then_back_is_never_removed(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa(SimModel("gpt-sim-blip")))
    config = configure(oa=sim.base_url)
    poll(any_db, config)
    sim.remove("gpt-sim-blip")
    poll(any_db, config)
    sim.release("gpt-sim-blip")
    poll(any_db, config)
    sim.remove("gpt-sim-blip")
    poll(any_db, config)
    blip = rows(any_db)["gpt-sim-blip"]
    assert blip.removed_at is None and blip.missing_polls == 1
    assert events(any_db) == []


def test_one_failing_provider_does_not_stop_the_others(
    db: Database,
    make_simulator: Callable[..., Simulator],
    configure: Callable[..., Config],
) -> None:
    sim = make_simulator(api_key=KEY, models=oa())
    wrong = make_simulator(api_key="some-other-key", models=oa())
    config = configure(oa=sim.base_url, denied=("openai", f"{wrong.base_url}/v1", ""))
    report = poll(db, config)
    assert not report.ok and report.failed == ["denied"]
    assert only(report).ok and sorted(rows(db)) == ["gpt-sim-base", "gpt-sim-mini"]
    denied = only(report, "denied")
    assert denied.error_kind == "auth" and KEY not in (denied.error or "")
    with db.session() as s:
        assert s.scalar(select(ProviderPoll.ok).where(ProviderPoll.provider == "denied")) is False


def test_missing_key_fails_that_provider_with_the_variable_name(
    db: Database,
    make_simulator: Callable[..., Simulator],
    write_config: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sim = make_simulator(api_key=KEY, models=oa())
    monkeypatch.delenv("MM_NOT_SET", raising=False)
    config = load_config(
        write_config(
            f"""
            [providers.oa]
            type = "openai"
            base_url = "{sim.base_url}/v1"
            api_key_env = "{KEY_ENV}"
            [providers.gem]
            type = "gemini"
            base_url = "{sim.base_url}"
            api_key_env = "MM_NOT_SET"
            """
        )
    )
    report = poll(db, config)
    assert only(report).ok
    gem = only(report, "gem")
    assert not gem.ok and "MM_NOT_SET" in (gem.error or "")


def test_dry_run_writes_nothing(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa(SimModel("gpt-sim-next", release_after_polls=2)))
    config = configure(oa=sim.base_url)
    dry = only(poll(any_db, config, dry_run=True))
    assert dry.bootstrap and sorted(dry.new) == ["gpt-sim-base", "gpt-sim-mini"]
    assert count(any_db, Model) == 0 and count(any_db, ProviderPoll) == 0
    poll(any_db, config)
    tables = (Model, ProviderPoll, Event, Run)
    before = [count(any_db, t) for t in tables]
    last_seen = {k: m.last_seen for k, m in rows(any_db).items()}
    dry = only(poll(any_db, config, dry_run=True))
    assert dry.new == ["gpt-sim-next"] and not dry.bootstrap
    assert [count(any_db, t) for t in tables] == before
    assert {k: m.last_seen for k, m in rows(any_db).items()} == last_seen


def test_second_identical_poll_writes_only_last_seen_and_the_poll_row(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa(*(SimModel(f"gpt-sim-{i}") for i in range(50))))
    config = configure(oa=sim.base_url)
    poll(any_db, config)
    writes: list[str] = []

    def record(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not statement.lstrip().upper().startswith(("SELECT", "PRAGMA")):
            writes.append(" ".join(statement.split())[:60])

    event.listen(any_db.engine, "before_cursor_execute", record)
    try:
        poll(any_db, config)
    finally:
        event.remove(any_db.engine, "before_cursor_execute", record)
    assert len(writes) == 2, writes
    assert writes[0].startswith("UPDATE models SET last_seen")
    assert writes[1].startswith("INSERT INTO provider_polls")


def test_include_and_exclude_globs_override_the_default_rule(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa())
    extra = 'include = ["gpt-sim-*", "text-embedding-*"]\nexclude = ["gpt-sim-mini"]'
    poll(any_db, configure(oa=("openai", f"{sim.base_url}/v1", extra)))
    assert sorted(rows(any_db)) == ["gpt-sim-base", "text-embedding-sim-3"]


def test_exclude_alone_narrows_the_default_rule(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa())
    poll(any_db, configure(oa=("openai", f"{sim.base_url}/v1", 'exclude = ["*-mini"]')))
    assert sorted(rows(any_db)) == ["gpt-sim-base"]


def test_model_filtered_out_by_a_config_change_is_not_reported_removed(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa())
    poll(any_db, configure(oa=sim.base_url))
    narrowed = configure(oa=("openai", f"{sim.base_url}/v1", 'exclude = ["gpt-sim-mini"]'))
    for _ in range(3):
        assert only(poll(any_db, narrowed)).removed == []
    assert rows(any_db)["gpt-sim-mini"].removed_at is None


def test_deprecation_change_is_stored_in_raw_with_an_event(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa())
    config = configure(oa=sim.base_url)
    poll(any_db, config)
    next(m for m in sim.models if m.id == "gpt-sim-mini").shutdown_date = "2027-01-14"
    outcome = only(poll(any_db, config))
    assert outcome.deprecation_changed == ["gpt-sim-mini"]
    assert rows(any_db)["gpt-sim-mini"].raw["shutdown_date"] == "2027-01-14"
    [changed] = events(any_db, "deprecation_changed")
    assert changed.detail["changes"]["shutdown_date"] == [None, "2027-01-14"]


def test_polls_openai_anthropic_and_gemini_together(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY)
    report = poll(
        any_db,
        configure(
            oa=sim.base_url,
            claude=("anthropic", sim.base_url, ""),
            gem=("gemini", sim.base_url, ""),
        ),
    )
    assert report.ok and [o.name for o in report.outcomes] == ["oa", "claude", "gem"]
    assert sorted(rows(any_db, "claude")) == [
        "claude-sim-haiku-20251001",
        "claude-sim-legacy-20240301",
        "claude-sim-sonnet-20260115",
    ]
    assert sorted(rows(any_db, "gem")) == ["gemini-sim-flash", "gemini-sim-pro"]
    assert rows(any_db, "claude")["claude-sim-legacy-20240301"].raw["lifecycle"] == "deprecated"


def test_only_the_named_providers_are_polled(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY)
    report = poll(any_db, configure(oa=sim.base_url, gem=("gemini", sim.base_url, "")), ["gem"])
    assert [o.name for o in report.outcomes] == ["gem"]
    assert rows(any_db, "oa") == {}


def test_unknown_provider_name_is_a_config_error(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY)
    with pytest.raises(ConfigError, match="nope"):
        poll(any_db, configure(oa=sim.base_url), ["nope"])


# ---- the poll records, the queue plans ----------------------------------------------------------


@pytest.fixture
def polled_twice(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> Config:
    """A bootstrap poll, then a poll that finds gpt-sim-next: the config both used."""
    sim = make_simulator(api_key=KEY, models=oa(SimModel("gpt-sim-next", release_after_polls=1)))
    config = configure(oa=sim.base_url)
    poll(any_db, config)
    poll(any_db, config)
    return config


def test_the_poll_records_a_new_model_and_queues_nothing_itself(
    any_db: Database, polled_twice: Config
) -> None:
    [new_event] = events(any_db, "new_model")
    assert new_event.planned_at is None
    assert count(any_db, Run) == 0


def test_a_crash_between_poll_and_plan_loses_nothing_and_planning_twice_queues_nothing_twice(
    any_db: Database, polled_twice: Config
) -> None:
    first = plan_new_model_runs(any_db, polled_twice)  # as after a crash right after the poll
    again = plan_new_model_runs(any_db, polled_twice)
    assert (first.queued_runs, again.queued_runs) == (2, 0)
    assert count(any_db, Run) == 2
    [new_event] = events(any_db, "new_model")
    assert new_event.planned_at is not None and first.events == [new_event.id]


def test_an_unplanned_new_model_event_is_not_reported_yet(any_db: Database, polled_twice: Config) -> None:
    from monitor.pipeline.complete import pending_event_ids

    with any_db.session() as s:
        assert pending_event_ids(s) == []


def test_without_a_suites_directory_every_poll_still_records_new_models(
    any_db: Database, make_simulator: Callable[..., Simulator], write_config: Callable[..., Path]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa(SimModel("gpt-sim-next", release_after_polls=1)))
    config = load_config(
        write_config(
            f'[providers.oa]\ntype = "openai"\nbase_url = "{sim.base_url}/v1"\napi_key_env = "{KEY_ENV}"\n'
            "max_retries = 0\ntimeout_s = 30\n",
            name="watch-only.toml",
        )
    )
    assert not config.suites_dir.exists()
    assert poll(any_db, config).ok
    assert poll(any_db, config).ok and "gpt-sim-next" in rows(any_db)
    plan = plan_new_model_runs(any_db, config)
    assert (plan.queued_runs, plan.error) == (0, None) and plan.note is not None
    [new_event] = events(any_db, "new_model")
    assert new_event.planned_at is not None


def test_a_suite_that_does_not_load_leaves_new_models_waiting_for_their_runs(
    any_db: Database, make_simulator: Callable[..., Simulator], configure: Callable[..., Config]
) -> None:
    sim = make_simulator(api_key=KEY, models=oa(SimModel("gpt-sim-next", release_after_polls=1)))
    config = configure(oa=sim.base_url)
    (config.suites_dir / "broken.yaml").write_text("name: broken\nprompt: [\n")
    poll(any_db, config)
    assert poll(any_db, config).ok
    plan = plan_new_model_runs(any_db, config)
    assert plan.error is not None and "broken.yaml" in plan.error
    [new_event] = events(any_db, "new_model")
    assert new_event.planned_at is None
