"""Installment plans: the plan policy, in versions (seeded lazily: with none saved, the
built-in defaults are version 0).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 01:45:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "plan_policy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("settings", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"], ["user_account.id"], name=op.f("fk_plan_policy_created_by_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_policy")),
        sa.UniqueConstraint("version", name=op.f("uq_plan_policy_version")),
    )


def downgrade():
    op.drop_table("plan_policy")
