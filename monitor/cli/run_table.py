"""The terminal table of run summaries (`eval`, `runs`): model ids whole, the figures stacked to fit."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.markup import escape

from monitor.cli.app import console

if TYPE_CHECKING:
    from rich.table import Table

    from monitor.pipeline.run.totals import RunSummary

CAPTION = "p50/p95: latency in ms"
ESTIMATED_CAPTION = "; ≤cost: estimated at an upper-bound price (docs/pricing.md)"


def id_column(table: Table, header: str, ids: Sequence[str]) -> None:
    """A column of model ids kept whole on one line (copyable): the other columns wrap or shorten."""
    table.add_column(header, no_wrap=True, min_width=max((len(i) for i in ids), default=0))


def print_summaries(
    summaries: Sequence[RunSummary], *, title: str, triggers: dict[int, str] | None = None
) -> None:
    """One row per run, a few short lines per cell, so a 36-character model id and every figure fit
    an 80-column terminal."""
    from rich import box
    from rich.table import Table

    from monitor.providers.pricing import ESTIMATED_PREFIX, format_cost

    estimated = [(s.cost_source or "").startswith(ESTIMATED_PREFIX) for s in summaries]
    table = Table(
        title=title,
        caption=CAPTION + (ESTIMATED_CAPTION if any(estimated) else ""),
        box=box.SIMPLE_HEAD,
        show_edge=False,
        pad_edge=False,
        collapse_padding=True,
    )
    table.add_column("run", justify="right", no_wrap=True)
    header = "model\nsuite\nstatus" + ("\ntrigger" if triggers is not None else "")
    id_column(table, header, [s.model_key for s in summaries])
    # Counts and numbers never break; the score interval wraps at its space first.
    table.add_column("done\npassed\nerrors", justify="right", no_wrap=True)
    table.add_column("pass rate\nmean grade\n95% CI", justify="right", overflow="ellipsis")
    table.add_column("p50\np95", justify="right", no_wrap=True)
    table.add_column("tok in\nout\ncost", justify="right", no_wrap=True)
    for s, upper_bound in zip(summaries, estimated, strict=True):
        answered = s.passed + s.failed
        rate = f"{s.passed / answered:.1%}" if answered else "–"
        score = "–" if s.score is None else f"{s.score:.3f}"
        if s.score is not None and s.ci_low is not None and s.ci_high is not None:
            score += f"\n[{s.ci_low:.3f}, {s.ci_high:.3f}]"
        model = f"{s.model_key}\n{s.suite}\n{s.status}" + (
            f"\n{triggers.get(s.run_id, '')}" if triggers is not None else ""
        )
        table.add_row(
            str(s.run_id),
            escape(model),
            f"{s.done}/{s.samples_total}\n{s.passed}/{answered}\n{s.errored}",
            f"{rate}\n{score}",
            f"{_fmt(s.latency_p50_ms)}\n{_fmt(s.latency_p95_ms)}",
            f"{s.input_tokens:,}\n{s.output_tokens:,}\n"
            + ("≤" if upper_bound else "")
            + format_cost(s.cost_usd),
        )
    console.print(table)
    for s in summaries:
        if s.stop_reason:  # a run the sequential test settled early says so under the table
            console.print(f"run {s.run_id}: {escape(s.stop_reason)}", highlight=False)


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.0f}"
