"""Messages withdrawn before they left: status "cancelled" and the reason (a loan paid while
its overdue notice or due reminder waited in the outbox).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 00:55:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

BEFORE = "'queued', 'sending', 'sent', 'delivered', 'failed', 'dead', 'blocked'"
AFTER = BEFORE + ", 'cancelled'"


def upgrade():
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.add_column(sa.Column("cancel_reason", sa.String(length=40), nullable=True))
        batch_op.drop_constraint(op.f("ck_message_message_status"), type_="check")
        batch_op.create_check_constraint("message_status", f"status IN ({AFTER})")


def downgrade():
    op.execute("UPDATE message SET status = 'dead' WHERE status = 'cancelled'")
    with op.batch_alter_table("message", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_message_message_status"), type_="check")
        batch_op.create_check_constraint("message_status", f"status IN ({BEFORE})")
        batch_op.drop_column("cancel_reason")
