"""Journey milestones arriving from the bus, turned into the referrer's status."""

from __future__ import annotations

from brobygger_contracts.events.journey import JourneyCompleted, JourneyStateChanged
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.unit_of_work import UnitOfWork
from referral.domain.status import journey_outcome_milestone, milestone_of_journey_state
from referral.service_layer.citizens import record_milestone


def register(runtime: ServiceRuntime) -> None:
    @runtime.handles(JourneyStateChanged)
    async def journey_moved(event: JourneyStateChanged, uow: UnitOfWork) -> None:
        # Every transition of the journey is an event: the real first contact, first visit
        # (accompanied or not) and the start of regular participation.
        milestone = milestone_of_journey_state(event.to_state)
        if milestone is not None and event.from_state != event.to_state:
            await record_milestone(uow, event.citizen_id, milestone, event.changed_at)

    @runtime.handles(JourneyCompleted)
    async def journey_completed(event: JourneyCompleted, uow: UnitOfWork) -> None:
        await record_milestone(uow, event.citizen_id, journey_outcome_milestone(event.outcome.value), event.completed_at)
