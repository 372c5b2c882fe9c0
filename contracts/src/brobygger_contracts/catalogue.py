"""The one list of event types and topics: who publishes what, where.

A topic belongs to one publisher: one partnership, publishing service,
publishing organisation and major version,
`brobygger.<partnership>.<service>.<org>.v<major>`, keyed by the subject id so
that one citizen's events stay in order; dead letters go to `<topic>.dlt`.
The topic is the publisher's identity (DESIGN.md section 2): on real Kafka only
that organisation's principal for that service may write it, and consumers
check that a record's envelope agrees with the topic it came from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from brobygger_contracts.base import Event
from brobygger_contracts.events import friendships, journey, matching, notify, referral

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
    journey.ParticipationEnded,
    notify.NotificationSent,
    notify.NotificationFailed,
    friendships.VolunteerAsked,
    friendships.FriendshipAgreed,
    friendships.FriendshipCheckInDue,
    friendships.FriendshipEnded,
    journey.FollowUpRecorded,
)

EVENTS_BY_TYPE: dict[str, type[Event]] = {cls.event_type(): cls for cls in EVENTS}

DEAD_LETTER_SUFFIX = ".dlt"

EVENT_RETENTION_DAYS = 30
"""Events stay on the bus as long as the outboxes keep sent rows (OUTBOX_RETENTION_DAYS)."""
DEAD_LETTER_RETENTION_DAYS = 14
"""Dead letters carry whole payloads: two weeks to fix and replay, then gone."""


ID_PATTERN = r"[a-z0-9][a-z0-9-]{1,62}"
"""A partnership or organisation id: lowercase letters, digits and hyphens, no
dots (a dot would let one id's topics pass for another's)."""
_ID = re.compile(ID_PATTERN)


def check_id(kind: str, value: str) -> str:
    """`value` if it can be part of a topic name, else a ValueError saying why."""
    if not isinstance(value, str) or not _ID.fullmatch(value):
        raise ValueError(
            f"{kind} {value!r} must be 2-63 lowercase letters, digits and hyphens (no dots), starting with a "
            f"letter or digit: it is part of every topic name brobygger.<partnership>.<service>.<org>.v<major>"
        )
    return value


def _check_service(service: str) -> str:
    if service not in SERVICES:
        raise ValueError(f"unknown service {service!r}; one of {', '.join(SERVICES)}")
    return service


def topic_of_service(service: str, partnership: str, org: str, version: int = 1) -> str:
    """The topic `org`'s instance of `service` publishes its events of one major version to."""
    return (f"brobygger.{check_id('partnership', partnership)}.{_check_service(service)}."
            f"{check_id('organisation', org)}.v{version}")


def topic_template(service: str, version: int = 1) -> str:
    """The address of a service's topics with `{partnership}` and `{org}` left
    as parameters (the AsyncAPI channel address, the schemas' `x-topic`)."""
    return f"brobygger.{{partnership}}.{_check_service(service)}.{{org}}.v{version}"


def topic_for(event_type: type[Event], partnership: str, org: str) -> str:
    """The topic events of this type go to when `org` publishes them in `partnership`."""
    return topic_of_service(event_type.publisher, partnership, org, event_type.version)


def dead_letter_topic(topic: str) -> str:
    return topic + DEAD_LETTER_SUFFIX


class TopicName(NamedTuple):
    """A topic name read back into who publishes there."""

    partnership: str
    service: str
    org: str
    version: int
    is_dead_letter: bool

    @property
    def event_topic(self) -> str:
        """The event topic itself (for a dead-letter topic: the one it belongs to)."""
        return topic_of_service(self.service, self.partnership, self.org, self.version)


_SERVICE_ALTERNATIVES = "|".join(SERVICES)
_TOPIC = re.compile(
    rf"brobygger\.(?P<partnership>{ID_PATTERN})\.(?P<service>{_SERVICE_ALTERNATIVES})\.(?P<org>{ID_PATTERN})"
    rf"\.v(?P<version>[1-9][0-9]{{0,3}})(?P<dlt>{re.escape(DEAD_LETTER_SUFFIX)})?"
)


def parse_topic(name: str) -> TopicName | None:
    """Partnership, service, organisation, version and whether it is a
    dead-letter topic; None for a name that is not one of ours."""
    match = _TOPIC.fullmatch(name) if isinstance(name, str) else None
    if match is None:
        return None
    return TopicName(match["partnership"], match["service"], match["org"], int(match["version"]), bool(match["dlt"]))


def subscription_pattern(partnership: str, services: Iterable[str], versions: Iterable[int] = (1,)) -> str:
    """A regex (full match) of `partnership`'s event topics, of every organisation,
    published by `services` in these major versions; dead-letter topics and
    other partnerships' topics never match. A consumer subscribes with it so
    that an organisation joining later is read without a restart."""
    names = sorted({_check_service(s) for s in services})
    if not names:
        raise ValueError("subscribe to at least one service")
    majors = "|".join(str(v) for v in sorted(set(versions)))
    return (rf"^brobygger\.{re.escape(check_id('partnership', partnership))}\.(?:{'|'.join(names)})"
            rf"\.{ID_PATTERN}\.v(?:{majors})$")


def versions_of(service: str) -> list[int]:
    """The major versions of the catalogue's events `service` publishes."""
    return sorted({cls.version for cls in EVENTS if cls.publisher == _check_service(service)})


def topics_of_publisher(partnership: str, service: str, org: str) -> list[str]:
    """The event topics `org`'s `service` writes (one per major version) and their dead-letter topics."""
    topics = [topic_of_service(service, partnership, org, v) for v in versions_of(service)]
    return topics + [dead_letter_topic(t) for t in topics]


def partnership_topics(partnership: str, runs: Mapping[str, Iterable[str]]) -> list[str]:
    """Every topic of a partnership, dead-letter topics included, given which
    services each organisation runs (`{"red-cross": ["matching"], ...}`); sorted."""
    return sorted({t for org, services in runs.items() for s in services
                   for t in topics_of_publisher(partnership, s, org)})


def retention_ms(topic: str) -> int:
    days = DEAD_LETTER_RETENTION_DAYS if topic.endswith(DEAD_LETTER_SUFFIX) else EVENT_RETENTION_DAYS
    return days * 24 * 3600 * 1000
