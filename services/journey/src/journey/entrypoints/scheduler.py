"""The timer loop: one replica at a time (a lease) fires due timers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import Counter, Gauge

from brobygger_runtime.singleton import SingletonLoop
from journey.service_layer.context import Context
from journey.service_layer.timers import fire_due_timers

if TYPE_CHECKING:
    from brobygger_runtime.service import ServiceRuntime



class TimerScheduler:
    """Fires due timers; one replica at a time (a lease), every `poll_seconds`."""

    def __init__(self, runtime: "ServiceRuntime", ctx: Context, poll_seconds: float) -> None:
        self.runtime = runtime
        self.ctx = ctx
        self.loop = SingletonLoop(runtime, f"timer-scheduler:{runtime.settings.service_name}", poll_seconds, self._fire)
        self.fired_total = 0
        registry = runtime.metrics.registry
        self.fired_metric = Counter(
            "brobygger_journey_timers_fired_total", "Timers fired (FollowUpDue published), by kind", ["kind"], registry=registry
        )
        Gauge(
            "brobygger_journey_timer_lease_held", "1 while this replica holds the timer scheduler's lease", registry=registry
        ).set_function(lambda: 1 if self.loop.holding else 0)

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def tick(self) -> int:
        """One round: fire what is due if this replica holds the lease; returns how many fired."""
        return await self.loop.tick() or 0

    async def _fire(self) -> int:
        async with self.runtime.unit_of_work() as uow:
            fired = await fire_due_timers(uow, self.ctx)
        for kind in fired:  # counted after the commit: only what really fired
            self.fired_metric.labels(kind.value).inc()
        self.fired_total += len(fired)
        return len(fired)
