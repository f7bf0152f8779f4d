"""Run the simulator in the foreground (the `simulate` command) until SIGINT or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
import sys
from typing import Any

import click

from monitor.core.errors import InputError
from monitor.simulator.script import load_script
from monitor.simulator.server import Simulator


def build_simulator(
    *, host: str, port: int, script: str | None, rpm: float | None, latency_scale: float | None
) -> Simulator:
    """A Simulator from a script file and command-line overrides; InputError on bad values."""
    options: dict[str, Any] = {}
    models = None
    faults = None
    if script:
        models, faults, options = load_script(script)
        models = models or None
    if rpm is not None:
        options["rpm_limit"] = rpm
    if latency_scale is not None:
        options["latency_scale"] = latency_scale
    try:
        return Simulator(models=models, faults=faults, host=host, port=port, **options)
    except (TypeError, ValueError) as exc:
        raise InputError(str(exc), path=script) from exc


def serve_forever(
    *, host: str, port: int, script: str | None, rpm: float | None, latency_scale: float | None
) -> None:
    sim = build_simulator(host=host, port=port, script=script, rpm=rpm, latency_scale=latency_scale)
    asyncio.run(_serve(sim))


async def _serve(sim: Simulator) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await sim.start()
    click.echo(f"simulator listening on {sim.base_url}")
    listed = ", ".join(f"{p} {len(sim.state.catalog.listed(p))}" for p in ("openai", "anthropic", "gemini"))
    click.echo(f"models listed now: {listed}")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await sim.stop()
