"""The dispatcher: sends due deliveries, one replica at a time (it holds a lease).

Never twice: a delivery is marked `sending` in a committed transaction before
the channel is called. If the process dies after that, the row is still
`sending` when a dispatcher next takes the lease; it cannot know whether the
message went out, so it records the delivery as uncertain and tells an operator
(`NotificationFailed`), instead of sending again. E-mails also carry a
Message-ID derived from the delivery key, so a receiver can drop a repeat.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Callable, Protocol

import sqlalchemy as sa

from brobygger_contracts.events.notify import FailureReason
from brobygger_runtime.singleton import SingletonLoop
from notify.adapters import repository as repo
from notify.adapters.channels import DeliveryError, OutgoingMessage
from notify.adapters.citizen_contacts import CitizenContacts
from notify.adapters.metrics import NotifyMetrics
from notify.adapters.templates import RenderedMessage, TemplateLibrary, TemplateProblem
from notify.domain.masking import mask
from notify.domain.model import (
    FOLLOWING_REFERRER, LANGUAGES, Channel, Contact, DeliveryStatus, QuietHours, details_held_by_referral,
)
from notify.domain.preferences import quiet_until
from notify.domain.resilience import CircuitBreaker, backoff_seconds
from notify.service_layer.notifications import TOO_LATE
from notify.service_layer.outcomes import record_failed, record_sent

if TYPE_CHECKING:
    from brobygger_runtime.service import ServiceRuntime

log = logging.getLogger(__name__)

UNCERTAIN_AFTER_CRASH = "delivery uncertain after crash"
NO_CHANNEL = "no_channel: the citizen has no e-mail address and no mobile number; their guide calls or writes a letter"
NO_LONGER_FOLLOWS = "the referrer no longer follows the citizen (referral gives out no details)"


class ChannelAdapter(Protocol):
    channel: Channel

    async def send(self, message: OutgoingMessage) -> None: ...


@dataclass(frozen=True)
class DispatchPolicy:
    max_attempts: int = 5
    backoff_seconds: float = 2.0
    backoff_max_seconds: float = 300.0
    breaker_threshold: int = 5
    breaker_cooldown_seconds: float = 60.0
    poll_seconds: float = 1.0
    batch_size: int = 50
    quiet_hours: QuietHours = QuietHours.parse("21:00-08:00")
    timezone: str = "Europe/Copenhagen"


def utc_now() -> datetime:
    return datetime.now(UTC)


class Dispatcher:
    def __init__(self, runtime: "ServiceRuntime", templates: TemplateLibrary, channels: list[ChannelAdapter],
                 policy: DispatchPolicy, clock: Callable[[], datetime] = utc_now,
                 citizen_contacts: CitizenContacts | None = None) -> None:
        self.runtime = runtime
        self.templates = templates
        self.channels = {c.channel: c for c in channels}
        self.policy = policy
        self.clock = clock
        self.citizen_contacts = citizen_contacts
        self.breakers = {c: CircuitBreaker(policy.breaker_threshold, policy.breaker_cooldown_seconds) for c in Channel}
        self.metrics = NotifyMetrics(runtime.metrics.registry)
        self.loop = SingletonLoop(runtime, f"notify-dispatcher:{runtime.settings.service_name}", policy.poll_seconds,
                                  self._dispatch_all, on_acquired=self.recover_interrupted)

    # --- the loop ---------------------------------------------------------------

    def wake(self) -> None:
        self.loop.wake()

    def start(self) -> None:
        self.loop.start()

    async def stop(self) -> None:
        await self.loop.stop()

    async def _dispatch_all(self) -> None:
        while await self.dispatch_due() >= self.policy.batch_size:
            pass  # a full batch: there may be more

    # --- one round ----------------------------------------------------------------

    async def recover_interrupted(self) -> int:
        """Deliveries a dead dispatcher left `sending`: uncertain, for an operator; not resent."""
        async with self.runtime.unit_of_work() as uow:
            recorded = 0
            for row in await repo.interrupted(uow.session):
                recorded += await record_failed(uow, row, UNCERTAIN_AFTER_CRASH, self.clock(),
                                                status=DeliveryStatus.uncertain, only_if=(DeliveryStatus.sending,))
        if recorded:
            log.warning("%d deliveries were interrupted by a crash; recorded as uncertain", recorded)
        return recorded

    async def dispatch_due(self) -> int:
        """Try every due delivery once; returns how many moved on (a full batch: look again)."""
        now = time.monotonic()
        resting = [c.value for c, breaker in self.breakers.items() if not breaker.allows(now)]
        async with self.runtime.db.sessions() as session:
            rows = await repo.due_deliveries(session, self.clock(), self.policy.batch_size, skip_channels=resting)
        moved = 0
        for row in rows:
            if self.loop.stopping:
                break
            moved += await self.deliver(row)
        return moved

    async def deliver(self, row: sa.Row) -> bool:
        """Send one due delivery, or record why not; False when it was left as it was."""
        channel = Channel(row.channel)
        now = self.clock()
        if row.expires_at is not None and now >= row.expires_at:  # e.g. deferred past the visit by quiet hours or retries
            return await self._close(row, DeliveryStatus.cancelled, TOO_LATE, outcome="expired")
        try:
            contact = await self.contact_of(row)
        except DeliveryError as exc:  # the owner of the details did not answer: nothing was sent
            await self._record_error(row, exc, row.attempts + 1, current=DeliveryStatus.pending)
            return True
        address = contact.address(channel) if contact else None
        if contact is None and (row.recipient_id or "").startswith(FOLLOWING_REFERRER):
            # Their consent to hear is theirs to withdraw: referral stopped handing out their details.
            return await self._close(row, DeliveryStatus.suppressed, NO_LONGER_FOLLOWS, outcome="suppressed")
        if contact is not None and not address and not contact.email and not contact.phone and row.recipient_role == "citizen":
            # No e-mail, no mobile: a person must call or write (journey gives the guide a task; the letter
            # prints from GET /deliveries/{id}/letter). The guide's to act on, not an error for IT.
            async with self.runtime.unit_of_work() as uow:
                await record_failed(uow, row, NO_CHANNEL, now, attempts=row.attempts + 1,
                                    only_if=(DeliveryStatus.pending,), reason=FailureReason.no_channel)
            self._count(channel, "no_channel")
            return True
        if contact is None or not address:
            cause = (f"referral gives no contact details to {self.runtime.settings.org_id} (no consent, or unknown citizen)"
                     if contact is None and details_held_by_referral(row.recipient_role, row.recipient_id)
                     else f"recipient has no {channel.value} address")
            async with self.runtime.unit_of_work() as uow:
                await record_failed(uow, row, cause, now, attempts=row.attempts + 1, only_if=(DeliveryStatus.pending,))
            return True
        if channel is Channel.sms and await self._defer_for_quiet_hours(row, contact, now):
            return True
        try:
            language, rendered = self.compose(row, contact)
        except TemplateProblem as exc:
            async with self.runtime.unit_of_work() as uow:
                await record_failed(uow, row, str(exc), now, attempts=row.attempts + 1, only_if=(DeliveryStatus.pending,))
            return True
        if not self.breakers[channel].allows(time.monotonic()):
            return False  # the channel is resting; the delivery stays pending
        if not await self.loop.hold_lease() or not await self._mark_sending(row):
            return False  # another replica took over, or already sent it
        message = OutgoingMessage(
            notification_id=uuid.UUID(row.notification_id), source_event_id=row.source_event_id,
            template=row.template, language=language, address=address,
            subject=rendered.subject, body=rendered.body, signing_secret=contact.webhook_secret,
        )
        await self._send(row, channel, message, mask(channel, address))
        return True

    def compose(self, row: sa.Row, contact: Contact) -> tuple[str, RenderedMessage]:
        """The message of a delivery for its reader: their language, name and time zone (also the printed letter)."""
        language = contact.language if contact.language in LANGUAGES else "en"
        variables = {**(row.variables or {}), "recipient_name": contact.display_name}
        return language, self.templates.render(row.template, language, variables, contact.timezone or self.policy.timezone)

    async def _close(self, row: sa.Row, status: DeliveryStatus, reason: str, outcome: str) -> bool:
        """End a pending delivery without sending it (no failure: nothing for an operator to do)."""
        async with self.runtime.db.transaction() as session:
            await repo.update_delivery(session, row.seq, only_if=(DeliveryStatus.pending,), status=status.value,
                                       last_error=reason)
        self._count(Channel(row.channel), outcome)
        return True

    async def contact_of(self, row: sa.Row) -> Contact | None:
        """Staff and volunteers from the directory; citizens from their owner, at send time."""
        if row.recipient_id is None:
            return None
        if details_held_by_referral(row.recipient_role, row.recipient_id):
            return await self.citizen_contacts.fetch(row.recipient_id) if self.citizen_contacts else None
        async with self.runtime.db.sessions() as session:
            return await repo.get_contact(session, row.recipient_id)

    async def _mark_sending(self, row: sa.Row) -> bool:
        """Committed before the channel is called: the crash-safety line."""
        async with self.runtime.db.transaction() as session:
            return await repo.update_delivery(
                session, row.seq, only_if=(DeliveryStatus.pending,),
                status=DeliveryStatus.sending.value, attempts=row.attempts + 1,
            )

    async def _send(self, row: sa.Row, channel: Channel, message: OutgoingMessage, masked_address: str) -> None:
        breaker = self.breakers[channel]
        attempts = row.attempts + 1
        try:
            adapter = self.channels.get(channel)
            if adapter is None:
                raise DeliveryError(f"channel {channel.value} is not configured", retryable=False)
            await adapter.send(message)
        except DeliveryError as exc:
            if exc.retryable or exc.maybe_delivered:
                breaker.record_failure(time.monotonic())
            self._count(channel, await self._record_error(row, exc, attempts))
            return
        except Exception as exc:  # noqa: BLE001 - an unknown failure might have sent it
            breaker.record_failure(time.monotonic())
            unknown = DeliveryError(f"unexpected {type(exc).__name__}", retryable=False, maybe_delivered=True)
            self._count(channel, await self._record_error(row, unknown, attempts))
            return
        breaker.record_success()
        self._count(channel, "sent")
        async with self.runtime.unit_of_work() as uow:
            await record_sent(uow, row, self.clock(), message.language, masked_address)

    def _count(self, channel: Channel, outcome: str) -> None:
        self.metrics.messages.labels(channel.value, outcome).inc()
        self.metrics.circuit_open.labels(channel.value).set(1 if self.breakers[channel].is_open else 0)

    async def refresh_gauges(self) -> None:
        async with self.runtime.db.sessions() as session:
            counts = await repo.count_by_status(session)
        for status in DeliveryStatus:
            self.metrics.deliveries.labels(status.value).set(counts.get(status.value, 0))

    async def _record_error(self, row: sa.Row, error: DeliveryError, attempts: int,
                            current: DeliveryStatus = DeliveryStatus.sending) -> str:
        """Record a failed try; returns the outcome: uncertain, retry or failed."""
        now = self.clock()
        async with self.runtime.unit_of_work() as uow:
            if error.maybe_delivered:
                await record_failed(uow, row, f"delivery uncertain: {error.cause}", now,
                                    status=DeliveryStatus.uncertain, attempts=attempts, only_if=(current,))
                return "uncertain"
            if error.retryable and attempts < self.policy.max_attempts:
                delay = backoff_seconds(attempts, self.policy.backoff_seconds, self.policy.backoff_max_seconds)
                await repo.update_delivery(
                    uow.session, row.seq, only_if=(current,), status=DeliveryStatus.pending.value, attempts=attempts,
                    last_error=error.cause, next_attempt_at=now + timedelta(seconds=delay),
                )
                log.info("delivery %s failed (attempt %d), retrying in %.1fs: %s", row.notification_id, attempts, delay, error.cause)
                return "retry"
            await record_failed(uow, row, error.cause, now, attempts=attempts, only_if=(current,))
            return "failed"

    async def _defer_for_quiet_hours(self, row: sa.Row, contact: Contact, now: datetime) -> bool:
        hours = contact.quiet_hours or self.policy.quiet_hours
        until = quiet_until(now, hours, contact.timezone or self.policy.timezone)
        if until is None:
            return False
        async with self.runtime.db.transaction() as session:
            await repo.update_delivery(session, row.seq, only_if=(DeliveryStatus.pending,), next_attempt_at=until)
        self._count(Channel.sms, "deferred")
        return True
