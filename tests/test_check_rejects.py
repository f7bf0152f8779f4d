"""`check` rejects all a later command would: one line naming file and key, exit 2, nothing written."""

from __future__ import annotations

import errno
import json
import sys
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.core.config import load_config
from monitor.core.errors import MonitorError
from monitor.pipeline.report import files
from monitor.pipeline.report.write import write_index
from monitor.store.db import open_database

PROVIDER = '[providers.sim]\ntype = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\n'
SUITE = "name: {name}\nprompt: {{user: hi}}\ngraders: [{{type: includes}}]\nsamples: [{{id: a, target: x}}]\n"


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder with one good suite; each test writes its own monitor.toml."""
    (tmp_path / "evals").mkdir()
    (tmp_path / "evals" / "qa.yaml").write_text(SUITE.format(name="qa"))
    return tmp_path


def _tree(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def rejected(root: Path, body: str | bytes, *needles: str) -> tuple[str, dict[str, object]]:
    """Run `check` and `check --json` on `body`: exit 2 both times, the text one line naming the config
    file (or the named path) and `needles`, the JSON an error object or a report listing the problem;
    nothing written. Returns the message and the JSON."""
    config = root / "monitor.toml"
    config.write_bytes(body if isinstance(body, bytes) else body.encode())
    before = _tree(root)
    plain = CliRunner().invoke(main, ["--config", str(config), "check"])
    assert plain.exit_code == 2, plain.output
    assert "Traceback" not in plain.output
    as_json = CliRunner().invoke(main, ["--config", str(config), "check", "--json"])
    assert as_json.exit_code == 2, as_json.output
    data = json.loads(as_json.stdout)
    if "error" in data:
        message = data["error"]["message"]
    else:
        [message] = data["problems"]
    assert "\n" not in message
    for needle in needles:
        assert needle in message, message
        assert needle in " ".join(plain.output.split())
    assert _tree(root) == before
    return message, data


def test_a_database_url_that_is_not_a_url(workspace: Path) -> None:
    message, data = rejected(
        workspace, PROVIDER + '[database]\nurl = "not-a-url"\n', "monitor.toml", "[database] url"
    )
    assert data["error"]["kind"] == "config" and "is not a database URL" in message


def test_a_mysql_database_is_unsupported(workspace: Path) -> None:
    message, _ = rejected(workspace, PROVIDER + '[database]\nurl = "mysql://u@db/monitor"\n', "monitor.toml")
    assert "unsupported database 'mysql'" in message


def test_postgresql_without_its_driver_says_which_extra_to_install(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    body = PROVIDER + '[database]\nurl = "postgresql+psycopg://monitor@db.example.com/monitor"\n'
    message, data = rejected(workspace, body, "monitor.toml", "[database] url")
    assert "pip install 'model-monitor[postgres]'" in message and "problems" in data


def test_two_addresses_in_one_to_entry(workspace: Path) -> None:
    body = PROVIDER + '[email]\nfrom = "m@example.com"\nto = ["a@example.com, b@example.com"]\n'
    rejected(workspace, body, "monitor.toml", "[email] to", "not exactly one e-mail address")


def test_no_encryption_with_a_password_to_a_remote_host(workspace: Path) -> None:
    body = PROVIDER + (
        '[email]\nsmtp_host = "mail.example.com"\nsecurity = "none"\nusername = "u"\n'
        'password_env = "SMTP_PASSWORD"\nfrom = "m@example.com"\nto = ["a@example.com"]\n'
    )
    rejected(workspace, body, "monitor.toml", "[email] security = 'none'", "starttls")


def test_two_suite_files_with_the_same_name(workspace: Path) -> None:
    (workspace / "evals" / "copy.yaml").write_text(SUITE.format(name="qa"))
    rejected(workspace, PROVIDER, "two suites are named 'qa'", "copy.yaml", "qa.yaml")


@pytest.mark.parametrize("url", ["not a url", "ftp://models.example.com/v1"])
def test_a_base_url_that_is_not_http(workspace: Path, url: str) -> None:
    body = f'[providers.sim]\ntype = "openai-compatible"\nbase_url = "{url}"\n'
    rejected(workspace, body, "monitor.toml", "[providers.sim.base_url]", "http:// or https://")


def test_an_empty_config(workspace: Path) -> None:
    rejected(workspace, "", "monitor.toml", "empty", "model-monitor init")


def test_a_config_without_providers(workspace: Path) -> None:
    rejected(workspace, '[suites]\ndirectory = "evals"\n', "monitor.toml", "[providers] is empty")


def test_a_price_without_its_provider_part(workspace: Path) -> None:
    body = PROVIDER + '[pricing."gpt-4o"]\ninput = 1.0\noutput = 2.0\n'
    rejected(workspace, body, "monitor.toml", '[pricing."gpt-4o"] never matches', '[pricing."sim:gpt-4o"]')


def test_a_quoted_number_is_not_coerced(workspace: Path) -> None:
    body = PROVIDER + 'max_concurrency = "16"\n'
    rejected(
        workspace,
        body,
        "monitor.toml",
        "[providers.sim.max_concurrency]",
        "max_concurrency = 16 without quotes",
    )


@pytest.mark.parametrize("glob", ["gpt-4o, gpt-4.1", ""])
def test_a_glob_that_can_never_match(workspace: Path, glob: str) -> None:
    rejected(
        workspace, PROVIDER + f'include = ["{glob}"]\n', "monitor.toml", "[providers.sim.include]", "entry 0"
    )


@pytest.mark.parametrize("target", ["NaN", "Infinity"])
def test_a_non_finite_target(workspace: Path, target: str) -> None:
    suite = workspace / "evals" / "qa.yaml"
    suite.write_text("name: qa\nprompt: {user: hi}\ngraders: [{type: numeric}]\nsamples_files: qa.jsonl\n")
    (workspace / "evals" / "qa.jsonl").write_text(f'{{"id": "a", "target": {target}}}\n')
    rejected(workspace, PROVIDER, "qa.jsonl:1", "target: NaN or Infinity")


def test_a_prompt_variant_that_does_not_load(workspace: Path) -> None:
    (workspace / "evals" / "qa.yaml").write_text(
        SUITE.format(name="qa") + "variants:\n  hot:\n    params: {temperature: hot}\n"
    )
    rejected(workspace, PROVIDER, "qa.yaml", "temperature")


def test_a_reports_directory_under_a_file(workspace: Path) -> None:
    (workspace / "blocker").write_text("a file\n")
    body = PROVIDER + '[reports]\ndirectory = "blocker/reports"\n'
    rejected(workspace, body, "monitor.toml", "reports directory", "blocker is a file", "[reports] directory")


def test_a_reports_directory_that_cannot_be_written(workspace: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def read_only(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(tempfile, "TemporaryFile", read_only)
    rejected(workspace, PROVIDER, "monitor.toml", "reports", "not writable (Read-only file system)")


def test_a_byte_order_mark_is_accepted_with_a_warning(workspace: Path) -> None:
    config = workspace / "monitor.toml"
    config.write_bytes(b"\xef\xbb\xbf" + PROVIDER.encode())
    result = CliRunner().invoke(main, ["--config", str(config), "check", "--json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["problems"] == []
    assert any("byte-order mark" in w for w in report["warnings"])


def test_the_writer_names_a_reports_directory_under_a_file(workspace: Path) -> None:
    (workspace / "blocker").write_text("a file\n")
    (workspace / "monitor.toml").write_text(PROVIDER + '[reports]\ndirectory = "blocker/reports"\n')
    config = load_config(workspace / "monitor.toml")
    db = open_database(config.database_url)
    try:
        with pytest.raises(MonitorError, match=r"reports directory .*blocker/reports cannot be created"):
            write_index(db, config)
    finally:
        db.dispose()


def test_the_writer_names_a_read_only_reports_directory(
    workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (workspace / "monitor.toml").write_text(PROVIDER)
    config = load_config(workspace / "monitor.toml")
    db = open_database(config.database_url)

    def read_only(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    monkeypatch.setattr(files.tempfile, "mkstemp", read_only)
    monkeypatch.setattr(files.tempfile, "TemporaryFile", read_only)
    try:
        with pytest.raises(MonitorError, match=r"reports directory .*reports.* not writable"):
            write_index(db, config)
    finally:
        db.dispose()


def test_an_openai_compatible_provider_without_base_url(workspace: Path) -> None:
    rejected(
        workspace,
        '[providers.sim]\ntype = "openai-compatible"\n',
        "monitor.toml",
        "[providers.sim]",
        "base_url",
    )


def test_a_suites_judge_model_on_a_provider_not_configured(workspace: Path) -> None:
    judged = SUITE.format(name="judged").replace(
        "graders: [{type: includes}]", 'graders: [{type: llm_judge, rubric: "ok", model: "nosuch:judge-1"}]'
    )
    (workspace / "evals" / "judged.yaml").write_text(judged)
    rejected(workspace, PROVIDER, "judged.yaml", "nosuch:judge-1: provider 'nosuch' is not in [providers]")
