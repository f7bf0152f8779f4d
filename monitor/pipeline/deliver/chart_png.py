"""Small PNG bar charts for e-mail (pure Python: zlib + struct), since mail clients drop inline SVG."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

RGB = tuple[int, int, int]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

WHITE: RGB = (255, 255, 255)
INK: RGB = (31, 41, 51)
MUTED: RGB = (110, 118, 129)
GRID: RGB = (226, 230, 234)
CANDIDATE_COLOR: RGB = (59, 110, 165)
BASELINE_COLOR: RGB = (176, 184, 194)

# A 5x7 bitmap font, column-major: five column bytes per glyph, bit 0 is the top row.
_FONT: dict[str, tuple[int, int, int, int, int]] = {
    " ": (0x00, 0x00, 0x00, 0x00, 0x00),
    "0": (0x3E, 0x51, 0x49, 0x45, 0x3E),
    "1": (0x00, 0x42, 0x7F, 0x40, 0x00),
    "2": (0x42, 0x61, 0x51, 0x49, 0x46),
    "3": (0x21, 0x41, 0x45, 0x4B, 0x31),
    "4": (0x18, 0x14, 0x12, 0x7F, 0x10),
    "5": (0x27, 0x45, 0x45, 0x45, 0x39),
    "6": (0x3C, 0x4A, 0x49, 0x49, 0x30),
    "7": (0x01, 0x71, 0x09, 0x05, 0x03),
    "8": (0x36, 0x49, 0x49, 0x49, 0x36),
    "9": (0x06, 0x49, 0x49, 0x29, 0x1E),
    "A": (0x7E, 0x11, 0x11, 0x11, 0x7E),
    "B": (0x7F, 0x49, 0x49, 0x49, 0x36),
    "C": (0x3E, 0x41, 0x41, 0x41, 0x22),
    "D": (0x7F, 0x41, 0x41, 0x22, 0x1C),
    "E": (0x7F, 0x49, 0x49, 0x49, 0x41),
    "F": (0x7F, 0x09, 0x09, 0x09, 0x01),
    "G": (0x3E, 0x41, 0x49, 0x49, 0x7A),
    "H": (0x7F, 0x08, 0x08, 0x08, 0x7F),
    "I": (0x00, 0x41, 0x7F, 0x41, 0x00),
    "J": (0x20, 0x40, 0x41, 0x3F, 0x01),
    "K": (0x7F, 0x08, 0x14, 0x22, 0x41),
    "L": (0x7F, 0x40, 0x40, 0x40, 0x40),
    "M": (0x7F, 0x02, 0x0C, 0x02, 0x7F),
    "N": (0x7F, 0x04, 0x08, 0x10, 0x7F),
    "O": (0x3E, 0x41, 0x41, 0x41, 0x3E),
    "P": (0x7F, 0x09, 0x09, 0x09, 0x06),
    "Q": (0x3E, 0x41, 0x51, 0x21, 0x5E),
    "R": (0x7F, 0x09, 0x19, 0x29, 0x46),
    "S": (0x46, 0x49, 0x49, 0x49, 0x31),
    "T": (0x01, 0x01, 0x7F, 0x01, 0x01),
    "U": (0x3F, 0x40, 0x40, 0x40, 0x3F),
    "V": (0x1F, 0x20, 0x40, 0x20, 0x1F),
    "W": (0x3F, 0x40, 0x38, 0x40, 0x3F),
    "X": (0x63, 0x14, 0x08, 0x14, 0x63),
    "Y": (0x07, 0x08, 0x70, 0x08, 0x07),
    "Z": (0x61, 0x51, 0x49, 0x45, 0x43),
    ".": (0x00, 0x60, 0x60, 0x00, 0x00),
    ",": (0x00, 0x50, 0x30, 0x00, 0x00),
    "-": (0x08, 0x08, 0x08, 0x08, 0x08),
    "+": (0x08, 0x08, 0x3E, 0x08, 0x08),
    "=": (0x14, 0x14, 0x14, 0x14, 0x14),
    ":": (0x00, 0x36, 0x36, 0x00, 0x00),
    "_": (0x40, 0x40, 0x40, 0x40, 0x40),
    "/": (0x20, 0x10, 0x08, 0x04, 0x02),
    "%": (0x23, 0x13, 0x08, 0x64, 0x62),
    "(": (0x00, 0x1C, 0x22, 0x41, 0x00),
    ")": (0x00, 0x41, 0x22, 0x1C, 0x00),
    "?": (0x02, 0x01, 0x51, 0x09, 0x06),
}
GLYPH_ADVANCE = 6  # five columns and one blank
GLYPH_HEIGHT = 7


@dataclass(frozen=True)
class Bar:
    """One model's score in [0, 1] with its 95% interval (None when it has no score)."""

    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Series:
    """A model shown in every group, in its own colour."""

    name: str
    color: RGB


@dataclass(frozen=True)
class BarGroup:
    """One suite: a label and one bar per series (None where that series has no run)."""

    label: str
    bars: tuple[Bar | None, ...]


class Canvas:
    """An RGB raster drawn in logical pixels, each `scale` device pixels wide (crisp on HiDPI screens)."""

    def __init__(self, width: int, height: int, *, background: RGB = WHITE, scale: int = 1) -> None:
        self.scale = scale
        self.width = width * scale
        self.height = height * scale
        self.pixels = bytearray(bytes(background) * (self.width * self.height))

    def rect(self, x: float, y: float, w: float, h: float, color: RGB) -> None:
        """Fill a rectangle (logical coordinates), clipped to the canvas."""
        s = self.scale
        x0, y0 = max(0, round(x * s)), max(0, round(y * s))
        x1, y1 = min(self.width, round((x + w) * s)), min(self.height, round((y + h) * s))
        if x1 <= x0 or y1 <= y0:
            return
        run = bytes(color) * (x1 - x0)
        for row in range(y0, y1):
            start = (row * self.width + x0) * 3
            self.pixels[start : start + len(run)] = run

    def text(
        self, x: float, y: float, value: str, color: RGB, *, size: float = 1.0, max_chars: int | None = None
    ) -> None:
        """Draw text in the 5x7 font, each font pixel `size` logical pixels (upper case; unknown
        characters as '?'), cut to max_chars."""
        if max_chars is not None and len(value) > max_chars:
            value = value[: max(0, max_chars - 2)] + ".."
        for i, char in enumerate(value.upper()):
            columns = _FONT.get(char, _FONT["?"])
            for cx, bits in enumerate(columns):
                for cy in range(GLYPH_HEIGHT):
                    if bits >> cy & 1:
                        self.rect(x + (i * GLYPH_ADVANCE + cx) * size, y + cy * size, size, size, color)

    def png(self) -> bytes:
        return encode_png(self.width, self.height, bytes(self.pixels))


def text_width(value: str, size: float = 1.0) -> float:
    return len(value) * GLYPH_ADVANCE * size


def encode_png(width: int, height: int, rgb: bytes) -> bytes:
    """An 8-bit RGB PNG from packed rows of pixels (filter 0 per row, one zlib stream)."""
    stride = width * 3
    if width <= 0 or height <= 0 or len(rgb) != stride * height:
        raise ValueError(f"need {stride * height} bytes for a {width}x{height} RGB image, got {len(rgb)}")
    raw = b"".join(b"\x00" + rgb[row * stride : (row + 1) * stride] for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        PNG_SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(raw, 9))
        + _chunk(b"IEND", b"")
    )


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk; ValueError when the bytes are not a PNG."""
    if len(data) < 24 or not data.startswith(PNG_SIGNATURE) or data[12:16] != b"IHDR":
        raise ValueError("not a PNG image")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _clamp(value: float) -> float:
    return min(1.0, max(0.0, value))


def score_bars_png(
    groups: Sequence[BarGroup],
    series: Sequence[Series],
    *,
    width: int = 600,
    scale: int = 2,
    text_size: float = 1.5,
) -> bytes:
    """Horizontal bars of scores (0-100%) per group and series, with 95% interval whiskers and a legend.

    `scale` device pixels per logical pixel; `text_size` logical pixels per font pixel (keep
    text_size * scale a whole number so glyphs stay sharp).
    """
    if not series:
        raise ValueError("a chart needs at least one series")
    t = text_size
    glyph_h, advance = GLYPH_HEIGHT * t, GLYPH_ADVANCE * t
    margin, label_w, bar_h, bar_gap, group_gap = 12, 160, 14, 4, 14
    plot_x0, plot_x1 = margin + label_w + 8, width - margin - 2 * advance
    legend_row = glyph_h + 6
    group_h = len(series) * (bar_h + bar_gap) - bar_gap
    plot_top = margin + legend_row * len(series) + 8
    plot_h = len(groups) * (group_h + group_gap) if groups else 24
    height = round(plot_top + plot_h + glyph_h + 10 + margin)
    canvas = Canvas(width, height, scale=scale)

    for i, one in enumerate(series):
        legend_y = margin + i * legend_row
        canvas.rect(margin, legend_y, glyph_h, glyph_h, one.color)
        room = int((width - 2 * margin - glyph_h - 6) // advance)
        canvas.text(margin + glyph_h + 6, legend_y, one.name, INK, size=t, max_chars=room)

    def x_of(value: float) -> float:
        return plot_x0 + _clamp(value) * (plot_x1 - plot_x0)

    axis_y = plot_top + plot_h
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        x = x_of(tick)
        canvas.rect(x, plot_top - 4, 1, plot_h + 6, GRID)
        label = f"{tick * 100:.0f}%"
        canvas.text(x - text_width(label, t) / 2, axis_y + 6, label, MUTED, size=t)

    if not groups:
        canvas.text(plot_x0 + 6, plot_top + 6, "no scores", MUTED, size=t)
    for g, group in enumerate(groups):
        top = plot_top + g * (group_h + group_gap) + group_gap / 2
        label_y = top + (group_h - glyph_h) / 2
        canvas.text(margin, label_y, group.label, INK, size=t, max_chars=int(label_w // advance))
        for b, one in enumerate(series):
            bar = group.bars[b] if b < len(group.bars) else None
            y = top + b * (bar_h + bar_gap)
            if bar is None or bar.value is None:
                canvas.text(plot_x0 + 4, y + (bar_h - glyph_h) / 2, "no score", MUTED, size=t)
                continue
            canvas.rect(plot_x0, y, max(1.0, x_of(bar.value) - plot_x0), bar_h, one.color)
            if bar.low is not None and bar.high is not None:
                lo, hi, mid = x_of(bar.low), x_of(bar.high), y + bar_h / 2
                canvas.rect(lo, mid - 0.5, max(1.0, hi - lo), 1, INK)
                canvas.rect(lo, y + 3, 1, bar_h - 6, INK)
                canvas.rect(hi - 1, y + 3, 1, bar_h - 6, INK)
    return canvas.png()
