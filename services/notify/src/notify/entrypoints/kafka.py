"""Thin subscribers: contract events in, plain facts and ids out to the use cases."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from brobygger_contracts import EVENTS, Event
from brobygger_contracts.events.journey import GuideAssigned, JourneyCompleted
from brobygger_contracts.events.notify import FailureReason, NotificationFailed
from brobygger_contracts.events.referral import CitizenErased, ConsentChanged, ReferralReceived
from brobygger_contracts.sealed import readable
from brobygger_runtime.unit_of_work import UnitOfWork
from notify.adapters import repository as repo
from notify.domain.rules import RuleBook
from notify.service_layer import notifications

if TYPE_CHECKING:
    from notify.bootstrap import NotifyRuntime

EVENT_CLASSES = {cls.__name__: cls for cls in EVENTS}


def facts_of(event: Event) -> dict[str, Any]:
    """The event's fields as plain JSON values, its opened sealed part's among them: what rules
    test and templates show (the box itself is no fact)."""
    facts = readable(event)
    if isinstance(event, NotificationFailed):
        facts["failed_recipient_id"] = facts["recipient_id"]
    return facts


async def _escalation_wanted(event: NotificationFailed, uow: UnitOfWork, org_id: str) -> bool:
    """Operators hear about their own instance's failures, except failed operator alerts (no loop) and
    citizens without e-mail or mobile (`no_channel`: the guide's task, not IT's)."""
    if uow.envelope is not None and uow.envelope.org != org_id:
        return False
    if event.reason is FailureReason.no_channel:
        return False
    return await repo.role_of_notification(uow.session, str(event.notification_id)) != "operator"


def register(runtime: "NotifyRuntime", rules: RuleBook) -> None:
    org_id = runtime.settings.org_id

    async def plan(event: Event, uow: UnitOfWork) -> None:
        if isinstance(event, NotificationFailed) and not await _escalation_wanted(event, uow, org_id):
            return
        source_event_id = uow.envelope.id if uow.envelope else str(getattr(event, "notification_id", ""))
        if await notifications.plan_notifications(uow, rules, type(event).__name__, source_event_id, facts_of(event)):
            runtime.dispatcher.wake()

    async def on_guide_assigned(event: GuideAssigned, uow: UnitOfWork) -> None:
        released = await notifications.assign_guide(
            uow, str(event.citizen_id), event.guide_id, event.guide_org, event.assigned_at
        )
        if released:
            runtime.dispatcher.wake()
        if GuideAssigned.__name__ in rules.events:
            await plan(event, uow)

    async def on_citizen_erased(event: CitizenErased, uow: UnitOfWork) -> None:
        await notifications.erase_citizen(uow, str(event.citizen_id))
        if CitizenErased.__name__ in rules.events:
            await plan(event, uow)

    async def on_referral(event: ReferralReceived, uow: UnitOfWork) -> None:
        consented = org_id in event.consented_orgs
        # A referring person who follows is reachable only through referral (CITIZEN_CONTACT_URL).
        following = str(event.referral_id) if event.referrer_follows and runtime.dispatcher.citizen_contacts else None
        if await notifications.record_referral(uow, str(event.citizen_id), consented, event.opened.referrer_org,
                                               event.received_at, following):
            runtime.dispatcher.wake()
        if ReferralReceived.__name__ in rules.events:
            await plan(event, uow)

    async def on_consent_changed(event: ConsentChanged, uow: UnitOfWork) -> None:
        consented = org_id in event.consented_orgs
        if await notifications.change_consent(uow, str(event.citizen_id), consented, event.changed_at):
            runtime.dispatcher.wake()

    async def on_journey_completed(event: JourneyCompleted, uow: UnitOfWork) -> None:
        await repo.record_journey_end(uow.session, str(event.citizen_id), event.completed_at)  # for retention
        if JourneyCompleted.__name__ in rules.events:
            await plan(event, uow)

    own = {GuideAssigned: on_guide_assigned, CitizenErased: on_citizen_erased, ReferralReceived: on_referral,
           ConsentChanged: on_consent_changed, JourneyCompleted: on_journey_completed}
    for event_cls, handler in own.items():
        runtime.handles(event_cls)(handler)
    for name in sorted(rules.events - {cls.__name__ for cls in own}):
        runtime.handles(EVENT_CLASSES[name])(plan)
