"""docs/ops.md "Metrics": its alert rules are a valid Prometheus rule file naming only real metrics and
labels, and its table lists exactly the metrics the exporter serves."""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from monitor.service.metrics import serving_metrics
from monitor.store.db import open_database
from monitor.store.lease import LeaderLease
from tests.fixtures.smtp import free_port
from tests.test_metrics import NOW, seed, write_config

OPS = Path(__file__).resolve().parent.parent / "docs" / "ops.md"
DURATION = re.compile(r"^((\d+)y)?((\d+)w)?((\d+)d)?((\d+)h)?((\d+)m)?((\d+)s)?((\d+)ms)?$")
RULE_KEYS = {"alert", "expr", "for", "keep_firing_for", "labels", "annotations"}
METRIC = re.compile(r"\bmodel_monitor_[a-z0-9_]+\b")


def metrics_section() -> str:
    text = OPS.read_text()
    start = text.index("\n## Metrics\n")
    end = text.index("\n## ", start + 1)
    return text[start:end]


def rule_file() -> dict[str, Any]:
    blocks = re.findall(r"```yaml\n(.*?)```", metrics_section(), flags=re.DOTALL)
    assert len(blocks) == 1, "one YAML block: the rule file"
    loaded = yaml.safe_load(blocks[0])
    assert isinstance(loaded, dict)
    return loaded


def rules() -> list[dict[str, Any]]:
    return [rule for group in rule_file()["groups"] for rule in group["rules"]]


@pytest.fixture(scope="module")
def exposed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, set[str]]:
    """Each model_monitor_* series name the exporter serves (a daemon's: leader gauge too) -> its labels."""
    tmp_path = tmp_path_factory.mktemp("exposed")
    url = f"sqlite:///{tmp_path / 'monitor.db'}"
    db = open_database(url)
    seed(db)
    lease = LeaderLease(db, "leader")
    assert lease.try_acquire()
    try:
        with serving_metrics(
            write_config(tmp_path, url, free_port()), lease=lambda: lease, now=lambda: NOW
        ) as at:
            assert at is not None
            with urllib.request.urlopen(at, timeout=30) as response:
                body = response.read().decode()
    finally:
        db.dispose()
    return dict(_series(body))


def _series(body: str) -> Iterator[tuple[str, set[str]]]:
    for family in text_string_to_metric_families(body):
        if not family.name.startswith("model_monitor_"):
            continue
        name = family.name + "_total" if family.type == "counter" else family.name
        yield name, {label for sample in family.samples for label in sample.labels}


def test_the_alert_rules_are_a_valid_prometheus_rule_file() -> None:
    loaded = rule_file()
    assert set(loaded) == {"groups"}
    for group in loaded["groups"]:
        assert set(group) == {"name", "rules"} and isinstance(group["name"], str)
        for rule in group["rules"]:
            assert set(rule) <= RULE_KEYS and {"alert", "expr"} <= set(rule), rule
            assert re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", rule["alert"]), rule["alert"]
            assert isinstance(rule["expr"], str) and rule["expr"].strip()
            assert DURATION.match(str(rule.get("for", "0s"))), rule.get("for")
            for key in ("labels", "annotations"):
                assert all(isinstance(k, str) and isinstance(v, str) for k, v in rule.get(key, {}).items())


def test_the_rules_cover_a_failing_poll_a_stalled_outbox_and_no_leader() -> None:
    names = {rule["alert"] for rule in rules()}
    assert {"ModelMonitorPollFailing", "ModelMonitorOutboxStalled", "ModelMonitorNoLeader"} <= names


def test_every_rule_names_only_metrics_the_exporter_serves(exposed: dict[str, set[str]]) -> None:
    for rule in rules():
        named = set(METRIC.findall(rule["expr"]))
        assert named, f"{rule['alert']} names no model-monitor metric"
        assert named <= set(exposed), f"{rule['alert']}: {sorted(named - set(exposed))} are not served"


def test_every_rule_groups_by_and_prints_only_labels_its_metrics_have(exposed: dict[str, set[str]]) -> None:
    for rule in rules():
        labels = set().union(*(exposed[name] for name in METRIC.findall(rule["expr"])))
        grouped = {
            label.strip()
            for clause in re.findall(r"\bby\s*\(([^)]*)\)", rule["expr"])
            for label in clause.split(",")
        }
        assert grouped <= labels, f"{rule['alert']} groups by {sorted(grouped - labels)}"
        printed = {
            m for text in rule.get("annotations", {}).values() for m in re.findall(r"\$labels\.(\w+)", text)
        }
        assert printed <= grouped, (
            f"{rule['alert']} prints labels it does not keep: {sorted(printed - grouped)}"
        )


def test_the_metrics_table_lists_exactly_the_metrics_the_exporter_serves(
    exposed: dict[str, set[str]],
) -> None:
    table = set(re.findall(r"^\| `(model_monitor_[a-z0-9_]+)` \|", metrics_section(), flags=re.MULTILINE))
    assert table == set(exposed)


def test_the_metrics_table_gives_each_metric_its_labels(exposed: dict[str, set[str]]) -> None:
    rows = re.findall(
        r"^\| `(model_monitor_[a-z0-9_]+)` \| \w+ \| ([^|]*) \|", metrics_section(), re.MULTILINE
    )
    for name, cell in rows:
        assert exposed[name] <= set(re.findall(r"`([a-z_]+)`", cell)), name
