"""The CI gate on the command line: `--baseline`, `--fail-on` and `--junit` for `eval` and `compare`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
from rich.markup import escape

from monitor.cli.app import console, err_console
from monitor.core.errors import InputError, MonitorError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from monitor.core.config import Config
    from monitor.evals.loader import SuiteSpec
    from monitor.pipeline.compare.gate import GateDecision
    from monitor.pipeline.compare.summary import EventComparison
    from monitor.store.db import Database
    from monitor.store.tables import Run

F = TypeVar("F", bound=Callable[..., Any])

# monitor.pipeline.compare.gate.FAIL_ON, repeated here so `--help` imports no pipeline module.
FAIL_ON_CHOICES = ("worse", "any-change")
OUTCOME_STYLE = {"passed": "green", "failed": "bold red", "errored": "bold red", "skipped": "yellow"}


def gate_options(func: F) -> F:
    """`--fail-on worse|any-change` and `--junit FILE`, shared by `eval` and `compare`."""
    func = click.option(
        "--junit",
        "junit_path",
        type=click.Path(dir_okay=False, path_type=Path),
        metavar="FILE",
        help="Write the gate's verdicts as JUnit XML (one test case per suite); needs --fail-on.",
    )(func)
    return click.option(
        "--fail-on",
        "fail_on",
        type=click.Choice(FAIL_ON_CHOICES),
        help="Exit 1 when a suite's verdict is worse (`worse`) or better or worse (`any-change`); "
        "an inconclusive verdict passes (docs/ci.md).",
    )(func)


def check_gate_input(fail_on: str | None, junit_path: Path | None, *, compared: bool = True) -> None:
    """Refuse, before anything runs, a gate without a comparison, JUnit without a gate, or a JUnit path
    whose directory does not exist (exit 2; nothing is written)."""
    if not compared and (fail_on or junit_path):
        raise InputError("--fail-on and --junit compare with a baseline: give --baseline provider:model")
    if junit_path is not None and fail_on is None:
        raise InputError("--junit writes the gate's verdicts: give --fail-on worse or --fail-on any-change")
    if junit_path is None:
        return
    directory = junit_path.parent
    if not directory.is_dir():
        raise InputError(f"--junit {junit_path}: directory {directory} does not exist; create it first")
    if junit_path.is_dir():
        raise InputError(f"--junit {junit_path} is a directory; name a file in it")


def stored_baseline_runs(db: Database | None, baseline: str, specs: Sequence[SuiteSpec]) -> dict[str, int]:
    """The baseline's latest finished run on each suite's exact version (by suite name), where one exists.

    As compare's `done_runs` orders them, but reading only columns the first schema revision has, so a
    dry run can read a database of an older schema that it leaves as it is."""
    if db is None:
        return {}
    from sqlalchemy import select

    from monitor.store.statuses import COMPLETED
    from monitor.store.tables import Run, Suite

    provider, _, model_id = baseline.partition(":")
    found: dict[str, int] = {}
    with db.session() as session:
        for spec in specs:
            run_id = session.scalar(
                select(Run.id)
                .join(Suite, Run.suite_id == Suite.id)
                .where(
                    Run.provider == provider,
                    Run.model_id == model_id,
                    Run.status.in_(COMPLETED),
                    Suite.name == spec.name,
                    Suite.version == spec.version,
                )
                .order_by(Run.finished_at.desc().nulls_last(), Run.id.desc())
                .limit(1)
            )
            if run_id is not None:
                found[spec.name] = int(run_id)
    return found


def run_durations(db: Database, run_ids: Sequence[int]) -> dict[int, float]:
    """Each finished run's wall time in seconds, for the JUnit `time` attributes."""
    from sqlalchemy import select

    from monitor.store.tables import Run

    with db.session() as session:
        rows = session.execute(
            select(Run.id, Run.started_at, Run.finished_at).where(Run.id.in_(list(run_ids)))
        ).all()
    return {
        run_id: (finished - started).total_seconds()
        for run_id, started, finished in rows
        if started and finished
    }


def write_junit(
    path: Path, decision: GateDecision, results: Sequence[EventComparison], durations: dict[int, float]
) -> None:
    """The JUnit file, written atomically (a temporary file renamed over it)."""
    from monitor.pipeline.report.files import write_atomic
    from monitor.pipeline.report.junit import junit_xml

    try:
        write_atomic(path, junit_xml(decision, results, durations))
    except OSError as exc:
        raise MonitorError(f"cannot write the JUnit file {path}: {exc.strerror}") from exc


def print_verdicts(results: Sequence[EventComparison], decision: GateDecision | None) -> None:
    """One line per suite (verdict, difference, interval, p; the gate's outcome), then each headline."""
    from monitor.pipeline.compare.gate import suite_gate

    for result in results:
        baseline = result.baselines[0] if result.baselines else None
        console.print(
            f"[bold]{escape(result.candidate)}[/] against {escape(baseline or '-')}", highlight=False
        )
        for comparison in result.suites:
            gate = suite_gate(decision.fail_on if decision else "worse", baseline, comparison)
            outcome = ""
            if decision is not None:
                outcome = f" [{OUTCOME_STYLE[gate.outcome]}]{gate.outcome.upper()}[/]"
            console.print(
                f"  {escape(gate.suite)}:{outcome} {escape(gate.reason)}", highlight=False, soft_wrap=True
            )
        console.print(f"  {escape(result.headline)}", highlight=False, soft_wrap=True)


def gate_exit(decision: GateDecision | None, run_problems: Sequence[str] = ()) -> int:
    """Say whether the gate failed (a verdict) or errored (a run), on stderr; the exit status (0 or 1)."""
    errored = list(run_problems)
    if decision is not None:
        errored += [
            f"{s.candidate} on {s.suite}: {s.reason}" for s in decision.suites if s.outcome == "errored"
        ]
    failed = [] if decision is None else [s for s in decision.suites if s.outcome == "failed"]
    for gate in failed:
        err_console.print(
            f"[bold red]gate failed:[/] {escape(gate.candidate)} on {escape(gate.suite)} "
            f"against {escape(gate.baseline or '-')}: {escape(gate.reason)}",
            highlight=False,
            soft_wrap=True,
        )
    for problem in dict.fromkeys(errored):
        err_console.print(f"[bold red]gate errored:[/] {escape(problem)}", highlight=False, soft_wrap=True)
    if decision is not None and not failed and not errored:
        err_console.print(f"gate passed (fail on {decision.fail_on})", highlight=False)
    return 1 if failed or errored else 0


@dataclass
class EvalGate:
    """What `eval --baseline` pairs: each candidate's run per suite with the baseline's (stored or new)."""

    baseline: str
    fail_on: str | None
    junit_path: Path | None
    baseline_runs: dict[str, int]  # suite name -> the baseline's run on that suite version
    candidate_runs: dict[str, list[tuple[str, int]]] = field(default_factory=dict)

    def enqueue_baseline(
        self, session: Session, config: Config, specs: Sequence[SuiteSpec], repeat: int, worker_id: str
    ) -> list[tuple[Run, SuiteSpec]]:
        """The baseline's runs on the suites it has no finished run on, created claimed by this worker."""
        from monitor.pipeline.queue import enqueue_runs

        provider, _, model_id = self.baseline.partition(":")
        runs = enqueue_runs(
            session,
            config,
            provider=provider,
            model_id=model_id,
            trigger="baseline",
            suites=list(specs),
            repeat=repeat,
            claimed_by=worker_id,
        )
        for run, spec in zip(runs, specs, strict=True):
            self.baseline_runs[spec.name] = run.id
        return list(zip(runs, specs, strict=True))

    def add_run(self, candidate: str, suite: str, run_id: int) -> None:
        """Record the candidate's run on one suite."""
        self.candidate_runs.setdefault(candidate, []).append((suite, run_id))

    def stop_against(self) -> dict[int, int]:
        """Each candidate run's baseline run (stored or made now): the one early stopping tests against,
        so a run never stops settled against another model than the gate compares it with."""
        return {
            run_id: self.baseline_runs[suite]
            for runs in self.candidate_runs.values()
            for suite, run_id in runs
            if suite in self.baseline_runs
        }

    def result(self, db: Database, config: Config) -> GateResult:
        """After the runs: each candidate against the baseline (Holm per model), and the gate's decision."""
        from monitor.pipeline.compare.gate import compare_pairs, decide

        with db.session() as session:
            results = compare_pairs(
                session,
                config,
                self.baseline,
                {
                    candidate: [(run_id, self.baseline_runs.get(suite)) for suite, run_id in runs]
                    for candidate, runs in self.candidate_runs.items()
                },
            )
        decision = decide(self.fail_on, results) if self.fail_on else None
        return GateResult(db, results, decision, self.junit_path)


@dataclass
class GateResult:
    """The comparisons after the runs and the gate's decision (None without --fail-on), to print and write."""

    db: Database
    results: list[EventComparison]
    decision: GateDecision | None
    junit_path: Path | None

    def as_json(self, runs: list[dict[str, Any]]) -> dict[str, Any]:
        """`eval --baseline --json`: the runs, the full comparisons and (with --fail-on) the decision."""
        from monitor.pipeline.compare.jsonable import to_jsonable

        data: dict[str, Any] = {"runs": runs, "comparisons": [to_jsonable(r) for r in self.results]}
        if self.decision is not None:
            data["gate"] = self.decision.as_dict()
        return data

    def print(self) -> None:
        """The verdict per suite, and the gate's outcome."""
        print_verdicts(self.results, self.decision)

    def finish(self, run_problems: Sequence[str]) -> int:
        """Write the JUnit file (when asked), say whether the gate failed or errored; the exit status."""
        if self.decision is None:
            return 1 if run_problems else 0
        if self.junit_path is not None:
            ids = [c.candidate.run_id for r in self.results for c in r.suites]
            write_junit(self.junit_path, self.decision, self.results, run_durations(self.db, ids))
        return gate_exit(self.decision, run_problems)
