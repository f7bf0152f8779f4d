"""A database the command cannot use is one clear line naming it and the fix, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main

CONFIG = """\
[database]
url = "{url}"

[providers.local]
type = "openai-compatible"
base_url = "http://127.0.0.1:1/v1"
timeout_s = 2
max_retries = 0
"""


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A workspace with the shipped suites and a database, and a provider that refuses connections."""
    assert CliRunner().invoke(main, ["init", str(tmp_path / "ws")]).exit_code == 0
    return tmp_path / "ws"


def with_url(workspace: Path, url: str) -> Path:
    config = workspace / "monitor.toml"
    config.write_text(CONFIG.format(url=url))
    return config


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["--config", str(config), *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.output


@pytest.fixture
def read_only(workspace: Path) -> Iterator[Path]:
    """The workspace's database made read-only, for root too (immutable), restored afterwards."""
    database = workspace / "monitor.db"
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(database)], check=True)
        yield database
        subprocess.run(["chattr", "-i", str(database)], check=True)
    else:
        database.chmod(0o444)
        workspace.chmod(0o555)
        yield database
        workspace.chmod(0o755)
        database.chmod(0o644)


def test_a_read_only_database_is_exit_2_naming_the_file(workspace: Path, read_only: Path) -> None:
    config = with_url(workspace, f"sqlite:///{read_only}")
    code, output = run(config, "eval", "local:m", "--suite", "arithmetic")
    assert code == 2
    assert f"database {read_only} is read-only" in output
    assert "Traceback" not in output


def test_a_read_only_database_under_json_is_a_json_error(workspace: Path, read_only: Path) -> None:
    config = with_url(workspace, f"sqlite:///{read_only}")
    result = CliRunner().invoke(main, ["--config", str(config), "poll", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout[result.stdout.index("{") :])["error"]
    assert error["kind"] == "config" and "read-only" in error["message"]


def test_a_database_under_a_file_says_which_directory(workspace: Path, tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    config = with_url(workspace, f"sqlite:///{tmp_path / 'a-file' / 'monitor.db'}")
    code, output = run(config, "poll")
    assert code == 2
    assert f"check that {tmp_path / 'a-file'} exists" in output


def test_an_unsupported_database_is_named(workspace: Path) -> None:
    code, output = run(with_url(workspace, "mysql://monitor@localhost/monitor"), "poll")
    assert code == 2
    assert "unsupported database 'mysql'" in output


def test_a_postgresql_url_without_the_driver_says_which_extra_to_install(workspace: Path) -> None:
    config = with_url(workspace, "postgresql+psycopg://monitor@127.0.0.1:1/monitor")
    code = (
        "import sys; sys.modules['psycopg'] = None\n"
        "from monitor.cli import main\n"
        f"main(['--config', {str(config)!r}, 'runs'])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "pip install 'model-monitor[postgres]'" in done.stderr
    assert "Traceback" not in done.stderr
