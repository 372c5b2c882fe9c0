"""Events published by notify about the messages it delivered or could not deliver."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from uuid import UUID

from pydantic import Field

from brobygger_contracts.base import Event
from brobygger_contracts.types import StaffId


class Channel(str, Enum):
    email = "email"
    sms = "sms"
    webhook = "webhook"


class RecipientRole(str, Enum):
    guide = "guide"
    volunteer = "volunteer"
    citizen = "citizen"
    referrer = "referrer"
    facilitator = "facilitator"
    coordinator = "coordinator"
    operator = "operator"


class FailureReason(str, Enum):
    """Why a message was given up, as a code (the cause's words are in `cause`)."""

    no_channel = "no_channel"
    """The citizen has neither an e-mail address nor a mobile number: their guide calls or writes a letter
    (a task for a person, not an error for operators)."""
    channel_failed = "channel_failed"
    """The channel refused or kept failing."""
    uncertain = "uncertain"
    """It may or may not have arrived (a crash or a broken conversation): an operator judges."""


class NotificationSent(Event, publisher="notify", subject="notification_id"):
    """A message was handed to its channel and accepted by it."""

    notification_id: UUID
    """The delivery's id."""
    source_event_id: str
    """The `ce_id` of the event the message is about."""
    recipient_id: StaffId
    """Pseudonymous id of the recipient."""
    recipient_role: RecipientRole
    """Why they were told."""
    channel: Channel
    """How."""
    template: str = Field(max_length=80)
    """The template used."""
    language: str = Field(pattern=r"^[a-z]{2}$")
    """The language the message was written in."""
    sent_at: datetime
    """When the channel accepted it."""


class NotificationFailed(Event, publisher="notify", subject="notification_id"):
    """A message could not be delivered after its retries."""

    notification_id: UUID
    """The delivery's id."""
    source_event_id: str
    """The `ce_id` of the event the message is about."""
    recipient_id: StaffId
    """Pseudonymous id of the recipient."""
    channel: Channel
    """The channel that failed."""
    cause: str = Field(max_length=500)
    """The last error, technical (never message content)."""
    attempts: int = Field(ge=1)
    """How many times delivery was tried."""
    failed_at: datetime
    """When it was given up."""
    reason: FailureReason | None = None
    """Why, as a code; empty from notify instances written before."""
    recipient_role: RecipientRole | None = None
    """Why the recipient was to be told (`citizen`: a message to the citizen themself)."""
    citizen_id: UUID | None = None
    """Pseudonymous id of the citizen the message was to or about, when it was about one."""
