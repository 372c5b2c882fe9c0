"""HTTP: the contact directory and the delivery log."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query, Response
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import AnyHttpUrl, BaseModel, UrlConstraints, ConfigDict, Field, SecretStr, field_validator

from brobygger_runtime.auth.route_guard import refusal, require_own_organisation
from brobygger_runtime.paging import DEFAULT_LIMIT, Limit, Offset
from brobygger_runtime.text import line
from brobygger_runtime import access_log
from brobygger_runtime.auth import Caller, requires
from brobygger_runtime.auth import Role as CallerRole
from brobygger_runtime.http import runtime_of
from brobygger_runtime.service import ServiceRuntime
from notify.adapters import letters, repository as repo
from notify.adapters.templates import TemplateProblem
from notify.adapters.webhook_address import WebhookRefused
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
    display_name: line(200) = Field(description="how the message greets them")  # type: ignore[valid-type]
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    phone: str | None = Field(default=None, pattern=r"^\+?[0-9][0-9 ]{5,19}$")
    webhook_url: Annotated[AnyHttpUrl, UrlConstraints(max_length=500)] | None = Field(
        default=None, description="https to a public address (WEBHOOK_ALLOWED_HOSTS excepted); checked again at every send")
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


class ContactSaved(ContactOut):
    issued_webhook_secret: str | None = None
    """Only when the webhook URL changed without a key of the receiver's own: the fresh signing
    key, shown this once (the old key never signs for a new address)."""


class DeliveryStatusOut(BaseModel):
    """A line of the delivery log as an operator sees it: no person (no recipient, address,
    name or error text), only ids, channel, status, attempts and times."""

    notification_id: str | None
    source_event_id: str
    source_event_type: str
    recipient_role: str
    channel: str | None
    status: DeliveryStatus
    attempts: int
    created_at: datetime
    next_attempt_at: datetime | None
    sent_at: datetime | None


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


CONTACT_FIELDS = ("display_name", "email", "phone", "webhook_url")


def _of_this_instance(caller: Caller, runtime: ServiceRuntime) -> None:
    """The delivery log is the instance's: only its own organisation's staff see it."""
    org = runtime.settings.org_id
    require_own_organisation(caller, org, f"the delivery log of this instance belongs to {org}")


@router.post("/contacts", response_model=ContactSaved, status_code=201)
async def put_contact(
    body: ContactIn, response: Response, runtime: ServiceRuntime = Depends(runtime_of),
    caller: Caller = Depends(requires(CallerRole.coordinator)),
) -> ContactSaved:
    """Enter or update a contact of the caller's organisation. Messages that waited for this recipient go out now.

    A contact belongs to the organisation whose coordinator entered it; another organisation's
    coordinator can neither read nor change it (403). A webhook must be https to a public address
    (422 with the reason otherwise); a changed webhook URL never keeps the old signing key."""
    instance_org = runtime.settings.org_id
    if body.role == "referrer" and body.recipient_id != caller.organisation and caller.organisation != instance_org:
        # a referring organisation's milestone news: only that organisation, or the instance's owner, names it
        raise refusal(403, "not_owner", f"a referrer contact other than {caller.organisation} is entered by {instance_org}")
    if body.role == "operator" and caller.organisation != instance_org:
        # the operators who hear about this instance's failed deliveries are its own organisation's
        raise refusal(403, "not_owner", f"the operators of this instance are entered by {instance_org}")
    if body.webhook_url is not None:
        try:
            await runtime.webhook_policy.check(str(body.webhook_url))  # type: ignore[attr-defined]
        except WebhookRefused as exc:
            raise refusal(422, "webhook_refused", exc.reason) from exc
    try:
        async with runtime.unit_of_work() as uow:
            saved = await notifications.register_contact(uow, body.to_domain(), owner=caller.organisation,
                                                         legacy_owner=instance_org)
    except notifications.NotTheOwner as exc:
        raise refusal(403, "not_owner", str(exc)) from exc
    runtime.dispatcher.wake()  # type: ignore[attr-defined]
    if not saved.created:
        response.status_code = 200
    return ContactSaved(**ContactOut.of(saved.contact).model_dump(), issued_webhook_secret=saved.issued_webhook_secret)


@router.get("/contacts/{recipient_id}", response_model=ContactOut)
async def get_contact(
    recipient_id: str, runtime: ServiceRuntime = Depends(runtime_of),
    caller: Caller = Depends(requires(CallerRole.coordinator)),
) -> ContactOut:
    """A contact of the caller's own organisation (404 for another's: its existence is not told). Logged."""
    async with runtime.db.transaction() as session:
        contact = await repo.get_contact(session, recipient_id)
        owned = contact is not None and (contact.organisation or runtime.settings.org_id) == caller.organisation
        if contact is not None:
            await access_log.record(session, runtime.tables.access_log, caller, recipient_id, fields=CONTACT_FIELDS,
                                    purpose="contact directory", allowed=owned)
    if not owned:
        raise refusal(404, "not_found", f"no contact {recipient_id}")
    return ContactOut.of(contact)


DELIVERY_FIELDS = ("recipient_id", "masked_address", "template", "status")


def _delivery_out(r) -> DeliveryOut:  # noqa: ANN001
    return DeliveryOut(
        notification_id=r.notification_id, source_event_id=r.source_event_id, source_event_type=r.source_event_type,
        recipient_id=r.recipient_id, recipient_role=r.recipient_role, channel=r.channel,
        masked_address=r.masked_address, template=r.template, language=r.language, status=DeliveryStatus(r.status),
        attempts=r.attempts, last_error=r.last_error, created_at=r.created_at,
        next_attempt_at=r.next_attempt_at, send_after=r.send_after,
        expires_at=r.expires_at, sent_at=r.sent_at,
    )


def _delivery_status_out(r) -> DeliveryStatusOut:  # noqa: ANN001
    return DeliveryStatusOut(
        notification_id=r.notification_id, source_event_id=r.source_event_id, source_event_type=r.source_event_type,
        recipient_role=r.recipient_role, channel=r.channel, status=DeliveryStatus(r.status), attempts=r.attempts,
        created_at=r.created_at, next_attempt_at=r.next_attempt_at, sent_at=r.sent_at,
    )


@router.post("/deliveries/{notification_id}/resend", response_model=DeliveryOut)
async def resend_delivery(
    notification_id: str, runtime: ServiceRuntime = Depends(runtime_of),
    caller: Caller = Depends(requires(CallerRole.coordinator)),
) -> DeliveryOut:
    """The instance's coordinator sends a failed or uncertain delivery again (uncertain ones are never resent by themselves)."""
    _of_this_instance(caller, runtime)
    try:
        async with runtime.unit_of_work() as uow:
            found = await notifications.resend(uow, notification_id)
    except notifications.CannotResend as exc:
        raise refusal(409, "cannot_resend", str(exc)) from exc
    if not found:
        raise refusal(404, "not_found", f"no delivery {notification_id}")
    runtime.dispatcher.wake()  # type: ignore[attr-defined]
    async with runtime.db.sessions() as session:
        return _delivery_out(await repo.find_delivery(session, notification_id))


@router.get("/deliveries", response_model=None,
            responses={200: {"model": list[DeliveryOut],
                             "description": "coordinators: DeliveryOut; operators: DeliveryStatusOut (no person)"}})
async def list_deliveries(
    runtime: ServiceRuntime = Depends(runtime_of),
    caller: Caller = Depends(requires(CallerRole.coordinator, CallerRole.operator)),
    recipient_id: str | None = None,
    status: DeliveryStatus | None = None,
    source_event_id: str | None = None,
    limit: Limit = DEFAULT_LIMIT,
    offset: Offset = 0,
) -> JSONResponse:
    """What was sent to whom, when, by which channel, with the outcome; newest first, a page at a time.
    The instance's coordinators see the lines; its operators the same lines without any person."""
    _of_this_instance(caller, runtime)
    staff = caller.has(CallerRole.coordinator)
    if recipient_id is not None and not staff:
        raise refusal(403, "no_person_for_operators", "operators see deliveries without persons: no recipient filter")
    async with runtime.db.transaction() as session:
        rows = await repo.delivery_log(session, recipient_id=recipient_id, status=status.value if status else None,
                                       source_event_id=source_event_id, limit=limit, offset=offset)
        if staff:  # each person shown (id, masked address) is a read of their data
            for person in sorted({r.recipient_id for r in rows if r.recipient_id}):
                await access_log.record(session, runtime.tables.access_log, caller, person,
                                        fields=DELIVERY_FIELDS, purpose="delivery log", allowed=True)
    lines = [_delivery_out(r) if staff else _delivery_status_out(r) for r in rows]
    return JSONResponse(jsonable_encoder(lines))


LETTER_FIELDS = ("display_name",)


@router.get("/deliveries/{notification_id}/letter", response_model=None,
            responses={200: {"content": {"text/plain": {}, "text/html": {}}}})
async def printable_letter(
    notification_id: str, runtime: ServiceRuntime = Depends(runtime_of),
    caller: Caller = Depends(requires(CallerRole.guide, CallerRole.coordinator)),
    format: Literal["text", "html"] = Query("text", description="text (default) or html: a page to print"),
) -> Response:
    """A message to a citizen as a letter to print and post (for a citizen with no e-mail and no mobile):
    the same template, in the citizen's language, greeting them by the name referral holds. For the
    citizen's guide (their login subject, of the organisation they guide for) and this instance's
    coordinators; anyone else, or a message not to a citizen: 404. Logged (the name is read)."""
    async with runtime.db.sessions() as session:
        row = await repo.find_delivery(session, notification_id)
        guide = await repo.guide_with_org(session, row.citizen_id) if row is not None and row.citizen_id else None
    is_guide = guide is not None and caller.has(CallerRole.guide) and (caller.subject, caller.organisation) == guide
    is_coordinator = caller.has(CallerRole.coordinator) and caller.organisation == runtime.settings.org_id
    allowed = row is not None and row.recipient_role == "citizen" and row.recipient_id and (is_guide or is_coordinator)
    if row is not None and row.recipient_id:
        async with runtime.db.transaction() as session:
            await access_log.record(session, runtime.tables.access_log, caller, row.recipient_id, fields=LETTER_FIELDS,
                                    purpose="printed letter", allowed=bool(allowed))
    if not allowed:
        raise refusal(404, "not_found", f"no letter {notification_id}")
    dispatcher = runtime.dispatcher  # type: ignore[attr-defined]
    contact = await dispatcher.contact_of(row)
    if contact is None:  # referral no longer hands out the citizen's details (consent, erasure)
        raise refusal(404, "not_found", f"no letter {notification_id}")
    try:
        language, message = dispatcher.compose(row, contact)
    except TemplateProblem as exc:
        raise refusal(409, "template_problem", str(exc)) from exc
    if format == "html":
        return Response(letters.as_html(message, language), media_type="text/html; charset=utf-8")
    return Response(letters.as_text(message), media_type="text/plain; charset=utf-8")
