"""Revocable sessions: a per-user session generation, copied into the session at sign-in.

Raising it ends every session of the user (sign-out, password change, deactivation, an
admin's "sign out everywhere"); sessions signed before this migration carry no generation and
end at their next request.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 21:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
