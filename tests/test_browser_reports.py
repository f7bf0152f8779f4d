"""The reports open in headless Chromium without console errors and render a non-blank page."""

from __future__ import annotations

import os
import struct
import subprocess
import zlib
from datetime import timedelta
from pathlib import Path

import pytest

from monitor.core.config import Config
from monitor.pipeline.report.write import write_all
from monitor.store.db import Database
from tests.factories import T0, add_event, add_run, add_suite, make_config

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists() and not os.environ.get("MODEL_MONITOR_REQUIRE_BROWSER"),
        reason="needs Debian's chromium at /usr/bin/chromium (.ci/run installs it and never skips)",
    ),
]


def decode_png(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and unfiltered rows of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = body
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, color, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and color in (2, 6) and interlace == 0, "unsupported PNG layout"
    bpp = 3 if color == 2 else 4
    raw = zlib.decompress(idat)
    stride = width * bpp
    rows: list[bytes] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        for i in range(stride):
            left = line[i - bpp] if i >= bpp else 0
            up = previous[i]
            corner = previous[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + left) & 0xFF
            elif kind == 2:
                line[i] = (line[i] + up) & 0xFF
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif kind == 4:
                p = left + up - corner
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - corner)
                pred = left if pa <= pb and pa <= pc else up if pb <= pc else corner
                line[i] = (line[i] + pred) & 0xFF
        rows.append(bytes(x for j in range(0, stride, bpp) for x in line[j : j + 3]))
        previous = line
    return width, height, rows


def open_in_chromium(page: Path, tmp_path: Path) -> tuple[Path, list[str]]:
    """Screenshot `page` with headless Chromium; returns the PNG and the console lines it logged."""
    shot = tmp_path / f"{page.stem}.png"
    profile = tmp_path / f"profile-{page.stem}"
    proc = subprocess.run(
        [
            str(CHROMIUM),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--enable-logging=stderr",
            "--v=0",
            f"--screenshot={shot}",
            "--window-size=1280,2000",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert shot.is_file(), f"no screenshot (exit {proc.returncode}): {proc.stderr[-2000:]}"
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line]
    return shot, console


def assert_not_blank(png: Path) -> None:
    width, height, rows = decode_png(png.read_bytes())
    assert (width, height) == (1280, 2000)
    background = rows[0][:3]
    pixels = [row[i : i + 3] for row in rows[::4] for i in range(0, len(row), 12)]
    inked = sum(1 for p in pixels if p != background)
    assert inked / len(pixels) > 0.02, "the page rendered (almost) nothing"
    assert len(set(pixels)) > 20, "the page has almost no distinct colours"


@pytest.fixture
def reports(db: Database, tmp_path: Path) -> dict[str, Path]:
    """Every report kind, written from real rows with hostile model output."""
    config: Config = make_config(tmp_path)
    hostile = [
        "<script>console.error('xss')</script>",
        "</textarea><img src=x onerror=console.error(1)>",
        "{{ 7*7 }}",
        "B" * 1_000_000,
        "nul\x00 bell\x07",
        "abc\u202edcba",
    ]
    with db.session() as s:
        suite = add_suite(s, "qa", "v1", 30)
        for day in range(3):
            add_run(
                s, suite, "sim:base", [i % 4 != day for i in range(30)], finished_at=T0 + timedelta(days=day)
            )
        event = add_event(s, "new_model", "sim:cand", created_at=T0 + timedelta(days=3))
        outcomes = [False] * 6 + [True] * 20 + [None] * 4
        outputs = hostile + ["fine"] * 24
        cand = add_run(
            s, suite, "sim:cand", outcomes, outputs=outputs, event=event, finished_at=T0 + timedelta(days=3)
        )
        add_event(s, "removed_model", "sim:old", created_at=T0 + timedelta(days=3, minutes=1))
        run_id, event_id = cand.id, event.id
    paths = write_all(db, config)
    return {
        "index": config.reports_dir / "index.html",
        "event": next(p for p in paths if p.parent.name == "events" and p.name.startswith(f"{event_id}-")),
        "run": next(p for p in paths if p.parent.name == "runs" and p.name.startswith(f"{run_id}-")),
    }


@pytest.mark.parametrize("kind", ["index", "event", "run"])
def test_report_opens_without_console_errors_and_renders(
    reports: dict[str, Path], tmp_path: Path, kind: str
) -> None:
    shot, console = open_in_chromium(reports[kind], tmp_path)
    assert console == []
    assert_not_blank(shot)


def test_console_check_sees_errors_of_a_page_that_has_them(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<!DOCTYPE html><title>broken</title><p>x</p><script>console.error('boom')</script>")
    _, console = open_in_chromium(page, tmp_path)
    assert any("boom" in line for line in console)


def test_blank_check_rejects_an_empty_page(tmp_path: Path) -> None:
    page = tmp_path / "blank.html"
    page.write_text("<!DOCTYPE html><title>blank</title>")
    shot, _ = open_in_chromium(page, tmp_path)
    with pytest.raises(AssertionError, match="rendered"):
        assert_not_blank(shot)
