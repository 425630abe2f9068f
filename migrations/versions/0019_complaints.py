"""Complaint handling: complaints, their immutable thread and attachments, the business
calendar (holidays and worked weekend days per rulebook), the yearly reference counter.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 04:10:15.298374

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "complaint_counter",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_number", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_complaint_counter")),
    )
    op.create_table(
        "business_calendar_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rulebook_code", sa.String(length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "holiday",
                "working_day",
                name="calendar_day_kind",
                native_enum=False,
                create_constraint=True,
                length=19,
            ),
            nullable=False,
        ),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["user_account.id"],
            name=op.f("fk_business_calendar_day_created_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_business_calendar_day")),
        sa.UniqueConstraint(
            "rulebook_code",
            "day",
            name=op.f("uq_business_calendar_day_rulebook_code_day"),
        ),
    )
    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column(
            "category",
            sa.Enum(
                "collection_conduct",
                "amount_dispute",
                "payment_not_credited",
                "privacy",
                "installment_plan",
                "service_quality",
                "other",
                name="complaint_category",
                native_enum=False,
                create_constraint=True,
                length=28,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=True),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.Column(
            "channel",
            sa.Enum(
                "portal",
                "chat",
                "phone",
                "email",
                "letter",
                name="complaint_channel",
                native_enum=False,
                create_constraint=True,
                length=14,
            ),
            nullable=False,
        ),
        sa.Column(
            "status",
            sa.Enum(
                "submitted",
                "acknowledged",
                "investigating",
                "awaiting_borrower",
                "resolved",
                "closed",
                "withdrawn",
                name="complaint_status",
                native_enum=False,
                create_constraint=True,
                length=25,
            ),
            nullable=False,
        ),
        sa.Column("rulebook_code", sa.String(length=20), nullable=False),
        sa.Column("handler_id", sa.Integer(), nullable=True),
        sa.Column("subject_staff_id", sa.Integer(), nullable=True),
        sa.Column("escalated", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("supervisor_id", sa.Integer(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledge_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("response_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("extension_level", sa.Integer(), server_default="0", nullable=False),
        sa.Column("extension_reason", sa.Text(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text(), nullable=True),
        sa.Column(
            "remedy",
            sa.Enum(
                "none",
                "apology",
                "record_correction",
                "waiver",
                name="complaint_remedy",
                native_enum=False,
                create_constraint=True,
                length=25,
            ),
            nullable=True,
        ),
        sa.Column("remedy_minor", sa.BigInteger(), nullable=True),
        sa.Column("remedy_currency", sa.String(length=3), nullable=True),
        sa.Column(
            "root_cause",
            sa.Enum(
                "staff_conduct",
                "process_error",
                "system_error",
                "policy",
                "communication",
                "third_party",
                "no_fault",
                name="complaint_root_cause",
                native_enum=False,
                create_constraint=True,
                length=21,
            ),
            nullable=True,
        ),
        sa.Column("systemic", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("rating", sa.Integer(), nullable=True),
        sa.Column("hold_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "extension_level BETWEEN 0 AND 2", name=op.f("ck_complaint_extension_range")
        ),
        sa.CheckConstraint(
            "rating IS NULL OR rating BETWEEN 1 AND 5",
            name=op.f("ck_complaint_rating_range"),
        ),
        sa.CheckConstraint(
            "remedy_minor IS NULL OR remedy_minor >= 0",
            name=op.f("ck_complaint_remedy_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrower_profile.user_id"],
            name=op.f("fk_complaint_borrower_id_borrower_profile"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["handler_id"],
            ["user_account.id"],
            name=op.f("fk_complaint_handler_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["contact_hold.id"],
            name=op.f("fk_complaint_hold_id_contact_hold"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loan.id"],
            name=op.f("fk_complaint_loan_id_loan"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["payment_id"],
            ["payment.id"],
            name=op.f("fk_complaint_payment_id_payment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["subject_staff_id"],
            ["user_account.id"],
            name=op.f("fk_complaint_subject_staff_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_id"],
            ["user_account.id"],
            name=op.f("fk_complaint_supervisor_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("reference", name=op.f("uq_complaint_reference")),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_borrower_id"), ["borrower_id"], unique=False
        )
        batch_op.create_index(
            "ix_complaint_queue", ["status", "handler_id"], unique=False
        )

    op.create_table(
        "complaint_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("stored_name", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=120), nullable=False),
        sa.Column("content_type", sa.String(length=40), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_attachment_complaint_id_complaint"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by"],
            ["user_account.id"],
            name=op.f("fk_complaint_attachment_uploaded_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_attachment")),
        sa.UniqueConstraint(
            "stored_name", name=op.f("uq_complaint_attachment_stored_name")
        ),
    )
    with op.batch_alter_table("complaint_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_attachment_complaint_id"),
            ["complaint_id"],
            unique=False,
        )

    op.create_table(
        "complaint_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "filed",
                "reply",
                "borrower_reply",
                "note",
                "status",
                "assigned",
                "escalated",
                "extended",
                "evidence",
                name="complaint_event_kind",
                native_enum=False,
                create_constraint=True,
                length=22,
            ),
            nullable=False,
        ),
        sa.Column("public", sa.Boolean(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("from_status", sa.String(length=20), nullable=True),
        sa.Column("to_status", sa.String(length=20), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user_account.id"],
            name=op.f("fk_complaint_event_actor_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_event_complaint_id_complaint"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_event")),
    )
    with op.batch_alter_table("complaint_event", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_event_complaint_id"),
            ["complaint_id"],
            unique=False,
        )


def downgrade():
    with op.batch_alter_table("complaint_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_event_complaint_id"))

    op.drop_table("complaint_event")
    with op.batch_alter_table("complaint_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_attachment_complaint_id"))

    op.drop_table("complaint_attachment")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index("ix_complaint_queue")
        batch_op.drop_index(batch_op.f("ix_complaint_borrower_id"))

    op.drop_table("complaint")
    op.drop_table("business_calendar_day")
    op.drop_table("complaint_counter")
