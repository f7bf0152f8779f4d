"""[[notify]], [metrics], [retirements] and the other keys of this wave: what loads and what is refused."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from monitor.core.config import parse_config
from monitor.core.errors import ConfigError

PROVIDER = '[providers.sim]\ntype = "openai-compatible"\nbase_url = "http://127.0.0.1:9/v1"\n'


def load(body: str) -> object:
    return parse_config(PROVIDER + body, Path("monitor.toml"))


def refused(body: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(body)
    return str(info.value)


def test_notify_targets_are_named_by_position_unless_named():
    config = load('[[notify]]\nurl_env = "A"\n[[notify]]\nname = "ops"\nurl_env = "B"\n')
    assert [name for name, _ in config.notify_targets()] == ["notify-1", "ops"]


def test_a_notify_target_listens_to_every_kind_by_default():
    ((_, target),) = load('[[notify]]\nurl_env = "A"\n').notify_targets()
    assert target.on == ["new_model", "regression", "drift", "retirement", "skipped"]


def test_a_url_in_url_env_is_refused_so_it_never_sits_in_the_file():
    message = refused('[[notify]]\nurl_env = "json://example.com/hook"\n')
    assert "name of an environment variable" in message
    assert "example.com" not in message.split("got")[0]


def test_a_retirement_is_a_bare_date_or_a_table_with_replacements():
    config = load(
        '[retirements]\n"sim:old" = 2027-01-31\n'
        '[retirements."sim:older"]\ndate = 2027-02-01\nreplacements = ["sim:new"]\n'
    )
    assert config.retirements["sim:old"].date == dt.date(2027, 1, 31)
    assert config.retirements["sim:older"].replacements == ["sim:new"]


def test_metrics_listen_on_loopback_unless_told_otherwise():
    config = load("[metrics]\nport = 9464\n")
    assert (config.metrics.host, config.metrics.port) == ("127.0.0.1", 9464)


@pytest.mark.parametrize(
    ("body", "named"),
    [
        pytest.param(
            '[[notify]]\ntype = "webhook"\nurl_env = "A"\n',
            "secret_env",
            id="a_webhook_without_a_signing_key_is_refused",
        ),
        pytest.param(
            '[[notify]]\nurl_env = "A"\nsecret_env = "K"\n',
            "secret_env",
            id="an_apprise_target_with_a_signing_key_is_refused",
        ),
        pytest.param(
            '[[notify]]\nurl_env = "A"\non = ["regresion"]\n',
            "regresion",
            id="an_unknown_notify_kind_is_refused",
        ),
        pytest.param(
            '[[notify]]\nname = "x"\nurl_env = "A"\n[[notify]]\nname = "x"\nurl_env = "B"\n',
            "used twice",
            id="two_targets_with_one_name_are_refused",
        ),
        pytest.param(
            '[retirements]\n"sim:old" = "2027-01-31"\n',
            "retirements",
            id="a_retirement_date_in_quotes_is_refused",
        ),
        pytest.param(
            '[retirements]\n"nope:old" = 2027-01-31\n',
            "'nope'",
            id="a_retirement_of_an_unknown_provider_is_refused",
        ),
        pytest.param(
            '[retirements."sim:old"]\ndate = 2027-01-31\nreplacements = ["nope:new"]\n',
            "replacements",
            id="a_replacement_of_an_unknown_provider_is_refused",
        ),
        pytest.param(
            "[metrics]\nport = 70000\n", "metrics.port", id="a_metrics_port_out_of_range_is_refused"
        ),
        pytest.param(
            '[reports]\nbase_url = "reports.example.com"\n',
            "reports.base_url",
            id="a_reports_base_url_must_be_http",
        ),
    ],
)
def test_a_bad_key_is_refused_with_a_message_naming_what_is_wrong(body: str, named: str) -> None:
    assert named in refused(body)


def test_an_error_in_the_second_notify_target_names_that_target():
    message = refused('[[notify]]\nurl_env = "A"\n[[notify]]\nurl_env = "B"\non = ["regresion"]\n')
    assert "[notify[2].on]" in message


def test_an_unknown_key_in_a_notify_target_names_that_target():
    assert "unknown key 'urll' in [notify[1]]" in refused('[[notify]]\nurl_env = "A"\nurll = 1\n')
