"""Matching's own tables, beside the shared inbox/outbox/lease."""

from __future__ import annotations

import sqlalchemy as sa

from brobygger_runtime.db import UtcDateTime, new_metadata

metadata = new_metadata()

UUID_LEN = 36

citizens = sa.Table(
    "citizens",
    metadata,
    sa.Column("citizen_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("consented_orgs", sa.JSON, nullable=True, comment="NULL until the referral's consent is known"),
    sa.Column("postal_code", sa.String(5), nullable=True),
    sa.Column("age_band", sa.String(8), nullable=True),
    sa.Column("language", sa.String(2), nullable=True),
    sa.Column("needs", sa.JSON, nullable=True, comment="the latest clarification: interests, wishes, barriers, ..."),
    sa.Column("needs_clarified_at", UtcDateTime(), nullable=True),
    sa.Column("preferences", sa.JSON, nullable=True, comment="what the citizen would like in a volunteer friend"),
    sa.Column("guide_id", sa.String(200), nullable=True, comment="the guide journey assigned (GuideAssigned): whose caseload"),
    sa.Column("guide_org", sa.String(64), nullable=True, comment="the organisation of that guide"),
    sa.Column("updated_at", UtcDateTime(), nullable=False),
    sa.Column("journey_ended_at", UtcDateTime(), nullable=True, index=True,
              comment="JourneyCompleted: the row goes RETENTION_MONTHS_AFTER_EXIT months later"),
)

volunteers = sa.Table(
    "volunteers",
    metadata,
    sa.Column("volunteer_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("org", sa.String(64), nullable=False),
    sa.Column("account", sa.String(200), nullable=True, unique=True,
              comment="the volunteer's own login (the token's sub at their organisation's provider); NULL until they have one"),
    sa.Column("interests", sa.JSON, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("postal_code", sa.String(5), nullable=False),
    sa.Column("latitude", sa.Float, nullable=True),
    sa.Column("longitude", sa.Float, nullable=True),
    sa.Column("max_travel_km", sa.Float, nullable=False),
    sa.Column("capacity", sa.Integer, nullable=False),
    sa.Column("trained", sa.Boolean, nullable=False),
    sa.Column("availability", sa.JSON, nullable=False),
    sa.Column("traits", sa.JSON, nullable=False, comment="gender, age_band, smokes, has_pets; each optional"),
    sa.Column("registered_at", UtcDateTime(), nullable=False),
    sa.Column("retired_at", UtcDateTime(), nullable=True, comment="when the volunteer stopped; NULL while active"),
    sa.Column("retired_reason", sa.String(16), nullable=True, comment="moved, no_time, health or other"),
    sa.Column("roles", sa.JSON, nullable=True, comment='volunteer_friend (in person), phone_friend (by phone or video); NULL: ["volunteer_friend"]'),
)

volunteer_steps = sa.Table(
    "volunteer_steps",
    metadata,
    sa.Column("step_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("volunteer_id", sa.String(UUID_LEN), sa.ForeignKey("volunteers.volunteer_id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("step", sa.String(24), nullable=False,
              comment="applied, registered, interview, vetting, confidentiality, training, pause, resume or retired"),
    sa.Column("happened_on", sa.Date, nullable=False, comment="held, seen, signed, completed, paused from, resumed on"),
    sa.Column("valid_until", sa.Date, nullable=True, comment="a vetting's or course's expiry, a pause's last day"),
    sa.Column("code", sa.String(64), nullable=True,
              comment="the interview's outcome, the vetting's kind, the course, the pause's or retirement's reason"),
    sa.Column("recorded_by", sa.String(200), nullable=False, comment="the token's sub of whoever recorded it"),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
    comment="each step of a volunteer's lifecycle with its date; facts only, never a document",
)

supervision_sessions = sa.Table(
    "supervision_sessions",
    metadata,
    sa.Column("session_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("org", sa.String(64), nullable=False),
    sa.Column("held_on", sa.Date, nullable=False),
    sa.Column("kind", sa.String(16), nullable=False, comment="group or individual"),
    sa.Column("recorded_by", sa.String(200), nullable=False),
    sa.Column("recorded_at", UtcDateTime(), nullable=False),
)

supervision_attendance = sa.Table(
    "supervision_attendance",
    metadata,
    sa.Column("session_id", sa.String(UUID_LEN), sa.ForeignKey("supervision_sessions.session_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("volunteer_id", sa.String(UUID_LEN), sa.ForeignKey("volunteers.volunteer_id", ondelete="CASCADE"),
              primary_key=True, index=True),
)

activities = sa.Table(
    "activities",
    metadata,
    sa.Column("activity_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("org", sa.String(64), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("interests", sa.JSON, nullable=False),
    sa.Column("languages", sa.JSON, nullable=False),
    sa.Column("postal_code", sa.String(5), nullable=False),
    sa.Column("address", sa.String(200), nullable=True),
    sa.Column("latitude", sa.Float, nullable=True),
    sa.Column("longitude", sa.Float, nullable=True),
    sa.Column("schedule", sa.JSON, nullable=False),
    sa.Column("seats", sa.Integer, nullable=True),
    sa.Column("cost_dkk", sa.Float, nullable=True),
    sa.Column("reduced_cost_dkk", sa.Float, nullable=True, comment="a subsidised price; empty when there is none"),
    sa.Column("step_free", sa.Boolean, nullable=False),
    sa.Column("accompaniment_welcome", sa.Boolean, nullable=False),
    sa.Column("practice_community", sa.Boolean, nullable=False),
    sa.Column("hearing_loop", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("interpreter_available", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("published_at", UtcDateTime(), nullable=False),
    sa.Column("catalogued_from", sa.String(64), nullable=True,
              comment="the partner organisation whose matching topic published it; NULL: published by this instance"),
)

proposals = sa.Table(
    "proposals",
    metadata,
    sa.Column("proposal_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("citizen_id", sa.String(UUID_LEN), nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("candidate_id", sa.String(UUID_LEN), nullable=False, index=True),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("rank", sa.Integer, nullable=False),
    sa.Column("reasons", sa.JSON, nullable=False),
    sa.Column("distance_km", sa.Float, nullable=True),
    sa.Column("transport_need", sa.String(32), nullable=True, comment="what the guide arranges: volunteer_driver, flex_transport, accompanied_bus_ride"),
    sa.Column("cost_dkk", sa.Integer, nullable=True, comment="what the citizen pays, whole kroner"),
    sa.Column("status", sa.String(32), nullable=False, comment="proposed, awaiting_volunteer (the citizen said yes, the volunteer is asked), accepted, declined, withdrawn (the candidate stopped before an answer) or ended (after acceptance)"),
    sa.Column("decline_reason", sa.String(32), nullable=True),
    sa.Column("proposed_at", UtcDateTime(), nullable=False),
    sa.Column("decided_at", UtcDateTime(), nullable=True),
    sa.Column("choice_id", sa.String(UUID_LEN), nullable=True, index=True,
              comment="the options shown together (up to three of a kind); accepting one withdraws the others"),
    sa.Column("estimated_wait_days", sa.Integer, nullable=True,
              comment="the area's waiting time for this interest when proposed (domain/waiting.py); NULL: not told"),
)

group_proposals = sa.Table(
    "group_proposals",
    metadata,
    sa.Column("group_proposal_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("interest", sa.String(41), nullable=False),
    sa.Column("postal_code", sa.String(5), nullable=False),
    sa.Column("proposed_at", UtcDateTime(), nullable=False),
    sa.Column("proposal_version", sa.Integer, nullable=False, server_default="1",
              comment="1 when first proposed; +1 each time the group grows"),
    sa.Column("group_id", sa.String(UUID_LEN), nullable=True, comment="journey's group once formed (GroupFormed)"),
    sa.Column("formed_at", UtcDateTime(), nullable=True),
)

group_members = sa.Table(
    "group_members",
    metadata,
    sa.Column("group_proposal_id", sa.String(UUID_LEN), sa.ForeignKey("group_proposals.group_proposal_id", ondelete="CASCADE"), primary_key=True),
    sa.Column("citizen_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("interest", sa.String(41), nullable=False, index=True),
    sa.Column("joined_at", UtcDateTime(), nullable=False),
)

# -- friendships (matching.friendships): the volunteer's own yes, and the friendship that follows --------

volunteer_questions = sa.Table(
    "volunteer_questions",
    metadata,
    sa.Column("proposal_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("volunteer_id", sa.String(UUID_LEN), nullable=False, index=True),
    sa.Column("citizen_id", sa.String(UUID_LEN), nullable=False, index=True),
    sa.Column("asked_at", UtcDateTime(), nullable=False),
    sa.Column("answer_due", UtcDateTime(), nullable=False, index=True),
    sa.Column("shown", sa.JSON, nullable=False, comment="what the volunteer was told to decide on (VolunteerAsked's sealed part)"),
    sa.Column("answered_at", UtcDateTime(), nullable=True),
    sa.Column("answer", sa.String(16), nullable=True, comment="accepted, declined or no_answer; NULL while open"),
    sa.Column("decline_note", sa.String(200), nullable=True, comment="the volunteer's own words on a no; kept here only"),
)

friendships = sa.Table(
    "friendships",
    metadata,
    sa.Column("friendship_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("proposal_id", sa.String(UUID_LEN), nullable=False, unique=True),
    sa.Column("citizen_id", sa.String(UUID_LEN), nullable=False, index=True),
    sa.Column("volunteer_id", sa.String(UUID_LEN), nullable=False, index=True),
    sa.Column("started_at", UtcDateTime(), nullable=False),
    sa.Column("rhythm", sa.String(16), nullable=True, comment="weekly, fortnightly or monthly; NULL until agreed"),
    sa.Column("channel", sa.String(16), nullable=True, comment="in_person, phone or video; NULL until agreed"),
    sa.Column("place", sa.String(200), nullable=True, comment="where they meet (personal: never in clear on the bus)"),
    sa.Column("agreed_at", UtcDateTime(), nullable=True),
    sa.Column("check_in_due_at", UtcDateTime(), nullable=False, index=True),
    sa.Column("check_in_published_at", UtcDateTime(), nullable=True, comment="FriendshipCheckInDue went out (once)"),
    sa.Column("ended_at", UtcDateTime(), nullable=True),
    sa.Column("ended_side", sa.String(16), nullable=True),
    sa.Column("ended_reason", sa.String(16), nullable=True),
)

friendship_meetings = sa.Table(
    "friendship_meetings",
    metadata,
    sa.Column("meeting_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("friendship_id", sa.String(UUID_LEN), sa.ForeignKey("friendships.friendship_id", ondelete="CASCADE"),
              nullable=False, index=True),
    sa.Column("met_on", sa.Date, nullable=False),
    sa.Column("minutes", sa.Integer, nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("note", sa.String(280), nullable=True, comment="only where MEETING_NOTES_ALLOWED"),
    sa.Column("logged_by", sa.String(200), nullable=False),
    sa.Column("logged_at", UtcDateTime(), nullable=False),
)

friendship_check_ins = sa.Table(
    "friendship_check_ins",
    metadata,
    sa.Column("friendship_id", sa.String(UUID_LEN), sa.ForeignKey("friendships.friendship_id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("side", sa.String(16), primary_key=True, comment="citizen or volunteer"),
    sa.Column("going_well", sa.Boolean, nullable=False),
    sa.Column("answered_by", sa.String(200), nullable=False),
    sa.Column("answered_at", UtcDateTime(), nullable=False),
)

group_requests = sa.Table(
    "group_requests",
    metadata,
    sa.Column("citizen_id", sa.String(UUID_LEN), primary_key=True),
    sa.Column("interest", sa.String(41), primary_key=True),
    sa.Column("requested_at", UtcDateTime(), nullable=False),
    comment="the citizen (with the guide) asked for a new group for this interest rather than an existing activity",
)
