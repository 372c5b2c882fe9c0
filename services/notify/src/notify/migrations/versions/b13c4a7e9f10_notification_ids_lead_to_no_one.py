"""notification ids lead to no one: deliveries that will not go out again (sent, cancelled,
suppressed) get a random id instead of the one derived from their recipient (who may be the
citizen), and stored error texts are cut to their first clause (the server's own words, which
may echo an address, dropped)

Revision ID: b13c4a7e9f10
Revises: e3b1c6f0a2d4
Create Date: 2026-11-25 22:40:00.000000
"""

import uuid

from alembic import op
import sqlalchemy as sa


revision = 'b13c4a7e9f10'
down_revision = 'e3b1c6f0a2d4'
branch_labels = None
depends_on = None

delivery = sa.table("delivery", sa.column("seq", sa.BigInteger), sa.column("notification_id", sa.String),
                    sa.column("status", sa.String), sa.column("last_error", sa.String))
FINAL = ("sent", "cancelled", "suppressed")


def upgrade() -> None:
    bind = op.get_bind()
    # Failed and uncertain deliveries keep their id: an operator's resend must reuse it.
    final = sa.select(delivery.c.seq).where(delivery.c.status.in_(FINAL), delivery.c.notification_id.is_not(None))
    for seq in bind.execute(final).scalars().all():
        bind.execute(delivery.update().where(delivery.c.seq == seq).values(notification_id=str(uuid.uuid4())))
    with_text = sa.select(delivery.c.seq, delivery.c.last_error).where(delivery.c.last_error.contains(":"))
    for seq, text in bind.execute(with_text).all():
        bind.execute(delivery.update().where(delivery.c.seq == seq).values(last_error=text.split(":", 1)[0]))


def downgrade() -> None:
    pass  # random ids and shortened texts stay: nothing to undo
