"""The CI gate's JUnit XML: one test case per suite, failed by a worse (or changed) verdict.

The shape is the one GitHub and GitLab test reporters read: `testsuites > testsuite(name, tests,
failures, errors, skipped, time) > testcase(name, classname, time)`, with `<failure message=…>`,
`<error message=…>` or `<skipped message=…>`, and `<system-out>` for a suite that passed.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Mapping, Sequence
from typing import Any

from monitor.pipeline.compare.gate import ERRORED, FAILED, SKIPPED, GateDecision, SuiteGate
from monitor.pipeline.compare.pairing import FlippedSample, SuiteComparison
from monitor.pipeline.compare.summary import EventComparison
from monitor.pipeline.compare.wording import verdict_lines

# Characters XML 1.0 cannot carry at all (not even escaped): most C0 controls, surrogates, U+FFFE/FFFF.
_INVALID_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
LISTED_SAMPLES = 20  # per direction; the rest are counted
FIELD_CHARS = 300  # a prompt, target or answer in the body is cut here


def clean(text: object) -> str:
    """Text XML 1.0 can carry: each invalid character becomes U+FFFD (ElementTree escapes the rest)."""
    return _INVALID_XML.sub("\ufffd", str(text))


def junit_xml(
    decision: GateDecision,
    comparisons: Sequence[EventComparison],
    durations: Mapping[int, float] | None = None,
) -> bytes:
    """The JUnit XML document (UTF-8 bytes) for the gate's decision over `comparisons`.

    One `<testsuite>` per candidate model, one `<testcase>` per suite; `durations` gives each candidate
    run's wall time in seconds (by run id; 0 when unknown).
    """
    durations = durations or {}
    gates = iter(decision.suites)
    root = ET.Element("testsuites", name=f"model-monitor gate (fail on {decision.fail_on})")
    totals = dict.fromkeys(("tests", "failures", "errors", "skipped"), 0)
    total_time = 0.0
    for result in comparisons:
        baseline = result.baselines[0] if result.baselines else "no baseline"
        suite_el = ET.SubElement(root, "testsuite", name=clean(f"{result.candidate} vs {baseline}"))
        counts = dict.fromkeys(totals, 0)
        suite_time = 0.0
        for comparison in result.suites:
            gate = next(gates)
            seconds = durations.get(comparison.candidate.run_id, 0.0)
            suite_time += seconds
            _testcase(suite_el, gate, comparison, seconds)
            counts["tests"] += 1
            key = {FAILED: "failures", ERRORED: "errors", SKIPPED: "skipped"}.get(gate.outcome)
            if key is not None:
                counts[key] += 1
        _set_counts(suite_el, counts, suite_time)
        for key, value in counts.items():
            totals[key] += value
        total_time += suite_time
    _set_counts(root, totals, total_time)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def _set_counts(element: ET.Element, counts: Mapping[str, int], seconds: float) -> None:
    for key, value in counts.items():
        element.set(key, str(value))
    element.set("time", _seconds(seconds))


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _testcase(parent: ET.Element, gate: SuiteGate, comparison: SuiteComparison, seconds: float) -> None:
    case = ET.SubElement(
        parent, "testcase", name=clean(gate.suite), classname=clean(gate.candidate), time=_seconds(seconds)
    )
    body = clean(_body(comparison))
    tag = {FAILED: "failure", ERRORED: "error", SKIPPED: "skipped"}.get(gate.outcome)
    if tag is None:
        ET.SubElement(case, "system-out").text = body
        return
    attributes: dict[str, Any] = {"message": clean(gate.reason)}
    if tag != "skipped":
        attributes["type"] = gate.verdict or "run error"
    child = ET.SubElement(case, tag, attributes)
    child.text = body


def _body(comparison: SuiteComparison) -> str:
    """The verdict's explanation, both runs' counts, and the samples that flipped, each on its lines."""
    lines: list[str] = []
    if comparison.paired is not None:
        lines.extend(verdict_lines(comparison.paired))
    if comparison.note:
        lines.append(f"note: {comparison.note}")
    for role, stats in (("candidate", comparison.candidate), ("baseline", comparison.baseline)):
        if stats is not None:
            lines.append(
                f"{role} {stats.model_key} (run #{stats.run_id}, {stats.status}): {stats.passed} passed, "
                f"{stats.failed} failed, {stats.errored} errored"
            )
    for direction, heading in (
        ("pass_to_fail", "passed by the baseline and failed by the candidate"),
        ("fail_to_pass", "failed by the baseline and passed by the candidate"),
    ):
        flips = [f for f in comparison.flipped if f.direction == direction]
        if flips:
            lines.append(f"{len(flips)} sample(s) {heading}:")
            lines.extend(line for flip in flips[:LISTED_SAMPLES] for line in _flip_lines(flip))
            if len(flips) > LISTED_SAMPLES:
                lines.append(f"… and {len(flips) - LISTED_SAMPLES} more")
    return "\n".join(lines)


def _flip_lines(flip: FlippedSample) -> list[str]:
    return [
        f"- {_cut(flip.key)}: {_cut(flip.prompt)}",
        f"  expected: {_cut(flip.target)}",
        f"  candidate: {_cut(flip.candidate_output)}",
        f"  baseline: {_cut(flip.baseline_output)}",
    ]


def _cut(value: object) -> str:
    text = "" if value is None else " ".join(str(value).split())
    return text if len(text) <= FIELD_CHARS else text[: FIELD_CHARS - 1] + "…"
