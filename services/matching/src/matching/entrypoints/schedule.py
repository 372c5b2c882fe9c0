"""The batch assignment on a schedule: one replica at a time runs it, holding a lease."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.singleton import SingletonLoop
from matching.friendships.answers import expire_unanswered
from matching.friendships.life import publish_due_check_ins
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


FRIENDSHIP_LEASE = "matching:friendship-checks"


def friendship_checks_loop(runtime: ServiceRuntime, interval: float) -> SingletonLoop[int]:
    """Questions past VOLUNTEER_ANSWER_HOURS count as no; friendships past FRIENDSHIP_CHECK_IN_DAYS get their
    check-in. Each round is one transaction: what it publishes and what it marks done commit together."""
    async def check() -> int:
        now = datetime.now(UTC)
        async with runtime.unit_of_work() as uow:
            expired = await expire_unanswered(uow, now)
            due = await publish_due_check_ins(uow, now)
        if expired or due:
            log.info("friendships: %d unanswered questions expired, %d check-ins due", expired, due)
        return expired + due

    return SingletonLoop(runtime, FRIENDSHIP_LEASE, interval, check)


def schedule_friendship_checks(runtime: ServiceRuntime, interval: float) -> None:
    if interval > 0:
        runtime.run_in_background(friendship_checks_loop(runtime, interval))
