"""CloudEvents 1.0 in Kafka binary mode.

The Kafka value is the JSON body of the event; the CloudEvents attributes are
headers named `ce_<attribute>` with UTF-8 values, plus the partnership and
organisation extensions. Any Kafka client (kcat, librdkafka) can read and
write them.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from brobygger_contracts.base import Event

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/json"


class EnvelopeError(ValueError):
    """The headers do not form a valid CloudEvents envelope."""


class Envelope(BaseModel):
    """CloudEvents attributes of one event."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=200)
    """Unique per event; consumers deduplicate on it."""
    source: str = Field(pattern=r"^/partnerships/[^/]+/orgs/[^/]+/[a-z]+$")
    """`/partnerships/{p}/orgs/{o}/{service}`: who published."""
    type: str = Field(pattern=r"^org\.brobygger\.[a-z]+\.[A-Za-z]+\.v[0-9]+$")
    """e.g. `org.brobygger.referral.ReferralReceived.v1`."""
    specversion: str = SPEC_VERSION
    time: datetime
    """When the event happened (UTC)."""
    subject: str = Field(min_length=1, max_length=200)
    """The citizen, group or other entity the event is about; also the Kafka key."""
    partnership: str = Field(min_length=1, max_length=64)
    org: str = Field(min_length=1, max_length=64)
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
            if raw is None:
                continue
            value = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
            if key.startswith("ce_"):
                values[key[3:]] = value
            elif key == "traceparent":
                values["traceparent"] = value
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
            raise EnvelopeError(f"invalid CloudEvents headers: {exc}") from exc


def source_of(partnership: str, org: str, service: str) -> str:
    return f"/partnerships/{partnership}/orgs/{org}/{service}"


def _source_part(source: str, index: int) -> str:
    parts = source.split("/")
    return parts[index] if len(parts) > index else ""
