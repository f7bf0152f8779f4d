"""Prompt variants in the suite file: each is its own suite version `base[variant]`, loaded on request."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.core.errors import SuiteError
from monitor.evals.loader import load_suite, load_suites

SUITE = """\
name: qa
prompt: {user: "{{ q }}"}
params: {temperature: 0, max_tokens: 50}
variants:
  few-shot:
    prompt:
      messages:
        - {role: user, content: "2+2?"}
        - {role: assistant, content: "4"}
        - {role: user, content: "{{ q }}"}
  cot:
    prompt: {user: "Think step by step. {{ q }}"}
    params: {max_tokens: 400}
graders: [{type: includes}]
samples: [{id: a, vars: {q: "3+3?"}, target: "6"}]
"""


@pytest.fixture
def suites(tmp_path: Path) -> Path:
    (tmp_path / "qa.yaml").write_text(SUITE)
    (tmp_path / "plain.yaml").write_text(
        "prompt: {user: hi}\ngraders: [{type: includes}]\nsamples: [{id: a, target: x}]\n"
    )
    return tmp_path


def test_the_default_is_the_suites_own_prompt_with_its_plain_name(suites: Path) -> None:
    spec = load_suite(suites / "qa.yaml")
    assert (spec.name, spec.variant, spec.variant_names) == ("qa", None, ("few-shot", "cot"))
    assert spec.samples[0].messages == [{"role": "user", "content": "3+3?"}]


def test_a_variant_replaces_the_prompt_and_merges_its_params(suites: Path) -> None:
    spec = load_suite(suites / "qa.yaml", variant="cot")
    assert (spec.name, spec.base_name, spec.variant) == ("qa[cot]", "qa", "cot")
    assert spec.params == {"temperature": 0, "max_tokens": 400}
    assert spec.samples[0].messages == [{"role": "user", "content": "Think step by step. 3+3?"}]


def test_each_variant_has_its_own_version(suites: Path) -> None:
    versions = {s.name: s.version for s in load_suites(suites, ["qa"], variant="all")}
    assert list(versions) == ["qa", "qa[few-shot]", "qa[cot]"]
    assert len(set(versions.values())) == 3


def test_declaring_variants_does_not_change_the_default_version(suites: Path, tmp_path: Path) -> None:
    without = SUITE.split("variants:")[0] + "graders:" + SUITE.split("graders:")[1]
    other = tmp_path / "other"
    other.mkdir()
    (other / "qa.yaml").write_text(without)
    assert load_suite(other / "qa.yaml").version == load_suite(suites / "qa.yaml").version


def test_a_named_variant_loads_from_every_suite_that_declares_it(suites: Path) -> None:
    assert [s.name for s in load_suites(suites, variant="cot")] == ["qa[cot]"]


def test_a_variant_no_suite_declares_is_an_error(suites: Path) -> None:
    with pytest.raises(SuiteError, match="no suite declares the variant 'tot'"):
        load_suites(suites, variant="tot")


def test_a_stored_variant_name_loads_that_variant(suites: Path) -> None:
    [spec] = load_suites(suites, ["qa[few-shot]"])
    assert spec.variant == "few-shot"
    assert len(spec.samples[0].messages) == 3


def test_an_unknown_variant_of_a_named_suite_is_an_error_listing_the_variants(suites: Path) -> None:
    with pytest.raises(SuiteError, match=r"suite 'qa' has no variant 'tot' \(its variants: few-shot, cot\)"):
        load_suites(suites, ["qa[tot]"])


def test_a_variant_with_an_unknown_key_is_an_error_at_its_line(suites: Path) -> None:
    path = suites / "qa.yaml"
    path.write_text(SUITE.replace("    params: {max_tokens: 400}", "    parms: {max_tokens: 400}"))
    with pytest.raises(SuiteError) as caught:
        load_suite(path)
    assert "unknown key 'variants.cot.parms'" in str(caught.value)
    assert caught.value.line == 13


def test_default_is_not_a_variant_name(suites: Path) -> None:
    path = suites / "qa.yaml"
    path.write_text(SUITE.replace("  cot:", "  default:"))
    with pytest.raises(SuiteError, match="'default' is not a variant name"):
        load_suite(path)


def test_a_variant_whose_prompt_uses_an_unknown_variable_fails_when_loaded(suites: Path) -> None:
    path = suites / "qa.yaml"
    path.write_text(SUITE.replace("Think step by step. {{ q }}", "{{ question }}"))
    load_suite(path)
    with pytest.raises(SuiteError, match="uses the variable 'question'"):
        load_suite(path, variant="cot")


def test_the_default_variant_by_name_is_the_suites_own_prompt(suites: Path) -> None:
    [spec] = load_suites(suites, ["qa[default]"])
    assert (spec.name, spec.variant) == ("qa", None)
