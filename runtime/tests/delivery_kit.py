"""What the delivery tests share: a runtime whose handler records each
ReferralReceived it handles, and good events with their envelope headers."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import sqlalchemy as sa

from brobygger_contracts import Envelope, topic_for
from brobygger_contracts.events.referral import ReferralReceived
from brobygger_runtime.db import new_metadata
from brobygger_runtime.service import ServiceRuntime
from brobygger_runtime.settings import ServiceSettings
from brobygger_stack.fixed_keys import for_the_bus, use_test_keys

MAX_BYTES = 300_000
PUBLISHER = "varde-kommune"
"""The organisation whose referral publishes the good events."""


def referrals(partnership: str) -> str:
    """The topic the good events are on: the publisher's referral topic."""
    return topic_for(ReferralReceived, partnership, PUBLISHER)


def recording_runtime(kafka: str, db_url: str) -> tuple[ServiceRuntime, sa.Table]:
    metadata = new_metadata()
    handled = sa.Table(
        "handled", metadata,
        sa.Column("n", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("citizen_id", sa.String(64), nullable=False),
        sa.Column("postal_code", sa.String(8), nullable=False),
    )
    suffix = uuid.uuid4().hex[:8]
    settings = ServiceSettings(
        service_name="journey", org_id="poison-test", partnership_id=f"poison{suffix}", kafka_bootstrap_servers=kafka,
        database_url=db_url, handler_backoff_seconds=0.01, outbox_poll_seconds=0.05, max_event_bytes=MAX_BYTES,
    )
    runtime = ServiceRuntime(settings, metadata, service_package=None)
    use_test_keys(runtime)

    @runtime.handles(ReferralReceived)
    async def on_referral(event: ReferralReceived, uow) -> None:  # noqa: ANN001
        await uow.session.execute(handled.insert().values(citizen_id=str(event.citizen_id),
                                                          postal_code=event.opened.postal_code))

    return runtime, handled


def good(citizen: uuid.UUID, sequence: int) -> ReferralReceived:
    # The postal code (sealed) carries the event's place in its citizen's sequence.
    return for_the_bus(ReferralReceived(
        referral_id=uuid.uuid4(), citizen_id=citizen, source="home_care", postal_code=f"{6800 + sequence}",
        age_band="75-84", consented_orgs=["poison-test"], received_at=datetime.now(UTC),
    ))


def headers(event: ReferralReceived, partnership: str, **override: bytes | None) -> list[tuple[str, bytes | None]]:
    envelope = Envelope.for_event(event, partnership=partnership, org=PUBLISHER, service="referral")
    values: dict[str, bytes | None] = dict(envelope.to_headers())
    for name, value in override.items():
        if value is ...:
            values.pop(name)
        else:
            values[name] = value
    return list(values.items())
