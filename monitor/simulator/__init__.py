"""A fake OpenAI, Anthropic and Gemini on one loopback port, for tests, benchmarks and the demo."""

from monitor.simulator.catalog import SimModel, default_models
from monitor.simulator.faults import Fault
from monitor.simulator.script import load_script
from monitor.simulator.server import Simulator

__all__ = ["Fault", "SimModel", "Simulator", "default_models", "load_script"]
