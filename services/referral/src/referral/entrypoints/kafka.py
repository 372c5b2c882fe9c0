"""Journey and matching milestones arriving from the bus, turned into the referrer's status."""

from __future__ import annotations

from brobygger_contracts.events.journey import FirstVisitAccompanied, FollowUpDue, FollowUpKind, GuideAssigned, JourneyCompleted
from brobygger_contracts.events.matching import MatchAccepted
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.unit_of_work import UnitOfWork
from referral.domain.status import Milestone, journey_outcome_milestone
from referral.service_layer.citizens import record_milestone


def register(runtime: ServiceRuntime) -> None:
    @runtime.handles(GuideAssigned)
    async def guide_assigned(event: GuideAssigned, uow: UnitOfWork) -> None:
        await record_milestone(uow, event.citizen_id, Milestone.contacted, event.assigned_at)

    @runtime.handles(MatchAccepted)
    async def match_accepted(event: MatchAccepted, uow: UnitOfWork) -> None:
        await record_milestone(uow, event.citizen_id, Milestone.matched, event.accepted_at)

    @runtime.handles(FirstVisitAccompanied)
    async def first_visit(event: FirstVisitAccompanied, uow: UnitOfWork) -> None:
        await record_milestone(uow, event.citizen_id, Milestone.first_visit_done, event.visited_at)

    @runtime.handles(FollowUpDue)
    async def follow_up_due(event: FollowUpDue, uow: UnitOfWork) -> None:
        # Regular follow-ups start after the first visit: the citizen takes part.
        if event.kind is FollowUpKind.follow_up:
            await record_milestone(uow, event.citizen_id, Milestone.active, event.due_at)

    @runtime.handles(JourneyCompleted)
    async def journey_completed(event: JourneyCompleted, uow: UnitOfWork) -> None:
        await record_milestone(uow, event.citizen_id, journey_outcome_milestone(event.outcome.value), event.completed_at)
