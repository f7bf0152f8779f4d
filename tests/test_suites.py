"""Loading suites: the YAML format, the three JSONL shapes, templates, errors with file:line, versions."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.loader import load_suite, load_suites

ARITHMETIC = """\
name: arithmetic
description: Word problems; the answer is one number.
prompt:
  system: "Solve the problem. Reply with the final number only."
  user: "{{ question }}"
params: {temperature: 0, max_tokens: 64, seed: 7}
graders:
  - {type: numeric, tolerance: 0.001}
samples_files: [arithmetic.jsonl]
samples:
  - {id: add-1, vars: {question: "What is 12 + 7?"}, target: 19, group: adds}
"""


def write(directory: Path, name: str, text: str) -> Path:
    path = directory / name
    path.write_text(textwrap.dedent(text))
    return path


def write_jsonl(directory: Path, name: str, rows: list[Any]) -> Path:
    path = directory / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


@pytest.fixture
def arithmetic(tmp_path: Path) -> Path:
    write_jsonl(
        tmp_path,
        "arithmetic.jsonl",
        [
            {"id": "sub-1", "vars": {"question": "What is 10 - 4?"}, "target": 6},
            {"vars": {"question": "What is 3 * 5?"}, "target": "15"},
        ],
    )
    return write(tmp_path, "arithmetic.yaml", ARITHMETIC)


def test_a_suite_with_inline_and_jsonl_samples_loads_in_order(arithmetic: Path) -> None:
    suite = load_suite(arithmetic)
    assert suite.name == "arithmetic"
    assert suite.params == {"temperature": 0, "max_tokens": 64, "seed": 7}
    assert [s.key for s in suite.samples][:2] == ["add-1", "sub-1"]
    first = suite.samples[0]
    assert first.messages == [
        {"role": "system", "content": "Solve the problem. Reply with the final number only."},
        {"role": "user", "content": "What is 12 + 7?"},
    ]
    assert (first.target, first.group, first.source) == (19, "adds", f"{arithmetic}:11")
    assert suite.samples[2].source == f"{arithmetic.parent / 'arithmetic.jsonl'}:2"
    assert len(suite.version) == 16
    assert not suite.needs_judge


def test_the_name_defaults_to_the_file_stem(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "capitals.yaml",
        'prompt: {user: "{{ q }}"}\ngraders: [{type: exact}]\nsamples: [{vars: {q: x}, target: y}]\n',
    )
    assert load_suite(path).name == "capitals"


def test_a_name_outside_the_allowed_characters_is_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        'name: My Suite\nprompt: {user: "x"}\ngraders: [{type: exact}]\nsamples: [{target: y}]\n',
    )
    with pytest.raises(SuiteError, match=r"s\.yaml:1: name: expected lower-case letters"):
        load_suite(path)


def test_a_sample_without_id_is_keyed_by_its_content_not_its_line(arithmetic: Path) -> None:
    before = load_suite(arithmetic).samples[2].key
    jsonl = arithmetic.parent / "arithmetic.jsonl"
    jsonl.write_text('{"id": "new", "vars": {"question": "1+1"}, "target": 2}\n' + jsonl.read_text())
    after = load_suite(arithmetic)
    assert after.samples[3].key == before
    assert after.samples[3].source.endswith("arithmetic.jsonl:3")


def test_openai_evals_lines_are_read_unchanged(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path,
        "oa.jsonl",
        [
            {
                "input": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "2+2?"}],
                "ideal": "4",
            },
            {
                "input": [{"role": "user", "content": "Name a primary colour"}],
                "ideal": ["red", "blue", "yellow"],
            },
        ],
    )
    suite = load_suite(write(tmp_path, "oa.yaml", "graders: [{type: contains}]\nsamples_files: oa.jsonl\n"))
    assert suite.samples[0].messages == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "2+2?"},
    ]
    assert suite.samples[0].target == "4"
    assert suite.samples[1].target == ["red", "blue", "yellow"]


def test_openai_evals_messages_ignore_the_suite_prompt(tmp_path: Path) -> None:
    write_jsonl(tmp_path, "oa.jsonl", [{"input": [{"role": "user", "content": "hi"}], "ideal": "hello"}])
    text = 'prompt: {system: "SYSTEM", user: "{{ nothing }}"}\ngraders: [{type: exact}]\n'
    text += "samples_files: oa.jsonl\n"
    suite = load_suite(write(tmp_path, "oa.yaml", text))
    assert suite.samples[0].messages == [{"role": "user", "content": "hi"}]


def test_inspect_string_input_goes_through_the_prompt_as_input(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path,
        "mc.jsonl",
        [
            {
                "id": 7,
                "input": "Capital of France?",
                "target": "B",
                "choices": ["London", "Paris"],
                "metadata": {"src": "x"},
            }
        ],
    )
    text = """\
        prompt:
          user: |-
            {{ input }}
            {% for c in choices %}{{ letters[loop.index0] }}) {{ c }}
            {% endfor %}
        graders: [{type: choice}]
        samples_files: mc.jsonl
    """
    suite = load_suite(write(tmp_path, "mc.yaml", text))
    sample = suite.samples[0]
    assert sample.key == "7"
    assert sample.messages == [{"role": "user", "content": "Capital of France?\nA) London\nB) Paris\n"}]
    assert sample.choices == ["London", "Paris"]
    assert sample.vars == {"input": "Capital of France?", "metadata": {"src": "x"}}


def test_inspect_string_input_without_a_prompt_is_the_user_message(tmp_path: Path) -> None:
    write_jsonl(tmp_path, "i.jsonl", [{"input": "Say hi", "target": ["hi", "hello"]}])
    suite = load_suite(write(tmp_path, "i.yaml", "graders: [{type: contains}]\nsamples_files: i.jsonl\n"))
    assert suite.samples[0].messages == [{"role": "user", "content": "Say hi"}]


def test_inspect_message_list_input_is_used_as_is(tmp_path: Path) -> None:
    parts = [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]
    write_jsonl(tmp_path, "i.jsonl", [{"input": [{"role": "user", "content": parts}], "target": "hi"}])
    suite = load_suite(write(tmp_path, "i.yaml", "graders: [{type: contains}]\nsamples_files: i.jsonl\n"))
    assert suite.samples[0].messages == [{"role": "user", "content": "Hello there"}]


def test_a_missing_template_variable_names_the_suite_the_sample_and_the_variable(tmp_path: Path) -> None:
    write_jsonl(
        tmp_path,
        "s.jsonl",
        [{"id": "ok", "vars": {"question": "a"}}, {"id": "bad", "vars": {"questoin": "b"}}],
    )
    path = write(
        tmp_path,
        "s.yaml",
        'prompt: {user: "{{ question }}"}\ngraders: [{type: regex, pattern: x}]\nsamples_files: s.jsonl\n',
    )
    with pytest.raises(SuiteError) as info:
        load_suite(path)
    message = str(info.value)
    assert message.startswith(f"{path}: sample 'bad' ({tmp_path / 's.jsonl'}:2)")
    assert "the variable 'question'" in message
    assert "its vars: questoin" in message
    assert info.value.exit_code == 2


def test_template_context_has_target_choices_and_letters(tmp_path: Path) -> None:
    text = """\
        prompt: {user: "{{ q }} [{{ target }}] {{ letters | join(',') }} {{ choices | length }}"}
        graders: [{type: choice}]
        samples: [{vars: {q: Pick}, target: A, choices: [x, y, z]}]
    """
    suite = load_suite(write(tmp_path, "t.yaml", text))
    assert suite.samples[0].messages[0]["content"] == "Pick [A] A,B,C 3"


def test_prompts_are_not_html_escaped(tmp_path: Path) -> None:
    text = 'prompt: {user: "{{ q }}"}\ngraders: [{type: exact}]\n'
    text += 'samples: [{vars: {q: "a < b & \\"c\\""}, target: x}]\n'
    suite = load_suite(write(tmp_path, "t.yaml", text))
    assert suite.samples[0].messages[0]["content"] == 'a < b & "c"'


def test_templates_run_sandboxed(tmp_path: Path) -> None:
    text = 'prompt: {user: "{{ q.__class__.__mro__ }}"}\ngraders: [{type: exact}]\n'
    text += "samples: [{id: evil, vars: {q: x}, target: x}]\n"
    with pytest.raises(SuiteError, match="sample 'evil'"):
        load_suite(write(tmp_path, "t.yaml", text))


def test_messages_prompt_renders_each_turn(tmp_path: Path) -> None:
    text = """\
        prompt:
          messages:
            - {role: system, content: "Classify."}
            - {role: user, content: "great product"}
            - {role: assistant, content: positive}
            - {role: user, content: "{{ review }}"}
        graders: [{type: exact}]
        samples: [{vars: {review: awful}, target: negative}]
    """
    suite = load_suite(write(tmp_path, "m.yaml", text))
    assert [m["role"] for m in suite.samples[0].messages] == ["system", "user", "assistant", "user"]
    assert suite.samples[0].messages[-1]["content"] == "awful"


def test_malformed_yaml_reports_the_line(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "name: x\ngraders:\n  - {type: exact\nsamples: []\n")
    with pytest.raises(SuiteError, match=rf"{path}:4: invalid YAML"):
        load_suite(path)


def test_an_unquoted_template_gets_a_quoting_hint(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.yaml", "prompt:\n  user: {{ question }}\ngraders: [{type: exact}]\n")
    with pytest.raises(SuiteError, match="quote Jinja templates"):
        load_suite(path)


def test_a_bad_jsonl_line_reports_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "s.jsonl").write_text('{"vars": {"q": 1}, "target": 1}\n\n{"vars": {"q": 2}, "target": 2,}\n')
    path = write(
        tmp_path, "s.yaml", 'prompt: {user: "{{ q }}"}\ngraders: [{type: numeric}]\nsamples_files: s.jsonl\n'
    )
    with pytest.raises(SuiteError, match=rf"{tmp_path / 's.jsonl'}:3: invalid JSON: .*one JSON object"):
        load_suite(path)


def test_a_jsonl_line_that_is_not_an_object_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "s.jsonl").write_text('["q", 1]\n')
    path = write(
        tmp_path, "s.yaml", 'prompt: {user: "x"}\ngraders: [{type: numeric}]\nsamples_files: s.jsonl\n'
    )
    with pytest.raises(SuiteError, match=r"s\.jsonl:1: expected a JSON object \(a sample\), got a list"):
        load_suite(path)


def test_a_field_of_the_wrong_type_says_what_is_expected(tmp_path: Path) -> None:
    write_jsonl(tmp_path, "s.jsonl", [{"vars": {"q": 1}, "target": "A", "choices": "A,B"}])
    path = write(
        tmp_path, "s.yaml", 'prompt: {user: "x"}\ngraders: [{type: exact}]\nsamples_files: s.jsonl\n'
    )
    with pytest.raises(
        SuiteError, match=r"s\.jsonl:1: choices: expected a non-empty list of strings, got str"
    ):
        load_suite(path)


def test_wrong_param_type_names_the_key_and_line(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        'prompt: {user: "x"}\nparams:\n  temperature: hot\n'
        "graders: [{type: exact}]\nsamples: [{target: y}]\n",
    )
    with pytest.raises(
        SuiteError, match=r"s\.yaml:3: params\.temperature: expected a number from 0 to 2, got str 'hot'"
    ):
        load_suite(path)


def test_unknown_suite_key_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", 'prompt: {user: "x"}\ngraders: [{type: exact}]\nsample_files: s.jsonl\n')
    with pytest.raises(
        SuiteError, match=r"s\.yaml:3: unknown key 'sample_files'; did you mean 'samples_files'\?"
    ):
        load_suite(path)


def test_unknown_param_suggests_the_right_one(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.yaml", 'prompt: {user: "x"}\nparams: {max_token: 5}\ngraders: [{type: exact}]\n'
    )
    with pytest.raises(SuiteError, match=r"unknown key 'params\.max_token'; did you mean 'max_tokens'"):
        load_suite(path)


def test_unknown_sample_key_suggests_the_right_one(tmp_path: Path) -> None:
    write_jsonl(tmp_path, "s.jsonl", [{"var": {"q": 1}, "target": 1}])
    path = write(
        tmp_path, "s.yaml", 'prompt: {user: "x"}\ngraders: [{type: exact}]\nsamples_files: s.jsonl\n'
    )
    with pytest.raises(SuiteError, match=r"s\.jsonl:1: unknown key 'var' in a sample; did you mean 'vars'"):
        load_suite(path)


def test_duplicate_sample_ids_are_rejected_with_both_places(tmp_path: Path) -> None:
    write_jsonl(tmp_path, "s.jsonl", [{"id": "a", "target": 1}, {"id": "a", "target": 2}])
    path = write(
        tmp_path, "s.yaml", 'prompt: {user: "x"}\ngraders: [{type: exact}]\nsamples_files: s.jsonl\n'
    )
    with pytest.raises(SuiteError, match=r"s\.jsonl:2: duplicate sample key 'a' \(also at .*s\.jsonl:1\)"):
        load_suite(path)


def test_identical_samples_without_ids_are_duplicates(tmp_path: Path) -> None:
    write_jsonl(tmp_path, "s.jsonl", [{"vars": {"q": 1}, "target": 1}, {"vars": {"q": 1}, "target": 1}])
    path = write(
        tmp_path, "s.yaml", 'prompt: {user: "{{ q }}"}\ngraders: [{type: exact}]\nsamples_files: s.jsonl\n'
    )
    with pytest.raises(SuiteError, match="keyed by a hash of their content, so give them ids"):
        load_suite(path)


def test_duplicate_yaml_keys_are_rejected(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.yaml", 'prompt: {user: "x"}\ngraders: [{type: exact}]\ngraders: [{type: regex}]\n'
    )
    with pytest.raises(SuiteError, match=r"s\.yaml:3: duplicate key 'graders' \(first at line 2\)"):
        load_suite(path)


def test_a_missing_samples_file_is_named(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.yaml", 'prompt: {user: "x"}\ngraders: [{type: exact}]\nsamples_files: [nope.jsonl]\n'
    )
    with pytest.raises(SuiteError, match=r"s\.yaml:3: samples_files: 'nope\.jsonl' not found"):
        load_suite(path)


def test_a_suite_without_samples_is_rejected(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", 'prompt: {user: "x"}\ngraders: [{type: exact}]\n')
    with pytest.raises(SuiteError, match="the suite has no samples"):
        load_suite(path)


def test_a_grader_error_names_the_suite_file_and_grader_line(tmp_path: Path) -> None:
    path = write(
        tmp_path, "s.yaml", 'prompt: {user: "x"}\ngraders:\n  - type: exact\n  - type: regex\n    patern: x\n'
    )
    with pytest.raises(
        SuiteError, match=r"s\.yaml:5: graders\[1\]\.patern: unknown option; did you mean 'pattern'"
    ):
        load_suite(path)


def test_a_sample_the_graders_cannot_grade_is_rejected_at_load(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "s.yaml",
        'prompt: {user: "x"}\ngraders: [{type: numeric}]\nsamples: [{id: a, target: many}]\n',
    )
    with pytest.raises(SuiteError, match=r"sample 'a' .*numeric grader needs a numeric target, got 'many'"):
        load_suite(path)


def test_a_missing_target_for_exact_is_rejected_at_load(tmp_path: Path) -> None:
    path = write(tmp_path, "s.yaml", 'prompt: {user: "x"}\ngraders: [{type: exact}]\nsamples: [{id: a}]\n')
    with pytest.raises(SuiteError, match="the exact grader needs a target but the sample has none"):
        load_suite(path)


def test_an_llm_judge_suite_needs_a_judge_and_names_its_model(tmp_path: Path) -> None:
    text = 'prompt: {user: "x"}\njudge: {model: "sim:judge-1"}\n'
    text += "graders: [{type: llm_judge, rubric: polite}]\nsamples: [{id: a}]\n"
    suite = load_suite(write(tmp_path, "s.yaml", text))
    assert suite.needs_judge
    assert suite.judge_model == "sim:judge-1"
    assert suite.judge_models == ["sim:judge-1"]


def test_the_configured_default_judge_serves_a_suite_without_one_and_is_part_of_its_version(
    tmp_path: Path,
) -> None:
    text = 'prompt: {user: "x"}\ngraders: [{type: llm_judge, rubric: polite}]\nsamples: [{id: a}]\n'
    path = write(tmp_path, "s.yaml", text)
    one, other = load_suite(path, default_judge="sim:judge-1"), load_suite(path, default_judge="sim:judge-2")
    assert one.judge_model == "sim:judge-1"
    assert one.version != other.version


def test_the_default_judge_does_not_change_a_suite_without_llm_judge(arithmetic: Path) -> None:
    assert load_suite(arithmetic, default_judge="sim:judge-1").version == load_suite(arithmetic).version


def test_version_changes_when_content_changes(arithmetic: Path) -> None:
    before = load_suite(arithmetic).version
    arithmetic.write_text(arithmetic.read_text().replace("tolerance: 0.001", "tolerance: 0.01"))
    assert load_suite(arithmetic).version != before


def test_version_changes_when_a_target_in_the_jsonl_changes(arithmetic: Path) -> None:
    before = load_suite(arithmetic).version
    jsonl = arithmetic.parent / "arithmetic.jsonl"
    jsonl.write_text(jsonl.read_text().replace('"target": 6', '"target": 7'))
    assert load_suite(arithmetic).version != before


def test_version_changes_when_the_rendered_prompt_changes(arithmetic: Path) -> None:
    before = load_suite(arithmetic).version
    arithmetic.write_text(arithmetic.read_text().replace("final number only", "final number"))
    assert load_suite(arithmetic).version != before


def test_version_ignores_yaml_formatting_comments_and_key_order(arithmetic: Path) -> None:
    before = load_suite(arithmetic).version
    reformatted = """\
        # the same suite, written differently
        samples:
          - id: add-1
            group: adds
            target: 19
            vars:
              question: What is 12 + 7?
        graders:
          - tolerance: 0.001
            type: numeric
        params:
          seed: 7
          max_tokens: 64
          temperature: 0
        prompt:
          user: '{{ question }}'
          system: Solve the problem. Reply with the final number only.
        samples_files: arithmetic.jsonl
        description: A different description does not change the content either.
        name: arithmetic
    """
    arithmetic.write_text(textwrap.dedent(reformatted))
    assert load_suite(arithmetic).version == before


def test_load_suites_loads_every_yaml_in_the_directory(tmp_path: Path) -> None:
    for name in ("b", "a"):
        write(
            tmp_path,
            f"{name}.yaml",
            'prompt: {user: "x"}\ngraders: [{type: exact}]\nsamples: [{target: y}]\n',
        )
    write(tmp_path, "c.yml", 'prompt: {user: "x"}\ngraders: [{type: exact}]\nsamples: [{target: y}]\n')
    (tmp_path / "notes.txt").write_text("not a suite")
    assert [s.name for s in load_suites(tmp_path)] == ["a", "b", "c"]


def test_load_suites_by_name_loads_only_those(tmp_path: Path) -> None:
    write(tmp_path, "good.yaml", 'prompt: {user: "x"}\ngraders: [{type: exact}]\nsamples: [{target: y}]\n')
    write(tmp_path, "broken.yaml", "graders: [")
    assert [s.name for s in load_suites(tmp_path, ["good"])] == ["good"]


def test_load_suites_finds_a_suite_by_its_declared_name(tmp_path: Path) -> None:
    write(
        tmp_path,
        "file.yaml",
        'name: declared\nprompt: {user: "x"}\ngraders: [{type: exact}]\nsamples: [{target: y}]\n',
    )
    assert [s.name for s in load_suites(tmp_path, ["declared"])] == ["declared"]


def test_an_unknown_suite_name_lists_the_available_ones(tmp_path: Path) -> None:
    for name in ("arithmetic", "support"):
        write(
            tmp_path,
            f"{name}.yaml",
            'prompt: {user: "x"}\ngraders: [{type: exact}]\nsamples: [{target: y}]\n',
        )
    with pytest.raises(
        SuiteError,
        match=r"unknown suite 'arithmetc'; did you mean 'arithmetic'\? \(available in .*: arithmetic, supp",
    ):
        load_suites(tmp_path, ["arithmetc"])


def test_two_files_declaring_the_same_name_are_rejected(tmp_path: Path) -> None:
    for stem in ("one", "two"):
        write(
            tmp_path,
            f"{stem}.yaml",
            'name: same\nprompt: {user: "x"}\ngraders: [{type: exact}]\nsamples: [{target: y}]\n',
        )
    with pytest.raises(SuiteError, match="two suites are named 'same'"):
        load_suites(tmp_path)
