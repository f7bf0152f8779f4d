"""Cron expressions keep their crontab(5) meaning (day fields, steps, names, DST); check rejects bad ones."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from monitor.cli import main
from monitor.service.crontab import CrontabTrigger
from monitor.service.schedule import cron_trigger
from tests.factories import make_config

NEW_YORK = ZoneInfo("America/New_York")


def fire_times(trigger: CrontabTrigger, start: datetime, until: datetime) -> list[datetime]:
    """The fire times from `start` to `until`, each computed from the previous as APScheduler does."""
    times: list[datetime] = []
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < until:
        times.append(fire)
        fire = trigger.get_next_fire_time(fire, fire)
    return times


def test_day_of_month_and_day_of_week_both_set_mean_either() -> None:
    times = fire_times(
        cron_trigger("0 6 1 * 1"), datetime(2026, 1, 1, 7, tzinfo=UTC), datetime(2026, 2, 4, tzinfo=UTC)
    )

    assert [t.date() for t in times] == [
        date(2026, 1, 5),
        date(2026, 1, 12),
        date(2026, 1, 19),
        date(2026, 1, 26),
        date(2026, 2, 1),  # a Sunday: the 1st
        date(2026, 2, 2),
    ]
    assert {t.time().hour for t in times} == {6}


def test_a_step_over_minutes() -> None:
    start = datetime(2026, 1, 1, 6, 0, tzinfo=UTC)
    times = fire_times(cron_trigger("*/15 * * * *"), start, start + timedelta(hours=1))

    assert times == [start + timedelta(minutes=m) for m in (0, 15, 30, 45)]


def test_ranges_with_a_step_and_weekday_ranges() -> None:
    start = datetime(2026, 11, 27, 0, tzinfo=UTC)  # a Friday
    times = fire_times(cron_trigger("0 9-17/4 * * 1-5"), start, datetime(2026, 11, 30, 14, tzinfo=UTC))

    assert times == [datetime(2026, 11, 27, h, tzinfo=UTC) for h in (9, 13, 17)] + [
        datetime(2026, 11, 30, 9, tzinfo=UTC),
        datetime(2026, 11, 30, 13, tzinfo=UTC),
    ]


def test_month_and_day_names() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    times = fire_times(cron_trigger("0 6 * JAN,jul MON"), start, datetime(2027, 1, 1, tzinfo=UTC))

    assert {t.month for t in times} == {1, 7}
    assert {t.weekday() for t in times} == {0}
    assert len(times) == 4 + 4  # January 2026 has 4 Mondays, July 2026 has 4


def test_a_job_in_the_skipped_hour_fires_once_on_the_spring_forward_day() -> None:
    trigger = cron_trigger("30 2 * * *", NEW_YORK)  # 2026-03-08 02:00 EST jumps to 03:00 EDT
    times = fire_times(trigger, datetime(2026, 3, 7, tzinfo=NEW_YORK), datetime(2026, 3, 10, tzinfo=NEW_YORK))

    per_day = Counter(t.astimezone(NEW_YORK).date() for t in times)
    assert per_day == {date(2026, 3, 7): 1, date(2026, 3, 8): 1, date(2026, 3, 9): 1}
    assert times[1] == datetime(2026, 3, 8, 7, 0, tzinfo=UTC), "right after the jump: 03:00 EDT"


def test_a_job_in_the_repeated_hour_fires_once_on_the_fall_back_day() -> None:
    trigger = cron_trigger("30 1 * * *", NEW_YORK)  # 2026-11-01 02:00 EDT falls back to 01:00 EST
    times = fire_times(
        trigger, datetime(2026, 10, 31, tzinfo=NEW_YORK), datetime(2026, 11, 3, tzinfo=NEW_YORK)
    )

    per_day = Counter(t.astimezone(NEW_YORK).date() for t in times)
    assert per_day == {date(2026, 10, 31): 1, date(2026, 11, 1): 1, date(2026, 11, 2): 1}
    assert times[1] == datetime(2026, 11, 1, 5, 30, tzinfo=UTC), "the first 01:30 (EDT)"


def test_a_start_inside_the_repeated_hour_does_not_fire_the_passed_time_again() -> None:
    trigger = cron_trigger("30 1 * * *", NEW_YORK)
    second_pass = datetime(2026, 11, 1, 6, 45, tzinfo=UTC)  # 01:45 EST, after 01:30 EDT fired

    assert trigger.get_next_fire_time(None, second_pass) == datetime(2026, 11, 2, 6, 30, tzinfo=UTC)


def test_the_trigger_names_its_expression_and_zone() -> None:
    assert str(cron_trigger("0  6 * * 1")) == "cron[0 6 * * 1]"
    assert str(cron_trigger("0 6 * * 1", NEW_YORK)) == "cron[0 6 * * 1, America/New_York]"


@pytest.mark.parametrize(
    ("expression", "says"),
    [
        ("every monday", "expected 5 fields"),
        ("0 0 6 * * *", "expected 5 fields"),
        ("61 * * * *", "bad minute"),
        ("0 6 * * 8", "bad day-of-week"),
        ("0 6 * FOO *", "bad month"),
        ("0 6 30 2 *", "bad day-of-month"),
    ],
)
@pytest.mark.parametrize("key", ["drift_cron", "poll_cron"])
def test_check_rejects_a_bad_cron_expression(tmp_path: Path, key: str, expression: str, says: str) -> None:
    config = make_config(tmp_path)
    path = config.path
    assert path is not None
    path.write_text(path.read_text() + f'\n[schedule]\n{key} = "{expression}"\n')

    result = CliRunner().invoke(main, ["--config", str(path), "check"])

    assert result.exit_code == 2, result.output
    assert f"schedule.{key}" in result.output
    assert says in result.output
    assert "Traceback" not in result.output
