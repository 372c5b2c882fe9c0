"""The words of the notify domain: channels, roles, delivery states, contacts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import time
from enum import Enum

LANGUAGES = ("da", "sv", "en")
"""Languages every template exists in."""


FOLLOWING_REFERRER = "referral:"
"""Recipient ids `referral:<referral_id>`: the person who made that referral and asked to
hear about milestones. Like citizens', their contact details stay with referral."""


def following_referrer(referral_id: str) -> str:
    return f"{FOLLOWING_REFERRER}{referral_id}"


def details_held_by_referral(role: str, recipient_id: str | None) -> bool:
    """Citizens and following referrers: asked of referral at send time, never stored here."""
    return role == "citizen" or (recipient_id or "").startswith(FOLLOWING_REFERRER)


class Channel(str, Enum):
    email = "email"
    sms = "sms"
    webhook = "webhook"


class DeliveryStatus(str, Enum):
    awaiting_recipient = "awaiting_recipient"
    """The recipient, or their contact details, is not known yet; sent once they are."""
    pending = "pending"
    """Ready to send at `next_attempt_at` (a retry or a quiet-hour deferral waits here)."""
    sending = "sending"
    """Handed to the channel; the outcome is not recorded yet. Left over after a crash it means: uncertain."""
    sent = "sent"
    failed = "failed"
    uncertain = "uncertain"
    """The channel may or may not have delivered it: an operator decides; never resent automatically."""
    suppressed = "suppressed"
    """The recipient opted out of every channel the rule allows."""
    cancelled = "cancelled"
    """The citizen it was about was erased before it went out."""


@dataclass(frozen=True)
class QuietHours:
    """A daily window (local time) in which no SMS goes out; it may wrap past midnight."""

    start: time
    end: time

    @classmethod
    def parse(cls, text: str) -> "QuietHours":
        """`"21:00-08:00"` -> QuietHours(21:00, 08:00)."""
        try:
            start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
        except ValueError as exc:
            raise ValueError(f"quiet hours must look like 21:00-08:00, not {text!r}") from exc
        if start == end:
            raise ValueError("quiet hours must not start and end at the same time")
        return cls(start, end)

    def __str__(self) -> str:
        return f"{self.start:%H:%M}-{self.end:%H:%M}"


@dataclass(frozen=True)
class Contact:
    """How to reach one staff member, volunteer or organisation, and what they want."""

    recipient_id: str
    role: str
    display_name: str
    language: str = "da"
    email: str | None = None
    phone: str | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = field(default=None, repr=False)
    """The receiver's own key for signing webhooks; None: the service's WEBHOOK_SECRET."""
    preferred_channel: Channel | None = None
    opted_out: frozenset[Channel] = field(default_factory=frozenset)
    quiet_hours: QuietHours | None = None
    """None: the service's default quiet hours apply."""
    timezone: str | None = None
    """IANA zone of the quiet hours; None: the service's default zone."""
    organisation: str | None = None
    """Whose coordinators entered it and alone may read or change it (None: the instance's)."""

    def address(self, channel: Channel) -> str | None:
        return {Channel.email: self.email, Channel.sms: self.phone, Channel.webhook: self.webhook_url}[channel]


def new_notification_id() -> uuid.UUID:
    """A delivery's id: random, given once when its recipient and channel are known and
    stored with it, so a retry or an operator's resend keeps it (the receiver can drop a
    repeat). Never derived from the recipient, who may be the citizen: after an erasure
    the id must lead to no one. The delivery itself is unique by (event, recipient, channel)."""
    return uuid.uuid4()


def message_id(notification: uuid.UUID, domain: str) -> str:
    """RFC 5322 Message-ID derived from the delivery key: receivers can drop repeats."""
    return f"<{notification}@{domain}>"
