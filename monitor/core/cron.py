"""Crontab expressions: validation and next fire times with the crontab(5) meaning (via cronsim).

cronsim follows Debian cron: a day-of-month and a day-of-week that are both restricted match
either ("0 6 1 * 1" is the 1st and every Monday), names (MON, JAN) and ranges work, and on a
wall clock with daylight saving a job at a fixed time fires once on the days the clock jumps.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta, tzinfo

from cronsim import CronSim, CronSimError

FIELDS = "minute hour day-of-month month day-of-week"
# Steps to look past fire times that lie before the start: at most the minutes of one repeated hour.
_MAX_STEPS = 24 * 60


def check_cron(expr: str) -> str:
    """`expr` if it is a 5-field crontab expression that fires; else ValueError saying what is wrong."""
    fields = expr.split()
    if len(fields) != 5:
        raise ValueError(f"is not a cron expression: expected 5 fields ({FIELDS}), got {len(fields)}")
    try:
        next(CronSim(expr, datetime.now(UTC)))
    except CronSimError as exc:
        raise ValueError(f"is not a cron expression ({FIELDS}): {str(exc).lower()}") from None
    except StopIteration:
        raise ValueError("is a cron expression that never fires") from None
    return expr


def next_fire_time(expr: str, start: datetime, zone: tzinfo = UTC) -> datetime | None:
    """The first time at or after `start` that `expr` names on `zone`'s wall clock (None: never again)."""
    times = CronSim(expr, (start - timedelta(microseconds=1)).astimezone(zone))
    # In a repeated hour the wall clock names times already past: skip them.
    for fire in itertools.islice(times, _MAX_STEPS):
        if fire >= start:
            return fire.astimezone(UTC)
    return None
