"""The APScheduler trigger of a crontab expression, with the crontab(5) meaning of monitor.core.cron."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from apscheduler.triggers.base import BaseTrigger

from monitor.core.cron import check_cron, next_fire_time


class CrontabTrigger(BaseTrigger):
    """Fires at the times a 5-field crontab expression names, on the wall clock of `zone`."""

    def __init__(self, expr: str, zone: tzinfo = UTC) -> None:
        self.expr = " ".join(check_cron(expr).split())
        self.zone = zone

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime | None:
        """The next fire time after the previous one (catching up from it), else the first from now.

        The start is the one APScheduler's own CronTrigger uses: never the previous fire time again.
        """
        if previous_fire_time is None:
            return next_fire_time(self.expr, now, self.zone)
        start = min(now, previous_fire_time + timedelta(microseconds=1))
        if start == previous_fire_time:
            start += timedelta(microseconds=1)
        return next_fire_time(self.expr, start, self.zone)

    def __str__(self) -> str:
        where = "" if self.zone is UTC else f", {self.zone}"
        return f"cron[{self.expr}{where}]"

    def __repr__(self) -> str:
        return f"<CrontabTrigger ({self.expr!r}, zone={self.zone!s})>"
