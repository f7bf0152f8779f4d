"""The offline demo: simulated providers, a local mailbox and a fresh workspace run the whole loop once.

Poll (bootstrap), a new model appears, poll again, evaluate the shipped suites on it and on the
baseline, report, mail the report to a local SMTP server and save what it received as an .eml.
The workspace is recreated on every run (only when it is a demo workspace), so nothing is stale.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from monitor.core.errors import InputError, MonitorError

if TYPE_CHECKING:
    from rich.console import Console

    from monitor.core.config import Config
    from monitor.pipeline.compare.summary import EventComparison
    from monitor.store.db import Database

MARKER = ".model-monitor-demo"
SIM_KEY_ENV = "MODEL_MONITOR_SIM_KEY"
SIM_KEY = "sim-key"
BASELINE = "gpt-sim-base"
NEW_MODEL = "gpt-sim-next"
# What the demo writes; a rerun removes exactly these before starting again.
_OWNED = ("monitor.toml", "monitor.db", "monitor.db-wal", "monitor.db-shm", "evals", "reports")


@dataclass
class DemoResult:
    """Where the demo left its outputs."""

    workspace: Path
    config_path: Path
    index: Path
    event_report: Path
    eml: Path
    headline: str
    seconds: float
    comparison: EventComparison | None = field(default=None, repr=False)


def demo_models() -> list[Any]:
    """The baseline in production and the stronger, cheaper model the simulator releases."""
    from monitor.simulator import SimModel

    return [
        SimModel(BASELINE, provider="openai", skill=0.72, latency_ms=25, latency_jitter_ms=10),
        SimModel(
            NEW_MODEL, provider="openai", skill=0.9, latency_ms=20, latency_jitter_ms=8, release_after_polls=1
        ),
    ]


def prepare_workspace(directory: Path) -> Path:
    """Create the workspace, or clear the previous demo's files from it; refuse any other folder."""
    directory = directory.expanduser().resolve()
    if directory.exists() and not directory.is_dir():
        raise InputError("exists and is not a directory; pick another --dir", path=str(directory))
    if directory.is_dir() and any(directory.iterdir()) and not (directory / MARKER).is_file():
        raise InputError(
            "is not empty and is not a model-monitor demo workspace; pick another --dir", path=str(directory)
        )
    directory.mkdir(parents=True, exist_ok=True)
    for name in _OWNED:
        path = directory / name
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        elif path.exists() or path.is_symlink():
            path.unlink()
    (directory / MARKER).write_text("A model-monitor demo workspace: `model-monitor demo` recreates it.\n")
    return directory


def write_demo_config(directory: Path, sim_url: str, smtp_port: int) -> Path:
    """monitor.toml for the simulator (as `openai`-compatible provider `sim`) and the local mailbox."""
    path = directory / "monitor.toml"
    path.write_text(
        textwrap.dedent(
            f"""\
            # Written by `model-monitor demo`: the simulator and the local SMTP server only live while
            # the demo runs (or with --keep). For real providers start from deploy/monitor.toml.
            [database]
            url = "sqlite:///monitor.db"

            [providers.sim]
            type = "openai-compatible"
            base_url = "{sim_url}/v1"
            api_key_env = "{SIM_KEY_ENV}"     # the simulator's key is "{SIM_KEY}"
            max_concurrency = 32

            [suites]
            directory = "evals"

            [baseline]
            default = ["sim:{BASELINE}"]

            [schedule]
            poll_interval_minutes = 1
            work_interval_seconds = 5
            outbox_interval_seconds = 5

            [pricing."sim:{BASELINE}"]
            input = 2.00
            output = 8.00

            [pricing."sim:{NEW_MODEL}"]
            input = 1.25
            output = 5.00

            [email]
            smtp_host = "127.0.0.1"
            smtp_port = {smtp_port}
            security = "none"
            from = "model-monitor demo <demo@localhost>"
            to = ["you@localhost"]

            [reports]
            directory = "reports"
            """
        )
    )
    return path


class _Mailbox:
    """An aiosmtpd handler that saves every message it accepts as an .eml file."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.saved: list[Path] = []
        self.arrived = threading.Event()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        from monitor.pipeline.report.files import safe_filename, write_atomic

        data = bytes(envelope.original_content or envelope.content)
        subject = str(message_from_bytes(data, policy=policy.default).get("Subject", "message"))
        name = safe_filename(f"{len(self.saved) + 1}-{subject}") + ".eml"
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / name
        write_atomic(path, data)
        self.saved.append(path)
        self.arrived.set()
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def local_smtp(directory: Path) -> Iterator[tuple[int, _Mailbox]]:
    """A real SMTP server (aiosmtpd) on a free loopback port, saving messages into `directory`."""
    from aiosmtpd.controller import Controller

    mailbox = _Mailbox(directory)
    controller = Controller(mailbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller.port, mailbox
    finally:
        controller.stop()


@contextmanager
def _sim_key() -> Iterator[None]:
    previous = os.environ.get(SIM_KEY_ENV)
    os.environ[SIM_KEY_ENV] = SIM_KEY
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(SIM_KEY_ENV, None)
        else:
            os.environ[SIM_KEY_ENV] = previous


def _evaluate_queued(db: Database, config: Config, console: Console) -> int:
    """Claim and run every queued run with a progress bar per run; returns how many ran."""
    from rich.markup import escape
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from monitor.pipeline.queue import claim_next_run, new_worker_id
    from monitor.pipeline.run.progress import RunProgress
    from monitor.pipeline.run.work import execute_run

    worker = new_worker_id()
    ran = 0
    columns = (
        TextColumn("{task.description:<36}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("score {task.fields[score]}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bars:
        while (run_id := claim_next_run(db, worker)) is not None:
            task = bars.add_task(f"run {run_id}", total=None, score="-")

            def update(p: RunProgress, task: Any = task) -> None:
                score = "-" if p.score is None else f"{p.score:.0%}"
                bars.update(
                    task,
                    description=escape(f"{p.model_key} · {p.suite}"),  # `support[cot]` is no markup
                    total=p.total,
                    completed=p.done,
                    score=score,
                )

            summary = asyncio.run(execute_run(db, config, run_id, worker_id=worker, progress=update))
            if summary.status != "done":
                raise MonitorError(
                    f"run {run_id} ended {summary.status}: {summary.error or 'no error recorded'}"
                )
            ran += 1
    return ran


def run_demo(directory: Path, *, keep: bool = False, console: Console) -> DemoResult:
    """Run the demo in `directory` and print what to look at; with `keep`, serve until Ctrl-C."""
    from monitor.core.config import load_config
    from monitor.evals.examples import copy_example_suites
    from monitor.pipeline.compare.events import compare_event
    from monitor.pipeline.complete import complete_events
    from monitor.pipeline.deliver.mailer import flush_outbox
    from monitor.pipeline.poll.discovery import poll
    from monitor.pipeline.queue import plan_new_model_runs
    from monitor.pipeline.report.files import event_report_path
    from monitor.simulator import Simulator
    from monitor.store.db import open_database
    from monitor.store.tables import Event

    started = time.monotonic()
    workspace = prepare_workspace(directory)
    reports = workspace / "reports"
    console.print(f"[bold]model-monitor demo[/] in {workspace}", highlight=False)
    with (
        _sim_key(),
        Simulator(models=demo_models(), api_key=SIM_KEY).running() as sim,
        local_smtp(reports / "mail") as (smtp_port, mailbox),
    ):
        console.print(
            f"  simulator (OpenAI-compatible) on {sim.base_url}, SMTP on 127.0.0.1:{smtp_port}",
            soft_wrap=True,
        )
        config_path = write_demo_config(workspace, sim.base_url, smtp_port)
        suites = copy_example_suites(workspace / "evals")
        console.print(f"  {len([s for s in suites if s.suffix == '.yaml'])} example suites copied to evals/")
        config = load_config(config_path)
        db = open_database(config.database_url)
        try:
            first = poll(db, config).outcomes[0]
            if not first.ok:
                raise MonitorError(f"the first poll failed: {first.error}")
            console.print(
                f"1. poll: {first.listed} model(s) listed; first poll, so recorded and nothing queued"
            )
            second = poll(db, config).outcomes[0]
            if not second.ok or not second.new:
                raise MonitorError(f"the second poll did not see the new model: {second.error or second}")
            plan = plan_new_model_runs(db, config)
            if plan.error:
                raise MonitorError(plan.error)
            console.print(
                f"2. poll: new model sim:{', sim:'.join(second.new)} -> {plan.queued_runs} run(s) queued "
                "(the new model and the baseline on every suite)"
            )
            console.print("3. evaluate:")
            _evaluate_queued(db, config, console)
            reported = complete_events(db, config)
            with db.session() as session:
                event = session.get(Event, reported[0]) if reported else None
                if event is None:
                    raise MonitorError("the new model's event was not reported")
                comparison = compare_event(session, config, event.id)
                event_path = reports / event_report_path(event)
            console.print(f"4. report: {comparison.headline}", highlight=False)
            sent = flush_outbox(db, config.email) if config.email is not None else None
            if sent is None or not sent.sent or not mailbox.arrived.wait(10):
                errors = "; ".join(sent.errors) if sent is not None else "no [email]"
                raise MonitorError(f"the e-mail was not delivered to the local SMTP server: {errors}")
            console.print(
                f"5. e-mail delivered to the local SMTP server: {mailbox.saved[0].name}", soft_wrap=True
            )
        finally:
            db.dispose()
        result = DemoResult(
            workspace=workspace,
            config_path=config_path,
            index=reports / "index.html",
            event_report=event_path,
            eml=mailbox.saved[0],
            headline=comparison.headline,
            seconds=time.monotonic() - started,
            comparison=comparison,
        )
        _print_result(result, console)
        if keep:
            _serve_until_interrupted(console, config_path)
    return result


def _print_result(result: DemoResult, console: Console) -> None:
    lines = [
        "",
        f"[bold green]Done in {result.seconds:.1f} s.[/] Look at:",
        f"  the report index   {result.index}",
        f"  the event report   {result.event_report}",
        f"  the e-mail (.eml)  {result.eml}",
        "",
        "Next:",
        "  - real providers: export OPENAI_API_KEY (ANTHROPIC_API_KEY, GEMINI_API_KEY), run",
        "    `model-monitor init` (or start from deploy/monitor.toml), then `model-monitor poll`",
        "  - evaluate by hand: `model-monitor eval openai:gpt-4.1 --suite arithmetic`",
        "  - run the service: `model-monitor daemon` (docs/ops.md: systemd, upgrades, backups)",
        f"  - browse the reports: `model-monitor --config {result.config_path} serve`",
    ]
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)


def _serve_until_interrupted(console: Console, config_path: Path) -> None:
    lines = [
        "",
        "--keep: the simulator and the SMTP server stay up. In another shell:",
        f"  export {SIM_KEY_ENV}={SIM_KEY}",
        f"  model-monitor --config {config_path} poll",
        f"  model-monitor --config {config_path} eval sim:{NEW_MODEL} --suite arithmetic",
        "Ctrl-C to stop.",
    ]
    for line in lines:
        console.print(line, highlight=False, soft_wrap=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        console.print("stopped")
