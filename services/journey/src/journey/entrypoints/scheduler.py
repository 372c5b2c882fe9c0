"""The timer loop: one replica at a time (a lease) fires due timers."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge

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
        registry = runtime.metrics.registry
        self.fired_metric = Counter(
            "brobygger_journey_timers_fired_total", "Timers fired (FollowUpDue published), by kind", ["kind"], registry=registry
        )
        self.holding_metric = Gauge(
            "brobygger_journey_timer_lease_held", "1 while this replica holds the timer scheduler's lease", registry=registry
        )

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
        held = await lease.try_acquire(rt.db, rt.tables.lease, self.lease_name, rt.instance_id, rt.settings.lease_seconds)
        self.holding_metric.set(1 if held else 0)
        if not held:
            return 0
        async with rt.unit_of_work() as uow:
            fired = await fire_due_timers(uow, self.ctx)
        for kind in fired:  # counted after the commit: only what really fired
            self.fired_metric.labels(kind.value).inc()
        self.fired_total += len(fired)
        return len(fired)

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
