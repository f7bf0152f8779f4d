"""`poll` by hand plans retirements as the daemon's poll tick does: one event, its runs queued."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from monitor.cli import main
from monitor.simulator import SimModel, Simulator
from monitor.store.tables import Event, ProviderPoll, Run, utcnow
from tests.daemon_support import SIM_KEY, SIM_KEY_ENV, Workspace

TODAY = utcnow().date()
RETIRES = TODAY + dt.timedelta(days=20)  # inside the default 60-day notice window
REPLACEMENTS = ["sim:gpt-sim-base-2026-11-01", "sim:gpt-sim-base-2026-09-01"]


def sim_model(model_id: str, created: dt.datetime, **extra: object) -> SimModel:
    return SimModel(
        model_id, skill=0.9, created=created, latency_ms=0, latency_jitter_ms=0, extra=dict(extra)
    )


@pytest.fixture
def workspace(
    tmp_path: Path, make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> Iterator[Workspace]:
    """The simulator lists a baseline whose `expiration_date` is 20 days away, and two newer siblings."""
    sim = make_simulator(
        models=[
            sim_model(
                "gpt-sim-base", dt.datetime(2026, 1, 1, tzinfo=dt.UTC), expiration_date=RETIRES.isoformat()
            ),
            sim_model("gpt-sim-base-2026-09-01", dt.datetime(2026, 9, 1, tzinfo=dt.UTC)),
            sim_model("gpt-sim-base-2026-11-01", dt.datetime(2026, 11, 1, tzinfo=dt.UTC)),
            sim_model("gpt-sim-mini", dt.datetime(2026, 10, 1, tzinfo=dt.UTC)),
        ]
    )
    monkeypatch.setenv(SIM_KEY_ENV, SIM_KEY)
    space = Workspace(tmp_path, sim.base_url, 2525, suites={"sums": 4})
    yield space
    space.close()


def poll(space: Workspace, *args: str) -> Any:
    return CliRunner().invoke(main, ["--config", str(space.config_path), "poll", *args])


def retirement_runs(space: Workspace) -> set[tuple[str, str]]:
    return {(r.model_id, r.status) for r in space.runs() if r.trigger == "retirement"}


def written(space: Workspace) -> tuple[int, int, int]:
    """Events, runs and provider polls in the database."""
    with space.session() as s:
        return (
            int(s.scalar(select(func.count()).select_from(Event)) or 0),
            int(s.scalar(select(func.count()).select_from(Run)) or 0),
            int(s.scalar(select(func.count()).select_from(ProviderPoll)) or 0),
        )


def test_poll_opens_the_retirement_event_of_a_baseline_in_its_window_and_queues_its_runs(
    workspace: Workspace,
) -> None:
    result = poll(workspace)
    assert result.exit_code == 0, result.output
    [event] = workspace.events("retirement")
    assert (event.model_key, event.detail["source"], event.detail["date"]) == (
        "sim:gpt-sim-base",
        "provider",
        RETIRES.isoformat(),
    )
    assert event.detail["candidates"] == REPLACEMENTS
    assert retirement_runs(workspace) == {
        ("gpt-sim-base", "queued"),
        ("gpt-sim-base-2026-09-01", "queued"),
        ("gpt-sim-base-2026-11-01", "queued"),
    }
    assert "sim:gpt-sim-base" in result.stdout and "retirement" in result.stdout


def test_a_second_poll_opens_no_second_retirement_event_and_queues_nothing_more(
    workspace: Workspace,
) -> None:
    assert poll(workspace).exit_code == 0
    runs = len(workspace.runs())
    again = poll(workspace, "--json")
    assert again.exit_code == 0, again.output
    assert len(workspace.events("retirement")) == 1 and len(workspace.runs()) == runs
    assert json.loads(again.stdout)["retirements"]["events"] == []


def test_poll_json_lists_the_opened_retirement_event(workspace: Workspace) -> None:
    result = poll(workspace, "--json")
    assert result.exit_code == 0, result.output
    [event] = workspace.events("retirement")
    retirements = json.loads(result.stdout)["retirements"]
    [opened] = retirements["events"]
    assert (opened["event_id"], opened["model"], opened["date"], opened["candidates"]) == (
        event.id,
        "sim:gpt-sim-base",
        RETIRES.isoformat(),
        REPLACEMENTS,
    )
    assert (retirements["queued_runs"], retirements["dry_run"], retirements["errors"]) == (3, False, [])


def recorded_without_the_retiring_baseline(space: Workspace) -> None:
    """A first poll while another model is the baseline, then the retiring one becomes the baseline."""
    space.baseline = "sim:gpt-sim-mini"
    space.write_config()
    assert poll(space).exit_code == 0
    assert space.events("retirement") == []
    space.baseline = "sim:gpt-sim-base"
    space.write_config()


def test_poll_dry_run_writes_nothing_and_says_which_retirement_event_it_would_open(
    workspace: Workspace,
) -> None:
    recorded_without_the_retiring_baseline(workspace)
    before = written(workspace)
    result = poll(workspace, "--dry-run")
    assert result.exit_code == 0, result.output
    assert written(workspace) == before
    text = " ".join(result.stdout.split())
    assert "would open a retirement event for sim:gpt-sim-base" in text
    assert all(key in text for key in REPLACEMENTS)


def test_poll_dry_run_json_lists_the_event_it_would_open_without_an_id(workspace: Workspace) -> None:
    recorded_without_the_retiring_baseline(workspace)
    result = poll(workspace, "--dry-run", "--json")
    assert result.exit_code == 0, result.output
    retirements = json.loads(result.stdout)["retirements"]
    [planned] = retirements["events"]
    assert (planned["event_id"], planned["model"], planned["candidates"]) == (
        None,
        "sim:gpt-sim-base",
        REPLACEMENTS,
    )
    assert (retirements["dry_run"], retirements["queued_runs"]) == (True, 0)
    assert workspace.events("retirement") == []


def test_poll_with_a_broken_retirements_file_records_the_listing_and_exits_2_naming_the_file(
    workspace: Workspace,
) -> None:
    (workspace.root / "retirements.toml").write_text(
        "updated = 2026-12-01\n[[retirement]]\nprovider = 'openai'\n"
    )
    result = poll(workspace)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    text = " ".join(result.output.split())
    assert "retirements.toml" in text and "model must be" in text
    assert workspace.events("retirement") == [] and written(workspace)[2] == 1
