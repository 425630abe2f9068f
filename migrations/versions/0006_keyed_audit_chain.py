"""The audit chain is keyed and guarded against TRUNCATE and REPLACE.

New events carry HMAC-SHA256 with AUDIT_KEY (``algorithm = 'hmac-sha256'``); events already
stored keep plain SHA-256 (``'sha256'``): a migration has no key to re-sign them with, and
re-signing would vouch for rows nobody can vouch for. Their number is printed: set
AUDIT_UNKEYED_EVENTS to it, so that verification accepts exactly those unkeyed.

``audit_verified_point`` remembers the last event a verification found intact, signed with the
key, so that the legal pages verify only what was appended since.

PostgreSQL: a statement-level trigger refuses TRUNCATE (row triggers do not see it). SQLite:
``INSERT OR REPLACE`` deletes the row it conflicts with without firing DELETE triggers, so a
BEFORE INSERT trigger refuses any event that is not appended after the last one.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 21:40:00.000000

"""

import logging

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "audit_event",
        sa.Column("algorithm", sa.String(length=16), server_default="sha256", nullable=False),
    )
    op.create_table(
        "audit_verified_point",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("mac", sa.String(length=64), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_verified_point_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_verified_point")),
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
            FOR EACH STATEMENT EXECUTE FUNCTION audit_event_append_only();
        """)
    else:
        # NEW.id is not set (or -1) when the database assigns it, hence BETWEEN 1 AND max.
        op.execute("""
            CREATE TRIGGER audit_event_append_at_end BEFORE INSERT ON audit_event
            WHEN NEW.sequence <= (SELECT COALESCE(MAX(sequence), 0) FROM audit_event)
              OR NEW.id BETWEEN 1 AND (SELECT MAX(id) FROM audit_event)
              OR EXISTS (SELECT 1 FROM audit_event WHERE entry_hash = NEW.entry_hash)
            BEGIN SELECT RAISE(ABORT, 'audit_event is append-only: events cannot be replaced'); END;
        """)
    unkeyed = op.get_bind().scalar(sa.text("SELECT COALESCE(MAX(sequence), 0) FROM audit_event"))
    if unkeyed:
        logging.getLogger("alembic.runtime.migration").warning(
            "audit_event holds %s events hashed without a key: set AUDIT_UNKEYED_EVENTS=%s "
            "so that `flask audit verify` accepts them (and nothing unkeyed after them).",
            unkeyed,
            unkeyed,
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER audit_event_no_truncate ON audit_event")
    else:
        op.execute("DROP TRIGGER audit_event_append_at_end")
    op.drop_table("audit_verified_point")
    op.execute("ALTER TABLE audit_event DROP COLUMN algorithm")
