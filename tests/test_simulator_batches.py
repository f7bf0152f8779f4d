"""The simulator's OpenAI Batch API, driven by the real openai SDK: files, lifecycle, results, bad input."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import openai
import pytest
from openai.types import Batch, FileObject
from openai.types.chat import ChatCompletion
from openai.types.responses import Response
from openai.types.shared import ErrorObject

from monitor.simulator import Fault, Simulator
from monitor.simulator.serve import build_simulator
from tests.fake_clock import FakeClock

START = 1_800_000_000.0
DAY = 86400.0
QUESTIONS = ["What is 17 * 3?", "Maria has 12 apples and buys 7 more. How many apples does she have?"]
MakeSim = Callable[..., Simulator]


def client(sim: Simulator) -> openai.OpenAI:
    return openai.OpenAI(api_key="sim-key", base_url=sim.base_url + "/v1", max_retries=0, timeout=30)


def chat_line(custom_id: str, question: str, model: str = "gpt-sim-base") -> dict[str, Any]:
    body = {"model": model, "messages": [{"role": "user", "content": question}], "max_tokens": 200}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def upload(api: openai.OpenAI, lines: list[dict[str, Any]] | list[str]) -> str:
    text = "".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines)
    return api.files.create(file=("input.jsonl", text.encode()), purpose="batch").id


Endpoint = Literal["/v1/chat/completions", "/v1/responses"]


def submit(
    api: openai.OpenAI, lines: list[dict[str, Any]] | list[str], endpoint: Endpoint = "/v1/chat/completions"
) -> Batch:
    return api.batches.create(input_file_id=upload(api, lines), endpoint=endpoint, completion_window="24h")


def lines_of(api: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    return [json.loads(line) for line in api.files.content(file_id).text.splitlines()]


def questions_batch(count: int) -> list[dict[str, Any]]:
    return [chat_line(f"q{i}", f"What is {i + 2} * 3?") for i in range(count)]


def test_a_batch_answers_each_request_as_the_synchronous_call_does(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    created = submit(api, [chat_line(f"q{i}", q) for i, q in enumerate(QUESTIONS)], "/v1/chat/completions")
    assert created.status == "validating" and created.completion_window == "24h"
    batch = api.batches.retrieve(created.id)
    assert batch.status == "completed" and batch.error_file_id is None
    assert batch.request_counts is not None and (
        batch.request_counts.total,
        batch.request_counts.completed,
    ) == (2, 2)
    results = {line["custom_id"]: line for line in lines_of(api, batch.output_file_id)}
    for i, question in enumerate(QUESTIONS):
        line = results[f"q{i}"]
        response = line["response"]
        assert isinstance(response, dict) and response["status_code"] == 200 and line["error"] is None
        answered = ChatCompletion.model_validate(response["body"])
        sync = api.chat.completions.create(
            model="gpt-sim-base", messages=[{"role": "user", "content": question}], max_tokens=200
        )
        assert answered.choices[0].message.content == sync.choices[0].message.content
        assert answered.usage == sync.usage


def test_batch_usage_sums_the_answered_items_tokens(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    batch = api.batches.retrieve(submit(api, questions_batch(3)).id)
    bodies = [
        ChatCompletion.model_validate(line["response"]["body"])
        for line in lines_of(api, batch.output_file_id)
    ]
    assert batch.usage is not None
    assert batch.usage.input_tokens == sum(b.usage.prompt_tokens for b in bodies if b.usage)
    assert batch.usage.output_tokens == sum(b.usage.completion_tokens for b in bodies if b.usage)


def test_a_responses_batch_answers_with_response_objects(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    line = {
        "custom_id": "r1",
        "method": "POST",
        "url": "/v1/responses",
        "body": {"model": "gpt-sim-base", "input": "What is 17 * 3?"},
    }
    batch = api.batches.retrieve(submit(api, [line], "/v1/responses").id)
    [result] = lines_of(api, batch.output_file_id)
    response = Response.model_validate(result["response"]["body"])
    assert "51" in response.output_text


def test_a_batch_is_in_progress_until_its_delay_has_passed(make_simulator: MakeSim) -> None:
    clock = FakeClock(START)
    api = client(make_simulator(clock=clock, batch_delay_s=100.0))
    batch_id = submit(api, questions_batch(4)).id
    clock.now += 50
    halfway = api.batches.retrieve(batch_id)
    assert halfway.status == "in_progress" and halfway.output_file_id is None
    assert halfway.request_counts is not None and halfway.request_counts.completed == 2
    clock.now += 50
    done = api.batches.retrieve(batch_id)
    assert done.status == "completed" and done.completed_at == int(START + 100)
    assert len(lines_of(api, done.output_file_id)) == 4


def test_a_failure_rate_sends_that_share_of_items_to_the_error_file(make_simulator: MakeSim) -> None:
    api = client(make_simulator(batch_item_failure_rate=0.5))
    batch = api.batches.retrieve(submit(api, questions_batch(12)).id)
    counts = batch.request_counts
    assert counts is not None and counts.failed > 0 and counts.completed > 0
    assert counts.completed + counts.failed == 12
    errors = lines_of(api, batch.error_file_id)
    assert len(errors) == counts.failed and len(lines_of(api, batch.output_file_id)) == counts.completed
    for line in errors:
        response = line["response"]
        assert isinstance(response, dict) and response["status_code"] == 500
        assert ErrorObject.model_validate(response["body"]["error"]).type == "server_error"


def test_a_batch_slower_than_its_window_expires_with_the_rest_unanswered(make_simulator: MakeSim) -> None:
    clock = FakeClock(START)
    api = client(make_simulator(clock=clock, batch_delay_s=2 * DAY))
    batch_id = submit(api, questions_batch(4)).id
    clock.now += DAY
    batch = api.batches.retrieve(batch_id)
    assert batch.status == "expired" and batch.expired_at == int(START + DAY)
    assert batch.request_counts is not None and (
        batch.request_counts.completed,
        batch.request_counts.failed,
    ) == (2, 2)
    assert [line["custom_id"] for line in lines_of(api, batch.output_file_id)] == ["q0", "q1"]
    expired = lines_of(api, batch.error_file_id)
    assert [line["custom_id"] for line in expired] == ["q2", "q3"]
    assert all(line["response"] is None and line["error"]["code"] == "batch_expired" for line in expired)


def test_a_shorter_batch_window_expires_a_batch_sooner(
    make_simulator: MakeSim,
) -> None:
    clock = FakeClock(START)
    api = client(make_simulator(clock=clock, batch_delay_s=10.0, batch_window_s=5.0))
    batch_id = submit(api, questions_batch(2)).id
    clock.now += 5
    assert api.batches.retrieve(batch_id).status == "expired"


def test_cancelling_keeps_the_answered_items_and_cancels_the_rest(make_simulator: MakeSim) -> None:
    clock = FakeClock(START)
    api = client(make_simulator(clock=clock, batch_delay_s=100.0))
    batch_id = submit(api, questions_batch(4)).id
    clock.now += 25
    assert api.batches.cancel(batch_id).status == "cancelling"
    clock.now += 100
    batch = api.batches.retrieve(batch_id)
    assert batch.status == "cancelled" and batch.cancelled_at == int(START + 25)
    assert [line["custom_id"] for line in lines_of(api, batch.output_file_id)] == ["q0"]
    cancelled = lines_of(api, batch.error_file_id)
    assert {line["error"]["code"] for line in cancelled} == {"batch_cancelled"}


def test_cancelling_a_completed_batch_is_a_409(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    batch_id = submit(api, questions_batch(1)).id
    api.batches.retrieve(batch_id)
    with pytest.raises(openai.ConflictError):
        api.batches.cancel(batch_id)


def test_batches_list_pages_newest_first_with_after(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    ids = [submit(api, questions_batch(1)).id for _ in range(3)]
    first = api.batches.list(limit=2)
    assert [b.id for b in first.data] == ids[:0:-1] and first.has_more
    assert [b.id for b in api.batches.list(limit=2)] == ids[::-1]


def test_a_new_client_resumes_a_batch_by_id(make_simulator: MakeSim) -> None:
    sim = make_simulator()
    batch_id = submit(client(sim), questions_batch(2)).id
    resumed = client(sim).batches.retrieve(batch_id)
    assert resumed.status == "completed" and len(lines_of(client(sim), resumed.output_file_id)) == 2


def test_an_item_the_synchronous_call_refuses_gets_that_error_in_the_error_file(
    make_simulator: MakeSim,
) -> None:
    api = client(make_simulator())
    batch = api.batches.retrieve(submit(api, [chat_line("bad", "hi", model="gpt-nope")]).id)
    assert batch.status == "completed" and batch.output_file_id is None
    [line] = lines_of(api, batch.error_file_id)
    assert line["response"]["status_code"] == 404
    assert ErrorObject.model_validate(line["response"]["body"]["error"]).code == "model_not_found"


def test_scripted_answer_variants_apply_to_batch_items(make_simulator: MakeSim) -> None:
    api = client(make_simulator(faults=[Fault("refusal", model="gpt-sim-base")]))
    batch = api.batches.retrieve(submit(api, questions_batch(1)).id)
    [line] = lines_of(api, batch.output_file_id)
    message = ChatCompletion.model_validate(line["response"]["body"]).choices[0].message
    assert message.content is None and message.refusal


def test_a_batch_endpoint_fault_fails_a_status_read(make_simulator: MakeSim) -> None:
    api = client(make_simulator(faults=[Fault("server_error", endpoint="batch", count=1)]))
    with pytest.raises(openai.InternalServerError):
        api.batches.list()
    assert api.batches.list().data == []


def test_an_unknown_input_file_is_a_404(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    with pytest.raises(openai.NotFoundError) as info:
        api.batches.create(
            input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h"
        )
    assert "file-nope" in info.value.message and info.value.param == "input_file_id"


def test_an_unsupported_endpoint_is_a_400_invalid_value(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    file_id = upload(api, questions_batch(1))
    with pytest.raises(openai.BadRequestError) as info:
        api.batches.create(input_file_id=file_id, endpoint="/v1/embeddings", completion_window="24h")
    assert info.value.code == "invalid_value" and info.value.param == "endpoint"


def test_an_unknown_batch_id_is_a_404(make_simulator: MakeSim) -> None:
    with pytest.raises(openai.NotFoundError):
        client(make_simulator()).batches.retrieve("batch_nope")


def test_a_malformed_line_fails_the_batch_naming_the_line(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    created = submit(api, [json.dumps(chat_line("q0", "hi")), '{"custom_id": "q1", '])
    batch = api.batches.retrieve(created.id)
    assert batch.status == "failed" and batch.errors is not None and batch.errors.data
    [error] = batch.errors.data
    assert (error.code, error.line) == ("invalid_json_line", 2)


def test_a_line_for_another_endpoint_fails_the_batch_with_url_mismatch(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    line = {**chat_line("q0", "hi"), "url": "/v1/responses"}
    batch = api.batches.retrieve(submit(api, [line]).id)
    assert batch.status == "failed" and batch.errors is not None and batch.errors.data
    assert batch.errors.data[0].code == "url_mismatch"


def test_two_models_in_one_file_fail_the_batch_with_model_mismatch(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    lines = [chat_line("q0", "hi"), chat_line("q1", "hi", model="gpt-sim-mini")]
    batch = api.batches.retrieve(submit(api, lines).id)
    assert batch.errors is not None and batch.errors.data
    assert (batch.errors.data[0].code, batch.errors.data[0].line) == ("model_mismatch", 2)


def test_a_duplicate_custom_id_fails_the_batch(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    batch = api.batches.retrieve(submit(api, [chat_line("q0", "hi"), chat_line("q0", "ho")]).id)
    assert batch.errors is not None and batch.errors.data
    assert batch.errors.data[0].code == "duplicate_custom_id"


def test_an_uploaded_file_can_be_read_back(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    file_id = upload(api, questions_batch(2))
    stored = api.files.retrieve(file_id)
    content = api.files.content(file_id).content
    assert stored.purpose == "batch" and stored.filename == "input.jsonl" and stored.bytes == len(content)
    assert [json.loads(line)["custom_id"] for line in content.splitlines()] == ["q0", "q1"]


def test_batch_and_file_objects_carry_only_fields_the_sdk_declares(make_simulator: MakeSim) -> None:
    api = client(make_simulator())
    batch_id = submit(api, questions_batch(1)).id
    batch = api.batches.with_raw_response.retrieve(batch_id).http_response.json()
    stored = api.files.with_raw_response.retrieve(batch["output_file_id"]).http_response.json()
    assert set(batch) <= set(Batch.model_fields) and set(stored) <= set(FileObject.model_fields)
    assert Batch.model_validate(batch).status == "completed"
    assert FileObject.model_validate(stored).purpose == "batch_output"


def test_script_keys_set_the_batch_options(tmp_path: Path) -> None:
    script = tmp_path / "sim.yaml"
    script.write_text("batch_delay_s: 30\nbatch_item_failure_rate: 0.25\nbatch_window_s: 600\n")
    sim = build_simulator(host="127.0.0.1", port=0, script=str(script), rpm=None, latency_scale=None)
    options = sim.state.batches.options
    assert (options.delay_s, options.item_failure_rate, options.window_s) == (30, 0.25, 600)
