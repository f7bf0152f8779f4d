"""A `create` call through the openai SDK's own post, without its per-call transform of the params."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

import openai

if TYPE_CHECKING:
    from openai._types import RequestOptions

T = TypeVar("T")

_TRANSPORT_OPTIONS = {"extra_body": "extra_json", "extra_headers": "headers", "timeout": "timeout"}


async def sdk_post(client: openai.AsyncOpenAI, path: str, kwargs: dict[str, Any], cast_to: type[T]) -> T:
    """What `chat.completions.create(**kwargs)` or `responses.create(**kwargs)` sends and returns, minus
    their walk of the params through the SDK's TypedDicts: 2-3 ms of CPU a call here, 40% of the SDK's
    work (bench/runner_bench.py), which changes nothing in a body that is plain JSON already, as ours
    are (tests hold the two bodies and headers equal). The SDK still builds, posts and parses."""
    body = {key: value for key, value in kwargs.items() if key not in _TRANSPORT_OPTIONS}
    options: dict[str, Any] = {"security": {"bearer_auth": True}}  # the auth both creates ask for
    options.update({_TRANSPORT_OPTIONS[key]: kwargs[key] for key in _TRANSPORT_OPTIONS if key in kwargs})
    return await client.post(path, body=body, cast_to=cast_to, options=cast("RequestOptions", options))
