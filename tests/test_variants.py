"""Prompt variants after the loader: `eval --variant`, a new-model event's runs per variant, and the
event report's "Prompt variants" section (table, best pair, and a difference claimed only when tested)."""

from __future__ import annotations

import json
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor.cli import main
from monitor.core.config import Config, load_config, parse_config
from monitor.core.errors import ConfigError
from monitor.pipeline.compare.events import compare_event
from monitor.pipeline.compare.jsonable import to_jsonable
from monitor.pipeline.compare.pairing import compare_runs
from monitor.pipeline.compare.variants import VariantGroup
from monitor.pipeline.deliver.message import build_event_email
from monitor.pipeline.queue import plan_new_model_runs
from monitor.pipeline.report.queries import build_event_report
from monitor.pipeline.report.render import render_event_report
from monitor.simulator import Simulator
from monitor.store.db import Database, open_database
from monitor.store.tables import Event, Run
from tests.event_helpers import EMAIL
from tests.factories import add_event, add_run, add_suite, make_config
from tests.runner_helpers import KEY_ENV, write_workspace

VARIANT_SUITE = """
name: tiny
description: Sums, with prompt variants.
prompt:
  system: Reply with the number only.
  user: "{{ question }}"
params: {temperature: 0, max_tokens: 16}
variants:
  terse:
    prompt: {system: "Only the number.", user: "{{ question }}"}
  cot:
    prompt: {system: "Think, then give the number.", user: "{{ question }}"}
    params: {max_tokens: 32}
graders:
  - {type: numeric}
samples_files: [tiny.jsonl]
"""


@pytest.fixture(autouse=True)
def _sim_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sim-key")


def _workspace(tmp_path: Path, base_url: str, *, samples: int = 4, extra: str = "") -> Path:
    config = write_workspace(tmp_path, base_url, samples=samples, extra=extra)
    (tmp_path / "evals" / "tiny.yaml").write_text(textwrap.dedent(VARIANT_SUITE))
    return config


def _cli(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    return result.exit_code, result.output


# ---- eval --variant ------------------------------------------------------------------------------


def test_eval_variant_all_runs_each_model_on_each_variant(tmp_path: Path, simulator: Simulator) -> None:
    config = _workspace(tmp_path, simulator.base_url)
    code, output = _cli(
        config,
        "eval",
        "sim:gpt-sim-base",
        "sim:gpt-sim-mini",
        "--suite",
        "tiny",
        "--variant",
        "all",
        "--json",
    )
    assert code == 0, output
    pairs = [(s["model_key"], s["suite"], s["variant"]) for s in json.loads(output)]
    assert pairs == [
        (model, suite, variant)
        for model in ("sim:gpt-sim-base", "sim:gpt-sim-mini")
        for suite, variant in (("tiny", "default"), ("tiny[terse]", "terse"), ("tiny[cot]", "cot"))
    ]
    assert all(s["status"] == "done" and s["done"] == 4 for s in json.loads(output))


def test_eval_without_variant_runs_the_default_prompt_only(tmp_path: Path, simulator: Simulator) -> None:
    config = _workspace(tmp_path, simulator.base_url)
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--json")
    assert code == 0, output
    assert [(s["suite"], s["variant"]) for s in json.loads(output)] == [("tiny", "default")]
    code, output = _cli(
        config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--variant", "default", "--json"
    )
    assert code == 0, output
    assert [(s["suite"], s["variant"]) for s in json.loads(output)] == [("tiny", "default")]


def test_eval_one_named_variant_and_the_table_names_it(tmp_path: Path, simulator: Simulator) -> None:
    config = _workspace(tmp_path, simulator.base_url)
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--variant", "cot")
    assert code == 0, output
    assert "tiny[cot]" in output  # not swallowed as console markup
    code, output = _cli(config, "runs", "--json")
    assert code == 0, output
    assert [(r["suite"], r["variant"]) for r in json.loads(output)] == [("tiny[cot]", "cot")]


def test_eval_with_a_variant_no_suite_declares_exits_2(tmp_path: Path, simulator: Simulator) -> None:
    config = _workspace(tmp_path, simulator.base_url)
    code, output = _cli(config, "eval", "sim:gpt-sim-base", "--suite", "tiny", "--variant", "nope")
    assert code == 2
    assert "nope" in output


def test_check_lists_each_suites_variants(tmp_path: Path, simulator: Simulator) -> None:
    config = _workspace(tmp_path, simulator.base_url)
    code, output = _cli(config, "check", "--json")
    assert code == 0, output
    (suite,) = json.loads(output)["suites"]
    assert (suite["name"], suite["variants"]) == ("tiny", ["terse", "cot"])
    code, output = _cli(config, "check")
    assert code == 0, output
    assert "terse, cot" in output


# ---- [schedule] variants -------------------------------------------------------------------------


def test_schedule_variants_defaults_to_all_and_rejects_other_values(tmp_path: Path) -> None:
    assert parse_config("", tmp_path / "monitor.toml").schedule.variants == "all"
    chosen = parse_config('[schedule]\nvariants = "default"\n', tmp_path / "monitor.toml")
    assert chosen.schedule.variants == "default"
    with pytest.raises(ConfigError) as caught:
        parse_config('[schedule]\nvariants = "cot"\n', tmp_path / "monitor.toml")
    assert "[schedule.variants]" in str(caught.value) and '"all"' in str(caught.value)


def test_check_exits_2_on_a_bad_schedule_variants(tmp_path: Path, simulator: Simulator) -> None:
    config = _workspace(tmp_path, simulator.base_url, extra='[schedule]\nvariants = "some"\n')
    code, output = _cli(config, "check")
    assert code == 2
    assert "schedule.variants" in output and '"default"' in output


def _plan(config_path: Path) -> list[tuple[str, str, str]]:
    config = load_config(config_path)
    db = open_database(config.database_url)
    try:
        with db.session() as session:
            session.add(Event(kind="new_model", provider="sim", model_id="gpt-sim-new", detail={}))
        plan = plan_new_model_runs(db, config)
        assert plan.error is None
        with db.session() as session:
            runs = session.scalars(select(Run).order_by(Run.id))
            return [(r.model_key, r.suite.name, r.trigger) for r in runs]
    finally:
        db.dispose()


def test_a_new_model_event_queues_every_variant_for_the_candidate_and_the_baseline(
    tmp_path: Path, simulator: Simulator
) -> None:
    config = _workspace(tmp_path, simulator.base_url, extra='[baseline]\ndefault = "sim:gpt-sim-base"\n')
    queued = _plan(config)
    suites = ("tiny", "tiny[terse]", "tiny[cot]")
    assert sorted(queued) == sorted(
        [("sim:gpt-sim-new", s, "new_model") for s in suites]
        + [("sim:gpt-sim-base", s, "baseline") for s in suites]
    )


def test_schedule_variants_default_queues_the_default_prompt_only(
    tmp_path: Path, simulator: Simulator
) -> None:
    extra = '[baseline]\ndefault = "sim:gpt-sim-base"\n\n[schedule]\nvariants = "default"\n'
    config = _workspace(tmp_path, simulator.base_url, extra=extra)
    assert _plan(config) == [
        ("sim:gpt-sim-new", "tiny", "new_model"),
        ("sim:gpt-sim-base", "tiny", "baseline"),
    ]


def test_a_per_suite_baseline_applies_to_the_suites_variants(tmp_path: Path, simulator: Simulator) -> None:
    extra = '[baseline]\ndefault = "sim:gpt-sim-base"\n\n[baseline.suites]\ntiny = "sim:gpt-sim-mini"\n'
    config = _workspace(tmp_path, simulator.base_url, extra=extra)
    baselines = {(model, suite) for model, suite, trigger in _plan(config) if trigger == "baseline"}
    assert baselines == {("sim:gpt-sim-mini", s) for s in ("tiny", "tiny[terse]", "tiny[cot]")}


# ---- the report's "Prompt variants" section -----------------------------------------------------

SIZE = 30
COT_WINS = {
    ("sim:new", "default"): 8,
    ("sim:new", "cot"): 29,
    ("sim:base", "default"): 25,
    ("sim:base", "cot"): 12,
}
"""Passes of 30: the new model clearly does best with `cot`, production with `default`."""


def _event_with_variants(db: Database, scores: dict[tuple[str, str], int], *, size: int = SIZE) -> int:
    """A new-model event: `sim:new` and its baseline `sim:base` on `qa` and `qa[cot]`; `scores` says how
    many of the first samples each (model, variant) passes; a pair left out is a run that failed."""
    with db.session() as s:
        event = add_event(s, "new_model", "sim:new")
        for variant, name in (("default", "qa"), ("cot", "qa[cot]")):
            suite = add_suite(s, name=name, version=f"v-{variant}", size=size)
            for model, trigger in (("sim:new", "new_model"), ("sim:base", "baseline")):
                passed = scores.get((model, variant))
                outcomes = [i < (passed or 0) for i in range(size)]
                status = "done" if passed is not None else "failed"
                add_run(s, suite, model, outcomes, event=event, trigger=trigger, status=status)
        return event.id


def _variant_group(db: Database, config: Config, scores: dict[tuple[str, str], int]) -> VariantGroup:
    """The one prompt-variant group the comparison of `_event_with_variants(db, scores)` holds."""
    event_id = _event_with_variants(db, scores)
    with db.session() as s:
        (group,) = compare_event(s, config, event_id).variants
    return group


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return make_config(tmp_path, extra=EMAIL)


@pytest.fixture
def database(config: Config) -> Iterator[Database]:
    database = open_database(config.database_url)
    yield database
    database.dispose()


def test_the_report_says_the_new_model_needs_a_different_prompt_when_the_test_says_so(
    database: Database, config: Config
) -> None:
    event_id = _event_with_variants(database, COT_WINS)
    with database.session() as s:
        report = build_event_report(s, config, event_id)
        comparison = compare_event(s, config, event_id)
    (group,) = comparison.variants
    assert (group.suite, group.variants) == ("qa", ["default", "cot"])
    assert (group.candidate_best, group.production_best) == ("cot", "default")
    assert group.best is not None and (group.best.model_key, group.best.variant) == ("sim:new", "cot")
    assert group.test is not None and group.test.verdict == "better" and group.significant
    assert group.sentence.startswith(
        "sim:new does best with `cot`; production (sim:base) does best with `default`"
    )
    assert "needs a different prompt" in group.sentence and "Best observed" not in group.sentence
    html = render_event_report(report)
    assert "Prompt variants" in html and "Best pair" in html
    assert "sim:new does best with `cot`; production (sim:base) does best with `default`" in html
    assert "96.7%" in html and "26.7%" in html  # 29/30 and 8/30, per (model, variant)
    data = to_jsonable(comparison)
    assert data["variants"][0]["candidate_best"] == "cot" and data["variants"][0]["significant"] is True
    json.dumps(data)


def test_a_difference_the_test_does_not_support_is_only_the_best_observed(
    database: Database, config: Config
) -> None:
    scores = {
        ("sim:new", "default"): 20,
        ("sim:new", "cot"): 22,
        ("sim:base", "default"): 21,
        ("sim:base", "cot"): 18,
    }
    group = _variant_group(database, config, scores)
    assert (group.candidate_best, group.production_best) == ("cot", "default")
    assert group.test is not None and group.test.verdict != "better" and not group.significant
    assert group.sentence.startswith(
        "Best observed: sim:new does best with `cot`; production (sim:base) does best with `default`"
    )
    assert "not significant" in group.sentence and "needs a different prompt than" not in group.sentence
    assert group.detail is not None and "`cot` against `default` on sim:new" in group.detail


def test_the_same_best_variant_makes_no_claim_and_runs_no_test(database: Database, config: Config) -> None:
    scores = {
        ("sim:new", "default"): 27,
        ("sim:new", "cot"): 20,
        ("sim:base", "default"): 24,
        ("sim:base", "cot"): 15,
    }
    group = _variant_group(database, config, scores)
    assert group.test is None and group.detail is None
    assert group.sentence == "Best observed: sim:new and production (sim:base) both do best with `default`"


def test_the_email_carries_the_prompt_variants_section(database: Database, config: Config) -> None:
    event_id = _event_with_variants(database, COT_WINS)
    with database.session() as s:
        comparison = compare_event(s, config, event_id)
    message = build_event_email(config, comparison, report_path=None)
    text = next(p for p in message.walk() if p.get_content_type() == "text/plain").get_content()
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_content()
    assert "== Prompt variants: qa ==" in text
    assert "best pair  sim:new with `cot`: 96.7%" in text
    assert "sim:new does best with `cot`; production (sim:base) does best with `default`" in text
    assert "new model sim:new" in text and "96.7%*" in text
    assert "Prompt variants: qa" in html and "Best pair" in html


def test_suites_without_variants_have_no_variant_section(database: Database, config: Config) -> None:
    with database.session() as s:
        event = add_event(s, "new_model", "sim:new")
        suite = add_suite(s, size=10)
        add_run(s, suite, "sim:new", [True] * 9 + [False], event=event, trigger="new_model")
        add_run(s, suite, "sim:base", [True] * 5 + [False] * 5, event=event, trigger="baseline")
        event_id = event.id
    with database.session() as s:
        report = build_event_report(s, config, event_id)
    assert report.variants == [] and "Prompt variants" not in render_event_report(report)


def test_runs_of_two_different_suites_are_never_paired_across_variants(database: Database) -> None:
    with database.session() as s:
        qa, other = add_suite(s, name="qa", version="a"), add_suite(s, name="other[cot]", version="b")
        first = add_run(s, qa, "sim:new", [True] * 10)
        second = add_run(s, other, "sim:new", [False] * 10)
        comparison = compare_runs(s, first.id, second.id, alpha=0.05, across_variants=True)
    assert comparison.paired is None and comparison.note is not None and "not comparable" in comparison.note


def test_compare_names_the_best_variant_in_its_table_and_json(
    database: Database, config: Config, tmp_path: Path
) -> None:
    _event_with_variants(database, COT_WINS)
    code, output = _cli(tmp_path / "monitor.toml", "compare", "sim:new", "sim:base", "--json")
    assert code == 0, output
    (group,) = json.loads(output)["variants"]
    assert (group["suite"], group["candidate_best"], group["production_best"]) == ("qa", "cot", "default")
    code, output = _cli(tmp_path / "monitor.toml", "compare", "sim:new", "sim:base")
    assert code == 0, output
    assert "prompt variants of qa:" in output and "sim:new does best with `cot`" in " ".join(output.split())


def test_when_the_new_models_run_on_productions_best_failed_nothing_is_tested(
    database: Database, config: Config
) -> None:
    scores = {("sim:new", "cot"): 29, ("sim:base", "default"): 25, ("sim:base", "cot"): 12}
    group = _variant_group(database, config, scores)
    assert (group.candidate_best, group.production_best, group.test) == ("cot", "default", None)
    assert group.sentence.startswith("Best observed: sim:new does best with `cot`")
    assert "not tested" in group.sentence and not group.significant
    production = {(c.variant, c.score.mean) for c in group.scores if c.role == "baseline"}
    assert production == {("default", 25 / SIZE), ("cot", 12 / SIZE)}  # beside the failed run too
