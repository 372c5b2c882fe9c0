"""Thin consumers: contract events in, domain types to the use cases."""

from __future__ import annotations

from brobygger_contracts.events.journey import (
    FollowUpRecorded, GroupFormed, GuideAssigned, JourneyCompleted, NeedsClarified, ParticipationEnded,
)
from brobygger_contracts.events.matching import ActivityPublished, MatchAccepted
from brobygger_contracts.events.referral import CitizenErased, ConsentChanged, ReferralEscalated, ReferralReceived
from brobygger_runtime.errors import PermanentError
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.unit_of_work import UnitOfWork
from matching.adapters import postal_codes
from matching.domain import taxonomy
from matching.domain.model import CitizenProfile, Kind, Slot, Wish
from matching.domain.registry import Activity
from matching.service_layer import catalogue, citizens, decisions, groups
from matching.service_layer.errors import Refused


def needs_of(event: NeedsClarified) -> CitizenProfile:
    needs = event.opened
    return CitizenProfile(
        citizen_id=event.citizen_id,
        consented_orgs=frozenset(),
        interests=frozenset(taxonomy.canonical(code) for code in needs.interests),
        languages=frozenset(needs.languages),
        postal_code=needs.postal_code,
        location=postal_codes.locate(needs.postal_code),
        wishes=frozenset(Wish(w.value) for w in needs.wishes),
        barriers=frozenset(b.value for b in needs.barriers),
        max_travel_km=needs.max_travel_km,
        needs_step_free=needs.needs_step_free,
        wants_accompaniment=needs.wants_accompaniment,
        availability=frozenset(Slot(s.day.value, s.part.value) for s in needs.availability),
    )


def partner_activity(event: ActivityPublished, published_by: str) -> catalogue.PartnerActivity:
    activity = Activity(
        activity_id=event.activity_id, org=published_by, name=event.name,
        interests=tuple(taxonomy.canonical(code) for code in event.interests), postal_code=event.postal_code,
        languages=tuple(event.languages or ()), latitude=event.latitude, longitude=event.longitude,
        schedule=frozenset(Slot(s.day.value, s.part.value) for s in event.schedule), seats=event.seats,
        cost_dkk=event.cost_dkk, reduced_cost_dkk=event.reduced_cost_dkk, step_free=event.step_free,
        accompaniment_welcome=event.accompaniment_welcome, practice_community=event.practice_community,
        hearing_loop=bool(event.hearing_loop), interpreter_available=bool(event.interpreter_available),
    )
    return catalogue.PartnerActivity(activity, published_by, event.published_at)


def register(runtime: ServiceRuntime) -> None:
    @runtime.handles(ReferralReceived)
    async def on_referral(event: ReferralReceived, uow: UnitOfWork) -> None:
        sealed = event.opened
        await citizens.record_referral(uow, event.citizen_id, list(event.consented_orgs), sealed.postal_code,
                                       sealed.age_band, sealed.language)

    @runtime.handles(ConsentChanged)
    async def on_consent(event: ConsentChanged, uow: UnitOfWork) -> None:
        await citizens.record_consent(uow, event.citizen_id, list(event.consented_orgs))

    @runtime.handles(CitizenErased)
    async def on_erased(event: CitizenErased, uow: UnitOfWork) -> None:
        await citizens.erase_citizen(uow, event.citizen_id)

    @runtime.handles(ReferralEscalated)
    async def on_escalated(event: ReferralEscalated, uow: UnitOfWork) -> None:
        await citizens.stop_matching(uow, event.citizen_id)

    @runtime.handles(JourneyCompleted)
    async def on_journey_completed(event: JourneyCompleted, uow: UnitOfWork) -> None:
        await citizens.journey_ended(uow, event.citizen_id, event.completed_at)

    @runtime.handles(NeedsClarified)
    async def on_needs(event: NeedsClarified, uow: UnitOfWork) -> None:
        await citizens.record_needs(uow, needs_of(event))

    @runtime.handles(FollowUpRecorded)
    async def on_follow_up(event: FollowUpRecorded, uow: UnitOfWork) -> None:
        await citizens.follow_up_recorded(uow, event.citizen_id, event.outcome, event.proposal_id)

    @runtime.handles(GuideAssigned)
    async def on_guide(event: GuideAssigned, uow: UnitOfWork) -> None:
        await citizens.record_guide(uow, event.citizen_id, event.guide_id, event.guide_org)

    @runtime.handles(ActivityPublished)
    async def on_activity(event: ActivityPublished, uow: UnitOfWork) -> None:
        # Owned by the organisation whose topic it came from (the runtime checked the envelope against the topic).
        try:
            await catalogue.catalogue_partner_activity(uow, partner_activity(event, uow.envelope.org))
        except Refused as exc:
            raise PermanentError(str(exc)) from exc

    @runtime.handles(GroupFormed)
    async def on_group_formed(event: GroupFormed, uow: UnitOfWork) -> None:
        await groups.group_formed(uow, event.group_proposal_id, event.group_id, list(event.member_citizen_ids),
                                  event.formed_at)

    @runtime.handles(ParticipationEnded)
    async def on_participation_ended(event: ParticipationEnded, uow: UnitOfWork) -> None:
        await groups.participation_ended(uow, event.citizen_id, event.group_id, event.group_proposal_id)

    @runtime.handles(MatchAccepted)
    async def on_accepted_elsewhere(event: MatchAccepted, uow: UnitOfWork) -> None:
        if uow.envelope.org != runtime.settings.org_id:  # our own acceptances were handled when they were made
            await decisions.accepted_elsewhere(uow, event.citizen_id, Kind(event.kind.value), event.candidate_id)
