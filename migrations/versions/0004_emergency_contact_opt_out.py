"""Emergency contacts: their own SMS opt-out, removal by the borrower, lookup by phone.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('emergency_contact', schema=None) as batch_op:
        batch_op.add_column(sa.Column('opted_out_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('removed_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_emergency_contact_phone'), ['phone'], unique=False)


def downgrade():
    with op.batch_alter_table('emergency_contact', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_emergency_contact_phone'))
        batch_op.drop_column('removed_at')
        batch_op.drop_column('opted_out_at')
