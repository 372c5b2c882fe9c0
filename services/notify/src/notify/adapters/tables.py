"""Notify's tables: the contact directory, who guides whom, and the delivery log."""

from __future__ import annotations

import sqlalchemy as sa

from brobygger_runtime.db import UtcDateTime, new_metadata

metadata = new_metadata()

Timestamp = UtcDateTime()

contact = sa.Table(
    "contact",
    metadata,
    sa.Column("recipient_id", sa.String(64), primary_key=True),
    # The organisation whose coordinator entered it: only its coordinators read or change it
    # (empty on contacts from before owners were recorded: the instance's organisation).
    sa.Column("org", sa.String(64), nullable=True),
    sa.Column("role", sa.String(20), nullable=False),
    sa.Column("display_name", sa.String(200), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("phone", sa.String(32), nullable=True),
    sa.Column("webhook_url", sa.String(500), nullable=True),
    # The receiver's own HMAC key: one organisation cannot forge messages to another.
    sa.Column("webhook_secret", sa.String(200), nullable=True),
    sa.Column("preferred_channel", sa.String(10), nullable=True),
    sa.Column("opted_out", sa.JSON, nullable=False),
    sa.Column("quiet_hours", sa.String(11), nullable=True),
    sa.Column("timezone", sa.String(64), nullable=True),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Index("ix_contact_role", "role"),
)

citizen_guide = sa.Table(
    "citizen_guide",
    metadata,
    sa.Column("citizen_id", sa.String(64), primary_key=True),
    sa.Column("guide_id", sa.String(64), nullable=False),
    sa.Column("guide_org", sa.String(64), nullable=False),
    sa.Column("assigned_at", Timestamp, nullable=False),
)

citizen_consent = sa.Table(
    "citizen_consent",
    metadata,
    # Whether the citizen's consent names this organisation: notify acts only then.
    sa.Column("citizen_id", sa.String(64), primary_key=True),
    sa.Column("consented", sa.Boolean, nullable=False),
    sa.Column("changed_at", Timestamp, nullable=False),
)

citizen_referrer = sa.Table(
    "citizen_referrer",
    metadata,
    # Who referred the citizen: an organisation hears about milestones when it opted in
    # by entering a contact with role `referrer` under its org id; a referring person who
    # asked to follow is kept as `referral:<referral_id>` (their details stay with referral).
    sa.Column("citizen_id", sa.String(64), primary_key=True),
    sa.Column("referrer_org", sa.String(64), primary_key=True),
    sa.Column("referred_at", Timestamp, nullable=False),
)

erased_citizen = sa.Table(
    "erased_citizen",
    metadata,
    # A tombstone: a pseudonymous id only, so that events about the citizen that
    # arrive after CitizenErased (other topics, other order) do not link them again.
    sa.Column("citizen_id", sa.String(64), primary_key=True),
    sa.Column("erased_at", Timestamp, nullable=False),
)

journey_ended = sa.Table(
    "journey_ended",
    metadata,
    # JourneyCompleted: RETENTION_MONTHS_AFTER_EXIT months later notify forgets the citizen
    # (links, contact row, deliveries' addresses and variables), as on erasure.
    sa.Column("citizen_id", sa.String(64), primary_key=True),
    sa.Column("ended_at", Timestamp, nullable=False, index=True),
)

delivery = sa.Table(
    "delivery",
    metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("notification_id", sa.String(36), nullable=True, unique=True),
    # The unique delivery key (source event, recipient, channel) as an id; empty
    # while the recipient or channel is not known yet.
    sa.Column("source_event_id", sa.String(200), nullable=False),
    sa.Column("source_event_type", sa.String(80), nullable=False),
    sa.Column("rule_id", sa.String(80), nullable=False),
    sa.Column("template", sa.String(80), nullable=False),
    sa.Column("recipient_role", sa.String(20), nullable=False),
    sa.Column("recipient_id", sa.String(64), nullable=True),
    sa.Column("citizen_id", sa.String(64), nullable=True),
    # The link to the citizen the message is about; CitizenErased removes it.
    sa.Column("allowed_channels", sa.String(40), nullable=False),
    sa.Column("channel", sa.String(10), nullable=True),
    sa.Column("masked_address", sa.String(200), nullable=True),
    sa.Column("language", sa.String(2), nullable=True),
    sa.Column("variables", sa.JSON, nullable=True),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", Timestamp, nullable=True),
    # A reminder goes out from `send_after` and not once `expires_at` (the visit) has come.
    sa.Column("send_after", Timestamp, nullable=True),
    sa.Column("expires_at", Timestamp, nullable=True),
    sa.Column("last_error", sa.String(500), nullable=True),
    sa.Column("created_at", Timestamp, nullable=False),
    sa.Column("updated_at", Timestamp, nullable=False),
    sa.Column("sent_at", Timestamp, nullable=True),
    # The trace of the event the message is about, so NotificationSent/Failed join it.
    sa.Column("traceparent", sa.String(60), nullable=True),
    sa.Index("ix_delivery_due", "status", "next_attempt_at"),
    sa.Index("ix_delivery_citizen", "citizen_id"),
    sa.Index("ix_delivery_recipient", "recipient_id"),
)
