"""`init`, `check`, `db`, `--version` and a fast `--help` (no provider SDK imported)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from monitor import __version__
from monitor.cli import main


def test_init_writes_config_suites_and_database_then_check_passes(tmp_path, monkeypatch):
    monkeypatch.delenv("MODEL_MONITOR_CONFIG", raising=False)
    runner = CliRunner()
    result = runner.invoke(main, ["init", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    ws = tmp_path / "ws"
    assert (ws / "monitor.toml").is_file()
    assert (ws / "monitor.db").is_file()
    assert sorted(p.name for p in (ws / "evals").glob("*.yaml"))
    checked = runner.invoke(main, ["--config", str(ws / "monitor.toml"), "check", "--json"])
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.output)
    assert report["problems"] == []
    assert {p["name"] for p in report["providers"]} == {"openai", "anthropic"}
    assert all(s["samples"] >= 50 for s in report["suites"])


def test_init_refuses_to_overwrite(tmp_path):
    (tmp_path / "monitor.toml").write_text("# mine\n")
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 2
    assert "never overwrites" in result.output
    assert (tmp_path / "monitor.toml").read_text() == "# mine\n"


def test_check_reports_a_broken_suite_as_a_problem_with_exit_2(tmp_path):
    CliRunner().invoke(main, ["init", str(tmp_path)])
    (tmp_path / "evals" / "broken.yaml").write_text("name: broken\nprompt: [unclosed\n")
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "monitor.toml"), "check"])
    assert result.exit_code == 2
    assert "broken.yaml" in result.output


def test_db_current_then_downgrade_and_upgrade(tmp_path):
    runner = CliRunner()
    runner.invoke(main, ["init", str(tmp_path)])
    cfg = ["--config", str(tmp_path / "monitor.toml")]
    current = json.loads(runner.invoke(main, [*cfg, "db", "current", "--json"]).output)
    assert current["up_to_date"] is True
    assert runner.invoke(main, [*cfg, "db", "downgrade", "base"]).exit_code == 0
    assert json.loads(runner.invoke(main, [*cfg, "db", "current", "--json"]).output)["current"] is None
    assert runner.invoke(main, [*cfg, "db", "upgrade"]).exit_code == 0
    assert json.loads(runner.invoke(main, [*cfg, "db", "current", "--json"]).output)["up_to_date"] is True


def test_version_option():
    result = CliRunner().invoke(main, ["--version"])
    assert __version__ in result.output


def test_help_imports_no_provider_sdk_or_server_library():
    code = (
        "import sys; from monitor.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('openai', 'anthropic', 'aiohttp', 'sqlalchemy', 'jinja2', 'apscheduler')"
        " if m in sys.modules]\n"
        "print('HEAVY', heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "HEAVY []" in out


def test_a_failing_command_under_json_prints_a_json_error_object_with_its_exit_status(
    tmp_path: Path,
) -> None:
    from click.testing import CliRunner

    from monitor.cli import main

    config = tmp_path / "monitor.toml"
    config.write_text(
        '[providers.sim]\ntype = "openai-compatible"\nbase_url = "http://x/v1"\noutage_pause_s = -5\n'
    )
    result = CliRunner().invoke(main, ["--config", str(config), "check", "--json"])
    assert result.exit_code == 2
    error = json.loads(result.stdout)["error"]
    assert error["kind"] == "config" and "outage_pause_s" in error["message"]
