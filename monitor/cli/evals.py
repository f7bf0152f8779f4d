"""CLI commands for evals: `eval` (run suites on models now), `runs` (list runs), `resume` (continue one)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click
from rich.markup import escape

from monitor.cli.app import AppContext, console, err_console, json_option, main, pass_app, print_json
from monitor.cli.gate import gate_options
from monitor.cli.run_table import print_summaries
from monitor.core.errors import BudgetExceeded, ConfigError, InputError, MonitorError
from monitor.store.statuses import RUN_STATUSES

if TYPE_CHECKING:
    from pathlib import Path

    from monitor.cli.gate import GateResult
    from monitor.core.config import Config
    from monitor.pipeline.run.totals import RunSummary
    from monitor.store.db import Database

INTERRUPTED_EXIT = 130


def _parse_model(config: Config, text: str) -> tuple[str, str]:
    provider, sep, model_id = text.partition(":")
    if not sep or not provider or not model_id:
        raise InputError(f"model '{text}' must be written provider:model (for example openai:gpt-4o-mini)")
    if provider not in config.providers:
        known = ", ".join(sorted(config.providers)) or "none configured"
        raise InputError(f"model '{text}' names provider '{provider}', not in [providers] ({known})")
    return provider, model_id


@main.command("eval")
@click.argument("models", nargs=-1, required=True)
@click.option(
    "--suite", "suite_names", multiple=True, help="Suite name (repeatable; default: [suites].default)."
)
@click.option(
    "--variant",
    default=None,
    metavar="NAME|all|default",
    help="Prompt variant: a name the suites declare, `all` (each suite's own prompt and every variant) or "
    "`default` (the suite's own prompt, the default). One run per model and variant.",
)
@click.option("--repeat", type=click.IntRange(1, 100), default=1, show_default=True, help="Runs per sample.")
@click.option("--concurrency", type=click.IntRange(1, 4096), help="Requests in flight (default: provider's).")
@click.option(
    "--max-cost", type=click.FloatRange(min=0), help="Per-run cost limit in USD (stops the run there)."
)
@click.option("--yes", is_flag=True, help="Start even when the estimate is over budget.")
@click.option(
    "--force", is_flag=True, help="Evaluate a model id its provider's list does not know (not checked)."
)
@click.option(
    "--dry-run", is_flag=True, help="Print the runs, calls and estimated cost; call no one, write nothing."
)
@click.option(
    "--early-stop",
    is_flag=True,
    help="Stop each run once the sequential test settles its verdict against --baseline's run, else "
    '[baseline]\'s (docs/running.md "Early stopping").',
)
@click.option(
    "--baseline",
    metavar="PROVIDER:MODEL",
    help="Compare each model with this one per suite after the runs: its latest finished run on the same "
    "suite version, or a run made now when it has none (docs/ci.md).",
)
@gate_options
@json_option
@pass_app
def eval_command(
    app: AppContext,
    models: tuple[str, ...],
    suite_names: tuple[str, ...],
    variant: str | None,
    repeat: int,
    concurrency: int | None,
    max_cost: float | None,
    yes: bool,
    force: bool,
    dry_run: bool,
    early_stop: bool,
    baseline: str | None,
    fail_on: str | None,
    junit_path: Path | None,
    as_json: bool,
) -> None:
    """Evaluate MODEL... (provider:model) on the suites now, with a progress bar per run.

    Each prompt variant is its own suite version (`support[cot]`): `--variant` picks which to run.
    A model id its provider does not list (as `poll` recorded it, else listed once now) is refused
    unless --force. With --baseline each model is compared with it per suite; --fail-on turns the
    comparison into a CI gate (exit 1 on a worse verdict) and --junit writes it as JUnit XML.
    """
    from monitor.cli.eval_plan import baseline_database, ensure_writable, plan_runs, print_plan
    from monitor.cli.gate import EvalGate, check_gate_input, stored_baseline_runs
    from monitor.evals.loader import load_suites
    from monitor.pipeline.poll.known import refuse_unknown
    from monitor.pipeline.queue import enqueue_runs, new_worker_id
    from monitor.providers import spending
    from monitor.providers.registry import cannot_call, provider_api_key

    check_gate_input(fail_on, junit_path, compared=baseline is not None)
    config = app.config
    parsed = [_parse_model(config, m) for m in models]
    base = _parse_model(config, baseline) if baseline else None
    if baseline in models:
        raise InputError(f"--baseline {baseline} is also a model to evaluate; compare it with another model")
    if not dry_run:  # a key missing from the environment is a config error, before any run exists
        for provider in sorted({p for p, _ in [*parsed, *([base] if base else [])]}):
            provider_api_key(provider, config.providers[provider])
    names = list(suite_names) or config.suites.default or None
    specs = list(load_suites(config.suites_dir, names, default_judge=config.judge.model, variant=variant))
    if not specs:
        raise InputError(f"no suites found in {config.suites_dir}")
    if not dry_run:  # a judge that cannot be called fails its run: a config error before any run exists
        judges = dict.fromkeys(key for spec in specs for key in spec.judge_models)
        if uncallable := [reason for key in judges if (reason := cannot_call(config, key)) is not None]:
            raise ConfigError("llm_judge model " + "; ".join(uncallable))
    base_db, upgrade = baseline_database(app, dry_run) if baseline else (None, None)
    stored = stored_baseline_runs(base_db, baseline, specs) if baseline else {}
    base_specs = [s for s in specs if s.name not in stored] if base else []
    plan = plan_runs(config, parsed, specs, repeat) + plan_runs(
        config, [base] if base else [], base_specs, repeat
    )
    if dry_run:
        print_plan(plan, as_json, upgrade)
        return
    db = app.database()
    problems: list[str] = []
    pending = 0.0
    with db.session() as session:
        for planned in plan:
            check = spending.check_budget(
                session, config, planned.estimate, max_cost_usd=max_cost, pending_usd=pending
            )
            pending += planned.estimate.cost_usd or 0.0
            if not check.ok:
                problems.append(f"{planned.model_key} on {planned.suite}: {check.explain()}")
    if problems and not yes:
        raise BudgetExceeded("; ".join(problems) + "; pass --yes to start anyway")
    ensure_writable(db)
    if not force:
        with db.session() as session:
            refuse_unknown(session, config, parsed + ([base] if base and base_specs else []))
    estimates = {(p.model_key, p.suite): p.estimate for p in plan}
    worker_id = new_worker_id()
    run_ids: list[int] = []
    gate = EvalGate(baseline, fail_on, junit_path, dict(stored)) if baseline else None
    with db.session() as session:
        if gate is not None:
            for run, spec in gate.enqueue_baseline(session, config, base_specs, repeat, worker_id):
                run.estimated_cost_usd = estimates[(gate.baseline, spec.name)].cost_usd
                run_ids.append(run.id)
        for provider, model_id in parsed:
            runs = enqueue_runs(
                session,
                config,
                provider=provider,
                model_id=model_id,
                trigger="manual",
                suites=specs,
                repeat=repeat,
                claimed_by=worker_id,
            )
            for run, spec in zip(runs, specs, strict=True):
                run.estimated_cost_usd = estimates[(f"{provider}:{model_id}", spec.name)].cost_usd
                run_ids.append(run.id)
                if gate is not None:
                    gate.add_run(f"{provider}:{model_id}", spec.name, run.id)
    spec_by_name = {s.name: s for s in specs}
    against = gate.stop_against() if gate is not None else {}
    summaries = _execute(
        db,
        config,
        run_ids,
        worker_id,
        concurrency,
        max_cost,
        spec_by_name,
        as_json,
        early_stop,
        len(specs),
        against,
    )
    _finish(summaries, as_json, gate.result(db, config) if gate is not None else None)


@main.command("runs")
@click.option("--status", type=click.Choice(list(RUN_STATUSES)))
@click.option("--model", "model", help="provider:model, or a model id.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=20, show_default=True)
@json_option
@pass_app
def runs_command(app: AppContext, status: str | None, model: str | None, limit: int, as_json: bool) -> None:
    """List runs, newest first."""
    from sqlalchemy import select

    from monitor.pipeline.run.totals import summarize_run
    from monitor.store.tables import Run

    db = app.existing_database()
    query = select(Run.id).order_by(Run.created_at.desc(), Run.id.desc()).limit(limit)
    if status:
        query = query.where(Run.status == status)
    if model:
        provider, sep, model_id = model.partition(":")
        query = (
            query.where(Run.provider == provider, Run.model_id == model_id)
            if sep
            else query.where(Run.model_id == model)
        )
    with db.session() as session:
        ids = list(session.scalars(query))
        triggers = {k: v for k, v in session.execute(select(Run.id, Run.trigger).where(Run.id.in_(ids)))}
    summaries = [summarize_run(db, run_id) for run_id in ids]
    if as_json:
        print_json([{**_summary_dict(s), "trigger": triggers[s.run_id]} for s in summaries])
        return
    if not summaries:
        console.print("no runs")
        return
    print_summaries(summaries, title="Runs", triggers=triggers)


@main.command("resume")
@click.argument("run_id", type=int, metavar="RUN")
@click.option("--concurrency", type=click.IntRange(1, 4096), help="Requests in flight (default: provider's).")
@click.option("--yes", is_flag=True, help="Continue even when the estimate is over budget.")
@json_option
@pass_app
def resume_command(app: AppContext, run_id: int, concurrency: int | None, yes: bool, as_json: bool) -> None:
    """Continue an interrupted, failed, skipped or abandoned run, or retry the errored samples of a
    finished one; stored answers are not sent again."""
    from monitor.pipeline.queue import claim_run, new_worker_id
    from monitor.pipeline.run.guard import guard_run
    from monitor.store.tables import Run

    config = app.config
    db = app.database()
    with db.session() as session:
        run = session.get(Run, run_id)
        if run is None:
            raise InputError(f"run {run_id} does not exist (see `model-monitor runs`)")
        status, holder, stop_reason = run.status, run.claimed_by, run.stop_reason
    if stop_reason is not None:
        raise InputError(f"run {run_id} is done: {stop_reason}; nothing to resume")
    if status == "done":
        raise InputError(f"run {run_id} is done with every sample answered; nothing to resume")
    if status == "waiting":
        raise MonitorError(
            f"run {run_id} is waiting on its batch at the provider; the daemon collects it when the batch "
            "ends (docs/batch.md)"
        )
    check = guard_run(db, config, run_id)
    if not check.ok and not yes:
        raise BudgetExceeded(f"run {run_id}: {check.explain()}; pass --yes to continue anyway")
    worker_id = new_worker_id()
    if not claim_run(db, run_id, worker_id):
        raise MonitorError(f"run {run_id} is {status}, held by a live worker ({holder}); try again later")
    summaries = _execute(db, config, [run_id], worker_id, concurrency, None, {}, as_json)
    _finish(summaries, as_json)


def _execute(
    db: Database,
    config: Config,
    run_ids: list[int],
    worker_id: str,
    concurrency: int | None,
    max_cost: float | None,
    specs: dict[str, Any],
    quiet: bool,
    early_stop: bool = False,
    family: int | None = None,
    against: dict[int, int] | None = None,
) -> list[RunSummary]:
    """Execute the claimed runs together (limits are shared per provider); Ctrl-C stops them cleanly.

    With `early_stop` each run may stop once its verdict is settled, at alpha / `family` (its model's
    suites), against its `against` run (else `[baseline]`'s), which then runs first and to the end."""
    import asyncio
    import signal

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    from monitor.pipeline.run.progress import RunProgress
    from monitor.pipeline.run.work import execute_run
    from monitor.store.tables import Run

    with db.session() as session:
        labels = {
            r.id: (escape(f"#{r.id} {r.model_key} · {r.suite.name}"), r.suite.name)
            for r in session.query(Run).filter(Run.id.in_(run_ids))
        }
    progress_bar = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("errors {task.fields[errors]}"),
        TextColumn("score {task.fields[score]}"),
        TimeRemainingColumn(),
        console=err_console,
        disable=quiet,
    )
    tasks = {
        run_id: progress_bar.add_task(labels[run_id][0], total=None, errors=0, score="–")
        for run_id in run_ids
    }

    def update(state: RunProgress) -> None:
        score = f"{state.score:.3f}" if state.score is not None else "–"
        progress_bar.update(
            tasks[state.run_id], completed=state.done, total=state.total, errors=state.errored, score=score
        )

    baselines = against or {}  # a run others stop against never stops early itself
    running: dict[int, asyncio.Task[RunSummary]] = {}

    async def run_one(run_id: int, stop: asyncio.Event) -> RunSummary:
        base = baselines.get(run_id)
        if early_stop and base in running:
            await asyncio.wait([running[base]])
        return await execute_run(
            db,
            config,
            run_id,
            worker_id=worker_id,
            progress=update,
            stop=stop,
            concurrency=concurrency,
            max_cost_usd=max_cost,
            spec=specs.get(labels[run_id][1]),
            early_stop=early_stop and run_id not in baselines.values(),
            family=family,
            baseline_run_id=base,
        )

    async def run_all() -> list[RunSummary]:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGINT, stop.set)
        loop.add_signal_handler(signal.SIGTERM, stop.set)
        try:
            running.update({run_id: asyncio.create_task(run_one(run_id, stop)) for run_id in run_ids})
            return list(await asyncio.gather(*running.values()))
        finally:
            loop.remove_signal_handler(signal.SIGINT)
            loop.remove_signal_handler(signal.SIGTERM)

    with progress_bar:
        return asyncio.run(run_all())


def _summary_dict(summary: RunSummary) -> dict[str, Any]:
    """A run summary for --json, with the prompt variant its suite version runs ("default": its own)."""
    from monitor.evals.variants import DEFAULT, split_name

    return {**summary.to_dict(), "variant": split_name(summary.suite)[1] or DEFAULT}


def _finish(summaries: list[RunSummary], as_json: bool, gate: GateResult | None = None) -> None:
    """The results (with --baseline the comparisons, and the gate), what went wrong, the exit status."""
    if as_json:
        runs = [_summary_dict(s) for s in summaries]
        print_json(runs if gate is None else gate.as_json(runs))
    else:
        print_summaries(summaries, title="Results")
        if gate is not None:
            gate.print()
    interrupted = [s for s in summaries if s.status == "interrupted"]
    for summary in interrupted:
        err_console.print(
            f"interrupted: resume with `model-monitor resume {summary.run_id}`", highlight=False
        )
    for summary in summaries:
        if summary.status in ("failed", "skipped") and summary.error:
            err_console.print(
                f"[red]run {summary.run_id} {summary.status}:[/] {escape(summary.error)}", highlight=False
            )
        if summary.status == "done_with_errors":
            err_console.print(
                f"[yellow]run {summary.run_id} is done with errors ({summary.errored} of "
                f"{summary.samples_total} samples errored);[/] `model-monitor resume {summary.run_id}` "
                "sends the failed calls again",
                highlight=False,
            )
    failed = [s for s in summaries if s.status in ("failed", "done_with_errors")]
    code = 1 if failed else 0
    if gate is not None and gate.decision is not None:
        with_errors = [s for s in failed if s.status == "done_with_errors"]  # a failed run is in the decision
        code = gate.finish(
            [f"run {s.run_id} of {s.model_key} on {s.suite} is done with errors" for s in with_errors]
        )
    if interrupted:
        click.get_current_context().exit(INTERRUPTED_EXIT)
    if code:
        click.get_current_context().exit(code)
