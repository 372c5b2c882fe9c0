"""The referral database: the only place in the partnership with citizens' personal data.

Columns marked PERSONAL are cleared when a citizen is erased.
"""

from __future__ import annotations

import sqlalchemy as sa

from brobygger_runtime.db import UtcDateTime, new_metadata

metadata = new_metadata()

Moment = UtcDateTime()
Id = sa.String(36)

citizens = sa.Table(
    "citizens",
    metadata,
    sa.Column("citizen_id", Id, primary_key=True, comment="pseudonymous id used on the bus"),
    sa.Column("name_key", sa.String(64), nullable=True, index=True, comment="PERSONAL: hash of birth year and normalised name"),
    sa.Column("name", sa.String(120), nullable=True, comment="PERSONAL"),
    sa.Column("birth_year", sa.Integer, nullable=True, comment="PERSONAL"),
    sa.Column("postal_code", sa.String(5), nullable=True, comment="PERSONAL"),
    sa.Column("address", sa.String(200), nullable=True, comment="PERSONAL"),
    sa.Column("phone", sa.String(32), nullable=True, comment="PERSONAL"),
    sa.Column("email", sa.String(254), nullable=True, comment="PERSONAL"),
    sa.Column("language", sa.String(2), nullable=True, comment="PERSONAL"),
    sa.Column("lives_alone", sa.Boolean, nullable=True, comment="PERSONAL"),
    sa.Column("consented_orgs", sa.JSON, nullable=False),
    sa.Column("consent_given_by", sa.String(30), nullable=True, comment="PERSONAL: citizen, relative or guardian"),
    sa.Column("consent_given_at", Moment, nullable=True, comment="PERSONAL"),
    sa.Column("created_at", Moment, nullable=False),
    sa.Column("updated_at", Moment, nullable=False),
    sa.Column("erased_at", Moment, nullable=True),
)

referrals = sa.Table(
    "referrals",
    metadata,
    sa.Column("referral_id", Id, primary_key=True),
    sa.Column("citizen_id", Id, sa.ForeignKey("citizens.citizen_id"), nullable=False, index=True),
    sa.Column("source", sa.String(30), nullable=False),
    sa.Column("referrer_org", sa.String(64), nullable=True),
    sa.Column("submitted_by_org", sa.String(64), nullable=False, index=True, comment="the caller's organisation"),
    sa.Column("submitted_by_subject", sa.String(200), nullable=True,
              comment="who submitted it: the token's subject at the submitting organisation's issuer"),
    sa.Column("supplied", sa.JSON, nullable=True,
              comment="PERSONAL: the citizen's details as this card gave them (all a submitter may see again)"),
    sa.Column("referrer_name", sa.String(120), nullable=True, comment="PERSONAL"),
    sa.Column("referrer_phone", sa.String(32), nullable=True, comment="PERSONAL"),
    sa.Column("referrer_email", sa.String(254), nullable=True, comment="PERSONAL"),
    sa.Column("referrer_relation", sa.String(60), nullable=True, comment="PERSONAL"),
    sa.Column("referrer_wants_milestones", sa.Boolean, nullable=False, server_default=sa.false(),
              comment="the referrer opted in to hear at each milestone"),
    sa.Column("referrer_language", sa.String(2), nullable=True),
    sa.Column("reason", sa.Text, nullable=True, comment="PERSONAL: the referrer's own words"),
    sa.Column("urgency", sa.String(10), nullable=False),
    sa.Column("repeat_referral", sa.Boolean, nullable=False),
    sa.Column("received_at", Moment, nullable=False),
    sa.Column("state", sa.String(20), nullable=False),
    sa.Column("triage_decision", sa.String(20), nullable=True),
    sa.Column("triaged_by", sa.String(64), nullable=True, comment="PERSONAL: who triaged (ties a guide to the citizen)"),
    sa.Column("triage_note", sa.Text, nullable=True, comment="PERSONAL: the guide's words"),
    sa.Column("escalation_reason", sa.String(30), nullable=True, comment="PERSONAL: health category (mental health, dementia, ...)"),
    sa.Column("receiving_unit", sa.String(120), nullable=True, comment="PERSONAL: which care unit took the citizen over"),
    sa.Column("triaged_at", Moment, nullable=True),
)

consent_changes = sa.Table(
    "consent_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("citizen_id", Id, sa.ForeignKey("citizens.citizen_id"), nullable=False, index=True),
    sa.Column("consented_orgs", sa.JSON, nullable=False),
    sa.Column("added", sa.JSON, nullable=False),
    sa.Column("removed", sa.JSON, nullable=False),
    sa.Column("given_by", sa.String(30), nullable=True, comment="PERSONAL"),
    sa.Column("changed_by_org", sa.String(64), nullable=False),
    sa.Column("changed_at", Moment, nullable=False),
)

milestones = sa.Table(
    "milestones",
    metadata,
    sa.Column("citizen_id", Id, sa.ForeignKey("citizens.citizen_id"), primary_key=True),
    sa.Column("milestone", sa.String(20), primary_key=True),
    sa.Column("reached_at", Moment, nullable=False),
)

possible_duplicates = sa.Table(
    "possible_duplicates",
    metadata,
    sa.Column("duplicate_id", Id, primary_key=True),
    sa.Column("referral_id", Id, sa.ForeignKey("referrals.referral_id"), nullable=False, index=True,
              comment="the card that became a new citizen record"),
    sa.Column("new_citizen_id", Id, sa.ForeignKey("citizens.citizen_id"), nullable=False, index=True),
    sa.Column("known_citizen_id", Id, sa.ForeignKey("citizens.citizen_id"), nullable=False, index=True,
              comment="the citizen the card resembles, whose consent did not name the submitter"),
    sa.Column("submitted_by_org", sa.String(64), nullable=False),
    sa.Column("found_at", Moment, nullable=False),
    sa.Column("resolution", sa.String(10), nullable=True, comment="merge or distinct; empty while open"),
    sa.Column("resolved_by", sa.String(200), nullable=True),
    sa.Column("resolved_at", Moment, nullable=True),
)

submissions = sa.Table(
    "submissions",
    metadata,
    sa.Column("org", sa.String(64), primary_key=True, comment="the submitting organisation"),
    sa.Column("idempotency_key", sa.String(100), primary_key=True,
              comment="SHA-256 of the client's Idempotency-Key (a batch row's external id), never the key itself"),
    sa.Column("referral_id", Id, sa.ForeignKey("referrals.referral_id"), nullable=False),
    sa.Column("submitted_at", Moment, nullable=False),
)

# Personal columns per table (each has a citizen_id), cleared on erasure.
PERSONAL_COLUMNS = {
    table: [c.name for c in table.columns if (c.comment or "").startswith("PERSONAL")]
    for table in (citizens, referrals, consent_changes)
}
