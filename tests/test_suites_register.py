"""register_suite: one Suite row per (name, version), its samples stored in bulk, never twice."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select

from monitor.evals.loader import load_suite
from monitor.evals.register import register_suite
from monitor.store import tables as models
from monitor.store.db import Database

SUITE = """\
name: capitals
prompt: {system: "Answer with the city.", user: "Capital of {{ country }}?"}
params: {temperature: 0}
graders: [{type: contains}]
samples_files: capitals.jsonl
"""


def write_suite(directory: Path, rows: list[dict[str, object]]) -> Path:
    (directory / "capitals.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    path = directory / "capitals.yaml"
    path.write_text(SUITE)
    return path


ROWS: list[dict[str, object]] = [
    {"id": "fr", "vars": {"country": "France"}, "target": "Paris", "group": "europe"},
    {"id": "jp", "vars": {"country": "Japan"}, "target": ["Tokyo", "Tōkyō"]},
]


def test_register_stores_the_suite_and_its_rendered_samples(any_db: Database, tmp_path: Path) -> None:
    spec = load_suite(write_suite(tmp_path, ROWS))
    with any_db.session() as session:
        suite_id = register_suite(session, spec).id
    with any_db.session() as session:
        suite = session.get(models.Suite, suite_id)
        assert suite is not None
        assert (suite.name, suite.version, suite.sample_count) == ("capitals", spec.version, 2)
        assert suite.definition["graders"][0]["type"] == "contains"
        samples = session.scalars(select(models.Sample).order_by(models.Sample.position)).all()
        assert [(s.key, s.position, s.group) for s in samples] == [("fr", 0, "europe"), ("jp", 1, None)]
        assert samples[0].messages[1] == {"role": "user", "content": "Capital of France?"}
        assert samples[1].target == ["Tokyo", "Tōkyō"]


def test_registering_the_same_version_twice_returns_the_first_row(any_db: Database, tmp_path: Path) -> None:
    spec = load_suite(write_suite(tmp_path, ROWS))
    with any_db.session() as session:
        first = register_suite(session, spec).id
    with any_db.session() as session:
        assert register_suite(session, load_suite(spec.path)).id == first
        assert session.scalar(select(func.count()).select_from(models.Sample)) == 2


def test_a_changed_suite_is_a_new_version_beside_the_old(any_db: Database, tmp_path: Path) -> None:
    old = load_suite(write_suite(tmp_path, ROWS))
    new = load_suite(
        write_suite(tmp_path, [*ROWS, {"id": "it", "vars": {"country": "Italy"}, "target": "Rome"}])
    )
    with any_db.session() as session:
        ids = {register_suite(session, old).id, register_suite(session, new).id}
    assert len(ids) == 2
    with any_db.session() as session:
        counts = session.execute(
            select(models.Suite.version, models.Suite.sample_count).order_by(models.Suite.id)
        ).all()
    assert counts == [(old.version, 2), (new.version, 3)]


def test_twenty_thousand_samples_load_and_register(db: Database, tmp_path: Path) -> None:
    """Every sample arrives; how fast is a figure of bench/suite_load_bench.py, not an assertion."""
    rows = [
        {"id": f"s{i}", "vars": {"country": f"Country {i}"}, "target": f"City {i}"} for i in range(20_000)
    ]
    spec = load_suite(write_suite(tmp_path, rows))
    with db.session() as session:
        register_suite(session, spec)
    with db.session() as session:
        assert session.scalar(select(func.count()).select_from(models.Sample)) == 20_000
