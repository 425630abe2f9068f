"""Portal notices keep a rendering in each other language, made when they are queued.

A borrower who switches the portal's language reads their notices in that language; the message
row stays the record of what was sent in theirs.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 21:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "message_rendering",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("locale", sa.String(length=10), nullable=False),
        sa.Column("template_version_id", sa.Integer(), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"],
            ["message.id"],
            name=op.f("fk_message_rendering_message_id_message"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["template_version_id"],
            ["template_version.id"],
            name=op.f("fk_message_rendering_template_version_id_template_version"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_rendering")),
        sa.UniqueConstraint(
            "message_id", "locale", name=op.f("uq_message_rendering_message_id_locale")
        ),
    )


def downgrade():
    op.drop_table("message_rendering")
