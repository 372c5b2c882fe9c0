"""A loop that runs on one replica of a service instance at a time.

Timers, the batch assignment and the delivery dispatcher must not run twice
when an instance has two replicas: each round first takes or renews a lease
in the instance's database, and only the holder works. Start and stop it with
the runtime through `ServiceRuntime.run_in_background`.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Awaitable, Callable, Generic, TypeVar

from brobygger_runtime import lease

if TYPE_CHECKING:
    from brobygger_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)
T = TypeVar("T")


class SingletonLoop(Generic[T]):
    def __init__(self, runtime: "ServiceRuntime", name: str, interval: float, work: Callable[[], Awaitable[T]]) -> None:
        self.runtime = runtime
        self.name = name
        self.interval = interval
        self.work = work
        self.holding = False
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()

    async def tick(self) -> T | None:
        """One round: `work()` if this replica holds the lease, else None."""
        rt = self.runtime
        ttl = max(rt.settings.lease_seconds, self.interval * 3)
        self.holding = await lease.try_acquire(rt.db, rt.tables.lease, self.name, rt.instance_id, ttl)
        return await self.work() if self.holding else None

    def start(self) -> None:
        self._stopping.clear()
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task:
            await self._task
            self._task = None
        try:
            rt = self.runtime
            await lease.release(rt.db, rt.tables.lease, self.name, rt.instance_id)
        except Exception:  # noqa: BLE001 - shutting down; the lease expires by itself
            log.warning("could not release the lease %s", self.name, exc_info=True)

    async def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - the loop must outlive database outages
                log.warning("%s: round failed", self.name, exc_info=True)
            try:
                await asyncio.wait_for(self._stopping.wait(), timeout=self.interval)
            except TimeoutError:
                pass
