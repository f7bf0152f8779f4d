"""JSONL sample files read fast: the plain path reads as the detailed one does; errors keep their wording."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.loader import check_suite, load_suite
from monitor.evals.sample_files import parse_line, plain_sample
from monitor.evals.samples import LONE_SURROGATE, read_sample
from monitor.evals.spec import SampleSpec
from monitor.evals.versioning import BATCH

SUITE = """\
name: sums
prompt: {system: "Answer with the number only.", user: "{{ question }}"}
graders: [{type: numeric}]
samples_files: [sums.jsonl]
"""
LINES = 3000
"""Several of SuiteVersion's batches, so a bad line deep in the file is read in a later one."""


def _row(i: int) -> dict[str, Any]:
    return {"id": f"s{i:05d}", "vars": {"question": f"What is {i} + 1?"}, "target": i + 1}


def _suite(tmp_path: Path, lines: list[str]) -> tuple[Path, Path]:
    """A suite of `lines` (JSONL text, one a line) and its JSONL file."""
    jsonl = tmp_path / "sums.jsonl"
    jsonl.write_text("".join(line + "\n" for line in lines))
    path = tmp_path / "sums.yaml"
    path.write_text(SUITE)
    return path, jsonl


def _with_bad_line(tmp_path: Path, number: int, text: str) -> tuple[Path, Path]:
    lines = [json.dumps(_row(i)) for i in range(LINES)]
    lines[number - 1] = text
    return _suite(tmp_path, lines)


def _check_error(path: Path) -> str:
    with pytest.raises(SuiteError) as error:
        check_suite(path)
    with pytest.raises(SuiteError) as full:
        load_suite(path)
    assert str(full.value) == str(error.value)
    return str(error.value)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ('{"id": "", "vars": {}, "target": 1}', "id: expected 1 to 300 characters, got 0"),
        ('{"id": "x", "var": {}, "target": 1}', "unknown key 'var' in a sample; did you mean 'vars'?"),
        ('{"id": "x", "vars": {"letters": 1}, "target": 1}', "vars: 'letters' is reserved"),
        ('{"id": "x", "vars": [1], "target": 1}', "vars: expected a mapping of names to values, got a list"),
        ('{"id": true, "vars": {}, "target": 1}', "id: expected a string or an integer, got bool True"),
        ('{"id": "x", "vars": {}, "target": NaN}', "target: NaN or Infinity is not a number"),
        ('{"id": "x", "vars": {}, "target": 1, "group": 7.5}', "group: expected a string, got float 7.5"),
        ('{"id": "x", "vars": {}, "target": 1, "choices": []}', "choices: expected a non-empty list"),
        ('["x", 1]', "expected a JSON object (a sample), got a list"),
        ('{"id": "x", "vars": {}, "target": 1,}', "invalid JSON: Expecting property name enclosed in double"),
    ],
)
def test_a_bad_line_deep_in_a_large_file_is_reported_at_its_line(
    tmp_path: Path, text: str, problem: str
) -> None:
    path, jsonl = _with_bad_line(tmp_path, 2500, text)
    assert _check_error(path).startswith(f"{jsonl}:2500: {problem}")


def test_a_numeric_grader_rejects_a_text_target_deep_in_a_large_file(tmp_path: Path) -> None:
    path, jsonl = _with_bad_line(tmp_path, 2900, '{"id": "w", "vars": {"question": "?"}, "target": "many"}')
    assert _check_error(path) == (
        f"{path}: sample 'w' ({jsonl}:2900): the numeric grader needs a numeric target, got 'many'"
    )


def test_a_duplicate_id_deep_in_a_large_file_names_both_lines(tmp_path: Path) -> None:
    path, jsonl = _with_bad_line(tmp_path, 2700, json.dumps(_row(3)))
    assert _check_error(path) == f"{jsonl}:2700: duplicate sample key 's00003' (also at {jsonl}:4)"


def test_a_variable_the_prompt_needs_missing_deep_in_a_large_file_is_named(tmp_path: Path) -> None:
    path, jsonl = _with_bad_line(tmp_path, 2600, '{"id": "q", "vars": {"asked": "?"}, "target": 1}')
    assert _check_error(path) == (
        f"{path}: sample 'q' ({jsonl}:2600): the prompt uses the variable 'question', which the sample "
        "does not define (its vars: asked)"
    )


PLAIN_OR_NOT = [
    {"id": "a", "vars": {"q": "x"}, "target": 1},
    {"id": 7, "vars": {"q": "x"}, "target": "7"},
    {"vars": {"q": "x"}, "target": 1.5},
    {"id": "a"},
    {"id": "a", "vars": {}, "target": None, "choices": ["x", "y"], "group": "g"},
    {"id": "a", "vars": {}, "target": [1, 2]},
    {"id": "a", "vars": {}, "target": {"k": [1.0]}},
    {"id": "a", "vars": {}, "target": True},
    {"id": "a", "vars": {}, "choices": [1, "b"]},
    {"id": "a", "vars": {}, "group": 3},
    {"id": "a", "metadata": {"m": 1}},
    {"id": "a", "tools": []},
    {"input": "Say hi", "target": "hi"},
    {"input": "q", "ideal": "a"},
]


@pytest.mark.parametrize("obj", PLAIN_OR_NOT, ids=[json.dumps(o) for o in PLAIN_OR_NOT])
def test_the_plain_path_reads_a_sample_as_read_sample_does_or_leaves_it_to_it(obj: dict[str, Any]) -> None:
    plain = plain_sample(json.loads(json.dumps(obj)), "f.jsonl:1")
    assert plain is None or plain == read_sample(json.loads(json.dumps(obj)), "f.jsonl:1")


@pytest.mark.parametrize(
    "obj",
    [
        {"id": " ", "vars": {}},
        {"id": "x" * 301, "vars": {}},
        {"id": 1.5, "vars": {}},
        {"id": "a", "vars": {"target": 1}},
        {"id": "a", "vars": None},
        {"id": "a", "target": float("inf")},
        {"id": "a", "target": [1, float("nan")]},
        {"id": "a", "group": "g" * 301},
        {"id": "a", "choices": "a,b"},
        {"id": "a", "extra": 1},
    ],
)
def test_the_plain_path_leaves_every_invalid_sample_to_read_sample(obj: dict[str, Any]) -> None:
    assert plain_sample(obj, "f.jsonl:1") is None
    with pytest.raises(SuiteError):
        read_sample(obj, "f.jsonl:1")


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1}\n',
        '{"a": 1}',
        '  {"a": 1}  \n',
        '{"a": 1}\t\n',
        '{"a": NaN, "b": -Infinity}\n',
        '{"a": 123456789012345678901234567890}\n',
        '{"a": 1, "a": 2}\n',
        "[1, 2]\n",
    ],
)
def test_a_line_is_parsed_exactly_as_json_loads_parses_it(text: str) -> None:
    value = parse_line(text, "f.jsonl", 1)
    assert json.dumps(value) == json.dumps(json.loads(text))


@pytest.mark.parametrize("text", ['{"a": 1} x\n', "1, 2\n", '{"a": 1}{"b": 2}\n', "\ufeff{}\n", "{\n"])
def test_a_line_json_loads_rejects_is_an_error_with_its_wording(text: str) -> None:
    with pytest.raises(ValueError) as loads:
        json.loads(text)
    with pytest.raises(SuiteError) as parsed:
        parse_line(text, "f.jsonl", 4)
    assert str(parsed.value) == (
        f"f.jsonl:4: invalid JSON: {loads.value}; each line must be one JSON object such as "
        '{"id": ..., "vars": {...}, "target": ...}'
    )


def _per_sample_version(path: Path) -> str:
    """The suite version as defined: the header's canonical JSON, then a newline and each sample's."""
    spec = load_suite(path)
    header = {k: spec.definition[k] for k in ("graders", "params", "pass_threshold", "judge_model")}

    def dumps(value: Any) -> str:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)

    digest = hashlib.sha256(dumps(header).encode())
    for s in spec.samples:
        digest.update(b"\n" + dumps([s.key, s.messages, s.target, s.choices, s.group, s.vars]).encode())
    return digest.hexdigest()[:16]


def test_a_version_hashed_in_batches_is_the_per_sample_hash(tmp_path: Path) -> None:
    path, _ = _suite(tmp_path, [json.dumps(_row(i)) for i in range(2 * BATCH + 3)])
    assert check_suite(path)[0].version == load_suite(path).version == _per_sample_version(path)


def test_a_sample_holding_the_batch_separator_still_gets_the_per_sample_hash(tmp_path: Path) -> None:
    rows = [_row(i) for i in range(BATCH + 5)]
    rows[7]["vars"]["note"] = ["x", "\x00suite-version\x00", "y"]
    path, _ = _suite(tmp_path, [json.dumps(r) for r in rows])
    assert check_suite(path)[0].version == load_suite(path).version == _per_sample_version(path)


def test_a_sample_spec_stays_frozen_and_each_gets_its_own_tool_results() -> None:
    one = SampleSpec("a", [], 1, None, None, {}, "f:1")
    two = SampleSpec("b", [], 1, None, None, {}, "f:2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.key = "c"  # type: ignore[misc]
    assert one.tool_results == {} and one.tool_results is not two.tool_results
    assert dataclasses.replace(one, key="b", source="f:2") == two


LONE = '{"id": "odd", "vars": {"question": "What is \\ud800 + 1?"}, "target": 2}'


@pytest.mark.parametrize("line", [LONE, "  " + LONE, LONE.replace('"odd"', '"odd", "metadata": {}')])
def test_a_lone_surrogate_escape_deep_in_a_large_file_is_an_error_at_its_line(
    tmp_path: Path, line: str
) -> None:
    path, jsonl = _with_bad_line(tmp_path, 2_900, line)
    assert _check_error(path) == f"{jsonl}:2900: {LONE_SURROGATE}"


def test_a_lone_surrogate_in_an_inline_yaml_sample_is_an_error_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "sums.yaml"
    path.write_text(
        SUITE.replace("samples_files: [sums.jsonl]\n", "samples:\n")
        + '  - {id: a, vars: {question: "What is 1 + 1?"}, target: 2}\n'
        + '  - {id: b, vars: {question: "What is \\ud800 + 1?"}, target: 2}\n'
    )
    assert _check_error(path) == f"{path}:6: {LONE_SURROGATE}"


def test_an_escaped_surrogate_pair_is_the_character_it_stands_for(tmp_path: Path) -> None:
    path, _ = _suite(tmp_path, ['{"id": "smile", "vars": {"question": "\\ud83d\\ude00 + 1?"}, "target": 2}'])
    (sample,) = load_suite(path).samples
    assert sample.vars["question"] == "\U0001f600 + 1?"
