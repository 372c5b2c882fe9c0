"""Use cases around planning deliveries: one function per event or command, each
inside the caller's unit of work (the inbox claim of the event is in it too)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Mapping

import sqlalchemy as sa

from brobygger_runtime import erasure
from brobygger_runtime.unit_of_work import UnitOfWork
from notify.adapters import repository as repo
from notify.domain.disclosure import facts_for
from notify.domain.masking import mask
from notify.domain.model import Channel, Contact, DeliveryStatus, details_held_by_referral, following_referrer, new_notification_id
from brobygger_runtime.tracing import current_traceparent
from notify.domain.preferences import choose_channel
from notify.domain.rules import PlannedNotification, RuleBook
from notify.service_layer.outcomes import record_failed


async def plan_notifications(uow: UnitOfWork, rules: RuleBook, event_name: str, source_event_id: str,
                             facts: Mapping[str, Any]) -> int:
    """Record one delivery per recipient the rules name for this event; returns how many.

    Sending happens later, in the dispatcher: here only rows are written, in the
    same transaction as the inbox claim, so a redelivered event adds nothing.
    """
    citizen_id = facts.get("citizen_id")
    if citizen_id:
        await repo.serialize_on(uow.session, f"citizen:{citizen_id}")
    if citizen_id and await repo.is_erased(uow.session, citizen_id):
        return 0  # a late event about someone who asked to be forgotten
    count = 0
    now = datetime.now(UTC)
    for planned in rules.plan(event_name, facts):
        if planned.replaces_earlier and citizen_id:
            # A newer event of a reminder rule replaces the older one's unsent reminders.
            await repo.cancel_open_about(uow.session, citizen_id, rule_id=planned.rule_id, reason="replaced by a newer booking")
        too_late = planned.expires_at is not None and planned.expires_at <= now
        readable = facts_for(planned.target.role, facts)
        for recipient_id in await _recipients(uow, planned):
            seq = await repo.add_delivery(
                uow.session, source_event_id=source_event_id, source_event_type=event_name,
                rule_id=planned.rule_id, template=planned.template, recipient_role=planned.target.role,
                recipient_id=recipient_id, citizen_id=citizen_id,
                allowed_channels=",".join(c.value for c in planned.channels),
                variables=await _for_recipient(uow, readable, planned.target.role, citizen_id, recipient_id),
                traceparent=current_traceparent(), send_after=planned.send_after, expires_at=planned.expires_at,
            )
            if too_late:  # kept in the log, so the guide can see why no reminder went out
                await repo.update_delivery(uow.session, seq, status=DeliveryStatus.cancelled.value, last_error=TOO_LATE)
            else:
                await _resolve(uow, seq)
            count += 1
    return count


TOO_LATE = "too late: the moment it reminds of has come"


async def _for_recipient(uow: UnitOfWork, facts: dict[str, Any], role: str, citizen_id: str | None,
                         recipient_id: str | None) -> dict[str, Any]:
    """A referrer's message names the person by the day they were referred ("the person you referred on
    3 March"), not by an id: that day goes with the delivery."""
    if role == "referrer" and citizen_id and recipient_id:
        when = await repo.referred_at(uow.session, citizen_id, recipient_id)
        if when is not None:
            return {**facts, "referred_at": when.isoformat()}
    return facts


def _first_attempt_at(row) -> datetime:  # noqa: ANN001
    """Now, or for a reminder the moment it may go out."""
    now = datetime.now(UTC)
    send_after = row.send_after
    return max(now, send_after) if send_after else now


async def _recipients(uow: UnitOfWork, planned: PlannedNotification) -> list[str | None]:
    target = planned.target
    if target.recipient_id:
        return [target.recipient_id]
    if target.guide_of_citizen:
        # None: no guide yet; the delivery waits for GuideAssigned.
        return [await repo.guide_of(uow.session, target.guide_of_citizen)]
    if target.referrers_of_citizen:
        # Only those who opted in; the others are not waited for.
        return list(await repo.following_referrers(uow.session, target.referrers_of_citizen))
    return list(await repo.ids_with_role(uow.session, target.role))


async def _resolve(uow: UnitOfWork, seq: int) -> None:
    """Turn a delivery waiting for its recipient into one ready to send, if it can be."""
    row = await repo.get_delivery(uow.session, seq)
    if row is None:
        return
    if row.citizen_id:
        consented = await repo.consent_of(uow.session, row.citizen_id)
        if consented is None:
            return  # waits for the citizen's referral: only their consent lets us act
        if not consented:
            await repo.update_delivery(uow.session, seq, status=DeliveryStatus.cancelled.value,
                                       last_error="the citizen's consent does not name this organisation")
            return
    if row.recipient_id is None:
        return
    allowed = tuple(Channel(c) for c in row.allowed_channels.split(","))
    if details_held_by_referral(row.recipient_role, row.recipient_id):
        await _resolve_held_by_referral(uow, row, allowed[0])
        return
    await repo.serialize_on(uow.session, f"recipient:{row.recipient_id}")
    contact = await repo.get_contact(uow.session, row.recipient_id)
    if contact is None:
        return  # waits until the recipient is entered in the directory
    choice = choose_channel(contact, allowed)
    channel = choice.channel or allowed[0]
    if await repo.delivery_exists(uow.session, row.source_event_id, row.recipient_id, channel):
        # Another rule already sends this recipient the same event by the same channel.
        await uow.session.execute(sa.delete(repo.delivery).where(repo.delivery.c.seq == seq))
        return
    key = str(new_notification_id())
    now = datetime.now(UTC)
    values = dict(notification_id=key, channel=channel.value, language=contact.language)
    if choice.channel is None and choice.opted_out:
        await repo.update_delivery(uow.session, seq, status=DeliveryStatus.suppressed.value, last_error=choice.reason, **values)
        return
    if choice.channel is None:
        await repo.update_delivery(uow.session, seq, **values)
        await record_failed(uow, await repo.get_delivery(uow.session, seq), choice.reason, now)
        return
    await repo.update_delivery(
        uow.session, seq, status=DeliveryStatus.pending.value, next_attempt_at=_first_attempt_at(row),
        masked_address=mask(channel, contact.address(channel) or ""), **values,
    )


async def _resolve_held_by_referral(uow: UnitOfWork, row, channel: Channel) -> None:  # noqa: ANN001
    """A citizen's or following referrer's details stay with referral: asked for at send time,
    by the rule's first channel."""
    if await repo.delivery_exists(uow.session, row.source_event_id, row.recipient_id, channel):
        await uow.session.execute(sa.delete(repo.delivery).where(repo.delivery.c.seq == row.seq))
        return
    key = str(new_notification_id())
    await repo.update_delivery(uow.session, row.seq, notification_id=key, channel=channel.value,
                               status=DeliveryStatus.pending.value, next_attempt_at=_first_attempt_at(row))


async def assign_guide(uow: UnitOfWork, citizen_id: str, guide_id: str, guide_org: str, assigned_at: datetime) -> int:
    """Remember the citizen's guide and release deliveries that waited for one."""
    await repo.serialize_on(uow.session, f"citizen:{citizen_id}")
    if await repo.is_erased(uow.session, citizen_id):
        return 0
    await repo.save_guide(uow.session, citizen_id, guide_id, guide_org, assigned_at)
    current = await repo.guide_of(uow.session, citizen_id)
    waiting = await repo.awaiting_guide(uow.session, citizen_id)
    for row in waiting:
        await repo.update_delivery(uow.session, row.seq, recipient_id=current)
        await _resolve(uow, row.seq)
    return len(waiting)


async def record_referral(uow: UnitOfWork, citizen_id: str, consented: bool, referrer_org: str | None,
                          referred_at: datetime, following_referral_id: str | None = None) -> int:
    """ReferralReceived: whether we may act for the citizen, and who referred them
    (to close the loop to them later): their organisation, and the referring person
    when they asked to follow. Returns how many waiting deliveries moved."""
    await repo.serialize_on(uow.session, f"citizen:{citizen_id}")
    if await repo.is_erased(uow.session, citizen_id):
        return 0
    if referrer_org and consented:
        await repo.save_referrer(uow.session, citizen_id, referrer_org, referred_at)
    if following_referral_id and consented:
        await repo.save_referrer(uow.session, citizen_id, following_referrer(following_referral_id), referred_at)
    return await _apply_consent(uow, citizen_id, consented, referred_at)


async def change_consent(uow: UnitOfWork, citizen_id: str, consented: bool, changed_at: datetime) -> int:
    """ConsentChanged: acting again, or forgetting the citizen when our organisation was removed."""
    await repo.serialize_on(uow.session, f"citizen:{citizen_id}")
    if await repo.is_erased(uow.session, citizen_id):
        return 0
    return await _apply_consent(uow, citizen_id, consented, changed_at)


async def _apply_consent(uow: UnitOfWork, citizen_id: str, consented: bool, at: datetime) -> int:
    await repo.save_consent(uow.session, citizen_id, consented, at)
    if not await repo.consent_of(uow.session, citizen_id):  # a newer change may have said no
        await repo.cancel_open_about(uow.session, citizen_id)
        await repo.forget_citizen(uow.session, citizen_id)
        await repo.save_consent(uow.session, citizen_id, False, at)
        await repo.erase_citizen_links(uow.session, citizen_id)
        return 0
    waiting = await repo.awaiting_about(uow.session, citizen_id)
    guide = await repo.guide_of(uow.session, citizen_id)
    for row in waiting:
        if row.recipient_id is None and guide:  # only a citizen_guide target lacks its recipient
            await repo.update_delivery(uow.session, row.seq, recipient_id=guide)
        await _resolve(uow, row.seq)
    return len(waiting)


class NotTheOwner(Exception):
    """The contact belongs to another organisation: only its coordinators change it."""


@dataclass(frozen=True)
class Registered:
    created: bool
    contact: Contact
    """As stored (a kept webhook key included)."""
    issued_webhook_secret: str | None = None
    """A fresh signing key, when the webhook URL changed and no key came with it (shown once)."""


async def register_contact(uow: UnitOfWork, contact: Contact, *, owner: str, legacy_owner: str) -> Registered:
    """Enter or update a contact for organisation `owner`; deliveries that waited for their details go ahead.

    A contact belongs to the organisation that entered it (`legacy_owner` for contacts from before
    owners were recorded): another organisation's coordinator cannot re-point it. A changed webhook
    URL never keeps the old signing key: the key that comes with the change, else a fresh one.
    """
    await repo.serialize_on(uow.session, f"recipient:{contact.recipient_id}")
    existing = await repo.get_contact(uow.session, contact.recipient_id)
    if existing is not None and (existing.organisation or legacy_owner) != owner:
        raise NotTheOwner(f"contact {contact.recipient_id} belongs to another organisation")
    issued = None
    replace_secret = False
    if contact.webhook_url is None:
        contact, replace_secret = replace(contact, webhook_secret=None), True  # no webhook: nothing to sign
    elif (existing is not None and existing.webhook_url != contact.webhook_url and contact.webhook_secret is None):
        issued = secrets.token_urlsafe(32)
        contact = replace(contact, webhook_secret=issued)
    contact = replace(contact, organisation=owner)
    created = await repo.save_contact(uow.session, contact, replace_secret=replace_secret)
    for row in await repo.awaiting_contact(uow.session, contact.recipient_id):
        await _resolve(uow, row.seq)
    stored = await repo.get_contact(uow.session, contact.recipient_id)
    return Registered(created=created, contact=stored, issued_webhook_secret=issued)


async def erase_citizen(uow: UnitOfWork, citizen_id: str) -> int:
    """CitizenErased: forget who guides them, their contact row and every delivery's link to
    them (recipient, masked address, variables); strip the sealed boxes of the outbox rows
    about them and checkpoint SQLite after the commit."""
    await repo.serialize_on(uow.session, f"citizen:{citizen_id}")
    await repo.mark_erased(uow.session, citizen_id)
    await repo.forget_citizen(uow.session, citizen_id)
    await repo.delete_contact(uow.session, citizen_id)
    links = await repo.erase_citizen_links(uow.session, citizen_id)
    await erasure.forget_copies(uow, citizen_id)
    return links


async def forget_ended_journeys(uow: UnitOfWork, ended_before: datetime) -> int:
    """Retention: citizens whose journey ended before `ended_before` are forgotten as on erasure
    (links, their contact row, deliveries' addresses and variables); returns how many."""
    gone = await repo.journeys_ended_before(uow.session, ended_before)
    for citizen_id in gone:
        await erase_citizen(uow, citizen_id)
        await repo.forget_journey_end(uow.session, citizen_id)
    return len(gone)


class CannotResend(Exception):
    """Only a failed or uncertain delivery can be sent again."""


async def resend(uow: UnitOfWork, notification: str) -> bool:
    """An operator's decision: send a failed or uncertain delivery again, with a fresh
    count of attempts. False when there is no such delivery. The e-mail keeps its
    Message-ID, so a receiver that got the first copy can still drop the second."""
    row = await repo.find_delivery(uow.session, notification)
    if row is None:
        return False
    retryable = (DeliveryStatus.failed, DeliveryStatus.uncertain)
    if not await repo.update_delivery(uow.session, row.seq, only_if=retryable, status=DeliveryStatus.pending.value,
                                      attempts=0, next_attempt_at=datetime.now(UTC)):
        raise CannotResend(f"delivery {notification} is {row.status}; only failed or uncertain ones can be resent")
    return True
