"""Journey's tables. Free text (notes) lives only in columns that erasure clears."""

from __future__ import annotations

import sqlalchemy as sa

from brobygger_runtime.db import UtcDateTime, new_metadata

metadata = new_metadata()

TS = UtcDateTime()
ID = sa.String(64)

guides = sa.Table(
    "guides",
    metadata,
    sa.Column("guide_id", ID, primary_key=True),
    sa.Column("display_name", sa.String(200), nullable=True),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("registered_at", TS, nullable=False),
)

journeys = sa.Table(
    "journeys",
    metadata,
    sa.Column("journey_id", ID, primary_key=True),
    sa.Column("citizen_id", ID, nullable=False, index=True),
    sa.Column("state", sa.String(32), nullable=False),
    sa.Column("outcome", sa.String(32), nullable=True),
    sa.Column("guide_id", ID, nullable=True, index=True),
    sa.Column("source", sa.String(40), nullable=False),
    sa.Column("referrer_org", sa.String(64), nullable=True),
    sa.Column("urgency", sa.String(16), nullable=False),
    sa.Column("postal_code", sa.String(8), nullable=False),
    sa.Column("age_band", sa.String(16), nullable=False),
    sa.Column("language", sa.String(2), nullable=False),
    sa.Column("referral_count", sa.Integer, nullable=False),
    sa.Column("referred_at", TS, nullable=False),
    sa.Column("assigned_at", TS, nullable=True),
    sa.Column("first_contact_at", TS, nullable=True),
    sa.Column("clarified_at", TS, nullable=True),
    sa.Column("match_accepted_at", TS, nullable=True),
    sa.Column("first_visit_at", TS, nullable=True),
    sa.Column("first_visit_planned_for", TS, nullable=True),
    sa.Column("exited_at", TS, nullable=True),
    sa.Column("clarification", sa.JSON, nullable=True),
    sa.Column("baseline", sa.JSON, nullable=True),
    sa.Column("final", sa.JSON, nullable=True),
    sa.Column("relatives_involved", sa.Boolean, nullable=False),
    sa.Column("exit_note", sa.Text, nullable=True),
    sa.Column("erased", sa.Boolean, nullable=False),
    sa.Column("consented_orgs", sa.JSON, nullable=True),
    sa.Column("hidden", sa.Boolean, nullable=False, server_default=sa.false()),
)
"""`consented_orgs`: the citizen's current consent (ReferralReceived, then ConsentChanged); NULL for
journeys opened before consent was kept: the owning organisation only. `hidden`: the owning organisation
is no longer named, so the journey is neither shown nor acted on (its data stays until erasure)."""

transitions = sa.Table(
    "transitions",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("journey_id", ID, nullable=False, index=True),
    sa.Column("step", sa.String(32), nullable=False),
    sa.Column("from_state", sa.String(32), nullable=False),
    sa.Column("to_state", sa.String(32), nullable=False),
    sa.Column("at", TS, nullable=False),
)

contacts = sa.Table(
    "contacts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("journey_id", ID, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("by", ID, nullable=True),
    sa.Column("at", TS, nullable=False),
    sa.Column("note", sa.Text, nullable=True),
)

proposals = sa.Table(
    "proposals",
    metadata,
    sa.Column("proposal_id", ID, primary_key=True),
    sa.Column("journey_id", ID, nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("candidate_id", ID, nullable=False),
    sa.Column("candidate_name", sa.String(200), nullable=True),
    sa.Column("proposing_org", sa.String(64), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("transport_need", sa.String(32), nullable=True),
    sa.Column("proposed_at", TS, nullable=False),
    sa.Column("decided_at", TS, nullable=True),
)

visits = sa.Table(
    "visits",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("journey_id", ID, nullable=False, index=True),
    sa.Column("proposal_id", ID, nullable=True),
    sa.Column("first", sa.Boolean, nullable=False),
    sa.Column("attended", sa.Boolean, nullable=False),
    sa.Column("companion", sa.String(16), nullable=True),
    sa.Column("companion_id", ID, nullable=True),
    sa.Column("hours", sa.Float, nullable=False),
    sa.Column("visited_at", TS, nullable=False),
)

punch_cards = sa.Table(
    "punch_cards",
    metadata,
    sa.Column("journey_id", ID, primary_key=True),
    sa.Column("granted_hours", sa.Float, nullable=False),
    sa.Column("drawn_hours", sa.Float, nullable=False),
)

punch_entries = sa.Table(
    "punch_entries",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("journey_id", ID, nullable=False, index=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("hours", sa.Float, nullable=False),
    sa.Column("by", ID, nullable=True),
    sa.Column("at", TS, nullable=False),
)

timers = sa.Table(
    "timers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("journey_id", ID, nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("due_at", TS, nullable=False),
    sa.Column("fired_at", TS, nullable=True),
    sa.Column("cancelled_at", TS, nullable=True),
    sa.Index("ix_timers_pending", "fired_at", "cancelled_at", "due_at"),
)

groups = sa.Table(
    "groups",
    metadata,
    sa.Column("group_id", ID, primary_key=True),
    sa.Column("group_proposal_id", ID, nullable=True, unique=True),
    sa.Column("interest", sa.String(48), nullable=False),
    sa.Column("postal_code", sa.String(8), nullable=False),
    sa.Column("facilitator_id", ID, nullable=True),
    sa.Column("state", sa.String(16), nullable=False),
    sa.Column("meetings_held", sa.Integer, nullable=False),
    sa.Column("consecutive_without_facilitator", sa.Integer, nullable=False),
    sa.Column("formed_at", TS, nullable=False),
    sa.Column("self_running_at", TS, nullable=True),
    sa.Column("proposal_version", sa.Integer, nullable=False, server_default="1",
              comment="the latest GroupProposed version applied: a group that grows is proposed again"),
)

group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column("group_id", ID, primary_key=True),
    sa.Column("citizen_id", ID, primary_key=True),
    sa.Column("confirmed_at", TS, nullable=True, comment="when the member said yes; NULL while only proposed"),
    sa.Column("left_at", TS, nullable=True, comment="when the member stopped taking part; the place is free"),
    sa.Column("left_reason", sa.String(24), nullable=True, comment="left, stopped_attending or journey_ended"),
    sa.Column("missed_in_a_row", sa.Integer, nullable=False, server_default="0",
              comment="recorded meetings in a row the member did not attend"),
)

meetings = sa.Table(
    "meetings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("group_id", ID, nullable=False, index=True),
    sa.Column("held_at", TS, nullable=False),
    sa.Column("facilitator_present", sa.Boolean, nullable=False),
    sa.Column("attendees", sa.Integer, nullable=False),
)

served_interests = sa.Table(
    "served_interests",
    metadata,
    sa.Column("activity_id", ID, primary_key=True),
    sa.Column("interest", sa.String(48), primary_key=True),
    sa.Column("postal_code", sa.String(8), nullable=False),
)
"""What activities exist where (from ActivityPublished), for the gap report."""

follow_ups = sa.Table(
    "follow_ups",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("journey_id", ID, nullable=False, index=True),
    sa.Column("outcome", sa.String(32), nullable=False),
    sa.Column("reason", sa.String(32), nullable=True),
    sa.Column("proposal_id", ID, nullable=True),
    sa.Column("recorded_by", ID, nullable=True),
    sa.Column("recorded_at", TS, nullable=False),
)
"""Outcomes of follow-ups (codes only: still going, paused, stopped with a reason, needs a new proposal)."""

measures = sa.Table(
    "measures",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("journey_id", ID, nullable=False, index=True),
    sa.Column("time_point", sa.String(24), nullable=False),
    sa.Column("answers", sa.JSON, nullable=False),
    sa.Column("measured_at", TS, nullable=False),
    sa.UniqueConstraint("journey_id", "time_point"),
)
"""The UCLA-3 answers at each time point (baseline and exit are also kept on the journey)."""

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("task_id", ID, primary_key=True),
    sa.Column("journey_id", ID, nullable=False, index=True),
    sa.Column("citizen_id", ID, nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("details", sa.JSON, nullable=False),
    sa.Column("source_key", sa.String(160), nullable=False, unique=True),
    sa.Column("created_at", TS, nullable=False),
    sa.Column("done_at", TS, nullable=True),
    sa.Column("done_by", ID, nullable=True),
)
"""Things a person must do for a citizen (call, letter, transport, UCLA, follow-up), for the journey's
current guide. `source_key` names what
made the task (a timer, a proposal, a failed message), so a redelivered cause adds no second task.
`details` holds codes and ids only."""
