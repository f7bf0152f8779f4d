"""The product's main job on `init`'s own config: a model released after the first poll is evaluated on
every suite, priced, compared and mailed by one poll and one work tick, with no manual step.

The simulator stands in for OpenAI (the one part that cannot run here): `init` writes the config with
OPENAI_API_KEY set; only the provider's base_url is pointed at the simulator and its request and token
rates lifted (the template's 500 rpm would make the 1,920 calls take four minutes).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from monitor.cli import main
from monitor.core.config import load_config
from monitor.evals.loader import load_suites
from monitor.service.jobs import Runtime, _outbox, _poll, _work
from monitor.simulator import SimModel, Simulator
from monitor.store.db import open_database
from monitor.store.tables import Run
from tests.fixtures.smtp import SmtpServer

KEY = "sk-unattended-test-key"


def _init(tmp_path: Path, sim: Simulator, smtp: SmtpServer) -> Path:
    result = CliRunner().invoke(main, ["init", str(tmp_path)])
    assert result.exit_code == 0, result.output
    path = tmp_path / "monitor.toml"
    text = path.read_text()
    text = re.sub(
        r'(\[providers\.openai\]\ntype = "openai"[^\n]*\n)',
        lambda m: m.group(1) + f'base_url = "{sim.base_url}/v1"\n',
        text,
    )
    text += (
        f'\n[email]\nsmtp_host = "127.0.0.1"\nsmtp_port = {smtp.port}\nsecurity = "none"\n'
        'from = "Model Monitor <monitor@example.com>"\nto = ["team@example.com"]\ntimeout_s = 30\n'
    )
    text = re.sub(r"(requests|tokens)_per_minute = \d+", r"\1_per_minute = 1000000", text)
    path.write_text(text)
    return path


def test_a_new_release_is_evaluated_priced_compared_and_mailed_unattended(
    tmp_path: Path,
    make_simulator: Callable[..., Simulator],
    smtp_server: SmtpServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    sim = make_simulator(
        api_key=KEY,
        latency_scale=0.1,
        models=[
            SimModel("gpt-4.1", skill=0.7),
            SimModel("gpt-4o", skill=0.6),
            SimModel("gpt-9", skill=0.9, release_after_polls=1),
        ],
    )
    config = load_config(_init(tmp_path, sim, smtp_server))
    assert config.baseline.default == ["openai:gpt-4.1"]
    db = open_database(config.database_url)
    runtime = Runtime(config=config, db=db, worker_id="w-unattended")

    _poll(runtime)  # the first poll records what exists
    _poll(runtime)  # gpt-9 is released
    _work(runtime)
    _outbox(runtime)

    with db.session() as session:
        runs = list(session.scalars(select(Run).where(Run.model_id == "gpt-9")))
        suites = {run.suite.name for run in runs}
        # every shipped suite, and each prompt variant it declares (a new-model event runs them all)
        shipped = {spec.name for spec in load_suites(config.suites_dir, variant="all")}
        assert suites == shipped and {"arithmetic", "support-agent[explicit]"} <= shipped
        assert {run.status for run in runs} == {"done"}
        assert all(run.cost_usd is not None and run.cost_usd > 0 for run in runs)
        baselines = list(session.scalars(select(Run).where(Run.model_id == "gpt-4.1")))
        assert {run.status for run in baselines} == {"done"} and len(baselines) == len(shipped)
    [mail] = smtp_server.messages
    body = mail.parsed().get_body(preferencelist=("plain",)).get_content()
    assert "gpt-9" in body and "gpt-4.1" in body
    assert "priced like gpt-5.5" in body
    assert KEY not in mail.data.decode("utf-8", "replace")
