"""The `model-monitor` command line: thin commands, grouped by area, that call the owning modules."""

from monitor.cli import (  # noqa: F401  (importing registers the commands)
    compare,
    dbcopy,
    discovery,
    evals,
    mail,
    notify,
    reports,
    service,
    setup,
    simulate,
)
from monitor.cli.app import main

__all__ = ["main"]
