"""HTTP: the contact directory and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, SecretStr, field_validator

from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from notify.adapters import repository as repo
from notify.domain.model import Channel, Contact, DeliveryStatus, QuietHours
from notify.domain.rules import ROLES
from notify.service_layer import notifications

router = APIRouter(tags=["notify"])

Role = Literal[ROLES]  # type: ignore[valid-type]


class ContactIn(BaseModel):
    """How to reach a staff member, volunteer or organisation. The only place notify keeps contact details."""

    model_config = ConfigDict(extra="forbid")

    recipient_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._:-]+$",
                              description="the pseudonymous id events use (guide_id, candidate_id, facilitator_id ...)")
    role: Role
    display_name: str = Field(min_length=1, max_length=200, description="how the message greets them")
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 ]{5,19}$")
    webhook_url: AnyHttpUrl | None = None
    webhook_secret: SecretStr | None = Field(
        default=None, min_length=16, max_length=200,
        description="the receiver's own key for the webhook signature (write-only; left out, the stored one is kept)")
    language: Literal["da", "sv", "en"] = "da"
    preferred_channel: Channel | None = None
    opted_out: list[Channel] = Field(default_factory=list, description="channels they do not want messages by")
    quiet_hours: str | None = Field(default=None, description="no SMS in this local window, e.g. 21:00-08:00; deferred, not dropped")
    timezone: str | None = Field(default=None, description="IANA zone of the quiet hours, e.g. Europe/Stockholm")

    @field_validator("quiet_hours")
    @classmethod
    def _quiet_hours(cls, value: str | None) -> str | None:
        return str(QuietHours.parse(value)) if value else None

    @field_validator("timezone")
    @classmethod
    def _timezone(cls, value: str | None) -> str | None:
        if value:
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as exc:
                raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def to_domain(self) -> Contact:
        return Contact(
            recipient_id=self.recipient_id, role=self.role, display_name=self.display_name, language=self.language,
            email=self.email, phone=self.phone, webhook_url=str(self.webhook_url) if self.webhook_url else None,
            webhook_secret=self.webhook_secret.get_secret_value() if self.webhook_secret else None,
            preferred_channel=self.preferred_channel, opted_out=frozenset(self.opted_out),
            quiet_hours=QuietHours.parse(self.quiet_hours) if self.quiet_hours else None, timezone=self.timezone,
        )


class ContactOut(BaseModel):
    recipient_id: str
    role: str
    display_name: str
    email: str | None
    phone: str | None
    webhook_url: str | None
    webhook_secret_set: bool = False
    """Whether the receiver has a key of its own (the key itself is never shown)."""
    language: str
    preferred_channel: Channel | None
    opted_out: list[Channel]
    quiet_hours: str | None
    timezone: str | None

    @classmethod
    def of(cls, c: Contact) -> "ContactOut":
        return cls(
            recipient_id=c.recipient_id, role=c.role, display_name=c.display_name, email=c.email, phone=c.phone,
            webhook_url=c.webhook_url, webhook_secret_set=bool(c.webhook_secret), language=c.language,
            preferred_channel=c.preferred_channel,
            opted_out=sorted(c.opted_out, key=lambda ch: ch.value),
            quiet_hours=str(c.quiet_hours) if c.quiet_hours else None, timezone=c.timezone,
        )


class DeliveryOut(BaseModel):
    """One line of the delivery log: who, how, when and the outcome; the address masked."""

    notification_id: str | None
    source_event_id: str
    source_event_type: str
    recipient_id: str | None
    recipient_role: str
    channel: str | None
    masked_address: str | None
    template: str
    language: str | None
    status: DeliveryStatus
    attempts: int
    last_error: str | None
    created_at: datetime
    next_attempt_at: datetime | None
    send_after: datetime | None = None
    """A reminder goes out from this moment..."""
    expires_at: datetime | None = None
    """...and not once this one (the visit) has come."""
    sent_at: datetime | None


@router.post("/contacts", response_model=ContactOut, status_code=201)
async def put_contact(body: ContactIn, response: Response, runtime: ServiceRuntime = Depends(runtime_of)) -> ContactOut:
    """Enter or update a contact. Messages that waited for this recipient go out now."""
    async with runtime.unit_of_work() as uow:
        created = await notifications.register_contact(uow, body.to_domain())
        stored = await repo.get_contact(uow.session, body.recipient_id)  # a kept webhook key included
    runtime.dispatcher.wake()  # type: ignore[attr-defined]
    if not created:
        response.status_code = 200
    return ContactOut.of(stored)


@router.get("/contacts/{recipient_id}", response_model=ContactOut)
async def get_contact(recipient_id: str, runtime: ServiceRuntime = Depends(runtime_of)) -> ContactOut:
    async with runtime.db.sessions() as session:
        contact = await repo.get_contact(session, recipient_id)
    if contact is None:
        raise HTTPException(404, f"no contact {recipient_id}")
    return ContactOut.of(contact)


def _delivery_out(r) -> DeliveryOut:  # noqa: ANN001
    return DeliveryOut(
        notification_id=r.notification_id, source_event_id=r.source_event_id, source_event_type=r.source_event_type,
        recipient_id=r.recipient_id, recipient_role=r.recipient_role, channel=r.channel,
        masked_address=r.masked_address, template=r.template, language=r.language, status=DeliveryStatus(r.status),
        attempts=r.attempts, last_error=r.last_error, created_at=r.created_at,
        next_attempt_at=r.next_attempt_at, send_after=r.send_after,
        expires_at=r.expires_at, sent_at=r.sent_at,
    )


@router.post("/deliveries/{notification_id}/resend", response_model=DeliveryOut)
async def resend_delivery(notification_id: str, runtime: ServiceRuntime = Depends(runtime_of)) -> DeliveryOut:
    """An operator sends a failed or uncertain delivery again (uncertain ones are never resent by themselves)."""
    try:
        async with runtime.unit_of_work() as uow:
            found = await notifications.resend(uow, notification_id)
    except notifications.CannotResend as exc:
        raise HTTPException(409, str(exc)) from exc
    if not found:
        raise HTTPException(404, f"no delivery {notification_id}")
    runtime.dispatcher.wake()  # type: ignore[attr-defined]
    async with runtime.db.sessions() as session:
        return _delivery_out(await repo.find_delivery(session, notification_id))


@router.get("/deliveries", response_model=list[DeliveryOut])
async def list_deliveries(
    runtime: ServiceRuntime = Depends(runtime_of),
    recipient_id: str | None = None,
    status: DeliveryStatus | None = None,
    source_event_id: str | None = None,
    limit: int = Query(default=100, ge=1, le=1000),
) -> list[DeliveryOut]:
    """What was sent to whom, when, by which channel, with the outcome; newest first."""
    async with runtime.db.sessions() as session:
        rows = await repo.delivery_log(session, recipient_id=recipient_id, status=status.value if status else None,
                                       source_event_id=source_event_id, limit=limit)
    return [_delivery_out(r) for r in rows]
