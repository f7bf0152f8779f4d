"""The pure-Python PNG chart: a valid PNG of the declared size whose bars follow the scores."""

from __future__ import annotations

import struct
import zlib

import pytest

from monitor.pipeline.deliver.chart_png import (
    BASELINE_COLOR,
    CANDIDATE_COLOR,
    Bar,
    BarGroup,
    Series,
    encode_png,
    png_size,
    score_bars_png,
)
from monitor.pipeline.deliver.message import event_chart_png
from tests.fixtures.comparisons import event_comparison

SERIES = [Series("candidate sim:next", CANDIDATE_COLOR), Series("baseline sim:base", BASELINE_COLOR)]


def decode_rgb(png: bytes) -> tuple[int, int, list[bytes]]:
    """Independent decoder for what encode_png writes: chunks with valid CRCs, 8-bit RGB, filter 0."""
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    pos, chunks, kinds = 8, {}, []
    idat = b""
    while pos < len(png):
        (length,) = struct.unpack(">I", png[pos : pos + 4])
        kind, data = png[pos + 4 : pos + 8], png[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", png[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + data), f"bad CRC in {kind!r}"
        chunks[kind] = data
        kinds.append(kind)
        if kind == b"IDAT":
            idat += data
        pos += 12 + length
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND"
    width, height, depth, color_type, _, _, interlace = struct.unpack(">IIBBBBB", chunks[b"IHDR"])
    assert (depth, color_type, interlace) == (8, 2, 0)
    raw = zlib.decompress(idat)
    stride = 1 + 3 * width
    assert len(raw) == stride * height
    rows = []
    for y in range(height):
        assert raw[y * stride] == 0
        rows.append(raw[y * stride + 1 : (y + 1) * stride])
    return width, height, rows


def count_color(rows: list[bytes], color: tuple[int, int, int]) -> int:
    needle = bytes(color)
    return sum(1 for row in rows for x in range(0, len(row), 3) if row[x : x + 3] == needle)


def test_chart_is_a_valid_png_whose_ihdr_size_matches_its_pixels():
    png = score_bars_png(
        [BarGroup("qa", (Bar(0.8, 0.75, 0.85), Bar(0.7, 0.65, 0.75)))], SERIES, width=300, scale=1
    )

    width, height, rows = decode_rgb(png)
    assert (width, height) == png_size(png)
    assert width == 300 and height > 50 and len(rows) == height


def test_chart_is_not_blank():
    png = score_bars_png([BarGroup("qa", (Bar(0.8, 0.75, 0.85), Bar(0.7, 0.65, 0.75)))], SERIES)

    _, _, rows = decode_rgb(png)
    colors = {row[x : x + 3] for row in rows for x in range(0, len(row), 3)}
    assert len(colors) >= 4
    assert count_color(rows, CANDIDATE_COLOR) > 1000
    assert count_color(rows, BASELINE_COLOR) > 1000


def longest_run(rows: list[bytes], color: tuple[int, int, int]) -> int:
    """The longest horizontal run of one colour: the length of the longest bar drawn in it."""
    needle, best = bytes(color), 0
    for row in rows:
        run = 0
        for x in range(0, len(row), 3):
            run = run + 1 if row[x : x + 3] == needle else 0
            best = max(best, run)
    return best


def test_bar_length_follows_the_score():
    high = score_bars_png([BarGroup("qa", (Bar(0.9), Bar(0.9)))], SERIES)
    low = score_bars_png([BarGroup("qa", (Bar(0.3), Bar(0.9)))], SERIES)

    ratio = longest_run(decode_rgb(low)[2], CANDIDATE_COLOR) / longest_run(
        decode_rgb(high)[2], CANDIDATE_COLOR
    )
    assert ratio == pytest.approx(0.3 / 0.9, rel=0.02)
    assert longest_run(decode_rgb(low)[2], BASELINE_COLOR) == longest_run(decode_rgb(high)[2], BASELINE_COLOR)


def test_event_chart_has_one_group_per_suite_at_double_density():
    comparison = event_comparison()
    one_suite = event_comparison()
    one_suite.suites = one_suite.suites[:1]

    width, height = png_size(event_chart_png(comparison))
    _, height_one = png_size(event_chart_png(one_suite))
    assert width == 1200
    assert height > height_one


def test_encode_png_refuses_a_buffer_of_the_wrong_size():
    with pytest.raises(ValueError, match="need 12 bytes"):
        encode_png(2, 2, b"\x00" * 11)


def test_png_size_refuses_bytes_that_are_not_a_png():
    with pytest.raises(ValueError, match="not a PNG"):
        png_size(b"GIF89a" + b"\x00" * 30)
