"""A loop that runs on one replica of a service instance at a time.

The outbox relay, timers, the batch assignment and the delivery dispatcher
must not run twice when an instance has two replicas: each round first takes
or renews a lease in the instance's database, and only the holder works.
Start and stop it with the runtime through `ServiceRuntime.run_in_background`.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import TYPE_CHECKING, Awaitable, Callable, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from brobygger_runtime import lease

if TYPE_CHECKING:
    from brobygger_runtime.context import RuntimeParts

log = logging.getLogger(__name__)
T = TypeVar("T")


class SingletonLoop(Generic[T]):
    """Runs `work()` every `interval` seconds (sooner after `wake()`) while holding lease `name`.

    `on_acquired` runs first whenever this replica takes the lease over, e.g.
    to take stock of what a dead holder left half done. After a failed round
    the loop backs off (up to 30 s) and takes stock again.
    """

    def __init__(
        self,
        runtime: "RuntimeParts",
        name: str,
        interval: float,
        work: Callable[[], Awaitable[T]],
        on_acquired: Callable[[], Awaitable[object]] | None = None,
    ) -> None:
        self.runtime = runtime
        self.name = name
        self.interval = interval
        self.work = work
        self.on_acquired = on_acquired
        self.holding = False
        self.token: int | None = None
        """The lease's fencing token while this replica holds it."""
        self._renew_at = 0.0
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    def wake(self) -> None:
        self._wakeup.set()

    @property
    def stopping(self) -> bool:
        return self._stopping

    @property
    def ttl(self) -> float:
        return max(self.runtime.settings.lease_seconds, self.interval * 3)

    async def hold_lease(self) -> bool:
        # Renew only once half the lease has passed: a write per round would
        # compete with the handlers for the database's write lock. Nobody can
        # take over a lease renewed less than half its time ago.
        now = time.monotonic()
        if self.holding and now < self._renew_at:
            return True
        rt = self.runtime
        token = await lease.try_acquire(rt.db, rt.tables.lease, self.name, rt.instance_id, self.ttl)
        held = token is not None
        if held and (not self.holding or token != self.token) and self.on_acquired is not None:
            await self.on_acquired()
        self.holding, self.token = held, token
        self._renew_at = now + self.ttl / 2
        return held

    async def renew_in(self, session: AsyncSession) -> bool:
        """In the caller's transaction: renew the lease if it is still ours with
        the same token. False (and no longer holding) when another replica took
        over meanwhile: the caller must stop at once."""
        rt = self.runtime
        if self.holding and self.token is not None:
            if await lease.renew(session, rt.tables.lease, self.name, rt.instance_id, self.token, self.ttl):
                self._renew_at = time.monotonic() + self.ttl / 2
                return True
            log.warning("%s: another replica took the lease over (token %s is stale); stopping", self.name, self.token)
        self.lost()
        return False

    def lost(self) -> None:
        self.holding, self.token = False, None

    async def tick(self) -> T | None:
        """One round: `work()` if this replica holds the lease, else None."""
        return await self.work() if await self.hold_lease() else None

    def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self, release: bool = True) -> None:
        self._stopping = True
        self._wakeup.set()
        if self._task:
            await self._task
            self._task = None
        if release:
            await self.release()

    async def release(self) -> None:
        rt = self.runtime
        self.lost()
        try:
            await lease.release(rt.db, rt.tables.lease, self.name, rt.instance_id)
        except Exception:  # noqa: BLE001 - shutting down; the lease expires by itself
            log.warning("could not release the lease %s", self.name, exc_info=True)

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._wakeup.clear()
            try:
                await self.tick()
                failures = 0
            except Exception:  # noqa: BLE001 - the loop must outlive broker and database outages
                failures += 1
                self.lost()  # take stock again once things are back
                log.warning("%s: round failed (%d in a row)", self.name, failures, exc_info=True)
            delay = self.interval if failures == 0 else min(30.0, 0.5 * 2**failures)
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=delay)
            except TimeoutError:
                pass
