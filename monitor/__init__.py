"""model-monitor: watch LLM providers for new models and rerun your evals on each."""

__version__ = "0.1.0"
