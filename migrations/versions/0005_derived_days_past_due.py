"""Collection cases derive days past due from the latest run instead of storing them.

The stored value changed for every open case every day, so the daily run rewrote them all;
now it rewrites only cases whose figures changed. ``last_run_on`` goes with it. Positions no
longer copy the loan"s borrower and currency (the run"s working set, rebuilt every run).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 18:40:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("case_transition", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("uq_case_transition_case_id_run_on_to_stage_kind"), type_="unique"
        )
    with op.batch_alter_table("collection_case", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_collection_case_dpd_non_negative"), type_="check")
        batch_op.drop_column("days_past_due")
        batch_op.drop_column("last_run_on")
    with op.batch_alter_table("collection_position", schema=None) as batch_op:
        batch_op.drop_column("currency")
        batch_op.drop_column("borrower_id")
    if op.get_bind().dialect.name == "postgresql":
        # The run's working set, rebuilt by every run and read by nothing else: no WAL for it.
        # After a crash PostgreSQL empties it, and the next run fills it again.
        op.execute("ALTER TABLE collection_position SET UNLOGGED")


def downgrade():
    op.execute("DELETE FROM collection_position")  # a working set: the next run rebuilds it
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE collection_position SET LOGGED")
    with op.batch_alter_table("collection_position", schema=None) as batch_op:
        batch_op.add_column(sa.Column("borrower_id", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("currency", sa.String(length=3), nullable=False))
    latest_run = "(SELECT max(as_of) FROM collection_run)"
    with op.batch_alter_table("collection_case", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("last_run_on", sa.Date(), nullable=False, server_default="2000-01-01")
        )
        batch_op.add_column(
            sa.Column("days_past_due", sa.Integer(), nullable=False, server_default="0")
        )
    # Put back what the derived values were, then the constraint the old schema had.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        dpd = f"{latest_run} - oldest_unpaid_due"
    else:
        dpd = f"CAST(julianday({latest_run}) - julianday(oldest_unpaid_due) AS INTEGER)"
    op.execute(
        f"UPDATE collection_case SET last_run_on = COALESCE({latest_run}, opened_on), "
        f"days_past_due = CASE WHEN status = 'open' THEN COALESCE({dpd}, 0) ELSE 0 END"
    )
    with op.batch_alter_table("collection_case", schema=None) as batch_op:
        batch_op.alter_column("last_run_on", server_default=None)
        batch_op.alter_column("days_past_due", server_default=None)
        batch_op.create_check_constraint("dpd_non_negative", "days_past_due >= 0")
    with op.batch_alter_table("case_transition", schema=None) as batch_op:
        batch_op.create_unique_constraint(
            batch_op.f("uq_case_transition_case_id_run_on_to_stage_kind"),
            ["case_id", "run_on", "to_stage", "kind"],
        )
