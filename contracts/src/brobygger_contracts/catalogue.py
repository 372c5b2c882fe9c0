"""The one list of event types and topics: who publishes what, where.

One topic per publishing service and major version, keyed by the subject id so
that one citizen's events stay in order; dead letters go to `<topic>.dlt`.
"""

from __future__ import annotations

from brobygger_contracts.base import Event
from brobygger_contracts.events import journey, matching, notify, referral

SERVICES = ("referral", "matching", "journey", "notify")

EVENTS: tuple[type[Event], ...] = (
    referral.ReferralReceived,
    referral.ReferralTriaged,
    referral.ReferralEscalated,
    referral.ConsentChanged,
    referral.CitizenErased,
    matching.VolunteerRegistered,
    matching.ActivityPublished,
    matching.MatchProposed,
    matching.MatchAccepted,
    matching.MatchDeclined,
    matching.GroupProposed,
    journey.GuideAssigned,
    journey.JourneyStateChanged,
    journey.NeedsClarified,
    journey.FirstVisitPlanned,
    journey.FirstVisitAccompanied,
    journey.FollowUpDue,
    journey.GroupFormed,
    journey.GroupBecameSelfRunning,
    journey.JourneyCompleted,
    notify.NotificationSent,
    notify.NotificationFailed,
)

EVENTS_BY_TYPE: dict[str, type[Event]] = {cls.event_type(): cls for cls in EVENTS}

DEAD_LETTER_SUFFIX = ".dlt"

EVENT_RETENTION_DAYS = 30
"""Events stay on the bus as long as the outboxes keep sent rows (OUTBOX_RETENTION_DAYS)."""
DEAD_LETTER_RETENTION_DAYS = 14
"""Dead letters carry whole payloads: two weeks to fix and replay, then gone."""


def topic_of_service(service: str, version: int = 1) -> str:
    """The topic a service publishes its events of one major version to."""
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}")
    return f"brobygger.{service}.v{version}"


def topic_for(event_type: type[Event]) -> str:
    return topic_of_service(event_type.publisher, event_type.version)


def dead_letter_topic(topic: str) -> str:
    return topic + DEAD_LETTER_SUFFIX


def retention_ms(topic: str) -> int:
    days = DEAD_LETTER_RETENTION_DAYS if topic.endswith(DEAD_LETTER_SUFFIX) else EVENT_RETENTION_DAYS
    return days * 24 * 3600 * 1000


def all_topics() -> list[str]:
    """Every topic of the catalogue with its dead-letter topic, for creating them."""
    topics = sorted({topic_for(cls) for cls in EVENTS})
    return topics + [dead_letter_topic(t) for t in topics]
