"""CloudEvents 1.0 in Kafka binary mode.

The Kafka value is the JSON body of the event; the CloudEvents attributes are
headers named `ce_<attribute>` with UTF-8 values, plus the partnership and
organisation extensions. Any Kafka client (kcat, librdkafka) can read and
write them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import Enum
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from brobygger_contracts.base import Event

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class EnvelopeError(ValueError):
    """The headers do not form a valid CloudEvents envelope."""


class Envelope(BaseModel):
    """CloudEvents attributes of one event."""

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    id: str = Field(min_length=1, max_length=200)
    """Unique per event; consumers deduplicate on it."""
    source: str = Field(pattern=r"^/partnerships/[^/]+/orgs/[^/]+/[a-z]+$")
    """`/partnerships/{p}/orgs/{o}/{service}`: who published."""
    type: str = Field(pattern=r"^org\.brobygger\.[a-z]+\.[A-Za-z]+\.v[0-9]+$")
    """e.g. `org.brobygger.referral.ReferralReceived.v1`."""
    specversion: str = SPEC_VERSION
    """CloudEvents spec version, always `1.0`."""
    time: datetime
    """When the event happened (UTC)."""
    subject: str = Field(min_length=1, max_length=200)
    """The citizen, group or other entity the event is about; also the Kafka key."""
    partnership: str = Field(min_length=1, max_length=64)
    """Extension: the partnership (municipality and its partner organisations) the event belongs to."""
    org: str = Field(min_length=1, max_length=64)
    """Extension: the organisation within the partnership that published the event."""
    traceparent: str | None = None
    """W3C trace context, when tracing is on."""

    @classmethod
    def for_event(
        cls, event: Event, *, partnership: str, org: str, service: str, event_id: str | None = None
    ) -> "Envelope":
        return cls(
            id=event_id or str(uuid.uuid4()),
            source=source_of(partnership, org, service),
            type=event.event_type(),
            time=datetime.now(UTC),
            subject=event.subject(),
            partnership=partnership,
            org=org,
        )

    def to_headers(self) -> list[tuple[str, bytes]]:
        headers = [
            ("ce_id", self.id),
            ("ce_source", self.source),
            ("ce_type", self.type),
            ("ce_specversion", self.specversion),
            ("ce_time", self.time.astimezone(UTC).isoformat().replace("+00:00", "Z")),
            ("ce_subject", self.subject),
            ("ce_partnership", self.partnership),
            ("ce_org", self.org),
            ("content-type", CONTENT_TYPE),
        ]
        if self.traceparent:
            headers.append(("traceparent", self.traceparent))
        return [(k, v.encode()) for k, v in headers]

    @classmethod
    def from_headers(cls, headers: Iterable[tuple[str, bytes | str | None]]) -> "Envelope":
        values: dict[str, str] = {}
        for key, raw in headers:
            if not (key.startswith("ce_") or key == "traceparent"):
                continue  # other headers (content-type, a tracer's baggage) are not ours to judge
            if raw is None:
                raise EnvelopeError(f"header {key} has no value")
            try:
                value = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            except UnicodeDecodeError as exc:
                raise EnvelopeError(f"header {key} is not UTF-8 (byte {exc.start})") from exc
            values[key[3:] if key.startswith("ce_") else key] = value
        missing = [a for a in ("id", "source", "type", "specversion", "time", "subject") if a not in values]
        if missing:
            raise EnvelopeError("missing CloudEvents headers: " + ", ".join("ce_" + m for m in missing))
        if values["specversion"] != SPEC_VERSION:
            raise EnvelopeError(f"unsupported ce_specversion {values['specversion']!r}")
        values.setdefault("partnership", _source_part(values["source"], 2))
        values.setdefault("org", _source_part(values["source"], 4))
        try:
            return cls.model_validate(values)
        except ValidationError as exc:
            raise EnvelopeError(f"invalid CloudEvents headers: {validation_summary(exc, prefix='ce_')}") from exc


class DeadLetterCause(str, Enum):
    """Why a consumer gave up on a record."""

    envelope = "envelope"
    """The CloudEvents headers were missing or invalid."""
    unknown_type = "unknown_type"
    """The consumer reads the topic but knows no such `ce_type`."""
    validation = "validation"
    """The payload did not validate against the event's model."""
    business_rule = "business_rule"
    """The handler refused the event for good."""
    handler_error = "handler_error"
    """The handler kept failing after its retries."""
    too_large = "too_large"
    """The record is larger than the consumer accepts (MAX_EVENT_BYTES)."""
    forged_origin = "forged_origin"
    """The record claims a type or publisher its topic does not carry (another service's event written here)."""
    sealed_part = "sealed_part"
    """The event's sealed part does not open with its citizen's key: altered, or moved from another event or citizen."""


class DeadLetterHeaders(BaseModel):
    """What a consumer adds, as headers `dlt_<field>`, when it moves a record to `<topic>.dlt`.

    The dead-lettered record keeps its key, value and original headers. Values
    are strings because Kafka headers are: numbers are written in decimal.
    """

    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)

    cause: DeadLetterCause
    """Why the record was dead-lettered."""
    reason: str = Field(max_length=1000)
    """The error, technical and truncated (never payload content)."""
    consumer: str = Field(min_length=1)
    """The consumer group that gave up."""
    original_topic: str = Field(min_length=1)
    """The topic the record was read from."""
    original_partition: str = Field(pattern=r"^[0-9]+$")
    """Its partition there."""
    original_offset: str = Field(pattern=r"^[0-9]+$")
    """Its offset there: with topic and partition, where to find the original."""
    failed_at: datetime
    """When the consumer gave up (ISO 8601)."""


def validation_summary(exc: ValidationError, prefix: str = "") -> str:
    """Which fields failed and why, without the values: a value may be personal
    data, and this text travels in dead-letter headers and logs."""
    parts = []
    for error in exc.errors(include_url=False, include_input=False, include_context=False):
        where = ".".join(str(part) for part in error["loc"]) or "(root)"
        parts.append(f"{prefix}{where}: {error['msg']}")
    return "; ".join(parts)


def source_of(partnership: str, org: str, service: str) -> str:
    return f"/partnerships/{partnership}/orgs/{org}/{service}"


def _source_part(source: str, index: int) -> str:
    parts = source.split("/")
    return parts[index] if len(parts) > index else ""
