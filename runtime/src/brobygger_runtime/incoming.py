"""Reading one Kafka record into an event, from raw bytes, with no framework
decoding before ours: a record that is not JSON, not UTF-8, too large or of
an unknown type becomes a `Rejection` with its cause, never an exception that
could take the records around it along (DESIGN.md section 3)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from aiokafka import ConsumerRecord
from pydantic import ValidationError

from brobygger_contracts import (
    EVENTS_BY_TYPE,
    DeadLetterCause,
    Envelope,
    EnvelopeError,
    Event,
    TopicName,
    parse_topic,
    read_payload,
    validation_summary,
)
from brobygger_contracts.envelope import source_of


@dataclass(frozen=True)
class Rejection:
    """A record that can never be handled: it goes to the dead-letter topic."""

    cause: DeadLetterCause
    reason: str


@dataclass(frozen=True)
class Incoming:
    """A record read into its envelope and, when this consumer acts on it, its event."""

    envelope: Envelope
    event: Event | None
    """None when the event is not ours to act on (another partnership, a type we do not handle)."""


def fingerprint(record: ConsumerRecord) -> str:
    """A digest of what the record carries, to tell a redelivery of it from
    another record at the same offset after a broker reset."""
    digest = hashlib.sha256()
    digest.update(record.key or b"")
    digest.update(b"\0")
    digest.update(record.value or b"")
    for key, value in record.headers or ():
        digest.update(b"\0" + key.encode("utf-8", "replace") + b"=" + (value or b""))
    return digest.hexdigest()


@dataclass(frozen=True)
class Foreign:
    """A record on another partnership's topic: not ours to handle, nor to judge."""

    partnership: str


def _forged_origin(origin: TopicName, envelope: Envelope, event_cls: type[Event]) -> str | None:
    """Why the record cannot be what it claims, or None. The topic is the
    publisher's identity (only that organisation's service may write it on
    real Kafka): the envelope must name the same partnership, organisation and
    service, and the event type must be one that service publishes in that
    major version. Otherwise a writer of one topic (a partner's matching, say)
    could speak for another organisation or service (referral's CitizenErased)."""
    topic = origin.event_topic
    if envelope.partnership != origin.partnership:
        return f"the record names partnership {envelope.partnership[:64]!r}, but {topic} is {origin.partnership!r}'s"
    if envelope.org != origin.org:
        return f"the record names organisation {envelope.org[:64]!r}, but {topic} is written by {origin.org!r}"
    if envelope.source != source_of(origin.partnership, origin.org, origin.service):
        return (f"the record's source {envelope.source[:200]!r} is not "
                f"{source_of(origin.partnership, origin.org, origin.service)!r}, the publisher of {topic}")
    if event_cls.publisher != origin.service:
        return f"{envelope.type} is published by {event_cls.publisher}, not by {origin.service} whose topic {topic} is"
    if event_cls.version != origin.version:
        return f"{envelope.type} is a v{event_cls.version} event, but {topic} carries v{origin.version}"
    return None


def read_record(record: ConsumerRecord, *, handles: set[str], partnership: str, max_bytes: int) -> Incoming | Foreign | Rejection:
    """The record as an event for us, one not ours, or a rejection with its cause."""
    origin = parse_topic(record.topic)
    if origin is None or origin.is_dead_letter:
        # Consumers subscribe only to publishers' topics: whoever put this here, it speaks for nobody.
        return Rejection(DeadLetterCause.forged_origin, f"{record.topic[:249]!r} is not a publisher's topic")
    if origin.partnership != partnership:
        return Foreign(origin.partnership)  # its own partnership's consumers judge it
    size = len(record.value or b"") + sum(len(k) + len(v or b"") for k, v in record.headers or ())
    if size > max_bytes:
        return Rejection(DeadLetterCause.too_large, f"record of {size} bytes is over the limit of {max_bytes}")
    try:
        envelope = Envelope.from_headers(record.headers or ())
    except EnvelopeError as exc:
        return Rejection(DeadLetterCause.envelope, str(exc))
    event_cls = EVENTS_BY_TYPE.get(envelope.type)
    if event_cls is None:
        return Rejection(DeadLetterCause.unknown_type, f"unknown event type {envelope.type!r}")
    if (forged := _forged_origin(origin, envelope, event_cls)) is not None:
        return Rejection(DeadLetterCause.forged_origin, forged)
    if envelope.type not in handles:
        return Incoming(envelope, None)  # a type on this topic that this service does not act on
    try:
        data = json.loads((record.value or b"").decode("utf-8"))
    except UnicodeDecodeError as exc:
        return Rejection(DeadLetterCause.validation, f"body is not UTF-8 (byte {exc.start})")
    except json.JSONDecodeError as exc:
        return Rejection(DeadLetterCause.validation, f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")
    except RecursionError:
        return Rejection(DeadLetterCause.validation, "body is JSON nested too deeply")
    try:
        return Incoming(envelope, read_payload(event_cls, data))
    except ValidationError as exc:
        return Rejection(DeadLetterCause.validation, validation_summary(exc))
    except RecursionError:
        return Rejection(DeadLetterCause.validation, "body is JSON nested too deeply")
