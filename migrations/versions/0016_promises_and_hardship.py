"""Hardship requests and their documents; contact holds that lapse by themselves.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-01 01:55:00.000000

"""

from alembic import op
import sqlalchemy as sa

import portal.dbtypes


# revision identifiers, used by Alembic.
revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _enum(name, values):
    return sa.Enum(
        *values,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=max(len(v) for v in values) + 8,
    )


def upgrade():
    with op.batch_alter_table("contact_hold", schema=None) as batch_op:
        batch_op.add_column(sa.Column("expires_at", portal.dbtypes.UTCDateTime(), nullable=True))
    op.create_table(
        "hardship_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            _enum(
                "hardship_reason",
                ["illness", "job_loss", "reduced_income", "family_emergency", "other"],
            ),
            nullable=False,
        ),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("status", _enum("hardship_status", ["pending", "decided"]), nullable=False),
        sa.Column("created_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.Column(
            "decision",
            _enum("hardship_decision", ["pause", "waiver", "plan", "no_change"]),
            nullable=True,
        ),
        sa.Column("decision_reason", sa.Text(), nullable=True),
        sa.Column("pause_days", sa.Integer(), nullable=True),
        sa.Column("waived_minor", sa.BigInteger(), nullable=True),
        sa.Column("decided_at", portal.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrower_profile.user_id"],
            name=op.f("fk_hardship_request_borrower_id_borrower_profile"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["collection_case.id"],
            name=op.f("fk_hardship_request_case_id_collection_case"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user_account.id"],
            name=op.f("fk_hardship_request_decided_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"], ["contact_hold.id"], name=op.f("fk_hardship_request_hold_id_contact_hold")
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loan.id"],
            name=op.f("fk_hardship_request_loan_id_loan"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hardship_request")),
    )
    with op.batch_alter_table("hardship_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hardship_request_borrower_id"), ["borrower_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hardship_request_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            "uq_hardship_request_pending_case",
            ["case_id"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
    op.create_table(
        "hardship_document",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["request_id"],
            ["hardship_request.id"],
            name=op.f("fk_hardship_document_request_id_hardship_request"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hardship_document")),
        sa.UniqueConstraint("stored_name", name=op.f("uq_hardship_document_stored_name")),
    )
    with op.batch_alter_table("hardship_document", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hardship_document_request_id"), ["request_id"], unique=False
        )


def downgrade():
    op.drop_table("hardship_document")
    op.drop_table("hardship_request")
    with op.batch_alter_table("contact_hold", schema=None) as batch_op:
        batch_op.drop_column("expires_at")
