"""Comparisons built from real rows: run statistics, paired suite comparisons, event headlines."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from scipy import stats as sps

from monitor.core.config import Config, load_config
from monitor.core.errors import InputError, MonitorError
from monitor.pipeline.compare.events import compare_event, compare_models
from monitor.pipeline.compare.jsonable import to_jsonable
from monitor.pipeline.compare.pairing import compare_runs
from monitor.pipeline.compare.runs import run_stats
from monitor.pipeline.compare.selection import latest_done_run
from monitor.stats.estimate import estimate_score, wilson_interval
from monitor.stats.verdicts import holm, paired_compare
from monitor.store.db import Database
from tests.comparison_rows import add_event, add_run, add_suite, pattern

CANDIDATE = "sim:gpt-sim-next"
BASELINE = "sim:gpt-sim-base"


@pytest.fixture
def config(write_config: Callable[[str], Path]) -> Config:
    return load_config(
        write_config(
            """
            [providers.sim]
            type = "openai-compatible"
            base_url = "http://127.0.0.1:9/v1"

            [baseline]
            default = "sim:gpt-sim-base"

            [stats]
            alpha = 0.05
            """
        )
    )


def test_errors_are_excluded_from_the_score_and_counted_apart(any_db: Database) -> None:
    with any_db.session() as s:
        suite = add_suite(s, "qa", 10)
        run = add_run(s, suite, CANDIDATE, [True] * 6 + [None] * 2 + [False] * 2)
        stats = run_stats(s, run.id)
    assert (stats.samples, stats.passed, stats.failed, stats.errored) == (10, 6, 2, 2)
    assert stats.score.n == 8
    assert stats.score.mean == pytest.approx(0.75)
    assert stats.score.ci == wilson_interval(6, 8)


def test_cost_per_thousand_samples_divides_by_answered_samples(db: Database) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", 10)
        run = add_run(s, suite, CANDIDATE, [True] * 8 + [None] * 2, cost_each=0.002)
        stats = run_stats(s, run.id)
    assert stats.cost_usd == pytest.approx(0.016)
    assert stats.cost_per_1k == pytest.approx(0.016 / 8 * 1000)


def test_cost_is_unknown_when_an_answer_has_no_cost(db: Database) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", 4)
        run = add_run(s, suite, CANDIDATE, [True] * 4, cost_each=0.001)
        run.results[2].cost_usd = None
        s.flush()
        stats = run_stats(s, run.id)
    assert stats.cost_usd is None
    assert stats.cost_per_1k is None


def test_cost_is_unknown_when_the_run_has_no_cost(db: Database) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", 4)
        run = add_run(s, suite, CANDIDATE, [True] * 4, cost_each=None)
        stats = run_stats(s, run.id)
    assert (stats.cost_usd, stats.cost_per_1k) == (None, None)


def test_latency_percentiles_and_tokens_come_from_answered_results(db: Database) -> None:
    latencies = [100.0, 200.0, 300.0, 400.0, 5000.0]
    with db.session() as s:
        suite = add_suite(s, "qa", 5)
        run = add_run(s, suite, CANDIDATE, [True, True, False, True, None], latencies=latencies)
        stats = run_stats(s, run.id)
    assert stats.latency_p50_ms == pytest.approx(250.0)
    assert stats.latency_p95_ms == pytest.approx(385.0)
    assert (stats.input_tokens, stats.output_tokens) == (40, 20)


def test_repeats_score_each_sample_by_its_mean(db: Database) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", 3)
        run = add_run(
            s,
            suite,
            CANDIDATE,
            [True, False, True],
            repeat_outcomes=[[True, True, False], [False, False, True]],
        )
        stats = run_stats(s, run.id)
    assert stats.repeat == 3
    assert stats.score.n == 3
    assert stats.score.method == "t"
    assert stats.score.mean == pytest.approx((2 / 3 + 1 / 3 + 2 / 3) / 3)


def test_samples_sharing_a_group_get_a_clustered_error_bar(db: Database) -> None:
    groups = [f"doc{i // 5}" for i in range(40)]
    outcomes = [(i // 5) % 2 == 0 for i in range(40)]
    with db.session() as s:
        suite = add_suite(s, "qa", 40, groups=groups)
        stats = run_stats(s, add_run(s, suite, CANDIDATE, outcomes).id)
    assert stats.score.method == "cluster-t"
    assert stats.score == estimate_score([float(o) for o in outcomes], groups)


def test_compare_runs_pairs_only_samples_both_models_answered(any_db: Database) -> None:
    cand = [True] * 30 + [None] * 5 + [False] * 5 + [True] * 10
    base = [False] * 20 + [True] * 20 + [None] * 2 + [True] * 8
    with any_db.session() as s:
        suite = add_suite(s, "qa", 50)
        c, b = add_run(s, suite, CANDIDATE, cand), add_run(s, suite, BASELINE, base)
        comparison = compare_runs(s, c.id, b.id, alpha=0.05)
    both = [i for i in range(50) if cand[i] is not None and base[i] is not None]
    expected = paired_compare([float(bool(cand[i])) for i in both], [float(bool(base[i])) for i in both])
    paired = comparison.paired
    assert paired is not None and paired.n == 43
    assert (paired.delta, paired.p_value, paired.test) == (expected.delta, expected.p_value, expected.test)
    assert paired.errors is not None
    assert (paired.errors.candidate_errors, paired.errors.baseline_errors, paired.errors.n) == (5, 2, 50)
    assert comparison.note is not None and "errored samples: candidate 5, baseline 2" in comparison.note


def test_compare_runs_uses_mcnemar_exact_for_pass_fail(db: Database) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", 200)
        c = add_run(s, suite, CANDIDATE, pattern(200, 120))
        b = add_run(s, suite, BASELINE, pattern(200, 150))
        paired = compare_runs(s, c.id, b.id, alpha=0.05).paired
    assert paired is not None
    assert paired.test == "mcnemar-exact"
    assert paired.p_value == pytest.approx(sps.binomtest(0, 30, 0.5).pvalue)
    assert paired.verdict == "worse"


def test_flipped_samples_carry_prompt_target_and_both_answers(db: Database) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", 4)
        c = add_run(s, suite, CANDIDATE, [True, False, True, False])
        b = add_run(s, suite, BASELINE, [True, True, False, False])
        flips = compare_runs(s, c.id, b.id, alpha=0.05).flipped
    assert [(f.key, f.direction) for f in flips] == [("q1", "pass_to_fail"), ("q2", "fail_to_pass")]
    regression = flips[0]
    assert regression.prompt == "question 1?"
    assert regression.target == "a1"
    assert regression.candidate_output == "gpt-sim-next answer 1"
    assert regression.baseline_output == "gpt-sim-base answer 1"


def test_a_small_suite_is_too_small_to_tell(db: Database) -> None:
    with db.session() as s:
        suite = add_suite(s, "tiny", 20)
        c = add_run(s, suite, CANDIDATE, pattern(20, 15))
        b = add_run(s, suite, BASELINE, pattern(20, 14))
        comparison = compare_runs(s, c.id, b.id, alpha=0.05)
    assert comparison.too_small
    assert comparison.paired is not None and comparison.paired.verdict == "too small to tell"


def test_latest_done_run_ignores_unfinished_runs_and_other_versions(any_db: Database) -> None:
    with any_db.session() as s:
        v1 = add_suite(s, "qa", 3, version="v1")
        v2 = add_suite(s, "qa", 3, version="v2")
        old = add_run(s, v1, CANDIDATE, [True] * 3, finished_offset_min=1)
        newer = add_run(s, v1, CANDIDATE, [True] * 3, finished_offset_min=5)
        add_run(s, v1, CANDIDATE, [True] * 3, status="running")
        other_version = add_run(s, v2, CANDIDATE, [True] * 3, finished_offset_min=9)
        latest_v1 = latest_done_run(s, CANDIDATE, "qa", "v1")
        latest_any = latest_done_run(s, CANDIDATE, "qa")
        nothing = latest_done_run(s, BASELINE, "qa")
    assert latest_v1 is not None and latest_v1.id == newer.id != old.id
    assert latest_any is not None and latest_any.id == other_version.id
    assert nothing is None


def test_compare_models_pairs_runs_of_the_same_suite_version(db: Database, config: Config) -> None:
    with db.session() as s:
        v1 = add_suite(s, "qa", 100, version="v1")
        v2 = add_suite(s, "qa", 100, version="v2")
        base_v1 = add_run(s, v1, BASELINE, pattern(100, 60))
        cand_v1 = add_run(s, v1, CANDIDATE, pattern(100, 90))
        add_run(s, v2, CANDIDATE, pattern(100, 95), finished_offset_min=10)
        result = compare_models(s, config, CANDIDATE, BASELINE)
    (comparison,) = result.suites
    assert comparison.suite_version == "v1"
    assert (comparison.candidate.run_id, comparison.baseline and comparison.baseline.run_id) == (
        cand_v1.id,
        base_v1.id,
    )
    assert result.better == 1


def test_compare_models_names_the_missing_run(db: Database, config: Config) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", 10)
        add_run(s, suite, CANDIDATE, pattern(10, 5))
        with pytest.raises(MonitorError, match="sim:gpt-sim-base has no finished run on suite 'qa'"):
            compare_models(s, config, CANDIDATE, BASELINE, ["qa"])


def test_compare_models_rejects_a_model_without_provider(db: Database, config: Config) -> None:
    with db.session() as s, pytest.raises(InputError, match="provider:model"):
        compare_models(s, config, "gpt-5", BASELINE)


def _three_suite_event(s: object, *, candidate_cost: float | None = 0.0006) -> int:
    from sqlalchemy.orm import Session

    assert isinstance(s, Session)
    event = add_event(s, CANDIDATE)
    for name, cand_pass in (("extraction", 270), ("math", 285), ("support", 210)):
        suite = add_suite(s, name, 300)
        add_run(s, suite, BASELINE, pattern(300, 210), cost_each=0.001)
        add_run(s, suite, CANDIDATE, pattern(300, cand_pass), event=event, cost_each=candidate_cost)
    return event.id


def test_event_headline_counts_better_suites_and_cost(any_db: Database, config: Config) -> None:
    with any_db.session() as s:
        result = compare_event(s, config, _three_suite_event(s))
    assert result.headline == "sim:gpt-sim-next is better than the baseline on 2 of 3 suites, 40% cheaper"
    assert (result.better, result.worse, result.same) == (2, 0, 1)
    assert result.cost_change_pct == pytest.approx(-40.0)
    assert result.baselines == [BASELINE]


def test_event_comparison_holm_adjusts_across_suites(db: Database, config: Config) -> None:
    with db.session() as s:
        result = compare_event(s, config, _three_suite_event(s))
    paired = [c.paired for c in result.suites if c.paired is not None]
    assert [p.p_adjusted for p in paired] == pytest.approx(holm([p.p_value for p in paired]))


def test_event_headline_says_cost_unknown(db: Database, config: Config) -> None:
    with db.session() as s:
        result = compare_event(s, config, _three_suite_event(s, candidate_cost=None))
    assert result.cost_change_pct is None
    assert result.headline.endswith("2 of 3 suites, cost unknown")


def test_event_headline_says_when_a_suite_is_too_small_to_tell(db: Database, config: Config) -> None:
    with db.session() as s:
        event = add_event(s, CANDIDATE)
        suite = add_suite(s, "tiny", 12)
        add_run(s, suite, BASELINE, pattern(12, 8))
        add_run(s, suite, CANDIDATE, pattern(12, 9), event=event)
        result = compare_event(s, config, event.id)
    assert result.headline == (
        "sim:gpt-sim-next: no verdict against the baseline on 1 suite (1 too small to tell), same cost"
    )


def test_event_prefers_the_baseline_run_made_for_the_same_event(db: Database, config: Config) -> None:
    with db.session() as s:
        event = add_event(s, CANDIDATE)
        suite = add_suite(s, "qa", 50)
        add_run(s, suite, BASELINE, pattern(50, 10), finished_offset_min=30)
        same_event = add_run(s, suite, BASELINE, pattern(50, 40), event=event, finished_offset_min=1)
        add_run(s, suite, CANDIDATE, pattern(50, 40), event=event)
        result = compare_event(s, config, event.id)
    baseline = result.suites[0].baseline
    assert baseline is not None and baseline.run_id == same_event.id


def test_event_without_a_finished_baseline_run_says_so(db: Database, config: Config) -> None:
    with db.session() as s:
        event = add_event(s, CANDIDATE)
        suite = add_suite(s, "qa", 50)
        add_run(s, suite, CANDIDATE, pattern(50, 40), event=event)
        result = compare_event(s, config, event.id)
    (comparison,) = result.suites
    assert comparison.paired is None and comparison.baseline is None
    assert result.headline == (
        "sim:gpt-sim-next: nothing to compare against (no finished baseline run on suite version v1 "
        "(sim:gpt-sim-base))"
    )


def test_event_reports_a_failed_candidate_run_without_a_verdict(db: Database, config: Config) -> None:
    with db.session() as s:
        event = add_event(s, CANDIDATE)
        suite = add_suite(s, "qa", 10)
        add_run(s, suite, BASELINE, pattern(10, 5))
        failed = add_run(s, suite, CANDIDATE, [None] * 10, event=event, status="failed")
        failed.error = "provider unreachable"
        result = compare_event(s, config, event.id)
    (comparison,) = result.suites
    assert comparison.paired is None
    assert comparison.note == "run failed: provider unreachable"
    assert comparison.candidate.errored == 10


def test_drift_event_compares_a_model_with_its_previous_run(db: Database, config: Config) -> None:
    with db.session() as s:
        suite = add_suite(s, "qa", 400)
        previous = add_run(s, suite, BASELINE, pattern(400, 320))
        event = add_event(s, BASELINE, kind="drift")
        add_run(s, suite, BASELINE, pattern(400, 260), event=event, finished_offset_min=60)
        result = compare_event(s, config, event.id)
    comparison = result.suites[0]
    assert comparison.baseline is not None and comparison.baseline.run_id == previous.id
    assert result.headline == "sim:gpt-sim-base is worse than its previous run on 1 of 1 suite, same cost"


def test_comparison_converts_to_json_ready_data(db: Database, config: Config) -> None:
    import json

    with db.session() as s:
        result = compare_event(s, config, _three_suite_event(s))
    data = json.loads(json.dumps(to_jsonable(result), allow_nan=False))
    assert data["suites"][0]["paired"]["verdict"] in {"better", "worse", "no measurable difference"}
    assert data["headline"] == result.headline


def test_event_headline_with_both_better_and_worse_suites(db: Database, config: Config) -> None:
    with db.session() as s:
        event = add_event(s, CANDIDATE)
        for name, cand_pass in (("extraction", 290), ("math", 150), ("support", 210)):
            suite = add_suite(s, name, 300)
            add_run(s, suite, BASELINE, pattern(300, 210))
            add_run(s, suite, CANDIDATE, pattern(300, cand_pass), event=event, cost_each=0.0013)
        result = compare_event(s, config, event.id)
    assert result.headline == (
        "sim:gpt-sim-next is better than the baseline on 1 and worse on 1 of 3 suites, 30% more expensive"
    )


def test_compare_models_notes_suites_the_baseline_never_finished(db: Database, config: Config) -> None:
    with db.session() as s:
        shared, only_candidate = add_suite(s, "math", 50), add_suite(s, "support", 50)
        add_run(s, shared, BASELINE, pattern(50, 25))
        add_run(s, shared, CANDIDATE, pattern(50, 30))
        add_run(s, only_candidate, CANDIDATE, pattern(50, 30))
        result = compare_models(s, config, CANDIDATE, BASELINE)
    assert [c.suite for c in result.suites] == ["math"]
    assert result.notes == ["sim:gpt-sim-base has no finished run on suite 'support'"]


def test_event_without_runs_says_no_suite_was_evaluated(db: Database, config: Config) -> None:
    with db.session() as s:
        event = add_event(s, CANDIDATE)
        result = compare_event(s, config, event.id)
    assert result.suites == []
    assert result.headline == "sim:gpt-sim-next: no suite was evaluated"
