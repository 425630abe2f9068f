"""Cases no longer store their last contact: it is read from messages, by one definition of a
contact that reached the borrower (portal/collections/metrics.py).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 22:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("collection_case", schema=None) as batch_op:
        batch_op.drop_column("last_contact_at")


def downgrade():
    with op.batch_alter_table("collection_case", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_contact_at", sa.DateTime(timezone=True), nullable=True))
