"""The simulator's Anthropic Message Batches, driven by the real anthropic SDK: lifecycle, results, errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import anthropic
import pytest
from anthropic.types import Message, TextBlock
from anthropic.types.messages import MessageBatch, MessageBatchIndividualResponse

from monitor.simulator import Fault, Simulator
from tests.fake_clock import FakeClock

START = 1_800_000_000.0
DAY = 86400.0
MODEL = "claude-sim-sonnet-20260115"
QUESTIONS = ["What is 17 * 3?", "Maria has 12 apples and buys 7 more. How many apples does she have?"]
MakeSim = Callable[..., Simulator]


def client(sim: Simulator) -> anthropic.Anthropic:
    return anthropic.Anthropic(api_key="sim-key", base_url=sim.base_url, max_retries=0, timeout=30)


def params(question: str, **extra: Any) -> dict[str, Any]:
    return {"model": MODEL, "max_tokens": 200, "messages": [{"role": "user", "content": question}], **extra}


def requests_for(count: int) -> list[dict[str, Any]]:
    return [{"custom_id": f"q{i}", "params": params(f"What is {i + 2} * 3?")} for i in range(count)]


def submit(api: anthropic.Anthropic, requests: list[dict[str, Any]]) -> MessageBatch:
    return api.messages.batches.create(requests=requests)  # type: ignore[arg-type]


def results(api: anthropic.Anthropic, batch_id: str) -> dict[str, MessageBatchIndividualResponse]:
    return {line.custom_id: line for line in api.messages.batches.results(batch_id)}


def submitted_at_start(
    make_simulator: MakeSim, count: int, delay_s: float
) -> tuple[FakeClock, anthropic.Anthropic, str]:
    """A batch of `count` requests sent at START to a simulator whose batches take `delay_s`: the
    simulator's clock, the client and the batch id."""
    clock = FakeClock(START)
    api = client(make_simulator(clock=clock, batch_delay_s=delay_s))
    return clock, api, submit(api, requests_for(count)).id


def text_of(message: Message) -> str:
    return "".join(block.text for block in message.content if isinstance(block, TextBlock))


def test_a_message_batch_answers_each_request_as_messages_create_does(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    batch_id = submit(api, [{"custom_id": f"q{i}", "params": params(q)} for i, q in enumerate(QUESTIONS)]).id
    batch = api.messages.batches.retrieve(batch_id)
    assert batch.processing_status == "ended" and batch.request_counts.succeeded == 2
    lines = results(api, batch_id)
    for i, question in enumerate(QUESTIONS):
        result = lines[f"q{i}"].result
        assert result.type == "succeeded"
        sync = api.messages.create(**params(question))
        assert text_of(result.message) == text_of(sync)
        assert result.message.usage == sync.usage


def test_a_message_batch_is_in_progress_until_its_delay_has_passed(make_simulator: MakeSim) -> None:
    clock, api, batch_id = submitted_at_start(make_simulator, 4, delay_s=100.0)
    clock.now += 99
    waiting = api.messages.batches.retrieve(batch_id)
    assert waiting.processing_status == "in_progress" and waiting.results_url is None
    assert (waiting.request_counts.processing, waiting.request_counts.succeeded) == (4, 0)
    clock.now += 1
    done = api.messages.batches.retrieve(batch_id)
    assert done.processing_status == "ended" and done.ended_at == datetime.fromtimestamp(START + 100, UTC)
    assert (done.request_counts.processing, done.request_counts.succeeded) == (0, 4)


def test_results_before_the_batch_has_ended_are_refused_by_the_sdk(make_simulator: MakeSim) -> None:
    _, api, batch_id = submitted_at_start(make_simulator, 1, delay_s=100.0)
    with pytest.raises(anthropic.AnthropicError, match="results_url"):
        api.messages.batches.results(batch_id)


def test_a_failure_rate_errors_that_share_of_requests(make_simulator: MakeSim) -> None:
    api = client(make_simulator(batch_item_failure_rate=0.5))
    batch_id = submit(api, requests_for(12)).id
    counts = api.messages.batches.retrieve(batch_id).request_counts
    assert counts.errored > 0 and counts.succeeded > 0 and counts.errored + counts.succeeded == 12
    errored = [line.result for line in results(api, batch_id).values() if line.result.type == "errored"]
    assert len(errored) == counts.errored
    assert all(r.type == "errored" and r.error.error.type == "api_error" for r in errored)


def test_a_batch_slower_than_its_window_expires_the_rest(make_simulator: MakeSim) -> None:
    clock, api, batch_id = submitted_at_start(make_simulator, 4, delay_s=2 * DAY)
    clock.now += DAY
    batch = api.messages.batches.retrieve(batch_id)
    assert batch.processing_status == "ended" and batch.ended_at == batch.expires_at
    assert (batch.request_counts.succeeded, batch.request_counts.expired) == (2, 2)
    kinds = {custom_id: line.result.type for custom_id, line in results(api, batch_id).items()}
    assert kinds == {"q0": "succeeded", "q1": "succeeded", "q2": "expired", "q3": "expired"}


def test_cancelling_ends_the_batch_with_the_unanswered_requests_canceled(make_simulator: MakeSim) -> None:
    clock, api, batch_id = submitted_at_start(make_simulator, 4, delay_s=100.0)
    clock.now += 50
    canceling = api.messages.batches.cancel(batch_id)
    assert canceling.processing_status == "canceling" and canceling.cancel_initiated_at is not None
    batch = api.messages.batches.retrieve(batch_id)
    assert batch.processing_status == "ended"
    assert (batch.request_counts.succeeded, batch.request_counts.canceled) == (2, 2)
    assert results(api, batch_id)["q3"].result.type == "canceled"


def test_message_batches_list_pages_newest_first(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    ids = [submit(api, requests_for(1)).id for _ in range(3)]
    first = api.messages.batches.list(limit=2)
    assert [b.id for b in first.data] == ids[:0:-1] and first.has_more
    assert [b.id for b in api.messages.batches.list(limit=2)] == ids[::-1]


def test_a_request_the_messages_endpoint_refuses_is_errored_with_that_error(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    batch_id = submit(api, [{"custom_id": "hot", "params": params("hi", temperature=0.5)}]).id
    result = results(api, batch_id)["hot"].result
    assert result.type == "errored" and result.error.error.type == "invalid_request_error"
    assert result.error.error.message == "temperature: Extra inputs are not permitted"


def test_scripted_answer_variants_apply_to_batch_requests(make_simulator: MakeSim) -> None:
    api = client(make_simulator(faults=[Fault("refusal", provider="anthropic")]))
    batch_id = submit(api, requests_for(1)).id
    result = results(api, batch_id)["q0"].result
    assert result.type == "succeeded" and result.message.stop_reason == "refusal"


def test_a_duplicate_custom_id_is_a_400(make_simulator: MakeSim) -> None:
    with pytest.raises(anthropic.BadRequestError, match="duplicate custom_id"):
        submit(client(make_simulator()), requests_for(1) * 2)


def test_a_custom_id_outside_the_pattern_is_a_400(make_simulator: MakeSim) -> None:
    with pytest.raises(anthropic.BadRequestError, match="custom_id"):
        submit(client(make_simulator()), [{"custom_id": "has space", "params": params("hi")}])


def test_an_empty_batch_is_a_400(make_simulator: MakeSim) -> None:
    with pytest.raises(anthropic.BadRequestError, match="requests"):
        submit(client(make_simulator()), [])


def test_an_unknown_batch_id_is_a_404(make_simulator: MakeSim) -> None:
    with pytest.raises(anthropic.NotFoundError):
        client(make_simulator()).messages.batches.retrieve("msgbatch_nope")


def test_message_batch_objects_carry_only_fields_the_sdk_declares(make_simulator: MakeSim) -> None:
    sim = make_simulator()
    api = client(sim)
    batch_id = submit(api, requests_for(1)).id
    raw = api.messages.batches.with_raw_response.retrieve(batch_id).http_response.json()
    assert set(raw) == set(MessageBatch.model_fields)
    assert raw["results_url"] == f"{sim.base_url}/v1/messages/batches/{batch_id}/results"
