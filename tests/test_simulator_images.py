"""Images in the simulator: chat `image_url`, Responses `input_image` and Anthropic `image` blocks are
accepted, cost input tokens, and a colour question about a PNG is answered with its colour."""

from __future__ import annotations

import base64
import struct
import zlib
from collections.abc import Callable

import anthropic
import openai
import pytest
from openai.types.chat import ChatCompletionContentPartParam

from monitor.simulator import SimModel, Simulator
from monitor.simulator.conversation import IMAGE_TOKENS
from monitor.simulator.images import png_colour

KEY = "sim-images-key"
FAST = {"latency_ms": 0, "latency_jitter_ms": 0}
MODELS = [
    SimModel("gpt-sim-eyes", "openai", skill=1.0, **FAST),
    SimModel("gpt-sim-blind", "openai", vision=False, **FAST),
    SimModel("claude-sim-eyes", "anthropic", skill=1.0, **FAST),
    SimModel("claude-sim-blind", "anthropic", vision=False, **FAST),
    SimModel("gemini-sim-eyes", "gemini", skill=1.0, **FAST),
]
QUESTION = "What colour is this image?"


def _paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else b if pb <= pc else c


def _filtered(kind: int, row: bytes, previous: bytes, bpp: int) -> bytes:
    out = bytearray()
    for i, value in enumerate(row):
        left = row[i - bpp] if i >= bpp else 0
        up = previous[i]
        up_left = previous[i - bpp] if i >= bpp else 0
        predictor = [0, left, up, (left + up) >> 1, _paeth(left, up, up_left)][kind]
        out.append((value - predictor) & 0xFF)
    return bytes(out)


def make_png(rgb: tuple[int, int, int], size: int = 12, *, alpha: bool = False, filters: int = 1) -> bytes:
    """A `size`x`size` PNG of one colour (with a black corner), each row with filter `row % filters`."""
    bpp = 4 if alpha else 3
    previous = bytes(size * bpp)
    raw = bytearray()
    for y in range(size):
        pixels = []
        for x in range(size):
            colour = (0, 0, 0) if x < 2 and y < 2 else rgb
            pixels.append(bytes(colour) + (b"\xff" if alpha else b""))
        row = b"".join(pixels)
        kind = y % filters
        raw += bytes([kind]) + _filtered(kind, row, previous, bpp)
        previous = row

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", size, size, 8, 6 if alpha else 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(bytes(raw)))
        + chunk(b"IEND", b"")
    )


def data_url(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode()


@pytest.fixture
def sim(make_simulator: Callable[..., Simulator]) -> Simulator:
    return make_simulator(api_key=KEY, models=MODELS)


def chat_client(sim: Simulator, path: str = "/v1") -> openai.OpenAI:
    return openai.OpenAI(api_key=KEY, base_url=sim.base_url + path, max_retries=0, timeout=30)


@pytest.mark.parametrize(
    ("rgb", "name"),
    [
        ((230, 20, 20), "red"),
        ((20, 170, 40), "green"),
        ((20, 50, 230), "blue"),
        ((250, 230, 30), "yellow"),
        ((250, 250, 250), "white"),
        ((255, 140, 0), "orange"),
        ((128, 30, 170), "purple"),
    ],
)
def test_png_colour_names_the_dominant_colour_for_every_filter_type(
    rgb: tuple[int, int, int], name: str
) -> None:
    assert png_colour(make_png(rgb, filters=5)) == name
    assert png_colour(make_png(rgb, alpha=True, filters=5)) == name


def test_png_colour_is_none_for_what_it_cannot_read() -> None:
    assert png_colour(b"GIF89a not a png") is None
    assert png_colour(make_png((200, 0, 0))[:40]) is None


def test_chat_names_the_colour_and_counts_the_image_as_input_tokens(sim: Simulator) -> None:
    client = chat_client(sim)
    parts: list[ChatCompletionContentPartParam] = [
        {"type": "text", "text": QUESTION},
        {"type": "image_url", "image_url": {"url": data_url(make_png((230, 20, 20)))}},
    ]
    seen = client.chat.completions.create(model="gpt-sim-eyes", messages=[{"role": "user", "content": parts}])
    assert "red" in (seen.choices[0].message.content or "")
    text_only = client.chat.completions.create(
        model="gpt-sim-eyes", messages=[{"role": "user", "content": parts[:1]}]
    )
    assert seen.usage is not None and text_only.usage is not None
    assert seen.usage.prompt_tokens == text_only.usage.prompt_tokens + IMAGE_TOKENS
    gemini = chat_client(sim, "/v1beta/openai/").chat.completions.create(
        model="gemini-sim-eyes", messages=[{"role": "user", "content": parts}]
    )
    assert "red" in (gemini.choices[0].message.content or "")


def test_responses_input_image_is_seen(sim: Simulator) -> None:
    response = chat_client(sim).responses.create(
        model="gpt-sim-eyes",
        input=[
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": QUESTION},
                    {"type": "input_image", "image_url": data_url(make_png((20, 50, 230))), "detail": "auto"},
                ],
            }
        ],
    )
    assert "blue" in response.output_text


def test_anthropic_base64_and_url_images_are_seen(sim: Simulator) -> None:
    client = anthropic.Anthropic(api_key=KEY, base_url=sim.base_url, max_retries=0, timeout=30)
    png = base64.b64encode(make_png((20, 170, 40))).decode()
    base64_source = {"type": "base64", "media_type": "image/png", "data": png}
    url_source = {"type": "url", "url": "https://example.com/photos/yellow-taxi.png"}
    for source, colour in ((base64_source, "green"), (url_source, "yellow")):
        message = client.messages.create(
            model="claude-sim-eyes",
            max_tokens=200,
            messages=[
                {
                    "role": "user",
                    "content": [{"type": "image", "source": source}, {"type": "text", "text": QUESTION}],
                }  # type: ignore[list-item, misc]
            ],
        )
        assert colour in "".join(block.text for block in message.content if block.type == "text")


def test_a_model_without_vision_answers_400(sim: Simulator) -> None:
    parts: list[ChatCompletionContentPartParam] = [
        {"type": "text", "text": QUESTION},
        {"type": "image_url", "image_url": {"url": data_url(make_png((230, 20, 20)))}},
    ]
    with pytest.raises(openai.BadRequestError) as chat_error:
        chat_client(sim).chat.completions.create(
            model="gpt-sim-blind", messages=[{"role": "user", "content": parts}]
        )
    assert chat_error.value.message.endswith(
        "Invalid content type. image_url is only supported by certain models."
    )
    assert chat_error.value.param == "messages.[0].content.[1].type"
    client = anthropic.Anthropic(api_key=KEY, base_url=sim.base_url, max_retries=0, timeout=30)
    png = base64.b64encode(make_png((20, 170, 40))).decode()
    with pytest.raises(anthropic.BadRequestError):
        client.messages.create(
            model="claude-sim-blind",
            max_tokens=200,
            messages=[
                {
                    "role": "user",
                    "content": [
                        {
                            "type": "image",
                            "source": {"type": "base64", "media_type": "image/png", "data": png},
                        }
                    ],
                }
            ],
        )
