"""Repayment plans: what a borrower consented to, the installments it became, what it moved.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 03:52:30.018899

"""

from alembic import op
import sqlalchemy as sa

import portal.dbtypes


# revision identifiers, used by Alembic.
revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


PAY_OPTIONS = "'overdue', 'next_installment', 'other', 'payoff'"


def upgrade():
    with op.batch_alter_table("payment_attempt", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payment_attempt_pay_option"), type_="check")
        # enum_column sizes the column to the longest value + 8: 'plan_down_payment' is 17.
        batch_op.alter_column(
            "option", existing_type=sa.String(length=24), type_=sa.String(length=25)
        )
        batch_op.create_check_constraint(
            "pay_option", f"option IN ({PAY_OPTIONS}, 'plan_down_payment')"
        )
    op.create_table(
        "repayment_plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("borrower_id", sa.Integer(), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "proposed",
                "awaiting_approval",
                "pending",
                "active",
                "completed",
                "broken",
                "canceled",
                name="plan_status",
                native_enum=False,
                create_constraint=True,
                length=25,
            ),
            nullable=False,
        ),
        sa.Column("policy_version", sa.Integer(), nullable=False),
        sa.Column("installment_count", sa.Integer(), nullable=False),
        sa.Column(
            "frequency",
            sa.Enum(
                "monthly",
                "biweekly",
                name="plan_frequency",
                native_enum=False,
                create_constraint=True,
                length=16,
            ),
            nullable=False,
        ),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("balance_minor", sa.BigInteger(), nullable=False),
        sa.Column("waived_late_charge_minor", sa.BigInteger(), nullable=False),
        sa.Column("waived_interest_minor", sa.BigInteger(), nullable=False),
        sa.Column("down_payment_minor", sa.BigInteger(), nullable=False),
        sa.Column("financed_minor", sa.BigInteger(), nullable=False),
        sa.Column("start_on", sa.Date(), nullable=False),
        sa.Column("schedule", sa.JSON(), nullable=False),
        sa.Column("needs_approval", sa.Boolean(), nullable=False),
        sa.Column("terms_version", sa.String(length=20), nullable=True),
        sa.Column("consented_by", sa.Integer(), nullable=True),
        sa.Column("consented_at", portal.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("consent_ip", sa.String(length=45), nullable=True),
        sa.Column("consent_user_agent", sa.String(length=300), nullable=True),
        sa.Column("proposed_by", sa.Integer(), nullable=True),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        sa.Column("decided_at", portal.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("down_payment_attempt_id", sa.Integer(), nullable=True),
        sa.Column("activated_at", portal.dbtypes.UTCDateTime(), nullable=True),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.Column("end_reason", sa.String(length=40), nullable=True),
        sa.Column("created_at", portal.dbtypes.UTCDateTime(), nullable=False),
        sa.CheckConstraint(
            "balance_minor >= 0 AND down_payment_minor >= 0 AND financed_minor >= 0 AND waived_late_charge_minor >= 0 AND waived_interest_minor >= 0",
            name=op.f("ck_repayment_plan_amounts_non_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["borrower_id"],
            ["borrower_profile.user_id"],
            name=op.f("fk_repayment_plan_borrower_id_borrower_profile"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["consented_by"],
            ["user_account.id"],
            name=op.f("fk_repayment_plan_consented_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"],
            ["user_account.id"],
            name=op.f("fk_repayment_plan_decided_by_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["down_payment_attempt_id"],
            ["payment_attempt.id"],
            name=op.f("fk_repayment_plan_down_payment_attempt_id_payment_attempt"),
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"],
            ["loan.id"],
            name=op.f("fk_repayment_plan_loan_id_loan"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["proposed_by"],
            ["user_account.id"],
            name=op.f("fk_repayment_plan_proposed_by_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repayment_plan")),
    )
    with op.batch_alter_table("repayment_plan", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_repayment_plan_borrower_id"), ["borrower_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_repayment_plan_down_payment_attempt_id"),
            ["down_payment_attempt_id"],
            unique=False,
        )
        batch_op.create_index(batch_op.f("ix_repayment_plan_loan_id"), ["loan_id"], unique=False)
        batch_op.create_index(
            "uq_repayment_plan_live_loan",
            ["loan_id"],
            unique=True,
            sqlite_where=sa.text(
                "status IN ('proposed', 'awaiting_approval', 'pending', 'active')"
            ),
            postgresql_where=sa.text(
                "status IN ('proposed', 'awaiting_approval', 'pending', 'active')"
            ),
        )

    op.create_table(
        "plan_reschedule",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("installment_id", sa.Integer(), nullable=False),
        sa.Column(
            "component",
            sa.Enum(
                "late_charge",
                "fee",
                "interest",
                "principal",
                name="reschedule_component",
                native_enum=False,
                create_constraint=True,
                length=19,
            ),
            nullable=False,
        ),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("amount_minor > 0", name=op.f("ck_plan_reschedule_amount_positive")),
        sa.ForeignKeyConstraint(
            ["installment_id"],
            ["installment.id"],
            name=op.f("fk_plan_reschedule_installment_id_installment"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["plan_id"],
            ["repayment_plan.id"],
            name=op.f("fk_plan_reschedule_plan_id_repayment_plan"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_reschedule")),
        sa.UniqueConstraint(
            "plan_id",
            "installment_id",
            "component",
            name=op.f("uq_plan_reschedule_plan_id_installment_id_component"),
        ),
    )
    with op.batch_alter_table("plan_reschedule", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_plan_reschedule_installment_id"), ["installment_id"], unique=False
        )

    with op.batch_alter_table("installment", schema=None) as batch_op:
        batch_op.add_column(sa.Column("plan_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("rescheduled_into_plan_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_installment_plan_id"), ["plan_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_installment_rescheduled_into_plan_id_repayment_plan"),
            "repayment_plan",
            ["rescheduled_into_plan_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_installment_plan_id_repayment_plan"),
            "repayment_plan",
            ["plan_id"],
            ["id"],
        )


def downgrade():
    with op.batch_alter_table("installment", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_installment_plan_id_repayment_plan"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_installment_rescheduled_into_plan_id_repayment_plan"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_installment_plan_id"))
        batch_op.drop_column("rescheduled_into_plan_id")
        batch_op.drop_column("plan_id")

    with op.batch_alter_table("plan_reschedule", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_reschedule_installment_id"))

    op.drop_table("plan_reschedule")
    with op.batch_alter_table("repayment_plan", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_repayment_plan_live_loan",
            sqlite_where=sa.text(
                "status IN ('proposed', 'awaiting_approval', 'pending', 'active')"
            ),
            postgresql_where=sa.text(
                "status IN ('proposed', 'awaiting_approval', 'pending', 'active')"
            ),
        )
        batch_op.drop_index(batch_op.f("ix_repayment_plan_loan_id"))
        batch_op.drop_index(batch_op.f("ix_repayment_plan_down_payment_attempt_id"))
        batch_op.drop_index(batch_op.f("ix_repayment_plan_borrower_id"))

    op.drop_table("repayment_plan")
    op.execute("UPDATE payment_attempt SET option = 'other' WHERE option = 'plan_down_payment'")
    with op.batch_alter_table("payment_attempt", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payment_attempt_pay_option"), type_="check")
        batch_op.alter_column(
            "option", existing_type=sa.String(length=25), type_=sa.String(length=24)
        )
        batch_op.create_check_constraint("pay_option", f"option IN ({PAY_OPTIONS})")
