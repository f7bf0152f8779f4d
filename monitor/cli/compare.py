"""`model-monitor compare A B`: two models' latest finished runs side by side, with honest verdicts."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from monitor.cli.app import AppContext, console, json_option, main, pass_app, print_json
from monitor.cli.gate import gate_options
from monitor.core.errors import InputError

if TYPE_CHECKING:
    from pathlib import Path

    from rich.table import Table

    from monitor.pipeline.compare.pairing import SuiteComparison
    from monitor.pipeline.compare.runs import RunStats
    from monitor.pipeline.compare.summary import EventComparison
    from monitor.stats.estimate import ScoreEstimate

VERDICT_STYLE = {
    "better": "bold green",
    "worse": "bold red",
    "same": "cyan",
    "small": "yellow",
    "errors": "yellow",
}


@main.command()
@click.argument("candidate")
@click.argument("baseline")
@click.option("--suite", "suites", multiple=True, metavar="NAME", help="Only this suite (repeatable).")
@gate_options
@json_option
@pass_app
def compare(
    app: AppContext,
    candidate: str,
    baseline: str,
    suites: tuple[str, ...],
    fail_on: str | None,
    junit_path: Path | None,
    as_json: bool,
) -> None:
    """Compare CANDIDATE with BASELINE (each provider:model) on their latest finished runs.

    Pairs the two models on the same samples of the same suite version: scores with 95%
    intervals, the difference with its interval, the (Holm-adjusted) p-value and a verdict,
    the smallest difference the suite can detect, flipped samples, latency and cost. With
    --fail-on it is a CI gate (exit 1 on a worse, or changed, verdict); --junit writes it as JUnit XML.
    """
    from monitor.cli.gate import GateResult, check_gate_input
    from monitor.pipeline.compare.events import compare_models
    from monitor.pipeline.compare.gate import decide
    from monitor.pipeline.compare.jsonable import to_jsonable
    from monitor.pipeline.compare.selection import parse_model_key
    from monitor.pipeline.poll.known import refuse_unrecorded

    check_gate_input(fail_on, junit_path)
    parse_model_key(candidate)
    parse_model_key(baseline)
    if candidate == baseline:
        raise InputError(f"compare needs two different models; both are '{candidate}'")
    config = app.config
    db = app.existing_database()
    with db.session() as session:
        refuse_unrecorded(session, [candidate, baseline])
        result = compare_models(session, config, candidate, baseline, list(suites) or None)
    decision = decide(fail_on, [result]) if fail_on else None
    if as_json:
        data = to_jsonable(result)
        if decision is not None:
            data["gate"] = decision.as_dict()
        print_json(data)
    else:
        render(result)
    if decision is not None:
        gate = GateResult(db, [result], decision, junit_path)
        if not as_json:
            gate.print()
        code = gate.finish([])
        if code:
            click.get_current_context().exit(code)


def render(result: EventComparison) -> None:
    """One table per suite, then the headline."""
    for comparison in result.suites:
        for role, stats in (("candidate", comparison.candidate), ("baseline", comparison.baseline)):
            if stats is not None:  # whole ids on lines of their own, copyable at any width
                console.print(f"{role}: {_escape(stats.model_key)}", highlight=False, soft_wrap=True)
        console.print(_suite_table(comparison))
        console.print(_verdict_line(comparison), highlight=False)
        console.print()
    for note in result.notes:
        console.print(f"[yellow]not compared:[/] {_escape(note)}", highlight=False)
    for group in result.variants:
        console.print(
            f"[bold]prompt variants of {_escape(group.suite)}:[/] {_escape(group.sentence)}", highlight=False
        )
        if group.detail:
            console.print(f"[dim]{_escape(group.detail)}[/]", highlight=False)
    console.print(f"[bold]{_escape(result.headline)}[/]", highlight=False)
    console.print(
        f"[dim]alpha {result.alpha:g}, Holm-adjusted across {len(result.suites)} suite(s); "
        "errored samples are left out of the paired test, then checked as failures[/]",
        highlight=False,
    )


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _suite_table(comparison: SuiteComparison) -> Table:
    from rich.table import Table

    cand, base = comparison.candidate, comparison.baseline
    paired = comparison.paired
    title = f"{comparison.suite} (version {comparison.suite_version[:12]})"
    if paired is not None:
        title += f": {paired.n} paired samples"
    table = Table(title=_escape(title), title_justify="left")
    table.add_column("")
    table.add_column("candidate", justify="right")
    table.add_column("baseline", justify="right")
    rows: list[tuple[str, str, str]] = [
        ("pass rate (95% CI)", _score(cand.pass_rate), _score(base.pass_rate) if base else "-"),
        ("mean grade (95% CI)", _score(cand.score), _score(base.score) if base else "-"),
        ("passed / failed / errored", _counts(cand), _counts(base) if base else "-"),
        ("latency p50 / p95", _latency(cand), _latency(base) if base else "-"),
        ("tokens in / out", _tokens(cand), _tokens(base) if base else "-"),
        ("cost per 1,000 samples", _cost(cand), _cost(base) if base else "-"),
        ("prices from", cand.cost_source or "-", (base.cost_source or "-") if base else "-"),
        ("run", f"#{cand.run_id}", f"#{base.run_id}" if base else "-"),
    ]
    for label, left, right in rows:
        table.add_row(label, _escape(left), _escape(right))
    return table


def _verdict_line(comparison: SuiteComparison) -> str:
    from monitor.pipeline.compare.wording import VERDICT_CLASS, verdict_lines

    paired = comparison.paired
    note = f"\n[dim]{_escape(comparison.note)}[/]" if comparison.note else ""
    if paired is None:
        return f"[yellow]not compared[/]{note}"
    style = VERDICT_STYLE.get(VERDICT_CLASS.get(paired.verdict, ""), "")
    pass_to_fail = sum(1 for f in comparison.flipped if f.direction == "pass_to_fail")
    fail_to_pass = len(comparison.flipped) - pass_to_fail
    first, *rest = verdict_lines(paired)
    details = "".join(f"\n{_escape(line)}" for line in rest)
    return (
        f"[{style}]{_escape(paired.verdict)}[/]: {_escape(first)}{details}\n"
        f"flips: {pass_to_fail} pass->fail, {fail_to_pass} fail->pass{note}"
    )


def _score(score: ScoreEstimate) -> str:
    if score.mean is None:
        return "no scored samples"
    if score.ci is None:
        return f"{score.mean * 100:.1f}%"
    return f"{score.mean * 100:.1f}% [{score.ci.low * 100:.1f}, {score.ci.high * 100:.1f}]"


def _counts(stats: RunStats) -> str:
    return f"{stats.passed} / {stats.failed} / {stats.errored}"


def _latency(stats: RunStats) -> str:
    if stats.latency_p50_ms is None or stats.latency_p95_ms is None:
        return "-"
    return f"{stats.latency_p50_ms:.0f} / {stats.latency_p95_ms:.0f} ms"


def _tokens(stats: RunStats) -> str:
    return f"{stats.input_tokens:,} / {stats.output_tokens:,}"


def _cost(stats: RunStats) -> str:
    if stats.cost_per_1k is None:
        return "cost unknown"
    from monitor.providers.pricing import estimate_prefix

    return estimate_prefix(stats.cost_source) + f"${stats.cost_per_1k:,.4f}"
