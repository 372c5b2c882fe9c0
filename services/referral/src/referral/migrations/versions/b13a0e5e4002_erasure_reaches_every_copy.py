"""erasure reaches every copy: batch idempotency keys stored as SHA-256 (never the home-care
system's row ids in clear), and citizens erased earlier lose what erasure now clears too
(receiving unit, escalation reason, who triaged, who gave consent, language, lives alone,
milestone dates)

Revision ID: b13a0e5e4002
Revises: b13a0e5e4001
Create Date: 2026-11-25 22:31:00.000000
"""

import hashlib

from alembic import op
import sqlalchemy as sa


revision = 'b13a0e5e4002'
down_revision = 'b13a0e5e4001'
branch_labels = None
depends_on = None

submissions = sa.table("submissions", sa.column("org", sa.String), sa.column("idempotency_key", sa.String))
citizens = sa.table("citizens", sa.column("citizen_id", sa.String), sa.column("erased_at", sa.DateTime),
                    sa.column("language", sa.String), sa.column("lives_alone", sa.Boolean),
                    sa.column("consent_given_by", sa.String), sa.column("consent_given_at", sa.DateTime))
referrals = sa.table("referrals", sa.column("citizen_id", sa.String), sa.column("triaged_by", sa.String),
                     sa.column("escalation_reason", sa.String), sa.column("receiving_unit", sa.String))
consent_changes = sa.table("consent_changes", sa.column("citizen_id", sa.String), sa.column("given_by", sa.String))
milestones = sa.table("milestones", sa.column("citizen_id", sa.String))


def _stored_key(org: str, key: str) -> str:
    # the same as referral.adapters.repository.stored_key (a migration stays as it was written)
    return hashlib.sha256(f"submission|{org}|{key}".encode()).hexdigest()


# Columns erasure now clears too, marked PERSONAL (table, column, type, comment before, comment now).
NEWLY_PERSONAL = [
    ("citizens", "language", sa.String(length=2), None, "PERSONAL"),
    ("citizens", "lives_alone", sa.Boolean(), None, "PERSONAL"),
    ("citizens", "consent_given_by", sa.String(length=30), None, "PERSONAL: citizen, relative or guardian"),
    ("citizens", "consent_given_at", sa.DateTime(timezone=True), None, "PERSONAL"),
    ("referrals", "triaged_by", sa.String(length=64), None, "PERSONAL: who triaged (ties a guide to the citizen)"),
    ("referrals", "escalation_reason", sa.String(length=30), None, "PERSONAL: health category (mental health, dementia, ...)"),
    ("referrals", "receiving_unit", sa.String(length=120), None, "PERSONAL: which care unit took the citizen over"),
    ("consent_changes", "given_by", sa.String(length=30), None, "PERSONAL"),
    ("submissions", "idempotency_key", sa.String(length=100), "the client's Idempotency-Key",
     "SHA-256 of the client's Idempotency-Key (a batch row's external id), never the key itself"),
]


def _comment(now: bool) -> None:
    for table, column, type_, before, after in NEWLY_PERSONAL:
        with op.batch_alter_table(table) as batch:
            batch.alter_column(column, existing_type=type_, comment=after if now else before,
                               existing_comment=before if now else after)


def upgrade() -> None:
    _comment(now=True)
    bind = op.get_bind()
    for org, key in bind.execute(sa.select(submissions.c.org, submissions.c.idempotency_key)).all():
        bind.execute(submissions.update()
                     .where(submissions.c.org == org, submissions.c.idempotency_key == key)
                     .values(idempotency_key=_stored_key(org, key)))
    erased = sa.select(citizens.c.citizen_id).where(citizens.c.erased_at.is_not(None)).scalar_subquery()
    bind.execute(citizens.update().where(citizens.c.erased_at.is_not(None)).values(
        language=None, lives_alone=None, consent_given_by=None, consent_given_at=None))
    bind.execute(referrals.update().where(referrals.c.citizen_id.in_(erased)).values(
        triaged_by=None, escalation_reason=None, receiving_unit=None))
    bind.execute(consent_changes.update().where(consent_changes.c.citizen_id.in_(erased)).values(given_by=None))
    bind.execute(milestones.delete().where(milestones.c.citizen_id.in_(erased)))


def downgrade() -> None:
    # Hashes cannot be turned back into keys: a retried old request after a downgrade is a new submission.
    _comment(now=False)
