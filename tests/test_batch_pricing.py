"""Batch prices: `[pricing]` rates less `batch_discount` (half by default on OpenAI and Anthropic), the
catalogue's own batch rates, none on providers without a batch API; and the suite's `batch` key."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from monitor.core.config import Config, load_config
from monitor.core.errors import ConfigError, SuiteError
from monitor.core.prices import batch_resolve
from monitor.evals.loader import load_suites
from monitor.providers.pricing import estimate_run, price_for
from tests.pricing_helpers import HOSTED_PROVIDERS

CONFIG = (
    HOSTED_PROVIDERS
    + """
    [pricing."openai:gpt-sim-*"]
    input = 2.0
    output = 8.0
    cached_input = 0.5

    [pricing."claude:claude-sim-*"]
    input = 3.0
    output = 15.0
    batch_discount = 0.25

    [pricing."gemini:gemini-sim-*"]
    input = 1.0
    output = 4.0
"""
)


@pytest.fixture
def config(write_config: Callable[[str], Path]) -> Config:
    return load_config(write_config(CONFIG))


def test_a_configured_openai_price_is_halved_in_batch(config: Config) -> None:
    price = price_for(config, "openai:gpt-sim-1", batch=True)
    assert (price.input, price.output, price.cached_input) == (1.0, 4.0, 0.25)
    assert price.source == "config, batch price (50% off)"


def test_a_pricing_entry_sets_its_own_batch_discount(config: Config) -> None:
    price = price_for(config, "claude:claude-sim-1", batch=True)
    assert (price.input, price.output) == pytest.approx((2.25, 11.25))
    assert price.source == "config, batch price (25% off)"


def test_the_catalogue_batch_rates_are_used_when_it_has_them(config: Config) -> None:
    price = price_for(config, "openai:gpt-4.1", batch=True)
    assert (price.input, price.output) == (1.0, 4.0)
    assert price.source.startswith("catalogue (genai-prices") and price.source.endswith("batch price")


def test_a_provider_without_a_batch_api_has_no_batch_price(config: Config) -> None:
    assert batch_resolve(config.pricing, config.providers, "gemini:gemini-sim-1") is None
    assert price_for(config, "gemini:gemini-sim-1", batch=True) == config.price_for("gemini:gemini-sim-1")


def test_an_unknown_model_s_batch_bound_is_the_upper_bound_halved(config: Config) -> None:
    full = config.price_for("openai:gpt-99-unknown")
    batch = price_for(config, "openai:gpt-99-unknown", batch=True)
    assert full.estimated and batch.estimated
    assert (batch.input, batch.output) == (full.input / 2, full.output / 2)
    assert batch.source.startswith("estimated")


def test_a_batch_estimate_is_half_the_full_one(config: Config) -> None:
    messages = [[{"role": "user", "content": "What is 2 + 2?"}]] * 10
    params = {"max_tokens": 16}
    full = estimate_run(config, "openai:gpt-sim-1", messages, params)
    batch = estimate_run(config, "openai:gpt-sim-1", messages, params, batch=True)
    assert batch.cost_usd == pytest.approx(full.cost_usd / 2) and batch.calls == full.calls


def test_a_batch_discount_outside_zero_to_one_is_a_config_error(write_config: Callable[[str], Path]) -> None:
    with pytest.raises(ConfigError, match="batch_discount"):
        load_config(write_config(CONFIG.replace("batch_discount = 0.25", "batch_discount = 1.5")))


def test_a_suite_batch_key_that_is_not_a_boolean_is_refused_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "s.yaml").write_text(
        "name: s\nprompt: {user: hi}\ngraders: [{type: exact}]\nbatch: sometimes\nsamples: [{target: hi}]\n"
    )
    with pytest.raises(SuiteError, match="batch: expected true or false, got str 'sometimes'") as caught:
        load_suites(tmp_path, ["s"])
    assert caught.value.line == 4


def test_a_suite_batch_key_does_not_change_the_suite_version(tmp_path: Path) -> None:
    body = "name: s\nprompt: {user: hi}\ngraders: [{type: exact}]\nsamples: [{target: hi}]\n"
    (tmp_path / "s.yaml").write_text(body)
    (plain,) = load_suites(tmp_path, ["s"])
    (tmp_path / "s.yaml").write_text(body + "batch: true\n")
    (batched,) = load_suites(tmp_path, ["s"])
    assert batched.version == plain.version and batched.definition["batch"] is True
