"""Start-up paths: the cheap migration check, plain prompt substitution and `check`'s streamed suite load."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.loader import check_names, check_suite, load_suite, load_suites
from monitor.evals.render import _ENV, Substitution, read_prompt, render_messages
from monitor.evals.samples import RawSample
from monitor.store import db as db_module
from monitor.store.db import (
    _script_heads,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    open_database,
    upgrade,
)


def test_the_heads_read_from_the_migration_files_are_alembics() -> None:
    from alembic.script import ScriptDirectory

    assert _script_heads() == set(ScriptDirectory.from_config(alembic_config("sqlite://")).get_heads())


def test_a_migration_file_of_another_shape_leaves_the_check_to_alembic(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "versions").mkdir()
    (tmp_path / "versions" / "0001_x.py").write_text('revision = "0001"\ndown_revision = None\n')
    monkeypatch.setattr(db_module, "MIGRATIONS_DIR", tmp_path)
    assert _script_heads() == {"0001"}
    (tmp_path / "versions" / "0002_y.py").write_text("revision = REVISION\ndown_revision = '0001'\n")
    assert _script_heads() is None


def test_opening_an_up_to_date_database_does_not_load_alembic(sqlite_url: str) -> None:
    open_database(sqlite_url).dispose()
    code = textwrap.dedent(
        f"""
        import json, sys
        from monitor.store.db import open_database
        open_database({sqlite_url!r}).dispose()
        print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] == "alembic")))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(out.stdout) == []


def test_a_database_behind_the_head_is_still_upgraded(any_db_url: str) -> None:
    engine = make_engine(any_db_url)
    upgrade(engine, "0001")
    engine.dispose()
    db = open_database(any_db_url)
    assert current_revision(db.engine) == head_revision()
    db.dispose()


def _raw(variables: dict[str, Any], target: Any = "t", choices: list[str] | None = None) -> RawSample:
    return RawSample(
        key="k",
        source="suite.yaml:3",
        target=target,
        choices=choices,
        group=None,
        vars=variables,
        messages=None,
        has_id=True,
        request={},
    )


VALUES: list[Any] = ["Perú ✓", 7, 1e16, 0.1, True, None, [1, "a"], {"b": {"c": 2}}, ""]


@pytest.mark.parametrize(
    "template",
    [
        "Capital of {{ country }}?",
        "{{country}}",
        "a\r\nb {{ country }}\r\n",
        "  {{- country -}}  !",
        "{{ country }}{# a comment #}{{ country }}",
        "{% raw %}{{ not a variable }}{% endraw %} {{ country }}",
        "{{ target }} / {{ choices }} / {{ letters }}",
    ],
)
def test_a_plain_substitution_renders_exactly_as_jinja(template: str) -> None:
    prompt = read_prompt({"user": template}, {}, "suite.yaml")
    assert prompt is not None
    assert isinstance(prompt.parts[0][1], Substitution)
    for value in VALUES:
        raw = _raw({"country": value}, target=value, choices=["x", "y"])
        context = {"country": value, "target": value, "choices": ["x", "y"], "letters": ["A", "B"]}
        expected = _ENV.from_string(template).render(context)
        assert render_messages(prompt, raw, "suite.yaml") == [{"role": "user", "content": expected}]


@pytest.mark.parametrize(
    "template", ["{{ country | upper }}", "{{ country.name }}", "{% if country %}x{% endif %}"]
)
def test_templates_with_more_than_names_are_rendered_by_jinja(template: str) -> None:
    prompt = read_prompt({"user": template}, {}, "suite.yaml")
    assert prompt is not None
    assert not isinstance(prompt.parts[0][1], Substitution)


def test_a_variable_the_sample_lacks_is_still_named_in_the_error() -> None:
    prompt = read_prompt({"user": "Capital of {{ country }}?"}, {}, "suite.yaml")
    with pytest.raises(SuiteError, match=r"uses the variable 'country', which the sample does not define"):
        render_messages(prompt, _raw({"city": "Lima"}), "suite.yaml")


SUITE = """\
name: capitals
prompt: {system: "Answer with the city.", user: "Capital of {{ country }}?"}
params: {temperature: 0}
graders: [{type: contains}]
variants:
  terse: {prompt: {user: "{{ country }}: capital?"}}
samples_files: capitals.jsonl
"""


def _suite(folder: Path, n: int = 50, name: str = "capitals.yaml", suite: str = SUITE) -> Path:
    with (folder / "capitals.jsonl").open("w") as out:
        for i in range(n):
            row: dict[str, Any] = {"vars": {"country": f"Country {i}"}, "target": f"City {i}"}
            if i % 2:
                row["id"] = f"s{i}"
            out.write(json.dumps(row) + "\n")
    path = folder / name
    path.write_text(suite)
    return path


def _reference_version(spec: Any) -> str:
    """The suite version as first defined: json.dumps of the header, then of each sample's parts."""
    header = {k: spec.definition[k] for k in ("graders", "params", "pass_threshold", "judge_model")}
    if spec.variant is not None:
        header["variant"] = {"name": spec.variant, "prompt": spec.definition["prompt"]}

    def dumps(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)

    digest = hashlib.sha256(dumps(header).encode())
    for s in spec.samples:
        digest.update(b"\n")
        digest.update(dumps([s.key, s.messages, s.target, s.choices, s.group, s.vars]).encode())
    return digest.hexdigest()[:16]


def test_check_streams_the_same_versions_as_a_full_load(tmp_path: Path) -> None:
    path = _suite(tmp_path)
    specs = load_suites(tmp_path, [str(path)], variant="all")
    summaries = check_suite(path)
    assert [(s.name, s.samples, s.version, s.graders, s.variant_names) for s in summaries] == [
        (spec.name, len(spec.samples), spec.version, [g.type for g in spec.graders], spec.variant_names)
        for spec in specs
    ]
    assert [s.name for s in summaries] == ["capitals", "capitals[terse]"]
    assert [spec.version for spec in specs] == [_reference_version(spec) for spec in specs]
    assert load_suite(path).samples[1].messages[1] == {"role": "user", "content": "Capital of Country 1?"}


def test_check_reports_a_bad_sample_as_a_full_load_does(tmp_path: Path) -> None:
    path = _suite(tmp_path)
    with (tmp_path / "capitals.jsonl").open("a") as out:
        out.write(json.dumps({"id": "bad", "vars": {"city": "Lima"}, "target": "x"}) + "\n")
    with pytest.raises(SuiteError) as full:
        load_suite(path)
    with pytest.raises(SuiteError) as streamed:
        check_suite(path)
    assert str(streamed.value) == str(full.value)
    assert "'country', which the sample does not define" in str(full.value)


def test_check_names_finds_two_suites_of_one_name_as_load_suites_does(tmp_path: Path) -> None:
    _suite(tmp_path)
    (tmp_path / "copy.yaml").write_text(SUITE)
    check_names_error = pytest.raises(SuiteError)
    with check_names_error as cheap:
        check_names(tmp_path)
    with pytest.raises(SuiteError) as full:
        load_suites(tmp_path, variant="all")
    assert str(cheap.value) == str(full.value)
    (tmp_path / "copy.yaml").write_text(SUITE.replace("name: capitals", "name: other"))
    check_names(tmp_path)
