"""Recording what happened to a delivery, with the event that tells the others."""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa

from brobygger_contracts.events.notify import Channel as WireChannel
from brobygger_contracts.events.notify import FailureReason, NotificationFailed, NotificationSent, RecipientRole
from brobygger_runtime.tracing import continuing
from brobygger_runtime.unit_of_work import UnitOfWork
from notify.adapters import repository as repo
from notify.domain.model import DeliveryStatus


async def record_sent(uow: UnitOfWork, row: sa.Row, sent_at: datetime, language: str, masked_address: str) -> bool:
    """`language` and `masked_address` as sent: for a citizen they are known only at send time."""
    updated = await repo.update_delivery(
        uow.session, row.seq, only_if=(DeliveryStatus.sending, DeliveryStatus.uncertain),
        status=DeliveryStatus.sent.value, sent_at=sent_at, last_error=None, next_attempt_at=None,
        language=language, masked_address=masked_address,
    )
    if updated:
        with continuing(uow.runtime.tracer, "notification sent", row.traceparent):
            await uow.publish(NotificationSent(
                notification_id=uuid.UUID(row.notification_id), source_event_id=row.source_event_id,
                recipient_id=row.recipient_id, recipient_role=RecipientRole(row.recipient_role),
                channel=WireChannel(row.channel), template=row.template, language=language, sent_at=sent_at,
            ))
    return updated


async def record_failed(uow: UnitOfWork, row: sa.Row, cause: str, failed_at: datetime, *,
                        status: DeliveryStatus = DeliveryStatus.failed, attempts: int | None = None,
                        only_if: tuple[DeliveryStatus, ...] = (), reason: FailureReason | None = None) -> bool:
    """Give up on a delivery (failed, or uncertain for an operator to judge) and say so: why as a code
    (`no_channel` is the citizen's guide's to act on, the rest the operators'), for whom and about whom.

    With `only_if`, nothing happens unless the delivery is still in one of those
    states: two dispatchers taking stock at once report a leftover only once.
    """
    cause = cause[:500]
    attempts = max(1, attempts if attempts is not None else row.attempts)
    updated = await repo.update_delivery(uow.session, row.seq, only_if=only_if, status=status.value,
                                         last_error=cause, next_attempt_at=None, attempts=attempts)
    if not updated:
        return False
    with continuing(uow.runtime.tracer, "notification failed", row.traceparent):
        await uow.publish(NotificationFailed(
            notification_id=uuid.UUID(row.notification_id), source_event_id=row.source_event_id,
            recipient_id=row.recipient_id, channel=WireChannel(row.channel), cause=cause,
            attempts=attempts, failed_at=failed_at,
            reason=reason or (FailureReason.uncertain if status is DeliveryStatus.uncertain else FailureReason.channel_failed),
            recipient_role=RecipientRole(row.recipient_role),
            citizen_id=uuid.UUID(row.citizen_id) if row.citizen_id else None,
        ))
    return True
