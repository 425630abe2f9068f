"""A complaint opened from a support conversation keeps it (and the sequence number at filing)
as its transcript.

Revision ID: 0023
Revises: 0019
Create Date: 2026-12-01 11:50:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0023"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.add_column(sa.Column("conversation_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("conversation_seq", sa.Integer(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f("uq_complaint_conversation_id"), ["conversation_id"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_complaint_conversation_id_support_conversation"),
            "support_conversation",
            ["conversation_id"],
            ["id"],
            ondelete="RESTRICT",
        )


def downgrade():
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_complaint_conversation_id_support_conversation"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_complaint_conversation_id"), type_="unique")
        batch_op.drop_column("conversation_seq")
        batch_op.drop_column("conversation_id")
