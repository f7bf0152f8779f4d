"""Images in a sample's turns: a file relative to the suite (sent as a base64 data URL) or an https URL.

The data URL is part of the rendered messages, so the suite's version covers the image's bytes; an
https image is versioned by its URL (the provider fetches it).
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

from monitor.core.errors import SuiteError

MAX_IMAGE_BYTES = 20 * 1024 * 1024
"""The largest image OpenAI and Anthropic accept inline."""
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def media_type(data: bytes) -> str | None:
    """The image type from its first bytes (png, jpeg, gif, webp), else None."""
    for magic, kind in _MAGIC:
        if data.startswith(magic):
            return kind
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def image_part(ref: str, *, suite_dir: Path, where: str, fail: Callable[[str], SuiteError]) -> dict[str, Any]:
    """The OpenAI `image_url` part for an image path (relative to `suite_dir`) or an https URL."""
    if ref.startswith("https://") or ref.startswith("data:image/"):
        return {"type": "image_url", "image_url": {"url": ref}}
    if "://" in ref:
        raise fail(f"{where}: expected a file path or an https:// URL, got {ref!r}")
    file = Path(ref).expanduser()
    if not file.is_absolute():
        file = suite_dir / file
    try:
        data = file.read_bytes()
    except FileNotFoundError:
        raise fail(f"{where}: image {ref!r} not found (looked for {file})") from None
    except OSError as exc:
        raise fail(f"{where}: cannot read image {ref!r}: {exc.strerror}") from None
    if len(data) > MAX_IMAGE_BYTES:
        raise fail(f"{where}: image {ref!r} is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    kind = media_type(data)
    if kind is None:
        raise fail(f"{where}: {ref!r} is not a PNG, JPEG, GIF or WebP image")
    encoded = base64.b64encode(data).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{kind};base64,{encoded}"}}


def resolve_images(
    messages: list[dict[str, Any]], *, suite_dir: Path, fail: Callable[[str], SuiteError]
) -> list[dict[str, Any]]:
    """The messages with every image placeholder (`{"type": "image", "ref", "where"}`, as the sample
    reader leaves them) replaced by its `image_url` part."""
    if not any(isinstance(m.get("content"), list) for m in messages):
        return messages  # text only (most samples): only parts can hold images, nothing to copy
    resolved = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, list) and any(p.get("type") == "image" for p in content):
            parts = [
                image_part(p["ref"], suite_dir=suite_dir, where=p["where"], fail=fail)
                if p.get("type") == "image"
                else p
                for p in content
            ]
            message = {**message, "content": parts}
        resolved.append(message)
    return resolved
