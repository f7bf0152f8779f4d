"""Safe report file names, the inside-the-reports-directory check, and atomic idempotent writes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from monitor.core.errors import MonitorError
from monitor.pipeline.report.files import inside, safe_filename, write_atomic

SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
HOSTILE_NAMES = [
    "a/b:c",
    "a-b-c",
    "a_b_c",
    "../x",
    "..",
    ".",
    "",
    "/etc/passwd",
    "C:\\x",
    "x" * 5000,
    "ü",
    "u",
    "模型",
    "\u202eexe.txt",
    "a\x00b",
    "CON",
    "-rf",
]


@pytest.mark.parametrize("text", HOSTILE_NAMES)
def test_safe_filename_is_a_plain_bounded_ascii_name(text: str) -> None:
    name = safe_filename(text)
    assert SAFE.match(name), name
    assert len(name) <= 71
    assert name not in (".", "..")


def test_safe_filename_keeps_distinct_texts_distinct() -> None:
    names = [safe_filename(t) for t in HOSTILE_NAMES]
    assert len(set(names)) == len(HOSTILE_NAMES)


def test_safe_filename_is_stable_and_readable() -> None:
    assert safe_filename("openai:gpt-5") == safe_filename("openai:gpt-5")
    assert safe_filename("openai:gpt-5").startswith("openai-gpt-5-")


@pytest.mark.parametrize("relative", ["../x.html", "runs/../../x.html", "/etc/passwd", ".", ""])
def test_inside_refuses_paths_that_leave_the_root(tmp_path: Path, relative: str) -> None:
    with pytest.raises(MonitorError, match="outside the reports directory"):
        inside(tmp_path / "reports", relative)


def test_inside_refuses_a_symlinked_folder_pointing_outside(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    root.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (root / "runs").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(MonitorError):
        inside(root, "runs/x.html")


def test_inside_accepts_nested_report_paths(tmp_path: Path) -> None:
    root = tmp_path / "reports"
    assert inside(root, "runs/x.html") == (root / "runs" / "x.html").resolve()


def test_write_atomic_writes_and_reports_whether_anything_changed(tmp_path: Path) -> None:
    path = tmp_path / "reports" / "runs" / "x.html"
    assert write_atomic(path, b"one") is True
    assert write_atomic(path, b"one") is False
    assert write_atomic(path, b"two") is True
    assert path.read_bytes() == b"two"
    assert sorted(p.name for p in path.parent.iterdir()) == ["x.html"]
