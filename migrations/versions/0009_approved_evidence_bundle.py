"""A legal request keeps the evidence bundle its approval froze (the ZIP's bytes).

The bundle is built once, when an admin approves the request; downloads hand over exactly those
bytes, and ``bundle_sha256`` (the manifest's SHA-256) identifies them.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 22:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("legal_request") as batch_op:
        batch_op.add_column(sa.Column("bundle_zip", sa.LargeBinary(), nullable=True))


def downgrade():
    with op.batch_alter_table("legal_request") as batch_op:
        batch_op.drop_column("bundle_zip")
