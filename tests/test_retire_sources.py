"""Retirement dates from each source: provider listings (over real HTTP), the shipped table, the config."""

from __future__ import annotations

import datetime as dt
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.core.config import Config, load_config
from monitor.core.errors import ConfigError
from monitor.core.retirements import load_table, resolve, shipped_table
from monitor.pipeline.poll.discovery import poll
from monitor.pipeline.poll.retirements import listed_retirement
from monitor.simulator import SimModel, Simulator
from monitor.store.db import Database
from monitor.store.tables import Model

KEY_ENV = "MM_RETIRE_KEY"
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def _key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")


def config_for(tmp_path: Path, providers: str, extra: str = "") -> Config:
    path = tmp_path / "monitor.toml"
    path.write_text(textwrap.dedent(providers) + textwrap.dedent(extra))
    return load_config(path)


def sim_config(tmp_path: Path, sim: Simulator, type_: str = "openai-compatible") -> Config:
    suffix = "" if type_ == "anthropic" else "/v1"
    return config_for(
        tmp_path,
        f"""
        [providers.p]
        type = "{type_}"
        base_url = "{sim.base_url}{suffix}"
        api_key_env = "{KEY_ENV}"
        max_retries = 0
        """,
    )


def stored(db: Database) -> dict[str, dt.datetime | None]:
    with db.session() as s:
        return {m.model_id: m.retires_at for m in s.scalars(select(Model))}


def test_openrouter_expiration_date_in_a_listing_is_stored_as_the_retirement(
    db: Database, make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_simulator(
        models=[
            SimModel("vendor-chat-1", extra={"expiration_date": "2027-01-20", "context_length": 128000}),
            SimModel("vendor-chat-2", extra={"expiration_date": None}),
        ]
    )
    poll(db, sim_config(tmp_path, sim))
    assert stored(db) == {"vendor-chat-1": dt.datetime(2027, 1, 20, tzinfo=dt.UTC), "vendor-chat-2": None}


def test_openai_shutdown_date_is_read_through_the_sdk(
    db: Database, make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_simulator(
        models=[SimModel("gpt-sim-old", shutdown_date="2027-01-14"), SimModel("gpt-sim-new")]
    )
    poll(db, sim_config(tmp_path, sim, "openai"))
    assert stored(db) == {"gpt-sim-old": dt.datetime(2027, 1, 14, tzinfo=dt.UTC), "gpt-sim-new": None}


def test_anthropic_retires_at_of_a_deprecated_model_is_stored(
    db: Database, make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_simulator(
        models=[
            SimModel(
                "claude-sim-old", provider="anthropic", lifecycle="deprecated", shutdown_date="2026-12-20"
            ),
            SimModel("claude-sim-new", provider="anthropic"),
        ]
    )
    poll(db, sim_config(tmp_path, sim, "anthropic"))
    assert stored(db) == {"claude-sim-old": dt.datetime(2026, 12, 20, tzinfo=dt.UTC), "claude-sim-new": None}


def test_a_groq_model_turning_inactive_retires_on_the_poll_that_saw_it_and_keeps_that_day(
    db: Database, make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_simulator(models=[SimModel("llama-sim-70b", extra={"active": True})])
    config = sim_config(tmp_path, sim)
    poll(db, config)
    assert stored(db) == {"llama-sim-70b": None}
    sim.models[0].extra["active"] = False
    poll(db, config)
    first = stored(db)["llama-sim-70b"]
    assert first is not None
    sim.models[0].extra["context_window"] = 8192  # another field changes; the retirement day must not move
    poll(db, config)
    assert stored(db)["llama-sim-70b"] == first


def test_a_changed_shutdown_date_moves_the_stored_retirement(
    db: Database, make_simulator: Callable[..., Simulator], tmp_path: Path
) -> None:
    sim = make_simulator(models=[SimModel("gpt-sim-old", shutdown_date="2027-01-14")])
    config = sim_config(tmp_path, sim, "openai")
    poll(db, config)
    sim.models[0].shutdown_date = "2027-03-01"
    poll(db, config)
    assert stored(db) == {"gpt-sim-old": dt.datetime(2027, 3, 1, tzinfo=dt.UTC)}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ({"shutdown_date": "2027-01-14"}, dt.datetime(2027, 1, 14, tzinfo=dt.UTC)),
        ({"retires_at": "2026-12-20T00:00:00Z"}, dt.datetime(2026, 12, 20, tzinfo=dt.UTC)),
        ({"expiration_date": "2027-02-01"}, dt.datetime(2027, 2, 1, tzinfo=dt.UTC)),
        ({"deprecation": "2027-04-30T12:00:00+02:00"}, dt.datetime(2027, 4, 30, 10, tzinfo=dt.UTC)),
        ({"active": False}, NOW),
        ({"active": True}, None),
        ({"shutdown_date": None, "retires_at": None}, None),
        ({"expiration_date": "soon"}, None),
    ],
)
def test_each_provider_field_reads_as_a_retirement_time(raw: dict[str, object], expected: object) -> None:
    assert listed_retirement(raw, NOW) == expected


OFFICIAL = """
[providers.openai]
type = "openai"
api_key_env = "OPENAI_API_KEY"
"""


def test_the_shipped_table_is_dated_and_every_entry_cites_its_page() -> None:
    table = shipped_table()
    assert table.updated >= dt.date(2026, 12, 1)
    assert table.entries
    assert all(entry.source.startswith("https://") for entry in table.entries.values())


def test_config_wins_over_the_listing_which_wins_over_the_table(tmp_path: Path) -> None:
    key = "openai:gpt-4o-2024-08-06"  # in the shipped table: 2027-01-14
    config = config_for(tmp_path, OFFICIAL)
    from_table = resolve(config, key)
    assert from_table is not None and (from_table.date, from_table.source) == (dt.date(2027, 1, 14), "table")
    listed = resolve(config, key, listed=dt.date(2027, 2, 1))
    assert listed is not None and (listed.date, listed.source) == (dt.date(2027, 2, 1), "provider")
    configured = config_for(tmp_path, OFFICIAL, '[retirements]\n"openai:gpt-4o-2024-08-06" = 2027-03-01\n')
    chosen = resolve(configured, key, listed=dt.date(2027, 2, 1))
    assert chosen is not None and (chosen.date, chosen.source) == (dt.date(2027, 3, 1), "config")


def test_the_table_names_its_page_and_update_day_as_the_source(tmp_path: Path) -> None:
    found = resolve(config_for(tmp_path, OFFICIAL), "openai:gpt-4o-2024-08-06")
    assert found is not None and found.source == "table"
    assert "https://developers.openai.com/api/docs/deprecations" in found.detail
    assert "updated 2026-12-01" in found.detail


def test_the_table_does_not_speak_for_another_service_on_the_same_api(tmp_path: Path) -> None:
    proxy = (
        '[providers.openai]\ntype = "openai"\napi_key_env = "K"\nbase_url = "https://proxy.example.com/v1"\n'
    )
    assert resolve(config_for(tmp_path, proxy), "openai:gpt-4o-2024-08-06") is None


def test_a_retirements_file_next_to_the_config_overrides_the_shipped_table(tmp_path: Path) -> None:
    (tmp_path / "retirements.toml").write_text(
        textwrap.dedent(
            """
            updated = 2027-01-02
            [[retirement]]
            provider = "openai"
            model = "gpt-4o-2024-08-06"
            date = 2027-02-28
            replacements = ["gpt-6-luna"]
            source = "https://developers.openai.com/api/docs/deprecations"
            """
        )
    )
    found = resolve(config_for(tmp_path, OFFICIAL), "openai:gpt-4o-2024-08-06")
    assert found is not None
    assert (found.date, found.replacements) == (dt.date(2027, 2, 28), ("openai:gpt-6-luna",))
    assert "updated 2027-01-02" in found.detail


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            'provider = "groq"\nmodel = "x"\ndate = 2027-01-01\nsource = "https://a.example"',
            "provider must be",
        ),
        ('provider = "openai"\nmodel = "x"\ndate = "2027-01-01"\nsource = "https://a.example"', "TOML date"),
        ('provider = "openai"\nmodel = "x"\ndate = 2027-01-01', "source must be"),
        (
            'provider = "openai"\nmodel = "x"\ndate = 2027-01-01\nsource = "https://a"\nwhen = 1',
            "unknown key",
        ),
    ],
)
def test_a_bad_retirements_file_is_a_config_error_naming_the_entry(
    tmp_path: Path, entry: str, message: str
) -> None:
    path = tmp_path / "retirements.toml"
    path.write_text(f"updated = 2027-01-02\n[[retirement]]\n{entry}\n")
    with pytest.raises(ConfigError) as caught:
        load_table(path)
    assert message in str(caught.value)
    assert str(path) in str(caught.value) and "[[retirement]] #1" in str(caught.value)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('"nope:gpt-4o" = 2027-01-14', "names provider 'nope', not in [providers]"),
        ('"openai:gpt-4o" = "2027-01-14"', "must be a TOML date, unquoted"),
        ('"openai:gpt-4o" = { date = "2027-01-14" }', "must be a TOML date, unquoted"),
        ('"openai:gpt-4o" = { date = 2027-01-14, replacements = ["gpt-5"] }', "must be 'provider:model'"),
        ('"openai:gpt-4o" = 2027-02-30', "not valid TOML"),
        ('"gpt-4o" = 2027-01-14', "must be 'provider:model'"),
    ],
)
def test_bad_retirements_in_the_config_give_a_clear_error(tmp_path: Path, body: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        config_for(tmp_path, OFFICIAL, f"[retirements]\n{body}\n")
    assert message in str(caught.value)
