"""The batch assignment on a schedule: one replica at a time runs it, holding a lease."""

from __future__ import annotations

import logging

from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.singleton import SingletonLoop
from matching.service_layer.assignment import assign_waiting_citizens

log = logging.getLogger(__name__)
LEASE = "matching:batch-assignment"


def assignment_loop(runtime: ServiceRuntime, interval: float) -> SingletonLoop[int]:
    async def assign() -> int:
        async with runtime.unit_of_work() as uow:
            made = await assign_waiting_citizens(uow)
        if made:
            log.info("batch assignment proposed %d volunteer friends", len(made))
        return len(made)

    return SingletonLoop(runtime, LEASE, interval, assign)


def schedule_assignments(runtime: ServiceRuntime, interval: float) -> None:
    """Run the batch assignment every `interval` seconds with the runtime (never when 0)."""
    if interval > 0:
        runtime.run_in_background(assignment_loop(runtime, interval))
