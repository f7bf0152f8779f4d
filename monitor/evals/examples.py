"""Where the shipped example suites live (the repo's evals/, packaged as monitor/evals/example_suites)."""

from __future__ import annotations

import shutil
from pathlib import Path

EXAMPLE_SUITES = Path(__file__).parent / "example_suites"


def copy_example_suites(destination: Path) -> list[Path]:
    """Copy every shipped suite file (YAML and JSONL) into `destination`; existing files are kept."""
    destination.mkdir(parents=True, exist_ok=True)
    copied = []
    for source in sorted(EXAMPLE_SUITES.iterdir()):
        if source.suffix in {".yaml", ".yml", ".jsonl"} and source.is_file():
            target = destination / source.name
            if not target.exists():
                shutil.copyfile(source, target)
                copied.append(target)
    return copied
