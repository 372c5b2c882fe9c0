"""Retention: what a service keeps about a citizen whose journey ended is deleted
RETENTION_MONTHS_AFTER_EXIT months (default 12) after the exit, which the service
learns from JourneyCompleted. One setting for every service.

    retention.install(runtime, sweep)

runs `sweep(uow, ended_before)` on one replica at a time (a lease) every
RETENTION_CHECK_SECONDS; the sweep deletes what belongs to citizens whose journey
ended before `ended_before` and returns how many it forgot. `clock` is the
service's (tests move it instead of waiting a year).
"""

from __future__ import annotations

import calendar
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from brobygger_runtime.singleton import SingletonLoop
from brobygger_runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from brobygger_runtime.service import ServiceRuntime

Sweep = Callable[[UnitOfWork, datetime], Awaitable[int]]


def months_before(moment: datetime, months: int) -> datetime:
    """The same day and time `months` calendar months earlier (the month's last day when shorter)."""
    index = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


class RetentionSweeper:
    """The singleton loop around one service's sweep."""

    def __init__(self, runtime: "ServiceRuntime", sweep: Sweep, clock: Callable[[], datetime] | None = None) -> None:
        self.runtime = runtime
        self.sweep = sweep
        self.clock = clock or (lambda: datetime.now(UTC))
        s = runtime.settings
        self.loop = SingletonLoop(runtime, f"retention:{s.service_name}", s.retention_check_seconds, self._round)

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def tick(self) -> int:
        """One round now (if this replica holds the lease); how many citizens were forgotten."""
        return await self.loop.tick() or 0

    async def _round(self) -> int:
        before = months_before(self.clock(), self.runtime.settings.retention_months_after_exit)
        async with self.runtime.unit_of_work() as uow:
            return await self.sweep(uow, before)


def install(runtime: "ServiceRuntime", sweep: Sweep, clock: Callable[[], datetime] | None = None) -> RetentionSweeper:
    sweeper = RetentionSweeper(runtime, sweep, clock)
    runtime.run_in_background(sweeper)
    return sweeper
