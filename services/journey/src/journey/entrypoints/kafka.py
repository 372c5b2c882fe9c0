"""Events from the bus, read into journey's own types at the edge."""

from __future__ import annotations

from brobygger_contracts.events.friendships import FriendshipEnded
from brobygger_contracts.events.matching import ActivityPublished, GroupProposed, MatchAccepted, MatchDeclined, MatchProposed
from brobygger_contracts.events.notify import FailureReason, NotificationFailed
from brobygger_contracts.events.referral import (
    CitizenErased,
    ConsentChanged,
    ReferralEscalated,
    ReferralReceived,
    ReferralTriaged,
    TriageDecision,
)
from brobygger_runtime.errors import PermanentError
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.unit_of_work import UnitOfWork
from journey.adapters import repository as repo
from journey.domain.errors import DomainError
from journey.domain.journey import State, Step
from journey.domain.referral import Referral
from journey.service_layer import follow_through, friendships, groups, journeys, served
from journey.service_layer.context import Context


def register(runtime: ServiceRuntime, ctx: Context) -> None:
    def refusing(handler):  # noqa: ANN001, ANN202
        """A rule refusing an event (e.g. a proposal for an exited journey) dead-letters it with the reason."""

        async def handle(event, uow: UnitOfWork) -> None:  # noqa: ANN001
            try:
                await handler(event, uow)
            except DomainError as exc:
                raise PermanentError(str(exc)) from exc

        handle.__name__ = handler.__name__
        return handle

    @runtime.handles(ReferralReceived)
    @refusing
    async def on_referral(event: ReferralReceived, uow: UnitOfWork) -> None:
        sealed = event.opened
        referral = Referral(
            citizen_id=event.citizen_id, source=sealed.source.value, referrer_org=sealed.referrer_org,
            urgency=sealed.urgency.value, postal_code=sealed.postal_code, age_band=sealed.age_band,
            language=sealed.language, consented_orgs=frozenset(event.consented_orgs),
            repeat=event.repeat_referral, received_at=event.received_at,
        )
        await journeys.open_journey(uow, ctx, referral)

    @runtime.handles(ReferralTriaged)
    @refusing
    async def on_triaged(event: ReferralTriaged, uow: UnitOfWork) -> None:
        if event.decision is TriageDecision.declined and await _open(uow, event.citizen_id):
            await journeys.exit_journey(uow, ctx, event.citizen_id, journeys.Exit(Step.refuse))

    @runtime.handles(ReferralEscalated)
    @refusing
    async def on_escalated(event: ReferralEscalated, uow: UnitOfWork) -> None:
        if await _open(uow, event.citizen_id):
            await journeys.exit_journey(uow, ctx, event.citizen_id, journeys.Exit(Step.escalate))

    @runtime.handles(ConsentChanged)
    async def on_consent(event: ConsentChanged, uow: UnitOfWork) -> None:
        # a changed (even emptied) consent list is never an erasure: only CitizenErased erases (issue 12 case 1)
        await journeys.consent_changed(uow, ctx, event.citizen_id, list(event.consented_orgs))

    @runtime.handles(CitizenErased)
    async def on_erased(event: CitizenErased, uow: UnitOfWork) -> None:
        await journeys.erase_citizen(uow, ctx, event.citizen_id)

    @runtime.handles(MatchProposed)
    @refusing
    async def on_proposed(event: MatchProposed, uow: UnitOfWork) -> None:
        await journeys.match_proposed(
            uow,
            journeys.Proposal(
                proposal_id=event.proposal_id, citizen_id=event.citizen_id, kind=event.kind.value,
                candidate_id=event.candidate_id, candidate_name=event.opened.candidate_name,
                proposing_org=event.proposing_org, at=event.proposed_at,
                transport_need=event.opened.transport_need.value if event.opened.transport_need else None,
            ),
        )

    @runtime.handles(MatchAccepted)
    @refusing
    async def on_accepted(event: MatchAccepted, uow: UnitOfWork) -> None:
        await journeys.match_decided(uow, event.citizen_id, event.proposal_id, True, event.accepted_at)

    @runtime.handles(MatchDeclined)
    @refusing
    async def on_declined(event: MatchDeclined, uow: UnitOfWork) -> None:
        await journeys.match_decided(uow, event.citizen_id, event.proposal_id, False, event.declined_at)

    @runtime.handles(FriendshipEnded)
    @refusing
    async def on_friendship_ended(event: FriendshipEnded, uow: UnitOfWork) -> None:
        await friendships.friendship_ended(uow, event.citizen_id, event.proposal_id, event.ended_at)

    @runtime.handles(GroupProposed)
    async def on_group_proposed(event: GroupProposed, uow: UnitOfWork) -> None:
        await groups.group_proposed(
            uow, groups.GroupProposal(
                proposal_id=event.group_proposal_id, interest=event.interest, postal_code=event.postal_code,
                citizen_ids=tuple(event.citizen_ids), at=event.proposed_at, version=event.proposal_version,
            ),
        )

    @runtime.handles(NotificationFailed)
    async def on_notification_failed(event: NotificationFailed, uow: UnitOfWork) -> None:
        # a citizen without e-mail or mobile: a task for their guide (call, or the printed letter), not an IT error
        if event.reason is FailureReason.no_channel and event.citizen_id is not None:
            await follow_through.message_did_not_reach(
                uow, event.citizen_id, event.notification_id, uow.envelope.org if uow.envelope else None, event.failed_at)

    @runtime.handles(ActivityPublished)
    async def on_activity(event: ActivityPublished, uow: UnitOfWork) -> None:
        await served.activity_published(uow, str(event.activity_id), event.postal_code, list(event.interests))


async def _open(uow: UnitOfWork, citizen_id) -> bool:  # noqa: ANN001
    journey = await repo.journey_by_citizen(uow.session, citizen_id)
    return journey is not None and journey.state != State.exited.value
