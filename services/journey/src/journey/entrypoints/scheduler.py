"""The timer loop: one replica at a time (a lease) fires due timers."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from brobygger_runtime import lease
from journey.service_layer.context import Context
from journey.service_layer.timers import fire_due_timers

if TYPE_CHECKING:
    from brobygger_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)


class TimerScheduler:
    def __init__(self, runtime: "ServiceRuntime", ctx: Context, poll_seconds: float) -> None:
        self.runtime = runtime
        self.ctx = ctx
        self.poll_seconds = poll_seconds
        self.lease_name = f"timer-scheduler:{runtime.settings.service_name}"
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self.fired_total = 0

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name="timer-scheduler")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task:
            await self._task
            self._task = None
        try:
            rt = self.runtime
            await lease.release(rt.db, rt.tables.lease, self.lease_name, rt.instance_id)
        except Exception:  # noqa: BLE001 - shutting down; the lease expires by itself
            log.warning("could not release the timer lease", exc_info=True)

    async def tick(self) -> int:
        """One round: fire what is due if this replica holds the lease; returns how many fired."""
        rt = self.runtime
        if not await lease.try_acquire(rt.db, rt.tables.lease, self.lease_name, rt.instance_id, rt.settings.lease_seconds):
            return 0
        async with rt.unit_of_work() as uow:
            fired = await fire_due_timers(uow, self.ctx)
        self.fired_total += fired
        return fired

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - the loop must outlive database outages
                log.warning("timer round failed", exc_info=True)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.poll_seconds)
            except TimeoutError:
                pass
