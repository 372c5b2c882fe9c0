"""The batch assignment on a schedule: one replica at a time runs it, holding a lease."""

from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import FastAPI

from brobygger_runtime import lease
from brobygger_runtime.service import ServiceRuntime
from matching.service_layer.assignment import assign_waiting_citizens

log = logging.getLogger(__name__)
LEASE = "matching:batch-assignment"


async def run_once(runtime: ServiceRuntime, interval: float) -> int:
    """One round, if this replica holds the lease; returns how many proposals it made."""
    if not await lease.try_acquire(runtime.db, runtime.tables.lease, LEASE, runtime.instance_id, ttl=interval * 3):
        return 0
    async with runtime.unit_of_work() as uow:
        made = await assign_waiting_citizens(uow)
    if made:
        log.info("batch assignment proposed %d volunteer friends", len(made))
    return len(made)


@asynccontextmanager
async def assignment_schedule(runtime: ServiceRuntime, interval: float) -> AsyncIterator[None]:
    """Run the batch assignment every `interval` seconds while inside the block (never when 0)."""
    if interval <= 0:
        yield
        return

    async def loop() -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await run_once(runtime, interval)
            except Exception:  # noqa: BLE001 - the next round tries again
                log.exception("batch assignment failed")

    task = asyncio.create_task(loop(), name="batch-assignment")
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


def run_with_app(app: FastAPI, runtime: ServiceRuntime, interval: float) -> None:
    """Start the schedule after the runtime in the app's lifespan, stop it before."""
    started_runtime = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        async with started_runtime(a), assignment_schedule(runtime, interval):
            yield

    app.router.lifespan_context = lifespan
