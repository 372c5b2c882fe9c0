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
    read_payload,
    topic_for,
    validation_summary,
)


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
    """A record that names another partnership: not ours to handle, nor to judge."""

    partnership: str


def _named_partnership(record: ConsumerRecord) -> str | None:
    for key, value in record.headers or ():
        if key == "ce_partnership" and isinstance(value, bytes):
            try:
                return value.decode("utf-8")
            except UnicodeDecodeError:
                return None
    return None


def _forged_origin(topic: str, envelope: Envelope, event_cls: type[Event]) -> str | None:
    """Why the record cannot be what it claims, or None. An event type travels
    only on its publisher's topic, and says it was sent by that publisher: a
    writer of one topic (a partner's matching, say) must not speak for another
    service (referral's CitizenErased) by writing its type there."""
    if topic != topic_for(event_cls):
        return f"{envelope.type} belongs on {topic_for(event_cls)}, not {topic}"
    service = envelope.source.rsplit("/", 1)[-1]
    if service != event_cls.publisher:
        return f"{envelope.type} is published by {event_cls.publisher}, but the record says {service[:40]!r} sent it"
    return None


def read_record(record: ConsumerRecord, *, handles: set[str], partnership: str, max_bytes: int) -> Incoming | Foreign | Rejection:
    """The record as an event for us, one not ours, or a rejection with its cause."""
    # Another partnership's record, however malformed, is for its own consumers
    # to dead-letter: judging it here would have every group on the topic do so.
    named = _named_partnership(record)
    if named is not None and named != partnership:
        return Foreign(named)
    size = len(record.value or b"") + sum(len(k) + len(v or b"") for k, v in record.headers or ())
    if size > max_bytes:
        return Rejection(DeadLetterCause.too_large, f"record of {size} bytes is over the limit of {max_bytes}")
    try:
        envelope = Envelope.from_headers(record.headers or ())
    except EnvelopeError as exc:
        return Rejection(DeadLetterCause.envelope, str(exc))
    # Other partnerships may share the bus: their records are not ours to judge.
    if envelope.partnership != partnership:
        return Incoming(envelope, None)
    event_cls = EVENTS_BY_TYPE.get(envelope.type)
    if event_cls is None:
        return Rejection(DeadLetterCause.unknown_type, f"unknown event type {envelope.type!r}")
    if envelope.type not in handles:
        return Incoming(envelope, None)  # a type on this topic that this service does not act on
    if (forged := _forged_origin(record.topic, envelope, event_cls)) is not None:
        return Rejection(DeadLetterCause.forged_origin, forged)
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
