"""`--junit FILE` and `compare --fail-on`: JUnit XML in the shape CI reporters read, hostile output valid."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select, update

from monitor.simulator import Simulator
from monitor.store.db import open_database
from monitor.store.tables import Result, Run
from tests.ci_gate_helpers import STRONG, WEAK, add_second_suite, cli, gate, gate_models
from tests.comparison_rows import add_run, add_suite, pattern, stored_runs_config
from tests.runner_helpers import KEY_ENV, write_workspace

CANDIDATE = "sim:gpt-sim-next"
BASELINE = "sim:gpt-sim-base"
HOSTILE = 'bad ]]> <b>&amp;</b> "quoted" \x00nul \x1b[31mansi\x0bvt \ufffe end'
CASE_CHILDREN = {"failure", "error", "skipped", "system-out", "system-err"}


def check_junit_shape(root: ET.Element) -> None:
    """The common JUnit shape GitHub and GitLab reporters read, with counts that add up."""
    assert root.tag == "testsuites"
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    for suite in root:
        assert suite.tag == "testsuite" and suite.get("name")
        float(suite.get("time", "x"))
        cases = list(suite)
        assert all(case.tag == "testcase" for case in cases)
        counted = {
            "tests": len(cases),
            "failures": sum(1 for c in cases if c.find("failure") is not None),
            "errors": sum(1 for c in cases if c.find("error") is not None),
            "skipped": sum(1 for c in cases if c.find("skipped") is not None),
        }
        for key, value in counted.items():
            assert suite.get(key) == str(value), (key, suite.attrib)
            totals[key] += value
        for case in cases:
            assert case.get("name") and case.get("classname")
            float(case.get("time", "x"))
            assert {child.tag for child in case} <= CASE_CHILDREN
            outcomes = [child for child in case if child.tag in ("failure", "error", "skipped")]
            assert len(outcomes) <= 1 and all(o.get("message") for o in outcomes)
    for key, value in totals.items():
        assert root.get(key) == str(value)
    float(root.get("time", "x"))


@pytest.fixture
def workspace(
    tmp_path: Path, make_simulator: Callable[..., Simulator], monkeypatch: pytest.MonkeyPatch
) -> Path:
    """Two suites (`tiny`, `products`) on a fresh database, at a simulator with the gate's models."""
    monkeypatch.setenv(KEY_ENV, "sim-key")
    config = write_workspace(tmp_path, make_simulator(models=gate_models()).base_url, samples=30)
    add_second_suite(config)
    return config


@pytest.fixture
def stored(write_config: Callable[[str], Path], tmp_path: Path) -> Path:
    """Stored runs only: on `math` the candidate is worse (60 of 200 against 140), on `support` equal,
    `single` has one sample."""
    path, database = stored_runs_config(write_config, tmp_path / "stored.db")
    with database.session() as s:
        for name, cand_pass in (("math", 60), ("support", 140)):
            suite = add_suite(s, name, 200)
            add_run(s, suite, BASELINE, pattern(200, 140))
            add_run(s, suite, CANDIDATE, pattern(200, cand_pass))
        single = add_suite(s, "single", 1)  # one sample: nothing to pair, so no verdict
        add_run(s, single, BASELINE, [True])
        add_run(s, single, CANDIDATE, [False])
    database.dispose()
    return path


def _hostile_candidate_answers(config: Path) -> None:
    database = open_database(f"sqlite:///{config.parent / 'stored.db'}")
    with database.session() as s:
        run_ids = select(Run.id).where(Run.model_id == CANDIDATE.split(":")[1])
        s.execute(update(Result).where(Result.run_id.in_(run_ids)).values(output=HOSTILE))
    database.dispose()


def test_junit_has_one_testcase_per_suite_in_the_reporters_shape(workspace: Path) -> None:
    report = workspace.parent / "results.xml"
    code, output = cli(
        workspace, "eval", WEAK, "--baseline", STRONG, "--fail-on", "worse", "--junit", str(report)
    )
    assert code == 1, output
    root = ET.parse(report).getroot()
    check_junit_shape(root)
    (suite,) = root
    assert suite.get("name") == f"{WEAK} vs {STRONG}"
    assert sorted(case.get("name") for case in suite) == ["products", "tiny"]
    assert {case.get("classname") for case in suite} == {WEAK}


def test_a_failed_testcase_message_carries_the_verdict_interval_and_p(workspace: Path) -> None:
    report = workspace.parent / "results.xml"
    gate(workspace, WEAK, STRONG, "--junit", str(report))
    failure = ET.parse(report).getroot().find("testsuite/testcase/failure")
    assert failure is not None
    message = failure.get("message", "")
    assert message.startswith("worse: −") and "(95% CI −" in message and "p " in message
    assert failure.get("type") == "worse"
    body = failure.text or ""
    assert "passed by the baseline and failed by the candidate:" in body
    assert "  expected: " in body and "  candidate: " in body


def test_a_passing_suite_is_a_testcase_without_failure_with_its_verdict_in_system_out(
    workspace: Path,
) -> None:
    report = workspace.parent / "results.xml"
    code, _ = gate(workspace, STRONG, WEAK, "--junit", str(report))
    assert code == 0
    case = ET.parse(report).getroot().find("testsuite/testcase")
    assert case is not None and case.find("failure") is None
    out = case.find("system-out")
    assert out is not None and (out.text or "").startswith("+")


def test_a_run_that_failed_is_a_testcase_with_an_error_naming_the_run(workspace: Path) -> None:
    report = workspace.parent / "results.xml"
    code, _ = gate(workspace, "sim:gpt-sim-gone", STRONG, "--force", "--junit", str(report))
    assert code == 1
    root = ET.parse(report).getroot()
    check_junit_shape(root)
    error = root.find("testsuite/testcase/error")
    assert error is not None and error.get("message", "").startswith("run #")
    assert "sim:gpt-sim-gone failed" in error.get("message", "")
    assert root.get("errors") == "1" and root.get("failures") == "0"


def test_compare_fail_on_worse_exits_1_on_stored_runs(stored: Path) -> None:
    code, output = cli(stored, "compare", CANDIDATE, BASELINE, "--fail-on", "worse")
    assert code == 1
    assert f"gate failed: {CANDIDATE} on math against {BASELINE}: worse:" in " ".join(output.split())


def test_compare_fail_on_worse_exits_0_when_no_suite_is_worse(stored: Path) -> None:
    code, output = cli(stored, "compare", CANDIDATE, BASELINE, "--suite", "support", "--fail-on", "worse")
    assert code == 0, output
    assert "gate passed (fail on worse)" in output


def test_compare_junit_stays_valid_xml_with_hostile_model_output(stored: Path) -> None:
    _hostile_candidate_answers(stored)
    report = stored.parent / "results.xml"
    code, output = cli(stored, "compare", CANDIDATE, BASELINE, "--fail-on", "worse", "--junit", str(report))
    assert code == 1, output
    root = ET.parse(report).getroot()
    check_junit_shape(root)
    failure = root.find("testsuite/testcase[@name='math']/failure")
    assert failure is not None and failure.text is not None
    assert 'bad ]]> <b>&amp;</b> "quoted" \ufffdnul \ufffd[31mansi' in failure.text
    assert "\x00" not in failure.text and "\x1b" not in failure.text
    assert b"]]>" not in report.read_bytes()  # escaped as ]]&gt;, so no reader can take it for a CDATA end


def test_a_suite_without_a_verdict_is_a_skipped_testcase_and_does_not_fail_the_gate(stored: Path) -> None:
    report = stored.parent / "results.xml"
    args = ["--suite", "support", "--suite", "single", "--fail-on", "any-change", "--junit", str(report)]
    code, output = cli(stored, "compare", CANDIDATE, BASELINE, *args)
    assert code == 0, output
    root = ET.parse(report).getroot()
    check_junit_shape(root)
    skipped = root.find("testsuite/testcase[@name='single']/skipped")
    assert skipped is not None and "nothing to compare" in skipped.get("message", "")
    assert root.get("skipped") == "1"


def test_the_junit_file_is_replaced_whole_with_no_temporary_file_left(stored: Path) -> None:
    report = stored.parent / "results.xml"
    report.write_text("old contents")
    cli(stored, "compare", CANDIDATE, BASELINE, "--fail-on", "worse", "--junit", str(report))
    ET.parse(report)
    assert sorted(p.name for p in stored.parent.iterdir() if p.name.startswith(".tmp")) == []


def test_junit_into_a_missing_directory_exits_2_and_writes_nothing(workspace: Path) -> None:
    report = workspace.parent / "missing" / "results.xml"
    code, output = cli(
        workspace, "eval", WEAK, "--baseline", STRONG, "--fail-on", "worse", "--junit", str(report)
    )
    assert code == 2
    assert f"directory {report.parent} does not exist" in " ".join(output.split())
    assert not report.parent.exists() and not (workspace.parent / "monitor.db").exists()


def test_junit_without_fail_on_exits_2(stored: Path) -> None:
    report = stored.parent / "results.xml"
    code, output = cli(stored, "compare", CANDIDATE, BASELINE, "--junit", str(report))
    assert code == 2
    assert "give --fail-on worse or --fail-on any-change" in output
    assert not report.exists()
