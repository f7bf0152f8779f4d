"""Demo benchmark: wall seconds of `model-monitor demo` from a cold process (the README promises < 60 s).

    python bench/demo_bench.py            # three runs in fresh temporary folders
    python bench/demo_bench.py --runs 1

Each run starts `python -m monitor demo` as a subprocess with no provider keys in its environment,
as a first-time user would, and times it from spawn to exit (interpreter start-up included).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_S = 60.0


def timed_demo() -> float:
    """Run the demo once in a fresh folder; its wall seconds."""
    env = {k: v for k, v in os.environ.items() if not k.endswith("_API_KEY") and k != "MODEL_MONITOR_CONFIG"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "monitor", "demo"], cwd=folder, env=env, capture_output=True, text=True
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"the demo failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3, help="how many demo runs to time (default 3)")
    args = parser.parse_args()
    runs = [timed_demo() for _ in range(args.runs)]
    for i, seconds in enumerate(runs, 1):
        print(f"  run {i}: {seconds:6.2f} s")
    row = {
        "figure": "demo wall time",
        "runs": len(runs),
        "median_s": round(statistics.median(runs), 2),
        "max_s": round(max(runs), 2),
        "target": f"< {TARGET_S:g}",
    }
    print(json.dumps(row))


if __name__ == "__main__":
    main()
