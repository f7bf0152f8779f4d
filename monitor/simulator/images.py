"""Look at an image: decode an 8-bit PNG in pure Python and name its dominant colour (or read the
colour from a URL's file name), so a colour question about an image is answerable and gradable."""

from __future__ import annotations

import re
import struct
import zlib

from monitor.simulator.conversation import Image

PALETTE = {
    "red": (220, 30, 30),
    "green": (40, 160, 60),
    "blue": (30, 70, 210),
    "yellow": (240, 220, 40),
    "black": (0, 0, 0),
    "white": (255, 255, 255),
    "orange": (250, 140, 20),
    "purple": (130, 40, 160),
}
CHANNELS = {0: 1, 2: 3, 4: 2, 6: 4}
"""PNG colour type -> channels per pixel (grey, RGB, grey+alpha, RGBA)."""
MAX_PIXELS = 4_000_000
COLOUR_QUESTION = re.compile(r"\bcolou?rs?\b", re.I)


def nearest(rgb: tuple[int, int, int]) -> str:
    """The palette name closest to an RGB value."""
    return min(PALETTE, key=lambda name: sum((a - b) ** 2 for a, b in zip(PALETTE[name], rgb, strict=True)))


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def _unfilter(raw: bytes, width: int, height: int, bpp: int) -> list[bytearray] | None:
    stride = width * bpp
    rows: list[bytearray] = []
    previous = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1 : start + 1 + stride])
        if len(line) < stride or kind > 4:
            return None
        if kind == 1:
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 0xFF
        elif kind == 2:
            for i in range(stride):
                line[i] = (line[i] + previous[i]) & 0xFF
        elif kind == 3:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                up_left = previous[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + _paeth(left, previous[i], up_left)) & 0xFF
        rows.append(line)
        previous = line
    return rows


def png_colour(data: bytes) -> str | None:
    """The dominant palette colour of an 8-bit, non-interlaced PNG, or None for anything else."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return None
    position, header, chunks = 8, None, []
    try:
        while position + 8 <= len(data):
            length, kind = struct.unpack(">I4s", data[position : position + 8])
            body = data[position + 8 : position + 8 + length]
            position += 12 + length
            if kind == b"IHDR":
                header = struct.unpack(">IIBBBBB", body)
            elif kind == b"IDAT":
                chunks.append(body)
            elif kind == b"IEND":
                break
    except struct.error:
        return None
    if header is None:
        return None
    width, height, depth, colour_type, _, _, interlace = header
    bpp = CHANNELS.get(colour_type)
    if depth != 8 or interlace or bpp is None or not 0 < width * height <= MAX_PIXELS:
        return None
    try:
        rows = _unfilter(zlib.decompress(b"".join(chunks)), width, height, bpp)
    except zlib.error:
        return None
    if rows is None:
        return None
    step = max(1, int((width * height / 4096) ** 0.5))
    counts: dict[str, int] = {}
    for row in rows[::step]:
        for x in range(0, width, step):
            pixel = row[x * bpp : (x + 1) * bpp]
            if bpp in (2, 4) and pixel[-1] == 0:
                continue
            rgb = (pixel[0], pixel[1], pixel[2]) if bpp >= 3 else (pixel[0],) * 3
            name = nearest(rgb)
            counts[name] = counts.get(name, 0) + 1
    return max(counts, key=lambda name: counts[name]) if counts else None


def colour_of(image: Image) -> str | None:
    """An image's colour: decoded from PNG bytes, else a colour word in its URL's file name."""
    if image.data is not None:
        return png_colour(image.data)
    if image.url:
        name = image.url.rsplit("/", 1)[-1].lower()
        return next((c for c in PALETTE if re.search(rf"(?<![a-z]){c}(?![a-z])", name)), None)
    return None


def answer(question: str, images: list[Image], right: bool, variant: float) -> str | None:
    """The reply to a colour question about the images; None when it is not one, or no colour is seen."""
    if not COLOUR_QUESTION.search(question):
        return None
    colours = [colour_of(image) for image in images]
    seen = [c for c in colours if c is not None]
    if not seen:
        return "I can't make out the colours in this image."
    if not right:
        others = [c for c in PALETTE if c != seen[0]]
        seen = [others[int(variant * len(others)) % len(others)], *seen[1:]]
    if len(seen) == 1:
        return f"The image is mostly {seen[0]}."
    return "The images are mostly " + ", ".join(seen[:-1]) + f" and {seen[-1]}."
