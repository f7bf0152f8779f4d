"""`check` validates the user's retirements.toml as the resolver reads it: file, entry or line, exit 2."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import main

CONFIG = """\
[providers.sim]
type = "openai-compatible"
base_url = "http://127.0.0.1:9/v1"

[suites]
directory = "evals"
"""
SUITE = "name: qa\nprompt: {user: hi}\ngraders: [{type: includes}]\nsamples: [{id: a, target: x}]\n"
GOOD_TABLE = """\
updated = 2026-12-01

[[retirement]]
provider = "openai"
model = "gpt-4o-2024-08-06"
date = 2027-01-14
source = "https://developers.openai.com/api/docs/deprecations"
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A valid monitor.toml with one good suite; each test writes its own retirements.toml (or none)."""
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "qa.yaml").write_text(SUITE)
    (tmp_path / "monitor.toml").write_text(CONFIG)
    return tmp_path


def check(root: Path, *args: str) -> Any:
    return CliRunner().invoke(main, ["--config", str(root / "monitor.toml"), "check", *args])


def flat(text: str) -> str:
    return " ".join(text.split())


def test_check_rejects_a_retirements_file_entry_naming_the_file_the_entry_and_what_is_expected(
    workspace: Path,
) -> None:
    (workspace / "retirements.toml").write_text(
        GOOD_TABLE.replace("date = 2027-01-14", 'date = "2027-01-14"')
    )
    result = check(workspace)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    text = flat(result.output)
    assert str(workspace / "retirements.toml") in text
    assert "[[retirement]] #1 (gpt-4o-2024-08-06): date must be a TOML date" in text


def test_check_gives_the_line_of_the_bad_entrys_header(workspace: Path) -> None:
    second = GOOD_TABLE.split("\n\n", 1)[1].replace('model = "gpt-4o-2024-08-06"', 'model = ""')
    (workspace / "retirements.toml").write_text(f"{GOOD_TABLE}\n{second}")
    result = check(workspace, "--json")
    assert result.exit_code == 2, result.output
    [problem] = json.loads(result.stdout)["problems"]
    assert problem.startswith(f"{workspace / 'retirements.toml'}:9: [[retirement]] #2: model must be"), (
        problem
    )


def test_check_json_lists_the_retirements_file_problem(workspace: Path) -> None:
    (workspace / "retirements.toml").write_text(GOOD_TABLE.replace("updated = 2026-12-01\n", ""))
    result = check(workspace, "--json")
    assert result.exit_code == 2, result.output
    [problem] = json.loads(result.stdout)["problems"]
    assert problem.startswith(str(workspace / "retirements.toml")) and "updated = YYYY-MM-DD" in problem


def test_check_gives_the_line_of_a_toml_syntax_error_in_the_retirements_file(workspace: Path) -> None:
    (workspace / "retirements.toml").write_text(GOOD_TABLE + "model = \n")
    result = check(workspace)
    assert result.exit_code == 2, result.output
    assert "not valid TOML" in flat(result.output) and "line 8" in flat(result.output)


def test_check_rejects_an_unknown_key_in_a_retirement_entry(workspace: Path) -> None:
    (workspace / "retirements.toml").write_text(GOOD_TABLE + 'replacement = ["gpt-5"]\n')
    result = check(workspace, "--json")
    assert result.exit_code == 2, result.output
    [problem] = json.loads(result.stdout)["problems"]
    assert "unknown key 'replacement'" in problem


def test_check_accepts_a_good_retirements_file(workspace: Path) -> None:
    (workspace / "retirements.toml").write_text(GOOD_TABLE)
    result = check(workspace, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["problems"] == []


def test_check_says_nothing_about_retirements_without_a_retirements_file(workspace: Path) -> None:
    result = check(workspace)
    assert result.exit_code == 0, result.output
    assert "retirements" not in result.output
