"""CLI command `simulate`: serve the provider simulator until SIGINT or SIGTERM."""

from __future__ import annotations

import click

from monitor.cli.app import main


@main.command()
@click.option(
    "--port", type=int, default=8765, show_default=True, help="Port to listen on (0 = a free port)."
)
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--script", "script_path", type=click.Path(dir_okay=False), help="Simulator script (YAML).")
@click.option("--rpm", type=float, help="Requests-per-minute limit (429 + retry-after beyond it).")
@click.option("--latency-scale", type=float, help="Multiply every model's latency (0 = instant).")
def simulate(
    port: int, host: str, script_path: str | None, rpm: float | None, latency_scale: float | None
) -> None:
    """Serve fake OpenAI, Anthropic and Gemini APIs on one port (key: the script's api_key or sim-key)."""
    from monitor.simulator.serve import serve_forever

    serve_forever(host=host, port=port, script=script_path, rpm=rpm, latency_scale=latency_scale)
