"""The suite format for real jobs: tools, tool_choice, response_format, conversations, images, reasoning."""

from __future__ import annotations

import base64
import struct
import textwrap
import zlib
from pathlib import Path

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.loader import load_suite
from monitor.providers.base import ToolSpec

TOOLS = """\
tools:
  - name: get_order
    description: Look up an order by its id
    parameters:
      type: object
      properties: {order_id: {type: string}}
      required: [order_id]
"""


def png(rgb: tuple[int, int, int]) -> bytes:
    """A 2x2 PNG of one colour, built by hand (no imaging library needed)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * 2 for _ in range(2))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def suite(tmp_path: Path, *parts: str) -> Path:
    path = tmp_path / "agent.yaml"
    path.write_text("".join(textwrap.dedent(part) for part in parts))
    return path


def error_of(path: Path) -> SuiteError:
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    return caught.value


def test_suite_tools_reach_every_sample_as_tool_specs(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        TOOLS,
        """\
        tool_choice: auto
        prompt: {user: "{{ q }}"}
        graders: [{type: includes}]
        samples: [{id: a, vars: {q: "Where is A1234?"}, target: shipped}]
        """,
    )
    sample = load_suite(path).samples[0]
    assert sample.tools == (
        ToolSpec(
            "get_order",
            "Look up an order by its id",
            {"type": "object", "properties": {"order_id": {"type": "string"}}, "required": ["order_id"]},
        ),
    )
    assert sample.tool_choice == "auto"


def test_openai_wrapped_tool_definitions_are_accepted(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        """\
        tools:
          - type: function
            function: {name: ping, description: Ping, parameters: {type: object, properties: {}}}
        tool_choice: {type: function, function: {name: ping}}
        prompt: {user: hi}
        graders: [{type: includes}]
        samples: [{id: a, target: pong}]
        """,
    )
    sample = load_suite(path).samples[0]
    assert [t.name for t in sample.tools] == ["ping"]
    assert sample.tool_choice == "ping"


def test_a_tool_without_parameters_is_an_error_naming_the_key(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        """\
        prompt: {user: hi}
        tools:
          - {name: ping, description: Ping}
        graders: [{type: includes}]
        samples: [{id: a, target: x}]
        """,
    )
    error = error_of(path)
    assert "tools[0].parameters: required" in str(error)
    assert error.path == str(path)
    assert error.line == 2


def test_a_schema_that_is_not_a_schema_is_an_error(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        """\
        prompt: {user: hi}
        response_format: {type: json_schema, name: out, schema: {type: objekt}}
        graders: [{type: json}]
        samples: [{id: a, target: x}]
        """,
    )
    error = error_of(path)
    assert "response_format.schema: not a valid JSON Schema" in str(error)
    assert error.line == 2


def test_tool_choice_naming_an_unknown_tool_is_an_error(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        TOOLS,
        """\
        tool_choice: {name: refund}
        prompt: {user: hi}
        graders: [{type: includes}]
        samples: [{id: a, target: x}]
        """,
    )
    assert "names the tool 'refund', which is not in tools (get_order)" in str(error_of(path))


def test_json_schema_response_format_is_flattened_from_openai_nesting(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        """\
        prompt: {user: hi}
        response_format:
          type: json_schema
          json_schema:
            {name: contact, strict: true, schema: {type: object, properties: {email: {type: string}}}}
        graders: [{type: json}]
        samples: [{id: a, target: x}]
        """,
    )
    assert load_suite(path).samples[0].response_format == {
        "type": "json_schema",
        "name": "contact",
        "schema": {"type": "object", "properties": {"email": {"type": "string"}}},
        "strict": True,
    }


def test_a_conversation_with_a_tool_result_is_kept_in_openai_form(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        TOOLS,
        """\
        graders: [{type: includes}]
        samples:
          - id: a
            input:
              - {role: user, content: "Where is A1234?"}
              - role: assistant
                tool_calls: [{id: call_1, name: get_order, arguments: {order_id: A1234}}]
              - {role: tool, tool_call_id: call_1, content: {status: shipped}}
            target: shipped
        """,
    )
    messages = load_suite(path).samples[0].messages
    assert messages[1] == {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_1",
                "type": "function",
                "function": {"name": "get_order", "arguments": '{"order_id": "A1234"}'},
            }
        ],
    }
    assert messages[2] == {"role": "tool", "tool_call_id": "call_1", "content": '{"status": "shipped"}'}


def test_a_tool_turn_without_its_call_id_is_an_error(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        """\
        graders: [{type: includes}]
        samples:
          - id: a
            input: [{role: user, content: hi}, {role: tool, content: ok}]
            target: x
        """,
    )
    assert "input[1].tool_call_id: required" in str(error_of(path))


def test_scripted_tool_results_must_name_a_tool(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        TOOLS,
        """\
        prompt: {user: hi}
        graders: [{type: includes}]
        samples: [{id: a, target: x, tool_results: {get_refund: {ok: true}}}]
        """,
    )
    assert "tool_results.get_refund: is not one of the sample's tools (get_order)" in str(error_of(path))


def test_a_samples_own_tools_replace_the_suites(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        TOOLS,
        """\
        prompt: {user: hi}
        graders: [{type: includes}]
        samples:
          - id: a
            target: x
            tools: [{name: ping, description: Ping, parameters: {type: object, properties: {}}}]
            tool_results: {ping: pong}
        """,
    )
    sample = load_suite(path).samples[0]
    assert [t.name for t in sample.tools] == ["ping"]
    assert sample.tool_results == {"ping": "pong"}


def test_an_image_file_is_sent_as_a_data_url_and_its_bytes_version_the_suite(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    image = tmp_path / "images" / "red.png"
    image.write_bytes(png((255, 0, 0)))
    body = """\
        graders: [{type: includes}]
        samples:
          - id: a
            input:
              - role: user
                content: [{type: text, text: "What colour?"}, {type: image, path: images/red.png}]
            target: red
        """
    path = suite(tmp_path, body)
    first = load_suite(path)
    part = first.samples[0].messages[0]["content"][1]
    assert part == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64," + base64.b64encode(image.read_bytes()).decode()},
    }
    image.write_bytes(png((0, 0, 255)))
    assert load_suite(path).version != first.version


def test_an_image_that_does_not_exist_is_an_error_naming_the_sample_line_and_key(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        """\
        graders: [{type: includes}]
        samples:
          - id: a
            input:
              - role: user
                content: [{type: image, path: missing.png}]
            target: red
        """,
    )
    error = error_of(path)
    assert "input[0].content[0]: image 'missing.png' not found" in str(error)
    assert error.line == 3


def test_an_https_image_url_is_passed_through(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        """\
        graders: [{type: includes}]
        samples:
          - id: a
            input: [{role: user, content: [{type: image, url: "https://example.com/cat.png"}]}]
            target: cat
        """,
    )
    content = load_suite(path).samples[0].messages[0]["content"]
    assert content == [{"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]


def test_thinking_budget_below_anthropics_minimum_is_an_error(tmp_path: Path) -> None:
    path = suite(
        tmp_path,
        """\
        prompt: {user: hi}
        params: {thinking_budget: 100, reasoning_effort: low}
        graders: [{type: includes}]
        samples: [{id: a, target: x}]
        """,
    )
    assert "params.thinking_budget: expected an integer of at least 1024" in str(error_of(path))


def test_adding_tools_changes_the_version_but_plain_suites_keep_theirs(tmp_path: Path) -> None:
    plain = """\
        prompt: {user: hi}
        graders: [{type: includes}]
        samples: [{id: a, target: x}]
        """
    # The version this plain suite had before tools existed: upgrading must not re-run anyone's suites.
    assert load_suite(suite(tmp_path, plain)).version == "80e9859dc06394f6"
    assert load_suite(suite(tmp_path, TOOLS, plain)).version != "80e9859dc06394f6"


@pytest.mark.parametrize(
    ("sample", "message"),
    [
        (
            '{"id": "a", "target": "x", "tools": [{"name": "ping", "description": "Ping"}]}',
            "tools[0].parameters: required",
        ),
        (
            '{"id": "a", "target": "x", "response_format": {"type": "json_schema", "schema": {"type": 5}}}',
            "response_format.schema: not a valid JSON Schema",
        ),
        (
            '{"id": "a", "target": "x", "input": [{"role": "user", "content": '
            '[{"type": "image", "path": "no.png"}]}]}',
            "image 'no.png' not found",
        ),
    ],
)
def test_check_exits_2_naming_the_file_line_and_key(tmp_path: Path, sample: str, message: str) -> None:
    from click.testing import CliRunner

    from monitor.cli import main

    assert CliRunner().invoke(main, ["init", str(tmp_path / "ws")]).exit_code == 0
    suites = tmp_path / "ws" / "evals"
    (suites / "bad.yaml").write_text(
        "prompt: {user: hi}\ngraders: [{type: includes}]\nsamples_files: [bad.jsonl]\n"
    )
    (suites / "bad.jsonl").write_text(sample + "\n")
    result = CliRunner().invoke(main, ["--config", str(tmp_path / "ws" / "monitor.toml"), "check"])
    assert result.exit_code == 2
    assert f"{suites / 'bad.jsonl'}:1" in result.output.replace("\n", "")
    assert message in result.output.replace("\n", "")
