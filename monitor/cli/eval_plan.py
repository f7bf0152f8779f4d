"""What `eval` would do, for `--dry-run` (the plan and its cost estimate) and its checks before any run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from monitor.cli import plan_costs
from monitor.cli.app import console, print_json
from monitor.providers.pricing import RunEstimate, estimate_run

if TYPE_CHECKING:
    from monitor.cli.app import AppContext
    from monitor.core.config import Config
    from monitor.evals.loader import SuiteSpec
    from monitor.store.db import Database


@dataclass(frozen=True)
class PlannedRun:
    """One run `eval` would create: a model on one suite version, with its estimate."""

    model_key: str
    suite: str
    variant: str
    samples: int
    repeat: int
    estimate: RunEstimate

    def as_dict(self) -> dict[str, Any]:
        """The run for `--json`: the plan, its price source and its costs (plan_costs: the model's, the
        judges', the total; each None when a price in it is unknown, next to its bound)."""
        return {
            "model_key": self.model_key,
            "suite": self.suite,
            "variant": self.variant,
            "samples": self.samples,
            "repeat": self.repeat,
            "calls": self.estimate.calls,
            "input_tokens": self.estimate.input_tokens,
            "output_tokens": self.estimate.output_tokens,
            "price_source": self.estimate.price.source,
            **plan_costs.cost_fields(self.estimate),
        }


def plan_runs(
    config: Config, models: Sequence[tuple[str, str]], specs: Sequence[SuiteSpec], repeat: int
) -> list[PlannedRun]:
    """One planned run per model and suite version, estimated as the budget check estimates them (its
    judges' verdicts included)."""
    from monitor.evals.variants import DEFAULT
    from monitor.pipeline.run.guard import judge_estimates

    return [
        PlannedRun(
            model_key=f"{provider}:{model_id}",
            suite=spec.name,
            variant=spec.variant or DEFAULT,
            samples=len(spec.samples),
            repeat=repeat,
            estimate=estimate_run(
                config,
                f"{provider}:{model_id}",
                (s.messages for s in spec.samples),
                dict(spec.params or {}),
                repeat=repeat,
                judges=judge_estimates(config, spec, dict(spec.params or {}), repeat),
            ),
        )
        for provider, model_id in models
        for spec in specs
    ]


@dataclass(frozen=True)
class SchemaUpgrade:
    """The schema upgrade `eval` would make first on the database a dry run read and left as it is."""

    current: str | None  # None: the database has no schema yet
    head: str | None

    def as_dict(self) -> dict[str, str | None]:
        """For `--json` (`"schema_upgrade"`)."""
        return {"from": self.current, "to": self.head}

    def line(self) -> str:
        """What `eval` would do to the database, in one line."""
        if self.current is None:
            return f"the database has no schema yet: `eval` creates it (revision {self.head}) first"
        return (
            f"the database is at schema revision {self.current}: `eval` upgrades it first to {self.head} "
            "(this dry run left it as it is)"
        )


def print_plan(plan: Sequence[PlannedRun], as_json: bool, upgrade: SchemaUpgrade | None = None) -> None:
    """The plan as a table (or JSON) with its costs (the model's, the judges', the total the cost guard
    compares), and the schema upgrade `eval` would make first; nothing is sent and nothing is written."""
    estimates = [run.estimate for run in plan]
    if as_json:
        print_json(
            {
                "dry_run": True,
                "runs": [run.as_dict() for run in plan],
                "calls": sum(e.calls for e in estimates),
                **plan_costs.plan_cost_fields(estimates),
                "schema_upgrade": upgrade.as_dict() if upgrade is not None else None,
            }
        )
        return
    from rich import box
    from rich.markup import escape
    from rich.table import Table

    from monitor.cli.run_table import id_column

    judged = any(e.judges for e in estimates)
    table = Table(
        title="Plan (dry run: nothing sent, nothing written)",
        caption="calls: samples × repeats (a tool conversation may take more); cost: estimated from "
        "prompt length and max_tokens"
        + ("; judge: one verdict per sample, judge grader and repeat" if judged else "")
        + " (docs/pricing.md)",
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    id_column(table, "model", [r.model_key for r in plan])
    table.add_column("suite", overflow="fold")
    table.add_column("variant", overflow="fold")
    for column in ("samples", "repeats", "calls"):
        table.add_column(column, justify="right", no_wrap=True)
    for column in ("cost", "judge", "total") if judged else ("cost",):
        table.add_column(column, justify="right")
    for run in plan:
        e = run.estimate
        costs = [plan_costs.cost_cell(e.model_cost_usd, e.price.estimated)]
        if judged:
            costs += [
                plan_costs.cost_cell(e.judge_cost_usd, e.judge_estimated),
                plan_costs.cost_cell(e.cost_usd, e.estimated),
            ]
        table.add_row(
            escape(run.model_key),
            escape(run.suite),
            escape(run.variant),
            str(run.samples),
            str(run.repeat),
            str(e.calls),
            *(escape(c) for c in costs),
        )
    console.print(table)
    for model_key, source in dict.fromkeys((r.model_key, r.estimate.price.source) for r in plan):
        console.print(f"price of {escape(model_key)}: {escape(source)}", highlight=False)
    for model_key, source in plan_costs.judge_sources(estimates):
        console.print(f"price of judge {escape(model_key)}: {escape(source)}", highlight=False)
    console.print(escape(plan_costs.summary_line(estimates)), highlight=False)
    if upgrade is not None:
        console.print(escape(upgrade.line()), highlight=False, soft_wrap=True)


def ensure_writable(db: Database) -> None:
    """Fail now, before any provider is called, when the database refuses writes (a read-only file):
    a write that changes nothing, in a transaction of its own."""
    from sqlalchemy import delete, false

    from monitor.store.tables import Run

    with db.session() as session:
        session.execute(delete(Run).where(false()))


def baseline_database(app: AppContext, dry_run: bool) -> tuple[Database | None, SchemaUpgrade | None]:
    """The database to look up stored baseline runs in, and the upgrade `eval` would make first.

    A dry run writes nothing: it opens the database only if it exists (an empty SQLite file, which a
    connection would write a header to, does not) and leaves its schema as it is (the lookup reads
    columns every revision has; None when it has no schema: every baseline run is then planned), and
    says instead which upgrade `eval` would make (None: it is at the head)."""
    from monitor.store.db import current_revision, head_revision
    from monitor.store.errors import sqlite_path

    if not dry_run:
        return app.database(), None
    path = sqlite_path(app.config.database_url)
    if path is not None and (not path.exists() or path.stat().st_size == 0):  # no database yet
        return None, None
    db = app.database(migrate=False)
    current, head = current_revision(db.engine), head_revision()
    if current == head:
        return db, None
    return (db if current is not None else None), SchemaUpgrade(current, head)
