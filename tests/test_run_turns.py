"""A sample's conversation: scripted tool results go back to the model, and the turns add up to one answer."""

from __future__ import annotations

from monitor.pipeline.run.turns import answers_calls, combined, next_request
from monitor.providers.base import ChatRequest, Completion, ToolCall

CALL = ToolCall("call_1", "get_order", '{"order_id": "NW-12345"}')


def completion(text: str = "", calls: tuple[ToolCall, ...] = (), **usage: int | None) -> Completion:
    return Completion(
        text=text,
        finish_reason="tool_calls" if calls else "stop",
        input_tokens=usage.get("input_tokens", 10),
        output_tokens=usage.get("output_tokens", 5),
        latency_ms=100.0,
        cached_input_tokens=usage.get("cached_input_tokens"),
        tool_calls=calls,
    )


def test_the_conversation_goes_on_when_every_call_has_a_scripted_result() -> None:
    assert answers_calls(completion(calls=(CALL,)), {"get_order": {"status": "shipped"}})


def test_a_call_without_a_scripted_result_ends_the_conversation() -> None:
    other = ToolCall("call_2", "refund", "{}")
    assert not answers_calls(completion(calls=(CALL, other)), {"get_order": "ok"})


def test_a_text_answer_ends_the_conversation() -> None:
    assert not answers_calls(completion("It shipped."), {"get_order": "ok"})


def test_the_next_request_carries_the_call_and_its_result() -> None:
    request = ChatRequest(model="m", messages=[{"role": "user", "content": "Where is NW-12345?"}])
    following = next_request(
        request, completion("Let me look.", (CALL,)), {"get_order": {"status": "shipped"}}
    )
    assert following.messages[1:] == [
        {
            "role": "assistant",
            "content": "Let me look.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_order", "arguments": CALL.arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped"}'},
    ]
    assert request.messages == [{"role": "user", "content": "Where is NW-12345?"}]


def test_a_text_result_is_sent_as_it_is() -> None:
    request = ChatRequest(model="m", messages=[])
    following = next_request(request, completion(calls=(CALL,)), {"get_order": "shipped on Monday"})
    assert following.messages[-1]["content"] == "shipped on Monday"


def test_combined_turns_keep_the_last_text_and_every_call_and_add_usage() -> None:
    first = completion(calls=(CALL,), input_tokens=10, output_tokens=5, cached_input_tokens=None)
    last = completion("It shipped.", input_tokens=30, output_tokens=7, cached_input_tokens=8)
    both = combined(first, last)
    assert (both.text, both.tool_calls, both.outcome) == ("It shipped.", (CALL,), "stop")
    assert (both.input_tokens, both.output_tokens, both.cached_input_tokens) == (40, 12, 8)
    assert both.latency_ms == 200.0


def test_an_unknown_token_count_in_any_turn_makes_the_total_unknown() -> None:
    both = combined(completion(calls=(CALL,), input_tokens=None), completion("done"))
    assert both.input_tokens is None
