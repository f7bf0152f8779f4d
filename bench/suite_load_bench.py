"""Suite loading benchmark: seconds to load and register a suite of N samples (default 20,000).

    python bench/suite_load_bench.py                # 20,000 samples, SQLite in a temporary folder
    python bench/suite_load_bench.py --samples 2000

The suite is a YAML header with its samples in a JSONL file, as large suites are written. The two
steps are timed apart with `time.perf_counter()`: `load_suite` (parse and validate every sample) and
`register_suite` (insert the suite version and its samples in one transaction). Target: < 15 s in all.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TARGET_S = 15.0


SUITE = """\
name: capitals
prompt: {system: "Answer with the city.", user: "Capital of {{ country }}?"}
params: {temperature: 0}
graders: [{type: contains}]
samples_files: capitals.jsonl
"""


def write_suite(folder: Path, n: int) -> Path:
    """The capitals suite of tests/test_suites_register.py with n samples: a YAML header and a JSONL file."""
    with (folder / "capitals.jsonl").open("w") as out:
        for i in range(n):
            out.write(json.dumps({"id": f"s{i}", "vars": {"country": f"Country {i}"}, "target": f"City {i}"}))
            out.write("\n")
    path = folder / "capitals.yaml"
    path.write_text(SUITE)
    return path


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--samples", type=int, default=20_000, help="samples in the suite (default 20000)")
    args = parser.parse_args()

    from sqlalchemy import func, select

    from monitor.evals.loader import load_suite
    from monitor.evals.register import register_suite
    from monitor.store import tables as models
    from monitor.store.db import open_database

    with tempfile.TemporaryDirectory() as folder:
        path = write_suite(Path(folder), args.samples)
        db = open_database(f"sqlite:///{Path(folder) / 'bench.db'}")
        started = time.perf_counter()
        spec = load_suite(path)
        loaded = time.perf_counter()
        with db.session() as session:
            register_suite(session, spec)
        registered = time.perf_counter()
        with db.session() as session:
            stored = session.scalar(select(func.count()).select_from(models.Sample))
        db.dispose()
    if stored != args.samples:
        raise RuntimeError(f"registered {stored} samples, not {args.samples}")
    row = {
        "figure": "suite load + register",
        "samples": args.samples,
        "load_s": round(loaded - started, 3),
        "register_s": round(registered - loaded, 3),
        "total_s": round(registered - started, 3),
        "target": f"< {TARGET_S:g}",
    }
    print(
        f"{args.samples} samples: load {row['load_s']:.3f} s, register {row['register_s']:.3f} s, "
        f"total {row['total_s']:.3f} s (target < {TARGET_S:g} s)"
    )
    print(json.dumps(row))


if __name__ == "__main__":
    main()
