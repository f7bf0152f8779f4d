"""The index at scale: leaderboard statistics cached per finished run, a bounded score history."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from monitor.core.config import Config
from monitor.pipeline.compare.runs import run_stats
from monitor.pipeline.report import queries
from monitor.pipeline.report.board_stats import CACHE, board_stats
from monitor.pipeline.report.queries import build_index
from monitor.store.db import Database
from monitor.store.tables import Result, Run
from tests.factories import T0, add_run, add_suite, make_config


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path)


def test_board_statistics_equal_run_stats_and_are_cached_once(db: Database) -> None:
    with db.session() as s:
        qa = add_suite(s, "qa", "v1", 4)
        runs = [add_run(s, qa, "sim:base", [True, False, None, True]), add_run(s, qa, "sim:b", [True] * 4)]
        expected = [run_stats(s, r.id) for r in runs]
        assert board_stats(s, runs, qa.id) == expected
        assert len(s.execute(select(CACHE)).all()) == 2
        assert board_stats(s, runs, qa.id) == expected


def test_a_changed_run_is_computed_again_not_read_from_the_cache(db: Database) -> None:
    with db.session() as s:
        qa = add_suite(s, "qa", "v1", 2)
        run = add_run(s, qa, "sim:base", [True, None], status="done_with_errors")
        board_stats(s, [run], qa.id)
        # A resume answers the errored sample: the result and the run's totals change.
        result = s.scalars(select(Result).where(Result.run_id == run.id, Result.score.is_(None))).one()
        result.score, result.passed, result.error_kind, result.input_tokens = 1.0, True, None, 20
        run.status, run.passed, run.errored, run.score = "done", 2, 0, 1.0
        s.flush()
        (stats,) = board_stats(s, [run], qa.id)
        assert (stats.passed, stats.errored, stats.status) == (2, 0, "done")
        assert stats == run_stats(s, run.id)


def test_estimated_costs_are_never_cached(db: Database) -> None:
    with db.session() as s:
        qa = add_suite(s, "qa", "v1", 1)
        run = add_run(s, qa, "sim:base", [True])
        s.scalars(select(Result).where(Result.run_id == run.id)).one().price_source = "estimated upper bound"
        s.flush()
        (stats,) = board_stats(s, [run], qa.id)
        assert stats.cost_estimated
        assert s.execute(select(CACHE)).all() == []


def test_the_score_history_shows_the_newest_runs_only(
    db: Database, config: Config, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "HISTORY_RUNS", 2)
    with db.session() as s:
        qa = add_suite(s, "qa", "v1", 2)
        for day in range(4):
            add_run(s, qa, "sim:base", [True, day % 2 == 0], finished_at=T0 + timedelta(days=day))
    with db.session() as s:
        (board,) = build_index(s, config).boards
        newest = s.scalars(select(Run.id).order_by(Run.finished_at.desc()).limit(2)).all()
        assert [h.run.id for h in board.history] == list(newest)
        assert len(board.legend) == 1
        assert [r.run.id for r in board.rows] == [newest[0]]
